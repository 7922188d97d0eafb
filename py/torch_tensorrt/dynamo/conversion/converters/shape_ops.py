"""Converters: shape ops (views, permutes, expand, cat, repeat, flip, pad, split) and SymInt math.

Also home of the shape helpers the shape, slicing, indexing and creation families share. A size is
a ``Dim``: a Python int when known at build time, else a 1-element int64 shape tensor. Sizes stay
Python ints wherever possible so static graphs get static layer parameters.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._TRTInterpreter import SHAPE_TENSOR_VALUES_META
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    cast_trt_tensor,
    create_constant,
    dim_size,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    is_trt_tensor,
    output_dtype,
    prepend_ones,
    reshape,
    set_layer_name,
    shape_tensor_from_dims,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation
Dim = Any  # int | ITensor (1-element int64)

# ---------------------------------------------------------------------------------------------
# Shape helpers
# ---------------------------------------------------------------------------------------------

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
    axes = create_constant(ctx, torch.tensor([get_positive_dim(dim, len(x.shape) + 1)], dtype=torch.int64), f"{name}_axes")
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


# ---------------------------------------------------------------------------------------------
# SymInt arithmetic (sizes computed from sym_size results, e.g. ``x.shape[0] * x.shape[1]``)
# ---------------------------------------------------------------------------------------------


@dynamo_tensorrt_converter(aten.sym_size.int)
def aten_ops_sym_size(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return dim_size(ctx, args[0], get_positive_dim(args[1], len(args[0].shape)), name)


@dynamo_tensorrt_converter(aten.sym_numel.default)
def aten_ops_sym_numel(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return int_tensor(ctx, shape_product(ctx, dims_of(ctx, args[0], name), name), f"{name}_numel")


def _sym_value(node: torch.fx.Node) -> Any:
    val = node.meta.get("val")
    return None if isinstance(val, (bool, torch.SymBool)) else val


def _symint_result(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return isinstance(_sym_value(node), (int, torch.SymInt))


def _symfloat_result(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return isinstance(_sym_value(node), (float, torch.SymFloat))


def _sym_number_result(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _symint_result(node, settings) or _symfloat_result(node, settings)


def float_scalar(ctx: ConversionContext, value: Any, name: str) -> Any:
    """A SymFloat operand as a 1-element float32 tensor (TensorRT has no float64)."""
    if not is_trt_tensor(value):
        return create_constant(ctx, torch.tensor([float(value)], dtype=torch.float32), name)
    return cast_trt_tensor(ctx, int_tensor(ctx, value, name) if len(value.shape) != 1 else value, torch.float32, name)


def _float_math(ctx: ConversionContext, op: Any, a: Any, b: Any, name: str) -> Any:
    layer = ctx.net.add_elementwise(float_scalar(ctx, a, f"{name}_a"), float_scalar(ctx, b, f"{name}_b"), op)
    set_layer_name(layer, ctx.unique_name(f"{name}_{str(op).split('.')[-1].lower()}"))
    return layer.get_output(0)


# Sizes stay int64 shape tensors; SymFloats (e.g. ``x.shape[1] ** -0.5``) are float32 scalars.
_SYM_OPS = {
    operator.add: EW.SUM,
    operator.sub: EW.SUB,
    operator.mul: EW.PROD,
    operator.floordiv: EW.FLOOR_DIV,
    torch.sym_max: EW.MAX,
    torch.sym_min: EW.MIN,
}
_SYMFLOAT_OPS = {operator.add: EW.SUM, operator.sub: EW.SUB, operator.mul: EW.PROD, operator.truediv: EW.DIV, operator.pow: EW.POW}


@dynamo_tensorrt_converter(list(_SYM_OPS), capability_validator=_symint_result)
def sym_binary(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return int_tensor(ctx, shape_math(ctx, _SYM_OPS[target], args[0], args[1], name), f"{name}_out")


@dynamo_tensorrt_converter(list(_SYMFLOAT_OPS), capability_validator=_symfloat_result)
def symfloat_binary(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _float_math(ctx, _SYMFLOAT_OPS[target], args[0], args[1], name)


@dynamo_tensorrt_converter(torch.sym_float, capability_validator=_symfloat_result)
def sym_float(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return float_scalar(ctx, args[0], name)


@dynamo_tensorrt_converter(operator.mod, capability_validator=_symint_result)
def sym_mod(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # Python's % on ints follows floor division: a - (a // b) * b.
    quotient = shape_math(ctx, EW.FLOOR_DIV, args[0], args[1], f"{name}_div")
    product = shape_math(ctx, EW.PROD, quotient, args[1], f"{name}_mul")
    return int_tensor(ctx, shape_math(ctx, EW.SUB, args[0], product, name), f"{name}_out")


@dynamo_tensorrt_converter(operator.neg, capability_validator=_sym_number_result)
def sym_neg(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    if _symfloat_result(ctx.current_node, ctx.compilation_settings):
        return _float_math(ctx, EW.SUB, 0.0, args[0], name)
    return int_tensor(ctx, shape_math(ctx, EW.SUB, 0, args[0], name), f"{name}_out")


def _symbool_result(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return isinstance(node.meta.get("val"), (bool, torch.SymBool))


def _is_float_operand(value: Any) -> bool:
    if is_trt_tensor(value):
        return dtype_of(value).is_floating_point
    return isinstance(value, float)


def _compare(ctx: ConversionContext, op: Any, a: Any, b: Any, name: str) -> Any:
    """``a op b`` for sizes (int64) or SymFloats (float32, if either is one): a 1-element bool tensor."""
    if _is_float_operand(a) or _is_float_operand(b):
        return _float_math(ctx, op, a, b, name)
    layer = ctx.net.add_elementwise(int_tensor(ctx, a, f"{name}_a"), int_tensor(ctx, b, f"{name}_b"), op)
    set_layer_name(layer, ctx.unique_name(f"{name}_{str(op).split('.')[-1].lower()}"))
    return layer.get_output(0)


def _negate(ctx: ConversionContext, flag: Any, name: str) -> Any:
    layer = ctx.net.add_unary(flag, trt.UnaryOperation.NOT)
    set_layer_name(layer, ctx.unique_name(f"{name}_not"))
    return layer.get_output(0)


# SymBools (``x.shape[0] > 2``) are 1-element bool tensors; <=, >= and != negate >, < and ==.
_SYM_COMPARISONS = {
    operator.eq: (EW.EQUAL, False),
    operator.ne: (EW.EQUAL, True),
    operator.lt: (EW.LESS, False),
    operator.ge: (EW.LESS, True),
    operator.gt: (EW.GREATER, False),
    operator.le: (EW.GREATER, True),
}


@dynamo_tensorrt_converter(list(_SYM_COMPARISONS), capability_validator=_symbool_result)
def sym_compare(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    op, negated = _SYM_COMPARISONS[target]
    result = _compare(ctx, op, args[0], args[1], name)
    return _negate(ctx, result, name) if negated else result


def _bool_scalar(ctx: ConversionContext, value: Any, name: str) -> Any:
    if not is_trt_tensor(value):
        return create_constant(ctx, torch.tensor([bool(value)]), name)
    return cast_trt_tensor(ctx, int_tensor(ctx, value, name) if len(value.shape) != 1 else value, torch.bool, name)


@dynamo_tensorrt_converter(torch.sym_not, capability_validator=_symbool_result)
def sym_not(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _negate(ctx, _bool_scalar(ctx, args[0], f"{name}_in"), name)


@dynamo_tensorrt_converter([operator.and_, operator.or_], capability_validator=_symbool_result)
def sym_logical(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    op = EW.AND if target is operator.and_ else EW.OR
    layer = ctx.net.add_elementwise(_bool_scalar(ctx, args[0], f"{name}_a"), _bool_scalar(ctx, args[1], f"{name}_b"), op)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _trunc(ctx: ConversionContext, x: Any, name: str) -> Any:
    # Towards zero: floor for x >= 0, ceil below (TensorRT has no truncating unary op).
    floor = ctx.net.add_unary(x, trt.UnaryOperation.FLOOR).get_output(0)
    ceil = ctx.net.add_unary(x, trt.UnaryOperation.CEIL).get_output(0)
    negative = _float_math(ctx, EW.LESS, x, 0.0, f"{name}_sign")
    layer = ctx.net.add_select(negative, ceil, floor)
    set_layer_name(layer, ctx.unique_name(f"{name}_trunc"))
    return layer.get_output(0)


_ROUNDINGS = {math.floor: trt.UnaryOperation.FLOOR, math.ceil: trt.UnaryOperation.CEIL}


@dynamo_tensorrt_converter([math.trunc, math.floor, math.ceil, torch.sym_int], capability_validator=_symint_result)
def sym_to_int(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """A SymFloat rounded to a SymInt (a float32 shape value, exact for sizes below 2^24)."""
    value = args[0]
    if not _is_float_operand(value):
        return int_tensor(ctx, value, f"{name}_out")  # already an integer
    x = float_scalar(ctx, value, f"{name}_in")
    if target in _ROUNDINGS:
        rounded = ctx.net.add_unary(x, _ROUNDINGS[target]).get_output(0)
    else:
        rounded = _trunc(ctx, x, name)
    return cast_trt_tensor(ctx, rounded, torch.int64, f"{name}_out")


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
        size[d] = shape_math(ctx, EW.SUM, size[d], shape_math(ctx, EW.SUM, before, after, f"{name}_pad{d}"), f"{name}_size{d}")
    fill = None
    if mode == "constant":
        fill = create_constant(ctx, torch.tensor(0 if value is None else value).to(dtype_of(x)), f"{name}_value")
    return slice_tensor(ctx, x, start, size, [1] * rank, name, mode=_PAD_MODES[mode], fill=fill)


# ---------------------------------------------------------------------------------------------
# Splitting (multi-output: a tuple, getitem picks)
# ---------------------------------------------------------------------------------------------


def narrow(ctx: ConversionContext, x: Any, dim: int, start: Dim, length: Dim, name: str) -> Any:
    """``x.narrow(dim, start, length)`` for an in-range start and length."""
    dims = dims_of(ctx, x, name)
    starts: list[Dim] = [0] * len(dims)
    starts[dim] = start
    dims[dim] = length
    return slice_tensor(ctx, x, starts, dims, [1] * len(dims), name)


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


# Ops that only pick or re-view elements: a value read through them still comes from the tensor
# they start from (for .item() / .tolist() of a shape-tensor input).
_ELEMENT_PICKS = {
    aten.slice.Tensor, aten.select.int, aten.squeeze.dims, aten.squeeze.dim, aten.squeeze.default,
    aten.view.default, aten.reshape.default, aten.unsqueeze.default, aten.unbind.int, operator.getitem,
}  # fmt: skip


def _reads_shape_tensor_input(node: torch.fx.Node) -> bool:
    """Whether ``node`` picks elements of a graph input declared ``Input(is_shape_tensor=True)``
    (``shape[0]``, ``shape.tolist()``): only those have the value range a TensorRT profile needs."""
    seen = 0
    while node.op == "call_function" and node.target in _ELEMENT_PICKS and seen < 16:
        source = node.args[0]
        if not isinstance(source, torch.fx.Node):
            return False
        node, seen = source, seen + 1
    return node.op == "placeholder" and node.meta.get(SHAPE_TENSOR_VALUES_META) is not None


def _scalar_of_int_input(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """``x.item()`` of a 1-element integer tensor picked from a graph input, giving a SymInt: TensorRT
    computes it as a shape value (e.g. the dims of Input(is_shape_tensor=True) given to reshape).
    Other reads of tensor values stay in PyTorch: TensorRT cannot make shapes from computed data."""
    source = node.args[0] if node.args else None
    val = source.meta.get("val") if isinstance(source, torch.fx.Node) else None
    return (
        isinstance(val, torch.Tensor)
        and val.dtype in (torch.int32, torch.int64)
        and val.numel() == 1
        and isinstance(node.meta.get("val"), torch.SymInt)
        and _reads_shape_tensor_input(source)
    )


@dynamo_tensorrt_converter(aten._local_scalar_dense.default, capability_validator=_scalar_of_int_input)
def aten_ops_local_scalar_dense(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return int_tensor(ctx, get_trt_tensor(ctx, args[0], name), f"{name}_value")


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


__all__ = [
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
