"""The default runtime-cache location, one table of cases asserted against both runtimes' rules.

The Python runtime finds an engine's default cache file with ``_runtime_cache.default_cache_path``; the
C++ runtime with ``RuntimeCacheLocation`` (core/runtime/RuntimeCacheLocation.cpp), reachable as
``torch.ops.tensorrt._default_runtime_cache_path``. Both must give the same path for the same
environment, create the same private directories and refuse the same unsafe ones with the same kind
of error, so a rule changed on one side only fails here. The Windows layout is checked on Linux by
telling each rule to apply it (``sys.platform`` for Python, the op's ``platform`` argument for C++);
paths keep the host's syntax there.

Also here: saving a cache into a directory that does not exist yet (both runtimes create it 0700),
and a C++ engine with no configured cache writing its own default file when its module goes away.

Every case points HOME, XDG_CACHE_HOME, LOCALAPPDATA and TORCH_TENSORRT_CACHE_DIR into its own tmp
directory: the user's real cache directory is never touched.
"""

from __future__ import annotations

import gc
import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import _runtime_cache as rc

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the table is written in POSIX path syntax")

CPP_BUILT = torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime
if CPP_BUILT:
    # The C++ fake backend and its engines (fixtures are found by name in this module).
    from test_cpp_runtime import add_info, cpp_fake, fake_backend_library, op_args  # noqa: F401

OPS = torch.ops.tensorrt
HASH = "abc123"
VARIABLES = (rc.CACHE_DIR_ENV, "XDG_CACHE_HOME", "LOCALAPPDATA", "HOME")


@dataclass(frozen=True)
class Case:
    """One environment and what both rules must make of it.

    ``env`` values and ``expect`` may use ``{tmp}`` (the case's own directory; HOME is ``{tmp}/home``
    unless set). ``expect`` is the default file's path, or the Python exception class name of the
    refusal with ``message`` parts its text must contain. ``modes``: permissions afterwards.
    """

    name: str
    env: dict[str, str | None] = field(default_factory=dict)
    expect: str = ""
    message: tuple[str, ...] = ()
    platform: str = "posix"
    engine_hash: str = HASH
    prepare: Callable[[Path], None] | None = None
    in_tmp: bool = False  # run with {tmp} as the working directory
    modes: dict[str, int] = field(default_factory=dict)
    not_created: tuple[str, ...] = ()


def _symlink(tmp: Path) -> None:
    (tmp / "real").mkdir()
    (tmp / "link").symlink_to(tmp / "real")


def _file(tmp: Path) -> None:
    (tmp / "file").write_text("x")


def _mode(path: str, mode: int) -> Callable[[Path], None]:
    def prepare(tmp: Path) -> None:
        (tmp / path).mkdir()
        os.chmod(tmp / path, mode)

    return prepare


def _planted(tmp: Path) -> None:
    (tmp / "planted").mkdir(mode=0o755)
    try:
        os.chown(tmp / "planted", 12345, -1)
    except PermissionError:
        pytest.skip("chown to another uid needs root (or CAP_CHOWN)")


