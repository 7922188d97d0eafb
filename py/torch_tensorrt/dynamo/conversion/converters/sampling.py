"""Converters: resampling — upsample_* (F.interpolate) as a Resize layer, grid_sampler_2d as GridSample.

PyTorch maps output position ``o`` to input coordinate ``o * r`` (nearest), ``(o + 0.5) * r - 0.5``
(nearest-exact, linear and cubic without align_corners) or ``o * (in - 1) / (out - 1)`` (align_corners),
where ``r`` is ``1 / scale`` when the caller gave a scale and ``in / out`` otherwise. TensorRT's Resize
always uses ``in / out``. Where the two ratios differ (scale 1.5 on a length 5), static lengths are
resampled one axis at a time with torch's own weights, taken by running the op on a basis at build
time: a gather for nearest modes, a matrix product for linear and cubic ones. Run-time lengths need
a whole scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
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
    reshape,
    set_layer_name,
    shape_tensor_from_dims,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import dims_of, int_tensor, is_static_int, permute
from torch_tensorrt.dynamo.conversion.converters.linear import matmul

aten = torch.ops.aten
FLOATS = (torch.float32, torch.float16, torch.bfloat16)
EW = trt.ElementWiseOperation
# torch's bicubic kernel (Keys' cubic convolution with a = -0.75).
TORCH_CUBIC_COEFF = -0.75
# The per-axis path holds an (input length x output length) weight matrix per axis.
MAX_BASIS_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class _Kind:
    """One upsample overload: TensorRT mode, spatial rank, and where its arguments are."""

    mode: str  # nearest | nearest_exact | linear | cubic
    spatial: int
    vec: bool  # .vec: (input, output_size, [align_corners,] scale_factors); else per-dim scales


def _kinds() -> dict[Any, _Kind]:
    table: dict[Any, _Kind] = {}
    for mode, packets in (
        ("nearest", ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d")),
        ("nearest_exact", ("_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d")),
        ("linear", ("upsample_linear1d", "upsample_bilinear2d", "upsample_trilinear3d")),
        ("cubic", (None, "upsample_bicubic2d", None)),
    ):
        for spatial, packet_name in enumerate(packets, start=1):
            if packet_name is None:
                continue
            packet = getattr(aten, packet_name)
            table[packet.vec] = _Kind(mode, spatial, True)
            table[packet.default] = _Kind(mode, spatial, False)
    return table


UPSAMPLE_KINDS = _kinds()


@dataclass
class _Upsample:
    x: Any
    out_size: list[Any]  # per spatial dim: int, a size computed in the graph, or None (scaled)
    scales: list[float] | None  # the caller's scales, which torch uses for the coordinate mapping
    align_corners: bool


def _upsample_args(target: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> _Upsample:
    kind = UPSAMPLE_KINDS[target]
    has_align = kind.mode in ("linear", "cubic")
    align = bool(arg(args, kwargs, 2, "align_corners", False)) if has_align else False
    first_scale = 3 if has_align else 2
    x = args[0]
    if kind.vec:
        size = arg(args, kwargs, 1, "output_size")
        factors = arg(args, kwargs, first_scale, "scale_factors")
        scales = [float(s) for s in factors] if factors is not None else None
        return _Upsample(x, list(size) if size is not None else [None] * kind.spatial, scales, align)
    names = {1: ["scales"], 2: ["scales_h", "scales_w"], 3: ["scales_d", "scales_h", "scales_w"]}[kind.spatial]
    given = [arg(args, kwargs, first_scale + i, n) for i, n in enumerate(names)]
    scales = [float(s) for s in given] if all(s is not None for s in given) else None
    if any(s is not None for s in given) and scales is None:
        scales = [float("nan")]  # some dims scaled by factor, others by size: refused below
    return _Upsample(x, list(arg(args, kwargs, 1, "output_size")), scales, align)


def _ratio_matches(n_in: int, n_out: int, scale: float) -> bool:
    """Does torch's 1 / scale equal TensorRT's in / out as the float32 the kernels use?"""
    if not n_in or not n_out or not scale > 0:
        return False
    return np.float32(1.0 / scale) == np.float32(n_in / n_out)


def _resize_exact(up: _Upsample, in_sizes: Sequence[Any]) -> bool:
    """Does one Resize layer compute what torch computes for these arguments?"""
    if up.scales is None or up.align_corners:
        return True  # the ratio is in / out (or ignores scales) on both sides
    if len(up.scales) != len(in_sizes):
        return False
    if all(is_static_int(n) for n in in_sizes):
        outs = [o if is_static_int(o) else math.floor(n * s) for n, o, s in zip(in_sizes, up.out_size, up.scales)]
        return all(_ratio_matches(n, o, s) for n, o, s in zip(in_sizes, outs, up.scales))
    # Run-time lengths: only whole scales keep in / out == 1 / scale, and TensorRT then sizes the
    # output as floor(in * scale) itself, exactly as torch does.
    return all(float(s).is_integer() and s >= 1 for s in up.scales)


def _upsample_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    kind = UPSAMPLE_KINDS[node.target]
    val = node.args[0].meta.get("val")
    if not isinstance(val, torch.Tensor) or val.dtype not in FLOATS or val.dim() != kind.spatial + 2:
        return False
    up = _upsample_args(node.target, node.args, dict(node.kwargs))
    if up.scales is not None and any(math.isnan(s) for s in up.scales):
        return False
    spatial = list(val.shape[2:])
    if _resize_exact(up, spatial):
        return True
    if not all(is_static_int(n) for n in spatial):
        # Run-time lengths with the caller's scales: torch's coordinates by gathers (_resample_by_taps).
        return up.scales is not None and len(up.scales) == kind.spatial and all(sc > 0 for sc in up.scales)
    outs = [o if is_static_int(o) else math.floor(n * sc) for n, o, sc in zip(spatial, up.out_size, up.scales or [])]
    return all(n * o <= MAX_BASIS_ELEMENTS for n, o in zip(spatial, outs))


_COORDINATES = {
    "nearest": trt.ResizeCoordinateTransformation.ASYMMETRIC,
    "nearest_exact": trt.ResizeCoordinateTransformation.HALF_PIXEL,
    "linear": trt.ResizeCoordinateTransformation.HALF_PIXEL,
    "cubic": trt.ResizeCoordinateTransformation.HALF_PIXEL,
}


def _configure(layer: Any, mode: str, align_corners: bool) -> None:
    layer.resize_mode = {
        "nearest": trt.InterpolationMode.NEAREST,
        "nearest_exact": trt.InterpolationMode.NEAREST,
        "linear": trt.InterpolationMode.LINEAR,
        "cubic": trt.InterpolationMode.CUBIC,
    }[mode]
    layer.coordinate_transformation = (
        trt.ResizeCoordinateTransformation.ALIGN_CORNERS if align_corners else _COORDINATES[mode]
    )
    # torch applies its formula to one-pixel outputs too.
    layer.selector_for_single_pixel = trt.ResizeSelector.FORMULA
    # nearest: floor(o * r); nearest-exact: floor((o + 0.5) * r), i.e. the half-pixel coordinate rounded half up.
    layer.nearest_rounding = trt.ResizeRoundMode.FLOOR if mode == "nearest" else trt.ResizeRoundMode.HALF_UP
    if mode == "cubic":
        layer.cubic_coeff = TORCH_CUBIC_COEFF
        layer.exclude_outside = False  # taps past the edge repeat the edge pixel, as in torch


def _axis_weights(target: Any, up: _Upsample, spatial: Sequence[int], axis: int) -> torch.Tensor:
    """torch's (in, out) interpolation weights along spatial ``axis``: the op applied to a basis.

    The weights along one axis depend only on its lengths, scale and the mode, so the op runs on
    one-hot rows of that axis with every other axis of length 1 (and scale 1).
    """
    kind = UPSAMPLE_KINDS[target]
    n = spatial[axis]
    view = [1] * kind.spatial
    view[axis] = n
    basis = torch.eye(n).reshape(n, 1, *view)
    scales = [1.0] * kind.spatial
    scales[axis] = up.scales[axis]
    align = (up.align_corners,) if kind.mode in ("linear", "cubic") else ()
    if kind.vec:
        out = target(basis, None, *align, scales)
    else:
        sizes = [1] * kind.spatial
        sizes[axis] = up.out_size[axis]
        out = target(basis, sizes, *align, *scales)
    return out.reshape(n, -1)


def _resample_per_axis(ctx: ConversionContext, target: Any, up: _Upsample, x: Any, name: str) -> Any:
    spatial = [int(d) for d in x.shape[2:]]
    nearest = UPSAMPLE_KINDS[target].mode.startswith("nearest")
    rank = len(x.shape)
    for axis in range(len(spatial)):
        weights = _axis_weights(target, up, spatial, axis)
        if tuple(weights.shape) == (spatial[axis], spatial[axis]) and torch.equal(weights, torch.eye(spatial[axis])):
            continue
        dim = 2 + axis
        if nearest:
            # One-hot columns: output position o reads input position argmax(column o).
            index = create_constant(ctx, weights.argmax(0).to(torch.int64), f"{name}_axis{axis}_index")
            layer = ctx.net.add_gather(x, index, dim)
            set_layer_name(layer, ctx.unique_name(f"{name}_axis{axis}_gather"))
            x = layer.get_output(0)
            continue
        order = [d for d in range(rank) if d != dim] + [dim]
        moved = permute(ctx, x, order, f"{name}_axis{axis}")
        product = matmul(ctx, moved, weights.to(dtype_of(x)), f"{name}_axis{axis}_weights", dtype=dtype_of(x))
        x = permute(ctx, product, [order.index(d) for d in range(rank)], f"{name}_axis{axis}_back")
    return x


def _vector(ctx: ConversionContext, value: float, name: str) -> Any:
    return create_constant(ctx, torch.tensor([value], dtype=torch.float32), name)


def _horner(ctx: ConversionContext, t: Any, coeffs: Sequence[float], name: str) -> Any:
    """The polynomial with ``coeffs`` (highest power first) at ``t``."""
    acc = _vector(ctx, coeffs[0], f"{name}_c0")
    for i, c in enumerate(coeffs[1:], start=1):
        acc = add_binary(ctx, EW.PROD, acc, t, f"{name}_mul{i}")
        acc = add_binary(ctx, EW.SUM, acc, _vector(ctx, c, f"{name}_c{i}"), f"{name}_add{i}")
    return acc


def _axis_taps(ctx: ConversionContext, mode: str, src: Any, name: str) -> list[tuple[Any, Any]]:
    """(input position, weight or None) pairs per output position, torch's formulas for ``mode``
    given its source coordinate ``src`` (float32, one per output position)."""
    first = add_unary(ctx, trt.UnaryOperation.FLOOR, src, f"{name}_floor")
    if mode.startswith("nearest"):
        return [(first, None)]
    t = add_binary(ctx, EW.SUB, src, first, f"{name}_frac")
    one = _vector(ctx, 1.0, f"{name}_one")
    if mode == "linear":
        step = add_binary(ctx, EW.SUM, first, one, f"{name}_next")
        return [(first, add_binary(ctx, EW.SUB, one, t, f"{name}_w0")), (step, t)]
    a = TORCH_CUBIC_COEFF
    near, far = [a + 2, -(a + 3), 0.0, 1.0], [a, -5 * a, 8 * a, -4 * a]  # Keys' kernel on |d| <= 1, 1 < |d| < 2
    taps = []
    for offset, coeffs, distance in (
        (-1, far, (1.0, 1.0)),
        (0, near, (1.0, 0.0)),
        (1, near, (-1.0, 1.0)),
        (2, far, (-1.0, 2.0)),
    ):
        d = add_binary(ctx, EW.PROD, t, _vector(ctx, distance[0], f"{name}_s{offset}"), f"{name}_sd{offset}")
        d = add_binary(ctx, EW.SUM, d, _vector(ctx, distance[1], f"{name}_o{offset}"), f"{name}_d{offset}")
        position = add_binary(
            ctx, EW.SUM, first, _vector(ctx, float(offset), f"{name}_at{offset}"), f"{name}_p{offset}"
        )
        taps.append((position, _horner(ctx, d, coeffs, f"{name}_w{offset}")))
    return taps


def _source_coordinate(ctx: ConversionContext, mode: str, out_len: Any, scale: float, name: str) -> Any:
    """torch's input coordinate of output positions 0 .. out_len - 1 for a caller's scale."""
    fill = ctx.net.add_fill((1,), trt.FillOperation.LINSPACE, trt.float32)
    fill.set_input(0, shape_tensor_from_dims(ctx, [out_len], f"{name}_len"))
    fill.set_input(1, create_constant(ctx, torch.tensor(0.0), f"{name}_start"))
    fill.set_input(2, _vector(ctx, 1.0, f"{name}_delta"))
    set_layer_name(fill, ctx.unique_name(f"{name}_positions"))
    o = fill.get_output(0)
    ratio = _vector(ctx, float(np.float32(1.0 / scale)), f"{name}_ratio")
    if mode == "nearest":
        return add_binary(ctx, EW.PROD, o, ratio, f"{name}_src")
    centre = add_binary(
        ctx, EW.PROD, add_binary(ctx, EW.SUM, o, _vector(ctx, 0.5, f"{name}_h"), f"{name}_c"), ratio, f"{name}_cr"
    )
    if mode == "nearest_exact":
        return centre
    src = add_binary(ctx, EW.SUB, centre, _vector(ctx, 0.5, f"{name}_h2"), f"{name}_src")
    # Linear clamps negative coordinates to 0; cubic keeps them (its taps are clamped instead).
    return add_binary(ctx, EW.MAX, src, _vector(ctx, 0.0, f"{name}_zero"), f"{name}_pos") if mode == "linear" else src


def _resample_by_taps(ctx: ConversionContext, mode: str, up: _Upsample, x: Any, name: str) -> Any:
    """Run-time lengths with scales TensorRT's Resize would map differently (in / out): per axis,
    gathers of torch's tap positions (clamped into the axis) weighted by torch's weights, in float32."""
    dtype = dtype_of(x)
    y = cast_trt_tensor(ctx, x, torch.float32, f"{name}_f32")
    rank = len(x.shape)
    for axis, scale in enumerate(up.scales or []):
        dim, label = 2 + axis, f"{name}_axis{axis}"
        n = dims_of(ctx, y, label)[dim]
        out_len = up.out_size[axis]
        if out_len is None:
            if scale == 1.0:
                continue  # floor(o * 1) = o: every mode maps the axis onto itself
            n_f = cast_trt_tensor(ctx, int_tensor(ctx, n, f"{label}_n"), torch.float32, f"{label}_nf")
            scaled = add_binary(ctx, EW.PROD, n_f, _vector(ctx, float(scale), f"{label}_scale"), f"{label}_scaled")
            floor = add_unary(ctx, trt.UnaryOperation.FLOOR, scaled, f"{label}_outf")
            out_len = cast_trt_tensor(ctx, floor, torch.int64, f"{label}_out")
        last = add_binary(
            ctx,
            EW.SUB,
            cast_trt_tensor(ctx, int_tensor(ctx, n, f"{label}_n2"), torch.float32, f"{label}_nf2"),
            _vector(ctx, 1.0, f"{label}_1"),
            f"{label}_last",
        )
        src = _source_coordinate(ctx, mode, out_len, float(scale), label)
        total = None
        for k, (position, weight) in enumerate(_axis_taps(ctx, mode, src, label)):
            position = add_binary(
                ctx,
                EW.MIN,
                add_binary(ctx, EW.MAX, position, _vector(ctx, 0.0, f"{label}_lo{k}"), f"{label}_ge{k}"),
                last,
                f"{label}_le{k}",
            )
            gather = ctx.net.add_gather(y, cast_trt_tensor(ctx, position, torch.int32, f"{label}_i{k}"), dim)
            set_layer_name(gather, ctx.unique_name(f"{label}_gather{k}"))
            taken = gather.get_output(0)
            if weight is not None:
                view = [1] * dim + [-1] + [1] * (rank - dim - 1)
                taken = add_binary(ctx, EW.PROD, taken, reshape(ctx, weight, view, f"{label}_wv{k}"), f"{label}_t{k}")
            total = taken if total is None else add_binary(ctx, EW.SUM, total, taken, f"{label}_sum{k}")
        y = total
    return cast_trt_tensor(ctx, y, dtype, f"{name}_out")


@dynamo_tensorrt_converter(list(UPSAMPLE_KINDS), capability_validator=_upsample_ok)
def aten_ops_upsample(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    up = _upsample_args(target, args, kwargs)
    x = get_trt_tensor(ctx, up.x, name)
    if not _resize_exact(up, list(x.shape[2:])):
        if any(n < 0 for n in x.shape[2:]):  # run-time lengths (TensorRT marks them -1)
            return _resample_by_taps(ctx, UPSAMPLE_KINDS[target].mode, up, x, name)
        return _resample_per_axis(ctx, target, up, x, name)
    dims = dims_of(ctx, x, name)
    lead, spatial = dims[:2], dims[2:]
    layer = ctx.net.add_resize(x)
    if up.scales is not None and not all(is_static_int(n) for n in spatial):
        # Whole scales on run-time lengths (the validator's rule): TensorRT sizes them as torch does.
        layer.scales = [1.0, 1.0] + [float(s) for s in up.scales]
    else:
        out = up.out_size if up.scales is None else [math.floor(n * s) for n, s in zip(spatial, up.scales)]
        if all(is_static_int(d) for d in lead + out):
            layer.shape = tuple(int(d) for d in lead + out)
        else:
            # A run-time batch or channel count, or sizes computed in the graph (size=y.shape[2:]).
            layer.set_input(1, shape_tensor_from_dims(ctx, lead + out, f"{name}_shape"))
    _configure(layer, UPSAMPLE_KINDS[target].mode, up.align_corners)
    set_layer_name(layer, ctx.unique_name(f"{name}_resize"))
    return layer.get_output(0)


# ---------------------------------------------------------------------------------------------
# grid_sampler_2d (F.grid_sample; aten.grid_sampler lowers to it)
# ---------------------------------------------------------------------------------------------

# torch's integer codes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection.
_GRID_INTERPOLATION = {
    0: trt.InterpolationMode.LINEAR,
    1: trt.InterpolationMode.NEAREST,
    2: trt.InterpolationMode.CUBIC,
}
_GRID_PADDING = {0: trt.SampleMode.FILL, 1: trt.SampleMode.CLAMP, 2: trt.SampleMode.REFLECT}


def _grid_args(args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[int, int, bool]:
    return (
        int(arg(args, kwargs, 2, "interpolation_mode")),
        int(arg(args, kwargs, 3, "padding_mode")),
        bool(arg(args, kwargs, 4, "align_corners")),
    )


def _grid_sample_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    vals = [a.meta.get("val") if isinstance(a, torch.fx.Node) else a for a in node.args[:2]]
    if not all(isinstance(v, torch.Tensor) and v.dtype in FLOATS for v in vals):
        return False
    interpolation, padding, _ = _grid_args(node.args, dict(node.kwargs))
    if interpolation not in _GRID_INTERPOLATION or padding not in _GRID_PADDING:
        return False
    # Bicubic with border / reflection padding moves each of the 16 taps into the image (torch);
    # TensorRT does not document that, so the image is extended by those moves at build time,
    # which needs its height and width.
    return interpolation != 2 or padding == 0 or all(is_static_int(n) for n in vals[0].shape[2:])


def _cubic_tap_sources(n: int, padding: int, align_corners: bool) -> tuple[list[int], int, float]:
    """Along one axis of length ``n``: the image index each extended position reads (torch's
    tap move: clip for border, reflect then clip for reflection), the first extended position, and
    the period a location may be shifted by without changing its taps (0: none, clamp instead)."""
    if padding == 2 and (n > 1 or not align_corners):
        period = 2 * (n - 1) if align_corners else 2 * n
        low, high = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
        first = -2  # locations are shifted into [0, period): taps from -1 to period + 1
        sources = []
        for e in range(first, period + 3):
            folded = math.fmod(abs(e - low), 2 * (high - low))
            reflected = low + (2 * (high - low) - folded if folded > high - low else folded)
            sources.append(min(max(round(reflected), 0), n - 1))
        return sources, first, float(period)
    # Border (or reflection of a single pixel, which torch reads at 0): locations are clamped to
    # [-2, n + 1], beyond which every tap is the edge pixel; taps then span [-3, n + 3].
    first = -4
    return [min(max(e, 0), n - 1) for e in range(first, n + 5)], first, 0.0


def _extend_axis(ctx: ConversionContext, x: Any, axis: int, sources: list[int], name: str) -> Any:
    index = create_constant(ctx, torch.tensor(sources, dtype=torch.int64), f"{name}_sources")
    layer = ctx.net.add_gather(x, index, axis)
    set_layer_name(layer, ctx.unique_name(f"{name}_extend"))
    return layer.get_output(0)


def _axis_constant(ctx: ConversionContext, values: Sequence[float], name: str) -> Any:
    """A (1, 1, 1, 2) float32 constant: one value for the grid's x (width) and y (height) entries."""
    return create_constant(ctx, torch.tensor(values, dtype=torch.float32).reshape(1, 1, 1, 2), name)


