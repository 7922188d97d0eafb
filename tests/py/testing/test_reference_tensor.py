"""Reference executor: Shuffle, Slice, Concatenation, Constant, Shape, Gather, Scatter, Squeeze, Unsqueeze,
Padding, Fill, NonZero, OneHot, Assertion."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _reference_net import TRT_DTYPES, Net, close, rand

from torch_tensorrt._trt import trt
from torch_tensorrt.testing._reference import NetworkAssertionError, execute_record

# ------------------------------------------------------------------------------------------ Shuffle


def test_shuffle_transpose_reshape_transpose() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4, 5))
    layer = n.network.add_shuffle(x)
    layer.first_transpose = (0, 2, 1, 3)
    layer.reshape_dims = (0, -1, 5)  # 0 copies dimension 0 of the transposed input
    layer.second_transpose = (2, 0, 1)
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, 5)
    close(n.run({"x": xv})[0], xv.permute(0, 2, 1, 3).reshape(2, 12, 5).permute(2, 0, 1))


def test_shuffle_transpose_only() -> None:
    n = Net()
    x = n.input("x", torch.int32, (2, 3, 4))
    layer = n.network.add_shuffle(x)
    layer.first_transpose = (2, 0, 1)
    n.mark(layer.get_output(0))
    xv = torch.arange(24, dtype=torch.int32).reshape(2, 3, 4)
    close(n.run({"x": xv})[0], xv.permute(2, 0, 1))


def test_shuffle_zero_is_not_placeholder() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 0, 3))
    layer = n.network.add_shuffle(x)
    layer.zero_is_placeholder = False
    layer.reshape_dims = (0, 5)
    n.mark(layer.get_output(0))
    close(n.run({"x": torch.zeros(2, 0, 3)})[0], torch.zeros(0, 5))


def test_shuffle_reshape_from_shape_tensor_with_dynamic_shapes() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1, 3, 4))
    y = n.input("y", torch.float32, (-1, 4))
    layer = n.network.add_shuffle(x)
    layer.set_input(1, n.network.add_shape(y).get_output(0))
    n.mark(layer.get_output(0))
    profiles = [{"x": ((1, 3, 4), (2, 3, 4), (4, 3, 4)), "y": ((3, 4), (6, 4), (12, 4))}]
    xv = rand(2, 3, 4)
    close(n.run({"x": xv, "y": rand(6, 4)}, profiles)[0], xv.reshape(6, 4))


def test_shuffle_reshape_from_shape_tensor_input() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 6))
    dims = n.input("dims", torch.int64, (2,))
    layer = n.network.add_shuffle(x)
    layer.set_input(1, dims)
    n.mark(layer.get_output(0))
    # A shape-tensor input's profile bounds its values, not its shape.
    profiles = [{"dims": ((1, 1), (3, 4), (12, 12))}]
    xv = rand(2, 6)
    record = n.record(profiles)
    assert record.inputs[1].is_shape_tensor
    close(n.run({"x": xv, "dims": torch.tensor([3, 4])}, profiles)[0], xv.reshape(3, 4))
    with pytest.raises(ValueError, match="input 'dims' has values \\(13, 1\\), outside min \\(1, 1\\)"):
        execute_record(record, {"x": xv, "dims": torch.tensor([13, 1])})


# -------------------------------------------------------------------------------------------- Slice

NP_PAD_MODE = {"STRICT_BOUNDS": "constant", "WRAP": "wrap", "CLAMP": "edge", "REFLECT": "reflect", "FILL": "constant"}


def _slice_expected(x: torch.Tensor, start, size, stride, mode: str, fill: float = 0.0) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Sample through a heavily padded copy made by numpy.pad, whose modes match the SampleModes."""
    margin = 40
    kwargs = {"constant_values": fill} if mode == "FILL" else {}
    padded = np.pad(x.numpy(), margin, mode=NP_PAD_MODE[mode], **kwargs)
    index = tuple(
        np.array([margin + s + i * t for i in range(z)], dtype=np.int64).reshape(
            [-1 if d == k else 1 for k in range(x.dim())]
        )
        for d, (s, z, t) in enumerate(zip(start, size, stride, strict=True))
    )
    return torch.from_numpy(np.ascontiguousarray(padded[index]))


