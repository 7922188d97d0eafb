"""Runtime-cache reads are bounded: regular files only, header first, a size limit (issue 16, item 4).

Every refused path must give a RuntimeCacheWarning naming the path and the reason, leave the path as
it was, and let the caller continue with a fresh cache: never a hang, never unbounded memory. Tests
that a regression could turn into a hang or a memory blow-up run where they can be stopped (a thread
that the test can unblock, or a child process with a memory cap and a timeout).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from torch_tensorrt.runtime import _runtime_cache as rc
from torch_tensorrt.runtime._runtime_cache import (
    DEFAULT_MAX_BYTES,
    HEADER_SIZE,
    MAX_BYTES_ENV,
    RuntimeCache,
    RuntimeCacheWarning,
    encode,
    max_cache_bytes,
)

PY_ROOT = Path(__file__).resolve().parents[3] / "py"
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, device files and symlinks")
# Generous for a loaded 2-core machine; the bounded reads take milliseconds.
DEADLINE_S = 20.0


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No test may touch the real per-user directory, and each starts from the default limit.
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(tmp_path / "default_cache_dir"))
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)


def run_with_deadline(fn: Callable[[], Any], unblock: Callable[[], None]) -> tuple[Any, list[str]]:
    """Run ``fn`` in a thread with warnings recorded; fail (after calling ``unblock``) if it hangs."""
    result: dict[str, Any] = {}

    def target() -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised in the test thread below
                result["error"] = e
        result["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        unblock()
        thread.join(DEADLINE_S)
        pytest.fail(f"{fn} did not return within {DEADLINE_S} s (blocked on the cache path)")
    if "error" in result:
        raise result["error"]
    return result["value"], result["warnings"]


def release_fifo_reader(path: Path) -> None:
    # A reader blocked in open() is released by a writer opening and closing the FIFO.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


# -- not a regular file ------------------------------------------------------------------------------


@POSIX_ONLY
def test_fifo_at_cache_path_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "c.trtcache"
    os.mkfifo(path)
    cache = RuntimeCache(path)

    def load_then_save() -> tuple[bytes | None, bool]:
        return cache.load(), cache.store(b"fresh kernels")

    (loaded, saved), caught = run_with_deadline(load_then_save, lambda: release_fifo_reader(path))
    assert loaded is None and cache.payload is None
    assert saved is False  # os.replace would turn the FIFO into a regular file
    assert any(str(path) in w and "is a FIFO, not a regular file" in w for w in caught), caught
    assert any("not saving runtime cache" in w and "FIFO" in w for w in caught), caught
    assert all(w.startswith("RuntimeCacheWarning") for w in caught), caught
    assert stat.S_ISFIFO(os.lstat(path).st_mode)  # left exactly as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.trtcache"]  # no lock file, nothing moved


@POSIX_ONLY
def test_quarantine_of_a_path_that_became_a_fifo_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "c.trtcache"
    cache = RuntimeCache(path)
    assert cache.store(b"kernels") and cache.load() == b"kernels"
    path.unlink()
    os.mkfifo(path)
    aside, _ = run_with_deadline(lambda: cache.quarantine("rejected"), lambda: release_fifo_reader(path))
    assert aside is None and stat.S_ISFIFO(os.lstat(path).st_mode)


@POSIX_ONLY
def test_directory_at_cache_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.trtcache"
    path.mkdir()
    with pytest.warns(RuntimeCacheWarning, match=rf"{path}.* is a directory, not a regular file"):
        assert RuntimeCache(path).load() is None
    assert path.is_dir()


DEVICE_CHILD = """
import os, resource, sys, time, warnings
from torch_tensorrt.runtime._runtime_cache import RuntimeCache

# Cap the address space 256 MiB above what the imports use: a read of /dev/zero that does not stop
# fails with MemoryError here instead of exhausting the machine.
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (256 << 20), resource.RLIM_INFINITY))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cache = RuntimeCache(sys.argv[1])
    loaded = cache.load()
    saved = cache.store(b"fresh kernels")
elapsed = time.monotonic() - start
grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(repr(loaded), saved, f"{elapsed:.3f}", grown_kib)
for w in caught:
    print(f"{w.category.__name__}: {w.message}")
"""


@POSIX_ONLY
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_character_device_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    # Only through a symlink in a private directory: pointing the path at /dev/zero itself would let a
    # regression (as root) move the device node aside or replace it, as a bad cache file is.
    path = tmp_path / "c.trtcache"
    path.symlink_to("/dev/zero")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(PY_ROOT), os.environ.get("PYTHONPATH")) if p))
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DEVICE_CHILD), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    first, *messages = child.stdout.splitlines()
    loaded, saved, elapsed, grown_kib = first.split()
    assert (loaded, saved) == ("None", "False")
    assert float(elapsed) < 5.0
    assert int(grown_kib) < 64 * 1024  # nothing of the device was read into memory
    assert any(str(path) in m and "is a character device, not a regular file" in m for m in messages), messages
    assert any("not saving runtime cache" in m for m in messages), messages
    assert all(m.startswith("RuntimeCacheWarning") for m in messages), messages
    assert os.readlink(path) == "/dev/zero"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.trtcache"]  # no lock file next to it


# -- size limit --------------------------------------------------------------------------------------


def sparse_cache(path: Path, size: int, *, valid_header: bool) -> None:
    """A file of ``size`` bytes that occupies no disk: a header, then a hole."""
    if valid_header:
        # The header of a cache whose payload fills the file, so only the size can refuse it.
        header = rc._HEADER.pack(rc.MAGIC, rc.FORMAT_VERSION, 0, size - HEADER_SIZE, b"\0" * 32)
    else:
        header = b"garbage!" * (HEADER_SIZE // 8)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(size)


def bounded(fn: Callable[[], Any]) -> tuple[Any, int, float]:
    """(result, peak Python allocation in bytes, seconds) of ``fn``."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        result = fn()
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, elapsed


