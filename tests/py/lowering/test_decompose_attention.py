"""decompose_attention=True: attention is lowered to matmul / softmax / masking ops, built by the real
builder and checked against eager PyTorch on the reference executor."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.lowering.passes.decompose_attention import ATTENTION_OPS
from torch_tensorrt.testing import assert_close_to_eager, emulated_runtime, run_on_reference

aten = torch.ops.aten
TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (1e-2, 1e-2)}  # (rtol, atol)


class SDPA(nn.Module):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *mask: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, *mask, **self.options)


def _qkv(q: tuple[int, ...], kv: tuple[int, ...], dtype: torch.dtype) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randn(s).to(dtype) for s in (q, kv, kv)]


def _mask(shape: tuple[int, ...], kind: str, dtype: torch.dtype) -> torch.Tensor:
    torch.manual_seed(1)
    allowed = torch.rand(shape) > 0.4
    allowed[..., 0] = True
    if kind.endswith("dead"):
        allowed[..., 1, :] = False  # a row with nothing to attend: torch gives 0
    if kind.startswith("bool"):
        return allowed
    return torch.where(allowed, torch.randn(shape), torch.tensor(float("-inf"))).to(dtype)


CASES = [
    # (id, options, q shape, k/v shape, mask (shape, kind) or None)
    ("plain", {}, (2, 3, 5, 8), (2, 3, 7, 8), None),
    ("3d", {}, (2, 5, 8), (2, 7, 8), None),
    ("causal", {"is_causal": True}, (2, 3, 5, 8), (2, 3, 5, 8), None),
    ("causal_more_queries", {"is_causal": True}, (1, 2, 6, 4), (1, 2, 4, 4), None),
    ("scale", {"scale": 0.3}, (2, 3, 5, 8), (2, 3, 5, 8), None),
    ("gqa_causal", {"enable_gqa": True, "is_causal": True}, (2, 6, 5, 4), (2, 2, 5, 4), None),
    ("bool_mask", {}, (2, 3, 4, 8), (2, 3, 6, 8), ((4, 6), "bool")),
    ("bool_mask_dead_rows", {}, (2, 3, 4, 8), (2, 3, 6, 8), ((2, 1, 4, 6), "bool_dead")),
    ("float_mask_dead_rows", {}, (2, 3, 4, 8), (2, 3, 6, 8), ((4, 6), "float_dead")),
    ("gqa_mask_scale", {"enable_gqa": True, "scale": 0.5}, (1, 4, 3, 8), (1, 2, 5, 8), ((3, 5), "bool")),
]


def _inputs(case: tuple, dtype: torch.dtype) -> list[torch.Tensor]:
    _, _, q, kv, mask = case
    return _qkv(q, kv, dtype) + ([_mask(*mask, dtype)] if mask else [])


def _lowered(module: nn.Module, inputs: list[torch.Tensor], **settings: Any) -> torch.fx.GraphModule:
    program = torch.export.export(module, tuple(inputs))
    return lower_exported_program(program, CompilationSettings(**settings))


def _targets(module: torch.fx.GraphModule) -> set[Any]:
    return {n.target for n in module.graph.nodes if n.op == "call_function"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lowered_graph_has_no_attention_op(case: tuple) -> None:
    inputs = _inputs(case, torch.float32)
    assert ATTENTION_OPS & _targets(_lowered(SDPA(**case[1]), inputs))  # off: kept for the converter
    targets = _targets(_lowered(SDPA(**case[1]), inputs, decompose_attention=True))
    assert not ATTENTION_OPS & targets
    assert {aten.matmul.default, aten._softmax.default} <= targets


@pytest.mark.parametrize("dtype", list(TOLERANCES), ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_decomposed_attention_matches_eager(case: tuple, dtype: torch.dtype) -> None:
    rtol, atol = TOLERANCES[dtype]
    assert_close_to_eager(SDPA(**case[1]), _inputs(case, dtype), rtol=rtol, atol=atol, decompose_attention=True)


def test_dynamic_sequence_length() -> None:
    """The causal mask and the shared heads are built from the runtime sizes."""
    module = SDPA(is_causal=True, enable_gqa=True)
    specs = [
        torch_tensorrt.Input(min_shape=(1, 4, 2, 8), opt_shape=(1, 4, 6, 8), max_shape=(1, 4, 9, 8)),
        *[torch_tensorrt.Input(min_shape=(1, 2, 2, 8), opt_shape=(1, 2, 6, 8), max_shape=(1, 2, 9, 8))] * 2,
    ]
    for length in (3, 9):
        inputs = _qkv((1, 4, length, 8), (1, 2, length, 8), torch.float32)
        assert_close_to_eager(module, inputs, input_specs=specs, rtol=1e-5, atol=1e-5, decompose_attention=True)


def test_fp32_accumulation_spans_the_whole_attention() -> None:
    """use_fp32_acc: float16 in, float16 out, and every product, the mask and the softmax in float32."""
    inputs = _qkv((2, 3, 5, 16), (2, 3, 5, 16), torch.float16) + [_mask((5, 5), "float", torch.float16)]
    lowered = _lowered(SDPA(), inputs, decompose_attention=True, use_fp32_acc=True)
    computed = [
        n for n in lowered.graph.nodes if n.target in (aten.matmul.default, aten._softmax.default, aten.add.Tensor)
    ]
    assert len(computed) == 4 and all(n.meta["val"].dtype == torch.float32 for n in computed)
    (out,) = [n for n in lowered.graph.nodes if n.op == "output"][0].args[0]
    assert out.meta["val"].dtype == torch.float16
    with torch.no_grad():
        expected = SDPA()(*[t.float() for t in inputs])
    (actual,) = run_on_reference(SDPA(), inputs, decompose_attention=True, use_fp32_acc=True)
    assert actual.dtype == torch.float16
    torch.testing.assert_close(actual.float(), expected, rtol=2e-3, atol=2e-3)


class FusedEfficient(nn.Module):
    """The overload a program exported on a GPU holds (output 0 used, the training outputs not)."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return aten._scaled_dot_product_efficient_attention(q, k, v, bias, False, 0.0, False, scale=0.4)[0]


