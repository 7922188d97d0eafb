"""Converters: the ``torch.ops.prims`` overloads that reach exported graphs (prims.div, prims.sum,
prims.broadcast_in_dim).

They appear when a model calls the primitives itself or uses code written against torch._refs; each
is the aten converter's computation under prims' own rules.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    cast_trt_tensor,
    dtype_of,
    get_trt_tensor,
    output_dtype,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import expand_to, unsqueeze
from torch_tensorrt.dynamo.conversion.converters.elementwise import FLOAT_DTYPES, divide, dtypes_supported
from torch_tensorrt.dynamo.conversion.converters.reduction import reduce, reduce_dims

prims = torch.ops.prims


def _numeric(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = node.meta.get("val")
    return dtypes_supported(node, settings) and isinstance(val, torch.Tensor) and val.dtype != torch.bool


@dynamo_tensorrt_converter(prims.div.default, capability_validator=_numeric)
def prims_div(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # prims.div divides floats exactly and truncates integer quotients (C semantics), in one dtype.
    dtype = output_dtype(ctx)
    assert dtype is not None, "prims.div needs the traced output dtype"
    mode = None if dtype in FLOAT_DTYPES else "trunc"
    return divide(ctx, args[0], args[1], mode, name, dtype)


def _float_sum(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    # prims.sum's meta keeps an integer input's dtype while its eager kernel returns int64: the
    # traced graph and eager PyTorch disagree, so integer sums are left to PyTorch.
    val = node.meta.get("val")
    return dtypes_supported(node, settings) and isinstance(val, torch.Tensor) and val.dtype in FLOAT_DTYPES


@dynamo_tensorrt_converter(prims.sum.default, capability_validator=_float_sum)
def prims_sum(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    # As for aten.sum, an empty list of dims reduces every dim.
    dims = reduce_dims(arg(args, kwargs, 1, "dims"), len(x.shape))
    # The result dtype is also the accumulation dtype.
    x = cast_trt_tensor(ctx, x, output_dtype(ctx) or dtype_of(x), name)
    return reduce(ctx, x, trt.ReduceOperation.SUM, dims, False, name)


@dynamo_tensorrt_converter(prims.broadcast_in_dim.default)
def prims_broadcast_in_dim(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (a, shape, broadcast_dimensions): input dim i becomes output dim broadcast_dimensions[i]; the
    # other output dims are new. Insert size-1 dims there, then broadcast the size-1 dims to shape.
    x = get_trt_tensor(ctx, args[0], name)
    shape = list(arg(args, kwargs, 1, "shape"))
    kept = set(arg(args, kwargs, 2, "broadcast_dimensions"))
    for position in range(len(shape)):
        if position not in kept:
            x = unsqueeze(ctx, x, position, f"{name}_new{position}")
    return expand_to(ctx, x, shape, name)
