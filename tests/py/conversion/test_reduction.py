"""Reductions through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager

FLOATS = [torch.float32, torch.float16, torch.bfloat16]
INTS = [torch.int32, torch.int64]


class Fn(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> Any:
        return self.fn(x)


def _input(shape: tuple[int, ...], dtype: torch.dtype, ties: bool = False) -> torch.Tensor:
    torch.manual_seed(0)
    if dtype == torch.bool:
        return torch.rand(shape) > 0.5
    if not dtype.is_floating_point or ties:
        return torch.randint(-3, 4, shape).to(dtype)
    return torch.randn(shape).to(dtype)


# (id, function, input shape, dtypes)
Case = tuple[str, Callable[[torch.Tensor], Any], tuple[int, ...], list[torch.dtype]]

CASES: list[Case] = [
    ("sum_dim", lambda x: x.sum(1), (2, 3, 4), FLOATS + INTS),
    ("sum_neg_keepdim", lambda x: x.sum(-1, keepdim=True), (2, 3, 4), FLOATS),
    ("sum_dims", lambda x: x.sum([0, 2]), (2, 3, 4), FLOATS + INTS),
    ("sum_all", lambda x: x.sum(), (2, 3, 4), FLOATS + INTS),
    ("sum_1d", lambda x: x.sum(0), (7,), FLOATS),
    ("sum_5d", lambda x: x.sum([1, 3, -1]), (2, 3, 2, 2, 3), FLOATS),
    ("sum_0d", lambda x: x.sum(), (), FLOATS),
    ("sum_0d_dim", lambda x: x.sum(0, keepdim=True), (), FLOATS),
    ("amax_0d", lambda x: x.amax(-1), (), FLOATS),
    ("argmax_0d", lambda x: x.argmax(0), (), FLOATS),
    ("max_dim_0d", lambda x: x.max(0), (), FLOATS),
    ("sum_bool", lambda x: x.sum(1), (2, 3, 4), [torch.bool]),
    ("sum_dtype", lambda x: x.sum(1, dtype=torch.float32), (2, 3, 4), [torch.float16, torch.bfloat16]),
    ("mean_dim", lambda x: x.mean(1), (2, 3, 4), FLOATS),
    ("mean_dims_keepdim", lambda x: x.mean([0, -1], keepdim=True), (2, 3, 4), FLOATS),
    ("mean_all", lambda x: x.mean(), (2, 3, 4), FLOATS),
    ("mean_4d_spatial", lambda x: x.mean([2, 3]), (2, 3, 4, 5), FLOATS),
    ("mean_dtype", lambda x: x.mean(-1, dtype=torch.float32), (2, 3, 4), [torch.float16]),
    ("prod_dim", lambda x: x.prod(1), (2, 3, 4), FLOATS + INTS),
    ("prod_keepdim", lambda x: x.prod(-1, keepdim=True), (2, 3, 4), FLOATS),
    ("prod_all", lambda x: x.prod(), (2, 3), FLOATS + INTS),
    ("amax_dims", lambda x: x.amax([1, 2]), (2, 3, 4), FLOATS + INTS),
    ("amax_keepdim", lambda x: x.amax(-1, keepdim=True), (2, 3, 4), FLOATS),
    ("amax_all", lambda x: x.amax(), (2, 3, 4), FLOATS),
    ("amax_bool", lambda x: x.amax(1), (2, 3, 4), [torch.bool]),
    ("amin_dims", lambda x: x.amin([0, -1]), (2, 3, 4), FLOATS + INTS),
    ("amin_all", lambda x: x.amin(), (2, 3, 4, 2), FLOATS),
    ("max_all", lambda x: x.max(), (2, 3, 4), FLOATS + INTS),
    ("min_all", lambda x: x.min(), (2, 3, 4), FLOATS + INTS),
    ("var_dim", lambda x: x.var(1), (2, 5, 4), FLOATS),
    ("var_population_keepdim", lambda x: x.var(-1, correction=0, keepdim=True), (2, 3, 6), FLOATS),
    ("var_correction2_dims", lambda x: x.var([0, 2], correction=2), (2, 3, 4), FLOATS),
    ("var_all", lambda x: x.var(), (2, 3, 4), FLOATS),
    ("std_dim", lambda x: x.std(1), (2, 5, 4), FLOATS),
    ("std_all", lambda x: x.std(), (3, 4), FLOATS),
    ("var_mean", lambda x: torch.var_mean(x, 1), (2, 5, 4), FLOATS),
    ("var_mean_keepdim", lambda x: torch.var_mean(x, [0, 2], keepdim=True, correction=0), (2, 5, 4), FLOATS),
    ("any_dim", lambda x: x.any(1), (2, 3, 4), [torch.bool, torch.float32, torch.int32]),
    ("any_keepdim", lambda x: x.any(-1, keepdim=True), (2, 3, 4), [torch.bool]),
    ("any_dims", lambda x: x.any([0, 1]), (2, 3, 4), [torch.bool]),
    ("any_all", lambda x: x.any(), (2, 3, 4), [torch.bool, torch.float16]),
    ("all_dim", lambda x: x.all(1), (2, 3, 4), [torch.bool, torch.float32, torch.int64]),
    ("all_all", lambda x: x.all(), (2, 3, 4), [torch.bool]),
    ("argmax_dim", lambda x: x.argmax(1), (2, 3, 4), FLOATS + INTS),
    ("argmax_neg_keepdim", lambda x: x.argmax(-1, keepdim=True), (2, 3, 4), FLOATS),
    ("argmax_flat", lambda x: x.argmax(), (2, 3, 4), FLOATS + INTS),
    ("argmax_flat_keepdim", lambda x: x.argmax(keepdim=True), (2, 3, 4), FLOATS),
    ("argmax_1d", lambda x: x.argmax(0), (9,), FLOATS),
    ("argmin_dim", lambda x: x.argmin(0), (3, 4), FLOATS + INTS),
    ("argmin_flat", lambda x: x.argmin(), (3, 4, 2), FLOATS),
    ("max_dim", lambda x: x.max(1), (2, 3, 4), FLOATS + INTS),
    ("max_dim_keepdim", lambda x: x.max(-1, keepdim=True), (2, 3, 4), FLOATS),
    ("min_dim", lambda x: x.min(0), (3, 4), FLOATS + INTS),
    ("min_dim_keepdim", lambda x: x.min(2, keepdim=True), (2, 3, 4, 2), FLOATS),
]

PARAMS = [
    pytest.param(fn, shape, dtype, id=f"{name}-{dtype}".replace("torch.", ""))
    for name, fn, shape, dtypes in CASES
    for dtype in dtypes
]


@pytest.mark.parametrize("fn,shape,dtype", PARAMS)
def test_reduction(fn: Callable[[torch.Tensor], Any], shape: tuple[int, ...], dtype: torch.dtype) -> None:
    assert_close_to_eager(Fn(fn), [_input(shape, dtype)])


TIES = [
    # Values in -3..3: many ties, where torch returns the FIRST index of the extreme.
    ("argmax", lambda x: x.argmax(1)),
    ("argmin_flat", lambda x: x.argmin()),
    ("max_dim", lambda x: x.max(-1)),
    ("min_dim", lambda x: x.min(0, keepdim=True)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32], ids=str)
@pytest.mark.parametrize("case", TIES, ids=[c[0] for c in TIES])
def test_ties_give_first_index(case: tuple, dtype: torch.dtype) -> None:
    x = _input((4, 16, 5), dtype, ties=True)
    assert_close_to_eager(Fn(case[1]), [x])


DYNAMIC = [
    ("sum", lambda x: x.sum(1), (1, 2, 3), (4, 5, 3)),
    ("mean_keepdim", lambda x: x.mean(-1, keepdim=True), (1, 2, 3), (4, 5, 6)),
    ("amax_all", lambda x: x.amax(), (1, 2, 3), (4, 5, 6)),
    ("var_dynamic_count", lambda x: x.var([1, 2]), (1, 2, 3), (4, 5, 6)),
    ("std_all", lambda x: x.std(), (1, 2, 3), (4, 5, 6)),
    ("argmax_dynamic_axis", lambda x: x.argmax(1), (1, 2, 3), (4, 5, 6)),
    ("argmin_flat", lambda x: x.argmin(), (1, 2, 3), (4, 5, 6)),
    ("max_dim", lambda x: x.max(-1), (1, 2, 3), (4, 5, 6)),
    ("any", lambda x: (x > 0).any(1), (1, 2, 3), (4, 5, 6)),
    ("all", lambda x: (x > -1).all(-1), (1, 2, 3), (4, 5, 6)),
    ("all_dynamic_axis_keepdim", lambda x: (x < 1).all(0, keepdim=True), (1, 2, 3), (4, 5, 6)),
    ("any_all_dims", lambda x: ((x > 1).any(), (x > -2).all()), (1, 2, 3), (4, 5, 6)),
    ("min_dim", lambda x: x.min(1), (1, 2, 3), (4, 5, 6)),
    ("max_dim_keepdim_batch", lambda x: x.max(0, keepdim=True), (1, 2, 3), (4, 5, 6)),
    ("max_min_all", lambda x: (x.max(), x.min()), (1, 2, 3), (4, 5, 6)),
    ("argmin_keepdim", lambda x: x.argmin(-1, keepdim=True), (1, 2, 3), (4, 5, 6)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple, dtype: torch.dtype) -> None:
    _, fn, lo, hi = case
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    for shape in (lo, hi):
        assert_close_to_eager(Fn(fn), [_input(shape, dtype)], input_specs=[spec])


def test_argmax_of_bool_is_refused() -> None:
    # No bool comparison layer in TensorRT: argmax over a mask stays in PyTorch.
    fn = Fn(lambda x: (x > 0).to(torch.uint8).argmax(1))
    x = torch.randn(2, 5)
    with pytest.raises(UnsupportedOperatorError, match="argmax"):
        assert_close_to_eager(fn, [x])
