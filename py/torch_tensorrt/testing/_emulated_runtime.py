"""``emulated_runtime()``: run engines on CPU through the reference executor.

Engines built inside the scope have their network recorded (keyed by the SHA-256 of the engine
bytes) in an emulation store on disk, so a program saved in one process can be emulated when it
is loaded in another. Both runtimes run unchanged: only the one place that would call TensorRT is
replaced by the classes below, on the Python runtime as its runtime backend, on the C++ runtime
through a DispatcherBackend whose ops call these classes (``_emulated_cpp_runtime``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS, NetworkBuilt
from torch_tensorrt.dynamo.conversion._engine_build import REFITTABLE_BUILD_STAND_IN, shape_input_values
from torch_tensorrt.dynamo.runtime._execute_engine_op import python_runtime_delegate
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, ShapeRange, use_backend
from torch_tensorrt.testing import _emulated_cpp_runtime
from torch_tensorrt.testing._emulated_weights import refit_emulated_engine, refuse_stripped, stand_in_build
from torch_tensorrt.testing._reference import NetworkRecord, capture_network, execute_record
from torch_tensorrt.testing._reference._dtypes import torch_dtype
from torch_tensorrt.testing._reference._kv_cache import kv_cache_aliases


def default_store_dir() -> Path:
    configured = os.environ.get("TORCH_TENSORRT_EMULATION_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"torch_tensorrt_emulation_{os.getuid() if hasattr(os, 'getuid') else 'user'}"


class EmulationStore:
    """Network records by engine hash, in memory and in a directory."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._records: dict[str, NetworkRecord] = {}

    def put(self, engine: bytes, record: NetworkRecord) -> None:
        key = hashlib.sha256(engine).hexdigest()
        self._records[key] = record
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.directory / f"{key}.tmp{os.getpid()}"
            tmp.write_bytes(record.to_bytes())
            os.replace(tmp, self.directory / f"{key}.network")

    def contains(self, engine: bytes) -> bool:
        """Whether a record for ``engine`` is here, without reading it (a record can be 100s of MB)."""
        key = hashlib.sha256(engine).hexdigest()
        return key in self._records or (self.directory is not None and (self.directory / f"{key}.network").is_file())

    def get(self, engine: bytes, name: str) -> NetworkRecord:
        key = hashlib.sha256(engine).hexdigest()
        record = self._records.get(key)
        if record is None and self.directory is not None:
            path = self.directory / f"{key}.network"
            if path.exists():
                record = NetworkRecord.from_bytes(path.read_bytes())
                self._records[key] = record
        if record is None:
            raise RuntimeError(
                f"emulated runtime: engine {name!r} was not built under emulated_runtime() with this "
                f"store ({self.directory}); build it inside emulated_runtime() so its network is recorded"
            )
        return record


@dataclass
class EmulatedContext:
    """Stands in for an execution context with its runtime config applied."""

    record: NetworkRecord
    options: ContextOptions
    io: dict[str, IOTensor]
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    bound: dict[str, torch.Tensor] = field(default_factory=dict)
    _results: dict[str, torch.Tensor] | None = None
    kernels: set[str] = field(default_factory=set)
    executions: int = 0
    profile: int = 0  # the active optimization profile (a new context starts on 0, as in TensorRT)
    profile_switches: int = 0
    # Per-layer timing (TensorRT's IProfiler): the receiver, and the layer times of the pending results.
    profiler: Any = None
    _layer_times: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.options.runtime_cache:
            text = self.options.runtime_cache.decode("utf-8", errors="replace")
            self.kernels.update(k for k in text.split("\n")[1:] if k)

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        profiles = self.record.profiles
        # A shape tensor's profile entry bounds its values (checked in execute), not its static shape.
        if len(profiles) > 1 and name in profiles[self.profile] and not self.io[name].host_input:
            lo, _, hi = profiles[self.profile][name]
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                # TensorRT refuses a shape outside the context's active profile.
                raise ValueError(
                    f"TensorRT rejected shape {tuple(shape)} for input {name} (optimization profile {self.profile})"
                )
        self.shapes[name] = tuple(shape)
        self._results = None

    def set_optimization_profile(self, index: int, stream: Any) -> bool:
        if not 0 <= index < max(len(self.record.profiles), 1):
            return False
        self.profile = index
        self.profile_switches += 1
        return True

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor
        if self.io[name].is_input:
            self._results = None

    def set_profiler(self, receiver: Any) -> bool:
        self.profiler = receiver
        return True

    def _run(self) -> dict[str, torch.Tensor]:
        if self._results is None:
            inputs = {n: t for n, t in self.bound.items() if self.io[n].is_input}
            self._layer_times = []
            timing = self._layer_times if self.profiler is not None else None
            self._results = execute_record(self.record, inputs, timing)
        return self._results

    def output_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._run()[name].shape)

    def execute(self, stream: Any) -> None:
        self._check_shape_tensor_values()
        self._check_aliased_bindings()
        results = self._run()
        for name, value in results.items():
            self.bound[name].copy_(value)
        # JIT kernels are specialised per input shape; record them like TensorRT-RTX would.
        key = ";".join(f"{n}={self.shapes.get(n)}" for n in sorted(self.shapes))
        self.kernels.add(key)
        self.executions += 1
        self._results = None
        if self.profiler is not None:
            # As TensorRT: once per layer and run, before the enqueue returns (the network was
            # evaluated when output shapes were asked for, or just now).
            for name, ms in self._layer_times:
                self.profiler.report_layer_time(name, ms)

    def _check_aliased_bindings(self) -> None:
        """TensorRT requires an aliased output (a KV-cache update's) bound at its input's address: a runtime
        that allocated it instead would leave the caller's buffer unwritten on a GPU."""
        for output, source in kv_cache_aliases(self.record).items():
            bound, cache = self.bound.get(output), self.bound.get(source)
            if bound is None or cache is None or bound.data_ptr() != cache.data_ptr():
                raise RuntimeError(
                    f"TensorRT: output {output} aliases input {source} and must be bound to the same memory"
                )

    def _check_shape_tensor_values(self) -> None:
        """TensorRT fails a run whose shape-tensor values lie outside the active profile's."""
        profiles = self.record.profiles
        if len(profiles) <= 1:
            return
        for name, tensor in self.bound.items():
            if self.io[name].is_input and self.io[name].host_input and name in profiles[self.profile]:
                lo, _, hi = profiles[self.profile][name]
                values = [int(v) for v in tensor.reshape(-1).tolist()]
                if len(values) != len(lo) or any(not a <= v <= b for v, a, b in zip(values, lo, hi)):
                    raise RuntimeError(
                        f"TensorRT: values {tuple(values)} of shape tensor {name} are outside optimization "
                        f"profile {self.profile}"
                    )

    def serialize_runtime_cache(self) -> bytes | None:
        if not self.options.use_runtime_cache:
            return None
        return ("emulated-runtime-cache\n" + "\n".join(sorted(self.kernels))).encode()


