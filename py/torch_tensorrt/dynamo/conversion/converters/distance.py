"""Converters: pairwise distances — _cdist_forward (torch.cdist) and _pdist_forward (F.pdist).

Distances are p-norms of explicit differences, computed in float32 (half-precision inputs are widened,
so sums of powers neither overflow nor lose the small differences): p = 0 counts the differing
coordinates, p = inf takes the largest, other p follow (sum |d|^p)^(1/p). torch.cdist may use a
matrix-product formula for p = 2 on many rows, which is the same distance with more rounding.
"""

from __future__ import annotations

import math
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
    dtype_of,
    get_trt_tensor,
    prepend_ones,
    set_layer_name,
    shape_tensor_from_dims,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import dims_of, int_tensor, shape_math, unsqueeze
from torch_tensorrt.dynamo.conversion.converters.reduction import reduce

aten = torch.ops.aten
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def _scalar(ctx: ConversionContext, value: float, rank: int, name: str) -> Any:
    return prepend_ones(ctx, create_constant(ctx, torch.tensor(value, dtype=torch.float32), name), rank, name)


def p_norm(ctx: ConversionContext, diff: Any, p: float, axis: int, name: str) -> Any:
    """The p-norm of float32 ``diff`` along ``axis`` (removed)."""
    rank = len(diff.shape)
    R = trt.ReduceOperation
    if p == 0:
        nonzero = add_binary(ctx, EW.EQUAL, diff, _scalar(ctx, 0.0, rank, f"{name}_zero"), f"{name}_eq0")
        differs = cast_trt_tensor(ctx, add_unary(ctx, UN.NOT, nonzero, f"{name}_ne0"), torch.float32, name)
        return reduce(ctx, differs, R.SUM, [axis], False, f"{name}_count")
    magnitude = add_unary(ctx, UN.ABS, diff, f"{name}_abs")
    if math.isinf(p):
        return reduce(ctx, magnitude, R.MAX, [axis], False, f"{name}_max")
    if p == 1:
        return reduce(ctx, magnitude, R.SUM, [axis], False, f"{name}_sum")
    if p == 2:
        squares = add_binary(ctx, EW.PROD, diff, diff, f"{name}_square")
        return add_unary(ctx, UN.SQRT, reduce(ctx, squares, R.SUM, [axis], False, f"{name}_sum"), f"{name}_sqrt")
    powers = add_binary(ctx, EW.POW, magnitude, _scalar(ctx, p, rank, f"{name}_p"), f"{name}_pow")
    total = reduce(ctx, powers, R.SUM, [axis], False, f"{name}_sum")
    return add_binary(ctx, EW.POW, total, _scalar(ctx, 1.0 / p, rank - 1, f"{name}_root"), f"{name}_root")


def _float_inputs(node: torch.fx.Node, p_index: int) -> bool:
    vals = [a.meta.get("val") for a in node.all_input_nodes]
    p = float(arg(node.args, node.kwargs, p_index, "p", 2.0))
    return bool(vals) and all(isinstance(v, torch.Tensor) and v.dtype in FLOATS for v in vals) and p >= 0


def _cdist_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return _float_inputs(node, 2)


