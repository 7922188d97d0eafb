"""The runtime cache file format: TensorRT-RTX's serialized runtime cache wrapped in a checked header.

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

This module owns the format (one owner per format): the header layout, encoding, decoding and the
bounded read of a file's bytes. Where files live is ``_runtime_cache_location``; locking, recovery
and the handle are ``_runtime_cache_io`` and ``_runtime_cache``.
"""

from __future__ import annotations

import hashlib
import os
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

from torch_tensorrt._cache_files import RefusedFile as _RefusedFile
from torch_tensorrt._cache_files import header_problem
from torch_tensorrt._cache_files import open_regular as _open_regular
from torch_tensorrt._cache_files import read_at_most as _read_at_most

MAGIC = b"TTRTRTC\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIIQ32s")
HEADER_SIZE = _HEADER.size  # 56
# Largest cache file (header included) that is read or written. TensorRT-RTX caches are kernels for
# one engine, typically kilobytes to tens of megabytes; the limit exists so that a wrong path (a huge
# file, a device) can never exhaust memory. Override with the environment variable (a byte count).
DEFAULT_MAX_BYTES = 1 << 30
MAX_BYTES_ENV = "TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES"


class RuntimeCacheWarning(UserWarning):
    """A runtime cache file could not be used or saved as expected (never fatal)."""


class RuntimeCacheFormatError(ValueError):
    """Bytes that are not a runtime cache file in our format."""


def encode(payload: bytes) -> bytes:
    """Wrap TensorRT's serialized cache bytes in our header."""
    payload = bytes(payload)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(payload), hashlib.sha256(payload).digest())
    return header + payload


def parse_header(data: bytes) -> tuple[int, bytes]:
    """Validate a header and return (payload length, digest); raises RuntimeCacheFormatError."""
    if len(data) < HEADER_SIZE:
        raise RuntimeCacheFormatError(
            f"file is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header (truncated)"
        )
    magic, version, flags, length, digest = _HEADER.unpack_from(data)
    problem = header_problem(magic, version, flags, MAGIC, FORMAT_VERSION, "a runtime cache file")
    if problem is not None:
        raise RuntimeCacheFormatError(problem)
    return length, digest


def decode(data: bytes) -> bytes:
    """Return the payload of a cache file's bytes; raises RuntimeCacheFormatError if they are not valid."""
    length, digest = parse_header(data)
    actual = len(data) - HEADER_SIZE
    if actual < length:
        raise RuntimeCacheFormatError(f"payload is {actual} bytes, header says {length} (truncated)")
    if actual > length:
        raise RuntimeCacheFormatError(f"{actual - length} unexpected bytes after the {length}-byte payload")
    payload = data[HEADER_SIZE:]
    if hashlib.sha256(payload).digest() != digest:
        raise RuntimeCacheFormatError("payload SHA-256 does not match the header (corrupted)")
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


def read_cache_file(path: Path, limit: int) -> bytes:
    """The bytes of the cache file at ``path``, bounded by ``limit``; its header is checked first.

    Raises FileNotFoundError, _RefusedFile (not regular, over the limit) or RuntimeCacheFormatError
    (bad header). The payload is not checked here: :func:`decode` does that on the result.
    """
    f, st = _open_regular(path)
    with f:
        header = _read_at_most(f, HEADER_SIZE)
        _, digest = parse_header(header)
        if st.st_size > limit:
            raise _RefusedFile(
                f"is {st.st_size} bytes, over the {limit}-byte limit for runtime cache files "
                f"(raise it with {MAX_BYTES_ENV})",
                digest,
            )
        # Sized by the file, not by the length its header claims; one byte more, so that a file that
        # grew since fstat is caught by decode() (trailing bytes) instead of being read without bound.
        return header + _read_at_most(f, max(st.st_size - HEADER_SIZE, 0) + 1)


def digest_on_disk(path: Path) -> bytes | None:
    """The payload digest claimed by the file's header; None when there is no valid header."""
    try:
        f, _ = _open_regular(path)  # a FIFO at the path would block a plain open()
        with f:
            header = _read_at_most(f, HEADER_SIZE)
    except (FileNotFoundError, _RefusedFile):
        return None
    try:
        return parse_header(header)[1]
    except RuntimeCacheFormatError:
        return None


def read_stream(stream: BinaryIO, *, rewind: bool) -> tuple[int, bytes | None]:
    """(bytes read, payload or None) of the cache in ``stream``; reads at most the size limit plus one byte.

    A stream that does not hold a usable cache is reported with a :class:`RuntimeCacheWarning`."""
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
