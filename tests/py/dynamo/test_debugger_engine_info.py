"""Debugger: DETAILED profiling verbosity for the builds in its block, save_layer_info's files (engine
inspector JSON through the runtime backend; emulated here, the real backend needs a GPU) and
save_engine_profile's per-layer traces on both runtimes (emulated: one record per layer the reference
executor evaluates, with its measured time; TensorRT's IProfiler needs a GPU)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _engine_build
from torch_tensorrt.dynamo.debug._engine_profile import ENGINE_PROFILE_DIR
from torch_tensorrt.dynamo.debug._layer_info import LATEST_LAYER_INFO_FILE, layer_info_file
from torch_tensorrt.testing import _emulated_cpp_runtime, emulated_runtime


class _TwoEngines(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(x * 2 + 1)
        y = torch.sigmoid(y)  # runs in PyTorch (torch_executed_ops): the graph becomes two engines
        return torch.tanh(y - 3) * 4


def _compile(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    return torch_tensorrt.compile(
        model, inputs=[x], min_block_size=1, torch_executed_ops={"torch.ops.aten.sigmoid.default"}
    )


def test_layer_info_files_name_every_layer_of_every_engine(tmp_path: Path) -> None:
    x = torch.randn(2, 3)
    with emulated_runtime(persist=False) as backend:
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path), save_layer_info=True):
            compiled = _compile(_TwoEngines(), x)
        engines = [m for m in compiled.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
        assert len(engines) == 2
        for module in engines:
            engine = module.serialized_engine.numpy().tobytes()
            record = backend.store.get(engine, module.name)
            info = json.loads(Path(layer_info_file(str(tmp_path), module.name)).read_text())
            assert [layer["Name"] for layer in info["Layers"]] == [layer.name for layer in record.layers]
            assert [layer["LayerType"] for layer in info["Layers"]] == [layer.type for layer in record.layers]
            assert info["Bindings"] == [s.name for s in record.inputs] + list(record.outputs)
        # As Torch-TensorRT: engine_layer_info.json holds the last engine built.
        last = layer_info_file(str(tmp_path), compiled._compile_summary.engines[-1].name)
        assert (tmp_path / LATEST_LAYER_INFO_FILE).read_text() == Path(last).read_text()
        torch.testing.assert_close(compiled(x), _TwoEngines()(x), rtol=1e-5, atol=1e-5)


def test_layer_info_is_written_only_inside_the_block(tmp_path: Path) -> None:
    x = torch.randn(2, 3)
    with emulated_runtime(persist=False):
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path / "off")):
            _compile(_TwoEngines(), x)
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path / "on"), save_layer_info=True):
            pass
        _compile(_TwoEngines(), x)
    assert not list(tmp_path.glob("*/*.json"))


def test_real_backend_without_gpu_says_why_no_layer_info(tmp_path: Path) -> None:
    x = torch.randn(2, 3)
    with pytest.warns(UserWarning) as record:  # noqa: PT031 - the compile is what warns
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path), save_layer_info=True):
            _compile(_TwoEngines(), x)
    written = list(tmp_path.glob("*.json"))
    if torch.cuda.is_available():
        assert (tmp_path / LATEST_LAYER_INFO_FILE).is_file()
    else:
        assert written == []
        assert any("needs a CUDA GPU" in str(w.message) for w in record), [str(w.message) for w in record]


def _verbosity_of_builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = _engine_build.apply_builder_settings

    def recording(config: Any, *args: Any, **kwargs: Any) -> None:
        real(config, *args, **kwargs)
        seen.append(config.profiling_verbosity)

    monkeypatch.setattr(_engine_build, "apply_builder_settings", recording)
    return seen


def test_builds_in_a_debugger_block_have_detailed_profiling_verbosity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _verbosity_of_builds(monkeypatch)
    x = torch.randn(2, 3)
    _compile(_TwoEngines(), x)
    assert seen == [trt.ProfilingVerbosity.LAYER_NAMES_ONLY] * 2
    seen.clear()
    with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path)):
        _compile(_TwoEngines(), x)
    assert seen == [trt.ProfilingVerbosity.DETAILED] * 2
    seen.clear()
    _compile(_TwoEngines(), x)
    assert seen == [trt.ProfilingVerbosity.LAYER_NAMES_ONLY] * 2


def _trace(directory: Path, engine: str) -> Any:
    return json.loads((directory / ENGINE_PROFILE_DIR / f"{engine}_engine_execution_profile.trace").read_text())


@pytest.mark.parametrize("use_python_runtime", [True, False], ids=["python", "cpp"])
@pytest.mark.parametrize("profile_format", ["perfetto", "trex"])
def test_engine_profiles_name_every_layer_of_every_engine(
    tmp_path: Path, use_python_runtime: bool, profile_format: str
) -> None:
    if not use_python_runtime and not _emulated_cpp_runtime.available():
        pytest.skip("the C++ runtime (with its DispatcherBackend) is not loaded")
    x = torch.randn(2, 3)
    with emulated_runtime(persist=False) as backend:
        with torch_tensorrt.dynamo.Debugger(
            "info", logging_dir=str(tmp_path), save_engine_profile=True, profile_format=profile_format
        ):
            compiled = torch_tensorrt.compile(
                _TwoEngines(),
                inputs=[x],
                min_block_size=1,
                torch_executed_ops={"torch.ops.aten.sigmoid.default"},
                use_python_runtime=use_python_runtime,
            )
        engines = [m for m in compiled.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
        assert len(engines) == 2 and all(m.profiling_enabled for m in engines)
        assert not (tmp_path / ENGINE_PROFILE_DIR).exists() or not list((tmp_path / ENGINE_PROFILE_DIR).iterdir())
        for _ in range(3):  # after the block, as in Torch-TensorRT: the modules keep profiling
            torch.testing.assert_close(compiled(x), _TwoEngines()(x), rtol=1e-5, atol=1e-5)
        for module in engines:
            assert module.runs_in_cpp() == (not use_python_runtime)
            record = backend.store.get(module.serialized_engine.numpy().tobytes(), module.name)
            trace = _trace(tmp_path, module.name)
            # Each layer once, in the order it ran (the reference executor's dependency order).
            assert sorted(e["name"] for e in trace) == sorted(layer.name for layer in record.layers)
            if profile_format == "perfetto":
                assert all(e["ph"] == "X" and e["dur"] >= 0 and e["args"]["runs"] == 3 for e in trace)
                assert [e["ts"] for e in trace] == sorted(e["ts"] for e in trace)
            else:
                assert all(e["timeMs"] >= 0 and e["averageMs"] * 3 == pytest.approx(e["timeMs"]) for e in trace)
                assert sum(e["percentage"] for e in trace) == pytest.approx(100.0)


def test_engine_profiles_only_for_engines_compiled_in_the_block(tmp_path: Path) -> None:
    x = torch.randn(2, 3)
    with emulated_runtime(persist=False):
        outside = _compile(_TwoEngines(), x)
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path)):  # save_engine_profile=False
            plain = _compile(_TwoEngines(), x)
        for compiled in (outside, plain):
            compiled(x)
            assert not any(
                m.profiling_enabled
                for m in compiled.modules()
                if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)
            )
    assert not (tmp_path / ENGINE_PROFILE_DIR).exists()


def test_save_engine_profile_no_longer_warns(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch_tensorrt.dynamo.Debugger(logging_dir=str(tmp_path), save_engine_profile=True, profile_format="trex")
    assert not any("save_engine_profile" in str(w.message) for w in record), [str(w.message) for w in record]
    with pytest.raises(ValueError, match="profile_format must be one of"):
        torch_tensorrt.dynamo.Debugger(logging_dir=str(tmp_path), save_engine_profile=True, profile_format="json")
