"""Reductions and contractions: Reduce, SoftMax, Normalization, TopK, Cumulative, MatrixMultiply, Einsum."""

from __future__ import annotations

import torch

from ._common import (
    Inputs,
    Tensor,
    axes_from_mask,
    enum_param,
    int_list,
    layer_error,
    need,
    norm_axis,
    optional,
    out_dtype,
    register,
    require_dtype,
    single_axis,
    unsupported,
    widen,
)
from ._dtypes import FLOATING, INDEX, trt_name
from ._record import LayerRecord


@register("REDUCE")
def _reduce(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    op = enum_param(layer, "op", "ReduceOperation", ["SUM", "PROD", "MAX", "MIN", "AVG"])
    axes = axes_from_mask(layer, int(layer.params["axes"]), x.dim())
    keep = bool(layer.params["keep_dims"])
    if x.dtype in FLOATING:
        xc = widen(x)
    elif x.dtype in INDEX:
        xc = x
    else:
        raise unsupported(layer, f"ReduceOperation.{op} on DataType.{trt_name(x.dtype)} input")
    if not axes:
        return [x.clone()]
    if op == "SUM":
        y = xc.sum(axes, keepdim=keep, dtype=xc.dtype)
    elif op == "MAX":
        y = xc.amax(axes, keepdim=keep)
    elif op == "MIN":
        y = xc.amin(axes, keepdim=keep)
    elif op == "PROD":
        y = xc
        for a in sorted(axes, reverse=True):  # descending, so earlier axis numbers stay valid
            y = y.prod(a, keepdim=keep, dtype=xc.dtype)
    else:
        count = 1
        for a in axes:
            count *= int(x.shape[a])
        total = xc.sum(axes, keepdim=keep, dtype=xc.dtype)
        # Integer average truncates like integer division.
        y = total / count if xc.is_floating_point() else torch.div(total, count, rounding_mode="trunc")
    return [y.to(x.dtype)]


@register("SOFTMAX")
def _softmax(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    require_dtype(layer, x, FLOATING, "SoftMax")
    axis = single_axis(layer, int(layer.params["axes"]), x.dim())
    return [torch.softmax(widen(x), axis).to(x.dtype)]


@register("NORMALIZATION")
def _normalization(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x, scale, bias = need(layer, inputs, 0), need(layer, inputs, 1), need(layer, inputs, 2)
    require_dtype(layer, x, FLOATING, "Normalization")
    p = layer.params
    eps = float(p["epsilon"])
    groups = int(p["num_groups"])
    axes = axes_from_mask(layer, int(p["axes"]), x.dim())
    xf = widen(x)
    if groups == 1:
        mean = xf.mean(axes, keepdim=True)
        var = ((xf - mean) ** 2).mean(axes, keepdim=True)
        y = (xf - mean) / torch.sqrt(var + eps)
    else:
        # Group normalization: channels (dimension 1) split into groups, statistics over each group's
        # channels and every later dimension, which is what the axes mask must say.
        if x.dim() < 3 or axes != list(range(2, x.dim())):
            raise unsupported(layer, f"{groups} groups with axes bitmask {int(p['axes']):#b}")
        n, c = int(x.shape[0]), int(x.shape[1])
        if c % groups:
            raise layer_error(layer, f"{c} channels are not divisible into {groups} groups")
        xg = xf.reshape(n, groups, -1)
        mean = xg.mean(-1, keepdim=True)
        var = ((xg - mean) ** 2).mean(-1, keepdim=True)
        y = ((xg - mean) / torch.sqrt(var + eps)).reshape(x.shape)
        if not p["is_v2"] and scale.dim() >= 2 and int(scale.shape[1]) == groups != c:
            # addNormalization (v1) takes group-norm scale and bias per group ([1, G, 1, ...]).
            scale = scale.repeat_interleave(c // groups, dim=1)
            bias = bias.repeat_interleave(c // groups, dim=1)
    if scale.dim() != x.dim() or bias.dim() != x.dim():
        raise layer_error(layer, "scale and bias must have the rank of the input")
    return [(y * widen(scale) + widen(bias)).to(x.dtype)]


@register("TOPK")
def _topk(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    op = enum_param(layer, "op", "TopKOperation", ["MAX", "MIN"])
    axis = single_axis(layer, int(layer.params["axes"]), x.dim())
    k_input = optional(inputs, 1)
    k = int_list(layer, k_input, "k")[0] if k_input is not None else int(layer.params["k"])
    if not 0 <= k <= int(x.shape[axis]):
        raise layer_error(layer, f"k = {k} exceeds the axis length {int(x.shape[axis])}")
    values, indices = torch.topk(widen(x), k, dim=axis, largest=op == "MAX", sorted=True)
    return [values.to(x.dtype), indices.to(out_dtype(layer, 1))]


@register("CUMULATIVE")
def _cumulative(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    op = enum_param(layer, "op", "CumulativeOperation", ["SUM"])
    axis_values = int_list(layer, need(layer, inputs, 1), "axis")
    if len(axis_values) != 1:
        raise layer_error(layer, f"axis must be a scalar, got {axis_values}")
    axis = norm_axis(layer, axis_values[0], x.dim())
    if x.dtype in FLOATING:
        xc = widen(x)
    elif x.dtype in INDEX:
        xc = x
    else:
        raise unsupported(layer, f"CumulativeOperation.{op} on DataType.{trt_name(x.dtype)} input")
    if layer.params["reverse"]:
        xc = xc.flip(axis)
    y = xc.cumsum(axis, dtype=xc.dtype)
    if layer.params["exclusive"]:
        # Shift by one (initial value 0) rather than subtracting x, which would not be exact in floats.
        n = int(x.shape[axis])
        y = torch.cat([torch.zeros_like(y.narrow(axis, 0, min(1, n))), y.narrow(axis, 0, max(n - 1, 0))], axis)
    if layer.params["reverse"]:
        y = y.flip(axis)
    return [y.to(x.dtype)]


def _matrix_operand(layer: LayerRecord, t: Tensor, op: str, which: int) -> Tensor:
    if op == "VECTOR":
        if t.dim() < 1:
            raise layer_error(layer, f"input {which} must have at least one dimension for MatrixOperation.VECTOR")
        # The first operand's vectors are rows [.., 1, K], the second's columns [.., K, 1].
        return t.unsqueeze(-2) if which == 0 else t.unsqueeze(-1)
    if t.dim() < 2:
        raise layer_error(layer, f"input {which} must have at least two dimensions for MatrixOperation.{op}")
    return t.transpose(-1, -2) if op == "TRANSPOSE" else t


@register("MATRIX_MULTIPLY")
def _matrix_multiply(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    a, b = need(layer, inputs, 0), need(layer, inputs, 1)
    ops = ["NONE", "TRANSPOSE", "VECTOR"]
    op0 = enum_param(layer, "op0", "MatrixOperation", ops)
    op1 = enum_param(layer, "op1", "MatrixOperation", ops)
    if a.dtype != b.dtype:
        raise layer_error(layer, f"input types differ: {a.dtype} and {b.dtype}")
    require_dtype(layer, a, FLOATING, "MatrixMultiply")
    am = _matrix_operand(layer, widen(a), op0, 0)
    bm = _matrix_operand(layer, widen(b), op1, 1)
    # Batch dimensions: same count on both sides, each equal or 1 (no NumPy-style rank extension).
    if am.dim() != bm.dim():
        raise layer_error(layer, f"operands have different numbers of batch dimensions: {a.shape} and {b.shape}")
    for d in range(am.dim() - 2):
        if am.shape[d] != bm.shape[d] and 1 not in (am.shape[d], bm.shape[d]):
            raise layer_error(layer, f"batch dimension {d} does not broadcast: {a.shape} and {b.shape}")
    if am.shape[-1] != bm.shape[-2]:
        raise layer_error(layer, f"inner dimensions differ: {tuple(a.shape)} and {tuple(b.shape)}")
    y = torch.matmul(am, bm)
    if op1 == "VECTOR":
        y = y.squeeze(-1)
    if op0 == "VECTOR":
        y = y.squeeze(-1 if op1 == "VECTOR" else -2)
    return [y.to(a.dtype)]


@register("EINSUM")
def _einsum(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    tensors = [need(layer, inputs, i) for i in range(len(inputs))]
    if len({t.dtype for t in tensors}) != 1:
        raise layer_error(layer, f"input types differ: {[t.dtype for t in tensors]}")
    require_dtype(layer, tensors[0], FLOATING, "Einsum")
    y = torch.einsum(str(layer.params["equation"]), *[widen(t) for t in tensors])
    return [y.to(tensors[0].dtype)]