def _bounded_cubic_sample(
    ctx: ConversionContext, x: Any, grid: Any, padding: int, align_corners: bool, name: str
) -> Any:
    """torch's bicubic grid_sample with border / reflection padding: CUBIC + FILL on the image
    extended by the tap moves, sampled at the location moved into the extension."""
    height, width = int(x.shape[2]), int(x.shape[3])
    tables = [_cubic_tap_sources(n, padding, align_corners) for n in (width, height)]  # grid order: x, y
    # Sampled in float32: the extended image is wider than the input, so a half-precision location
    # in it would be off by more than a half-precision result can hide; rounded once at the end.
    image = _extend_axis(ctx, cast_trt_tensor(ctx, x, torch.float32, name), 3, tables[0][0], f"{name}_w")
    image = _extend_axis(ctx, image, 2, tables[1][0], f"{name}_h")
    EW = trt.ElementWiseOperation
    sizes = [width, height]
    # Pixel coordinates as torch unnormalizes them (no padding applied to the location for bicubic).
    scale = [(n - 1) / 2 if align_corners else n / 2 for n in sizes]
    loc = add_binary(
        ctx,
        EW.PROD,
        cast_trt_tensor(ctx, grid, torch.float32, name),
        _axis_constant(ctx, scale, f"{name}_a"),
        f"{name}_scaled",
    )
    loc = add_binary(ctx, EW.SUM, loc, _axis_constant(ctx, [(n - 1) / 2 for n in sizes], f"{name}_b"), f"{name}_pixels")
    periods = [t[2] for t in tables]
    if all(p > 0 for p in periods):
        period = _axis_constant(ctx, periods, f"{name}_period")
        turns = add_unary(
            ctx, trt.UnaryOperation.FLOOR, add_binary(ctx, EW.DIV, loc, period, f"{name}_div"), f"{name}_turns"
        )
        loc = add_binary(ctx, EW.SUB, loc, add_binary(ctx, EW.PROD, turns, period, f"{name}_shift"), f"{name}_folded")
    else:
        loc = add_binary(ctx, EW.MAX, loc, _axis_constant(ctx, [-2.0, -2.0], f"{name}_lo"), f"{name}_above")
        loc = add_binary(ctx, EW.MIN, loc, _axis_constant(ctx, [n + 1.0 for n in sizes], f"{name}_hi"), f"{name}_below")
    # Normalized for the extended image with align_corners (its first position at -1, last at 1).
    ext = [len(t[0]) for t in tables]
    loc = add_binary(ctx, EW.SUM, loc, _axis_constant(ctx, [-t[1] for t in tables], f"{name}_origin"), f"{name}_ext")
    loc = add_binary(ctx, EW.PROD, loc, _axis_constant(ctx, [2 / (e - 1) for e in ext], f"{name}_norm"), f"{name}_n")
    loc = add_binary(ctx, EW.SUB, loc, _axis_constant(ctx, [1.0, 1.0], f"{name}_one"), f"{name}_grid")
    layer = ctx.net.add_grid_sample(image, loc)
    layer.interpolation_mode = trt.InterpolationMode.CUBIC
    layer.sample_mode = trt.SampleMode.FILL
    layer.align_corners = True
    set_layer_name(layer, ctx.unique_name(f"{name}_grid_sample"))
    return cast_trt_tensor(ctx, layer.get_output(0), dtype_of(x), f"{name}_out")


@dynamo_tensorrt_converter(aten.grid_sampler_2d.default, capability_validator=_grid_sample_ok)
def aten_ops_grid_sampler_2d(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = get_trt_tensor(ctx, args[0], name)
    # TensorRT samples with a grid of the input's dtype.
    grid = get_trt_tensor(ctx, args[1], f"{name}_grid", dtype_of(x))
    interpolation, padding, align_corners = _grid_args(args, kwargs)
    if interpolation == 2 and padding != 0:
        return _bounded_cubic_sample(ctx, x, grid, padding, align_corners, name)
    layer = ctx.net.add_grid_sample(x, grid)
    layer.interpolation_mode = _GRID_INTERPOLATION[interpolation]
    layer.sample_mode = _GRID_PADDING[padding]
    layer.align_corners = align_corners
    set_layer_name(layer, ctx.unique_name(f"{name}_grid_sample"))
    return layer.get_output(0)
