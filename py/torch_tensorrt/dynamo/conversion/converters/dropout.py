"""Converters: native_dropout.

Outside training it is the identity and keeps every element; with p = 0 nothing is dropped and with
p = 1 everything is. Otherwise (training) the mask is random: kept with probability 1 - p, drawn by a
TensorRT fill layer (see randomness.py), so its values differ from eager's while its law is the same.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    add_binary,
    arg,
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_trt_tensor,
    prepend_ones,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import dims_of, expand_to
from torch_tensorrt.dynamo.conversion.converters.randomness import below_one, standard_samples

aten = torch.ops.aten


def _keeps_all(args: Any, kwargs: Any) -> bool | None:
    """True: every element kept; False: every element dropped; None: a random mask."""
    p, train = float(arg(args, kwargs, 1, "p")), arg(args, kwargs, 2, "train")
    if train is False or p == 0.0:
        return True  # the eager kernel draws a mask unless train is False (None counts as training)
    return False if p == 1.0 else None


def _random_mask(ctx: ConversionContext, x: Any, p: float, name: str) -> tuple[Any, Any]:
    """As eager: keep where u > p for u uniform on [0, 1), and scale the kept elements by 1 / (1 - p)."""
    u = below_one(
        ctx, standard_samples(ctx, dims_of(ctx, x, name), trt.FillOperation.RANDOM_UNIFORM, name), torch.float32, name
    )
    mask = add_binary(
        ctx, trt.ElementWiseOperation.GREATER, u, create_constant(ctx, torch.tensor(p), f"{name}_p"), f"{name}_mask"
    )
    scale = create_constant(ctx, torch.tensor(1.0 / (1.0 - p), dtype=dtype_of(x)), f"{name}_scale")
    kept = add_binary(
        ctx, trt.ElementWiseOperation.PROD, x, cast_trt_tensor(ctx, mask, dtype_of(x), f"{name}_mask"), f"{name}_keep"
    )
    return add_binary(ctx, trt.ElementWiseOperation.PROD, kept, scale, f"{name}_rescale"), mask


@dynamo_tensorrt_converter(aten.native_dropout.default)
def aten_ops_native_dropout(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    keep = _keeps_all(args, kwargs)
    if keep is None:
        return _random_mask(ctx, x, float(arg(args, kwargs, 1, "p")), name)
    dims = dims_of(ctx, x, name)
    mask = expand_to(ctx, create_constant(ctx, torch.tensor(bool(keep)), f"{name}_mask"), dims, f"{name}_mask")
    if keep:
        return x, mask
    # torch multiplies by the all-false mask: -0.0 for negative inputs, NaN stays NaN.
    zero = prepend_ones(
        ctx, create_constant(ctx, torch.zeros((), dtype=dtype_of(x)), f"{name}_zero"), len(x.shape), name
    )
    return add_binary(ctx, trt.ElementWiseOperation.PROD, x, zero, name), mask
