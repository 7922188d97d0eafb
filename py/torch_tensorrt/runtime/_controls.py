"""The per-module runtime controls of Torch-TensorRT's ``torch_tensorrt.runtime``.

``module.runtime_settings`` (get/set), ``runtime_config``, ``set_dynamic_shapes_kernel_strategy``,
``runtime_cache`` and ``enable_cudagraphs`` act on the engines of compiled modules, on whichever runtime
runs them (``engines_of``). They change only live engine objects (applied when an execution context
is created), restore the previous state on exit, also when the block raises, and check their
arguments when called, before any ``with``. Nothing here is ever serialized.
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import torch

from torch_tensorrt.runtime._defaults import block_base, effective_settings
from torch_tensorrt.runtime._modes import OUTER_CAPTURE, get_cudagraphs_mode, set_cudagraphs_mode
from torch_tensorrt.runtime._runtime_cache import RuntimeCache, is_default_runtime_cache
from torch_tensorrt.runtime._settings import CudaGraphStrategy, RuntimeSettings, effective_for_backend

logger = logging.getLogger(__name__)


class NoTensorRTEnginesError(ValueError, RuntimeError):
    """The given module holds no TensorRT engine (a ValueError, and the RuntimeError that
    Torch-TensorRT's ``runtime_cache`` raises for it)."""


def engines_of(target: Any) -> list[Any]:
    """Every engine object inside ``target``: a module, a list of modules, or an ExportedProgram."""
    # Imported here, not at the top: dynamo.runtime's engines import this package (settings, modes,
    # defaults), so a module-level import would be circular.
    from torch_tensorrt.dynamo.runtime._cpp_engine import cpp_engine_for, cpp_runs_engines
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls, engine_for
    from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
    from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

    found: dict[int, Any] = {}

    def visit(obj: Any) -> None:
        if isinstance(obj, TRTEngine):
            found[id(obj)] = obj
        elif isinstance(obj, torch.export.ExportedProgram):
            visit(obj.module())
        elif isinstance(obj, torch.nn.Module):
            # Each segment's own engine, on the runtime that runs it (use_python_runtime per program).
            for sub in obj.modules():
                if isinstance(sub, TorchTensorRTModule):
                    engine = sub.engine
                    found[id(engine)] = engine
            # Engines a loaded program runs through the op, one per engine tensor.
            for tensor, info in engine_calls(obj):
                engine = cpp_engine_for(tensor, info) if cpp_runs_engines() else engine_for(tensor, info)
                found[id(engine)] = engine
        elif isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
            for item in obj:
                visit(item)
        else:
            raise TypeError(
                f"expected a compiled module, a list of them or an ExportedProgram, got {type(obj).__name__}"
            )

    visit(target)
    if not found:
        raise NoTensorRTEnginesError(
            "no TensorRT engines found in the given module(s); was it compiled with torch_tensorrt?"
        )
    return list(found.values())


def _yielded(target: Any) -> Any:
    """What the blocks yield, as in Torch-TensorRT: the module given, or a tuple of those given."""
    if isinstance(target, torch.nn.Module | torch.export.ExportedProgram):
        return target
    return tuple(target) if isinstance(target, Iterable) else target


def _same_cache(a: Any, b: Any) -> bool:
    if isinstance(a, RuntimeCache) or isinstance(b, RuntimeCache):
        return a is b
    return is_default_runtime_cache(a) == is_default_runtime_cache(b) and a == b


def apply_settings(engine: Any, settings: RuntimeSettings | None) -> None:
    """Give ``engine`` its own ``settings`` (None: follow the process-wide defaults again).

    When the cache those settings name differs from the one the engine's context uses, that cache
    gets the context's kernels now and saves them if it saves itself, as Torch-TensorRT saves a
    module's cache when it is swapped out; later the engine may never run again.
    """
    if settings is not None and not isinstance(settings, RuntimeSettings):
        raise TypeError(f"runtime settings must be a RuntimeSettings or None, not {type(settings).__name__}")
    before = engine.runtime_settings.runtime_cache
    if engine.runtime_cache is None and not _same_cache(before, effective_settings(settings).runtime_cache):
        swapped = engine.active_runtime_cache
        engine.stash_runtime_cache()
        if swapped is not None:
            swapped.autosave_now()
    engine.set_runtime_settings(settings)


def module_runtime_settings(module: Any) -> RuntimeSettings:
    """``module.runtime_settings``: what the module's engines run with (their own settings, else the
    process-wide defaults). Raises ValueError if its engines were given different settings."""
    try:
        engines = engines_of(module)
    except NoTensorRTEnginesError:
        return effective_settings(None)
    settings = {id(e): e.runtime_settings for e in engines}
    first = next(iter(settings.values()))
    if any(s != first for s in settings.values()):
        raise ValueError(
            f"the {len(engines)} TensorRT engines of this module run with different settings; read "
            "runtime_settings of each TorchTensorRTModule (or set this module's to make them equal)"
        )
    return first


def set_module_runtime_settings(module: Any, settings: RuntimeSettings | None) -> None:
    """``module.runtime_settings = settings``: the module's own settings for all its engines, applied
    when their next context is created; None drops them (the process-wide defaults apply)."""
    if settings is not None and not isinstance(settings, RuntimeSettings):
        raise TypeError(f"runtime_settings must be a RuntimeSettings or None, not {type(settings).__name__}")
    try:
        engines = engines_of(module)
    except NoTensorRTEnginesError:
        logger.warning("runtime_settings: %s holds no TensorRT engines; nothing to apply", type(module).__name__)
        return
    for engine in engines:
        apply_settings(engine, settings)


class _RuntimeConfig:
    """``with runtime_config(module, **overrides) as module:`` (see :func:`runtime_config`)."""

    def __init__(self, target: Any, overrides: dict[str, Any]) -> None:
        RuntimeSettings().merge(**overrides)  # unknown names: TypeError, bad values: ValueError, now
        self._target = target
        self._overrides = overrides
        try:
            self._engines = engines_of(target)
        except NoTensorRTEnginesError:
            # Torch-TensorRT applies the overrides to the engines it finds, here none.
            logger.warning("runtime_config: no TensorRT engines in the given module(s); nothing to apply")
            self._engines = []
        self._previous: list[RuntimeSettings | None] = []

    def __enter__(self) -> Any:
        engines = self._engines
        # Starts from each engine's own settings (see _defaults); computed before changing anything.
        new = [block_base(e.runtime_settings_override).merge(**self._overrides) for e in engines]
        self._previous = [e.runtime_settings_override for e in engines]
        for engine, settings in zip(engines, new):
            apply_settings(engine, settings)
        return _yielded(self._target)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for engine, previous in zip(self._engines, self._previous):
            apply_settings(engine, previous)


def runtime_config(target_or_targets: Any, **overrides: Any) -> _RuntimeConfig:
    """Override ``RuntimeSettings`` fields for every engine of the module(s) in the block.

    ``with runtime_config(model, cuda_graph_strategy="whole_graph_capture") as m:`` yields the module
    (a tuple for a list of modules), so it composes with ``enable_cudagraphs(m)``. Unknown fields
    raise TypeError and unknown values ValueError when called.
    """
    return _RuntimeConfig(target_or_targets, overrides)


def set_dynamic_shapes_kernel_strategy(target_or_targets: Any, strategy: str) -> _RuntimeConfig:
    """``with set_dynamic_shapes_kernel_strategy(model, "eager"): ...`` ("lazy", "eager" or "none")."""
    return runtime_config(target_or_targets, dynamic_shapes_kernel_specialization_strategy=strategy)


def _cache_source(path: Any) -> RuntimeCache:
    """The handle ``runtime_cache(module, path)`` uses; TypeError for what is neither a path nor a stream."""
    if isinstance(path, str | os.PathLike):
        return RuntimeCache(path)
    if hasattr(path, "read") or hasattr(path, "write"):
        return RuntimeCache.from_file_like(path)
    raise TypeError(
        f"runtime_cache(): 'path' must be str, os.PathLike, or a file-like object (with .read or .write); "
        f"got {type(path).__name__}"
    )


class _RuntimeCacheBlock:
    """``with runtime_cache(module, path) as cache:`` (see :func:`runtime_cache`)."""

    def __init__(self, target: Any, path: Any, autosave: bool) -> None:
        self._cache = _cache_source(path)
        self._cache.autosave_on_del = autosave
        self._autosave = autosave
        self._engines = engines_of(target)
        self._previous: list[Any] = []

    def __enter__(self) -> RuntimeCache:
        cache = self._cache
        # On standard TensorRT the cache does nothing (engines ignore it); say so once per process.
        effective_for_backend(RuntimeSettings(runtime_cache=cache))
        self._previous = [e.runtime_cache for e in self._engines]
        for engine in self._engines:
            engine.set_runtime_cache(cache)
        return cache

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for engine, previous in zip(self._engines, self._previous):
            engine.detach_runtime_cache(self._cache, previous)
        if self._autosave:
            self._cache.flush()


def runtime_cache(
    target_or_targets: Any, path: str | os.PathLike[str] | Any = "", autosave: bool = True
) -> _RuntimeCacheBlock:
    """Share one runtime cache among the engines of the module(s) in the block; yields the
    :class:`RuntimeCache`.

    ``path`` is a file path (loaded when the first context is created, saved on exit when
    ``autosave``), a binary file-like object (read from its start, rewritten on exit), or "" for an
    in-memory cache that writes nothing; the handle's ``path`` is "" for the last two. With
    ``autosave=False`` nothing is written unless the caller saves the handle. A ``path`` of another
    type raises TypeError, and a module without TensorRT engines RuntimeError, when called.
    """
    return _RuntimeCacheBlock(target_or_targets, path, autosave)


class _WholeGraphCapture(torch.nn.Module):
    """Captures a mixed TensorRT/PyTorch module as one CUDA graph; engines do not capture inside."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module
        self._graphs: dict[Any, Any] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        token = OUTER_CAPTURE.set(True)
        try:
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            if kwargs or not tensors or tensors[0].device.type != "cuda":
                # Emulated/CPU run: same decisions, no CUDA graph to record. Keyword arguments are
                # not captured (the graph is keyed on positional shapes); they run uncaptured.
                return self.module(*args, **kwargs)
            return self._replay(args)
        finally:
            OUTER_CAPTURE.reset(token)

    def _replay(self, args: tuple[Any, ...]) -> Any:
        key = tuple(tuple(a.shape) if isinstance(a, torch.Tensor) else a for a in args)
        entry = self._graphs.get(key)
        if entry is None:
            static = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.module(*static)  # warm-up: lazy contexts and kernels exist before capture
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = self.module(*static)
            entry = self._graphs[key] = (graph, static, out)
        graph, static, out = entry
        for dst, src in zip(static, args):
            if isinstance(dst, torch.Tensor):
                dst.copy_(src)
        graph.replay()
        return torch.utils._pytree.tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, out)


def _is_shape_guard(module: torch.nn.Module) -> bool:
    # ExportedProgram.module() calls a guard module that only checks input shapes in Python.
    return type(module).__name__ == "GuardsFn"


def _is_pure_tensorrt(module: torch.nn.Module) -> bool:
    """Whether calling ``module`` runs only TensorRT engines (per-engine capture suffices)."""
    from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule

    if isinstance(module, TorchTensorRTModule):
        return True
    if not isinstance(module, torch.fx.GraphModule):
        return False  # an opaque forward may launch PyTorch kernels
    for node in module.graph.nodes:
        if node.op in ("placeholder", "output", "get_attr"):
            continue
        if node.op == "call_function" and ("execute_engine" in str(node.target) or node.target is operator.getitem):
            continue
        if node.op == "call_module":
            sub = module.get_submodule(str(node.target))
            if _is_shape_guard(sub) or _is_pure_tensorrt(sub):
                continue
        return False  # other functions, methods (x.view(...)) and modules run in PyTorch
    return True


class _CudaGraphsBlock:
    """``with enable_cudagraphs(module) as graphed:`` (see :func:`enable_cudagraphs`)."""

    def __init__(self, module: torch.nn.Module, cuda_graph_strategy: str | None) -> None:
        self._module = module
        self._settings = (
            runtime_config(module, cuda_graph_strategy=cuda_graph_strategy) if cuda_graph_strategy is not None else None
        )
        self._mode: Any = None

    def __enter__(self) -> torch.nn.Module:
        if self._settings is not None:
            self._settings.__enter__()
        try:
            self._mode = set_cudagraphs_mode(True)
            self._mode.__enter__()
        except BaseException:
            if self._settings is not None:
                self._settings.__exit__(None, None, None)
            raise
        return self._module if _is_pure_tensorrt(self._module) else _WholeGraphCapture(self._module)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._mode.__exit__(exc_type, exc, tb)
        finally:
            if self._settings is not None:
                self._settings.__exit__(exc_type, exc, tb)


def enable_cudagraphs(compiled_module: torch.nn.Module, *, cuda_graph_strategy: str | None = None) -> _CudaGraphsBlock:
    """Run ``module`` with CUDA graphs inside the block; yields the module to call.

    A module made only of TensorRT engines captures per engine (on TensorRT-RTX through the
    engine's native capture, which also follows lazily specialized kernels of dynamic shapes); a
    mixed module is captured whole and its engines do not capture. ``cuda_graph_strategy`` also
    sets that runtime setting for the block; an unknown one raises ValueError when called.
    """
    if cuda_graph_strategy is not None:
        CudaGraphStrategy.from_name(cuda_graph_strategy)
    return _CudaGraphsBlock(compiled_module, cuda_graph_strategy)


__all__ = [
    "NoTensorRTEnginesError",
    "RuntimeSettings",
    "apply_settings",
    "enable_cudagraphs",
    "engines_of",
    "get_cudagraphs_mode",
    "module_runtime_settings",
    "runtime_cache",
    "runtime_config",
    "set_dynamic_shapes_kernel_strategy",
    "set_module_runtime_settings",
]
