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


def remove_assertions(module: torch.fx.GraphModule, settings: object = None) -> torch.fx.GraphModule:
    for node in list(module.graph.nodes):
        if node.op == "call_function" and node.target in ASSERTION_OPS and not node.users:
            module.graph.erase_node(node)
    module.graph.eliminate_dead_code()
    return module
