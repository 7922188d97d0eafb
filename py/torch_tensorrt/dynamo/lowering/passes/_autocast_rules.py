"""Which nodes ``enable_autocast`` runs in reduced precision, and why the others stay in float32.

Torch-TensorRT's rule-based autocast: every float32 computation runs in the low-precision type
unless one of these rules keeps it in float32:

- it lies inside a ``torch.autocast`` region of the model (the region's own dtypes are kept);
- its op is precision-sensitive (:data:`FLOAT32_OPS`: exponentials, logarithms, powers,
  accumulating sums, softmax, normalizations -- the ops PyTorch's own autocast runs in float32);
- its op is in ``autocast_excluded_ops`` (the op of the exported graph -- e.g.
  ``aten.conv2d.default`` -- or the core ATen op lowering turned it into);
- a pattern of ``autocast_excluded_nodes`` matches (``re.match``) the path of the module that ran it
  (``"encoder.layers.0.fc1"``, Torch-TensorRT's "user-specified name") or its node name in the
  exported or lowered graph;
- it reduces over more than ``autocast_max_depth_of_reduction`` products (matmul / linear:
  the contracted size; convolution: input channels per group x kernel volume; attention: the larger
  of head size and key length; sum / mean: the reduced element count). A dynamic size counts at
  the upper bound of its range;
- a float constant among its arguments lies beyond the low type's range (a float16 ``-1e9`` mask fill);
- with ``autocast_calibration_dataloader``, an input or output of it reached a magnitude above
  ``autocast_max_output_threshold`` on the calibration data.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch.fx import Node

from torch_tensorrt.dynamo._op_targets import OpTarget, matches, resolve_op

aten = torch.ops.aten

# Ops kept in float32 for accuracy: PyTorch's autocast runs these in float32 too (their float16 or
# bfloat16 results overflow, or lose the small differences they depend on).
FLOAT32_OPS: frozenset[OpTarget] = frozenset(
    getattr(aten, name)
    for name in """
    exp exp2 expm1 log log2 log10 log1p pow reciprocal rsqrt erfinv acos asin cosh sinh tan softmax
    _softmax log_softmax _log_softmax logsumexp sum prod cumsum cumprod var std var_mean layer_norm
    native_layer_norm group_norm native_group_norm rms_norm _fused_rms_norm norm linalg_vector_norm dist
    cdist _cdist_forward renorm softplus mse_loss l1_loss smooth_l1_loss
    binary_cross_entropy_with_logits nll_loss_forward kl_div
    """.split()
)

_AUTOCAST_REGION = torch.ops.higher_order.wrap_with_autocast.name()


@dataclass(frozen=True)
class AutocastRules:
    """The settings that decide precision, checked and resolved once per graph."""

    excluded_names: tuple[re.Pattern[str], ...] = ()
    excluded_ops: frozenset[OpTarget] = frozenset()
    max_output_threshold: float = 512.0
    max_depth_of_reduction: int | None = None
    low_precision_type: torch.dtype = torch.float16

    @classmethod
    def from_settings(cls, settings: Any) -> AutocastRules:
        return cls(
            low_precision_type=settings.autocast_low_precision_type,
            excluded_names=tuple(re.compile(p) for p in sorted(settings.autocast_excluded_nodes)),
            excluded_ops=frozenset(resolve_op(o, "autocast_excluded_ops") for o in settings.autocast_excluded_ops),
            max_output_threshold=float(settings.autocast_max_output_threshold),
            max_depth_of_reduction=settings.autocast_max_depth_of_reduction,
        )


def is_float32_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.float32


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def is_candidate(node: Node) -> bool:
    """A float32 computation autocast may move: an ATen op with float32 tensors in and out whose
    result dtype follows its inputs (no explicit dtype, not a cast)."""
    target = node.target
    if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
        return False
    if target.overloadpacket in (aten._to_copy, aten.to):
        return False
    if node.kwargs.get("dtype") is not None:
        return False
    if not any(is_float32_tensor(v) for v in leaves(node.meta.get("val"))):
        return False
    return any(is_float32_tensor(a.meta.get("val")) for a in node.all_input_nodes)


def source_nodes(node: Node) -> Iterator[tuple[str, str]]:
    """(name, target) of the nodes ``node`` was made from, through every pass that recorded it."""
    pending = list(node.meta.get("from_node") or ())
    while pending:
        source = pending.pop()
        yield source.name, source.target
        pending.extend(source.from_node)


def module_path(node: Node) -> str:
    """The qualified name of the innermost module that ran ``node`` ("" for the model's own forward)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path = stack[next(reversed(stack))][0]
    return path if isinstance(path, str) else ""


def _names_op(target_name: str, resolved: frozenset[OpTarget]) -> bool:
    for op in resolved:
        name = str(op) if not isinstance(op, torch._ops.HigherOrderOperator) else op.name()
        if target_name == name or (isinstance(op, torch._ops.OpOverloadPacket) and target_name.startswith(name + ".")):
            return True
    return False


def _static_size(size: Any) -> float:
    """A size as a number; a dynamic one at the upper bound of its range (inf when unbounded)."""
    if isinstance(size, torch.SymInt):
        expr = size.node
        return float(expr.shape_env.bound_sympy(expr.expr).upper)
    return float(size)


def _shape(node: Any) -> tuple[Any, ...] | None:
    value = node.meta.get("val") if isinstance(node, Node) else None
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _contracted(operand_index: int) -> Callable[[Node], float | None]:
    def depth(node: Node) -> float | None:
        shape = _shape(node.args[operand_index])
        return _static_size(shape[-1]) if shape else None

    return depth


def _convolution_depth(node: Node) -> float | None:
    weight = _shape(node.args[1])
    if weight is None:
        return None
    kernel = math.prod(_static_size(s) for s in weight[2:])
    transposed = node.target.overloadpacket is aten.convolution and bool(node.args[6])
    groups = node.args[8] if node.target.overloadpacket is aten.convolution else 1
    # A transposed convolution's weight is (in, out / groups, k...): each output sums in / groups inputs.
    channels = _static_size(weight[0]) / groups if transposed else _static_size(weight[1])
    return channels * kernel


def _attention_depth(node: Node) -> float | None:
    query, key = _shape(node.args[0]), _shape(node.args[1])
    if query is None or key is None:
        return None
    return max(_static_size(query[-1]), _static_size(key[-2]))  # q.kT over the head, weights.v over keys


def _reduced_elements(node: Node) -> float | None:
    shape = _shape(node.args[0])
    if shape is None:
        return None
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):
        dims = range(len(shape))
    dims = [dims] if isinstance(dims, int) else dims
    return float(math.prod(_static_size(shape[d]) for d in dims))


