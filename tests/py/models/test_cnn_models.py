"""Whole CNNs: exactly one engine, zero fallback ops, outputs match eager PyTorch."""

from __future__ import annotations

import pytest
import torch
import torchvision

from torch_tensorrt.testing import compile_on_reference, emulated_runtime

MODELS = {
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
}
# Whole networks accumulate rounding over dozens of layers, so absolute tolerance is scaled by the
# output's magnitude; relative tolerance stays at the per-dtype defaults (fp32 1e-4, fp16 1e-2).
# fp16 atol is 2e-2 of the output scale: eager and the engine each round ~100 intermediate tensors
# to fp16 independently (BN folded into conv constants on one side, separate ops on the other), and
# over ResNet-50's depth those roundings compound to 1-2 % of the logits' range. Cosine > 0.999
# still requires the outputs to agree as a whole.
TOLERANCES = {torch.float32: (1e-4, 1e-4), torch.float16: (1e-2, 2e-2)}


def _calibrated(model: torch.nn.Module, size: int) -> torch.nn.Module:
    """Random weights with batch-norm statistics measured on random data.

    With default running statistics, activations of a randomly initialised network shrink layer by
    layer (MobileNetV2's logits are ~1e-9), which underflows in fp16 and makes any comparison
    meaningless; measured statistics keep activations O(1), as in a trained network.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, size, size))
    return model.eval()


@pytest.fixture(scope="module", params=list(MODELS))
def model_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("batch", [1, 4])
def test_cnn_fully_converted_and_matches_eager(model_name: str, batch: int, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = _calibrated(MODELS[model_name](weights=None), 112)
    x = torch.randn(batch, 3, 112, 112)
    model = model.to(dtype)
    x = x.to(dtype)
    with torch.no_grad():
        expected = model(x).float()  # eager PyTorch in the model's own dtype
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = compile_on_reference(model, [x])
        actual = compiled(x)
    summary = compiled._compile_summary
    assert summary.num_engines == 1, f"{summary.num_engines} engines"
    assert summary.num_fallback_ops == 0, dict(summary.fallback_ops)
    assert actual.dtype == dtype and actual.shape == expected.shape
    cosine = torch.nn.functional.cosine_similarity(actual.float().flatten(), expected.flatten(), dim=0).item()
    assert cosine > 0.999, f"cosine similarity {cosine}"
    rtol, atol = TOLERANCES[dtype]
    torch.testing.assert_close(actual.float(), expected, rtol=rtol, atol=atol * max(1.0, expected.abs().max().item()))
