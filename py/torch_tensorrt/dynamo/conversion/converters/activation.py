from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import set_layer_name

aten = torch.ops.aten


def add_activation(
    ctx: ConversionContext, x: Any, kind: Any, name: str, alpha: float | None = None, beta: float | None = None
) -> Any:
    layer = ctx.net.add_activation(x, kind)
    if alpha is not None:
        layer.alpha = alpha
    if beta is not None:
        layer.beta = beta
    set_layer_name(layer, name)
    return layer.get_output(0)


@dynamo_tensorrt_converter(aten.relu.default)
def aten_ops_relu(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return add_activation(ctx, args[0], trt.ActivationType.RELU, name)
