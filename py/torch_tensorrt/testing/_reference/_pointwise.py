"""Per-element layers: Activation, ElementWise, Unary, Select, ParametricReLU, Scale, Cast, Identity."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._common import (
    Inputs,
    Tensor,
    check_broadcast,
    enum_param,
    layer_error,
    need,
    out_dtype,
    register,
    require_dtype,
    unsupported,
    widen,
)
from ._dtypes import FLOATING, INDEX, trt_name
from ._record import LayerRecord

# Formulas from TensorRT's ActivationType documentation; x is already fp32 (or fp64) here.
_ACTIVATIONS: dict[str, Callable[[Tensor, float, float], Tensor]] = {
    "RELU": lambda x, a, b: torch.relu(x),
    "SIGMOID": lambda x, a, b: torch.sigmoid(x),
    "TANH": lambda x, a, b: torch.tanh(x),
    "LEAKY_RELU": lambda x, a, b: torch.where(x >= 0, x, a * x),
    "ELU": lambda x, a, b: torch.where(x >= 0, x, a * torch.expm1(x)),
    "SELU": lambda x, a, b: torch.where(x > 0, b * x, b * (a * torch.exp(x) - a)),
    "SOFTSIGN": lambda x, a, b: x / (1 + x.abs()),
    # a*log(exp(b*x)+1), written with logaddexp so large b*x does not overflow.
    "SOFTPLUS": lambda x, a, b: a * torch.logaddexp(b * x, torch.zeros_like(x)),
    # max(alpha, min(beta, x)) literally: torch.clamp gives a different answer when alpha > beta.
    "CLIP": lambda x, a, b: torch.clamp_min(torch.clamp_max(x, b), a),
    "HARD_SIGMOID": lambda x, a, b: torch.clamp_min(torch.clamp_max(a * x + b, 1.0), 0.0),
    "SCALED_TANH": lambda x, a, b: a * torch.tanh(b * x),
    "THRESHOLDED_RELU": lambda x, a, b: torch.where(x > a, x, torch.zeros_like(x)),
    "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + torch.erf(x * math.sqrt(0.5))),
    "GELU_TANH": lambda x, a, b: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (0.044715 * x**3 + x))),
}


@register("ACTIVATION")
def _activation(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    kind = enum_param(layer, "activation_type", "ActivationType", list(_ACTIVATIONS))
    alpha, beta = float(layer.params["alpha"]), float(layer.params["beta"])
    if x.dtype not in FLOATING:
        # The builder accepts integer RELU; other integer activations only exist for quantized INT8,
        # whose scales the network does not carry, so they are not guessed at.
        if kind == "RELU" and x.dtype in (torch.int8, torch.int32, torch.int64):
            return [torch.clamp_min(x, 0)]
        raise unsupported(layer, f"ActivationType.{kind} on DataType.{trt_name(x.dtype)} input")
    return [_ACTIVATIONS[kind](widen(x), alpha, beta).to(x.dtype)]


_ARITH = ("SUM", "PROD", "MAX", "MIN", "SUB", "DIV", "POW", "FLOOR_DIV")
_LOGIC = ("AND", "OR", "XOR")
_COMPARE = ("EQUAL", "GREATER", "LESS")


def _arith(op: str, a: Tensor, b: Tensor, floating: bool) -> Tensor:
    if op == "SUM":
        return a + b
    if op == "PROD":
        return a * b
    if op == "MAX":
        return torch.maximum(a, b)
    if op == "MIN":
        return torch.minimum(a, b)
    if op == "SUB":
        return a - b
    if op == "DIV":
        # Integer DIV is C integer division (truncation toward zero), as in TensorRT's kernels.
        return a / b if floating else torch.div(a, b, rounding_mode="trunc")
    if op == "POW":
        return torch.pow(a, b)
    assert op == "FLOOR_DIV"
    return torch.floor(a / b) if floating else torch.div(a, b, rounding_mode="floor")


@register("ELEMENTWISE")
def _elementwise(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    a, b = need(layer, inputs, 0), need(layer, inputs, 1)
    op = enum_param(layer, "op", "ElementWiseOperation", _ARITH + _LOGIC + _COMPARE)
    if a.dtype != b.dtype:
        raise layer_error(layer, f"input types differ: {a.dtype} and {b.dtype}")
    check_broadcast(layer, [a, b])
    if op in _LOGIC:
        require_dtype(layer, a, [torch.bool], f"ElementWiseOperation.{op}")
        fn = {"AND": torch.logical_and, "OR": torch.logical_or, "XOR": torch.logical_xor}[op]
        return [fn(a, b)]
    if op in _COMPARE:
        allowed = FLOATING + (torch.int8,) + INDEX + ((torch.bool,) if op == "EQUAL" else ())
        require_dtype(layer, a, allowed, f"ElementWiseOperation.{op}")
        fn = {"EQUAL": torch.eq, "GREATER": torch.gt, "LESS": torch.lt}[op]
        return [fn(a, b)]
    if a.dtype in FLOATING:
        return [_arith(op, widen(a), widen(b), floating=True).to(a.dtype)]
    if a.dtype in INDEX or (a.dtype == torch.int8 and op in ("MAX", "MIN")):
        return [_arith(op, a, b, floating=False).to(a.dtype)]
    # INT8 arithmetic in TensorRT is quantized arithmetic; without scales there is no defined answer.
    raise unsupported(layer, f"ElementWiseOperation.{op} on DataType.{trt_name(a.dtype)} inputs")


_UNARY_FLOAT: dict[str, Callable[[Tensor], Tensor]] = {
    "EXP": torch.exp,
    "LOG": torch.log,
    "SQRT": torch.sqrt,
    "RECIP": torch.reciprocal,
    "ABS": torch.abs,
    "NEG": torch.neg,
    "SIN": torch.sin,
    "COS": torch.cos,
    "TAN": torch.tan,
    "SINH": torch.sinh,
    "COSH": torch.cosh,
    "ASIN": torch.asin,
    "ACOS": torch.acos,
    "ATAN": torch.atan,
    "ASINH": torch.asinh,
    "ACOSH": torch.acosh,
    "ATANH": torch.atanh,
    "CEIL": torch.ceil,
    "FLOOR": torch.floor,
    "ERF": torch.erf,
    "SIGN": torch.sign,
    # torch.round rounds half to even, which is what UnaryOperation.ROUND specifies.
    "ROUND": torch.round,
}
_UNARY_INT = ("ABS", "NEG", "SIGN")
_UNARY_PREDICATE: dict[str, Callable[[Tensor], Tensor]] = {"ISINF": torch.isinf, "ISNAN": torch.isnan}


@register("UNARY")
def _unary(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    op = enum_param(layer, "op", "UnaryOperation", [*_UNARY_FLOAT, *_UNARY_PREDICATE, "NOT"])
    if op == "NOT":
        require_dtype(layer, x, [torch.bool], "UnaryOperation.NOT")
        return [torch.logical_not(x)]
    if op in _UNARY_PREDICATE:
        require_dtype(layer, x, FLOATING, f"UnaryOperation.{op}")
        return [_UNARY_PREDICATE[op](x)]
    if x.dtype in FLOATING:
        return [_UNARY_FLOAT[op](widen(x)).to(x.dtype)]
    if op in _UNARY_INT and x.dtype in INDEX:
        return [_UNARY_FLOAT[op](x)]
    raise unsupported(layer, f"UnaryOperation.{op} on DataType.{trt_name(x.dtype)} input")


@register("SELECT")
def _select(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    cond, a, b = need(layer, inputs, 0), need(layer, inputs, 1), need(layer, inputs, 2)
    if cond.dtype != torch.bool:
        raise layer_error(layer, f"condition must be bool, got {cond.dtype}")
    if a.dtype != b.dtype:
        raise layer_error(layer, f"input types differ: {a.dtype} and {b.dtype}")
    check_broadcast(layer, [cond, a, b])
    return [torch.where(cond, a, b)]


@register("PARAMETRIC_RELU")
def _prelu(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x, slope = need(layer, inputs, 0), need(layer, inputs, 1)
    require_dtype(layer, x, FLOATING, "ParametricReLU")
    check_broadcast(layer, [x, slope])
    xf = widen(x)
    return [torch.where(xf >= 0, xf, widen(slope) * xf).to(x.dtype)]


def _convert(layer: LayerRecord, x: Tensor, dtype: torch.dtype) -> Tensor:
    """Value conversion. Float -> int32/int64 truncates toward zero (C conversion, as torch's .to()).
    For the 8-bit integer types neither rounding nor saturation is documented, so only values they hold
    exactly are converted; anything else is reported instead of guessed."""
    if dtype in (torch.int8, torch.uint8) and x.dtype not in (torch.bool, dtype):
        info = torch.iinfo(dtype)
        exact = (x == x.trunc()) if x.is_floating_point() else torch.ones_like(x, dtype=torch.bool)
        if not bool((exact & (x >= info.min) & (x <= info.max)).all()):
            raise unsupported(layer, f"conversion of non-integral or out-of-range values to DataType.{trt_name(dtype)}")
    return x.to(dtype)


@register("CAST")
def _cast(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    return [_convert(layer, need(layer, inputs, 0), out_dtype(layer))]


@register("IDENTITY")
def _identity(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    # In a strongly typed network the declared output type may differ from the input type: then the
    # identity layer is a conversion, like a cast.
    return [_convert(layer, need(layer, inputs, 0), out_dtype(layer))]


@register("SCALE")
def _scale(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    require_dtype(layer, x, FLOATING, "Scale")
    mode = enum_param(layer, "mode", "ScaleMode", ["UNIFORM", "CHANNEL", "ELEMENTWISE"])
    rank = x.dim()
    axis = int(layer.params["channel_axis"])
    if mode != "UNIFORM" and not 0 <= axis < rank:
        raise layer_error(layer, f"channel axis {axis} is out of range for rank {rank}")
    if mode == "UNIFORM":
        coeff_shape = [1] * rank
    elif mode == "CHANNEL":
        coeff_shape = [1] * rank
        coeff_shape[axis] = int(x.shape[axis])
    else:
        coeff_shape = [1] * axis + [int(d) for d in x.shape[axis:]]

    def coeff(key: str) -> Tensor | None:
        w = layer.params[key]
        if w is None:
            return None
        if w.numel() != math.prod(coeff_shape):
            raise layer_error(layer, f"{key} has {w.numel()} values, ScaleMode.{mode} needs {math.prod(coeff_shape)}")
        return w.to(torch.float32).reshape(coeff_shape)

    scale, shift, power = coeff("scale"), coeff("shift"), coeff("power")
    # One fresh tensor, then in-place updates: batch-norm-like Scale layers are a large share of the
    # memory traffic of a CNN.
    y = widen(x) * scale if scale is not None else widen(x).clone()
    if shift is not None:
        y.add_(shift)
    if power is not None:
        y.pow_(power)
    return [y.to(x.dtype)]
