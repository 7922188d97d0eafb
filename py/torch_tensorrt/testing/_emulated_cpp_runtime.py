"""The emulated runtime on the C++ runtime: the ops of its DispatcherBackend, implemented on the emulator.

Inside ``emulated_runtime()`` the C++ runtime runs engines on a DispatcherBackend
(core/runtime/DispatcherBackend.h): its engine class (``torch.classes.tensorrt.Engine``) and
``execute_engine`` run every line of their own (runtime config, runtime cache, CUDA-graph decisions,
input checks, output allocation) and reach the emulator only where they would call TensorRT, through
the ``tensorrt::_dispatcher_*`` ops implemented here. The engines and contexts behind those ops are the
ones the Python runtime's emulated backend makes (``EmulatedBackend.load_engine``), so both runtimes
compute with the same emulator and the block's backend records the work of both.

A session is one ``emulated_runtime()`` block; handles (ints) name its engines and contexts.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo.runtime._engine_info import dtype_name
from torch_tensorrt.dynamo.runtime._execute_engine_op import NEVER_DELEGATE, delegate_mode
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, RuntimeBackend
from torch_tensorrt.runtime._modes import OUTER_CAPTURE
from torch_tensorrt.runtime._settings import CudaGraphStrategy, DynamicShapesKernelStrategy


class _LayerTimeBuffer:
    """The profiler of an emulated context the C++ runtime profiles: it reads the times after each run."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def report_layer_time(self, layer_name: str, ms: float) -> None:
        self.times.append((layer_name, ms))


@dataclass
class _Session:
    backend: RuntimeBackend
    engines: dict[int, Any] = field(default_factory=dict)
    # context handle -> (context, the engine's IO tensors by name)
    contexts: dict[int, tuple[Any, dict[str, IOTensor]]] = field(default_factory=dict)
    # context handle -> the layer times its profiler got since the C++ side last read them
    layer_times: dict[int, _LayerTimeBuffer] = field(default_factory=dict)


_SESSIONS: dict[int, _Session] = {}
_IDS = itertools.count(1)
_LOCK = threading.Lock()
_LIB: torch.library.Library | None = None


def _session(session: int) -> _Session:
    found = _SESSIONS.get(session)
    if found is None:
        raise RuntimeError(f"emulated runtime: session {session} has ended (its emulated_runtime() block exited)")
    return found


def _dims(shapes: list[tuple[int, ...]]) -> list[int]:
    """Shapes flattened as [rank, d0, d1, ..., rank, ...] (the C++ side has no int[][])."""
    flat: list[int] = []
    for shape in shapes:
        flat += [len(shape), *(int(d) for d in shape)]
    return flat


def _load(
    session: int, engine: torch.Tensor, name: str
) -> tuple[int, list[str], list[bool], list[str], list[int], list[bool]]:
    state = _session(session)
    handle = state.backend.load_engine(engine.numpy().tobytes(), name)
    key = next(_IDS)
    state.engines[key] = handle
    io = handle.io_tensors
    return (
        key,
        [t.name for t in io],
        [t.is_input for t in io],
        [dtype_name(t.dtype) for t in io],
        _dims([tuple(t.shape) for t in io]),
        [t.host_input for t in io],  # shape-tensor inputs, which TensorRT reads from host memory
    )


# ResourceAllocationStrategy of EngineBackend.h, by value.
_ALLOCATIONS = ("static", "dynamic")


