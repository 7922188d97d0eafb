"""``use_fp32_acc``: float16 matrix multiplications run, and accumulate, in float32.

The network is strongly typed, so the precision of a layer is the dtype of its inputs: the float16
operands of each matmul-family op are cast to float32 and its result cast back to float16, which
keeps the op's inputs and outputs in float16 as Torch-TensorRT's option does.
"""

from __future__ import annotations

import torch

aten = torch.ops.aten

MATMUL_OPS = {
    aten.mm.default,
    aten.bmm.default,
    aten.matmul.default,
    aten.linear.default,
    aten.addmm.default,
    aten.baddbmm.default,
}


def _is_half(value: object) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.float16


def _cast(graph: torch.fx.Graph, value: torch.fx.Node, dtype: torch.dtype) -> torch.fx.Node:
    node = graph.call_function(aten._to_copy.default, (value,), {"dtype": dtype})
    node.meta["val"] = value.meta["val"].to(dtype)  # fake tensors convert under their own mode
    return node


def accumulate_in_fp32(graph: torch.fx.Graph, settings: object = None) -> None:
    if not getattr(settings, "use_fp32_acc", False):
        return
    for node in list(graph.nodes):
        if node.op != "call_function" or node.target not in MATMUL_OPS or not _is_half(node.meta.get("val")):
            continue
        with graph.inserting_before(node):
            node.args = tuple(
                _cast(graph, a, torch.float32) if isinstance(a, torch.fx.Node) and _is_half(a.meta.get("val")) else a
                for a in node.args
            )
        half = node.meta["val"]
        node.meta["val"] = half.to(torch.float32)
        with graph.inserting_after(node):
            back = _cast(graph, node, torch.float16)
        node.replace_all_uses_with(back, delete_user_cb=lambda user, back=back: user is not back)
