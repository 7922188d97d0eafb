"""A bounded reader of pickle opcodes: it lists what a pickle would do without doing any of it.

The archive check (``_archive_check``) needs the opcode stream of a pickle to hold it against an
allowlist of imports. This module walks that stream byte by byte from an in-memory buffer and yields
each opcode's name and, for the opcodes that import (``GLOBAL``, ``INST``), the module and name they
name. It never unpickles, never imports, and allocates no more than one copy of the buffer and the
short module and attribute names it decodes: every length read from the stream is checked against the bytes that are
left before anything is sliced, so a hostile length (say 2**63) is refused instead of honoured.
Every opcode consumes at least one byte, so a scan ends after at most ``len(data)`` steps.

The opcode table follows the pickle protocol (versions 0 to 5) as documented with CPython's
``pickletools`` module: one byte names the opcode, then comes an argument of a fixed size, a
length-prefixed run of bytes, a newline-terminated line (protocol 0's text arguments), or nothing.
A byte that is not an opcode of those protocols, a stream that ends before ``STOP``, or an argument
running past the end of the data raises :class:`PickleScanError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import NamedTuple

# The newest protocol whose opcodes this table knows (Python 3.8+ writes at most 5).
HIGHEST_KNOWN_PROTOCOL = 5


class PickleScanError(ValueError):
    """The bytes are not a pickle this scanner can read to its end."""


class _Arg(Enum):
    """How an opcode's argument is laid out after the opcode byte."""

    NONE = "none"
    FIXED = "fixed"  # a fixed number of bytes (integers, BINFLOAT)
    SIZED = "sized"  # a little-endian length of `width` bytes, then that many bytes
    LINE = "line"  # bytes up to a newline
    TWO_LINES = "two lines"  # module line, then name line (GLOBAL, INST)


class _OpcodeSpec(NamedTuple):
    name: str
    arg: _Arg
    width: int = 0  # FIXED: argument bytes; SIZED: bytes of the length field
    signed_length: bool = False  # SIZED lengths stored as int4 (BINSTRING, LONG4)


def _table() -> dict[int, _OpcodeSpec]:
    none, fixed, sized, line, two = _Arg.NONE, _Arg.FIXED, _Arg.SIZED, _Arg.LINE, _Arg.TWO_LINES
    specs = {
        # protocol 0 and 1
        b"(": ("MARK", none, 0), b".": ("STOP", none, 0), b"0": ("POP", none, 0),
        b"1": ("POP_MARK", none, 0), b"2": ("DUP", none, 0), b"F": ("FLOAT", line, 0),
        b"I": ("INT", line, 0), b"J": ("BININT", fixed, 4), b"K": ("BININT1", fixed, 1),
        b"L": ("LONG", line, 0), b"M": ("BININT2", fixed, 2), b"N": ("NONE", none, 0),
        b"P": ("PERSID", line, 0), b"Q": ("BINPERSID", none, 0), b"R": ("REDUCE", none, 0),
        b"S": ("STRING", line, 0), b"T": ("BINSTRING", sized, 4), b"U": ("SHORT_BINSTRING", sized, 1),
        b"V": ("UNICODE", line, 0), b"X": ("BINUNICODE", sized, 4), b"a": ("APPEND", none, 0),
        b"b": ("BUILD", none, 0), b"c": ("GLOBAL", two, 0), b"d": ("DICT", none, 0),
        b"}": ("EMPTY_DICT", none, 0), b"e": ("APPENDS", none, 0), b"g": ("GET", line, 0),
        b"h": ("BINGET", fixed, 1), b"i": ("INST", two, 0), b"j": ("LONG_BINGET", fixed, 4),
        b"l": ("LIST", none, 0), b"]": ("EMPTY_LIST", none, 0), b"o": ("OBJ", none, 0),
        b"p": ("PUT", line, 0), b"q": ("BINPUT", fixed, 1), b"r": ("LONG_BINPUT", fixed, 4),
        b"s": ("SETITEM", none, 0), b"t": ("TUPLE", none, 0), b")": ("EMPTY_TUPLE", none, 0),
        b"u": ("SETITEMS", none, 0), b"G": ("BINFLOAT", fixed, 8),
        # protocol 2
        b"\x80": ("PROTO", fixed, 1), b"\x81": ("NEWOBJ", none, 0), b"\x82": ("EXT1", fixed, 1),
        b"\x83": ("EXT2", fixed, 2), b"\x84": ("EXT4", fixed, 4), b"\x85": ("TUPLE1", none, 0),
        b"\x86": ("TUPLE2", none, 0), b"\x87": ("TUPLE3", none, 0), b"\x88": ("NEWTRUE", none, 0),
        b"\x89": ("NEWFALSE", none, 0), b"\x8a": ("LONG1", sized, 1), b"\x8b": ("LONG4", sized, 4),
        # protocol 3
        b"B": ("BINBYTES", sized, 4), b"C": ("SHORT_BINBYTES", sized, 1),
        # protocol 4
        b"\x8c": ("SHORT_BINUNICODE", sized, 1), b"\x8d": ("BINUNICODE8", sized, 8),
        b"\x8e": ("BINBYTES8", sized, 8), b"\x8f": ("EMPTY_SET", none, 0), b"\x90": ("ADDITEMS", none, 0),
        b"\x91": ("FROZENSET", none, 0), b"\x92": ("NEWOBJ_EX", none, 0), b"\x93": ("STACK_GLOBAL", none, 0),
        b"\x94": ("MEMOIZE", none, 0), b"\x95": ("FRAME", fixed, 8),
        # protocol 5
        b"\x96": ("BYTEARRAY8", sized, 8), b"\x97": ("NEXT_BUFFER", none, 0),
        b"\x98": ("READONLY_BUFFER", none, 0),
    }  # fmt: skip
    # BINSTRING and LONG4 store their lengths as signed int4; a negative one is malformed.
    signed = {"BINSTRING", "LONG4"}
    return {code[0]: _OpcodeSpec(name, arg, width, name in signed) for code, (name, arg, width) in specs.items()}


