"""Process-wide runtime modes: CUDA-graph mode, multi-device safe mode, outer whole-graph capture."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import torch

from torch_tensorrt import _trt

_lock = threading.Lock()
_cudagraphs_enabled = False
_multi_device_safe_mode = False

# True while a whole-graph capture of a mixed module is running (engines must not capture inside).
OUTER_CAPTURE: contextvars.ContextVar[bool] = contextvars.ContextVar("torch_tensorrt_outer_capture", default=False)


def _sync_cpp_runtime(op_name: str, enabled: bool) -> None:
    """Engines run by the C++ runtime (torch_tensorrt._C) read its own copy of each mode."""
    if _trt.ENABLED_FEATURES.torch_tensorrt_runtime:
        getattr(torch.ops.tensorrt, op_name)(enabled)


def get_cudagraphs_mode() -> bool:
    return _cudagraphs_enabled


def _set_cudagraphs(enabled: bool) -> bool:
    global _cudagraphs_enabled
    with _lock:
        previous, _cudagraphs_enabled = _cudagraphs_enabled, bool(enabled)
        _sync_cpp_runtime("set_cudagraphs_mode", _cudagraphs_enabled)
    return previous


def get_multi_device_safe_mode() -> bool:
    return _multi_device_safe_mode


def _set_multi_device_safe_mode(enabled: bool) -> bool:
    global _multi_device_safe_mode
    with _lock:
        previous, _multi_device_safe_mode = _multi_device_safe_mode, bool(enabled)
        _sync_cpp_runtime("set_multi_device_safe_mode", _multi_device_safe_mode)
    return previous


class _ModeSetting:
    """Sets a mode immediately; used as a context manager it restores the previous value on exit."""

    def __init__(self, setter: Any, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"expected a bool, got {type(value).__name__}: {value!r}")
        self._setter = setter
        self._previous = setter(value)

    def __enter__(self) -> _ModeSetting:
        return self

    def __exit__(self, *exc: object) -> None:
        self._setter(self._previous)


def set_cudagraphs_mode(mode: bool) -> _ModeSetting:
    """Turn subgraph CUDA-graph mode on or off (plain call, or ``with`` to restore afterwards)."""
    return _ModeSetting(_set_cudagraphs, mode)  # "mode": Torch-TensorRT's parameter name


def set_multi_device_safe_mode(mode: bool) -> _ModeSetting:
    """Check (and switch to) each engine's device before every run (plain call or ``with``)."""
    return _ModeSetting(_set_multi_device_safe_mode, mode)