CACHE_FILE = "/torch_tensorrt/runtime_cache/abc123.trtcache"
CASES = [
    Case(
        "override, its missing parents created private",
        {rc.CACHE_DIR_ENV: "{tmp}/a/b/cache"},
        "{tmp}/a/b/cache/abc123.trtcache",
        modes={"a": 0o700, "a/b": 0o700, "a/b/cache": 0o700},
    ),
    Case(
        "empty override means unset: XDG",
        {rc.CACHE_DIR_ENV: "", "XDG_CACHE_HOME": "{tmp}/xdg"},
        "{tmp}/xdg" + CACHE_FILE,
    ),
    Case("no XDG: HOME/.cache", {}, "{tmp}/home/.cache" + CACHE_FILE, modes={"home/.cache": 0o700, "home": 0o755}),
    Case("empty XDG: HOME/.cache", {"XDG_CACHE_HOME": ""}, "{tmp}/home/.cache" + CACHE_FILE),
    Case("HOME with a trailing slash", {"HOME": "{tmp}/home/"}, "{tmp}/home/.cache" + CACHE_FILE),
    Case(
        "relative XDG is used from the working directory",
        {"XDG_CACHE_HOME": "rel"},
        "{tmp}/rel" + CACHE_FILE,
        in_tmp=True,
    ),
    Case("~ expanded and the path normalised", {rc.CACHE_DIR_ENV: "~/x/../y/./z/"}, "{tmp}/home/y/z/abc123.trtcache"),
    Case("relative override", {rc.CACHE_DIR_ENV: "rel//dir"}, "{tmp}/rel/dir/abc123.trtcache", in_tmp=True),
    Case("two leading slashes are kept (POSIX)", {rc.CACHE_DIR_ENV: "/{tmp}/c"}, "/{tmp}/c/abc123.trtcache"),
    Case(
        "group-writable directory is tightened",
        {rc.CACHE_DIR_ENV: "{tmp}/loose"},
        "{tmp}/loose/abc123.trtcache",
        prepare=_mode("loose", 0o777),
        modes={"loose": 0o700},
    ),
    Case(
        "readable directory is left alone",
        {rc.CACHE_DIR_ENV: "{tmp}/open"},
        "{tmp}/open/abc123.trtcache",
        prepare=_mode("open", 0o755),
        modes={"open": 0o755},
    ),
    Case(
        "symbolic link is refused",
        {rc.CACHE_DIR_ENV: "{tmp}/link"},
        "PermissionError",
        ("{tmp}/link is a symbolic link", rc.CACHE_DIR_ENV),
        prepare=_symlink,
    ),
    Case(
        "file is refused",
        {rc.CACHE_DIR_ENV: "{tmp}/file"},
        "NotADirectoryError",
        ("{tmp}/file exists but is not a directory", rc.CACHE_DIR_ENV),
        prepare=_file,
    ),
    Case(
        "below a file nothing is created",
        {rc.CACHE_DIR_ENV: "{tmp}/file/sub"},
        "NotADirectoryError",
        ("{tmp}/file/sub",),
        prepare=_file,
    ),
    Case(
        "directory of another user is refused",
        {rc.CACHE_DIR_ENV: "{tmp}/planted"},
        "PermissionError",
        ("{tmp}/planted is owned by uid 12345", "not by the current user", rc.CACHE_DIR_ENV),
        prepare=_planted,
    ),
    Case(
        "unusable engine hash",
        {rc.CACHE_DIR_ENV: "{tmp}/c"},
        "ValueError",
        ("../x",),
        engine_hash="../x",
        not_created=("c",),
    ),
    Case("hidden-file hash", {rc.CACHE_DIR_ENV: "{tmp}/c"}, "ValueError", engine_hash=".x", not_created=("c",)),
    Case("hash characters", {rc.CACHE_DIR_ENV: "{tmp}/c"}, "{tmp}/c/A_b.9-z.trtcache", engine_hash="A_b.9-z"),
    # The Windows layout.
    Case(
        "windows: LOCALAPPDATA, not XDG",
        {"LOCALAPPDATA": "{tmp}/lad", "XDG_CACHE_HOME": "{tmp}/xdg"},
        "{tmp}/lad" + CACHE_FILE,
        platform="windows",
        not_created=("xdg",),
    ),
    Case("windows: no LOCALAPPDATA", {}, "{tmp}/home/AppData/Local" + CACHE_FILE, platform="windows"),
    Case(
        "windows: override wins",
        {rc.CACHE_DIR_ENV: "{tmp}/o", "LOCALAPPDATA": "{tmp}/lad"},
        "{tmp}/o/abc123.trtcache",
        platform="windows",
    ),
    Case(
        "windows: no owner check (profile ACLs)",
        {rc.CACHE_DIR_ENV: "{tmp}/planted"},
        "{tmp}/planted/abc123.trtcache",
        platform="windows",
        prepare=_planted,
    ),
    Case(
        "windows: symbolic link is refused",
        {rc.CACHE_DIR_ENV: "{tmp}/link"},
        "PermissionError",
        ("is a symbolic link",),
        platform="windows",
        prepare=_symlink,
    ),
]


def python_rule(engine_hash: str, platform: str) -> tuple[str, str]:
    """("ok", path) or (exception class name, message), like the C++ op."""
    with mock.patch.object(sys, "platform", "win32" if platform == "windows" else sys.platform):
        try:
            return "ok", os.fspath(rc.default_cache_path(engine_hash))
        except (OSError, ValueError) as e:
            return type(e).__name__, str(e)


def cpp_rule(engine_hash: str, platform: str) -> tuple[str, str]:
    if not CPP_BUILT:
        pytest.skip("the C++ runtime torch_tensorrt._C is not built")
    assert hasattr(OPS, "_default_runtime_cache_path"), "torch_tensorrt._C predates this op: rebuild it"
    kind, text = OPS._default_runtime_cache_path(engine_hash, platform)
    return kind, text


RULES = {"python": python_rule, "cpp": cpp_rule}


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmp tree with HOME inside it, the cache variables unset and umask 022."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir(mode=0o755)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    old = os.umask(0o022)
    try:
        yield tmp_path
    finally:
        os.umask(old)


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_default_location(case: Case, rule: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = isolated

    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp))

    if case.prepare is not None:
        case.prepare(tmp)
    for name, value in case.env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, fill(value))
    if case.in_tmp:
        monkeypatch.chdir(tmp)
    kind, text = RULES[rule](case.engine_hash, case.platform)
    if case.expect.startswith("{tmp}") or case.expect.startswith("/"):
        assert (kind, text) == ("ok", fill(case.expect))
        assert Path(text).parent.is_dir()
    else:
        assert kind == case.expect, text
        for part in case.message:
            assert fill(part) in text
    for path, mode in case.modes.items():
        assert stat.S_IMODE(os.stat(tmp / path).st_mode) == mode, path
    for path in case.not_created:
        assert not os.path.lexists(tmp / path), path


