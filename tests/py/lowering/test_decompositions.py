"""Our decomposition decisions: the per-op rule must agree with torch's full table, op for op."""

from __future__ import annotations

import torch
from torch._export.utils import _materialize_cpp_cia_ops

from torch_tensorrt.dynamo.lowering import get_decompositions
from torch_tensorrt.dynamo.lowering._decompositions import KEPT_WHOLE, decomposes_aten_op

aten = torch.ops.aten


def _all_aten_overloads() -> list[torch._ops.OpOverload]:
    _materialize_cpp_cia_ops()  # composite ops defined only in C++ appear under torch.ops.aten
    overloads = []
    for name in list(aten):
        packet = getattr(aten, name)
        for overload in packet.overloads():
            overloads.append(getattr(packet, overload))
    return overloads


def test_per_op_rule_matches_the_full_table_for_every_aten_op() -> None:
    table = get_decompositions()
    overloads = _all_aten_overloads()
    assert len(overloads) > 2000, "the whole aten namespace is checked"
    disagree = [str(op) for op in overloads if decomposes_aten_op(op) != (op in table)]
    assert disagree == []
    decomposed = [op for op in overloads if decomposes_aten_op(op)]
    assert 300 < len(decomposed) < len(overloads), "both answers occur"


def test_ops_with_a_tensorrt_layer_are_kept_whole() -> None:
    for op in KEPT_WHOLE:
        assert not decomposes_aten_op(op)
        assert op not in get_decompositions()
    assert decomposes_aten_op(aten.addmm.default) is (aten.addmm.default in get_decompositions())
    assert decomposes_aten_op(aten.conv2d.default), "a composite op export may keep, which we decompose"
    assert not decomposes_aten_op(aten.convolution.default), "core ATen"
