"""Reference executor: Reduce, SoftMax, Normalization, TopK, Cumulative, MatrixMultiply, Einsum."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _reference_net import Net, close, rand

from torch_tensorrt._trt import trt

REDUCE = {
    "SUM": lambda x, axes, keep: x.sum(axes, keepdim=keep),
    "PROD": lambda x, axes, keep: _prod(x, axes, keep),
    "MAX": lambda x, axes, keep: x.amax(axes, keepdim=keep),
    "MIN": lambda x, axes, keep: x.amin(axes, keepdim=keep),
    "AVG": lambda x, axes, keep: x.float().mean(axes, keepdim=keep),
}


def _prod(x: torch.Tensor, axes: list[int], keep: bool) -> torch.Tensor:
    for a in sorted(axes, reverse=True):
        x = x.prod(a, keepdim=keep)
    return x


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("axes", [[1], [0, 2], [0, 1, 2]], ids=str)
@pytest.mark.parametrize("op", list(REDUCE))
def test_reduce_float(op: str, axes: list[int], keep: bool, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4))
    mask = sum(1 << a for a in axes)
    n.mark(n.network.add_reduce(x, getattr(trt.ReduceOperation, op), mask, keep).get_output(0))
    xv = rand(2, 3, 4, low=0.5, high=1.5, dtype=dtype)
    close(n.run({"x": xv})[0], REDUCE[op](xv.float(), axes, keep).to(dtype))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("op", ["SUM", "PROD", "MAX", "MIN"])
def test_reduce_integer(op: str, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (3, 4))
    n.mark(n.network.add_reduce(x, getattr(trt.ReduceOperation, op), 0b10, False).get_output(0))
    xv = torch.tensor([[1, -2, 3, 4], [5, 6, -7, 8], [0, 1, 2, 3]], dtype=dtype)
    close(n.run({"x": xv})[0], REDUCE[op](xv, [1], False).to(dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_softmax(axis: int, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4))
    layer = n.network.add_softmax(x)
    layer.axes = 1 << axis
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, low=-4, high=4, dtype=dtype)
    close(n.run({"x": xv})[0], torch.softmax(xv.float(), axis).to(dtype))


def test_softmax_default_axis() -> None:
    # Default: axis rank - 3 (C of NCHW).
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4, 5))
    n.mark(n.network.add_softmax(x).get_output(0))
    xv = rand(2, 3, 4, 5)
    close(n.run({"x": xv})[0], torch.softmax(xv, 1))


def _norm(x: torch.Tensor, axes: list[int], eps: float) -> torch.Tensor:
    mean = x.mean(axes, keepdim=True)
    var = x.var(axes, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_normalization_layer_norm(dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 8))
    scale, bias = rand(1, 1, 8, dtype=dtype), rand(1, 1, 8, dtype=dtype)
    layer = n.network.add_normalization_v2(x, n.const(scale), n.const(bias), 1 << 2)
    layer.epsilon = 1e-3
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 8, dtype=dtype)
    expected = F.layer_norm(xv.float(), [8], scale.float().reshape(8), bias.float().reshape(8), 1e-3)
    close(n.run({"x": xv})[0], expected.to(dtype))


def test_normalization_instance_norm() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4, 5))
    scale, bias = rand(1, 3, 1, 1), rand(1, 3, 1, 1)
    layer = n.network.add_normalization_v2(x, n.const(scale), n.const(bias), 0b1100)
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, 5)
    close(n.run({"x": xv})[0], _norm(xv, [2, 3], 1e-5) * scale + bias)


@pytest.mark.parametrize("v2", [True, False])
def test_normalization_group_norm(v2: bool) -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 6, 3, 4))
    channels = 6 if v2 else 2  # addNormalization (v1) takes per-group scale/bias, v2 per-channel
    scale, bias = rand(1, channels, 1, 1), rand(1, channels, 1, 1)
    add = n.network.add_normalization_v2 if v2 else n.network.add_normalization
    layer = add(x, n.const(scale), n.const(bias), 0b1100)
    layer.num_groups = 2
    n.mark(layer.get_output(0))
    xv = rand(2, 6, 3, 4)
    if v2:
        expected = F.group_norm(xv, 2, scale.reshape(6), bias.reshape(6), 1e-5)
    else:
        expected = F.group_norm(xv, 2, eps=1e-5) * scale.repeat_interleave(3, 1) + bias.repeat_interleave(3, 1)
    close(n.run({"x": xv})[0], expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32], ids=str)
@pytest.mark.parametrize("op", ["MAX", "MIN"])
@pytest.mark.parametrize("axis", [0, 1])
def test_topk(op: str, axis: int, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (5, 6))
    layer = n.network.add_topk(x, getattr(trt.TopKOperation, op), 3, 1 << axis)
    n.mark(layer.get_output(0), layer.get_output(1))
    xv = torch.randperm(30).reshape(5, 6).to(dtype)  # distinct values: no tie-breaking questions
    values, indices = n.run({"x": xv})
    ev, ei = torch.topk(xv.float(), 3, dim=axis, largest=op == "MAX")
    close(values, ev.to(dtype))
    close(indices, ei.int())


def test_topk_int64_indices_and_dynamic_k() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 8))
    layer = n.network.add_topk(x, trt.TopKOperation.MAX, 1, 0b10)
    layer.set_input(1, n.const(torch.tensor(4, dtype=torch.int32)))
    layer.indices_type = trt.int64
    n.mark(layer.get_output(0), layer.get_output(1))
    xv = torch.randperm(16).reshape(2, 8).float()
    values, indices = n.run({"x": xv})
    ev, ei = torch.topk(xv, 4, dim=1)
    close(values, ev)
    close(indices, ei)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [1, -1, 0])
def test_cumulative_sum(axis: int, exclusive: bool, reverse: bool, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (3, 4))
    axis_t = n.const(torch.tensor(axis, dtype=torch.int32))
    layer = n.network.add_cumulative(x, axis_t, trt.CumulativeOperation.SUM, exclusive, reverse)
    n.mark(layer.get_output(0))
    xv = rand(3, 4, low=-5, high=5).to(dtype)
    # Docs: y[j] = sum of x over 0..j (inclusive) / 0..j-1 (exclusive), mirrored for reverse.
    length = xv.shape[axis]
    cols = []
    for j in range(length):
        if reverse:
            lo, hi = (j + 1, length) if exclusive else (j, length)
        else:
            lo, hi = (0, j) if exclusive else (0, j + 1)
        cols.append(xv.float().narrow(axis, lo, hi - lo).sum(axis))
    expected = torch.stack(cols, axis if axis >= 0 else axis + 2).to(dtype)
    close(n.run({"x": xv})[0], expected)


MATMUL_CASES = [
    # (op0, op1, shape0, shape1, expected)
    ("NONE", "NONE", (3, 4), (4, 5), lambda a, b: a @ b),
    ("TRANSPOSE", "NONE", (4, 3), (4, 5), lambda a, b: a.T @ b),
    ("NONE", "TRANSPOSE", (3, 4), (5, 4), lambda a, b: a @ b.T),
    ("TRANSPOSE", "TRANSPOSE", (4, 3), (5, 4), lambda a, b: a.T @ b.T),
    ("NONE", "NONE", (2, 1, 3, 4), (1, 5, 4, 2), lambda a, b: torch.matmul(a, b)),
    ("NONE", "VECTOR", (2, 3, 4), (2, 4), lambda a, b: torch.einsum("bij,bj->bi", a, b)),
    ("VECTOR", "NONE", (2, 4), (2, 4, 3), lambda a, b: torch.einsum("bj,bji->bi", a, b)),
    ("VECTOR", "VECTOR", (3, 4), (3, 4), lambda a, b: (a * b).sum(-1)),
    ("VECTOR", "TRANSPOSE", (2, 4), (2, 3, 4), lambda a, b: torch.einsum("bj,bij->bi", a, b)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize(
    "op0,op1,s0,s1,expected", MATMUL_CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(MATMUL_CASES)]
)
def test_matrix_multiply(op0, op1, s0, s1, expected, dtype: torch.dtype) -> None:  # type: ignore[no-untyped-def]
    n = Net()
    a, b = n.input("a", dtype, s0), n.input("b", dtype, s1)
    layer = n.network.add_matrix_multiply(a, getattr(trt.MatrixOperation, op0), b, getattr(trt.MatrixOperation, op1))
    n.mark(layer.get_output(0))
    av, bv = rand(*s0, dtype=dtype), rand(*s1, dtype=dtype)
    close(n.run({"a": av, "b": bv})[0], expected(av.float(), bv.float()).to(dtype))


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij->ji", [(3, 4)]),
        ("ij->", [(3, 4)]),
        ("ik,kj->ij", [(3, 4), (4, 5)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,i->", [(6,), (6,)]),
        ("bii->bi", [(2, 3, 3)]),
    ],
)
def test_einsum(equation: str, shapes: list[tuple[int, ...]]) -> None:
    n = Net()
    ins = [n.input(f"x{i}", torch.float32, s) for i, s in enumerate(shapes)]
    n.mark(n.network.add_einsum(ins, equation).get_output(0))
    values = {f"x{i}": rand(*s) for i, s in enumerate(shapes)}
    close(n.run(values)[0], torch.einsum(equation, *values.values()))
