"""Decoder LLMs with a KV cache: greedy generation through TensorRT engines (static cache) gives the
tokens Hugging Face's eager ``generate`` gives, one engine call per new token; ``compile`` takes models
that return or take a transformers cache object.

The models are tiny random-weight Llama, GPT-2 and Qwen2 configs (2 layers, hidden 64, vocab 256) with
a larger init range than the default, so that attention is selective and the greedy tokens vary: a
wrong mask or a cache written at the wrong position changes them. Engines run on the CPU reference
executor (``emulated_runtime``); each model is compiled once per module.
"""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import torch
import transformers

import torch_tensorrt
from torch_tensorrt.dynamo import llm
from torch_tensorrt.dynamo._hf_cache import UnsupportedCacheError
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import emulated_runtime

VOCAB = 256
NEW_TOKENS = 16
PROMPT = 11  # longer than MAX_PROMPT: the prompt is written in two chunks (8 + 3 tokens)
MAX_PROMPT = 8
MAX_SEQ = 32
INIT_RANGE = 0.2
# No end-of-sequence token unless a test sets one: every run yields all 16 tokens.
NO_SPECIAL = {"bos_token_id": None, "eos_token_id": None, "pad_token_id": None}


def llama() -> torch.nn.Module:
    config = transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, initializer_range=INIT_RANGE, **NO_SPECIAL,
    )  # fmt: skip
    return transformers.LlamaForCausalLM(config)


def gpt2() -> torch.nn.Module:
    config = transformers.GPT2Config(
        vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=64, initializer_range=INIT_RANGE, **NO_SPECIAL
    )
    return transformers.GPT2LMHeadModel(config)


def qwen2() -> torch.nn.Module:
    config = transformers.Qwen2Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, initializer_range=INIT_RANGE, **NO_SPECIAL,
    )  # fmt: skip
    return transformers.Qwen2ForCausalLM(config)


MODELS: dict[str, Callable[[], torch.nn.Module]] = {"llama": llama, "gpt2": gpt2, "qwen2": qwen2}


