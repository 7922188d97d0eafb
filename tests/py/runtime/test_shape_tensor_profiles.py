"""Optimization profiles of engines with shape-tensor inputs: the profile a call runs on is chosen by the
input shapes *and* the shape tensors' values, on both runtimes (each on its fake backend).

TensorRT bounds a shape tensor's values per profile (``set_shape_input``), so two profiles can take the
same shapes and different values; a runtime choosing by shapes alone runs the call on a profile whose
context refuses the values (the fakes refuse them as TensorRT does).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import torch
from _contract_runtimes import on_runtime
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, InputSpec, OutputSpec
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor
from torch_tensorrt.runtime import engines_of

# Both profiles take x of shape (5,); rows takes values 1..4 in profile 0 and 5..8 in profile 1.
VALUE_RANGES = {0: ((1,), (2,), (4,)), 1: ((5,), (6,), (8,))}

# The C++ fake backend's text format (tests/core/fake_backend.h): identity copies x to out.
ENGINE = (
    "FAKE_TRT_ENGINE 1\nop identity\ninput x float32 5\ninput rows int64 1 host\noutput out float32\n"
    + "".join(f"profile {p} x 5 5 5\nprofile {p} rows 1 1 1\n" for p in VALUE_RANGES)
    + "".join(f"values {p} rows {lo[0]} {opt[0]} {hi[0]}\n" for p, (lo, opt, hi) in VALUE_RANGES.items())
).encode()


def rows_info() -> EngineInfo:
    metadata = EngineMetadata(
        inputs=(
            InputSpec("x", "float32", (5,)),
            InputSpec("rows", "int64", (1,), shape_values=((1,), (4,), (8,))),
        ),
        outputs=(OutputSpec("out", "float32", (5,)),),
    )
    return EngineInfo(
        name="rows_engine", engine=ENGINE, input_names=("x", "rows"), output_names=("out",), metadata=metadata
    )


class _Context:
    """As the C++ fake: starts on profile 0; values outside the active profile fail the run."""

    def __init__(self) -> None:
        self.profile, self.bound, self.shapes = 0, {}, {}

    def set_optimization_profile(self, index: int, stream: object) -> bool:
        self.profile = index
        return index in VALUE_RANGES

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        self.shapes[name] = tuple(shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self.shapes["x"]

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor

    def execute(self, stream: object) -> None:
        assert self.bound["rows"].device.type == "cpu", "a shape tensor is read from host memory"
        lo, _, hi = VALUE_RANGES[self.profile]
        (value,) = self.bound["rows"].tolist()
        if not lo[0] <= value <= hi[0]:
            raise RuntimeError(f"TensorRT: value {value} of rows is outside optimization profile {self.profile}")
        self.bound["out"].copy_(self.bound["x"])

    def serialize_runtime_cache(self) -> bytes | None:
        return None


class _Engine:
    io_tensors = [
        IOTensor("x", True, torch.float32, (5,)),
        IOTensor("rows", True, torch.int64, (1,), host_input=True),
        IOTensor("out", False, torch.float32, (5,)),
    ]
    num_optimization_profiles = len(VALUE_RANGES)

    def profile_shape(self, name: str, profile: int = 0) -> tuple[tuple[int, ...], ...]:
        return ((5,),) * 3 if name == "x" else ((1,),) * 3

    def profile_values(self, name: str, profile: int = 0) -> tuple[tuple[int, ...], ...] | None:
        return VALUE_RANGES[profile] if name == "rows" else None

    def create_context(self, options: ContextOptions) -> _Context:
        return _Context()


class _Backend:
    name = "shape_profile_fake"
    device_type = "cpu"

    def load_engine(self, engine: bytes, name: str) -> _Engine:
        assert engine == ENGINE
        return _Engine()


class Runtime:
    def __init__(self, name: str) -> None:
        self.name = name

    def module(self) -> TorchTensorRTModule:
        return TorchTensorRTModule(rows_info(), use_python_runtime=self.name == "python")


@pytest.fixture(name="runtime", params=["python", "cpp"])
def runtime_fixture(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    yield from on_runtime(request, _Backend(), Runtime)


def run(module: torch.nn.Module, rows: int) -> Any:
    x = torch.arange(5, dtype=torch.float32) * rows
    out = module(x, torch.tensor([rows]))
    torch.testing.assert_close(out, x, rtol=0, atol=0)


def test_profile_is_chosen_by_shape_tensor_values(runtime: Runtime) -> None:
    module = runtime.module()
    (engine,) = engines_of(module)
    for rows in (6, 2, 8, 4, 5, 1):
        run(module, rows)
        assert engine.active_optimization_profile == (1 if rows >= 5 else 0), rows


def test_forced_profile_refuses_values_only_another_profile_takes(runtime: Runtime) -> None:
    module = runtime.module()
    (engine,) = engines_of(module)
    engine.set_optimization_profile(0)
    expected = (
        "inputs of engine 'rows_engine' have shapes x=(5,), rows=(1,) values (7,), outside optimization profile 0 "
        "selected with optimization_profile(): profile 0: x min (5,) max (5,), rows min (1,) max (1,) values min "
        "(1,) max (4,). Select a profile containing them, or 'auto' to run on the first profile that does."
    )
    with pytest.raises(ValueError) as refused:
        run(module, 7)
    assert expected in str(refused.value)
    run(module, 3)