def test_fused_overload_is_decomposed() -> None:
    inputs = _qkv((2, 3, 4, 8), (2, 3, 6, 8), torch.float32) + [_mask((4, 6), "float_dead", torch.float32)]
    lowered = _lowered(FusedEfficient(), inputs, decompose_attention=True)
    assert not ATTENTION_OPS & _targets(lowered)
    (actual,) = run_on_reference(FusedEfficient(), inputs, decompose_attention=True)
    with torch.no_grad():
        expected = F.scaled_dot_product_attention(*inputs[:3], attn_mask=inputs[3], scale=0.4)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_dropout_is_kept_whole_and_said() -> None:
    """Attention with dropout cannot be written out deterministically: it stays one op, with a warning."""
    torch_tensorrt._logging.reset_warnings()
    inputs = _qkv((1, 2, 4, 8), (1, 2, 4, 8), torch.float32)
    with pytest.warns(UserWarning, match="kept whole because it applies dropout"):
        lowered = _lowered(SDPA(dropout_p=0.5), inputs, decompose_attention=True)
    assert aten.scaled_dot_product_attention.default in _targets(lowered)


class Block(nn.Module):
    """A pre-norm causal transformer block: fused QKV projection, 4 heads, GELU MLP."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        attn = F.scaled_dot_product_attention(q, k, v, attn_mask=causal & padding[:, None, None, :])
        x = x + self.proj(attn.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.norm2(x))


@pytest.mark.parametrize("dtype", list(TOLERANCES), ids=str)
def test_transformer_block_on_the_emulated_runtime(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    block = Block().eval().to(dtype)
    x = torch.randn(2, 6, 32).to(dtype)
    padding = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    with torch.no_grad():
        expected = block(x, padding)
    assert not ATTENTION_OPS & _targets(_lowered(block, [x, padding], decompose_attention=True))
    with emulated_runtime(persist=False), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = torch_tensorrt.compile(
            block, ir="dynamo", arg_inputs=[x, padding], decompose_attention=True, require_full_compilation=True
        )
        segments = [m for name, m in compiled.named_children() if name.startswith("_run_on_acc_")]
        assert len(segments) == 1  # the real builder built it: one engine for the whole block
        actual = compiled(x, padding)
    assert not [w for w in caught if "decompose_attention" in str(w.message)]  # the setting acts: no warning
    rtol, atol = TOLERANCES[dtype]
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)
