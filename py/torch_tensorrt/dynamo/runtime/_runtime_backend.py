"""The runtime's only contact with TensorRT's runtime API (DESIGN.md section 2).

``TRTEngine`` talks to an engine through the small handle classes defined here. The real
implementation below calls TensorRT; ``torch_tensorrt.testing.emulated_runtime`` provides another
implementation that evaluates the network on CPU. Nothing else in the runtime calls TensorRT.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from torch_tensorrt._trt import ENABLED_FEATURES, trt
from torch_tensorrt.dynamo.runtime._engine_refit import (
    refit_serialized_engine,
    refuse_emulated_plan,
    require_gpu_for_refit,
)

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

# Integer values the TensorRT-RTX enums use; our strategy names map onto them.
KERNEL_STRATEGY_NAMES = {"lazy": "LAZY", "eager": "EAGER", "none": "NONE"}
CUDA_GRAPH_STRATEGY_NAMES = {
    "disabled": "DISABLED",
    "whole_graph_capture": "WHOLE_GRAPH_CAPTURE",
}


@dataclass(frozen=True)
class IOTensor:
    name: str
    is_input: bool
    dtype: torch.dtype
    shape: tuple[int, ...]  # -1 for dynamic dims
    # A shape-tensor input, which TensorRT reads from host memory (IOTensorInfo::host_input in C++).
    host_input: bool = False


@dataclass(frozen=True)
class ContextOptions:
    """What the runtime config of a new execution context is made from."""

    kernel_strategy: str = "lazy"
    cuda_graph_strategy: str = "disabled"
    runtime_cache: bytes | None = None  # serialized cache to start from
    use_runtime_cache: bool = False
    # The engine info's resource-allocation strategy: "static" (the context owns its scratch memory)
    # or "dynamic" (the runtime hands it memory sized for each call's shapes).
    allocation: str = "static"


class RuntimeCacheRejected(ValueError):
    """TensorRT refused a runtime cache: the serialized payload (wrong TensorRT-RTX version, device or
    format), or attaching the cache to the runtime config. The engine retries with a fresh cache."""


class ExecutionContextHandle(Protocol):
    """A context with its runtime config applied. ``create_context`` raises ``ValueError`` (such as
    :class:`RuntimeCacheRejected`) when the runtime cache it was given is refused. Contexts with
    device memory also have ``device_memory_size_for_shapes() -> int`` and
    ``set_device_memory(memory: torch.Tensor, size: int)``, used for "dynamic" allocation. Contexts of
    engines with several optimization profiles also have ``set_optimization_profile(index: int,
    stream) -> bool`` (a new context starts on profile 0, as in TensorRT). Contexts that can time
    layers have ``set_profiler(receiver) -> bool``: from then on every run calls
    ``receiver.report_layer_time(layer_name: str, ms: float)`` once per layer, before ``execute``
    returns (TensorRT's IProfiler); False when the backend cannot."""

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None: ...
    def output_shape(self, name: str) -> tuple[int, ...]: ...
    def bind(self, name: str, tensor: torch.Tensor) -> None: ...
    def execute(self, stream: Any) -> None: ...
    def serialize_runtime_cache(self) -> bytes | None: ...


class EngineHandle(Protocol):
    """A deserialized engine. Engines with several optimization profiles also have
    ``num_optimization_profiles: int`` (absent: one); engines that can stream weights have
    ``streamable_weights_size: int`` (absent: 0), ``weight_streaming_budget() -> int``,
    ``set_weight_streaming_budget(bytes: int) -> bool`` (called with no context alive, as TensorRT
    requires) and ``weight_streaming_automatic_budget() -> int``. ``aliased_input(output_name) -> str |
    None`` (optional; absent: no aliasing) names the input an output shares memory with. ``layer_information() -> str`` (optional)
    is the engine inspector's JSON description of the engine's layers."""

    io_tensors: list[IOTensor]

    def profile_shape(self, name: str, profile: int = 0) -> ShapeRange: ...
    # Optional: profile_values(name, profile) -> ShapeRange | None, the value range of a shape-tensor
    # input (absent: unknown, and values take no part in choosing a profile).
    def create_context(self, options: ContextOptions) -> ExecutionContextHandle: ...


class RuntimeBackend(Protocol):
    name: str
    device_type: str  # "cuda" for real engines, "cpu" when emulated

    def load_engine(self, engine: bytes, name: str) -> EngineHandle: ...

    def refit_engine(self, engine: bytes, name: str, weights: Mapping[str, torch.Tensor]) -> bytes:
        """The engine with ``weights`` (by engine weight name) written in, serialized with them.
        Raises ``_engine_refit.RefitError`` when the engine cannot take them."""
        ...


class NoUsableGPUError(RuntimeError):
    pass


def allocation_strategy(name: str) -> Any:
    """The TensorRT allocation strategy for an engine-info strategy name, as in C++
    (TensorRTRuntimeConfig::allocation_strategy): "dynamic" is user-managed memory, which the runtime
    sizes for each call's shapes; anything else is static."""
    strategies = trt.ExecutionContextAllocationStrategy
    return strategies.USER_MANAGED if name == "dynamic" else strategies.STATIC


class _LayerTimeForwarder(trt.IProfiler):  # type: ignore[misc,name-defined]
    """TensorRT's IProfiler, handing each layer's time to the engine's receiver. Without a profiler,
    enqueue stays asynchronous; with one, TensorRT reports before execute_async_v3 returns."""

    def __init__(self, receiver: Any) -> None:
        trt.IProfiler.__init__(self)
        self._receiver = receiver

    def report_layer_time(self, layer_name: str, ms: float) -> None:
        self._receiver.report_layer_time(layer_name, ms)


class _TensorRTContext:
    """An execution context made as TensorRTRuntimeConfig::create_execution_context makes it in C++."""

    def __init__(self, engine: Any, options: ContextOptions) -> None:
        self._cache = None
        if hasattr(engine, "create_runtime_config"):
            config = engine.create_runtime_config()
            config.set_execution_context_allocation_strategy(allocation_strategy(options.allocation))
            if ENABLED_FEATURES.tensorrt_rtx:
                self._configure_rtx(config, options)
            self._context = engine.create_execution_context(config)
        else:
            self._context = engine.create_execution_context(allocation_strategy(options.allocation))
        if self._context is None:
            raise RuntimeError("TensorRT could not create an execution context (see the TensorRT log)")

    def _configure_rtx(self, config: Any, options: ContextOptions) -> None:
        config.dynamic_shapes_kernel_specialization_strategy = getattr(
            trt.DynamicShapesKernelSpecializationStrategy,
            KERNEL_STRATEGY_NAMES[options.kernel_strategy],
        )
        config.cuda_graph_strategy = getattr(
            trt.CudaGraphStrategy,
            CUDA_GRAPH_STRATEGY_NAMES[options.cuda_graph_strategy],
        )
        if not options.use_runtime_cache:
            return
        cache = config.create_runtime_cache()
        if cache is None:
            raise RuntimeError("TensorRT-RTX could not create a runtime cache")
        # Both calls report refusal by returning False; the engine then retries with a fresh cache
        # (TRTEngine._create_context), so a cache from another version or GPU is never fatal.
        if options.runtime_cache and not cache.deserialize(options.runtime_cache):
            raise RuntimeCacheRejected(
                "TensorRT-RTX refused the runtime cache (another TensorRT-RTX version or device?)"
            )
        if not config.set_runtime_cache(cache):
            raise RuntimeCacheRejected("TensorRT-RTX could not attach the runtime cache")
        self._cache = cache

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        if not self._context.set_input_shape(name, tuple(shape)):
            raise ValueError(f"TensorRT rejected shape {tuple(shape)} for input {name}")

    def output_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._context.get_tensor_shape(name))

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self._context.set_tensor_address(name, tensor.data_ptr())

    def device_memory_size_for_shapes(self) -> int:
        return int(self._context.update_device_memory_size_for_shapes())

    def set_optimization_profile(self, index: int, stream: Any) -> bool:
        return bool(self._context.set_optimization_profile_async(index, stream.cuda_stream))

    def set_device_memory(self, memory: torch.Tensor, size: int) -> None:
        self._context.set_device_memory(memory.data_ptr(), size)

    def set_profiler(self, receiver: Any) -> bool:
        # TensorRT keeps a plain pointer to the profiler: the forwarder lives as long as this context.
        self._profiler = _LayerTimeForwarder(receiver)
        self._context.profiler = self._profiler
        return True

    def execute(self, stream: Any) -> None:
        if not self._context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("TensorRT failed to execute the engine (see the TensorRT log)")

    def serialize_runtime_cache(self) -> bytes | None:
        if self._cache is None:
            return None
        data = self._cache.serialize()
        return bytes(data) if data is not None else None


