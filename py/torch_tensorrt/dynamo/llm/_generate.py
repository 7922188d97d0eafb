"""Greedy text generation with the prompt and every decode step run as TensorRT engines.

The compiled step is :class:`StaticCacheCausalLM` (one program, dynamic query length 1..max_prompt_len);
the KV cache lives in ordinary torch tensors between calls and passes through the engine, which writes
the new tokens' keys and values at their positions and returns the updated cache.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo.llm._static_cache import CacheLayout, StaticCacheCausalLM, cache_layout, eval_mode

logger = logging.getLogger("torch_tensorrt")

_FROM_MODEL: Any = object()  # "take it from the model's generation_config"


class CompiledCausalLM:
    """A causal LM compiled for generation: the step program plus the cache it expects.

    ``module(input_ids, start, *cache) -> (logits, *cache)``; use :meth:`new_cache`, :meth:`step`,
    :meth:`prefill` or :func:`generate`.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        layout: CacheLayout,
        *,
        max_prompt_len: int,
        eos_token_id: int | Sequence[int] | None = None,
        pad_token_id: int | None = None,
    ) -> None:
        self.module = module
        self.layout = layout
        self.batch_size = layout.shapes[0][0]
        self.max_seq_len = layout.shapes[0][2]
        self.max_prompt_len = max_prompt_len
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id

    def new_cache(self) -> list[torch.Tensor]:
        """An empty KV cache (zeros of the full maximum length)."""
        return self.layout.zeros()

    def step(
        self, input_ids: torch.Tensor, start: int, cache: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run ``input_ids`` (``[batch, n]``, ``n <= max_prompt_len``) at positions ``start..start+n-1``:
        one engine call. Returns the next-token logits ``[batch, vocab]`` and the updated cache."""
        batch, length = input_ids.shape
        if batch != self.batch_size or not 1 <= length <= self.max_prompt_len:
            raise ValueError(
                f"step takes input_ids of shape [{self.batch_size}, 1..{self.max_prompt_len}] (the compiled batch "
                f"size and max_prompt_len), got {list(input_ids.shape)}"
            )
        if start < 0 or start + length > self.max_seq_len:
            raise ValueError(
                f"tokens at positions {start}..{start + length - 1} do not fit the cache of max_seq_len="
                f"{self.max_seq_len}; compile with a larger max_seq_len"
            )
        position = torch.tensor([start], dtype=torch.int64, device=input_ids.device)
        with torch.no_grad():
            logits, *updated = self.module(input_ids.to(torch.int64), position, *cache)
        return logits, updated

    def prefill(
        self, input_ids: torch.Tensor, cache: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Write a prompt into ``cache`` (in chunks of ``max_prompt_len``); returns the logits after it."""
        logits, updated = None, list(cache)
        for begin in range(0, input_ids.shape[1], self.max_prompt_len):
            logits, updated = self.step(input_ids[:, begin : begin + self.max_prompt_len], begin, updated)
        if logits is None:
            raise ValueError("the prompt is empty: generation needs at least one input token")
        return logits, updated


def compile_causal_lm(
    model: torch.nn.Module,
    *,
    max_seq_len: int,
    max_prompt_len: int | None = None,
    batch_size: int = 1,
    **settings: Any,
) -> CompiledCausalLM:
    """Compile a Hugging Face causal LM (``LlamaForCausalLM``, ``GPT2LMHeadModel``, ``Qwen2ForCausalLM``, ...)
    for generation with a static KV cache of ``max_seq_len`` positions.

    One program takes 1..``max_prompt_len`` tokens (default: ``max_seq_len``), so the prompt and each
    decode step are one engine call each. ``settings`` are :func:`torch_tensorrt.compile`'s keywords
    (``require_full_compilation=True`` makes any graph break an error). The model is traced in eval mode.
    """
    max_prompt_len = max_seq_len if max_prompt_len is None else max_prompt_len
    if not 1 <= max_prompt_len <= max_seq_len:
        raise ValueError(f"need 1 <= max_prompt_len <= max_seq_len, got {max_prompt_len} and {max_seq_len}")
    _check_position_limit(model, max_seq_len)
    layout = cache_layout(model, batch_size, max_seq_len)
    specs = [
        # opt = 1 token: decode steps are the ones that repeat.
        Input(
            min_shape=(batch_size, 1),
            opt_shape=(batch_size, 1),
            max_shape=(batch_size, max_prompt_len),
            dtype=torch.int64,
        ),
        Input(shape=(1,), dtype=torch.int64),
        *(Input(shape=shape, dtype=layout.dtype) for shape in layout.shapes),
    ]
    import torch_tensorrt

    with torch.no_grad(), eval_mode(model):
        module = torch_tensorrt.compile(StaticCacheCausalLM(model), arg_inputs=specs, **settings)
    _report_graph_breaks(module)
    generation = getattr(model, "generation_config", None)
    return CompiledCausalLM(
        module,
        layout,
        max_prompt_len=max_prompt_len,
        eos_token_id=getattr(generation, "eos_token_id", None),
        pad_token_id=getattr(generation, "pad_token_id", None),
    )


def _check_position_limit(model: torch.nn.Module, max_seq_len: int) -> None:
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(limit, int) and max_seq_len > limit:
        logger.warning(
            "max_seq_len=%d exceeds the model's max_position_embeddings=%d: positions past it are outside "
            "what the model was built for (learned position tables have no row for them)",
            max_seq_len,
            limit,
        )


def _report_graph_breaks(module: torch.nn.Module) -> None:
    """Say when a step is more than one engine call: each break costs a round trip per token."""
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    graph = getattr(module, "graph", None)
    if graph is None:
        return
    engines = sum(isinstance(m, TorchTensorRTModule) for m in module.modules())
    in_pytorch = sorted(
        {str(n.target) for n in graph.nodes if n.op == "call_function" and n.target is not operator.getitem}
    )
    if engines != 1 or in_pytorch:
        logger.warning(
            "the generation step compiled to %d TensorRT engines with %s run by PyTorch between them; every "
            "token pays for each. require_full_compilation=True turns this into an error that names the "
            "unsupported ops.",
            engines,
            ", ".join(in_pytorch) or "no ops",
        )


def generate(
    model: torch.nn.Module | CompiledCausalLM,
    input_ids: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_token_id: int | Sequence[int] | None = _FROM_MODEL,
    pad_token_id: int | None = _FROM_MODEL,
    max_seq_len: int | None = None,
    **settings: Any,
) -> torch.Tensor:
    """Greedy generation (as ``model.generate(input_ids, do_sample=False, max_new_tokens=...)``).

    ``model`` is a :class:`CompiledCausalLM` or a Hugging Face causal LM, compiled here with
    ``max_seq_len`` (default: prompt + new tokens) and ``settings``. Returns ``[batch, prompt + new]``
    token ids. A sequence that produced ``eos_token_id`` continues with ``pad_token_id`` (default: the
    first eos id) and generation stops when every sequence has; the defaults come from the model's
    ``generation_config``. One engine call runs the prompt (per ``max_prompt_len`` chunk), one each new token.
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if isinstance(model, CompiledCausalLM):
        compiled = model
        if settings or max_seq_len is not None:
            raise TypeError("max_seq_len and compile settings apply when generate compiles; this model is compiled")
    else:
        needed = input_ids.shape[1] + max_new_tokens - 1  # the last token is never fed back
        compiled = compile_causal_lm(
            model, max_seq_len=max_seq_len or needed, batch_size=input_ids.shape[0], **settings
        )
    eos = compiled.eos_token_id if eos_token_id is _FROM_MODEL else eos_token_id
    pad = compiled.pad_token_id if pad_token_id is _FROM_MODEL else pad_token_id
    return _greedy(compiled, input_ids, max_new_tokens, _as_ids(eos), pad)


def _as_ids(eos: int | Sequence[int] | None) -> list[int]:
    if eos is None:
        return []
    return [int(eos)] if isinstance(eos, int) else [int(e) for e in eos]


def _greedy(
    compiled: CompiledCausalLM, input_ids: torch.Tensor, max_new_tokens: int, eos: list[int], pad: int | None
) -> torch.Tensor:
    if input_ids.shape[1] + max_new_tokens - 1 > compiled.max_seq_len:
        raise ValueError(
            f"a prompt of {input_ids.shape[1]} tokens plus {max_new_tokens} new tokens needs max_seq_len >= "
            f"{input_ids.shape[1] + max_new_tokens - 1}; the model was compiled with {compiled.max_seq_len}"
        )
    # A finished sequence continues with pad, by default the first eos id (as in transformers).
    pad = eos[0] if pad is None and eos else pad
    stops = torch.tensor(eos, dtype=torch.int64, device=input_ids.device)
    done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    logits, cache = compiled.prefill(input_ids, compiled.new_cache())
    tokens = [input_ids.to(torch.int64)]
    position = input_ids.shape[1]
    for index in range(max_new_tokens):
        token = logits.argmax(dim=-1)
        if eos:
            token = torch.where(done, torch.full_like(token, pad), token)
            done = done | torch.isin(token, stops)
        tokens.append(token[:, None])
        if index == max_new_tokens - 1 or bool(done.all()):
            break
        logits, cache = compiled.step(token[:, None], position, cache)
        position += 1
    return torch.cat(tokens, dim=1)
