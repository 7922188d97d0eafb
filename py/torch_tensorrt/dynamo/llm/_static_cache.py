"""A Hugging Face causal LM as a pure function of fixed-size KV-cache tensors.

A TensorRT engine has a fixed set of input and output bindings and cannot hold state between calls, so
the KV cache has to travel through it: every attention layer's keys and values come in as tensors of
the declared maximum length ``[batch, kv_heads, max_seq_len, head_dim]``, the new tokens' keys and
values are written at their positions out of place (``index_copy``, which becomes one scatter), and the
updated tensors go out again. Attention then always runs over the full maximum length, with the causal
mask that transformers builds for a static cache hiding the positions not written yet. With these
shapes fixed, one program serves the prompt (many tokens) and every decode step (one token).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, CacheLayerMixin, DynamicLayer


class _PositionWrittenLayer(CacheLayerMixin):
    """One attention layer's cache: preallocated tensors, new tokens written from ``start`` on."""

    # In eager runs, transformers keeps the causal mask of a one-token query only for compileable caches
    # (export always builds it); without the mask a decode step would also attend to unwritten positions.
    is_compileable = True

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, start: torch.Tensor) -> None:
        super().__init__()
        self.keys, self.values, self.start = keys, values, start
        self.is_initialized = True

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        raise RuntimeError("the static cache is preallocated; it is never initialised lazily")

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # Out of place: the engine returns the new cache instead of writing to its inputs.
        positions = torch.arange(key_states.shape[-2], device=key_states.device) + self.start
        self.keys = self.keys.index_copy(2, positions, key_states)
        self.values = self.values.index_copy(2, positions, value_states)
        return self.keys, self.values

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.keys.shape[-2], 0  # the mask spans the whole buffer, starting at position 0

    def get_seq_length(self) -> torch.Tensor:  # type: ignore[override]
        # A tensor, so that one traced program serves every position (position ids and mask offset).
        return self.start

    def get_max_length(self) -> int:
        return self.keys.shape[-2]


class StaticCacheCausalLM(torch.nn.Module):
    """``forward(input_ids, start, k_0, v_0, k_1, v_1, ...) -> (logits, k_0', v_0', k_1', v_1', ...)``.

    ``input_ids`` is ``[batch, n]`` (the prompt or one new token), ``start`` a ``[1]`` int64 tensor with
    the position of its first token, each ``k_i``/``v_i`` a cache tensor of the full maximum length;
    ``logits`` are the next-token logits ``[batch, vocab]`` after the last input token.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        # Computing the LM head for the last position only saves a [n, vocab] product in the prompt.
        self._logits_to_keep = "logits_to_keep" in inspect.signature(model.forward).parameters

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        input_ids, start, *kv = inputs
        cache = Cache(layers=[_PositionWrittenLayer(kv[i], kv[i + 1], start) for i in range(0, len(kv), 2)])
        extra = {"logits_to_keep": 1} if self._logits_to_keep else {}
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True, **extra)
        updated = [t for layer in cache.layers for t in (layer.keys, layer.values)]
        return (out.logits[:, -1, :], *updated)


@dataclass(frozen=True)
class CacheLayout:
    """Shapes and dtype of the cache tensors, in ``forward``'s order (k_0, v_0, k_1, v_1, ...)."""

    shapes: tuple[tuple[int, ...], ...]
    dtype: torch.dtype
    device: torch.device

    def zeros(self) -> list[torch.Tensor]:
        return [torch.zeros(shape, dtype=self.dtype, device=self.device) for shape in self.shapes]


def cache_layout(model: torch.nn.Module, batch_size: int, max_seq_len: int) -> CacheLayout:
    """The static cache ``model`` needs, read from the cache one eager token step creates."""
    device = next(model.parameters()).device
    probe = torch.zeros((batch_size, 1), dtype=torch.int64, device=device)
    with torch.no_grad(), eval_mode(model):
        cache = model(input_ids=probe, use_cache=True).past_key_values
    layers: Sequence[object] = getattr(cache, "layers", None) or ()
    kinds = {type(layer).__name__ for layer in layers if type(layer) is not DynamicLayer}
    if not layers or kinds:
        found = ", ".join(sorted(kinds)) or type(cache).__name__
        raise NotImplementedError(
            f"{type(model).__name__} keeps a {found} cache; the static-cache generation path handles decoder "
            "models whose every layer has a plain full-attention KV cache (sliding-window, linear-attention "
            "and encoder-decoder caches are not supported yet)"
        )
    shapes = []
    for layer in layers:
        for states in (layer.keys, layer.values):  # type: ignore[attr-defined]
            batch, heads, _, head_dim = states.shape
            shapes.append((batch, heads, max_seq_len, head_dim))
    return CacheLayout(tuple(shapes), layers[0].keys.dtype, device)  # type: ignore[attr-defined]


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Generation is inference: trace without dropout, then give the model back in its mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
