"""Converters: embedding_bag (F.embedding_bag, nn.EmbeddingBag) — sum, mean or max of embeddings per bag.

Bag ``b`` holds the indices at positions ``offsets[b] <= j < offsets[b + 1]`` (the last bag ends at the
end of ``indices`` unless ``include_last_offset``). Membership is a (bags x indices) mask built from
position comparisons, so offsets may be graph inputs and every length may be dynamic: a sum is the mask
(times per-sample weights) multiplied with the gathered embeddings, a mean divides by the member count,
a max reduces the embeddings masked with -inf. Entries equal to ``padding_idx`` belong to no bag, and
an empty bag is all zeros, as in torch. Only the pooled output is produced; the other three outputs
(offset2bag, bag sizes, argmax) feed the backward pass.
"""

from __future__ import annotations

import operator
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
    get_trt_tensor,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    concat,
    dims_of,
    int_tensor,
    narrow,
    shape_math,
    unsqueeze,
)
from torch_tensorrt.dynamo.conversion.converters.linear import matmul
from torch_tensorrt.dynamo.conversion.converters.reduction import iota, reduce

aten = torch.ops.aten
EW = trt.ElementWiseOperation
SUM, MEAN, MAX = 0, 1, 2
BAG_OPS = [
    aten._embedding_bag.default,
    aten._embedding_bag_forward_only.default,
    aten.embedding_bag.default,
    aten.embedding_bag.padding_idx,
]


def _bag_args(args: Any, kwargs: Any) -> tuple[int, Any, bool, int | None]:
    """(mode, per_sample_weights, include_last_offset, padding_idx or None)."""
    padding = arg(args, kwargs, 8, "padding_idx", None)
    # The aten ops spell "no padding index" as -1 (F.embedding_bag has made negative ones positive).
    padding = None if padding is None or padding < 0 else int(padding)
    return (
        int(arg(args, kwargs, 4, "mode", SUM)),
        arg(args, kwargs, 6, "per_sample_weights"),
        bool(arg(args, kwargs, 7, "include_last_offset", False)),
        padding,
    )


def _bag_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    vals = [a.meta.get("val") if isinstance(a, torch.fx.Node) else a for a in node.args[:3]]
    if not all(isinstance(v, torch.Tensor) for v in vals):
        return False
    weight, indices, offsets = vals
    mode, _, _, _ = _bag_args(node.args, node.kwargs)
    return (
        weight.dim() == 2
        and weight.dtype in (torch.float32, torch.float16, torch.bfloat16)
        and indices.dim() == 1
        and offsets.dim() == 1
        and mode in (SUM, MEAN, MAX)
        # Only the pooled embeddings: the other outputs serve the backward pass.
        and all(u.target is operator.getitem and u.args[1] == 0 for u in node.users)
    )


def _membership(
    ctx: ConversionContext, indices: Any, offsets: Any, include_last: bool, padding: int | None, name: str
) -> Any:
    """bool (bags x indices): does position j of ``indices`` belong to bag b?"""
    count = dims_of(ctx, indices, f"{name}_indices")[0]
    n_offsets = dims_of(ctx, offsets, f"{name}_offsets")[0]
    bags = shape_math(ctx, EW.SUB, n_offsets, 1, f"{name}_bags") if include_last else n_offsets
    starts = narrow(ctx, offsets, 0, 0, bags, f"{name}_starts")
    ends = narrow(ctx, offsets, 0, 1, shape_math(ctx, EW.SUB, n_offsets, 1, f"{name}_inner"), f"{name}_ends")
    if not include_last:
        # The last bag runs to the end of the indices.
        ends = concat(ctx, [ends, int_tensor(ctx, count, f"{name}_n")], 0, f"{name}_ends")
    positions = unsqueeze(ctx, cast_trt_tensor(ctx, iota(ctx, indices, 0, name), torch.int64, name), 0, f"{name}_pos")
    after_start = _not(
        ctx,
        add_binary(ctx, EW.LESS, positions, unsqueeze(ctx, starts, 1, f"{name}_s"), f"{name}_lt_start"),
        f"{name}_ge",
    )
    before_end = add_binary(ctx, EW.LESS, positions, unsqueeze(ctx, ends, 1, f"{name}_e"), f"{name}_lt")
    member = add_binary(ctx, EW.AND, after_start, before_end, f"{name}_member")
    if padding is not None:
        is_pad = add_binary(
            ctx, EW.EQUAL, indices, create_constant(ctx, torch.tensor([padding]), f"{name}_pad"), f"{name}_is_pad"
        )
        member = add_binary(
            ctx,
            EW.AND,
            member,
            _not(ctx, unsqueeze(ctx, is_pad, 0, f"{name}_pad_row"), f"{name}_kept"),
            f"{name}_unpadded",
        )
    return member


