"""Number lists in graphs without traced values that hold 0-dim tensor constants.

A hand-written module may pass ``[torch.tensor(3), 3]`` as sizes or ``[torch.tensor(0.5), 1.5]`` as
scales; eager PyTorch reads each 0-dim tensor as its number, and ``fx.symbolic_trace`` stores it as a
``get_attr`` constant. Fake propagation cannot take a tensor where a number belongs, so such list
entries become the numbers eager reads. Tensors outside lists (real tensor arguments) are kept.
"""

from __future__ import annotations

from typing import Any

import torch


def _constant(module: torch.fx.GraphModule, node: torch.fx.Node) -> Any:
    value: Any = module
    for part in str(node.target).split("."):
        value = getattr(value, part, None)
    return value


def _as_number(module: torch.fx.GraphModule, entry: Any) -> Any:
    if isinstance(entry, torch.fx.Node) and entry.op == "get_attr":
        value = _constant(module, entry)
        if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter) and value.dim() == 0:
            return value.item()
    return entry


def _numbers_in_lists(module: torch.fx.GraphModule, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_as_number(module, entry) for entry in value)
    return value


def inline_scalar_constants_in_lists(module: torch.fx.GraphModule) -> None:
    """Replace 0-dim tensor constants inside list arguments by their numbers (see module doc)."""
    changed = False
    for node in module.graph.nodes:
        if node.op != "call_function":
            continue
        args = tuple(_numbers_in_lists(module, a) for a in node.args)
        kwargs = {k: _numbers_in_lists(module, v) for k, v in node.kwargs.items()}
        if args != node.args or kwargs != node.kwargs:
            node.args, node.kwargs, changed = args, kwargs, True
    if changed:
        for node in list(module.graph.nodes):
            if node.op == "get_attr" and not node.users:
                module.graph.erase_node(node)
        module.recompile()
