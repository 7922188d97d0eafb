"""File handling shared by the on-disk caches (runtime cache, engine cache): one owner for the rules.

- Bounded, non-blocking reads: :func:`open_regular` opens only regular files (a FIFO, device, socket
  or directory is refused before it is opened and again through the descriptor), and
  :func:`read_at_most` reads in chunks, so memory follows the bytes actually present.
- Atomic writes: :func:`atomic_write` writes a temporary sibling, fsyncs it, then ``os.replace``s it
  over the target; readers see the old or the new file, never a mix.
- Private directories: :func:`make_private_dirs` creates missing directories 0700 and
  :func:`secure_private_directory` refuses one that is a symlink or owned by another user.
- Least-recently-used eviction by modification time: :func:`evict_lru`.

No TensorRT and no stage imports: every stage may use this module.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

__all__ = [
    "RefusedFile",
    "atomic_write",
    "evict_lru",
    "fsync_directory",
    "header_problem",
    "make_private_dirs",
    "not_regular_reason",
    "open_regular",
    "read_at_most",
    "remove_orphaned_temporaries",
    "secure_private_directory",
    "temp_prefix",
]

# Reads go in chunks so that memory follows the bytes actually present, never a size someone claimed.
READ_CHUNK = 1 << 20


def header_problem(
    magic: bytes, version: int, flags: int, expected_magic: bytes, expected_version: int, kind: str
) -> str | None:
    """Why a cache file header's magic, format version and flags are not this build's, or None.

    The rule every cache format here shares (runtime cache files, engine cache entries): the magic
    names the kind of file (``kind``, e.g. "a runtime cache file"), the version must be the one this
    build reads, and the reserved flags must be 0."""
    if magic != expected_magic:
        return f"bad magic {magic!r} (expected {expected_magic!r}): not {kind}"
    if version != expected_version:
        return f"format version {version}, this build reads version {expected_version}"
    if flags != 0:
        return f"unknown header flags {flags:#x}"
    return None


class RefusedFile(Exception):
    """A cache path that is not read at all (not a regular file, or over a size limit).

    ``digest`` is the payload digest from a valid header when the reader found one, so that a later
    save knows which file it replaces.
    """

    def __init__(self, reason: str, digest: bytes | None = None) -> None:
        super().__init__(reason)
        self.digest = digest


_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def not_regular_reason(mode: int) -> str | None:
    """Why a file of this mode is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_KINDS if test(mode)), None)
    return "is not a regular file" if kind is None else f"is {kind}, not a regular file"


def open_regular(path: Path) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` for reading if it is a regular file (symlinks followed); raises RefusedFile.

    The path is checked before opening, because opening a device can have side effects and opening a
    FIFO blocks until a writer appears; it is opened non-blocking and checked again through the
    descriptor, because the path may have been swapped in between.
    """
    reason = not_regular_reason(os.stat(path).st_mode)
    if reason is not None:
        raise RefusedFile(reason)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        reason = not_regular_reason(st.st_mode)
        if reason is not None:
            raise RefusedFile(reason)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def read_at_most(f: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes (fewer at end of file), read in chunks so memory follows what is there."""
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = f.read(min(remaining, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def temp_prefix(path: Path) -> str:
    """Prefix of the temporaries :func:`atomic_write` creates next to ``path`` (they end in .tmp)."""
    return f".{path.name}."


def remove_orphaned_temporaries(path: Path) -> None:
    """Delete temporaries of ``path`` left by killed writers. Call only while holding the real lock
    that every writer of ``path`` takes: temporaries exist only under it, so any found now are orphans."""
    pattern = os.path.join(glob.escape(str(path.parent)), glob.escape(temp_prefix(path)) + "*.tmp")
    for orphan in glob.glob(pattern):
        try:
            os.unlink(orphan)
            logger.info("removed orphaned cache temporary %s", orphan)
        except OSError:
            pass


def atomic_write(path: Path, data: bytes, before_replace: Callable[[Path], None] | None = None) -> None:
    """Replace ``path`` by a file holding ``data``: a temporary sibling, fsynced, then ``os.replace``.

    A writer killed at any point leaves the old file intact. ``before_replace`` (tests) is called with
    the temporary's path right before the replace.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            if sys.platform != "win32":
                # Keep a user's chosen permissions on replace; new files stay 0600 (mkstemp's default).
                try:
                    os.fchmod(f.fileno(), stat.S_IMODE(os.stat(path).st_mode))
                except FileNotFoundError:
                    pass
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; Windows cannot open directories, NTFS journals it)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents with mode 0700.

    ``os.makedirs(mode=...)`` applies the mode to the last component only; caches hold code the
    device runs, so no directory we create for them may be writable (or listable) by other users.
    """
    missing = []
    current = directory
    while not os.path.lexists(current) and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass  # created concurrently; callers check what they use


def _describe_owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def secure_private_directory(directory: Path, label: str, remedy: str) -> None:
    """Refuse a cache directory another user could write into; tighten our own if needed.

    ``label`` names the directory in messages ("runtime cache directory"), ``remedy`` ends the
    ownership and symlink messages ("set X to a directory you own"). Raises ``PermissionError``
    (symlink, other owner) or ``NotADirectoryError``.
    """
    st = os.lstat(directory)
    if stat.S_ISLNK(st.st_mode):
        raise PermissionError(
            f"{label} {directory} is a symbolic link; refusing to use it because the "
            f"link target may be controlled by another user. Replace it with a real directory or {remedy}."
        )
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{label} {directory} exists but is not a directory; remove it or {remedy}.")
    if sys.platform == "win32":
        # No POSIX uids or mode bits to check: directories under %LOCALAPPDATA% are protected by the
        # user profile's ACLs, which is what makes them private there.
        return
    uid = os.geteuid()
    if st.st_uid != uid:
        raise PermissionError(
            f"{label} {directory} is owned by {_describe_owner(st.st_uid)}, not by the "
            f"current user ({_describe_owner(uid)}). Another user could plant files in it, so it is not "
            f"used. Remove it, `chown` it to yourself, or {remedy}."
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        logger.info("%s %s was group/other writable; setting mode 0700", label, directory)
        os.chmod(directory, 0o700)


def evict_lru(directory: str | os.PathLike[str], is_entry: Callable[[str], bool], keep: str, limit: int) -> list[str]:
    """Delete the oldest (mtime, then name) regular files in ``directory`` whose names pass
    ``is_entry``, other than ``keep``, until their total size is at most ``limit``; return the deleted
    names in order.

    Call holding the directory's lock, so no writer is using what is deleted. Symbolic links and other
    non-regular entries are neither counted nor deleted.
    """
    entries = []
    with os.scandir(directory) as it:
        for entry in it:
            if not is_entry(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            if stat.S_ISREG(st.st_mode):
                entries.append((st.st_mtime_ns, entry.name, st.st_size))
    total = sum(size for _, _, size in entries)
    evicted = []
    for _, name, size in sorted(entries):
        if total <= limit:
            break
        if name == keep:
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            continue
        total -= size
        evicted.append(name)
    return evicted
