"""Shape-tensor inputs (``Input(is_shape_tensor=True)``): carrying their value ranges to the segments.

The user gives the range of the input's *values* (min/opt/max), which TensorRT needs in the
optimization profile of every engine that reads the input as a shape tensor. The program input is
an ordinary 1-D int tensor to torch.export; this module tags each TensorRT segment input that is such
a program input with the value range, which the interpreter turns into the engine's profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo.conversion._TRTInterpreter import SHAPE_TENSOR_VALUES_META


def mark_shape_tensor_program_inputs(module: torch.fx.GraphModule, specs: Sequence[Input]) -> None:
    """Tag the program inputs declared ``is_shape_tensor`` with their value range before partitioning, so
    that only reads of those (``.item()``) convert to shape values; other tensor reads stay in PyTorch."""
    program_inputs = [n for n in module.graph.nodes if n.op == "placeholder"]
    for node, spec in zip(program_inputs, specs):
        if isinstance(spec, Input) and spec.is_shape_tensor and spec.shape_tensor_values is not None:
            node.meta[SHAPE_TENSOR_VALUES_META] = spec.shape_tensor_values
        else:
            node.meta.pop(SHAPE_TENSOR_VALUES_META, None)


def mark_shape_tensor_inputs(parent: torch.fx.GraphModule, call: torch.fx.Node, segment: torch.fx.GraphModule) -> None:
    """Tag the placeholders of ``segment`` (called by ``call`` in ``parent``) that receive a program
    input tagged by :func:`mark_shape_tensor_program_inputs` with that input's value range."""
    segment_inputs = [n for n in segment.graph.nodes if n.op == "placeholder"]
    for arg, placeholder in zip(call.args, segment_inputs):
        program_input = isinstance(arg, torch.fx.Node) and arg.op == "placeholder" and arg.graph is parent.graph
        values = arg.meta.get(SHAPE_TENSOR_VALUES_META) if program_input else None
        if values is not None:
            placeholder.meta[SHAPE_TENSOR_VALUES_META] = values
        else:
            placeholder.meta.pop(SHAPE_TENSOR_VALUES_META, None)
