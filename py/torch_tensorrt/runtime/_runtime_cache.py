"""Python handle for TensorRT-RTX's runtime cache (the kernels it JIT-compiles on the device).

TensorRT's own cache object only serializes to and deserializes from bytes and cannot merge two
caches. This module owns everything around those bytes: the file format, where files live, locking,
atomic replacement, recovery from bad files and saving at exit. It never imports TensorRT; the engine
hands in ``bytes`` (:meth:`RuntimeCache.update`) and gets ``bytes`` back (:meth:`RuntimeCache.load`).

File format (all integers little-endian), version 1::

    offset  size  field
    0       8     magic            b"TTRTRTC\\0"
    8       4     format version   u32, currently 1
    12      4     flags            u32, reserved, must be 0
    16      8     payload length   u64, number of bytes after the header
    24      32    payload SHA-256  digest of the payload bytes
    56      n     payload          TensorRT's serialized runtime cache, untouched

A file whose magic, version, flags, length or digest do not match (truncated, garbage, written by a
newer format, bit rot) is reported with a :class:`RuntimeCacheWarning`, moved aside to
``<name>.corrupt-<time_ns>`` and treated as missing, so TensorRT never sees bytes we cannot vouch for
and a broken file never stops a model from running.

Reading is bounded: only regular files are read (a symlink is followed, but a FIFO, device, socket or
directory at the cache path is refused before it is opened, and the opened file is checked again, so
reading never blocks); the 56-byte header is read and checked before the payload; and a file larger
than :func:`max_cache_bytes` (``$TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES``, default 1 GiB, header
included) is not read at all. A refused path is reported with a :class:`RuntimeCacheWarning` naming it
and the reason, left in place, and the engine starts from a fresh cache. Saving refuses the same paths
(replacing a device node such as ``/dev/null`` would be worse than losing the kernels) and payloads
over the limit, which could never be read back.

Writing: under an exclusive lock on the directory's one lock file (:data:`LOCK_NAME`, shared by every
cache file in the directory and by the C++ runtime, created once and never deleted), the new file is written to a temporary file in
the same directory, fsynced, then ``os.replace``d over the old one; readers see either the old or the
new file, never a mix, and a writer killed at any point leaves the old file intact (its temporary file
is removed by the next writer, which can tell it is orphaned because temporaries only exist while
their writer holds the lock). Missing directories on the way to the file are created 0700.

Tidying: the default directory has a size limit (:func:`dir_max_bytes`,
``$TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES``, default 2 GiB). After a save into it, the least
recently used ``<name>.trtcache`` files (oldest mtime; loading a file touches it) are deleted until the
directory is within the limit (:func:`evict_directory`); the file just saved is never deleted, and
user-named paths are never evicted.

Sharing: TensorRT-RTX cannot merge caches, so by default every engine gets its own file named by its
hash in a private per-user directory (:func:`default_cache_path`). A path given by the user is shared
by every engine that uses it; in one process those engines share one handle
(:meth:`RuntimeCache.shared`). When another process saved the file after this handle loaded it,
:meth:`RuntimeCache.store` warns and then overwrites it (last writer wins, see there for why).

The public surface matches Torch-TensorRT's ``RuntimeCache`` (``path``, ``autosave_on_del``,
``save``/``load`` with an optional path, ``save_to_stream``/``load_from_stream``, ``has_cache``); the
bytes are in the format above rather than TensorRT's bare serialization, so that every reader can
check them.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import re
import struct
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

# The file rules shared with the engine cache (bounded reads, atomic writes, private directories,
# eviction) live in one module; the runtime cache keeps its historical private names for them.
from torch_tensorrt._cache_files import RefusedFile as _RefusedFile
from torch_tensorrt._cache_files import atomic_write, evict_lru, make_private_dirs, secure_private_directory
from torch_tensorrt._cache_files import not_regular_reason as _not_regular_reason
from torch_tensorrt._cache_files import open_regular as _open_regular
from torch_tensorrt._cache_files import read_at_most as _read_at_most
from torch_tensorrt._cache_files import remove_orphaned_temporaries as _remove_orphaned_temporaries
from torch_tensorrt._file_lock import file_lock

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_DIR_MAX_BYTES",
    "DEFAULT_MAX_BYTES",
    "DIR_MAX_BYTES_ENV",
    "LOCK_NAME",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAGIC",
    "MAX_BYTES_ENV",
    "RuntimeCache",
    "RuntimeCacheFormatError",
    "RuntimeCacheWarning",
    "decode",
    "DefaultRuntimeCache",
    "default_cache_dir",
    "default_cache_location",
    "default_cache_path",
    "default_runtime_cache",
    "dir_max_bytes",
    "encode",
    "evict_directory",
    "is_default_runtime_cache",
    "max_cache_bytes",
    "resolve_runtime_cache",
    "save_all_pending",
]

MAGIC = b"TTRTRTC\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIIQ32s")
HEADER_SIZE = _HEADER.size  # 56
CACHE_SUFFIX = ".trtcache"
CACHE_DIR_ENV = "TORCH_TENSORRT_CACHE_DIR"
DEFAULT_LOCK_TIMEOUT_S = 10.0
# Largest cache file (header included) that is read or written. TensorRT-RTX caches are kernels for
# one engine, typically kilobytes to tens of megabytes; the limit exists so that a wrong path (a huge
# file, a device) can never exhaust memory. Override with the environment variable (a byte count).
DEFAULT_MAX_BYTES = 1 << 30
MAX_BYTES_ENV = "TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES"
# One lock file per directory: a per-file "<name>.lock" could never be deleted safely (a peer may be
# waiting on it), so each cache left one behind forever. Same name in the C++ runtime.
LOCK_NAME = ".torch_tensorrt_runtime_cache.lock"
# Size limit of the default directory (cache files only); least recently used files go first.
DEFAULT_DIR_MAX_BYTES = 2 << 30
DIR_MAX_BYTES_ENV = "TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES"

# Test-only hook: called with the temporary file's path after it is written and fsynced, right before
# it replaces the cache. Lets a test kill a writer at the worst moment without slowing real saves.
_before_replace_hook: Callable[[Path], None] | None = None


class RuntimeCacheWarning(UserWarning):
    """A runtime cache file could not be used or saved as expected (never fatal)."""


class RuntimeCacheFormatError(ValueError):
    """Bytes that are not a runtime cache file in our format."""


def encode(payload: bytes) -> bytes:
    """Wrap TensorRT's serialized cache bytes in our header."""
    payload = bytes(payload)
    header = _HEADER.pack(
        MAGIC, FORMAT_VERSION, 0, len(payload), hashlib.sha256(payload).digest()
    )
    return header + payload


