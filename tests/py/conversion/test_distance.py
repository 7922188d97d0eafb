"""torch.cdist (_cdist_forward) and F.pdist (_pdist_forward) through the real builder and the
reference executor."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import FLOATS, check, check_dynamic, dyn, fn_module, run_untraced

from torch_tensorrt.dynamo.conversion import UnsupportedOperatorException
from torch_tensorrt.testing import run_on_reference

# Differences and powers in float32 and one rounding of the result to the tensor's dtype.
TOLERANCES = {torch.float32: (1e-4, 1e-4), torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}
NORMS = [0.0, 1.0, 2.0, 3.0, 0.5, math.inf]


def _compare(fn: Callable[..., Any], inputs: list[torch.Tensor], dtype: torch.dtype) -> None:
    rtol, atol = TOLERANCES[dtype]
    if dtype == torch.float32:
        check(fn, *inputs, rtol=rtol, atol=atol)
        return
    # Eager PyTorch has no CPU half kernels for these: the reference is float32 eager on the same
    # (half-representable) values, rounded once.
    (got,) = run_on_reference(fn_module(fn, len(inputs)), inputs)
    torch.testing.assert_close(got, fn(*(x.float() for x in inputs)).to(dtype), rtol=rtol, atol=atol)


def _values(*shape: int, dtype: torch.dtype) -> torch.Tensor:
    # Whole numbers in half steps: p = 0 sees exact zeros in some differences.
    return (torch.randint(-4, 5, shape) / 2).to(dtype)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("p", NORMS, ids=str)
def test_cdist(p: float, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    _compare(lambda a, b: torch.cdist(a, b, p=p), [_values(2, 5, 3, dtype=dtype), _values(2, 4, 3, dtype=dtype)], dtype)


def test_cdist_broadcast_batch_and_unbatched() -> None:
    torch.manual_seed(0)
    check(lambda a, b: torch.cdist(a, b), torch.randn(3, 1, 4, 2), torch.randn(5, 6, 2), rtol=1e-4, atol=1e-4)
    check(lambda a, b: torch.cdist(a, b, p=1.0), torch.randn(4, 3), torch.randn(6, 3), rtol=1e-4, atol=1e-4)


def test_cdist_dynamic() -> None:
    fn = lambda a, b: torch.cdist(a, b)  # noqa: E731
    specs = [dyn((1, 2, 3), (2, 4, 3), (3, 8, 3)), dyn((1, 1, 3), (2, 5, 3), (3, 9, 3))]
    check_dynamic(fn, specs, [torch.randn(1, 2, 3), torch.randn(1, 1, 3)], [torch.randn(3, 8, 3), torch.randn(3, 9, 3)])


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("p", NORMS, ids=str)
def test_pdist(p: float, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    _compare(lambda a: F.pdist(a, p=p), [_values(5, 3, dtype=dtype)], dtype)


def test_pdist_dynamic_columns() -> None:
    # The rows fix the pairs; the coordinates per row may vary.
    fn = lambda a: F.pdist(a)  # noqa: E731
    check_dynamic(fn, [dyn((4, 1), (4, 3), (4, 6))], [torch.randn(4, 1)], [torch.randn(4, 6)])


class _PairDistances(torch.nn.Module):
    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._pdist_forward.default(a, self.p)


@pytest.mark.parametrize("p", NORMS, ids=str)
def test_pdist_dynamic_rows(p: float) -> None:
    # The pairs (i < j, row-major) of a run-time row count are computed in the engine: every count
    # in the range, including 2 (one pair) and odd ones, lists them in eager's order. (torch.export
    # cannot trace a run-time row count here; graphs handed over untraced can hold one.)
    torch.manual_seed(0)
    inputs = [_values(n, 3, dtype=torch.float32) for n in (2, 3, 5, 8, 9)]
    module = _PairDistances(p)
    outputs = run_untraced(module, [dyn((2, 3), (5, 3), (9, 3))], [[x] for x in inputs])
    rtol, atol = TOLERANCES[torch.float32]
    for x, got in zip(inputs, outputs):
        torch.testing.assert_close(got, module(x), rtol=rtol, atol=atol)


def test_pdist_rows_beyond_exact_pair_arithmetic_refused() -> None:
    with pytest.raises(UnsupportedOperatorException, match="_pdist_forward"):
        run_untraced(_PairDistances(2.0), [dyn((3, 3), (4, 3), (4096, 3))], [[torch.randn(4, 3)]])


def test_pdist_dynamic_rows_compiled() -> None:
    # Through torch_tensorrt.compile: the same engine for every row count in the range.
    fn = lambda a: F.pdist(a) * 1  # noqa: E731
    torch.manual_seed(0)
    check_dynamic(fn, [dyn((3, 3), (4, 3), (6, 3))], [torch.randn(3, 3)], [torch.randn(5, 3)], [torch.randn(6, 3)])
