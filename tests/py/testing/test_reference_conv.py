"""Reference executor: Convolution, Deconvolution, Pooling (2d/3d, every PaddingMode).

TensorRT-RTX rejects 1-D windows (add_convolution_nd / add_deconvolution_nd / add_pooling_nd need a 2- or
3-entry window, and the input needs at least 4 dimensions), so 1-D cases are expressed as 2-D ones here.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _reference_net import Net, close, rand

from torch_tensorrt._trt import trt

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _pad(pre: list[int], post: list[int]) -> list[int]:
    out: list[int] = []
    for b, a in zip(reversed(pre), reversed(post), strict=True):
        out += [b, a]
    return out


def _same_padding(sizes: list[int], window: list[int], stride: list[int], upper: bool) -> tuple[list[int], list[int]]:
    # TensorRT PaddingMode docs: P = floor((I - 1) / S) * S + F - I; SAME_UPPER puts the odd unit last.
    pre, post = [], []
    for i, f, s in zip(sizes, window, stride, strict=True):
        total = ((i - 1) // s) * s + f - i
        small, large = total // 2, total - total // 2
        pre.append(small if upper else large)
        post.append(large if upper else small)
    return pre, post


CONV_CASES = [
    # (k, spatial, kernel, stride, dilation, groups, pre, post, mode)
    (2, (7, 6), (3, 3), (1, 1), (1, 1), 1, (1, 1), (1, 1), "EXPLICIT_ROUND_DOWN"),
    (2, (7, 6), (3, 2), (2, 2), (1, 1), 1, (0, 1), (2, 0), "EXPLICIT_ROUND_DOWN"),
    (2, (9, 8), (3, 3), (2, 1), (2, 1), 2, (1, 0), (1, 2), "EXPLICIT_ROUND_DOWN"),
    (2, (8, 7), (3, 3), (2, 2), (1, 1), 1, (0, 0), (0, 0), "EXPLICIT_ROUND_UP"),
    (2, (8, 7), (3, 2), (2, 3), (1, 1), 2, (0, 0), (0, 0), "SAME_UPPER"),
    (2, (8, 7), (4, 3), (3, 2), (1, 2), 1, (0, 0), (0, 0), "SAME_LOWER"),
    (3, (5, 6, 4), (3, 2, 3), (1, 2, 1), (1, 1, 1), 1, (1, 0, 1), (0, 1, 1), "EXPLICIT_ROUND_DOWN"),
    (3, (5, 6, 4), (2, 3, 3), (2, 1, 2), (1, 1, 1), 2, (0, 0, 0), (0, 0, 0), "SAME_LOWER"),
]


def _conv_expected(x, w, b, k, spatial, kernel, stride, dilation, groups, pre, post, mode):  # type: ignore[no-untyped-def]
    eff = [d * (f - 1) + 1 for d, f in zip(dilation, kernel, strict=True)]
    pre, post = list(pre), list(post)
    if mode.startswith("SAME"):
        pre, post = _same_padding(list(spatial), eff, list(stride), mode == "SAME_UPPER")
    elif mode == "EXPLICIT_ROUND_UP":
        for i, n in enumerate(spatial):
            m = n + pre[i] + post[i]
            o = math.ceil((m - eff[i]) / stride[i]) + 1
            post[i] += (o - 1) * stride[i] + eff[i] - m
    return CONV[k](F.pad(x, _pad(pre, post)), w, b, stride=stride, dilation=dilation, groups=groups)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV_CASES, ids=[f"{c[0]}d-{c[8]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_convolution(case: tuple, bias: bool) -> None:  # type: ignore[type-arg]
    k, spatial, kernel, stride, dilation, groups, pre, post, mode = case
    cin, cout = 4, 6
    n = Net()
    x = n.input("x", torch.float32, (2, cin, *spatial))
    w = rand(cout, cin // groups, *kernel)
    b = rand(cout) if bias else None
    layer = n.network.add_convolution_nd(x, cout, kernel, n.weights(w), None if b is None else n.weights(b))
    layer.stride_nd, layer.dilation_nd, layer.num_groups = stride, dilation, groups
    layer.pre_padding, layer.post_padding = pre, post
    layer.padding_mode = getattr(trt.PaddingMode, mode)
    n.mark(layer.get_output(0))
    xv = rand(2, cin, *spatial)
    expected = _conv_expected(xv, w, b, k, spatial, kernel, stride, dilation, groups, pre, post, mode)
    close(n.run({"x": xv})[0], expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_convolution_half(dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (1, 3, 8, 8))
    w, b = rand(5, 3, 3, 3, dtype=dtype), rand(5, dtype=dtype)
    layer = n.network.add_convolution_nd(x, 5, (3, 3), n.weights(w), n.weights(b))
    layer.padding_nd = (1, 1)
    n.mark(layer.get_output(0))
    xv = rand(1, 3, 8, 8, dtype=dtype)
    close(n.run({"x": xv})[0], F.conv2d(xv.float(), w.float(), b.float(), padding=1).to(dtype))


def test_convolution_kernel_and_bias_from_tensors() -> None:
    n = Net()
    x = n.input("x", torch.float32, (1, 2, 6, 6))
    w, b = rand(3, 2, 3, 3), rand(3)
    layer = n.network.add_convolution_nd(x, 3, (3, 3), trt.Weights(), trt.Weights())
    layer.set_input(1, n.const(w))
    layer.set_input(2, n.const(b))
    n.mark(layer.get_output(0))
    xv = rand(1, 2, 6, 6)
    close(n.run({"x": xv})[0], F.conv2d(xv, w, b))


def test_convolution_1d_as_2d() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 1, 11))
    w = rand(4, 3, 1, 3)
    layer = n.network.add_convolution_nd(x, 4, (1, 3), n.weights(w), None)
    layer.stride_nd, layer.pre_padding, layer.post_padding = (1, 2), (0, 1), (0, 2)
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 1, 11)
    expected = F.conv1d(F.pad(xv.squeeze(2), [1, 2]), w.squeeze(2), stride=2).unsqueeze(2)
    close(n.run({"x": xv})[0], expected)


def test_convolution_5d_input_with_2d_kernel_folds_leading_dims() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 2, 5, 5))
    w = rand(4, 2, 3, 3)
    layer = n.network.add_convolution_nd(x, 4, (3, 3), n.weights(w), None)
    n.mark(layer.get_output(0))
    xv = rand(2, 3, 2, 5, 5)
    expected = F.conv2d(xv.reshape(6, 2, 5, 5), w).reshape(2, 3, 4, 3, 3)
    close(n.run({"x": xv})[0], expected)


def test_convolution_dynamic_batch() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1, 2, 5, 5))
    w = rand(3, 2, 3, 3)
    layer = n.network.add_convolution_nd(x, 3, (3, 3), n.weights(w), None)
    n.mark(layer.get_output(0))
    profiles = [{"x": ((1, 2, 5, 5), (2, 2, 5, 5), (4, 2, 5, 5))}]
    xv = rand(3, 2, 5, 5)
    close(n.run({"x": xv}, profiles)[0], F.conv2d(xv, w))


DECONV_CASES = [
    # (k, spatial, kernel, stride, dilation, groups, pre, post, mode)
    (2, (4, 5), (3, 3), (2, 2), (1, 1), 1, (0, 0), (0, 0), "EXPLICIT_ROUND_DOWN"),
    (2, (4, 5), (3, 4), (2, 3), (1, 1), 2, (1, 0), (0, 2), "EXPLICIT_ROUND_DOWN"),
    # Strided and dilated deconvolution together is rejected by the builder.
    (2, (4, 5), (3, 3), (1, 1), (2, 1), 1, (1, 1), (1, 1), "EXPLICIT_ROUND_UP"),
    (2, (4, 5), (3, 4), (2, 2), (1, 1), 2, (0, 0), (0, 0), "SAME_UPPER"),
    (2, (4, 5), (5, 2), (2, 3), (1, 1), 1, (0, 0), (0, 0), "SAME_LOWER"),
    (3, (3, 4, 2), (2, 3, 3), (2, 1, 2), (1, 1, 1), 1, (0, 1, 0), (1, 0, 0), "EXPLICIT_ROUND_DOWN"),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", DECONV_CASES, ids=[f"{c[0]}d-{c[8]}-{i}" for i, c in enumerate(DECONV_CASES)])
def test_deconvolution(case: tuple, bias: bool) -> None:  # type: ignore[type-arg]
    k, spatial, kernel, stride, dilation, groups, pre, post, mode = case
    cin, cout = 4, 6
    n = Net()
    x = n.input("x", torch.float32, (2, cin, *spatial))
    w = rand(cin, cout // groups, *kernel)
    b = rand(cout) if bias else None
    layer = n.network.add_deconvolution_nd(x, cout, kernel, n.weights(w), None if b is None else n.weights(b))
    layer.stride_nd, layer.dilation_nd, layer.num_groups = stride, dilation, groups
    layer.pre_padding, layer.post_padding = pre, post
    layer.padding_mode = getattr(trt.PaddingMode, mode)
    n.mark(layer.get_output(0))
    xv = rand(2, cin, *spatial)
    full = CONV_T[k](xv, w, None, stride=stride, dilation=dilation, groups=groups)
    eff = [d * (f - 1) + 1 for d, f in zip(dilation, kernel, strict=True)]
    crop_pre, crop_post = list(pre), list(post)
    if mode.startswith("SAME"):
        # Docs: P = max(DK - S, 0) trimmed from the full output; SAME_UPPER trims the odd unit at the end.
        totals = [max(e - s, 0) for e, s in zip(eff, stride, strict=True)]
        small = [t // 2 for t in totals]
        large = [t - t // 2 for t in totals]
        crop_pre, crop_post = (small, large) if mode == "SAME_UPPER" else (large, small)
    expected = full
    for i in range(k):
        expected = expected.narrow(2 + i, crop_pre[i], expected.shape[2 + i] - crop_pre[i] - crop_post[i])
    if b is not None:
        expected = expected + b.reshape(1, -1, *([1] * k))
    close(n.run({"x": xv})[0], expected)


def test_deconvolution_kernel_from_tensor_half() -> None:
    n = Net()
    x = n.input("x", torch.float16, (1, 2, 3, 3))
    w = rand(2, 3, 2, 2, dtype=torch.float16)
    layer = n.network.add_deconvolution_nd(x, 3, (2, 2), trt.Weights(), None)
    layer.set_input(1, n.const(w))
    layer.stride_nd = (2, 2)
    n.mark(layer.get_output(0))
    xv = rand(1, 2, 3, 3, dtype=torch.float16)
    close(n.run({"x": xv})[0], F.conv_transpose2d(xv.float(), w.float(), stride=2).half())


MAXP = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVGP = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pool_expected(x, kind, window, stride, pre, post, mode, exclude, blend):  # type: ignore[no-untyped-def]
    k = len(window)
    spatial = list(x.shape[2:])
    pre, post = list(pre), list(post)
    extra = [0] * k
    if mode.startswith("SAME"):
        pre, post = _same_padding(spatial, list(window), list(stride), mode == "SAME_UPPER")
    elif mode == "EXPLICIT_ROUND_UP":
        for i, n in enumerate(spatial):
            m = n + pre[i] + post[i]
            o = math.ceil((m - window[i]) / stride[i]) + 1
            extra[i] = (o - 1) * stride[i] + window[i] - m
    full_post = [a + e for a, e in zip(post, extra, strict=True)]
    mx = MAXP[k](F.pad(x, _pad(pre, full_post), value=-math.inf), window, stride)
    vol = math.prod(window)
    sums = AVGP[k](F.pad(x, _pad(pre, full_post)), window, stride) * vol
    ones = torch.ones(1, 1, *spatial)
    if exclude:
        counted = F.pad(ones, _pad(pre, full_post))
    else:
        counted = F.pad(F.pad(ones, _pad(pre, post), value=1.0), _pad([0] * k, extra))
    avg = sums / (AVGP[k](counted, window, stride) * vol)
    return {"MAX": mx, "AVERAGE": avg, "MAX_AVERAGE_BLEND": (1 - blend) * mx + blend * avg}[kind]


POOL_CASES = [
    # (spatial, window, stride, pre, post, mode)
    ((7, 6), (3, 3), (2, 2), (1, 1), (1, 1), "EXPLICIT_ROUND_DOWN"),
    ((7, 6), (2, 3), (2, 1), (0, 1), (1, 0), "EXPLICIT_ROUND_DOWN"),
    ((7, 6), (3, 2), (2, 2), (1, 0), (0, 0), "EXPLICIT_ROUND_UP"),
    ((7, 6), (3, 3), (2, 2), (0, 0), (0, 0), "SAME_UPPER"),
    ((7, 8), (2, 3), (3, 2), (0, 0), (0, 0), "SAME_LOWER"),
    ((4, 5, 6), (2, 3, 2), (2, 1, 2), (0, 1, 1), (1, 1, 0), "EXPLICIT_ROUND_DOWN"),
    ((4, 5, 6), (3, 2, 3), (2, 2, 2), (0, 0, 0), (0, 0, 0), "EXPLICIT_ROUND_UP"),
]


# average_count_excludes_padding does not affect MAX pooling.
POOL_KINDS = [
    ("MAX", True),
    ("AVERAGE", True),
    ("AVERAGE", False),
    ("MAX_AVERAGE_BLEND", True),
    ("MAX_AVERAGE_BLEND", False),
]


@pytest.mark.parametrize("kind,exclude", POOL_KINDS, ids=[f"{k}-{'excl' if e else 'incl'}" for k, e in POOL_KINDS])
@pytest.mark.parametrize("case", POOL_CASES, ids=[f"{len(c[1])}d-{c[5]}-{i}" for i, c in enumerate(POOL_CASES)])
def test_pooling(case: tuple, kind: str, exclude: bool) -> None:  # type: ignore[type-arg]
    spatial, window, stride, pre, post, mode = case
    n = Net()
    x = n.input("x", torch.float32, (2, 3, *spatial))
    layer = n.network.add_pooling_nd(x, getattr(trt.PoolingType, kind), window)
    layer.stride_nd, layer.pre_padding, layer.post_padding = stride, pre, post
    layer.padding_mode = getattr(trt.PaddingMode, mode)
    layer.average_count_excludes_padding = exclude
    layer.blend_factor = 0.3
    n.mark(layer.get_output(0))
    xv = rand(2, 3, *spatial)
    close(n.run({"x": xv})[0], _pool_expected(xv, kind, window, stride, pre, post, mode, exclude, 0.3))


def test_pooling_matches_torch_conventions() -> None:
    # Cross-check against PyTorch's own pooling for the common symmetric cases.
    n = Net()
    x = n.input("x", torch.float32, (1, 2, 9, 9))
    mx = n.network.add_pooling_nd(x, trt.PoolingType.MAX, (3, 3))
    mx.stride_nd, mx.padding_nd = (2, 2), (1, 1)
    avg = n.network.add_pooling_nd(x, trt.PoolingType.AVERAGE, (3, 3))
    avg.stride_nd, avg.padding_nd = (2, 2), (1, 1)
    avg.average_count_excludes_padding = False
    n.mark(mx.get_output(0), avg.get_output(0))
    xv = rand(1, 2, 9, 9)
    out_max, out_avg = n.run({"x": xv})
    close(out_max, F.max_pool2d(xv, 3, 2, 1))
    close(out_avg, F.avg_pool2d(xv, 3, 2, 1, count_include_pad=True))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_pooling_half(dtype: torch.dtype) -> None:
    n = Net()
    x = n.input("x", dtype, (1, 3, 6, 6))
    layer = n.network.add_pooling_nd(x, trt.PoolingType.AVERAGE, (2, 2))
    layer.stride_nd = (2, 2)
    n.mark(layer.get_output(0))
    xv = rand(1, 3, 6, 6, dtype=dtype)
    close(n.run({"x": xv})[0], F.avg_pool2d(xv.float(), 2).to(dtype))
