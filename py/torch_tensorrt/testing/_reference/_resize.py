"""Resize: separable nearest / linear / cubic interpolation with TensorRT's coordinate transformations;
GridSample: interpolation at the positions a grid gives."""

from __future__ import annotations

import math

import torch

from ._common import Inputs, Tensor, enum_param, int_list, layer_error, need, optional, register, unsupported
from ._dtypes import FLOATING, trt_name
from ._record import LayerRecord


def _source_coords(layer: LayerRecord, n_in: int, n_out: int) -> Tensor:
    """Input coordinate of every output position along one axis (float32, as a GPU kernel computes it)."""
    transform = enum_param(
        layer,
        "coordinate_transformation",
        "ResizeCoordinateTransformation",
        ["ALIGN_CORNERS", "ASYMMETRIC", "HALF_PIXEL"],
    )
    selector = enum_param(layer, "selector_for_single_pixel", "ResizeSelector", ["FORMULA", "UPPER"])
    i = torch.arange(n_out, dtype=torch.float32)
    if n_out == 1 and selector == "UPPER":
        return torch.zeros(1, dtype=torch.float32)
    if transform == "ALIGN_CORNERS":
        if n_out == 1:
            return torch.zeros(1, dtype=torch.float32)
        return i * torch.tensor((n_in - 1) / (n_out - 1), dtype=torch.float32)
    ratio = torch.tensor(n_in / n_out, dtype=torch.float32)
    if transform == "ASYMMETRIC":
        return i * ratio
    return (i + 0.5) * ratio - 0.5


def _cubic_weight(distance: Tensor, a: float) -> Tensor:
    d = distance.abs()
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return torch.where(d <= 1, near, torch.where(d < 2, far, torch.zeros_like(d)))


def _resize_axis(layer: LayerRecord, x: Tensor, axis: int, n_out: int, mode: str) -> Tensor:
    n_in = int(x.shape[axis])
    coords = _source_coords(layer, n_in, n_out)
    view = [1] * x.dim()
    view[axis] = n_out
    if mode == "NEAREST":
        rounding = enum_param(layer, "nearest_rounding", "ResizeRoundMode", ["HALF_UP", "HALF_DOWN", "FLOOR", "CEIL"])
        if rounding == "HALF_UP":
            index = torch.floor(coords + 0.5)
        elif rounding == "HALF_DOWN":
            index = torch.ceil(coords - 0.5)
        elif rounding == "FLOOR":
            index = torch.floor(coords)
        else:
            index = torch.ceil(coords)
        return x.index_select(axis, index.to(torch.int64).clamp(0, n_in - 1))
    lower = torch.floor(coords)
    t = coords - lower
    lower_i = lower.to(torch.int64)
    if mode == "LINEAR":
        # Taps beyond the edge repeat the edge element.
        x0 = x.index_select(axis, lower_i.clamp(0, n_in - 1))
        x1 = x.index_select(axis, (lower_i + 1).clamp(0, n_in - 1))
        w = t.reshape(view)
        return x0 * (1 - w) + x1 * w
    a = float(layer.params["cubic_coeff"])
    taps = [lower_i + offset for offset in (-1, 0, 1, 2)]
    weights = [_cubic_weight(t - offset, a) for offset in (-1, 0, 1, 2)]
    if layer.params["exclude_outside"]:
        weights = [torch.where((tap >= 0) & (tap < n_in), w, torch.zeros_like(w)) for tap, w in zip(taps, weights)]
        total = sum(weights, torch.zeros_like(t))
        weights = [w / total for w in weights]
    out = torch.zeros((), dtype=x.dtype)
    for tap, w in zip(taps, weights, strict=True):
        out = out + x.index_select(axis, tap.clamp(0, n_in - 1)) * w.reshape(view)
    return out