def _create_context(
    session: int,
    engine: int,
    allocation: int,
    kernel_strategy: int,
    cuda_graph_strategy: int,
    use_runtime_cache: bool,
    runtime_cache: torch.Tensor,
) -> tuple[int, str]:
    """(context handle, "") or (-1, the reason) when the runtime cache is refused (C++ retries without it)."""
    state = _session(session)
    handle = state.engines[engine]
    options = ContextOptions(
        kernel_strategy=DynamicShapesKernelStrategy.from_int(kernel_strategy).strategy_name,
        cuda_graph_strategy=CudaGraphStrategy.from_int(cuda_graph_strategy).strategy_name,
        runtime_cache=runtime_cache.numpy().tobytes() if runtime_cache.numel() else None,
        use_runtime_cache=use_runtime_cache,
        allocation=_ALLOCATIONS[allocation],
    )
    try:
        context = handle.create_context(options)
    except ValueError as refused:  # the ExecutionContextHandle contract: a refused runtime cache
        return -1, str(refused)
    key = next(_IDS)
    state.contexts[key] = (context, {t.name: t for t in handle.io_tensors})
    return key, ""


def _output_shapes(
    session: int, context: int, input_names: list[str], inputs: list[torch.Tensor], output_names: list[str]
) -> list[int]:
    ctx, _ = _session(session).contexts[context]
    for name, tensor in zip(input_names, inputs):
        ctx.set_input_shape(name, tuple(tensor.shape))
        ctx.bind(name, tensor)
    return _dims([tuple(ctx.output_shape(name)) for name in output_names])


def _execute(
    session: int, context: int, names: list[str], tensors: list[torch.Tensor], inputs_bound: bool, allocated: list[str]
) -> list[torch.Tensor]:
    """One enqueue. ``inputs_bound``: _output_shapes bound these inputs in this same call."""
    ctx, io = _session(session).contexts[context]
    for name, tensor in zip(names, tensors):
        if io[name].is_input:
            if inputs_bound:
                continue
            ctx.set_input_shape(name, tuple(tensor.shape))
        ctx.bind(name, tensor)
    produced = []
    for name in allocated:  # data-dependent shapes: the runtime copies these into its allocator's memory
        produced.append(torch.empty(ctx.output_shape(name), dtype=io[name].dtype))
        ctx.bind(name, produced[-1])
    ctx.execute(None)
    return produced


def _cache_tensor(data: bytes | None) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)


def _runtime_cache(session: int, context: int) -> torch.Tensor:
    ctx, _ = _session(session).contexts[context]
    return _cache_tensor(ctx.serialize_runtime_cache())


def _outer_capture(session: int) -> bool:
    _session(session)
    return OUTER_CAPTURE.get()


def _profiles(session: int, engine: int) -> list[int]:
    """[count, then per profile and input: rank, min, opt, max dims, then n, min, opt, max values of a
    shape-tensor input (n = -1: none)] (DispatcherBackend.h)."""
    handle = _session(session).engines[engine]
    count = int(getattr(handle, "num_optimization_profiles", 1))
    read_values = getattr(handle, "profile_values", None)
    flat = [count]
    for index in range(count):
        for tensor in (t for t in handle.io_tensors if t.is_input):
            lo, opt, hi = handle.profile_shape(tensor.name, index)
            flat += [len(lo), *lo, *opt, *hi]
            values = read_values(tensor.name, index) if read_values is not None else None
            flat += [-1] if values is None else [len(values[0]), *values[0], *values[1], *values[2]]
    return flat


def _set_profile(session: int, context: int, profile: int) -> bool:
    ctx, _ = _session(session).contexts[context]
    return bool(ctx.set_optimization_profile(profile, None))


def _weights(session: int, engine: int) -> list[int]:
    handle = _session(session).engines[engine]
    streamable = int(getattr(handle, "streamable_weights_size", 0))
    if streamable <= 0:
        return [0, 0, 0]
    return [streamable, int(handle.weight_streaming_budget()), int(handle.weight_streaming_automatic_budget())]


def _set_weight_budget(session: int, engine: int, budget: int) -> bool:
    handle = _session(session).engines[engine]
    return int(getattr(handle, "streamable_weights_size", 0)) > 0 and bool(handle.set_weight_streaming_budget(budget))


