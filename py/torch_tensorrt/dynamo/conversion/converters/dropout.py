"""Converters: native_dropout outside training, where it is the identity and keeps every element.

A training-mode dropout draws a random mask; with p = 0 nothing is dropped and with p = 1 everything
is, so those two are deterministic too.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    add_binary,
    arg,
    create_constant,
    dtype_of,
    get_trt_tensor,
    prepend_ones,
)
from torch_tensorrt.dynamo.conversion.converters.shape_ops import dims_of, expand_to

aten = torch.ops.aten


def _keeps_all(args: Any, kwargs: Any) -> bool | None:
    """True: every element kept; False: every element dropped; None: a random mask."""
    p, train = float(arg(args, kwargs, 1, "p")), arg(args, kwargs, 2, "train")
    if train is False or p == 0.0:
        return True  # the eager kernel draws a mask unless train is False (None counts as training)
    return False if p == 1.0 else None


def _deterministic(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _keeps_all(node.args, node.kwargs) is not None


@dynamo_tensorrt_converter(aten.native_dropout.default, capability_validator=_deterministic)
def aten_ops_native_dropout(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    keep = _keeps_all(args, kwargs)
    dims = dims_of(ctx, x, name)
    mask = expand_to(ctx, create_constant(ctx, torch.tensor(bool(keep)), f"{name}_mask"), dims, f"{name}_mask")
    if keep:
        return x, mask
    # torch multiplies by the all-false mask: -0.0 for negative inputs, NaN stays NaN.
    zero = prepend_ones(ctx, create_constant(ctx, torch.zeros((), dtype=dtype_of(x)), f"{name}_zero"), len(x.shape), name)
    return add_binary(ctx, trt.ElementWiseOperation.PROD, x, zero, name), mask
