from __future__ import annotations

import torch

aten = torch.ops.aten

# Run-time shape assertions torch.export inserts; the engine's optimization profile enforces the
# same ranges, so they have nothing left to check inside a TensorRT segment.
ASSERTION_OPS = {
    aten._assert_scalar.default,
    aten.sym_constrain_range_for_size.default,
    aten.sym_constrain_range.default,
    aten._assert_tensor_metadata.default,
}


def remove_assertions(graph: torch.fx.Graph, settings: object = None) -> None:
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target in ASSERTION_OPS and not node.users:
            graph.erase_node(node)
    graph.eliminate_dead_code()
