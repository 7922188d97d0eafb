"""Convolution, Deconvolution and Pooling, with TensorRT's PaddingMode formulas (NvInfer.h, PaddingMode)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._common import Inputs, Tensor, enum_param, layer_error, need, optional, register, require_dtype, widen
from ._dtypes import FLOATING
from ._record import LayerRecord

_PADDING_MODES = ("EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP", "SAME_UPPER", "SAME_LOWER")

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _forward_padding(
    mode: str,
    sizes: Sequence[int],
    window: Sequence[int],
    stride: Sequence[int],
    pre: Sequence[int],
    post: Sequence[int],
) -> tuple[list[int], list[int], list[int]]:
    """(pre, post, extra) padding for a sliding window of effective size ``window``.

    ``extra`` is the part of the post padding that EXPLICIT_ROUND_UP adds beyond the explicit padding so
    that the last, partial window exists; it is kept apart because pooling excludes it from every count.
    SAME_* ignore the explicit padding (the padding mode takes precedence).
    """
    out_pre: list[int] = []
    out_post: list[int] = []
    extra: list[int] = []
    for i, n in enumerate(sizes):
        k, s = window[i], stride[i]
        if mode in ("EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP"):
            b, a = pre[i], post[i]
            m = n + b + a
            e = 0
            if mode == "EXPLICIT_ROUND_UP":
                o = -((k - m) // s) + 1  # ceil((m - k) / s) + 1
                e = max((o - 1) * s + k - m, 0)
        else:
            p = ((n - 1) // s) * s + k - n
            if mode == "SAME_UPPER":
                b = p // 2
                a = p - b
            else:
                a = p // 2
                b = p - a
            e = 0
        out_pre.append(b)
        out_post.append(a)
        extra.append(e)
    return out_pre, out_post, extra


def _pad_arg(pre: Sequence[int], post: Sequence[int]) -> list[int]:
    # F.pad lists (before, after) pairs starting from the LAST dimension.
    pads: list[int] = []
    for b, a in zip(reversed(pre), reversed(post), strict=True):
        pads += [b, a]
    return pads


def _spatial_params(layer: LayerRecord, key: str, k: int, default: int) -> list[int]:
    value = layer.params.get(key)
    if value is None or len(value) == 0:
        return [default] * k
    if len(value) != k:
        raise layer_error(layer, f"{key} {value} does not have {k} entries")
    return [int(v) for v in value]


def _split(layer: LayerRecord, x: Tensor, k: int) -> tuple[list[int], Tensor]:
    """Fold every dimension before (channels, *spatial) into one batch dimension."""
    if x.dim() < k + 1:
        raise layer_error(layer, f"input rank {x.dim()} is too small for a {k}-D window")
    lead = [int(d) for d in x.shape[: x.dim() - k - 1]]
    return lead, x.reshape(-1, *x.shape[x.dim() - k - 1 :])


def _kernel_and_bias(layer: LayerRecord, inputs: Inputs) -> tuple[Tensor, Tensor | None]:
    kernel = optional(inputs, 1)
    if kernel is None:
        kernel = layer.params["kernel"]
    if kernel is None:
        raise layer_error(layer, "no kernel weights and no kernel input")
    bias = optional(inputs, 2)
    if bias is None:
        bias = layer.params["bias"]
    return kernel, bias


def _window_params(
    layer: LayerRecord, kernels: dict[int, Any], kind: str
) -> tuple[list[int], int, Any, list[int], list[int], int, int]:
    """Parameters (de)convolution layers share: kernel size, rank, padding mode, stride, dilation, groups, K."""
    p = layer.params
    ks = [int(v) for v in p["kernel_size"]]
    k = len(ks)
    if k not in kernels:
        raise layer_error(layer, f"{k}-D {kind}")
    mode = enum_param(layer, "padding_mode", "PaddingMode", _PADDING_MODES)
    stride = _spatial_params(layer, "stride", k, 1)
    dilation = _spatial_params(layer, "dilation", k, 1)
    return ks, k, mode, stride, dilation, int(p["num_groups"]), int(p["num_output_maps"])


@register("CONVOLUTION")
def _convolution(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    require_dtype(layer, x, FLOATING, "Convolution")
    ks, k, mode, stride, dilation, groups, kout = _window_params(layer, _CONV, "convolution")
    lead, xb = _split(layer, x, k)
    kernel, bias = _kernel_and_bias(layer, inputs)
    # Kernel layout is GKCRS, i.e. [K, C/G, *kernel] like torch's conv weight.
    weight = kernel.to(torch.float32).reshape(kout, -1, *ks)
    eff = [d * (s - 1) + 1 for d, s in zip(dilation, ks, strict=True)]
    pre, post, extra = _forward_padding(
        mode,
        [int(d) for d in xb.shape[2:]],
        eff,
        stride,
        _spatial_params(layer, "pre_padding", k, 0),
        _spatial_params(layer, "post_padding", k, 0),
    )
    full_post = [a + e for a, e in zip(post, extra, strict=True)]
    xf = widen(xb)
    if pre == full_post and min(pre) >= 0:
        # Symmetric zero padding: let the convolution pad, saving a copy of the input.
        padding = pre
    else:
        xf, padding = F.pad(xf, _pad_arg(pre, full_post)), [0] * k
    b = None if bias is None else bias.reshape(-1).to(torch.float32)
    y = _CONV[k](xf, weight, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return [y.reshape(*lead, *y.shape[1:]).to(x.dtype)]


@register("DECONVOLUTION")
def _deconvolution(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    require_dtype(layer, x, FLOATING, "Deconvolution")
    ks, k, mode, stride, dilation, groups, kout = _window_params(layer, _CONV_T, "deconvolution")
    if kout % groups:
        raise layer_error(layer, f"{kout} output maps are not divisible into {groups} groups")
    lead, xb = _split(layer, x, k)
    kernel, bias = _kernel_and_bias(layer, inputs)
    # Kernel layout is CKRS, i.e. [C, K/G, *kernel] like torch's conv_transpose weight.
    weight = kernel.to(torch.float32).reshape(-1, kout // groups, *ks)
    xf = widen(xb)
    y = _CONV_T[k](xf, weight, None, stride=stride, groups=groups, dilation=dilation)
    # The full transposed convolution is (I - 1) * S + DK long; padding trims it.
    eff = [d * (s - 1) + 1 for d, s in zip(dilation, ks, strict=True)]
    pre = _spatial_params(layer, "pre_padding", k, 0)
    post = _spatial_params(layer, "post_padding", k, 0)
    if mode.startswith("SAME"):
        pre, post = [], []
        for e, s in zip(eff, stride, strict=True):
            total = max(e - s, 0)
            half = total // 2
            pre.append(half if mode == "SAME_UPPER" else total - half)
            post.append(total - half if mode == "SAME_UPPER" else half)
    if any(v < 0 for v in pre + post):
        raise layer_error(layer, "negative deconvolution padding")
    for i in range(k):
        n = int(y.shape[2 + i])
        y = y.narrow(2 + i, pre[i], n - pre[i] - post[i])
    if bias is not None:
        y = y + widen(bias).reshape(1, -1, *([1] * k)).to(y.dtype)
    return [y.reshape(*lead, *y.shape[1:]).to(x.dtype)]


@register("POOLING")
def _pooling(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    require_dtype(layer, x, FLOATING, "Pooling")
    p = layer.params
    kind = enum_param(layer, "pooling_type", "PoolingType", ["MAX", "AVERAGE", "MAX_AVERAGE_BLEND"])
    window = [int(v) for v in p["window_size"]]
    k = len(window)
    if k not in _MAX_POOL:
        raise layer_error(layer, f"{k}-D pooling")
    mode = enum_param(layer, "padding_mode", "PaddingMode", _PADDING_MODES)
    stride = _spatial_params(layer, "stride", k, 1)
    spatial = [int(d) for d in x.shape[x.dim() - k :]]
    if x.dim() < k + 1:
        raise layer_error(layer, f"input rank {x.dim()} is too small for a {k}-D window")
    lead = [int(d) for d in x.shape[: x.dim() - k]]
    # Pooling is per channel, so every leading dimension folds into the channel dimension.
    xf = widen(x).reshape(1, -1, *spatial)
    pre, post, extra = _forward_padding(
        mode,
        spatial,
        window,
        stride,
        _spatial_params(layer, "pre_padding", k, 0),
        _spatial_params(layer, "post_padding", k, 0),
    )
    full_post = [a + e for a, e in zip(post, extra, strict=True)]
    results: dict[str, Tensor] = {}
    if kind in ("MAX", "MAX_AVERAGE_BLEND"):
        # Max pooling pads with -inf, so padding never wins.
        padded = F.pad(xf, _pad_arg(pre, full_post), value=-math.inf)
        results["MAX"] = _MAX_POOL[k](padded, window, stride)
    if kind in ("AVERAGE", "MAX_AVERAGE_BLEND"):
        volume = math.prod(window)
        sums = _AVG_POOL[k](F.pad(xf, _pad_arg(pre, full_post)), window, stride) * volume
        # Denominator: overlap of the window with the unpadded input, or with the padded input; the
        # region EXPLICIT_ROUND_UP adds past the padded input never counts.
        ones = torch.ones([1, 1, *spatial], dtype=xf.dtype)
        if p["average_count_excludes_padding"]:
            mask = F.pad(ones, _pad_arg(pre, full_post))
        else:
            mask = F.pad(F.pad(ones, _pad_arg(pre, post), value=1.0), _pad_arg([0] * k, extra))
        counts = _AVG_POOL[k](mask, window, stride) * volume
        results["AVERAGE"] = sums / counts
    if kind == "MAX_AVERAGE_BLEND":
        blend = float(p["blend_factor"])
        y = (1 - blend) * results["MAX"] + blend * results["AVERAGE"]
    else:
        y = results[kind]
    return [y.reshape(*lead, *y.shape[2:]).to(x.dtype)]
