"""Converters: activations, mostly one TensorRT Activation layer each.

Activation layers take float tensors only (RELU also int32/int64): integer inputs of sigmoid/tanh are
cast to the traced float output dtype, and relu6/hardtanh on integers become a MAX/MIN clamp.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import arg, dtype_of, output_dtype, set_layer_name
from torch_tensorrt.dynamo.conversion.converters.elementwise import (
    FLOAT_DTYPES,
    as_tensor,
    cast,
    clamp,
    dtypes_supported,
    elementwise,
    input_vals,
)

aten = torch.ops.aten
ACT = trt.ActivationType
EW = trt.ElementWiseOperation


def add_activation(
    ctx: ConversionContext, x: Any, kind: Any, name: str, alpha: float | None = None, beta: float | None = None
) -> Any:
    layer = ctx.net.add_activation(x, kind)
    if alpha is not None:
        layer.alpha = alpha
    if beta is not None:
        layer.beta = beta
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _numeric(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return dtypes_supported(node, settings) and all(v.dtype != torch.bool for v in input_vals(node))


def _float_input(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return dtypes_supported(node, settings) and all(v.is_floating_point() for v in input_vals(node))


def _float_out(ctx: ConversionContext, x: Any, name: str) -> Any:
    """x cast to the traced output dtype: torch.sigmoid(int tensor) is float32."""
    dtype = output_dtype(ctx) or torch.float32
    return cast(ctx, x, dtype, f"{name}_in")


@dynamo_tensorrt_converter(aten.relu.default, capability_validator=_numeric)
def aten_ops_relu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # RELU is also defined on int32/int64 tensors.
    return add_activation(ctx, as_tensor(ctx, args[0], name), ACT.RELU, name)


def _clip(ctx: ConversionContext, x: Any, lo: float, hi: float, name: str) -> Any:
    if dtype_of(x) in FLOAT_DTYPES:
        return add_activation(ctx, x, ACT.CLIP, name, alpha=lo, beta=hi)
    return clamp(ctx, x, lo, hi, name, dtype_of(x))


@dynamo_tensorrt_converter(aten.relu6.default, capability_validator=_numeric)
def aten_ops_relu6(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _clip(ctx, as_tensor(ctx, args[0], name), 0, 6, name)


@dynamo_tensorrt_converter(aten.hardtanh.default, capability_validator=_numeric)
def aten_ops_hardtanh(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    lo = arg(args, kwargs, 1, "min_val", -1.0)
    hi = arg(args, kwargs, 2, "max_val", 1.0)
    return _clip(ctx, as_tensor(ctx, args[0], name), lo, hi, name)


@dynamo_tensorrt_converter(aten.sigmoid.default, capability_validator=_numeric)
def aten_ops_sigmoid(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return add_activation(ctx, _float_out(ctx, args[0], name), ACT.SIGMOID, name)


@dynamo_tensorrt_converter(aten.tanh.default, capability_validator=_numeric)
def aten_ops_tanh(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return add_activation(ctx, _float_out(ctx, args[0], name), ACT.TANH, name)


@dynamo_tensorrt_converter(aten.silu.default, capability_validator=_float_input)
def aten_ops_silu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    return elementwise(ctx, EW.PROD, x, add_activation(ctx, x, ACT.SIGMOID, f"{name}_sigmoid"), name)


def _gelu_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _float_input(node, settings) and node.kwargs.get("approximate", "none") in ("none", "tanh")


@dynamo_tensorrt_converter(aten.gelu.default, capability_validator=_gelu_ok)
def aten_ops_gelu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    kind = ACT.GELU_TANH if kwargs.get("approximate", "none") == "tanh" else ACT.GELU_ERF
    return add_activation(ctx, as_tensor(ctx, args[0], name), kind, name)


def _hard_sigmoid(ctx: ConversionContext, x: Any, name: str) -> Any:
    # relu6(x + 3) / 6 == clip(x / 6 + 1/2, 0, 1)
    return add_activation(ctx, x, ACT.HARD_SIGMOID, name, alpha=1 / 6, beta=0.5)


@dynamo_tensorrt_converter(aten.hardsigmoid.default, capability_validator=_float_input)
def aten_ops_hardsigmoid(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _hard_sigmoid(ctx, as_tensor(ctx, args[0], name), name)


@dynamo_tensorrt_converter(aten.hardswish.default, capability_validator=_float_input)
def aten_ops_hardswish(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    return elementwise(ctx, EW.PROD, x, _hard_sigmoid(ctx, x, f"{name}_hardsigmoid"), name)


@dynamo_tensorrt_converter(aten.leaky_relu.default, capability_validator=_float_input)
def aten_ops_leaky_relu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    slope = arg(args, kwargs, 1, "negative_slope", 0.01)
    return add_activation(ctx, as_tensor(ctx, args[0], name), ACT.LEAKY_RELU, name, alpha=slope)


@dynamo_tensorrt_converter(aten.elu.default, capability_validator=_float_input)
def aten_ops_elu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)); selu is elu with a scale."""
    x = as_tensor(ctx, args[0], name)
    alpha, scale, input_scale = (
        kwargs.get(key, args[i] if len(args) > i else 1.0) for i, key in enumerate(("alpha", "scale", "input_scale"), 1)
    )
    if input_scale == 1:
        if scale == 1:
            return add_activation(ctx, x, ACT.ELU, name, alpha=alpha)
        return add_activation(ctx, x, ACT.SELU, name, alpha=alpha, beta=scale)
    # input_scale only applies on the negative side: relu(x) + elu(input_scale * min(x, 0)).
    negative = elementwise(ctx, EW.PROD, elementwise(ctx, EW.MIN, x, 0, f"{name}_neg"), input_scale, f"{name}_in_scale")
    curve = add_activation(ctx, negative, ACT.ELU, f"{name}_elu", alpha=alpha)
    y = elementwise(ctx, EW.SUM, add_activation(ctx, x, ACT.RELU, f"{name}_pos"), curve, f"{name}_sum")
    return y if scale == 1 else elementwise(ctx, EW.PROD, y, scale, name)
