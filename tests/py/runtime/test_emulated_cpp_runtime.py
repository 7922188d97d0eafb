"""``emulated_runtime()`` on both runtimes: compile → run → save → load → run with real numerics.

With ``use_python_runtime=False`` a compiled program runs through the C++ engine class
(``torch.classes.tensorrt.Engine``) and ``execute_engine.cpp`` on the C++ runtime's DispatcherBackend,
whose only replaced step is the TensorRT call (the emulator's ops, testing/_emulated_cpp_runtime.py);
with ``True`` it runs on the Python engine. Each test asserts which engine ran, so a path that silently
fell back to the other runtime fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import _execute_engine_op
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.runtime import engines_of
from torch_tensorrt.runtime._modes import OUTER_CAPTURE
from torch_tensorrt.testing import DEFAULT_TOLERANCES, _emulated_cpp_runtime, emulated_runtime

RTOL, ATOL = DEFAULT_TOLERANCES[torch.float32]
USE_PYTHON_RUNTIME = {"python": True, "cpp": False}
OPS = torch.ops.tensorrt


@pytest.fixture(params=list(USE_PYTHON_RUNTIME))
def runtime(request: pytest.FixtureRequest) -> str:
    if request.param == "cpp" and not _emulated_cpp_runtime.available():
        pytest.skip("the C++ runtime (with its DispatcherBackend) is not loaded")
    return request.param


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).eval()


def _compile(model: torch.nn.Module, inputs: list[Any], runtime: str) -> torch.nn.Module:
    return torch_tensorrt.compile(
        model, ir="dynamo", inputs=inputs, min_block_size=1, use_python_runtime=USE_PYTHON_RUNTIME[runtime]
    )


def _check(got: torch.Tensor, model: torch.nn.Module, x: torch.Tensor) -> None:
    torch.testing.assert_close(got, model(x), rtol=RTOL, atol=ATOL)


def _cpp_executions(tensor: torch.Tensor, info: list[str]) -> int:
    """Executions of the C++ engine of this engine tensor (0 if it never ran, or no C++ runtime)."""
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        return 0
    return int(OPS.get_engine(tensor, info).stats()["executions"])


def _assert_module_ran(runtime: str, compiled: torch.nn.Module, backend: Any, calls: int) -> None:
    (segment,) = [m for m in compiled.modules() if isinstance(m, TorchTensorRTModule)]
    assert segment.runs_in_cpp() == (runtime == "cpp")
    (engine,) = engines_of(compiled)
    if runtime == "cpp":
        assert engine.engine.backend_name() == backend.name == "emulated"
        assert engine.engine.stats()["executions"] == calls
        assert segment._engine is None, "the Python engine was never created"
    else:
        assert engine.backend is backend and engine.contexts_created == 1
        assert _cpp_executions(segment.serialized_engine, segment.engine_info) == 0
    # Either way the block's emulator did the arithmetic, in one context.
    assert [c.executions for e in backend.engines for c in e.contexts] == [calls]


def _loaded_runtime(runtime: str) -> contextlib.AbstractContextManager[None]:
    """A loaded program calls the op, which the C++ runtime runs when it is loaded, as in Torch-TensorRT;
    the Python runtime runs it when asked to (python_runtime_delegate) or without the C++ runtime."""
    return _execute_engine_op.python_runtime_delegate() if runtime == "python" else contextlib.nullcontext()


def _assert_program_ran(runtime: str, program: torch.nn.Module, backend: Any, calls: int) -> None:
    ((tensor, info),) = _execute_engine_op.engine_calls(program)
    if runtime == "cpp":
        assert OPS.get_engine(tensor, info).backend_name() == "emulated"
        assert _cpp_executions(tensor, info) == calls
    else:
        assert _execute_engine_op.engine_for(tensor, info).backend is backend
        assert _cpp_executions(tensor, info) == 0


def _save_load_run(
    runtime: str, compiled: torch.nn.Module, model: torch.nn.Module, batches: list[torch.Tensor], path: Path
) -> None:
    torch_tensorrt.save(compiled, path)
    program = torch_tensorrt.load(path).module()
    with emulated_runtime(path.parent / "store") as backend, _loaded_runtime(runtime), torch.no_grad():
        for x in batches:
            _check(program(x), model, x)
    _assert_program_ran(runtime, program, backend, len(batches))


def test_compile_run_save_load_run(runtime: str, tmp_path: Path) -> None:
    model = _model()
    x = torch.randn(2, 8)
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        compiled = _compile(model, [x], runtime)
        _check(compiled(x), model, x)
        _check(compiled(x + 1), model, x + 1)
        _assert_module_ran(runtime, compiled, backend, calls=2)
    _save_load_run(runtime, compiled, model, [x, -x], tmp_path / "static.pt2")


def test_dynamic_shapes_compile_run_save_load_run(runtime: str, tmp_path: Path) -> None:
    model = _model()
    spec = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(8, 8))
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        compiled = _compile(model, [spec], runtime)
        for batch in (1, 3, 8):
            x = torch.randn(batch, 8)
            _check(compiled(x), model, x)
        _assert_module_ran(runtime, compiled, backend, calls=3)
        with pytest.raises(ValueError, match="outside the range the engine was built for"):
            compiled(torch.randn(9, 8))
    _save_load_run(runtime, compiled, model, [torch.randn(5, 8), torch.randn(2, 8)], tmp_path / "dynamic.pt2")


def test_outputs_through_the_output_allocator(runtime: str, tmp_path: Path) -> None:
    """An engine whose info asks for an output allocator (data-dependent shapes): the C++ runtime
    allocates each output when the engine reports its size (the emulator's results copied into it)."""
    model = _model()
    x = torch.randn(2, 8)
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        (segment,) = [m for m in _compile(model, [x], runtime).modules() if isinstance(m, TorchTensorRTModule)]
        info = EngineInfo.from_list(_execute_engine_op.join_engine_info(segment.serialized_engine, segment.engine_info))
        allocating = TorchTensorRTModule(
            dataclasses.replace(info, requires_output_allocator=True), use_python_runtime=USE_PYTHON_RUNTIME[runtime]
        )
        for data in (x, -x):
            _check(allocating(data), model, data)
        if runtime == "cpp":
            (engine,) = engines_of(allocating)
            assert engine.engine.stats()["executions"] == 2
            assert engine.engine.last_capture_decision() == "no_capture"
    assert [c.executions for e in backend.engines for c in e.contexts] == [2]


# --------------------------------------------------------------------------------------------------
# The C++ engine's own logic, on the emulated backend
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def cpp_only() -> None:
    if not _emulated_cpp_runtime.available():
        pytest.skip("the C++ runtime (with its DispatcherBackend) is not loaded")


def _cpp_engine(compiled: torch.nn.Module) -> Any:
    (controls,) = engines_of(compiled)
    return controls.engine


def test_cpp_runtime_cache_holds_the_emulator_kernels_after_the_block(cpp_only: None, tmp_path: Path) -> None:
    """The C++ engine keeps the kernels of a block's context after the block (when the emulator is
    gone) and saves them to its cache file: the context's cache is handed over when the block ends."""
    model = _model()
    spec = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(2, 8), max_shape=(8, 8))
    cache = tmp_path / "engine.cache"
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = _compile(model, [spec], "cpp")
        engine = _cpp_engine(compiled)
        engine.set_runtime_cache_path(str(cache))
        for batch in (2, 3):
            compiled(torch.randn(batch, 8))
    payload = engine.get_runtime_cache_payload().numpy().tobytes()
    assert payload.startswith(b"emulated-runtime-cache\n")
    assert b"(2, 8)" in payload and b"(3, 8)" in payload
    assert engine.save_runtime_cache()
    assert b"(3, 8)" in cache.read_bytes()
    # A later block starts from those kernels: the C++ engine hands them to its new context.
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        compiled(torch.randn(4, 8))
    ((context,),) = [e.contexts for e in backend.engines]
    assert b"(3, 8)" in (context.options.runtime_cache or b"")


