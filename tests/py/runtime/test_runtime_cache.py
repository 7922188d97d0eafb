"""RuntimeCache: file format, atomic locked saves, recovery from bad files, private default directory."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from torch_tensorrt.runtime import _runtime_cache as rc
from torch_tensorrt.runtime import _runtime_cache_file as rc_file
from torch_tensorrt.runtime._runtime_cache import (
    HEADER_SIZE,
    MAGIC,
    RuntimeCache,
    RuntimeCacheFormatError,
    RuntimeCacheWarning,
    decode,
    default_cache_dir,
    default_cache_path,
    default_runtime_cache,
    encode,
    resolve_runtime_cache,
    save_all_pending,
)

# tests/py/runtime/<this file> → repository root; the package lives in <root>/py.
PY_ROOT = Path(__file__).resolve().parents[3] / "py"
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, uids and modes")


def run_python(code: str, *args: str, **popen_kwargs) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PY_ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        text=True,
        **popen_kwargs,
    )


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path, monkeypatch):
    # No test may touch the real per-user directory.
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(tmp_path / "default_cache_dir"))


# -- format ----------------------------------------------------------------------------------------


def test_format_header_layout():
    payload = b"kernels" * 10
    data = encode(payload)
    assert HEADER_SIZE == 56
    assert data[:8] == MAGIC == b"TTRTRTC\0"
    assert struct.unpack_from("<IIQ", data, 8) == (1, 0, len(payload))
    assert data[24:56] == hashlib.sha256(payload).digest()
    assert data[56:] == payload
    assert decode(data) == payload
    assert decode(encode(b"")) == b""


def _corruptions(payload: bytes) -> dict[str, tuple[bytes, str]]:
    good = encode(payload)
    flipped = bytearray(good)
    flipped[-1] ^= 0xFF
    wrong_version = bytearray(good)
    struct.pack_into("<I", wrong_version, 8, 99)
    return {
        "empty_file": (b"", "truncated"),
        "truncated_header": (good[:20], "truncated"),
        "truncated_payload": (good[:-5], "truncated"),
        "trailing_bytes": (good + b"xx", "unexpected bytes"),
        "garbage": (os.urandom(300), "magic"),
        "wrong_magic": (b"XXXXXXXX" + good[8:], "magic"),
        "wrong_version": (bytes(wrong_version), "version 99"),
        "bad_checksum": (bytes(flipped), "SHA-256"),
    }


@pytest.mark.parametrize("kind", list(_corruptions(b"x")))
def test_decode_rejects(kind):
    data, problem = _corruptions(b"some payload")[kind]
    with pytest.raises(RuntimeCacheFormatError, match=problem):
        decode(data)


# -- file round trip -------------------------------------------------------------------------------


def test_round_trip_and_counters(tmp_path):
    path = tmp_path / "nested" / "dir" / "model.trtcache"
    cache = RuntimeCache(path)
    assert cache.load() is None
    assert not path.parent.exists()  # loading never creates anything
    assert cache.store(b"payload-1")
    assert path.is_file()
    assert decode(path.read_bytes()) == b"payload-1"
    other = RuntimeCache(str(path))
    assert other.load() == b"payload-1" and other.payload == b"payload-1"
    assert (cache.load_count, cache.save_count, other.load_count) == (1, 1, 1)
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 or sys.platform == "win32"
    assert files_in(path.parent) == [rc.LOCK_NAME, "model.trtcache"]


def test_identical_save_does_not_rewrite(tmp_path):
    path = tmp_path / "c.trtcache"
    cache = RuntimeCache(path)
    assert cache.store(b"same")
    before = path.stat()
    assert cache.store(b"same")
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert cache.save_count == 2


@pytest.mark.parametrize("where", [None, ""])
def test_in_memory_writes_nothing(tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    cache = RuntimeCache(where)
    assert cache.in_memory
    assert cache.load() is None
    assert cache.store(b"abc")
    assert cache.load() == b"abc"
    cache.update(b"def")
    assert cache.flush()
    with cache:
        cache.update(b"ghi")
    assert cache.load() == b"ghi"
    assert save_all_pending() == 0
    assert files_in(tmp_path) == []
    assert cache.quarantine("test") is None


def test_empty_payload_never_replaces_a_cache(tmp_path, caplog):
    path = tmp_path / "c.trtcache"
    cache = RuntimeCache(path)
    assert cache.store(b"kernels")
    with caplog.at_level("INFO", logger=rc.__name__):
        assert not cache.store(b"")
    assert "empty" in caplog.text
    cache.update(b"")
    assert not cache.flush()
    assert not cache.has_pending
    assert RuntimeCache(path).load() == b"kernels"
    # Nor is an empty cache written where there is none.
    assert not RuntimeCache(tmp_path / "new.trtcache").store(b"")
    assert not (tmp_path / "new.trtcache").exists()
    memory = RuntimeCache(None)
    memory.store(b"k")
    assert not memory.store(b"") and memory.load() == b"k"


@pytest.mark.parametrize("kind", list(_corruptions(b"x")))
def test_bad_file_is_reported_moved_aside_and_rebuilt(tmp_path, kind):
    path = tmp_path / "c.trtcache"
    data, problem = _corruptions(b"old kernels")[kind]
    path.write_bytes(data)
    cache = RuntimeCache(path)
    with pytest.warns(RuntimeCacheWarning, match=rf"{path.name}.*{problem}.*moved it to") as record:
        assert cache.load() is None
    assert str(path) in str(record[0].message)
    assert not path.exists()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("c.trtcache.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == data  # kept for inspection, not deleted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.store(b"new kernels")
    assert RuntimeCache(path).load() == b"new kernels"


def test_unreadable_directory_never_raises(tmp_path, monkeypatch):
    path = tmp_path / "c.trtcache"
    RuntimeCache(path).store(b"k")

    def refuse(*args, **kwargs):
        raise PermissionError("simulated")

    # The lock is taken by the file object behind the handle (_runtime_cache_file).
    monkeypatch.setattr(rc_file, "file_lock", refuse)
    assert RuntimeCache(path).load() == b"k"  # read unlocked: replacement is atomic anyway
    with pytest.warns(RuntimeCacheWarning, match="could not save"):
        assert not RuntimeCache(path).store(b"other")


def test_changed_since_load_warns_then_overwrites(tmp_path):
    path = tmp_path / "shared.trtcache"
    RuntimeCache(path).store(b"base")
    mine, theirs = RuntimeCache(path), RuntimeCache(path)
    assert mine.load() == b"base" and theirs.load() == b"base"
    assert theirs.store(b"base+theirs")
    with pytest.warns(
        RuntimeCacheWarning,
        match="changed since it was loaded \\(another process saved kernels\\)",
    ):
        assert mine.store(b"base+mine")
    assert RuntimeCache(path).load() == b"base+mine"
    with warnings.catch_warnings():  # now in sync again
        warnings.simplefilter("error")
        assert mine.store(b"base+mine+more")


def test_file_created_by_another_writer_after_load_warns(tmp_path):
    path = tmp_path / "shared.trtcache"
    mine = RuntimeCache(path)
    assert mine.load() is None
    RuntimeCache(path).store(b"theirs")
    with pytest.warns(RuntimeCacheWarning, match="changed since it was loaded"):
        mine.store(b"mine")


def test_unchanged_file_saves_silently(tmp_path):
    path = tmp_path / "c.trtcache"
    RuntimeCache(path).store(b"a")
    cache = RuntimeCache(path)
    cache.load()
    os.utime(path, ns=(1, 1))  # touched, same content: not a change
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.store(b"ab")
        assert cache.store(b"abc")


def test_quarantine_moves_rejected_payload_aside_only_if_unchanged(tmp_path):
    path = tmp_path / "c.trtcache"
    RuntimeCache(path).store(b"from another TensorRT-RTX")
    cache = RuntimeCache(path)
    cache.load()
    with pytest.warns(RuntimeCacheWarning, match="rejected"):
        aside = cache.quarantine("deserialization failed")
    assert aside is not None and aside.exists() and not path.exists()
    stale = RuntimeCache(path)
    RuntimeCache(path).store(b"good")
    stale.load()
    RuntimeCache(path).store(b"newer good")  # replaced since `stale` loaded: leave it alone
    assert stale.quarantine("rejected") is None
    assert RuntimeCache(path).load() == b"newer good"


# -- update / flush / exit -------------------------------------------------------------------------


def test_update_flush_and_context_manager(tmp_path):
    path = tmp_path / "c.trtcache"
    cache = RuntimeCache(path)
    cache.update(b"v1")
    assert cache.has_pending and not path.exists()
    assert cache.flush() and not cache.has_pending
    assert not cache.flush()  # nothing pending
    with pytest.raises(RuntimeError), cache:
        cache.update(b"v2")
        raise RuntimeError("kernels compiled before an error are still saved")
    assert RuntimeCache(path).load() == b"v2"


def _save_earlier_tests_handles() -> None:
    """Handles from earlier tests in this worker may still be alive (held by cycles not yet
    collected); collect and save them so the counts a test asserts are its own."""
    gc.collect()
    save_all_pending()


def test_save_all_pending_flushes_live_handles(tmp_path):
    _save_earlier_tests_handles()
    a, b = RuntimeCache(tmp_path / "a.trtcache", True), RuntimeCache(tmp_path / "b.trtcache", True)
    mine = RuntimeCache(tmp_path / "mine.trtcache")  # user-built: saves only when told to
    mine.update(b"M")
    a.update(b"A")
    b.update(b"B")
    b.flush()
    assert save_all_pending() == 1
    assert RuntimeCache(tmp_path / "a.trtcache").load() == b"A"
    assert save_all_pending() == 0
    assert not (tmp_path / "mine.trtcache").exists() and mine.has_pending


def test_save_all_pending_never_raises(tmp_path, monkeypatch, caplog):
    _save_earlier_tests_handles()
    cache = RuntimeCache(tmp_path / "a.trtcache", autosave_on_del=True)
    cache.update(b"A")

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(cache, "autosave_now", broken)
    assert save_all_pending() == 0
    assert "boom" in caplog.text
    monkeypatch.undo()
    cache.flush()


def test_atexit_saves_pending_payloads(tmp_path):
    path = tmp_path / "exit" / "c.trtcache"
    child = run_python(
        """
        import sys
        from torch_tensorrt.runtime._runtime_cache import RuntimeCache
        cache = RuntimeCache(sys.argv[1], autosave_on_del=True)
        cache.update(b"compiled before exit")
        unsaved = RuntimeCache(sys.argv[1] + ".mine")  # user-built without autosave_on_del
        unsaved.update(b"not saved")
        """,
        str(path),
    )
    assert child.wait(timeout=60) == 0
    assert RuntimeCache(path).load() == b"compiled before exit"
    assert not path.with_name(path.name + ".mine").exists()


# -- atomicity and concurrency ---------------------------------------------------------------------


@POSIX_ONLY
def test_writer_killed_before_replace_leaves_old_file_valid(tmp_path):
    path = tmp_path / "c.trtcache"
    RuntimeCache(path).store(b"old kernels")
    child = run_python(
        """
        import sys, time
        from torch_tensorrt.runtime import _runtime_cache as rc

        def stall(tmp):
            print("ready", flush=True)
            time.sleep(60)

        rc._before_replace_hook = stall
        rc.RuntimeCache(sys.argv[1]).store(b"new kernels" * 100_000)
        """,
        str(path),
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        if child.stdout:
            child.stdout.close()
    orphans = [n for n in files_in(tmp_path) if n.endswith(".tmp")]
    assert len(orphans) == 1  # the killed writer's fully written temporary, never promoted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(path).load() == b"old kernels"
        assert RuntimeCache(path).store(b"next kernels")  # the lock died with the writer
    assert not any(n.endswith(".tmp") for n in files_in(tmp_path))  # orphan cleaned up under the lock
    assert RuntimeCache(path).load() == b"next kernels"


CONCURRENT_WRITER = """
import sys, time, warnings
from torch_tensorrt.runtime._runtime_cache import RuntimeCache, RuntimeCacheWarning

