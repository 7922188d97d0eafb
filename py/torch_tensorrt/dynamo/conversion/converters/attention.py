"""Converters: scaled dot-product attention, built from MatrixMultiply + SoftMax layers.

TensorRT-RTX has an attention layer (add_attention), but the CPU reference executor cannot check it,
so the composition below (which TensorRT fuses anyway) is what we convert to.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._attention_args import FUSED_ATTENTION, attention_args
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    broadcast_ranks,
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_trt_tensor,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters.linear import matmul
from torch_tensorrt.dynamo.conversion.converters.reduction import iota, reduce, scalar_like
from torch_tensorrt.dynamo.conversion.converters.softmax import softmax

aten = torch.ops.aten
Op = trt.ElementWiseOperation
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def _select(ctx: ConversionContext, cond: TRTTensor, a: TRTTensor, b: TRTTensor, name: str) -> TRTTensor:
    cond, a = broadcast_ranks(ctx, cond, a, f"{name}_a")
    cond, b = broadcast_ranks(ctx, cond, b, f"{name}_b")
    a, b = broadcast_ranks(ctx, a, b, f"{name}_ab")
    layer = ctx.net.add_select(cond, a, b)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _repeat_heads(ctx: ConversionContext, x: TRTTensor, heads: int, name: str) -> TRTTensor:
    """GQA: kv head h // (heads / kv_heads) serves query head h (torch's repeat_interleave)."""
    axis = len(x.shape) - 3
    group = heads // x.shape[axis]
    index = create_constant(ctx, torch.arange(heads, dtype=torch.int32) // group, f"{name}_heads")
    layer = ctx.net.add_gather(x, index, axis)
    set_layer_name(layer, ctx.unique_name(f"{name}_repeat_heads"))
    return layer.get_output(0)


def _causal_masked(ctx: ConversionContext, scores: TRTTensor, name: str) -> TRTTensor:
    """True where key position > query position (torch's ones(L, S).tril() is False there)."""
    rank = len(scores.shape)
    rows = iota(ctx, scores, rank - 2, f"{name}_rows")
    cols = iota(ctx, scores, rank - 1, f"{name}_cols")
    return add_binary(ctx, Op.GREATER, cols, rows, f"{name}_causal")


def attention(
    ctx: ConversionContext,
    q: TRTTensor,
    k: TRTTensor,
    v: TRTTensor,
    mask: Any,
    is_causal: bool,
    scale: float | None,
    enable_gqa: bool,
    name: str,
) -> TRTTensor:
    """softmax(q @ k^T * scale + mask) @ v, with torch's conventions.

    A bool mask says which positions may be attended; a float mask is added. Rows with no attendable
    position give 0 (torch's safe softmax), not NaN.
    """
    dtype = dtype_of(q)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if enable_gqa and k.shape[-3] != q.shape[-3]:
        k = _repeat_heads(ctx, k, q.shape[-3], f"{name}_k")
        v = _repeat_heads(ctx, v, q.shape[-3], f"{name}_v")
    # Scaling q (not the scores) keeps fp16 scores small, as torch's kernels do.
    q = add_binary(ctx, Op.PROD, q, scalar_like(ctx, scale, q, f"{name}_scale"), f"{name}_scaled_q")
    scores = matmul(ctx, q, k, f"{name}_scores", transpose_b=True, dtype=dtype)
    neg_inf = scalar_like(ctx, float("-inf"), scores, f"{name}_neg_inf")
    if is_causal:
        scores = _select(ctx, _causal_masked(ctx, scores, name), neg_inf, scores, f"{name}_causal_fill")
    if mask is not None:
        mask = get_trt_tensor(ctx, mask, f"{name}_mask")
        if dtype_of(mask) == torch.bool:
            scores = _select(ctx, mask, scores, neg_inf, f"{name}_mask_fill")
        else:
            scores = add_binary(ctx, Op.SUM, scores, cast_trt_tensor(ctx, mask, dtype, name), f"{name}_mask_add")
    weights = softmax(ctx, scores, len(scores.shape) - 1, f"{name}_softmax")
    if mask is not None:
        is_neg_inf = add_binary(ctx, Op.EQUAL, scores, neg_inf, f"{name}_is_masked")
        dead = reduce(ctx, is_neg_inf, trt.ReduceOperation.MIN, [len(scores.shape) - 1], True, f"{name}_dead_row")
        weights = _select(ctx, dead, scalar_like(ctx, 0.0, weights, f"{name}_zero"), weights, f"{name}_safe")
    return matmul(ctx, weights, v, f"{name}_out", dtype=dtype)


def _val(arg: Any) -> torch.Tensor | None:
    val = arg.meta.get("val") if isinstance(arg, torch.fx.Node) else None
    return val if isinstance(val, torch.Tensor) else None


def _attention_ok(q: Any, k: Any, mask: Any, dropout_p: float, scale: Any, gqa: bool) -> bool:
    qv, kv, mv = _val(q), _val(k), _val(mask)
    if qv is None or kv is None or qv.dtype not in FLOATS or dropout_p != 0:
        return False  # dropout is random: never an inference op
    if scale is None and not isinstance(qv.shape[-1], int):
        return False  # the default scale needs a static head size
    if mask is not None and (mv is None or mv.dtype not in (torch.bool, qv.dtype)):
        return False
    if gqa and (qv.dim() < 3 or not all(isinstance(t.shape[-3], int) for t in (qv, kv))):
        return False
    return True


def _sdpa_ok(node: torch.fx.Node, settings: object) -> bool:
    c = attention_args(node.target, node.args, node.kwargs)
    return _attention_ok(c.query, c.key, c.mask, c.dropout_p, c.scale, c.enable_gqa)


@dynamo_tensorrt_converter(aten.scaled_dot_product_attention.default, capability_validator=_sdpa_ok)
def aten_ops_sdpa(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    c = attention_args(target, args, kwargs)
    return attention(ctx, c.query, c.key, c.value, c.mask, c.is_causal, c.scale, c.enable_gqa, name)


# Fused-kernel overloads (exported on a GPU, argument positions in FUSED_ATTENTION): output 0 is the
# attention; the others (logsumexp, RNG state, debug mask) are training by-products and must be unused.
def _fused_ok(node: torch.fx.Node, settings: object) -> bool:
    if not all(u.target is operator.getitem and u.args[1] == 0 for u in node.users):
        return False
    c = attention_args(node.target, node.args, node.kwargs)
    return _attention_ok(c.query, c.key, c.mask, c.dropout_p, c.scale, c.enable_gqa)


@dynamo_tensorrt_converter(list(FUSED_ATTENTION), capability_validator=_fused_ok)
def aten_ops_fused_sdpa(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    c = attention_args(target, args, kwargs)
    out = attention(ctx, c.query, c.key, c.value, c.mask, c.is_causal, c.scale, c.enable_gqa, name)
    return (out,) + (None,) * (len(target._schema.returns) - 1)
