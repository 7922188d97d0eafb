"""Tidy runtime-cache directories: one directory lock instead of a ``.lock`` per cache, and a size
limit with least-recently-used eviction in the default directory.

The eviction rule is one table of cases asserted against the Python runtime
(``_runtime_cache.evict_directory``) and, when the C++ runtime is built, against
``RuntimeCacheLocation::evict`` through ``torch.ops.tensorrt._evict_runtime_cache_dir``. Every test
points TORCH_TENSORRT_CACHE_DIR at its own tmp directory: the real cache directory is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import _runtime_cache as rc
from torch_tensorrt.runtime._runtime_cache import RuntimeCache, RuntimeCacheWarning

PY_ROOT = Path(__file__).resolve().parents[3] / "py"


def _cpp_evict() -> Callable[[str, str, int], list[str]] | None:
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        return None
    try:
        return torch.ops.tensorrt._evict_runtime_cache_dir
    except (AttributeError, RuntimeError):  # a C++ runtime built before the op existed
        return None


RULES = {"python": rc.evict_directory, "cpp": _cpp_evict()}


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "default_cache_dir"
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(directory))
    monkeypatch.delenv(rc.DIR_MAX_BYTES_ENV, raising=False)
    return directory


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


_NOW = int(time.time())  # one base, so equal ages are equal mtimes


def age(path: Path, seconds: int) -> None:
    when = _NOW - seconds
    os.utime(path, (when, when))


@dataclass(frozen=True)
class Case:
    """Files ``name -> (size, seconds old)``; ``keep`` and ``limit`` as passed; ``evicted`` in order."""

    name: str
    files: dict[str, tuple[int, int]]
    keep: str
    limit: int
    evicted: list[str]
    others: tuple[str, ...] = field(default=())  # non-cache entries, never counted or deleted


CASES = [
    Case("under the limit", {"a.trtcache": (100, 30), "b.trtcache": (100, 20)}, "b.trtcache", 200, []),
    Case(
        "oldest first until within the limit",
        {"a.trtcache": (100, 10), "b.trtcache": (100, 30), "c.trtcache": (100, 20), "d.trtcache": (100, 5)},
        "d.trtcache",
        200,
        ["b.trtcache", "c.trtcache"],
    ),
    Case(
        "the kept file survives a zero limit",
        {"a.trtcache": (10, 1), "k.trtcache": (10, 99)},
        "k.trtcache",
        0,
        ["a.trtcache"],
    ),
    Case(
        "ties broken by name",
        {"y.trtcache": (50, 10), "x.trtcache": (50, 10), "z.trtcache": (50, 0)},
        "z.trtcache",
        60,
        ["x.trtcache", "y.trtcache"],
    ),
    Case(
        "only cache file names count and go",
        {"a.trtcache": (100, 50), "n.trtcache": (100, 0)},
        "n.trtcache",
        100,
        ["a.trtcache"],
        others=(
            "user.bin",
            "a.trtcache.corrupt-1",
            ".a.trtcache.x.tmp",
            rc.LOCK_NAME,
            "old.trtcache.lock",
            "-bad.trtcache",
            ".trtcache",
        ),
    ),
]


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_eviction_table(tmp_path: Path, case: Case, rule: str) -> None:
    evict = RULES[rule]
    if evict is None:
        pytest.skip("C++ runtime (with _evict_runtime_cache_dir) not built")
    directory = tmp_path / "d"
    directory.mkdir()
    for name, (size, seconds) in case.files.items():
        (directory / name).write_bytes(b"x" * size)
        age(directory / name, seconds)
    for name in case.others:
        (directory / name).write_bytes(b"y" * 1000)
    if sys.platform != "win32":
        os.symlink(directory / next(iter(case.files)), directory / "link.trtcache")
    before = set(files_in(directory))
    assert list(evict(str(directory), case.keep, case.limit)) == case.evicted
    assert set(files_in(directory)) == before - set(case.evicted)


def test_cpp_uses_the_same_lock_file(tmp_path: Path) -> None:
    if RULES["cpp"] is None:
        pytest.skip("C++ runtime (with _evict_runtime_cache_dir) not built")
    cache = tmp_path / "x" / "m.trtcache"
    # The same file, so a Python and a C++ process exclude each other.
    assert torch.ops.tensorrt._runtime_cache_lock_path(str(cache)) == str(RuntimeCache(cache).lock_path)


def test_saves_and_loads_leave_one_lock_per_directory(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        cache = RuntimeCache(rc.default_cache_path(name))
        assert cache.store(name.encode() * 10)
        assert RuntimeCache(rc.default_cache_path(name)).load() == name.encode() * 10
    assert RuntimeCache(tmp_path / "mine.bin").store(b"k")
    assert files_in(rc.default_cache_dir()) == [rc.LOCK_NAME, "a.trtcache", "b.trtcache", "c.trtcache"]
    assert files_in(tmp_path) == [rc.LOCK_NAME, "default_cache_dir", "mine.bin"]


def test_save_evicts_least_recently_used_and_load_counts_as_use(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = b"k" * (1000 - rc.HEADER_SIZE)  # 1000 bytes on disk
    paths = {h: rc.default_cache_path(h) for h in ("old", "mid", "new")}
    for seconds, path in zip((300, 200, 100), paths.values(), strict=True):
        assert RuntimeCache(path).store(payload)
        age(path, seconds)
    assert RuntimeCache(paths["old"]).load() == payload  # touched: now the most recently used
    monkeypatch.setenv(rc.DIR_MAX_BYTES_ENV, "2500")
    assert RuntimeCache(rc.default_cache_path("fresh")).store(payload)
    assert files_in(rc.default_cache_dir()) == [rc.LOCK_NAME, "fresh.trtcache", "old.trtcache"]


def test_user_named_paths_are_never_evicted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rc.DIR_MAX_BYTES_ENV, "0")
    mine = tmp_path / "mine"
    for name in ("a.trtcache", "b.trtcache"):
        assert RuntimeCache(mine / name).store(b"kernels")
    # A user-chosen name inside the default directory is not a default cache file either.
    assert RuntimeCache(rc.default_cache_dir() / "my.cache").store(b"kernels")
    assert RuntimeCache(rc.default_cache_path("x")).store(b"kernels")
    assert RuntimeCache(rc.default_cache_path("y")).store(b"kernels")  # evicts x, keeps itself
    assert files_in(mine) == [rc.LOCK_NAME, "a.trtcache", "b.trtcache"]
    assert files_in(rc.default_cache_dir()) == [rc.LOCK_NAME, "my.cache", "y.trtcache"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("", rc.DEFAULT_DIR_MAX_BYTES), ("123", 123), (" 0 ", 0), ("9" * 30, (1 << 64) - 1)]
)
def test_dir_limit_from_environment(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv(rc.DIR_MAX_BYTES_ENV, raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rc.dir_max_bytes() == expected


@pytest.mark.parametrize("raw", ["-1", "1GiB", "1_000"])
def test_bad_dir_limit_warns_and_uses_default(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(rc.DIR_MAX_BYTES_ENV, raw)
    with pytest.warns(RuntimeCacheWarning, match=rc.DIR_MAX_BYTES_ENV):
        assert rc.dir_max_bytes() == rc.DEFAULT_DIR_MAX_BYTES


EVICTING_WRITER = """
import sys, time, warnings
from torch_tensorrt.runtime import _runtime_cache as rc

