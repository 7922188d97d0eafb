"""torch.ops.prims overloads (div, sum) through the real builder and the reference executor."""

from __future__ import annotations

import pytest
import torch
from _shape_testing import assert_falls_back, check, check_dynamic, dyn

prims = torch.ops.prims
FLOATS = [torch.float32, torch.float16, torch.bfloat16]
TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_div_floats(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    a, b = torch.randn(3, 4).to(dtype), (torch.rand(3, 4) + 0.5).to(dtype)
    rtol, atol = TOLERANCES[dtype]
    check(lambda x, y: prims.div(x, y), a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=str)
def test_div_integers_truncate(dtype: torch.dtype) -> None:
    # prims.div truncates integer quotients towards zero (-7 / 2 = -3), unlike floor division.
    a = torch.tensor([7, -7, 7, -7, 0, 9], dtype=dtype)
    b = torch.tensor([2, 2, -2, -2, 3, 4], dtype=dtype)
    check(lambda x, y: prims.div(x, y), a, b)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("dims", [[0], [1, 2], [2], [0, 1, 2], []], ids=str)
def test_sum(dims: list[int], dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    rtol, atol = TOLERANCES[dtype]
    check(lambda x: prims.sum(x, dims), torch.randn(2, 3, 4).to(dtype), rtol=rtol, atol=atol)


def test_integer_sum_falls_back() -> None:
    # Traced as int32, computed by eager as int64: left to PyTorch.
    assert_falls_back(lambda x: prims.sum(x, [1]), torch.randint(-5, 5, (3, 4), dtype=torch.int32), op="prims.sum")


def test_dynamic() -> None:
    fn = lambda x, y: (prims.sum(x, [1]), prims.div(x, y))  # noqa: E731
    specs = [dyn((1, 4), (3, 4), (6, 4)), dyn((1, 4), (3, 4), (6, 4))]
    check_dynamic(fn, specs, [torch.randn(1, 4), torch.rand(1, 4) + 1], [torch.randn(6, 4), torch.rand(6, 4) + 1])