def _set_profiler(session: int, context: int, enabled: bool) -> bool:
    state = _session(session)
    ctx, _ = state.contexts[context]
    attach = getattr(ctx, "set_profiler", None)
    buffer = _LayerTimeBuffer() if enabled else None
    if attach is None or not attach(buffer):
        return False
    if buffer is None:
        state.layer_times.pop(context, None)
    else:
        state.layer_times[context] = buffer
    return True


def _layer_times(session: int, context: int) -> tuple[list[str], list[float]]:
    buffer = _session(session).layer_times.get(context)
    if buffer is None:
        return [], []
    times, buffer.times = buffer.times, []
    return [name for name, _ in times], [float(ms) for _, ms in times]


def _aliases(session: int, engine: int) -> list[str]:
    """Per IO tensor, the input an output shares memory with ("" for none): the engine's aliased_input."""
    handle = _session(session).engines[engine]
    ask = getattr(handle, "aliased_input", None)
    return [(ask(t.name) if ask is not None and not t.is_input else None) or "" for t in handle.io_tensors]


def _register() -> bool:
    """Implement the ops once; False when the C++ runtime is not loaded or predates DispatcherBackend."""
    global _LIB
    with _LOCK:
        if _LIB is not None:
            return True
        if not ENABLED_FEATURES.torch_tensorrt_runtime or not hasattr(torch.ops.tensorrt, "_begin_dispatcher_backend"):
            return False
        lib = torch.library.Library("tensorrt", "IMPL")
        for name, fn in (
            ("_dispatcher_load", _load),
            ("_dispatcher_create_context", _create_context),
            ("_dispatcher_output_shapes", _output_shapes),
            ("_dispatcher_execute", _execute),
            ("_dispatcher_runtime_cache", _runtime_cache),
            ("_dispatcher_outer_capture", _outer_capture),
            ("_dispatcher_profiles", _profiles),
            ("_dispatcher_set_profile", _set_profile),
            ("_dispatcher_weights", _weights),
            ("_dispatcher_set_weight_budget", _set_weight_budget),
            ("_dispatcher_set_profiler", _set_profiler),
            ("_dispatcher_layer_times", _layer_times),
            ("_dispatcher_aliases", _aliases),
        ):
            # Some take no tensor: an alias kernel serves every dispatch key, the empty set included.
            lib.impl(name, fn, "CompositeImplicitAutograd")
        _LIB = lib
        return True


def available() -> bool:
    """Whether the C++ runtime is loaded and can run the emulator through a DispatcherBackend."""
    return _register()


def _end(session: int) -> None:
    state = _SESSIONS.get(session)
    if state is None:
        return
    # The C++ contexts keep their final kernels: their engines outlive the block and save the cache later.
    handles = list(state.contexts)
    caches = [_cache_tensor(state.contexts[h][0].serialize_runtime_cache()) for h in handles]
    try:
        torch.ops.tensorrt._end_dispatcher_backend(session, handles, caches)
    finally:
        _SESSIONS.pop(session, None)


@contextlib.contextmanager
def cpp_emulation(backend: RuntimeBackend) -> Iterator[None]:
    """Within the block the C++ runtime runs every execute_engine call, on ``backend`` through a DispatcherBackend."""
    if not _register():
        raise RuntimeError("the C++ runtime (torch_tensorrt._C) is not loaded or has no DispatcherBackend; rebuild it")
    session = next(_IDS)
    _SESSIONS[session] = _Session(backend)
    try:
        torch.ops.tensorrt._begin_dispatcher_backend(session, backend.name, bool(ENABLED_FEATURES.tensorrt_rtx))
    except BaseException:
        _SESSIONS.pop(session, None)
        raise
    try:
        with delegate_mode(NEVER_DELEGATE):
            yield
    finally:
        _end(session)


@atexit.register
def _end_all_sessions() -> None:
    # Blocks still open at exit (a generator never closed): the C++ engines must not call into Python
    # after it is gone, when the C++ runtime releases them.
    for session in list(_SESSIONS):
        with contextlib.suppress(Exception):
            _end(session)
