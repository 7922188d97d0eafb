from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    dim_size,
    get_trt_tensor,
    reshape,
)

aten = torch.ops.aten


@dynamo_tensorrt_converter(aten.sym_size.int)
def aten_ops_sym_size(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return dim_size(ctx, args[0], args[1] % len(args[0].shape), name)


@dynamo_tensorrt_converter([aten.view.default, aten.reshape.default, aten._unsafe_view.default])
def aten_ops_view(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    return reshape(ctx, x, list(args[1]), name)
