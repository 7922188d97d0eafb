"""Torch-TensorRT's ``torch_tensorrt._features``: what this installation can do.

The feature set itself is owned by :mod:`torch_tensorrt._trt` (``ENABLED_FEATURES``); this module
gives it Torch-TensorRT's import path and its helpers (``has_*`` queries, ``needs_*`` decorators
that refuse a call when the feature is absent, naming it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from torch_tensorrt._trt import ENABLED_FEATURES, FeatureSet

T = TypeVar("T")


def has_complex_decomposition() -> bool:
    return ENABLED_FEATURES.complex_decomposition


def has_torch_tensorrt_runtime() -> bool:
    return ENABLED_FEATURES.torch_tensorrt_runtime


def has_torchscript_frontend() -> bool:
    return ENABLED_FEATURES.torchscript_frontend


def _needs(feature: str, present: Callable[[], bool], what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def decorate(f: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            if not present():
                raise NotImplementedError(
                    f"{getattr(f, '__qualname__', f)} needs {what} ({feature}), which this installation does not have"
                )
            return f(*args, **kwargs)

        return wrapper

    return decorate


needs_tensorrt_rtx = _needs("tensorrt_rtx", lambda: ENABLED_FEATURES.tensorrt_rtx, "TensorRT-RTX")
needs_not_tensorrt_rtx = _needs("not tensorrt_rtx", lambda: not ENABLED_FEATURES.tensorrt_rtx, "standard TensorRT")
needs_torch_tensorrt_runtime = _needs(
    "torch_tensorrt_runtime", lambda: ENABLED_FEATURES.torch_tensorrt_runtime, "the C++ runtime extension"
)
needs_refit = _needs("refit", lambda: ENABLED_FEATURES.refit, "weight refitting")
needs_cross_compile = _needs(
    "windows_cross_compile", lambda: ENABLED_FEATURES.windows_cross_compile, "Windows cross-compilation"
)
needs_qdp_plugin = _needs("qdp_plugin", lambda: ENABLED_FEATURES.qdp_plugin, "TensorRT Python plugins")
needs_trtllm_for_nccl = _needs("trtllm_for_nccl", lambda: ENABLED_FEATURES.trtllm_for_nccl, "TensorRT-LLM NCCL plugins")
needs_native_collectives = _needs(
    "native_trt_collectives", lambda: ENABLED_FEATURES.native_trt_collectives, "native TensorRT collectives"
)


def for_all_methods(decorator: Callable[..., Any], exclude: list[str] | None = None) -> Callable[[type], type]:
    """Apply ``decorator`` to every public method of a class (names in ``exclude`` kept as they are)."""
    skipped = set(exclude or ())

    def decorate(cls: type) -> type:
        for name, attr in list(vars(cls).items()):
            if callable(attr) and not name.startswith("__") and name not in skipped:
                setattr(cls, name, decorator(attr))
        return cls

    return decorate


__all__ = [
    "ENABLED_FEATURES",
    "FeatureSet",
    "for_all_methods",
    "has_complex_decomposition",
    "has_torch_tensorrt_runtime",
    "has_torchscript_frontend",
    "needs_cross_compile",
    "needs_native_collectives",
    "needs_not_tensorrt_rtx",
    "needs_qdp_plugin",
    "needs_refit",
    "needs_tensorrt_rtx",
    "needs_torch_tensorrt_runtime",
    "needs_trtllm_for_nccl",
]