path, writer, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
warnings.simplefilter("error", RuntimeCacheWarning)  # any corrupt file seen fails the child
warnings.filterwarnings("ignore", message=".*changed since it was loaded")  # expected here
while time.time() < start:
    time.sleep(0.001)
cache = RuntimeCache(path)
for i in range(20):
    seen = cache.load()
    assert seen is None or seen.startswith(b"writer-"), seen[:20]
    payload = f"writer-{writer}-{i}-".encode() * (2000 + 500 * i)
    assert cache.store(payload)
"""


def test_concurrent_writers_never_corrupt_the_file(tmp_path):
    path = tmp_path / "shared.trtcache"
    start = str(time.time() + 2.0)  # both children start saving at the same moment
    children = [run_python(CONCURRENT_WRITER, str(path), w, start) for w in ("a", "b")]
    for child in children:
        assert child.wait(timeout=60) == 0
    expected = {f"writer-{w}-{i}-".encode() * (2000 + 500 * i) for w in ("a", "b") for i in range(20)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RuntimeCache(path).load() in expected
    assert files_in(tmp_path) == [rc.LOCK_NAME, "shared.trtcache"]


# -- file-like -------------------------------------------------------------------------------------


def test_file_like_round_trip():
    stream = io.BytesIO()
    cache = RuntimeCache.from_file_like(stream)
    assert not cache.in_memory
    assert cache.load() is None
    assert cache.store(b"long payload" * 10)
    assert cache.store(b"short")  # rewritten from the start and truncated
    assert decode(stream.getvalue()) == b"short"
    assert RuntimeCache.from_file_like(io.BytesIO(stream.getvalue())).load() == b"short"


def test_file_like_corrupt_warns():
    stream = io.BytesIO(b"garbage" * 20)
    with pytest.warns(RuntimeCacheWarning, match="magic"):
        assert RuntimeCache.from_file_like(stream).load() is None
    assert stream.getvalue() == b"garbage" * 20  # a stream is never altered by loading


# -- default location ------------------------------------------------------------------------------


@POSIX_ONLY
def test_default_dir_created_private(tmp_path, monkeypatch):
    target = tmp_path / "a" / "cache"
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(target))
    old = os.umask(0o022)
    try:
        assert default_cache_dir() == target
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert default_cache_path("abc123") == target / "abc123.trtcache"


def test_default_dir_from_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv(rc.CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "torch_tensorrt" / "runtime_cache"


@POSIX_ONLY
def test_existing_group_writable_dir_is_tightened(tmp_path, monkeypatch):
    target = tmp_path / "loose"
    target.mkdir()
    os.chmod(target, 0o777)
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(target))
    default_cache_dir()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


@POSIX_ONLY
def test_dir_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "planted"
    target.mkdir(mode=0o755)
    try:
        os.chown(target, 12345, -1)
    except PermissionError:
        pytest.skip("chown to another uid needs root (or CAP_CHOWN)")
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(target))
    with pytest.raises(PermissionError) as info:
        default_cache_dir()
    message = str(info.value)
    assert str(target) in message and "12345" in message and rc.CACHE_DIR_ENV in message
    with pytest.raises(PermissionError):
        resolve_runtime_cache(default_runtime_cache(), "abc")


@POSIX_ONLY
def test_symlinked_dir_and_file_are_refused(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(link))
    with pytest.raises(PermissionError, match="symbolic link"):
        default_cache_dir()
    afile = tmp_path / "file"
    afile.write_text("")
    monkeypatch.setenv(rc.CACHE_DIR_ENV, str(afile))
    with pytest.raises(NotADirectoryError):
        default_cache_dir()


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "a b"])
def test_default_path_rejects_unsafe_hashes(bad):
    with pytest.raises(ValueError):
        default_cache_path(bad)


def test_resolve_runtime_cache(tmp_path):
    engine = resolve_runtime_cache(default_runtime_cache(), "abc")
    assert engine.path == str(default_cache_dir() / "abc.trtcache") and engine.autosave_on_del
    assert resolve_runtime_cache(default_runtime_cache(), "abc") is engine
    assert resolve_runtime_cache(default_runtime_cache(), "def") is not engine  # one file per engine by default
    assert resolve_runtime_cache(None, "abc").in_memory  # None opts out of the file
    user = tmp_path / "user.bin"
    shared = resolve_runtime_cache(str(user), "abc")
    assert resolve_runtime_cache(user, "def") is shared  # a user path is shared by all its engines
    assert resolve_runtime_cache("", "abc").in_memory
    mine = RuntimeCache(None)
    assert resolve_runtime_cache(mine, "abc") is mine
    with pytest.raises(TypeError):
        resolve_runtime_cache(3, "abc")  # type: ignore[arg-type]
