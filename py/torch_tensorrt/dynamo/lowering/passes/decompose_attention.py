"""``decompose_attention``: scaled dot-product attention as matmul, softmax and masking ops.

With the setting off, attention stays one op and the attention converter builds it. With it on (as
Torch-TensorRT's ``decompose_attention=True``) each attention op is written out as ATen ops that
TensorRT converts one by one:

    weights = softmax((q * scale) @ k^T  [causal / mask applied]) ;  out = weights @ v

with torch's conventions: a bool mask says which positions may be attended and a float mask is
added; ``is_causal`` hides keys after the query's position (torch's ``ones(L, S).tril()``);
``enable_gqa`` lets each group of query heads share one key/value head (``repeat_interleave``); a row
with no attendable key gives 0, not NaN (torch's safe softmax). The query is scaled before the
product, as torch's kernels do, which keeps float16 scores small. With ``use_fp32_acc`` a float16
attention runs entirely in float32 between one cast in and one cast out (Torch-TensorRT: rounding
the scores to float16 between the two products would defeat it).

Attention that cannot be written out (dropout, an unused-output contract of the fused overloads that
does not hold, a mask of another dtype, a default scale over a dynamic head size) stays whole, said
once per reason.
"""

from __future__ import annotations

import contextlib
import math
import operator
from dataclasses import dataclass
from typing import Any

import torch
from torch.fx import Graph, Node

from torch_tensorrt._logging import warn_once

# The argument positions of both attention signatures have one owner, shared with the converter.
from torch_tensorrt.dynamo._attention_args import ATTENTION_OPS, FUSED_ATTENTION, attention_args

aten = torch.ops.aten