def _parse_header(data: bytes) -> tuple[int, bytes]:
    """Validate a header and return (payload length, digest); raises RuntimeCacheFormatError."""
    if len(data) < HEADER_SIZE:
        raise RuntimeCacheFormatError(
            f"file is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header (truncated)"
        )
    magic, version, flags, length, digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise RuntimeCacheFormatError(
            f"bad magic {magic!r} (expected {MAGIC!r}): not a runtime cache file"
        )
    if version != FORMAT_VERSION:
        raise RuntimeCacheFormatError(
            f"format version {version}, this build reads version {FORMAT_VERSION}"
        )
    if flags != 0:
        raise RuntimeCacheFormatError(f"unknown header flags {flags:#x}")
    return length, digest


def decode(data: bytes) -> bytes:
    """Return the payload of a cache file's bytes; raises RuntimeCacheFormatError if they are not valid."""
    length, digest = _parse_header(data)
    actual = len(data) - HEADER_SIZE
    if actual < length:
        raise RuntimeCacheFormatError(
            f"payload is {actual} bytes, header says {length} (truncated)"
        )
    if actual > length:
        raise RuntimeCacheFormatError(
            f"{actual - length} unexpected bytes after the {length}-byte payload"
        )
    payload = data[HEADER_SIZE:]
    if hashlib.sha256(payload).digest() != digest:
        raise RuntimeCacheFormatError(
            "payload SHA-256 does not match the header (corrupted)"
        )
    return payload


def max_cache_bytes() -> int:
    """The largest runtime cache file, header included, that is read or saved.

    ``$TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES`` (a whole number of bytes, at least the header size) if
    set, else :data:`DEFAULT_MAX_BYTES` (1 GiB). Read on every use, so it can change at run time; an
    unusable value is reported with a :class:`RuntimeCacheWarning` and the default applies.
    """
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    # Decimal digits only (no sign, "_" or suffix), exactly what the C++ runtime accepts.
    value = int(raw) if raw.isascii() and raw.isdigit() else -1
    if value < HEADER_SIZE:
        warnings.warn(
            f"{MAX_BYTES_ENV}={raw!r} is not a whole number of bytes >= {HEADER_SIZE}; "
            f"using the default limit of {DEFAULT_MAX_BYTES} bytes",
            RuntimeCacheWarning,
            stacklevel=2,
        )
        return DEFAULT_MAX_BYTES
    return value


