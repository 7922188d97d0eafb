"""Converters: scatters that combine values — scatter_add, scatter_reduce.two — and masked_scatter.

TensorRT's Scatter layer overwrites, so several values landing on one position cannot be combined
by it. Instead, with ``dim`` moved last, a one-hot comparison ``index[..., j] == k`` (J x K per row)
selects which of the J values reach each of the K positions, and an ordinary reduction over j
combines them: sum, product, mean, max or min, then merged with ``self`` (or not: include_self).

masked_scatter writes the source's elements, in order, to the positions where the mask is True:
the exclusive running count of True positions is the source element each one takes.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    add_binary,
    arg,
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    prepend_ones,
    reshape,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    dims_of,
    expand_to,
    permute,
    shape_product,
    slice_tensor,
    unsqueeze,
)
from torch_tensorrt.dynamo.conversion.converters.reduction import reduce

aten = torch.ops.aten
EW = trt.ElementWiseOperation
R = trt.ReduceOperation
NUMERIC = (torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int64)
REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _vals(node: torch.fx.Node) -> list[Any]:
    return [
        a.meta.get("val") if isinstance(a, torch.fx.Node) else a for a in (node.args[0], node.args[2], node.args[3])
    ]


def _scatter_reduce_args(target: Any, args: Any, kwargs: Any) -> tuple[str, bool]:
    if target is aten.scatter_add.default:
        return "sum", True
    return str(arg(args, kwargs, 4, "reduce")), bool(arg(args, kwargs, 5, "include_self", True))


def _scatter_reduce_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    x, index, src = _vals(node)
    if not all(isinstance(v, torch.Tensor) for v in (x, index, src)) or x.dim() == 0:
        return False
    reduction, _ = _scatter_reduce_args(node.target, node.args, node.kwargs)
    dim = get_positive_dim(node.args[1], x.dim())
    same_rows = all(i == s for d, (i, s) in enumerate(zip(index.shape, x.shape)) if d != dim)
    return (
        reduction in REDUCTIONS
        and x.dtype in NUMERIC
        and (reduction != "mean" or x.dtype.is_floating_point)  # torch floors integer means
        and isinstance(x.shape[dim], int)  # the K one-hot columns
        and same_rows  # index covers every row of self (a partial corner is left to PyTorch)
        and index.dim() == x.dim() == src.dim()
    )


def _extreme(dtype: torch.dtype, largest: bool) -> float | int:
    """The identity of max (largest=False gives min's): -inf / +inf, or the integer limits."""
    if dtype.is_floating_point:
        return float("-inf") if not largest else float("inf")
    info = torch.iinfo(dtype)
    return info.min if not largest else info.max


def _fill(ctx: ConversionContext, value: float | int, dtype: torch.dtype, rank: int, name: str) -> Any:
    return prepend_ones(ctx, create_constant(ctx, torch.tensor(value, dtype=dtype), name), rank, name)


def _select(ctx: ConversionContext, cond: Any, a: Any, b: Any, name: str) -> Any:
    layer = ctx.net.add_select(cond, a, b)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _combine(
    ctx: ConversionContext, x: Any, hot: Any, values: Any, reduction: str, include_self: bool, name: str
) -> Any:
    """Merge the values selected by ``hot`` (..., J, K) into ``x`` (..., K)."""
    dtype, rank = dtype_of(x), len(hot.shape)
    count = reduce(ctx, cast_trt_tensor(ctx, hot, dtype, f"{name}_hits"), R.SUM, [rank - 2], False, f"{name}_count")
    hit = add_binary(ctx, EW.GREATER, count, _fill(ctx, 0, dtype, rank - 1, f"{name}_zero"), f"{name}_hit")
    identity = {"sum": 0, "mean": 0, "prod": 1, "amax": _extreme(dtype, False), "amin": _extreme(dtype, True)}[
        reduction
    ]
    op = {"sum": R.SUM, "mean": R.SUM, "prod": R.PROD, "amax": R.MAX, "amin": R.MIN}[reduction]
    chosen = _select(ctx, hot, values, _fill(ctx, identity, dtype, rank, f"{name}_identity"), f"{name}_chosen")
    combined = reduce(ctx, chosen, op, [rank - 2], False, f"{name}_{reduction}")
    if reduction == "mean":
        if include_self:
            total = add_binary(ctx, EW.SUM, x, combined, f"{name}_with_self")
            return add_binary(
                ctx,
                EW.DIV,
                total,
                add_binary(ctx, EW.SUM, count, _fill(ctx, 1, dtype, rank - 1, f"{name}_one"), f"{name}_n"),
                f"{name}_mean",
            )
        mean = add_binary(
            ctx,
            EW.DIV,
            combined,
            add_binary(ctx, EW.MAX, count, _fill(ctx, 1, dtype, rank - 1, f"{name}_one"), f"{name}_n"),
            f"{name}_mean",
        )
        return _select(ctx, hit, mean, x, name)
    if not include_self:
        return _select(ctx, hit, combined, x, name)
    merge = {"sum": EW.SUM, "prod": EW.PROD, "amax": EW.MAX, "amin": EW.MIN}[reduction]
    return add_binary(ctx, merge, x, combined, name)


@dynamo_tensorrt_converter([aten.scatter_add.default, aten.scatter_reduce.two], capability_validator=_scatter_reduce_ok)
def aten_ops_scatter_reduce(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dtype, rank = dtype_of(x), len(x.shape)
    dim = get_positive_dim(args[1], rank)
    index = get_trt_tensor(ctx, args[2], f"{name}_index", torch.int64)
    src = get_trt_tensor(ctx, args[3], f"{name}_src", dtype)
    # Only the corner of src that index covers is read.
    src = slice_tensor(ctx, src, [0] * rank, dims_of(ctx, index, f"{name}_index"), [1] * rank, f"{name}_src")
    reduction, include_self = _scatter_reduce_args(target, args, kwargs)
    order = [d for d in range(rank) if d != dim] + [dim]
    x, index, src = (permute(ctx, t, order, f"{name}_{w}") for t, w in ((x, "x"), (index, "i"), (src, "s")))
    columns = int(x.shape[-1])
    positions = create_constant(ctx, torch.arange(columns, dtype=torch.int64), f"{name}_k")
    hot = add_binary(ctx, EW.EQUAL, unsqueeze(ctx, index, -1, f"{name}_i"), positions, f"{name}_hot")  # (..., J, K)
    out = _combine(ctx, x, hot, unsqueeze(ctx, src, -1, f"{name}_s"), reduction, include_self, name)
    return permute(ctx, out, [order.index(d) for d in range(rank)], f"{name}_back")


# ---------------------------------------------------------------------------------------------
# masked_scatter
# ---------------------------------------------------------------------------------------------


def _masked_scatter_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    x, mask, src = (a.meta.get("val") for a in node.args[:3])
    return (
        all(isinstance(v, torch.Tensor) for v in (x, mask, src))
        and mask.dtype == torch.bool
        and x.dtype in (*NUMERIC, torch.bool)
        and mask.dim() <= x.dim()
    )


@dynamo_tensorrt_converter(aten.masked_scatter.default, capability_validator=_masked_scatter_ok)
def aten_ops_masked_scatter(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dims = dims_of(ctx, x, name)
    total = shape_product(ctx, dims, f"{name}_total")
    mask = expand_to(ctx, get_trt_tensor(ctx, args[1], f"{name}_mask", torch.bool), dims, f"{name}_mask")
    flat_mask = reshape(ctx, mask, [total], f"{name}_flat_mask")
    # The k-th True position (in row-major order) takes the source's k-th element.
    axis = create_constant(ctx, torch.tensor(0, dtype=torch.int32), f"{name}_axis")
    layer = ctx.net.add_cumulative(
        cast_trt_tensor(ctx, flat_mask, torch.int32, name), axis, trt.CumulativeOperation.SUM, True, False
    )
    set_layer_name(layer, ctx.unique_name(f"{name}_rank"))
    src = get_trt_tensor(ctx, args[2], f"{name}_src", dtype_of(x))
    flat_src = reshape(
        ctx, src, [shape_product(ctx, dims_of(ctx, src, f"{name}_src"), f"{name}_src_total")], f"{name}_flat_src"
    )
    gather = ctx.net.add_gather(flat_src, layer.get_output(0), 0)
    set_layer_name(gather, ctx.unique_name(f"{name}_take"))
    flat_x = reshape(ctx, x, [total], f"{name}_flat_x")
    return reshape(ctx, _select(ctx, flat_mask, gather.get_output(0), flat_x, f"{name}_write"), dims, name)
