from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    broadcast_ranks,
    get_trt_tensor,
    output_dtype,
    result_dtype,
    set_layer_name,
)

aten = torch.ops.aten


def elementwise(
    ctx: ConversionContext, op: Any, lhs: Any, rhs: Any, name: str, dtype: torch.dtype | None = None
) -> Any:
    """``lhs op rhs`` with torch type promotion and numpy broadcasting made explicit.

    The network is strongly typed, so both operands are cast to the result dtype first.
    """
    dtype = dtype or output_dtype(ctx) or result_dtype(lhs, rhs)
    a = get_trt_tensor(ctx, lhs, f"{name}_lhs", dtype)
    b = get_trt_tensor(ctx, rhs, f"{name}_rhs", dtype)
    a, b = broadcast_ranks(ctx, a, b, name)
    layer = ctx.net.add_elementwise(a, b, op)
    set_layer_name(layer, name)
    return layer.get_output(0)


def _scaled(ctx: ConversionContext, value: Any, alpha: Any, name: str) -> Any:
    if alpha is None or alpha == 1:
        return value
    return elementwise(ctx, trt.ElementWiseOperation.PROD, value, alpha, f"{name}_alpha")


@dynamo_tensorrt_converter([aten.add.Tensor, aten.add.Scalar])
def aten_ops_add(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    rhs = _scaled(ctx, args[1], kwargs.get("alpha", args[2] if len(args) > 2 else None), name)
    return elementwise(ctx, trt.ElementWiseOperation.SUM, args[0], rhs, name)


@dynamo_tensorrt_converter([aten.mul.Tensor, aten.mul.Scalar])
def aten_ops_mul(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return elementwise(ctx, trt.ElementWiseOperation.PROD, args[0], args[1], name)
