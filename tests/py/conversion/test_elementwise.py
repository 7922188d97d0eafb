"""Binary elementwise ops, comparisons, logical ops, where/masked_fill and clamp through the real
builder and the reference executor, compared with eager PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager, run_on_reference

FLOATS = [torch.float32, torch.float16, torch.bfloat16]
INTS = [torch.int32, torch.int64]


class _Fn(nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn


# Explicit arities: torch.export matches dynamic shapes against forward's named parameters.
class _Fn1(_Fn):
    def forward(self, a: Any) -> Any:
        return self.fn(a)


class _Fn2(_Fn):
    def forward(self, a: Any, b: Any) -> Any:
        return self.fn(a, b)


class _Fn3(_Fn):
    def forward(self, a: Any, b: Any, c: Any) -> Any:
        return self.fn(a, b, c)


def Fn(fn: Callable[..., Any], arity: int = 1) -> nn.Module:
    return {1: _Fn1, 2: _Fn2, 3: _Fn3}[arity](fn)


def make(
    shape: Sequence[int], dtype: torch.dtype, *, low: int = -6, high: int = 7, nonzero: bool = False
) -> torch.Tensor:
    """Random test data; ``nonzero`` keeps divisors away from 0 (and floats away from tiny values)."""
    if dtype == torch.bool:
        return torch.rand(shape) > 0.5
    if dtype.is_floating_point:
        x = torch.randn(shape) * 3
        if nonzero:
            x = torch.where(x.abs() < 0.5, x.sign() * 0.5 + (x == 0) * 0.5, x)
        return x.to(dtype)
    x = torch.randint(low, high, tuple(shape))
    if nonzero:
        x = torch.where(x == 0, torch.ones_like(x), x)
    return x.to(dtype)


def check(fn: Callable[..., Any], inputs: Sequence[torch.Tensor], **kwargs: Any) -> None:
    assert_close_to_eager(Fn(fn, len(inputs)), list(inputs), **kwargs)


def table(rows: Sequence[tuple], dtypes_at: int) -> list[Any]:
    """pytest params: one per (row, dtype) for the dtypes listed in each row's ``dtypes_at`` field."""
    return [
        pytest.param(row, dtype, id=f"{row[0]}-{str(dtype).removeprefix('torch.')}")
        for row in rows
        for dtype in row[dtypes_at]
    ]


# ---------------------------------------------------------------- tensor-tensor arithmetic

# fp16 and bf16 share every code path, so most rows check one of them; the rounding divisions
# (computed in float32 for half types) and integer paths get both widths.
ANY = [torch.float32, torch.float16, torch.int32]
ROUNDING = [torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int64]

