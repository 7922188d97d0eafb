"""Converters: max / average / adaptive pooling.

Export lowers 1-D pooling to 2-D pooling on a unit height, so max/avg pooling arrive as 2-D or 3-D;
adaptive pooling arrives in 1-D, 2-D and 3-D.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converter_utils import (
    TRTTensor,
    add_binary,
    arg,
    axes_mask,
    create_constant,
    dtype_of,
    has_dynamic_dims,
    prepend_ones,
    set_layer_name,
    shape_of,
)
from torch_tensorrt.dynamo.conversion.converters.conv import expand_param

aten = torch.ops.aten

FLOATS = (torch.float32, torch.float16, torch.bfloat16)
# An uneven adaptive pooling becomes one slice + reduce per output position and dim; past this many
# the network would be unreasonably large, so the op is left to PyTorch.
MAX_ADAPTIVE_SLICES = 256


def _input_val(node: torch.fx.Node) -> torch.Tensor | None:
    val = node.args[0].meta.get("val")
    return val if isinstance(val, torch.Tensor) else None


def _only_values_used(node: torch.fx.Node) -> bool:
    """The indices output (item 1) has no TensorRT equivalent; only item 0 may be read."""
    return all(u.target is operator.getitem and u.args[1] == 0 for u in node.users)


def _window_params(args: Sequence[Any], kwargs: Mapping[str, Any], k: int) -> tuple[list[int], list[int], list[int]]:
    kernel = expand_param(args[1], k)
    stride = arg(args, kwargs, 2, "stride", [])
    stride = expand_param(stride, k) if stride else kernel  # an empty stride means stride = kernel
    padding = expand_param(arg(args, kwargs, 3, "padding", 0), k)
    return kernel, stride, padding


def _static_spatial(val: torch.Tensor, k: int) -> bool:
    return all(isinstance(d, int) for d in val.shape[-k:])


def _add_pooling(
    ctx: ConversionContext,
    x: TRTTensor,
    kind: Any,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    name: str,
    ceil_mode: bool = False,
) -> Any:
    layer = ctx.net.add_pooling_nd(x, kind, tuple(kernel))
    layer.stride_nd = tuple(stride)
    layer.padding_nd = tuple(padding)
    if ceil_mode:
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    set_layer_name(layer, ctx.unique_name(name))
    return layer


def _drop_padding_only_windows(
    ctx: ConversionContext, x: TRTTensor, y: TRTTensor, stride: Sequence[int], padding: Sequence[int], name: str
) -> TRTTensor:
    """Crop EXPLICIT_ROUND_UP's output to torch's ceil_mode size (spatial dims are static here).

    Both round (n + 2p - k) / s up, but torch also drops a last window that starts in the right
    padding: only ceil((n + p) / s) windows start before the padding's end.
    """
    k = len(stride)
    rank = len(y.shape)
    for i in range(k):
        axis = rank - k + i
        n = int(x.shape[len(x.shape) - k + i])
        limit = -(-(n + padding[i]) // stride[i])
        if limit < y.shape[axis]:
            y = _slice_axis(ctx, y, axis, 0, limit, f"{name}_ceil_crop")
    return y


def _pool(
    ctx: ConversionContext,
    x: TRTTensor,
    kind: Any,
    kernel: list[int],
    stride: list[int],
    padding: list[int],
    ceil_mode: bool,
    name: str,
    exclude_padding: bool = False,
) -> TRTTensor:
    # With stride 1 no window can start in the right padding (p <= k / 2): ceil_mode changes nothing.
    ceil_mode = ceil_mode and any(st > 1 for st in stride)
    # TensorRT pools need a batch dim (rank >= k + 2); unbatched inputs get a leading 1.
    lifted = len(x.shape) < len(kernel) + 2
    if lifted:
        x = prepend_ones(ctx, x, 1, f"{name}_batch")
    layer = _add_pooling(ctx, x, kind, kernel, stride, padding, name, ceil_mode)
    if kind == trt.PoolingType.AVERAGE:
        layer.average_count_excludes_padding = exclude_padding
    y = layer.get_output(0)
    if ceil_mode:
        y = _drop_padding_only_windows(ctx, x, y, stride, padding, name)
    return _drop_leading_one(ctx, y, name) if lifted else y


def _drop_leading_one(ctx: ConversionContext, y: TRTTensor, name: str) -> TRTTensor:
    rank = len(y.shape)
    layer = ctx.net.add_shuffle(y)
    if has_dynamic_dims(y):
        layer.set_input(1, ctx.net.add_slice(shape_of(ctx, y, name), (1,), (rank - 1,), (1,)).get_output(0))
    else:
        layer.reshape_dims = tuple(y.shape[1:])
    set_layer_name(layer, ctx.unique_name(f"{name}_unbatch"))
    return layer.get_output(0)


def _pool_input_ok(val: torch.Tensor | None, k: int) -> bool:
    # Channels (and unbatched inputs) fold into the pooled layout; spatial dims may be dynamic.
    return val is not None and val.dtype in FLOATS and val.dim() in (k + 1, k + 2)


def _ceil_mode_ok(node: torch.fx.Node, k: int, ceil_mode: bool) -> bool:
    # torch's ceil_mode output size depends on the parity of the length, so export specializes
    # dynamic spatial dims anyway except for stride 1 (where ceil_mode is a no-op).
    stride = _window_params(node.args, node.kwargs, k)[1]
    return not ceil_mode or all(st == 1 for st in stride) or _static_spatial(_input_val(node), k)


def _max_pool_supported(node: torch.fx.Node, settings: object) -> bool:
    k = 2 if node.target is aten.max_pool2d_with_indices.default else 3
    dilation = expand_param(arg(node.args, node.kwargs, 4, "dilation", 1), k)
    # TensorRT pooling has no dilation.
    return (
        _pool_input_ok(_input_val(node), k)
        and all(d == 1 for d in dilation)
        and _only_values_used(node)
        and _ceil_mode_ok(node, k, bool(arg(node.args, node.kwargs, 5, "ceil_mode", False)))
    )


@dynamo_tensorrt_converter(
    [aten.max_pool2d_with_indices.default, aten.max_pool3d_with_indices.default],
    capability_validator=_max_pool_supported,
)
def aten_ops_max_pool_with_indices(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    k = 2 if target is aten.max_pool2d_with_indices.default else 3
    kernel, stride, padding = _window_params(args, kwargs, k)
    ceil_mode = bool(arg(args, kwargs, 5, "ceil_mode", False))
    y = _pool(ctx, args[0], trt.PoolingType.MAX, kernel, stride, padding, ceil_mode, name)
    # The validator guarantees nobody reads the indices.
    return (y, None)


def _avg_pool_supported(node: torch.fx.Node, settings: object) -> bool:
    k = 2 if node.target is aten.avg_pool2d.default else 3
    ceil_mode = bool(arg(node.args, node.kwargs, 4, "ceil_mode", False))
    divisor = arg(node.args, node.kwargs, 6, "divisor_override")
    # A divisor override turns the average into sum / divisor, which equals TensorRT's average times
    # volume / divisor only while every window has the full volume, i.e. without ceil_mode.
    return (
        _pool_input_ok(_input_val(node), k)
        and not (divisor is not None and ceil_mode)
        and _ceil_mode_ok(node, k, ceil_mode)
    )


@dynamo_tensorrt_converter([aten.avg_pool2d.default, aten.avg_pool3d.default], capability_validator=_avg_pool_supported)
def aten_ops_avg_pool(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    k = 2 if target is aten.avg_pool2d.default else 3
    kernel, stride, padding = _window_params(args, kwargs, k)
    ceil_mode = bool(arg(args, kwargs, 4, "ceil_mode", False))
    count_include_pad = bool(arg(args, kwargs, 5, "count_include_pad", True))
    divisor = arg(args, kwargs, 6, "divisor_override")
    exclude = not count_include_pad and divisor is None
    y = _pool(ctx, args[0], trt.PoolingType.AVERAGE, kernel, stride, padding, ceil_mode, name, exclude)
    if divisor is not None and divisor != math.prod(kernel):
        factor = create_constant(ctx, torch.tensor(math.prod(kernel) / divisor), f"{name}_divisor", dtype_of(y))
        factor = prepend_ones(ctx, factor, len(y.shape), f"{name}_divisor")
        y = add_binary(ctx, trt.ElementWiseOperation.PROD, y, factor, f"{name}_divisor")
    return y


# ---- adaptive pooling -------------------------------------------------------------------------


def _adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    # torch: window i spans [floor(i * n / out), ceil((i + 1) * n / out)).
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive_supported(node: torch.fx.Node, settings: object) -> bool:
    out = [int(o) for o in node.args[1]]
    k = len(out)
    val = _input_val(node)
    returns_indices = node.target in (aten.adaptive_max_pool2d.default, aten.adaptive_max_pool3d.default)
    if not _pool_input_ok(val, k) or (returns_indices and not _only_values_used(node)):
        return False
    if all(o == 1 for o in out):
        return True  # a global pooling is a reduction, fine with dynamic sizes
    if not _static_spatial(val, k):
        return False
    sizes = [int(d) for d in val.shape[-k:]]
    uneven = [o for n, o in zip(sizes, out) if n % o]
    return sum(uneven) <= MAX_ADAPTIVE_SLICES


def _reduce(ctx: ConversionContext, x: TRTTensor, op: Any, axes: Sequence[int], name: str) -> TRTTensor:
    layer = ctx.net.add_reduce(x, op, axes_mask(axes, len(x.shape)), True)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _slice_axis(ctx: ConversionContext, x: TRTTensor, axis: int, start: int, size: int, name: str) -> TRTTensor:
    """``x`` narrowed to [start, start + size) along ``axis``; other dims (maybe dynamic) whole."""
    rank = len(x.shape)
    begin = [0] * rank
    begin[axis] = start
    layer = ctx.net.add_slice(x, tuple(begin), (1,) * rank, (1,) * rank)
    if has_dynamic_dims(x):
        keep = torch.ones(rank, dtype=torch.int64)
        keep[axis] = 0
        op = trt.ElementWiseOperation
        dims = add_binary(ctx, op.PROD, shape_of(ctx, x, name), create_constant(ctx, keep, f"{name}_keep"), name)
        sizes = add_binary(ctx, op.SUM, dims, create_constant(ctx, (1 - keep) * size, f"{name}_size"), name)
        layer.set_input(2, sizes)
    else:
        layer.shape = tuple(size if d == axis else int(n) for d, n in enumerate(x.shape))
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def _adaptive_uneven_dim(ctx: ConversionContext, x: TRTTensor, axis: int, out: int, op: Any, name: str) -> TRTTensor:
    """Pool one dim to ``out`` positions with torch's overlapping windows: one slice + reduce each.

    Box windows are products of per-dim windows, and max/mean over a box can be taken one dim at a time.
    """
    pieces = []
    for i, (lo, hi) in enumerate(_adaptive_windows(x.shape[axis], out)):
        piece = _slice_axis(ctx, x, axis, lo, hi - lo, f"{name}_d{axis}_w{i}")
        pieces.append(_reduce(ctx, piece, op, [axis], f"{name}_d{axis}_r{i}"))
    if len(pieces) == 1:
        return pieces[0]
    layer = ctx.net.add_concatenation(pieces)
    layer.axis = axis
    set_layer_name(layer, ctx.unique_name(f"{name}_d{axis}_concat"))
    return layer.get_output(0)


def _adaptive(ctx: ConversionContext, x: TRTTensor, out: list[int], is_max: bool, name: str) -> TRTTensor:
    k = len(out)
    rank = len(x.shape)
    spatial_axes = list(range(rank - k, rank))
    reduce_op = trt.ReduceOperation.MAX if is_max else trt.ReduceOperation.AVG
    if all(o == 1 for o in out):
        return _reduce(ctx, x, reduce_op, spatial_axes, f"{name}_global")
    sizes = [int(d) for d in x.shape[rank - k :]]
    if k >= 2 and all(n % o == 0 for n, o in zip(sizes, out)):
        # Even windows: one pooling layer with kernel = stride = n / out.
        stride = [n // o for n, o in zip(sizes, out)]
        kind = trt.PoolingType.MAX if is_max else trt.PoolingType.AVERAGE
        return _pool(ctx, x, kind, stride, stride, [0] * k, False, name)
    for axis, n, o in zip(spatial_axes, sizes, out):
        if n == o:
            continue
        if n % o == 0:
            # Even windows along this dim: split it into (o, n / o) and reduce the second part.
            x = _reduce(ctx, _split_dim(ctx, x, axis, o, n // o, name), reduce_op, [axis + 1], f"{name}_d{axis}")
            x = _merge_dim(ctx, x, axis, name)
        else:
            x = _adaptive_uneven_dim(ctx, x, axis, o, reduce_op, name)
    return x


def _split_dim(ctx: ConversionContext, x: TRTTensor, axis: int, a: int, b: int, name: str) -> TRTTensor:
    layer = ctx.net.add_shuffle(x)
    # 0 copies the input dim, so dynamic leading dims are fine; later (spatial) dims are static.
    dims = [0] * axis + [a, b] + [int(d) for d in x.shape[axis + 1 :]]
    layer.reshape_dims = tuple(dims)
    set_layer_name(layer, ctx.unique_name(f"{name}_split{axis}"))
    return layer.get_output(0)


def _merge_dim(ctx: ConversionContext, x: TRTTensor, axis: int, name: str) -> TRTTensor:
    # Drops the kept (size-1) reduced dim at axis + 1; later dims shift left, so no 0 placeholders there.
    dims = [0] * (axis + 1) + [int(d) for d in x.shape[axis + 2 :]]
    layer = ctx.net.add_shuffle(x)
    layer.reshape_dims = tuple(dims)
    set_layer_name(layer, ctx.unique_name(f"{name}_merge{axis}"))
    return layer.get_output(0)


@dynamo_tensorrt_converter(
    [
        aten.adaptive_avg_pool1d.default,
        aten.adaptive_avg_pool2d.default,
        aten.adaptive_avg_pool3d.default,
        aten._adaptive_avg_pool2d.default,
        aten._adaptive_avg_pool3d.default,
    ],
    capability_validator=_adaptive_supported,
)
def aten_ops_adaptive_avg_pool(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    return _adaptive(ctx, args[0], [int(o) for o in args[1]], False, name)


@dynamo_tensorrt_converter(
    [aten.adaptive_max_pool2d.default, aten.adaptive_max_pool3d.default],
    capability_validator=_adaptive_supported,
)
def aten_ops_adaptive_max_pool(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    # Only the values; the validator guarantees nobody reads the indices.
    return (_adaptive(ctx, args[0], [int(o) for o in args[1]], True, name), None)
