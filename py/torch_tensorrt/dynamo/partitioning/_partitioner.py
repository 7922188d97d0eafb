from __future__ import annotations

import logging
import operator
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner
from torch.fx.passes.operator_support import OperatorSupportBase

from torch_tensorrt.dynamo._op_targets import matches, resolve_op
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.partitioning._fuse import fuse_partitions, is_state_write_back
from torch_tensorrt.dynamo.partitioning._memory_budget import host_memory_budget, split_for_budget

logger = logging.getLogger("torch_tensorrt")

TRT_SEGMENT_PREFIX = "_run_on_acc_"

# Nodes that only route values; they never count towards min_block_size.
NON_COMPUTE_TARGETS = {operator.getitem, torch.ops.aten.sym_size.int}


class UnsupportedOperatorError(RuntimeError):
    """Raised with require_full_compilation=True when some ops cannot run in TensorRT."""


def op_name(target: Any) -> str:
    if isinstance(target, torch._ops.OpOverload):
        return f"torch.ops.{target}"  # str() of an overload is "aten.relu.default"
    return getattr(target, "__name__", str(target))


def _source_location(node: torch.fx.Node) -> str:
    trace = node.meta.get("stack_trace")
    if not trace:
        return "unknown location"
    lines = [ln.strip() for ln in trace.strip().splitlines() if ln.strip().startswith("File")]
    return lines[-1] if lines else trace.strip().splitlines()[-1]


@dataclass
class UnsupportedNode:
    name: str
    op: str
    reason: str
    location: str


@dataclass
class PartitionResult:
    module: torch.fx.GraphModule
    trt_segments: list[str] = field(default_factory=list)
    converted_ops: Counter[str] = field(default_factory=Counter)
    fallback_ops: Counter[str] = field(default_factory=Counter)
    unsupported: list[UnsupportedNode] = field(default_factory=list)


class _TensorRTSupport(OperatorSupportBase):
    def __init__(self, settings: CompilationSettings, untraced: bool = False) -> None:
        self.settings = settings
        # A graph without traced values (fx.symbolic_trace, as Torch-TensorRT's partitioning tests make):
        # there are no values to check arguments against, so a registered converter decides and
        # conversion checks the arguments.
        self.untraced = untraced
        self.unsupported: dict[torch.fx.Node, str] = {}
        # Settings validated every entry; resolving once keeps the per-node check a set lookup.
        self.executed = frozenset(resolve_op(e) for e in settings.torch_executed_ops)

    def is_node_supported(self, submodules: Any, node: torch.fx.Node) -> bool:
        if node.op != "call_function":
            return False
        if node.target is operator.getitem:
            return True  # follows its producer; partitioning keeps them together
        if matches(node.target, self.executed):
            self.unsupported[node] = "listed in torch_executed_ops"
            return False
        if self.untraced and node.target in DYNAMO_CONVERTERS:
            return True
        entry, reason = DYNAMO_CONVERTERS.find(node, self.settings)
        if entry is None:
            self.unsupported[node] = reason
            return False
        return True


class _Partitioner(CapabilityBasedPartitioner):
    """torch's capability partitioner, asking about each node with one submodule table.

    torch rebuilds ``dict(named_modules())`` for every node it asks about; an unlifted ResNet-50 has
    hundreds of submodules, which made that rebuild 40% of partitioning.
    """

    def __init__(self, module: torch.fx.GraphModule, support: OperatorSupportBase, **kwargs: Any) -> None:
        super().__init__(module, support, **kwargs)
        self._submodules = dict(module.named_modules())

    def _is_node_supported(self, node: torch.fx.Node) -> bool:
        return self.operator_support.is_node_supported(self._submodules, node)


def _untraced(module: torch.fx.GraphModule) -> bool:
    """Whether no operation of the graph has a traced value (a graph from fx.symbolic_trace)."""
    return not any("val" in n.meta for n in module.graph.nodes if n.op == "call_function")


def _is_tensor_valued(node: torch.fx.Node) -> bool:
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor):
        return True
    if isinstance(val, (list, tuple)):
        return all(isinstance(v, torch.Tensor) for v in val)
    return False


