"""Reference executor: Activation, ElementWise, Unary, Select, ParametricReLU, Cast, Identity, Scale."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from _reference_net import TRT_DTYPES, Net, close, rand

from torch_tensorrt._trt import trt
from torch_tensorrt.testing._reference import execute_record

FLOATS = [torch.float32, torch.float16, torch.bfloat16]
Act = Callable[[torch.Tensor, float, float], torch.Tensor]

# (ActivationType name, alpha, beta, expected) with the formulas of the TensorRT documentation.
ACTIVATIONS: list[tuple[str, float, float, Act]] = [
    ("RELU", 0.0, 0.0, lambda x, a, b: torch.relu(x)),
    ("SIGMOID", 0.0, 0.0, lambda x, a, b: torch.sigmoid(x)),
    ("TANH", 0.0, 0.0, lambda x, a, b: torch.tanh(x)),
    ("LEAKY_RELU", 0.1, 0.0, lambda x, a, b: F.leaky_relu(x, a)),
    ("ELU", 1.3, 0.0, lambda x, a, b: F.elu(x, a)),
    ("SELU", 1.6732632423543772, 1.0507009873554805, lambda x, a, b: torch.selu(x)),
    ("SOFTSIGN", 0.0, 0.0, lambda x, a, b: F.softsign(x)),
    ("SOFTPLUS", 2.0, 3.0, lambda x, a, b: a * b * F.softplus(x, beta=b)),
    ("CLIP", -0.5, 0.7, lambda x, a, b: torch.clamp(x, a, b)),
    ("HARD_SIGMOID", 0.2, 0.5, lambda x, a, b: torch.clamp(a * x + b, 0, 1)),
    ("SCALED_TANH", 1.5, 0.5, lambda x, a, b: a * torch.tanh(b * x)),
    ("THRESHOLDED_RELU", 0.3, 0.0, lambda x, a, b: torch.where(x > a, x, 0.0)),
    ("GELU_ERF", 0.0, 0.0, lambda x, a, b: F.gelu(x)),
    ("GELU_TANH", 0.0, 0.0, lambda x, a, b: F.gelu(x, approximate="tanh")),
]


def test_every_activation_type_is_covered() -> None:
    assert {a[0] for a in ACTIVATIONS} == set(trt.ActivationType.__members__)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("kind,alpha,beta,expected", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(kind: str, alpha: float, beta: float, expected: Act, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4))
    layer = n.network.add_activation(x, getattr(trt.ActivationType, kind))
    layer.alpha, layer.beta = alpha, beta
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, low=-3, high=3, dtype=dtype)
    (out,) = n.run({"x": xv})
    close(out, expected(xv.float(), alpha, beta).to(dtype))


def test_activation_relu_int32() -> None:
    n = Net()
    x = n.input("x", torch.int32, (5,))
    n.mark(n.network.add_activation(x, trt.ActivationType.RELU).get_output(0))
    xv = torch.tensor([-3, -1, 0, 2, 7], dtype=torch.int32)
    close(n.run({"x": xv})[0], torch.tensor([0, 0, 0, 2, 7], dtype=torch.int32))


def test_activation_on_quantized_int8_is_not_guessed() -> None:
    # The builder accepts INT8 LEAKY_RELU, but its meaning depends on quantization scales the network
    # does not carry.
    n = Net()
    x = n.input("x", torch.int8, (5,))
    n.mark(n.network.add_activation(x, trt.ActivationType.LEAKY_RELU).get_output(0))
    with pytest.raises(NotImplementedError, match="ActivationType.LEAKY_RELU on DataType.INT8"):
        n.run({"x": torch.zeros(5, dtype=torch.int8)})


ARITH: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "SUM": torch.add,
    "PROD": torch.mul,
    "MAX": torch.maximum,
    "MIN": torch.minimum,
    "SUB": torch.sub,
    "DIV": torch.div,
    "POW": torch.pow,
    "FLOOR_DIV": lambda a, b: torch.floor(a / b),
}


def _binary(op: str, dtype: torch.dtype, a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> Net:
    n = Net()
    a = n.input("a", dtype, a_shape)
    b = n.input("b", dtype, b_shape)
    n.mark(n.network.add_elementwise(a, b, getattr(trt.ElementWiseOperation, op)).get_output(0))
    return n


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op", list(ARITH))
def test_elementwise_float_broadcast(op: str, dtype: torch.dtype) -> None:
    n = _binary(op, dtype, (2, 1, 4), (1, 3, 4))
    a = rand(2, 1, 4, low=0.5, high=3, dtype=dtype)  # positive: POW with fractional exponents
    b = rand(1, 3, 4, low=0.5, high=2, dtype=dtype)
    (out,) = n.run({"a": a, "b": b})
    close(out, ARITH[op](a.float(), b.float()).to(dtype))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("op", ["SUM", "PROD", "MAX", "MIN", "SUB", "DIV", "FLOOR_DIV"])
def test_elementwise_integer(op: str, dtype: torch.dtype) -> None:
    n = _binary(op, dtype, (2, 4), (2, 4))
    a = torch.tensor([[7, -7, 9, -9], [0, 5, -5, 100]], dtype=dtype)
    b = torch.tensor([[2, 2, -4, -4], [3, -3, 3, 7]], dtype=dtype)
    expected = {
        "SUM": a + b,
        "PROD": a * b,
        "MAX": torch.maximum(a, b),
        "MIN": torch.minimum(a, b),
        "SUB": a - b,
        # C integer division truncates toward zero; FLOOR_DIV rounds toward -inf.
        "DIV": torch.tensor([[3, -3, -2, 2], [0, -1, -1, 14]], dtype=dtype),
        "FLOOR_DIV": torch.tensor([[3, -4, -3, 2], [0, -2, -2, 14]], dtype=dtype),
    }[op]
    close(n.run({"a": a, "b": b})[0], expected)


COMPARISONS = [
    (op, dtype)
    for op in ("EQUAL", "GREATER", "LESS")
    for dtype in (torch.float32, torch.float16, torch.int32, torch.int64, torch.bool)
    if dtype != torch.bool or op == "EQUAL"  # the builder orders no bools
]


@pytest.mark.parametrize("op,dtype", COMPARISONS, ids=[f"{o}-{d}" for o, d in COMPARISONS])
def test_elementwise_comparison(op: str, dtype: torch.dtype) -> None:
    n = _binary(op, dtype, (3, 1), (1, 4))
    a = torch.tensor([[1], [2], [0]]).to(dtype)
    b = torch.tensor([[0, 2, 3, 1]]).to(dtype)
    expected = {"EQUAL": torch.eq, "GREATER": torch.gt, "LESS": torch.lt}[op](a, b)
    close(n.run({"a": a, "b": b})[0], expected)


@pytest.mark.parametrize("op", ["AND", "OR", "XOR"])
def test_elementwise_logic(op: str) -> None:
    n = _binary(op, torch.bool, (4,), (4,))
    a = torch.tensor([True, True, False, False])
    b = torch.tensor([True, False, True, False])
    expected = {"AND": a & b, "OR": a | b, "XOR": a ^ b}[op]
    close(n.run({"a": a, "b": b})[0], expected)


def test_every_elementwise_operation_is_covered() -> None:
    assert set(ARITH) | {"EQUAL", "GREATER", "LESS", "AND", "OR", "XOR"} == set(trt.ElementWiseOperation.__members__)


def test_elementwise_int8_arithmetic_is_not_guessed() -> None:
    # The builder accepts INT8 SUM, but INT8 arithmetic is quantized arithmetic with unknown scales.
    n = _binary("SUM", torch.int8, (2,), (2,))
    with pytest.raises(NotImplementedError, match="ElementWiseOperation.SUM on DataType.INT8"):
        n.run({"a": torch.ones(2, dtype=torch.int8), "b": torch.ones(2, dtype=torch.int8)})


def test_elementwise_fp16_rounds_per_layer() -> None:
    # 1 + 2**-11 is not representable in fp16: the sum must come back as exactly 1.
    n = _binary("SUM", torch.float16, (1,), (1,))
    out = n.run({"a": torch.tensor([1.0], dtype=torch.float16), "b": torch.tensor([2**-11], dtype=torch.float16)})[0]
    assert out.dtype == torch.float16 and out.item() == 1.0


# (UnaryOperation name, input range, expected)
UNARY: list[tuple[str, tuple[float, float], Callable[[torch.Tensor], torch.Tensor]]] = [
    ("EXP", (-3, 3), torch.exp),
    ("LOG", (0.1, 5), torch.log),
    ("SQRT", (0.0, 5), torch.sqrt),
    ("RECIP", (0.5, 4), torch.reciprocal),
    ("ABS", (-3, 3), torch.abs),
    ("NEG", (-3, 3), torch.neg),
    ("SIN", (-3, 3), torch.sin),
    ("COS", (-3, 3), torch.cos),
    ("TAN", (-1.2, 1.2), torch.tan),
    ("SINH", (-3, 3), torch.sinh),
    ("COSH", (-3, 3), torch.cosh),
    ("ASIN", (-0.95, 0.95), torch.asin),
    ("ACOS", (-0.95, 0.95), torch.acos),
    ("ATAN", (-3, 3), torch.atan),
    ("ASINH", (-3, 3), torch.asinh),
    ("ACOSH", (1.1, 5), torch.acosh),
    ("ATANH", (-0.9, 0.9), torch.atanh),
    ("CEIL", (-3, 3), torch.ceil),
    ("FLOOR", (-3, 3), torch.floor),
    ("ERF", (-3, 3), torch.erf),
    ("SIGN", (-3, 3), torch.sign),
    ("ROUND", (-3, 3), torch.round),
]


def _unary(op: str, dtype: torch.dtype, shape: tuple[int, ...]) -> Net:
    n = Net()
    x = n.input("x", dtype, shape)
    n.mark(n.network.add_unary(x, getattr(trt.UnaryOperation, op)).get_output(0))
    return n


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op,domain,expected", UNARY, ids=[u[0] for u in UNARY])
def test_unary_float(
    op: str, domain: tuple[float, float], expected: Callable[[torch.Tensor], torch.Tensor], dtype: torch.dtype
) -> None:
    xv = rand(3, 5, low=domain[0], high=domain[1], dtype=dtype)
    close(_unary(op, dtype, (3, 5)).run({"x": xv})[0], expected(xv.float()).to(dtype))


def test_unary_round_is_half_to_even() -> None:
    xv = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4])
    close(_unary("ROUND", torch.float32, (6,)).run({"x": xv})[0], torch.tensor([0.0, 2, 2, -0.0, -2, 2]))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("op", ["ABS", "NEG", "SIGN"])
def test_unary_integer(op: str, dtype: torch.dtype) -> None:
    xv = torch.tensor([-5, 0, 3], dtype=dtype)
    expected = {"ABS": xv.abs(), "NEG": -xv, "SIGN": xv.sign()}[op]
    close(_unary(op, dtype, (3,)).run({"x": xv})[0], expected)


def test_unary_not() -> None:
    xv = torch.tensor([True, False])
    close(_unary("NOT", torch.bool, (2,)).run({"x": xv})[0], torch.tensor([False, True]))


@pytest.mark.parametrize("op", ["ISINF", "ISNAN"])
def test_unary_predicates(op: str) -> None:
    xv = torch.tensor([1.0, math.inf, -math.inf, math.nan])
    expected = torch.isinf(xv) if op == "ISINF" else torch.isnan(xv)
    close(_unary(op, torch.float32, (4,)).run({"x": xv})[0], expected)


def test_every_unary_operation_is_covered() -> None:
    covered = {u[0] for u in UNARY} | {"NOT", "ISINF", "ISNAN"}
    assert covered == set(trt.UnaryOperation.__members__)


def test_select_broadcast() -> None:
    n = Net()
    c = n.input("c", torch.bool, (2, 1))
    a = n.input("a", torch.float32, (2, 3))
    b = n.input("b", torch.float32, (1, 3))
    n.mark(n.network.add_select(c, a, b).get_output(0))
    cv, av, bv = torch.tensor([[True], [False]]), rand(2, 3), rand(1, 3)
    close(n.run({"c": cv, "a": av, "b": bv})[0], torch.where(cv, av, bv))


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_parametric_relu(dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4))
    slope = rand(1, 3, 1, dtype=dtype)
    n.mark(n.network.add_parametric_relu(x, n.const(slope)).get_output(0))
    xv = rand(2, 3, 4, dtype=dtype)
    close(n.run({"x": xv})[0], torch.where(xv.float() >= 0, xv.float(), slope.float() * xv.float()).to(dtype))


CASTS = [
    (torch.float32, torch.int32, [-2.7, -0.5, 0.0, 1.5, 2.9]),
    (torch.float32, torch.int64, [-2.7, 3.9]),
    (torch.float32, torch.float16, [1.0001, -3.14159, 65504.0]),
    (torch.float32, torch.bfloat16, [1.0001, -3.14159]),
    (torch.float16, torch.float32, [0.1, -2.5]),
    (torch.bfloat16, torch.float16, [0.1, -2.5]),
    (torch.int32, torch.float32, [-3, 0, 7]),
    (torch.int64, torch.int32, [-3, 0, 7]),
    (torch.int32, torch.int64, [-3, 0, 7]),
    (torch.float32, torch.bool, [0.0, 0.5, -2.0]),
    (torch.bool, torch.float32, [True, False]),
    (torch.int32, torch.bool, [0, 2, -1]),
    (torch.bool, torch.int32, [True, False]),
]


@pytest.mark.parametrize("src,dst,values", CASTS, ids=[f"{s}-{d}" for s, d, _ in CASTS])
def test_cast(src: torch.dtype, dst: torch.dtype, values: list[float]) -> None:
    n = Net()
    x = n.input("x", src, (len(values),))
    n.mark(n.network.add_cast(x, TRT_DTYPES[dst]).get_output(0))
    xv = torch.tensor(values).to(src)
    # Float -> integer truncates toward zero; anything non-zero -> True.
    close(n.run({"x": xv})[0], xv.to(dst))


def test_identity() -> None:
    n = Net()
    x = n.input("x", torch.float16, (2, 3))
    n.mark(n.network.add_identity(x).get_output(0))
    xv = rand(2, 3, dtype=torch.float16)
    close(n.run({"x": xv})[0], xv)


def test_identity_with_declared_output_type_converts() -> None:
    # The executor takes the identity's output type from TensorRT's declaration; a record whose declared
    # type differs from the input type (a weakly typed conversion) therefore converts.
    n = Net()
    x = n.input("x", torch.float32, (3,))
    n.mark(n.network.add_identity(x).get_output(0))
    record = n.record()
    record.layers[0].outputs[0].dtype = "HALF"
    xv = torch.tensor([1.0001, 2.5, -3.3])
    close(execute_record(record, {"x": xv})[record.outputs[0]], xv.half())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("mode", ["UNIFORM", "CHANNEL", "ELEMENTWISE"])
@pytest.mark.parametrize("parts", ["shift", "scale", "power", "all"])
def test_scale(mode: str, parts: str, dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (2, 3, 4, 5))
    coeff_shape = {"UNIFORM": (1,), "CHANNEL": (3,), "ELEMENTWISE": (3, 4, 5)}[mode]
    view = {"UNIFORM": (1, 1, 1, 1), "CHANNEL": (1, 3, 1, 1), "ELEMENTWISE": (1, 3, 4, 5)}[mode]
    shift = rand(*coeff_shape, dtype=dtype) if parts in ("shift", "all") else None
    scale = rand(*coeff_shape, low=0.5, high=2, dtype=dtype) if parts in ("scale", "all") else None
    power = rand(*coeff_shape, low=1, high=2, dtype=dtype) if parts in ("power", "all") else None
    layer = n.network.add_scale(
        x,
        getattr(trt.ScaleMode, mode),
        None if shift is None else n.weights(shift),
        None if scale is None else n.weights(scale),
        None if power is None else n.weights(power),
    )
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, 5, low=0.1, high=2, dtype=dtype)
    y = xv.float()
    if scale is not None:
        y = y * scale.float().reshape(view)
    if shift is not None:
        y = y + shift.float().reshape(view)
    if power is not None:
        y = y ** power.float().reshape(view)
    close(n.run({"x": xv})[0], y.to(dtype))


def test_scale_nd_channel_axis() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4, 5))
    scale = rand(4)
    layer = n.network.add_scale_nd(x, trt.ScaleMode.CHANNEL, None, n.weights(scale), None, 2)
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 4, 5)
    close(n.run({"x": xv})[0], xv * scale.reshape(1, 1, 4, 1))


def test_cast_to_int8_exact_values() -> None:
    n = Net()
    x = n.input("x", torch.float32, (3,))
    n.mark(n.network.add_cast(x, trt.int8).get_output(0))
    close(n.run({"x": torch.tensor([-128.0, 0.0, 127.0])})[0], torch.tensor([-128, 0, 127], dtype=torch.int8))


@pytest.mark.parametrize("values", [[0.5, 1.0], [300.0, 1.0]], ids=["fraction", "out-of-range"])
def test_cast_to_int8_is_not_guessed(values: list[float]) -> None:
    # Rounding and saturation of casts to INT8 are not documented.
    n = Net()
    x = n.input("x", torch.float32, (2,))
    n.mark(n.network.add_cast(x, trt.int8).get_output(0))
    with pytest.raises(NotImplementedError, match="non-integral or out-of-range values to DataType.INT8"):
        n.run({"x": torch.tensor(values)})


def test_output_does_not_alias_input() -> None:
    n = Net()
    x = n.input("x", torch.float32, (3,))
    n.mark(n.network.add_identity(x).get_output(0))
    xv = torch.tensor([1.0, 2.0, 3.0])
    out = n.run({"x": xv})[0]
    close(out, xv)
    assert out.untyped_storage().data_ptr() != xv.untyped_storage().data_ptr()
