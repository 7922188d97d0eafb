"""Shape ops: view/reshape/flatten, permute/transpose/t, (un)squeeze, expand, clone, cat, stack,
repeat, flip, pad, split/chunk/unbind and SymInt size arithmetic, static and dynamic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import FLOATS, check, check_dynamic, dyn, randn, static

aten = torch.ops.aten
Case = tuple[str, Callable[..., Any], tuple[int, ...]]

# ---------------------------------------------------------------------------------------------
# view / reshape / flatten
# ---------------------------------------------------------------------------------------------

VIEW_CASES: list[Case] = [
    ("1d_to_3d", lambda x: x.view(2, 3, 4), (24,)),
    ("3d_to_1d", lambda x: x.reshape(-1), (2, 3, 4)),
    ("4d_infer_last", lambda x: x.view(6, -1), (2, 3, 4, 5)),
    ("5d_to_3d", lambda x: x.reshape(2, -1, 4), (1, 2, 3, 2, 2)),
    ("to_0d", lambda x: x.view(()), (1,)),
    ("from_0d", lambda x: x.reshape(1, 1), ()),
    ("size_0", lambda x: x.view(0, 3), (3, 0)),
    ("flatten_1", lambda x: x.flatten(1), (2, 3, 4)),
    ("flatten_all", lambda x: x.flatten(), (2, 3, 4, 2)),
    ("flatten_mid", lambda x: x.flatten(1, 2), (2, 3, 4, 2, 1)),
    ("unflatten", lambda x: x.unflatten(-1, (2, 2)), (3, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_view(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool], ids=str)
def test_view_int_bool(dtype: torch.dtype) -> None:
    check(lambda x: x.view(4, -1), torch.randint(0, 2, (2, 3, 4)).to(dtype))


# (id, fn, spec, inputs at min / opt / max)
DynCase = tuple[str, Callable[..., Any], Any, list[tuple[int, ...]]]

DYN_VIEW_CASES: list[DynCase] = [
    (
        "batch_minus1",
        lambda x: x.view(x.shape[0], -1),
        dyn((1, 3, 4), (2, 3, 4), (8, 3, 4)),
        [(1, 3, 4), (2, 3, 4), (8, 3, 4)],
    ),
    (
        "split_heads",
        lambda x: x.reshape(x.shape[0], x.shape[1], 2, 4).transpose(1, 2),
        dyn((1, 2, 8), (2, 4, 8), (4, 9, 8)),
        [(1, 2, 8), (2, 4, 8), (4, 9, 8)],
    ),
    (
        "split_heads_minus1",
        lambda x: x.view(x.shape[0], x.shape[1], 2, -1),
        dyn((1, 2, 8), (2, 4, 8), (4, 9, 8)),
        [(1, 2, 8), (4, 9, 8)],
    ),
    (
        "merge_dynamic_dims",
        lambda x: x.view(x.shape[0] * x.shape[1], 4),
        dyn((1, 2, 4), (2, 4, 4), (4, 8, 4)),
        [(1, 2, 4), (4, 8, 4)],
    ),
    (
        "flatten_leading",
        lambda x: x.flatten(0, 1),
        dyn((1, 2, 4), (2, 4, 4), (4, 8, 4)),
        [(1, 2, 4), (3, 5, 4), (4, 8, 4)],
    ),
    ("flatten_trailing", lambda x: x.flatten(1), dyn((1, 3, 4), (2, 3, 4), (8, 3, 4)), [(1, 3, 4), (8, 3, 4)]),
    ("all_minus1", lambda x: x.reshape(-1), dyn((1, 3), (2, 3), (5, 3)), [(1, 3), (5, 3)]),
    (
        "static_shape_of_dynamic",
        lambda x: x.reshape(x.shape[0], 2, 6).reshape(-1, 3, 4),
        dyn((1, 12), (2, 12), (6, 12)),
        [(1, 12), (6, 12)],
    ),
    (
        "size_arith",
        lambda x: x.reshape(x.shape[0] * (x.shape[1] - 1) + x.shape[0], -1),
        dyn((2, 4, 4), (2, 6, 4), (2, 12, 4)),
        [(2, 4, 4), (2, 7, 4), (2, 12, 4)],
    ),
]


@pytest.mark.parametrize("case", DYN_VIEW_CASES, ids=[c[0] for c in DYN_VIEW_CASES])
def test_view_dynamic(case: DynCase) -> None:
    _, fn, spec, shapes = case
    check_dynamic(fn, [spec], *[[torch.randn(s)] for s in shapes])


# ---------------------------------------------------------------------------------------------
# permute / transpose / t / movedim
# ---------------------------------------------------------------------------------------------

PERMUTE_CASES: list[Case] = [
    ("2d", lambda x: x.permute(1, 0), (3, 4)),
    ("3d", lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    ("4d_negative", lambda x: x.permute(-1, 0, -2, 1), (2, 3, 4, 5)),
    ("5d", lambda x: x.permute(4, 2, 0, 3, 1), (1, 2, 3, 2, 2)),
    ("transpose", lambda x: x.transpose(0, 2), (2, 3, 4)),
    ("transpose_negative", lambda x: x.transpose(-1, -2), (2, 3, 4, 5)),
    ("t_2d", lambda x: x.t(), (3, 4)),
    ("t_1d", lambda x: x.t() + 1, (5,)),
    ("movedim", lambda x: x.movedim(0, -1), (2, 3, 4)),
    ("mT", lambda x: x.mT, (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", PERMUTE_CASES, ids=[c[0] for c in PERMUTE_CASES])
def test_permute(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


def test_permute_int_dynamic() -> None:
    check_dynamic(
        lambda x: x.permute(2, 0, 1),
        [dyn((1, 3, 2), (2, 3, 4), (4, 3, 7), torch.int64)],
        [torch.randint(0, 9, (1, 3, 2))],
        [torch.randint(0, 9, (4, 3, 7))],
    )


# ---------------------------------------------------------------------------------------------
# unsqueeze / squeeze
# ---------------------------------------------------------------------------------------------

SQUEEZE_CASES: list[Case] = [
    ("unsqueeze_0d", lambda x: x.unsqueeze(0), ()),
    ("unsqueeze_front", lambda x: x.unsqueeze(0), (3,)),
    ("unsqueeze_last", lambda x: x.unsqueeze(-1), (2, 3)),
    ("unsqueeze_mid", lambda x: x.unsqueeze(2), (2, 3, 4, 5)),
    ("unsqueeze_neg_mid", lambda x: x.unsqueeze(-3), (2, 3, 4)),
    ("squeeze_dim", lambda x: x.squeeze(1), (2, 1, 4)),
    ("squeeze_neg_dim", lambda x: x.squeeze(-1), (2, 3, 1)),
    ("squeeze_dims", lambda x: x.squeeze((0, 2)), (1, 3, 1, 4)),
    ("squeeze_all", lambda x: x.squeeze(), (1, 3, 1, 4, 1)),
    ("squeeze_noop", lambda x: x.squeeze(1) + 1, (2, 3, 4)),
    ("squeeze_to_0d", lambda x: x.squeeze(), (1, 1)),
    ("squeeze_mixed", lambda x: x.squeeze((0, 1)), (1, 3, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", SQUEEZE_CASES, ids=[c[0] for c in SQUEEZE_CASES])
def test_squeeze_unsqueeze(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool], ids=str)
def test_squeeze_unsqueeze_int_bool(dtype: torch.dtype) -> None:
    check(lambda x: x.squeeze(1).unsqueeze(0).squeeze(), randn(2, 1, 3).mul(5).to(dtype))


def test_squeeze_dynamic() -> None:
    check_dynamic(
        lambda x: x.squeeze(2).unsqueeze(0).squeeze(),
        [dyn((2, 3, 1, 2), (4, 3, 1, 5), (6, 3, 1, 9))],
        [torch.randn(2, 3, 1, 2)],
        [torch.randn(4, 3, 1, 5)],
        [torch.randn(6, 3, 1, 9)],
    )


# ---------------------------------------------------------------------------------------------
# expand / clone / contiguous
# ---------------------------------------------------------------------------------------------

EXPAND_CASES: list[Case] = [
    ("last", lambda x: x.expand(3, 4), (3, 1)),
    ("minus1", lambda x: x.expand(-1, 5, -1), (2, 1, 4)),
    ("new_dims", lambda x: x.expand(2, 3, 4), (4,)),
    ("new_and_minus1", lambda x: x.expand(2, 2, -1, 3), (3, 1)),
    ("0d", lambda x: x.expand(2, 3), ()),
    ("noop", lambda x: x.expand(2, 3) + 1, (2, 3)),
    ("5d", lambda x: x.expand(2, 2, 3, 2, 2), (1, 1, 3, 1, 2)),
    ("expand_as", lambda x: x.expand_as(torch.empty(2, 3, 4)), (3, 1)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", EXPAND_CASES, ids=[c[0] for c in EXPAND_CASES])
def test_expand(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


def test_expand_bool() -> None:
    check(lambda x: x.expand(2, 3, -1), randn(3, 1).gt(0))


def test_expand_dynamic_batch() -> None:
    # x.expand(b, -1, -1) with b taken from another input's dynamic dim.
    check_dynamic(
        lambda x, y: y.expand(x.shape[0], -1, -1),
        [dyn((1, 3), (2, 3), (8, 3)), static(torch.randn(1, 2, 4))],
        [torch.randn(1, 3), torch.randn(1, 2, 4)],
        [torch.randn(2, 3), torch.randn(1, 2, 4)],
        [torch.randn(8, 3), torch.randn(1, 2, 4)],
    )


def test_expand_dynamic_input() -> None:
    check_dynamic(
        lambda x: x.unsqueeze(1).expand(-1, 3, -1),
        [dyn((1, 2), (2, 4), (5, 7))],
        [torch.randn(1, 2)],
        [torch.randn(5, 7)],
    )


CLONE_CASES: list[Case] = [
    ("clone", lambda x: x.clone(), (2, 3)),
    ("contiguous_after_permute", lambda x: x.transpose(0, 1).contiguous(), (2, 3, 4)),
    ("detach", lambda x: x.detach() * 2, (4,)),
    ("clone_channels_last", lambda x: x.clone(memory_format=torch.channels_last), (1, 2, 3, 4)),
]


@pytest.mark.parametrize("case", CLONE_CASES, ids=[c[0] for c in CLONE_CASES])
def test_clone(case: Case) -> None:
    _, fn, shape = case
    check(fn, randn(*shape))


# ---------------------------------------------------------------------------------------------
# cat / stack
# ---------------------------------------------------------------------------------------------

CAT_CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("dim0", lambda a, b: torch.cat([a, b]), [(2, 3), (4, 3)]),
    ("dim1", lambda a, b: torch.cat([a, b], 1), [(2, 3, 4), (2, 1, 4)]),
    ("neg_dim", lambda a, b: torch.cat([a, b, a], -1), [(2, 3), (2, 5)]),
    ("1d", lambda a, b: torch.cat([a, b]), [(3,), (2,)]),
    ("5d", lambda a, b: torch.cat([a, b], 3), [(1, 2, 1, 2, 2), (1, 2, 1, 3, 2)]),
    ("same_input", lambda a, b: torch.cat([a, a, b], 0), [(1, 2), (1, 2)]),
    ("empty_along_dim", lambda a, b: torch.cat([a, b], 1), [(2, 3, 4), (2, 0, 4)]),
    ("legacy_empty", lambda a, b: torch.cat([a, torch.zeros(0, dtype=a.dtype), b], 0), [(2, 3), (1, 3)]),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64], ids=str)
@pytest.mark.parametrize("case", CAT_CASES, ids=[c[0] for c in CAT_CASES])
def test_cat(case: Any, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    check(fn, *[randn(*s).mul(5).to(dtype) for s in shapes])


MIXED = [
    (torch.float32, torch.int32),
    (torch.float16, torch.float32),
    (torch.int32, torch.int64),
    (torch.bfloat16, torch.int64),
    (torch.bool, torch.int32),
]


@pytest.mark.parametrize("dtypes", MIXED, ids=[f"{a}-{b}" for a, b in MIXED])
def test_cat_promotes(dtypes: tuple[torch.dtype, torch.dtype]) -> None:
    a = randn(2, 3).mul(5).to(dtypes[0])
    b = randn(2, 2).mul(5).to(dtypes[1])
    check(lambda a, b: torch.cat([a, b], 1), a, b)


def test_cat_dynamic() -> None:
    # Both operands derive from one input: independent dynamic inputs could not be proven equal.
    check_dynamic(
        lambda a: (torch.cat([a, a * 2], 1), torch.cat([a, a[:, :1]], 1), torch.cat([a + 1, a], -1)),
        [dyn((1, 2, 4), (2, 3, 4), (4, 6, 4))],
        [torch.randn(1, 2, 4)],
        [torch.randn(2, 3, 4)],
        [torch.randn(4, 6, 4)],
    )


STACK_CASES: list[tuple[str, Callable[..., Any], tuple[int, ...]]] = [
    ("dim0", lambda a, b: torch.stack([a, b]), (2, 3)),
    ("dim1", lambda a, b: torch.stack([a, b, a], 1), (2, 3)),
    ("last", lambda a, b: torch.stack([a, b], -1), (2, 3, 4)),
    ("1d", lambda a, b: torch.stack([a, b], 0), (4,)),
    ("0d", lambda a, b: torch.stack([a, b]), ()),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32], ids=str)
@pytest.mark.parametrize("case", STACK_CASES, ids=[c[0] for c in STACK_CASES])
def test_stack(case: Any, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape).mul(5).to(dtype), randn(*shape).mul(5).to(dtype))


def test_stack_direct_op() -> None:
    # aten.stack is decomposed by export; the converter still handles a graph that keeps it.
    check(lambda a, b: aten.stack.default([a, b], 1), randn(2, 3), randn(2, 3))


def test_stack_dynamic() -> None:
    check_dynamic(lambda a: torch.stack([a, a * 2], 1), [dyn((1, 3), (2, 3), (5, 3))], [randn(1, 3)], [randn(5, 3)])


# ---------------------------------------------------------------------------------------------
# repeat / flip
# ---------------------------------------------------------------------------------------------

REPEAT_CASES: list[Case] = [
    ("same_rank", lambda x: x.repeat(2, 1, 3), (2, 3, 4)),
    ("more_dims", lambda x: x.repeat(2, 2, 1, 3), (2, 3)),
    ("1d", lambda x: x.repeat(3), (4,)),
    ("0d", lambda x: x.repeat(2, 3), ()),
    ("ones", lambda x: x.repeat(1, 1) + 1, (2, 3)),
    ("5d", lambda x: x.repeat(1, 2, 1, 2, 1), (1, 2, 3, 1, 2)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64], ids=str)
@pytest.mark.parametrize("case", REPEAT_CASES, ids=[c[0] for c in REPEAT_CASES])
def test_repeat(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape).mul(5).to(dtype))


def test_repeat_dynamic() -> None:
    check_dynamic(
        lambda x: x.repeat(2, 1, 3), [dyn((1, 2), (2, 3), (4, 5))], [randn(1, 2)], [randn(2, 3)], [randn(4, 5)]
    )


FLIP_CASES: list[Case] = [
    ("1d", lambda x: x.flip(0), (5,)),
    ("two_dims", lambda x: x.flip(0, 2), (2, 3, 4)),
    ("negative", lambda x: x.flip(-1), (2, 3, 4)),
    ("all", lambda x: x.flip(0, 1, 2, 3), (2, 3, 1, 2)),
    ("5d", lambda x: x.flip(1, 4), (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32, torch.bool], ids=str)
@pytest.mark.parametrize("case", FLIP_CASES, ids=[c[0] for c in FLIP_CASES])
def test_flip(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    x = randn(*shape)
    check(fn, x.gt(0) if dtype == torch.bool else x.mul(5).to(dtype))


def test_flip_dynamic() -> None:
    check_dynamic(lambda x: x.flip(0, 1), [dyn((1, 2), (3, 4), (6, 8))], [randn(1, 2)], [randn(3, 4)], [randn(6, 8)])


# ---------------------------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------------------------

PAD_CASES: list[Case] = [
    ("constant_1d", lambda x: F.pad(x, (1, 2)), (2, 3, 4)),
    ("constant_value", lambda x: F.pad(x, (1, 2, 0, 1), value=1.5), (2, 3, 4)),
    ("constant_3d", lambda x: F.pad(x, (1, 0, 2, 1, 1, 1), value=-2.0), (1, 2, 3, 2, 2)),
    ("constant_all_dims", lambda x: F.pad(x, (1, 1, 1, 1, 1, 1)), (2, 3, 4)),
    ("constant_crop", lambda x: F.pad(x, (-1, 2, 1, -1)), (2, 3, 4)),
    ("constant_nd_op", lambda x: aten.constant_pad_nd(x, [1, 1, 2, 0], 3.0), (2, 3, 4)),
    ("reflect_1d", lambda x: F.pad(x, (1, 2), mode="reflect"), (2, 3, 4)),
    ("reflect_2d", lambda x: F.pad(x, (1, 2, 2, 0), mode="reflect"), (1, 2, 3, 4)),
    ("reflect_3d", lambda x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="reflect"), (1, 2, 3, 3, 4)),
    ("reflection_pad2d_op", lambda x: aten.reflection_pad2d(x, [1, 1, 2, 0]), (2, 3, 4)),
    ("replicate_1d", lambda x: F.pad(x, (2, 3), mode="replicate"), (2, 3, 4)),
    ("replicate_2d", lambda x: F.pad(x, (1, 0, 3, 1), mode="replicate"), (1, 2, 3, 4)),
    ("replicate_3d", lambda x: F.pad(x, (1, 1, 2, 0, 0, 1), mode="replicate"), (1, 2, 2, 3, 2)),
    ("replication_pad1d_op", lambda x: aten.replication_pad1d(x, [0, 2]), (2, 3, 4)),
    ("circular_1d", lambda x: F.pad(x, (1, 2), mode="circular"), (2, 3, 4)),
    ("circular_2d", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), (1, 2, 3, 4)),
    ("pad_circular_op", lambda x: aten._pad_circular(x, [1, 2]), (2, 3, 4)),
    ("pad_circular_op_2d", lambda x: aten._pad_circular(x, [0, 3, 2, 1]), (1, 2, 3, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", PAD_CASES, ids=[c[0] for c in PAD_CASES])
def test_pad(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


def test_pad_int() -> None:
    check(lambda x: F.pad(x, (1, 1), value=7), torch.randint(0, 5, (2, 3), dtype=torch.int32))


def test_pad_circular_op_dynamic() -> None:
    fn = lambda x: aten._pad_circular(x, [1, 2, 2, 1])  # noqa: E731
    check_dynamic(fn, [dyn((1, 3, 3, 4), (2, 3, 4, 5), (3, 3, 6, 7))], [randn(1, 3, 3, 4)], [randn(3, 3, 6, 7)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_dynamic(mode: str) -> None:
    check_dynamic(
        lambda x: F.pad(x, (1, 2, 2, 1), mode=mode),
        [dyn((1, 3, 3, 4), (2, 3, 4, 5), (3, 3, 6, 7))],
        [randn(1, 3, 3, 4)],
        [randn(3, 3, 6, 7)],
    )


SYMBOLIC_PAD_CASES: list[tuple[str, Callable[..., Any]]] = [
    ("constant", lambda x: F.pad(x, (0, x.shape[1])) + 1),
    ("constant_value", lambda x: F.pad(x, (x.shape[1] // 2, 1, x.shape[1] % 3, 0), value=-2.0)),
    ("reflect", lambda x: F.pad(x, (x.shape[1] % 3, 1), mode="reflect")),
    ("replicate", lambda x: F.pad(x, (0, x.shape[1] - 3), mode="replicate")),
]


@pytest.mark.parametrize("case", SYMBOLIC_PAD_CASES, ids=[c[0] for c in SYMBOLIC_PAD_CASES])
def test_pad_symbolic_amount(case: tuple[str, Callable[..., Any]]) -> None:
    # Pads computed from a dynamic size are shape tensors of the slice layer.
    spec = dyn((2, 4, 4), (2, 6, 4), (2, 12, 4))
    check_dynamic(case[1], [spec], [randn(2, 4, 4)], [randn(2, 7, 4)], [randn(2, 12, 4)])


# ---------------------------------------------------------------------------------------------
# split / chunk / unbind (multi-output)
# ---------------------------------------------------------------------------------------------

SPLIT_CASES: list[Case] = [
    ("split_even", lambda x: x.split(2, -1), (2, 3, 4)),
    ("split_uneven", lambda x: x.split(3, 2), (2, 3, 8)),
    ("split_sizes", lambda x: x.split([1, 3], -1), (2, 3, 4)),
    ("split_sizes_dim0", lambda x: x.split([2, 0, 3]), (5, 2)),
    ("chunk", lambda x: x.chunk(3, 1), (2, 6)),
    ("chunk_uneven", lambda x: x.chunk(3, -1), (2, 3, 4)),
    ("unbind", lambda x: x.unbind(1), (2, 3, 4)),
    ("unbind_last", lambda x: x.unbind(-1), (2, 3)),
    ("unbind_op", lambda x: aten.unbind.int(x, 0), (3, 2)),
    ("tensor_split", lambda x: x.tensor_split([1, 3], dim=1), (2, 5)),
    ("split_5d", lambda x: x.split(1, 3), (1, 2, 1, 2, 2)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64], ids=str)
@pytest.mark.parametrize("case", SPLIT_CASES, ids=[c[0] for c in SPLIT_CASES])
def test_split(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape).mul(5).to(dtype))


def test_split_op_directly() -> None:
    # aten.split.Tensor is decomposed by export; the converter still handles graphs that keep it.
    check(lambda x: aten.split.Tensor(x, 3, 1), randn(2, 8))


def test_split_dynamic_batch() -> None:
    check_dynamic(
        lambda x: x.split([1, 3], -1),
        [dyn((1, 3, 4), (2, 3, 4), (6, 3, 4))],
        [randn(1, 3, 4)],
        [randn(6, 3, 4)],
    )


@pytest.mark.parametrize(
    "fn",
    [lambda x: x.chunk(3, -1), lambda x: x.chunk(2, 2), lambda x: x.unbind(2), lambda x: aten.unbind.int(x, -1)],
    ids=["chunk_uneven", "chunk", "unbind", "unbind_last"],
)
def test_chunk_unbind_dynamic(fn: Callable[..., Any]) -> None:
    # Pieces along static dims of an input whose batch and sequence dims are dynamic.
    check_dynamic(
        fn,
        [dyn((1, 2, 2, 4), (2, 5, 2, 4), (6, 9, 2, 4))],
        [randn(1, 2, 2, 4)],
        [randn(2, 5, 2, 4)],
        [randn(6, 9, 2, 4)],
    )


def test_split_along_dynamic_dim() -> None:
    # Piece sizes computed from the dynamic dim at run time.
    check_dynamic(
        lambda x: x.split([x.shape[1] - 2, 2], 1),
        [dyn((1, 4), (2, 6), (3, 10))],
        [randn(1, 4)],
        [randn(2, 6)],
        [randn(3, 10)],
    )


# ---------------------------------------------------------------------------------------------
# SymInt arithmetic on sizes
# ---------------------------------------------------------------------------------------------

SYM_CASES: list[tuple[str, Callable[..., Any]]] = [
    ("add", lambda x: torch.arange(x.shape[1] + 2)),
    ("sub", lambda x: x.new_ones(x.shape[1] - 2)),
    ("mul", lambda x: x.new_zeros(x.shape[0] * x.shape[1])),
    ("floordiv", lambda x: torch.arange(x.shape[1] // 2 + 2)),
    ("mod", lambda x: torch.arange(x.shape[1] % 3 + 2)),
    ("max", lambda x: torch.arange(torch.sym_max(x.shape[1], 6))),
    ("min", lambda x: torch.arange(torch.sym_min(x.shape[1], 6) + 2)),
    ("neg", lambda x: torch.arange(-x.shape[1], 1)),
    # SymFloats: float32 scalars computed from sizes.
    ("float_pow", lambda x: x * (x.shape[1] ** -0.5)),
    ("float_truediv", lambda x: x * (x.shape[1] / x.shape[2] - 0.25)),
    ("float_mul_add", lambda x: x * (x.shape[1] * 0.5 + 1.0)),
    ("float_neg", lambda x: x * -(x.shape[1] / 3)),
]


@pytest.mark.parametrize("case", SYM_CASES, ids=[c[0] for c in SYM_CASES])
def test_symint_arithmetic(case: tuple[str, Callable[..., Any]]) -> None:
    _, fn = case
    spec = dyn((2, 4, 4), (2, 6, 4), (2, 12, 4))
    check_dynamic(fn, [spec], [randn(2, 4, 4)], [randn(2, 7, 4)], [randn(2, 12, 4)])


def test_symfloat_half_input() -> None:
    # The float32 scalar meets a float16 tensor: the elementwise op computes in float16, as eager does.
    spec = dyn((2, 4, 4), (2, 6, 4), (2, 12, 4), torch.float16)
    fn = lambda x: x * (x.shape[1] ** -0.5)  # noqa: E731
    check_dynamic(fn, [spec], [randn(2, 4, 4, dtype=torch.float16)], [randn(2, 12, 4, dtype=torch.float16)])


def test_sym_numel_dynamic() -> None:
    # x.numel() of a dynamic input is a SymInt (aten.sym_numel) computed in the engine.
    fn = lambda x: x.new_ones(x.numel()) * x.reshape(-1)  # noqa: E731
    check_dynamic(fn, [dyn((1, 4), (3, 4), (6, 4))], [randn(1, 4)], [randn(6, 4)])
