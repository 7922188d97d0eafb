"""TensorRT segments whose inputs have data-dependent sizes (unbacked symbols from ops that run in
PyTorch, such as ``nonzero`` or ``.item()``): their engine ranges come from the value ranges
torch.export recorded, and a size with no bound is refused with the fix."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import EngineInfo, TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._execute_engine_op import join_engine_info
from torch_tensorrt.testing import emulated_runtime

FP32 = {"rtol": 1e-5, "atol": 1e-5}


class _NonzeroThenMath(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.nonzero(x > 0).float()
        return rows.sum(0) * 2 + 1, torch.atan2(x, x + 1)


def _engine_input_ranges(compiled: torch.nn.Module) -> list[list[tuple[int, ...]]]:
    ranges = []
    for module in compiled.modules():
        if isinstance(module, TorchTensorRTModule):
            info = EngineInfo.from_list(join_engine_info(module.serialized_engine, module.engine_info))
            for spec in info.metadata.inputs:
                ranges.append([tuple(spec.min_shape), tuple(spec.opt_shape), tuple(spec.max_shape)])
    return ranges


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_segment_after_nonzero_runs_every_row_count(dynamic: bool) -> None:
    model = _NonzeroThenMath().eval()
    spec = (
        torch_tensorrt.Input(min_shape=(1, 5), opt_shape=(4, 5), max_shape=(8, 5))
        if dynamic
        else torch_tensorrt.Input(shape=(4, 5))
    )
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[spec], min_block_size=1)
        max_rows = 40 if dynamic else 20
        assert [(0, 2), (max_rows, 2), (max_rows, 2)] in _engine_input_ranges(compiled)
        for x in (torch.randn(4, 5), -torch.ones(4, 5), torch.ones(4, 5)) + ((torch.randn(8, 5),) if dynamic else ()):
            for got, want in zip(compiled(x), model(x)):
                torch.testing.assert_close(got, want, **FP32)


class _ItemSized(torch.nn.Module):
    def __init__(self, bounded: bool) -> None:
        super().__init__()
        self.bounded = bounded

    def forward(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        k = n.item()
        torch._check(k >= 0)
        if self.bounded:
            torch._check(k <= 6)
        return x[:k] * 3 - 1


def test_item_size_is_bounded_by_torch_check() -> None:
    model = _ItemSized(bounded=True).eval()
    x, n = torch.randn(6, 3), torch.tensor(4)
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[x, n], min_block_size=1)
        for k in (0, 4, 6):
            torch.testing.assert_close(compiled(x, torch.tensor(k)), model(x, torch.tensor(k)), **FP32)


@pytest.mark.parametrize("bounded", [True, False], ids=["checked", "clamped_by_slice"])
def test_item_of_a_plain_tensor_runs_in_pytorch_and_the_rest_in_tensorrt(bounded: bool) -> None:
    """``.item()`` of an input not declared a shape tensor has no value range for a profile: it stays in
    PyTorch (no failed engine build), and the ops after it convert with ranges from torch.export."""
    model = _ItemSized(bounded=bounded).eval()
    x = torch.randn(6, 3)
    with emulated_runtime():
        compiled = torch_tensorrt.compile(
            model, ir="dynamo", arg_inputs=[x, torch.tensor(4)], min_block_size=1, pass_through_build_failures=True
        )
        assert [(0, 3), (6, 3), (6, 3)] in _engine_input_ranges(compiled)
        for k in (0, 4, 6):
            torch.testing.assert_close(compiled(x, torch.tensor(k)), model(x, torch.tensor(k)), **FP32)


class _UnboundedOnes(torch.nn.Module):
    def forward(self, n: torch.Tensor) -> torch.Tensor:
        k = n.item()
        torch._check(k >= 0)
        return torch.ones(k) * 2 + n


def test_unbounded_data_dependent_size_is_refused_with_the_fix() -> None:
    with emulated_runtime(), pytest.raises(ValueError, match=r"data-dependent size .*torch\._check"):
        torch_tensorrt.compile(_UnboundedOnes().eval(), ir="dynamo", arg_inputs=[torch.tensor(4)], min_block_size=1)
