"""Weights, biases and statistics that are tensors of the graph, not module constants: passed to forward
(graph inputs), computed in forward from inputs, or computed in forward from parameters — for every
layer family that takes weights (convolution, deconvolution, batch/layer/group/instance/RMS norm,
linear, embedding, PReLU), static and with a dynamic batch, through the real builder and the
reference executor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager


@dataclass(frozen=True)
class Family:
    name: str
    fn: Callable[..., torch.Tensor]  # fn(x, *weights)
    x_shape: tuple[int, ...]
    weight_shapes: tuple[tuple[int, ...], ...]
    index_input: int = 0  # > 0: x holds indices below this (embedding)


def _bn(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Variances must be positive whatever the random tensor: var.abs() + 0.5 is computed in forward too.
    return F.batch_norm(x, mean, var.abs() + 0.5, w, b, eps=1e-3)


FAMILIES = [
    Family("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=1), (2, 4, 9), ((6, 4, 3), (6,))),
    Family("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (2, 4, 7, 6), ((6, 4, 3, 3), (6,))),
    Family("conv2d_groups", lambda x, w: F.conv2d(x, w, groups=2, dilation=2), (2, 4, 7, 6), ((6, 2, 2, 2),)),
    Family("conv3d", lambda x, w, b: F.conv3d(x, w, b), (1, 4, 5, 4, 6), ((6, 4, 2, 3, 2), (6,))),
    Family(
        "deconv1d",
        lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, output_padding=1),
        (2, 4, 9),
        ((4, 6, 3), (6,)),
    ),
    Family(
        "deconv2d",
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        (2, 4, 5, 6),
        ((4, 6, 3, 3), (6,)),
    ),
    Family(
        "deconv2d_groups", lambda x, w: F.conv_transpose2d(x, w, groups=2, padding=1), (2, 4, 5, 6), ((4, 3, 3, 3),)
    ),
    Family("deconv3d", lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2), (1, 4, 3, 4, 3), ((4, 6, 2, 2, 2), (6,))),
    Family("batch_norm", _bn, (2, 4, 5, 6), ((4,), (4,), (4,), (4,))),
    Family("batch_norm1d", _bn, (3, 4, 7), ((4,), (4,), (4,), (4,))),
    Family("linear", lambda x, w, b: F.linear(x, w, b), (3, 5, 8), ((6, 8), (6,))),
    Family("layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b), (2, 4, 5, 6), ((6,), (6,))),
    Family("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 5, 6), ((4,), (4,))),
    Family("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 4, 5, 6), ((4,), (4,))),
    Family("rms_norm", lambda x, w: F.rms_norm(x, (6,), w), (2, 4, 5, 6), ((6,),)),
    Family("prelu", lambda x, w: F.prelu(x, w), (2, 4, 5, 6), ((4,),)),
    Family("embedding", lambda i, w: F.embedding(i, w), (3, 5), ((10, 4),), index_input=10),
]
IDS = [f.name for f in FAMILIES]


class _Weighted(nn.Module):
    """``fn(x, *weights)`` with the weights as forward arguments, ``transform`` applied in forward.

    forward has a fixed arity per weight count (torch.export pairs Input specs with named arguments).
    """

    def __init__(self, fn: Callable[..., torch.Tensor], computed: bool) -> None:
        super().__init__()
        self.fn = fn
        self.computed = computed

    def call(self, x: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
        return self.fn(x, *((w * 2 - 0.5 for w in weights) if self.computed else weights))


class _Weighted1(_Weighted):
    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.call(x, w)


class _Weighted2(_Weighted):
    def forward(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.call(x, w, b)


class _Weighted4(_Weighted):
    def forward(
        self, x: torch.Tensor, w0: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor
    ) -> torch.Tensor:
        return self.call(x, w0, w1, w2, w3)


def weighted(family: Family, computed: bool) -> nn.Module:
    """The family's op with weights passed to forward (``computed``: transformed there first)."""
    cls = {1: _Weighted1, 2: _Weighted2, 4: _Weighted4}[len(family.weight_shapes)]
    return cls(family.fn, computed).eval()


