"""Converters: binary arithmetic, comparisons, logical ops, where/masked_fill and clamp.

The network is strongly typed: every ElementWise input must already have the dtype torch computes
in, so operands are cast to the promoted dtype first (the traced output dtype for arithmetic, the
promoted operand dtype for comparisons). TensorRT has no bool arithmetic and no bool/int8
comparisons, so those run in int32; int8/uint8 arithmetic (quantized in TensorRT) is refused.
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
    add_unary,
    arg,
    dtype_of,
    get_trt_tensor,
    is_trt_tensor,
    output_dtype,
    prepend_ones,
    reshape,
    result_dtype,
    set_layer_name,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation

# dtypes a TensorRT engine computes with (float64 only as float32 under truncate_double).
ENGINE_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int64, torch.bool)
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


# ---------------------------------------------------------------- validators


def _tensor_val(arg: Any) -> torch.Tensor | None:
    val = arg.meta.get("val") if isinstance(arg, torch.fx.Node) else None
    return val if isinstance(val, torch.Tensor) else None


def input_vals(node: torch.fx.Node) -> list[torch.Tensor]:
    return [v for v in (_tensor_val(a) for a in node.all_input_nodes) if v is not None]


def dtypes_supported(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """Every tensor the node reads or writes has a dtype the engine can compute in.

    float64 is computed as float32, which is only what the user asked for with truncate_double; a
    0-dim float64 operand is fine anyway, because torch casts it to the (narrower) result dtype.
    """
    out = _tensor_val(node)
    if out is None:
        return False
    for val in [*input_vals(node), out]:
        if val.dtype == torch.float64:
            if not (settings.truncate_double or (val is not out and val.dim() == 0)):
                return False
        elif val.dtype not in ENGINE_DTYPES:
            return False
    return True


def _numeric_output(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """For ops torch itself does not define on bool results (div, pow, remainder, ...)."""
    out = _tensor_val(node)
    return dtypes_supported(node, settings) and out is not None and out.dtype != torch.bool


def _all_bool(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """bitwise ops: TensorRT has AND/OR/XOR for bool only, no integer bit operations."""
    out = _tensor_val(node)
    return out is not None and out.dtype == torch.bool and all(v.dtype == torch.bool for v in input_vals(node))


# ---------------------------------------------------------------- layer helpers


def operand(ctx: ConversionContext, value: Any, index: int) -> Any:
    """A converter argument as an operand: a SymInt/SymFloat argument arrives as a 1-element
    shape tensor, but is a scalar in torch, so it becomes a rank-0 tensor (no broadcast rank)."""
    node = ctx.current_node
    arg = node.args[index] if node is not None and index < len(node.args) else None
    if is_trt_tensor(value) and isinstance(arg, torch.fx.Node) and _tensor_val(arg) is None and len(value.shape) == 1:
        return reshape(ctx, value, [], f"{node.name}_scalar{index}")
    return value


def to_trt(ctx: ConversionContext, value: Any, dtype: torch.dtype, name: str) -> Any:
    """Any operand (ITensor, tensor constant, Python scalar) as an ITensor of ``dtype``."""
    return get_trt_tensor(ctx, value, name, dtype)


def elementwise(
    ctx: ConversionContext, op: Any, lhs: Any, rhs: Any, name: str, dtype: torch.dtype | None = None
) -> Any:
    """``lhs op rhs`` computed in ``dtype`` (default: torch's promotion of the operands), with
    numpy broadcasting made explicit (TensorRT needs equal ranks)."""
    dtype = dtype or result_dtype(lhs, rhs)
    a = to_trt(ctx, lhs, dtype, f"{name}_lhs")
    b = to_trt(ctx, rhs, dtype, f"{name}_rhs")
    a, b = broadcast_all(ctx, [a, b], name)
    layer = ctx.net.add_elementwise(a, b, op)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def broadcast_all(ctx: ConversionContext, tensors: Sequence[Any], name: str) -> list[Any]:
    rank = max(len(t.shape) for t in tensors)
    return [prepend_ones(ctx, t, rank - len(t.shape), f"{name}_in{i}") for i, t in enumerate(tensors)]


def unary(ctx: ConversionContext, op: Any, x: Any, name: str) -> Any:
    return add_unary(ctx, op, x, name)


def cast(ctx: ConversionContext, x: Any, dtype: torch.dtype, name: str) -> Any:
    """x (ITensor or graph constant) as an ITensor of ``dtype``; no layer if it already is."""
    return get_trt_tensor(ctx, x, name, dtype)


def as_tensor(ctx: ConversionContext, x: Any, name: str) -> Any:
    """An ITensor for a converter's tensor argument (a graph constant arrives as torch.Tensor)."""
    return get_trt_tensor(ctx, x, name)


def select(ctx: ConversionContext, cond: Any, a: Any, b: Any, dtype: torch.dtype, name: str) -> Any:
    """``where(cond, a, b)`` with a and b cast to ``dtype`` and all three broadcast."""
    c = to_trt(ctx, cond, torch.bool, f"{name}_cond")
    x = to_trt(ctx, a, dtype, f"{name}_a")
    y = to_trt(ctx, b, dtype, f"{name}_b")
    c, x, y = broadcast_all(ctx, [c, x, y], name)
    layer = ctx.net.add_select(c, x, y)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def arithmetic(ctx: ConversionContext, op: Any, lhs: Any, rhs: Any, name: str, dtype: torch.dtype) -> Any:
    """SUM/PROD/SUB/MAX/MIN with a ``dtype`` result; bool results (torch allows bool + bool) are
    computed in int32 and turned back into bool (nonzero → True), as TensorRT has no bool math."""
    if dtype != torch.bool:
        return elementwise(ctx, op, lhs, rhs, name, dtype)
    return cast(ctx, elementwise(ctx, op, lhs, rhs, name, torch.int32), torch.bool, name)


def trunc(ctx: ConversionContext, x: Any, name: str) -> Any:
    """Round a float tensor toward zero: TensorRT has FLOOR and CEIL but no TRUNC."""
    negative = elementwise(ctx, EW.LESS, x, 0, f"{name}_neg", dtype_of(x))
    return select(
        ctx,
        negative,
        unary(ctx, UN.CEIL, x, f"{name}_ceil"),
        unary(ctx, UN.FLOOR, x, f"{name}_floor"),
        dtype_of(x),
        name,
    )


def true_divide(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype) -> Any:
    # int / int is float in torch: the output dtype is float, so both sides are cast before DIV.
    return elementwise(ctx, EW.DIV, a, b, name, dtype)


def _rounding_dtype(dtype: torch.dtype) -> torch.dtype:
    # torch forms floor quotients and fmod/remainder of fp16/bf16 values in float32: rounding a / b
    # to half precision first could push it onto an integer and change the result by one (or b).
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _trunc_quotient(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype) -> Any:
    if dtype in FLOAT_DTYPES:
        return trunc(ctx, true_divide(ctx, a, b, f"{name}_div", dtype), name)
    # Integers: |a| / |b| is the same under every rounding rule, the sign is sign(a) * sign(b).
    x, y = to_trt(ctx, a, dtype, f"{name}_a"), to_trt(ctx, b, dtype, f"{name}_b")
    quotient = elementwise(
        ctx, EW.DIV, unary(ctx, UN.ABS, x, f"{name}_abs_a"), unary(ctx, UN.ABS, y, f"{name}_abs_b"), f"{name}_div"
    )
    sign = elementwise(
        ctx, EW.PROD, unary(ctx, UN.SIGN, x, f"{name}_sign_a"), unary(ctx, UN.SIGN, y, f"{name}_sign_b"), f"{name}_sign"
    )
    return elementwise(ctx, EW.PROD, quotient, sign, name)


def _floor_quotient(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype) -> Any:
    if dtype in FLOAT_DTYPES:
        # floor(a / b); torch derives it from fmod, which can differ by one when a / b rounds onto
        # an integer (e.g. 1.0 // 0.1 is 9 in torch) — TensorRT has no exact fmod to follow that.
        return unary(ctx, UN.FLOOR, true_divide(ctx, a, b, f"{name}_div", dtype), name)
    return elementwise(ctx, EW.FLOOR_DIV, a, b, name, dtype)


def trunc_divide(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype) -> Any:
    # Unlike floor division, torch truncates the quotient after rounding it to fp16/bf16
    # (trunc(a / b) in the tensor's own type), so this one is computed in ``dtype``.
    return _trunc_quotient(ctx, a, b, name, dtype)


def floor_divide(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype) -> Any:
    result = _floor_quotient(ctx, a, b, f"{name}_q", _rounding_dtype(dtype))
    return cast(ctx, result, dtype, name)


def divide(ctx: ConversionContext, a: Any, b: Any, mode: str | None, name: str, dtype: torch.dtype) -> Any:
    if mode is None:
        return true_divide(ctx, a, b, name, dtype)
    if mode == "trunc":
        return trunc_divide(ctx, a, b, name, dtype)
    return floor_divide(ctx, a, b, name, dtype)


def modulo(ctx: ConversionContext, a: Any, b: Any, name: str, dtype: torch.dtype, floor: bool) -> Any:
    """remainder (floor=True, sign of b) or fmod (sign of a): a - rounded(a / b) * b."""
    compute = _rounding_dtype(dtype)
    quotient = (_floor_quotient if floor else _trunc_quotient)(ctx, a, b, f"{name}_quot", compute)
    product = elementwise(ctx, EW.PROD, quotient, b, f"{name}_prod", compute)
    return cast(ctx, elementwise(ctx, EW.SUB, a, product, f"{name}_sub", compute), dtype, name)


# ---------------------------------------------------------------- arithmetic


def _alpha(kwargs: Any, args: Any) -> Any:
    return arg(args, kwargs, 2, "alpha", 1)


def _scaled(ctx: ConversionContext, value: Any, alpha: Any, name: str, dtype: torch.dtype) -> Any:
    if alpha == 1:
        return value
    return arithmetic(ctx, EW.PROD, value, alpha, f"{name}_alpha", dtype)


def _args2(ctx: ConversionContext, args: Any) -> tuple[Any, Any]:
    return operand(ctx, args[0], 0), operand(ctx, args[1], 1)


def _out(ctx: ConversionContext) -> torch.dtype:
    dtype = output_dtype(ctx)
    assert dtype is not None, "converter needs the traced output dtype"
    return dtype


@dynamo_tensorrt_converter([aten.add.Tensor, aten.add.Scalar], capability_validator=dtypes_supported)
def aten_ops_add(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    dtype = _out(ctx)
    return arithmetic(ctx, EW.SUM, a, _scaled(ctx, b, _alpha(kwargs, args), name, dtype), name, dtype)


@dynamo_tensorrt_converter([aten.sub.Tensor, aten.sub.Scalar], capability_validator=_numeric_output)
def aten_ops_sub(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    dtype = _out(ctx)
    return elementwise(ctx, EW.SUB, a, _scaled(ctx, b, _alpha(kwargs, args), name, dtype), name, dtype)


@dynamo_tensorrt_converter([aten.rsub.Tensor, aten.rsub.Scalar], capability_validator=_numeric_output)
def aten_ops_rsub(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    dtype = _out(ctx)
    return elementwise(ctx, EW.SUB, b, _scaled(ctx, a, _alpha(kwargs, args), name, dtype), name, dtype)


@dynamo_tensorrt_converter([aten.mul.Tensor, aten.mul.Scalar], capability_validator=dtypes_supported)
def aten_ops_mul(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    return arithmetic(ctx, EW.PROD, a, b, name, _out(ctx))


def _div_mode_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _numeric_output(node, settings) and node.kwargs.get("rounding_mode") in (None, "trunc", "floor")


@dynamo_tensorrt_converter(
    [aten.div.Tensor, aten.div.Scalar, aten.div.Tensor_mode, aten.div.Scalar_mode], capability_validator=_div_mode_ok
)
def aten_ops_div(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    return divide(ctx, a, b, kwargs.get("rounding_mode"), name, _out(ctx))


@dynamo_tensorrt_converter(aten.floor_divide.default, capability_validator=_numeric_output)
def aten_ops_floor_divide(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    return floor_divide(ctx, a, b, name, _out(ctx))


@dynamo_tensorrt_converter([aten.remainder.Tensor, aten.remainder.Scalar], capability_validator=_numeric_output)
def aten_ops_remainder(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    return modulo(ctx, a, b, name, _out(ctx), floor=True)


@dynamo_tensorrt_converter([aten.fmod.Tensor, aten.fmod.Scalar], capability_validator=_numeric_output)
def aten_ops_fmod(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    a, b = _args2(ctx, args)
    return modulo(ctx, a, b, name, _out(ctx), floor=False)


@dynamo_tensorrt_converter(
    [aten.pow.Tensor_Tensor, aten.pow.Tensor_Scalar, aten.pow.Scalar], capability_validator=_numeric_output
)
def aten_ops_pow(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    base, exponent = _args2(ctx, args)
    dtype = _out(ctx)
    if not is_trt_tensor(exponent) and not isinstance(exponent, torch.Tensor) and exponent == 2:
        # x * x is exact and has no trouble with negative bases (a pow kernel may use exp(log)).
        x = to_trt(ctx, base, dtype, f"{name}_base")
        return elementwise(ctx, EW.PROD, x, x, name, dtype)
    return elementwise(ctx, EW.POW, base, exponent, name, dtype)


@dynamo_tensorrt_converter(aten.maximum.default, capability_validator=dtypes_supported)
def aten_ops_maximum(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return arithmetic(ctx, EW.MAX, args[0], args[1], name, _out(ctx))


@dynamo_tensorrt_converter(aten.minimum.default, capability_validator=dtypes_supported)
def aten_ops_minimum(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return arithmetic(ctx, EW.MIN, args[0], args[1], name, _out(ctx))


# ---------------------------------------------------------------- comparisons


def compare(ctx: ConversionContext, kind: str, lhs: Any, rhs: Any, name: str) -> Any:
    """eq/ne/lt/le/gt/ge in torch's promoted dtype; bool and int8/uint8 compare as int32 (exact)
    because TensorRT compares only float and int32/int64 (and quantized int8) tensors."""
    dtype = result_dtype(lhs, rhs)
    if dtype not in (*FLOAT_DTYPES, torch.int32, torch.int64):
        dtype = torch.int32
    a, b = to_trt(ctx, lhs, dtype, f"{name}_lhs"), to_trt(ctx, rhs, dtype, f"{name}_rhs")
    if kind in ("le", "ge"):
        # not(a > b) would be True for NaN; torch gives False, as (a < b) or (a == b) does.
        strict = elementwise(ctx, EW.LESS if kind == "le" else EW.GREATER, a, b, f"{name}_strict")
        return elementwise(ctx, EW.OR, strict, elementwise(ctx, EW.EQUAL, a, b, f"{name}_eq"), name)
    op = {"eq": EW.EQUAL, "ne": EW.EQUAL, "lt": EW.LESS, "gt": EW.GREATER}[kind]
    result = elementwise(ctx, op, a, b, name if kind != "ne" else f"{name}_eq")
    return unary(ctx, UN.NOT, result, name) if kind == "ne" else result


def _register_comparison(kind: str) -> None:
    packet = getattr(aten, kind)

    def convert(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        a, b = _args2(ctx, args)
        return compare(ctx, kind, a, b, name)

    convert.__name__ = f"aten_ops_{kind}"
    dynamo_tensorrt_converter([packet.Tensor, packet.Scalar], capability_validator=dtypes_supported)(convert)


for _kind in ("eq", "ne", "lt", "le", "gt", "ge"):
    _register_comparison(_kind)


# ---------------------------------------------------------------- logical / bitwise


def logical(ctx: ConversionContext, op: Any, lhs: Any, rhs: Any, name: str) -> Any:
    # torch's logical ops read any dtype as "nonzero"; casting to bool does exactly that.
    return elementwise(ctx, op, lhs, rhs, name, torch.bool)


@dynamo_tensorrt_converter(aten.logical_and.default, capability_validator=dtypes_supported)
def aten_ops_logical_and(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.AND, args[0], args[1], name)


@dynamo_tensorrt_converter(aten.logical_or.default, capability_validator=dtypes_supported)
def aten_ops_logical_or(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.OR, args[0], args[1], name)


@dynamo_tensorrt_converter(aten.logical_xor.default, capability_validator=dtypes_supported)
def aten_ops_logical_xor(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.XOR, args[0], args[1], name)


@dynamo_tensorrt_converter(
    [aten.bitwise_and.Tensor, aten.bitwise_and.Scalar, aten.bitwise_and.Scalar_Tensor], capability_validator=_all_bool
)
def aten_ops_bitwise_and(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.AND, args[0], args[1], name)


@dynamo_tensorrt_converter(
    [aten.bitwise_or.Tensor, aten.bitwise_or.Scalar, aten.bitwise_or.Scalar_Tensor], capability_validator=_all_bool
)
def aten_ops_bitwise_or(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.OR, args[0], args[1], name)


@dynamo_tensorrt_converter(
    [aten.bitwise_xor.Tensor, aten.bitwise_xor.Scalar, aten.bitwise_xor.Scalar_Tensor], capability_validator=_all_bool
)
def aten_ops_bitwise_xor(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return logical(ctx, EW.XOR, args[0], args[1], name)


# ---------------------------------------------------------------- where / masked_fill / clamp


@dynamo_tensorrt_converter(
    [aten.where.self, aten.where.ScalarSelf, aten.where.ScalarOther, aten.where.Scalar],
    capability_validator=dtypes_supported,
)
def aten_ops_where(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    cond, a, b = args[0], operand(ctx, args[1], 1), operand(ctx, args[2], 2)
    return select(ctx, cond, a, b, _out(ctx), name)


@dynamo_tensorrt_converter([aten.masked_fill.Scalar, aten.masked_fill.Tensor], capability_validator=dtypes_supported)
def aten_ops_masked_fill(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x, mask, value = args[0], args[1], operand(ctx, args[2], 2)
    return select(ctx, mask, value, x, _out(ctx), name)


def clamp(ctx: ConversionContext, x: Any, lo: Any, hi: Any, name: str, dtype: torch.dtype) -> Any:
    """min(max(x, lo), hi) in that order, which is torch's answer when lo > hi (everything is hi)."""
    out = to_trt(ctx, x, dtype, f"{name}_x")
    if lo is not None:
        out = elementwise(ctx, EW.MAX, out, lo, f"{name}_min" if hi is not None else name, dtype)
    if hi is not None:
        out = elementwise(ctx, EW.MIN, out, hi, name, dtype)
    return out


def _clamp_bounds(args: Any, kwargs: Any) -> tuple[Any, Any]:
    lo = arg(args, kwargs, 1, "min")
    hi = arg(args, kwargs, 2, "max")
    return lo, hi


def _clamp_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _numeric_output(node, settings) and _clamp_bounds(node.args, node.kwargs) != (None, None)


@dynamo_tensorrt_converter([aten.clamp.default, aten.clamp.Tensor], capability_validator=_clamp_ok)
def aten_ops_clamp(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    lo, hi = _clamp_bounds(args, kwargs)
    return clamp(ctx, args[0], lo, hi, name, _out(ctx))


@dynamo_tensorrt_converter([aten.clamp_min.default, aten.clamp_min.Tensor], capability_validator=_numeric_output)
def aten_ops_clamp_min(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return clamp(ctx, args[0], args[1], None, name, _out(ctx))


@dynamo_tensorrt_converter([aten.clamp_max.default, aten.clamp_max.Tensor], capability_validator=_numeric_output)
def aten_ops_clamp_max(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return clamp(ctx, args[0], None, args[1], name, _out(ctx))


# ---------------------------------------------------------------- atan2


def _atan2_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    out = _tensor_val(node)
    return dtypes_supported(node, settings) and out is not None and out.dtype in FLOAT_DTYPES


def atan2(ctx: ConversionContext, y: Any, x: Any, name: str, dtype: torch.dtype) -> Any:
    """atan(y / x) moved into the quadrant of (x, y); TensorRT has ATAN but no two-argument form.

    Half-precision inputs are computed in float32, as torch does. x == 0 is chosen explicitly
    (y / 0 would give the wrong sign for x = -0.0 and NaN for y = 0, where torch gives 0).
    """
    compute = torch.float32
    y, x = to_trt(ctx, y, compute, f"{name}_y"), to_trt(ctx, x, compute, f"{name}_x")
    base = unary(ctx, UN.ATAN, elementwise(ctx, EW.DIV, y, x, f"{name}_ratio"), f"{name}_atan")
    y_negative = elementwise(ctx, EW.LESS, y, 0.0, f"{name}_y_neg", compute)
    # x < 0 turns the angle by pi towards y's side.
    turn = select(ctx, y_negative, -torch.pi, torch.pi, compute, f"{name}_turn")
    turned = elementwise(ctx, EW.SUM, base, turn, f"{name}_turned")
    x_negative = elementwise(ctx, EW.LESS, x, 0.0, f"{name}_x_neg", compute)
    result = select(ctx, x_negative, turned, base, compute, f"{name}_quadrant")
    y_positive = elementwise(ctx, EW.GREATER, y, 0.0, f"{name}_y_pos", compute)
    on_axis = select(
        ctx,
        y_positive,
        torch.pi / 2,
        select(ctx, y_negative, -torch.pi / 2, 0.0, compute, f"{name}_down"),
        compute,
        f"{name}_axis",
    )
    x_zero = elementwise(ctx, EW.EQUAL, x, 0.0, f"{name}_x_zero", compute)
    return cast(ctx, select(ctx, x_zero, on_axis, result, compute, f"{name}_x0"), dtype, name)


@dynamo_tensorrt_converter(aten.atan2.default, capability_validator=_atan2_ok)
def aten_ops_atan2(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    y, x = _args2(ctx, args)
    return atan2(ctx, y, x, name, _out(ctx))
