"""Whole transformers (random weights): BERT, GPT-2 and ViT-B/16 convert into exactly one engine with
zero fallback ops and match eager PyTorch, static and dynamic (batch 1..8, sequence 16..128).

Every dynamic configuration is compiled once; the min, opt and max shapes then run through the same
compiled module (the engines on the CPU reference executor, via ``emulated_runtime``).

BERT and GPT-2 are smaller than the published checkpoints (hidden 128, 2 layers, vocab 1000) but keep
the architecture: embeddings, padding / causal masks, attention, GELU MLPs, layer norms, heads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
import torchvision
import transformers

import torch_tensorrt
from torch_tensorrt.testing import compile_on_reference, emulated_runtime

VOCAB = 1000
SEQ_RANGE = ((1, 16), (4, 64), (8, 128))  # (batch, seq) at min, opt and max
DTYPES = [torch.float32, torch.float16]
DTYPE_IDS = ["fp32", "fp16"]
# With the default init (std 0.02) the attention scores are near 0, attention is nearly uniform and
# BERT's padding mask moves its outputs by ~0.01, below the fp16 tolerance; std 0.1 makes attention
# selective, so a lost mask shows as errors of ~0.5 while activations stay O(1).
INIT_RANGE = 0.1


class Bert(torch.nn.Module):
    """BertModel taking token ids and a padding mask; returns last hidden state and pooled output."""

    def __init__(self, attn: str) -> None:
        super().__init__()
        config = transformers.BertConfig(
            vocab_size=VOCAB,
            hidden_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=512,
            max_position_embeddings=128,
            initializer_range=INIT_RANGE,
            attn_implementation=attn,
        )
        self.model = transformers.BertModel(config)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(input_ids=ids, attention_mask=mask)
        return out.last_hidden_state, out.pooler_output


class Gpt2(torch.nn.Module):
    """GPT2LMHeadModel (causal attention, no KV cache) returning the logits."""

    def __init__(self, attn: str) -> None:
        super().__init__()
        config = transformers.GPT2Config(
            vocab_size=VOCAB,
            n_embd=128,
            n_layer=2,
            n_head=2,
            n_positions=128,
            use_cache=False,
            bos_token_id=VOCAB - 1,
            eos_token_id=VOCAB - 1,
            initializer_range=INIT_RANGE,
            attn_implementation=attn,
        )
        self.model = transformers.GPT2LMHeadModel(config)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids).logits


def bert_inputs(batch: int, seq: int) -> list[torch.Tensor]:
    ids = torch.randint(0, VOCAB, (batch, seq))
    mask = torch.ones(batch, seq, dtype=torch.int64)
    mask[0, seq // 2 :] = 0  # a padded first sequence, so the padding mask changes the result
    return [ids, mask]


def gpt2_inputs(batch: int, seq: int) -> list[torch.Tensor]:
    return [torch.randint(0, VOCAB, (batch, seq))]


# name -> (model factory(attn), example inputs(batch, seq))
TEXT_MODELS: dict[str, tuple[Callable[[str], torch.nn.Module], Callable[[int, int], list[torch.Tensor]]]] = {
    "bert": (Bert, bert_inputs),
    "gpt2": (Gpt2, gpt2_inputs),
}

# Whole networks accumulate rounding over many layers, so the absolute tolerance is scaled by the
# output's magnitude; relative tolerances stay at the per-dtype defaults (fp32 1e-4, fp16 1e-2).
# fp16 results are compared with the fp32 eager model: fp16 eager on CPU rounds in its own order,
# so against it we would measure the difference of two fp16 roundings rather than the converted
# model's error; against fp32 the fp16 tolerance bounds the real error of the fp16 engine.
TOLERANCES = {torch.float32: (1e-4, 1e-4), torch.float16: (1e-2, 1e-2)}


def assert_matches(actual: Any, expected: Any, dtype: torch.dtype) -> None:
    actual = list(actual) if isinstance(actual, (tuple, list)) else [actual]
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    assert len(actual) == len(expected)
    rtol, atol = TOLERANCES[dtype]
    for i, (got, want) in enumerate(zip(actual, expected)):
        assert got.dtype == dtype and got.shape == want.shape, (i, got.dtype, tuple(got.shape), tuple(want.shape))
        scale = max(1.0, want.abs().max().item())
        torch.testing.assert_close(
            got.float(), want, rtol=rtol, atol=atol * scale, msg=lambda m, i=i: f"output {i}: {m}"
        )


def assert_one_engine(compiled: torch.fx.GraphModule) -> None:
    summary = compiled._compile_summary
    assert summary.num_engines == 1, f"{summary.num_engines} engines"
    assert summary.num_fallback_ops == 0, dict(summary.fallback_ops)


def compile_and_compare(
    model: torch.nn.Module,
    dtype: torch.dtype,
    specs: Sequence[Any],
    input_sets: Sequence[Sequence[torch.Tensor]],
) -> None:
    """Compile ``model`` in ``dtype`` once for ``specs``; every input set must match fp32 eager."""
    model = model.eval()
    with torch.no_grad():
        expected = [model(*inputs) for inputs in input_sets]
    model = model.to(dtype)
    cast = [[t.to(dtype) if t.is_floating_point() else t for t in inputs] for inputs in input_sets]
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = compile_on_reference(model, list(specs))
        assert_one_engine(compiled)
        for inputs, want in zip(cast, expected):
            assert_matches(compiled(*inputs), want, dtype)


def token_spec() -> torch_tensorrt.Input:
    (b0, s0), (b1, s1), (b2, s2) = SEQ_RANGE
    return torch_tensorrt.Input(min_shape=(b0, s0), opt_shape=(b1, s1), max_shape=(b2, s2), dtype=torch.int64)


# ---------------------------------------------------------------------------------------------
# BERT / GPT-2
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_text_model_static(name: str, dtype: torch.dtype) -> None:
    factory, make_inputs = TEXT_MODELS[name]
    torch.manual_seed(0)
    model = factory("sdpa")
    inputs = make_inputs(2, 128)  # the longest sequence: every position embedding is used
    compile_and_compare(model, dtype, inputs, [inputs])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_text_model_dynamic(name: str, dtype: torch.dtype) -> None:
    # One compile for batch 1..8 x seq 16..128; BERT's two inputs share the range, and the tracer
    # ties their dims together as torch.export suggests.
    factory, make_inputs = TEXT_MODELS[name]
    torch.manual_seed(0)
    model = factory("sdpa")
    input_sets = [make_inputs(*shape) for shape in SEQ_RANGE]
    compile_and_compare(model, dtype, [token_spec()] * len(input_sets[0]), input_sets)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_text_model_eager_attention_dynamic(name: str) -> None:
    # transformers' "eager" attention spells attention out (matmul, mask add, softmax, matmul)
    # instead of calling scaled_dot_product_attention: a different set of converters.
    factory, make_inputs = TEXT_MODELS[name]
    torch.manual_seed(0)
    model = factory("eager")
    input_sets = [make_inputs(*shape) for shape in SEQ_RANGE]
    compile_and_compare(model, torch.float32, [token_spec()] * len(input_sets[0]), input_sets)


def test_padding_and_causal_masks_matter() -> None:
    # Guards the comparisons above against passing vacuously: BERT's padding mask changes its
    # outputs, and GPT-2 mixes tokens in one direction only (a wrong or missing causal mask in an
    # engine would make earlier positions depend on later tokens, unlike eager).
    torch.manual_seed(0)
    bert, gpt2 = Bert("sdpa").eval(), Gpt2("sdpa").eval()
    ids, mask = bert_inputs(2, 16)
    last, first = ids.clone(), ids.clone()
    last[:, -1] = (last[:, -1] + 1) % VOCAB
    first[:, 0] = (first[:, 0] + 1) % VOCAB
    with torch.no_grad():
        padded, unpadded = bert(ids, mask)[0][0, :8], bert(ids, torch.ones_like(mask))[0][0, :8]
        logits, after_last, after_first = gpt2(ids), gpt2(last), gpt2(first)
    # The effects exceed the fp16 tolerance (about 0.05 at these output magnitudes) several times.
    assert (padded - unpadded).abs().max() > 0.2
    torch.testing.assert_close(after_last[:, :-1], logits[:, :-1])
    assert (after_first[:, 1:] - logits[:, 1:]).abs().max() > 0.2


@pytest.mark.slow
def test_gpt2_torch_compile_dynamic() -> None:
    # torch.compile(backend="tensorrt") on the same model: Dynamo hands over one graph with dynamic
    # batch and sequence; a second shape inside the marked range reuses it without recompiling.
    from torch_tensorrt.dynamo.backend.backends import COMPILED_GRAPHS

    torch._dynamo.reset()
    COMPILED_GRAPHS.clear()
    torch.manual_seed(0)
    model = Gpt2("sdpa").eval()
    first, second = gpt2_inputs(3, 40)[0], gpt2_inputs(8, 128)[0]
    torch._dynamo.mark_dynamic(first, 0, min=1, max=8)
    torch._dynamo.mark_dynamic(first, 1, min=16, max=128)
    options = {"min_block_size": 1, "require_full_compilation": True}
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch.compile(model, backend="tensorrt", options=options)
        for ids in (first, second):
            assert_matches(compiled(ids), model(ids), torch.float32)
    assert len(COMPILED_GRAPHS) == 1, f"{len(COMPILED_GRAPHS)} graphs: the second shape recompiled"
    assert_one_engine(COMPILED_GRAPHS[0])
    torch._dynamo.reset()


# ---------------------------------------------------------------------------------------------
# ViT-B/16 (224x224: 12 layers of hidden 768, so only batch 1 static and 1..2 dynamic)
# ---------------------------------------------------------------------------------------------


def vit() -> torch.nn.Module:
    model = torchvision.models.vit_b_16(weights=None).eval()
    # torchvision zero-initialises the classification head, which would make every logit 0 and
    # the comparison vacuous; random head weights make the logits depend on the whole network.
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    torch.nn.init.normal_(model.heads.head.bias, std=0.02)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_vit_b_16_static(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    compile_and_compare(vit(), dtype, [x.to(dtype)], [[x]])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_vit_b_16_dynamic_batch(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    spec = torch_tensorrt.Input(
        min_shape=(1, 3, 224, 224), opt_shape=(1, 3, 224, 224), max_shape=(2, 3, 224, 224), dtype=dtype
    )
    compile_and_compare(vit(), dtype, [spec], [[torch.randn(1, 3, 224, 224)], [torch.randn(2, 3, 224, 224)]])