# --------------------------------------------------------------------------------------------------
# Saving into a directory that does not exist yet
# --------------------------------------------------------------------------------------------------


def _save_with_python(path: Path) -> None:
    cache = rc.RuntimeCache(path)
    cache.update(b"FAKECACHE1\nkernel\n")
    assert cache.flush()


def _save_with_cpp(path: Path) -> None:
    engine, short = op_args(add_info(name="missing_parent"))
    cpp_engine = OPS.get_engine(engine, short)
    cpp_engine.set_runtime_cache_path(str(path))
    OPS.execute_engine([torch.ones(2, 3), torch.ones(2, 3)], engine, short)
    assert cpp_engine.save_runtime_cache()


@pytest.mark.parametrize("runtime", ["python", "cpp"])
def test_save_creates_a_missing_directory_private(runtime: str, request: pytest.FixtureRequest, isolated: Path) -> None:
    if runtime == "cpp":
        if not CPP_BUILT:
            pytest.skip("the C++ runtime torch_tensorrt._C is not built")
        request.getfixturevalue("cpp_fake")
    path = isolated / "new" / "deeper" / "kernels.trtcache"
    (_save_with_cpp if runtime == "cpp" else _save_with_python)(path)
    assert rc.decode(path.read_bytes()).startswith(b"FAKECACHE1\n")
    for directory in (isolated / "new", isolated / "new" / "deeper"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


# --------------------------------------------------------------------------------------------------
# A C++ engine without a configured cache uses its default file
# --------------------------------------------------------------------------------------------------


needs_cpp = pytest.mark.skipif(not CPP_BUILT, reason="the C++ runtime torch_tensorrt._C is not built")


@needs_cpp
def test_cpp_engine_saves_its_default_file_when_its_module_goes_away(cpp_fake, isolated, monkeypatch) -> None:
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    cache_dir = isolated / "default_cache"
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(cache_dir))
    info = add_info(name="defaulted")
    expected = cache_dir / f"{hashlib.sha256(info.engine).hexdigest()}.trtcache"
    module = TorchTensorRTModule(info, use_python_runtime=False)
    x = torch.ones(2, 3)
    assert torch.equal(module(x, x), x * 2)
    assert module._engine is None, "the C++ engine ran the forward"
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700, "created private when the context was made"
    assert not expected.exists(), "written when the engine is released, not on every run"
    del module
    gc.collect()  # the engine tensor's finalizer releases the C++ engine, which saves its cache
    OPS._release_expired_engines()
    assert rc.decode(expected.read_bytes()).startswith(b"FAKECACHE1\n")
    assert os.fspath(expected) == python_rule(hashlib.sha256(info.engine).hexdigest(), "posix")[1], (
        "the Python runtime would use the same file"
    )
    # A new module of the same engine starts from the kernels in that file.
    again = TorchTensorRTModule(info, use_python_runtime=False)
    assert torch.equal(again(x, x), x * 2)
    stats = OPS.get_engine(again.serialized_engine, again.engine_info).stats()
    assert stats["context.cache_kernels_loaded"] >= 1


@needs_cpp
def test_cpp_engine_with_a_named_cache_never_creates_the_default_directory(cpp_fake, isolated, monkeypatch) -> None:
    cache_dir = isolated / "default_cache"
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(cache_dir))
    engine, short = op_args(add_info(name="named"))
    OPS.get_engine(engine, short).set_runtime_cache_path("")  # memory only
    OPS.execute_engine([torch.ones(2, 3), torch.ones(2, 3)], engine, short)
    OPS._clear_engine_cache()
    assert not os.path.lexists(cache_dir)


@needs_cpp
def test_cpp_engine_with_a_refused_default_directory_runs_with_a_memory_cache(
    cpp_fake, isolated, monkeypatch, capfd
) -> None:
    (isolated / "real").mkdir()
    (isolated / "link").symlink_to(isolated / "real")
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(isolated / "link"))
    engine, short = op_args(add_info(name="refused"))
    (out,) = OPS.execute_engine([torch.ones(2, 3), torch.ones(2, 3)], engine, short)
    assert torch.equal(out, torch.full((2, 3), 2.0)), "never fatal"
    assert OPS.get_engine(engine, short).get_runtime_cache_path() == ""
    OPS._clear_engine_cache()
    assert list((isolated / "real").iterdir()) == [], "nothing written through the link"
    err = capfd.readouterr().err
    assert "is a symbolic link" in err and "Engine 'refused' keeps its runtime cache in memory only" in err
