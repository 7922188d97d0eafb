"""The Python engine: runs one serialized TensorRT engine through a runtime backend."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, current_platform, torch_dtype
from torch_tensorrt.dynamo.runtime._runtime_backend import (
    ContextOptions,
    EngineHandle,
    ExecutionContextHandle,
    RuntimeBackend,
    current_backend,
)

logger = logging.getLogger("torch_tensorrt")


class TRTEngine:
    """One engine: lazily deserialized, with an execution context created on first use.

    Runtime mode controls (``RuntimeSettings``) are applied when the context is created; changing
    them drops the context so that the next call creates exactly one new one.
    """

    def __init__(self, info: EngineInfo, backend: RuntimeBackend | None = None) -> None:
        if info.target_platform != current_platform():
            raise RuntimeError(
                f"engine {info.name!r} was built for platform {info.target_platform}; this machine is "
                f"{current_platform()}. Recompile the program on (or for) this platform."
            )
        self.info = info
        self._backend = backend or current_backend()
        self._engine: EngineHandle | None = None
        self._context: ExecutionContextHandle | None = None
        self._context_options: ContextOptions | None = None
        self.contexts_created = 0
        from torch_tensorrt.runtime._settings import RuntimeSettings

        self.runtime_settings = RuntimeSettings()
        self.runtime_cache: Any = None  # a RuntimeCache handle, attached by the runtime controls
        self.last_capture_decision: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def backend(self) -> RuntimeBackend:
        return self._backend

    @property
    def device(self) -> torch.device:
        if self._backend.device_type == "cuda":
            return torch.device("cuda", self.info.gpu_id)
        return torch.device(self._backend.device_type)

    def engine(self) -> EngineHandle:
        if self._engine is None:
            self._engine = self._backend.load_engine(self.info.engine, self.info.name)
            names = [t.name for t in self._engine.io_tensors if t.is_input]
            if list(names) != list(self.info.input_names):
                raise RuntimeError(
                    f"engine {self.name!r} has inputs {names} but its info lists {list(self.info.input_names)}"
                )
        return self._engine

    def _wanted_context_options(self) -> ContextOptions:
        from torch_tensorrt.runtime._settings import effective_for_backend

        settings = effective_for_backend(self.runtime_settings)
        cache_bytes = None
        if self.runtime_cache is not None:
            cache_bytes = self.runtime_cache.payload
        return ContextOptions(
            kernel_strategy=settings.dynamic_shapes_kernel_specialization_strategy,
            cuda_graph_strategy=settings.cuda_graph_strategy,
            runtime_cache=cache_bytes,
            use_runtime_cache=self.runtime_cache is not None,
        )

    def context(self) -> ExecutionContextHandle:
        if self._context is None:
            if self.runtime_cache is not None and self.runtime_cache.load_count == 0:
                self.runtime_cache.load()
            options = self._wanted_context_options()
            self._context = self.engine().create_context(options)
            self._context_options = options
            self.contexts_created += 1
        return self._context

    def set_runtime_settings(self, settings: Any) -> bool:
        """Apply new runtime settings; returns True when the context had to be recreated."""
        if settings == self.runtime_settings:
            return False
        self.stash_runtime_cache()
        self.runtime_settings = settings
        if self._context is not None:
            self._context = None  # recreated once, lazily, with the new settings
            return True
        return False

    def set_runtime_cache(self, cache: Any) -> None:
        if cache is self.runtime_cache:
            return
        self.stash_runtime_cache()
        self.runtime_cache = cache
        self._context = None

    def stash_runtime_cache(self) -> None:
        """Hand the context's JIT-compiled kernels to the cache handle (saved by its owner)."""
        if self._context is None or self.runtime_cache is None:
            return
        payload = self._context.serialize_runtime_cache()
        if payload:
            self.runtime_cache.update(payload)

    # -- execution -------------------------------------------------------------------------------
    def _check_input(self, index: int, tensor: torch.Tensor) -> None:
        spec = self.info.metadata.inputs[index] if index < len(self.info.metadata.inputs) else None
        name = self.info.input_names[index]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"input {name} of engine {self.name!r} must be a tensor, got {type(tensor).__name__}")
        if spec is not None:
            want = torch_dtype(spec.dtype)
            if tensor.dtype != want:
                raise TypeError(
                    f"input {name} of engine {self.name!r} must have dtype {want}, got {tensor.dtype}; "
                    f"cast it with .to({want})"
                )
            lo = spec.min_shape if spec.min_shape is not None else spec.shape
            hi = spec.max_shape if spec.max_shape is not None else spec.shape
            shape = tuple(tensor.shape)
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                raise ValueError(
                    f"input {name} of engine {self.name!r} has shape {shape}, outside the range the engine "
                    f"was built for: min {tuple(lo)}, max {tuple(hi)}. Recompile with a wider "
                    "torch_tensorrt.Input(min_shape=..., max_shape=...)."
                )
        want_device = self.device
        if tensor.device.type != want_device.type or (
            want_device.index is not None and tensor.device.index != want_device.index
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
        for i, tensor in enumerate(inputs):
            self._check_input(i, tensor)
        context = self.context()
        for name, tensor in zip(self.info.input_names, inputs):
            context.set_input_shape(name, tuple(tensor.shape))
        contiguous = [t.contiguous() for t in inputs]
        for name, tensor in zip(self.info.input_names, contiguous):
            context.bind(name, tensor)
        io = {t.name: t for t in self.engine().io_tensors}
        outputs = []
        for name in self.info.output_names:
            out = torch.empty(context.output_shape(name), dtype=io[name].dtype, device=self.device)
            context.bind(name, out)
            outputs.append(out)
        stream = torch.cuda.current_stream(self.device) if self.device.type == "cuda" else None
        context.execute(stream)
        return outputs

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
