"""torch.export's suggested fixes for dynamic dims the model ties together: relations are applied,
pins that only follow from dims left independent do not reject the requested ranges."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt import Input
from torch_tensorrt.testing import assert_close_to_eager

aten = torch.ops.aten


class Atan2IntoOut(torch.nn.Module):
    """Three inputs of one range whose dims the op ties together (torch.export suggests pins of
    dim 0 next to the equalities of dim 1)."""

    def forward(self, lhs: torch.Tensor, rhs: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return aten.atan2.out(lhs, rhs, out=out)


@pytest.mark.parametrize("run_shape", [(1, 2), (2, 3), (2, 4)])
def test_dims_tied_by_the_model_compile_over_the_whole_range(run_shape: tuple[int, int]) -> None:
    spec = Input(min_shape=(1, 2), opt_shape=(2, 3), max_shape=(2, 4))
    inputs = [torch.randn(run_shape), torch.randn(run_shape), torch.empty(run_shape)]
    assert_close_to_eager(Atan2IntoOut(), inputs, input_specs=[spec] * 3, rtol=1e-5, atol=1e-5)


def test_a_pin_the_model_really_needs_is_still_reported() -> None:
    class PinsTheBatchOfOne(torch.nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return (x + y).reshape(4, 3)  # x and y tied, and only batch 4 works

    spec = Input(min_shape=(2, 3), opt_shape=(4, 3), max_shape=(8, 3))
    import torch_tensorrt

    with pytest.raises(ValueError, match="torch.export rejected the dynamic input ranges"):
        torch_tensorrt.compile(PinsTheBatchOfOne(), inputs=[spec, spec], min_block_size=1)