_OPCODES = _table()


class PickleOp(NamedTuple):
    """One opcode: its name, where it starts, and for GLOBAL/INST the (module, name) it imports."""

    name: str
    position: int
    global_name: tuple[str, str] | None = None


def _need(data: bytes, start: int, count: int, what: str) -> int:
    """The end of ``count`` bytes at ``start``, refusing a run past the end of the data."""
    if count > len(data) - start:
        raise PickleScanError(
            f"{what} at byte {start} needs {count} bytes but only {len(data) - start} remain (truncated or oversized length)"
        )
    return start + count


def _line_end(data: bytes, start: int, what: str) -> int:
    """The index just past the newline ending the line at ``start``."""
    newline = data.find(b"\n", start)
    if newline < 0:
        raise PickleScanError(f"{what} at byte {start} has no terminating newline (truncated)")
    return newline + 1


def _decoded_line(data: bytes, start: int, end: int, what: str) -> str:
    try:
        return data[start : end - 1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PickleScanError(f"{what} at byte {start} names a module or attribute that is not UTF-8") from exc


def _argument_end(spec: _OpcodeSpec, data: bytes, start: int) -> tuple[int, tuple[str, str] | None]:
    """Where the argument of ``spec`` starting at ``start`` ends, and the import it names if any."""
    if spec.arg is _Arg.NONE:
        return start, None
    if spec.arg is _Arg.FIXED:
        return _need(data, start, spec.width, spec.name), None
    if spec.arg is _Arg.LINE:
        return _line_end(data, start, spec.name), None
    if spec.arg is _Arg.SIZED:
        body = _need(data, start, spec.width, f"{spec.name} length")
        length = int.from_bytes(data[start:body], "little", signed=spec.signed_length)
        if length < 0:
            raise PickleScanError(f"{spec.name} at byte {start} has a negative length {length}")
        return _need(data, body, length, spec.name), None
    module_end = _line_end(data, start, spec.name)
    name_end = _line_end(data, module_end, spec.name)
    module = _decoded_line(data, start, module_end, spec.name)
    return name_end, (module, _decoded_line(data, module_end, name_end, spec.name))


def _check_protocol(data: bytes, position: int) -> None:
    protocol = data[position + 1]
    if protocol > HIGHEST_KNOWN_PROTOCOL:
        raise PickleScanError(
            f"pickle protocol {protocol} at byte {position} is newer than protocol {HIGHEST_KNOWN_PROTOCOL}"
        )


def scan_pickle(data: bytes | bytearray | memoryview) -> Iterator[PickleOp]:
    """Yield the opcodes of the pickle at the start of ``data`` up to and including ``STOP``.

    Raises :class:`PickleScanError` on a byte that is no opcode, an argument that runs past the end,
    a negative length, an unknown protocol, or data that ends before ``STOP``. Bytes after ``STOP``
    are not read (the unpickler does not read them either).
    """
    stream = bytes(data)  # one copy at most; bytes.find keeps line scans linear
    position = 0
    while position < len(stream):
        spec = _OPCODES.get(stream[position])
        if spec is None:
            raise PickleScanError(f"byte {stream[position]:#04x} at {position} is not a pickle opcode")
        end, global_name = _argument_end(spec, stream, position + 1)
        if spec.name == "PROTO":
            _check_protocol(stream, position)
        yield PickleOp(spec.name, position, global_name)
        if spec.name == "STOP":
            return
        position = end
    raise PickleScanError(f"the pickle ends after {len(stream)} bytes without a STOP opcode (truncated)")
