"""Python handle for TensorRT-RTX's runtime cache (the kernels it JIT-compiles on the device).

TensorRT's own cache object only serializes to and deserializes from bytes and cannot merge two
caches. The handle here owns everything around those bytes, in four modules: the file format and its
bounded reads (``_runtime_cache_format``), where files live and the default directory's eviction
(``_runtime_cache_location``), one file's locking, atomic replacement and recovery
(``_runtime_cache_file``), and this module: the :class:`RuntimeCache` handle, the choice of handle for
an engine and saving at exit. It never imports TensorRT; the engine hands in ``bytes``
(:meth:`RuntimeCache.update`) and gets ``bytes`` back (:meth:`RuntimeCache.load`).

The public surface matches Torch-TensorRT's ``RuntimeCache`` (``path``, ``autosave_on_del``,
``save``/``load`` with an optional path, ``save_to_stream``/``load_from_stream``, ``has_cache``); the
bytes are in our checked format rather than TensorRT's bare serialization, so that every reader can
check them. This module also re-exports the names of the other three, which callers import from here.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from torch_tensorrt.runtime._runtime_cache_file import RuntimeCacheFile
from torch_tensorrt.runtime._runtime_cache_format import (
    _HEADER,
    DEFAULT_MAX_BYTES,
    FORMAT_VERSION,
    HEADER_SIZE,
    MAGIC,
    MAX_BYTES_ENV,
    RuntimeCacheFormatError,
    RuntimeCacheWarning,
    decode,
    encode,
    max_cache_bytes,
    read_stream,
)
from torch_tensorrt.runtime._runtime_cache_location import (
    CACHE_DIR_ENV,
    CACHE_SUFFIX,
    DEFAULT_DIR_MAX_BYTES,
    DIR_MAX_BYTES_ENV,
    LOCK_NAME,
    DefaultRuntimeCache,
    absolute_path,
    default_cache_dir,
    default_cache_location,
    default_cache_path,
    default_runtime_cache,
    dir_max_bytes,
    evict_directory,
    is_cache_file_name,
    is_default_runtime_cache,
)

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

# Re-exported for callers and tests that import them from here (their owners are the modules above).
_REEXPORTED = (_HEADER, CACHE_DIR_ENV, CACHE_SUFFIX, is_cache_file_name)

DEFAULT_LOCK_TIMEOUT_S = 10.0

# Test-only hook: called with the temporary file's path after it is written and fsynced, right before
# it replaces the cache. Lets a test kill a writer at the worst moment without slowing real saves.
_before_replace_hook: Callable[[Path], None] | None = None


# The handle

# Handles holding payloads that were updated but not yet saved; weak so that the registry never keeps
# an engine's cache alive. Owners flush on teardown; the atexit hook covers handles still alive then.
_PENDING: weakref.WeakSet[RuntimeCache] = weakref.WeakSet()
_PENDING_MUTEX = threading.Lock()

# One handle per user-given path within a process, so engines sharing a file share its kernels.
_SHARED: weakref.WeakValueDictionary[str, RuntimeCache] = weakref.WeakValueDictionary()
_SHARED_MUTEX = threading.Lock()


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
        self._file: RuntimeCacheFile | None = RuntimeCacheFile(absolute_path(self.path)) if self.path else None
        self.autosave_on_del = autosave_on_del
        self.lock_timeout = lock_timeout
        self.payload: bytes | None = None
        self.load_count = 0
        self.save_count = 0
        self._stream: BinaryIO | None = None
        self._pending: bytes | None = None
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
        key = os.fspath(absolute_path(os.fspath(path)))
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
    def _file_path(self) -> Path | None:
        return None if self._file is None else self._file.path

    @property
    def lock_path(self) -> Path | None:
        return None if self._file is None else self._file.lock_path

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
            if self._stream is not None or source._file_path != self._file_path:
                payload = source.load()
                with self._mutex:
                    self.load_count += 1
                    if payload is not None:
                        self.payload = payload
                return payload
        with self._mutex:
            self.load_count += 1
            if self._stream is not None:
                payload = read_stream(self._stream, rewind=True)[1]
            elif self._file is None:
                return self.payload
            else:
                payload = self._file.load(self.lock_timeout)
            if payload is not None:
                self.payload = payload
            return payload

    def load_from_stream(self, stream: BinaryIO) -> int:
        """Read a cache (as :meth:`save_to_stream` writes it) from ``stream``'s current position to its
        end into the handle; returns the number of bytes read, 0 when the stream was empty or did
        not hold a usable cache (reported with a :class:`RuntimeCacheWarning`). Contexts created
        afterwards start from these kernels."""
        consumed, payload = read_stream(stream, rewind=False)
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

    def quarantine(self, reason: str) -> Path | None:
        """Move the file aside because TensorRT rejected the payload it holds (e.g. another TensorRT-RTX
        version); returns the new name. The file is left alone if another process replaced it since
        this handle loaded it, as that file is a different cache."""
        with self._mutex:
            self.payload = None
            if self._file is None:
                return None
            return self._file.quarantine(reason, self.lock_timeout)

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
                if self._stream is not None or target._file_path != self._file_path:
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
                ok = self._file.save(payload, self.lock_timeout, _before_replace_hook)
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
        return self._file.save_refusal()

    def _where(self) -> str:
        return "memory" if self.in_memory else ("a stream" if self._stream is not None else str(self._file_path))

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


# ---------------------------------------------------------------------------------------------------
# Resolution and exit


def resolve_runtime_cache(value: str | os.PathLike[str] | RuntimeCache | None, engine_hash: str) -> RuntimeCache:
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
    raise TypeError(f"runtime_cache must be a path, a RuntimeCache or None, not {type(value).__name__}")


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