_REDUCTION_DEPTH: dict[Any, Callable[[Node], float | None]] = {
    **dict.fromkeys((aten.mm, aten.bmm, aten.matmul, aten.linear, aten.mv, aten.dot), _contracted(0)),
    **dict.fromkeys((aten.addmm, aten.baddbmm, aten.addbmm, aten.addmv), _contracted(1)),
    **dict.fromkeys((aten.convolution, aten.conv1d, aten.conv2d, aten.conv3d), _convolution_depth),
    **dict.fromkeys(
        (
            aten.scaled_dot_product_attention,
            aten._scaled_dot_product_flash_attention_for_cpu,
            aten._scaled_dot_product_efficient_attention,
            aten._scaled_dot_product_flash_attention,
        ),  # fmt: skip
        _attention_depth,
    ),
    **dict.fromkeys((aten.sum, aten.mean), _reduced_elements),
}


def reduction_depth(node: Node) -> float | None:
    """How many products (or terms) one output element of ``node`` sums; None for other ops."""
    depth = _REDUCTION_DEPTH.get(getattr(node.target, "overloadpacket", None))
    return depth(node) if depth is not None else None


def _out_of_range(node: Node, rules: AutocastRules, peaks: Mapping[Node, float]) -> str | None:
    for value in (node, *node.all_input_nodes):
        peak = peaks.get(value)
        if peak is not None and peak > rules.max_output_threshold:
            role = "output" if value is node else f"input {value.name}"
            return f"its {role} reaches {peak:.4g} on the calibration data (autocast_max_output_threshold={rules.max_output_threshold:g})"
    return None


def _unrepresentable_constant(node: Node, rules: AutocastRules) -> str | None:
    # A finite constant beyond the low type's range (a mask fill of -1e9 in float16) would turn into inf.
    largest = torch.finfo(rules.low_precision_type).max
    # Its own arguments, and those of constants it reads (masked_fill lowers to where(scalar_tensor(c))).
    makers = [n for n in node.all_input_nodes if n.op == "call_function" and not n.all_input_nodes]
    for value in leaves([(n.args, tuple(n.kwargs.values())) for n in (node, *makers)]):
        if isinstance(value, float) and math.isfinite(value) and abs(value) > largest:
            return f"its constant {value:g} is beyond {rules.low_precision_type}'s range"
    return None


def _excluded(node: Node, rules: AutocastRules, sources: list[tuple[str, str]]) -> str | None:
    if matches(node.target, rules.excluded_ops) or any(_names_op(t, rules.excluded_ops) for _, t in sources):
        return "its op is in autocast_excluded_ops"
    names = [module_path(node), node.name, *(name for name, _ in sources)]
    for pattern in rules.excluded_names:
        if any(pattern.match(name) for name in names if name):
            return f"autocast_excluded_nodes pattern {pattern.pattern!r} matches it"
    return None


def _too_deep(node: Node, rules: AutocastRules) -> str | None:
    limit = rules.max_depth_of_reduction
    depth = reduction_depth(node) if limit is not None else None
    if depth is not None and depth > limit:
        return f"it reduces over {depth:g} elements (autocast_max_depth_of_reduction={limit})"
    return None


def keep_float32_reason(node: Node, rules: AutocastRules, peaks: Mapping[Node, float] | None) -> str | None:
    """Why a candidate node stays in float32, or None when it runs in the low-precision type."""
    sources = list(source_nodes(node))
    if any(target == _AUTOCAST_REGION for _, target in sources):
        return "inside a torch.autocast region (its dtypes are the model's)"
    if matches(node.target, FLOAT32_OPS):
        return f"{node.target.overloadpacket} is precision-sensitive (kept in float32, as PyTorch's autocast does)"
    return (
        _excluded(node, rules, sources)
        or _too_deep(node, rules)
        or _unrepresentable_constant(node, rules)
        or (_out_of_range(node, rules, peaks) if peaks is not None else None)
    )


def precision_decisions(
    graph: torch.fx.Graph, rules: AutocastRules, peaks: Mapping[Node, float] | None = None
) -> dict[Node, str | None]:
    """Every candidate node -> why it stays in float32, or None when it runs in reduced precision."""
    return {node: keep_float32_reason(node, rules, peaks) for node in graph.nodes if is_candidate(node)}


# Nodes that read only shapes (or pick an element of a tuple): a dtype change passes through them.
SHAPE_READERS = frozenset(
    {aten.sym_size.int, aten.sym_stride.int, aten.sym_numel.default, aten.sym_storage_offset.default}
)
ELEMENT_PICK = operator.getitem
