"""The Python engine: runs one serialized TensorRT engine through a runtime backend."""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import logging
import os
import threading
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo.runtime._aliased_io import aliased_output, engine_aliases
from torch_tensorrt.dynamo.runtime._engine_fast_path import FastRunner, fast_runner
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, require_host_platform, torch_dtype
from torch_tensorrt.dynamo.runtime._engine_input_checks import EngineInputChecks
from torch_tensorrt.dynamo.runtime._engine_profile_controls import ProfileAndBudgetControls
from torch_tensorrt.dynamo.runtime._engine_profiles import (
    ProfileSelector,
    profile_selector,
)
from torch_tensorrt.dynamo.runtime._engine_profiling import CUDAGRAPH_SUFFIX, EngineProfiling
from torch_tensorrt.dynamo.runtime._engine_settings_controls import RuntimeSettingsControls
from torch_tensorrt.dynamo.runtime._runtime_backend import (
    ContextOptions,
    EngineHandle,
    ExecutionContextHandle,
    RuntimeBackend,
    RuntimeCacheRejected,
    current_backend,
)
from torch_tensorrt.dynamo.runtime._shape_expr import evaluate_symbolic
from torch_tensorrt.dynamo.runtime._shape_tensor_inputs import shape_input_checks
from torch_tensorrt.dynamo.runtime._stripped_weights import refuse_stripped_weights
from torch_tensorrt.runtime._cudagraphs import (
    NO_CAPTURE,
    NOT_CAPTURABLE,
    RTX_NATIVE_CAPTURE,
    STREAM_NOT_CAPTURABLE,
    TORCH_SUBGRAPH_CAPTURE,
    CaptureDecision,
    decide_capture,
)
from torch_tensorrt.runtime._defaults import process_defaults
from torch_tensorrt.runtime._modes import OUTER_CAPTURE, get_cudagraphs_mode, get_multi_device_safe_mode
from torch_tensorrt.runtime._settings import RuntimeSettings, effective_for_backend

logger = logging.getLogger("torch_tensorrt")

# Engines holding an execution context. Their JIT-compiled kernels live only in that context until
# it is closed, so they are closed at interpreter exit (before module teardown, where finalisers can
# no longer import or take file locks). Weak: the registry never keeps an engine alive.
_LIVE_ENGINES: weakref.WeakSet[TRTEngine] = weakref.WeakSet()


def _close_live_engines() -> None:
    for engine in list(_LIVE_ENGINES):
        try:
            engine.close()
        except Exception:  # noqa: BLE001 - one engine failing must not stop the others from saving
            logger.warning("could not save the runtime cache of engine %s at exit", engine.name, exc_info=True)


# Registered after the runtime cache module's own exit hook (imported above through _settings), so
# this runs first (atexit is last-in, first-out) and that hook still saves what it hands over.
atexit.register(_close_live_engines)


