"""enable_autocast end to end: a CNN, an MLP and a transformer block compile to engines built by the
real TensorRT-RTX builder (on CPU) whose networks run their convolutions and matmuls in float16 /
bfloat16 while precision-sensitive layers stay float32, and whose outputs (float32, as the model's)
match eager float32 PyTorch within per-dtype tolerances on the emulated runtime (reference executor).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import torch_tensorrt
from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS, NetworkBuilt
from torch_tensorrt.testing import NetworkRecord, capture_network, emulated_runtime

nn = torch.nn

# Error allowed against eager float32, relative to the output's scale (max |eager output|): float16
# keeps 11 significant bits, bfloat16 8, over a handful of layers.
TOLERANCE = {torch.float16: 1e-2, torch.bfloat16: 4e-2}
# TensorRT's names for the dtypes, as the network records them.
TRT_NAME = {torch.float16: "HALF", torch.bfloat16: "BF16", torch.float32: "FLOAT"}
LOW_TYPES = [torch.float16, torch.bfloat16]


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )  # fmt: skip
        self.classifier = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(32, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(torch.relu(self.fc2(F.gelu(self.fc1(x)))))


class TransformerBlock(nn.Module):
    """Pre-norm block: layer norm, 4-head self-attention, residual, layer norm, GELU MLP, residual."""

    def __init__(self, width: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(batch, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, tokens, width)
        x = x + self.proj(attended)
        return x + self.mlp(self.norm2(x))


MODELS: dict[str, tuple[type[nn.Module], tuple[int, ...], set[str], set[str]]] = {
    # name: (model, input shape, layer types that must run in the low type, layer types that stay float32)
    "cnn": (SmallCNN, (2, 3, 16, 16), {"CONVOLUTION", "MATRIX_MULTIPLY"}, set()),
    "mlp": (MLP, (4, 32), {"MATRIX_MULTIPLY"}, set()),
    "transformer_block": (TransformerBlock, (2, 8, 32), {"MATRIX_MULTIPLY"}, {"NORMALIZATION"}),
}


@pytest.fixture
def built_networks() -> Iterator[list[tuple[NetworkRecord, bytes]]]:
    """Every network built while the test runs, captured with its engine bytes."""
    built: list[tuple[NetworkRecord, bytes]] = []

    def observe(event: NetworkBuilt) -> None:
        built.append((capture_network(event.network, [event.profile]), event.engine))

    NETWORK_BUILD_OBSERVERS.append(observe)
    yield built
    NETWORK_BUILD_OBSERVERS.remove(observe)


def _compile(model: nn.Module, x: torch.Tensor, **settings: Any) -> torch.fx.GraphModule:
    # The Python runtime: precision is decided before the runtime, which is not what these tests vary.
    return torch_tensorrt.compile(
        model, ir="dynamo", arg_inputs=[x], min_block_size=1, require_full_compilation=True,
        pass_through_build_failures=True, use_python_runtime=True, **settings,
    )  # fmt: skip


def _relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got - want).abs().max() / want.abs().max())


def _layer_dtypes(record: NetworkRecord, layer_type: str) -> set[str]:
    return {o.dtype for layer in record.layers if layer.type == layer_type for o in layer.outputs}


@pytest.mark.parametrize("low", LOW_TYPES, ids=["fp16", "bf16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_autocast_network_runs_reduced_precision_layers_and_matches_eager(
    name: str, low: torch.dtype, built_networks: list[tuple[NetworkRecord, bytes]]
) -> None:
    model_type, shape, low_layers, float32_layers = MODELS[name]
    model = model_type().eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = model(x)
    with emulated_runtime(persist=False), torch.no_grad():
        got = _compile(model, x, enable_autocast=True, autocast_low_precision_type=low)(x)
        full = _compile(model, x)(x)

    (record, engine), _ = built_networks  # one engine each: the autocast one, then the float32 one
    assert len(engine) > 0  # the real builder built the mixed-precision network
    for layer_type in low_layers:
        assert _layer_dtypes(record, layer_type) == {TRT_NAME[low]}, layer_type
    for layer_type in float32_layers:
        assert _layer_dtypes(record, layer_type) == {"FLOAT"}, layer_type
    assert {s.dtype for s in record.inputs} == {"FLOAT"} and got.dtype == torch.float32

    error = _relative_error(got, want)
    assert error <= TOLERANCE[low], f"{name} in {low}: error {error:.3g} relative to the output's scale"
    # The reduced precision really ran: further from eager than the float32 engine is.
    assert error > 4 * _relative_error(full, want)


def test_exclusions_reach_the_network(built_networks: list[tuple[NetworkRecord, bytes]]) -> None:
    model, x = MLP().eval(), torch.randn(4, 32)
    with emulated_runtime(persist=False), torch.no_grad():
        got = _compile(
            model, x, enable_autocast=True, autocast_low_precision_type=torch.float16, autocast_excluded_nodes={"^fc2$"}
        )(x)
    ((record, _),) = built_networks
    matmuls = [layer.outputs[0].dtype for layer in record.layers if layer.type == "MATRIX_MULTIPLY"]
    assert matmuls == ["HALF", "FLOAT", "HALF"]  # fc1, fc2 (excluded), fc3
    torch.testing.assert_close(got, model(x), rtol=1e-2, atol=1e-2)


def test_calibrated_autocast_program_saves_loads_and_runs(
    tmp_path: Path, built_networks: list[tuple[NetworkRecord, bytes]]
) -> None:
    model, x = SmallCNN().eval(), torch.randn(2, 3, 16, 16)
    calibration = [torch.randn(2, 3, 16, 16) for _ in range(3)]
    path = tmp_path / "cnn_autocast.ep"
    with emulated_runtime(store_dir=tmp_path / "store"), torch.no_grad():
        compiled = _compile(
            model, x, enable_autocast=True, autocast_low_precision_type=torch.bfloat16,
            autocast_calibration_dataloader=calibration, autocast_max_depth_of_reduction=64,
        )  # fmt: skip
        torch_tensorrt.save(compiled, str(path), inputs=[x])
        loaded = torch_tensorrt.load(str(path)).module()
        got = loaded(x)
    ((record, _),) = built_networks
    # The second convolution sums 8 channels x 3x3 = 72 products (> 64): it stays float32.
    assert [layer.outputs[0].dtype for layer in record.layers if layer.type == "CONVOLUTION"] == ["BF16", "FLOAT"]
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, model(x), rtol=4e-2, atol=4e-2)
