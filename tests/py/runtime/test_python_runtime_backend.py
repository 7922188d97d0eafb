"""The Python runtime's calls into TensorRT (dynamo/runtime/_runtime_backend.py) and what the engine
does with their results, up to the TensorRT call: a fake ``trt`` module records every call.

- The allocation strategy reaches TensorRT as in C++ (TensorRTRuntimeConfig::create_execution_context):
  runtime config first, then its allocation strategy, the RTX strategies, the runtime cache, and the
  context made from the config; "dynamic" is user-managed memory sized for each call's shapes.
- The booleans TensorRT-RTX returns for the runtime cache are checked: a cache it refuses is a
  RuntimeCacheWarning, moved aside, and the engine continues with a fresh cache, never an error.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from _contract_runtimes import adder_info

from torch_tensorrt._trt import override_features
from torch_tensorrt.dynamo.runtime import _runtime_backend
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, RuntimeCacheRejected
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine
from torch_tensorrt.runtime import RuntimeSettings
from torch_tensorrt.runtime._runtime_cache import RuntimeCache, RuntimeCacheWarning, decode, encode


def _enum(*names: str) -> SimpleNamespace:
    return SimpleNamespace(**{n: n for n in names})


FAKE_TRT = SimpleNamespace(
    ExecutionContextAllocationStrategy=_enum("STATIC", "ON_PROFILE_CHANGE", "USER_MANAGED"),
    DynamicShapesKernelSpecializationStrategy=_enum("LAZY", "EAGER", "NONE"),
    CudaGraphStrategy=_enum("DISABLED", "WHOLE_GRAPH_CAPTURE"),
)


class _Recorder:
    """ICudaEngine / IRuntimeConfig / IRuntimeCache / IExecutionContext stand-ins, one call log."""

    def __init__(self, *, deserialize_ok: bool = True, set_cache_ok: bool = True, has_config: bool = True) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.deserialize_ok, self.set_cache_ok = deserialize_ok, set_cache_ok
        if not has_config:  # TensorRT without IRuntimeConfig: the strategy goes to the context itself
            self.create_runtime_config = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        # Every method of every stand-in records its name and arguments; the few with results return them.
        results = {
            "create_runtime_config": self,
            "create_runtime_cache": self,
            "deserialize": self.deserialize_ok,
            "set_runtime_cache": self.set_cache_ok,
            "create_execution_context": self,
            "update_device_memory_size_for_shapes": 4096,
        }
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, *args)) or results.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.endswith("_strategy"):  # the RTX strategies are properties of IRuntimeConfig
            self.calls.append((f"{name} =", value))
        object.__setattr__(self, name, value)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def fake_trt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_runtime_backend, "trt", FAKE_TRT)
    with override_features(tensorrt_rtx=True):
        yield


def _context(recorder: _Recorder, **options: Any) -> Any:
    engine = recorder if recorder.create_runtime_config is not None else _NoConfigEngine(recorder)
    return _runtime_backend._TensorRTContext(engine, ContextOptions(**options))


class _NoConfigEngine:
    def __init__(self, recorder: _Recorder) -> None:
        self.create_execution_context = recorder.create_execution_context


@pytest.mark.parametrize(("allocation", "strategy"), [("static", "STATIC"), ("dynamic", "USER_MANAGED")])
def test_rtx_context_is_made_as_in_cpp(fake_trt: None, allocation: str, strategy: str) -> None:
    recorder = _Recorder()
    _context(recorder, allocation=allocation, kernel_strategy="eager", use_runtime_cache=True, runtime_cache=b"kernels")
    assert recorder.calls == [
        ("create_runtime_config",),
        ("set_execution_context_allocation_strategy", strategy),
        ("dynamic_shapes_kernel_specialization_strategy =", "EAGER"),
        ("cuda_graph_strategy =", "DISABLED"),
        ("create_runtime_cache",),
        ("deserialize", b"kernels"),
        ("set_runtime_cache", recorder),
        ("create_execution_context", recorder),
    ]


def test_standard_tensorrt_gets_the_allocation_strategy_only(fake_trt: None) -> None:
    recorder = _Recorder()
    with override_features(tensorrt_rtx=False):
        _context(recorder, allocation="dynamic", use_runtime_cache=True, runtime_cache=b"kernels")
    assert recorder.calls == [
        ("create_runtime_config",),
        ("set_execution_context_allocation_strategy", "USER_MANAGED"),
        ("create_execution_context", recorder),
    ]
    without_config = _Recorder(has_config=False)
    _context(without_config, allocation="dynamic")
    assert without_config.calls == [("create_execution_context", "USER_MANAGED")]


def test_refused_runtime_cache_is_reported_not_ignored(fake_trt: None) -> None:
    with pytest.raises(RuntimeCacheRejected, match="refused the runtime cache"):
        _context(_Recorder(deserialize_ok=False), use_runtime_cache=True, runtime_cache=b"other version")
    refused_set = _Recorder(set_cache_ok=False)
    with pytest.raises(RuntimeCacheRejected, match="could not attach"):
        _context(refused_set, use_runtime_cache=True)
    assert "create_execution_context" not in refused_set.names()
    fresh = _Recorder()
    _context(fresh, use_runtime_cache=True)  # nothing to deserialize: a fresh cache is attached
    assert "deserialize" not in fresh.names() and "set_runtime_cache" in fresh.names()


def test_device_memory_calls(fake_trt: None) -> None:
    recorder = _Recorder()
    context = _context(recorder, allocation="dynamic")
    assert context.device_memory_size_for_shapes() == 4096
    workspace = torch.empty(4096, dtype=torch.uint8)
    context.set_device_memory(workspace, 4096)
    assert recorder.calls[-2:] == [
        ("update_device_memory_size_for_shapes",),
        ("set_device_memory", workspace.data_ptr(), 4096),
    ]


# --- the engine, on a recording backend (the protocol of _runtime_backend) -------------------------


class _AdderContext:
    def __init__(self, backend: _RecordingBackend, options: ContextOptions) -> None:
        self.backend, self.options = backend, options
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.bound: dict[str, torch.Tensor] = {}
        self.memory: tuple[torch.Tensor, int] | None = None

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        self.shapes[name] = tuple(shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self.shapes["x"]

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor

    def device_memory_size_for_shapes(self) -> int:
        return 1000 * self.shapes["x"][0]  # scratch memory grows with the batch

    def set_device_memory(self, memory: torch.Tensor, size: int) -> None:
        self.memory = (memory, size)
        self.backend.memory_sets.append((self.shapes["x"], size, memory.numel()))

    def execute(self, stream: object) -> None:
        if self.options.allocation == "dynamic":
            # As TensorRT: a user-managed context fails without memory for the current shapes.
            assert self.memory is not None and self.memory[1] >= self.device_memory_size_for_shapes()
            self.memory = None
        self.bound["z"].copy_(self.bound["x"] + self.bound["y"])

    def serialize_runtime_cache(self) -> bytes | None:
        return b"GOOD fresh kernels" if self.options.use_runtime_cache else None


class _AdderEngine:
    io_tensors = [
        IOTensor("x", True, torch.float32, (-1, 3)),
        IOTensor("y", True, torch.float32, (-1, 3)),
        IOTensor("z", False, torch.float32, (-1, 3)),
    ]

    def __init__(self, backend: _RecordingBackend) -> None:
        self.backend = backend

    def profile_shape(self, name: str) -> tuple:
        return (0, 3), (2, 3), (64, 3)

    def create_context(self, options: ContextOptions) -> _AdderContext:
        self.backend.attempts.append(options)
        if options.use_runtime_cache and (self.backend.refuse_all or (options.runtime_cache or b"GOOD")[:4] != b"GOOD"):
            raise RuntimeCacheRejected(
                "TensorRT-RTX refused the runtime cache (another TensorRT-RTX version or device?)"
            )
        return _AdderContext(self.backend, options)


class _RecordingBackend:
    name = "recording"
    device_type = "cpu"

    def __init__(self, refuse_all: bool = False) -> None:
        self.refuse_all = refuse_all
        self.attempts: list[ContextOptions] = []
        self.memory_sets: list[tuple[tuple[int, ...], int, int]] = []

    def load_engine(self, engine: bytes, name: str) -> _AdderEngine:
        return _AdderEngine(self)


def _run(engine: TRTEngine, batch: int) -> None:
    x = torch.full((batch, 3), 2.0)
    (z,) = engine.execute([x, x])
    assert torch.equal(z, x * 2)


@pytest.mark.parametrize("allocation", ["static", "dynamic"])
def test_dynamic_allocation_hands_memory_sized_per_shape(allocation: str) -> None:
    backend = _RecordingBackend()
    engine = TRTEngine(dataclasses.replace(adder_info(), resource_allocation_strategy=allocation), backend=backend)
    engine.set_runtime_settings(RuntimeSettings(runtime_cache=None))  # not the default file other tests fill
    for batch in (2, 5, 2):
        _run(engine, batch)
    assert [o.allocation for o in backend.attempts] == [allocation]
    if allocation == "static":
        assert backend.memory_sets == []
    else:
        assert backend.memory_sets == [((2, 3), 2000, 2000), ((5, 3), 5000, 5000), ((2, 3), 2000, 2000)]


def test_rejected_cache_file_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    path.write_bytes(encode(b"FOREIGN kernels of another TensorRT-RTX"))
    backend = _RecordingBackend()
    engine = TRTEngine(adder_info(), backend=backend)
    engine.set_runtime_settings(RuntimeSettings(runtime_cache=str(path)))
    with override_features(tensorrt_rtx=True), pytest.warns(RuntimeCacheWarning, match="rejected"):
        _run(engine, 2)
    assert [(o.use_runtime_cache, o.runtime_cache) for o in backend.attempts] == [
        (True, b"FOREIGN kernels of another TensorRT-RTX"),
        (True, None),  # the retry: a fresh cache, never the refused bytes again
    ]
    (aside,) = tmp_path.glob("kernels.cache.corrupt-*")
    assert decode(aside.read_bytes()).startswith(b"FOREIGN")
    assert not path.exists()
    _run(engine, 2)
    assert len(backend.attempts) == 2, "the context is kept"
    engine.close()
    assert decode(path.read_bytes()) == b"GOOD fresh kernels", "the fresh cache is saved in its place"


def test_rejected_in_memory_cache_warns_and_starts_fresh() -> None:
    cache = RuntimeCache("")
    cache.update(b"FOREIGN")
    backend = _RecordingBackend()
    engine = TRTEngine(adder_info(), backend=backend)
    engine.set_runtime_cache(cache)
    with override_features(tensorrt_rtx=True), pytest.warns(RuntimeCacheWarning, match="was rejected"):
        _run(engine, 3)
    assert backend.attempts[-1].use_runtime_cache and backend.attempts[-1].runtime_cache is None


def test_cache_that_cannot_be_attached_runs_without_one() -> None:
    backend = _RecordingBackend(refuse_all=True)
    engine = TRTEngine(adder_info(), backend=backend)
    engine.set_runtime_cache(RuntimeCache(""))
    with override_features(tensorrt_rtx=True), pytest.warns(RuntimeCacheWarning, match="without a runtime cache"):
        _run(engine, 2)
    assert [o.use_runtime_cache for o in backend.attempts] == [True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(engine, 4)  # reported once: the context without a cache is kept
