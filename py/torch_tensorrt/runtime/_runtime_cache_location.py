"""Where runtime cache files live: the private per-user default directory, one file per engine in it,
the directory's lock file, and the size limit that evicts its least recently used files.

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
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from pathlib import Path

from torch_tensorrt._cache_files import evict_lru, make_private_dirs, secure_private_directory
from torch_tensorrt.runtime._runtime_cache_format import RuntimeCacheWarning

logger = logging.getLogger(__name__)

CACHE_SUFFIX = ".trtcache"
CACHE_DIR_ENV = "TORCH_TENSORRT_CACHE_DIR"
# One lock file per directory: a per-file "<name>.lock" could never be deleted safely (a peer may be
# waiting on it), so each cache left one behind forever. Same name in the C++ runtime.
LOCK_NAME = ".torch_tensorrt_runtime_cache.lock"
# Size limit of the default directory (cache files only); least recently used files go first.
DEFAULT_DIR_MAX_BYTES = 2 << 30
DIR_MAX_BYTES_ENV = "TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES"


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


def in_default_dir(path: Path) -> bool:
    """Whether ``path`` is a cache file in the default directory (only those are evicted)."""
    try:
        return is_cache_file_name(path.name) and absolute_path(str(path.parent)) == default_cache_location()
    except RuntimeError:  # no home directory: there is no default directory to tidy
        return False


def evict_directory(directory: str | os.PathLike[str], keep: str, limit: int) -> list[str]:
    """Delete the oldest (mtime, then name) regular cache files in ``directory`` other than ``keep``
    until their total size is at most ``limit``; return the deleted names in order.

    Call holding the directory lock, so no writer is using what is deleted. Symbolic links and other
    non-regular entries are neither counted nor deleted (the C++ rule, RuntimeCacheLocation::evict).
    """
    return evict_lru(directory, is_cache_file_name, keep, limit)


def evict_after_save(path: Path) -> None:
    if not in_default_dir(path):
        return  # user-named paths are never evicted
    limit = dir_max_bytes()
    for name in evict_directory(path.parent, path.name, limit):
        logger.info("evicted least recently used runtime cache %s (directory over %d bytes)", name, limit)


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
            base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
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


def absolute_path(path: str) -> Path:
    """``path`` made absolute once ("~" expanded), so a later chdir cannot move the file."""
    return Path(os.path.abspath(os.path.expanduser(path)))