SLICE_CASES = [
    ("STRICT_BOUNDS", (1, 0), (2, 3), (1, 2)),
    ("STRICT_BOUNDS", (3, 5), (2, 3), (-1, -2)),
    ("WRAP", (-1, 4), (7, 9), (1, 1)),
    ("WRAP", (2, -3), (3, 4), (-2, 3)),
    ("CLAMP", (-2, 3), (8, 6), (1, 1)),
    ("CLAMP", (5, -1), (3, 4), (-2, 2)),
    ("FILL", (-2, 3), (8, 6), (1, 1)),
    ("FILL", (1, -4), (2, 5), (2, 3)),
    ("REFLECT", (-3, -2), (9, 11), (1, 1)),
    ("REFLECT", (-9, 14), (5, 4), (4, -3)),
]


@pytest.mark.parametrize("mode,start,size,stride", SLICE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(SLICE_CASES)])
def test_slice_static(mode: str, start, size, stride) -> None:  # type: ignore[no-untyped-def]
    n = Net()
    x = n.input("x", torch.float32, (4, 6))
    layer = n.network.add_slice(x, start, size, stride)
    layer.mode = getattr(trt.SampleMode, mode)
    n.mark(layer.get_output(0))
    xv = rand(4, 6)
    close(n.run({"x": xv})[0], _slice_expected(xv, start, size, stride, mode))


def test_slice_fill_value_input() -> None:
    n = Net()
    x = n.input("x", torch.float16, (3, 3))
    layer = n.network.add_slice(x, (-1, 1), (5, 4), (1, 1))
    layer.mode = trt.SampleMode.FILL
    layer.set_input(4, n.const(torch.tensor(7.5, dtype=torch.float16)))
    n.mark(layer.get_output(0))
    xv = rand(3, 3, dtype=torch.float16)
    expected = _slice_expected(xv.float(), (-1, 1), (5, 4), (1, 1), "FILL", 7.5).half()
    close(n.run({"x": xv})[0], expected)


def test_slice_bool_and_int() -> None:
    n = Net()
    b = n.input("b", torch.bool, (5,))
    i = n.input("i", torch.int64, (5,))
    lb = n.network.add_slice(b, (4,), (3,), (-2,))
    li = n.network.add_slice(i, (1,), (2,), (3,))
    n.mark(lb.get_output(0), li.get_output(0))
    bv = torch.tensor([True, False, True, True, False])
    iv = torch.arange(5)
    ob, oi = n.run({"b": bv, "i": iv})
    close(ob, bv[[4, 2, 0]])
    close(oi, iv[[1, 4]])


def test_slice_dynamic_start_size_stride() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1, 8))
    ref = n.input("ref", torch.float32, (-1, 3))
    layer = n.network.add_slice(x, (0, 0), (1, 1), (1, 1))
    layer.set_input(1, n.const([1, 0], torch.int64))
    layer.set_input(2, n.network.add_shape(ref).get_output(0))
    layer.set_input(3, n.const([1, 2], torch.int32))
    n.mark(layer.get_output(0))
    profiles = [{"x": ((2, 8), (4, 8), (6, 8)), "ref": ((1, 3), (2, 3), (4, 3))}]
    xv = rand(5, 8)
    close(n.run({"x": xv, "ref": rand(3, 3)}, profiles)[0], xv[1:4, 0:6:2])


def test_slice_axes_param_and_input() -> None:
    n = Net()
    x = n.input("x", torch.float32, (4, 6, 3))
    a = n.network.add_slice(x, (1,), (2,), (2,))
    a.axes = (1,)
    b = n.network.add_slice(x, (0, 0), (1, 1), (1, 1))
    b.set_input(1, n.const([1, 1], torch.int64))
    b.set_input(2, n.const([2, 2], torch.int64))
    b.set_input(3, n.const([1, 1], torch.int64))
    b.set_input(5, n.const([-1, 0], torch.int64))
    n.mark(a.get_output(0), b.get_output(0))
    xv = rand(4, 6, 3)
    oa, ob = n.run({"x": xv})
    close(oa, xv[:, 1:5:2, :])
    close(ob, xv[1:3, :, 1:3])