writer, start = sys.argv[1], float(sys.argv[2])
warnings.simplefilter("error", rc.RuntimeCacheWarning)  # any corrupt file seen fails the child
while time.time() < start:
    time.sleep(0.001)
for i in range(30):
    cache = rc.RuntimeCache(rc.default_cache_path(f"{writer}{i % 6}"))
    seen = cache.load()
    assert seen is None or seen.startswith(f"{writer}{i % 6}-".encode()), seen[:20]
    assert cache.store(f"{writer}{i % 6}-".encode() * (3000 + 100 * i))
"""


def test_concurrent_saves_with_eviction_never_corrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small limit: every save evicts files the other process may be loading or saving.
    monkeypatch.setenv(rc.DIR_MAX_BYTES_ENV, "60000")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(PY_ROOT), os.environ.get("PYTHONPATH")) if p))
    start = str(time.time() + 2.0)
    children = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(EVICTING_WRITER), w, start], env=env) for w in "ab"
    ]
    for child in children:
        assert child.wait(timeout=120) == 0
    directory = rc.default_cache_dir()
    names = files_in(directory)
    assert names[0] == rc.LOCK_NAME and not any(n.endswith((".tmp", ".lock")) for n in names[1:])
    assert sum((directory / n).stat().st_size for n in names[1:]) <= 60000 + 10000  # + the last one kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in names[1:]:
            assert RuntimeCache(directory / name).load() is not None
