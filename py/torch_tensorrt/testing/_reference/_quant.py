"""Quantize / Dequantize for INT8 and FP8, per tensor or per channel (block quantization is not supported)."""

from __future__ import annotations

import torch

from ._common import Inputs, Tensor, layer_error, need, norm_axis, optional, out_dtype, register, unsupported
from ._dtypes import trt_name
from ._record import LayerRecord

_FP8_MAX = 448.0


def _scale_view(layer: LayerRecord, x: Tensor, scale: Tensor) -> Tensor:
    """The scale shaped to broadcast against x: a scalar per tensor, or a vector along ``axis``."""
    if scale.numel() == 1 and scale.dim() <= 1:
        return scale.reshape([1] * x.dim())
    if scale.dim() == 1:
        axis = norm_axis(layer, int(layer.params["axis"]), x.dim())
        if int(scale.shape[0]) != int(x.shape[axis]):
            raise layer_error(layer, f"{scale.shape[0]} scales for axis {axis} of length {x.shape[axis]}")
        view = [1] * x.dim()
        view[axis] = int(scale.shape[0])
        return scale.reshape(view)
    raise unsupported(layer, "block quantization")


def _zero_point(layer: LayerRecord, inputs: Inputs) -> None:
    zero = optional(inputs, 2)
    # Only symmetric quantization exists in TensorRT: a zero point must be all zeros.
    if zero is not None and bool((zero.to(torch.float32) != 0).any()):
        raise unsupported(layer, "a non-zero zero point")


@register("QUANTIZE")
def _quantize(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x, scale = need(layer, inputs, 0), need(layer, inputs, 1)
    _zero_point(layer, inputs)
    dtype = out_dtype(layer)
    s = _scale_view(layer, x, scale.to(torch.float32))
    scaled = x.to(torch.float32) / s
    if dtype == torch.int8:
        # Round half to even, then saturate.
        return [torch.round(scaled).clamp(-128, 127).to(torch.int8)]
    if dtype == torch.float8_e4m3fn:
        return [scaled.clamp(-_FP8_MAX, _FP8_MAX).to(dtype)]
    raise unsupported(layer, f"quantization to DataType.{trt_name(dtype)}")


@register("DEQUANTIZE")
def _dequantize(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x, scale = need(layer, inputs, 0), need(layer, inputs, 1)
    _zero_point(layer, inputs)
    if x.dtype not in (torch.int8, torch.float8_e4m3fn):
        raise unsupported(layer, f"dequantization of DataType.{trt_name(x.dtype)}")
    s = _scale_view(layer, x, scale.to(torch.float32))
    return [(x.to(torch.float32) * s).to(out_dtype(layer))]
