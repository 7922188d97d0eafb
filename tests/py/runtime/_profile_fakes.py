"""Fake engines with optimization profiles and streamable weights, on both runtimes.

The engine bytes are the text format of tests/core/fake_backend.cpp (``profile``, ``streamable`` and
``automatic_budget`` lines). The C++ runtime runs them on the C++ fake backend; the Python runtime on
``ProfileFakeBackend`` below, which mirrors it: a context starts on profile 0 and refuses input shapes
outside its active profile, and a weight budget is refused while a context of the engine is alive —
TensorRT's rules, so a runtime that forgets to switch profiles or to drop its context fails here.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import torch
from _contract_runtimes import on_runtime

from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, InputSpec, OutputSpec
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor
from torch_tensorrt.runtime import engines_of

# Profile 0: batch 1 only; profile 1: batch 4..16 (tuned at 8).
PROFILES = (((1, 3), (1, 3), (1, 3)), ((4, 3), (8, 3), (16, 3)))


def adder_engine(streamable: int = 0, automatic: int = -1, profiles: Sequence[Any] = PROFILES) -> bytes:
    lines = ["FAKE_TRT_ENGINE 1", "op add", "input x float32 -1,3", "input y float32 -1,3", "output z float32"]
    for index, shapes in enumerate(profiles):
        dims = " ".join(",".join(str(d) for d in s) for s in shapes)
        lines += [f"profile {index} x {dims}", f"profile {index} y {dims}"]
    if streamable:
        lines.append(f"streamable {streamable}")
    if automatic >= 0:
        lines.append(f"automatic_budget {automatic}")
    return ("\n".join(lines) + "\n").encode()


def adder_info(name: str = "adder", **engine: Any) -> EngineInfo:
    lo, hi = (1, 3), (16, 3)
    metadata = EngineMetadata(
        inputs=tuple(InputSpec(n, "float32", ("s0", 3), lo, (8, 3), hi) for n in ("x", "y")),
        outputs=(OutputSpec("z", "float32", ("s0", 3)),),
    )
    return EngineInfo(
        name=name, engine=adder_engine(**engine), input_names=("x", "y"), output_names=("z",), metadata=metadata
    )


def _parse(engine: bytes) -> tuple[list[dict[str, tuple[tuple[int, ...], ...]]], int, int]:
    profiles: dict[int, dict[str, tuple[tuple[int, ...], ...]]] = {}
    streamable, automatic = 0, -1
    for line in engine.decode().splitlines():
        words = line.split()
        if words and words[0] == "profile":
            shapes = tuple(tuple(int(d) for d in w.split(",")) for w in words[3:6])
            profiles.setdefault(int(words[1]), {})[words[2]] = shapes
        elif words and words[0] == "streamable":
            streamable = int(words[1])
        elif words and words[0] == "automatic_budget":
            automatic = int(words[1])
    return [profiles[k] for k in sorted(profiles)], streamable, automatic


class _FakeContext:
    def __init__(self, engine: _FakeEngine) -> None:
        self.engine, self.shapes, self.bound = engine, {}, {}
        self.profile, self.profile_switches = 0, 0

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        if self.engine.profiles:
            lo, _, hi = self.engine.profiles[self.profile][name]
            if any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                raise ValueError(f"TensorRT rejected shape {tuple(shape)} for input {name}")
        self.shapes[name] = tuple(shape)

    def set_optimization_profile(self, index: int, stream: object) -> bool:
        if not 0 <= index < max(len(self.engine.profiles), 1):
            return False
        self.profile, self.profile_switches = index, self.profile_switches + 1
        return True

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self.shapes["x"]

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor

    def execute(self, stream: object) -> None:
        self.bound["z"].copy_(self.bound["x"] + self.bound["y"])

    def serialize_runtime_cache(self) -> bytes | None:
        return None


class _FakeEngine:
    io_tensors = [IOTensor("x", True, torch.float32, (-1, 3)), IOTensor("y", True, torch.float32, (-1, 3)),
                  IOTensor("z", False, torch.float32, (-1, 3))]  # fmt: skip

    def __init__(self, engine: bytes) -> None:
        self.profiles, self.streamable_weights_size, automatic = _parse(engine)
        self._automatic = automatic if automatic >= 0 else self.streamable_weights_size
        self._budget = self.streamable_weights_size
        self._live: weakref.WeakSet[_FakeContext] = weakref.WeakSet()  # contexts not yet released

    @property
    def num_optimization_profiles(self) -> int:
        return max(len(self.profiles), 1)

    def profile_shape(self, name: str, profile: int = 0) -> tuple[tuple[int, ...], ...]:
        return self.profiles[profile][name]

    def create_context(self, options: ContextOptions) -> _FakeContext:
        context = _FakeContext(self)
        self._live.add(context)
        return context

    def weight_streaming_budget(self) -> int:
        return self._budget

    def set_weight_streaming_budget(self, budget: int) -> bool:
        if self.streamable_weights_size <= 0 or budget < 0 or len(self._live):
            return False  # no streaming, a negative budget, or a context alive: TensorRT refuses
        self._budget = min(budget, self.streamable_weights_size)
        return True

    def weight_streaming_automatic_budget(self) -> int:
        return self._automatic


class ProfileFakeBackend:
    name = "profile_fake"
    device_type = "cpu"

    def load_engine(self, engine: bytes, name: str) -> _FakeEngine:
        return _FakeEngine(engine)


class Runtime:
    """One runtime as the tests see it: modules on it and what their engines report."""

    def __init__(self, name: str) -> None:
        self.name = name

    def module(self, name: str = "adder", **engine: Any) -> TorchTensorRTModule:
        return TorchTensorRTModule(adder_info(name, **engine), use_python_runtime=self.name == "python")

    def run(self, module: torch.nn.Module, batch: int) -> None:
        x = torch.arange(batch * 3, dtype=torch.float32).reshape(batch, 3)
        torch.testing.assert_close(module(x, x), x * 2, rtol=0, atol=0)

    @staticmethod
    def engine(module: torch.nn.Module) -> Any:
        (engine,) = engines_of(module)
        return engine


@pytest.fixture(name="runtime", params=["python", "cpp"])
def profile_runtime_fixture(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """Each test once per runtime (the C++ one needs ``cpp_fake`` in the test module's namespace)."""
    yield from on_runtime(request, ProfileFakeBackend(), Runtime)
