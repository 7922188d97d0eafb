"""Converters: batch norm (inference and batch statistics), layer norm, group norm, RMS norm.

fp16/bf16 inputs are normalized in fp32 and rounded once at the end, as torch's CPU/GPU kernels do
(their statistics are accumulated in fp32); squares of half values overflow fp16 past |x| = 256.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    add_unary,
    arg,
    axes_mask,
    cast_trt_tensor,
    create_constant,
    dim_size,
    dtype_of,
    get_trt_tensor,
    has_dynamic_dims,
    reshape,
    set_layer_name,
    shape_of,
)
from torch_tensorrt.dynamo.conversion.converters.reduction import reduce, scalar_like

aten = torch.ops.aten
Op = trt.ElementWiseOperation
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def _input_val(node: torch.fx.Node) -> torch.Tensor | None:
    val = node.args[0].meta.get("val")
    return val if isinstance(val, torch.Tensor) else None


def _only_output_used(node: torch.fx.Node) -> bool:
    """The saved mean / inverse std outputs exist for training; only item 0 is converted."""
    return all(u.target is operator.getitem and u.args[1] == 0 for u in node.users)


def _channel_view(ctx: ConversionContext, value: Any, rank: int, name: str) -> TRTTensor | None:
    """A per-channel weight/bias (constant or ITensor) in fp32, shaped [1, C, 1, ...] for ``rank``."""
    if value is None:
        return None
    view = [1, -1] + [1] * (rank - 2)
    if isinstance(value, torch.Tensor):
        return create_constant(ctx, value.detach().float().reshape(view), name, torch.float32)
    return reshape(ctx, get_trt_tensor(ctx, value, name, torch.float32), view, name)


def _affine(
    ctx: ConversionContext, y: TRTTensor, weight: TRTTensor | None, bias: TRTTensor | None, name: str
) -> TRTTensor:
    if weight is not None:
        y = add_binary(ctx, Op.PROD, y, weight, f"{name}_weight")
    if bias is not None:
        y = add_binary(ctx, Op.SUM, y, bias, f"{name}_bias")
    return y


# ---- batch norm --------------------------------------------------------------------------------


def _batch_norm_inference_ok(node: torch.fx.Node, settings: object) -> bool:
    val = _input_val(node)
    return (
        val is not None
        and val.dtype in FLOATS
        and val.dim() >= 2
        and isinstance(val.shape[1], int)
        and _only_output_used(node)
    )


def _fold_statistics(
    ctx: ConversionContext, args: Sequence[Any], channels: int, eps: float, name: str
) -> tuple[Any, Any]:
    """(scale, shift) with scale = weight / sqrt(var + eps) and shift = bias - mean * scale, in fp32.

    Module parameters and buffers are folded at build time; weights or statistics that are graph
    inputs or computed in forward (ITensors) are folded by layers in the engine.
    """
    weight, bias, mean, var = args
    weight = torch.ones(channels) if weight is None else weight
    bias = torch.zeros(channels) if bias is None else bias
    if all(isinstance(a, torch.Tensor) for a in (weight, bias, mean, var)):
        scale = weight.detach().float() / torch.sqrt(var.detach().float() + eps)
        return scale, bias.detach().float() - mean.detach().float() * scale
    w, b, m, v = (
        get_trt_tensor(ctx, a, f"{name}_{k}", torch.float32) for a, k in zip((weight, bias, mean, var), "wbmv")
    )
    eps_t = create_constant(ctx, torch.tensor([eps]), f"{name}_eps")
    std = add_unary(ctx, trt.UnaryOperation.SQRT, add_binary(ctx, Op.SUM, v, eps_t, f"{name}_var_eps"), f"{name}_std")
    scale = add_binary(ctx, Op.DIV, w, std, f"{name}_scale")
    return scale, add_binary(ctx, Op.SUB, b, add_binary(ctx, Op.PROD, m, scale, f"{name}_mean_scaled"), f"{name}_shift")


def _batch_norm_inference(ctx: ConversionContext, x: TRTTensor, args: Sequence[Any], eps: float, name: str) -> Any:
    """Running statistics folded into one per-channel ``x * scale + shift`` (folded in fp32)."""
    scale, shift = _fold_statistics(ctx, args, x.shape[1], eps, name)
    rank = len(x.shape)
    dtype = dtype_of(x)
    y = cast_trt_tensor(ctx, x, torch.float32, name)
    y = _affine(
        ctx, y, _channel_view(ctx, scale, rank, f"{name}_scale"), _channel_view(ctx, shift, rank, f"{name}_shift"), name
    )
    return cast_trt_tensor(ctx, y, dtype, name), None, None


@dynamo_tensorrt_converter(
    aten._native_batch_norm_legit_no_training.default, capability_validator=_batch_norm_inference_ok
)
def aten_ops_batch_norm_no_training(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (input, weight, bias, running_mean, running_var, momentum, eps)
    return _batch_norm_inference(ctx, args[0], args[1:5], args[6], name)


def _legit_inference_ok(node: torch.fx.Node, settings: object) -> bool:
    # (input, weight, bias, running_mean, running_var, training, momentum, eps): training=True would
    # use batch statistics and update the running ones.
    return not node.args[5] and _batch_norm_inference_ok(node, settings)


@dynamo_tensorrt_converter(
    [aten._native_batch_norm_legit.default, aten.native_batch_norm.default], capability_validator=_legit_inference_ok
)
def aten_ops_batch_norm_legit(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _batch_norm_inference(ctx, args[0], args[1:5], args[7], name)


def _normalize(ctx: ConversionContext, x: TRTTensor, axes: Sequence[int], eps: float, name: str) -> TRTTensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), in the dtype of ``x``."""
    mean = reduce(ctx, x, trt.ReduceOperation.AVG, axes, True, f"{name}_mean")
    centered = add_binary(ctx, Op.SUB, x, mean, f"{name}_center")
    squares = add_binary(ctx, Op.PROD, centered, centered, f"{name}_square")
    var = reduce(ctx, squares, trt.ReduceOperation.AVG, axes, True, f"{name}_var")
    return add_binary(ctx, Op.DIV, centered, _sqrt_plus(ctx, var, eps, name), f"{name}_normalized")


