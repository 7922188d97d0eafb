"""scaled_dot_product_attention through the real builder and the reference executor."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import DEFAULT_TOLERANCES, assert_close_to_eager, run_on_reference

FLOATS = [torch.float32, torch.float16, torch.bfloat16]


class SDPA(nn.Module):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, **self.options)


class MaskedSDPA(nn.Module):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **self.options)


def _qkv(q: tuple[int, ...], k: tuple[int, ...], v: tuple[int, ...], dtype: torch.dtype) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randn(s).to(dtype) for s in (q, k, v)]


CASES = [
    # (id, options, q shape, k shape, v shape)
    ("basic", {}, (2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8)),
    ("cross_lengths", {}, (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
    ("3d", {}, (2, 5, 8), (2, 7, 8), (2, 7, 8)),
    ("5d", {}, (2, 2, 2, 3, 4), (2, 2, 2, 5, 4), (2, 2, 2, 5, 4)),
    ("broadcast_kv_batch", {}, (2, 3, 5, 8), (1, 3, 5, 8), (1, 3, 5, 8)),
    ("causal", {"is_causal": True}, (2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8)),
    ("causal_more_queries", {"is_causal": True}, (1, 2, 6, 4), (1, 2, 4, 4), (1, 2, 4, 4)),
    ("causal_more_keys", {"is_causal": True}, (1, 2, 3, 4), (1, 2, 6, 4), (1, 2, 6, 4)),
    ("scale", {"scale": 0.3}, (2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8)),
    ("causal_scale", {"is_causal": True, "scale": 1.5}, (1, 2, 5, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
    ("gqa", {"enable_gqa": True}, (1, 4, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8)),
    ("gqa_causal", {"enable_gqa": True, "is_causal": True}, (2, 6, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_sdpa(case: tuple, dtype: torch.dtype) -> None:
    _, options, q, k, v = case
    assert_close_to_eager(SDPA(**options), _qkv(q, k, v, dtype))


MASKS = [
    # (id, mask shape, kind); q: (2, 3, 4, 8), k/v: (2, 3, 6, 8)
    ("bool_2d", (4, 6), "bool"),
    ("bool_4d", (2, 3, 4, 6), "bool"),
    ("bool_broadcast_heads", (2, 1, 4, 6), "bool"),
    ("bool_dead_rows", (4, 6), "bool_dead"),
    ("float_2d", (4, 6), "float"),
    ("float_4d", (2, 3, 4, 6), "float"),
    ("float_neg_inf", (1, 3, 4, 6), "float_inf"),
    ("float_dead_rows", (4, 6), "float_dead"),
]


def _mask(shape: tuple[int, ...], kind: str, dtype: torch.dtype) -> torch.Tensor:
    torch.manual_seed(1)
    allowed = torch.rand(shape) > 0.4
    allowed[..., 0] = True  # every row may attend somewhere, unless rows are killed below
    if kind.endswith("dead"):
        allowed[..., 1, :] = False  # a row with nothing to attend: torch gives 0
    if kind.startswith("bool"):
        return allowed
    if kind == "float":
        return torch.randn(shape).to(dtype)
    return torch.where(allowed, torch.randn(shape), torch.tensor(float("-inf"))).to(dtype)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", MASKS, ids=[c[0] for c in MASKS])
def test_sdpa_mask(case: tuple, dtype: torch.dtype) -> None:
    _, shape, kind = case
    inputs = _qkv((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), dtype) + [_mask(shape, kind, dtype)]
    assert_close_to_eager(MaskedSDPA(), inputs)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_sdpa_gqa_with_mask(dtype: torch.dtype) -> None:
    inputs = _qkv((1, 4, 3, 8), (1, 2, 5, 8), (1, 2, 5, 8), dtype) + [_mask((3, 5), "bool", dtype)]
    assert_close_to_eager(MaskedSDPA(enable_gqa=True), inputs)


class Constant(nn.Module):
    """Attention over constant (parameter) keys and values, as in a cross-attention to a memory."""

    def __init__(self) -> None:
        super().__init__()
        self.k = nn.Parameter(torch.randn(1, 2, 6, 8))
        self.v = nn.Parameter(torch.randn(1, 2, 6, 8))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, self.k, self.v)


def test_constant_keys_values() -> None:
    torch.manual_seed(0)
    assert_close_to_eager(Constant().eval(), [torch.randn(2, 2, 4, 8)])


class SelfAndCross(nn.Module):
    """Queries and a key/value memory of independent (dynamic) lengths; v differs from k."""

    def __init__(self, is_causal: bool) -> None:
        super().__init__()
        self.is_causal = is_causal

    def forward(self, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, kv, kv * 0.5, is_causal=self.is_causal)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
def test_dynamic_sequence_lengths(is_causal: bool, dtype: torch.dtype) -> None:
    # Query and key lengths vary independently; the causal mask is then built from shape computations.
    # (The batch stays static: the tracer gives every input its own dims, and torch.export refuses
    # separate dims for sizes that must be equal.)
    specs = [
        torch_tensorrt.Input(min_shape=(2, 2, 2, 8), opt_shape=(2, 2, 7, 8), max_shape=(2, 2, 7, 8), dtype=dtype),
        torch_tensorrt.Input(min_shape=(2, 2, 3, 8), opt_shape=(2, 2, 6, 8), max_shape=(2, 2, 6, 8), dtype=dtype),
    ]
    torch.manual_seed(0)
    for lq, lk in ((2, 3), (7, 6), (7, 3)):
        inputs = [torch.randn(2, 2, lq, 8).to(dtype), torch.randn(2, 2, lk, 8).to(dtype)]
        assert_close_to_eager(SelfAndCross(is_causal), inputs, input_specs=specs)


DYNAMIC_MASKS = [
    # (id, mask kind, mask shape as a function of (batch, query length, key length), options)
    ("bool_4d", "bool", lambda b, lq, lk: (b, 1, lq, lk), {}),
    ("float_2d_scale", "float", lambda b, lq, lk: (lq, lk), {"scale": 0.3}),
    ("float_neg_inf_4d", "float_inf", lambda b, lq, lk: (b, 2, lq, lk), {}),
    ("bool_2d_scale", "bool", lambda b, lq, lk: (lq, lk), {"scale": 1.7}),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", DYNAMIC_MASKS, ids=[c[0] for c in DYNAMIC_MASKS])
def test_dynamic_mask_and_scale(case: tuple, dtype: torch.dtype) -> None:
    # Batch, query and key lengths all dynamic; the mask follows them (the tracer ties its dims to
    # the queries' and keys').
    _, kind, mask_shape, options = case
    lo, hi = (1, 2, 3), (3, 7, 6)

    def shapes(b: int, lq: int, lk: int) -> list[tuple[int, ...]]:
        return [(b, 2, lq, 8), (b, 2, lk, 8), (b, 2, lk, 8), mask_shape(b, lq, lk)]

    dtypes = [dtype] * 3 + [torch.bool if kind == "bool" else dtype]
    specs = [
        torch_tensorrt.Input(min_shape=a, opt_shape=b, max_shape=b, dtype=dt)
        for a, b, dt in zip(shapes(*lo), shapes(*hi), dtypes)
    ]
    for b, lq, lk in (lo, hi, (2, 5, 3)):
        q, k, v, mask_s = shapes(b, lq, lk)
        inputs = _qkv(q, k, v, dtype) + [_mask(mask_s, kind, dtype)]
        assert_close_to_eager(MaskedSDPA(**options), inputs, input_specs=specs)


class Fused(nn.Module):
    def __init__(self, op: Any, causal: bool) -> None:
        super().__init__()
        self.op, self.causal = op, causal

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if self.op is torch.ops.aten._scaled_dot_product_flash_attention.default:
            return self.op(q, k, v, 0.0, self.causal, scale=0.25)[0]
        return self.op(q, k, v, None, False, 0.0, self.causal, scale=0.25)[0]


FUSED = [
    torch.ops.aten._scaled_dot_product_efficient_attention.default,
    torch.ops.aten._scaled_dot_product_flash_attention.default,
    torch.ops.aten._scaled_dot_product_cudnn_attention.default,
]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("op", FUSED, ids=lambda op: op.name().split("::")[1])
def test_fused_overloads(op: Any, causal: bool) -> None:
    # These kernels exist only on CUDA, so eager cannot run them here: the reference is
    # F.scaled_dot_product_attention with the same arguments.
    q, k, v = _qkv((1, 2, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8), torch.float16)
    (got,) = run_on_reference(Fused(op, causal), [q, k, v])
    want = F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=0.25)
    rtol, atol = DEFAULT_TOLERANCES[torch.float16]
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


class Dropout(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)


def test_dropout_is_refused() -> None:
    # Dropout is random; TensorRT attention is deterministic, so the op stays in PyTorch.
    with pytest.raises(UnsupportedOperatorError, match="scaled_dot_product_attention"):
        run_on_reference(Dropout(), _qkv((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4), torch.float32))
