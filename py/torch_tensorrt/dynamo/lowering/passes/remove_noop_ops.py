from __future__ import annotations

import torch

aten = torch.ops.aten

# Ops that return their input unchanged in inference graphs.
NOOP_OPS = {aten.alias.default, aten.detach.default, aten.lift_fresh_copy.default}


def remove_noop_ops(graph: torch.fx.Graph, settings: object = None) -> None:
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target in NOOP_OPS:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
