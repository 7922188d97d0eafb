"""Unary math, rounding, sign, predicates and logical/bitwise not through the real builder and the
reference executor, compared with eager PyTorch."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from _case_tables import Fn1, check, rank_cycle_table

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import run_on_reference

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
I32, I64, BOOL = torch.int32, torch.int64, torch.bool
# One shape per rank 1-5; cases cycle through them.
SHAPES = [(7,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (1, 2, 3, 1, 2)]


def table(rows: Sequence[tuple], dtypes_at: int) -> list[Any]:
    return rank_cycle_table(rows, dtypes_at, SHAPES)


def domain(kind: str, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    """Inputs inside each function's domain (and away from poles), in ``dtype``."""
    u = torch.rand(shape)
    values = {
        "any": torch.randn(shape) * 2,
        "pos": u * 4 + 0.1,
        "unit": u * 1.8 - 0.9,
        "ge1": u * 3 + 1.05,
        "tan": u * 2.4 - 1.2,
        "nonzero": torch.where(torch.rand(shape) > 0.5, 1.0, -1.0) * (u * 3 + 0.3),
        # Magnitudes from 1e-7 to 1: where log(1 + x) and exp(x) - 1 lose their relative accuracy.
        "tiny": torch.randn(shape).clamp(-0.9, 0.9) * 10.0 ** torch.randint(-7, 1, tuple(shape)),
        "int": torch.randint(0, 9, tuple(shape)).float(),
        "bool": (u > 0.5).float(),
    }[kind]
    return values.to(dtype)


# (id, fn, input domain, dtypes)
FLOAT_OPS: list[tuple[str, Callable[..., Any], str, list[torch.dtype]]] = [
    ("exp", torch.exp, "any", [F32, F16, BF16, I32, BOOL]),
    ("log", torch.log, "pos", [F32, F16]),
    ("sqrt", torch.sqrt, "pos", [F32, BF16, I64]),
    ("rsqrt", torch.rsqrt, "pos", [F32, F16, BF16]),
    ("reciprocal", torch.reciprocal, "nonzero", [F32, F16]),
    ("reciprocal_int", torch.reciprocal, "int", [I32]),
    ("sin", torch.sin, "any", [F32, F16]),
    ("cos", torch.cos, "any", [F32, BF16]),
    ("tan", torch.tan, "tan", [F32]),
    ("asin", torch.asin, "unit", [F32, F16]),
    ("acos", torch.acos, "unit", [F32]),
    ("atan", torch.atan, "any", [F32, I32]),
    ("sinh", torch.sinh, "any", [F32]),
    ("cosh", torch.cosh, "any", [F32, F16]),
    ("asinh", torch.asinh, "any", [F32]),
    ("acosh", torch.acosh, "ge1", [F32]),
    ("atanh", torch.atanh, "unit", [F32, BF16]),
    ("erf", torch.erf, "any", [F32, F16]),
    ("log2", torch.log2, "pos", [F32, F16, I32]),
    ("log10", torch.log10, "pos", [F32, BF16]),
    ("log1p", torch.log1p, "tiny", [F32, F16, BF16]),
    ("log1p_large", torch.log1p, "pos", [F32, I64]),
    ("expm1", torch.expm1, "tiny", [F32, F16, BF16]),
    ("expm1_large", torch.expm1, "any", [F32]),
    ("exp2", torch.exp2, "any", [F32, F16]),
]


@pytest.mark.parametrize("case, dtype, shape", table(FLOAT_OPS, 3))
def test_float_op(case: tuple, dtype: torch.dtype, shape: tuple) -> None:
    name, fn, kind, _ = case
    torch.manual_seed(0)
    x = domain(kind, shape, dtype)
    if name in ("log1p", "expm1") and dtype == F32:
        # Their point is relative accuracy near 0, which an absolute tolerance would hide.
        check(fn, x, atol=0.0)
    else:
        check(fn, x)


ROUNDING: list[tuple[str, Callable[..., Any], list[torch.dtype]]] = [
    ("floor", torch.floor, [F32, F16, I64]),
    ("ceil", torch.ceil, [F32, BF16, I32]),
    ("round", torch.round, [F32, F16, I32]),
    ("trunc", torch.trunc, [F32, F16, I64]),
    ("frac", torch.frac, [F32, BF16]),
    ("round_decimals", lambda x: torch.round(x, decimals=2), [F32, F16, BF16]),
    ("round_negative_decimals", lambda x: torch.round(x * 100, decimals=-1), [F32, F16]),
]


