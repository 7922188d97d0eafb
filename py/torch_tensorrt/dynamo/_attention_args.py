"""The arguments of torch's attention ops, read from either signature: one owner for the argument
positions of ``scaled_dot_product_attention`` and of the fused overloads a GPU export produces.

Shared by the ``decompose_attention`` lowering pass and the attention converter, so it stays free of
TensorRT and of the conversion package (a stage never imports a later one, DESIGN.md section 7).
Values are returned as given (fx nodes when lowering, TensorRT tensors when converting).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt.dynamo._node_args import arg

aten = torch.ops.aten

__all__ = ["ATTENTION_OPS", "FUSED_ATTENTION", "AttentionArgs", "attention_args"]

# Fused overloads (exported on a GPU): output 0 is the attention, the others (logsumexp, RNG state,
# debug mask) are training by-products. Argument positions: (attn_bias, dropout_p, is_causal);
# None = no such argument. They take no enable_gqa.
FUSED_ATTENTION: dict[Any, tuple[int | None, int, int]] = {
    aten._scaled_dot_product_efficient_attention.default: (3, 5, 6),
    aten._scaled_dot_product_flash_attention.default: (None, 3, 4),
    aten._scaled_dot_product_cudnn_attention.default: (3, 5, 6),
}
# scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, *, scale, enable_gqa)
_SDPA_POSITIONS = (3, 4, 5)
ATTENTION_OPS = frozenset({aten.scaled_dot_product_attention.default, *FUSED_ATTENTION})


@dataclass(frozen=True)
class AttentionArgs:
    """One attention call's operands; ``mask`` is the attn_mask or the fused ops' attn_bias."""

    query: Any
    key: Any
    value: Any
    mask: Any
    dropout_p: Any
    is_causal: bool
    scale: Any
    enable_gqa: bool


def attention_args(target: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> AttentionArgs:
    """The operands of a call of ``target`` (one of :data:`ATTENTION_OPS`) with ``args``/``kwargs``."""
    fused = target in FUSED_ATTENTION
    mask_at, dropout_at, causal_at = FUSED_ATTENTION[target] if fused else _SDPA_POSITIONS
    mask_name = "attn_bias" if fused else "attn_mask"
    return AttentionArgs(
        query=args[0],
        key=args[1],
        value=args[2],
        mask=None if mask_at is None else arg(args, kwargs, mask_at, mask_name),
        dropout_p=arg(args, kwargs, dropout_at, "dropout_p", 0.0),
        is_causal=bool(arg(args, kwargs, causal_at, "is_causal", False)),
        scale=kwargs.get("scale"),
        enable_gqa=False if fused else bool(kwargs.get("enable_gqa", False)),
    )
