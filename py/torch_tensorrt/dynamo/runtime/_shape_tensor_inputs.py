"""Binding shape-tensor inputs (``Input(is_shape_tensor=True)``) at run time.

TensorRT reads a shape tensor's values on the host while it plans the launch, so the runtime hands
it a host copy, and checks the values against the range the engine's profile was built for first:
TensorRT's own report of a value outside the profile does not say which input or how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo

# (input index, input name, min values, max values) of one shape-tensor input of an engine.
ShapeInputCheck = tuple[int, str, tuple[int, ...], tuple[int, ...]]


def shape_input_checks(info: EngineInfo) -> tuple[ShapeInputCheck, ...]:
    """The shape-tensor inputs of the engine ``info`` describes, from its metadata."""
    specs = {spec.name: spec for spec in info.metadata.inputs}
    checks = []
    for index, name in enumerate(info.input_names):
        spec = specs.get(name)
        if spec is not None and spec.shape_values is not None:
            checks.append((index, name, spec.shape_values[0], spec.shape_values[2]))
    return tuple(checks)


def host_shape_inputs(
    engine_name: str, checks: Sequence[ShapeInputCheck], inputs: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    """``inputs`` with each shape-tensor input as a contiguous host tensor whose values were checked."""
    result = list(inputs)
    for index, name, lo, hi in checks:
        host = result[index].detach().to("cpu").contiguous()
        found = [int(v) for v in host.reshape(-1).tolist()]
        if len(found) != len(lo) or any(not a <= v <= b for a, v, b in zip(lo, found, hi)):
            raise ValueError(
                f"input {name} of engine {engine_name!r} is a shape tensor with values {tuple(found)}, outside "
                f"the values the engine was built for: min {lo}, max {hi}. Pass values inside that range, or "
                "recompile with a wider torch_tensorrt.Input(min_shape=..., max_shape=..., is_shape_tensor=True)."
            )
        result[index] = host
    return result
