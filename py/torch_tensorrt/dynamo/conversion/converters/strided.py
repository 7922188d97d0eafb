"""Converters: views defined by strides — diagonal, as_strided, resize_ / resize, _reshape_copy.

TensorRT tensors have no strides, so a strided view becomes a gather of the positions it reads, which
are computed at build time from the static lengths involved. A shrinking ``resize_`` in a graph torch
decomposed arrives as ``as_strided``; graphs traced without decomposition (and growing resizes) keep
``aten.resize_`` / ``aten.resize``, which read the row-major storage as a flat run of elements.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from torch_tensorrt._logging import warn_once
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    create_constant,
    get_positive_dim,
    get_trt_tensor,
    reshape,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    dims_of,
    is_static_int,
    permute,
    slice_tensor,
)

aten = torch.ops.aten


def _gather(ctx: ConversionContext, x: Any, positions: torch.Tensor, axis: int, name: str) -> Any:
    layer = ctx.net.add_gather(x, create_constant(ctx, positions, f"{name}_positions"), axis)
    set_layer_name(layer, ctx.unique_name(f"{name}_gather"))
    return layer.get_output(0)


def _val(node: Any) -> torch.Tensor | None:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return val if isinstance(val, torch.Tensor) else None


# ---------------------------------------------------------------------------------------------
# diagonal
# ---------------------------------------------------------------------------------------------


def _diagonal_args(args: Any, kwargs: Any, rank: int) -> tuple[int, int, int]:
    offset = arg(args, kwargs, 1, "offset", 0)
    dim1 = get_positive_dim(arg(args, kwargs, 2, "dim1", 0), rank)
    dim2 = get_positive_dim(arg(args, kwargs, 3, "dim2", 1), rank)
    return offset, dim1, dim2


def _diagonal_length(n1: int, n2: int, offset: int) -> int:
    return max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))


def _diagonal_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = _val(node.args[0])
    if val is None or val.dim() < 2:
        return False
    offset, dim1, dim2 = _diagonal_args(node.args, node.kwargs, val.dim())
    n1, n2 = val.shape[dim1], val.shape[dim2]
    # The diagonal's positions are computed at build time; an empty diagonal has none to gather.
    return is_static_int(n1) and is_static_int(n2) and _diagonal_length(n1, n2, offset) > 0


@dynamo_tensorrt_converter(aten.diagonal.default, capability_validator=_diagonal_ok)
def aten_ops_diagonal(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    offset, dim1, dim2 = _diagonal_args(args, kwargs, rank)
    n1, n2 = int(x.shape[dim1]), int(x.shape[dim2])
    # torch appends the diagonal as the last dim: move dim1, dim2 last and flatten them.
    others = [d for d in range(rank) if d not in (dim1, dim2)]
    dims = dims_of(ctx, x, name)
    flat = reshape(ctx, permute(ctx, x, others + [dim1, dim2], name), [dims[d] for d in others] + [n1 * n2], name)
    i = torch.arange(_diagonal_length(n1, n2, offset), dtype=torch.int64)
    rows, cols = i + max(-offset, 0), i + max(offset, 0)
    return _gather(ctx, flat, rows * n2 + cols, len(others), name)


# ---------------------------------------------------------------------------------------------
# as_strided, _reshape_copy
# ---------------------------------------------------------------------------------------------


def _strided_positions(size: list[int], stride: list[int], offset: int) -> torch.Tensor:
    positions = torch.full(size, offset, dtype=torch.int64)
    for d, (n, st) in enumerate(zip(size, stride)):
        view = [1] * len(size)
        view[d] = n
        positions = positions + (torch.arange(n, dtype=torch.int64) * st).reshape(view)
    return positions


def _as_strided_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = _val(node.args[0])
    size = list(node.args[1])
    stride = list(node.args[2])
    offset = arg(node.args, node.kwargs, 3, "storage_offset") or 0
    static = [*size, *stride, offset]
    # The storage must be the tensor itself, row-major, so storage positions are flat positions.
    if val is None or not all(is_static_int(v) for v in [*val.shape, *static]):
        return False
    if not val.is_contiguous() or val.storage_offset() != 0 or 0 in size:
        return False
    last = offset + sum((n - 1) * st for n, st in zip(size, stride))
    return min(stride, default=0) >= 0 and 0 <= offset and last < max(val.numel(), 1) and val.numel() > 0


@dynamo_tensorrt_converter(aten.as_strided.default, capability_validator=_as_strided_ok)
def aten_ops_as_strided(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    flat = reshape(ctx, x, [math.prod(int(d) for d in x.shape)], f"{name}_flat")
    positions = _strided_positions(list(args[1]), list(args[2]), arg(args, kwargs, 3, "storage_offset") or 0)
    return _gather(ctx, flat, positions, 0, name)


@dynamo_tensorrt_converter(aten._reshape_copy.default)
def aten_ops_reshape_copy(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # A copy is a new tensor anyway inside TensorRT: the same as reshape.
    return reshape(ctx, get_trt_tensor(ctx, args[0], name), list(arg(args, kwargs, 1, "size")), name)


# ---------------------------------------------------------------------------------------------
# resize_, resize
# ---------------------------------------------------------------------------------------------

# Memory formats under which the resized tensor is the storage read row-major.
_ROW_MAJOR_FORMATS = (None, torch.contiguous_format)


def _resize_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    size = list(node.args[1])
    if not all(is_static_int(n) and n > 0 for n in size):
        return False  # a run-time or empty target size: PyTorch runs it
    if arg(node.args, node.kwargs, 2, "memory_format") not in _ROW_MAJOR_FORMATS:
        return False  # channels_last storage order is not the logical order
    val = _val(node.args[0])
    # Untraced graphs (fx.symbolic_trace) have no value: engine inputs are contiguous tensors. A
    # non-contiguous intermediate would be read in storage order, which has no TensorRT meaning.
    return val is None or val.is_contiguous() or list(val.shape) == size


@dynamo_tensorrt_converter([aten.resize_.default, aten.resize.default], capability_validator=_resize_ok)
def aten_ops_resize(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    size = [int(n) for n in args[1]]
    count = math.prod(size)
    flat = reshape(ctx, x, [-1], f"{name}_flat")
    known = flat.shape[0]
    if known < 0 or known < count:
        # PyTorch leaves the added elements uninitialised; Torch-TensorRT's converter (and this one)
        # makes them zero, which a FILL slice past the end does.
        warn_once(
            "resize_grows",
            f"resize_ to {tuple(size)} may add elements: PyTorch leaves them uninitialised, the TensorRT "
            "engine sets them to 0. Only the elements the input already held are defined.",
        )
    taken = slice_tensor(ctx, flat, [0], [count], [1], f"{name}_take", mode=trt.SampleMode.FILL)
    return reshape(ctx, taken, size, name)
