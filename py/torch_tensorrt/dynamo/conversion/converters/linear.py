from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    broadcast_ranks,
    dtype_of,
    get_trt_tensor,
    output_dtype,
    set_layer_name,
)

aten = torch.ops.aten


def matmul(ctx: ConversionContext, a: Any, b: Any, name: str, transpose_b: bool = False) -> Any:
    dtype = output_dtype(ctx) or dtype_of(a)
    a = get_trt_tensor(ctx, a, f"{name}_a", dtype)
    b = get_trt_tensor(ctx, b, f"{name}_b", dtype)
    op_a = trt.MatrixOperation.VECTOR if len(a.shape) == 1 else trt.MatrixOperation.NONE
    op_b = trt.MatrixOperation.VECTOR if len(b.shape) == 1 else (
        trt.MatrixOperation.TRANSPOSE if transpose_b else trt.MatrixOperation.NONE
    )
    if op_a != trt.MatrixOperation.VECTOR and op_b != trt.MatrixOperation.VECTOR:
        a, b = broadcast_ranks(ctx, a, b, name)
    layer = ctx.net.add_matrix_multiply(a, op_a, b, op_b)
    set_layer_name(layer, name)
    return layer.get_output(0)


def add_bias(ctx: ConversionContext, x: Any, bias: Any, name: str) -> Any:
    if bias is None:
        return x
    b = get_trt_tensor(ctx, bias, f"{name}_bias", dtype_of(x))
    x, b = broadcast_ranks(ctx, x, b, f"{name}_bias")
    layer = ctx.net.add_elementwise(x, b, trt.ElementWiseOperation.SUM)
    set_layer_name(layer, name, "bias")
    return layer.get_output(0)


@dynamo_tensorrt_converter(aten.linear.default)
def aten_ops_linear(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    bias = args[2] if len(args) > 2 else kwargs.get("bias")
    return add_bias(ctx, matmul(ctx, args[0], args[1], name, transpose_b=True), bias, name)


@dynamo_tensorrt_converter(aten.mm.default)
def aten_ops_mm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return matmul(ctx, args[0], args[1], name)


@dynamo_tensorrt_converter(aten.addmm.default)
def aten_ops_addmm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    from torch_tensorrt.dynamo.conversion.converters.elementwise import elementwise

    product = matmul(ctx, args[1], args[2], name)
    if alpha != 1:
        product = elementwise(ctx, trt.ElementWiseOperation.PROD, product, alpha, f"{name}_alpha")
    bias = args[0]
    if beta == 0:
        return product
    if beta != 1:
        bias = elementwise(ctx, trt.ElementWiseOperation.PROD, bias, beta, f"{name}_beta")
    return elementwise(ctx, trt.ElementWiseOperation.SUM, product, bias, f"{name}_add")
