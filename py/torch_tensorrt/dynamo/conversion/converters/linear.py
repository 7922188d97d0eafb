"""Converters: linear, matmul, mm, bmm, addmm, addmv, baddbmm, linalg_cross."""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    arg,
    broadcast_ranks,
    create_constant,
    dtype_of,
    get_trt_tensor,
    is_trt_tensor,
    output_dtype,
    prepend_ones,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import concat, narrow
from torch_tensorrt.dynamo.conversion.converters.elementwise import broadcast_all, elementwise

aten = torch.ops.aten
MatOp = trt.MatrixOperation
FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def matmul(
    ctx: ConversionContext, a: Any, b: Any, name: str, transpose_b: bool = False, dtype: torch.dtype | None = None
) -> TRTTensor:
    """torch.matmul semantics (1-D operands, broadcast batch dims) on one MatrixMultiply layer.

    A 1-D operand is a VECTOR; the other operand's batch dims are matched by leading ones, so the
    vector broadcasts over them and the result drops that operand's matrix dim, as in torch.
    """
    dtype = dtype or output_dtype(ctx) or dtype_of(a if is_trt_tensor(a) else b)
    a = get_trt_tensor(ctx, a, f"{name}_a", dtype)
    b = get_trt_tensor(ctx, b, f"{name}_b", dtype)
    ra, rb = len(a.shape), len(b.shape)
    op_a = MatOp.VECTOR if ra == 1 else MatOp.NONE
    op_b = MatOp.VECTOR if rb == 1 else (MatOp.TRANSPOSE if transpose_b else MatOp.NONE)
    if ra == 1 and rb > 2:
        a = prepend_ones(ctx, a, rb - 2, f"{name}_a")
    elif rb == 1 and ra > 2:
        b = prepend_ones(ctx, b, ra - 2, f"{name}_b")
    elif ra > 1 and rb > 1:
        a, b = broadcast_ranks(ctx, a, b, name)
    layer = ctx.net.add_matrix_multiply(a, op_a, b, op_b)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _scaled(ctx: ConversionContext, value: Any, factor: float, dtype: torch.dtype, name: str) -> TRTTensor:
    if not is_trt_tensor(value):
        # A constant (or Python scalar) operand: fold the factor in at build time.
        return create_constant(ctx, torch.as_tensor(value, dtype=torch.float32) * factor, name, dtype)
    if factor == 1:
        return value
    scale = prepend_ones(ctx, create_constant(ctx, torch.tensor(float(factor)), name, dtype), len(value.shape), name)
    return add_binary(ctx, trt.ElementWiseOperation.PROD, value, scale, f"{name}_scale")


def add_term(ctx: ConversionContext, product: TRTTensor, term: Any, beta: float, name: str) -> TRTTensor:
    """``product + beta * term``; beta == 0 ignores ``term`` entirely (even NaN/inf), like torch."""
    if term is None or beta == 0:
        return product
    term = _scaled(ctx, get_trt_tensor(ctx, term, f"{name}_term", dtype_of(product)), beta, dtype_of(product), name)
    return add_binary(ctx, trt.ElementWiseOperation.SUM, product, term, f"{name}_add")


def _floats_only(node: torch.fx.Node, settings: object) -> bool:
    # TensorRT's MatrixMultiply is floating point only; integer matmuls stay in PyTorch.
    val = node.meta.get("val")
    return isinstance(val, torch.Tensor) and val.dtype in FLOATS


@dynamo_tensorrt_converter(aten.linear.default, capability_validator=_floats_only)
def aten_ops_linear(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    bias = arg(args, kwargs, 2, "bias")
    return add_term(ctx, matmul(ctx, args[0], args[1], name, transpose_b=True), bias, 1, name)


@dynamo_tensorrt_converter(
    [aten.matmul.default, aten.mm.default, aten.bmm.default, aten.mv.default, aten.dot.default],
    capability_validator=_floats_only,
)
def aten_ops_matmul(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return matmul(ctx, args[0], args[1], name)


@dynamo_tensorrt_converter(
    [aten.addmm.default, aten.addmv.default, aten.baddbmm.default], capability_validator=_floats_only
)
def aten_ops_addmm(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    """``beta * input + alpha * (m1 @ m2)``."""
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    product = matmul(ctx, args[1], args[2], name)
    product = _scaled(ctx, product, alpha, dtype_of(product), f"{name}_alpha")
    return add_term(ctx, product, args[0], beta, name)


# ---------------------------------------------------------------------------------------------
# linalg_cross: 3-vectors along one dim, broadcast over the others
# ---------------------------------------------------------------------------------------------

_CROSS_DTYPES = (*FLOATS, torch.int32)


def _operand_shape(operand: Any) -> tuple[Any, ...] | None:
    """An operand's shape from its traced value, else from ``tensor_meta`` (None if neither)."""
    meta = getattr(operand, "meta", {})
    val = meta.get("val")
    if isinstance(val, torch.Tensor):
        return tuple(val.shape) if val.dtype in _CROSS_DTYPES else None
    tensor_meta = meta.get("tensor_meta")
    shape = getattr(tensor_meta, "shape", None)
    return tuple(shape) if shape is not None else None


def cross_validator(node: torch.fx.Node, settings: object = None) -> bool:
    """aten.linalg_cross converts when both operands' sizes along ``dim`` are known to be 3 (a
    symbolic or unknown size cannot be proven to be 3). Torch-TensorRT's name for this check."""
    shapes = [_operand_shape(a) for a in node.args[:2]]
    if len(shapes) != 2 or any(s is None or not s for s in shapes):
        return False
    dim = arg(node.args, node.kwargs, 2, "dim", -1)
    a_shape, b_shape = shapes
    # torch.linalg.cross takes operands of one rank (it broadcasts sizes, not ranks).
    if a_shape is None or b_shape is None or len(a_shape) != len(b_shape) or not -len(a_shape) <= dim < len(a_shape):
        return False
    return all(isinstance(s[dim], int) and s[dim] == 3 for s in (a_shape, b_shape))


@dynamo_tensorrt_converter(aten.linalg_cross.default, capability_validator=cross_validator)
def aten_ops_linalg_cross(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    dtype = output_dtype(ctx) or dtype_of(args[0])
    a, b = broadcast_all(
        ctx, [get_trt_tensor(ctx, args[0], f"{name}_a", dtype), get_trt_tensor(ctx, args[1], f"{name}_b", dtype)], name
    )
    dim = arg(args, kwargs, 2, "dim", -1) % len(a.shape)  # the validator checked both ranks are equal
    ax, bx = ([narrow(ctx, t, dim, i, 1, f"{name}_{tag}{i}") for i in range(3)] for tag, t in (("a", a), ("b", b)))

    def component(i: int, j: int) -> Any:
        # a_i * b_j - a_j * b_i
        lhs = elementwise(ctx, trt.ElementWiseOperation.PROD, ax[i], bx[j], f"{name}_{i}{j}", dtype)
        rhs = elementwise(ctx, trt.ElementWiseOperation.PROD, ax[j], bx[i], f"{name}_{j}{i}", dtype)
        return elementwise(ctx, trt.ElementWiseOperation.SUB, lhs, rhs, f"{name}_c{i}{j}", dtype)

    return concat(ctx, [component(1, 2), component(2, 0), component(0, 1)], dim, name)
