"""The GraphModule ``torch_tensorrt.compile`` returns, with Torch-TensorRT's ``runtime_settings``."""

from __future__ import annotations

import torch

from torch_tensorrt.runtime._controls import module_runtime_settings, set_module_runtime_settings
from torch_tensorrt.runtime._settings import RuntimeSettings


class CompiledGraphModule(torch.fx.GraphModule):
    """A compiled program: TensorRT segments (``TorchTensorRTModule``) and PyTorch segments.

    ``module.runtime_settings = RuntimeSettings(...)`` reaches every TensorRT engine in it, on the
    runtime that runs it, instead of setting a plain attribute that no engine reads; ``None`` returns
    them to the process-wide defaults. Reading it gives what the engines run with.
    """

    @property
    def runtime_settings(self) -> RuntimeSettings:
        return module_runtime_settings(self)

    @runtime_settings.setter
    def runtime_settings(self, settings: RuntimeSettings | None) -> None:
        set_module_runtime_settings(self, settings)


def as_compiled_graph_module(gm: torch.fx.GraphModule) -> CompiledGraphModule:
    """``gm`` itself, made a :class:`CompiledGraphModule` (nothing is copied or re-traced)."""
    if isinstance(gm, CompiledGraphModule):
        return gm
    # Every GraphModule has a class of its own (GraphModule.__new__) that holds its generated forward;
    # take such a class for CompiledGraphModule, then generate the forward into it. deepcopy keeps the
    # class (it calls type(self).__new__), so copies of a compiled program keep runtime_settings.
    gm.__class__ = type(CompiledGraphModule.__new__(CompiledGraphModule))
    gm.recompile()
    return gm  # type: ignore[return-value]
