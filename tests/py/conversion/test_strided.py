"""Strided views (diagonal, as_strided, resize_ / resize, _reshape_copy) and native_dropout outside training,
through the real builder and the reference executor. Values are moved, not computed: exact.
(Training dropout draws a random mask: test_random.py checks its distribution.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from _shape_testing import (
    FLOATS,
    assert_falls_back,
    check,
    check_dynamic,
    dyn,
    fn_module,
    randn,
    run_untraced,
    static,
)

from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.testing import run_on_reference

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


# resize_ to more elements: PyTorch leaves the added ones uninitialised, so only the elements the
# input held are compared with eager; the engine's added elements are zero (as Torch-TensorRT's).
GROWING: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = [
    ("flat_to_matrix", (5,), (3, 4)),
    ("matrix_to_cube", (3, 4), (2, 3, 4)),
    ("one_more_row", (2, 3), (3, 3)),
]


def _assert_resized(actual: torch.Tensor, source: torch.Tensor, size: tuple[int, ...]) -> None:
    assert actual.dtype == source.dtype and tuple(actual.shape) == size
    held = source.numel()
    # Exact: resize moves values, it computes none.
    torch.testing.assert_close(actual.flatten()[:held], source.flatten(), rtol=0, atol=0)
    assert not actual.flatten()[held:].any(), "elements added by the resize must be zero"


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", GROWING, ids=[c[0] for c in GROWING])
def test_growing_resize(case: tuple, dtype: torch.dtype) -> None:
    _, shape, size = case
    torch.manual_seed(0)
    x = _data(shape, dtype)
    bump = (lambda t: t | False) if dtype == torch.bool else (lambda t: t * 1)
    reset_warnings()
    with pytest.warns(UserWarning, match="uninitialised"):
        (actual,) = run_on_reference(fn_module(lambda a: bump(bump(a).resize_(*size)), 1), [x])
    with torch.no_grad():
        eager = bump(bump(x).resize_(*size))
    torch.testing.assert_close(actual.flatten()[: x.numel()], eager.flatten()[: x.numel()], rtol=0, atol=0)
    _assert_resized(actual, x, size)


def test_channels_last_resize_falls_back() -> None:
    # Storage order is not logical order under channels_last: PyTorch runs it.
    # (Growing, so eager's added elements are undefined and only the refusal is checked.)
    fn = lambda x: (x * 1).resize_(2, 3, 2, 2, memory_format=torch.channels_last) * 1  # noqa: E731
    assert_falls_back(fn, randn(3, 4), op="resize", run_partial=False)


class _ResizeInPlace(torch.nn.Module):
    """aten.resize_ as graphs traced without functionalization (fx.symbolic_trace) hold it."""

    def __init__(self, size: tuple[int, ...]) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return aten.resize_.default(x, list(self.size))


def _run_untraced(size: tuple[int, ...], specs: list[Any], inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    return run_untraced(_ResizeInPlace(size), specs, [[x] for x in inputs])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32], ids=str)
@pytest.mark.parametrize(
    ("shape", "size"),
    [((5,), (3,)), ((4, 4), (2, 8)), ((4, 4), (3, 5)), ((5,), (2, 2, 3)), ((2, 3), (3, 3))],
    ids=["shrink_flat", "same_count", "shrink_matrix", "grow_cube", "grow_rows"],
)
def test_untraced_resize_in_place(shape: tuple[int, ...], size: tuple[int, ...], dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = _data(shape, dtype)
    (actual,) = _run_untraced(size, [static(x)], [x])
    eager = x.clone().resize_(*size)
    held = min(x.numel(), eager.numel())
    torch.testing.assert_close(actual.flatten()[:held], eager.flatten()[:held], rtol=0, atol=0)
    _assert_resized(actual, x.flatten()[:held], size)


def test_untraced_resize_of_dynamic_input() -> None:
    # 2 x 5 = 10 elements: the smallest input grows (4 held), the largest shrinks (24 held).
    spec = dyn((1, 4), (3, 4), (6, 4))
    inputs = [randn(1, 4), randn(3, 4), randn(6, 4)]
    for x, actual in zip(inputs, _run_untraced((2, 5), [spec], inputs)):
        held = min(x.numel(), 10)
        _assert_resized(actual, x.flatten()[:held], (2, 5))


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