class _TensorRTEngine:
    def __init__(self, engine: Any) -> None:
        from torch_tensorrt._types import trt_to_torch_dtype

        self._engine = engine
        self.io_tensors = []
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            self.io_tensors.append(
                IOTensor(
                    name=name,
                    is_input=engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT,
                    dtype=trt_to_torch_dtype(engine.get_tensor_dtype(name)),
                    shape=tuple(engine.get_tensor_shape(name)),
                    host_input=engine.get_tensor_location(name) == trt.TensorLocation.HOST,
                )
            )

    def aliased_input(self, name: str) -> str | None:
        """The input whose memory output ``name`` is (a KV-cache update layer's output), else None."""
        return self._engine.get_aliased_input_tensor(name) or None

    def profile_shape(self, name: str, profile: int = 0) -> ShapeRange:
        lo, opt, hi = self._engine.get_tensor_profile_shape(name, profile)
        return tuple(lo), tuple(opt), tuple(hi)

    def profile_values(self, name: str, profile: int = 0) -> ShapeRange | None:
        """The (min, opt, max) values of shape-tensor input ``name`` in a profile; None for another input."""
        if not self._engine.is_shape_inference_io(name):
            return None
        found = self._engine.get_tensor_profile_values(profile, name)  # the profile index comes first
        if not found:
            return None  # no values set for this profile
        lo, opt, hi = found
        return tuple(lo), tuple(opt), tuple(hi)

    @property
    def num_optimization_profiles(self) -> int:
        return int(self._engine.num_optimization_profiles)

    @property
    def streamable_weights_size(self) -> int:
        return int(self._engine.streamable_weights_size)

    def weight_streaming_budget(self) -> int:
        return int(self._engine.weight_streaming_budget_v2)

    def set_weight_streaming_budget(self, budget: int) -> bool:
        # The binding's setter reports a refused budget only in the log; reading back tells.
        self._engine.weight_streaming_budget_v2 = budget
        return int(self._engine.weight_streaming_budget_v2) == budget

    def weight_streaming_automatic_budget(self) -> int:
        return int(self._engine.get_weight_streaming_automatic_budget())

    def create_context(self, options: ContextOptions) -> ExecutionContextHandle:
        return _TensorRTContext(self._engine, options)

    def layer_information(self) -> str:
        inspector = self._engine.create_engine_inspector()
        return str(inspector.get_engine_information(trt.LayerInformationFormat.JSON))


