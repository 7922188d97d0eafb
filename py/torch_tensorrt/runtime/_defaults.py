"""Process-wide defaults of the runtime mode controls, and the precedence rule (DESIGN.md section 4).

Precedence, most specific first (the one place this rule is written):

1. A module's own settings: ``module.runtime_settings = RuntimeSettings(...)`` or, for a block,
   ``runtime_config(module, ...)`` / ``set_dynamic_shapes_kernel_strategy(module, ...)`` /
   ``enable_cudagraphs(module, cuda_graph_strategy=...)``. A module with its own settings uses all of
   their strategies; their ``runtime_cache`` left at its default (``RuntimeSettings().runtime_cache``,
   the per-user default location) still means "the process-wide default cache", while ``None``
   means no cache file, as in Torch-TensorRT. ``module.runtime_settings = None`` drops the module's
   own settings. A cache attached with ``runtime_cache(module, path)`` wins over both.
2. Process-wide defaults: ``with dynamic_shapes_kernel_strategy("eager"):``,
   ``with cuda_graph_strategy("whole_graph_capture"):`` and ``set_runtime_cache_path(path)``.
3. Built-in defaults: "lazy", "disabled", and each engine's own file in the private per-user cache
   directory.

Both runtimes read the same values: every change here is also written into the C++ runtime's globals
(``torch.ops.tensorrt._set_runtime_defaults``), which engines run by C++ read when a context is created.
Changes apply to the next execution-context creation; an engine whose effective settings changed
recreates its context once.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import torch

from torch_tensorrt import _trt
from torch_tensorrt.runtime._runtime_cache import default_runtime_cache, is_default_runtime_cache
from torch_tensorrt.runtime._settings import RuntimeSettings

_lock = threading.Lock()
_defaults = RuntimeSettings()


def process_defaults() -> RuntimeSettings:
    """The process-wide settings an engine without settings of its own runs with."""
    return _defaults


def effective_settings(own: RuntimeSettings | None) -> RuntimeSettings:
    """What an engine with settings ``own`` (None: none of its own) runs with, by the rule above."""
    if own is None:
        return _defaults
    if is_default_runtime_cache(own.runtime_cache) and not is_default_runtime_cache(_defaults.runtime_cache):
        return own.merge(runtime_cache=_defaults.runtime_cache)
    return own


def block_base(own: RuntimeSettings | None) -> RuntimeSettings:
    """The settings a block (runtime_config) starts from: the module's own, else the process-wide
    strategies with the cache left to the process-wide default."""
    return own if own is not None else _defaults.merge(runtime_cache=default_runtime_cache())


def _replace(**changes: object) -> RuntimeSettings:
    """Install new defaults (validated first) in both runtimes; returns the previous ones."""
    global _defaults
    with _lock:
        previous = _defaults
        new = previous.merge(**changes)
        if _trt.ENABLED_FEATURES.torch_tensorrt_runtime and hasattr(torch.ops.tensorrt, "_set_runtime_defaults"):
            kernel, graph = new.to_enums()
            cache = new.runtime_cache
            builtin = is_default_runtime_cache(cache)
            path = "" if builtin or cache is None else os.fspath(cache)  # type: ignore[arg-type]
            torch.ops.tensorrt._set_runtime_defaults(kernel, graph, not builtin, path)
        _defaults = new
    return previous


class _DefaultSetting:
    """Sets a process-wide default now; as a context manager it restores the previous value on exit."""

    def __init__(self, field: str, value: object) -> None:
        self._field = field
        self._previous = getattr(_replace(**{field: value}), field)

    def __enter__(self) -> _DefaultSetting:
        return self

    def __exit__(self, *exc: object) -> None:
        _replace(**{self._field: self._previous})


def dynamic_shapes_kernel_strategy(strategy: str) -> contextlib.AbstractContextManager[object]:
    """Process-wide dynamic-shapes kernel specialization strategy ("lazy", "eager" or "none").

    ``with torch_tensorrt.runtime.dynamic_shapes_kernel_strategy("eager"): ...`` (or a plain call, which
    keeps it). Modules with settings of their own are not affected.
    """
    return _DefaultSetting("dynamic_shapes_kernel_specialization_strategy", strategy)


def cuda_graph_strategy(strategy: str) -> contextlib.AbstractContextManager[object]:
    """Process-wide TensorRT-RTX native CUDA-graph strategy ("disabled" or "whole_graph_capture")."""
    return _DefaultSetting("cuda_graph_strategy", strategy)


def get_dynamic_shapes_kernel_strategy() -> str:
    return _defaults.dynamic_shapes_kernel_specialization_strategy


def get_cuda_graph_strategy() -> str:
    return _defaults.cuda_graph_strategy


def set_runtime_cache_path(path: str | os.PathLike[str] | None) -> None:
    """The runtime cache file every engine without a cache of its own uses (shared, as in
    Torch-TensorRT); ``""`` keeps caches in memory only; ``None`` restores each engine's own file in
    the private per-user cache directory."""
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"set_runtime_cache_path takes a path, '' or None, not {type(path).__name__}")
    _replace(runtime_cache=default_runtime_cache() if path is None else os.fspath(path))


def get_runtime_cache_path() -> str | None:
    """The process-wide runtime cache path ('' = in memory, None = each engine's own default file)."""
    cache = _defaults.runtime_cache
    return None if is_default_runtime_cache(cache) or cache is None else os.fspath(cache)  # type: ignore[arg-type]


@contextlib.contextmanager
def runtime_cache_path(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """``set_runtime_cache_path`` for a block."""
    previous = get_runtime_cache_path()
    set_runtime_cache_path(path)
    try:
        yield
    finally:
        set_runtime_cache_path(previous)
