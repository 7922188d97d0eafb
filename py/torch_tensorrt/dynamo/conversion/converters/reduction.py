"""Converters: reductions (sum, mean, prod, amax/amin, max/min, var/std, any/all, argmax/argmin)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    add_unary,
    arg,
    axes_mask,
    cast_trt_tensor,
    create_constant,
    dim_size,
    dtype_of,
    get_positive_dim,
    output_dtype,
    prepend_ones,
    reshape,
    set_layer_name,
)

aten = torch.ops.aten
Op = trt.ElementWiseOperation
R = trt.ReduceOperation
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def reduce_dims(dim: Any, rank: int) -> list[int]:
    """torch's ``dim`` argument as sorted positive axes; None and [] both mean every dim."""
    if rank == 0:
        return []  # dim 0 / -1 of a 0-d tensor name the tensor itself
    if dim is None:
        dims: list[int] = []
    elif isinstance(dim, int):
        dims = [dim]
    else:
        dims = [int(d) for d in dim]
    if not dims:
        return list(range(rank))
    return sorted({get_positive_dim(d, rank) for d in dims})


def reduce(ctx: ConversionContext, x: TRTTensor, op: Any, dims: Sequence[int], keepdim: bool, name: str) -> TRTTensor:
    """One reduce layer over ``dims`` (positive); booleans are reduced as int32."""
    if not dims:
        return x  # a 0-d tensor: nothing to reduce
    dtype = dtype_of(x)
    if dtype == torch.bool:
        x = cast_trt_tensor(ctx, x, torch.int32, name)
    layer = ctx.net.add_reduce(x, op, axes_mask(dims, len(x.shape)), keepdim)
    set_layer_name(layer, ctx.unique_name(name))
    return cast_trt_tensor(ctx, layer.get_output(0), dtype, name)


def scalar_like(ctx: ConversionContext, value: float | int, like: TRTTensor, name: str) -> TRTTensor:
    """A constant of ``like``'s dtype and rank (all dims 1), ready for an elementwise layer."""
    const = create_constant(ctx, torch.tensor(value), name, dtype_of(like))
    return prepend_ones(ctx, const, len(like.shape), name)


def _input_dtype(node: torch.fx.Node) -> torch.dtype | None:
    val = node.args[0].meta.get("val")
    return val.dtype if isinstance(val, torch.Tensor) else None


# ---- sum / mean / prod / amax / amin / max / min -----------------------------------------------


def _simple_reduce(ctx: ConversionContext, args: Any, kwargs: Any, name: str, op: Any, dim_index: int | None) -> Any:
    x = args[0]
    rank = len(x.shape)
    dim = None if dim_index is None else arg(args, kwargs, dim_index, "dim", None)
    keepdim = False if dim_index is None else bool(arg(args, kwargs, dim_index + 1, "keepdim", False))
    # The result dtype (dtype=..., or int/bool sums widening to int64) is also the accumulation dtype.
    x = cast_trt_tensor(ctx, x, output_dtype(ctx) or dtype_of(x), name)
    return reduce(ctx, x, op, reduce_dims(dim, rank), keepdim, name)


