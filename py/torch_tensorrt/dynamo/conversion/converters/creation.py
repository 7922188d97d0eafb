"""Converters: creation (arange, full and its *_like / new_* / zeros / ones / empty family, scalar_tensor).

Filled tensors are one scalar constant broadcast with a zero-stride slice, so their size may come
from shape tensors (``torch.zeros(x.shape[0], 3)``) and no large constant is baked into the engine.
``empty*`` gives zeros: its contents are unspecified, zeros are as good as anything.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    arg,
    cast_trt_tensor,
    create_constant,
    is_trt_tensor,
    output_dtype,
    reshape,
    set_layer_name,
    shape_tensor_from_dims,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import (
    Dim,
    dims_of,
    expand_to,
    int_tensor,
    is_static_int,
    shape_math,
)

aten = torch.ops.aten
EW = trt.ElementWiseOperation


def _traced_dtype(ctx: ConversionContext) -> torch.dtype:
    val = ctx.output_meta()
    return val.dtype if isinstance(val, torch.Tensor) else torch.float32


def scalar_value(ctx: ConversionContext, value: Any, dtype: torch.dtype, name: str) -> Any:
    """A 0-D tensor of ``dtype`` holding ``value``: a Python number, or a SymInt/SymFloat/SymBool
    computed from sizes (a 1-element shape tensor, e.g. ``torch.full((1,), x.shape[0] * 2)``)."""
    if is_trt_tensor(value):
        value = cast_trt_tensor(ctx, value, dtype, f"{name}_value")
        return reshape(ctx, value, [], f"{name}_value") if len(value.shape) else value
    # The value is converted by torch first, so e.g. 2.7 in an int tensor truncates exactly as eager does.
    return create_constant(ctx, torch.tensor(value).to(dtype), f"{name}_value")


def filled(ctx: ConversionContext, size: list[Dim], value: Any, dtype: torch.dtype, name: str) -> Any:
    """A tensor of ``size`` (ints or shape tensors) holding ``value`` in ``dtype``."""
    return expand_to(ctx, scalar_value(ctx, value, dtype, name), size, name)


def _like_size(ctx: ConversionContext, x: Any, name: str) -> list[Dim]:
    return dims_of(ctx, x, name) if is_trt_tensor(x) else list(x.shape)


@dynamo_tensorrt_converter(aten.full.default)
def aten_ops_full(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[0]), args[1], output_dtype(ctx), name)


@dynamo_tensorrt_converter(
    [aten.zeros.default, aten.empty.memory_format, aten.empty_permuted.default, aten.empty_strided.default]
)
def aten_ops_zeros(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[0]), 0, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.ones.default)
def aten_ops_ones(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[0]), 1, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.full_like.default)
def aten_ops_full_like(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, _like_size(ctx, args[0], name), args[1], output_dtype(ctx), name)


@dynamo_tensorrt_converter([aten.zeros_like.default, aten.empty_like.default])
def aten_ops_zeros_like(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, _like_size(ctx, args[0], name), 0, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.ones_like.default)
def aten_ops_ones_like(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, _like_size(ctx, args[0], name), 1, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.new_full.default)
def aten_ops_new_full(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[1]), args[2], output_dtype(ctx), name)


@dynamo_tensorrt_converter([aten.new_zeros.default, aten.new_empty.default])
def aten_ops_new_zeros(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[1]), 0, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.new_ones.default)
def aten_ops_new_ones(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return filled(ctx, list(args[1]), 1, output_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.scalar_tensor.default)
def aten_ops_scalar_tensor(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return scalar_value(ctx, args[0], _traced_dtype(ctx), name)


# ---------------------------------------------------------------------------------------------
# arange
# ---------------------------------------------------------------------------------------------


def _arange_args(node: torch.fx.Node) -> tuple[Any, Any, Any]:
    args = node.args
    if node.target == aten.arange.default:
        return 0, args[0], 1
    step = arg(args, node.kwargs, 2, "step", 1)
    return args[0], args[1], step


def _is_symbolic(value: Any) -> bool:
    return isinstance(value, torch.fx.Node)


def _arange_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    start, end, step = _arange_args(node)
    if not any(_is_symbolic(v) for v in (start, end, step)):
        return True
    # A run-time length is only computed in integer arithmetic (SymInt bounds, int step).
    bounds_ok = all(_is_symbolic(v) or is_static_int(v) for v in (start, end))
    return bounds_ok and is_static_int(step) and step != 0


def _arange_length(ctx: ConversionContext, start: Dim, end: Dim, step: int, name: str) -> Dim:
    """ceil((end - start) / step), at least 0."""
    span = (
        shape_math(ctx, EW.SUB, end, start, f"{name}_span")
        if step > 0
        else shape_math(ctx, EW.SUB, start, end, f"{name}_span")
    )
    rounded = shape_math(ctx, EW.SUM, span, abs(step) - 1, f"{name}_round")
    return shape_math(ctx, EW.MAX, shape_math(ctx, EW.FLOOR_DIV, rounded, abs(step), f"{name}_div"), 0, f"{name}_len")


def _linspace(ctx: ConversionContext, length: Dim, start: Dim, step: int, name: str) -> Any:
    """[start, start + step, ...] of ``length`` elements, in int64."""
    layer = ctx.net.add_fill((1,), trt.FillOperation.LINSPACE, torch_to_trt_dtype(torch.int64))
    layer.set_input(0, shape_tensor_from_dims(ctx, [length], f"{name}_shape"))
    layer.set_input(1, int_tensor(ctx, start, f"{name}_alpha", rank=0))
    layer.set_input(2, int_tensor(ctx, step, f"{name}_beta"))
    set_layer_name(layer, ctx.unique_name(f"{name}_fill"))
    return layer.get_output(0)


@dynamo_tensorrt_converter(
    [aten.arange.default, aten.arange.start, aten.arange.start_step], capability_validator=_arange_ok
)
def aten_ops_arange(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    if target == aten.arange.default:
        start, end, step = 0, args[0], 1
    else:
        start, end = args[0], args[1]
        step = arg(args, kwargs, 2, "step", 1)
    dtype = _traced_dtype(ctx)
    if not is_trt_tensor(start) and not is_trt_tensor(end):
        # Known bounds: exactly eager's values, computed by torch in the traced dtype.
        return create_constant(ctx, torch.arange(start, end, step, dtype=dtype), name)
    values = _linspace(ctx, _arange_length(ctx, start, end, step, name), start, step, name)
    return cast_trt_tensor(ctx, values, output_dtype(ctx) or torch.int64, name)
