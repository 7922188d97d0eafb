"""TorchScript output: engines become ``torch.classes.tensorrt.Engine`` objects (C++ runtime)."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt.dynamo.runtime._execute_engine_op import join_engine_info
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule


class ScriptedEngineModule(torch.nn.Module):
    """A TensorRT segment for TorchScript: holds a C++ engine object and calls its op overload."""

    def __init__(self, engine_info: list[str], output_is_tuple: bool) -> None:
        super().__init__()
        self.engine = torch.classes.tensorrt.Engine(engine_info)
        self.output_is_tuple = output_is_tuple

    def forward(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        return torch.ops.tensorrt.execute_engine.engine(inputs, self.engine)


class _Segment(torch.nn.Module):
    # Adapts the fx call convention (*args → tensor or tuple) to the scripted engine's list API.
    def __init__(self, inner: ScriptedEngineModule, n_inputs: int) -> None:
        super().__init__()
        self.inner = inner
        self.n_inputs = n_inputs

    def forward(self, *inputs: torch.Tensor) -> Any:
        outputs = self.inner(list(inputs))
        return tuple(outputs) if self.inner.output_is_tuple else outputs[0]


def to_torchscript(module: torch.fx.GraphModule, example_inputs: Sequence[torch.Tensor]) -> torch.jit.ScriptModule:
    """A TorchScript module in which every TensorRT segment runs on the C++ runtime."""
    scripted_source = copy.deepcopy(module)
    for name, sub in list(scripted_source.named_children()):
        if isinstance(sub, TorchTensorRTModule):
            info = join_engine_info(sub.serialized_engine, sub.engine_info)
            setattr(
                scripted_source, name, _Segment(ScriptedEngineModule(info, sub.output_is_tuple), len(sub.input_names))
            )
    with torch.no_grad():
        return torch.jit.trace(scripted_source, tuple(example_inputs), check_trace=False)


def save_torchscript(
    module: torch.nn.Module,
    file_path: str | os.PathLike[str],
    specs: Sequence[Any],
    extra_files: dict[str, str] | None = None,
) -> None:
    from torch_tensorrt.dynamo._tracer import _example_for

    if not isinstance(module, torch.fx.GraphModule):
        raise TypeError("output_format='torchscript' takes the GraphModule returned by torch_tensorrt.compile")
    examples = [_example_for(s) for s in specs]
    torch.jit.save(to_torchscript(module, examples), os.fspath(file_path), _extra_files=extra_files or {})
