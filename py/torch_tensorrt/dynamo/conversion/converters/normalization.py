from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import create_constant, dtype_of, set_layer_name
from torch_tensorrt._trt import trt

aten = torch.ops.aten


def _constant_stats(node: torch.fx.Node, settings: object) -> bool:
    return all(
        a is None or (isinstance(a, torch.fx.Node) and a.op == "get_attr") for a in node.args[1:5]
    )


@dynamo_tensorrt_converter(
    aten._native_batch_norm_legit_no_training.default, capability_validator=_constant_stats
)
def aten_ops_batch_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """Inference batch norm folded to one per-channel ``x * scale + shift`` (computed in fp32)."""
    x, weight, bias, mean, var = args[:5]
    eps = args[6]
    channels = x.shape[1]
    weight = torch.ones(channels) if weight is None else weight.float()
    bias = torch.zeros(channels) if bias is None else bias.float()
    scale = weight / torch.sqrt(var.float() + eps)
    shift = bias - mean.float() * scale
    dtype = dtype_of(x)
    view = (1, channels) + (1,) * (len(x.shape) - 2)
    scale_t = create_constant(ctx, scale.reshape(view), f"{name}_scale", dtype)
    shift_t = create_constant(ctx, shift.reshape(view), f"{name}_shift", dtype)
    mul = ctx.net.add_elementwise(x, scale_t, trt.ElementWiseOperation.PROD)
    set_layer_name(mul, name, "scale")
    add = ctx.net.add_elementwise(mul.get_output(0), shift_t, trt.ElementWiseOperation.SUM)
    set_layer_name(add, name, "shift")
    out = add.get_output(0)
    # The op also returns the saved mean / inverse std; inference graphs never read them.
    return (out, None, None)
