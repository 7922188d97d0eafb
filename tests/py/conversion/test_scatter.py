"""scatter_add, scatter_reduce (sum/prod/mean/amax/amin, with and without self) and masked_scatter
through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from _shape_testing import FLOATS, assert_falls_back, check, check_dynamic, dyn, randn

# Indices repeat, so several values combine at one position; some positions receive none.
INDEX = torch.tensor([[0, 2, 0, 0], [1, 1, 3, 0], [3, 3, 3, 3]])
ROUNDED = {
    torch.float32: (1e-5, 1e-5),
    torch.float16: (4e-3, 4e-3),
    torch.bfloat16: (3e-2, 3e-2),
    torch.int32: (0, 0),
    torch.int64: (0, 0),
}


def _data(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    if dtype.is_floating_point:
        return randn(*shape, dtype=dtype)
    return torch.randint(-5, 6, shape, dtype=dtype)


Case = tuple[str, Callable[..., Any], tuple[int, ...], list[torch.dtype]]


def _reduce_fn(reduction: str, include_self: bool) -> Callable[..., Any]:
    return lambda x, s: x.scatter_reduce(1, INDEX, s, reduction, include_self=include_self)


CASES: list[Case] = [
    ("scatter_add_dim1", lambda x, s: torch.scatter_add(x, 1, INDEX, s), (3, 4), [*FLOATS, torch.int32, torch.int64]),
    ("scatter_add_dim0", lambda x, s: torch.scatter_add(x, 0, INDEX[:, :3].remainder(3), s), (3, 3), [torch.float32]),
    (
        "index_add",
        lambda x, s: x.index_add(0, torch.tensor([2, 0, 2]), s[:, :3]),
        (3, 3),
        [torch.float32, torch.float16],
    ),
    *[
        (f"reduce_{r}_{'self' if inc else 'noself'}", _reduce_fn(r, inc), (3, 4), dtypes)
        for r, dtypes in (
            ("sum", [torch.float32, torch.int32]),
            ("prod", [torch.float32, torch.int64]),
            ("mean", [torch.float32, torch.bfloat16]),
            ("amax", [torch.float32, torch.float16, torch.int32]),
            ("amin", [torch.float32, torch.int64]),
        )
        for inc in (True, False)
    ],
]


@pytest.mark.parametrize(
    ("case", "dtype"), [pytest.param(c, d, id=f"{c[0]}-{str(d).removeprefix('torch.')}") for c in CASES for d in c[3]]
)
def test_scatter_reduce(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape, _ = case
    torch.manual_seed(0)
    rtol, atol = ROUNDED[dtype]
    check(fn, _data(shape, dtype), _data((3, 4), dtype), rtol=rtol, atol=atol)


def test_scatter_add_src_larger_than_index() -> None:
    # Only the corner of src that index covers is read.
    check(lambda x, s: torch.scatter_add(x, 1, INDEX[:, :2], s), randn(3, 4), randn(3, 5), rtol=1e-5, atol=1e-5)


def test_scatter_add_dynamic_rows() -> None:
    fn = lambda x, i, s: torch.scatter_add(x, 1, i, s)  # noqa: E731
    specs = [dyn((1, 4), (3, 4), (6, 4)), dyn((1, 2), (3, 5), (6, 7), torch.int64), dyn((1, 2), (3, 5), (6, 7))]
    index = lambda r, c: torch.randint(0, 4, (r, c))  # noqa: E731
    check_dynamic(fn, specs, [randn(1, 4), index(1, 2), randn(1, 2)], [randn(6, 4), index(6, 7), randn(6, 7)])


def test_scatter_add_partial_rows_falls_back() -> None:
    # index covering fewer rows than self (a corner) is left to PyTorch.
    assert_falls_back(lambda x, s: torch.scatter_add(x, 1, INDEX[:2], s), randn(3, 4), randn(2, 4), op="scatter_add")


MASKED: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("same_shape", lambda x, s: x.masked_scatter(x > 0, s), [(3, 4), (3, 4)]),
    (
        "broadcast_mask_short_source",
        lambda x, s: x.masked_scatter(torch.tensor([True, False, True, True]), s),
        [(3, 4), (10,)],
    ),
    ("mask_of_other_tensor", lambda x, s: x.masked_scatter(s[:3, :4] < 0, s), [(3, 4), (4, 5)]),
]


@pytest.mark.parametrize("dtype", [*FLOATS, torch.int32], ids=str)
@pytest.mark.parametrize("case", MASKED, ids=[c[0] for c in MASKED])
def test_masked_scatter(case: Any, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    torch.manual_seed(0)
    check(fn, *(_data(s, dtype) for s in shapes), rtol=0, atol=0)


def test_masked_scatter_dynamic() -> None:
    fn = lambda x, s: x.masked_scatter(x > 0, s)  # noqa: E731
    specs = [dyn((1, 4), (3, 4), (6, 4)), dyn((1, 4), (3, 4), (6, 4))]
    check_dynamic(fn, specs, [randn(1, 4), randn(1, 4)], [randn(6, 4), randn(6, 4)])
