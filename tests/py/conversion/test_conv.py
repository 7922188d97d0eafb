"""aten.convolution (1-D/2-D/3-D, transposed) through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager

DTYPES = [torch.float32, torch.float16, torch.bfloat16]

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 6)}

# (id, spatial rank, module factory, input channels)
Case = tuple[str, int, Callable[[], nn.Module], int]

CONV_CASES: list[Case] = []
for d in (1, 2, 3):
    CONV_CASES += [
        (f"conv{d}d", d, lambda d=d: CONV[d](4, 6, 3), 4),
        (f"conv{d}d_stride_pad", d, lambda d=d: CONV[d](4, 6, 3, stride=2, padding=1), 4),
        (f"conv{d}d_dilation", d, lambda d=d: CONV[d](4, 6, 2, dilation=2, padding=1), 4),
        (f"conv{d}d_groups", d, lambda d=d: CONV[d](4, 6, 3, groups=2), 4),
        (f"conv{d}d_depthwise", d, lambda d=d: CONV[d](4, 8, 3, groups=4, padding=1), 4),
        (f"conv{d}d_nobias", d, lambda d=d: CONV[d](4, 6, 3, bias=False), 4),
        (f"conv{d}d_same", d, lambda d=d: CONV[d](4, 6, 3, padding="same", dilation=2), 4),
        (f"conv{d}d_valid", d, lambda d=d: CONV[d](4, 6, 2, padding="valid"), 4),
    ]
CONV_CASES += [
    ("conv2d_asymmetric", 2, lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), 4),
    ("conv3d_asymmetric", 3, lambda: nn.Conv3d(4, 6, (1, 3, 2), stride=(1, 2, 1), padding=(0, 1, 1)), 4),
]

DECONV_CASES: list[Case] = []
for d in (1, 2, 3):
    DECONV_CASES += [
        (f"deconv{d}d", d, lambda d=d: CONV_T[d](4, 6, 3), 4),
        # output_padding > padding: torch appends positions that hold only the bias.
        (f"deconv{d}d_outpad_gt_pad", d, lambda d=d: CONV_T[d](4, 6, 3, stride=2, output_padding=1), 4),
        (f"deconv{d}d_outpad_eq_pad", d, lambda d=d: CONV_T[d](4, 6, 3, stride=2, padding=1, output_padding=1), 4),
        (f"deconv{d}d_outpad_lt_pad", d, lambda d=d: CONV_T[d](4, 6, 4, stride=3, padding=2, output_padding=1), 4),
        (f"deconv{d}d_groups", d, lambda d=d: CONV_T[d](4, 6, 3, stride=2, groups=2, padding=1), 4),
        (f"deconv{d}d_dilation", d, lambda d=d: CONV_T[d](4, 6, 3, dilation=2, padding=1), 4),
        (f"deconv{d}d_nobias_outpad", d, lambda d=d: CONV_T[d](4, 6, 3, stride=2, output_padding=1, bias=False), 4),
    ]
DECONV_CASES += [
    (
        "deconv2d_asymmetric",
        2,
        lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(0, 2)),
        4,
    ),
    ("deconv2d_outpad_dilation", 2, lambda: nn.ConvTranspose2d(4, 6, 3, dilation=2, padding=3, output_padding=1), 4),
]


def _run(factory: Callable[[], nn.Module], d: int, cin: int, dtype: torch.dtype, batch: int = 2) -> None:
    torch.manual_seed(0)
    module = factory().eval().to(dtype)
    x = torch.randn(batch, cin, *SPATIAL[d]).to(dtype)
    assert_close_to_eager(module, [x])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_convolution(case: Case, dtype: torch.dtype) -> None:
    _, d, factory, cin = case
    _run(factory, d, cin, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", DECONV_CASES, ids=[c[0] for c in DECONV_CASES])
def test_transposed_convolution(case: Case, dtype: torch.dtype) -> None:
    _, d, factory, cin = case
    _run(factory, d, cin, dtype)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("d", [1, 2])
def test_unbatched_input(d: int, transposed: bool) -> None:
    torch.manual_seed(0)
    module = (CONV_T if transposed else CONV)[d](3, 5, 3).eval()
    assert_close_to_eager(module, [torch.randn(3, *SPATIAL[d])])


DYNAMIC = [
    # (id, module, min, max): batch and spatial dims vary
    ("conv1d", lambda: nn.Conv1d(3, 5, 3, padding=1), (1, 3, 4), (3, 3, 11)),
    ("conv2d", lambda: nn.Conv2d(3, 5, 3, stride=2), (1, 3, 5, 5), (2, 3, 9, 8)),
    ("conv3d", lambda: nn.Conv3d(3, 5, 2), (1, 3, 3, 3, 3), (2, 3, 5, 4, 6)),
    ("deconv1d_outpad", lambda: nn.ConvTranspose1d(3, 5, 3, stride=2, output_padding=1), (1, 3, 4), (3, 3, 9)),
    ("deconv2d_outpad", lambda: nn.ConvTranspose2d(3, 5, 3, stride=2, output_padding=1), (1, 3, 3, 3), (2, 3, 6, 5)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(case: tuple, dtype: torch.dtype) -> None:
    _, factory, lo, hi = case
    torch.manual_seed(0)
    module = factory().eval().to(dtype)
    spec = torch_tensorrt.Input(min_shape=lo, opt_shape=hi, max_shape=hi, dtype=dtype)
    for shape in (lo, hi):
        assert_close_to_eager(module, [torch.randn(shape).to(dtype)], input_specs=[spec])


def test_strided_dilated_deconvolution_is_refused() -> None:
    # TensorRT-RTX cannot build a deconvolution that is strided and dilated at once.
    module = nn.ConvTranspose2d(2, 3, 3, stride=2, dilation=2).eval()
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(UnsupportedOperatorError, match="convolution"):
        assert_close_to_eager(module, [x])
    assert_close_to_eager(module, [x], require_full_compilation=False)


class BiasInput(nn.Module):
    def __init__(self, transposed: bool) -> None:
        super().__init__()
        self.transposed = transposed
        self.w = nn.Parameter(torch.randn(3, 3, 2, 2))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        if self.transposed:
            return nn.functional.conv_transpose2d(x, self.w, bias, stride=2, output_padding=1)
        return nn.functional.conv2d(x, self.w, bias)


@pytest.mark.parametrize("transposed", [False, True])
def test_bias_from_the_graph(transposed: bool) -> None:
    # A bias that is an activation (not a constant) is added after the layer.
    torch.manual_seed(0)
    assert_close_to_eager(BiasInput(transposed).eval(), [torch.randn(1, 3, 4, 4), torch.randn(3)])