def dir_max_bytes() -> int:
    """Size limit of the default cache directory: ``$TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES``
    (decimal digits) or :data:`DEFAULT_DIR_MAX_BYTES` (2 GiB); read on every save, an unusable value
    is reported with a :class:`RuntimeCacheWarning` and the default applies."""
    raw = os.environ.get(DIR_MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_DIR_MAX_BYTES
    if raw.isascii() and raw.isdigit():
        return min(int(raw), (1 << 64) - 1)  # the C++ runtime saturates at 64 bits
    warnings.warn(
        f"{DIR_MAX_BYTES_ENV}={raw!r} is not a whole number of bytes; "
        f"using the default limit of {DEFAULT_DIR_MAX_BYTES} bytes",
        RuntimeCacheWarning,
        stacklevel=2,
    )
    return DEFAULT_DIR_MAX_BYTES


def is_cache_file_name(name: str) -> bool:
    """Whether ``name`` is a default-directory cache file name, ``<engine hash>.trtcache``.

    Temporaries and the lock start with ".", moved-aside files end in ``.corrupt-<ns>``: neither
    matches, so eviction only ever deletes caches."""
    stem = name[: -len(CACHE_SUFFIX)]
    return name.endswith(CACHE_SUFFIX) and bool(stem) and bool(_ENGINE_HASH_RE.fullmatch(stem))


def _in_default_dir(path: Path) -> bool:
    """Whether ``path`` is a cache file in the default directory (only those are evicted)."""
    try:
        return is_cache_file_name(path.name) and _absolute(str(path.parent)) == default_cache_location()
    except RuntimeError:  # no home directory: there is no default directory to tidy
        return False


def evict_directory(directory: str | os.PathLike[str], keep: str, limit: int) -> list[str]:
    """Delete the oldest (mtime, then name) regular cache files in ``directory`` other than ``keep``
    until their total size is at most ``limit``; return the deleted names in order.

    Call holding the directory lock, so no writer is using what is deleted. Symbolic links and other
    non-regular entries are neither counted nor deleted (the C++ rule, RuntimeCacheLocation::evict).
    """
    return evict_lru(directory, is_cache_file_name, keep, limit)


def _evict_after_save(path: Path) -> None:
    if not _in_default_dir(path):
        return  # user-named paths are never evicted
    limit = dir_max_bytes()
    for name in evict_directory(path.parent, path.name, limit):
        logger.info(
            "evicted least recently used runtime cache %s (directory over %d bytes)", name, limit
        )


def _read_cache_file(path: Path, limit: int) -> bytes:
    """The bytes of the cache file at ``path``, bounded by ``limit``; its header is checked first.

    Raises FileNotFoundError, _RefusedFile (not regular, over the limit) or RuntimeCacheFormatError
    (bad header). The payload is not checked here: :func:`decode` does that on the result.
    """
    f, st = _open_regular(path)
    with f:
        header = _read_at_most(f, HEADER_SIZE)
        _, digest = _parse_header(header)
        if st.st_size > limit:
            raise _RefusedFile(
                f"is {st.st_size} bytes, over the {limit}-byte limit for runtime cache files "
                f"(raise it with {MAX_BYTES_ENV})",
                digest,
            )
        # Sized by the file, not by the length its header claims; one byte more, so that a file that
        # grew since fstat is caught by decode() (trailing bytes) instead of being read without bound.
        return header + _read_at_most(f, max(st.st_size - HEADER_SIZE, 0) + 1)


# ---------------------------------------------------------------------------------------------------
# Where cache files live


def _secure_directory(directory: Path) -> None:
    """Refuse a cache directory another user could write into; tighten our own if needed."""
    secure_private_directory(directory, "runtime cache directory", f"set {CACHE_DIR_ENV} to a directory you own")


def default_cache_location() -> Path:
    """Where :func:`default_cache_dir` is, without creating or checking it (no side effects).

    ``$TORCH_TENSORRT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/torch_tensorrt/runtime_cache`` or
    ``~/.cache/torch_tensorrt/runtime_cache`` (Windows: ``%LOCALAPPDATA%\\torch_tensorrt\\runtime_cache``).
    """
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        directory = Path(override).expanduser()
    else:
        if sys.platform == "win32":
            base = os.environ.get("LOCALAPPDATA") or str(
                Path.home() / "AppData" / "Local"
            )
        else:
            base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        directory = Path(base) / "torch_tensorrt" / "runtime_cache"
    return Path(os.path.abspath(directory))


def default_cache_dir() -> Path:
    """The private per-user runtime cache directory (:func:`default_cache_location`), created 0700 and
    checked on every call.

    Raises ``PermissionError`` if it is a symlink or owned by another user (a shared temporary
    directory would let that user plant a cache), ``NotADirectoryError`` if it is a file.
    """
    directory = default_cache_location()
    if not os.path.lexists(directory):
        make_private_dirs(directory)
    _secure_directory(directory)
    return directory


class DefaultRuntimeCache(str):
    """``RuntimeSettings().runtime_cache``: the per-user default location, as a ``str``.

    It compares equal to that path, as Torch-TensorRT's default path string does, but it is told
    apart from a path the user gave: it means "the process-wide default cache" (see
    ``runtime/_defaults.py``), which unless changed is one file per engine in the directory it
    names, since TensorRT-RTX caches cannot be merged.
    """

    __slots__ = ()


def default_runtime_cache() -> DefaultRuntimeCache:
    return DefaultRuntimeCache(os.fspath(default_cache_location()))


def is_default_runtime_cache(value: object) -> bool:
    return isinstance(value, DefaultRuntimeCache)


_ENGINE_HASH_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def default_cache_path(engine_hash: str) -> Path:
    """``<default_cache_dir()>/<engine_hash>.trtcache``: one file per engine, since caches cannot merge."""
    if not _ENGINE_HASH_RE.fullmatch(engine_hash):
        raise ValueError(f"engine hash {engine_hash!r} is not usable as a file name")
    return default_cache_dir() / f"{engine_hash}{CACHE_SUFFIX}"


def _absolute(path: str) -> Path:
    return Path(os.path.abspath(os.path.expanduser(path)))


# ---------------------------------------------------------------------------------------------------
# The handle

# Handles holding payloads that were updated but not yet saved; weak so that the registry never keeps
# an engine's cache alive. Owners flush on teardown; the atexit hook covers handles still alive then.
_PENDING: weakref.WeakSet[RuntimeCache] = weakref.WeakSet()
_PENDING_MUTEX = threading.Lock()

# One handle per user-given path within a process, so engines sharing a file share its kernels.
_SHARED: weakref.WeakValueDictionary[str, RuntimeCache] = weakref.WeakValueDictionary()
_SHARED_MUTEX = threading.Lock()


class _Unseen:
    """Marker: this handle has not looked at its file yet."""


_UNSEEN = _Unseen()


class RuntimeCache:
    """A runtime cache stored in a file, a binary stream, or only in memory (Torch-TensorRT's
    ``torch_tensorrt.runtime.RuntimeCache``).

    - ``RuntimeCache(path="", autosave_on_del=False)``: file-backed when ``path`` is given, else in
      memory only. ``path`` is kept as given (a ``str``; ``""`` for in-memory and stream caches).
    - ``autosave_on_del``: whether the handle saves itself (when it goes away, when an engine using
      it is torn down or stops using it, and at interpreter exit). Off for handles the user builds,
      so that saving stays under the user's control; on for the caches engines create from a path.
    - :meth:`save` / :meth:`load` write and read its file (or another path) now;
      :meth:`save_to_stream` / :meth:`load_from_stream` a binary stream. Saving first collects the
      kernels of the engines currently using the handle.
    - :meth:`store` writes given payload bytes, :meth:`update` records an engine's latest payload,
      :meth:`flush` stores it if it has not been stored yet; :meth:`from_file_like` makes a handle
      that reads and writes a stream in place of a file (``runtime_cache(module, stream)``).

    ``payload`` is the last loaded, saved or updated payload. ``load_count`` counts loads,
    ``save_count`` successful stores (including those that found the file already identical and
    skipped the write). Methods are thread-safe. Handles compare by identity.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = "",
        autosave_on_del: bool = False,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    ):
        given = "" if path is None else path
        if not isinstance(given, str | os.PathLike) or isinstance(os.fspath(given), bytes):
            raise TypeError(f"RuntimeCache path must be a str or os.PathLike, not {type(path).__name__}")
        self.path: str = os.fspath(given)
        # Resolved once, so a later chdir cannot move the file; "~" expands as the user meant it.
        self._file: Path | None = _absolute(self.path) if self.path else None
        self.autosave_on_del = autosave_on_del
        self.lock_timeout = lock_timeout
        self.payload: bytes | None = None
        self.load_count = 0
        self.save_count = 0
        self._stream: BinaryIO | None = None
        self._pending: bytes | None = None
        # Digest of the payload in the file when this handle last read or wrote it; None = no file.
        self._seen_digest: bytes | None | _Unseen = _UNSEEN
        self._mutex = threading.RLock()
        # Engines whose contexts were bound to this handle; save() asks them for their kernels.
        self._users: weakref.WeakSet[Any] = weakref.WeakSet()

    @classmethod
    def from_file_like(cls, f: BinaryIO) -> RuntimeCache:
        """A handle reading and writing ``f`` (seekable binary stream) in the file format, without locking."""
        cache = cls("")
        cache._stream = f
        return cache

    @classmethod
    def shared(cls, path: str | os.PathLike[str]) -> RuntimeCache:
        """The process-wide handle for ``path`` (created on first use, saving itself)."""
        key = os.fspath(_absolute(os.fspath(path)))
        with _SHARED_MUTEX:
            cache = _SHARED.get(key)
            if cache is None:
                cache = cls(key, autosave_on_del=True)
                _SHARED[key] = cache
            return cache

    @property
    def autosave(self) -> bool:
        """Older name of :attr:`autosave_on_del`."""
        return self.autosave_on_del

    @autosave.setter
    def autosave(self, value: bool) -> None:
        self.autosave_on_del = value

    @property
    def in_memory(self) -> bool:
        return self._file is None and self._stream is None

    @property
    def has_pending(self) -> bool:
        return self._pending is not None

    @property
    def lock_path(self) -> Path | None:
        return None if self._file is None else self._file.parent / LOCK_NAME

    def has_cache(self) -> bool:
        """Whether the handle holds kernels (loaded, or handed over by an engine that ran)."""
        return self.payload is not None

    def is_cpp_runtime(self) -> bool:
        """Whether engines run by the C++ runtime can use this handle; as in Torch-TensorRT, that is
        when the C++ runtime is loaded. One handle type serves both runtimes here, so the Python
        runtime can always use it too."""
        from torch_tensorrt import _trt

        return bool(_trt.ENABLED_FEATURES.torch_tensorrt_runtime)

    def add_user(self, engine: Any) -> None:
        """Record an engine whose context uses this handle (held weakly), for :meth:`collect`."""
        self._users.add(engine)

    def collect(self) -> None:
        """Ask the engines whose live context uses this handle to hand over their kernels.

        Engines keep JIT-compiled kernels in their context until it is retired; a save in the middle
        of a run would otherwise write what was loaded. Called without holding this handle's lock,
        since an engine hands kernels over (``update``) while holding its own.
        """
        for engine in list(self._users):
            if getattr(engine, "active_runtime_cache", None) is self:
                engine.stash_runtime_cache()

    def __repr__(self) -> str:
        return (
            f"RuntimeCache(path={self.path!r}, autosave_on_del={self.autosave_on_del}, "
            f"loads={self.load_count}, saves={self.save_count}, pending={self.has_pending})"
        )

    def __enter__(self) -> RuntimeCache:  # noqa: PYI034 - typing.Self needs 3.11
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Kernels compiled before an exception are still valid, so save either way.
        self.flush()

    def __del__(self) -> None:
        # A handle that saves itself and still holds kernels nobody stored. Never raises: a
        # finaliser has no caller to report to, and the file simply keeps its previous content.
        try:
            if getattr(self, "autosave_on_del", False) and getattr(self, "_pending", None) is not None:
                self.flush()
        except Exception:  # noqa: BLE001
            logger.debug("saving runtime cache %s on deletion failed", getattr(self, "path", "?"), exc_info=True)

    # -- loading -----------------------------------------------------------------------------------

    def load(self, path: str | os.PathLike[str] | None = None) -> bytes | None:
        """Read the stored payload into the handle, from ``path`` if given, else from its own file or
        stream; returns it, or None when there is none or it was unusable (reported with a
        :class:`RuntimeCacheWarning`, never raised). An in-memory handle returns what it holds."""
        if path is not None:
            source = RuntimeCache(path, lock_timeout=self.lock_timeout)
            if self._stream is not None or source._file != self._file:
                payload = source.load()
                with self._mutex:
                    self.load_count += 1
                    if payload is not None:
                        self.payload = payload
                return payload
        with self._mutex:
            self.load_count += 1
            if self._stream is not None:
                payload = self._read_stream(self._stream, rewind=True)[1]
            elif self._file is None:
                return self.payload
            else:
                payload = self._load_file(self._file)
            if payload is not None:
                self.payload = payload
            return payload

    def load_from_stream(self, stream: BinaryIO) -> int:
        """Read a cache (as :meth:`save_to_stream` writes it) from ``stream``'s current position to its
        end into the handle; returns the number of bytes read, 0 when the stream was empty or did
        not hold a usable cache (reported with a :class:`RuntimeCacheWarning`). Contexts created
        afterwards start from these kernels."""
        consumed, payload = self._read_stream(stream, rewind=False)
        if payload is None:
            return 0
        with self._mutex:
            self.load_count += 1
            self.payload = payload
        return consumed

    def save_to_stream(self, stream: BinaryIO) -> int:
        """Write the handle's current kernels (collected from the engines using it) to ``stream`` at
        its current position; returns the number of bytes written, 0 when there is nothing to save.
        The caller owns the stream (opening, positioning, flushing, closing)."""
        self.collect()
        with self._mutex:
            payload = self.payload
            if not payload:
                return 0
            refusal = self._size_refusal(len(payload))
            if refusal is not None:
                warnings.warn(f"not saving runtime cache to {stream!r}: {refusal}", RuntimeCacheWarning, stacklevel=2)
                return 0
            data = encode(payload)
            stream.write(data)
            return len(data)

    @staticmethod
    def _read_stream(stream: BinaryIO, *, rewind: bool) -> tuple[int, bytes | None]:
        """(bytes read, payload or None); reads at most the size limit plus one byte."""
        if rewind and stream.seekable():
            stream.seek(0)
        limit = max_cache_bytes()
        data = _read_at_most(stream, limit + 1)
        if not data:
            return 0, None
        try:
            if len(data) > limit:
                raise RuntimeCacheFormatError(
                    f"more than the {limit}-byte limit for runtime cache files (raise it with {MAX_BYTES_ENV})"
                )
            return len(data), decode(data)
        except RuntimeCacheFormatError as e:
            warnings.warn(
                f"runtime cache stream {stream!r} is not usable: {e}; ignoring it",
                RuntimeCacheWarning,
                stacklevel=4,
            )
            return len(data), None

    def _load_file(self, path: Path) -> bytes | None:
        try:
            # Checked before taking the lock, which would create a lock file next to a device node.
            try:
                reason = _not_regular_reason(os.stat(path).st_mode)
            except FileNotFoundError:  # also a dangling symlink
                self._seen_digest = None
                return None
            if reason is not None:
                self._refuse(path, _RefusedFile(reason))
                return None
            with contextlib.ExitStack() as stack:
                try:
                    locked = stack.enter_context(
                        file_lock(self._lock_path_checked(), self.lock_timeout)
                    )
                except OSError as e:
                    # Read-only cache directory or a peer holding the lock too long. Reading unlocked is
                    # still consistent because writers replace the file atomically; only moving a bad
                    # file aside needs the lock, so that is skipped.
                    logger.info(
                        "reading runtime cache %s without its lock: %s", path, e
                    )
                    locked = False
                return self._read_and_check(path, locked)
        except OSError as e:
            warnings.warn(
                f"could not read runtime cache {path}: {e}; continuing without it",
                RuntimeCacheWarning,
                stacklevel=4,
            )
            return None

    def _refuse(self, path: Path, e: _RefusedFile) -> None:
        # Not a bad cache but the wrong kind of file (or a cache above the limit): it is left in
        # place, since moving a device node or someone's large file is not ours to do.
        warnings.warn(
            f"runtime cache {path} {e}; not reading it, starting with a fresh cache",
            RuntimeCacheWarning,
            stacklevel=5,
        )
        self._seen_digest = e.digest

    def _read_and_check(self, path: Path, locked: bool) -> bytes | None:
        try:
            payload = decode(_read_cache_file(path, max_cache_bytes()))
        except FileNotFoundError:
            self._seen_digest = None
            return None
        except _RefusedFile as e:
            self._refuse(path, e)
            return None
        except RuntimeCacheFormatError as e:
            # Under the lock no writer can have replaced the file since we read it, so what is moved
            # aside is exactly the bad file, never a good cache another process just saved.
            aside = self._move_aside(path) if locked else None
            where = f"moved it to {aside.name}" if aside else "left it in place"
            warnings.warn(
                f"runtime cache {path} is not a valid cache file ({e}); {where} and will rebuild the cache",
                RuntimeCacheWarning,
                stacklevel=5,
            )
            self._seen_digest = None
            return None
        self._seen_digest = hashlib.sha256(payload).digest()
        if _in_default_dir(path):
            with contextlib.suppress(OSError):
                os.utime(path)  # "used" for least-recently-used eviction
        return payload

    @staticmethod
    def _move_aside(path: Path) -> Path | None:
        aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
        try:
            os.replace(path, aside)
        except OSError as e:
            logger.warning("could not move bad runtime cache %s aside: %s", path, e)
            return None
        return aside

    def quarantine(self, reason: str) -> Path | None:
        """Move the file aside because TensorRT rejected the payload it holds (e.g. another TensorRT-RTX
        version); returns the new name. The file is left alone if another process replaced it since
        this handle loaded it, as that file is a different cache."""
        with self._mutex:
            self.payload = None
            if self._file is None or not self._file.exists():
                return None
            try:
                with file_lock(self._lock_path_checked(), self.lock_timeout):
                    seen = self._seen_digest
                    if (
                        not isinstance(seen, bytes)
                        or _digest_on_disk(self._file) != seen
                    ):
                        return None  # not the file this handle loaded
                    aside = self._move_aside(self._file)
            except (OSError, TimeoutError) as e:
                logger.warning(
                    "could not quarantine runtime cache %s: %s", self._file, e
                )
                return None
            if aside is None:
                return None
            self._seen_digest = None
            warnings.warn(
                f"runtime cache {self._file} was rejected ({reason}); moved it to {aside}",
                RuntimeCacheWarning,
                stacklevel=2,
            )
            return aside

    # -- saving ------------------------------------------------------------------------------------

    def update(self, payload: bytes) -> None:
        """Record an engine's current serialized cache; stored by :meth:`flush`, or by the handle
        itself (teardown, exit) when it saves itself (:attr:`autosave_on_del`)."""
        payload = bytes(payload)
        with self._mutex:
            self.payload = payload
            self._pending = payload
        if self.autosave_on_del:
            with _PENDING_MUTEX:
                _PENDING.add(self)

    def flush(self) -> bool:
        """Store the pending payload now if there is one. Returns whether something was stored."""
        with self._mutex:
            pending = self._pending
            if pending is None:
                return False
            return self.store(pending)

    def autosave_now(self) -> bool:
        """:meth:`flush` if the handle saves itself (:attr:`autosave_on_del`): what an engine calls
        when it stops using the handle or is torn down. Returns whether something was stored."""
        return self.autosave_on_del and self.flush()

    def save(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the current kernels now: to ``path`` if given, else to the handle's file or stream.

        The engines whose context uses the handle hand over their kernels first. Returns whether
        something was stored: False for an in-memory handle without ``path``, when there are no
        kernels yet, or when the save failed (reported with a :class:`RuntimeCacheWarning`).
        """
        if isinstance(path, bytes):
            raise TypeError("RuntimeCache.save() takes a path; to store payload bytes use store(payload)")
        self.collect()
        with self._mutex:
            payload = self.payload
            if payload is None:
                return False
            if path is not None:
                target = RuntimeCache(path, lock_timeout=self.lock_timeout)
                if self._stream is not None or target._file != self._file:
                    return target.store(payload)
            if self.in_memory:
                return False
            return self.store(payload)

    def store(self, payload: bytes) -> bool:
        """Store ``payload`` now. Returns False (and logs or warns) instead of raising on failure.

        An empty payload is never stored: it would replace kernels with nothing (TensorRT serializes an
        empty cache when an engine never ran), so it returns False and leaves the file alone.

        If another process saved the file after this handle loaded it, a :class:`RuntimeCacheWarning`
        says so and the file is overwritten anyway. Caches cannot be merged, and this handle's payload
        holds the kernels this process compiled on top of what it loaded, so keeping the other file
        would drop our kernels just as overwriting drops theirs; the warning points users sharing one
        path between processes to per-engine default paths.
        """
        payload = bytes(payload)
        with self._mutex:
            if not payload:
                logger.info(
                    "not saving an empty runtime cache to %s; keeping what is there",
                    self._where(),
                )
                self._clear_pending(payload)
                return False
            refusal = self._save_refusal(len(payload))
            if refusal is not None:
                warnings.warn(
                    f"not saving runtime cache {self._where()}: {refusal}",
                    RuntimeCacheWarning,
                    stacklevel=3,
                )
                self._clear_pending(payload)  # retrying the same payload would be refused again
                return False
            if self._stream is not None:
                ok = self._save_stream(payload)
            elif self._file is None:
                ok = True
            else:
                ok = self._save_file(self._file, payload)
            if ok:
                self.payload = payload
                self.save_count += 1
                self._clear_pending(payload)
            return ok

    @staticmethod
    def _size_refusal(payload_size: int) -> str | None:
        limit = max_cache_bytes()
        if HEADER_SIZE + payload_size > limit:
            return (
                f"the cache is {HEADER_SIZE + payload_size} bytes, over the {limit}-byte limit for "
                f"runtime cache files (raise it with {MAX_BYTES_ENV}), so it could not be read back"
            )
        return None

    def _save_refusal(self, payload_size: int) -> str | None:
        """Why a payload of this size cannot be saved where this handle writes, or None."""
        if self.in_memory:
            return None
        refusal = self._size_refusal(payload_size)
        if refusal is not None or self._file is None:
            return refusal
        try:
            reason = _not_regular_reason(os.stat(self._file).st_mode)
        except OSError:
            return None  # missing (the usual case) or unreadable: _save_file reports real failures
        # os.replace would swap a FIFO or device node (e.g. /dev/null) for a regular file.
        return None if reason is None else f"the path {reason}"

    def _where(self) -> str:
        return (
            "memory"
            if self.in_memory
            else ("a stream" if self._stream is not None else str(self._file))
        )

    def _clear_pending(self, saved: bytes) -> None:
        if self._pending is not None and self._pending == saved:
            self._pending = None
            with _PENDING_MUTEX:
                _PENDING.discard(self)

    def _save_stream(self, payload: bytes) -> bool:
        assert self._stream is not None
        try:
            if self._stream.seekable():
                self._stream.seek(0)
            self._stream.write(encode(payload))
            self._stream.truncate()
            self._stream.flush()
        except (OSError, ValueError) as e:  # ValueError: closed stream
            warnings.warn(
                f"could not write runtime cache to {self._stream!r}: {e}",
                RuntimeCacheWarning,
                stacklevel=4,
            )
            return False
        return True

    def _lock_path_checked(self) -> Path:
        lock_path = self.lock_path
        assert lock_path is not None
        return lock_path

    def _save_file(self, path: Path, payload: bytes) -> bool:
        digest = hashlib.sha256(payload).digest()
        try:
            make_private_dirs(path.parent)  # a missing directory is created private, like the default one
            with file_lock(self._lock_path_checked(), self.lock_timeout) as exclusive:
                if exclusive:
                    _remove_orphaned_temporaries(path)
                on_disk = _digest_on_disk(path)
                if on_disk == digest and _size_on_disk(path) == HEADER_SIZE + len(
                    payload
                ):
                    self._seen_digest = digest
                    return True  # the file already holds exactly this cache
                seen = self._seen_digest
                if (
                    not isinstance(seen, _Unseen)
                    and on_disk is not None
                    and on_disk != seen
                ):
                    warnings.warn(
                        f"runtime cache {path} changed since it was loaded (another process saved kernels); "
                        "overwriting it with this process's cache, so kernels only the other process "
                        "compiled are dropped. Caches cannot be merged: give each process or engine its "
                        "own file (the default per-engine path does) to keep both.",
                        RuntimeCacheWarning,
                        stacklevel=4,
                    )
                _atomic_write(path, encode(payload))
                self._seen_digest = digest
                _evict_after_save(path)  # still under the directory lock
                return True
        except (OSError, TimeoutError) as e:
            warnings.warn(
                f"could not save runtime cache {path}: {e}",
                RuntimeCacheWarning,
                stacklevel=4,
            )
            return False


def _digest_on_disk(path: Path) -> bytes | None:
    """The payload digest claimed by the file's header; None when there is no valid header."""
    try:
        f, _ = _open_regular(path)  # a FIFO at the path would block a plain open()
        with f:
            header = _read_at_most(f, HEADER_SIZE)
    except (FileNotFoundError, _RefusedFile):
        return None
    try:
        return _parse_header(header)[1]
    except RuntimeCacheFormatError:
        return None


def _size_on_disk(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, data, _before_replace_hook)


# ---------------------------------------------------------------------------------------------------
# Resolution and exit


def resolve_runtime_cache(
    value: str | os.PathLike[str] | RuntimeCache | None, engine_hash: str
) -> RuntimeCache:
    """The handle an engine uses for an effective ``RuntimeSettings.runtime_cache`` (TensorRT-RTX only).

    The default (:class:`DefaultRuntimeCache`) → the engine's own file in the private default
    directory (:func:`default_cache_path`); ``None`` or ``""`` → a new in-memory handle, as
    ``runtime_cache=None`` opts out of the file in Torch-TensorRT; a path → the process-wide handle
    shared by all engines using that path; a :class:`RuntimeCache` → itself.
    """
    if isinstance(value, RuntimeCache):
        return value
    if is_default_runtime_cache(value):
        return RuntimeCache.shared(default_cache_path(engine_hash))
    if value is None or (isinstance(value, str | os.PathLike) and not os.fspath(value)):
        return RuntimeCache("")
    if isinstance(value, str | os.PathLike):
        return RuntimeCache.shared(value)
    raise TypeError(
        f"runtime_cache must be a path, a RuntimeCache or None, not {type(value).__name__}"
    )


def save_all_pending() -> int:
    """Flush every live handle with an unsaved payload; returns how many saved. Never raises
    (it runs at interpreter exit, where an exception would only hide other exit handlers)."""
    with _PENDING_MUTEX:
        caches = list(_PENDING)
    saved = 0
    for cache in caches:
        try:
            saved += bool(cache.autosave_now())
        except Exception:  # see docstring
            logger.exception("could not save runtime cache %r at exit", cache)
    return saved


atexit.register(save_all_pending)
