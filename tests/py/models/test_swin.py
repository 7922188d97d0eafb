"""Swin Transformer (torchvision swin_t, random weights): its shifted-window attention mask is built by
slice assignment into a fresh tensor (aten.copy / slice_scatter after functionalization), its windows
by padding, rolling and view arithmetic. The whole model must be one engine with no fallback and match
eager on the reference executor.

64 x 64 is the smallest input at which windows shift in two stages (16 and 8 patches, padded to 21
and 14 > the window of 7; smaller stages fit one window and skip the shift and its mask).
"""

from __future__ import annotations

import pytest
import torch
import torchvision

from torch_tensorrt.testing import compile_on_reference, emulated_runtime

# ~150 layers of fp32 rounding (attention, GELU and layer norm in TensorRT's own order): the absolute
# tolerance is relative to the logits' scale, as in test_cnn_models.
RTOL, ATOL = 1e-4, 1e-4


@pytest.mark.slow
def test_swin_t_fully_converted_and_matches_eager() -> None:
    torch.manual_seed(0)
    model = torchvision.models.swin_t(weights=None).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = compile_on_reference(model, [x])
        actual = compiled(x)
    summary = compiled._compile_summary
    assert summary.num_engines == 1, f"{summary.num_engines} engines"
    assert summary.num_fallback_ops == 0, dict(summary.fallback_ops)
    # The mask's slice assignments are inside the engine, not folded away.
    assert {"torch.ops.aten.copy.default", "torch.ops.aten.slice_scatter.default"} <= set(summary.converted_ops)
    assert actual.shape == expected.shape == (1, 1000)
    cosine = torch.nn.functional.cosine_similarity(actual.flatten(), expected.flatten(), dim=0).item()
    assert cosine > 0.9999, f"cosine similarity {cosine}"
    torch.testing.assert_close(actual, expected, rtol=RTOL, atol=ATOL * max(1.0, expected.abs().max().item()))
