"""Overloads that convert through lowering (issue 18): torch's decompositions (or our rewrites) turn
them into ops with converters. Each runs through the real builder and the reference executor, static
and dynamic, in the float dtypes TensorRT computes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import FLOATS, check, check_dynamic, dyn, randn

aten = torch.ops.aten
# Pure data movement is exact; arithmetic rounds once or twice per element in half precision.
EXACT = {dtype: (0.0, 0.0) for dtype in FLOATS}
ROUNDED = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}

_MEAN, _VAR, _WEIGHT, _BIAS = (
    torch.tensor([0.5, -1.0, 2.0]),
    torch.tensor([1.5, 0.25, 4.0]),
    torch.tensor([1.0, 2.0, -1.0]),
    torch.tensor([0.0, 0.5, 1.0]),
)

# (id, fn, input shapes, tolerances per dtype, dynamic (min, max) shapes per input or None)
Case = tuple[str, Callable[..., Any], list[tuple[int, ...]], dict[torch.dtype, tuple[float, float]], Any]

CASES: list[Case] = [
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), [(2, 8, 2, 3)], EXACT, [((1, 8, 2, 3), (4, 8, 5, 6))]),
    ("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), [(2, 2, 4, 6)], EXACT, [((1, 2, 4, 6), (4, 2, 4, 6))]),
    ("roll_dim0", lambda x: torch.roll(x, 1, 0), [(3, 4)], EXACT, [((1, 4), (6, 4))]),
    ("roll_two_dims_negative", lambda x: torch.roll(x, (-2, 3), (1, 2)), [(2, 3, 5)], EXACT, [((1, 3, 5), (4, 3, 5))]),
    ("roll_flattened", lambda x: torch.roll(x, 5), [(3, 4)], EXACT, None),
    ("tile", lambda x: torch.tile(x, (2, 1)), [(3, 4)], EXACT, [((1, 4), (6, 4))]),
    ("tile_more_dims", lambda x: torch.tile(x, (2, 1, 3)), [(3, 4)], EXACT, [((1, 4), (6, 4))]),
    ("clip", lambda x: torch.clip(x, -0.5, 0.5), [(3, 4)], EXACT, [((1, 4), (6, 4))]),
    ("clip_min_only", lambda x: torch.clip(x, min=0.25), [(3, 4)], EXACT, None),
    ("clip_tensor", lambda x, lo: torch.clip(x, lo, lo + 1), [(3, 4), (4,)], ROUNDED, [((1, 4), (6, 4)), ((4,), (4,))]),
    ("floor_divide_scalar", lambda x: aten.floor_divide.Scalar(x * 4, 3), [(3, 4)], ROUNDED, [((1, 4), (6, 4))]),
    ("linalg_cross", torch.linalg.cross, [(2, 3), (2, 3)], ROUNDED, [((1, 3), (5, 3)), ((1, 3), (5, 3))]),
    ("linalg_cross_dim0_broadcast", lambda a, b: torch.linalg.cross(a, b, dim=0), [(3, 4), (3, 1)], ROUNDED, None),
    (
        "prelu_kernel",
        lambda x, w: aten._prelu_kernel(x, w.reshape(1, 3, 1)),
        [(2, 3, 4), (3,)],
        ROUNDED,
        [((1, 3, 2), (4, 3, 8)), ((3,), (3,))],
    ),
    ("prelu_module", lambda x, w: F.prelu(x, w), [(2, 3, 4, 5), (3,)], ROUNDED, None),
    ("split_sizes", lambda x: aten.split.sizes(x, [1, 3], 1), [(3, 4)], EXACT, [((1, 4), (6, 4))]),
    ("split_sizes_method", lambda x: x.split([2, 1, 1], 0), [(4, 4)], EXACT, None),
    # Statistics are constants of the module (statistics computed in forward are another matter).
    (
        "batch_norm_functional",
        lambda x: F.batch_norm(x, _MEAN, _VAR, _WEIGHT, _BIAS),
        [(2, 3, 4)],
        ROUNDED,
        [((1, 3, 2), (4, 3, 6))],
    ),
]


def _inputs(shapes: list[tuple[int, ...]], dtype: torch.dtype) -> list[torch.Tensor]:
    return [randn(*s, dtype=dtype) for s in shapes]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lowered(case: Case, dtype: torch.dtype) -> None:
    _, fn, shapes, tolerances, _ = case
    torch.manual_seed(0)
    rtol, atol = tolerances[dtype]
    check(fn, *_inputs(shapes, dtype), rtol=rtol, atol=atol)


DYNAMIC = [c for c in CASES if c[4] is not None]


@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_lowered_dynamic(case: Case) -> None:
    _, fn, shapes, _, ranges = case
    torch.manual_seed(0)
    specs = [dyn(lo, shape, hi) for shape, (lo, hi) in zip(shapes, ranges)]
    check_dynamic(fn, specs, [randn(*lo) for lo, _ in ranges], [randn(*hi) for _, hi in ranges])
