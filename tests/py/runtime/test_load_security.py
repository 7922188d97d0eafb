"""torch_tensorrt.load never runs code from the file it reads.

Each crafted archive carries a payload that would create a marker file if anything unpickled or
evaluated it. For the payload kinds torch itself would execute, the test first shows the payload is
live (torch's own loader, or the evaluator torch uses, creates the marker), so the refusal is what
keeps the marker from appearing.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import stat
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from test_load_validation import _Small

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import _archive_check
from torch_tensorrt.testing import emulated_runtime

Members = dict[str, bytes]


class _TouchOnUnpickle:
    """Unpickling this creates ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path(self.path).touch, ())


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("programs")
    spec = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(8, 3))
    out = {"static": root / "static.pt2", "dynamic": root / "dynamic.pt2"}
    with emulated_runtime():
        static = torch_tensorrt.compile(_Small().eval(), inputs=[torch.randn(2, 3)], min_block_size=1)
        torch_tensorrt.save(static, out["static"], inputs=[torch.randn(2, 3)])
        dynamic = torch_tensorrt.compile(_Small().eval(), inputs=[spec], min_block_size=1)
        torch_tensorrt.save(dynamic, out["dynamic"], inputs=[spec])
        if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
            out["torchscript"] = root / "program.ts"
            torch_tensorrt.save(static, out["torchscript"], inputs=[torch.randn(2, 3)], output_format="torchscript")
    return out


def read_members(path: Path) -> Members:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, members: Members, infos: dict[str, zipfile.ZipInfo] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr((infos or {}).get(name, zipfile.ZipInfo(name)), data)
    return path


def rewrite(src: Path, dst: Path, edit: Callable[[Members, str], None]) -> Path:
    members = read_members(src)
    root = next(iter(members)).split("/")[0]
    edit(members, root)
    return write_members(dst, members)


def torch_save_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def edit_json(members: Members, name: str, change: Callable[[dict], None]) -> None:
    data = json.loads(members[name])
    change(data)
    members[name] = json.dumps(data).encode()


# ------------------------------------------------------------------------------------------------
# Our own programs pass
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["static", "dynamic", "torchscript"])
def test_programs_we_save_pass_the_check_and_load(programs: dict[str, Path], kind: str) -> None:
    if kind not in programs:
        pytest.skip("TorchScript output needs the C++ runtime, which is not built here")
    expected = "torchscript" if kind == "torchscript" else "pt2"
    assert _archive_check.check_program_file(str(programs[kind])) == expected
    with emulated_runtime():
        loaded = torch_tensorrt.load(programs[kind])
        run = loaded if kind == "torchscript" else loaded.module()
        x = torch.randn(2, 3)
        assert run(x).shape == (2, 4)


# ------------------------------------------------------------------------------------------------
# One archive per member kind torch would unpickle or execute
# ------------------------------------------------------------------------------------------------


