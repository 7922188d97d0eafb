"""Reference executor: Resize (nearest / linear / cubic, coordinate transformations, rounding, selectors)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _reference_net import Net, close, rand

from torch_tensorrt._trt import trt


def _resize_net(
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...] | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    mode: str = "NEAREST",
    transform: str = "ASYMMETRIC",
    rounding: str = "FLOOR",
    selector: str = "FORMULA",
    scales: list[float] | None = None,
    cubic_coeff: float | None = None,
    exclude_outside: bool = False,
) -> Net:
    n = Net()
    x = n.input("x", dtype, in_shape)
    layer = n.network.add_resize(x)
    if scales is not None:
        layer.scales = scales
    else:
        layer.shape = out_shape
    layer.resize_mode = getattr(trt.InterpolationMode, mode)
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, transform)
    layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
    layer.selector_for_single_pixel = getattr(trt.ResizeSelector, selector)
    if cubic_coeff is not None:
        layer.cubic_coeff = cubic_coeff
    layer.exclude_outside = exclude_outside
    n.mark(layer.get_output(0))
    return n


def _coord(i: int, n_in: int, n_out: int, transform: str) -> float:
    # The documented mappings, in float64 (the test inputs avoid ties where float32 would differ).
    if transform == "ALIGN_CORNERS":
        return 0.0 if n_out == 1 else i * (n_in - 1) / (n_out - 1)
    if transform == "ASYMMETRIC":
        return i * n_in / n_out
    return (i + 0.5) * n_in / n_out - 0.5


def _loop_resize_last(x: torch.Tensor, n_out: int, transform: str, kind: str, **kw: float) -> torch.Tensor:
    """Straightforward per-output-position resize of the last axis."""
    n_in = x.shape[-1]
    cols = []
    for i in range(n_out):
        c = _coord(i, n_in, n_out, transform)
        if kind in ("HALF_UP", "HALF_DOWN", "FLOOR", "CEIL"):
            r = {
                "HALF_UP": math.floor(c + 0.5),
                "HALF_DOWN": math.ceil(c - 0.5),
                "FLOOR": math.floor(c),
                "CEIL": math.ceil(c),
            }[kind]
            cols.append(x[..., min(max(r, 0), n_in - 1)])
        elif kind == "LINEAR":
            lo = math.floor(c)
            t = c - lo
            a, b = x[..., min(max(lo, 0), n_in - 1)], x[..., min(max(lo + 1, 0), n_in - 1)]
            cols.append(a * (1 - t) + b * t)
        else:  # cubic with coefficient A and optional exclusion of outside taps
            A, exclude = kw["A"], bool(kw["exclude"])
            lo = math.floor(c)
            taps, weights = [], []
            for k in (-1, 0, 1, 2):
                d = abs(c - (lo + k))
                w = (
                    ((A + 2) * d - (A + 3)) * d * d + 1
                    if d <= 1
                    else (((A * d - 5 * A) * d + 8 * A) * d - 4 * A if d < 2 else 0.0)
                )
                if exclude and not 0 <= lo + k < n_in:
                    w = 0.0
                taps.append(min(max(lo + k, 0), n_in - 1))
                weights.append(w)
            total = sum(weights) if exclude else 1.0
            cols.append(sum(x[..., t] * (w / total) for t, w in zip(taps, weights, strict=True)))
    return torch.stack(cols, -1)


def test_nearest_asymmetric_floor_matches_torch_nearest() -> None:
    n = _resize_net((1, 2, 3, 4), (1, 2, 7, 10))
    xv = rand(1, 2, 3, 4)
    close(n.run({"x": xv})[0], F.interpolate(xv, size=(7, 10), mode="nearest"))


def test_nearest_half_pixel_half_up_matches_torch_nearest_exact() -> None:
    n = _resize_net((1, 2, 5, 4), (1, 2, 3, 9), transform="HALF_PIXEL", rounding="HALF_UP")
    xv = rand(1, 2, 5, 4)
    close(n.run({"x": xv})[0], F.interpolate(xv, size=(3, 9), mode="nearest-exact"))


@pytest.mark.parametrize("transform", ["ALIGN_CORNERS", "ASYMMETRIC", "HALF_PIXEL"])
@pytest.mark.parametrize("rounding", ["HALF_UP", "HALF_DOWN", "FLOOR", "CEIL"])
def test_nearest_modes(transform: str, rounding: str) -> None:
    n = _resize_net((2, 5), (2, 7), transform=transform, rounding=rounding)
    xv = rand(2, 5)
    close(n.run({"x": xv})[0], _loop_resize_last(xv, 7, transform, rounding))


def test_nearest_bf16() -> None:
    # (The builder rejects integer resize inputs.)
    n = _resize_net((2, 3), (2, 6), dtype=torch.bfloat16)
    xv = rand(2, 3, dtype=torch.bfloat16)
    close(n.run({"x": xv})[0], xv.repeat_interleave(2, 1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("size", [(7, 10), (2, 3)], ids=["up", "down"])
def test_linear_half_pixel_matches_torch_bilinear(size: tuple[int, int], dtype: torch.dtype) -> None:
    n = _resize_net((1, 2, 4, 5), (1, 2, *size), dtype=dtype, mode="LINEAR", transform="HALF_PIXEL")
    xv = rand(1, 2, 4, 5, dtype=dtype)
    expected = F.interpolate(xv.float(), size=size, mode="bilinear", align_corners=False)
    close(n.run({"x": xv})[0], expected.to(dtype))


def test_linear_align_corners_matches_torch_bilinear() -> None:
    n = _resize_net((1, 2, 4, 5), (1, 2, 7, 3), mode="LINEAR", transform="ALIGN_CORNERS")
    xv = rand(1, 2, 4, 5)
    close(n.run({"x": xv})[0], F.interpolate(xv, size=(7, 3), mode="bilinear", align_corners=True))


def test_linear_asymmetric() -> None:
    n = _resize_net((3, 4), (3, 9), mode="LINEAR", transform="ASYMMETRIC")
    xv = rand(3, 4)
    close(n.run({"x": xv})[0], _loop_resize_last(xv, 9, "ASYMMETRIC", "LINEAR"))


def test_trilinear_matches_torch() -> None:
    n = _resize_net((1, 1, 3, 4, 2), (1, 1, 5, 6, 4), mode="LINEAR", transform="HALF_PIXEL")
    xv = rand(1, 1, 3, 4, 2)
    close(n.run({"x": xv})[0], F.interpolate(xv, size=(5, 6, 4), mode="trilinear", align_corners=False))


@pytest.mark.parametrize("align", [False, True])
def test_cubic_matches_torch_bicubic(align: bool) -> None:
    transform = "ALIGN_CORNERS" if align else "HALF_PIXEL"
    n = _resize_net((1, 2, 4, 5), (1, 2, 7, 8), mode="CUBIC", transform=transform, cubic_coeff=-0.75)
    xv = rand(1, 2, 4, 5)
    expected = F.interpolate(xv, size=(7, 8), mode="bicubic", align_corners=align)
    close(n.run({"x": xv})[0], expected)


def test_cubic_exclude_outside_and_coefficient() -> None:
    n = _resize_net(
        (1, 1, 1, 5), (1, 1, 1, 8), mode="CUBIC", transform="HALF_PIXEL", cubic_coeff=-0.5, exclude_outside=True
    )
    xv = rand(1, 1, 1, 5)
    close(n.run({"x": xv})[0], _loop_resize_last(xv, 8, "HALF_PIXEL", "CUBIC", A=-0.5, exclude=1.0))


def test_scales_give_floor_of_scaled_length() -> None:
    n = _resize_net((1, 1, 3, 5), scales=[1.0, 1.0, 2.0, 1.5])
    xv = rand(1, 1, 3, 5)
    # floor(5 * 1.5) = 7 columns; coordinates use the length ratio 5 / 7.
    expected = _loop_resize_last(xv.repeat_interleave(2, 2), 7, "ASYMMETRIC", "FLOOR")
    close(n.run({"x": xv})[0], expected)


def test_selector_upper_for_single_pixel() -> None:
    for selector, column in (("UPPER", 0), ("FORMULA", 2)):
        n = _resize_net((2, 6), (2, 1), transform="HALF_PIXEL", selector=selector)
        xv = rand(2, 6)
        # FORMULA: (0 + 0.5) * 6 - 0.5 = 2.5 -> floor 2; UPPER: the first pixel.
        close(n.run({"x": xv})[0], xv[:, column : column + 1])


def test_resize_output_shape_from_tensor() -> None:
    n = Net()
    x = n.input("x", torch.float32, (1, 1, -1, -1))
    ref = n.input("ref", torch.float32, (1, 1, -1, -1))
    layer = n.network.add_resize(x)
    layer.set_input(1, n.network.add_shape(ref).get_output(0))
    layer.resize_mode = trt.InterpolationMode.LINEAR
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    n.mark(layer.get_output(0))
    profiles = [{"x": ((1, 1, 1, 1), (1, 1, 4, 4), (1, 1, 8, 8)), "ref": ((1, 1, 1, 1), (1, 1, 8, 8), (1, 1, 16, 16))}]
    xv = rand(1, 1, 3, 4)
    out = n.run({"x": xv, "ref": rand(1, 1, 6, 5)}, profiles)[0]
    close(out, F.interpolate(xv, size=(6, 5), mode="bilinear", align_corners=False))


# ------------------------------------------------------------------------------ GridSample


def _grid_sample_net(
    x_shape: tuple[int, ...], grid_shape: tuple[int, ...], dtype: torch.dtype, interp: str, mode: str, align: bool
) -> Net:
    n = Net()
    layer = n.network.add_grid_sample(n.input("x", dtype, x_shape), n.input("grid", dtype, grid_shape))
    layer.interpolation_mode = getattr(trt.InterpolationMode, interp)
    layer.sample_mode = getattr(trt.SampleMode, mode)
    layer.align_corners = align
    n.mark(layer.get_output(0))
    return n


def test_grid_sample_corners_and_centre_by_hand() -> None:
    # With align_corners, -1 and 1 are the corner pixels' centres; (0, 0) is the middle of the image.
    x = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    grid = torch.tensor([[[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [1.0, -1.0], [3.0, 0.0]]]])
    n = _grid_sample_net((1, 1, 2, 3), (1, 1, 5, 2), torch.float32, "LINEAR", "FILL", True)
    (out,) = n.run({"x": x, "grid": grid})
    # (3, 0) lies 4 pixels right of the last column: out of bounds, so 0 with FILL.
    close(out, torch.tensor([[[[1.0, 6.0, 3.5, 3.0, 0.0]]]]))


def test_grid_sample_edges_without_align_corners_by_hand() -> None:
    # Without align_corners, -1 is the left edge: half a pixel outside the first centre, which
    # FILL blends with 0 and CLAMP reads as the border value.
    x = torch.tensor([[[[2.0, 4.0]]]])
    grid = torch.tensor([[[[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]]])
    for mode, expected in (("FILL", [1.0, 3.0, 2.0]), ("CLAMP", [2.0, 3.0, 4.0]), ("REFLECT", [2.0, 3.0, 4.0])):
        n = _grid_sample_net((1, 1, 1, 2), (1, 1, 3, 2), torch.float32, "LINEAR", mode, False)
        (out,) = n.run({"x": x, "grid": grid})
        close(out, torch.tensor([[[expected]]]))


def test_grid_sample_nearest_rounds_half_to_even() -> None:
    x = torch.tensor([[[[10.0, 20.0, 30.0, 40.0]]]])
    # Locations 0.5 and 1.5 (align_corners: x = (g + 1) / 2 * 3) round to 0 and 2.
    grid = torch.tensor([[[[-2 / 3, 0.0], [0.0, 0.0]]]])
    n = _grid_sample_net((1, 1, 1, 4), (1, 1, 2, 2), torch.float32, "NEAREST", "FILL", True)
    (out,) = n.run({"x": x, "grid": grid})
    close(out, torch.tensor([[[[10.0, 30.0]]]]))


def test_grid_sample_reflects_until_in_bound() -> None:
    # Edges at the corner centres (align_corners): location -4 on 0..3 reflects to 4, then to 2.
    x = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])
    grid = torch.tensor([[[[-1 - 8 / 3, 0.0], [1 + 2 / 3, 0.0]]]])
    n = _grid_sample_net((1, 1, 1, 4), (1, 1, 2, 2), torch.float32, "LINEAR", "REFLECT", True)
    (out,) = n.run({"x": x, "grid": grid})
    close(out, torch.tensor([[[[2.0, 2.0]]]]))


_TORCH_MODES = {"NEAREST": "nearest", "LINEAR": "bilinear", "CUBIC": "bicubic"}
_TORCH_PADDING = {"FILL": "zeros", "CLAMP": "border", "REFLECT": "reflection"}


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize(
    ("interp", "mode"),
    [(i, m) for i in ("NEAREST", "LINEAR") for m in ("FILL", "CLAMP", "REFLECT")] + [("CUBIC", "FILL")],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_grid_sample_matches_the_documented_torch_op(interp: str, mode: str, align: bool, dtype: torch.dtype) -> None:
    # PyTorch's grid_sample documents the same semantics; locations reach well outside [-1, 1].
    torch.manual_seed(0)
    x = rand(2, 3, 4, 5, dtype=dtype)
    grid = rand(2, 3, 6, 2, low=-1.6, high=1.6, dtype=dtype)
    n = _grid_sample_net((2, 3, 4, 5), (2, 3, 6, 2), dtype, interp, mode, align)
    (out,) = n.run({"x": x, "grid": grid})
    want = F.grid_sample(
        x.float(), grid.float(), mode=_TORCH_MODES[interp], padding_mode=_TORCH_PADDING[mode], align_corners=align
    )
    close(out, want.to(dtype))


@pytest.mark.parametrize("mode", ["CLAMP", "REFLECT"])
def test_grid_sample_cubic_outside_fill_is_not_guessed(mode: str) -> None:
    n = _grid_sample_net((1, 1, 2, 2), (1, 1, 1, 2), torch.float32, "CUBIC", mode, False)
    with pytest.raises(NotImplementedError, match=f"CUBIC with SampleMode.{mode}"):
        n.run({"x": torch.ones(1, 1, 2, 2), "grid": torch.zeros(1, 1, 1, 2)})
