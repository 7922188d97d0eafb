"""Activations through the real builder and the reference executor, compared with eager PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _case_tables import check, rank_cycle_table
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
I32, I64 = torch.int32, torch.int64
FLOATS = [F32, F16, BF16]
# One shape per rank 1-5; cases cycle through them.
SHAPES = [(9,), (3, 5), (2, 3, 4), (2, 1, 3, 4), (1, 2, 3, 2, 2)]


def table(rows: Sequence[tuple], dtypes_at: int) -> list[Any]:
    return rank_cycle_table(rows, dtypes_at, SHAPES)


# (id, fn, dtypes); inputs span [-8, 8] so that every clip and knee is crossed.
ACTIVATIONS: list[tuple[str, Callable[..., Any], list[torch.dtype]]] = [
    ("relu", F.relu, [*FLOATS, I32, I64]),
    ("relu6", F.relu6, [F32, F16, I64]),
    ("hardtanh", F.hardtanh, [F32, BF16]),
    ("hardtanh_bounds", lambda x: F.hardtanh(x, -0.5, 0.7), [F32, F16, I32]),
    ("hardtanh_int_bounds", lambda x: F.hardtanh(x, -2, 3), [I64]),
    ("sigmoid", torch.sigmoid, [*FLOATS, I32]),
    ("tanh", torch.tanh, [*FLOATS, I64]),
    ("silu", F.silu, FLOATS),
    ("gelu", F.gelu, FLOATS),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), FLOATS),
    ("hardswish", F.hardswish, FLOATS),
    ("hardsigmoid", F.hardsigmoid, FLOATS),
    ("leaky_relu", F.leaky_relu, [F32, F16]),
    ("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.2), [F32, BF16]),
    ("leaky_relu_negative_slope", lambda x: F.leaky_relu(x, -0.5), [F32]),
    ("elu", F.elu, [F32, F16]),
    ("elu_alpha", lambda x: F.elu(x, alpha=0.5), [F32, BF16]),
    ("selu", F.selu, [F32, F16]),
    ("celu", lambda x: F.celu(x, alpha=2.0), [F32, F16]),
    # aten.elu's scale and input_scale (no public functional reaches input_scale).
    ("elu_scales", lambda x: torch.ops.aten.elu(x, 1.5, 2.0, 0.5), [F32, F16]),
    ("elu_input_scale", lambda x: torch.ops.aten.elu(x, 1.0, 1.0, 2.0), [F32]),
    # softplus and mish lower to exp/log1p/where/tanh, which must all convert.
    ("softplus", F.softplus, [F32, F16]),
    ("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=3.0), [F32, BF16]),
    ("mish", F.mish, [F32, F16]),
]


@pytest.mark.parametrize("case, dtype, shape", table(ACTIVATIONS, 2))
def test_activation(case: tuple, dtype: torch.dtype, shape: tuple) -> None:
    _, fn, _ = case
    torch.manual_seed(0)
    x = torch.rand(shape) * 16 - 8
    check(fn, x.to(dtype))


def test_activation_near_zero() -> None:
    # elu/selu/gelu/silu around 0, where exp(x) - 1 style formulas lose relative accuracy.
    x = torch.tensor([-1e-3, -1e-5, 0.0, 1e-5, 1e-3, -0.3, 0.3])
    check(lambda a: (F.elu(a), F.selu(a), F.gelu(a), F.silu(a), torch.ops.aten.elu(a, 1.0, 2.0, 0.5)), x)


def test_module_activations() -> None:
    # nn.Module forms in one small network, as they appear in models.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 6), nn.Hardswish(), nn.Linear(6, 3), nn.ReLU6()).eval()
    assert_close_to_eager(net, [torch.randn(2, 4)])


DYNAMIC: list[tuple[str, Callable[..., Any], torch.dtype]] = [
    ("relu_sigmoid", lambda x: torch.sigmoid(F.relu(x) - 1), F32),
    ("gelu_hardswish", lambda x: F.hardswish(F.gelu(x, approximate="tanh")), F16),
    ("elu_leaky", lambda x: F.leaky_relu(F.elu(x, 0.5), 0.1), F32),
    ("hardtanh_int", lambda x: F.hardtanh(x, -2, 3), I32),
    ("tanh_gelu_f32", lambda x: F.gelu(x, approximate="tanh") + torch.tanh(x), F32),
    ("gelu_erf_tanh_bf16", lambda x: F.gelu(x) * torch.tanh(x), BF16),
    ("silu_half", lambda x: F.silu(x), F16),
]


@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple) -> None:
    _, fn, dtype = case
    lo, hi = (1, 2, 3), (3, 2, 5)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    torch.manual_seed(0)
    for shape in (lo, hi):
        check(fn, (torch.rand(shape) * 16 - 8).to(dtype), input_specs=[spec])


def test_float64_activation_falls_back() -> None:
    # A float64 result would come out as float32; without truncate_double it stays in PyTorch.
    x = torch.randn(2, 3)
    with pytest.raises(UnsupportedOperatorError, match="gelu"):
        check(lambda a: F.gelu(a.double()), x)
    check(lambda a: F.gelu(a.double()).float(), x, require_full_compilation=False)
