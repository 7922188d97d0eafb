"""Converters: slicing (slice.Tensor, select.int, narrow) and writes into slices (copy, slice_scatter).

Bounds follow Python slicing: negative starts/ends count from the end and everything is clamped to
the dim, so ``x[:, 1:]`` (end = INT64_MAX) and ``x[:, : x.shape[1] - 1]`` (end a shape tensor) both
work with static and dynamic dims.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._kv_cache_writes import emit_kv_cache_update
from torch_tensorrt.dynamo.conversion.converter_utils import (
    add_binary,
    arg,
    create_constant,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    is_trt_tensor,
    prepend_ones,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    Dim,
    concat,
    dims_of,
    expand_to,
    int_tensor,
    is_static_int,
    narrow,
    shape_math,
    slice_tensor,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation


def _wrap_index(ctx: ConversionContext, value: Dim, size: Dim, name: str) -> Dim:
    """A negative position counts from the end (only shape tensors need a run-time test)."""
    if not is_trt_tensor(value):
        return shape_math(ctx, EW.SUM, value, size, f"{name}_wrap") if value < 0 else value
    value = int_tensor(ctx, value, f"{name}_v")
    zero = int_tensor(ctx, 0, f"{name}_zero")
    negative = ctx.net.add_elementwise(value, zero, EW.LESS)
    set_layer_name(negative, ctx.unique_name(f"{name}_negative"))
    wrapped = int_tensor(ctx, shape_math(ctx, EW.SUM, value, size, f"{name}_wrap"), f"{name}_w")
    layer = ctx.net.add_select(negative.get_output(0), wrapped, value)
    set_layer_name(layer, ctx.unique_name(f"{name}_select"))
    return layer.get_output(0)


def _clamp(ctx: ConversionContext, value: Dim, size: Dim, name: str) -> Dim:
    if is_static_int(value) and is_static_int(size):
        return min(max(value, 0), size)
    if is_static_int(value) and value <= 0:
        return 0
    return shape_math(ctx, EW.MAX, shape_math(ctx, EW.MIN, value, size, f"{name}_hi"), 0, f"{name}_lo")


def slice_bounds(ctx: ConversionContext, start: Any, end: Any, step: int, size: Dim, name: str) -> tuple[Dim, Dim]:
    """(first position, element count) of ``[start:end:step]`` over a dim of ``size``."""
    start = _clamp(ctx, _wrap_index(ctx, 0 if start is None else start, size, f"{name}_start"), size, f"{name}_start")
    if end is None or (is_static_int(end) and is_static_int(size) and end >= size):
        end = size
    else:
        end = _clamp(ctx, _wrap_index(ctx, end, size, f"{name}_end"), size, f"{name}_end")
    if start == 0 and step == 1 and end is size:
        return 0, size
    span = shape_math(ctx, EW.SUB, end, start, f"{name}_span")
    count = shape_math(ctx, EW.FLOOR_DIV, shape_math(ctx, EW.SUM, span, step - 1, f"{name}_round"), step, name)
    return start, shape_math(ctx, EW.MAX, count, 0, f"{name}_count")


def _slice_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    step = arg(node.args, node.kwargs, 4, "step", 1)
    return is_static_int(step) and step > 0


@dynamo_tensorrt_converter(aten.slice.Tensor, capability_validator=_slice_ok)
def aten_ops_slice(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    dim = get_positive_dim(arg(args, kwargs, 1, "dim", 0), rank)
    step = arg(args, kwargs, 4, "step", 1)
    dims = dims_of(ctx, x, name)
    start, count = slice_bounds(ctx, arg(args, kwargs, 2, "start"), arg(args, kwargs, 3, "end"), step, dims[dim], name)
    if (
        is_static_int(start)
        and start == 0
        and step == 1
        and (count is dims[dim] or (is_static_int(count) and count == x.shape[dim]))
    ):
        return x
    starts: list[Dim] = [0] * rank
    strides: list[Dim] = [1] * rank
    starts[dim], dims[dim], strides[dim] = start, count, step
    return slice_tensor(ctx, x, starts, dims, strides, name)


@dynamo_tensorrt_converter(aten.select.int)
def aten_ops_select(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(args[1], len(x.shape))
    size = dims_of(ctx, x, name)[dim]
    # A 0-D index makes the gather drop the dim, as select does.
    index = int_tensor(ctx, _wrap_index(ctx, args[2], size, f"{name}_index"), f"{name}_index", rank=0)
    layer = ctx.net.add_gather(x, index, dim)
    set_layer_name(layer, ctx.unique_name(f"{name}_gather"))
    return layer.get_output(0)


@dynamo_tensorrt_converter(aten.narrow.default)
def aten_ops_narrow(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(args[1], len(x.shape))
    start = _wrap_index(ctx, args[2], dims_of(ctx, x, name)[dim], f"{name}_start")
    return narrow(ctx, x, dim, start, args[3], name)


# ---------------------------------------------------------------------------------------------
# Writes into a copy: ``x[..., a:b] = v`` is slice + copy + slice_scatter after functionalization
# ---------------------------------------------------------------------------------------------


@dynamo_tensorrt_converter(aten.copy.default)
def aten_ops_copy(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # copy(self, src) is src broadcast to self's shape in self's dtype; self's values are unused.
    x = get_trt_tensor(ctx, args[0], name)
    src = get_trt_tensor(ctx, args[1], f"{name}_src", dtype_of(x))
    return expand_to(ctx, src, dims_of(ctx, x, name), name)


def _slice_scatter_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    step = arg(node.args, node.kwargs, 5, "step", 1)
    if not is_static_int(step) or step < 1:
        return False
    if step == 1:
        return True
    # A strided write scatters positions start + step * i: their count must be known.
    src = node.args[1].meta.get("val")
    dim = arg(node.args, node.kwargs, 2, "dim", 0)
    return isinstance(src, torch.Tensor) and is_static_int(src.shape[get_positive_dim(dim, src.dim())])


@dynamo_tensorrt_converter(aten.slice_scatter.default, capability_validator=_slice_scatter_ok)
def aten_ops_slice_scatter(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    in_place = emit_kv_cache_update(ctx, ctx.current_node, x, args[1], None, name)
    if in_place is not None:  # a lifted buffer written in place (lift_mutable_buffers)
        return in_place
    src = get_trt_tensor(ctx, args[1], f"{name}_src", dtype_of(x))
    rank = len(x.shape)
    dim = get_positive_dim(arg(args, kwargs, 2, "dim", 0), rank)
    step = arg(args, kwargs, 5, "step", 1)
    size = dims_of(ctx, x, name)[dim]
    start, count = slice_bounds(ctx, arg(args, kwargs, 3, "start"), arg(args, kwargs, 4, "end"), step, size, name)
    if step > 1:
        return _strided_scatter(ctx, x, src, dim, start, step, name)
    # A contiguous range: what comes before it, the new values, what comes after it.
    end = shape_math(ctx, EW.SUM, start, count, f"{name}_end")
    pieces = [narrow(ctx, x, dim, 0, start, f"{name}_before")] if not (is_static_int(start) and start == 0) else []
    pieces.append(src)
    if not (is_static_int(end) and is_static_int(size) and end == size):
        rest = shape_math(ctx, EW.SUB, size, end, f"{name}_rest")
        pieces.append(narrow(ctx, x, dim, end, rest, f"{name}_after"))
    return concat(ctx, pieces, dim, name)


def _strided_scatter(ctx: ConversionContext, x: Any, src: Any, dim: int, start: Dim, step: int, name: str) -> Any:
    """Positions start + step * i along ``dim`` take src's slice i (one ScatterElements layer)."""
    count = int(src.shape[dim])
    view = [1] * len(src.shape)
    view[dim] = count
    offsets = torch.arange(count, dtype=torch.int64) * step
    if is_static_int(start):
        positions = create_constant(ctx, (offsets + start).reshape(view), f"{name}_positions")
    else:
        first = prepend_ones(ctx, int_tensor(ctx, start, f"{name}_start"), len(view) - 1, f"{name}_start")
        offset_t = create_constant(ctx, offsets.reshape(view), f"{name}_offsets")
        positions = add_binary(ctx, EW.SUM, offset_t, first, f"{name}_positions")
    index = expand_to(ctx, positions, dims_of(ctx, src, f"{name}_src"), f"{name}_index")
    layer = ctx.net.add_scatter(x, index, src, trt.ScatterMode.ELEMENT)
    layer.axis = dim
    set_layer_name(layer, ctx.unique_name(f"{name}_scatter"))
    return layer.get_output(0)
