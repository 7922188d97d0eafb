from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import set_layer_name

aten = torch.ops.aten


def _static_spatial(node: torch.fx.Node, settings: object) -> bool:
    val = node.args[0].meta.get("val")
    return isinstance(val, torch.Tensor) and all(isinstance(d, int) for d in val.shape[2:])


@dynamo_tensorrt_converter(aten.adaptive_avg_pool2d.default, capability_validator=_static_spatial)
def aten_ops_adaptive_avg_pool2d(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x, output_size = args[0], list(args[1])
    in_size = list(x.shape[-2:])
    if any(i % o for i, o in zip(in_size, output_size)):
        raise NotImplementedError("adaptive pooling with uneven windows")
    stride = [i // o for i, o in zip(in_size, output_size)]
    kernel = [i - (o - 1) * s for i, o, s in zip(in_size, output_size, stride)]
    layer = ctx.net.add_pooling_nd(x, trt.PoolingType.AVERAGE, tuple(kernel))
    layer.stride_nd = tuple(stride)
    set_layer_name(layer, name)
    return layer.get_output(0)


def _max_pool_ok(node: torch.fx.Node, settings: object) -> bool:
    return len(node.args) < 6 or not node.args[5]  # ceil_mode handled below; dilation must be 1


@dynamo_tensorrt_converter(aten.max_pool2d_with_indices.default)
def aten_ops_max_pool2d_with_indices(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x, kernel = args[0], list(args[1])
    stride = list(args[2]) if len(args) > 2 and args[2] else kernel
    padding = list(args[3]) if len(args) > 3 else [0, 0]
    if len(padding) == 1:
        padding = padding * 2
    ceil_mode = args[5] if len(args) > 5 else False
    layer = ctx.net.add_pooling_nd(x, trt.PoolingType.MAX, tuple(kernel))
    layer.stride_nd = tuple(stride)
    layer.padding_nd = tuple(padding)
    if ceil_mode:
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    set_layer_name(layer, name)
    # Only the values are produced; the partitioner never lets a user of the indices in.
    return (layer.get_output(0), None)