def seeded(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return MODELS[name]().eval()


def prompt(batch: int = 1, length: int = PROMPT, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


def hf_generate(model: torch.nn.Module, ids: torch.Tensor, **options: object) -> torch.Tensor:
    with torch.no_grad():
        return model.generate(  # type: ignore[operator]
            ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=NEW_TOKENS, **options
        )


@pytest.fixture(scope="module")
def emulation() -> Iterator[None]:
    with emulated_runtime(persist=False):
        yield


@pytest.fixture(scope="module")
def compiled(emulation: None) -> dict[str, tuple[torch.nn.Module, llm.CompiledCausalLM]]:
    """Each model with its generation program (full compilation required: a graph break fails here)."""
    result = {}
    for name in MODELS:
        model = seeded(name)
        result[name] = (
            model,
            llm.compile_causal_lm(model, max_seq_len=MAX_SEQ, max_prompt_len=MAX_PROMPT, require_full_compilation=True),
        )
    return result


class EngineCalls:
    """Counts calls of a compiled module's TensorRT engines."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.count = 0
        self._hooks = [
            m.register_forward_hook(self._seen) for m in module.modules() if isinstance(m, TorchTensorRTModule)
        ]

    def _seen(self, *_: object) -> None:
        self.count += 1

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()


@pytest.mark.parametrize("name", list(MODELS))
def test_greedy_tokens_match_hugging_face(compiled: dict, name: str) -> None:
    model, program = compiled[name]
    ids = prompt()
    expected = hf_generate(model, ids)
    calls = EngineCalls(program.module)
    try:
        tokens = llm.generate(program, ids, max_new_tokens=NEW_TOKENS)
    finally:
        calls.remove()
    assert expected.shape == (1, PROMPT + NEW_TOKENS)
    assert len(set(expected[0, PROMPT:].tolist())) > 4, "degenerate model: the comparison would prove little"
    assert torch.equal(tokens, expected), f"{tokens[0, PROMPT:].tolist()} != {expected[0, PROMPT:].tolist()}"
    # Prompt: two chunks (8 + 3 tokens); then one call per new token but the last (never fed back).
    assert calls.count == 2 + NEW_TOKENS - 1


@pytest.mark.parametrize("name", list(MODELS))
def test_step_logits_match_hugging_face(compiled: dict, name: str) -> None:
    """Every step's logits (prompt, then each fed-back token) match eager's, not just their argmax."""
    model, program = compiled[name]
    ids = prompt(seed=2)
    with torch.no_grad():
        out = model.generate(  # type: ignore[operator]
            ids, do_sample=False, max_new_tokens=NEW_TOKENS, output_logits=True, return_dict_in_generate=True
        )
    logits, cache = program.prefill(ids, program.new_cache())
    for index, expected in enumerate(out.logits):
        scale = expected.abs().max().item()
        torch.testing.assert_close(logits, expected, rtol=0, atol=1e-4 * scale, msg=f"step {index}")
        if index + 1 < len(out.logits):
            logits, cache = program.step(out.sequences[:, PROMPT + index : PROMPT + index + 1], PROMPT + index, cache)


@pytest.mark.parametrize("name", list(MODELS))
def test_step_is_one_engine_and_nothing_else(compiled: dict, name: str) -> None:
    graph = compiled[name][1].module.graph
    calls = [n for n in graph.nodes if n.op == "call_module"]
    assert len(calls) == 1
    assert isinstance(compiled[name][1].module.get_submodule(calls[0].target), TorchTensorRTModule)
    others = {str(n.target) for n in graph.nodes if n.op == "call_function"}
    assert others <= {"<built-in function getitem>"}, others


def test_graph_break_is_reported_and_still_correct(emulation: None, caplog: pytest.LogCaptureFixture) -> None:
    """A step split by a PyTorch op still generates HF's tokens, and compile says what it costs."""
    model = seeded("gpt2")
    ids = prompt(length=5)
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
        program = llm.compile_causal_lm(model, max_seq_len=24, torch_executed_ops={"aten.select.int"})
    assert "aten.select.int run by PyTorch" in caplog.text
    assert torch.equal(llm.generate(program, ids, max_new_tokens=NEW_TOKENS), hf_generate(model, ids))


def test_end_of_sequence_stops_and_pads_like_hugging_face(compiled: dict) -> None:
    model, program = compiled["llama"]
    ids = prompt(seed=3)
    free_run = hf_generate(model, ids)
    eos = int(free_run[0, PROMPT + 5])  # a token it emits: generation must stop there
    expected = hf_generate(model, ids, eos_token_id=eos, pad_token_id=0)
    tokens = llm.generate(program, ids, max_new_tokens=NEW_TOKENS, eos_token_id=eos, pad_token_id=0)
    assert expected.shape[1] < PROMPT + NEW_TOKENS
    assert torch.equal(tokens, expected)


def test_batch_of_two_with_one_sequence_finishing_first(emulation: None) -> None:
    model = seeded("llama")
    ids = prompt(batch=2, length=5, seed=4)
    free_run = hf_generate(model, ids)
    # First sequence's fourth token as eos; the other sequence goes on and the first is padded.
    eos = int(free_run[0, 5 + 3])
    expected = hf_generate(model, ids, eos_token_id=eos, pad_token_id=7)
    tokens = llm.generate(model, ids, max_new_tokens=NEW_TOKENS, eos_token_id=eos, pad_token_id=7)
    assert (expected[0, 5 + 4 :] == 7).any(), "the test needs a padded sequence"
    assert torch.equal(tokens, expected)


def test_limits_are_checked(compiled: dict) -> None:
    program = compiled["gpt2"][1]
    with pytest.raises(ValueError, match="needs max_seq_len >= 34"):
        llm.generate(program, prompt(length=19), max_new_tokens=NEW_TOKENS)
    with pytest.raises(ValueError, match=r"input_ids of shape \[1, 1..8\]"):
        program.step(prompt(batch=2, length=1), 0, program.new_cache())
    with pytest.raises(TypeError, match="this model is compiled"):
        llm.generate(program, prompt(), max_new_tokens=2, max_seq_len=64)


def test_sliding_window_cache_is_refused_with_a_reason() -> None:
    config = transformers.MistralConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=2, sliding_window=4,
    )  # fmt: skip
    with pytest.raises(NotImplementedError, match="DynamicSlidingWindowLayer"):
        llm.compile_causal_lm(transformers.MistralForCausalLM(config), max_seq_len=16)


@pytest.mark.parametrize("name", ["llama", "gpt2"])
def test_compile_returns_the_dynamic_cache(emulation: None, name: str) -> None:
    """use_cache=True (the default) no longer stops torch.export: logits and cache match eager."""
    model = seeded(name)
    ids = prompt(length=6)
    compiled = torch_tensorrt.compile(model, inputs=[ids], require_full_compilation=True)
    with torch.no_grad():
        expected = model(ids)
        out = compiled(ids)
    assert isinstance(out.past_key_values, transformers.DynamicCache)
    torch.testing.assert_close(out.logits, expected.logits, rtol=1e-4, atol=1e-4)
    for got, want in zip(out.past_key_values.layers, expected.past_key_values.layers, strict=True):
        torch.testing.assert_close(got.keys, want.keys)
        torch.testing.assert_close(got.values, want.values)


def test_compile_takes_a_dynamic_cache_input(emulation: None) -> None:
    model = seeded("llama")
    with torch.no_grad():
        past = model(prompt(length=6)).past_key_values
        token = prompt(length=1, seed=5)
        expected = model(token, past_key_values=copy.deepcopy(past))
    compiled = torch_tensorrt.compile(
        model, inputs=[token], kwarg_inputs={"past_key_values": copy.deepcopy(past)}, require_full_compilation=True
    )
    out = compiled(token, past_key_values=copy.deepcopy(past))
    torch.testing.assert_close(out.logits, expected.logits, rtol=1e-4, atol=1e-4)
    assert out.past_key_values.get_seq_length() == 7


def test_unflattenable_cache_gets_advice_not_a_pytree_message() -> None:
    model = seeded("llama")
    cache = transformers.StaticCache(config=model.config, max_cache_len=16)
    with pytest.raises(UnsupportedCacheError, match="StaticCache") as info:
        torch_tensorrt.compile(model, inputs=[prompt(length=4)], kwarg_inputs={"past_key_values": cache})
    assert "use_cache=False" in str(info.value) and "compile_causal_lm" in str(info.value)


def test_saved_program_with_cache_output_loads_in_a_fresh_process(tmp_path: object) -> None:
    """Loading needs DynamicCache's pytree registered; load does that once transformers is imported."""
    model = seeded("gpt2")
    ids = prompt(length=6)
    store, path, expected = f"{tmp_path}/store", f"{tmp_path}/gpt2.ep", f"{tmp_path}/expected.pt"
    with emulated_runtime(store):
        torch_tensorrt.save(torch_tensorrt.compile(model, inputs=[ids]), path, inputs=[ids])
    with torch.no_grad():
        torch.save(model(ids).logits, expected)
    code = (
        "import torch, transformers, torch_tensorrt\n"
        "from torch_tensorrt.testing import emulated_runtime\n"
        f"with emulated_runtime({store!r}):\n"
        f"    out = torch_tensorrt.load({path!r}).module()(torch.tensor({ids.tolist()}))\n"
        "assert isinstance(out.past_key_values, transformers.DynamicCache), type(out.past_key_values)\n"
        f"torch.testing.assert_close(out.logits, torch.load({expected!r}), rtol=1e-4, atol=1e-4)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