def test_slice_strict_bounds_violation_raises() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1,))
    layer = n.network.add_slice(x, (2,), (3,), (1,))
    n.mark(layer.get_output(0))
    profiles = [{"x": ((1,), (6,), (8,))}]
    n.build(profiles)
    with pytest.raises(RuntimeError, match="leaves the input length 4"):
        execute_record(n.record(profiles), {"x": rand(4)})


# ------------------------------------------------------------------------- Concatenation / Constant


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concatenation(axis: int) -> None:
    n = Net()
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[axis] = i + 1
    ins = [n.input(f"x{i}", torch.float32, s) for i, s in enumerate(shapes)]
    layer = n.network.add_concatenation(ins)
    layer.axis = axis
    n.mark(layer.get_output(0))
    values = {f"x{i}": rand(*s) for i, s in enumerate(shapes)}
    close(n.run(values)[0], torch.cat(list(values.values()), axis))


CONSTANTS = [
    torch.tensor([[1.5, -2.0], [3.25, 0.0]]),
    torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16),
    torch.tensor([1.5, -2.0, 3.0e38], dtype=torch.bfloat16),
    torch.tensor([[-3, 7]], dtype=torch.int32),
    torch.tensor([2**40, -1], dtype=torch.int64),
    torch.tensor([True, False, True]),
    torch.tensor(4.0),
]


@pytest.mark.parametrize("value", CONSTANTS, ids=[str(c.dtype) + str(tuple(c.shape)) for c in CONSTANTS])
def test_constant(value: torch.Tensor) -> None:
    n = Net()
    n.mark(n.network.add_identity(n.const(value)).get_output(0))
    close(n.run({})[0], value)


def test_constant_weights_are_copied_at_capture() -> None:
    n = Net()
    value = torch.tensor([1.0, 2.0])
    c = n.const(value)
    n.mark(n.network.add_identity(c).get_output(0))
    record = n.record()
    value.fill_(9.0)  # TensorRT only references this memory; the record must hold its own copy
    n._keep.clear()
    close(execute_record(record, {})[record.outputs[0]], torch.tensor([1.0, 2.0]))


def test_shape_is_int64() -> None:
    n = Net()
    x = n.input("x", torch.float16, (-1, 3, -1))
    n.mark(n.network.add_shape(x).get_output(0))
    profiles = [{"x": ((1, 3, 1), (2, 3, 4), (5, 3, 9))}]
    close(n.run({"x": rand(4, 3, 7, dtype=torch.float16)}, profiles)[0], torch.tensor([4, 3, 7]))


# ------------------------------------------------------------------------------------------- Gather


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_default(axis: int) -> None:
    n = Net()
    x = n.input("x", torch.float32, (3, 4, 5))
    idx = torch.tensor([[0, 2], [-1, 1]], dtype=torch.int32)  # -1 counts from the end
    layer = n.network.add_gather(x, n.const(idx), axis)
    n.mark(layer.get_output(0))
    xv = rand(3, 4, 5)
    positive = torch.where(idx < 0, idx + xv.shape[axis], idx).long()
    expected = xv.index_select(axis, positive.reshape(-1)).reshape(*xv.shape[:axis], *idx.shape, *xv.shape[axis + 1 :])
    close(n.run({"x": xv})[0], expected)


def test_gather_default_scalar_index_int64() -> None:
    n = Net()
    x = n.input("x", torch.int64, (3, 4))
    layer = n.network.add_gather(x, n.const(torch.tensor(2, dtype=torch.int64)), 1)
    n.mark(layer.get_output(0))
    xv = torch.arange(12).reshape(3, 4)
    close(n.run({"x": xv})[0], xv[:, 2])


