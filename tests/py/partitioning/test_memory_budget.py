"""enable_resource_partitioning + cpu_memory_budget: TensorRT segments split to fit the budget."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.partitioning._memory_budget import BUILD_MEMORY_PER_WEIGHT_BYTE
from torch_tensorrt.testing import emulated_runtime

WIDTH = 64
LAYER_BYTES = (WIDTH * WIDTH + WIDTH) * 4  # one float32 Linear's weight and bias


class Stack(nn.Module):
    def __init__(self, layers: int = 6, width: int = WIDTH) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


class SplitHeads(nn.Module):
    """A multi-output op (unbind) and a size query (the dynamic batch) read on both sides of a cut."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(WIDTH, 2 * WIDTH)
        self.a, self.b = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = self.up(x).reshape(x.shape[0], 2, WIDTH).unbind(1)
        y = self.a(left) * self.b(right)
        return y.reshape(x.shape[0], -1, 8).sum(-1)


def _segments(compiled: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in compiled.named_children() if name.startswith("_run_on_acc_")}


def _compile(module: nn.Module, inputs: list[Any], **settings: Any) -> nn.Module:
    return torch_tensorrt.compile(module, ir="dynamo", arg_inputs=inputs, min_block_size=1, **settings)


def _partitioned_weight_bytes(module: nn.Module, x: torch.Tensor, **settings: Any) -> list[int]:
    """Weight bytes each TensorRT segment holds, from the partitioned (not yet built) program."""
    compiled = _compile(module, [x], dryrun=True, **settings)
    return [sum(b.numel() * b.element_size() for b in seg.buffers()) for seg in _segments(compiled).values()]


def test_segments_over_the_budget_become_several_engines_that_fit() -> None:
    torch.manual_seed(0)
    model, x = Stack().eval(), torch.randn(2, WIDTH)
    budget = BUILD_MEMORY_PER_WEIGHT_BYTE * 2 * LAYER_BYTES  # two layers per engine
    assert _partitioned_weight_bytes(model, x) == [6 * LAYER_BYTES]
    pieces = _partitioned_weight_bytes(model, x, enable_resource_partitioning=True, cpu_memory_budget=budget)
    assert pieces == [2 * LAYER_BYTES] * 3
    assert all(BUILD_MEMORY_PER_WEIGHT_BYTE * p <= budget for p in pieces)
    with emulated_runtime(persist=False):
        whole = _compile(model, [x])
        split = _compile(model, [x], enable_resource_partitioning=True, cpu_memory_budget=budget)
        assert len(_segments(whole)) == 1 and len(_segments(split)) == 3
        torch.testing.assert_close(split(x), model(x), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(whole(x), model(x), rtol=1e-5, atol=1e-5)


def test_budget_none_is_the_available_host_memory() -> None:
    model, x = Stack().eval(), torch.randn(2, WIDTH)
    assert len(_partitioned_weight_bytes(model, x, enable_resource_partitioning=True)) == 1


def test_multi_output_ops_and_size_queries_cross_cuts_as_tensors() -> None:
    torch.manual_seed(0)
    model, x = SplitHeads().eval(), torch.randn(4, WIDTH)
    spec = torch_tensorrt.Input(min_shape=(1, WIDTH), opt_shape=(4, WIDTH), max_shape=(8, WIDTH))
    budget = BUILD_MEMORY_PER_WEIGHT_BYTE * 2 * LAYER_BYTES  # up (two layers' worth) alone, then a + b
    with emulated_runtime(persist=False):
        compiled = _compile(model, [spec], enable_resource_partitioning=True, cpu_memory_budget=budget)
        assert len(_segments(compiled)) == 2
        for batch in (1, 4, 8):
            x = torch.randn(batch, WIDTH)
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)


def test_an_op_over_the_budget_is_built_anyway_and_said() -> None:
    reset_warnings()
    torch.manual_seed(0)
    model, x = Stack(layers=3).eval(), torch.randn(2, WIDTH)
    budget = BUILD_MEMORY_PER_WEIGHT_BYTE * LAYER_BYTES // 2  # less than any one layer needs
    with emulated_runtime(persist=False):
        with pytest.warns(UserWarning, match="cannot be split further; it is built anyway"):
            compiled = _compile(model, [x], enable_resource_partitioning=True, cpu_memory_budget=budget)
        assert len(_segments(compiled)) == 3  # one engine per layer
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)


def test_a_budget_needing_over_fifty_engines_is_refused() -> None:
    model, x = Stack(layers=2).eval(), torch.randn(2, WIDTH)
    with pytest.raises(ValueError, match="cpu_memory_budget=100 bytes is too small"):
        _compile(model, [x], dryrun=True, enable_resource_partitioning=True, cpu_memory_budget=100)


@pytest.mark.parametrize("budget", [0, -1])
def test_budget_must_be_positive(budget: int) -> None:
    with pytest.raises(ValueError, match="cpu_memory_budget must be a positive number of bytes"):
        CompilationSettings(enable_resource_partitioning=True, cpu_memory_budget=budget)


@pytest.mark.parametrize("budget", [1.5, True, "1GB"])
def test_budget_must_be_an_int(budget: Any) -> None:
    with pytest.raises(TypeError, match="cpu_memory_budget must be int"):
        CompilationSettings(enable_resource_partitioning=True, cpu_memory_budget=budget)


def test_budget_without_resource_partitioning_warns() -> None:
    reset_warnings()
    with pytest.warns(UserWarning, match="no effect without enable_resource_partitioning=True"):
        CompilationSettings(cpu_memory_budget=1 << 30)
