"""The bounded pickle opcode scanner used by the load-time archive check.

Real pickles of every protocol must scan to the same opcodes and imports as CPython's own
disassembler; malformed streams (truncated, unknown opcodes, hostile lengths) must be refused
quickly, without allocating what a length field claims.
"""

from __future__ import annotations

import collections
import pickle
import pickletools  # the reference disassembler, used by this test only
import struct
import time
import tracemalloc

import pytest
import torch

from torch_tensorrt.dynamo.runtime._archive_check import ArchiveRefused, check_tensor_pickle
from torch_tensorrt.dynamo.runtime._pickle_opcodes import HIGHEST_KNOWN_PROTOCOL, PickleScanError, scan_pickle

_OBJECTS = [
    0, -5, 300, 70000, 2**70, -(2**300), 1.5, "héllo", "x" * 300, b"b" * 300, b"y" * 70000,
    bytearray(b"x"), (), (1,), (1, 2), (1, 2, 3), [1, [2, "s"]], {"a": 1, "b": [None]}, {1, 2},
    frozenset({3}), None, True, False, collections.OrderedDict(a=1), complex(1, 2), slice(1, 2),
    torch.Size([2, 3]), torch.float16,
]  # fmt: skip


def _reference_ops(data: bytes) -> list[tuple[str, int, str | None]]:
    return [
        (op.name, pos, str(arg) if op.name in ("GLOBAL", "INST") else None) for op, arg, pos in pickletools.genops(data)
    ]


def _scanned_ops(data: bytes) -> list[tuple[str, int, str | None]]:
    return [(op.name, op.position, " ".join(op.global_name) if op.global_name else None) for op in scan_pickle(data)]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_real_pickles_scan_like_the_reference_disassembler(protocol: int) -> None:
    for obj in _OBJECTS:
        data = pickle.dumps(obj, protocol=protocol)
        assert _scanned_ops(data) == _reference_ops(data), (protocol, obj)


def test_inst_and_global_imports_are_reported() -> None:
    data = b"(ibuiltins\nprint\n."  # protocol 0: INST names module and attribute on two lines
    assert [op.global_name for op in scan_pickle(data)] == [None, ("builtins", "print"), None]
    assert _scanned_ops(data) == _reference_ops(data)


def test_bytes_after_stop_are_not_read() -> None:
    assert [op.name for op in scan_pickle(pickle.dumps(1, protocol=2) + b"\xff garbage")][-1] == "STOP"


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_every_truncation_of_a_pickle_is_refused(protocol: int) -> None:
    data = pickle.dumps({"k": [1.5, "text", b"raw" * 50, 2**80]}, protocol=protocol)
    for cut in range(len(data)):
        with pytest.raises(PickleScanError, match="truncated|newline|STOP"):
            list(scan_pickle(data[:cut]))


@pytest.mark.parametrize("byte", [b"\x99", b"\xff", b"z", b"\x00"])
def test_unknown_opcode_is_refused(byte: bytes) -> None:
    with pytest.raises(PickleScanError, match="is not a pickle opcode"):
        list(scan_pickle(b"\x80\x02" + byte + b"."))


def test_newer_protocol_is_refused() -> None:
    with pytest.raises(PickleScanError, match=f"newer than protocol {HIGHEST_KNOWN_PROTOCOL}"):
        list(scan_pickle(b"\x80\x06N."))


_HUGE = (1 << 64) - 1
OVERSIZED = {
    "BINBYTES8": b"\x80\x04\x8e" + struct.pack("<Q", _HUGE) + b"xx.",
    "BINUNICODE8": b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"xx.",
    "BYTEARRAY8": b"\x80\x05\x96" + struct.pack("<Q", _HUGE) + b".",
    "BINBYTES": b"\x80\x03B" + struct.pack("<I", 0xFFFFFFFF) + b"x.",
    "BINUNICODE": b"\x80\x02X" + struct.pack("<I", 1 << 31) + b"x.",
    "LONG4": b"\x80\x02\x8b" + struct.pack("<i", (1 << 31) - 1) + b"\x01.",
    "SHORT_BINBYTES": b"\x80\x03C\xff" + b"x" * 10 + b".",
}


@pytest.mark.parametrize("name", sorted(OVERSIZED))
def test_oversized_lengths_are_refused_without_allocating_them(name: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(PickleScanError, match=f"{name}.*truncated or oversized length"):
            list(scan_pickle(OVERSIZED[name]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"scanning allocated {peak} bytes"
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("opcode", [b"T", b"\x8b"])
def test_negative_signed_lengths_are_refused(opcode: bytes) -> None:
    with pytest.raises(PickleScanError, match="negative length"):
        list(scan_pickle(b"\x80\x02" + opcode + struct.pack("<i", -1) + b"."))


def test_non_utf8_import_name_is_refused() -> None:
    with pytest.raises(PickleScanError, match="not UTF-8"):
        list(scan_pickle(b"c\xff\xfe\nname\n."))


def test_many_short_lines_scan_in_linear_time() -> None:
    data = b"(" + b"I1\n0" * 200_000 + b"."  # 200k protocol-0 INT lines, each popped
    started = time.monotonic()
    assert sum(1 for _ in scan_pickle(data)) == 400_002
    assert time.monotonic() - started < 10.0


def test_archive_check_names_the_member_for_a_malformed_pickle() -> None:
    with pytest.raises(ArchiveRefused, match=r"'m/data.pkl' is not a readable pickle \(.*truncated"):
        check_tensor_pickle("m/data.pkl", pickle.dumps([1, 2], protocol=2)[:-1])
    with pytest.raises(ArchiveRefused, match="STACK_GLOBAL"):
        check_tensor_pickle("m/data.pkl", pickle.dumps(collections.OrderedDict(), protocol=4))