def test_gather_default_elementwise_dim() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 4, 3))
    idx = torch.tensor([[3, 0], [1, 1]], dtype=torch.int32)
    layer = n.network.add_gather(x, n.const(idx), 1)
    layer.num_elementwise_dims = 1
    n.mark(layer.get_output(0))
    xv = rand(2, 4, 3)
    expected = torch.stack([xv[b][idx[b].long()] for b in range(2)])
    close(n.run({"x": xv})[0], expected)


def test_gather_element() -> None:
    n = Net()
    x = n.input("x", torch.float32, (3, 4))
    idx = torch.tensor([[0, 2, 1, 0], [2, 2, 0, 1]], dtype=torch.int64)
    layer = n.network.add_gather_v2(x, n.const(idx), trt.GatherMode.ELEMENT)
    layer.axis = 0
    n.mark(layer.get_output(0))
    xv = rand(3, 4)
    close(n.run({"x": xv})[0], torch.gather(xv, 0, idx))


@pytest.mark.parametrize("nb", [0, 1])
def test_gather_nd(nb: int) -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4))
    if nb == 0:
        idx = torch.tensor([[[1, 2], [0, 0]], [[1, 0], [0, 1]]], dtype=torch.int32)  # tuples into dims 0-1
        expected_fn = lambda xv: xv[idx[..., 0].long(), idx[..., 1].long()]  # noqa: E731
    else:
        idx = torch.tensor([[[2], [0]], [[1], [1]]], dtype=torch.int32)  # per batch, tuples into dim 1
        expected_fn = lambda xv: torch.stack([xv[b][idx[b, :, 0].long()] for b in range(2)])  # noqa: E731
    layer = n.network.add_gather_v2(x, n.const(idx), trt.GatherMode.ND)
    layer.num_elementwise_dims = nb
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4)
    close(n.run({"x": xv})[0], expected_fn(xv))


# ------------------------------------------------------------------------------------------ Scatter


@pytest.mark.parametrize("axis", [0, 1])
def test_scatter_element(axis: int) -> None:
    n = Net()
    data = n.input("data", torch.float32, (3, 4))
    upd = n.input("upd", torch.float32, (2, 4) if axis == 0 else (3, 2))
    idx = torch.tensor([[1, 0, 2, 1], [2, 1, 0, 0]]) if axis == 0 else torch.tensor([[3, 0], [1, 2], [0, 3]])
    layer = n.network.add_scatter(data, n.const(idx.int()), upd, trt.ScatterMode.ELEMENT)
    layer.axis = axis
    n.mark(layer.get_output(0))
    dv, uv = rand(3, 4), rand(*idx.shape)
    close(n.run({"data": dv, "upd": uv})[0], dv.scatter(axis, idx, uv))


def test_scatter_nd() -> None:
    n = Net()
    data = n.input("data", torch.float32, (4, 3, 2))
    upd = n.input("upd", torch.float32, (2, 2))
    idx = torch.tensor([[0, 1], [3, 2]], dtype=torch.int64)
    layer = n.network.add_scatter(data, n.const(idx), upd, trt.ScatterMode.ND)
    n.mark(layer.get_output(0))
    dv, uv = rand(4, 3, 2), rand(2, 2)
    expected = dv.clone()
    expected[0, 1] = uv[0]
    expected[3, 2] = uv[1]
    close(n.run({"data": dv, "upd": uv})[0], expected)


# ------------------------------------------------------------------------------- Squeeze/Unsqueeze


def test_squeeze_and_unsqueeze() -> None:
    n = Net()
    x = n.input("x", torch.float32, (1, 3, 1, 2))
    sq = n.network.add_squeeze(x, n.const([0, -2], torch.int64))
    un = n.network.add_unsqueeze(x, n.const([0, -1, 3], torch.int32))
    n.mark(sq.get_output(0), un.get_output(0))
    xv = rand(1, 3, 1, 2)
    osq, oun = n.run({"x": xv})
    close(osq, xv.reshape(3, 2))
    close(oun, xv.reshape(1, 1, 3, 1, 1, 2, 1))


# ------------------------------------------------------------------------------------------ Padding


