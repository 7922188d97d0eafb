"""F.interpolate (upsample_* .vec and .default) through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import assert_falls_back, check, check_dynamic, dyn, fn_module, run_untraced

from torch_tensorrt.testing import run_on_reference

aten = torch.ops.aten
DTYPES = [torch.float32, torch.float16, torch.bfloat16]
# Interpolation weights are computed in float32 and the result rounded once to the tensor's dtype;
# torch rounds the same way, so a half-precision ulp (plus bf16's coarser one) bounds the difference.
TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}

Case = tuple[str, Callable[[torch.Tensor], torch.Tensor], tuple[int, ...]]


def _interp(**kw: object) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: F.interpolate(x, **kw)


STATIC: list[Case] = [
    ("nearest1d_x2", _interp(scale_factor=2.0), (2, 3, 5)),
    ("nearest2d_x2", _interp(scale_factor=2.0), (2, 3, 4, 5)),
    ("nearest2d_x3_x2", _interp(scale_factor=(3.0, 2.0)), (1, 2, 3, 4)),
    ("nearest2d_down", _interp(scale_factor=0.5), (1, 2, 6, 8)),
    ("nearest2d_size", _interp(size=(7, 3)), (1, 2, 4, 5)),
    ("nearest3d_x2", _interp(scale_factor=2.0), (1, 2, 2, 3, 4)),
    ("nearest_exact2d_size", _interp(size=(7, 9), mode="nearest-exact"), (1, 2, 4, 5)),
    ("nearest_exact1d_x2", _interp(scale_factor=2.0, mode="nearest-exact"), (1, 2, 5)),
    ("linear1d_x2", _interp(scale_factor=2.0, mode="linear"), (2, 3, 5)),
    ("linear1d_align", _interp(size=9, mode="linear", align_corners=True), (2, 3, 5)),
    ("linear1d_to_one", _interp(size=1, mode="linear"), (2, 3, 5)),
    ("bilinear_x2", _interp(scale_factor=2.0, mode="bilinear"), (2, 3, 4, 5)),
    ("bilinear_align", _interp(scale_factor=2.0, mode="bilinear", align_corners=True), (1, 2, 4, 5)),
    ("bilinear_down_size", _interp(size=(3, 2), mode="bilinear"), (1, 2, 7, 5)),
    ("bicubic_x2", _interp(scale_factor=2.0, mode="bicubic"), (1, 2, 4, 5)),
    ("bicubic_align_size", _interp(size=(5, 9), mode="bicubic", align_corners=True), (1, 2, 4, 5)),
    ("trilinear_x2", _interp(scale_factor=2.0, mode="trilinear"), (1, 2, 2, 3, 4)),
    ("trilinear_align", _interp(size=(3, 5, 2), mode="trilinear", align_corners=True), (1, 2, 2, 3, 4)),
    # Scales whose 1 / scale is not in / out: torch's own weights, one axis at a time.
    ("nearest2d_x1_5_odd", _interp(scale_factor=1.5), (1, 2, 5, 3)),
    ("nearest_exact1d_x1_3", _interp(scale_factor=1.3, mode="nearest-exact"), (1, 2, 5)),
    ("bilinear_x1_5_odd", _interp(scale_factor=1.5, mode="bilinear"), (1, 2, 5, 3)),
    ("bicubic_mixed", _interp(scale_factor=(0.5, 1.7), mode="bicubic"), (1, 2, 5, 3)),
    ("trilinear_x0_7", _interp(scale_factor=0.7, mode="trilinear"), (1, 2, 5, 4, 3)),
    # Weights are per axis (length x length), not per image.
    ("bilinear_x1_5_larger", _interp(scale_factor=1.5, mode="bilinear"), (1, 2, 33, 65)),
    # Scales with 1 / scale == in / out go to one Resize layer.
    ("bilinear_x1_5_even", _interp(scale_factor=1.5, mode="bilinear"), (1, 2, 4, 6)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", STATIC, ids=[c[0] for c in STATIC])
def test_interpolate(case: Case, dtype: torch.dtype) -> None:
    _, fn, shape = case
    torch.manual_seed(0)
    rtol, atol = TOLERANCES[dtype]
    check(fn, torch.randn(shape).to(dtype), rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    ("overload", "args"),
    [
        (aten.upsample_nearest2d.default, ([6, 10], 2.0, 2.0)),
        (aten.upsample_nearest2d.default, ([7, 9], None, None)),
        (aten.upsample_bilinear2d.default, ([6, 10], False, 2.0, 2.0)),
        (aten.upsample_bicubic2d.default, ([5, 8], True, None, None)),
        (aten.upsample_linear1d.default, ([12], False, 2.4)),
        (aten._upsample_nearest_exact1d.vec, ([9], None)),
    ],
    ids=lambda v: str(v).replace("aten.", "") if isinstance(v, torch._ops.OpOverload) else "",
)
def test_default_overloads(overload: torch._ops.OpOverload, args: tuple) -> None:
    torch.manual_seed(0)
    shape = (1, 2, 3, 5) if "2d" in str(overload) else (1, 2, 5)
    check(lambda x: overload(x, *args), torch.randn(shape))


DYNAMIC = [
    ("nearest2d_x2", _interp(scale_factor=2.0), (1, 2, 2, 3), (3, 2, 5, 6)),
    ("bilinear_x2", _interp(scale_factor=2.0, mode="bilinear"), (1, 2, 2, 3), (3, 2, 5, 6)),
    ("bicubic_x2", _interp(scale_factor=2.0, mode="bicubic"), (1, 2, 2, 3), (3, 2, 5, 6)),
    ("bilinear_align_size", _interp(size=(4, 7), mode="bilinear", align_corners=True), (1, 2, 2, 3), (3, 2, 5, 6)),
    ("nearest1d_x3", _interp(scale_factor=3.0), (1, 2, 2), (3, 2, 9)),
    ("linear1d_x2", _interp(scale_factor=2.0, mode="linear"), (1, 2, 2), (3, 2, 9)),
    ("trilinear_x2", _interp(scale_factor=2.0, mode="trilinear"), (1, 2, 2, 2, 2), (2, 2, 3, 4, 3)),
    ("nearest3d_x2", _interp(scale_factor=2.0), (1, 2, 2, 2, 2), (2, 2, 3, 4, 3)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_interpolate_dynamic(case: tuple, dtype: torch.dtype) -> None:
    _, fn, lo, hi = case
    torch.manual_seed(0)
    mid = tuple((a + b) // 2 for a, b in zip(lo, hi))
    check_dynamic(fn, [dyn(lo, mid, hi, dtype)], *([torch.randn(s).to(dtype)] for s in (lo, mid, hi)))


def test_dynamic_batch_with_per_axis_weights() -> None:
    # Only the batch varies: the per-axis path (scale 1.5 on an odd length) keeps it dynamic.
    fn = _interp(scale_factor=1.5, mode="bilinear")
    check_dynamic(
        fn, [dyn((1, 2, 5, 3), (2, 2, 5, 3), (4, 2, 5, 3))], [torch.randn(1, 2, 5, 3)], [torch.randn(4, 2, 5, 3)]
    )


def test_size_from_another_input() -> None:
    # The output size is read from a dynamic input: a shape tensor feeds the Resize layer.
    fn = lambda x, y: F.interpolate(x, size=y.shape[-2:], mode="bilinear")  # noqa: E731
    specs = [dyn((1, 2, 3, 3), (1, 2, 3, 3), (1, 2, 3, 3)), dyn((1, 1, 2, 2), (1, 1, 4, 5), (1, 1, 8, 9))]
    x = torch.randn(1, 2, 3, 3)
    check_dynamic(fn, specs, [x, torch.randn(1, 1, 2, 2)], [x, torch.randn(1, 1, 8, 9)])


class _Upsample(torch.nn.Module):
    """One upsample .vec overload with scale factors, as a graph without traced values holds it."""

    def __init__(self, op: Any, scales: list[float], *align: bool) -> None:
        super().__init__()
        self.op, self.scales, self.align = op, scales, align

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x, None, *self.align, self.scales)


FRACTIONAL_DYNAMIC = [
    ("nearest1d_x1_5", _Upsample(aten.upsample_nearest1d.vec, [1.5]), (1, 2, 2), (2, 2, 9)),
    ("nearest2d_down_up", _Upsample(aten.upsample_nearest2d.vec, [0.5, 1.5]), (1, 1, 2, 2), (2, 1, 9, 7)),
    ("nearest_exact1d_x1_3", _Upsample(aten._upsample_nearest_exact1d.vec, [1.3]), (1, 2, 2), (1, 2, 9)),
    ("linear1d_x1_5", _Upsample(aten.upsample_linear1d.vec, [1.5], False), (1, 2, 2), (2, 2, 9)),
    ("bilinear_x1_5", _Upsample(aten.upsample_bilinear2d.vec, [1.5, 1.5], False), (1, 2, 2, 4), (1, 2, 8, 4)),
    ("bilinear_x0_7", _Upsample(aten.upsample_bilinear2d.vec, [0.7, 0.7], False), (1, 1, 3, 3), (1, 1, 9, 8)),
    ("bicubic_x1_7_x0_6", _Upsample(aten.upsample_bicubic2d.vec, [1.7, 0.6], False), (1, 2, 2, 4), (1, 2, 7, 9)),
    (
        "trilinear_x1_5",
        _Upsample(aten.upsample_trilinear3d.vec, [1.5, 1.5, 1.5], False),
        (1, 1, 2, 2, 2),
        (1, 1, 5, 4, 3),
    ),
    ("nearest3d_mixed", _Upsample(aten.upsample_nearest3d.vec, [2.5, 1.0, 0.5]), (1, 1, 2, 2, 2), (1, 1, 3, 4, 6)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", FRACTIONAL_DYNAMIC, ids=[c[0] for c in FRACTIONAL_DYNAMIC])
def test_fractional_scale_on_dynamic_lengths(case: tuple, dtype: torch.dtype) -> None:
    # torch maps with 1 / scale, TensorRT's Resize with in / out: the engine gathers torch's taps
    # instead, for every length in the range (odd ones are where the two mappings differ).
    # (torch.export cannot trace fractional scales of run-time lengths; untraced graphs can hold them.)
    _, module, lo, hi = case
    torch.manual_seed(0)
    shapes = [lo, tuple((a + b) // 2 for a, b in zip(lo, hi)), tuple(b - 1 if b > a else b for a, b in zip(lo, hi)), hi]
    inputs = [torch.randn(s).to(dtype) for s in shapes]
    rtol, atol = TOLERANCES[dtype]
    outputs = run_untraced(module, [dyn(lo, shapes[1], hi, dtype)], [[x] for x in inputs])
    for x, got in zip(inputs, outputs):
        # Weights and positions are float32 on both sides; half inputs are compared with float32 eager rounded once.
        torch.testing.assert_close(got, module(x.float()).to(dtype), rtol=rtol, atol=atol)


class _MixedSizes(torch.nn.Module):
    """Sizes / scales mixing 0-dim tensors and numbers, which eager torch reads as numbers."""

    def __init__(self, sizes: list[Any] | None, scales: list[Any] | None) -> None:
        super().__init__()
        self.sizes, self.scales = sizes, scales

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return aten.upsample_nearest2d.vec(x, self.sizes, self.scales)


@pytest.mark.parametrize(
    ("sizes", "scales"),
    [([torch.tensor(4), 6], None), (None, [torch.tensor(0.5), 1.5])],
    ids=["tensor_in_sizes", "tensor_in_scales"],
)
def test_untraced_sizes_holding_zero_dim_tensors(sizes: list[Any] | None, scales: list[Any] | None) -> None:
    module = _MixedSizes(sizes, scales)
    static_input, dynamic_input = torch.randn(1, 2, 7, 5), torch.randn(2, 1, 3, 9)
    (got,) = run_untraced(module, [dyn((1, 2, 7, 5), (1, 2, 7, 5), (1, 2, 7, 5))], [[static_input]])
    torch.testing.assert_close(got, module(static_input), rtol=0, atol=0)  # nearest copies values
    spec = dyn((1, 1, 2, 2), (2, 1, 5, 5), (3, 1, 9, 9))
    (got,) = run_untraced(module, [spec], [[dynamic_input]])
    torch.testing.assert_close(got, module(dynamic_input), rtol=0, atol=0)


def test_integer_input_falls_back() -> None:
    assert_falls_back(
        lambda x: F.interpolate(x.to(torch.uint8), scale_factor=2.0).float(),
        torch.randn(1, 1, 2, 3) * 9,
        op="upsample_nearest2d",
    )


# ---------------------------------------------------------------------------------------------
# F.grid_sample (grid_sampler_2d)
# ---------------------------------------------------------------------------------------------

GRID_MODES = [(m, p) for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection")]


def _grid(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    # Locations reach outside [-1, 1], so every padding mode matters.
    return (torch.rand(shape) * 3.2 - 1.6).to(dtype)


@pytest.mark.parametrize("align", [False, True], ids=["edges", "align_corners"])
@pytest.mark.parametrize(("mode", "padding"), GRID_MODES, ids=[f"{m}-{p}" for m, p in GRID_MODES])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_grid_sample(mode: str, padding: str, align: bool, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    fn = lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)  # noqa: E731
    rtol, atol = TOLERANCES[dtype]
    x, grid = torch.randn(2, 3, 4, 5).to(dtype), _grid(2, 3, 6, 2, dtype=dtype)
    if dtype == torch.float32:
        check(fn, x, grid, rtol=rtol, atol=atol)
        return
    # Eager PyTorch locates half-precision samples in half precision (a 1.6 grid value is off by up to
    # 1e-3, a few thousandths of a pixel); the engine samples the same inputs in float32 and rounds the
    # result once, so the reference is float32 eager on the same values, rounded.
    (got,) = run_on_reference(fn_module(fn, 2), [x, grid])
    torch.testing.assert_close(got, fn(x.float(), grid.float()).to(dtype), rtol=rtol, atol=atol)


def test_grid_sampler_default_overload() -> None:
    # torch.grid_sampler (aten.grid_sampler) lowers to grid_sampler_2d for 4-D inputs.
    check(lambda x, g: torch.grid_sampler(x, g, 0, 1, False), torch.randn(1, 2, 4, 4), _grid(1, 3, 3, 2))


def test_grid_sample_dynamic() -> None:
    fn = lambda x, g: F.grid_sample(x, g, align_corners=False)  # noqa: E731
    specs = [dyn((1, 2, 3, 3), (2, 2, 5, 6), (3, 2, 8, 8)), dyn((1, 2, 2, 2), (2, 3, 4, 2), (3, 5, 6, 2))]
    check_dynamic(fn, specs, [torch.randn(1, 2, 3, 3), _grid(1, 2, 2, 2)], [torch.randn(3, 2, 8, 8), _grid(3, 5, 6, 2)])


@pytest.mark.parametrize("align", [False, True], ids=["edges", "align_corners"])
@pytest.mark.parametrize("padding", ["border", "reflection"])
def test_bicubic_grid_sample_far_outside(padding: str, align: bool) -> None:
    # Locations several image widths out: reflection folds them more than once, border reads edges.
    torch.manual_seed(1)
    fn = lambda x, g: F.grid_sample(x, g, mode="bicubic", padding_mode=padding, align_corners=align)  # noqa: E731
    check(fn, torch.randn(1, 2, 3, 5), torch.rand(1, 7, 4, 2) * 12 - 6, rtol=1e-5, atol=1e-5)


def test_bicubic_reflection_of_one_pixel_rows() -> None:
    # With align_corners a length-1 axis has nothing to reflect across: torch reads its only pixel.
    fn = lambda x, g: F.grid_sample(x, g, mode="bicubic", padding_mode="reflection", align_corners=True)  # noqa: E731
    check(fn, torch.randn(2, 2, 1, 4), _grid(2, 3, 3, 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["border", "reflection"])
def test_bicubic_grid_sample_outside_zeros_on_dynamic_image_falls_back(padding: str) -> None:
    # The tap moves are laid out per image position at build time: height and width must be static.
    fn = lambda x, g: F.grid_sample(x, g, mode="bicubic", padding_mode=padding, align_corners=False)  # noqa: E731
    specs = [dyn((1, 2, 3, 3), (1, 2, 4, 4), (1, 2, 6, 6)), dyn((1, 3, 3, 2), (1, 3, 3, 2), (1, 3, 3, 2))]
    assert_falls_back(fn, torch.randn(1, 2, 4, 4), _grid(1, 3, 3, 2), op="grid_sampler_2d", input_specs=specs)