class EmulatedEngine:
    """An engine of the emulated backend. Weight streaming: the streamable bytes of an engine built with
    WEIGHT_STREAMING are its layers' weights; the automatic budget is that, capped by the backend's
    ``weight_memory_limit`` (TensorRT's: free device memory, capped to the streamable bytes)."""

    def __init__(self, record: NetworkRecord, weight_memory_limit: int | None = None) -> None:
        self.record = record
        self.contexts: list[EmulatedContext] = []
        streamable = 0
        if "WEIGHT_STREAMING" in record.builder_flags:
            for layer in record.layers:
                streamable += sum(
                    v.numel() * v.element_size() for v in layer.params.values() if isinstance(v, torch.Tensor)
                )
        self.streamable_weights_size = streamable
        self._automatic = streamable if weight_memory_limit is None else min(streamable, weight_memory_limit)
        self._budget = streamable  # TensorRT's default: every weight on the device (no streaming)
        dtypes = {spec.name: spec.dtype for layer in record.layers for spec in layer.outputs}
        dtypes.update({spec.name: spec.dtype for spec in record.inputs})
        self.io_tensors = [
            IOTensor(s.name, True, torch_dtype(s.dtype), tuple(s.shape), host_input=s.is_shape_tensor)
            for s in record.inputs
        ]
        self.io_tensors += [IOTensor(n, False, torch_dtype(dtypes[n]), ()) for n in record.outputs]

    @property
    def num_optimization_profiles(self) -> int:
        return max(len(self.record.profiles), 1)

    def weight_streaming_budget(self) -> int:
        return self._budget

    def set_weight_streaming_budget(self, budget: int) -> bool:
        if self.streamable_weights_size <= 0 or budget < 0:
            return False  # TensorRT refuses: no streaming, or a negative budget
        self._budget = min(budget, self.streamable_weights_size)
        return True

    def weight_streaming_automatic_budget(self) -> int:
        return self._automatic

    def aliased_input(self, name: str) -> str | None:
        # TensorRT's get_aliased_input_tensor: the cache input of the KV-cache update layer making ``name``.
        return kv_cache_aliases(self.record).get(name)

    def profile_shape(self, name: str, profile: int = 0) -> ShapeRange:
        spec = next(s for s in self.record.inputs if s.name == name)
        if spec.is_shape_tensor:
            # Its profile entry holds its values (profile_values); its own shape is static.
            return tuple(spec.shape), tuple(spec.shape), tuple(spec.shape)
        for candidate in self.record.profiles[profile:]:
            if name in candidate:
                lo, opt, hi = candidate[name]
                return tuple(lo), tuple(opt), tuple(hi)
        return tuple(spec.shape), tuple(spec.shape), tuple(spec.shape)

    def profile_values(self, name: str, profile: int = 0) -> ShapeRange | None:
        """TensorRT's get_tensor_profile_values: a shape-tensor input's value range in ``profile``."""
        spec = next(s for s in self.record.inputs if s.name == name)
        if (
            not spec.is_shape_tensor
            or profile >= len(self.record.profiles)
            or name not in self.record.profiles[profile]
        ):
            return None
        lo, opt, hi = self.record.profiles[profile][name]
        return tuple(lo), tuple(opt), tuple(hi)

    def layer_information(self) -> str:
        """TensorRT's engine-inspector JSON (``{"Layers": [...], "Bindings": [...]}``) for the recorded
        network: the network's layers, not the fused kernels a real engine reports."""
        layers = [
            {
                "Name": layer.name,
                "LayerType": layer.type,
                "Inputs": [{"Name": name} for name in layer.inputs if name is not None],
                "Outputs": [
                    {"Name": out.name, "Dimensions": list(out.shape), "Format/Datatype": out.dtype}
                    for out in layer.outputs
                ],
                "Precision": layer.precision,
            }
            for layer in self.record.layers
        ]
        return json.dumps({"Layers": layers, "Bindings": [t.name for t in self.io_tensors]}, indent=2)

    def create_context(self, options: ContextOptions) -> EmulatedContext:
        context = EmulatedContext(self.record, options, {t.name: t for t in self.io_tensors})
        self.contexts.append(context)
        return context


