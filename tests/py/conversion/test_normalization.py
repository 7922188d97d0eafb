"""Batch / layer / group / RMS / instance norm through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager

FLOATS = [torch.float32, torch.float16, torch.bfloat16]


def _randomize(module: nn.Module) -> nn.Module:
    """Non-trivial affine parameters and running statistics, so that each of them matters."""
    torch.manual_seed(1)
    for p in module.parameters():
        p.data = torch.randn_like(p) * 0.5 + 1
    for name, b in module.named_buffers():
        if name.endswith("running_mean"):
            b.copy_(torch.randn_like(b))
        elif name.endswith("running_var"):
            b.copy_(torch.rand_like(b) + 0.5)
    return module.eval()


# (id, module factory, input shape)
Case = tuple[str, Callable[[], nn.Module], tuple[int, ...]]

CASES: list[Case] = [
    ("bn1d_2d", lambda: nn.BatchNorm1d(4), (3, 4)),
    ("bn1d_3d", lambda: nn.BatchNorm1d(4), (2, 4, 5)),
    ("bn2d", lambda: nn.BatchNorm2d(4), (2, 4, 3, 5)),
    ("bn3d", lambda: nn.BatchNorm3d(4), (2, 4, 3, 2, 3)),
    ("bn2d_no_affine", lambda: nn.BatchNorm2d(4, affine=False), (2, 4, 3, 5)),
    ("bn2d_eps", lambda: nn.BatchNorm2d(4, eps=0.1), (2, 4, 3, 5)),
    # No running statistics: batch statistics even in eval mode.
    ("bn2d_batch_stats", lambda: nn.BatchNorm2d(4, track_running_stats=False), (3, 4, 3, 5)),
    ("bn1d_batch_stats_no_affine", lambda: nn.BatchNorm1d(4, affine=False, track_running_stats=False), (5, 4)),
    ("instance2d", lambda: nn.InstanceNorm2d(4), (2, 4, 3, 5)),
    ("instance1d_affine", lambda: nn.InstanceNorm1d(4, affine=True), (2, 4, 6)),
    ("instance3d", lambda: nn.InstanceNorm3d(3, affine=True), (2, 3, 2, 3, 4)),
    ("ln_last", lambda: nn.LayerNorm(6), (2, 3, 6)),
    ("ln_1d_input", lambda: nn.LayerNorm(6), (6,)),
    ("ln_two_dims", lambda: nn.LayerNorm([3, 6]), (2, 3, 6)),
    ("ln_all_dims", lambda: nn.LayerNorm([2, 3, 6]), (2, 3, 6)),
    ("ln_4d", lambda: nn.LayerNorm([4, 5]), (2, 3, 4, 5)),
    ("ln_no_affine", lambda: nn.LayerNorm(6, elementwise_affine=False), (2, 3, 6)),
    ("ln_no_bias", lambda: nn.LayerNorm(6, bias=False), (2, 3, 6)),
    ("ln_eps", lambda: nn.LayerNorm(6, eps=0.5), (4, 6)),
    ("gn", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 5)),
    ("gn_2d_input", lambda: nn.GroupNorm(3, 6), (4, 6)),
    ("gn_3d_input", lambda: nn.GroupNorm(2, 6, affine=False), (2, 6, 5)),
    ("gn_5d_input", lambda: nn.GroupNorm(3, 3), (2, 3, 2, 3, 2)),
    ("gn_one_group", lambda: nn.GroupNorm(1, 4, eps=0.1), (2, 4, 3, 3)),
    ("gn_per_channel", lambda: nn.GroupNorm(4, 4), (2, 4, 3, 3)),
    ("rms_last", lambda: nn.RMSNorm(6), (2, 3, 6)),
    ("rms_two_dims_eps", lambda: nn.RMSNorm([3, 6], eps=1e-3), (2, 3, 6)),
    ("rms_no_weight", lambda: nn.RMSNorm(6, elementwise_affine=False), (2, 3, 6)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_normalization(case: Case, dtype: torch.dtype) -> None:
    _, factory, shape = case
    module = _randomize(factory()).to(dtype)
    torch.manual_seed(0)
    x = (torch.randn(shape) * 2 + 1).to(dtype)
    assert_close_to_eager(module, [x])


class Functional(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


FUNCTIONAL = [
    ("native_layer_norm_no_affine", lambda x: torch.native_layer_norm(x, [4], None, None, 1e-5)[0]),
    ("native_group_norm", lambda x: torch.native_group_norm(x, None, None, 2, 3, 4, 3, 1e-5)[0]),
    ("rms_norm_default_eps_tiny_values", lambda x: F.rms_norm(x * 1e-4, [4])),
    ("layer_norm_large_values", lambda x: F.layer_norm(x * 300, [4])),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional(case: tuple, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    assert_close_to_eager(Functional(case[1]), [torch.randn(2, 3, 4).to(dtype)])


DYNAMIC = [
    ("bn2d", lambda: nn.BatchNorm2d(3), (1, 3, 2, 2), (4, 3, 5, 6)),
    ("instance2d", lambda: nn.InstanceNorm2d(3, affine=True), (1, 3, 2, 2), (4, 3, 5, 6)),
    ("ln", lambda: nn.LayerNorm(6), (1, 2, 6), (4, 5, 6)),
    ("gn", lambda: nn.GroupNorm(2, 4), (1, 4, 2, 2), (3, 4, 5, 6)),
    ("rms", lambda: nn.RMSNorm(6), (1, 2, 6), (4, 5, 6)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple, dtype: torch.dtype) -> None:
    _, factory, lo, hi = case
    module = _randomize(factory()).to(dtype)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    for shape in (lo, hi):
        assert_close_to_eager(module, [torch.randn(shape).to(dtype)], input_specs=[spec])


class LayerNormStats(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, mean, rstd = torch.native_layer_norm(x, [4], None, None, 1e-5)
        return out + mean * rstd


class GroupNormStats(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, mean, rstd = torch.native_group_norm(x, None, None, 2, 4, 3, 2, 1e-5)
        return out.sum() + mean.sum() + rstd.sum()


@pytest.mark.parametrize(
    "module,x,op",
    [
        (LayerNormStats(), torch.randn(2, 3, 4), "native_layer_norm"),
        (GroupNormStats(), torch.randn(2, 4, 3), "native_group_norm"),
    ],
    ids=["layer_norm", "group_norm"],
)
def test_statistics_outputs_are_refused(module: nn.Module, x: torch.Tensor, op: str) -> None:
    # The saved mean / rstd outputs are never produced; a graph that reads them stays in PyTorch.
    with pytest.raises(UnsupportedOperatorError, match=op):
        assert_close_to_eager(module, [x])
    assert_close_to_eager(module, [x], require_full_compilation=False)