def _sample_inputs(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        members[f"{root}/data/sample_inputs/model.pt"] = torch_save_bytes(((_TouchOnUnpickle(str(marker)),), {}))

    return edit


def _pickled_weight(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        def mark(cfg: dict) -> None:
            for meta in cfg["config"].values():
                meta["use_pickle"] = True
                members[f"{root}/data/weights/{meta['path_name']}"] = torch_save_bytes(_TouchOnUnpickle(str(marker)))

        edit_json(members, f"{root}/data/weights/model_weights_config.json", mark)

    return edit


def _constant(prefix: str, payload: Callable[[Path], bytes]) -> Callable[[Path], Callable[[Members, str], None]]:
    def make(marker: Path) -> Callable[[Members, str], None]:
        def edit(members: Members, root: str) -> None:
            def add(cfg: dict) -> None:
                cfg["config"]["evil"] = {
                    "path_name": f"{prefix}0",
                    "is_param": False,
                    "use_pickle": True,
                    "tensor_meta": None,
                }

            edit_json(members, f"{root}/data/constants/model_constants_config.json", add)
            members[f"{root}/data/constants/{prefix}0"] = payload(marker)

        return edit

    return make


def _guard_code(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        edit_json(
            members,
            f"{root}/models/model.json",
            lambda m: m.__setitem__("guards_code", [f"__import__('pathlib').Path({str(marker)!r}).touch() is None"]),
        )

    return edit


def _symbolic_expression(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        def inject(model: dict) -> None:
            symbol = next(iter(model["range_constraints"]))
            text = json.dumps(model).replace(
                f"Symbol('{symbol}'", f"Symbol(__import__('pathlib').Path({str(marker)!r}).touch() or '{symbol}'"
            )
            model.clear()
            model.update(json.loads(text))

        edit_json(members, f"{root}/models/model.json", inject)

    return edit


def _graph_target(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        text = members[f"{root}/models/model.json"].decode()
        members[f"{root}/models/model.json"] = text.replace(
            "torch.ops.tensorrt.execute_engine.default", "torch.serialization.load"
        ).encode()

    return edit


def _aoti_library(marker: Path) -> Callable[[Members, str], None]:
    def edit(members: Members, root: str) -> None:
        members[f"{root}/data/aotinductor/model/model.so"] = b"\x7fELF not really"

    return edit


CASES: list[tuple[str, str, Callable[[Path], Callable[[Members, str], None]], str]] = [
    ("sample-inputs", "static", _sample_inputs, r"sample_inputs/model.pt.*importing"),
    ("pickled-weight", "static", _pickled_weight, r"weights_config.json.*pickled object"),
    (
        "tensor-constant",
        "static",
        _constant("tensor_", lambda m: torch_save_bytes(_TouchOnUnpickle(str(m)))),
        "pickled object",
    ),
    (
        "opaque-object",
        "static",
        _constant("opaque_obj_", lambda m: pickle.dumps(_TouchOnUnpickle(str(m)))),
        "pickled object",
    ),
    ("custom-object", "static", _constant("custom_obj_", lambda m: b"PK junk"), "pickled object"),
    ("guard-code", "static", _guard_code, r"guard .* with Call"),
    ("symbolic-expression", "dynamic", _symbolic_expression, "symbolic expression"),
    ("graph-target", "static", _graph_target, r"calls 'torch.serialization.load'"),
    ("aoti-library", "static", _aoti_library, "AOTInductor"),
]


@pytest.mark.parametrize(("label", "base", "craft", "message"), CASES, ids=[c[0] for c in CASES])
def test_crafted_member_is_refused_and_never_runs(
    programs: dict[str, Path], tmp_path: Path, label: str, base: str, craft: Callable, message: str
) -> None:
    marker = tmp_path / "marker"
    bad = rewrite(programs[base], tmp_path / "bad.pt2", craft(marker))
    with pytest.raises(ValueError, match=message) as error:
        torch_tensorrt.load(bad)
    assert str(bad) in str(error.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("torch.ops.aten.__and__.Tensor", True),  # Python's `a & b` on tensors: a real ATen operator
        ("torch.ops.aten.__irshift__.Scalar", True),
        ("torch.ops.aten.__class__.__init__", False),
        ("torch.ops.aten.__and__.__call__", False),
        ("torch.ops.mylib.__and__.Tensor", False),
        ("torch.ops.aten.__and__.Tensor.__globals__", False),
    ],
)
def test_dunder_targets_only_for_aten_operator_methods(target: str, allowed: bool) -> None:
    if allowed:
        _archive_check.check_graph_target("models/model.json", target)
        assert callable(eval(target, {"torch": torch}))  # noqa: S307 - a fixed string of this test
    else:
        with pytest.raises(ValueError, match="may call registered operators"):
            _archive_check.check_graph_target("models/model.json", target)


def test_payloads_are_live_without_the_check(programs: dict[str, Path], tmp_path: Path) -> None:
    """torch itself runs these payloads: the refusal above is what stops them."""
    marker = tmp_path / "marker"
    bad = rewrite(programs["static"], tmp_path / "bad.pt2", _sample_inputs(marker))
    try:
        torch.export.load(bad)
    except Exception:  # noqa: BLE001 - whatever torch does afterwards, the payload already ran
        pass
    assert marker.exists()
    marker.unlink()
    import sympy

    sympy.sympify(f"Symbol(__import__('pathlib').Path({str(marker)!r}).touch() or 's0')")
    assert marker.exists()


# ------------------------------------------------------------------------------------------------
# TorchScript archives
# ------------------------------------------------------------------------------------------------


def _needs_torchscript(programs: dict[str, Path]) -> Path:
    if "torchscript" not in programs:
        pytest.skip("TorchScript output needs the C++ runtime, which is not built here")
    return programs["torchscript"]


def test_torchscript_pickle_importing_python_is_refused(programs: dict[str, Path], tmp_path: Path) -> None:
    src = _needs_torchscript(programs)
    marker = tmp_path / "marker"

    def edit(members: Members, root: str) -> None:
        members[f"{root}/constants.pkl"] = pickle.dumps(_TouchOnUnpickle(str(marker)), protocol=2)

    bad = rewrite(src, tmp_path / "bad.ts", edit)
    with pytest.raises(ValueError, match=r"constants.pkl.*is a pickle importing"):
        torch_tensorrt.load(bad)
    assert not marker.exists()


def test_torchscript_setstate_and_foreign_classes_are_refused(programs: dict[str, Path], tmp_path: Path) -> None:
    src = _needs_torchscript(programs)

    def add_setstate(members: Members, root: str) -> None:
        name = next(n for n in members if "/code/__torch__/" in n and n.endswith(".py"))
        members[name] += b"\n  def __setstate__(self, state: Tuple[int]) -> None:\n    pass\n"

    with pytest.raises(ValueError, match="__setstate__"):
        torch_tensorrt.load(rewrite(src, tmp_path / "a.ts", add_setstate))

    def foreign_class(members: Members, root: str) -> None:
        name = f"{root}/data.pkl"
        members[name] = members[name].replace(
            b"__torch__.torch.classes.tensorrt\nEngine", b"__torch__.torch.classes.other\nThing"
        )

    with pytest.raises(ValueError, match="custom class __torch__.torch.classes.other"):
        torch_tensorrt.load(rewrite(src, tmp_path / "b.ts", foreign_class))


# ------------------------------------------------------------------------------------------------
# Paths inside the archive, and the file itself
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["../outside", "/tmp/absolute", "p/../../outside", "p/a\\..\\b", "p//x"])
def test_traversal_members_are_refused_and_nothing_is_written(
    programs: dict[str, Path], tmp_path: Path, member: str
) -> None:
    members = read_members(programs["static"])
    root = next(iter(members)).split("/")[0]
    members[member.replace("p/", f"{root}/", 1)] = b"planted"
    work = tmp_path / "work"
    work.mkdir()
    bad = write_members(work / "bad.pt2", members)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="path"):
        torch_tensorrt.load(bad)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/absolute").exists()


def test_symlink_member_is_refused(programs: dict[str, Path], tmp_path: Path) -> None:
    members = read_members(programs["static"])
    root = next(iter(members)).split("/")[0]
    link = zipfile.ZipInfo(f"{root}/extra/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members[link.filename] = b"/etc/passwd"
    bad = write_members(tmp_path / "bad.pt2", members, {link.filename: link})
    with pytest.raises(ValueError, match="symbolic link"):
        torch_tensorrt.load(bad)


def test_legacy_export_zip_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    members = {
        "version": b"8.0",
        "serialized_exported_program.json": b"{}",
        "serialized_example_inputs.pt": torch_save_bytes(_TouchOnUnpickle(str(marker))),
    }
    with pytest.raises(ValueError, match="one top-level folder|neither"):
        torch_tensorrt.load(write_members(tmp_path / "legacy.pt2", members))
    assert not marker.exists()


def _load_within(path: Path, seconds: float = 20.0) -> BaseException | None:
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            torch_tensorrt.load(path)
            result.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"loading {path} did not finish in {seconds} s"
    return result[0]


def test_fifo_device_and_directory_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "program.pt2"
    os.mkfifo(fifo)
    device = tmp_path / "zero.pt2"
    device.symlink_to("/dev/zero")
    folder = tmp_path / "folder.pt2"
    folder.mkdir()
    for path in (fifo, device, folder):
        error = _load_within(path)
        assert isinstance(error, ValueError) and "not a regular file" in str(error) and str(path) in str(error), error


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04truncated", b"\x00" * 64],
    ids=["empty", "truncated-zip", "zeros"],
)
def test_unreadable_files_are_value_errors_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pt2"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a program saved by torch_tensorrt.save") as error:
        torch_tensorrt.load(path)
    assert str(path) in str(error.value)


def test_unsupported_zip_features_are_value_errors(programs: dict[str, Path], tmp_path: Path) -> None:
    members = read_members(programs["static"])
    root = next(iter(members)).split("/")[0]
    odd = zipfile.ZipInfo(f"{root}/extra/odd")
    odd.compress_type = zipfile.ZIP_BZIP2
    members[odd.filename] = b"x" * 100
    with pytest.raises(ValueError, match="compression method") as error:
        torch_tensorrt.load(write_members(tmp_path / "bz.pt2", members, {odd.filename: odd}))
    assert str(tmp_path / "bz.pt2") in str(error.value)
    # A name that is not UTF-8 (flag bit 11 clear, cp437 bytes) is decoded by zipfile, never escapes raw.
    raw = tmp_path / "cp437.pt2"
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("p/\u00e9t\u00e9", b"x")
    with pytest.raises(ValueError, match="neither a torch.export program"):
        torch_tensorrt.load(raw)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no compiled program"):
        torch_tensorrt.load(tmp_path / "absent.pt2")