def _sqrt_plus(ctx: ConversionContext, x: TRTTensor, eps: float, name: str) -> TRTTensor:
    """sqrt(x + eps)."""
    shifted = add_binary(ctx, Op.SUM, x, scalar_like(ctx, eps, x, f"{name}_eps"), f"{name}_plus_eps")
    return add_unary(ctx, trt.UnaryOperation.SQRT, shifted, f"{name}_sqrt")


def _batch_stats_ok(node: torch.fx.Node, settings: object) -> bool:
    val = _input_val(node)
    return val is not None and val.dtype in FLOATS and val.dim() >= 2 and _only_output_used(node)


@dynamo_tensorrt_converter(aten._native_batch_norm_legit.no_stats, capability_validator=_batch_stats_ok)
def aten_ops_batch_norm_no_stats(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """Batch norm with batch statistics (no running stats; InstanceNorm lowers to this)."""
    x, weight, bias = args[:3]
    eps = args[5]
    rank = len(x.shape)
    dtype = dtype_of(x)
    y = _normalize(ctx, cast_trt_tensor(ctx, x, torch.float32, name), [0, *range(2, rank)], eps, name)
    y = _affine(
        ctx, y, _channel_view(ctx, weight, rank, f"{name}_w"), _channel_view(ctx, bias, rank, f"{name}_b"), name
    )
    return cast_trt_tensor(ctx, y, dtype, name), None, None


# ---- layer norm / RMS norm -----------------------------------------------------------------------


def _trailing_view(
    ctx: ConversionContext, value: Any, rank: int, fill: float, shape: Sequence[int], name: str
) -> TRTTensor:
    """weight/bias over the normalized (trailing) dims in fp32, shaped [1, ..., 1, *shape]."""
    if value is None:
        value = torch.full(tuple(shape), fill)
    view = [1] * (rank - len(shape)) + list(shape)
    if isinstance(value, torch.Tensor):
        return create_constant(ctx, value.detach().float().reshape(view), name, torch.float32)
    return reshape(ctx, get_trt_tensor(ctx, value, name, torch.float32), view, name)


def _layer_norm_ok(node: torch.fx.Node, settings: object) -> bool:
    val = _input_val(node)
    shape = node.args[1]
    if val is None or val.dtype not in FLOATS or not all(isinstance(d, int) for d in shape):
        return False
    if not 1 <= len(shape) <= val.dim():
        return False
    return node.target is aten.layer_norm.default or _only_output_used(node)


def _layer_norm(
    ctx: ConversionContext, x: TRTTensor, shape: Sequence[int], weight: Any, bias: Any, eps: float, name: str
) -> TRTTensor:
    rank = len(x.shape)
    axes = list(range(rank - len(shape), rank))
    scale = _trailing_view(ctx, weight, rank, 1.0, shape, f"{name}_weight")
    shift = _trailing_view(ctx, bias, rank, 0.0, shape, f"{name}_bias")
    dtype = dtype_of(x)
    layer = ctx.net.add_normalization(cast_trt_tensor(ctx, x, torch.float32, name), scale, shift, axes_mask(axes, rank))
    layer.epsilon = eps
    set_layer_name(layer, ctx.unique_name(name))
    return cast_trt_tensor(ctx, layer.get_output(0), dtype, name)


def _affine_args(args: Any, kwargs: Any) -> tuple[Any, Any, float]:
    """weight, bias and eps of layer_norm / group_norm, which both take them third to fifth."""
    weight = arg(args, kwargs, 2, "weight")
    bias = arg(args, kwargs, 3, "bias")
    eps = arg(args, kwargs, 4, "eps", 1e-5)
    return weight, bias, eps


@dynamo_tensorrt_converter(aten.layer_norm.default, capability_validator=_layer_norm_ok)
def aten_ops_layer_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True)
    weight, bias, eps = _affine_args(args, kwargs)
    return _layer_norm(ctx, args[0], list(args[1]), weight, bias, eps, name)