class TensorRTBackend:
    """Runs engines on a GPU with TensorRT."""

    name = "tensorrt"
    device_type = "cuda"

    def __init__(self) -> None:
        self._runtime: Any = None

    def load_engine(self, engine: bytes, name: str) -> EngineHandle:
        if not torch.cuda.is_available():
            raise NoUsableGPUError(
                f"cannot run TensorRT engine {name!r}: no usable CUDA GPU on this machine. "
                "Run the program on a machine with a supported GPU (TensorRT-RTX: compute capability "
                "8.0, 8.6, 8.9 or 12.x), or use torch_tensorrt.testing.emulated_runtime() to check "
                "it on the CPU."
            )
        if self._runtime is None:
            from torch_tensorrt._trt_logger import TRT_LOGGER

            self._runtime = trt.Runtime(TRT_LOGGER)
        refuse_emulated_plan(engine, name, "run")
        handle = self._runtime.deserialize_cuda_engine(engine)
        if handle is None:
            raise RuntimeError(
                f"TensorRT could not deserialize engine {name!r}: the engine bytes are corrupt or were "
                "built for another TensorRT version or GPU (see the TensorRT log)"
            )
        return _TensorRTEngine(handle)

    def refit_engine(self, engine: bytes, name: str, weights: Mapping[str, torch.Tensor]) -> bytes:
        require_gpu_for_refit(name)
        if self._runtime is None:
            from torch_tensorrt._trt_logger import TRT_LOGGER

            self._runtime = trt.Runtime(TRT_LOGGER)
        return refit_serialized_engine(self._runtime, engine, name, weights)


_REAL_BACKEND = TensorRTBackend()
_ACTIVE_BACKEND: contextvars.ContextVar[RuntimeBackend | None] = contextvars.ContextVar(
    "torch_tensorrt_runtime_backend", default=None
)


def current_backend() -> RuntimeBackend:
    return _ACTIVE_BACKEND.get() or _REAL_BACKEND


@contextlib.contextmanager
def use_backend(backend: RuntimeBackend) -> Iterator[RuntimeBackend]:
    token = _ACTIVE_BACKEND.set(backend)
    try:
        yield backend
    finally:
        _ACTIVE_BACKEND.reset(token)
