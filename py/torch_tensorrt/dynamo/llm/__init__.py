"""Text generation with decoder LLMs whose KV cache is kept in static tensors around TensorRT engines.

``compile_causal_lm(model, max_seq_len=...)`` compiles a Hugging Face causal LM into one program that
runs the prompt and every decode step; ``generate(compiled_or_model, input_ids, max_new_tokens=...)``
decodes greedily, one engine call per new token. Needs ``transformers``.
"""

from torch_tensorrt.dynamo.llm._generate import CompiledCausalLM, compile_causal_lm, generate
from torch_tensorrt.dynamo.llm._static_cache import CacheLayout, StaticCacheCausalLM, cache_layout

__all__ = [
    "CacheLayout",
    "CompiledCausalLM",
    "StaticCacheCausalLM",
    "cache_layout",
    "compile_causal_lm",
    "generate",
]
