"""The Python engine: runs one serialized TensorRT engine through a runtime backend."""

from __future__ import annotations

import atexit
import hashlib
import logging
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, require_host_platform, torch_dtype
from torch_tensorrt.dynamo.runtime._runtime_backend import (
    ContextOptions,
    EngineHandle,
    ExecutionContextHandle,
    RuntimeBackend,
    current_backend,
)
from torch_tensorrt.runtime._cudagraphs import (
    NO_CAPTURE,
    NOT_CAPTURABLE,
    RTX_NATIVE_CAPTURE,
    TORCH_SUBGRAPH_CAPTURE,
    CaptureDecision,
    decide_capture,
)
from torch_tensorrt.runtime._defaults import effective_settings
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


class TRTEngine:
    """One engine: lazily deserialized, with an execution context created on first use.

    Runtime mode controls (``RuntimeSettings``) are applied when the context is created; changing
    them drops the context so that the next call creates exactly one new one.
    """

    def __init__(self, info: EngineInfo, backend: RuntimeBackend | None = None) -> None:
        require_host_platform(info)
        self.info = info
        # An explicit backend pins the engine to it; otherwise each call runs on the backend active
        # for that call (see _follow_active_backend), starting from the one active now.
        self._pinned_backend = backend
        self._backend = backend or current_backend()
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
        self.contexts_created = 0
        # None: the process-wide defaults (torch_tensorrt.runtime._defaults), read at each context creation.
        self.runtime_settings_override: RuntimeSettings | None = None
        self.runtime_cache: Any = None  # a RuntimeCache handle, attached by the runtime controls
        self.last_capture_decision: CaptureDecision | None = None

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
        self._engine = None
        self._device = None
        self._outputs = None
        self._side_stream = None

    def engine(self) -> EngineHandle:
        if self._engine is None:
            self._engine = self._backend.load_engine(self.info.engine, self.info.name)
            names = [t.name for t in self._engine.io_tensors if t.is_input]
            if list(names) != list(self.info.input_names):
                raise RuntimeError(
                    f"engine {self.name!r} has inputs {names} but its info lists {list(self.info.input_names)}"
                )
        return self._engine

    def _resolved_cache(self, settings: Any) -> Any:
        """The cache handle this engine's context uses: attached, configured, or its default file."""
        if not ENABLED_FEATURES.tensorrt_rtx:
            # The runtime cache is a TensorRT-RTX feature; runtime_cache() warned when it was attached.
            return None
        if self.runtime_cache is not None:
            return self.runtime_cache
        from torch_tensorrt.runtime._runtime_cache import RuntimeCache, RuntimeCacheWarning, resolve_runtime_cache

        try:
            return resolve_runtime_cache(settings.runtime_cache, self.engine_hash)
        except OSError as e:
            # The default directory was refused (not ours, a symlink, not a directory) or cannot be
            # created. The cache only saves JIT time, so the engine runs with an in-memory one
            # rather than failing; nothing is read from or written to the refused place.
            warnings.warn(
                f"{e} Engine {self.name!r} keeps its runtime cache in memory only.", RuntimeCacheWarning, stacklevel=2
            )
            return RuntimeCache(None)

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
        decision = decision or _NO_CAPTURE
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
            )
            self._context = self.engine().create_context(options)
            self._context_key = key
            self._context_options = options
            self._active_cache = cache
            self._owns_active_cache = cache is not None and cache is not self.runtime_cache
            if cache is not None:
                cache.add_user(self)  # so that saving the handle first collects this context's kernels
            self._graphs.clear()  # graphs recorded with the old context are re-recorded on demand
            self.contexts_created += 1
            _LIVE_ENGINES.add(self)
        return self._context

    @property
    def runtime_settings(self) -> RuntimeSettings:
        """The settings this engine runs with: its own, else the process-wide defaults."""
        return effective_settings(self.runtime_settings_override)

    def set_runtime_settings(self, settings: RuntimeSettings | None) -> None:
        """Apply new runtime settings (None: follow the process-wide defaults again); the context is
        recreated once, on the next run, if the effective settings changed."""
        if settings is not None and not isinstance(settings, RuntimeSettings):
            raise TypeError(f"expected RuntimeSettings or None, got {type(settings).__name__}")
        self.runtime_settings_override = settings

    def set_runtime_cache(self, cache: Any) -> None:
        """Attach a cache handle owned by the caller (runtime_cache()), or None to detach."""
        self.runtime_cache = cache

    def detach_runtime_cache(self, cache: Any, previous: Any) -> None:
        """End of a runtime_cache() block: hand the kernels to ``cache`` and restore ``previous``.

        A context still bound to ``cache`` is dropped (the next run would recreate it anyway, as the
        cache changes), so that a later teardown cannot write into a cache whose block has ended,
        which would ignore ``autosave=False`` and save it a second time.
        """
        if self._active_cache is cache and previous is not cache:
            self.stash_runtime_cache()
            self._drop_context()
        self.runtime_cache = previous

    @property
    def active_runtime_cache(self) -> Any:
        """The cache handle the current execution context was created with (None without a context)."""
        return self._active_cache

    def num_execution_contexts_created(self) -> int:
        """Execution contexts this engine created (Torch-TensorRT's name for ``contexts_created``)."""
        return self.contexts_created

    def stash_runtime_cache(self) -> None:
        """Hand the context's JIT-compiled kernels to its cache handle (saved by the handle's owner)."""
        if self._context is None or self._active_cache is None:
            return
        payload = self._context.serialize_runtime_cache()
        if payload:
            self._active_cache.update(payload)

    def _retire_context(self, *, next_cache: Any) -> None:
        """Before a new context: keep the old one's kernels, and save a cache this engine owns and
        stops using (nothing else would: its handle is only weakly registered and may be collected)."""
        old = self._active_cache
        self.stash_runtime_cache()
        if old is not None and old is not next_cache and self._owns_active_cache and not old.in_memory:
            old.autosave_now()  # a handle the user built saves only if it asked to

    def _drop_context(self) -> None:
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
        if not (outer or get_cudagraphs_mode() or settings.cuda_graph_strategy != "disabled" or self.device.type == "cuda"):
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

    def _input_specs(self) -> list[tuple[str, torch.dtype | None, tuple[int, ...], tuple[int, ...]]]:
        """(name, dtype, min shape, max shape) per input, derived once from the metadata."""
        if self._input_checks is None:
            specs = {spec.name: spec for spec in self.info.metadata.inputs}
            checks = []
            for name in self.info.input_names:
                spec = specs.get(name)
                if spec is None:
                    checks.append((name, None, (), ()))
                    continue
                # Without a profile, a symbolic dim has no recorded bounds: only its rank is checked.
                lo = spec.min_shape if spec.min_shape is not None else tuple(d if isinstance(d, int) else 0 for d in spec.shape)
                hi = spec.max_shape if spec.max_shape is not None else tuple(d if isinstance(d, int) else 2**63 - 1 for d in spec.shape)
                checks.append((name, torch_dtype(spec.dtype), tuple(lo), tuple(hi)))
            self._input_checks = checks
        return self._input_checks

    # -- execution -------------------------------------------------------------------------------
    def _check_input(self, index: int, tensor: torch.Tensor) -> None:
        name, want, lo, hi = self._input_specs()[index]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"input {name} of engine {self.name!r} must be a tensor, got {type(tensor).__name__}")
        if want is not None:
            if tensor.dtype != want:
                raise TypeError(
                    f"input {name} of engine {self.name!r} must have dtype {want}, got {tensor.dtype}; "
                    f"cast it with .to({want})"
                )
            shape = tuple(tensor.shape)
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                raise ValueError(
                    f"input {name} of engine {self.name!r} has shape {shape}, outside the range the engine "
                    f"was built for: min {lo}, max {hi}. Recompile with a wider "
                    "torch_tensorrt.Input(min_shape=..., max_shape=...)."
                )
        want_device = self.device
        if tensor.device != want_device and (
            tensor.device.type != want_device.type
            or (want_device.index is not None and tensor.device.index != want_device.index)
        ):
            raise RuntimeError(
                f"input {name} of engine {self.name!r} is on {tensor.device}; the engine runs on "
                f"{want_device}. Move the input with .to({str(want_device)!r})."
            )

    def execute(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if len(inputs) != len(self.info.input_names):
            raise ValueError(
                f"engine {self.name!r} takes {len(self.info.input_names)} inputs "
                f"({', '.join(self.info.input_names)}), got {len(inputs)}"
            )
        self._follow_active_backend()
        self.engine()  # a machine that cannot run engines says so before any input check
        if self.info.metadata.settings.truncate_double:
            # Compiled with truncate_double: the engine takes float32 where the model took float64.
            inputs = [t.float() if isinstance(t, torch.Tensor) and t.dtype == torch.float64 else t for t in inputs]
        for i, tensor in enumerate(inputs):
            self._check_input(i, tensor)
        self._ensure_device()
        decision = self.capture_decision(inputs)
        self.last_capture_decision = decision
        if decision.path == NOT_CAPTURABLE:
            raise RuntimeError(f"engine {self.name!r} cannot be captured in a CUDA graph: {decision.reason}")
        context = self.context(decision)
        if decision.path in (TORCH_SUBGRAPH_CAPTURE, RTX_NATIVE_CAPTURE):
            self._check_stream_capturable(context)
        if decision.path == TORCH_SUBGRAPH_CAPTURE:
            return self._run_captured(context, inputs)
        return self._run(context, inputs)

    def _check_stream_capturable(self, context: ExecutionContextHandle) -> None:
        """Report a context that cannot be captured on the stream it will run on, before any capture.

        Asked only of backends whose contexts can tell (TensorRT-RTX's
        IExecutionContext::isStreamCapturable, e.g. data-dependent shapes or on-device control flow).
        """
        probe = getattr(context, "is_stream_capturable", None)
        if probe is None:
            return
        stream = None
        if self.device.type == "cuda":
            stream = torch.cuda.current_stream(self.device)
            if stream == torch.cuda.default_stream(self.device):  # _run moves off the legacy stream
                if self._side_stream is None:
                    self._side_stream = torch.cuda.Stream(self.device)
                stream = self._side_stream
        if not probe(stream):
            decision = CaptureDecision(NOT_CAPTURABLE, "TensorRT reports that this context cannot be captured on its stream")
            self.last_capture_decision = decision
            raise RuntimeError(f"engine {self.name!r} cannot be captured in a CUDA graph: {decision.reason}")

    def _ensure_device(self) -> None:
        if self.device.type == "cuda" and get_multi_device_safe_mode():
            if torch.cuda.current_device() != self.device.index:
                logger.warning("switching to %s to run engine %s (multi-device safe mode)", self.device, self.name)
                torch.cuda.set_device(self.device)

    def _run(self, context: ExecutionContextHandle, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        for name, tensor in zip(self.info.input_names, inputs):
            context.set_input_shape(name, tuple(tensor.shape))
        contiguous = [t.contiguous() for t in inputs]
        for name, tensor in zip(self.info.input_names, contiguous):
            context.bind(name, tensor)
        outputs = []
        for name, dtype in self._output_dtypes():
            out = torch.empty(context.output_shape(name), dtype=dtype, device=self.device)
            context.bind(name, out)
            outputs.append(out)
        if self.device.type != "cuda":
            context.execute(None)
            return outputs
        caller = torch.cuda.current_stream(self.device)
        if caller != torch.cuda.default_stream(self.device):
            context.execute(caller)
            return outputs
        # The legacy default stream synchronises with every other stream; run on a side stream that
        # waits only for the caller's prior work, and make the caller wait for the engine.
        if self._side_stream is None:
            self._side_stream = torch.cuda.Stream(self.device)
        self._side_stream.wait_stream(caller)
        context.execute(self._side_stream)
        caller.wait_stream(self._side_stream)
        return outputs

    def _output_dtypes(self) -> list[tuple[str, torch.dtype]]:
        if self._outputs is None:
            io = {t.name: t for t in self.engine().io_tensors}
            self._outputs = [(name, io[name].dtype) for name in self.info.output_names]
        return self._outputs

    def _run_captured(self, context: ExecutionContextHandle, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Replay a torch CUDA graph of this engine, recording one per input-shape signature."""
        if self.device.type != "cuda":
            return self._run(context, inputs)  # emulated on CPU: same decision, no graph to record
        key = tuple(tuple(t.shape) for t in inputs)
        entry = self._graphs.get(key)
        if entry is None:
            static_inputs = [t.clone() for t in inputs]
            self._run(context, static_inputs)  # warm-up outside the capture
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_outputs = self._run(context, static_inputs)
            entry = self._graphs[key] = (graph, static_inputs, static_outputs)
        graph, static_inputs, static_outputs = entry
        for dst, src in zip(static_inputs, inputs):
            dst.copy_(src)
        graph.replay()
        return [t.clone() for t in static_outputs]

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
            shape = tuple(d if isinstance(d, int) else evaluate_shape_expr(d, symbols) for d in spec.shape)
            result.append((shape, torch_dtype(spec.dtype)))
        return result

    # -- pickling ----------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # Only the engine info travels; live TensorRT objects and runtime settings do not.
        return {"info": self.info.to_list()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(EngineInfo.from_list(state["info"]))  # type: ignore[misc]


_NO_CAPTURE = CaptureDecision(NO_CAPTURE)


def evaluate_shape_expr(expr: str, symbols: dict[str, Any]) -> Any:
    """Evaluate a validated shape expression where symbols may be SymInts (fake tensors).

    The checked evaluator in ``_shape_expr`` converts values to plain ints, which would specialise
    symbolic sizes; this walks the same parsed tree with SymInt-friendly arithmetic instead.
    """
    from torch_tensorrt.dynamo.runtime import _shape_expr

    if all(isinstance(v, int) for v in symbols.values()):
        return _shape_expr.evaluate(expr, symbols)

    def walk(node: Any) -> Any:
        kind = node[0]
        if kind == "int":
            return node[1]
        if kind == "sym":
            return symbols[node[1]]
        if kind == "neg":
            return -walk(node[1])
        if kind == "bin":
            lhs, rhs = walk(node[2]), walk(node[3])
            return {"+": lambda: lhs + rhs, "-": lambda: lhs - rhs, "*": lambda: lhs * rhs,
                    "//": lambda: lhs // rhs, "%": lambda: lhs % rhs}[node[1]]()
        values = [walk(a) for a in node[2]]
        pick = torch.sym_max if node[1] == "max" else torch.sym_min
        result = values[0]
        for v in values[1:]:
            result = pick(result, v)
        return result

    parsed = _shape_expr._parse_str(expr)
    missing = [n for n in parsed.names if n not in symbols]
    if missing:
        raise ValueError(f"shape expression {expr!r}: symbols {missing} have no value")
    return walk(parsed.tree)
