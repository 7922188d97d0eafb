"""An inter-process exclusive lock on a side file (``<cache>.lock``).

The lock lives on a separate file, not on the cache itself, because the cache file is replaced
atomically (``os.replace``): a lock taken on the old inode would not exclude a process that opens the
new one. The side file is never deleted; deleting lock files reintroduces exactly the race they
prevent (one process unlinks while another has just opened the old inode).

POSIX uses ``fcntl.flock`` (released by the kernel when a holder dies, so a SIGKILLed writer never
leaves the lock stuck). Windows uses ``msvcrt.locking`` on the first byte of the side file. Anything
else gets no lock at all; callers learn that from the yielded flag and skip work that is only safe
under a real lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

_POLL_INTERVAL_S = 0.01


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    if msvcrt is not None:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    elif msvcrt is not None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def locking_supported() -> bool:
    """Whether :func:`file_lock` really excludes other processes on this platform."""
    return fcntl is not None or msvcrt is not None


@contextlib.contextmanager
def file_lock(lock_path: str | os.PathLike[str], timeout: float | None = 10.0) -> Iterator[bool]:
    """Hold an exclusive lock on ``lock_path`` (created 0600 if missing) for the ``with`` body.

    Polls with a non-blocking lock rather than blocking forever, so that a hung peer cannot hang
    this process's interpreter exit; raises ``TimeoutError`` after ``timeout`` seconds (``None``
    waits forever). Yields True when the lock is a real inter-process lock, False on platforms
    without one.
    """
    path = Path(lock_path)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if sys.platform == "win32" and os.fstat(fd).st_size == 0:
            # msvcrt locks byte ranges; a byte must exist for the range to be meaningful everywhere.
            os.write(fd, b"\0")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not _try_lock(fd):
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"could not lock {path} within {timeout:g} s (held by another process)")
            time.sleep(_POLL_INTERVAL_S)
        try:
            yield locking_supported()
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
