"""Strided views (diagonal, as_strided, resize_, _reshape_copy) and native_dropout outside training,
through the real builder and the reference executor. Values are moved, not computed: exact.
(Training dropout draws a random mask: test_random.py checks its distribution.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from _shape_testing import FLOATS, assert_falls_back, check, check_dynamic, dyn, randn

aten = torch.ops.aten
DTYPES = [*FLOATS, torch.int32, torch.bool]


def _data(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.bool:
        return torch.randn(shape) > 0
    return randn(*shape, dtype=dtype) if dtype.is_floating_point else torch.randint(-9, 9, shape, dtype=dtype)


Case = tuple[str, Callable[..., Any], tuple[int, ...]]

DIAGONAL: list[Case] = [
    ("main", lambda x: torch.diagonal(x), (4, 4)),
    ("wide_offset", lambda x: torch.diagonal(x, 1), (3, 5)),
    ("tall_negative", lambda x: torch.diagonal(x, -2), (5, 3)),
    ("last_dims", lambda x: torch.diagonal(x, 0, -2, -1), (2, 3, 4)),
    ("outer_dims_swapped", lambda x: torch.diagonal(x, 1, 2, 0), (3, 2, 4)),
    ("diag_method", lambda x: x.diag(), (3, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", DIAGONAL, ids=[c[0] for c in DIAGONAL])
def test_diagonal(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    torch.manual_seed(0)
    # * 1 (or | False) makes the view a tensor of its own: a graph output cannot alias an input.
    check(lambda x: fn(x) | False if x.dtype == torch.bool else fn(x) * 1, _data(shape, dtype), rtol=0, atol=0)


def test_diagonal_dynamic_batch() -> None:
    fn = lambda x: torch.diagonal(x, 1, -2, -1) * 2  # noqa: E731
    check_dynamic(fn, [dyn((1, 3, 4), (2, 3, 4), (5, 3, 4))], [randn(1, 3, 4)], [randn(5, 3, 4)])


def test_diagonal_of_dynamic_dims_falls_back() -> None:
    spec = [dyn((2, 2), (4, 4), (6, 6))]
    assert_falls_back(lambda x: torch.diagonal(x) * 1, randn(4, 4), op="diagonal", input_specs=spec)


STRIDED: list[Case] = [
    ("window", lambda x: torch.as_strided(x, (2, 2), (1, 2), 1), (3, 4)),
    ("transpose_like", lambda x: torch.as_strided(x, (4, 3), (1, 4)), (3, 4)),
    ("overlapping_windows", lambda x: torch.as_strided(x, (3, 3), (2, 1)), (9,)),
    ("broadcast_stride0", lambda x: torch.as_strided(x, (2, 3, 2), (0, 2, 1)), (2, 3)),
    ("resize_smaller", lambda x: (x + 0).resize_(2, 5), (3, 4)),
    ("reshape_copy", lambda x: aten._reshape_copy(x, [-1, 4]), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", STRIDED, ids=[c[0] for c in STRIDED])
def test_as_strided(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    torch.manual_seed(0)
    if dtype == torch.bool and "resize" in case[0]:
        fn = lambda x: (x | False).resize_(2, 5)  # noqa: E731 - bool has no + 0
    check(lambda x: fn(x) * 1 if x.dtype != torch.bool else fn(x) | False, _data(shape, dtype), rtol=0, atol=0)


def test_reshape_copy_dynamic() -> None:
    fn = lambda x: aten._reshape_copy(x, [-1, 4])  # noqa: E731
    check_dynamic(fn, [dyn((1, 3, 4), (2, 3, 4), (5, 3, 4))], [randn(1, 3, 4)], [randn(5, 3, 4)])


def test_growing_resize_falls_back() -> None:
    # resize_ to more elements exposes memory torch never initialised: nothing to reproduce.
    assert_falls_back(lambda x: (x * 1).resize_(4, 4).sum() * 0, randn(3, 4), op="resize", run_partial=False)


def test_as_strided_dynamic_falls_back() -> None:
    spec = [dyn((1, 4), (3, 4), (6, 4))]
    assert_falls_back(lambda x: torch.as_strided(x, (2, 2), (1, 2)) * 1, randn(3, 4), op="as_strided", input_specs=spec)


DROPOUT: list[tuple[str, Callable[..., Any]]] = [
    ("eval", lambda x: aten.native_dropout(x, 0.5, False)),
    ("p0_training", lambda x: aten.native_dropout(x, 0.0, True)),
    ("p1_training", lambda x: aten.native_dropout(x, 1.0, True)),
    ("functional_eval", lambda x: torch.nn.functional.dropout(x, 0.3, training=False) * 2),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", DROPOUT, ids=[c[0] for c in DROPOUT])
def test_native_dropout(case: tuple, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    check(case[1], randn(2, 3, 4, dtype=dtype), rtol=0, atol=0)


def test_native_dropout_dynamic() -> None:
    fn = lambda x: aten.native_dropout(x, 0.5, False)  # noqa: E731
    check_dynamic(fn, [dyn((1, 4), (3, 4), (6, 4))], [randn(1, 4)], [randn(6, 4)])