def test_oversized_cache_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, str(1 << 20))
    path = tmp_path / "big.trtcache"
    sparse_cache(path, 256 << 20, valid_header=True)
    cache = RuntimeCache(path)
    with pytest.warns(RuntimeCacheWarning) as record:
        loaded, peak, elapsed = bounded(cache.load)
    assert loaded is None and cache.payload is None
    message = str(record[0].message)
    assert str(path) in message and f"{256 << 20} bytes" in message and f"{1 << 20}-byte limit" in message
    assert MAX_BYTES_ENV in message  # says how to raise it
    assert peak < 256 << 10 and elapsed < 5.0  # the header only, not 256 MiB
    assert path.stat().st_size == 256 << 20  # a real cache above the limit is left in place
    # The fresh cache replaces it on save, without claiming another process changed the file.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.store(b"fresh kernels")
    assert RuntimeCache(path).load() == b"fresh kernels"


def test_oversized_garbage_is_judged_by_its_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, str(1 << 20))
    path = tmp_path / "big.trtcache"
    sparse_cache(path, 256 << 20, valid_header=False)
    with pytest.warns(RuntimeCacheWarning, match="bad magic.*moved it to"):
        loaded, peak, _ = bounded(RuntimeCache(path).load)
    assert loaded is None and peak < 256 << 10
    assert not path.exists()


def test_header_claiming_a_huge_payload_allocates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.trtcache"
    path.write_bytes(rc._HEADER.pack(rc.MAGIC, rc.FORMAT_VERSION, 0, 1 << 40, b"\0" * 32) + b"tiny")
    with pytest.warns(RuntimeCacheWarning, match="truncated"):
        loaded, peak, _ = bounded(RuntimeCache(path).load)
    assert loaded is None and peak < 256 << 10


def test_cache_at_the_limit_loads_and_one_byte_more_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = os.urandom(1000)
    path = tmp_path / "c.trtcache"
    path.write_bytes(encode(payload))
    monkeypatch.setenv(MAX_BYTES_ENV, str(HEADER_SIZE + len(payload)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(path).load() == payload
    monkeypatch.setenv(MAX_BYTES_ENV, str(HEADER_SIZE + len(payload) - 1))
    with pytest.warns(RuntimeCacheWarning, match="over the 1055-byte limit"):
        assert RuntimeCache(path).load() is None
    assert path.read_bytes() == encode(payload)


def test_payload_over_the_limit_is_not_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.trtcache"
    cache = RuntimeCache(path)
    assert cache.store(b"small")
    monkeypatch.setenv(MAX_BYTES_ENV, str(HEADER_SIZE + 10))
    cache.update(b"x" * 11)
    with pytest.warns(RuntimeCacheWarning, match="could not be read back"):
        assert not cache.flush()
    assert not cache.has_pending  # the same payload would be refused again at exit
    assert RuntimeCache(path).load() == b"small"


def test_stream_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv(MAX_BYTES_ENV, str(HEADER_SIZE + 4))
    assert RuntimeCache.from_file_like(io.BytesIO(encode(b"1234"))).load() == b"1234"
    with pytest.warns(RuntimeCacheWarning, match="limit"):
        assert RuntimeCache.from_file_like(io.BytesIO(encode(b"12345"))).load() is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_MAX_BYTES),
        ("", DEFAULT_MAX_BYTES),
        (" 4096 ", 4096),
        (str(HEADER_SIZE), HEADER_SIZE),
        (str(1 << 40), 1 << 40),
    ],
)
def test_limit_from_environment(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int) -> None:
    if value is not None:
        monkeypatch.setenv(MAX_BYTES_ENV, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert max_cache_bytes() == expected
    assert DEFAULT_MAX_BYTES == 1 << 30


@pytest.mark.parametrize("value", ["1GiB", "-1", "+4096", "4_096", "0", str(HEADER_SIZE - 1), "1e9"])
def test_unusable_limit_warns_and_keeps_the_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, value)
    with pytest.warns(RuntimeCacheWarning, match=re.escape(f"{MAX_BYTES_ENV}='{value}'") + ".*default"):
        assert max_cache_bytes() == DEFAULT_MAX_BYTES


# -- what still works ------------------------------------------------------------------------------


def test_valid_cache_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.trtcache"
    payload = os.urandom(3 << 20)  # several read chunks
    assert RuntimeCache(path).store(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(path).load() == payload


@POSIX_ONLY
def test_symlink_to_a_regular_cache_is_followed(tmp_path: Path) -> None:
    # A user may keep a cache on another disk behind a symlink; only what it points at is judged.
    real = tmp_path / "real.trtcache"
    assert RuntimeCache(real).store(b"kernels")
    link = tmp_path / "link.trtcache"
    link.symlink_to(real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(link).load() == b"kernels"
    dangling = tmp_path / "dangling.trtcache"
    dangling.symlink_to(tmp_path / "missing")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(dangling).load() is None  # like a missing file: nothing to report
