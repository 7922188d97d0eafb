"""softmax / log_softmax through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.testing import assert_close_to_eager

FLOATS = [torch.float32, torch.float16, torch.bfloat16]


class Fn(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


SHAPES_DIMS = [
    ((), 0),
    ((7,), 0),
    ((7,), -1),
    ((3, 5), 0),
    ((3, 5), 1),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4, 5), -3),
    ((2, 3, 2, 2, 3), 4),
]


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS, ids=[f"{s}-dim{d}" for s, d in SHAPES_DIMS])
def test_softmax(shape: tuple[int, ...], dim: int, dtype: torch.dtype, log: bool) -> None:
    torch.manual_seed(0)
    fn = F.log_softmax if log else F.softmax
    x = (torch.randn(shape) * 3).to(dtype)
    assert_close_to_eager(Fn(lambda t: fn(t, dim)), [x])


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_result_dtype_argument(dtype: torch.dtype, log: bool) -> None:
    # dtype=float32 computes (and returns) fp32 from a half input.
    fn = F.log_softmax if log else F.softmax
    x = torch.randn(2, 3, 4).to(dtype)
    assert_close_to_eager(Fn(lambda t: fn(t, -1, dtype=torch.float32)), [x])


def test_log_softmax_far_tail_stays_finite() -> None:
    # log(softmax) would underflow to -inf for the -200 entry; torch gives about -300.
    x = torch.tensor([[100.0, 0.0, -200.0]])
    out = assert_close_to_eager(Fn(lambda t: F.log_softmax(t, 1)), [x])
    assert torch.isfinite(out[0]).all()


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_dynamic_shapes(dtype: torch.dtype, log: bool) -> None:
    fn = F.log_softmax if log else F.softmax
    spec = torch_tensorrt.Input(min_shape=(1, 2, 3), opt_shape=(3, 4, 6), max_shape=(3, 4, 6), dtype=dtype)
    for shape in ((1, 2, 3), (3, 4, 6)):
        for dim in (0, 1, -1):  # the dynamic batch dim itself, a dynamic dim, the static last dim
            x = torch.randn(shape).to(dtype)
            assert_close_to_eager(Fn(lambda t, d=dim: fn(t, d)), [x], input_specs=[spec])


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_underscore_overloads(dtype: torch.dtype, log: bool) -> None:
    # aten._softmax / aten._log_softmax (half_to_float=False) as other front ends emit them.
    op = torch.ops.aten._log_softmax.default if log else torch.ops.aten._softmax.default
    assert_close_to_eager(Fn(lambda t: op(t, -2, False)), [torch.randn(2, 3, 4).to(dtype)])


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_half_to_float(log: bool) -> None:
    # Eager CPU has no half_to_float kernel: the reference is the fp32 op on the same fp16 values.
    from torch_tensorrt.testing import run_on_reference

    op = torch.ops.aten._log_softmax.default if log else torch.ops.aten._softmax.default
    x = torch.randn(2, 3, 4).half()
    (got,) = run_on_reference(Fn(lambda t: op(t, 1, True)), [x])
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, op(x.float(), 1, False), rtol=1e-4, atol=1e-4)
