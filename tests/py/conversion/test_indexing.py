"""Indexing: index_select, gather, advanced indexing (index.Tensor), embedding, scatter, tril/triu,
cumsum, topk, sort — static and dynamic, with fallbacks for what TensorRT cannot express."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import (
    FLOATS,
    assert_falls_back,
    check,
    check_dynamic,
    distinct,
    dyn,
    fn_module,
    randn,
    static,
)

from torch_tensorrt.testing import run_on_reference

aten = torch.ops.aten


def idx(*values: Any, dtype: torch.dtype = torch.int64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# index_select / gather / embedding
# ---------------------------------------------------------------------------------------------

# (id, fn, data shape, index)
IndexCase = tuple[str, Callable[..., Any], tuple[int, ...], torch.Tensor]

INDEX_SELECT_CASES: list[IndexCase] = [
    ("dim0", lambda x, i: x.index_select(0, i), (4, 3), idx(3, 0, 0)),
    ("dim1", lambda x, i: x.index_select(1, i), (2, 3, 4), idx(0, 2, 2, 1)),
    ("last_neg_dim", lambda x, i: x.index_select(-1, i), (2, 3, 4), idx(3)),
    ("1d", lambda x, i: x.index_select(0, i), (5,), idx(4, 1)),
    ("0d_index", lambda x, i: x.index_select(1, i), (2, 3), torch.tensor(2)),
    ("int32_index", lambda x, i: x.index_select(1, i), (2, 3), idx(2, 0, dtype=torch.int32)),
    ("5d", lambda x, i: x.index_select(3, i), (1, 2, 1, 3, 2), idx(2, 2, 0)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64], ids=str)
@pytest.mark.parametrize("case", INDEX_SELECT_CASES, ids=[c[0] for c in INDEX_SELECT_CASES])
def test_index_select(case: IndexCase, dtype: torch.dtype) -> None:
    _, fn, shape, index = case
    check(fn, randn(*shape).mul(5).to(dtype), index)


def test_index_select_constant_index_dynamic() -> None:
    index = idx(0, 2, 1, 1)
    check_dynamic(
        lambda x: x.index_select(1, index), [dyn((1, 3, 2), (2, 3, 4), (4, 3, 7))], [randn(1, 3, 2)], [randn(4, 3, 7)]
    )


def test_index_select_dynamic_index() -> None:
    # A run-time number of picked rows from data whose batch is dynamic too.
    check_dynamic(
        lambda x, i: x.index_select(1, i),
        [dyn((1, 5, 3), (2, 5, 3), (4, 5, 3)), dyn((1,), (3,), (7,), torch.int64)],
        [randn(1, 5, 3), idx(4)],
        [randn(2, 5, 3), idx(0, 4, 2)],
        [randn(4, 5, 3), idx(1, 1, 0, 3, 2, 4, 0)],
    )


GATHER_CASES: list[IndexCase] = [
    ("dim0", lambda x, i: x.gather(0, i), (3, 4), torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]])),
    ("dim1", lambda x, i: x.gather(1, i), (2, 3, 4), torch.randint(0, 3, (2, 5, 4))),
    ("last_neg", lambda x, i: x.gather(-1, i), (2, 3, 4), torch.randint(0, 4, (2, 3, 2))),
    ("smaller_index", lambda x, i: x.gather(2, i), (2, 3, 4), torch.randint(0, 4, (1, 2, 3))),
    ("1d", lambda x, i: x.gather(0, i), (5,), idx(4, 4, 0)),
    ("int64_data_4d", lambda x, i: x.gather(1, i), (2, 3, 2, 2), torch.randint(0, 3, (2, 2, 2, 2))),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32], ids=str)
@pytest.mark.parametrize("case", GATHER_CASES, ids=[c[0] for c in GATHER_CASES])
def test_gather(case: IndexCase, dtype: torch.dtype) -> None:
    _, fn, shape, index = case
    check(fn, randn(*shape).mul(5).to(dtype), index)


def test_gather_dynamic() -> None:
    check_dynamic(
        lambda x, i: x.gather(1, i),
        [dyn((1, 3, 4), (2, 3, 4), (4, 3, 4)), dyn((1, 2, 4), (2, 2, 4), (4, 2, 4), torch.int64)],
        [randn(1, 3, 4), torch.randint(0, 3, (1, 2, 4))],
        [randn(4, 3, 4), torch.randint(0, 3, (4, 2, 4))],
    )


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_embedding_module(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    module = torch.nn.Embedding(6, 3, padding_idx=0).to(dtype).eval()
    check(lambda i: module(i), torch.tensor([[0, 5], [1, 1], [3, 2]]))


@pytest.mark.parametrize("index", [idx(0, 4, 2), torch.tensor([[1], [3]]), torch.tensor(2)], ids=["1d", "2d", "0d"])
def test_embedding_functional(index: torch.Tensor) -> None:
    check(lambda w, i: F.embedding(i, w), randn(5, 3), index)


def test_embedding_dynamic() -> None:
    weight = randn(7, 4)
    check_dynamic(
        lambda i: F.embedding(i, weight),
        [dyn((1, 2), (2, 3), (4, 6), torch.int64)],
        [torch.randint(0, 7, (1, 2))],
        [torch.randint(0, 7, (2, 3))],
        [torch.randint(0, 7, (4, 6))],
    )


# ---------------------------------------------------------------------------------------------
# Advanced indexing: aten.index.Tensor
# ---------------------------------------------------------------------------------------------

# (id, fn, data shape, index tensors)
AdvCase = tuple[str, Callable[..., Any], tuple[int, ...], list[torch.Tensor]]

ADV_CASES: list[AdvCase] = [
    ("first_dim", lambda x, i: x[i], (3, 4), [idx(0, 2, 2, 1)]),
    ("negative", lambda x, i: x[i], (3, 4), [idx(-1, 0, -3)]),
    ("mid_dim", lambda x, i: x[:, i], (2, 3, 4), [idx(2, -1, 0)]),
    ("last_dim", lambda x, i: x[..., i], (2, 3, 4), [idx(3, 0)]),
    ("2d_index", lambda x, i: x[:, i], (2, 5, 3), [torch.tensor([[0, 4], [-2, 1], [3, 3]])]),
    ("two_adjacent_leading", lambda x, i, j: x[i, j], (3, 4, 2), [idx(0, 2, 1), idx(3, -1, 0)]),
    ("two_adjacent_mid", lambda x, i, j: x[:, i, j], (2, 3, 4, 2), [idx(0, 2), idx(1, 3)]),
    ("two_separated", lambda x, i, j: x[i, :, j], (3, 2, 4), [idx(0, 2), torch.tensor([[1], [3]])]),
    ("separated_by_two", lambda x, i, j: x[:, i, :, :, j], (1, 3, 2, 2, 4), [idx(0, 2), idx(3, 1)]),
    ("broadcast", lambda x, i, j: x[:, i, j], (2, 3, 4), [torch.tensor([[0], [2]]), idx(0, 1, 3)]),
    ("three_indices", lambda x, i, j: x[i, j, i], (3, 3, 3), [idx(0, 2, 1, 1), idx(2, 0, 1, -1)]),
    (
        "int32_indices",
        lambda x, i, j: x[i, :, j],
        (3, 2, 4),
        [idx(2, 0, dtype=torch.int32), idx(-1, 1, dtype=torch.int32)],
    ),
    ("with_none", lambda x, i: x[None, i, ..., None], (3, 4), [idx(1, 0)]),
    ("1d_data", lambda x, i: x[i], (5,), [torch.tensor([[4, 0], [1, 1]])]),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("case", ADV_CASES, ids=[c[0] for c in ADV_CASES])
def test_index_tensor(case: AdvCase, dtype: torch.dtype) -> None:
    _, fn, shape, indices = case
    x = randn(*shape)
    check(fn, x.gt(0) if dtype == torch.bool else x.mul(5).to(dtype), *indices)


def test_index_tensor_constant_index() -> None:
    # An index held by the module (a constant in the graph) instead of an input.
    index = idx(2, -1, 0)
    check(lambda x: x[:, index], randn(2, 3, 4))


def test_index_tensor_dynamic_data() -> None:
    check_dynamic(
        lambda x, i: x[:, i],
        [dyn((1, 3, 4), (2, 5, 4), (4, 9, 4)), static(idx(0, -1))],
        [randn(1, 3, 4), idx(0, -1)],
        [randn(2, 5, 4), idx(2, -1)],
        [randn(4, 9, 4), idx(8, -9)],
    )


def test_index_tensor_dynamic_multi() -> None:
    # A dynamic-length index broadcast against a 1-element one, over dynamic data dims.
    check_dynamic(
        lambda x, i, j: x[i, :, j],
        [dyn((2, 3, 4), (3, 3, 5), (5, 3, 8)), dyn((1,), (2,), (6,), torch.int64), static(idx(-1))],
        [randn(2, 3, 4), idx(1), idx(-1)],
        [randn(3, 3, 5), idx(0, 2), idx(4)],
        [randn(5, 3, 8), idx(0, 1, 2, 3, 4, -5), idx(-8)],
    )


def test_index_tensor_bool_mask_falls_back() -> None:
    # A boolean mask gives a data-dependent shape: refused by the validator.
    mask = torch.tensor([True, False, True])
    assert_falls_back(lambda x, m: x[m], randn(3, 2), mask, op="aten.index")


# ---------------------------------------------------------------------------------------------
# scatter
# ---------------------------------------------------------------------------------------------

SCATTER_CASES: list[IndexCase] = [
    ("value_dim1", lambda x, i: x.scatter(1, i, 1.5), (2, 3, 4), torch.tensor([[[0, 1, 2, 0]], [[2, 2, 1, 0]]])),
    ("value_dim0", lambda x, i: x.scatter(0, i, -2.0), (3, 4), torch.tensor([[2, 0, 1, 2]])),
    ("src_same_shape", lambda x, i: x.scatter(-1, i, x * 2), (2, 4), torch.tensor([[3, 2, 1, 0], [1, 0, 3, 2]])),
    ("src_larger", lambda x, i: x.scatter(1, i, x * 3), (2, 3, 4), torch.tensor([[[0, 1, 2, 0]], [[2, 2, 1, 0]]])),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32], ids=str)
@pytest.mark.parametrize("case", SCATTER_CASES, ids=[c[0] for c in SCATTER_CASES])
def test_scatter(case: IndexCase, dtype: torch.dtype) -> None:
    _, fn, shape, index = case
    check(fn, randn(*shape).mul(5).to(dtype), index)


# ---------------------------------------------------------------------------------------------
# tril / triu (decomposed into arange masks)
# ---------------------------------------------------------------------------------------------

TRI_CASES: list[tuple[str, Callable[..., Any]]] = [
    ("tril", lambda x: x.tril()),
    ("tril_pos", lambda x: x.tril(1)),
    ("tril_neg", lambda x: x.tril(-2)),
    ("triu", lambda x: x.triu()),
    ("triu_neg", lambda x: x.triu(-1)),
    ("triu_pos", lambda x: x.triu(2)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", TRI_CASES, ids=[c[0] for c in TRI_CASES])
def test_tril_triu(case: tuple[str, Callable[..., Any]], dtype: torch.dtype) -> None:
    check(case[1], randn(2, 4, 5, dtype=dtype))


@pytest.mark.parametrize("case", TRI_CASES[:4], ids=[c[0] for c in TRI_CASES[:4]])
def test_tril_triu_dynamic(case: tuple[str, Callable[..., Any]]) -> None:
    spec = dyn((1, 2, 3), (2, 4, 4), (3, 7, 6))
    check_dynamic(case[1], [spec], [randn(1, 2, 3)], [randn(2, 4, 4)], [randn(3, 7, 6)])


# ---------------------------------------------------------------------------------------------
# cumsum
# ---------------------------------------------------------------------------------------------

CUMSUM_CASES: list[tuple[str, Callable[..., Any], tuple[int, ...]]] = [
    ("1d", lambda x: x.cumsum(0), (6,)),
    ("dim1", lambda x: x.cumsum(1), (2, 3, 4)),
    ("neg_dim", lambda x: x.cumsum(-1), (2, 3, 4)),
    ("4d", lambda x: x.cumsum(2), (2, 1, 3, 2)),
    ("5d", lambda x: x.cumsum(0), (2, 1, 3, 2, 2)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("case", CUMSUM_CASES, ids=[c[0] for c in CUMSUM_CASES])
def test_cumsum(case: Any, dtype: torch.dtype) -> None:
    _, fn, shape = case
    x = randn(*shape) if dtype.is_floating_point else torch.randint(-5, 5, shape)
    check(fn, x.to(dtype))


def test_cumsum_bool_gives_int64() -> None:
    check(lambda x: (x > 0).cumsum(1), randn(2, 5))


def test_cumsum_dtype_argument() -> None:
    check(lambda x: x.cumsum(1, dtype=torch.float32), torch.randint(-5, 5, (2, 5), dtype=torch.int32))


def test_cumsum_dynamic() -> None:
    check_dynamic(lambda x: x.cumsum(1), [dyn((1, 2), (2, 5), (4, 9))], [randn(1, 2)], [randn(2, 5)], [randn(4, 9)])


# ---------------------------------------------------------------------------------------------
# topk / sort
# ---------------------------------------------------------------------------------------------

TOPK_CASES: list[tuple[str, Callable[..., Any], tuple[int, ...]]] = [
    ("last", lambda x: x.topk(2), (3, 5)),
    ("dim1", lambda x: x.topk(2, 1), (2, 3, 4)),
    ("smallest", lambda x: x.topk(3, -1, largest=False), (2, 3, 4)),
    ("k_all", lambda x: x.topk(4, 0), (4, 3)),
    ("1d", lambda x: x.topk(3), (7,)),
    ("1d_smallest", lambda x: x.topk(1, largest=False), (7,)),
    ("5d_dim1", lambda x: x.topk(2, 1), (1, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("case", TOPK_CASES, ids=[c[0] for c in TOPK_CASES])
def test_topk(case: Any, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, distinct(*shape, dtype=dtype))


def test_topk_unsorted() -> None:
    # sorted=False leaves the order open: compare the sets of (value, index) pairs.
    x = distinct(3, 6)
    module = fn_module(lambda x: x.topk(3, 1, sorted=False), 1)
    values, indices = run_on_reference(module, [x])
    want_values, want_indices = module(x)
    order, want_order = values.argsort(1), want_values.argsort(1)
    torch.testing.assert_close(values.gather(1, order), want_values.gather(1, want_order))
    torch.testing.assert_close(indices.gather(1, order), want_indices.gather(1, want_order))
    assert indices.dtype == torch.int64


def test_topk_dynamic() -> None:
    spec = dyn((1, 4, 3), (2, 6, 3), (4, 9, 3))
    check_dynamic(lambda x: x.topk(2, 1), [spec], [distinct(1, 4, 3)], [distinct(2, 6, 3)], [distinct(4, 9, 3)])


def test_topk_leading_dim_of_5d_falls_back() -> None:
    # TensorRT's TopK only reduces over one of the last four dims.
    assert_falls_back(lambda x: x.topk(2, 0), distinct(3, 1, 2, 2, 2), op="aten.topk")


def test_topk_k_too_large_falls_back() -> None:
    assert_falls_back(lambda x: x.topk(3900, 1), distinct(1, 4000), op="aten.topk")


SORT_CASES: list[tuple[str, Callable[..., Any], tuple[int, ...]]] = [
    ("default", lambda x: x.sort(), (3, 5)),
    ("dim0", lambda x: x.sort(0), (4, 3)),
    ("descending", lambda x: x.sort(1, descending=True), (2, 4, 3)),
    ("1d", lambda x: x.sort(), (6,)),
    ("argsort", lambda x: x.argsort(-1), (2, 5)),
    ("argsort_desc", lambda x: x.argsort(0, descending=True), (4, 3)),
    ("msort", lambda x: x.msort(), (4, 3)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64], ids=str)
@pytest.mark.parametrize("case", SORT_CASES, ids=[c[0] for c in SORT_CASES])
def test_sort(case: Any, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, distinct(*shape, dtype=dtype))


def test_sort_dynamic_dim() -> None:
    # The number of sorted elements is a run-time size (TopK's k given as a tensor).
    spec = dyn((2, 2, 3), (2, 6, 3), (3, 12, 3))
    check_dynamic(
        lambda x: (x.sort(1), x.transpose(1, 2).sort(-1, descending=True)),
        [spec],
        [distinct(2, 2, 3)],
        [distinct(2, 6, 3)],
        [distinct(3, 12, 3)],
    )


def test_sort_stable_falls_back() -> None:
    # TopK does not promise the order of ties, so stable=True stays in PyTorch.
    assert_falls_back(lambda x: x.sort(dim=1, stable=True), torch.tensor([[1.0, 0.0, 1.0, 0.0]]), op="aten.sort")


# ---------------------------------------------------------------------------------------------
# index_put (x[i] = v after functionalization) and index_copy, which lowers to it
# ---------------------------------------------------------------------------------------------


def _put(*index: Any) -> Callable[..., Any]:
    def fn(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        y = x * 1
        y[index] = v
        return y

    return fn


def _mask_put(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[x > 0] = v
    return y


def _row_mask_put(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[x[:, 0] > 0] = v
    return y


# (id, fn, shapes of x and the values); indices are distinct, so the result is unambiguous.
PUT_CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("rows", lambda x, v: torch.index_put(x, (idx(2, 0),), v), [(3, 4), (2, 4)]),
    ("rows_negative_broadcast_value", lambda x, v: torch.index_put(x, (idx(2, -1),), v), [(3, 4), (4,)]),
    ("elements", lambda x, v: torch.index_put(x, (idx(2, 0), idx(1, 3)), v), [(3, 4), (2,)]),
    ("index_matrix", lambda x, v: torch.index_put(x, (idx([0, 1], [2, 4]),), v), [(5, 4), (2, 2, 4)]),
    ("columns", _put(slice(None), idx(2, 0)), [(3, 4), (3, 2)]),
    ("adjacent_middle", _put(slice(None), idx(1, 0), idx(2, 3)), [(2, 3, 4, 5), (2, 2, 5)]),
    ("separated", _put(idx(1, 0), slice(None), idx(2, 3)), [(2, 3, 4), (2, 3)]),
    ("broadcast_indices", _put(idx([0], [2]), idx(1, 3)), [(3, 4), (2, 2)]),
    ("mask_scalar_tensor", _mask_put, [(3, 4), ()]),
    ("mask_rows", _row_mask_put, [(3, 4), (4,)]),
    ("index_copy_dim0", lambda x, s: torch.index_copy(x, 0, idx(2, 0), s), [(3, 4), (2, 4)]),
    ("index_copy_dim1", lambda x, s: torch.index_copy(x, 1, idx(3, 0), s), [(3, 4), (3, 2)]),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32], ids=str)
@pytest.mark.parametrize("case", PUT_CASES, ids=[c[0] for c in PUT_CASES])
def test_index_put(case: Any, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    torch.manual_seed(0)
    x, v = (randn(*s, dtype=dtype) if dtype.is_floating_point else torch.randint(-9, 9, s, dtype=dtype) for s in shapes)
    check(fn, x, v, rtol=0, atol=0)


def test_index_put_dynamic_data() -> None:
    specs = [dyn((1, 4), (3, 4), (6, 4)), dyn((1, 2), (3, 2), (6, 2))]
    check_dynamic(_put(slice(None), idx(2, 0)), specs, [randn(1, 4), randn(1, 2)], [randn(6, 4), randn(6, 2)])


def test_index_put_dynamic_index_count() -> None:
    # The number of written rows is an input dim; negative indices are wrapped at run time.
    specs = [static(randn(5, 4)), dyn((1,), (2,), (4,), torch.int64), dyn((1, 4), (2, 4), (4, 4))]
    x = randn(5, 4)
    check_dynamic(
        lambda a, i, v: torch.index_put(a, (i,), v), specs, [x, idx(3), randn(1, 4)], [x, idx(4, 0, -2, 1), randn(4, 4)]
    )


def test_index_put_mask_dynamic() -> None:
    check_dynamic(
        _mask_put,
        [dyn((1, 4), (3, 4), (6, 4)), static(torch.tensor(0.5))],
        [randn(1, 4), torch.tensor(0.5)],
        [randn(6, 4), torch.tensor(0.5)],
    )


# Repeated indices add up with accumulate=True (index_put_(..., accumulate=True), index_add).
ACCUMULATE_CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("repeated_rows", lambda x, v: torch.index_put(x, (idx(0, 2, 0),), v, accumulate=True), [(3, 4), (3, 4)]),
    (
        "elements_negative",
        lambda x, v: torch.index_put(x, (idx(0, -1, 0), idx(1, 3, 1)), v, accumulate=True),
        [(3, 4), (3,)],
    ),
    (
        "broadcast_index_tuples",
        lambda x, v: x.index_put((torch.arange(3).unsqueeze(1), idx(1, 1)), v, accumulate=True),
        [(3, 4), (2,)],
    ),
    ("index_add_dim1", lambda x, v: x.index_add(1, idx(3, 0, 3), v), [(2, 4), (2, 3)]),
    ("index_add_alpha", lambda x, v: x.index_add(0, idx(1, 1), v, alpha=-2.0), [(3, 2), (2, 2)]),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", ACCUMULATE_CASES, ids=[c[0] for c in ACCUMULATE_CASES])
def test_index_put_accumulate(case: Any, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    torch.manual_seed(0)
    rtol, atol = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}[dtype]
    check(fn, *(randn(*s, dtype=dtype) for s in shapes), rtol=rtol, atol=atol)


def test_index_put_accumulate_dynamic() -> None:
    specs = [dyn((3, 1), (3, 4), (3, 6)), dyn((2, 1), (2, 4), (2, 6))]
    fn = lambda x, v: torch.index_put(x, (idx(2, 2),), v, accumulate=True)  # noqa: E731
    check_dynamic(fn, specs, [randn(3, 1), randn(2, 1)], [randn(3, 6), randn(2, 6)])


def test_index_put_accumulate_integers_fall_back() -> None:
    # TensorRT multiplies matrices of floats only.
    x, v = torch.zeros(3, 4, dtype=torch.int32), torch.ones(2, 4, dtype=torch.int32)
    assert_falls_back(lambda a, b: torch.index_put(a, (idx(0, 0),), b, accumulate=True), x, v, op="index_put")


def test_index_put_mask_with_row_values_falls_back() -> None:
    # v has one row per True in the mask: how many is only known at run time.
    assert_falls_back(_row_mask_put, torch.tensor([[1.0, 2.0], [-1.0, 0.0], [3.0, 1.0]]), randn(2, 2), op="index_put")
