"""Converters: unary math, rounding, predicates and logical/bitwise not.

TensorRT's Unary layer computes math functions on float tensors only (ABS/NEG/SIGN also on
int32/int64), so integer and bool inputs of float-valued ops (torch.sqrt(int) is float32) are cast to
the traced output dtype first. Ops without a TensorRT operation are composed; the composites whose
accuracy depends on intermediate rounding are evaluated in float32, as torch does for fp16/bf16.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import arg, dtype_of, output_dtype
from torch_tensorrt.dynamo.conversion.converters.elementwise import (
    FLOAT_DTYPES,
    as_tensor,
    cast,
    dtypes_supported,
    elementwise,
    input_vals,
    select,
    trunc,
    unary,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation
Fn = Callable[[ConversionContext, Any, str], Any]


def _supported(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return dtypes_supported(node, settings)


def _float_input(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """For ops torch only defines on floating inputs (e.g. round with decimals)."""
    return dtypes_supported(node, settings) and all(v.is_floating_point() for v in input_vals(node))


def _out(ctx: ConversionContext) -> torch.dtype:
    dtype = output_dtype(ctx)
    assert dtype is not None, "converter needs the traced output dtype"
    return dtype


def in_float32(ctx: ConversionContext, x: Any, fn: Fn, name: str) -> Any:
    """``fn`` evaluated in float32 and rounded once to x's dtype, like torch's fp16/bf16 kernels."""
    dtype = dtype_of(x)
    return cast(ctx, fn(ctx, cast(ctx, x, torch.float32, f"{name}_up"), name), dtype, f"{name}_down")


def horner(ctx: ConversionContext, x: Any, coefficients: list[float], name: str) -> Any:
    """x * (c0 + x * (c1 + x * (c2 + ...))): a short Taylor series around 0."""
    acc: Any = coefficients[-1]
    for i, c in enumerate(reversed(coefficients[:-1])):
        acc = elementwise(ctx, EW.SUM, elementwise(ctx, EW.PROD, x, acc, f"{name}_h{i}_mul"), c, f"{name}_h{i}_add")
    return elementwise(ctx, EW.PROD, x, acc, f"{name}_series")


# Below this |x| a 4-term series is accurate to ~1e-9 relative, while log(1 + x) / exp(x) - 1 lose
# at most ~1e-5 relative above it (float32 cancellation).
_SERIES_LIMIT = 1e-2


def _near_zero(ctx: ConversionContext, x: Any, name: str) -> Any:
    return elementwise(ctx, EW.LESS, unary(ctx, UN.ABS, x, f"{name}_abs"), _SERIES_LIMIT, f"{name}_small")


def _log1p(ctx: ConversionContext, x: Any, name: str) -> Any:
    series = horner(ctx, x, [1.0, -1 / 2, 1 / 3, -1 / 4], name)
    direct = unary(ctx, UN.LOG, elementwise(ctx, EW.SUM, x, 1.0, f"{name}_plus1"), f"{name}_log")
    return select(ctx, _near_zero(ctx, x, name), series, direct, torch.float32, name)


def _expm1(ctx: ConversionContext, x: Any, name: str) -> Any:
    series = horner(ctx, x, [1.0, 1 / 2, 1 / 6, 1 / 24], name)
    direct = elementwise(ctx, EW.SUB, unary(ctx, UN.EXP, x, f"{name}_exp"), 1.0, f"{name}_minus1")
    return select(ctx, _near_zero(ctx, x, name), series, direct, torch.float32, name)


def _log_base(base: float) -> Fn:
    def fn(ctx: ConversionContext, x: Any, name: str) -> Any:
        return elementwise(ctx, EW.PROD, unary(ctx, UN.LOG, x, f"{name}_ln"), 1 / math.log(base), name)

    return fn


def _rsqrt(ctx: ConversionContext, x: Any, name: str) -> Any:
    return unary(ctx, UN.RECIP, unary(ctx, UN.SQRT, x, f"{name}_sqrt"), name)


def _exp2(ctx: ConversionContext, x: Any, name: str) -> Any:
    return elementwise(ctx, EW.POW, 2.0, x, name)


def _direct(op: Any) -> Fn:
    def fn(ctx: ConversionContext, x: Any, name: str) -> Any:
        return unary(ctx, op, x, name)

    return fn


# Float-valued ops: aten packet -> (computation, evaluate in float32 for fp16/bf16).
_FLOAT_OPS: dict[Any, tuple[Fn, bool]] = {
    aten.exp.default: (_direct(UN.EXP), False),
    aten.log.default: (_direct(UN.LOG), False),
    aten.sqrt.default: (_direct(UN.SQRT), False),
    aten.reciprocal.default: (_direct(UN.RECIP), False),
    aten.sin.default: (_direct(UN.SIN), False),
    aten.cos.default: (_direct(UN.COS), False),
    aten.tan.default: (_direct(UN.TAN), False),
    aten.asin.default: (_direct(UN.ASIN), False),
    aten.acos.default: (_direct(UN.ACOS), False),
    aten.atan.default: (_direct(UN.ATAN), False),
    aten.sinh.default: (_direct(UN.SINH), False),
    aten.cosh.default: (_direct(UN.COSH), False),
    aten.asinh.default: (_direct(UN.ASINH), False),
    aten.acosh.default: (_direct(UN.ACOSH), False),
    aten.atanh.default: (_direct(UN.ATANH), False),
    aten.erf.default: (_direct(UN.ERF), False),
    aten.rsqrt.default: (_rsqrt, True),
    aten.log2.default: (_log_base(2.0), True),
    aten.log10.default: (_log_base(10.0), True),
    aten.log1p.default: (_log1p, True),
    aten.expm1.default: (_expm1, True),
    aten.exp2.default: (_exp2, True),
}


def _float_op(fn: Fn, widen: bool) -> Callable[..., Any]:
    def convert(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        # torch.sqrt(int tensor) is float32: the traced output dtype says what to compute in.
        x = cast(ctx, args[0], _out(ctx), f"{name}_in")
        if widen and dtype_of(x) != torch.float32:
            return in_float32(ctx, x, fn, name)
        return fn(ctx, x, name)

    return convert


for _target, (_fn, _widen) in _FLOAT_OPS.items():
    dynamo_tensorrt_converter(_target, capability_validator=_supported)(_float_op(_fn, _widen))


# ---------------------------------------------------------------- dtype-preserving ops


@dynamo_tensorrt_converter(aten.abs.default, capability_validator=_supported)
def aten_ops_abs(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    return x if dtype_of(x) == torch.bool else unary(ctx, UN.ABS, x, name)


@dynamo_tensorrt_converter(aten.sign.default, capability_validator=_supported)
def aten_ops_sign(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    return x if dtype_of(x) == torch.bool else unary(ctx, UN.SIGN, x, name)


def _not_bool(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return dtypes_supported(node, settings) and all(v.dtype != torch.bool for v in input_vals(node))


@dynamo_tensorrt_converter(aten.neg.default, capability_validator=_not_bool)
def aten_ops_neg(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return unary(ctx, UN.NEG, as_tensor(ctx, args[0], name), name)


def _rounding(op: Any) -> Callable[..., Any]:
    def convert(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        x = as_tensor(ctx, args[0], name)
        # Integers are already whole: torch returns them unchanged.
        if dtype_of(x) not in FLOAT_DTYPES:
            return x
        return trunc(ctx, x, name) if op is None else unary(ctx, op, x, name)

    return convert


for _target, _op in (
    (aten.floor.default, UN.FLOOR),
    (aten.ceil.default, UN.CEIL),
    # UnaryOperation.ROUND rounds half to even, as torch.round does.
    (aten.round.default, UN.ROUND),
    (aten.trunc.default, None),
):
    dynamo_tensorrt_converter(_target, capability_validator=_not_bool)(_rounding(_op))


@dynamo_tensorrt_converter(aten.round.decimals, capability_validator=_float_input)
def aten_ops_round_decimals(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    decimals = int(arg(args, kwargs, 1, "decimals", 0))
    scale = 10.0 ** abs(decimals)
    # torch: round(x * 10^d) / 10^d, or round(x / 10^-d) * 10^-d for negative d, in float32.
    first, second = (EW.PROD, EW.DIV) if decimals >= 0 else (EW.DIV, EW.PROD)

    def fn(c: ConversionContext, x: Any, n: str) -> Any:
        scaled = unary(c, UN.ROUND, elementwise(c, first, x, scale, f"{n}_scale"), f"{n}_round")
        return elementwise(c, second, scaled, scale, n)

    return in_float32(ctx, as_tensor(ctx, args[0], name), fn, name)


# ---------------------------------------------------------------- predicates and logic


def _predicate(op: Any) -> Callable[..., Any]:
    def convert(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        x = as_tensor(ctx, args[0], name)
        if dtype_of(x) in FLOAT_DTYPES:
            return unary(ctx, op, x, name)
        # Integers are never NaN or infinite; x != x is an all-False tensor of x's shape.
        x = cast(ctx, x, torch.int32, f"{name}_int") if dtype_of(x) == torch.bool else x
        return unary(ctx, UN.NOT, elementwise(ctx, EW.EQUAL, x, x, f"{name}_eq"), name)

    return convert


dynamo_tensorrt_converter(aten.isnan.default, capability_validator=_supported)(_predicate(UN.ISNAN))
dynamo_tensorrt_converter(aten.isinf.default, capability_validator=_supported)(_predicate(UN.ISINF))


@dynamo_tensorrt_converter(aten.logical_not.default, capability_validator=_supported)
def aten_ops_logical_not(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # Casting to bool reads any dtype as "nonzero", which is torch's truth value.
    return unary(ctx, UN.NOT, cast(ctx, args[0], torch.bool, f"{name}_bool"), name)


@dynamo_tensorrt_converter(aten.bitwise_not.default, capability_validator=_supported)
def aten_ops_bitwise_not(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    if dtype_of(x) == torch.bool:
        return unary(ctx, UN.NOT, x, name)
    # Two's complement: ~x == -x - 1 for every integer (TensorRT has no bitwise integer ops).
    return elementwise(ctx, EW.SUB, unary(ctx, UN.NEG, x, f"{name}_neg"), 1, name)