# The builder rejects integer padding.
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_padding(dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4, 5))
    layer = n.network.add_padding_nd(x, (1, 2), (2, -1))  # negative padding crops
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, 5, dtype=dtype)
    close(n.run({"x": xv})[0], F.pad(xv, [2, -1, 1, 2]))


# --------------------------------------------------------------------------------------------- Fill


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.int64], ids=str)
def test_fill_linspace_static(dtype: torch.dtype) -> None:
    n = Net()
    trt_type = {torch.float32: trt.float32, torch.int32: trt.int32, torch.int64: trt.int64}[dtype]
    layer = n.network.add_fill((5,), trt.FillOperation.LINSPACE, trt_type)
    layer.alpha = 2.5 if dtype == torch.float32 else 2
    layer.beta = -0.5 if dtype == torch.float32 else 3
    n.mark(layer.get_output(0))
    expected = torch.tensor([2.5 - 0.5 * i for i in range(5)]) if dtype == torch.float32 else 2 + 3 * torch.arange(5)
    close(n.run({})[0], expected.to(dtype))


def test_fill_linspace_dynamic_inputs() -> None:
    n = Net()
    ref = n.input("ref", torch.float32, (-1, 4))
    layer = n.network.add_fill((1, 1), trt.FillOperation.LINSPACE, trt.float32)
    layer.set_input(0, n.network.add_shape(ref).get_output(0))
    layer.set_input(1, n.const(torch.tensor(1.0)))
    layer.set_input(2, n.const(torch.tensor([100.0, 10.0])))
    n.mark(layer.get_output(0))
    profiles = [{"ref": ((1, 4), (3, 4), (5, 4))}]
    i, j = torch.meshgrid(torch.arange(3.0), torch.arange(4.0), indexing="ij")
    close(n.run({"ref": rand(3, 4)}, profiles)[0], 1 + 100 * i + 10 * j)


def test_fill_linspace_static_beta_multi_dimensional_is_not_guessed() -> None:
    # The builder accepts it, but the documentation defines a static beta only as the 1-D [beta].
    n = Net()
    layer = n.network.add_fill((2, 3), trt.FillOperation.LINSPACE, trt.float32)
    layer.alpha, layer.beta = 1.0, 2.0
    n.mark(layer.get_output(0))
    with pytest.raises(NotImplementedError, match="static beta for a 2-D output"):
        n.run({})