def partition(module: torch.fx.GraphModule, settings: CompilationSettings) -> PartitionResult:
    """Fuse TensorRT-convertible regions of ``module`` into ``_run_on_acc_N`` submodules.

    Regions with fewer than ``min_block_size`` compute ops stay in PyTorch. With
    ``require_full_compilation`` any op left to PyTorch is an error listing all of them. With
    ``enable_resource_partitioning`` a region whose engine build would exceed ``cpu_memory_budget``
    becomes several consecutive segments (``_memory_budget``).
    """
    untraced = _untraced(module)
    support = _TensorRTSupport(settings, untraced)
    partitioner = _Partitioner(
        module, support, allows_single_node_partition=True, non_compute_ops=[str(t) for t in NON_COMPUTE_TARGETS]
    )
    proposed = partitioner.propose_partitions()
    result = PartitionResult(module=module)
    kept = []
    for part in proposed:
        _keep_inputs_tensor_valued(part, support.unsupported)
        _keep_outputs_tensor_valued(part, module, untraced)
        compute = [n for n in part.nodes if n.target not in NON_COMPUTE_TARGETS]
        if not compute:
            continue
        if len(compute) < settings.min_block_size and not settings.require_full_compilation:
            for n in compute:
                support.unsupported.setdefault(n, f"segment smaller than min_block_size={settings.min_block_size}")
            continue
        kept.append(part)
    segments: list[Any] = [list(part.nodes) for part in kept]
    if settings.enable_resource_partitioning:
        segments = split_for_budget(module, segments, host_memory_budget(settings.cpu_memory_budget))
    placed = {n for nodes in segments for n in nodes}
    for node in module.graph.nodes:
        if node.op != "call_function":
            continue
        if node in placed:
            result.converted_ops[op_name(node.target)] += 1
        elif node.target not in NON_COMPUTE_TARGETS and not is_state_write_back(node):
            reason = support.unsupported.get(node, "not placed in a TensorRT segment")
            result.fallback_ops[op_name(node.target)] += 1
            result.unsupported.append(UnsupportedNode(node.name, op_name(node.target), reason, _source_location(node)))
    for u in result.unsupported:
        logger.debug("%s (node %s) stays in PyTorch: %s; at %s", u.op, u.name, u.reason, u.location)
    if settings.require_full_compilation and result.unsupported:
        listing = "\n".join(f"  {u.op} (node {u.name}): {u.reason}; at {u.location}" for u in result.unsupported)
        raise UnsupportedOperatorError(
            "require_full_compilation=True but these ops cannot run in TensorRT:\n"
            f"{listing}\nRemove require_full_compilation to run them in PyTorch."
        )
    result.trt_segments = fuse_partitions(module, segments, TRT_SEGMENT_PREFIX)
    return result


def _keep_inputs_tensor_valued(part: Any, reasons: dict[torch.fx.Node, str]) -> None:
    """A TensorRT engine only takes tensors: a node using a number computed in PyTorch (a SymInt from
    ``.item()`` of a fallback op) runs in PyTorch too, and so on for what then depends on it."""
    changed = True
    while changed:
        changed = False
        for node in list(part.nodes):
            scalar = next((a for a in node.all_input_nodes if a not in part.nodes and _is_number_valued(a)), None)
            if scalar is None:
                continue
            reasons.setdefault(node, f"uses the number {scalar.name} computed in PyTorch; an engine takes only tensors")
            part.remove_node(node) if hasattr(part, "remove_node") else part.nodes.pop(node)
            changed = True


def _is_number_valued(node: torch.fx.Node) -> bool:
    # sym_size of a tensor is recomputed inside the segment from its tensor input; other numbers are not.
    return node.target is not torch.ops.aten.sym_size.int and isinstance(
        node.meta.get("val"), (torch.SymInt, torch.SymFloat, torch.SymBool, int, float, bool)
    )


def _keep_outputs_tensor_valued(part: Any, module: torch.fx.GraphModule, untraced: bool = False) -> None:
    """A TensorRT engine only returns tensors: move non-tensor results used outside back to PyTorch.

    ``sym_size`` results are duplicated instead, so the segment keeps its own copy.
    """
    changed = True
    while changed:
        changed = False
        for node in list(part.nodes):
            outside = [u for u in node.users if u not in part.nodes]
            # In an untraced graph an ATen op's result is taken to be a tensor.
            tensor = untraced or _is_tensor_valued(node)
            if not outside or tensor or node.target is operator.getitem:
                continue
            if node.target is torch.ops.aten.sym_size.int:
                with module.graph.inserting_after(node):
                    copy = module.graph.call_function(node.target, node.args, node.kwargs)
                    copy.meta = dict(node.meta)
                for user in outside:
                    user.replace_input_with(node, copy)
            else:
                part.remove_node(node) if hasattr(part, "remove_node") else part.nodes.pop(node)
                changed = True
