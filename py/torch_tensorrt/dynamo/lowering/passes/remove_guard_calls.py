from __future__ import annotations

import torch


def remove_guard_calls(module: torch.fx.GraphModule, settings: object = None) -> torch.fx.GraphModule:
    """Drop the ``_guards_fn`` call torch.export adds to unlifted modules.

    It re-checks input shapes in Python on every call; the engines check their profiles anyway, and
    the call would split TensorRT segments.
    """
    for node in list(module.graph.nodes):
        if node.op == "call_module" and str(node.target).startswith("_guards") and not node.users:
            module.graph.erase_node(node)
            if hasattr(module, str(node.target)):
                delattr(module, str(node.target))
    return module
