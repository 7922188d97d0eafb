from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import dtype_of, reshape, set_layer_name

aten = torch.ops.aten


def _weights(ctx: ConversionContext, value: Any, dtype: torch.dtype) -> Any:
    tensor = value.detach().cpu().to(dtype).contiguous()
    ctx.keep_alive.append(tensor)
    return trt.Weights(torch_to_trt_dtype(dtype), tensor.data_ptr(), tensor.numel())


def _constant_weights(node: torch.fx.Node, settings: object) -> bool:
    # Weights must be known at build time (get_attr constants), as for every CNN we compile.
    weight = node.args[1]
    return isinstance(weight, torch.fx.Node) and weight.op == "get_attr"


@dynamo_tensorrt_converter(aten.convolution.default, capability_validator=_constant_weights)
def aten_ops_convolution(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x, weight, bias, stride, padding, dilation, transposed, output_padding, groups = args[:9]
    dtype = dtype_of(x)
    spatial = weight.dim() - 2
    # TensorRT convolutions are 2-D or 3-D: run a 1-D one as 2-D with a unit height.
    one_d = spatial == 1
    if one_d:
        x = reshape(ctx, x, [0, 0, 1, -1] if not any(d < 0 for d in x.shape[2:]) else [0, 0, 1, 0], name)
        weight = weight.unsqueeze(2)
        stride, padding, dilation = [1, *stride], [0, *padding], [1, *dilation]
        output_padding = [0, *output_padding]
    kernel = tuple(weight.shape[2:])
    w = _weights(ctx, weight, dtype)
    b = _weights(ctx, bias, dtype) if bias is not None else trt.Weights(torch_to_trt_dtype(dtype))
    if transposed:
        out_channels = weight.shape[1] * groups
        layer = ctx.net.add_deconvolution_nd(x, out_channels, kernel, w, b)
    else:
        layer = ctx.net.add_convolution_nd(x, weight.shape[0], kernel, w, b)
    layer.stride_nd = tuple(stride)
    layer.padding_nd = tuple(padding)
    layer.dilation_nd = tuple(dilation)
    layer.num_groups = groups
    if transposed and any(output_padding):
        # output_padding enlarges the output on the far side only.
        layer.post_padding = tuple(p - op for p, op in zip(padding, output_padding))
        layer.pre_padding = tuple(padding)
    set_layer_name(layer, name)
    out = layer.get_output(0)
    if one_d:
        out = reshape(ctx, out, [0, 0, -1], f"{name}_squeeze")
    return out

