"""One reader of attention-op arguments for the lowering pass and the converter (_attention_args)."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.dynamo._attention_args import ATTENTION_OPS, FUSED_ATTENTION, attention_args

aten = torch.ops.aten
Q, K, V, MASK = "q", "k", "v", "mask"


def test_sdpa_positional_and_keyword_forms_agree() -> None:
    target = aten.scaled_dot_product_attention.default
    positional = attention_args(target, (Q, K, V, MASK, 0.25, True), {"scale": 0.5, "enable_gqa": True})
    keyword = attention_args(
        target, (Q, K, V), {"attn_mask": MASK, "dropout_p": 0.25, "is_causal": True, "scale": 0.5, "enable_gqa": True}
    )
    assert positional == keyword
    assert (positional.query, positional.key, positional.value, positional.mask) == (Q, K, V, MASK)
    assert (positional.dropout_p, positional.is_causal, positional.scale, positional.enable_gqa) == (
        0.25,
        True,
        0.5,
        True,
    )


def test_sdpa_defaults() -> None:
    got = attention_args(aten.scaled_dot_product_attention.default, (Q, K, V), {})
    assert (got.mask, got.dropout_p, got.is_causal, got.scale, got.enable_gqa) == (None, 0.0, False, None, False)


@pytest.mark.parametrize(
    "target, args, expected_mask",
    [
        # flash: (query, key, value, dropout_p, is_causal, ...), no attn_bias
        (aten._scaled_dot_product_flash_attention.default, (Q, K, V, 0.5, True), None),
        # efficient: (query, key, value, attn_bias, compute_log_sumexp, dropout_p, is_causal, ...)
        (aten._scaled_dot_product_efficient_attention.default, (Q, K, V, MASK, False, 0.5, True), MASK),
        # cudnn: (query, key, value, attn_bias, compute_log_sumexp, dropout_p, is_causal, ...)
        (aten._scaled_dot_product_cudnn_attention.default, (Q, K, V, MASK, False, 0.5, True), MASK),
    ],
)
def test_fused_overload_positions(target: object, args: tuple[object, ...], expected_mask: object) -> None:
    got = attention_args(target, args, {"scale": 0.125})
    assert (got.mask, got.dropout_p, got.is_causal, got.scale, got.enable_gqa) == (
        expected_mask,
        0.5,
        True,
        0.125,
        False,
    )


def test_positions_match_the_schemas() -> None:
    """The table's positions are where torch's schemas put attn_bias, dropout_p and is_causal."""
    for target, positions in FUSED_ATTENTION.items():
        names = [a.name for a in target._schema.arguments]
        assert [None if p is None else names[p] for p in positions] == [
            "attn_bias" if "attn_bias" in names else None,
            "dropout_p",
            "is_causal",
        ], target
    assert aten.scaled_dot_product_attention.default in ATTENTION_OPS
