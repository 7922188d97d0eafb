"""Debugger: DETAILED profiling verbosity for the builds in its block, and save_layer_info's files
(engine inspector JSON through the runtime backend; emulated here, the real backend needs a GPU)."""

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
from torch_tensorrt.dynamo.debug._layer_info import LATEST_LAYER_INFO_FILE, layer_info_file
from torch_tensorrt.testing import emulated_runtime


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


def test_engine_profile_is_warned_as_not_implemented(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch_tensorrt.dynamo.Debugger(logging_dir=str(tmp_path), save_engine_profile=True)
    assert any("save_engine_profile" in str(w.message) and "not implemented yet" in str(w.message) for w in record)
