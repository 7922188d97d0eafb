"""Generate text with a decoder LLM whose prompt and decode steps run as TensorRT-RTX engines.

The KV cache lives in static torch tensors of ``--max-seq-len`` positions that pass through the engine
(``torch_tensorrt.dynamo.llm``): one compiled program takes 1..``--max-prompt-len`` tokens, so the
prompt is one engine call (per chunk) and every new token one more. The tokens are checked against
Hugging Face's eager ``generate(do_sample=False)``.

Without a GPU the engines are still built by the real builder, and run on the CPU reference executor
(``emulated_runtime``), which is slow: keep the models tiny.

    python examples/generate_llm.py [--model llama|gpt2|qwen2] [--max-new-tokens 16] [--fp16]
    python examples/generate_llm.py --pretrained Qwen/Qwen2.5-0.5B --prompt "The capital of France is"
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
import transformers

from torch_tensorrt.dynamo import llm
from torch_tensorrt.testing import emulated_runtime

# Tiny random-weight configs (2 layers, hidden 64): the architecture is real, the text is not.
TINY = {
    "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM, {"num_key_value_heads": 2}),
    "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM, {"num_key_value_heads": 2}),
    "gpt2": (transformers.GPT2Config, transformers.GPT2LMHeadModel, {}),
}


def tiny_model(name: str) -> tuple[torch.nn.Module, None]:
    config_type, model_type, extra = TINY[name]
    config = config_type(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=128, initializer_range=0.2, bos_token_id=None, eos_token_id=None, **extra,
    )  # fmt: skip
    torch.manual_seed(0)
    return model_type(config), None


def pretrained_model(name: str) -> tuple[torch.nn.Module, transformers.PreTrainedTokenizerBase]:
    return transformers.AutoModelForCausalLM.from_pretrained(name), transformers.AutoTokenizer.from_pretrained(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(TINY), default="llama", help="tiny random-weight architecture")
    parser.add_argument("--pretrained", help="a Hugging Face model id instead (downloads it; needs a GPU to be quick)")
    parser.add_argument("--prompt", default="The capital of France is", help="text prompt (with --pretrained)")
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--max-seq-len", type=int, default=64, help="KV-cache positions (prompt + new tokens)")
    parser.add_argument("--max-prompt-len", type=int, default=16, help="longest prompt chunk one engine call takes")
    parser.add_argument("--fp16", action="store_true", help="run the model in float16")
    args = parser.parse_args()

    model, tokenizer = pretrained_model(args.pretrained) if args.pretrained else tiny_model(args.model)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.eval().to(device, torch.float16 if args.fp16 else torch.float32)
    if tokenizer is not None:
        input_ids = tokenizer(args.prompt, return_tensors="pt").input_ids.to(device)
    else:
        input_ids = torch.randint(0, 256, (1, 7), generator=torch.Generator().manual_seed(1)).to(device)

    # No GPU: run the engines on the CPU reference executor.
    runtime = emulated_runtime(persist=False) if device == "cpu" else contextlib.nullcontext()
    with runtime:
        start = time.perf_counter()
        compiled = llm.compile_causal_lm(
            model, max_seq_len=args.max_seq_len, max_prompt_len=args.max_prompt_len, require_full_compilation=True
        )
        print(
            f"compiled in {time.perf_counter() - start:.1f} s: {len(compiled.module._compile_summary.engines)} engine"
        )
        start = time.perf_counter()
        tokens = llm.generate(compiled, input_ids, max_new_tokens=args.max_new_tokens)
        seconds = time.perf_counter() - start
    with torch.no_grad():
        expected = model.generate(
            input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False, max_new_tokens=args.max_new_tokens
        )
    new = tokens[0, input_ids.shape[1] :]
    print(f"generated {new.numel()} tokens in {seconds:.2f} s ({seconds / new.numel() * 1e3:.0f} ms/token):")
    print(tokenizer.decode(tokens[0]) if tokenizer is not None else new.tolist())
    print("same tokens as Hugging Face eager generate:", torch.equal(tokens, expected))


if __name__ == "__main__":
    main()