# (id, fn, needs nonzero rhs, dtypes)
BINARY: list[tuple[str, Callable[..., Any], bool, list[torch.dtype]]] = [
    ("add", torch.add, False, ANY + [torch.bfloat16, torch.int64]),
    ("add_alpha", lambda a, b: torch.add(a, b, alpha=2), False, ANY),
    ("sub", torch.sub, False, ANY),
    ("sub_alpha", lambda a, b: torch.sub(a, b, alpha=3), False, ANY),
    ("rsub", lambda a, b: torch.rsub(a, b, alpha=2), False, ANY),
    ("mul", torch.mul, False, ANY + [torch.bfloat16, torch.int64]),
    ("div", torch.div, True, ROUNDING),
    ("div_trunc", lambda a, b: torch.div(a, b, rounding_mode="trunc"), True, ROUNDING),
    ("div_floor", lambda a, b: torch.div(a, b, rounding_mode="floor"), True, ROUNDING),
    ("floor_divide", lambda a, b: a // b, True, ANY),
    ("remainder", torch.remainder, True, ROUNDING),
    ("fmod", torch.fmod, True, ROUNDING),
    ("pow", lambda a, b: torch.pow(a.abs() + 0.5, b), False, FLOATS),
    # Integer exponents (negative ones are an error in torch), for integer bases.
    ("pow_int", lambda a, b: torch.pow(a, b.abs() % 4), False, INTS),
    ("maximum", torch.maximum, False, ANY),
    ("minimum", torch.minimum, False, ANY),
]


@pytest.mark.parametrize("case, dtype", table(BINARY, 3))
def test_binary(case: tuple, dtype: torch.dtype) -> None:
    _, fn, nonzero, _ = case
    torch.manual_seed(0)
    # (2, 3, 4) against (3, 1): broadcasting across different ranks in every case.
    check(fn, [make((2, 3, 4), dtype), make((3, 1), dtype, nonzero=nonzero)])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_rounding_division_half_precision(dtype: torch.dtype) -> None:
    # Quotients just below an integer that round onto it in fp16/bf16: torch floors (and takes
    # remainders) in float32 but truncates the half-precision quotient.
    a = torch.tensor([5.99609375, -5.99609375, 7.0, 1.0, 3.0]).to(dtype)
    b = torch.tensor([1.99902344, 1.99902344, 0.1, 0.1, -0.7]).to(dtype)
    ops = (
        lambda x, y: torch.div(x, y, rounding_mode="floor"),
        lambda x, y: torch.div(x, y, rounding_mode="trunc"),
        torch.remainder,
        torch.fmod,
    )
    check(lambda x, y: tuple(op(x, y) for op in ops), [a, b])


BROADCAST_SHAPES = [
    ((5,), (5,)),
    ((5,), ()),
    ((), (4, 3)),
    ((3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((2, 3, 4, 5), (1, 5)),
    ((2, 1, 3, 1, 2), (1, 4, 1)),
    ((1, 2, 1, 2, 3), (2, 1, 2, 3)),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_broadcast_ranks(shapes: tuple) -> None:
    torch.manual_seed(0)
    a, b = shapes
    check(lambda x, y: x * y - y, [make(a, torch.float32), make(b, torch.float32)])


# ---------------------------------------------------------------- tensor-scalar arithmetic

SCALAR: list[tuple[str, Callable[..., Any], list[torch.dtype]]] = [
    ("add", lambda a: a + 2, ANY),
    ("add_float", lambda a: a + 2.5, ANY),
    ("sub_alpha", lambda a: torch.sub(a, 2, alpha=3), ANY),
    ("rsub", lambda a: 1 - a, ANY),
    ("mul_float", lambda a: a * 0.5, ANY),
    ("div", lambda a: a / 4, ANY),
    ("div_floor", lambda a: torch.div(a, -3, rounding_mode="floor"), ANY),
    ("div_trunc", lambda a: torch.div(a, -3, rounding_mode="trunc"), ANY),
    ("remainder", lambda a: a % 3, ANY),
    ("fmod", lambda a: torch.fmod(a, -3), ANY),
    ("square", lambda a: a**2, ANY),
    ("cube", lambda a: a**3, ANY),
    ("pow_float", lambda a: a.abs() ** 0.5, ANY),
    ("scalar_pow", lambda a: 2**a, FLOATS),
    ("scalar_pow_float", lambda a: 1.5**a, ANY),
]


@pytest.mark.parametrize("case, dtype", table(SCALAR, 2))
def test_scalar_operand(case: tuple, dtype: torch.dtype) -> None:
    _, fn, _ = case
    torch.manual_seed(0)
    check(fn, [make((3, 4), dtype)])


# ---------------------------------------------------------------- type promotion

# Inputs are built lazily (after the test seeds the generator).
PROMOTION: list[tuple[str, Callable[..., Any], Callable[[], list[torch.Tensor]]]] = [
    ("int_plus_float_scalar", lambda a: a + 2.5, lambda: [make((3,), torch.int64)]),
    ("int_times_float_scalar", lambda a: a * 0.25, lambda: [make((3,), torch.int32)]),
    ("fp16_plus_fp32_0dim", lambda a, b: a + b, lambda: [make((2, 3), torch.float16), torch.tensor(1.5)]),
    ("bf16_times_fp32_0dim", lambda a, b: a * b, lambda: [make((2, 3), torch.bfloat16), torch.tensor(0.3)]),
    (
        "int_plus_fp16_0dim",
        lambda a, b: a + b,
        lambda: [make((2, 3), torch.int32), torch.tensor(0.5, dtype=torch.float16)],
    ),
    ("int32_plus_int64", lambda a, b: a + b, lambda: [make((2, 3), torch.int32), make((3,), torch.int64)]),
    ("int32_plus_int64_0dim", lambda a, b: a + b, lambda: [make((2, 3), torch.int32), torch.tensor(7)]),
    ("fp16_plus_fp32", lambda a, b: a + b, lambda: [make((2, 3), torch.float16), make((3,), torch.float32)]),
    ("fp16_plus_bf16", lambda a, b: a * b, lambda: [make((2, 3), torch.float16), make((3,), torch.bfloat16)]),
    ("int_true_div", lambda a, b: a / b, lambda: [make((2, 3), torch.int64), make((3,), torch.int64, nonzero=True)]),
    ("int_true_div_scalar", lambda a: a / 3, lambda: [make((2, 3), torch.int32)]),
    (
        "int_div_float_tensor",
        lambda a, b: a / b,
        lambda: [make((2, 3), torch.int32), make((3,), torch.float16, nonzero=True)],
    ),
    ("bool_plus_bool", lambda a, b: a + b, lambda: [make((2, 3), torch.bool), make((3,), torch.bool)]),
    ("bool_times_bool", lambda a, b: a * b, lambda: [make((2, 3), torch.bool), make((3,), torch.bool)]),
    ("bool_plus_int_scalar", lambda a: a + 2, lambda: [make((2, 3), torch.bool)]),
    ("bool_times_float", lambda a, b: a * b, lambda: [make((2, 3), torch.bool), make((3,), torch.float32)]),
    ("bool_max", torch.maximum, lambda: [make((2, 3), torch.bool), make((2, 3), torch.bool)]),
    ("bool_min", torch.minimum, lambda: [make((2, 3), torch.bool), make((2, 3), torch.bool)]),
    ("int_pow_float", lambda a: a.abs() ** 0.5, lambda: [make((2, 3), torch.int64)]),
    ("int_lt_float_scalar", lambda a: a < 1.5, lambda: [make((2, 3), torch.int32)]),
    (
        "fp16_eq_fp32_0dim",
        lambda a, b: a == b,
        lambda: [torch.tensor([1.0, 1.0009765625, 2.0], dtype=torch.float16), torch.tensor(1.0009)],
    ),
    ("int_clamp_float", lambda a: a.clamp(-1.5, 2.5), lambda: [make((2, 3), torch.int32)]),
    (
        "where_int_float",
        lambda c, a, b: torch.where(c, a, b),
        lambda: [make((2, 3), torch.bool), make((3,), torch.int32), make((2, 1), torch.float16)],
    ),
    (
        "fp16_where_fp32_0dim",
        lambda c, a, b: torch.where(c, a, b),
        lambda: [make((2, 3), torch.bool), make((3,), torch.float16), torch.tensor(0.1)],
    ),
]


@pytest.mark.parametrize("case", PROMOTION, ids=[c[0] for c in PROMOTION])
def test_type_promotion(case: tuple) -> None:
    _, fn, inputs = case
    torch.manual_seed(0)
    check(fn, inputs())


# ---------------------------------------------------------------- comparisons

COMPARISONS = {
    "eq": torch.eq,
    "ne": torch.ne,
    "lt": torch.lt,
    "le": torch.le,
    "gt": torch.gt,
    "ge": torch.ge,
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("op", list(COMPARISONS))
def test_comparison(op: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    fn = COMPARISONS[op]
    # Small integer-valued data so that equal elements actually occur.
    a = make((2, 3, 4), torch.int32, low=-2, high=3).to(dtype)
    b = make((3, 1), torch.int32, low=-2, high=3).to(dtype)
    check(fn, [a, b])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.int32], ids=str)
@pytest.mark.parametrize("op", list(COMPARISONS))
def test_comparison_scalar(op: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    fn = COMPARISONS[op]
    check(lambda a: (fn(a, 1), fn(a, -0.5)), [make((4, 5), torch.int32, low=-2, high=3).to(dtype)])


def test_comparison_nan() -> None:
    # Every comparison with NaN is False except ne; le/ge must not be "not gt"/"not lt".
    a = torch.tensor([float("nan"), 1.0, float("nan"), float("inf"), -float("inf")])
    b = torch.tensor([1.0, float("nan"), float("nan"), float("inf"), 0.0])
    check(lambda x, y: tuple(fn(x, y) for fn in COMPARISONS.values()), [a, b])


# ---------------------------------------------------------------- logical and bitwise

LOGICAL = {
    "logical_and": torch.logical_and,
    "logical_or": torch.logical_or,
    "logical_xor": torch.logical_xor,
}


@pytest.mark.parametrize("dtype", [torch.bool, torch.float16, torch.int32], ids=str)
@pytest.mark.parametrize("op", list(LOGICAL))
def test_logical(op: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    a = make((2, 3, 4), torch.int32, low=-1, high=2).to(dtype)
    b = make((3, 1), torch.int32, low=-1, high=2).to(dtype)
    check(LOGICAL[op], [a, b])


BITWISE = {
    "and": lambda a, b: (a & b, a & True),
    "or": lambda a, b: (a | b, a | False),
    "xor": lambda a, b: (a ^ b, a ^ True),
}


@pytest.mark.parametrize("op", list(BITWISE))
def test_bitwise_bool(op: str) -> None:
    torch.manual_seed(0)
    check(BITWISE[op], [make((2, 3, 4), torch.bool), make((4,), torch.bool)])


def test_bitwise_int_falls_back() -> None:
    # TensorRT has no integer bit operations: the op must be left to PyTorch, not approximated.
    inputs = [make((2, 3), torch.int32), make((2, 3), torch.int32)]
    with pytest.raises(UnsupportedOperatorError, match="bitwise_and"):
        check(lambda a, b: a & b, inputs)
    check(lambda a, b: (a & b) + 1, inputs, require_full_compilation=False)


# ---------------------------------------------------------------- where / masked_fill

# (id, fn, shapes: condition first, dtypes)
WHERE: list[tuple[str, Callable[..., Any], list[Any], list[torch.dtype]]] = [
    (
        "tensors",
        lambda c, a, b: torch.where(c, a, b),
        [(2, 3, 4), (3, 4), (2, 1, 4)],
        [*FLOATS, torch.int64, torch.bool],
    ),
    ("method_broadcast", lambda c, a, b: a.where(c, b), [(3, 1), (1, 4), (4,)], [torch.float32, torch.int32]),
    ("scalar_other", lambda c, a: torch.where(c, a, 0.5), [(2, 3), (3,)], [torch.float32, torch.float16]),
    ("scalar_self", lambda c, a: torch.where(c, -2, a), [(2, 3), (2, 3)], [torch.float32, torch.int64]),
    (
        "rank5",
        lambda c, a, b: torch.where(c, a, b),
        [(2, 1, 2, 1, 3), (1, 2, 1, 2, 1), (3,)],
        [torch.float32, torch.bool],
    ),
    ("rank1", lambda c, a, b: torch.where(c, a, b), [(5,), (5,), (1,)], [torch.bfloat16]),
]


@pytest.mark.parametrize("case, dtype", table(WHERE, 3))
def test_where(case: tuple, dtype: torch.dtype) -> None:
    _, fn, shapes, _ = case
    torch.manual_seed(0)
    cond, *values = shapes
    check(fn, [make(cond, torch.bool), *(make(s, dtype) for s in values)])


def test_where_both_scalars() -> None:
    check(lambda c: torch.where(c, 1.0, -1.0), [make((3, 4), torch.bool)])


MASKED_FILL: list[tuple[str, Callable[..., Any], list[torch.dtype]]] = [
    ("scalar", lambda x, m: x.masked_fill(m, -3), [torch.float32, torch.bfloat16, torch.int32]),
    ("float_scalar", lambda x, m: x.masked_fill(m, 0.25), [torch.float32, torch.float16]),
    ("tensor_value", lambda x, m: x.masked_fill(m, torch.tensor(2)), [torch.float32, torch.int64]),
    ("neg_inf", lambda x, m: x.masked_fill(m, float("-inf")), [torch.float16]),
]


@pytest.mark.parametrize("case, dtype", table(MASKED_FILL, 2))
def test_masked_fill(case: tuple, dtype: torch.dtype) -> None:
    _, fn, _ = case
    torch.manual_seed(0)
    # The mask broadcasts over the leading dim, like an attention mask.
    check(fn, [make((2, 3, 4), dtype), make((3, 4), torch.bool)])


# ---------------------------------------------------------------- clamp

# (id, fn, number of inputs, dtypes)
CLAMP: list[tuple[str, Callable[..., Any], int, list[torch.dtype]]] = [
    ("min_max", lambda x: x.clamp(-1, 2), 1, ANY + [torch.bfloat16]),
    ("min_only", lambda x: x.clamp(min=0.5), 1, ANY),
    ("max_only", lambda x: x.clamp(max=-1), 1, [torch.float32, torch.int64]),
    ("min_above_max", lambda x: torch.clamp(x, 2, -1), 1, [torch.float32, torch.int32]),
    ("clamp_min", lambda x: torch.clamp_min(x, 1), 1, [torch.float16, torch.int32]),
    ("clamp_max", lambda x: torch.clamp_max(x, 1.5), 1, [torch.float32, torch.int32]),
    ("tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi), 3, ANY + [torch.bfloat16]),
    ("tensor_min", lambda x, lo: x.clamp(min=lo), 2, [torch.float32, torch.int64]),
    ("tensor_max", lambda x, hi: torch.clamp(x, max=hi), 2, [torch.float16]),
    ("clamp_min_tensor", lambda x, lo: torch.clamp_min(x, lo), 2, [torch.float32, torch.int32]),
    ("clamp_max_tensor", lambda x, hi: torch.clamp_max(x, hi), 2, [torch.bfloat16]),
]


@pytest.mark.parametrize("case, dtype", table(CLAMP, 3))
def test_clamp(case: tuple, dtype: torch.dtype) -> None:
    _, fn, arity, _ = case
    torch.manual_seed(0)
    bounds = [make((4,), dtype) - 1, make((3, 1), dtype) + 1][: arity - 1]
    check(fn, [make((2, 3, 4), dtype), *bounds])


# ---------------------------------------------------------------- dynamic shapes

# Each dynamic dim belongs to one input: the tracer gives every range its own symbol, so two
# independently dynamic dims may not meet in a broadcast (torch.export would demand equality).
DYNAMIC: list[tuple[str, Callable[..., Any], list[tuple[tuple[int, ...], tuple[int, ...], torch.dtype]]]] = [
    ("add_broadcast", lambda a, b: a + b * 2, [((1, 3), (4, 3), torch.float32), ((3,), (3,), torch.float32)]),
    (
        "rank_gap",
        lambda a, b: torch.maximum(a, b),
        [((1, 1, 2), (3, 4, 2), torch.float16), ((1, 2), (1, 2), torch.float16)],
    ),
    ("div_floor_int", lambda a: torch.div(a, 3, rounding_mode="floor") % 4, [((1, 2), (5, 2), torch.int64)]),
    (
        "compare_where",
        lambda a, b: torch.where(a > b, a, -b),
        [((2, 1), (2, 6), torch.float32), ((2, 1), (2, 1), torch.float32)],
    ),
    ("masked_fill", lambda x, m: x.masked_fill(m, 0.0), [((1, 3), (4, 3), torch.float32), ((3,), (3,), torch.bool)]),
    (
        "clamp_tensor",
        lambda x, lo: x.clamp(min=lo).clamp(max=1.0),
        [((2, 1), (2, 5), torch.bfloat16), ((2, 1), (2, 1), torch.bfloat16)],
    ),
    ("dynamic_mask", lambda x, m: x.masked_fill(m, -1.0), [((3,), (3,), torch.float32), ((1, 3), (4, 3), torch.bool)]),
    # A SymInt operand (x.shape[0]) is a scalar, not a rank-1 tensor.
    ("symint_operand", lambda a: a * a.shape[0] - (a < a.shape[1]).int(), [((1, 3), (4, 6), torch.float32)]),
    ("symint_0dim", lambda a, s: (s * a.shape[0], a - s), [((2,), (5,), torch.float32), ((), (), torch.float32)]),
    # Integers, so that equal elements occur; the second input broadcasts over the dynamic dim.
    (
        "comparisons",
        lambda a, b: (a == b, a != b, a < b, a <= b, a >= b, a.gt(1), a.le(-2)),
        [((1, 3), (4, 3), torch.int64), ((3,), (3,), torch.int64)],
    ),
    (
        "comparisons_half",
        lambda a, b: (a == b, a != b, a <= b, a.ge(0.5)),
        [((2, 1), (2, 6), torch.float16), ((1,), (1,), torch.float16)],
    ),
    # Attention-mask style bool logic; bool & / | / ^ are bitwise_* in ATen.
    (
        "logical",
        lambda a, b: (torch.logical_and(a, b), torch.logical_or(a, b), torch.logical_xor(a, b), a & b, a | b, a ^ b),
        [((1, 2, 3), (3, 4, 3), torch.bool), ((1, 3), (1, 3), torch.bool)],
    ),
    (
        "logical_of_floats",
        lambda a: torch.logical_and(a > 0, a < 2) | torch.logical_not(a > -1),
        [((1, 4), (6, 4), torch.float32)],
    ),
    (
        "floor_divide_remainder_fmod",
        lambda a, b: (torch.floor_divide(a, b), torch.remainder(a, b), torch.fmod(a, b)),
        [((1, 3), (5, 3), torch.float32), ((3,), (3,), torch.float32)],
    ),
    (
        "int_floor_divide_remainder_fmod",
        lambda a, b: (a // b, a % b, torch.fmod(a, b)),
        [((2, 1), (2, 7), torch.int32), ((1,), (1,), torch.int32)],
    ),
    (
        "where_scalars",
        lambda c, a: (torch.where(c, a, -1.5), torch.where(c, 2, a), torch.where(c, 1.0, 0.0)),
        [((1, 4), (5, 4), torch.bool), ((4,), (4,), torch.float16)],
    ),
    (
        "clamp_tensor_bounds",
        lambda x, lo, hi: x.clamp(lo, hi),
        [((1, 3), (4, 3), torch.float32), ((3,), (3,), torch.float32), ((1, 1), (1, 1), torch.float32)],
    ),
]


@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple) -> None:
    _, fn, ranges = case
    specs = [torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dt) for lo, hi, dt in ranges]
    torch.manual_seed(0)
    for pick in (0, 1):
        inputs = [make(r[pick], r[2], nonzero=True) for r in ranges]
        check(fn, inputs, input_specs=specs)


# ---------------------------------------------------------------- refused combinations


def test_float64_needs_truncate_double() -> None:
    # Without truncate_double a float64 result would silently become float32: left to PyTorch.
    x = torch.randn(2, 3)
    with pytest.raises(UnsupportedOperatorError, match="mul"):
        check(lambda a: a.double() * 3, [x])
    out = run_on_reference(Fn(lambda a: a.double() * 3 + 1), [x], truncate_double=True)
    torch.testing.assert_close(out[0].double(), x.double() * 3 + 1)


def test_int8_arithmetic_falls_back() -> None:
    # TensorRT's int8 arithmetic is quantized arithmetic, not torch's wrapping int8 math.
    x = torch.randint(-100, 100, (2, 3), dtype=torch.int8)
    with pytest.raises(UnsupportedOperatorError, match="add"):
        check(lambda a: a + a, [x])
    check(lambda a: a + a, [x], require_full_compilation=False)


def test_unknown_rounding_mode_is_not_claimed() -> None:
    # A rounding mode the converter does not know must never be treated as true division.
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS

    graph = torch.fx.Graph()
    a = graph.placeholder("a")
    a.meta["val"] = torch.empty(2, 3)
    node = graph.call_function(torch.ops.aten.div.Tensor_mode, (a, a), {"rounding_mode": "round"})
    node.meta["val"] = torch.empty(2, 3)
    entry, reason = DYNAMO_CONVERTERS.find(node, CompilationSettings())
    assert entry is None and "arguments" in reason


# ---------------------------------------------------------------- atan2, bitwise with a scalar first

# Every quadrant, both axes and the origin (torch: atan2(0, 0) = 0, atan2(y, -0.0) = ±pi/2).
_ATAN2_Y = torch.tensor([0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 2.0, -3.0, 0.5, 1e-3, -4e3])
_ATAN2_X = torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -0.5, 0.7, -0.0, -2e3, 1e-2])
ATAN2_TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (1e-3, 1e-3), torch.bfloat16: (8e-3, 8e-3)}


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_atan2_quadrants(dtype: torch.dtype) -> None:
    rtol, atol = ATAN2_TOLERANCES[dtype]
    check(torch.atan2, [_ATAN2_Y.to(dtype), _ATAN2_X.to(dtype)], rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    ("case", "dtype"),
    [
        (("broadcast", lambda a, b: torch.atan2(a, b), [(2, 3, 4), (4,)]), torch.float32),
        (("broadcast", lambda a, b: torch.atan2(a, b), [(2, 3, 4), (4,)]), torch.float16),
        (("ints_give_float", lambda a, b: torch.atan2(a, b), [(3, 4), (3, 4)]), torch.int32),
        (
            ("out_variant", lambda a, b: torch.ops.aten.atan2.out(a, b, out=torch.empty(3, 4)), [(3, 4), (3, 4)]),
            torch.float32,
        ),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else str(v),
)
def test_atan2(case: tuple, dtype: torch.dtype) -> None:
    _, fn, shapes = case
    torch.manual_seed(0)
    rtol, atol = ATAN2_TOLERANCES.get(dtype, (1e-5, 1e-5))
    check(fn, [make(s, dtype) for s in shapes], rtol=rtol, atol=atol)


def test_atan2_dynamic() -> None:
    specs = [torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(3, 4), max_shape=(6, 4)) for _ in range(2)]
    torch.manual_seed(0)
    for rows in (1, 6):
        check(torch.atan2, [make((rows, 4), torch.float32), make((rows, 4), torch.float32)], input_specs=specs)


@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_scalar_tensor(op: str) -> None:
    # aten.bitwise_*.Scalar_Tensor: the Python bool comes first.
    overload = getattr(torch.ops.aten, op).Scalar_Tensor
    check(lambda a: (overload(True, a), overload(False, a)), [make((2, 5), torch.bool)])
