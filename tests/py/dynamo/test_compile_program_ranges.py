"""dynamo.compile of an ExportedProgram with dynamic dims, given example tensors: the engines take the
ranges torch.export recorded (as Torch-TensorRT's do), so other sizes in those ranges run."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import Input
from torch_tensorrt.testing import emulated_runtime


class IndexSelectRows(torch.nn.Module):
    def forward(self, source: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return torch.index_select(source, 0, index) * 2


def _program(rows: torch.export.Dim) -> torch.export.ExportedProgram:
    examples = (torch.randn(4, 3), torch.tensor([0, 2]))
    return torch.export.export(IndexSelectRows(), examples, dynamic_shapes=({0: rows}, None))


@pytest.mark.parametrize("run_rows", [2, 4, 7])
def test_example_tensors_take_the_programs_dynamic_ranges(run_rows: int) -> None:
    program = _program(torch.export.Dim("rows", min=2, max=8))
    examples = [torch.randn(4, 3), torch.tensor([0, 1])]
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.dynamo.compile(program, inputs=examples, min_block_size=1)
        source, index = torch.randn(run_rows, 3), torch.tensor([1, 0])
        torch.testing.assert_close(compiled(source, index), IndexSelectRows()(source, index), rtol=1e-6, atol=1e-6)


def test_given_input_ranges_are_kept() -> None:
    program = _program(torch.export.Dim("rows", min=2, max=8))
    specs = [Input(min_shape=(2, 3), opt_shape=(3, 3), max_shape=(4, 3)), torch.tensor([0, 1])]
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.dynamo.compile(program, inputs=specs, min_block_size=1)
        with pytest.raises(ValueError, match="outside the range"):
            compiled(torch.randn(6, 3), torch.tensor([0, 1]))
