"""Converters: shape ops (views, permutes, expand, cat, repeat, flip, pad, split, unbind).

The shape helpers these and other families share live in ``_shape_helpers`` and are re-exported
here under their historical import path (``converters.shape_ops``); SymInt math is ``symbolic_sizes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    create_constant,
    dim_size,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    output_dtype,
    prepend_ones,
    reshape,
)

# The shared helpers also keep their historical import path here (their owner is _shape_helpers).
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import *  # noqa: F403
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    Dim,
    concat,
    dims_of,
    expand_to,
    is_static_int,
    meta_shape,
    narrow,
    permute,
    shape_math,
    shape_product,
    slice_tensor,
    squeeze,
    unsqueeze,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------


@dynamo_tensorrt_converter([aten.view.default, aten.reshape.default, aten._unsafe_view.default])
def aten_ops_view(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    return reshape(ctx, x, list(args[1]), name)


@dynamo_tensorrt_converter(aten.flatten.using_ints)
def aten_ops_flatten(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    if rank == 0:
        return reshape(ctx, x, [1], name)
    start = get_positive_dim(args[1] if len(args) > 1 else 0, rank)
    end = get_positive_dim(args[2] if len(args) > 2 else -1, rank)
    dims = dims_of(ctx, x, name)
    merged = shape_product(ctx, dims[start : end + 1], f"{name}_merged")
    return reshape(ctx, x, dims[:start] + [merged] + dims[end + 1 :], name)


@dynamo_tensorrt_converter(aten.permute.default)
def aten_ops_permute(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return permute(ctx, get_trt_tensor(ctx, args[0], name), list(args[1]), name)


@dynamo_tensorrt_converter(aten.transpose.int)
def aten_ops_transpose(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    if rank == 0:
        return x
    perm = list(range(rank))
    a, b = get_positive_dim(args[1], rank), get_positive_dim(args[2], rank)
    perm[a], perm[b] = perm[b], perm[a]
    return permute(ctx, x, perm, name)


@dynamo_tensorrt_converter(aten.t.default)
def aten_ops_t(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    return permute(ctx, x, [1, 0], name) if len(x.shape) == 2 else x


@dynamo_tensorrt_converter(aten.unsqueeze.default)
def aten_ops_unsqueeze(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return unsqueeze(ctx, get_trt_tensor(ctx, args[0], name), args[1], name)


def _squeeze_dims(node: torch.fx.Node) -> list[int] | None:
    """The dims PyTorch really removes: those named (all if none) whose traced size is 1."""
    shape = meta_shape(node.args[0])
    if shape is None:
        return None
    rank = len(shape)
    if node.target == aten.squeeze.default:
        named = list(range(rank))
    elif node.target == aten.squeeze.dim:
        named = [node.args[1]]
    else:
        named = list(node.args[1])
    named = [get_positive_dim(d, rank) for d in named] if rank else []
    return sorted({d for d in named if is_static_int(shape[d]) and shape[d] == 1})


def _squeeze_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _squeeze_dims(node) is not None


@dynamo_tensorrt_converter(
    [aten.squeeze.default, aten.squeeze.dim, aten.squeeze.dims], capability_validator=_squeeze_ok
)
def aten_ops_squeeze(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    dims = _squeeze_dims(ctx.current_node)
    return squeeze(ctx, get_trt_tensor(ctx, args[0], name), dims or [], name)


def _expand_target(ctx: ConversionContext, x: Any, sizes: Sequence[Dim], name: str) -> list[Dim]:
    """Resolve expand's -1 entries to the input's own sizes."""
    offset = len(sizes) - len(x.shape)
    target: list[Dim] = []
    for i, s in enumerate(sizes):
        if is_static_int(s) and s == -1:
            j = i - offset
            s = x.shape[j] if x.shape[j] >= 0 else dim_size(ctx, x, j, f"{name}_size{j}")
        target.append(s)
    return target


@dynamo_tensorrt_converter(aten.expand.default)
def aten_ops_expand(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    return expand_to(ctx, x, _expand_target(ctx, x, list(args[1]), name), name)


@dynamo_tensorrt_converter([aten.clone.default, aten.alias.default, aten.detach.default, aten.lift_fresh_copy.default])
def aten_ops_identity(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # Memory format is meaningless inside TensorRT; an engine output gets its own identity anyway.
    return get_trt_tensor(ctx, args[0], name)


# ---------------------------------------------------------------------------------------------
# Concatenation, tiling, flipping
# ---------------------------------------------------------------------------------------------


def _is_legacy_empty(t: Any) -> bool:
    # torch.cat skips 1-D tensors of size 0 whatever the other inputs' rank.
    shape = tuple(t.shape)
    return shape == (0,)


@dynamo_tensorrt_converter(aten.cat.default)
def aten_ops_cat(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    dtype = output_dtype(ctx)
    tensors = [get_trt_tensor(ctx, t, f"{name}_in{i}", dtype) for i, t in enumerate(args[0])]
    dim = arg(args, kwargs, 1, "dim", 0)
    kept = [t for t in tensors if not _is_legacy_empty(t)] or tensors[:1]
    axis = get_positive_dim(dim, len(kept[0].shape))
    # Inputs that are statically empty along the axis contribute nothing.
    kept = [t for t in kept if t.shape[axis] != 0] or kept[:1]
    return concat(ctx, kept, axis, name)


@dynamo_tensorrt_converter(aten.stack.default)
def aten_ops_stack(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    dtype = output_dtype(ctx)
    tensors = [get_trt_tensor(ctx, t, f"{name}_in{i}", dtype) for i, t in enumerate(args[0])]
    dim = get_positive_dim(arg(args, kwargs, 1, "dim", 0), len(tensors[0].shape) + 1)
    return concat(ctx, [unsqueeze(ctx, t, dim, f"{name}_{i}") for i, t in enumerate(tensors)], dim, name)


@dynamo_tensorrt_converter(aten.repeat.default)
def aten_ops_repeat(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    repeats = list(args[1])
    x = prepend_ones(ctx, x, len(repeats) - len(x.shape), name)
    dims = dims_of(ctx, x, name)
    # Tiling is a slice past the end that wraps around to the start of each dim.
    size = [shape_math(ctx, EW.PROD, d, r, f"{name}_size") for d, r in zip(dims, repeats)]
    return slice_tensor(ctx, x, [0] * len(dims), size, [1] * len(dims), name, mode=trt.SampleMode.WRAP)


@dynamo_tensorrt_converter(aten.flip.default)
def aten_ops_flip(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    flipped = {get_positive_dim(d, rank) for d in args[1]}
    if not flipped:
        return x
    dims = dims_of(ctx, x, name)
    start = [shape_math(ctx, EW.SUB, d, 1, f"{name}_last") if i in flipped else 0 for i, d in enumerate(dims)]
    stride = [-1 if i in flipped else 1 for i in range(rank)]
    return slice_tensor(ctx, x, start, dims, stride, name)


# ---------------------------------------------------------------------------------------------
# Padding
# ---------------------------------------------------------------------------------------------

_PAD_MODES = {
    "constant": trt.SampleMode.FILL,
    "reflect": trt.SampleMode.REFLECT,
    "replicate": trt.SampleMode.CLAMP,
    "circular": trt.SampleMode.WRAP,
}


def _pad_args(node: torch.fx.Node) -> tuple[Any, list[int], str, Any]:
    target, args = node.target, node.args
    if target == aten.pad.default:
        mode = arg(args, node.kwargs, 2, "mode", "constant")
        value = arg(args, node.kwargs, 3, "value")
        return args[0], list(args[1]), mode, value
    if target == aten.constant_pad_nd.default:
        return args[0], list(args[1]), "constant", arg(args, node.kwargs, 2, "value", 0)
    if target == aten._pad_circular.default:
        return args[0], list(args[1]), "circular", None
    mode = "reflect" if "reflection" in str(target) else "replicate"
    return args[0], list(args[1]), mode, None


def _pad_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    x, pads, mode, _ = _pad_args(node)
    shape = meta_shape(x)
    if mode not in _PAD_MODES or shape is None or len(pads) % 2 or len(pads) // 2 > len(shape):
        return False
    # Pads may be sizes computed at run time (e.g. up to a multiple of a window: (7 - w % 7) % 7).
    if not all(is_static_int(p) or _is_symint_node(p) for p in pads):
        return False
    # Cropping (negative pads) is only meaningful for constant padding; PyTorch refuses it elsewhere.
    return mode == "constant" or all(not is_static_int(p) or p >= 0 for p in pads)


def _is_symint_node(value: Any) -> bool:
    return isinstance(value, torch.fx.Node) and isinstance(value.meta.get("val"), torch.SymInt)


_PAD_TARGETS = [
    aten.pad.default,
    aten.constant_pad_nd.default,
    aten._pad_circular.default,
    aten.reflection_pad1d.default,
    aten.reflection_pad2d.default,
    aten.reflection_pad3d.default,
    aten.replication_pad1d.default,
    aten.replication_pad2d.default,
    aten.replication_pad3d.default,
]


@dynamo_tensorrt_converter(_PAD_TARGETS, capability_validator=_pad_ok)
def aten_ops_pad(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    _, _, mode, value = _pad_args(ctx.current_node)
    pads = list(args[1])  # converted: run-time pads are shape tensors here
    x = get_trt_tensor(ctx, args[0], name)
    rank = len(x.shape)
    start: list[Dim] = [0] * rank
    size: list[Dim] = dims_of(ctx, x, name)
    # pads lists (before, after) pairs starting from the last dim.
    for k in range(len(pads) // 2):
        d = rank - 1 - k
        before, after = pads[2 * k], pads[2 * k + 1]
        start[d] = shape_math(ctx, EW.SUB, 0, before, f"{name}_start{d}")
        size[d] = shape_math(
            ctx, EW.SUM, size[d], shape_math(ctx, EW.SUM, before, after, f"{name}_pad{d}"), f"{name}_size{d}"
        )
    fill = None
    if mode == "constant":
        fill = create_constant(ctx, torch.tensor(0 if value is None else value).to(dtype_of(x)), f"{name}_value")
    return slice_tensor(ctx, x, start, size, [1] * rank, name, mode=_PAD_MODES[mode], fill=fill)


# ---------------------------------------------------------------------------------------------
# Splitting (multi-output: a tuple, getitem picks)
# ---------------------------------------------------------------------------------------------


def _split_pieces(ctx: ConversionContext, x: Any, sizes: Sequence[Dim], dim: int, name: str) -> tuple[Any, ...]:
    pieces = []
    offset: Dim = 0
    for i, s in enumerate(sizes):
        pieces.append(narrow(ctx, x, dim, offset, s, f"{name}_{i}"))
        offset = shape_math(ctx, EW.SUM, offset, s, f"{name}_offset{i}")
    return tuple(pieces)


@dynamo_tensorrt_converter(aten.split_with_sizes.default)
def aten_ops_split_with_sizes(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    return _split_pieces(ctx, x, list(args[1]), dim, name)


@dynamo_tensorrt_converter(aten.split.Tensor)
def aten_ops_split(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    step = args[1]
    # The traced output tells how many pieces there are; the last one takes what is left.
    count = len(ctx.output_meta())
    total = x.shape[dim] if x.shape[dim] >= 0 else dim_size(ctx, x, dim, f"{name}_total")
    sizes: list[Dim] = [step] * (count - 1)
    sizes.append(shape_math(ctx, EW.SUB, total, step * (count - 1), f"{name}_last"))
    return _split_pieces(ctx, x, sizes, dim, name)


def _unbind_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    shape = meta_shape(node.args[0])
    dim = arg(node.args, node.kwargs, 1, "dim", 0)
    return shape is not None and is_static_int(shape[get_positive_dim(dim, len(shape))])


@dynamo_tensorrt_converter(aten.unbind.int, capability_validator=_unbind_ok)
def aten_ops_unbind(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dim = get_positive_dim(arg(args, kwargs, 1, "dim", 0), len(x.shape))
    pieces = _split_pieces(ctx, x, [1] * x.shape[dim], dim, name)
    return tuple(squeeze(ctx, p, [dim], f"{name}_{i}") for i, p in enumerate(pieces))
