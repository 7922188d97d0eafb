"""``enable_autocast``: rule-based mixed precision for a strongly typed network.

TensorRT-RTX networks are strongly typed: a layer runs in the dtype of its inputs, so reduced
precision has to be written into the graph. For each float32 computation the rules of
:mod:`._autocast_rules` choose float32 or ``autocast_low_precision_type``; a node running in the low
type gets its float32 inputs (activations and weights) cast to it, and wherever a low-precision value
reaches a node that expects float32 -- a node kept in float32, an op that is not a float computation,
a graph output -- it is cast back. Graph inputs and outputs therefore keep their dtypes (Torch-TensorRT
lets outputs come out in the low type). Casts are shared: a value is cast to a dtype at most once.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import torch
from torch.fx import Graph, Node
from torch.fx.node import map_arg

from torch_tensorrt.dynamo.lowering.passes._autocast_calibration import calibration_peaks
from torch_tensorrt.dynamo.lowering.passes._autocast_rules import (
    ELEMENT_PICK,
    SHAPE_READERS,
    AutocastRules,
    is_float32_tensor,
    precision_decisions,
)

logger = logging.getLogger("torch_tensorrt")

aten = torch.ops.aten


class _CastInserter:
    """Rewrites the graph in node order, tracking the values whose dtype changed."""

    def __init__(self, graph: Graph, low: torch.dtype) -> None:
        self.graph = graph
        self.low = low
        self.fake_mode = torch._guards.detect_fake_mode([n.meta.get("val") for n in graph.nodes])
        self.before: dict[Node, Any] = {}  # node -> its value before the pass, for nodes whose dtype changed
        self.casts: dict[tuple[Node, torch.dtype], Node] = {}

    def cast(self, value: Node, dtype: torch.dtype, user: Node) -> Node:
        key = (value, dtype)
        if key not in self.casts:
            # Inserted before the first user that needs it, which comes before every later one.
            with self.graph.inserting_before(user):
                cast = self.graph.call_function(aten._to_copy.default, (value,), {"dtype": dtype})
            cast.meta = {k: v for k, v in value.meta.items() if k not in ("val", "tensor_meta")}
            cast.meta["val"] = value.meta["val"].to(dtype)  # fake tensors convert under their own mode
            self.casts[key] = cast
        return self.casts[key]

    def lower(self, node: Node) -> None:
        """Run ``node`` in the low type: float32 inputs are cast, its value is computed again."""

        def to_low(arg: Node) -> Node:
            return self.cast(arg, self.low, node) if is_float32_tensor(arg.meta.get("val")) else arg

        node.args, node.kwargs = map_arg((node.args, node.kwargs), to_low)
        self.before[node] = node.meta["val"]
        fake_args, fake_kwargs = map_arg((node.args, node.kwargs), lambda n: n.meta.get("val"))
        with self.fake_mode or contextlib.nullcontext():
            node.meta["val"] = node.target(*fake_args, **fake_kwargs)
        node.meta.pop("tensor_meta", None)

    def restore_inputs(self, node: Node) -> None:
        """``node`` computes as before: inputs whose dtype changed are cast back to their old dtype."""

        def as_before(arg: Node) -> Node:
            if arg not in self.before:
                return arg
            old, new = self.before[arg], arg.meta.get("val")
            if not isinstance(old, torch.Tensor) or not isinstance(new, torch.Tensor):
                raise RuntimeError(
                    f"autocast: {node.format_node()} reads {arg.name}, whose tuple value changed dtype; "
                    "please report this graph"
                )
            return self.cast(arg, old.dtype, node) if new.dtype != old.dtype else arg

        node.args, node.kwargs = map_arg((node.args, node.kwargs), as_before)

    def follow(self, node: Node) -> None:
        """An element pick of a tuple whose dtypes changed takes the new element's value."""
        source, index = node.args
        if source in self.before:
            self.before[node] = node.meta["val"]
            node.meta["val"] = source.meta["val"][index]
            node.meta.pop("tensor_meta", None)

    def run(self, decisions: dict[Node, str | None]) -> None:
        for node in list(self.graph.nodes):
            if node in decisions and decisions[node] is None:
                self.lower(node)
            elif node.target is ELEMENT_PICK:
                self.follow(node)
            elif node.target in SHAPE_READERS or _is_explicit_cast(node):
                continue  # shapes are dtype-free; an explicit cast converts from the low type as well
            elif node.op in ("call_function", "call_method", "call_module", "output"):
                self.restore_inputs(node)


def _is_explicit_cast(node: Node) -> bool:
    # Converting from the low type directly equals converting its exact float32 widening.
    return node.target is aten._to_copy.default and node.kwargs.get("dtype") is not None


def rule_based_autocast(graph: Graph, settings: Any = None) -> None:
    """With ``enable_autocast`` and a low-precision type, run the graph in mixed precision (module docstring)."""
    low = getattr(settings, "autocast_low_precision_type", None)
    if not getattr(settings, "enable_autocast", False) or low is None:
        return
    loader = settings.autocast_calibration_dataloader
    peaks = calibration_peaks(graph, loader) if loader is not None else None
    decisions = precision_decisions(graph, AutocastRules.from_settings(settings), peaks)
    _CastInserter(graph, low).run(decisions)
    for node, reason in decisions.items():
        node.meta["autocast"] = str(low).removeprefix("torch.") if reason is None else f"float32: {reason}"
    kept = {node.name: reason for node, reason in decisions.items() if reason is not None}
    logger.info(
        "autocast: %d of %d float32 computations run in %s; kept in float32: %s",
        len(decisions) - len(kept),
        len(decisions),
        low,
        kept or "none",
    )
