"""Shared weights become one constant layer (a tied embedding / LM head is stored once by us)."""

from __future__ import annotations

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion.converter_utils import create_constant, get_trt_tensor

_BUILDER = trt.Builder(trt.Logger(trt.Logger.ERROR))  # outlives every network made from it


def _ctx() -> ConversionContext:
    return ConversionContext(_BUILDER.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)))


def _constant_layers(ctx: ConversionContext) -> int:
    return sum(1 for i in range(ctx.net.num_layers) if ctx.net.get_layer(i).type == trt.LayerType.CONSTANT)


def test_the_same_weight_twice_is_one_constant() -> None:
    ctx = _ctx()
    weight = torch.randn(1000, 16)
    a = get_trt_tensor(ctx, weight, "embedding_weight")
    b = get_trt_tensor(ctx, weight, "lm_head_weight", torch.float32)  # dtype given = its own dtype
    assert a is b or a.name == b.name
    assert _constant_layers(ctx) == 1


def test_different_views_casts_and_small_values_are_separate_constants() -> None:
    ctx = _ctx()
    weight = torch.randn(1000, 16)
    create_constant(ctx, weight, "w")
    create_constant(ctx, weight.t(), "w_t")  # another view: other element order
    create_constant(ctx, weight, "w_half", torch.float16)  # another dtype
    create_constant(ctx, weight[:500], "w_rows")  # another view: fewer rows
    assert _constant_layers(ctx) == 4
    create_constant(ctx, torch.tensor([1, 2]), "shape")
    create_constant(ctx, torch.tensor([1, 2]), "shape")
    assert _constant_layers(ctx) == 6, "small constants are never shared (temporaries reuse storage)"
