"""Max / average / adaptive pooling through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import DEFAULT_TOLERANCES, assert_close_to_eager, run_on_reference

DTYPES = [torch.float32, torch.float16, torch.bfloat16]


class Fn(nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


# (id, function, input shape)
Case = tuple[str, Callable[[torch.Tensor], torch.Tensor], tuple[int, ...]]

MAX_POOL: list[Case] = [
    ("1d", lambda x: F.max_pool1d(x, 2), (2, 3, 8)),
    ("1d_stride_pad", lambda x: F.max_pool1d(x, 3, 2, 1), (2, 3, 9)),
    ("1d_unbatched", lambda x: F.max_pool1d(x, 2), (3, 8)),
    ("1d_ceil", lambda x: F.max_pool1d(x, 2, 2, ceil_mode=True), (2, 3, 9)),
    # ceil_mode: the last window would start in the right padding, so torch drops it.
    ("1d_ceil_drop", lambda x: F.max_pool1d(x, 2, 2, 1, ceil_mode=True), (2, 3, 5)),
    ("2d", lambda x: F.max_pool2d(x, 2), (2, 3, 6, 8)),
    ("2d_stride_pad", lambda x: F.max_pool2d(x, 3, 2, 1), (2, 3, 7, 6)),
    ("2d_asymmetric", lambda x: F.max_pool2d(x, (3, 2), (2, 1), (1, 0)), (2, 3, 7, 6)),
    ("2d_unbatched", lambda x: F.max_pool2d(x, 2), (3, 6, 8)),
    ("2d_ceil", lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True), (2, 3, 8, 7)),
    ("2d_ceil_drop", lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True), (2, 3, 5, 7)),
    ("2d_kernel_eq_input", lambda x: F.max_pool2d(x, (6, 8)), (2, 3, 6, 8)),
    ("3d", lambda x: F.max_pool3d(x, 2), (2, 3, 4, 6, 4)),
    ("3d_stride_pad_ceil", lambda x: F.max_pool3d(x, 3, 2, 1, ceil_mode=True), (2, 3, 5, 6, 7)),
    ("3d_unbatched", lambda x: F.max_pool3d(x, (1, 2, 2)), (3, 4, 6, 4)),
]

AVG_POOL: list[Case] = [
    ("1d", lambda x: F.avg_pool1d(x, 2), (2, 3, 8)),
    ("1d_pad", lambda x: F.avg_pool1d(x, 3, 2, 1), (2, 3, 9)),
    ("1d_pad_exclude", lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (2, 3, 9)),
    ("1d_ceil", lambda x: F.avg_pool1d(x, 3, 2, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_pad", lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    ("1d_ceil_drop", lambda x: F.avg_pool1d(x, 2, 2, 1, ceil_mode=True), (2, 3, 5)),
    ("2d", lambda x: F.avg_pool2d(x, 2), (2, 3, 6, 8)),
    ("2d_pad", lambda x: F.avg_pool2d(x, 3, 2, 1), (2, 3, 7, 6)),
    ("2d_pad_exclude", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (2, 3, 7, 6)),
    ("2d_ceil_include", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8, 6)),
    ("2d_ceil_exclude", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 6)),
    ("2d_ceil_drop", lambda x: F.avg_pool2d(x, 2, 2, 1, ceil_mode=True), (2, 3, 5, 7)),
    ("2d_divisor", lambda x: F.avg_pool2d(x, 2, divisor_override=3), (2, 3, 6, 8)),
    ("2d_divisor_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=5), (2, 3, 7, 6)),
    ("2d_unbatched", lambda x: F.avg_pool2d(x, 2), (3, 6, 8)),
    ("3d", lambda x: F.avg_pool3d(x, 2), (2, 3, 4, 6, 4)),
    (
        "3d_pad_exclude_ceil",
        lambda x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        (2, 3, 5, 6, 4),
    ),
    ("3d_divisor", lambda x: F.avg_pool3d(x, 2, divisor_override=7), (1, 2, 4, 4, 4)),
]

ADAPTIVE: list[Case] = [
    ("avg1d_even", lambda x: F.adaptive_avg_pool1d(x, 2), (2, 3, 8)),
    ("avg1d_uneven", lambda x: F.adaptive_avg_pool1d(x, 3), (2, 3, 7)),
    ("avg1d_global", lambda x: F.adaptive_avg_pool1d(x, 1), (2, 3, 7)),
    ("avg1d_unbatched", lambda x: F.adaptive_avg_pool1d(x, 5), (3, 7)),
    ("avg1d_upsample", lambda x: F.adaptive_avg_pool1d(x, 6), (2, 3, 4)),
    ("avg2d_even", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (2, 3, 8, 9)),
    ("avg2d_uneven", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (2, 3, 7, 5)),
    ("avg2d_mixed", lambda x: F.adaptive_avg_pool2d(x, (4, 3)), (2, 3, 8, 7)),
    ("avg2d_global", lambda x: F.adaptive_avg_pool2d(x, 1), (2, 3, 7, 5)),
    ("avg2d_identity", lambda x: F.adaptive_avg_pool2d(x, (7, 5)), (2, 3, 7, 5)),
    ("avg2d_unbatched", lambda x: F.adaptive_avg_pool2d(x, (2, 2)), (3, 6, 4)),
    ("avg3d_even", lambda x: F.adaptive_avg_pool3d(x, 2), (2, 3, 4, 6, 4)),
    ("avg3d_uneven", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 1)), (2, 3, 5, 4, 3)),
    ("avg3d_global", lambda x: F.adaptive_avg_pool3d(x, 1), (2, 3, 5, 4, 3)),
    ("max1d_even", lambda x: F.adaptive_max_pool1d(x, 2), (2, 3, 8)),
    ("max1d_uneven", lambda x: F.adaptive_max_pool1d(x, 3), (2, 3, 7)),
    ("max2d_even", lambda x: F.adaptive_max_pool2d(x, (2, 3)), (2, 3, 8, 9)),
    ("max2d_uneven", lambda x: F.adaptive_max_pool2d(x, (3, 4)), (2, 3, 7, 5)),
    ("max2d_global", lambda x: F.adaptive_max_pool2d(x, 1), (2, 3, 7, 5)),
    ("max3d_mixed", lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)), (2, 3, 4, 5, 3)),
]


def _check(fn: Callable[[torch.Tensor], torch.Tensor], shape: tuple[int, ...], dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = torch.randn(shape).to(dtype)
    try:
        fn(x)
    except NotImplementedError:
        # Eager PyTorch has no CPU fp16 kernel for some pools (avg_pool3d): the reference is then the
        # fp32 result of the same (fp16-representable) input, rounded to fp16 and compared with the
        # fp16 tolerance.
        (got,) = run_on_reference(Fn(fn), [x])
        want = fn(x.float()).to(dtype)
        rtol, atol = DEFAULT_TOLERANCES[dtype]
        torch.testing.assert_close(got, want, rtol=rtol, atol=atol)
        return
    assert_close_to_eager(Fn(fn), [x])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", MAX_POOL, ids=[c[0] for c in MAX_POOL])
def test_max_pool(case: Case, dtype: torch.dtype) -> None:
    _check(case[1], case[2], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", AVG_POOL, ids=[c[0] for c in AVG_POOL])
def test_avg_pool(case: Case, dtype: torch.dtype) -> None:
    _check(case[1], case[2], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", ADAPTIVE, ids=[c[0] for c in ADAPTIVE])
def test_adaptive_pool(case: Case, dtype: torch.dtype) -> None:
    _check(case[1], case[2], dtype)


DYNAMIC = [
    # torch.export specializes dynamic lengths under ceil_mode unless the stride is 1.
    ("max2d_ceil_stride1", lambda x: F.max_pool2d(x, 3, 1, 1, ceil_mode=True), (1, 3, 5, 4), (3, 3, 10, 7)),
    ("max2d_pad", lambda x: F.max_pool2d(x, 3, 2, 1), (1, 2, 5, 4), (2, 2, 8, 9)),
    ("max3d", lambda x: F.max_pool3d(x, 2), (1, 2, 4, 4, 4), (2, 2, 6, 4, 8)),
    ("avg2d_pad_exclude", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (1, 2, 5, 4), (2, 2, 8, 9)),
    ("avg2d_divisor", lambda x: F.avg_pool2d(x, 2, divisor_override=3), (1, 2, 4, 4), (2, 2, 8, 6)),
    ("adaptive_avg2d_global", lambda x: F.adaptive_avg_pool2d(x, 1), (1, 2, 3, 4), (2, 2, 8, 9)),
    ("adaptive_max1d_global", lambda x: F.adaptive_max_pool1d(x, 1), (1, 2, 3), (2, 2, 8)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple, dtype: torch.dtype) -> None:
    _, fn, lo, hi = case
    torch.manual_seed(0)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    for shape in (lo, hi):
        assert_close_to_eager(Fn(fn), [torch.randn(shape).to(dtype)], input_specs=[spec])


DYNAMIC_BATCH = [
    # Only the batch varies: ceil_mode crops and adaptive pooling with fixed spatial sizes.
    ("max2d_ceil_drop", lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True), (1, 2, 5, 7), (3, 2, 5, 7)),
    ("avg1d_ceil_drop_unbatched", lambda x: F.avg_pool1d(x, 2, 2, 1, ceil_mode=True), (1, 5), (3, 5)),
    ("adaptive_avg2d_even", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (1, 2, 4, 6), (3, 2, 4, 6)),
    ("adaptive_avg1d_uneven", lambda x: F.adaptive_avg_pool1d(x, 3), (1, 2, 7), (3, 2, 7)),
    ("adaptive_max3d_mixed", lambda x: F.adaptive_max_pool3d(x, (2, 3, 1)), (1, 2, 4, 5, 3), (3, 2, 4, 5, 3)),
]


@pytest.mark.parametrize("case", DYNAMIC_BATCH, ids=[c[0] for c in DYNAMIC_BATCH])
def test_dynamic_batch(case: tuple) -> None:
    _, fn, lo, hi = case
    torch.manual_seed(0)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi)
    for shape in (lo, hi):
        assert_close_to_eager(Fn(fn), [torch.randn(shape)], input_specs=[spec])


REFUSED = [
    # The indices output has no TensorRT equivalent.
    ("max_pool_indices", lambda x: F.max_pool2d(x, 2, return_indices=True)[1].float(), (1, 2, 4, 4), "max_pool2d"),
    (
        "adaptive_max_indices",
        lambda x: F.adaptive_max_pool2d(x, 2, return_indices=True)[1].float(),
        (1, 2, 4, 4),
        "adaptive_max",
    ),
    # TensorRT pooling has no dilation.
    ("max_pool_dilation", lambda x: F.max_pool2d(x, 2, dilation=2), (1, 2, 6, 6), "max_pool2d"),
    # divisor_override with ceil_mode: windows of different volumes.
    ("avg_divisor_ceil", lambda x: F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=3), (1, 2, 5, 5), "avg_pool2d"),
    # Integer inputs: TensorRT pooling is floating point only.
    ("max_pool_int", lambda x: F.max_pool2d(x.int(), 2).float(), (1, 2, 4, 4), "max_pool2d"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_combinations_fall_back(case: tuple) -> None:
    _, fn, shape, op = case
    x = torch.randn(shape)
    with pytest.raises(UnsupportedOperatorError, match=op):
        assert_close_to_eager(Fn(fn), [x])
    assert_close_to_eager(Fn(fn), [x], require_full_compilation=False)


def test_adaptive_dynamic_spatial_is_refused() -> None:
    spec = torch_tensorrt.Input(min_shape=(1, 2, 4, 4), opt_shape=(1, 2, 8, 8), max_shape=(1, 2, 8, 8))
    fn = Fn(lambda x: F.adaptive_avg_pool2d(x, 2))
    with pytest.raises(UnsupportedOperatorError, match="adaptive_avg_pool2d"):
        assert_close_to_eager(fn, [torch.randn(1, 2, 8, 8)], input_specs=[spec])