class TRTEngine(EngineInputChecks, RuntimeSettingsControls, ProfileAndBudgetControls, EngineProfiling):
    """One engine: lazily deserialized, with an execution context created on first use.

    Runtime mode controls (``RuntimeSettings``) are applied when the context is created; changing
    them drops the context so that the next call creates exactly one new one.
    """

    def __init__(self, info: EngineInfo, backend: RuntimeBackend | None = None) -> None:
        require_host_platform(info)
        self.info = info
        # Calls from several threads share one execution context, whose input shapes and tensor
        # addresses belong to one call from set-shape to enqueue: calls, context changes and cache
        # hand-overs are serialized (as by the C++ engine's mutex). Reentrant: closing the context
        # happens inside a call when the backend changes. One context per thread was not chosen:
        # each holds its own device memory and JIT kernels, and the host part it would let overlap
        # is a few microseconds against the GPU time, which overlaps anyway (enqueue is asynchronous).
        self._lock = threading.RLock()
        # (stamp, decision, context) of the last call: reused while the stamp (_call_stamp) and the
        # engine's own settings are unchanged, so a call does not re-resolve settings and decisions.
        self._plan: tuple[tuple[Any, ...], CaptureDecision, ExecutionContextHandle] | None = None
        # Per input, the (shape, dtype, device) signatures already checked against the engine.
        self._accepted: list[set[tuple[Any, ...]]] = [set() for _ in info.input_names]
        # Shape-tensor inputs: their values are checked and handed to TensorRT from host memory.
        self._shape_inputs = shape_input_checks(info)
        self._last_stream: Any = None  # the CUDA stream of the last enqueue (see _after_last_enqueue)
        self._dynamic_memory = info.resource_allocation_strategy == "dynamic"
        self._truncate_double = info.metadata.settings.truncate_double
        # An explicit backend pins the engine to it; otherwise each call runs on the backend active
        # for that call (see _follow_active_backend), starting from the one active now.
        self._pinned_backend = backend
        self._backend = backend or current_backend()
        self._cuda = self._backend.device_type == "cuda"
        self._engine: EngineHandle | None = None
        self._context: ExecutionContextHandle | None = None
        self._context_options: ContextOptions | None = None
        self._context_key: tuple[Any, ...] | None = None
        self._active_cache: Any = None
        # Whether this engine saves _active_cache (default or settings-given caches) or the
        # runtime_cache() block that attached it does.
        self._owns_active_cache = False
        self._engine_hash: str | None = None
        self._graphs: dict[Any, Any] = {}
        self._side_stream: Any = None
        self._resolved_memo: tuple[Any, Any, Any] | None = None
        self._device: torch.device | None = None
        self._input_checks: list[tuple[str, torch.dtype | None, tuple[int, ...], tuple[int, ...]]] | None = None
        self._outputs: list[tuple[str, torch.dtype]] | None = None
        # Outputs the engine writes into an input's memory (KV-cache update layers) -> that input's index.
        self._aliased: dict[str, int] = {}
        self.contexts_created = 0
        # None: the process-wide defaults (torch_tensorrt.runtime._defaults), read at each context creation.
        self._settings_override: RuntimeSettings | None = None
        self._runtime_cache: Any = None  # a RuntimeCache handle, attached by the runtime controls
        self.last_capture_decision: CaptureDecision | None = None
        # The per-call fast path of the current plan (_engine_fast_path) and its known context shapes.
        self._fast: FastRunner | None = None
        self._fast_shapes: list[Any] | None = None
        # Optimization profiles and weight streaming: runtime controls of this engine, never serialized.
        self._profiles: ProfileSelector | None = None  # set when an engine with several profiles loads
        self._forced_profile: int | None = None  # optimization_profile(module, k); None: automatic
        self._context_profile = 0  # the profile the current context runs on (a new one starts on 0)
        self._weight_budget: int | None = None  # set_device_memory_budget's; None: TensorRT's automatic

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def backend(self) -> RuntimeBackend:
        return self._backend

    @property
    def device(self) -> torch.device:
        if self._device is None:
            cuda = self._backend.device_type == "cuda"
            self._device = torch.device("cuda", self.info.gpu_id) if cuda else torch.device(self._backend.device_type)
        return self._device

    def _follow_active_backend(self) -> None:
        """Bind this call to the backend active for it, dropping what was made on another backend.

        ``emulated_runtime()`` selects a backend for the calls made inside it, and engines outlive such
        blocks, so the choice is made per call rather than fixed when the engine was first used: a
        module run inside the block runs on the real backend after it, and one that failed outside
        (no GPU) runs inside. Runtime settings and an attached runtime cache belong to the module and
        carry over; the deserialized engine, its context, device and streams belong to the backend.
        """
        if self._pinned_backend is not None:
            return
        backend = current_backend()
        if backend is self._backend:
            return
        self.close()  # keeps the old context's JIT kernels (stashed, and saved if this engine owns the cache)
        self._backend = backend
        self._cuda = backend.device_type == "cuda"
        self._engine = None
        self._device = None
        self._outputs = None
        self._side_stream = None
        self._last_stream = None
        self._accepted = [set() for _ in self.info.input_names]  # checked against the old device

    def engine(self) -> EngineHandle:
        if self._engine is None:
            self._engine = self._backend.load_engine(self.info.engine, self.info.name)
            names = [t.name for t in self._engine.io_tensors if t.is_input]
            if list(names) != list(self.info.input_names):
                raise RuntimeError(
                    f"engine {self.name!r} has inputs {names} but its info lists {list(self.info.input_names)}"
                )
            value_inputs = [index for index, *_ in self._shape_inputs]
            self._profiles = profile_selector(self._engine, self.name, self.info.input_names, value_inputs)
            self._apply_weight_budget(self._engine)
        return self._engine

    @property
    def engine_hash(self) -> str:
        if self._engine_hash is None:
            self._engine_hash = hashlib.sha256(self.info.engine).hexdigest()
        return self._engine_hash

    def _wanted_context(self, decision: CaptureDecision) -> tuple[tuple[Any, ...], Any, Any]:
        # Resolving settings touches the file system (default cache directory checks), so the result
        # is memoised until the settings, the attached cache or the backend flavour change.
        memo_key = (self.runtime_settings, id(self.runtime_cache), ENABLED_FEATURES.tensorrt_rtx)
        if self._resolved_memo is None or self._resolved_memo[0] != memo_key:
            settings = effective_for_backend(self.runtime_settings)
            self._resolved_memo = (memo_key, settings, self._resolved_cache(settings))
        _, settings, cache = self._resolved_memo
        key = (settings.dynamic_shapes_kernel_specialization_strategy, decision.native_strategy, id(cache))
        return key, settings, cache

    def context(self, decision: CaptureDecision | None = None) -> ExecutionContextHandle:
        """The execution context for the current settings; (re)created only when they changed."""
        with self._lock:
            return self._context_locked(decision or _NO_CAPTURE)

    def _context_locked(self, decision: CaptureDecision) -> ExecutionContextHandle:
        key, settings, cache = self._wanted_context(decision)
        if self._context is None or key != self._context_key:
            self._retire_context(next_cache=cache)
            if cache is not None and cache.load_count == 0:
                cache.load()
            options = ContextOptions(
                kernel_strategy=settings.dynamic_shapes_kernel_specialization_strategy,
                cuda_graph_strategy=decision.native_strategy,
                runtime_cache=cache.payload if cache is not None else None,
                use_runtime_cache=cache is not None,
                allocation=self.info.resource_allocation_strategy,
            )
            self._context, options = self._create_context(options, cache)
            self._attach_profiler(self._context)
            self._context_key = key
            self._context_options = options
            self._active_cache = cache
            self._owns_active_cache = cache is not None and cache is not self.runtime_cache
            if cache is not None:
                cache.add_user(self)  # so that saving the handle first collects this context's kernels
            self._graphs.clear()  # graphs recorded with the old context are re-recorded on demand
            self._context_profile = 0
            self.contexts_created += 1
            _LIVE_ENGINES.add(self)
        return self._context

    def _create_context(self, options: ContextOptions, cache: Any) -> tuple[ExecutionContextHandle, ContextOptions]:
        """A new context, and the options it was made with. A runtime cache TensorRT refuses (another
        TensorRT-RTX version or GPU, a corrupt payload) is reported, moved aside and replaced by a
        fresh one, as in C++ (TRTEngine::context); one that cannot be attached at all leaves the
        context without a cache. The cache only saves JIT time, so neither is fatal."""
        from torch_tensorrt.runtime._runtime_cache import RuntimeCacheWarning

        engine = self.engine()
        while True:
            try:
                return engine.create_context(options), options
            except ValueError as e:
                # Backends report a refused cache with ValueError (C++: std::invalid_argument).
                if options.use_runtime_cache and options.runtime_cache:
                    if cache is None or cache.quarantine(str(e)) is None:  # quarantine warns when it moves the file
                        warnings.warn(
                            f"the runtime cache of engine {self.name!r} ({cache!r}) was rejected ({e}); "
                            "starting with an empty cache",
                            RuntimeCacheWarning,
                            stacklevel=4,
                        )
                    options = dataclasses.replace(options, runtime_cache=None)
                elif options.use_runtime_cache and isinstance(e, RuntimeCacheRejected):
                    warnings.warn(
                        f"engine {self.name!r} runs without a runtime cache: {e}; kernels it compiles are not kept",
                        RuntimeCacheWarning,
                        stacklevel=4,
                    )
                    options = dataclasses.replace(options, use_runtime_cache=False)
                else:
                    raise

    def _retire_context(self, *, next_cache: Any) -> None:
        """Before a new context: keep the old one's kernels, and save a cache this engine owns and
        stops using (nothing else would: its handle is only weakly registered and may be collected)."""
        old = self._active_cache
        self.stash_runtime_cache()
        if old is not None and old is not next_cache and self._owns_active_cache and not old.in_memory:
            old.autosave_now()  # a handle the user built saves only if it asked to

    def _drop_context(self) -> None:
        self._plan = None
        self._context = None
        self._context_key = None
        self._context_options = None
        self._active_cache = None
        self._owns_active_cache = False
        self._graphs.clear()
        _LIVE_ENGINES.discard(self)

    def close(self) -> None:
        """Save the runtime cache and drop live TensorRT objects (module teardown, interpreter exit).

        Caches attached by a runtime_cache() block get the kernels but are saved by that block.
        """
        with self._lock:
            try:
                self.stash_runtime_cache()
                cache = self._active_cache
                if cache is not None and self._owns_active_cache and not cache.in_memory:
                    cache.autosave_now()
            finally:
                self._drop_context()

    def __del__(self) -> None:
        try:
            if getattr(self, "_context", None) is not None:
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser; the cache file stays as it was
            logger.debug("saving the runtime cache of %s at teardown failed", getattr(self, "name", "?"), exc_info=True)

    def capture_decision(self, inputs: Sequence[torch.Tensor]) -> CaptureDecision:
        # The settings as resolved for the context (memoised): on standard TensorRT the RTX-only
        # ones are already back at their defaults.
        settings = self._wanted_context(_NO_CAPTURE)[1]
        outer = OUTER_CAPTURE.get()
        if not (
            outer or get_cudagraphs_mode() or settings.cuda_graph_strategy != "disabled" or self.device.type == "cuda"
        ):
            return _NO_CAPTURE  # the common case, decided without the general function
        # The caller's stream is not checked here: on the legacy default stream (which cannot be
        # captured) the engine runs on its own side stream, and torch.cuda.graph captures on its own
        # stream. Whether TensorRT can capture the stream is asked of the context in execute().
        return decide_capture(
            cudagraphs_mode=get_cudagraphs_mode(),
            outer_capture=outer or (self.device.type == "cuda" and torch.cuda.is_current_stream_capturing()),
            is_rtx=ENABLED_FEATURES.tensorrt_rtx,
            cuda_graph_strategy=settings.cuda_graph_strategy,
            kernel_strategy=settings.dynamic_shapes_kernel_specialization_strategy,
            dynamic_inputs=self.has_dynamic_inputs,
            data_dependent_outputs=self.info.requires_output_allocator,
        )

    @property
    def has_dynamic_inputs(self) -> bool:
        return any(lo != hi for _, _, lo, hi in self._input_specs())

    # -- execution -------------------------------------------------------------------------------
    def execute(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Run the engine; calls from several threads are serialized (see ``_lock``)."""
        fast = self._fast
        if fast is not None:
            outputs = fast(inputs)
            if outputs is not None:
                return outputs
        if len(inputs) != len(self.info.input_names):
            raise ValueError(
                f"engine {self.name!r} takes {len(self.info.input_names)} inputs "
                f"({', '.join(self.info.input_names)}), got {len(inputs)}"
            )
        # acquire/release rather than `with`: half the cost, and this runs on every call.
        self._lock.acquire()
        try:
            stamp = self._call_stamp()
            plan = self._plan
            if plan is None or plan[0] != stamp:
                plan = None
                self._follow_active_backend()
                refuse_stripped_weights(self.info)  # no plan is ever made for such an engine
                self.engine()  # a machine that cannot run engines says so before any input check
                stamp = self._call_stamp()  # now with the capture state, which needs a usable device
            inputs = self._checked_inputs(inputs)
            if self._cuda and get_multi_device_safe_mode():
                self._ensure_device()
            _, decision, context = plan or self._make_plan(stamp)
            if self._profiles is not None:
                self._use_profile(context, inputs)
            self.last_capture_decision = decision
            path = decision.path
            captured = path == TORCH_SUBGRAPH_CAPTURE or path == RTX_NATIVE_CAPTURE
            if captured and not self._stream_capturable(context):
                # As the C++ runtime: run uncaptured on the same context (TensorRT-RTX falls back to
                # running uncaptured itself), the decision recorded.
                self.last_capture_decision = STREAM_NOT_CAPTURABLE
                captured, path = False, NOT_CAPTURABLE
            if path == TORCH_SUBGRAPH_CAPTURE:
                outputs = self._run_captured(context, inputs)
            else:
                outputs = self._run(context, inputs)
            if self._layer_times is not None:
                self._write_profile(captured=captured and self._cuda)
            return outputs
        finally:
            self._lock.release()

    def _call_stamp(self) -> tuple[Any, ...]:
        """What a call's capture decision and context depend on besides the engine's own settings
        and cache (whose setters drop the plan). Read on every call, so only cheap reads: the
        process-wide settings are replaced, never mutated, so their identity says when they change."""
        backend = self._pinned_backend or current_backend()
        outer = OUTER_CAPTURE.get()
        if not outer and backend.device_type == "cuda" and self._engine is not None and backend is self._backend:
            outer = torch.cuda.is_current_stream_capturing()
        return (backend, process_defaults(), ENABLED_FEATURES.tensorrt_rtx, get_cudagraphs_mode(), outer)

    def _make_plan(self, stamp: tuple[Any, ...]) -> tuple[tuple[Any, ...], CaptureDecision, ExecutionContextHandle]:
        decision = self.capture_decision(())
        if decision.path == NOT_CAPTURABLE:
            self.last_capture_decision = decision
            raise RuntimeError(f"engine {self.name!r} cannot be captured in a CUDA graph: {decision.reason}")
        context = self._context_locked(decision)
        self._output_dtypes()
        _ = self.device  # _run reads the memoised _outputs and _device without checking them
        self._plan = (stamp, decision, context)
        self._fast = fast_runner(self, self._plan)
        return self._plan

    def _stream_capturable(self, context: ExecutionContextHandle) -> bool:
        """Whether the context can be captured on the stream it will run on, asked before any capture.

        Asked only of backends whose contexts can tell (TensorRT-RTX's
        IExecutionContext::isStreamCapturable, e.g. data-dependent shapes or on-device control flow).
        """
        probe = getattr(context, "is_stream_capturable", None)
        if probe is None:
            return True
        stream = None
        if self.device.type == "cuda":
            stream = torch.cuda.current_stream(self.device)
            if stream == torch.cuda.default_stream(self.device):  # _run moves off the legacy stream
                if self._side_stream is None:
                    self._side_stream = torch.cuda.Stream(self.device)
                stream = self._side_stream
        return bool(probe(stream))

    def _ensure_device(self) -> None:
        if self.device.type == "cuda" and get_multi_device_safe_mode():
            if torch.cuda.current_device() != self.device.index:
                logger.warning("switching to %s to run engine %s (multi-device safe mode)", self.device, self.name)
                torch.cuda.set_device(self.device)

    def _run(
        self, context: ExecutionContextHandle, inputs: Sequence[torch.Tensor], keep: list[Any] | None = None
    ) -> list[torch.Tensor]:
        """Set shapes, bind, allocate outputs and enqueue: the calls any runtime makes, with as little
        around them as possible (the hot path: benchmarks/runtime_overhead.py). Dense copies and
        scratch memory go to ``keep``: in use until the enqueue returns, or as long as a CUDA graph
        recorded from this run exists (_run_captured passes its own list)."""
        keep = [] if keep is None else keep
        if self._fast_shapes is not None:
            self._fast_shapes[0] = None  # the context's shapes are set here, not by the fast path
        for name, tensor in zip(self.info.input_names, inputs):
            context.set_input_shape(name, tensor.shape)
            dense = tensor.contiguous()
            if dense is not tensor:
                keep.append(dense)
            context.bind(name, dense)
        device = self._device
        outputs = []
        for name, dtype in self._outputs:  # type: ignore[union-attr]
            if self._aliased and name in self._aliased:  # bound to the caller's input, written in place
                index = self._aliased[name]
                out = aliased_output(self.name, name, self.info.input_names[index], inputs[index])
                context.bind(name, out)
                outputs.append(out)
                continue
            # size= as a keyword: torch's argument parser takes about 0.7 us less than positional.
            out = torch.empty(size=context.output_shape(name), dtype=dtype, device=device)
            context.bind(name, out)
            outputs.append(out)
        if self._dynamic_memory:
            keep.append(self._bind_device_memory(context))
        if self._cuda:
            self._launch(context)
        else:
            context.execute(None)
        return outputs

    def _bind_device_memory(self, context: ExecutionContextHandle) -> torch.Tensor | None:
        """Scratch memory sized for this call's shapes ("dynamic" resource allocation: the context
        was created with the user-managed strategy and owns none), as execute_engine.cpp does."""
        size_for_shapes = getattr(context, "device_memory_size_for_shapes", None)
        if size_for_shapes is None:
            return None  # a backend without device memory (emulated on the CPU)
        size = int(size_for_shapes())
        if size < 0:
            raise RuntimeError(f"TensorRT could not compute the scratch memory of engine {self.name!r}")
        workspace = torch.empty(max(size, 1), dtype=torch.uint8, device=self.device)
        context.set_device_memory(workspace, size)
        return workspace

    def _launch(self, context: ExecutionContextHandle) -> None:
        caller = torch.cuda.current_stream(self.device)
        stream = caller
        if caller == torch.cuda.default_stream(self.device):
            # The legacy default stream synchronises with every other stream; run on a side stream
            # that waits only for the caller's prior work, and make the caller wait for the engine.
            if self._side_stream is None:
                self._side_stream = torch.cuda.Stream(self.device)
            stream = self._side_stream
            stream.wait_stream(caller)
        self._after_last_enqueue(stream)
        context.execute(stream)
        if stream is not caller:
            caller.wait_stream(stream)

    def _after_last_enqueue(self, stream: Any) -> None:
        """Order this enqueue after the previous one when it was on another stream.

        Threads calling one module usually run on streams of their own, but the engine has one
        context, whose activation memory the GPU work of both calls would share: TensorRT leaves
        enqueues of one context on two streams at once undefined. The lock orders the host side;
        this orders the device side (free while the stream stays the same). Not inside a capture,
        which must not wait on work outside it.
        """
        last = self._last_stream
        if last is not None and last != stream and not torch.cuda.is_current_stream_capturing():
            stream.wait_stream(last)
        self._last_stream = stream

    def _output_dtypes(self) -> list[tuple[str, torch.dtype]]:
        if self._outputs is None:
            io = {t.name: t for t in self.engine().io_tensors}
            self._outputs = [(name, io[name].dtype) for name in self.info.output_names]
            self._aliased = engine_aliases(self.engine(), self.info.input_names)
        return self._outputs

    def _run_captured(self, context: ExecutionContextHandle, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Replay a torch CUDA graph of this engine, recording one per input-shape signature (and
        shape-tensor values: TensorRT reads them on the host when the graph is recorded)."""
        if self._aliased:  # refused on every device, so that the emulated runtime shows what a GPU does
            raise RuntimeError(
                f"engine {self.name!r} writes its inputs in place (aliased outputs {sorted(self._aliased)}), which "
                "a torch CUDA graph replaying copies of the inputs cannot do; run it without enable_cudagraphs"
            )
        if self.device.type != "cuda":
            return self._run(context, inputs)  # emulated on CPU: same decision, no graph to record
        key = self._graph_key(inputs)
        entry = self._graphs.get(key)
        if entry is None:
            static_inputs = [t.clone() for t in inputs]
            self._run(context, static_inputs)  # warm-up outside the capture
            graph = torch.cuda.CUDAGraph()
            dump_graph = self._layer_times is not None and self.profile_format == "cudagraph"
            if dump_graph:
                graph.enable_debug_mode()  # keeps the graph's structure for debug_dump below
            recorded: list[Any] = []  # scratch memory the graph uses ("dynamic" allocation)
            with torch.cuda.graph(graph):
                static_outputs = self._run(context, static_inputs, recorded)
            if dump_graph:
                graph.debug_dump(os.path.join(self.profile_path_prefix, self.name + CUDAGRAPH_SUFFIX))
            entry = self._graphs[key] = (graph, static_inputs, static_outputs, recorded)
        graph, static_inputs, static_outputs, _ = entry
        for dst, src in zip(static_inputs, inputs):
            dst.copy_(src)
        self._after_last_enqueue(torch.cuda.current_stream(self.device))  # the graph uses the context's memory
        graph.replay()
        return [t.clone() for t in static_outputs]

    def _graph_key(self, inputs: Sequence[torch.Tensor]) -> tuple[Any, ...]:
        shapes = tuple(tuple(t.shape) for t in inputs)
        values = tuple(tuple(int(v) for v in inputs[index].reshape(-1).tolist()) for index, *_ in self._shape_inputs)
        return (shapes, values)

    # -- shape inference for fake tensors ------------------------------------------------------------
    def infer_outputs(self, inputs: Sequence[Any]) -> list[tuple[tuple[Any, ...], torch.dtype]]:
        """Output shapes and dtypes for (possibly symbolic) input shapes, from the metadata."""
        symbols: dict[str, Any] = {}
        for spec, tensor in zip(self.info.metadata.inputs, inputs):
            for dim, size in zip(spec.shape, tensor.shape):
                if isinstance(dim, str) and dim.isidentifier():
                    symbols.setdefault(dim, size)
        result = []
        for spec in self.info.metadata.outputs:
            shape = tuple(d if isinstance(d, int) else evaluate_symbolic(d, symbols) for d in spec.shape)
            result.append((shape, torch_dtype(spec.dtype)))
        return result

    # -- pickling ----------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # Only the engine info travels; live TensorRT objects and runtime settings do not.
        return {"info": self.info.to_list()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(EngineInfo.from_list(state["info"]))  # type: ignore[misc]


_NO_CAPTURE = CaptureDecision(NO_CAPTURE)
