"""Using the C++ runtime (``torch.classes.tensorrt.Engine``) from Python.

When the C++ runtime can run engines itself (built with a TensorRT SDK, or a test backend
selected), compiled modules call it through ``torch.ops.tensorrt.execute_engine`` and the runtime
controls reach its engines through :class:`CppEngineControls`. Strategy names are validated by
``RuntimeSettings`` in Python before anything reaches C++.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from torch_tensorrt import _trt
from torch_tensorrt.runtime._settings import RuntimeSettings

# Delegate modes of the C++ op (see core/runtime/execute_engine.h).
_NEVER_DELEGATE, _DELEGATE_WITHOUT_SDK = 0, 1


@functools.cache
def _has_sdk() -> bool:
    return bool(torch.ops.tensorrt.has_tensorrt_backend())


def cpp_runs_engines() -> bool:
    """True when execute_engine calls run in C++ rather than being handed to the Python runtime."""
    if not _trt.ENABLED_FEATURES.torch_tensorrt_runtime:
        return False
    mode = torch.ops.tensorrt._get_python_delegate()
    return mode == _NEVER_DELEGATE or (mode == _DELEGATE_WITHOUT_SDK and _has_sdk())


class CppEngineControls:
    """The slice of the engine interface the runtime controls use, over a C++ engine object."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.runtime_cache: Any = None

    @property
    def runtime_settings(self) -> RuntimeSettings:
        kernel, graph = self.engine.get_runtime_settings()
        return RuntimeSettings.from_enums(int(kernel), int(graph), runtime_cache=self.runtime_cache)

    def set_runtime_settings(self, settings: RuntimeSettings) -> None:
        self.engine.set_runtime_settings(*settings.to_enums())

    def set_runtime_cache(self, cache: Any) -> None:
        self.runtime_cache = cache
        path = getattr(cache, "path", None)
        self.engine.set_runtime_cache_path(str(path) if path else "")

    def detach_runtime_cache(self, cache: Any, previous: Any) -> None:
        self.engine.save_runtime_cache()
        self.set_runtime_cache(previous)

    def stash_runtime_cache(self) -> None:
        self.engine.save_runtime_cache()


def cpp_engine_for(serialized_engine: torch.Tensor, engine_info: list[str]) -> CppEngineControls:
    return CppEngineControls(torch.ops.tensorrt.get_engine(serialized_engine, engine_info))
