"""Hugging Face cache objects at the torch.export boundary.

Decoder models of ``transformers`` return a ``DynamicCache`` (encoder-decoder models an
``EncoderDecoderCache``) whenever ``use_cache`` is on, which is their default. torch.export can only
flatten outputs and inputs whose types are registered pytree nodes, so tracing such a model fails
with torch's "register a pytree" message. This module registers the two default cache types (using
transformers' own torch.export support where it exists) and turns the remaining failures into an
error that says what to do instead.

Nothing here imports ``transformers``: a model that uses it has imported it already.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import torch.utils._pytree as pytree

logger = logging.getLogger("torch_tensorrt")

_registered = False


def register_cache_pytrees() -> None:
    """Make ``DynamicCache`` and ``EncoderDecoderCache`` flattenable by torch.export (idempotent)."""
    global _registered
    if _registered or "transformers" not in sys.modules:
        return
    try:
        from transformers import DynamicCache, EncoderDecoderCache
        from transformers.integrations.executorch import register_dynamic_cache_export_support
    except ImportError:  # a transformers without torch.export support: the error below explains
        return
    if DynamicCache not in pytree.SUPPORTED_NODES:
        register_dynamic_cache_export_support()
    if EncoderDecoderCache not in pytree.SUPPORTED_NODES:
        _register_encoder_decoder_cache(EncoderDecoderCache)
    _registered = True


def _register_encoder_decoder_cache(cache_type: type) -> None:
    # Its two children are DynamicCaches, themselves pytree nodes; the constructor rebuilds the rest.
    def flatten(cache: Any) -> tuple[list[Any], None]:
        return [cache.self_attention_cache, cache.cross_attention_cache], None

    def flatten_with_keys(cache: Any) -> tuple[list[tuple[Any, Any]], None]:
        children, _ = flatten(cache)
        keys = ("self_attention_cache", "cross_attention_cache")
        return [(pytree.GetAttrKey(k), child) for k, child in zip(keys, children)], None

    def unflatten(children: Any, _context: None) -> Any:
        return cache_type(*children)

    try:
        pytree.register_pytree_node(
            cache_type,
            flatten,
            unflatten,
            serialized_type_name=f"{cache_type.__module__}.{cache_type.__name__}",
            flatten_with_keys_fn=flatten_with_keys,
        )
    except ValueError as exc:  # registered meanwhile by transformers or the user
        if "already registered" not in str(exc):
            raise


class UnsupportedCacheError(TypeError):
    """A model takes or returns a cache object torch.export cannot flatten."""


# torch's two wordings: an output (or nested input) of unknown type, a top-level input of unknown type.
_UNKNOWN_TYPE = (
    re.compile(r"Found <class '([\w.]+)'> in (input|output), which is not a known type"),
    re.compile(r"Unsupported (input) type <class '([\w.]+)'>"),
)


@contextlib.contextmanager
def explain_unregistered_cache() -> Iterator[None]:
    """Turn torch's "register a pytree" error about a ``*Cache`` type into advice for the user."""
    try:
        yield
    except Exception as exc:
        found = _unknown_cache_type(str(exc))
        if found is None:
            raise
        cache_type, where = found
        if where == "input":
            fix = (
                "Pass the cache as a transformers DynamicCache (which compile registers), or leave it out and "
                "compile with use_cache=False"
            )
        else:
            fix = (
                "To compile the logits only, turn the cache off: model.config.use_cache = False (or "
                "kwarg_inputs={'use_cache': False})"
            )
        raise UnsupportedCacheError(
            f"the model's {where} holds a {cache_type.rsplit('.', 1)[-1]} ({cache_type}), which torch.export "
            f"cannot flatten. {fix}. To generate text with the KV cache kept by the engine, use "
            "torch_tensorrt.dynamo.llm.compile_causal_lm(model, max_seq_len=...) and "
            "torch_tensorrt.dynamo.llm.generate(...). torch's message is attached as the cause."
        ) from exc


def _unknown_cache_type(message: str) -> tuple[str, str] | None:
    """(qualified type name, "input" or "output") when torch could not flatten a ``*Cache`` type."""
    first, second = (pattern.search(message) for pattern in _UNKNOWN_TYPE)
    found = (first.group(1), first.group(2)) if first else (second.group(2), second.group(1)) if second else None
    return found if found is not None and found[0].endswith("Cache") else None
