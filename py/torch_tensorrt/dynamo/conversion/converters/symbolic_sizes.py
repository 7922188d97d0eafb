"""Converters: symbolic sizes. SymInt, SymFloat and SymBool arithmetic on sizes read with
``sym_size`` (``x.shape[0] * x.shape[1]``, ``x.shape[1] ** -0.5``, ``x.shape[0] > 2``), and
``.item()`` of a shape-tensor input, which TensorRT computes as a shape value.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._TRTInterpreter import SHAPE_TENSOR_VALUES_META
from torch_tensorrt.dynamo.conversion.converter_utils import (
    cast_trt_tensor,
    create_constant,
    dim_size,
    dtype_of,
    get_positive_dim,
    get_trt_tensor,
    is_trt_tensor,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    dims_of,
    int_tensor,
    shape_math,
    shape_product,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation


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
_SYMFLOAT_OPS = {
    operator.add: EW.SUM,
    operator.sub: EW.SUB,
    operator.mul: EW.PROD,
    operator.truediv: EW.DIV,
    operator.pow: EW.POW,
}


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


def _one_element_tensor_operand(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    # Eager sym_not on a tensor is `not tensor`, defined for exactly one element.
    operand = node.args[0] if node.args else None
    val = operand.meta.get("val") if isinstance(operand, torch.fx.Node) else None
    return isinstance(val, torch.Tensor) and all(isinstance(d, int) and d == 1 for d in val.shape)


@dynamo_tensorrt_converter(torch.sym_not, capability_validator=_one_element_tensor_operand)
def sym_not_tensor(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # torch.sym_not on a one-element tensor (graphs from symbolic_trace): its negated truth value
    # as a SymBool is represented here, a 1-element bool vector.
    flag = ctx.net.add_shuffle(cast_trt_tensor(ctx, get_trt_tensor(ctx, args[0], f"{name}_in"), torch.bool, name))
    flag.reshape_dims = (1,)
    set_layer_name(flag, ctx.unique_name(f"{name}_flat"))
    return _negate(ctx, flag.get_output(0), name)


@dynamo_tensorrt_converter([operator.and_, operator.or_], capability_validator=_symbool_result)
def sym_logical(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    op = EW.AND if target is operator.and_ else EW.OR
    layer = ctx.net.add_elementwise(
        _bool_scalar(ctx, args[0], f"{name}_a"), _bool_scalar(ctx, args[1], f"{name}_b"), op
    )
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
