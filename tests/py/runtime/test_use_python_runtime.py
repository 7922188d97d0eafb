"""``use_python_runtime`` (a compile setting, as in Torch-TensorRT) picks the runtime of a compiled program.

True runs every engine on the Python runtime even when the C++ runtime runs engines; False requires the
C++ runtime (a ValueError at compile time without it); None takes the C++ runtime when it can run
engines. Routing is checked with the C++ fake backend selected (tests/core/fake_backend.cpp, which
refuses real engines, so a call that reaches it says so) and the Python runtime on the emulator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine
from torch_tensorrt.runtime import engines_of
from torch_tensorrt.testing import emulated_runtime
from torch_tensorrt.testing._emulated_runtime import EmulatedBackend, EmulationStore

if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
    from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

SETTINGS = (True, False, None)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).eval()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulation")


@pytest.fixture(scope="module")
def programs(store: Path) -> dict[bool | None, torch.nn.Module]:
    """One compiled program per setting (False only where the C++ runtime is loaded)."""
    compiled = {}
    with emulated_runtime(store):
        for setting in SETTINGS:
            if setting is False and not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
                continue
            compiled[setting] = torch_tensorrt.compile(
                _model(), ir="dynamo", inputs=[torch.randn(2, 8)], min_block_size=1, use_python_runtime=setting
            )
    return compiled


def _segments(program: torch.nn.Module) -> list[TorchTensorRTModule]:
    found = [m for m in program.modules() if isinstance(m, TorchTensorRTModule)]
    assert found, "the program has no TensorRT segment"
    return found


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_segment_gets_the_setting(programs: dict, setting: bool | None) -> None:
    if setting not in programs:
        pytest.skip("use_python_runtime=False needs the C++ runtime")
    assert [s.use_python_runtime for s in _segments(programs[setting])] == [setting]


@pytest.fixture
def without_cpp_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    features = dataclasses.replace(_trt.ENABLED_FEATURES, torch_tensorrt_runtime=False)
    monkeypatch.setattr(_trt, "ENABLED_FEATURES", features)


def test_false_without_cpp_runtime_is_refused_before_compiling(
    without_cpp_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_compile(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the setting must be refused before the model is traced")

    monkeypatch.setattr("torch_tensorrt.dynamo._compiler.trace_and_compile", no_compile)
    with pytest.raises(ValueError, match=r"use_python_runtime=False needs the C\+\+ runtime \(torch_tensorrt._C\)"):
        torch_tensorrt.compile(_model(), ir="dynamo", inputs=[torch.randn(2, 8)], use_python_runtime=False)
    with pytest.raises(ValueError, match="use_python_runtime=False"):
        CompilationSettings(use_python_runtime=False)
    for allowed in (True, None):
        assert CompilationSettings(use_python_runtime=allowed).use_python_runtime is allowed


@pytest.fixture
def cpp_runs_engines(request: pytest.FixtureRequest) -> None:
    """The C++ runtime runs every execute_engine call, on its fake backend."""
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        pytest.skip("the C++ runtime torch_tensorrt._C is not built")
    request.getfixturevalue("cpp_fake")


@pytest.fixture
def python_emulator(store: Path) -> Iterator[EmulatedBackend]:
    """The Python runtime's backend: the emulator (the C++ runtime keeps its fake backend)."""
    backend = EmulatedBackend(EmulationStore(store))
    with use_backend(backend):
        yield backend


def test_true_runs_on_the_python_engine_while_cpp_runs_engines(
    cpp_runs_engines: None, python_emulator: EmulatedBackend, programs: dict
) -> None:
    program, x = programs[True], torch.randn(2, 8)
    with torch.no_grad():
        torch.testing.assert_close(program(x), _model()(x), rtol=1e-4, atol=1e-4)
    (segment,) = _segments(program)
    assert not segment.runs_in_cpp()
    (engine,) = engines_of(program)
    assert isinstance(engine, TRTEngine) and engine.backend is python_emulator
    assert [c.executions for e in python_emulator.engines for c in e.contexts] == [1]
    assert torch.ops.tensorrt._engine_registry_size() == 0, "the C++ runtime never saw the engine"


@pytest.mark.parametrize("setting", [False, None])
def test_false_and_none_run_on_the_cpp_engine(
    cpp_runs_engines: None, python_emulator: EmulatedBackend, programs: dict, setting: bool | None
) -> None:
    program = programs[setting]
    (segment,) = _segments(program)
    assert segment.runs_in_cpp()
    # The fake backend refuses real engines: reaching it proves the call went to the C++ engine.
    with pytest.raises(RuntimeError, match="fake backend: not a fake engine"), torch.no_grad():
        program(torch.randn(2, 8))
    cpp_engine = torch.ops.tensorrt.get_engine(segment.serialized_engine, segment.engine_info)
    assert cpp_engine.backend_name() == "fake"
    assert segment._engine is None and not python_emulator.engines, "the Python runtime never ran it"
