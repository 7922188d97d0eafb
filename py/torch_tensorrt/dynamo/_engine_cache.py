"""Engine cache across compiles: Torch-TensorRT's ``torch_tensorrt.dynamo._engine_cache``.

``cache_built_engines=True`` stores every engine a compile builds; ``reuse_cached_engines=True``
makes a compile that finds an entry for a TensorRT segment skip building its engine and use the
stored one. ``custom_engine_cache`` takes a :class:`BaseEngineCache` subclass (``save``/``load``
bytes by key); otherwise a :class:`DiskEngineCache` in ``engine_cache_dir`` (default
``<temp dir>/torch_tensorrt_engine_cache``) holding at most ``engine_cache_size`` bytes (default
5 GiB), as in Torch-TensorRT.

**The key** is :func:`~torch_tensorrt.dynamo._engine_cache_key.segment_key` (module
``_engine_cache_key``: everything that decides the engine, weight values included). **The entry** is
bytes in the format of ``_engine_cache_entry`` (no pickle, so loading an entry never runs code from
it). An entry that is not exactly that format (truncated, garbled, another key, bindings that do not
match the segment) is reported with an :class:`EngineCacheWarning` and the engine is built as if
there were no entry; it never fails a compile.

**On disk** (:class:`DiskEngineCache`): one ``<key>.trtengine`` file per engine in a private
directory (created 0700; a directory that is a symlink or owned by another user is refused with a
warning, since entries are code the GPU runs), one lock file per directory (``LOCK_NAME``) under
which entries are written (temporary file, fsync, atomic rename) and evicted, so several processes
can share the directory. Reads are bounded: only regular files are opened (FIFOs and devices are
refused before opening) and a file larger than ``engine_cache_size`` is not read. After each save,
least recently used entries (oldest modification time; a hit touches its entry) are deleted until the
directory's entries fit in ``engine_cache_size``. The file rules are the runtime cache's
(``torch_tensorrt._cache_files``, ``torch_tensorrt._file_lock``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt._cache_files import (
    RefusedFile,
    atomic_write,
    evict_lru,
    make_private_dirs,
    open_regular,
    read_at_most,
    remove_orphaned_temporaries,
    secure_private_directory,
)
from torch_tensorrt._file_lock import file_lock
from torch_tensorrt.dynamo._engine_cache_entry import (
    FORMAT_VERSION,
    HEADER_SIZE,
    MAGIC,
    MAX_METADATA_BYTES,
    CachedBinding,
    CachedEngine,
    EngineCacheFormatError,
    decode_entry,
    encode_entry,
)
from torch_tensorrt.dynamo._engine_cache_key import (
    SETTINGS_NOT_IN_KEY,
    NotCacheable,
    environment_document,
    extend_key,
    graph_document,
    segment_key,
    settings_document,
)

if TYPE_CHECKING:
    from torch_tensorrt._Input import Input
    from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

__all__ = [
    "BaseEngineCache",
    "CachedBinding",
    "CachedEngine",
    "DiskEngineCache",
    "EngineCacheFormatError",
    "EngineCacheWarning",
    "SETTINGS_NOT_IN_KEY",
]

# Re-exported for callers that import them from here (their owners are the key and entry modules).
_REEXPORTED = (FORMAT_VERSION, HEADER_SIZE, MAGIC, MAX_METADATA_BYTES, NotCacheable)
_REEXPORTED_KEY = (environment_document, extend_key, graph_document, settings_document)

ENGINE_SUFFIX = ".trtengine"
LOCK_NAME = ".torch_tensorrt_engine_cache.lock"
DEFAULT_LOCK_TIMEOUT_S = 10.0
_KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")


class EngineCacheWarning(UserWarning):
    """An engine cache entry could not be used or stored (never fatal: the engine is built)."""


# ---------------------------------------------------------------------------------------------------
# The caches


class BaseEngineCache(ABC):
    """Base class of engine caches (Torch-TensorRT's name and methods).

    Subclasses implement ``save(hash, blob)`` and ``load(hash) -> bytes | None``; blobs are opaque
    bytes made by :meth:`pack`. :meth:`get_hash` is the key (see the module docstring); ``insert`` and
    ``check`` pack/save and load/unpack an entry. Pass an instance as ``custom_engine_cache``.
    """

    @abstractmethod
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @staticmethod
    def get_hash(gm: torch.fx.GraphModule, input_specs: Sequence[Input], settings: CompilationSettings) -> str:
        """The key of a TensorRT segment: SHA-256 (hex) of its graph with weight values, its input specs,
        the settings that change engines and the builder/platform (module docstring). Raises
        NotCacheable for a graph holding a value with no canonical form."""
        return segment_key(gm, input_specs, settings)

    @staticmethod
    def pack(entry: CachedEngine) -> bytes:
        """Entry -> bytes in the format of the module docstring (no pickle)."""
        return encode_entry(entry)

    @staticmethod
    def unpack(packed_obj: bytes) -> CachedEngine:
        """Bytes -> entry; raises EngineCacheFormatError for anything that is not exactly an entry."""
        return decode_entry(bytes(packed_obj))

    def insert(self, hash: str, entry: CachedEngine, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Torch-TensorRT's name
        """Pack ``entry`` and :meth:`save` it under ``hash``."""
        self.save(hash, self.pack(entry), *args, **kwargs)

    def check(self, hash: str, *args: Any, **kwargs: Any) -> CachedEngine | None:  # noqa: A002
        """The entry stored under ``hash``, or None (missing, or unusable: reported with a warning)."""
        blob = self.load(hash, *args, **kwargs)
        if blob is None:
            return None
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            warnings.warn(
                f"engine cache {type(self).__name__}.load returned {type(blob).__name__}, not bytes; building the engine",
                EngineCacheWarning,
                stacklevel=2,
            )
            return None
        try:
            return self.unpack(bytes(blob))
        except EngineCacheFormatError as exc:
            warnings.warn(
                f"engine cache entry {hash} is not usable ({exc}); building the engine",
                EngineCacheWarning,
                stacklevel=2,
            )
            return None

    @abstractmethod
    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        """Store ``blob`` under ``hash``."""

    @abstractmethod
    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        """The blob stored under ``hash``, or None."""


class DiskEngineCache(BaseEngineCache):
    """Entries as ``<engine_cache_dir>/<hash>.trtengine`` files, at most ``engine_cache_size`` bytes in
    all (least recently used evicted); safe to share between processes (module docstring)."""

    def __init__(
        self, engine_cache_dir: str, engine_cache_size: int, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    ) -> None:
        if not isinstance(engine_cache_dir, (str, os.PathLike)):
            raise TypeError(f"engine_cache_dir must be a path, got {type(engine_cache_dir).__name__}")
        if not isinstance(engine_cache_size, int) or isinstance(engine_cache_size, bool) or engine_cache_size < 0:
            raise ValueError(f"engine_cache_size must be a number of bytes >= 0, got {engine_cache_size!r}")
        # Resolved once, so that a later chdir cannot move the cache.
        self.engine_cache_dir = os.path.abspath(os.path.expanduser(os.fspath(engine_cache_dir)))
        self.engine_cache_size = engine_cache_size
        self.lock_timeout = lock_timeout

    @property
    def directory(self) -> Path:
        return Path(self.engine_cache_dir)

    def __repr__(self) -> str:
        return f"DiskEngineCache({self.engine_cache_dir!r}, {self.engine_cache_size})"

    def entry_path(self, hash: str) -> Path:  # noqa: A002
        if not isinstance(hash, str) or not _KEY_RE.fullmatch(hash):
            raise ValueError(f"engine cache key {hash!r} is not usable as a file name")
        return self.directory / f"{hash}{ENGINE_SUFFIX}"

    def _warn(self, message: str) -> None:
        warnings.warn(f"engine cache {self.engine_cache_dir}: {message}", EngineCacheWarning, stacklevel=4)

    def _checked_directory(self, create: bool) -> bool:
        """Whether the directory can be used; created 0700 when ``create``. Refusals are warned."""
        try:
            if not os.path.lexists(self.directory):
                if not create:
                    return False
                make_private_dirs(self.directory)
            secure_private_directory(
                self.directory, "engine cache directory", "pass engine_cache_dir= a directory you own"
            )
        except OSError as exc:
            self._warn(f"{exc}; not using the engine cache")
            return False
        return True

    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        blob = bytes(blob)
        path = self.entry_path(hash)
        if len(blob) > self.engine_cache_size:
            self._warn(
                f"entry {hash} is {len(blob)} bytes, over engine_cache_size={self.engine_cache_size}; not cached"
            )
            return
        if not self._checked_directory(create=True):
            return
        try:
            with file_lock(self.directory / LOCK_NAME, self.lock_timeout) as exclusive:
                if exclusive:
                    remove_orphaned_temporaries(path)
                atomic_write(path, blob)
                for name in evict_lru(self.directory, _is_entry_name, path.name, self.engine_cache_size):
                    logger.info("engine cache: evicted least recently used entry %s", name)
        except (OSError, TimeoutError) as exc:
            self._warn(f"could not store entry {hash}: {exc}")

    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        path = self.entry_path(hash)
        if not self._checked_directory(create=False):
            return None
        try:
            with contextlib.ExitStack() as stack:
                try:
                    stack.enter_context(file_lock(self.directory / LOCK_NAME, self.lock_timeout))
                except (OSError, TimeoutError) as exc:
                    # Entries are replaced atomically, so an unlocked read still sees a whole file.
                    logger.info("engine cache: reading %s without its lock: %s", path, exc)
                return self._read_entry(path)
        except OSError as exc:
            self._warn(f"could not read entry {hash}: {exc}; building the engine")
            return None

    def _read_entry(self, path: Path) -> bytes | None:
        try:
            f, st = open_regular(path)
        except FileNotFoundError:
            return None
        except RefusedFile as exc:
            self._warn(f"{path.name} {exc}; not reading it, building the engine")
            return None
        with f:
            if st.st_size > self.engine_cache_size:
                self._warn(
                    f"{path.name} is {st.st_size} bytes, over engine_cache_size={self.engine_cache_size}; "
                    "not reading it, building the engine"
                )
                return None
            # One byte more than fstat said, so that a file that grew is caught (as garbled) by unpack.
            blob = read_at_most(f, st.st_size + 1)
        with contextlib.suppress(OSError):
            os.utime(path)  # "used", for least-recently-used eviction
        return blob

    def entries(self) -> list[Path]:
        """The entry files in the directory (regular files named ``<key>.trtengine``)."""
        try:
            with os.scandir(self.directory) as it:
                return sorted(Path(e.path) for e in it if _is_entry_name(e.name) and e.is_file(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []


def _is_entry_name(name: str) -> bool:
    """``<key>.trtengine``: temporaries and the lock start with "." and never match."""
    return name.endswith(ENGINE_SUFFIX) and bool(_KEY_RE.fullmatch(name[: -len(ENGINE_SUFFIX)]))


def is_entry_name(name: str) -> bool:
    """Whether ``name`` is an engine cache entry's file name (for the command line)."""
    return _is_entry_name(name)


def engine_cache_for(settings: CompilationSettings) -> BaseEngineCache | None:
    """The cache a compile uses: None unless cache_built_engines or reuse_cached_engines is set; then
    custom_engine_cache if given, else a DiskEngineCache(engine_cache_dir, engine_cache_size)."""
    if not (settings.cache_built_engines or settings.reuse_cached_engines):
        return None
    if settings.custom_engine_cache is not None:
        return settings.custom_engine_cache
    return DiskEngineCache(settings.engine_cache_dir, settings.engine_cache_size)
