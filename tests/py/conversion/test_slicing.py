"""Slicing: slice.Tensor (start/end/step, negative, None, out of range, dynamic bounds), select.int
and narrow, static and dynamic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from _shape_testing import FLOATS, assert_falls_back, check, check_dynamic, dyn, randn

aten = torch.ops.aten
Case = tuple[str, Callable[..., Any], tuple[int, ...]]

SLICE_CASES: list[Case] = [
    ("start", lambda x: x[1:], (5,)),
    ("stop", lambda x: x[:, :2], (3, 4)),
    ("start_stop", lambda x: x[:, 1:3], (2, 5)),
    ("step", lambda x: x[:, ::2], (2, 5)),
    ("step3_offset", lambda x: x[..., 1::3], (2, 3, 8)),
    ("negative_start", lambda x: x[:, -2:], (2, 5)),
    ("negative_stop", lambda x: x[:, 1:-1], (2, 5, 3)),
    ("negative_both", lambda x: x[-3:-1], (5, 2)),
    ("end_beyond", lambda x: x[:, 2:100], (2, 5)),
    ("start_beyond", lambda x: x[:, 7:], (2, 5)),
    ("start_below", lambda x: x[:, -9:2], (2, 5)),
    ("empty", lambda x: x[:, 3:1], (2, 5)),
    ("full", lambda x: x[:, :] + 1, (2, 5)),
    ("multi_dims", lambda x: x[1:, :-1, ::2], (3, 4, 5)),
    ("4d", lambda x: x[:, :, 1:3, ::2], (2, 3, 4, 5)),
    ("5d", lambda x: x[:, 1:, :, :, -1:], (1, 2, 3, 2, 2)),
    ("slice_op_kwargs", lambda x: aten.slice.Tensor(x, dim=1, start=1, end=None, step=2), (2, 6)),
    ("slice_op_defaults", lambda x: aten.slice.Tensor(x) + 1, (3, 2)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", SLICE_CASES, ids=[c[0] for c in SLICE_CASES])
def test_slice(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool], ids=str)
def test_slice_int_bool(dtype: torch.dtype) -> None:
    check(lambda x: x[1:, ::2], randn(3, 5).mul(5).to(dtype))


# (id, fn, spec, input shapes at min / opt / max)
DynCase = tuple[str, Callable[..., Any], Any, list[tuple[int, ...]]]
SEQ = dyn((2, 3, 4), (2, 5, 4), (2, 9, 4))
SEQ_SHAPES = [(2, 3, 4), (2, 5, 4), (2, 9, 4)]

DYN_SLICE_CASES: list[DynCase] = [
    ("end_is_size_minus_1", lambda x: x[:, : x.shape[1] - 1], SEQ, SEQ_SHAPES),
    ("start", lambda x: x[:, 1:], SEQ, SEQ_SHAPES),
    ("stop", lambda x: x[:, :2], SEQ, SEQ_SHAPES),
    ("negative_start", lambda x: x[:, -2:], SEQ, SEQ_SHAPES),
    ("negative_stop", lambda x: x[:, :-1], SEQ, SEQ_SHAPES),
    ("both_negative", lambda x: x[:, -3:-1], SEQ, SEQ_SHAPES),
    ("step", lambda x: x[:, ::2], SEQ, SEQ_SHAPES),
    # torch.export refuses ranges where a result could have size 1, hence the larger minimum here.
    ("step_offset", lambda x: x[:, 1::3], dyn((2, 5, 4), (2, 6, 4), (2, 11, 4)), [(2, 5, 4), (2, 6, 4), (2, 11, 4)]),
    ("end_beyond", lambda x: x[:, :100], SEQ, SEQ_SHAPES),
    ("start_from_size", lambda x: x[:, x.shape[1] - 2 :], SEQ, SEQ_SHAPES),
    ("static_dim_of_dynamic", lambda x: x[:, :, 1:3], SEQ, SEQ_SHAPES),
    (
        "size_of_other_dim",
        lambda x: x[:, :, : x.shape[0]],
        dyn((1, 3, 6), (2, 3, 6), (5, 3, 6)),
        [(1, 3, 6), (5, 3, 6)],
    ),
    ("batch_and_seq", lambda x: x[1:, 1:-1], dyn((3, 4, 4), (3, 5, 4), (5, 9, 4)), [(3, 4, 4), (3, 5, 4), (5, 9, 4)]),
]


@pytest.mark.parametrize("case", DYN_SLICE_CASES, ids=[c[0] for c in DYN_SLICE_CASES])
def test_slice_dynamic(case: DynCase) -> None:
    _, fn, spec, shapes = case
    check_dynamic(fn, [spec], *[[torch.randn(s)] for s in shapes])


SELECT_CASES: list[Any] = [
    ("1d", lambda x: x[2], (5,)),
    ("first_dim", lambda x: x[0], (2, 3)),
    ("mid_dim", lambda x: x[:, 1], (2, 3, 4)),
    ("negative", lambda x: x[:, -1], (2, 3, 4)),
    ("last_dim_negative", lambda x: x[..., -2], (2, 3, 4, 5)),
    ("5d", lambda x: x[:, :, 2, :, 0], (1, 2, 3, 2, 2)),
    ("chained", lambda x: x[1][0], (2, 3, 4)),
    ("select_op", lambda x: aten.select.int(x, 1, -3), (2, 3)),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("case", SELECT_CASES, ids=[c.id if hasattr(c, "id") else c[0] for c in SELECT_CASES])
def test_select(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    x = randn(*shape)
    check(fn, x.gt(0) if dtype == torch.bool else x.mul(5).to(dtype))


@pytest.mark.parametrize(
    "fn",
    [lambda x: x[:, -1], lambda x: x[:, 0], lambda x: x[-1], lambda x: x[:, 1, -1]],
    ids=["negative_on_dynamic", "zero_on_dynamic", "negative_on_batch", "static_dims"],
)
def test_select_dynamic(fn: Callable[..., Any]) -> None:
    spec = dyn((1, 2, 4), (2, 5, 4), (4, 9, 4))
    check_dynamic(fn, [spec], [randn(1, 2, 4)], [randn(2, 5, 4)], [randn(4, 9, 4)])


NARROW_CASES: list[Case] = [
    ("start", lambda x: x.narrow(0, 1, 2), (4, 3)),
    ("last_dim", lambda x: x.narrow(-1, 2, 3), (2, 3, 5)),
    ("negative_start", lambda x: x.narrow(1, -2, 2), (2, 4)),
    ("narrow_op", lambda x: aten.narrow.default(x, 1, 1, 2), (2, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", NARROW_CASES, ids=[c[0] for c in NARROW_CASES])
def test_narrow(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    check(fn, randn(*shape, dtype=dtype))


@pytest.mark.parametrize(
    "fn",
    [lambda x: x.narrow(1, 1, x.shape[1] - 2), lambda x: aten.narrow.default(x, 1, -2, 2), lambda x: x.narrow(2, 1, 2)],
    ids=["length_from_size", "negative_start_op", "static_dim"],
)
def test_narrow_dynamic(fn: Callable[..., Any]) -> None:
    spec = dyn((2, 4, 4), (2, 6, 4), (3, 9, 4))
    check_dynamic(fn, [spec], [randn(2, 4, 4)], [randn(2, 6, 4)], [randn(3, 9, 4)])


# ---------------------------------------------------------------------------------------------
# Writes into slices: copy, slice_scatter and the ``x[..., a:b] = v`` pattern they come from
# ---------------------------------------------------------------------------------------------


def _assigned(index: Any) -> Callable[..., Any]:
    """``y = x * 1; y[index] = v``: functionalized into slice + copy + slice_scatter."""

    def fn(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        y = x * 1
        y[index] = v
        return y

    return fn


# (id, fn, shapes of x and src) — values are copied, so the comparison is exact.
SCATTER_CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("middle", lambda x, s: torch.slice_scatter(x, s, 1, 1, 3), [(3, 4), (3, 2)]),
    ("front_dim0", lambda x, s: torch.slice_scatter(x, s, 0, 0, 2), [(3, 4), (2, 4)]),
    ("to_end", lambda x, s: torch.slice_scatter(x, s, 1, 2), [(3, 4), (3, 2)]),
    ("negative_bounds", lambda x, s: torch.slice_scatter(x, s, -1, -3, -1), [(2, 3, 5), (2, 3, 2)]),
    ("end_past_length", lambda x, s: torch.slice_scatter(x, s, 1, 2, 100), [(3, 4), (3, 2)]),
    ("whole", lambda x, s: torch.slice_scatter(x, s, 0), [(3, 4), (3, 4)]),
    ("step2", lambda x, s: torch.slice_scatter(x, s, 1, 0, None, 2), [(3, 4), (3, 2)]),
    ("step2_offset", lambda x, s: torch.slice_scatter(x, s, 1, 1, None, 2), [(3, 5), (3, 2)]),
    ("step3_rank3", lambda x, s: torch.slice_scatter(x, s, 2, 1, 8, 3), [(2, 3, 8), (2, 3, 3)]),
    ("setitem_columns", _assigned((slice(None), slice(1, 3))), [(3, 4), (3, 2)]),
    ("setitem_strided", _assigned((slice(None), slice(0, None, 2))), [(3, 4), (3, 2)]),
    ("setitem_broadcast_value", _assigned((Ellipsis, slice(-2, None))), [(2, 3, 4), (2,)]),
    ("copy_broadcast", lambda x, s: torch.ops.aten.copy(x, s), [(3, 4), (4,)]),
    ("copy_same_shape", lambda x, s: torch.ops.aten.copy(x, s), [(2, 3), (2, 3)]),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.bool], ids=str)
@pytest.mark.parametrize("case", SCATTER_CASES, ids=[c[0] for c in SCATTER_CASES])
def test_slice_scatter_and_copy(case: tuple, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    torch.manual_seed(0)
    x, src = (randn(*s, dtype=dtype) if dtype.is_floating_point else torch.randint(-9, 9, s).to(dtype) for s in shapes)
    check(fn, x, src, rtol=0, atol=0)


def test_copy_casts_to_the_target_dtype() -> None:
    # copy keeps self's dtype: int64 values written into a float16 tensor.
    check(
        lambda x, s: torch.ops.aten.copy(x, s),
        randn(3, 4, dtype=torch.float16),
        torch.randint(-9, 9, (3, 4)),
        rtol=0,
        atol=0,
    )


DYN_SCATTER_CASES: list[Any] = [
    # The written columns are fixed while the rows vary.
    ("setitem_rows_dynamic", _assigned((slice(None), slice(1, 3))), [((1, 4), (6, 4)), ((1, 2), (6, 2))]),
    # The written range ends at a run-time length.
    ("setitem_tail_dynamic", _assigned((Ellipsis, slice(-2, None))), [((2, 3, 3), (2, 3, 7)), ((2,), (2,))]),
    ("copy_dynamic", lambda x, s: torch.ops.aten.copy(x, s), [((1, 4), (6, 4)), ((4,), (4,))]),
    (
        "strided_static_rows",
        lambda x, s: torch.slice_scatter(x, s, 1, 1, None, 2),
        [((1, 5), (6, 5)), ((1, 2), (6, 2))],
    ),
]


@pytest.mark.parametrize("case", DYN_SCATTER_CASES, ids=[c[0] for c in DYN_SCATTER_CASES])
def test_slice_scatter_dynamic(case: Any) -> None:
    _, fn, ranges = case
    specs = [dyn(lo, hi, hi) for lo, hi in ranges]
    torch.manual_seed(0)
    check_dynamic(fn, specs, [randn(*r[0]) for r in ranges], [randn(*r[1]) for r in ranges])


def test_strided_scatter_of_run_time_count_falls_back() -> None:
    # x[0::2] = v on a dynamic length: the number of written rows is only known at run time.
    spec = [dyn((2, 4), (4, 4), (4, 4)), dyn((1, 4), (2, 4), (2, 4))]
    assert_falls_back(
        lambda x, s: torch.slice_scatter(x, s, 0, 0, None, 2),
        randn(4, 4),
        randn(2, 4),
        op="slice_scatter",
        input_specs=spec,
    )