FLOATS = (torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class AttentionCall:
    """One attention op's operands, read from either signature."""

    query: Node
    key: Node
    value: Node
    mask: Node | None
    dropout_p: float
    is_causal: bool
    scale: float | None
    enable_gqa: bool


def attention_call(node: Node) -> AttentionCall:
    c = attention_args(node.target, node.args, node.kwargs)
    return AttentionCall(c.query, c.key, c.value, c.mask, float(c.dropout_p), c.is_causal, c.scale, c.enable_gqa)


def _val(value: Any) -> torch.Tensor | None:
    val = value.meta.get("val") if isinstance(value, Node) else None
    return val if isinstance(val, torch.Tensor) else None


def why_kept_whole(node: Node, call: AttentionCall) -> str | None:
    """Why this attention op cannot be written out, or None when it can."""
    query, key, mask = _val(call.query), _val(call.key), _val(call.mask)
    if query is None or key is None or _val(call.value) is None:
        return "its operands have no recorded shapes"
    if query.dtype not in FLOATS:
        return f"its query is {query.dtype}"
    if call.dropout_p != 0:
        return "it applies dropout, which is random"
    if call.mask is not None and (mask is None or mask.dtype not in (torch.bool, query.dtype)):
        return "its mask is neither bool nor of the query's dtype"
    if call.is_causal and call.mask is not None:
        return "it has both is_causal and a mask (torch refuses that too)"
    if call.scale is None and not isinstance(query.shape[-1], int):
        return "its default scale needs a static head size"
    if call.enable_gqa and not all(isinstance(t.shape[-3], int) for t in (query, key)):
        return "grouped-query attention needs static head counts"
    if node.target in FUSED_ATTENTION and not all(_reads_attention_or_nothing(u) for u in node.users):
        return "a training output of the fused attention op is used"
    return None


def _reads_attention_or_nothing(user: Node) -> bool:
    """A reader of a fused attention op that takes output 0, or an unused training output."""
    return user.target is operator.getitem and (user.args[1] == 0 or not user.users)


def decompose_attention(graph: Graph, settings: object = None) -> None:
    if not getattr(settings, "decompose_attention", False):
        return
    in_fp32 = bool(getattr(settings, "use_fp32_acc", False))
    fake_mode = torch._guards.detect_fake_mode([n.meta.get("val") for n in graph.nodes])
    for node in list(graph.nodes):
        if node.op != "call_function" or node.target not in ATTENTION_OPS:
            continue
        call = attention_call(node)
        reason = why_kept_whole(node, call)
        if reason is not None:
            warn_once(
                f"decompose_attention-kept:{reason}",
                f"decompose_attention=True: an attention op ({node.target}) is kept whole because {reason}. "
                "(reported once per process)",
                stacklevel=6,
            )
            continue
        with graph.inserting_before(node):
            out = _AttentionWriter(graph, node, fake_mode).write(call, in_fp32)
        _replace(graph, node, out)


def _replace(graph: Graph, node: Node, out: Node) -> None:
    if node.target in FUSED_ATTENTION:
        for user in list(node.users):  # getitem(node, 0) or an unused getitem: checked by why_kept_whole
            user.replace_all_uses_with(out)
            graph.erase_node(user)
    else:
        node.replace_all_uses_with(out)
    graph.erase_node(node)


class _AttentionWriter:
    """Adds the ops of one attention, each with its fake value computed as torch would."""

    def __init__(self, graph: Graph, origin: Node, fake_mode: Any) -> None:
        self.graph = graph
        self.fake_mode = fake_mode
        # New nodes keep the attention's provenance (autocast and reports read the module path).
        self.meta = {
            k: origin.meta[k] for k in ("stack_trace", "nn_module_stack", "source_fn_stack") if k in origin.meta
        }

    def op(self, target: Any, *args: Any, **kwargs: Any) -> Node:
        node = self.graph.call_function(target, args, kwargs)
        node.meta.update(self.meta)
        fake_args, fake_kwargs = torch.fx.node.map_aggregate((args, kwargs), _fake_of)
        with self.fake_mode or contextlib.nullcontext():
            node.meta["val"] = target(*fake_args, **fake_kwargs)
        return node

    def size(self, value: Node, dim: int) -> int | Node:
        """A dimension as a constant, or as a size query when it is dynamic."""
        size = value.meta["val"].shape[dim]
        return size if isinstance(size, int) else self.op(aten.sym_size.int, value, dim)

    def write(self, call: AttentionCall, in_fp32: bool) -> Node:
        query, key, value, mask = call.query, call.key, call.value, call.mask
        dtype = query.meta["val"].dtype
        widen = in_fp32 and dtype == torch.float16
        if widen:
            query, key, value = (self.op(aten._to_copy.default, t, dtype=torch.float32) for t in (query, key, value))
            if mask is not None and mask.meta["val"].dtype != torch.bool:
                mask = self.op(aten._to_copy.default, mask, dtype=torch.float32)
        if call.enable_gqa:
            key, value = self.share_heads(key, query), self.share_heads(value, query)
        scale = call.scale if call.scale is not None else 1.0 / math.sqrt(query.meta["val"].shape[-1])
        scaled = self.op(aten.mul.Tensor, query, scale)
        scores = self.op(aten.matmul.default, scaled, self.op(aten.transpose.int, key, -2, -1))
        if call.is_causal:
            scores = self.op(aten.masked_fill.Scalar, scores, self.after_query(query, key), float("-inf"))
        if mask is not None:
            if mask.meta["val"].dtype == torch.bool:
                scores = self.op(
                    aten.masked_fill.Scalar, scores, self.op(aten.logical_not.default, mask), float("-inf")
                )
            else:
                scores = self.op(aten.add.Tensor, scores, mask)
        weights = self.op(aten._softmax.default, scores, -1, False)
        if mask is not None:  # a row whose every score is -inf attends nothing: 0, as torch gives
            hidden = self.op(aten.eq.Scalar, scores, float("-inf"))
            weights = self.op(aten.masked_fill.Scalar, weights, self.op(aten.all.dim, hidden, -1, True), 0.0)
        out = self.op(aten.matmul.default, weights, value)
        return self.op(aten._to_copy.default, out, dtype=dtype) if widen else out

    def after_query(self, query: Node, key: Node) -> Node:
        """(L, S) bool: True where the key's position is after the query's (what is_causal hides)."""
        rows = self.op(aten.arange.default, self.size(query, -2), dtype=torch.int64, device=_device(query))
        cols = self.op(aten.arange.default, self.size(key, -2), dtype=torch.int64, device=_device(key))
        return self.op(aten.gt.Tensor, cols, self.op(aten.unsqueeze.default, rows, -1))

    def share_heads(self, kv: Node, query: Node) -> Node:
        """GQA: kv head h // group serves query head h, i.e. ``repeat_interleave(group, dim=-3)``."""
        heads, kv_heads = query.meta["val"].shape[-3], kv.meta["val"].shape[-3]
        if heads == kv_heads:
            return kv
        rank = kv.meta["val"].dim()
        grouped = self.op(aten.unsqueeze.default, kv, rank - 2)  # (..., kv_heads, 1, S, E)
        sizes = [-1] * (rank + 1)
        sizes[rank - 2] = heads // kv_heads
        expanded = self.op(aten.expand.default, grouped, sizes)
        return self.op(aten.flatten.using_ints, expanded, rank - 3, rank - 2)


def _fake_of(value: Any) -> Any:
    return value.meta["val"] if isinstance(value, Node) else value


def _device(value: Node) -> torch.device:
    return value.meta["val"].device