@pytest.mark.parametrize("case, dtype, shape", table(ROUNDING, 2))
def test_rounding(case: tuple, dtype: torch.dtype, shape: tuple) -> None:
    _, fn, _ = case
    torch.manual_seed(0)
    # Many exact halves (round half to even), plus values on both sides of zero.
    x = torch.randint(-12, 13, tuple(shape)) / 2 + torch.randn(shape) * (torch.rand(shape) > 0.5)
    check(fn, x.to(dtype) if dtype.is_floating_point else (x * 2).to(dtype))


SIGN_OPS: list[tuple[str, Callable[..., Any], list[torch.dtype]]] = [
    ("abs", torch.abs, [F32, F16, I32, I64]),
    ("neg", torch.neg, [F32, BF16, I32, I64]),
    ("sign", torch.sign, [F32, F16, I32, I64, BOOL]),
]


@pytest.mark.parametrize("case, dtype, shape", table(SIGN_OPS, 2))
def test_sign_ops(case: tuple, dtype: torch.dtype, shape: tuple) -> None:
    _, fn, _ = case
    torch.manual_seed(0)
    x = torch.randint(-3, 4, tuple(shape)).float() * (1.0 if dtype in (I32, I64, BOOL) else 0.7)
    check(fn, x.to(dtype))


SPECIAL = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -2.5, 65000.0])


@pytest.mark.parametrize("dtype", [F32, F16, BF16, I32, BOOL], ids=str)
@pytest.mark.parametrize("op", ["isnan", "isinf"])
def test_predicates(op: str, dtype: torch.dtype) -> None:
    x = SPECIAL if dtype.is_floating_point else torch.tensor([0, 1, -3, 7])
    check(getattr(torch, op), x.reshape(2, -1).to(dtype))


@pytest.mark.parametrize("dtype", [BOOL, F16, I32], ids=str)
def test_logical_not(dtype: torch.dtype) -> None:
    check(torch.logical_not, torch.tensor([[0.0, 1.0, -2.0], [0.5, 0.0, 3.0]]).to(dtype))


@pytest.mark.parametrize("dtype", [BOOL, I32, I64], ids=str)
def test_bitwise_not(dtype: torch.dtype) -> None:
    x = torch.tensor([[0, 1, -2], [127, -128, 5]]) if dtype != BOOL else torch.tensor([[True, False, True]])
    check(torch.bitwise_not, x.to(dtype))


DYNAMIC: list[tuple[str, Callable[..., Any], torch.dtype]] = [
    ("log1p_exp", lambda x: torch.log1p(torch.exp(x)) - torch.rsqrt(x.abs() + 1), F32),
    ("trunc_round", lambda x: torch.trunc(x * 3) + torch.round(x, decimals=1), F16),
    ("isnan_sign", lambda x: torch.isnan(x.sqrt()) | (torch.sign(x) > 0), F32),
    ("bitwise_not_abs", lambda x: torch.bitwise_not(x).abs(), I64),
    ("erf", lambda x: torch.erf(x * 0.5) + torch.exp(-x.abs()), F32),
    ("erf_half", lambda x: torch.erf(x) * x.neg(), F16),
    ("erf_bf16", lambda x: torch.erf(x) + 1, BF16),
    ("logical_not", lambda x: torch.logical_not(x > 0) | torch.logical_not(x), F32),
]


@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple) -> None:
    _, fn, dtype = case
    lo, hi = (1, 3), (4, 3)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    torch.manual_seed(0)
    for shape in (lo, hi):
        x = (torch.randn(shape) * 4).to(dtype)
        check(fn, x, input_specs=[spec])


def test_float64_needs_truncate_double() -> None:
    x = torch.rand(2, 3) + 0.5
    with pytest.raises(UnsupportedOperatorError, match="sqrt"):
        check(lambda a: torch.sqrt(a.double()), x)
    # With truncate_double the engine computes in float32 (as documented for that setting).
    out = run_on_reference(Fn1(lambda a: torch.sqrt(a.double())), [x], truncate_double=True)
    torch.testing.assert_close(out[0].double(), x.double().sqrt(), rtol=1e-6, atol=1e-6)


def test_int8_input_falls_back() -> None:
    # ABS on int8 is quantized in TensorRT; int8 tensors stay in PyTorch.
    x = torch.tensor([[-3, 4, -128]], dtype=torch.int8)
    with pytest.raises(UnsupportedOperatorError, match="abs"):
        check(torch.abs, x)
    check(lambda a: a.abs() + 1, x, require_full_compilation=False)


def test_log_constants() -> None:
    # log2/log10 of exact powers come out as (nearly) whole numbers.
    x = torch.tensor([1.0, 2.0, 8.0, 10.0, 1000.0, 0.125])
    check(lambda a: (torch.log2(a), torch.log10(a)), x)
    assert math.isclose(float(run_on_reference(Fn1(torch.log2), [x])[0][2]), 3.0, rel_tol=1e-6)