@dynamo_tensorrt_converter(aten._cdist_forward.default, capability_validator=_cdist_ok)
def aten_ops_cdist(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x1 = get_trt_tensor(ctx, args[0], f"{name}_x1")
    dtype = dtype_of(x1)
    x1 = cast_trt_tensor(ctx, x1, torch.float32, f"{name}_x1")
    x2 = get_trt_tensor(ctx, args[1], f"{name}_x2", torch.float32)
    # (..., P, 1, M) - (..., 1, R, M): every pair of rows; batch dims broadcast.
    diff = add_binary(
        ctx, EW.SUB, unsqueeze(ctx, x1, -2, f"{name}_rows1"), unsqueeze(ctx, x2, -3, f"{name}_rows2"), f"{name}_diff"
    )
    distance = p_norm(ctx, diff, float(args[2]), len(diff.shape) - 1, name)
    return cast_trt_tensor(ctx, distance, dtype, name)


def _pdist_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    val = node.args[0].meta.get("val")
    if not _float_inputs(node, 1):
        return False
    rows = val.shape[0]
    # Static rows: the pairs (i < j) are listed at build time (2 or more rows); run-time rows: they are
    # computed in the engine, exactly up to _MAX_RUNTIME_PDIST_ROWS.
    if isinstance(rows, int):
        return rows >= 2
    bound = _row_count_bound(rows)
    return bound is not None and bound <= _MAX_RUNTIME_PDIST_ROWS


@dynamo_tensorrt_converter(aten._pdist_forward.default, capability_validator=_pdist_ok)
def aten_ops_pdist(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    dtype = dtype_of(x)
    x = cast_trt_tensor(ctx, x, torch.float32, name)
    if x.shape[0] >= 0:
        first, second = (t.to(torch.int64) for t in torch.triu_indices(int(x.shape[0]), int(x.shape[0]), offset=1))
        indices = [create_constant(ctx, t, f"{name}_{w}") for t, w in ((first, "i"), (second, "j"))]
    else:
        indices = list(_pair_rows(ctx, x, name))
    rows = []
    for which, index in zip("ij", indices):
        layer = ctx.net.add_gather(x, index, 0)
        set_layer_name(layer, ctx.unique_name(f"{name}_rows_{which}"))
        rows.append(layer.get_output(0))
    diff = add_binary(ctx, EW.SUB, rows[0], rows[1], f"{name}_diff")
    p = float(arg(args, kwargs, 1, "p", 2.0))
    return cast_trt_tensor(ctx, p_norm(ctx, diff, p, 1, name), dtype, name)


# Pair positions of run-time row counts are computed in float32 from a square root, exact while its
# argument (about 4 n^2) is an integer float32 holds exactly.
_MAX_RUNTIME_PDIST_ROWS = 2048


def _row_count_bound(size: Any) -> int | None:
    """The largest value a (symbolic) row count can take, when known."""
    if isinstance(size, int):
        return size
    try:
        upper = size.node.shape_env.bound_sympy(size.node.expr).upper
        return int(upper) if upper.is_finite else None
    except (AttributeError, TypeError):
        return None


def _pair_rows(ctx: ConversionContext, x: Any, name: str) -> tuple[Any, Any]:
    """Row indices (i, j), i < j in row-major order, for a run-time row count n: for pair k,
    i = n - 2 - floor(sqrt(4n(n - 1) - 7 - 8k) / 2 - 0.5) and j = k + i + 1 - n(n - 1)/2 + (n - i)(n - i - 1)/2."""
    n = dims_of(ctx, x, name)[0]
    pairs = shape_math(
        ctx,
        EW.FLOOR_DIV,
        shape_math(ctx, EW.PROD, n, shape_math(ctx, EW.SUB, n, 1, f"{name}_n1"), f"{name}_nn"),
        2,
        f"{name}_m",
    )
    fill = ctx.net.add_fill((1,), trt.FillOperation.LINSPACE, trt.float32)
    fill.set_input(0, shape_tensor_from_dims(ctx, [pairs], f"{name}_len"))
    fill.set_input(1, create_constant(ctx, torch.tensor(0.0), f"{name}_start"))
    fill.set_input(2, create_constant(ctx, torch.tensor([1.0]), f"{name}_step"))
    set_layer_name(fill, ctx.unique_name(f"{name}_pairs"))
    k = fill.get_output(0)

    def num(value: Any, label: str) -> Any:
        if isinstance(value, (int, float)):
            return create_constant(ctx, torch.tensor([float(value)]), f"{name}_{label}")
        return cast_trt_tensor(ctx, int_tensor(ctx, value, f"{name}_{label}_i"), torch.float32, f"{name}_{label}")

    def op(kind: Any, a: Any, b: Any, label: str) -> Any:
        return add_binary(ctx, kind, a, b, f"{name}_{label}")

    n_f, m_f = num(n, "nf"), num(pairs, "mf")
    radicand = op(
        EW.SUB,
        op(EW.PROD, num(4, "f4"), op(EW.PROD, n_f, op(EW.SUB, n_f, num(1, "one"), "n1f"), "nn"), "4nn"),
        num(7, "seven"),
        "r1",
    )
    radicand = op(EW.SUB, radicand, op(EW.PROD, k, num(8, "eight"), "8k"), "radicand")
    root = add_unary(ctx, UN.SQRT, radicand, f"{name}_sqrt")
    step = add_unary(
        ctx, UN.FLOOR, op(EW.SUB, op(EW.DIV, root, num(2, "two"), "half"), num(0.5, "h"), "hm"), f"{name}_floor"
    )
    i = op(EW.SUB, op(EW.SUB, n_f, num(2, "two2"), "n2"), step, "i")
    rest = op(EW.SUB, n_f, i, "ni")
    tail = op(EW.DIV, op(EW.PROD, rest, op(EW.SUB, rest, num(1, "one2"), "ni1"), "nini"), num(2, "two3"), "tail")
    j = op(EW.SUM, op(EW.SUB, op(EW.SUM, op(EW.SUM, k, i, "ki"), num(1, "one3"), "ki1"), m_f, "kim"), tail, "j")
    return cast_trt_tensor(ctx, i, torch.int32, f"{name}_ii"), cast_trt_tensor(ctx, j, torch.int32, f"{name}_ji")
