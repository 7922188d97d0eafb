"""Loading a saved program validates every engine before anything runs; nothing in a file executes."""

from __future__ import annotations

import base64
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._engine_info import SERIALIZED_METADATA_IDX
from torch_tensorrt.testing import emulated_runtime


class _Small(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("saved")
    store = root / "store"
    with emulated_runtime(store):
        compiled = torch_tensorrt.compile(_Small().eval(), ir="dynamo", inputs=[torch.randn(2, 3)], min_block_size=1)
        torch_tensorrt.save(compiled, root / "small.pt2")
    return root / "small.pt2", store


def _rewrite(
    src: Path,
    dst: Path,
    edit_info: Callable[[list[str]], list[str]] | None = None,
    edit_weight: Callable[[bytes], bytes] | None = None,
) -> Path:
    """Copy the .pt2 archive, editing the engine-info strings and/or the engine tensor bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("models/model.json") and edit_info is not None:
                model = json.loads(data)
                for node in model["graph_module"]["graph"]["nodes"]:
                    for arg in node["inputs"]:
                        if arg["name"] == "engine_info":
                            arg["arg"]["as_strings"] = edit_info(list(arg["arg"]["as_strings"]))
                data = json.dumps(model).encode()
            if "/data/weights/weight_" in item.filename and edit_weight is not None:
                data = edit_weight(data)
            zout.writestr(item, data)
    return dst


class _PlantsAFile:
    """Unpickling this creates a file: proof that something in the file ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path(self.path).touch, ())


def test_untouched_file_loads_and_runs(saved: tuple[Path, Path]) -> None:
    path, store = saved
    with emulated_runtime(store):
        program = torch_tensorrt.load(path)
        out = program.module()(torch.randn(2, 3))
    assert out.shape == (2, 4)


def test_pickled_metadata_is_refused_and_never_runs(saved: tuple[Path, Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_PlantsAFile(str(marker)))
    pickle.loads(payload)  # the payload is live: unpickling it does create the file
    assert marker.exists()
    marker.unlink()

    def plant(info: list[str]) -> list[str]:
        info[SERIALIZED_METADATA_IDX] = base64.b64encode(payload).decode()
        return info

    bad = _rewrite(saved[0], tmp_path / "bad.pt2", edit_info=plant)
    with pytest.raises(ValueError, match="SERIALIZED_METADATA_IDX"):
        torch_tensorrt.load(bad)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda info: ["0", *info[1:]], "ABI"),
        (lambda info: info[:-1], "11"),
        (lambda info: [*info[:8], "solaris_sparc", *info[9:]], "platform"),
        (lambda info: [*info[:8], "windows_x86_64", *info[9:]], "was built for platform windows_x86_64"),
        (lambda info: [*info[:5], "", *info[6:]], "at least one output"),
        (lambda info: [*info[:3], "sha256:" + "0" * 64, *info[4:]], "does not match"),
    ],
    ids=["abi", "length", "platform", "other-platform", "no-outputs", "digest"],
)
def test_malformed_engine_info_is_refused_with_the_slot(
    saved: tuple[Path, Path], tmp_path: Path, edit, message: str
) -> None:
    bad = _rewrite(saved[0], tmp_path / "bad.pt2", edit_info=edit)
    with pytest.raises(ValueError, match=message):
        torch_tensorrt.load(bad)


def test_tampered_engine_bytes_are_refused(saved: tuple[Path, Path], tmp_path: Path) -> None:
    def flip(data: bytes) -> bytes:
        return data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]

    bad = _rewrite(saved[0], tmp_path / "bad.pt2", edit_weight=flip)
    with pytest.raises(ValueError, match="engine .* is malformed.*does not match"):
        torch_tensorrt.load(bad)


def test_not_a_program_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt2"
    junk.write_bytes(b"definitely not a zip archive")
    with pytest.raises(ValueError, match="not a program saved by torch_tensorrt.save"):
        torch_tensorrt.load(junk)


def test_engine_that_does_not_deserialize_names_the_engine(
    saved: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real TensorRT runtime is asked to deserialize; on this GPU-less machine it fails, and
    the error must name the engine instead of crashing (the deserialize call itself is real)."""
    from torch_tensorrt.dynamo.runtime._runtime_backend import TensorRTBackend

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    program = torch_tensorrt.load(saved[0])
    with pytest.raises(RuntimeError, match="_run_on_acc_0"):
        TensorRTBackend().load_engine(b"\x00garbage engine bytes\x00" * 10, "_run_on_acc_0")
    assert program is not None


def test_torchscript_round_trip_uses_the_cpp_engine(tmp_path: Path) -> None:
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        pytest.skip("the C++ runtime (torch_tensorrt._C) is not built; torchscript output needs it")
    model = _Small().eval()
    x = torch.randn(2, 3)
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        torch_tensorrt.save(compiled, tmp_path / "small.ts", output_format="torchscript", inputs=[x])
        loaded = torch_tensorrt.load(tmp_path / "small.ts")
        assert isinstance(loaded, torch.jit.ScriptModule)
        engines = [m for m in loaded.modules() if m.original_name == "ScriptedEngineModule"]
        assert len(engines) == 1, "the engine is a torch.classes.tensorrt.Engine inside the script"
        torch.testing.assert_close(loaded(x), model(x), rtol=1e-4, atol=1e-4)


def test_torchscript_without_cpp_runtime_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_tensorrt import _trt

    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(_Small().eval(), ir="dynamo", inputs=[torch.randn(2, 3)], min_block_size=1)
    with _trt.override_features(torch_tensorrt_runtime=False), pytest.raises(RuntimeError, match="C\\+\\+ runtime"):
        torch_tensorrt.save(compiled, tmp_path / "x.ts", output_format="torchscript")
