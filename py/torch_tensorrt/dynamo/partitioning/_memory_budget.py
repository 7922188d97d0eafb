"""``enable_resource_partitioning``: split TensorRT segments so each engine build fits a host-memory budget.

Torch-TensorRT's rule, which this follows: building an engine takes up to
``BUILD_MEMORY_PER_WEIGHT_BYTE`` (4) times the bytes of the weights the segment holds, so a segment
whose estimate exceeds ``cpu_memory_budget`` is cut into consecutive pieces, each of which becomes
its own engine (whatever ``min_block_size`` says). A model needing more than ``MAX_ENGINES`` budgets
is refused instead of being cut into a crowd of tiny engines. ``cpu_memory_budget=None`` means the
host memory available now.

Pieces are cut between ops in graph order, so an op is never split and every piece is a convex
region of the segment (a value flows from one piece only to later ones). An op that by itself
exceeds the budget gets a piece of its own and is built anyway, with a warning (as Torch-TensorRT
builds it). Differences from Torch-TensorRT: the budget is what the builds may use beyond the memory
the process already holds (Torch-TensorRT subtracts the process's resident memory from it, which
makes the split depend on what happened to be loaded), and every piece fits the budget, where
Torch-TensorRT lets the piece that crosses it keep its last op.
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Sequence

import torch
from torch.fx import GraphModule, Node

from torch_tensorrt._logging import warn_once

logger = logging.getLogger("torch_tensorrt")

BUILD_MEMORY_PER_WEIGHT_BYTE = 4
MAX_ENGINES = 50


def available_host_memory() -> int:
    """Bytes of host memory available to a new allocation now (Linux's MemAvailable)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def host_memory_budget(cpu_memory_budget: int | None) -> int:
    return cpu_memory_budget if cpu_memory_budget is not None else available_host_memory()


def build_memory(module: GraphModule, nodes: Sequence[Node]) -> int:
    """Torch-TensorRT's estimate of the host memory building an engine of ``nodes`` takes."""
    return BUILD_MEMORY_PER_WEIGHT_BYTE * sum(_tensor_bytes(module, name) for name in _weights_read(nodes))


def split_for_budget(module: GraphModule, segments: Sequence[Sequence[Node]], budget: int) -> list[list[Node]]:
    """The segments, each over ``budget`` replaced by consecutive pieces that fit it."""
    position = {node: index for index, node in enumerate(module.graph.nodes)}
    ordered = [sorted(nodes, key=position.__getitem__) for nodes in segments]
    estimates = [build_memory(module, nodes) for nodes in ordered]
    if sum(estimates) > MAX_ENGINES * budget:
        raise ValueError(
            f"cpu_memory_budget={budget} bytes is too small to compile this model: building its engines "
            f"takes about {sum(estimates)} bytes ({BUILD_MEMORY_PER_WEIGHT_BYTE} x the bytes of their weights), "
            f"more than {MAX_ENGINES} engines of that budget. Raise cpu_memory_budget to at least "
            f"{-(-sum(estimates) // MAX_ENGINES)} bytes, or leave it None to use the available host memory."
        )
    pieces: list[list[Node]] = []
    for nodes, estimate in zip(ordered, estimates):
        if estimate <= budget:
            pieces.append(nodes)
            continue
        split = _split_segment(module, nodes, budget)
        logger.info("resource partitioning: a segment of %d nodes became %d engines", len(nodes), len(split))
        pieces.extend(split)
    return pieces


def _split_segment(module: GraphModule, nodes: list[Node], budget: int) -> list[list[Node]]:
    """Greedy, in graph order: a piece takes ops while its estimate fits and starts anew before the
    op whose weights would overflow it (unless a non-tensor value crosses that point); an op without
    weights never starts a piece, it stays with the op before it."""
    units = _op_units(nodes)
    blocked = _blocked_cuts(units)
    pieces: list[list[Node]] = [[]]
    held: set[str] = set()
    used = 0
    for index, unit in enumerate(units):
        new = _weights_read(unit) - held
        extra = BUILD_MEMORY_PER_WEIGHT_BYTE * sum(_tensor_bytes(module, name) for name in new)
        if extra and used + extra > budget and _computes(pieces[-1]) and index not in blocked:
            pieces.append([])
            held, used = set(), 0
            new = _weights_read(unit)
            extra = BUILD_MEMORY_PER_WEIGHT_BYTE * sum(_tensor_bytes(module, name) for name in new)
        pieces[-1].extend(unit)
        held |= new
        used += extra
    for piece in pieces:
        _warn_if_over(module, piece, budget)
    _share_size_queries(module, nodes, pieces)
    return pieces


def _computes(piece: list[Node]) -> bool:
    return any(n.target is not operator.getitem for n in piece)


def _warn_if_over(module: GraphModule, piece: list[Node], budget: int) -> None:
    estimate = build_memory(module, piece)
    if estimate <= budget:
        return
    ops = ", ".join(n.name for n in piece if n.target not in (operator.getitem, torch.ops.aten.sym_size.int))
    warn_once(
        f"resource-budget-exceeded:{ops}:{budget}",
        f"cpu_memory_budget={budget} bytes is below the estimated {estimate} bytes of building an engine "
        f"for {ops}, which cannot be split further; it is built anyway. Raise cpu_memory_budget (or free "
        "host memory) if that build runs out of memory.",
        stacklevel=6,
    )


def _tensor_bytes(module: GraphModule, name: str) -> int:
    value = operator.attrgetter(name)(module)
    return value.numel() * value.element_size() if isinstance(value, torch.Tensor) else 0


def _weights_read(nodes: Sequence[Node]) -> set[str]:
    """The weights (``get_attr`` targets) these nodes read; an engine holds each once."""
    return {str(a.target) for n in nodes for a in n.all_input_nodes if a.op == "get_attr"}


def _op_units(nodes: list[Node]) -> list[list[Node]]:
    """The segment's ops in graph order, each with the getitems that unpack it (an engine returns
    tensors, never a tuple, so a multi-output op stays with its getitems). Size queries are left out:
    ``_share_size_queries`` gives every piece that needs one its own."""
    units: list[list[Node]] = []
    unit_of: dict[Node, list[Node]] = {}
    for node in nodes:
        if node.target is torch.ops.aten.sym_size.int:
            continue
        producer = node.args[0] if node.target is operator.getitem else None
        if isinstance(producer, Node) and producer in unit_of:
            unit_of[producer].append(node)
            unit_of[node] = unit_of[producer]
            continue
        unit = [node]
        units.append(unit)
        unit_of[node] = unit
    return units


def _blocked_cuts(units: list[list[Node]]) -> set[int]:
    """Unit indices a piece may not start at: a non-tensor value (other than a size query) made
    before them is read at or after them, and only tensors can pass between engines."""
    index_of = {node: i for i, unit in enumerate(units) for node in unit}
    blocked: set[int] = set()
    for i, unit in enumerate(units):
        for node in unit:
            if _is_tensor(node):
                continue
            last_reader = max((index_of[u] for u in node.users if u in index_of), default=i)
            blocked.update(range(i + 1, last_reader + 1))
    return blocked


def _is_tensor(node: Node) -> bool:
    val = node.meta.get("val")
    if isinstance(val, (list, tuple)):
        return all(isinstance(v, torch.Tensor) for v in val)
    return isinstance(val, torch.Tensor)


def _share_size_queries(module: GraphModule, nodes: list[Node], pieces: list[list[Node]]) -> None:
    """Put each size query of the segment in the first piece that reads it, and a copy of it in every
    other piece that does (a dimension is not a tensor an engine could pass on)."""
    piece_of = {n: i for i, piece in enumerate(pieces) for n in piece}
    for query in (n for n in nodes if n.target is torch.ops.aten.sym_size.int):
        readers: dict[int, list[Node]] = {}
        for user in query.users:
            if user in piece_of:
                readers.setdefault(piece_of[user], []).append(user)
        first, *others = sorted(readers) or [0]
        pieces[first].append(query)
        for index in others:
            with module.graph.inserting_after(query):
                copy = module.graph.call_function(query.target, query.args, query.kwargs)
            copy.meta = dict(query.meta)
            for user in readers[index]:
                user.replace_input_with(query, copy)
            pieces[index].append(copy)
