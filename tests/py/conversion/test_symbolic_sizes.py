"""Arithmetic on symbolic sizes runs inside TensorRT (shape tensors): dynamic models whose sizes are
computed (scaled, padded to a multiple, split into windows, compared, rounded) compile to one engine
with full compilation required and match eager at every shape tried in the range.

The converters of operator.add/sub/mul/floordiv/mod/truediv, sym_float, math.trunc/floor/ceil,
comparisons, sym_not, sym_max and sym_numel each appear in at least one model below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import assert_outputs_close, fn_module

import torch_tensorrt
from torch_tensorrt.testing import compile_on_reference, emulated_runtime

aten = torch.ops.aten


def _window_partition(x: torch.Tensor) -> torch.Tensor:
    # Swin's window split: [N, C, H, W] -> [N * H/2 * W/2, 4, C]; export refines H and W to 2*s.
    n, c, h, w = x.shape
    windows = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 3, 5, 1)
    return windows.reshape(-1, 4, c)


def _pad_to_multiple(x: torch.Tensor) -> torch.Tensor:
    # Swin pads H and W up to a multiple of the window: the pads are sizes computed with % and -.
    pad_w, pad_h = (7 - x.shape[-1] % 7) % 7, (7 - x.shape[-2] % 7) % 7
    return F.pad(x, (0, pad_w, 0, pad_h)) * 2


def _size_statistics(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2], x.shape[-1]
    values = [
        torch.full((1,), h * w),  # mul, full of a SymInt
        torch.full((1,), math.ceil(w / 3)),  # truediv, ceil
        torch.full((1,), math.floor(h / 3)),  # floor
        torch.full((1,), torch.sym_max(h, w) - torch.sym_min(h, w)),
        torch.full((1,), (h + w) // 3 - w % 4),
    ]
    return torch.cat(values) + x.sum().long() * 0


def _size_flags(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2], x.shape[-1]
    flags = [
        torch.full((1,), w > 6),
        torch.full((1,), h <= w),
        torch.full((1,), h == w),
        torch.scalar_tensor(torch.sym_not(h == w), dtype=torch.bool).reshape(1),
        torch.full((1,), h >= 2 * w),
        torch.full((1,), h != 5),
    ]
    return torch.cat(flags)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[[torch.Tensor], Any]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    shapes: tuple[tuple[int, ...], ...]  # every one inside [lo, hi], run through the same engine


NCHW = ((1, 3, 4, 4), (3, 3, 16, 14))
SHAPES = ((1, 3, 4, 4), (2, 3, 9, 5), (3, 3, 16, 14), (2, 3, 7, 12))
EVEN = ((1, 3, 4, 4), (2, 3, 6, 10), (3, 3, 16, 14))

CASES = [
    # sym_float, mul, trunc: torch recomputes the output size as trunc(0.5 * float(h)).
    Case(
        "interpolate_recomputed_scale",
        lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", recompute_scale_factor=True),
        *NCHW,
        SHAPES,
    ),
    Case(
        "interpolate_nearest_recomputed",
        lambda x: F.interpolate(x, scale_factor=1.5, mode="nearest", recompute_scale_factor=True),
        *NCHW,
        SHAPES,
    ),
    Case("interpolate_whole_scale", lambda x: F.interpolate(x, scale_factor=2.0, mode="bilinear"), *NCHW, SHAPES),
    Case("circular_pad", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), *NCHW, SHAPES),
    Case("pad_to_multiple", _pad_to_multiple, *NCHW, SHAPES),
    # The example traced (the range's middle, 10 x 10) must be even too.
    Case("window_partition", _window_partition, (1, 3, 4, 4), (3, 3, 16, 16), EVEN),
    Case("size_statistics", _size_statistics, *NCHW, SHAPES),
    Case("size_flags", _size_flags, *NCHW, SHAPES),
    Case("mean_over_numel", lambda x: x.sum() / x.numel() + x.reshape(x.numel())[:1], *NCHW, SHAPES),
    Case("scale_by_size", lambda x: x * (x.shape[-1] / 2) + x.shape[-2] ** -0.5, *NCHW, SHAPES),
    Case(
        "heads_split",
        lambda x: x.reshape(x.shape[0], x.shape[1], -1).transpose(1, 2).reshape(x.shape[0], -1, 3, 1),
        *NCHW,
        SHAPES,
    ),
]


def _spec(case: Case) -> Any:
    opt = tuple((a + b) // 2 for a, b in zip(case.lo, case.hi))
    return torch_tensorrt.Input(min_shape=case.lo, opt_shape=opt, max_shape=case.hi)


def compile_one_engine(fn: Callable[..., Any], specs: Sequence[Any], example: torch.Tensor) -> Any:
    compiled = compile_on_reference(fn_module(fn, 1), [example], input_specs=list(specs))
    summary = compiled._compile_summary
    assert summary.num_engines == 1, f"{summary.num_engines} engines"
    assert not summary.fallback_ops, summary.fallback_reasons
    return compiled


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_engine_across_the_range(case: Case) -> None:
    torch.manual_seed(0)
    module = fn_module(case.fn, 1)
    with emulated_runtime(persist=False):
        compiled = compile_one_engine(case.fn, [_spec(case)], torch.randn(case.shapes[0]))
        for shape in case.shapes:
            x = torch.randn(shape)
            with torch.no_grad():
                expected, actual = module(x), compiled(x)
            assert_outputs_close([actual], [expected])


def test_trunc_rounds_towards_zero() -> None:
    # trunc of a negative SymFloat: -(w / 4) for w = 6 is -1.5 -> -1 (floor would give -2).
    def fn(x: torch.Tensor) -> torch.Tensor:
        return torch.full((1,), math.trunc(-x.shape[-1] / 4)) + x.sum().long() * 0

    spec = torch_tensorrt.Input(min_shape=(1, 2), opt_shape=(1, 6), max_shape=(1, 9))
    with emulated_runtime(persist=False):
        compiled = compile_one_engine(fn, [spec], torch.randn(1, 6))
        for w in range(2, 10):
            x = torch.randn(1, w)
            assert int(compiled(x)) == math.trunc(-w / 4), w