class EmulatedBackend:
    name = "emulated"
    device_type = "cpu"

    def __init__(self, store: EmulationStore, weight_memory_limit: int | None = None) -> None:
        self.store = store
        self.engines: list[EmulatedEngine] = []
        # Device memory for streamable weights (None: unlimited); caps the automatic budget.
        self.weight_memory_limit = weight_memory_limit

    def load_engine(self, engine: bytes, name: str) -> EmulatedEngine:
        refuse_stripped(engine, name)
        handle = EmulatedEngine(self.store.get(engine, name), self.weight_memory_limit)
        self.engines.append(handle)
        return handle

    def refit_engine(self, engine: bytes, name: str, weights: Mapping[str, torch.Tensor]) -> bytes:
        """New engine bytes whose network record holds ``weights`` (see _emulated_weights)."""
        return refit_emulated_engine(self.store, engine, name, weights)


def _cpp_runtime_on(backend: EmulatedBackend) -> contextlib.AbstractContextManager[None]:
    """The C++ runtime's side of the block: its engines run on ``backend`` too. A C++ runtime built
    before DispatcherBackend hands its calls to the (emulated) Python runtime instead."""
    if _emulated_cpp_runtime.available():
        return _emulated_cpp_runtime.cpp_emulation(backend)
    return python_runtime_delegate()  # a no-op without the C++ runtime


@contextlib.contextmanager
def emulated_runtime(
    store_dir: str | os.PathLike[str] | None = None, *, persist: bool = True
) -> Iterator[EmulatedBackend]:
    """Within this scope engines run on CPU through the reference executor.

    Both runtimes are emulated: a program compiled with ``use_python_runtime=True`` runs on the
    Python engine; with False (or None while the C++ runtime is loaded) every call goes through the
    C++ engine class and ``execute_engine`` with only the TensorRT calls replaced, and so do the
    ``execute_engine`` calls of loaded programs.

    The scope is the calls made inside it, not the engines: each call runs on the backend active for
    it, so a module run here runs on the real runtime after the block, and a module whose earlier
    run failed (no GPU) runs here. Each block is a new backend; an engine recreates its execution
    context on the first call of each block. On the C++ runtime the selection is process-wide (it has
    one selected backend), so C++ calls made by other threads during the block are emulated too.

    Refittable engines (``immutable_weights=False``, ``strip_engine_weights=True``), which TensorRT-RTX
    builds only with a GPU, are stood in for here and refit on their records (``_emulated_weights``).

    Engines built here record their networks in ``store_dir`` (default: a per-user temp
    directory, or ``$TORCH_TENSORRT_EMULATION_DIR``) so that programs saved here can be loaded and
    run under emulation in another process. ``persist=False`` keeps records in memory only.
    """
    directory = None if not persist else Path(store_dir) if store_dir is not None else default_store_dir()
    backend = EmulatedBackend(EmulationStore(directory))

    def observe(event: NetworkBuilt) -> None:
        profiles = event.profiles or [event.profile]
        # A shape-tensor input's profile bounds its values (set_shape_input), as in the built engine.
        values = shape_input_values(event.network)
        shapes = [{n: tuple(list(b) for b in values.get(n, r)) for n, r in p.items()} for p in profiles]
        record = capture_network(event.network, shapes)
        record.builder_flags = ["WEIGHT_STREAMING"] if event.weight_streaming else []
        backend.store.put(event.engine, record)

    # First, so that observers after it (Debugger(save_layer_info=True)) can load the engine here.
    NETWORK_BUILD_OBSERVERS.insert(0, observe)
    stand_in = REFITTABLE_BUILD_STAND_IN.set(stand_in_build)
    try:
        with use_backend(backend), _cpp_runtime_on(backend):
            yield backend
    finally:
        REFITTABLE_BUILD_STAND_IN.reset(stand_in)
        NETWORK_BUILD_OBSERVERS.remove(observe)
