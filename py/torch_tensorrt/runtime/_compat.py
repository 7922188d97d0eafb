"""Torch-TensorRT's remaining runtime controls, by name and signature.

- ``enable_pre_allocated_outputs`` / ``enable_output_allocator``: ways of allocating output memory.
  Results are the same either way; engines here allocate outputs per call (and data-dependent
  outputs through their own allocator), so these blocks change nothing, and say so once.
- ``optimization_profile``: runs the engines on one of their optimization profiles for a block
  (engines with several profiles come from ``Input(profiles=[...])``); calls outside any block run on
  the first profile containing their input shapes.
- ``weight_streaming``: the device budget of the streamable weights of engines compiled with
  ``enable_weight_streaming=True``, split among the engines in proportion to their streamable bytes.
- ``get_whole_cudagraphs_mode``: whether a whole-graph CUDA-graph capture is running.
"""

from __future__ import annotations

import logging
import warnings
from types import TracebackType
from typing import Any

import torch

from torch_tensorrt._logging import warn_once

logger = logging.getLogger("torch_tensorrt")


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
        warn_once(
            f"runtime:{self._name}",
            f"{self._name}() has no effect here: {self._why}. (reported once per process)",
            stacklevel=2,
        )
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
        "engines allocate their outputs on every call (the results are the same; only that allocation is not saved)",
    )


def enable_output_allocator(module: torch.fx.GraphModule) -> _NoEffectBlock:
    """Torch-TensorRT: let every engine size its outputs through an output allocator."""
    return _NoEffectBlock(
        module,
        "enable_output_allocator",
        "engines whose output shapes depend on data already use an output allocator, and the others "
        "know their output shapes before running (the results are the same)",
    )


def _drop_whole_graphs(module: Any) -> None:
    """Whole-graph CUDA graphs recorded from ``module`` replay the old profile or weight budget."""
    from torch_tensorrt.runtime._controls import _WholeGraphCapture

    if isinstance(module, torch.nn.Module):
        for sub in module.modules():
            if isinstance(sub, _WholeGraphCapture):
                sub._graphs.clear()


class _OptimizationProfileContext:
    """Runs the engines of a module on one optimization profile for a block, then restores each."""

    def __init__(self, module: Any, profile: int | str | None) -> None:
        if profile is not None and profile != "auto" and (isinstance(profile, bool) or not isinstance(profile, int)):
            raise TypeError(f"profile must be an int index, 'auto' or None, got {profile!r}")
        self.module = module
        self.profile = profile
        self.rt_mods = trt_segments(module)
        self._saved: list[tuple[Any, int | None]] = []

    def __enter__(self) -> Any:
        if not self.rt_mods:
            logger.warning("optimization_profile() found no TensorRT submodules to configure.")
        try:
            for rt_mod in self.rt_mods:
                saved = rt_mod.get_optimization_profile_state()
                rt_mod.set_optimization_profile(self.profile)
                self._saved.append((rt_mod, saved))
        except BaseException:
            self._restore()  # an index some engine lacks: the others are left as they were
            raise
        _drop_whole_graphs(self.module)
        return self.module

    def __exit__(self, *exc: object) -> None:
        self._restore()
        _drop_whole_graphs(self.module)

    def _restore(self) -> None:
        for rt_mod, saved in reversed(self._saved):
            rt_mod.restore_optimization_profile_state(saved)
        self._saved.clear()


def optimization_profile(module: Any, profile: int | str | None) -> _OptimizationProfileContext:
    """Within the block, run ``module``'s engines on optimization profile ``profile`` (an index, as
    listed in ``Input(profiles=[...])``); "auto" or None: on the first profile containing the input
    shapes, which is also what calls outside any block do. The previous choice is restored on exit."""
    return _OptimizationProfileContext(module, profile)


def split_budget(requested: int, streamable: list[int]) -> list[int]:
    """Each engine's share of a module's budget: proportional to its streamable bytes (Torch-TensorRT's
    split, in exact integer arithmetic, so no share exceeds its engine's streamable size)."""
    total = sum(streamable)
    return [s * requested // total if total else 0 for s in streamable]


class _WeightStreamingContextManager:
    """``with weight_streaming(module) as ws``: the device budget for the streamable weights of all the
    module's engines (``ws.device_budget``), split among them in proportion to their streamable bytes
    (``ws.total_device_budget`` in all). Each engine's budget in force on entry is restored on exit."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.rt_mods = [(getattr(m, "name", ""), m) for m in trt_segments(module)]
        self.streamable_budget = [int(m.get_streamable_device_memory_budget()) for _, m in self.rt_mods]
        self.total_device_budget = sum(self.streamable_budget)
        # Each engine's budget on entry, restored on exit (the total split anew would not give them back).
        self._entry_budgets = [int(m.get_device_memory_budget()) if s > 0 else 0 for (_, m), s in self._streaming()]
        self.current_device_budget = sum(self._entry_budgets)

    def _streaming(self) -> list[tuple[tuple[str, Any], int]]:
        return list(zip(self.rt_mods, self.streamable_budget))

    def __enter__(self) -> _WeightStreamingContextManager:
        return self

    def __exit__(self, *exc: object) -> None:
        for ((name, rt_mod), streamable), budget in zip(self._streaming(), self._entry_budgets):
            if streamable > 0 and int(rt_mod.get_device_memory_budget()) != budget:
                logger.debug("weight streaming: restoring %d bytes for %s", budget, name)
                rt_mod.set_device_memory_budget(budget)

    @property
    def device_budget(self) -> int:
        """Bytes of streamable weights the engines keep on the device, in all."""
        return sum(
            int(m.get_device_memory_budget()) for (_, m), s in zip(self.rt_mods, self.streamable_budget) if s > 0
        )

    @device_budget.setter
    def device_budget(self, requested: int) -> None:
        self._set_streamable_weight_bytes(requested)

    def get_automatic_weight_streaming_budget(self) -> int:
        """The sum of the budgets TensorRT chooses for each streaming engine on this device."""
        return sum(
            int(m.get_automatic_device_memory_budget())
            for (_, m), s in zip(self.rt_mods, self.streamable_budget)
            if s > 0
        )

    def _set_streamable_weight_bytes(self, requested: int) -> int:
        if isinstance(requested, bool) or not isinstance(requested, int):
            raise TypeError(f"device_budget must be an int number of bytes, got {requested!r}")
        if self.total_device_budget == 0:
            raise RuntimeError(
                f"weight streaming: none of the {len(self.rt_mods)} TensorRT engines of this module has "
                "streamable weights; compile with enable_weight_streaming=True to set a budget"
            )
        if requested < 0:
            raise ValueError(f"device_budget must be >= 0 bytes, got {requested}")
        if requested > self.total_device_budget:
            warnings.warn(
                f"weight streaming: the requested budget of {requested} bytes exceeds the "
                f"{self.total_device_budget} streamable bytes of the module's engines; setting "
                f"{self.total_device_budget} (every weight stays on the device)",
                stacklevel=3,
            )
            requested = self.total_device_budget
        _drop_whole_graphs(self.module)
        shares = split_budget(requested, self.streamable_budget)
        for (name, rt_mod), share, streamable in zip(self.rt_mods, shares, self.streamable_budget):
            if streamable > 0:
                rt_mod.set_device_memory_budget(share)
                logger.debug("weight streaming: %d bytes for %s", share, name)
        return self.device_budget


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
