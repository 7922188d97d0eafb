"""Converters: random ops (rand, randn, randint, randperm, their *_like forms, normal, uniform,
bernoulli, exponential) on TensorRT fill layers.

Every op draws standard samples from one IFillLayer (RANDOM_UNIFORM over [0, 1] or RANDOM_NORMAL
N(0, 1), always FLOAT: the builder refuses BF16 and static degenerate ranges) and transforms them with
elementwise layers, so ranges and parameters may be run-time tensors. TensorRT has no seed: an engine
draws new values on every run and ``torch.manual_seed`` does not reach it. Values therefore differ
from eager PyTorch; distributions, shapes and dtypes are the same.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    add_binary,
    add_unary,
    arg,
    cast_trt_tensor,
    create_constant,
    get_trt_tensor,
    is_trt_tensor,
    output_dtype,
    reshape,
    set_layer_name,
    shape_tensor_from_dims,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import Dim, dims_of, is_static_int, shape_math
from torch_tensorrt.dynamo.conversion.converters.indexing import MAX_TOPK_K, topk, upper_bound

aten = torch.ops.aten
EW = trt.ElementWiseOperation
FILL = trt.FillOperation


def _no_generator(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    # An explicit torch.Generator is a seed TensorRT cannot take; the global generator is simply absent.
    return node.kwargs.get("generator") is None


def _out_dtype(ctx: ConversionContext, default: torch.dtype = torch.float32) -> torch.dtype:
    return output_dtype(ctx) or default


def standard_samples(ctx: ConversionContext, size: list[Dim], op: Any, name: str) -> Any:
    """float32 samples of U[0, 1] (op RANDOM_UNIFORM) or N(0, 1) (RANDOM_NORMAL) of ``size``."""
    # The builder cannot make a 0-D fill: draw one element and drop the dim.
    dims = size or [1]
    static = all(is_static_int(d) for d in dims)
    layer = ctx.net.add_fill(tuple(dims) if static else (1,) * len(dims), op, trt.float32)
    if not static:
        layer.set_input(0, shape_tensor_from_dims(ctx, dims, f"{name}_size"))
    layer.alpha, layer.beta = 0.0, 1.0
    set_layer_name(layer, ctx.unique_name(f"{name}_{str(op).split('.')[-1].lower()}"))
    out = layer.get_output(0)
    return out if size else reshape(ctx, out, [], f"{name}_scalar")


def _scalar(ctx: ConversionContext, value: Any, dtype: torch.dtype, name: str) -> Any:
    """A Python number or a one-element ITensor (a SymInt/SymFloat) as a 0-D tensor of ``dtype``,
    which broadcasts against samples of any rank (a 1-element 1-D tensor would raise a 0-D one)."""
    if not is_trt_tensor(value):
        return create_constant(ctx, torch.tensor(value).to(dtype), name)
    value = cast_trt_tensor(ctx, value, dtype, name)
    return reshape(ctx, value, [], f"{name}_0d") if len(value.shape) else value


def _binary(ctx: ConversionContext, op: Any, a: Any, b: Any, name: str) -> Any:
    """``a op b`` in float32 for ITensors (SymInt operands already made 0-D by ``_scalar``) and numbers."""
    a = (
        cast_trt_tensor(ctx, a, torch.float32, name)
        if is_trt_tensor(a)
        else _scalar(ctx, a, torch.float32, f"{name}_a")
    )
    b = (
        cast_trt_tensor(ctx, b, torch.float32, name)
        if is_trt_tensor(b)
        else _scalar(ctx, b, torch.float32, f"{name}_b")
    )
    return add_binary(ctx, op, a, b, name)


def largest_below(bound: float, dtype: torch.dtype) -> torch.Tensor:
    """The largest number of ``dtype`` strictly below ``bound``, as a 0-D tensor."""
    value = torch.tensor(bound, dtype=torch.float64).to(dtype)
    if float(value) >= bound:
        value = torch.nextafter(value, torch.tensor(-torch.inf, dtype=dtype))
    return value


def below(ctx: ConversionContext, x: Any, bound: float, dtype: torch.dtype, name: str) -> Any:
    """``x`` in ``dtype``, clamped strictly below ``bound`` as torch.rand / uniform_ promise.

    TensorRT documents its uniform maximum as a bound, not whether it is drawn, and rounding to a
    narrower dtype can reach it (eager's samples of uniform_(-3, 5) in bf16 stay below 5).
    """
    x = cast_trt_tensor(ctx, x, dtype, name)
    limit = create_constant(ctx, largest_below(bound, dtype), f"{name}_limit")
    return add_binary(ctx, EW.MIN, x, limit, f"{name}_clamp")


def below_one(ctx: ConversionContext, u: Any, dtype: torch.dtype, name: str) -> Any:
    """Samples of [0, 1] as samples of [0, 1) in ``dtype``."""
    return below(ctx, u, 1.0, dtype, name)


def _uniform(ctx: ConversionContext, size: list[Dim], dtype: torch.dtype, name: str) -> Any:
    return below_one(ctx, standard_samples(ctx, size, FILL.RANDOM_UNIFORM, name), dtype, name)


# ---------------------------------------------------------------------------------------------
# rand / randn and their *_like forms
# ---------------------------------------------------------------------------------------------


def _size_of(ctx: ConversionContext, x: Any, name: str) -> list[Dim]:
    return dims_of(ctx, x, name) if is_trt_tensor(x) else list(x.shape)


def _float_output(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = node.meta.get("val")
    return _no_generator(node, settings) and isinstance(val, torch.Tensor) and val.dtype.is_floating_point


@dynamo_tensorrt_converter([aten.rand.default, aten.rand.generator], capability_validator=_float_output)
def aten_ops_rand(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _uniform(ctx, list(args[0]), _out_dtype(ctx), name)


@dynamo_tensorrt_converter([aten.rand_like.default, aten.rand_like.generator], capability_validator=_float_output)
def aten_ops_rand_like(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _uniform(ctx, _size_of(ctx, args[0], name), _out_dtype(ctx), name)


def _normal(ctx: ConversionContext, size: list[Dim], dtype: torch.dtype, name: str) -> Any:
    return cast_trt_tensor(ctx, standard_samples(ctx, size, FILL.RANDOM_NORMAL, name), dtype, name)


@dynamo_tensorrt_converter([aten.randn.default, aten.randn.generator], capability_validator=_float_output)
def aten_ops_randn(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _normal(ctx, list(args[0]), _out_dtype(ctx), name)


@dynamo_tensorrt_converter([aten.randn_like.default, aten.randn_like.generator], capability_validator=_float_output)
def aten_ops_randn_like(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _normal(ctx, _size_of(ctx, args[0], name), _out_dtype(ctx), name)


# ---------------------------------------------------------------------------------------------
# randint / randint_like / randperm
# ---------------------------------------------------------------------------------------------


def randint(ctx: ConversionContext, size: list[Dim], low: Any, high: Any, dtype: torch.dtype, name: str) -> Any:
    """Integers uniform on [low, high): floor(u * (high - low)) + low for u uniform on [0, 1).

    u is float32, so a span above 2^24 reaches only multiples of its spacing there (eager's integer
    generator has no such limit); the count is clamped below the span in case rounding reaches it.
    """
    low_t, high_t = _scalar(ctx, low, torch.int64, f"{name}_low"), _scalar(ctx, high, torch.int64, f"{name}_high")
    span = add_binary(ctx, EW.SUB, high_t, low_t, f"{name}_span")
    u = _uniform(ctx, size, torch.float32, name)
    steps = add_unary(ctx, trt.UnaryOperation.FLOOR, _binary(ctx, EW.PROD, u, span, f"{name}_scaled"), f"{name}_floor")
    steps = cast_trt_tensor(ctx, steps, torch.int64, f"{name}_steps")
    last = add_binary(ctx, EW.SUB, span, create_constant(ctx, torch.tensor(1), f"{name}_one"), f"{name}_last")
    steps = add_binary(ctx, EW.MIN, steps, last, f"{name}_in_range")
    return cast_trt_tensor(ctx, add_binary(ctx, EW.SUM, steps, low_t, f"{name}_shift"), dtype, name)


# Positions of (low, high, size) in each overload's arguments; None: low is 0, "self": the size of
# the tensor argument 0 (the *_like forms).
_RANDINT_ARGS: dict[Any, tuple[int | None, int, int | str]] = {
    aten.randint.default: (None, 0, 1),
    aten.randint.generator: (None, 0, 1),
    aten.randint.low: (0, 1, 2),
    aten.randint.low_generator: (0, 1, 2),
    aten.randint_like.default: (None, 1, "self"),
    aten.randint_like.low_dtype: (1, 2, "self"),
    aten.randint_like.Tensor: (None, 1, "self"),
}


def _randint_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    high = node.args[_RANDINT_ARGS[node.target][1]]
    # randint_like.Tensor takes its bound from a tensor's value: only a 0-D integer tensor is one.
    if isinstance(high, torch.fx.Node) and isinstance(v := high.meta.get("val"), torch.Tensor):
        return _no_generator(node, settings) and v.dim() == 0 and not v.dtype.is_floating_point
    return _no_generator(node, settings)


@dynamo_tensorrt_converter(list(_RANDINT_ARGS), capability_validator=_randint_ok)
def aten_ops_randint(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    low_at, high_at, size_at = _RANDINT_ARGS[target]
    low = 0 if low_at is None else args[low_at]
    high = args[high_at]
    if isinstance(high, torch.Tensor):
        high = get_trt_tensor(ctx, high, f"{name}_high")
    size = _size_of(ctx, args[0], name) if size_at == "self" else list(args[size_at])
    return randint(ctx, size, low, high, _out_dtype(ctx, torch.int64), name)


def _randperm_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    # A permutation is the order of n uniform samples: one TopK, whose k is at most MAX_TOPK_K.
    bound = upper_bound(node.args[0].meta.get("val") if isinstance(node.args[0], torch.fx.Node) else node.args[0])
    return _no_generator(node, settings) and bound is not None and 1 <= bound <= MAX_TOPK_K


@dynamo_tensorrt_converter([aten.randperm.default, aten.randperm.generator], capability_validator=_randperm_ok)
def aten_ops_randperm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """The positions of n uniform samples in sorted order: every order is equally likely.

    Equal float32 samples (likely among thousands) leave their order to TopK, a bias of order
    n^2 / 2^25 towards one of two orders; every result is still a permutation.
    """
    n = args[0]
    samples = standard_samples(ctx, [n], FILL.RANDOM_UNIFORM, name)
    _, order = topk(ctx, samples, n, 0, True, name)
    return cast_trt_tensor(ctx, order, _out_dtype(ctx, torch.int64), name)


# ---------------------------------------------------------------------------------------------
# normal / uniform / bernoulli / exponential (the functional forms of normal_, uniform_, ...)
# ---------------------------------------------------------------------------------------------


def _broadcast_size(ctx: ConversionContext, a: Any, b: Any, name: str) -> list[Dim]:
    """The broadcast shape of two tensors (numpy rules) as Dims."""
    da, db = _size_of(ctx, a, f"{name}_a"), _size_of(ctx, b, f"{name}_b")
    rank = max(len(da), len(db))
    da, db = [1] * (rank - len(da)) + da, [1] * (rank - len(db)) + db
    out: list[Dim] = []
    for i, (x, y) in enumerate(zip(da, db)):
        if is_static_int(x) and x == 1:
            out.append(y)
        elif (is_static_int(y) and y == 1) or (is_static_int(x) and is_static_int(y)):
            out.append(x)
        else:
            # Both run-time sizes: equal, or one is 1 and the larger one wins.
            out.append(shape_math(ctx, EW.MAX, x, y, f"{name}_dim{i}"))
    return out


def _tensor_or_number(ctx: ConversionContext, value: Any, name: str) -> Any:
    return get_trt_tensor(ctx, value, name) if isinstance(value, torch.Tensor) else value


def _normal_args(ctx: ConversionContext, target: Any, args: Any, name: str) -> tuple[list[Dim], Any, Any]:
    """(size, mean, std) of a normal overload; mean/std are numbers or ITensors."""
    if target == aten.normal_functional.default:
        return _size_of(ctx, args[0], name), arg(args, {}, 1, "mean", 0.0), arg(args, {}, 2, "std", 1.0)
    if target == aten.normal.float_float:
        return list(args[2]), args[0], args[1]
    mean = _tensor_or_number(ctx, args[0], f"{name}_mean")
    std = _tensor_or_number(ctx, args[1] if len(args) > 1 else 1.0, f"{name}_std")
    if target == aten.normal.Tensor_float:
        return _size_of(ctx, mean, name), mean, std
    if target == aten.normal.float_Tensor:
        return _size_of(ctx, std, name), mean, std
    return _broadcast_size(ctx, mean, std, name), mean, std


_NORMAL = [
    aten.normal.Tensor_float,
    aten.normal.float_Tensor,
    aten.normal.Tensor_Tensor,
    aten.normal.float_float,
    aten.normal_functional.default,
]


@dynamo_tensorrt_converter(_NORMAL, capability_validator=_float_output)
def aten_ops_normal(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    size, mean, std = _normal_args(ctx, target, args, name)
    z = standard_samples(ctx, size, FILL.RANDOM_NORMAL, name)
    # mean + std * z in float32; N(0, 1) is drawn once, so a zero std gives exactly the mean.
    scaled = _binary(ctx, EW.PROD, z, std, f"{name}_scale")
    return cast_trt_tensor(ctx, _binary(ctx, EW.SUM, scaled, mean, f"{name}_shift"), _out_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.uniform.default, capability_validator=_float_output)
def aten_ops_uniform(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    low, high = arg(args, kwargs, 1, "from", 0.0), arg(args, kwargs, 2, "to", 1.0)
    u = _uniform(ctx, _size_of(ctx, args[0], name), torch.float32, name)
    x = _binary(ctx, EW.SUM, _binary(ctx, EW.PROD, u, float(high) - float(low), f"{name}_scale"), low, f"{name}_shift")
    return (
        below(ctx, x, float(high), _out_dtype(ctx), name)
        if high > low
        else cast_trt_tensor(ctx, x, _out_dtype(ctx), name)
    )


def _bernoulli_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = node.meta.get("val")
    # The output has self's dtype, which may be an integer or bool one: any dtype a cast reaches.
    return _no_generator(node, settings) and isinstance(val, torch.Tensor)


@dynamo_tensorrt_converter([aten.bernoulli.p, aten.bernoulli.Tensor], capability_validator=_bernoulli_ok)
def aten_ops_bernoulli(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """1 with probability p (u < p for u uniform on [0, 1)), else 0, in self's dtype and shape."""
    p = arg(args, kwargs, 1, "p", 0.5)
    p = get_trt_tensor(ctx, p, f"{name}_p") if isinstance(p, torch.Tensor) or is_trt_tensor(p) else p
    u = _uniform(ctx, _size_of(ctx, args[0], name), torch.float32, name)
    return cast_trt_tensor(ctx, _binary(ctx, EW.LESS, u, p, f"{name}_draw"), _out_dtype(ctx), name)


@dynamo_tensorrt_converter(aten.exponential.default, capability_validator=_float_output)
def aten_ops_exponential(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """-log(1 - u) / lambd for u uniform on [0, 1): the inverse of the exponential CDF."""
    lambd = float(arg(args, kwargs, 1, "lambd", 1.0))
    u = _uniform(ctx, _size_of(ctx, args[0], name), torch.float32, name)
    tail = add_unary(ctx, trt.UnaryOperation.LOG, _binary(ctx, EW.SUB, 1.0, u, f"{name}_tail"), f"{name}_log")
    return cast_trt_tensor(ctx, _binary(ctx, EW.DIV, tail, -lambd, f"{name}_rate"), _out_dtype(ctx), name)