@dynamo_tensorrt_converter([aten.sum.dim_IntList, aten.sum.default])
def aten_ops_sum(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _simple_reduce(ctx, args, kwargs, name, R.SUM, 1 if target is aten.sum.dim_IntList else None)


@dynamo_tensorrt_converter([aten.mean.dim, aten.mean.default])
def aten_ops_mean(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _simple_reduce(ctx, args, kwargs, name, R.AVG, 1 if target is aten.mean.dim else None)


@dynamo_tensorrt_converter([aten.prod.dim_int, aten.prod.default])
def aten_ops_prod(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _simple_reduce(ctx, args, kwargs, name, R.PROD, 1 if target is aten.prod.dim_int else None)


@dynamo_tensorrt_converter([aten.amax.default, aten.max.default])
def aten_ops_amax(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _simple_reduce(ctx, args, kwargs, name, R.MAX, 1 if target is aten.amax.default else None)


@dynamo_tensorrt_converter([aten.amin.default, aten.min.default])
def aten_ops_amin(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _simple_reduce(ctx, args, kwargs, name, R.MIN, 1 if target is aten.amin.default else None)


# ---- var / std -------------------------------------------------------------------------------


def _element_count(ctx: ConversionContext, x: TRTTensor, dims: Sequence[int], name: str) -> TRTTensor:
    """Number of elements in the reduced ``dims`` as an fp32 constant or shape computation."""
    sizes = [x.shape[d] for d in dims]
    if all(s >= 0 for s in sizes):
        count = 1
        for s in sizes:
            count *= s
        return create_constant(ctx, torch.tensor(float(count)), f"{name}_count")
    total = dim_size(ctx, x, dims[0], name)
    for d in dims[1:]:
        total = add_binary(ctx, Op.PROD, total, dim_size(ctx, x, d, name), f"{name}_count")
    # 0-d, so that it broadcasts against any result rank (also a 0-d one).
    return reshape(ctx, cast_trt_tensor(ctx, total, torch.float32, f"{name}_count"), [], f"{name}_count")


def variance(
    ctx: ConversionContext, x: TRTTensor, dims: Sequence[int], correction: float, keepdim: bool, name: str
) -> TRTTensor:
    """sum((x - mean)^2) / (N - correction), computed in fp32 like torch's fp16/bf16 kernels."""
    x = cast_trt_tensor(ctx, x, torch.float32, name)
    if not dims:
        dims, x = [0], prepend_ones(ctx, x, 1, name)  # a 0-d tensor is one sample
        keepdim = True
        squeeze = True
    else:
        squeeze = False
    centered = add_binary(ctx, Op.SUB, x, reduce(ctx, x, R.AVG, dims, True, f"{name}_mean"), f"{name}_center")
    squares = add_binary(ctx, Op.PROD, centered, centered, f"{name}_square")
    total = reduce(ctx, squares, R.SUM, dims, keepdim, f"{name}_sum")
    count = _element_count(ctx, x, dims, name)
    if correction:
        count = add_binary(ctx, Op.SUB, count, create_constant(ctx, torch.tensor(float(correction)), f"{name}_c"), name)
    var = add_binary(ctx, Op.DIV, total, count, f"{name}_var")
    return reshape(ctx, var, [], f"{name}_scalar") if squeeze else var


def _var_args(args: Any, kwargs: Any) -> tuple[Any, float, bool]:
    dim = arg(args, kwargs, 1, "dim", None)
    correction = kwargs.get("correction")
    return dim, 1.0 if correction is None else float(correction), bool(kwargs.get("keepdim", False))


def _float_input(node: torch.fx.Node, settings: object) -> bool:
    return _input_dtype(node) in FLOATS


@dynamo_tensorrt_converter([aten.var.correction, aten.std.correction], capability_validator=_float_input)
def aten_ops_var(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = args[0]
    dim, correction, keepdim = _var_args(args, kwargs)
    dims = reduce_dims(dim, len(x.shape))
    out = variance(ctx, x, dims, correction, keepdim, name)
    if target is aten.std.correction:
        out = add_unary(ctx, trt.UnaryOperation.SQRT, out, f"{name}_sqrt")
    return cast_trt_tensor(ctx, out, dtype_of(x), name)


@dynamo_tensorrt_converter(aten.var_mean.correction, capability_validator=_float_input)
def aten_ops_var_mean(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = args[0]
    dim, correction, keepdim = _var_args(args, kwargs)
    dims = reduce_dims(dim, len(x.shape))
    var = cast_trt_tensor(ctx, variance(ctx, x, dims, correction, keepdim, name), dtype_of(x), name)
    return var, reduce(ctx, x, R.AVG, dims, keepdim, f"{name}_mean")


# ---- any / all ---------------------------------------------------------------------------------


def _truth(ctx: ConversionContext, x: TRTTensor, name: str) -> TRTTensor:
    """``x != 0`` as bool (NaN counts as true, like torch)."""
    if dtype_of(x) == torch.bool:
        return x
    is_zero = add_binary(ctx, Op.EQUAL, x, scalar_like(ctx, 0, x, f"{name}_zero"), f"{name}_is_zero")
    return add_unary(ctx, trt.UnaryOperation.NOT, is_zero, f"{name}_nonzero")


def _any_all(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str, op: Any) -> Any:
    x = args[0]
    dim = arg(args, kwargs, 1, "dim", None)  # any.default has none: every dim
    keepdim = bool(arg(args, kwargs, 2, "keepdim", False))
    truth = cast_trt_tensor(ctx, _truth(ctx, x, name), torch.int32, name)
    out = reduce(ctx, truth, op, reduce_dims(dim, len(x.shape)), keepdim, name)
    return cast_trt_tensor(ctx, out, torch.bool, name)


def _bool_result(node: torch.fx.Node, settings: object) -> bool:
    # any/all on uint8 return uint8 in torch; only the bool result is converted.
    val = node.meta.get("val")
    return isinstance(val, torch.Tensor) and val.dtype == torch.bool


@dynamo_tensorrt_converter([aten.any.default, aten.any.dim, aten.any.dims], capability_validator=_bool_result)
def aten_ops_any(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _any_all(ctx, target, args, kwargs, name, R.MAX)


@dynamo_tensorrt_converter([aten.all.default, aten.all.dim, aten.all.dims], capability_validator=_bool_result)
def aten_ops_all(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _any_all(ctx, target, args, kwargs, name, R.MIN)


# ---- argmax / argmin / max.dim / min.dim -----------------------------------------------------


def iota(ctx: ConversionContext, x: TRTTensor, axis: int, name: str) -> TRTTensor:
    """0, 1, ..., n-1 (int32) along ``axis`` of ``x``, shaped [1, .., n, .., 1]."""
    rank = len(x.shape)
    n = x.shape[axis]
    if n >= 0:
        view = [1] * rank
        view[axis] = n
        return create_constant(ctx, torch.arange(n, dtype=torch.int32).reshape(view), f"{name}_iota")
    layer = ctx.net.add_fill((0,), trt.FillOperation.LINSPACE, trt.int32)
    layer.set_input(0, dim_size(ctx, x, axis, name))
    layer.set_input(1, create_constant(ctx, torch.tensor(0, dtype=torch.int32), f"{name}_start"))
    layer.set_input(2, create_constant(ctx, torch.tensor([1], dtype=torch.int32), f"{name}_delta"))
    set_layer_name(layer, ctx.unique_name(f"{name}_iota"))
    iota = layer.get_output(0)
    before = prepend_ones(ctx, iota, axis, f"{name}_iota")
    # Trailing ones: reshape with copies (0) of the leading dims, then explicit ones.
    shuffle = ctx.net.add_shuffle(before)
    shuffle.reshape_dims = (0,) * (axis + 1) + (1,) * (rank - axis - 1)
    set_layer_name(shuffle, ctx.unique_name(f"{name}_iota_view"))
    return shuffle.get_output(0)


def arg_extreme(
    ctx: ConversionContext, x: TRTTensor, axis: int, keepdim: bool, largest: bool, name: str
) -> tuple[TRTTensor, TRTTensor]:
    """(values, int64 indices) of the max/min along ``axis``; ties give the FIRST index, as in torch.

    TopK does not document which of equal elements it returns, so the index is the smallest position
    whose value equals the extreme instead.
    """
    op = R.MAX if largest else R.MIN
    extreme = reduce(ctx, x, op, [axis], True, f"{name}_extreme")
    hit = add_binary(ctx, Op.EQUAL, x, extreme, f"{name}_hit")
    positions = iota(ctx, x, axis, name)
    beyond = create_constant(ctx, torch.tensor(2**31 - 1, dtype=torch.int32), f"{name}_beyond")
    beyond = prepend_ones(ctx, beyond, len(x.shape), f"{name}_beyond")
    layer = ctx.net.add_select(hit, positions, beyond)
    set_layer_name(layer, ctx.unique_name(f"{name}_positions"))
    index = reduce(ctx, layer.get_output(0), R.MIN, [axis], keepdim, f"{name}_first")
    values = extreme if keepdim else reduce(ctx, x, op, [axis], False, f"{name}_values")
    return values, cast_trt_tensor(ctx, index, torch.int64, f"{name}_index")


def _arg_supported(node: torch.fx.Node, settings: object) -> bool:
    # Booleans have no TensorRT comparison; integers and floats compare exactly.
    return _input_dtype(node) in (*FLOATS, torch.int32, torch.int64)


def _argmax(ctx: ConversionContext, args: Any, kwargs: Any, name: str, largest: bool) -> Any:
    x = args[0]
    dim = arg(args, kwargs, 1, "dim", None)
    keepdim = bool(arg(args, kwargs, 2, "keepdim", False))
    rank = len(x.shape)
    if rank == 0:
        return create_constant(ctx, torch.tensor(0, dtype=torch.int64), f"{name}_zero")
    if dim is None:
        # Over the flattened tensor; keepdim keeps every dim as 1.
        flat = reshape(ctx, x, [-1], f"{name}_flat")
        _, index = arg_extreme(ctx, flat, 0, False, largest, name)
        return reshape(ctx, index, [1] * rank, f"{name}_keep") if keepdim else index
    return arg_extreme(ctx, x, get_positive_dim(dim, rank), keepdim, largest, name)[1]


@dynamo_tensorrt_converter(aten.argmax.default, capability_validator=_arg_supported)
def aten_ops_argmax(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _argmax(ctx, args, kwargs, name, True)


@dynamo_tensorrt_converter(aten.argmin.default, capability_validator=_arg_supported)
def aten_ops_argmin(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _argmax(ctx, args, kwargs, name, False)


def _max_dim(ctx: ConversionContext, args: Any, kwargs: Any, name: str, largest: bool) -> Any:
    x = args[0]
    rank = len(x.shape)
    keepdim = bool(arg(args, kwargs, 2, "keepdim", False))
    if rank == 0:
        return x, create_constant(ctx, torch.tensor(0, dtype=torch.int64), f"{name}_zero")
    return arg_extreme(ctx, x, get_positive_dim(args[1], rank), keepdim, largest, name)


@dynamo_tensorrt_converter(aten.max.dim, capability_validator=_arg_supported)
def aten_ops_max_dim(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _max_dim(ctx, args, kwargs, name, True)


@dynamo_tensorrt_converter(aten.min.dim, capability_validator=_arg_supported)
def aten_ops_min_dim(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _max_dim(ctx, args, kwargs, name, False)
