"""Transformer models for the compile-time benchmark (random weights, published base sizes).

    model, inputs = transformer("bert" | "gpt2", dynamic)

Static: batch 1, sequence 128. Dynamic: batch 1..8 (opt 4) and sequence 16..128 (opt 64), token
ids as int64 (and, for BERT, an attention mask with the same range).
"""

from __future__ import annotations

from typing import Any

import torch
import transformers

import torch_tensorrt

SEQ = 128


class Bert(torch.nn.Module):
    """BERT-base (12 layers, hidden 768, 12 heads) on token ids and a padding mask."""

    def __init__(self) -> None:
        super().__init__()
        self.model = transformers.BertModel(transformers.BertConfig(max_position_embeddings=SEQ))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(input_ids=ids, attention_mask=mask)
        return out.last_hidden_state, out.pooler_output


class Gpt2(torch.nn.Module):
    """GPT-2 small (12 layers, hidden 768, vocab 50257) with its LM head, no KV cache."""

    def __init__(self) -> None:
        super().__init__()
        self.model = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_positions=SEQ, use_cache=False))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids).logits


MODELS: dict[str, type[torch.nn.Module]] = {"bert": Bert, "gpt2": Gpt2}
ARITY = {"bert": 2, "gpt2": 1}


def transformer(name: str, dynamic: bool) -> tuple[torch.nn.Module, list[Any]]:
    """The model in eval mode and its compile inputs (example tensors, or Input ranges if dynamic)."""
    if name not in MODELS:
        raise ValueError(f"unknown transformer {name!r}; known: {sorted(MODELS)}")
    model = MODELS[name]().eval()
    if dynamic:
        spec = torch_tensorrt.Input(min_shape=(1, 16), opt_shape=(4, 64), max_shape=(8, SEQ), dtype=torch.int64)
        return model, [spec] * ARITY[name]
    ids = torch.randint(0, model.model.config.vocab_size, (1, SEQ))
    return model, [ids, torch.ones_like(ids)][: ARITY[name]]