def test_cpp_settings_reach_the_emulated_context(cpp_only: None, tmp_path: Path) -> None:
    model = _model()
    x = torch.randn(2, 8)
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        compiled = _compile(model, [x], "cpp")
        with torch_tensorrt.runtime.runtime_config(compiled, dynamic_shapes_kernel_specialization_strategy="eager"):
            _check(compiled(x), model, x)
        _check(compiled(x), model, x)  # the settings changed back: one new context
    options = [c.options.kernel_strategy for e in backend.engines for c in e.contexts]
    assert options == ["eager", "lazy"]
    assert _cpp_engine(compiled).stats()["contexts_created"] == 2


def test_cpp_capture_decisions_on_the_emulated_backend(cpp_only: None, tmp_path: Path) -> None:
    """TensorRT-RTX native capture: the context is created with whole_graph_capture; an outer capture
    (whole-graph capture of a mixed module) records the engine with native capture off."""
    if not torch_tensorrt.ENABLED_FEATURES.tensorrt_rtx:
        pytest.skip("native CUDA graphs are a TensorRT-RTX feature")
    model = _model()
    x = torch.randn(2, 8)
    with emulated_runtime(tmp_path / "store") as backend, torch.no_grad():
        compiled = _compile(model, [x], "cpp")
        engine = _cpp_engine(compiled)
        with torch_tensorrt.runtime.set_cudagraphs_mode(True):
            _check(compiled(x), model, x)
        assert engine.last_capture_decision() == "rtx_native_capture"
        token = OUTER_CAPTURE.set(True)
        try:
            _check(compiled(x), model, x)
        finally:
            OUTER_CAPTURE.reset(token)
        assert engine.last_capture_decision() == "outer_whole_graph_capture"
    strategies = [c.options.cuda_graph_strategy for e in backend.engines for c in e.contexts]
    assert strategies == ["whole_graph_capture", "disabled"]


@contextlib.contextmanager
def _standard_tensorrt_emulation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The C++ DispatcherBackend of the next block behaves like standard TensorRT (no native capture)."""
    features = dataclasses.replace(_emulated_cpp_runtime.ENABLED_FEATURES, tensorrt_rtx=False)
    monkeypatch.setattr(_emulated_cpp_runtime, "ENABLED_FEATURES", features)
    yield


def test_cpp_torch_subgraph_capture_replays_with_new_data(
    cpp_only: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without native capture, subgraph mode captures the engine once per shape and replays the capture
    on the static buffers: a replay sees each call's new input data."""
    model = _model()
    x = torch.randn(2, 8)
    with _standard_tensorrt_emulation(monkeypatch), emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = _compile(model, [x], "cpp")
        engine = _cpp_engine(compiled)
        with torch_tensorrt.runtime.set_cudagraphs_mode(True):
            for data in (x, x * 3, -x):
                _check(compiled(data), model, data)
    assert engine.last_capture_decision() == "torch_subgraph_capture"
    stats = engine.stats()
    assert (stats["graph_captures"], stats["graph_replays"]) == (1, 2)