class WeightsComputedFromParameters(nn.Module):
    """Parameters transformed in forward (e.g. weight standardization): no longer build-time constants."""

    def __init__(self, fn: Callable[..., torch.Tensor], weights: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn
        # Frozen: batch norm's running statistics may not require grad, even computed ones.
        self.weights = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in weights])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x, *(w.tanh() * 1.5 for w in self.weights))


def _x(family: Family, batch: int, dtype: torch.dtype) -> torch.Tensor:
    shape = (batch, *family.x_shape[1:])
    if family.index_input:
        return torch.randint(0, family.index_input, shape)
    return torch.randn(shape).to(dtype)


def _weights(family: Family, dtype: torch.dtype) -> list[torch.Tensor]:
    return [torch.randn(s).to(dtype) for s in family.weight_shapes]


def _batch_spec(family: Family, dtype: torch.dtype) -> Any:
    x = family.x_shape
    dt = torch.int64 if family.index_input else dtype
    return torch_tensorrt.Input(min_shape=(1, *x[1:]), opt_shape=x, max_shape=(5, *x[1:]), dtype=dt)


# Half precision: TensorRT accumulates and rounds differently from torch's CPU kernels.
TOL = {torch.float32: (1e-4, 1e-4), torch.float16: (1e-2, 2e-2)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_weights_as_graph_inputs(family: Family, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    rtol, atol = TOL[dtype]
    inputs = [_x(family, family.x_shape[0], dtype), *_weights(family, dtype)]
    assert_close_to_eager(weighted(family, False), inputs, rtol=rtol, atol=atol)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_weights_computed_from_inputs(family: Family) -> None:
    torch.manual_seed(0)
    inputs = [_x(family, family.x_shape[0], torch.float32), *_weights(family, torch.float32)]
    assert_close_to_eager(weighted(family, True), inputs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_weights_computed_from_parameters(family: Family) -> None:
    torch.manual_seed(0)
    module = WeightsComputedFromParameters(family.fn, _weights(family, torch.float32)).eval()
    assert_close_to_eager(module, [_x(family, family.x_shape[0], torch.float32)], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("computed", [False, True], ids=["inputs", "computed"])
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_dynamic_batch(family: Family, computed: bool) -> None:
    # One engine for batches 1..5; the weights keep their static shapes.
    torch.manual_seed(0)
    weights = _weights(family, torch.float32)
    module = weighted(family, computed)
    specs = [_batch_spec(family, torch.float32), *(torch_tensorrt.Input.from_tensor(w) for w in weights)]
    for batch in (1, 5):
        inputs = [_x(family, batch, torch.float32), *weights]
        assert_close_to_eager(module, inputs, input_specs=specs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "deconv"])
def test_kernel_of_run_time_shape_is_refused(transposed: bool) -> None:
    # TensorRT needs the kernel size and output channels at build time: a kernel whose shape is only
    # known at run time stays in PyTorch (the rest still converts).
    def fn(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return (F.conv_transpose2d(x, w) if transposed else F.conv2d(x, w)) + 1

    module = _Weighted1(fn, computed=False).eval()
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 2, 3, 3)
    # The output channels vary: dim 0 of a kernel, dim 1 of a transposed one.
    lo, hi = ((2, 1, 3, 3), (2, 4, 3, 3)) if transposed else ((1, 2, 3, 3), (4, 2, 3, 3))
    specs = [
        torch_tensorrt.Input.from_tensor(x),
        torch_tensorrt.Input(min_shape=lo, opt_shape=(2, 2, 3, 3), max_shape=hi),
    ]
    with pytest.raises(UnsupportedOperatorError, match="convolution"):
        assert_close_to_eager(module, [x, w], input_specs=specs)
    assert_close_to_eager(module, [x, w], input_specs=specs, require_full_compilation=False, rtol=1e-4, atol=1e-4)
