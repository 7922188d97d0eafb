"""Converters: convolution and transposed convolution (1-D, 2-D, 3-D)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._weight_names import own_address, register_weights
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    attribute_source,
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_trt_tensor,
    has_dynamic_dims,
    is_trt_tensor,
    reshape,
    set_layer_name,
    shape_of,
)

aten = torch.ops.aten

FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def expand_param(values: Sequence[int] | int, n: int) -> list[int]:
    """torch accepts one value for every spatial dim (export keeps e.g. ``padding=[0]`` for 2-D)."""
    values = [values] if isinstance(values, int) else [int(v) for v in values]
    return values * n if len(values) == 1 else values


@dataclass(frozen=True)
class _LayerWeights:
    """Weights handed to a layer, with the tensor behind them and the attribute it came from."""

    weights: Any
    tensor: torch.Tensor
    source: str | None = None


def _weights(ctx: ConversionContext, value: torch.Tensor | None, dtype: torch.dtype) -> _LayerWeights:
    """Build-time weights (empty for None). Strongly typed network: the kernel has the input's dtype
    (fp16/bf16 modules keep fp16/bf16)."""
    if value is None:
        return _LayerWeights(trt.Weights(torch_to_trt_dtype(dtype)), torch.empty(0, dtype=dtype))
    tensor = own_address(ctx, value.detach().cpu().to(dtype).contiguous())
    weights = trt.Weights(torch_to_trt_dtype(dtype), tensor.data_ptr(), tensor.numel())
    return _LayerWeights(weights, tensor, attribute_source(ctx, value))


def _static_shape(node: Any) -> tuple[int, ...] | None:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    if not isinstance(val, torch.Tensor) or not all(isinstance(d, int) for d in val.shape):
        return None
    return tuple(val.shape)


def _conv_supported(node: torch.fx.Node, settings: object) -> bool:
    x, weight = node.args[0], node.args[1]
    val = x.meta.get("val")
    # Kernels may be parameters, graph inputs or computed in forward, but of a build-time shape.
    w = _static_shape(weight)
    if w is None or not isinstance(val, torch.Tensor):
        return False
    spatial = len(w) - 2
    # aten.convolution is always batched (export unsqueezes unbatched inputs); channels must be static.
    if not (1 <= spatial <= 3 and val.dim() == spatial + 2 and isinstance(val.shape[1], int) and val.dtype in FLOATS):
        return False
    stride, dilation, transposed = node.args[3], node.args[5], node.args[6]
    # TensorRT-RTX's builder rejects a deconvolution that is both strided and dilated.
    return not (transposed and any(s > 1 for s in stride) and any(d > 1 for d in dilation))


def _kernel(
    ctx: ConversionContext, weight: Any, dtype: torch.dtype, one_d: bool, name: str
) -> tuple[_LayerWeights, TRTTensor | None]:
    """(weights, kernel tensor): build-time weights for a module parameter, else an ITensor kernel
    (a graph input or a value computed in forward) that the layer takes as its input 1."""
    if isinstance(weight, torch.Tensor):
        kernel_weights = _weights(ctx, weight.unsqueeze(2) if one_d else weight, dtype)
        if one_d:  # the unsqueezed view is not the attribute, but holds exactly its values
            kernel_weights = _LayerWeights(kernel_weights.weights, kernel_weights.tensor, attribute_source(ctx, weight))
        return kernel_weights, None
    kernel = cast_trt_tensor(ctx, weight, dtype, f"{name}_kernel")
    if one_d:
        out_ch, in_ch, length = kernel.shape
        kernel = reshape(ctx, kernel, [out_ch, in_ch, 1, length], f"{name}_kernel")
    return _weights(ctx, None, dtype), kernel


def _unit_height(ctx: ConversionContext, x: TRTTensor, name: str) -> TRTTensor:
    # TensorRT convolutions are 2-D/3-D: [N, C, L] -> [N, C, 1, L]; 0 copies a (maybe dynamic) dim.
    layer = ctx.net.add_shuffle(x)
    layer.reshape_dims = (0, 0, 1, -1)
    set_layer_name(layer, ctx.unique_name(f"{name}_to2d"))
    return layer.get_output(0)


def _drop_height(ctx: ConversionContext, x: TRTTensor, name: str) -> TRTTensor:
    layer = ctx.net.add_shuffle(x)
    layer.reshape_dims = (0, 0, -1)
    set_layer_name(layer, ctx.unique_name(f"{name}_to1d"))
    return layer.get_output(0)


def _add_bias(ctx: ConversionContext, y: TRTTensor, bias: Any, name: str) -> TRTTensor:
    view = [1, -1] + [1] * (len(y.shape) - 2)
    if is_trt_tensor(bias):
        b = reshape(ctx, get_trt_tensor(ctx, bias, f"{name}_bias", dtype_of(y)), view, f"{name}_bias")
    else:
        b = create_constant(ctx, bias.reshape(view), f"{name}_bias", dtype_of(y))
    return add_binary(ctx, trt.ElementWiseOperation.SUM, y, b, f"{name}_bias_add")


def _pad_end_with_zeros(ctx: ConversionContext, y: TRTTensor, extra: list[int], name: str) -> TRTTensor:
    """Grow the spatial dims of ``y`` by ``extra`` zeros at the far end (a FILL-mode slice)."""
    rank = len(y.shape)
    grow = [0, 0, *extra]
    layer = ctx.net.add_slice(y, (0,) * rank, (1,) * rank, (1,) * rank)
    if has_dynamic_dims(y):
        delta = create_constant(ctx, torch.tensor(grow, dtype=torch.int64), f"{name}_grow")
        size = add_binary(ctx, trt.ElementWiseOperation.SUM, shape_of(ctx, y, name), delta, f"{name}_grown")
        layer.set_input(2, size)
    else:
        layer.shape = tuple(d + g for d, g in zip(y.shape, grow))
    layer.mode = trt.SampleMode.FILL  # fill value defaults to zero
    set_layer_name(layer, ctx.unique_name(f"{name}_output_padding"))
    return layer.get_output(0)


@dynamo_tensorrt_converter(aten.convolution.default, capability_validator=_conv_supported)
def aten_ops_convolution(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x, weight, bias, stride, padding, dilation, transposed, output_padding, groups = args[:9]
    out_dtype = dtype_of(x)
    # TensorRT-RTX has no bf16 deconvolution kernel (the builder fails to type it): run it in fp32.
    dtype = torch.float32 if transposed and out_dtype == torch.bfloat16 else out_dtype
    x = cast_trt_tensor(ctx, x, dtype, name)
    w_shape = tuple(int(d) for d in weight.shape)
    spatial = len(w_shape) - 2
    stride, padding, dilation = (expand_param(v, spatial) for v in (stride, padding, dilation))
    output_padding = expand_param(output_padding, spatial) if transposed else [0] * spatial
    one_d = spatial == 1
    if one_d:
        x = _unit_height(ctx, x, name)
        stride, padding, dilation, output_padding = ([1, *stride], [0, *padding], [1, *dilation], [0, *output_padding])
    kernel_size = (1, *w_shape[2:]) if one_d else w_shape[2:]
    w, kernel = _kernel(ctx, weight, dtype, one_d, name)
    # A transposed convolution whose output_padding exceeds the padding gets zero columns that torch
    # fills with the bias alone, so the bias is then added after padding (below), not in the layer.
    extra = [max(op - p, 0) for p, op in zip(padding, output_padding)]
    fused_bias = bias is not None and not is_trt_tensor(bias) and not any(extra)
    b = _weights(ctx, bias if fused_bias else None, dtype)
    if transposed:
        layer = ctx.net.add_deconvolution_nd(x, w_shape[1] * groups, kernel_size, w.weights, b.weights)
        # torch's output is the full transposed convolution cropped by `padding` at the start and by
        # `padding - output_padding` at the end.
        layer.pre_padding = tuple(padding)
        layer.post_padding = tuple(max(p - op, 0) for p, op in zip(padding, output_padding))
    else:
        layer = ctx.net.add_convolution_nd(x, w_shape[0], kernel_size, w.weights, b.weights)
        layer.padding_nd = tuple(padding)
    if kernel is not None:
        layer.set_input(1, kernel)
    layer.stride_nd = tuple(stride)
    layer.dilation_nd = tuple(dilation)
    layer.num_groups = groups
    set_layer_name(layer, ctx.unique_name(name))
    register_weights(ctx, layer, "KERNEL", w.weights, w.tensor, w.source)
    register_weights(ctx, layer, "BIAS", b.weights, b.tensor, b.source)
    out = layer.get_output(0)
    if any(extra):
        out = _pad_end_with_zeros(ctx, out, extra, name)
    if bias is not None and not fused_bias:
        out = _add_bias(ctx, out, bias, name)
    out = cast_trt_tensor(ctx, out, out_dtype, name)
    return _drop_height(ctx, out, name) if one_d else out