def _not(ctx: ConversionContext, x: Any, name: str) -> Any:
    layer = ctx.net.add_unary(x, trt.UnaryOperation.NOT)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _where(ctx: ConversionContext, cond: Any, a: Any, b: Any, name: str) -> Any:
    layer = ctx.net.add_select(cond, a, b)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


@dynamo_tensorrt_converter(BAG_OPS, capability_validator=_bag_ok)
def aten_ops_embedding_bag(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    weight = get_trt_tensor(ctx, args[0], f"{name}_weight")
    indices = get_trt_tensor(ctx, args[1], f"{name}_indices", torch.int64)
    offsets = get_trt_tensor(ctx, args[2], f"{name}_offsets", torch.int64)
    mode, per_sample, include_last, padding = _bag_args(args, kwargs)
    dtype = dtype_of(weight)
    layer = ctx.net.add_gather(weight, indices, 0)
    set_layer_name(layer, ctx.unique_name(f"{name}_rows"))
    rows = layer.get_output(0)  # (indices, dim)
    member = _membership(ctx, indices, offsets, include_last, padding, name)  # (bags, indices)
    counts = reduce(ctx, cast_trt_tensor(ctx, member, dtype, name), trt.ReduceOperation.SUM, [1], True, f"{name}_count")
    zero = create_constant(ctx, torch.zeros((1, 1), dtype=dtype), f"{name}_zero")
    if mode == MAX:
        lowest = create_constant(ctx, torch.full((1, 1, 1), float("-inf"), dtype=dtype), f"{name}_lowest")
        masked = _where(
            ctx,
            unsqueeze(ctx, member, 2, f"{name}_m3"),
            unsqueeze(ctx, rows, 0, f"{name}_r3"),
            lowest,
            f"{name}_masked",
        )
        pooled = reduce(ctx, masked, trt.ReduceOperation.MAX, [1], False, f"{name}_max")
        # An empty bag (or one of padding only) is zeros, not -inf.
        return (
            _where(ctx, add_binary(ctx, EW.GREATER, counts, zero, f"{name}_nonempty"), pooled, zero, name),
            None,
            None,
            None,
        )
    weights = cast_trt_tensor(ctx, member, dtype, f"{name}_weights")
    if per_sample is not None:
        sample = get_trt_tensor(ctx, per_sample, f"{name}_per_sample", dtype)
        weights = add_binary(ctx, EW.PROD, weights, unsqueeze(ctx, sample, 0, f"{name}_ps"), f"{name}_weighted")
    pooled = matmul(ctx, weights, rows, f"{name}_sum", dtype=dtype)
    if mode == MEAN:
        one = create_constant(ctx, torch.ones((1, 1), dtype=dtype), f"{name}_one")
        pooled = add_binary(
            ctx, EW.DIV, pooled, add_binary(ctx, EW.MAX, counts, one, f"{name}_atleast1"), f"{name}_mean"
        )
    return pooled, None, None, None
