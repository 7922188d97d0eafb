"""Converters: indexing (index_select, gather, index.Tensor, embedding, scatter, index_put, cumsum, topk, sort).

Indices stay int64, as in PyTorch. Negative indices are wrapped explicitly where PyTorch allows them
(advanced indexing) instead of relying on gather's out-of-range behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._kv_cache_writes import emit_kv_cache_update
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    broadcast_ranks,
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    node_dtype,
    output_dtype,
    prepend_ones,
    reshape,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    Dim,
    concat,
    dims_of,
    expand_to,
    int_tensor,
    is_static_int,
    meta_shape,
    permute,
    shape_math,
    shape_product,
    slice_tensor,
    squeeze,
    unsqueeze,
)
from torch_tensorrt.dynamo.conversion.converters.linear import matmul

aten = torch.ops.aten
EW = trt.ElementWiseOperation
_INDEX_DTYPES = (torch.int32, torch.int64)

# TensorRT's TopK handles at most this many elements per reduction.
MAX_TOPK_K = 3840


def gather(ctx: ConversionContext, x: Any, indices: Any, axis: int, name: str, mode: Any = None) -> Any:
    layer = ctx.net.add_gather(x, indices, axis) if mode is None else ctx.net.add_gather_v2(x, indices, mode)
    if mode is not None:
        layer.axis = axis
    set_layer_name(layer, ctx.unique_name(f"{name}_gather"))
    return layer.get_output(0)


def _index_tensor(ctx: ConversionContext, value: Any, name: str) -> Any:
    return get_trt_tensor(ctx, value, name, torch.int64)


def _ew(ctx: ConversionContext, a: Any, b: Any, op: Any, name: str) -> Any:
    a, b = broadcast_ranks(ctx, a, b, name)
    layer = ctx.net.add_elementwise(a, b, op)
    set_layer_name(layer, ctx.unique_name(f"{name}_{str(op).split('.')[-1].lower()}"))
    return layer.get_output(0)


def _as_scalar(ctx: ConversionContext, d: Dim, name: str) -> Any:
    return int_tensor(ctx, d, name, rank=0)


def _wrap_negative(ctx: ConversionContext, index: Any, size: Dim, name: str) -> Any:
    """index + size where index < 0 (PyTorch's advanced indexing counts negatives from the end)."""
    if isinstance(index, torch.Tensor):
        if is_static_int(size):
            return _index_tensor(ctx, torch.where(index < 0, index + size, index), name)
    idx = _index_tensor(ctx, index, name)
    size_t = _as_scalar(ctx, size, f"{name}_size")
    negative = _ew(ctx, idx, _as_scalar(ctx, 0, f"{name}_zero"), EW.LESS, f"{name}_neg")
    wrapped = _ew(ctx, idx, size_t, EW.SUM, f"{name}_wrap")
    layer = ctx.net.add_select(negative, wrapped, idx)
    set_layer_name(layer, ctx.unique_name(f"{name}_select"))
    return layer.get_output(0)


# ---------------------------------------------------------------------------------------------
# index_select, gather, embedding
# ---------------------------------------------------------------------------------------------


@dynamo_tensorrt_converter(aten.index_select.default)
def aten_ops_index_select(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(args[1], len(x.shape))
    index = _index_tensor(ctx, args[2], f"{name}_index")
    if len(index.shape) == 0:
        # index_select keeps the dim even for a 0-D index.
        index = reshape(ctx, index, [1], f"{name}_index")
    return gather(ctx, x, index, dim, name)


@dynamo_tensorrt_converter(aten.gather.default)
def aten_ops_gather(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(args[1], len(x.shape))
    index = _index_tensor(ctx, args[2], f"{name}_index")
    return gather(ctx, x, index, dim, name, mode=trt.GatherMode.ELEMENT)


@dynamo_tensorrt_converter(aten.embedding.default)
def aten_ops_embedding(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # padding_idx and scale_grad_by_freq only affect gradients.
    weight = get_trt_tensor(ctx, args[0], f"{name}_weight")
    return gather(ctx, weight, _index_tensor(ctx, args[1], f"{name}_index"), 0, name)


# ---------------------------------------------------------------------------------------------
# Advanced indexing: x[i0, :, i2] and friends
# ---------------------------------------------------------------------------------------------


def _index_dtypes(node: torch.fx.Node) -> list[torch.dtype | None]:
    """The dtype of each index tensor of an aten.index node (None where its value is unknown)."""
    dtypes = []
    for index in node.args[1]:
        if index is not None:
            val = getattr(index, "meta", {}).get("val")
            dtypes.append(val.dtype if isinstance(val, torch.Tensor) else None)
    return dtypes


def index_has_bool_indices(node: torch.fx.Node, settings: CompilationSettings | None = None) -> bool:
    """Whether some index of an aten.index node is a boolean mask (Torch-TensorRT's name)."""
    return any(d in (torch.bool, torch.uint8) for d in _index_dtypes(node))


def _index_ok(node: torch.fx.Node, settings: CompilationSettings | None = None) -> bool:
    dtypes = _index_dtypes(node)
    # Boolean masks give data-dependent shapes; TensorRT cannot size the result at build time.
    return bool(dtypes) and all(d in _INDEX_DTYPES for d in dtypes)


# Torch-TensorRT's name for the capability check of aten.index.Tensor (integer indices only here:
# boolean masks, which Torch-TensorRT converts with an output allocator on standard TensorRT, are
# left to PyTorch on every TensorRT).
index_nonbool_validator = _index_ok


def _linear_index(ctx: ConversionContext, indices: Sequence[Any], sizes: Sequence[Dim], name: str) -> Any:
    """Row-major position of each index tuple in the flattened indexed dims (broadcasting the indices)."""
    linear = _wrap_negative(ctx, indices[0], sizes[0], f"{name}_i0")
    for k in range(1, len(indices)):
        linear = _ew(ctx, linear, _as_scalar(ctx, sizes[k], f"{name}_d{k}"), EW.PROD, f"{name}_scale{k}")
        linear = _ew(ctx, linear, _wrap_negative(ctx, indices[k], sizes[k], f"{name}_i{k}"), EW.SUM, f"{name}_add{k}")
    return linear


@dynamo_tensorrt_converter(aten.index.Tensor, capability_validator=_index_ok)
def aten_ops_index(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    entries = list(args[1]) + [None] * (rank - len(args[1]))
    indexed = [d for d, e in enumerate(entries) if e is not None]
    others = [d for d, e in enumerate(entries) if e is None]
    dims = dims_of(ctx, x, name)
    if len(indexed) == 1:
        # One index tensor: its dims replace the indexed dim in place, exactly a gather.
        d = indexed[0]
        return gather(ctx, x, _wrap_negative(ctx, entries[d], dims[d], f"{name}_i"), d, name)
    # Bring the indexed dims to the front, flatten them into one and gather the linear positions.
    x = permute(ctx, x, indexed + others, name)
    flat = reshape(ctx, x, [shape_product(ctx, [dims[d] for d in indexed], name)] + [dims[d] for d in others], name)
    linear = _linear_index(ctx, [entries[d] for d in indexed], [dims[d] for d in indexed], name)
    out = gather(ctx, flat, linear, 0, name)
    adjacent = indexed == list(range(indexed[0], indexed[-1] + 1))
    if not adjacent or indexed[0] == 0:
        # PyTorch puts the broadcast index dims first when the indexed dims are not adjacent.
        return out
    # Adjacent indexed dims: the index dims replace them in place.
    b = len(linear.shape)
    lead = indexed[0]
    perm = list(range(b, b + lead)) + list(range(b)) + list(range(b + lead, len(out.shape)))
    return permute(ctx, out, perm, name)


# ---------------------------------------------------------------------------------------------
# scatter
# ---------------------------------------------------------------------------------------------


def _index_size(ctx: ConversionContext, index: Any, name: str) -> list[Dim]:
    return dims_of(ctx, index, name)


@dynamo_tensorrt_converter([aten.scatter.src, aten.scatter.value])
def aten_ops_scatter(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(args[1], len(x.shape))
    index = _index_tensor(ctx, args[2], f"{name}_index")
    size = _index_size(ctx, index, f"{name}_index")
    if target == aten.scatter.value:
        updates = expand_to(
            ctx, create_constant(ctx, torch.tensor(args[3]).to(dtype_of(x)), f"{name}_value"), size, name
        )
    else:
        # ScatterElements wants updates shaped like the index; scatter.src only reads that corner of src.
        src = get_trt_tensor(ctx, args[3], f"{name}_src", dtype_of(x))
        same = tuple(src.shape) == tuple(index.shape) and all(d >= 0 for d in src.shape)
        updates = src if same else slice_tensor(ctx, src, [0] * len(size), size, [1] * len(size), f"{name}_src")
    layer = ctx.net.add_scatter(x, index, updates, trt.ScatterMode.ELEMENT)
    layer.axis = dim
    set_layer_name(layer, ctx.unique_name(f"{name}_scatter"))
    return layer.get_output(0)


# ---------------------------------------------------------------------------------------------
# cumsum
# ---------------------------------------------------------------------------------------------


@dynamo_tensorrt_converter(aten.cumsum.default)
def aten_ops_cumsum(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    dtype = output_dtype(ctx)
    x = get_trt_tensor(ctx, args[0], name, dtype)
    if len(x.shape) == 0:
        return x
    axis = create_constant(
        ctx, torch.tensor(get_positive_dim(args[1], len(x.shape)), dtype=torch.int64), f"{name}_axis"
    )
    layer = ctx.net.add_cumulative(x, axis, trt.CumulativeOperation.SUM, False, False)
    set_layer_name(layer, ctx.unique_name(f"{name}_cumsum"))
    return layer.get_output(0)


# ---------------------------------------------------------------------------------------------
# topk, sort
# ---------------------------------------------------------------------------------------------


def upper_bound(size: Any) -> int | None:
    """The largest value a traced size can take (None when unbounded or unknown)."""
    if is_static_int(size):
        return size
    try:
        return int(size.node.shape_env.bound_sympy(size.node.expr).upper)
    except Exception:  # noqa: BLE001 - unbounded (sympy oo) or not a symbolic size
        return None


def _topk_dim_ok(shape: Sequence[Any] | None, dim: int, k: Any) -> bool:
    if not shape:
        return False
    dim = get_positive_dim(dim, len(shape))
    # TensorRT reduces over one of the last four dims only, with k at most MAX_TOPK_K.
    bound = upper_bound(k)
    return dim >= len(shape) - 4 and bound is not None and bound <= MAX_TOPK_K


def _topk_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    args = node.args
    dim = arg(args, node.kwargs, 2, "dim", -1)
    return _topk_dim_ok(meta_shape(args[0]), dim, args[1])


def topk(ctx: ConversionContext, x: Any, k: Dim, dim: int, largest: bool, name: str) -> tuple[Any, Any]:
    """Values and int64 indices of the k largest (smallest) entries along ``dim``, sorted."""
    op = trt.TopKOperation.MAX if largest else trt.TopKOperation.MIN
    vector = len(x.shape) == 1
    if vector:
        # TopK wants at least 2 dims: sort a 1 x n matrix along its rows.
        x, dim = prepend_ones(ctx, x, 1, name), 1
    layer = ctx.net.add_topk(x, op, k if is_static_int(k) else 1, 1 << dim, torch_to_trt_dtype(torch.int64))
    if not is_static_int(k):
        # A run-time k is a 0-D int32 tensor.
        layer.set_input(1, cast_trt_tensor(ctx, int_tensor(ctx, k, f"{name}_k", rank=0), torch.int32, f"{name}_k"))
    set_layer_name(layer, ctx.unique_name(f"{name}_topk"))
    values, indices = layer.get_output(0), layer.get_output(1)
    if vector:
        values, indices = squeeze(ctx, values, [0], f"{name}_values"), squeeze(ctx, indices, [0], f"{name}_indices")
    return values, indices


@dynamo_tensorrt_converter(aten.topk.default, capability_validator=_topk_ok)
def aten_ops_topk(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # sorted=False leaves the order to the implementation; sorted output is one valid answer.
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(arg(args, kwargs, 2, "dim", -1), len(x.shape))
    largest = arg(args, kwargs, 3, "largest", True)
    return topk(ctx, x, args[1], dim, largest, name)


def _sort_args(node: torch.fx.Node) -> tuple[int, bool, bool]:
    args, kwargs = node.args, node.kwargs
    if node.target == aten.sort.stable:
        return kwargs.get("dim", -1), kwargs.get("descending", False), bool(kwargs.get("stable", False))
    return arg(args, kwargs, 1, "dim", -1), arg(args, kwargs, 2, "descending", False), False


def _sort_ok(node: torch.fx.Node, settings: CompilationSettings | None = None) -> bool:
    dim, _, stable = _sort_args(node)
    shape = meta_shape(node.args[0])
    # TopK does not promise the order of equal elements, so a stable sort is left to PyTorch.
    if stable or not shape:
        return False
    n = shape[get_positive_dim(dim, len(shape))]
    return _topk_dim_ok(shape, dim, n)


# Torch-TensorRT's name for the capability check of aten.sort.
sort_validator = _sort_ok


@dynamo_tensorrt_converter([aten.sort.default, aten.sort.stable], capability_validator=_sort_ok)
def aten_ops_sort(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim, descending, _ = _sort_args(ctx.current_node)
    dim = get_positive_dim(dim, len(x.shape))
    return topk(ctx, x, dims_of(ctx, x, name)[dim], dim, descending, name)


# ---------------------------------------------------------------------------------------------
# index_put: x[i0, :, i2] = v after functionalization (index_copy lowers to it)
# ---------------------------------------------------------------------------------------------


def _mask_put(node: torch.fx.Node) -> bool:
    """``x[mask] = v``: one bool index over leading dims and a value that needs no mask count."""
    indices = [i for i in node.args[1] if i is not None]
    if len(indices) != 1 or node.args[1][0] is None or node_dtype(indices[0]) != torch.bool:
        return False
    mask, values, x = indices[0].meta["val"], node.args[2].meta["val"], node.args[0].meta["val"]
    # The written rows are data-dependent in number; a value without that dim broadcasts over them.
    return values.dim() <= x.dim() - mask.dim() or values.numel() == 1


def _index_put_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    if not all(isinstance(a.meta.get("val"), torch.Tensor) for a in node.all_input_nodes):
        return False
    tensors = [i for i in node.args[1] if i is not None]
    if arg(node.args, node.kwargs, 3, "accumulate", False):
        # Repeated indices add up: a one-hot matrix product over the flattened indexed dims, whose
        # lengths must be known; TensorRT multiplies matrices of floats only.
        x = node.args[0].meta["val"]
        indexed = [x.shape[d] for d, e in enumerate(node.args[1]) if e is not None]
        return (
            bool(tensors)
            and all(node_dtype(i) in _INDEX_DTYPES for i in tensors)
            and x.dtype in (torch.float32, torch.float16, torch.bfloat16)
            and all(is_static_int(n) for n in indexed)
        )
    if _mask_put(node):
        return True
    return bool(tensors) and all(node_dtype(i) in _INDEX_DTYPES for i in tensors)


def _broadcast_dims(ctx: ConversionContext, tensors: Sequence[Any], name: str) -> list[Dim]:
    """The numpy broadcast of several tensors' shapes (a broadcast dim is 1 or the common length)."""
    rank = max(len(t.shape) for t in tensors)
    shapes = [[1] * (rank - len(t.shape)) + dims_of(ctx, t, f"{name}_{i}") for i, t in enumerate(tensors)]
    out: list[Dim] = []
    for d in range(rank):
        sizes = [s[d] for s in shapes]
        known = [s for s in sizes if is_static_int(s) and s != 1]
        if known or all(is_static_int(s) for s in sizes):
            out.append(known[0] if known else 1)
            continue
        size = sizes[0]
        for other in sizes[1:]:
            size = shape_math(ctx, EW.MAX, size, other, f"{name}_d{d}")
        out.append(size)
    return out


def _values_in_put_order(
    ctx: ConversionContext, values: Any, indexed: list[int], dims: list[Dim], batch: list[Dim], name: str
) -> Any:
    """``values`` broadcast to x[indices]'s shape, then laid out as (index dims, other dims)."""
    others = [d for d in range(len(dims)) if d not in indexed]
    adjacent = indexed == list(range(indexed[0], indexed[-1] + 1))
    # torch puts the index dims where the indexed dims were when they are adjacent, else first.
    lead = indexed[0] if adjacent else 0
    before = [d for d in others if d < lead]
    after = [d for d in others if d >= lead]
    target = [dims[d] for d in before] + batch + [dims[d] for d in after]
    values = expand_to(ctx, values, target, f"{name}_values")
    b, n = len(batch), len(before)
    return permute(
        ctx, values, list(range(n, n + b)) + list(range(n)) + list(range(n + b, len(target))), f"{name}_values"
    )


def _scatter_rows(ctx: ConversionContext, x: Any, indices: Sequence[Any], values: Any, name: str) -> Any:
    rank = len(x.shape)
    entries = list(indices) + [None] * (rank - len(indices))
    indexed = [d for d, e in enumerate(entries) if e is not None]
    others = [d for d, e in enumerate(entries) if e is None]
    dims = dims_of(ctx, x, name)
    wrapped = [_wrap_negative(ctx, entries[d], dims[d], f"{name}_i{d}") for d in indexed]
    batch = _broadcast_dims(ctx, wrapped, f"{name}_batch")
    # ScatterND writes whole trailing blocks at index tuples over the leading dims: move the
    # indexed dims to the front and stack the (broadcast) index tensors along a last dim.
    columns = [
        unsqueeze(ctx, expand_to(ctx, w, batch, f"{name}_b{i}"), -1, f"{name}_c{i}") for i, w in enumerate(wrapped)
    ]
    tuples = concat(ctx, columns, len(batch), f"{name}_tuples")
    moved = permute(ctx, x, indexed + others, name)
    updates = _values_in_put_order(ctx, values, indexed, dims, batch, name)
    layer = ctx.net.add_scatter(moved, tuples, updates, trt.ScatterMode.ND)
    set_layer_name(layer, ctx.unique_name(f"{name}_scatter"))
    order = indexed + others
    return permute(ctx, layer.get_output(0), [order.index(d) for d in range(rank)], f"{name}_back")


def _mask_fill_rows(ctx: ConversionContext, x: Any, mask: Any, values: Any, name: str) -> Any:
    """x[mask] = v as where(mask, v, x): the mask covers x's leading dims, v broadcasts over the rest."""
    rank = len(x.shape)
    mask = get_trt_tensor(ctx, mask, f"{name}_mask", torch.bool)
    mask = reshape(ctx, mask, dims_of(ctx, mask, f"{name}_mask") + [1] * (rank - len(mask.shape)), f"{name}_mask")
    values = get_trt_tensor(ctx, values, f"{name}_values", dtype_of(x))
    if values.shape and math.prod(values.shape) == 1 and len(values.shape) > rank - len(mask.shape):
        values = reshape(ctx, values, [], f"{name}_scalar")  # a one-element value of any rank
    mask, values = broadcast_ranks(ctx, mask, values, f"{name}_mv")
    mask, xb = broadcast_ranks(ctx, mask, x, f"{name}_mx")
    values, _ = broadcast_ranks(ctx, values, xb, f"{name}_vx")
    layer = ctx.net.add_select(mask, values, xb)
    set_layer_name(layer, ctx.unique_name(f"{name}_select"))
    return layer.get_output(0)


def _accumulate_rows(ctx: ConversionContext, x: Any, indices: Sequence[Any], values: Any, name: str) -> Any:
    """x[indices] += values with repeated indices adding up (index_put accumulate, index_add).

    The indexed dims are moved first and flattened into K positions, the index tuples into J linear
    positions; a (K x J) one-hot matrix times the (J x rest) values sums what lands on each position.
    """
    rank = len(x.shape)
    entries = list(indices) + [None] * (rank - len(indices))
    indexed = [d for d, e in enumerate(entries) if e is not None]
    others = [d for d, e in enumerate(entries) if e is None]
    dims = dims_of(ctx, x, name)
    wrapped = [_wrap_negative(ctx, entries[d], dims[d], f"{name}_i{d}") for d in indexed]
    batch = _broadcast_dims(ctx, wrapped, f"{name}_batch")
    linear = _linear_index(
        ctx, [expand_to(ctx, w, batch, f"{name}_b{i}") for i, w in enumerate(wrapped)], [dims[d] for d in indexed], name
    )
    count = shape_product(ctx, batch, f"{name}_count")
    positions = math.prod(int(dims[d]) for d in indexed)
    rest = shape_product(ctx, [dims[d] for d in others], f"{name}_rest")
    flat_x = reshape(ctx, permute(ctx, x, indexed + others, name), [positions, rest], f"{name}_flat_x")
    updates = _values_in_put_order(ctx, values, indexed, dims, batch, name)
    flat_updates = reshape(ctx, updates, [count, rest], f"{name}_flat_values")
    column = reshape(ctx, linear, [1, count], f"{name}_column")
    targets = create_constant(ctx, torch.arange(positions, dtype=torch.int64).reshape(positions, 1), f"{name}_targets")
    hot = cast_trt_tensor(ctx, _ew(ctx, targets, column, EW.EQUAL, f"{name}_hot"), dtype_of(x), f"{name}_hot")
    added = _ew(ctx, flat_x, matmul(ctx, hot, flat_updates, f"{name}_sum", dtype=dtype_of(x)), EW.SUM, f"{name}_add")
    moved = reshape(ctx, added, [dims[d] for d in indexed + others], f"{name}_moved")
    order = indexed + others
    return permute(ctx, moved, [order.index(d) for d in range(rank)], f"{name}_back")


@dynamo_tensorrt_converter(aten.index_put.default, capability_validator=_index_put_ok)
def aten_ops_index_put(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    position = args[1][2] if len(args[1]) == 3 else None
    in_place = emit_kv_cache_update(ctx, ctx.current_node, x, args[2], position, name)
    if in_place is not None:  # a lifted buffer written in place (lift_mutable_buffers)
        return in_place
    if not arg(args, kwargs, 3, "accumulate", False) and _mask_put(ctx.current_node):
        return _mask_fill_rows(ctx, x, args[1][0], args[2], name)
    values = get_trt_tensor(ctx, args[2], f"{name}_values", dtype_of(x))
    if arg(args, kwargs, 3, "accumulate", False):
        return _accumulate_rows(ctx, x, args[1], values, name)
    return _scatter_rows(ctx, x, args[1], values, name)