@dynamo_tensorrt_converter(aten.native_layer_norm.default, capability_validator=_layer_norm_ok)
def aten_ops_native_layer_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (input, normalized_shape, weight, bias, eps) -> (out, mean, rstd)
    x, shape, weight, bias, eps = args[:5]
    return _layer_norm(ctx, x, list(shape), weight, bias, eps, name), None, None


def _rms_norm_ok(node: torch.fx.Node, settings: object) -> bool:
    val = _input_val(node)
    shape = node.args[1]
    return (
        val is not None
        and val.dtype in FLOATS
        and all(isinstance(d, int) for d in shape)
        and 1 <= len(shape) <= val.dim()
    )


@dynamo_tensorrt_converter(aten.rms_norm.default, capability_validator=_rms_norm_ok)
def aten_ops_rms_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """x / sqrt(mean(x^2) + eps) * weight; eps=None is fp32's epsilon (torch's opmath type)."""
    x, shape = args[0], list(args[1])
    weight = arg(args, kwargs, 2, "weight")
    eps = arg(args, kwargs, 3, "eps")
    eps = torch.finfo(torch.float32).eps if eps is None else float(eps)
    rank = len(x.shape)
    dtype = dtype_of(x)
    xf = cast_trt_tensor(ctx, x, torch.float32, name)
    squares = add_binary(ctx, Op.PROD, xf, xf, f"{name}_square")
    axes = list(range(rank - len(shape), rank))
    mean_square = reduce(ctx, squares, trt.ReduceOperation.AVG, axes, True, f"{name}_ms")
    y = add_binary(ctx, Op.DIV, xf, _sqrt_plus(ctx, mean_square, eps, name), f"{name}_normalized")
    if weight is not None:
        y = add_binary(
            ctx, Op.PROD, y, _trailing_view(ctx, weight, rank, 1.0, shape, f"{name}_weight"), f"{name}_scale"
        )
    return cast_trt_tensor(ctx, y, dtype, name)


# ---- group norm --------------------------------------------------------------------------------


def _group_norm_ok(node: torch.fx.Node, settings: object) -> bool:
    val = _input_val(node)
    if val is None or val.dtype not in FLOATS or val.dim() < 2 or not isinstance(val.shape[1], int):
        return False
    return node.target is aten.group_norm.default or _only_output_used(node)


def _group_norm(
    ctx: ConversionContext, x: TRTTensor, groups: int, weight: Any, bias: Any, eps: float, name: str
) -> TRTTensor:
    """Statistics per (sample, group): view as [N, G, -1], normalize the last dim, view back."""
    rank = len(x.shape)
    dtype = dtype_of(x)
    grouped = reshape(
        ctx, cast_trt_tensor(ctx, x, torch.float32, name), [_batch(ctx, x, name), groups, -1], f"{name}_groups"
    )
    y = _normalize(ctx, grouped, [2], eps, name)
    back = ctx.net.add_shuffle(y)
    if has_dynamic_dims(x):
        back.set_input(1, shape_of(ctx, x, name))
    else:
        back.reshape_dims = tuple(x.shape)
    set_layer_name(back, ctx.unique_name(f"{name}_ungroup"))
    y = _affine(
        ctx,
        back.get_output(0),
        _channel_view(ctx, weight, rank, f"{name}_w"),
        _channel_view(ctx, bias, rank, f"{name}_b"),
        name,
    )
    return cast_trt_tensor(ctx, y, dtype, name)


def _batch(ctx: ConversionContext, x: TRTTensor, name: str) -> Any:
    return x.shape[0] if x.shape[0] >= 0 else dim_size(ctx, x, 0, name)


@dynamo_tensorrt_converter(aten.group_norm.default, capability_validator=_group_norm_ok)
def aten_ops_group_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True)
    weight, bias, eps = _affine_args(args, kwargs)
    return _group_norm(ctx, args[0], int(args[1]), weight, bias, eps, name)


@dynamo_tensorrt_converter(aten.native_group_norm.default, capability_validator=_group_norm_ok)
def aten_ops_native_group_norm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # (input, weight, bias, N, C, HxW, group, eps) -> (out, mean, rstd)
    x, weight, bias = args[:3]
    return _group_norm(ctx, x, int(args[6]), weight, bias, args[7], name), None, None
