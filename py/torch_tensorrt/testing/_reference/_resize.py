"""Resize: separable nearest / linear / cubic interpolation with TensorRT's coordinate transformations."""

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
