"""Context managers that set runtime mode controls on the engines of compiled modules.

They change only live engine objects (applied when an execution context is created) and restore
the previous state on exit, also when the block raises. Nothing here is ever serialized.
"""

from __future__ import annotations

import contextlib
import operator
import os
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from torch_tensorrt.runtime._defaults import block_base
from torch_tensorrt.runtime._modes import OUTER_CAPTURE, get_cudagraphs_mode, set_cudagraphs_mode
from torch_tensorrt.runtime._runtime_cache import RuntimeCache
from torch_tensorrt.runtime._settings import RuntimeSettings, effective_for_backend


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
                    engine = cpp_engine_for(sub.serialized_engine, sub.engine_info) if sub.runs_in_cpp() else sub.engine
                    found[id(engine)] = engine
            # Engines a loaded program runs through the op, one per engine tensor.
            for tensor, info in engine_calls(obj):
                engine = cpp_engine_for(tensor, info) if cpp_runs_engines() else engine_for(tensor, info)
                found[id(engine)] = engine
        elif isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
            for item in obj:
                visit(item)
        else:
            raise TypeError(f"expected a compiled module, a list of them or an ExportedProgram, got {type(obj).__name__}")

    visit(target)
    if not found:
        raise ValueError("no TensorRT engines found in the given module(s); was it compiled with torch_tensorrt?")
    return list(found.values())


@contextlib.contextmanager
def runtime_config(module_or_modules: Any, **overrides: Any) -> Iterator[list[Any]]:
    """Override RuntimeSettings fields for every engine in the block; yields the engines."""
    engines = engines_of(module_or_modules)
    # Validates before changing anything; starts from the module's own settings (see _defaults).
    new = {id(e): block_base(e.runtime_settings_override).merge(**overrides) for e in engines}
    previous = {id(e): e.runtime_settings_override for e in engines}
    for engine in engines:
        engine.set_runtime_settings(new[id(engine)])
    try:
        yield engines
    finally:
        for engine in engines:
            engine.set_runtime_settings(previous[id(engine)])


def set_dynamic_shapes_kernel_strategy(module_or_modules: Any, strategy: str) -> contextlib.AbstractContextManager[Any]:
    """``with set_dynamic_shapes_kernel_strategy(model, "eager"): ...`` ("lazy", "eager" or "none")."""
    return runtime_config(module_or_modules, dynamic_shapes_kernel_specialization_strategy=strategy)


@contextlib.contextmanager
def runtime_cache(
    module_or_modules: Any, path: str | os.PathLike[str] | Any = "", autosave: bool = True
) -> Iterator[RuntimeCache]:
    """Share one runtime cache among the engines in the block.

    ``path`` is a file path (loaded when the first context is created, saved on exit when
    ``autosave``), a binary file-like object, or "" for an in-memory cache that writes nothing.
    With ``autosave=False`` nothing is written unless the caller saves the yielded handle.
    """
    engines = engines_of(module_or_modules)
    if hasattr(path, "read") or hasattr(path, "write"):
        cache = RuntimeCache.from_file_like(path)
    else:
        cache = RuntimeCache(os.fspath(path) if path else None)
    cache.autosave = autosave
    # On standard TensorRT the cache does nothing (engines ignore it); say so once per process.
    effective_for_backend(RuntimeSettings(runtime_cache=cache))
    previous = {id(e): e.runtime_cache for e in engines}
    for engine in engines:
        engine.set_runtime_cache(cache)
    try:
        yield cache
    finally:
        for engine in engines:
            engine.detach_runtime_cache(cache, previous[id(engine)])
        if autosave:
            cache.flush()


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


@contextlib.contextmanager
def enable_cudagraphs(module: torch.nn.Module, *, cuda_graph_strategy: str | None = None) -> Iterator[torch.nn.Module]:
    """Run ``module`` with CUDA graphs inside the block; yields the module to call.

    A module made only of TensorRT engines captures per engine (on TensorRT-RTX through the
    engine's native capture); a mixed module is captured whole and its engines do not capture.
    """
    settings_block = (
        runtime_config(module, cuda_graph_strategy=cuda_graph_strategy)
        if cuda_graph_strategy is not None
        else contextlib.nullcontext()
    )
    with settings_block, set_cudagraphs_mode(True):
        if not _is_pure_tensorrt(module):
            yield _WholeGraphCapture(module)
        else:
            yield module


__all__ = [
    "RuntimeSettings",
    "enable_cudagraphs",
    "engines_of",
    "get_cudagraphs_mode",
    "runtime_cache",
    "runtime_config",
    "set_dynamic_shapes_kernel_strategy",
]
