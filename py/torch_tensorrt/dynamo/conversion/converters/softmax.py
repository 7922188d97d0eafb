"""Converters: softmax and log_softmax."""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    add_unary,
    axes_mask,
    cast_trt_tensor,
    dtype_of,
    get_positive_dim,
    output_dtype,
    reshape,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters.reduction import reduce

aten = torch.ops.aten
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def softmax(ctx: ConversionContext, x: TRTTensor, dim: int, name: str) -> TRTTensor:
    """Softmax over ``dim`` (positive) of a floating ITensor."""
    rank = len(x.shape)
    if rank < 2:
        # TensorRT's softmax needs rank >= 2: lift to [1, n] (a 0-d tensor is one element).
        lifted = reshape(ctx, x, [1, -1], f"{name}_2d")
        return reshape(ctx, softmax(ctx, lifted, 1, name), [-1] if rank else [], f"{name}_back")
    layer = ctx.net.add_softmax(x)
    layer.axes = axes_mask([dim], len(x.shape))
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def log_softmax(ctx: ConversionContext, x: TRTTensor, dim: int, name: str) -> TRTTensor:
    """``x - max - log(sum(exp(x - max)))``: log(softmax) would underflow to -inf for tiny softmax values.

    fp16/bf16 are computed in fp32 (torch's kernels accumulate in fp32 too) and rounded once at the end.
    """
    dtype = dtype_of(x)
    if len(x.shape) == 0:
        flat = reshape(ctx, x, [1], f"{name}_1d")
        return reshape(ctx, log_softmax(ctx, flat, 0, name), [], f"{name}_0d")
    x = cast_trt_tensor(ctx, x, torch.float32, name)
    peak = reduce(ctx, x, trt.ReduceOperation.MAX, [dim], True, f"{name}_max")
    shifted = add_binary(ctx, trt.ElementWiseOperation.SUB, x, peak, f"{name}_shift")
    exp = add_unary(ctx, trt.UnaryOperation.EXP, shifted, f"{name}_exp")
    total = reduce(ctx, exp, trt.ReduceOperation.SUM, [dim], True, f"{name}_sum")
    log_total = add_unary(ctx, trt.UnaryOperation.LOG, total, f"{name}_log")
    out = add_binary(ctx, trt.ElementWiseOperation.SUB, shifted, log_total, f"{name}_out")
    return cast_trt_tensor(ctx, out, dtype, name)


def _float_input(node: torch.fx.Node, settings: object) -> bool:
    val = node.args[0].meta.get("val")
    return isinstance(val, torch.Tensor) and val.dtype in FLOATS


def _convert(ctx: ConversionContext, args: Any, name: str, log: bool) -> TRTTensor:
    # softmax.int's dtype and _softmax's half_to_float both mean: compute in the result dtype.
    x = cast_trt_tensor(ctx, args[0], output_dtype(ctx) or dtype_of(args[0]), name)
    dim = get_positive_dim(args[1], len(x.shape))
    return (log_softmax if log else softmax)(ctx, x, dim, name)


@dynamo_tensorrt_converter([aten.softmax.int, aten._softmax.default], capability_validator=_float_input)
def aten_ops_softmax(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _convert(ctx, args, name, log=False)


@dynamo_tensorrt_converter([aten.log_softmax.int, aten._log_softmax.default], capability_validator=_float_input)
def aten_ops_log_softmax(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _convert(ctx, args, name, log=True)
