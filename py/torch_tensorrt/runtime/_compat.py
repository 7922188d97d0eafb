"""Torch-TensorRT's remaining runtime controls, by name and signature.

- ``enable_pre_allocated_outputs`` / ``enable_output_allocator``: ways of allocating output memory.
  Results are the same either way; engines here allocate outputs per call (and data-dependent
  outputs through their own allocator), so these blocks change nothing, and say so once.
- ``optimization_profile``: engines here have one optimization profile, index 0; selecting it (or
  "auto", or None) is correct as is, any other index is refused.
- ``weight_streaming``: needs the engine's streamable-weight budget on a GPU, which the runtime does
  not expose yet; the block can be entered, reading or setting a budget raises NotImplementedError.
- ``get_whole_cudagraphs_mode``: whether a whole-graph CUDA-graph capture is running.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import torch

from torch_tensorrt._logging import warn_once

logger = logging.getLogger("torch_tensorrt")

_WEIGHT_STREAMING_NOT_IMPLEMENTED = (
    "weight streaming budgets are not implemented yet (issue 19 of this project): the runtime does not yet "
    "read or set an engine's streamable weight budget (engines are still built with enable_weight_streaming)"
)


def trt_segments(module: Any) -> list[torch.nn.Module]:
    """The TensorRT segments (TorchTensorRTModule) of a compiled module, or the module itself."""
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    if isinstance(module, TorchTensorRTModule):
        return [module]
    if isinstance(module, torch.nn.Module):
        return [m for m in module.modules() if isinstance(m, TorchTensorRTModule)]
    raise TypeError(f"expected a compiled module (torch.nn.Module), got {type(module).__name__}")


class _NoEffectBlock:
    """A Torch-TensorRT runtime block whose effect here is nothing (the results are the same)."""

    def __init__(self, module: Any, name: str, why: str) -> None:
        self.module = module
        self.rt_mods = trt_segments(module)
        self._name, self._why = name, why

    def __enter__(self) -> _NoEffectBlock:
        warn_once(f"runtime:{self._name}", f"{self._name}() has no effect here: {self._why}. (reported once per process)", stacklevel=2)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def enable_pre_allocated_outputs(module: torch.fx.GraphModule) -> _NoEffectBlock:
    """Torch-TensorRT: reuse output buffers allocated ahead of the next call."""
    return _NoEffectBlock(
        module,
        "enable_pre_allocated_outputs",
        "engines allocate their outputs on every call (the results are the same; only that allocation is "
        "not saved)",
    )


def enable_output_allocator(module: torch.fx.GraphModule) -> _NoEffectBlock:
    """Torch-TensorRT: let every engine size its outputs through an output allocator."""
    return _NoEffectBlock(
        module,
        "enable_output_allocator",
        "engines whose output shapes depend on data already use an output allocator, and the others "
        "know their output shapes before running (the results are the same)",
    )


class _OptimizationProfileContext:
    """Selects an engine optimization profile for a block; engines here have exactly one."""

    def __init__(self, module: Any, profile: int | str | None) -> None:
        if profile is not None and profile != "auto" and (isinstance(profile, bool) or not isinstance(profile, int)):
            raise TypeError(f"profile must be an int index, 'auto' or None, got {profile!r}")
        if isinstance(profile, int) and profile != 0:
            raise ValueError(
                f"optimization profile {profile} does not exist: engines here have one optimization profile "
                "(index 0); engines with several profiles are not implemented yet (issue 19 of this project)"
            )
        self.module = module
        self.profile = profile
        self.rt_mods = trt_segments(module)

    def __enter__(self) -> Any:
        if not self.rt_mods:
            logger.warning("optimization_profile() found no TensorRT submodules to configure.")
        return self.module

    def __exit__(self, *exc: object) -> None:
        return None


def optimization_profile(module: Any, profile: int | str | None) -> _OptimizationProfileContext:
    """Run ``module``'s engines with optimization profile ``profile`` (an index, "auto" or None)."""
    return _OptimizationProfileContext(module, profile)


class _WeightStreamingContextManager:
    """Torch-TensorRT's weight-streaming budget control; budgets are not implemented yet."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.rt_mods = [(getattr(m, "name", ""), m) for m in trt_segments(module)]

    def __enter__(self) -> _WeightStreamingContextManager:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def device_budget(self) -> int:
        raise NotImplementedError(_WEIGHT_STREAMING_NOT_IMPLEMENTED)

    @device_budget.setter
    def device_budget(self, value: int) -> None:
        raise NotImplementedError(_WEIGHT_STREAMING_NOT_IMPLEMENTED)

    @property
    def total_device_budget(self) -> int:
        raise NotImplementedError(_WEIGHT_STREAMING_NOT_IMPLEMENTED)

    def get_automatic_weight_streaming_budget(self) -> int:
        raise NotImplementedError(_WEIGHT_STREAMING_NOT_IMPLEMENTED)


def weight_streaming(module: torch.fx.GraphModule) -> _WeightStreamingContextManager:
    """Torch-TensorRT: ``with weight_streaming(m) as ws: ws.device_budget = n`` limits weights on the GPU."""
    return _WeightStreamingContextManager(module)


def get_whole_cudagraphs_mode() -> bool:
    """Whether a whole-graph CUDA-graph capture (of a module with PyTorch segments) is running."""
    from torch_tensorrt.runtime._modes import OUTER_CAPTURE

    return bool(OUTER_CAPTURE.get())


_LAZY = {
    "TorchTensorRTModule": "torch_tensorrt.dynamo.runtime._TorchTensorRTModule",
    "PythonTorchTensorRTModule": "torch_tensorrt.dynamo.runtime._PythonTorchTensorRTModule",
}


def lazy_runtime_module(name: str) -> Any:
    """TorchTensorRTModule and friends for ``torch_tensorrt.runtime``: imported on first use, since the
    engines' modules import this package (a module-level import would be circular)."""
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'torch_tensorrt.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
