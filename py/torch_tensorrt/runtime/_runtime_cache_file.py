"""One runtime cache file as a handle reads and writes it: locking, atomic replacement and recovery.

Writing: under an exclusive lock on the directory's one lock file (:data:`LOCK_NAME`, shared by every
cache file in the directory and by the C++ runtime, created once and never deleted), the new file is
written to a temporary file in the same directory, fsynced, then ``os.replace``d over the old one;
readers see either the old or the new file, never a mix, and a writer killed at any point leaves the
old file intact (its temporary file is removed by the next writer, which can tell it is orphaned
because temporaries only exist while their writer holds the lock). Missing directories on the way to
the file are created 0700.

Reading: a file that is not a valid cache is moved aside to ``<name>.corrupt-<time_ns>`` under the
lock (so what is moved is exactly the bad file, never a cache another process just saved) and treated
as missing; a path that is not a regular file, or a file over the size limit, is reported and left
in place. Every failure is a :class:`RuntimeCacheWarning`, never an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from torch_tensorrt._cache_files import RefusedFile as _RefusedFile
from torch_tensorrt._cache_files import atomic_write, make_private_dirs
from torch_tensorrt._cache_files import not_regular_reason as _not_regular_reason
from torch_tensorrt._cache_files import remove_orphaned_temporaries as _remove_orphaned_temporaries
from torch_tensorrt._file_lock import file_lock
from torch_tensorrt.runtime._runtime_cache_format import (
    HEADER_SIZE,
    RuntimeCacheFormatError,
    RuntimeCacheWarning,
    decode,
    digest_on_disk,
    encode,
    max_cache_bytes,
    read_cache_file,
)
from torch_tensorrt.runtime._runtime_cache_location import LOCK_NAME, evict_after_save, in_default_dir

logger = logging.getLogger(__name__)


class _Unseen:
    """Marker: this handle has not looked at its file yet."""


_UNSEEN = _Unseen()


def _size_on_disk(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _move_aside(path: Path) -> Path | None:
    aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
    try:
        os.replace(path, aside)
    except OSError as e:
        logger.warning("could not move bad runtime cache %s aside: %s", path, e)
        return None
    return aside


class RuntimeCacheFile:
    """The file behind a :class:`RuntimeCache` handle, and the digest of the payload the handle last
    read from or wrote to it (``None``: no file then), which tells when another process replaced it.

    Not thread-safe on its own: the owning handle calls it holding its lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen_digest: bytes | None | _Unseen = _UNSEEN

    @property
    def lock_path(self) -> Path:
        return self.path.parent / LOCK_NAME

    # -- reading -------------------------------------------------------------------------------------

    def load(self, lock_timeout: float) -> bytes | None:
        """The payload in the file, or None when it is missing or unusable (reported, never raised)."""
        path = self.path
        try:
            # Checked before taking the lock, which would create a lock file next to a device node.
            try:
                reason = _not_regular_reason(os.stat(path).st_mode)
            except FileNotFoundError:  # also a dangling symlink
                self.seen_digest = None
                return None
            if reason is not None:
                self._refuse(_RefusedFile(reason))
                return None
            with contextlib.ExitStack() as stack:
                try:
                    locked = stack.enter_context(file_lock(self.lock_path, lock_timeout))
                except OSError as e:
                    # Read-only cache directory or a peer holding the lock too long. Reading unlocked is
                    # still consistent because writers replace the file atomically; only moving a bad
                    # file aside needs the lock, so that is skipped.
                    logger.info("reading runtime cache %s without its lock: %s", path, e)
                    locked = False
                return self._read_and_check(locked)
        except OSError as e:
            warnings.warn(
                f"could not read runtime cache {path}: {e}; continuing without it",
                RuntimeCacheWarning,
                stacklevel=4,
            )
            return None

    def _refuse(self, e: _RefusedFile) -> None:
        # Not a bad cache but the wrong kind of file (or a cache above the limit): it is left in
        # place, since moving a device node or someone's large file is not ours to do.
        warnings.warn(
            f"runtime cache {self.path} {e}; not reading it, starting with a fresh cache",
            RuntimeCacheWarning,
            stacklevel=5,
        )
        self.seen_digest = e.digest

    def _read_and_check(self, locked: bool) -> bytes | None:
        path = self.path
        try:
            payload = decode(read_cache_file(path, max_cache_bytes()))
        except FileNotFoundError:
            self.seen_digest = None
            return None
        except _RefusedFile as e:
            self._refuse(e)
            return None
        except RuntimeCacheFormatError as e:
            # Under the lock no writer can have replaced the file since we read it, so what is moved
            # aside is exactly the bad file, never a good cache another process just saved.
            aside = _move_aside(path) if locked else None
            where = f"moved it to {aside.name}" if aside else "left it in place"
            warnings.warn(
                f"runtime cache {path} is not a valid cache file ({e}); {where} and will rebuild the cache",
                RuntimeCacheWarning,
                stacklevel=5,
            )
            self.seen_digest = None
            return None
        self.seen_digest = hashlib.sha256(payload).digest()
        if in_default_dir(path):
            with contextlib.suppress(OSError):
                os.utime(path)  # "used" for least-recently-used eviction
        return payload

    def quarantine(self, reason: str, lock_timeout: float) -> Path | None:
        """Move the file aside because TensorRT rejected its payload; returns the new name. Left
        alone if another process replaced it since it was loaded, as that file is a different cache."""
        if not self.path.exists():
            return None
        try:
            with file_lock(self.lock_path, lock_timeout):
                seen = self.seen_digest
                if not isinstance(seen, bytes) or digest_on_disk(self.path) != seen:
                    return None  # not the file this handle loaded
                aside = _move_aside(self.path)
        except (OSError, TimeoutError) as e:
            logger.warning("could not quarantine runtime cache %s: %s", self.path, e)
            return None
        if aside is None:
            return None
        self.seen_digest = None
        warnings.warn(
            f"runtime cache {self.path} was rejected ({reason}); moved it to {aside}",
            RuntimeCacheWarning,
            stacklevel=3,
        )
        return aside

    # -- writing -------------------------------------------------------------------------------------

    def save_refusal(self) -> str | None:
        """Why the path cannot be written (it is a FIFO or a device node), or None."""
        try:
            reason = _not_regular_reason(os.stat(self.path).st_mode)
        except OSError:
            return None  # missing (the usual case) or unreadable: save() reports real failures
        # os.replace would swap a FIFO or device node (e.g. /dev/null) for a regular file.
        return None if reason is None else f"the path {reason}"

    def save(self, payload: bytes, lock_timeout: float, before_replace: Callable[[Path], None] | None) -> bool:
        """Replace the file with ``payload`` atomically under the directory lock; False (warned) on
        failure. ``before_replace`` is the test hook run between writing and replacing."""
        path = self.path
        digest = hashlib.sha256(payload).digest()
        try:
            make_private_dirs(path.parent)  # a missing directory is created private, like the default one
            with file_lock(self.lock_path, lock_timeout) as exclusive:
                if exclusive:
                    _remove_orphaned_temporaries(path)
                on_disk = digest_on_disk(path)
                if on_disk == digest and _size_on_disk(path) == HEADER_SIZE + len(payload):
                    self.seen_digest = digest
                    return True  # the file already holds exactly this cache
                self._warn_if_replaced_by_another_writer(on_disk)
                atomic_write(path, encode(payload), before_replace)
                self.seen_digest = digest
                evict_after_save(path)  # still under the directory lock
                return True
        except (OSError, TimeoutError) as e:
            warnings.warn(f"could not save runtime cache {path}: {e}", RuntimeCacheWarning, stacklevel=4)
            return False

    def _warn_if_replaced_by_another_writer(self, on_disk: bytes | None) -> None:
        seen = self.seen_digest
        if not isinstance(seen, _Unseen) and on_disk is not None and on_disk != seen:
            warnings.warn(
                f"runtime cache {self.path} changed since it was loaded (another process saved kernels); "
                "overwriting it with this process's cache, so kernels only the other process "
                "compiled are dropped. Caches cannot be merged: give each process or engine its "
                "own file (the default per-engine path does) to keep both.",
                RuntimeCacheWarning,
                stacklevel=5,
            )
