"""Shape helpers the shape, slicing, indexing, creation and SymInt converter families share.

A size is a ``Dim``: a Python int when known at build time, else a 1-element int64 shape tensor.
Sizes stay Python ints wherever possible so static graphs get static layer parameters.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion.converter_utils import (
    cast_trt_tensor,
    create_constant,
    dim_size,
    get_positive_dim,
    is_trt_tensor,
    prepend_ones,
    reshape,
    set_layer_name,
    shape_tensor_from_dims,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation
Dim = Any  # int | ITensor (1-element int64)

_FOLD = {
    EW.SUM: operator.add,
    EW.SUB: operator.sub,
    EW.PROD: operator.mul,
    EW.FLOOR_DIV: operator.floordiv,
    EW.MAX: max,
    EW.MIN: min,
}


def int_tensor(ctx: ConversionContext, value: Dim, name: str, rank: int = 1) -> Any:
    """``value`` as an int64 tensor of ``rank`` 0 or 1 (one element)."""
    if not is_trt_tensor(value):
        return create_constant(ctx, torch.tensor([int(value)] if rank else int(value), dtype=torch.int64), name)
    value = cast_trt_tensor(ctx, value, torch.int64, name)
    if len(value.shape) == rank:
        return value
    return reshape(ctx, value, [1] if rank else [], f"{name}_rank{rank}")


def shape_math(ctx: ConversionContext, op: Any, a: Dim, b: Dim, name: str) -> Dim:
    """``a op b`` on sizes: folded in Python when both are known, else an int64 elementwise layer."""
    if not is_trt_tensor(a) and not is_trt_tensor(b):
        return _FOLD[op](int(a), int(b))
    # Identities keep the common static-offset cases free of layers.
    if not is_trt_tensor(b) and ((op in (EW.SUM, EW.SUB) and b == 0) or (op in (EW.PROD, EW.FLOOR_DIV) and b == 1)):
        return a
    if not is_trt_tensor(a) and ((op == EW.SUM and a == 0) or (op == EW.PROD and a == 1)):
        return b
    layer = ctx.net.add_elementwise(int_tensor(ctx, a, f"{name}_a"), int_tensor(ctx, b, f"{name}_b"), op)
    set_layer_name(layer, ctx.unique_name(f"{name}_{str(op).split('.')[-1].lower()}"))
    return layer.get_output(0)


def shape_product(ctx: ConversionContext, dims: Sequence[Dim], name: str) -> Dim:
    result: Dim = 1
    for d in dims:
        result = shape_math(ctx, EW.PROD, result, d, name)
    return result


def dims_of(ctx: ConversionContext, x: Any, name: str) -> list[Dim]:
    """Every dim of ``x``: ints where the network knows them, shape-tensor elements where dynamic."""
    return [d if d >= 0 else dim_size(ctx, x, i, f"{name}_size{i}") for i, d in enumerate(x.shape)]


def _dims_param(ctx: ConversionContext, layer: Any, index: int, attr: str, values: Sequence[Dim], name: str) -> None:
    if any(is_trt_tensor(v) for v in values):
        layer.set_input(index, shape_tensor_from_dims(ctx, values, f"{name}_{attr}"))
    else:
        setattr(layer, attr, tuple(int(v) for v in values))


def slice_tensor(
    ctx: ConversionContext,
    x: Any,
    start: Sequence[Dim],
    size: Sequence[Dim],
    stride: Sequence[Dim],
    name: str,
    mode: Any = None,
    fill: Any = None,
) -> Any:
    """An ISliceLayer over every dim of ``x``; parameters may mix ints and shape tensors."""
    rank = len(x.shape)
    layer = ctx.net.add_slice(x, (0,) * rank, (1,) * rank, (1,) * rank)
    _dims_param(ctx, layer, 1, "start", start, name)
    _dims_param(ctx, layer, 2, "shape", size, name)
    _dims_param(ctx, layer, 3, "stride", stride, name)
    if mode is not None:
        layer.mode = mode
    if fill is not None:
        layer.set_input(4, fill)
    set_layer_name(layer, ctx.unique_name(f"{name}_slice"))
    return layer.get_output(0)


def expand_to(ctx: ConversionContext, x: Any, shape: Sequence[Dim], name: str) -> Any:
    """Broadcast ``x`` to ``shape`` (numpy rules; ``x`` dims of static size 1 are repeated)."""
    x = prepend_ones(ctx, x, len(shape) - len(x.shape), name)
    stride = [0 if d == 1 else 1 for d in x.shape]
    if all(not is_trt_tensor(t) and t == d for t, d in zip(shape, x.shape)):
        return x
    return slice_tensor(ctx, x, [0] * len(shape), shape, stride, f"{name}_expand")


def permute(ctx: ConversionContext, x: Any, perm: Sequence[int], name: str) -> Any:
    perm = [get_positive_dim(p, len(x.shape)) for p in perm]
    if perm == list(range(len(perm))):
        return x
    layer = ctx.net.add_shuffle(x)
    layer.first_transpose = trt.Permutation(perm)
    set_layer_name(layer, ctx.unique_name(f"{name}_permute"))
    return layer.get_output(0)


def unsqueeze(ctx: ConversionContext, x: Any, dim: int, name: str) -> Any:
    axes = create_constant(
        ctx, torch.tensor([get_positive_dim(dim, len(x.shape) + 1)], dtype=torch.int64), f"{name}_axes"
    )
    layer = ctx.net.add_unsqueeze(x, axes)
    set_layer_name(layer, ctx.unique_name(f"{name}_unsqueeze"))
    return layer.get_output(0)


def squeeze(ctx: ConversionContext, x: Any, dims: Sequence[int], name: str) -> Any:
    """Remove the listed dims, which must be of static size 1."""
    if not dims:
        return x
    axes = create_constant(ctx, torch.tensor(sorted(dims), dtype=torch.int64), f"{name}_axes")
    layer = ctx.net.add_squeeze(x, axes)
    set_layer_name(layer, ctx.unique_name(f"{name}_squeeze"))
    return layer.get_output(0)


def concat(ctx: ConversionContext, tensors: Sequence[Any], axis: int, name: str) -> Any:
    if len(tensors) == 1:
        return tensors[0]
    layer = ctx.net.add_concatenation(list(tensors))
    layer.axis = axis
    set_layer_name(layer, ctx.unique_name(f"{name}_concat"))
    return layer.get_output(0)


def meta_shape(node: Any) -> tuple[Any, ...] | None:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return tuple(val.shape) if isinstance(val, torch.Tensor) else None


def is_static_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def narrow(ctx: ConversionContext, x: Any, dim: int, start: Dim, length: Dim, name: str) -> Any:
    """``x.narrow(dim, start, length)`` for an in-range start and length."""
    dims = dims_of(ctx, x, name)
    starts: list[Dim] = [0] * len(dims)
    starts[dim] = start
    dims[dim] = length
    return slice_tensor(ctx, x, starts, dims, [1] * len(dims), name)


__all__ = [
    "Dim",
    "concat",
    "dims_of",
    "expand_to",
    "int_tensor",
    "is_static_int",
    "meta_shape",
    "narrow",
    "permute",
    "shape_math",
    "shape_product",
    "slice_tensor",
    "squeeze",
    "unsqueeze",
]