def _ks_distance(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Kolmogorov-Smirnov distance between the samples' empirical distribution and ``cdf``."""
    x = samples.double().reshape(-1).sort().values
    n = x.numel()
    f = cdf(x)
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    below = f - torch.arange(0, n, dtype=torch.float64) / n
    return float(torch.maximum(above, below).max())


# Rejects a right distribution with probability 1e-3 (asymptotic KS critical value 1.95 / sqrt(n)).
def _ks_bound(n: int) -> float:
    return 1.95 / math.sqrt(n)


def _uniform_cdf(low: float, high: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: ((x - low) / (high - low)).clamp(0, 1)


def _normal_cdf(mean: float, std: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: torch.special.ndtr((x - mean) / std)


def _random_fill(n: Net, op: Any, shape: tuple[int, ...], dtype: torch.dtype, alpha: float, beta: float) -> Any:
    layer = n.network.add_fill(shape, op, TRT_DTYPES[dtype])
    layer.alpha, layer.beta = alpha, beta
    return layer.get_output(0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_fill_random_uniform_static(dtype: torch.dtype) -> None:
    n = Net()
    n.mark(_random_fill(n, trt.FillOperation.RANDOM_UNIFORM, (100, 80), dtype, -1.0, 3.0))
    out = n.run({})[0]
    assert out.dtype == dtype and out.shape == (100, 80)
    assert out.min() >= -1.0 and out.max() <= 3.0
    # The mean of 8000 samples of U(-1, 3) is 1 with standard error 0.013; the variance is 16/12.
    assert abs(float(out.float().mean()) - 1.0) < 0.07
    assert abs(float(out.float().var()) - 16 / 12) < 0.08
    assert _ks_distance(out, _uniform_cdf(-1.0, 3.0)) < _ks_bound(out.numel())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_fill_random_normal_static(dtype: torch.dtype) -> None:
    n = Net()
    n.mark(_random_fill(n, trt.FillOperation.RANDOM_NORMAL, (4, 50, 40), dtype, 2.0, 0.5))
    out = n.run({})[0]
    assert out.dtype == dtype and out.shape == (4, 50, 40)
    # 8000 samples of N(2, 0.5^2): the mean's standard error is 0.0056.
    assert abs(float(out.float().mean()) - 2.0) < 0.03
    assert abs(float(out.float().std()) - 0.5) < 0.03
    # fp16 rounding moves samples by at most 2^-9 relative: far below the KS bound (0.011).
    assert _ks_distance(out, _normal_cdf(2.0, 0.5)) < _ks_bound(out.numel())


def test_fill_random_dynamic_shape_and_parameters() -> None:
    # Shape from a shape tensor, alpha/beta from network inputs (0-D, as TensorRT requires).
    n = Net()
    ref = n.input("ref", torch.float32, (-1, 50))
    low, high = n.input("low", torch.float32, ()), n.input("high", torch.float32, ())
    layer = n.network.add_fill((1, 1), trt.FillOperation.RANDOM_UNIFORM, trt.float32)
    layer.set_input(0, n.network.add_shape(ref).get_output(0))
    layer.set_input(1, low)
    layer.set_input(2, high)
    n.mark(layer.get_output(0))
    profiles = [{"ref": ((1, 50), (100, 50), (200, 50))}]
    inputs = {"ref": rand(160, 50), "low": torch.tensor(5.0), "high": torch.tensor(6.0)}
    out = n.run(inputs, profiles)[0]
    assert out.shape == (160, 50)
    assert out.min() >= 5.0 and out.max() <= 6.0
    assert _ks_distance(out, _uniform_cdf(5.0, 6.0)) < _ks_bound(out.numel())
    # Every evaluation draws new samples, as every engine run does.
    assert not torch.equal(out, n.run(inputs, profiles, build=False)[0])


def test_fill_random_normal_dynamic_parameters() -> None:
    n = Net()
    mean, std = n.input("mean", torch.float32, ()), n.input("std", torch.float32, ())
    layer = n.network.add_fill((10000,), trt.FillOperation.RANDOM_NORMAL, trt.float32)
    layer.set_input(1, mean)
    layer.set_input(2, std)
    n.mark(layer.get_output(0))
    out = n.run({"mean": torch.tensor(-3.0), "std": torch.tensor(2.0)})[0]
    assert abs(float(out.mean()) + 3.0) < 0.1 and abs(float(out.std()) - 2.0) < 0.1
    assert _ks_distance(out, _normal_cdf(-3.0, 2.0)) < _ks_bound(out.numel())


def _rank_one_parameters(n: Net) -> None:
    layer = n.network.add_fill((3,), trt.FillOperation.RANDOM_UNIFORM, trt.float32)
    layer.set_input(1, n.const([0.0]))
    layer.set_input(2, n.const([1.0]))
    n.mark(layer.get_output(0))


def _bf16_output(n: Net) -> None:
    n.mark(_random_fill(n, trt.FillOperation.RANDOM_NORMAL, (3,), torch.bfloat16, 0.0, 1.0))


@pytest.mark.parametrize("make", [_rank_one_parameters, _bf16_output], ids=["rank1_parameters", "bf16_output"])
def test_fill_random_invalid_network_is_refused(make: Callable[[Net], None]) -> None:
    # TensorRT rejects these (alpha/beta inputs must be 0-D; random fills produce FLOAT or HALF), so
    # the network cannot even be captured: nothing is evaluated with guessed semantics.
    n = Net()
    make(n)
    with pytest.raises(ValueError, match="network is invalid"):
        n.record()


@pytest.mark.parametrize(
    ("op", "alpha", "beta", "message"),
    [
        (trt.FillOperation.RANDOM_UNIFORM, 2.0, 1.0, "maximum below its minimum"),
        (trt.FillOperation.RANDOM_NORMAL, 0.0, -1.0, "negative"),
    ],
    ids=["uniform_inverted", "normal_negative_std"],
)
def test_fill_random_invalid_parameters_are_refused(op: Any, alpha: float, beta: float, message: str) -> None:
    n = Net()
    n.mark(_random_fill(n, op, (3,), torch.float32, alpha, beta))
    with pytest.raises(RuntimeError, match=message):
        n.run({}, build=False)


# ------------------------------------------------------------------------------ NonZero / OneHot


@pytest.mark.parametrize("indices_type", ["INT32", "INT64"])
def test_non_zero(indices_type: str) -> None:
    n = Net()
    x = n.input("x", torch.float32, (3, 4))
    layer = n.network.add_non_zero(x)
    layer.indices_type = getattr(trt.DataType, indices_type)
    n.mark(layer.get_output(0))
    xv = torch.tensor([[0.0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 4, 0]])
    dtype = torch.int32 if indices_type == "INT32" else torch.int64
    # TensorRT-RTX 1.7 on this (GPU-less) machine rejects every NonZero layer ("has no runners that
    # implement it"), so the network is not built here.
    close(n.run({"x": xv}, build=False)[0], torch.nonzero(xv).t().to(dtype))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(axis: int) -> None:
    n = Net()
    idx = n.input("idx", torch.int32, (2, 3))
    values = n.const(torch.tensor([0.5, 2.0]))
    depth = n.const(torch.tensor(4, dtype=torch.int32))
    n.mark(n.network.add_one_hot(idx, values, depth, axis).get_output(0))
    iv = torch.tensor([[0, 3, -1], [2, 1, 0]], dtype=torch.int32)
    onehot = F.one_hot(torch.where(iv < 0, iv + 4, iv).long(), 4).float() * 1.5 + 0.5
    close(n.run({"idx": iv})[0], torch.movedim(onehot, -1, axis))


# ---------------------------------------------------------------------------------------- Assertion


def test_assertion() -> None:
    n = Net()
    a = n.input("a", torch.float32, (-1, 2))
    b = n.input("b", torch.float32, (-1, 2))
    sa = n.network.add_shape(a).get_output(0)
    sb = n.network.add_shape(b).get_output(0)
    same = n.network.add_elementwise(sa, sb, trt.ElementWiseOperation.EQUAL).get_output(0)
    n.network.add_assertion(same, "a and b differ").message = "a and b differ"
    n.mark(n.network.add_elementwise(a, b, trt.ElementWiseOperation.SUM).get_output(0))
    profiles = [{"a": ((1, 2), (2, 2), (4, 2)), "b": ((1, 2), (2, 2), (4, 2))}]
    av, bv = rand(3, 2), rand(3, 2)
    close(n.run({"a": av, "b": bv}, profiles)[0], av + bv)
    with pytest.raises(NetworkAssertionError, match="a and b differ"):
        execute_record(n.record(profiles), {"a": rand(3, 2), "b": rand(1, 2)})


@pytest.mark.parametrize("batch_axis,seq_axis", [(1, 0), (0, 1)])
def test_reverse_sequence(batch_axis: int, seq_axis: int) -> None:
    n = Net()
    shape = [0, 0, 2]
    shape[batch_axis], shape[seq_axis] = 3, 4
    x = n.input("x", torch.float32, shape)
    lengths = torch.tensor([4, 2, 1], dtype=torch.int32)
    layer = n.network.add_reverse_sequence(x, n.const(lengths))
    layer.batch_axis, layer.sequence_axis = batch_axis, seq_axis
    n.mark(layer.get_output(0))
    xv = rand(*shape)
    expected = xv.clone()
    for b, length in enumerate(lengths.tolist()):
        src = xv.select(batch_axis, b)  # batch removed: the sequence axis is 0 in both layouts
        expected.select(batch_axis, b)[:length] = src[:length].flip(0)
    close(n.run({"x": xv})[0], expected)
