"""linear / matmul / mm / bmm / addmm / baddbmm through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager

FLOATS = [torch.float32, torch.float16, torch.bfloat16]


class Fn(nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.fn(a, b)


class Fn3(nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.fn(a, b, c)


LINEAR = [
    # (id, in shape, bias)
    ("1d", (6,), True),
    ("2d", (3, 6), True),
    ("3d", (2, 3, 6), True),
    ("4d", (2, 2, 3, 6), True),
    ("2d_nobias", (3, 6), False),
    ("3d_nobias", (2, 3, 6), False),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", LINEAR, ids=[c[0] for c in LINEAR])
def test_linear(case: tuple, dtype: torch.dtype) -> None:
    _, shape, bias = case
    torch.manual_seed(0)
    module = nn.Linear(6, 5, bias=bias).eval().to(dtype)
    assert_close_to_eager(module, [torch.randn(shape).to(dtype)])


MATMUL = [
    # (id, a shape, b shape): torch.matmul's 1-D rules and batch broadcasting
    ("vec_vec", (5,), (5,)),
    ("vec_mat", (5,), (5, 3)),
    ("mat_vec", (4, 5), (5,)),
    ("vec_batched", (5,), (2, 5, 3)),
    ("batched_vec", (2, 3, 4, 5), (5,)),
    ("mat_mat", (4, 5), (5, 3)),
    ("batched_mat", (2, 4, 5), (5, 3)),
    ("mat_batched", (4, 5), (2, 5, 3)),
    ("batched_batched", (2, 4, 5), (2, 5, 3)),
    ("broadcast_4d_3d", (3, 1, 4, 5), (2, 5, 3)),
    ("broadcast_ones", (1, 2, 4, 5), (3, 1, 5, 3)),
    ("5d", (2, 1, 2, 4, 5), (1, 2, 1, 5, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", MATMUL, ids=[c[0] for c in MATMUL])
def test_matmul_two_activations(case: tuple, dtype: torch.dtype) -> None:
    _, sa, sb = case
    torch.manual_seed(0)
    assert_close_to_eager(Fn(torch.matmul), [torch.randn(sa).to(dtype), torch.randn(sb).to(dtype)])


class ConstOperand(nn.Module):
    def __init__(self, shape: tuple[int, ...], left: bool) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(shape))
        self.left = left

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w @ x if self.left else x @ self.w


CONST_OPERAND = [
    # (constant shape, activation shape, constant on the left)
    ((5, 3), (2, 4, 5), False),
    ((5,), (4, 5), False),
    ((2, 5, 3), (4, 5), False),
    ((4, 5), (2, 5, 3), True),
    ((5,), (2, 5, 3), True),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("wshape,xshape,left", CONST_OPERAND)
def test_matmul_constant_operand(wshape: tuple, xshape: tuple, left: bool, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    module = ConstOperand(wshape, left).eval().to(dtype)
    assert_close_to_eager(module, [torch.randn(xshape).to(dtype)])


OPS2 = [
    ("mm", torch.mm, (4, 5), (5, 3)),
    ("bmm", torch.bmm, (2, 4, 5), (2, 5, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", OPS2, ids=[c[0] for c in OPS2])
def test_mm_bmm(case: tuple, dtype: torch.dtype) -> None:
    _, op, sa, sb = case
    torch.manual_seed(0)
    assert_close_to_eager(Fn(op), [torch.randn(sa).to(dtype), torch.randn(sb).to(dtype)])


OPS3 = [
    # (id, function(input, m1, m2), input shape, m1 shape, m2 shape)
    ("addmm", lambda i, a, b: torch.addmm(i, a, b), (4, 3), (4, 5), (5, 3)),
    ("addmm_bcast_bias", lambda i, a, b: torch.addmm(i, a, b), (3,), (4, 5), (5, 3)),
    ("addmm_beta_alpha", lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2.0), (4, 3), (4, 5), (5, 3)),
    ("addmm_beta0_ignores_nan", lambda i, a, b: torch.addmm(i * float("nan"), a, b, beta=0), (4, 3), (4, 5), (5, 3)),
    ("addmv", lambda i, a, b: torch.addmv(i, a, b, beta=2.0, alpha=0.5), (4,), (4, 5), (5,)),
    ("baddbmm", lambda i, a, b: torch.baddbmm(i, a, b, beta=0.5, alpha=2.0), (2, 4, 3), (2, 4, 5), (2, 5, 3)),
    ("baddbmm_bcast", lambda i, a, b: torch.baddbmm(i, a, b), (1, 3), (2, 4, 5), (2, 5, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", OPS3, ids=[c[0] for c in OPS3])
def test_add_matmul(case: tuple, dtype: torch.dtype) -> None:
    _, fn, si, sa, sb = case
    torch.manual_seed(0)
    inputs = [torch.randn(s).to(dtype) for s in (si, sa, sb)]
    assert_close_to_eager(Fn3(fn), inputs)


class AddmmConst(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.randn(3))
        self.w = nn.Parameter(torch.randn(5, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x, self.w, beta=0.25, alpha=3.0)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_addmm_constant_bias(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    assert_close_to_eager(AddmmConst().eval().to(dtype), [torch.randn(4, 5).to(dtype)])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_dynamic_linear(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    module = nn.Linear(6, 4).eval().to(dtype)
    spec = torch_tensorrt.Input(min_shape=(1, 2, 6), opt_shape=(3, 5, 6), max_shape=(3, 5, 6), dtype=dtype)
    for shape in ((1, 2, 6), (3, 5, 6)):
        assert_close_to_eager(module, [torch.randn(shape).to(dtype)], input_specs=[spec])


DYNAMIC_MATMUL = [
    # (id, (a min, a max), (b min, b max)); the concrete inputs are the two ends of each range.
    ("batched", ((1, 2, 4), (3, 6, 4)), ((4, 5), (4, 5))),
    ("bcast_batch_one", ((1, 2, 4), (3, 6, 4)), ((1, 4, 5), (1, 4, 5))),
    ("vec", ((1, 4), (6, 4)), ((4,), (4,))),
    ("dynamic_n", ((3, 4), (3, 4)), ((4, 2), (4, 7))),
]


@pytest.mark.parametrize("case", DYNAMIC_MATMUL, ids=[c[0] for c in DYNAMIC_MATMUL])
def test_dynamic_matmul(case: tuple) -> None:
    _, ra, rb = case
    torch.manual_seed(0)
    specs = [torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi) for lo, hi in (ra, rb)]
    for i in range(2):
        assert_close_to_eager(Fn(torch.matmul), [torch.randn(ra[i]), torch.randn(rb[i])], input_specs=specs)


# (id, function, (min, max) shape per input, dtype); shared dynamic dims are tied by the tracer.
DYNAMIC_BATCHED = [
    ("bmm", torch.bmm, [((1, 2, 4), (5, 6, 4)), ((1, 4, 3), (5, 4, 3))], torch.float32),
    ("bmm_half", torch.bmm, [((1, 3, 4), (4, 3, 4)), ((1, 4, 2), (4, 4, 2))], torch.float16),
    # Attention scores: (B, H, S, D) @ (B, H, D, S) with dynamic batch and sequence.
    ("attention_scores", lambda q, k: q @ k.transpose(-1, -2), [((1, 2, 3, 8), (4, 2, 9, 8))] * 2, torch.float32),
    ("attention_scores_bf16", lambda q, k: q @ k.transpose(-1, -2), [((1, 2, 3, 8), (4, 2, 9, 8))] * 2, torch.bfloat16),
    # (B, H, S, S) @ (B, H, S, D): the dynamic sequence is the contracted dim.
    ("attention_values", torch.matmul, [((1, 2, 3, 3), (4, 2, 9, 9)), ((1, 2, 3, 8), (4, 2, 9, 8))], torch.float32),
    # A 4-D operand against a 3-D one: the batch broadcasts from the left.
    ("broadcast_4d_3d", torch.matmul, [((1, 1, 3, 4), (3, 1, 5, 4)), ((2, 4, 3), (2, 4, 3))], torch.float16),
    (
        "baddbmm",
        lambda i, a, b: torch.baddbmm(i, a, b, beta=0.5, alpha=2.0),
        [((1, 2, 3), (5, 2, 3)), ((1, 2, 4), (5, 2, 4)), ((1, 4, 3), (5, 4, 3))],
        torch.float32,
    ),
    (
        "baddbmm_bcast_half",
        lambda i, a, b: torch.baddbmm(i, a, b),
        [((1, 3), (1, 3)), ((1, 2, 4), (5, 2, 4)), ((1, 4, 3), (5, 4, 3))],
        torch.float16,
    ),
    (
        "addmm_dynamic_rows",
        lambda i, a, b: torch.addmm(i, a, b, alpha=0.5),
        [((3,), (3,)), ((1, 4), (6, 4)), ((4, 3), (4, 3))],
        torch.float32,
    ),
]


@pytest.mark.parametrize("case", DYNAMIC_BATCHED, ids=[c[0] for c in DYNAMIC_BATCHED])
def test_dynamic_batched(case: tuple) -> None:
    _, fn, ranges, dtype = case
    torch.manual_seed(0)
    specs = [torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype) for lo, hi in ranges]
    module = (Fn if len(ranges) == 2 else Fn3)(fn)
    for i in range(2):
        assert_close_to_eager(module, [torch.randn(r[i]).to(dtype) for r in ranges], input_specs=specs)


def test_integer_matmul_is_refused() -> None:
    # TensorRT's MatrixMultiply has no integer kernels.
    inputs = [torch.randint(-3, 3, (2, 3)), torch.randint(-3, 3, (3, 4))]
    with pytest.raises(UnsupportedOperatorError, match="matmul"):
        assert_close_to_eager(Fn(torch.matmul), inputs)
    assert_close_to_eager(Fn(torch.matmul), inputs, require_full_compilation=False)