@register("RESIZE")
def _resize(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    p = layer.params
    mode = enum_param(layer, "resize_mode", "InterpolationMode", ["NEAREST", "LINEAR", "CUBIC"])
    shape_input = optional(inputs, 1)
    if shape_input is not None:
        out_shape = int_list(layer, shape_input, "output shape")
    elif p["scales"] is not None:
        # Documented: output dimension = floor(input dimension * scale).
        out_shape = [math.floor(int(n) * float(s)) for n, s in zip(x.shape, p["scales"], strict=True)]
    elif p["shape"] is not None:
        out_shape = [int(d) for d in p["shape"]]
    else:
        raise layer_error(layer, "neither output shape nor scales are known")
    if len(out_shape) != x.dim():
        raise layer_error(layer, f"output shape {out_shape} does not have the input rank {x.dim()}")
    if mode != "NEAREST" and x.dtype not in FLOATING:
        raise unsupported(layer, f"InterpolationMode.{mode} on DataType.{trt_name(x.dtype)} input")
    y = x.to(torch.float32) if x.dtype in FLOATING else x
    # Coordinates map output to input through the length ratio (TensorRT's documented formulas), so an
    # unchanged axis maps every position onto itself under every transformation and can be skipped.
    for axis, n_out in enumerate(out_shape):
        if n_out != int(x.shape[axis]):
            if int(x.shape[axis]) == 0:
                raise layer_error(layer, f"cannot resize the empty dimension {axis}")
            y = _resize_axis(layer, y, axis, n_out, mode)
    return [y.to(x.dtype)]


# ------------------------------------------------------------------------------------------------
# GridSample. TensorRT documents the layer as ONNX's GridSample on 4-D tensors: grid[n, h, w] = (x, y)
# in [-1, 1] addresses input[n, :, ., .] (x along W, y along H); -1 and 1 are the corner pixels'
# centres with align_corners, their outer edges without. Out-of-bound locations read 0 (FILL), the
# nearest border value (CLAMP) or the location reflected at the borders (REFLECT, edges at the corner
# centres with align_corners, at the outer edges without) until it is in bound. Nearest rounds half
# to even. Cubic uses Keys' kernel with a = -0.75, as ONNX does; with CLAMP or REFLECT the
# documentation does not say whether the location or each of the 4 x 4 taps is moved, so only FILL
# is implemented for it.

_GRID_CUBIC_A = -0.75


def _unnormalize(g: Tensor, n: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (g + 1) / 2 * (n - 1)
    return ((g + 1) * n - 1) / 2


def _reflect(x: Tensor, low: float, high: float) -> Tensor:
    span = high - low
    if span <= 0:
        return torch.zeros_like(x)
    folded = torch.remainder((x - low).abs(), 2 * span)
    return low + torch.where(folded > span, 2 * span - folded, folded)


def _grid_location(x: Tensor, n: int, mode: str, align_corners: bool) -> Tensor:
    """The location along one axis after the sample mode moved out-of-bound ones (FILL keeps them)."""
    if mode == "REFLECT":
        x = _reflect(x, 0.0, n - 1.0) if align_corners else _reflect(x, -0.5, n - 0.5)
    if mode in ("CLAMP", "REFLECT"):
        # Beyond the outermost pixel centres the nearest border value is read.
        x = x.clamp(0, n - 1)
    return x


def _taps(image: Tensor, ys: Tensor, xs: Tensor) -> Tensor:
    """image[n, c, ys, xs] for integer positions of shape (N, Ho, Wo); 0 where out of bounds."""
    n_batch, channels, height, width = image.shape
    valid = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    flat = (ys.clamp(0, height - 1) * width + xs.clamp(0, width - 1)).reshape(n_batch, 1, -1)
    taken = torch.gather(image.reshape(n_batch, channels, -1), 2, flat.expand(n_batch, channels, flat.shape[-1]))
    taken = taken.reshape(n_batch, channels, *ys.shape[1:])
    return torch.where(valid.unsqueeze(1), taken, torch.zeros((), dtype=image.dtype))


def _cubic_weights(t: Tensor) -> list[Tensor]:
    return [_cubic_weight(t - offset, _GRID_CUBIC_A) for offset in (-1, 0, 1, 2)]


@register("GRID_SAMPLE")
def _grid_sample(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x, grid = need(layer, inputs, 0), need(layer, inputs, 1)
    p = layer.params
    interp = enum_param(layer, "interpolation_mode", "InterpolationMode", ["NEAREST", "LINEAR", "CUBIC"])
    mode = enum_param(layer, "sample_mode", "SampleMode", ["FILL", "CLAMP", "REFLECT"])
    if x.dim() != 4 or grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0]:
        raise layer_error(
            layer, f"input {tuple(x.shape)} and grid {tuple(grid.shape)} are not (N,C,H,W) and (N,Ho,Wo,2)"
        )
    if x.dtype not in FLOATING or grid.dtype != x.dtype:
        raise unsupported(
            layer, f"GridSample on DataType.{trt_name(x.dtype)} input with DataType.{trt_name(grid.dtype)} grid"
        )
    if interp == "CUBIC" and mode != "FILL":
        raise unsupported(layer, f"InterpolationMode.CUBIC with SampleMode.{mode}")
    image = x.to(torch.float32)
    height, width = int(x.shape[2]), int(x.shape[3])
    align = bool(p["align_corners"])
    gx = _grid_location(_unnormalize(grid[..., 0].float(), width, align), width, mode, align)
    gy = _grid_location(_unnormalize(grid[..., 1].float(), height, align), height, mode, align)
    if interp == "NEAREST":
        out = _taps(image, torch.round(gy).to(torch.int64), torch.round(gx).to(torch.int64))
        return [out.to(x.dtype)]
    x0, y0 = torch.floor(gx), torch.floor(gy)
    tx, ty = gx - x0, gy - y0
    x0, y0 = x0.to(torch.int64), y0.to(torch.int64)
    if interp == "LINEAR":
        wx, wy, offsets = [1 - tx, tx], [1 - ty, ty], (0, 1)
    else:
        wx, wy, offsets = _cubic_weights(tx), _cubic_weights(ty), (-1, 0, 1, 2)
    out = torch.zeros((), dtype=torch.float32)
    for j, dy in enumerate(offsets):
        for i, dx in enumerate(offsets):
            out = out + _taps(image, y0 + dy, x0 + dx) * (wy[j] * wx[i]).unsqueeze(1)
    return [out.to(x.dtype)]
