"""Fuse each TensorRT partition into a submodule called from the parent graph.

torch's ``fuse_by_partitions`` does the same but then re-sorts the whole parent graph and
regenerates the code of the parent and of every segment twice; on a CNN that was most of
partitioning's time. Here each call is placed where the graph is already in order, and code is
generated once per module.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Sequence

import torch
from torch.fx import Graph, GraphModule, Node


class PartitionCycleError(RuntimeError):
    """A partition cannot become one call: a node outside it both uses and feeds the partition."""


def fuse_partitions(module: GraphModule, partitions: Sequence[Collection[Node]], prefix: str) -> list[str]:
    """Replace each partition of ``module``'s graph by a call to a new submodule ``{prefix}{i}``.

    A segment takes the values its nodes read from outside, in graph order, except weights (values
    read through ``get_attr``): those become the segment's own constants, which TensorRT bakes into
    the engine — unless the program writes to them (mutated buffers stay inputs). It returns its one value used outside, or a tuple of them (unpacked with getitem).
    Returns the submodule names; ``module``'s code is regenerated.
    """
    segments: dict[str, GraphModule] = {}
    for index, nodes in enumerate(partitions):
        name = f"{prefix}{index}"
        segments[name] = _fuse_one(module, set(nodes), name)
    _drop_unused_attributes(module)
    # Segments join after the parent's code generation: it would regenerate every child's code too.
    module.recompile()
    for name, segment in segments.items():
        module.add_submodule(name, segment)
    module.graph.lint()
    return list(segments)


def _fuse_one(module: GraphModule, inside: set[Node], name: str) -> GraphModule:
    graph = module.graph
    members, consumers, position = _span(graph, inside)
    # Inputs in graph order: graph inputs keep the order the user passes them in.
    reads = sorted({a for n in members for a in n.all_input_nodes if a not in inside}, key=position.__getitem__)
    inputs = [value for value in reads if value.op != "get_attr" or is_mutated_state(value)]
    outputs = [n for n in members if any(u not in inside for u in n.users)]

    segment = GraphModule(torch.nn.Module(), Graph(), class_name=name)
    body = Graph()
    copies: dict[Node, Node] = {}
    for value in inputs:
        copies[value] = body.placeholder(value.name, type_expr=value.type)
    for value in reads:
        if value.op == "get_attr" and value not in copies:
            attribute = f"_const_{value.name}"
            segment.register_buffer(
                attribute, operator.attrgetter(str(value.target))(module).detach(), persistent=False
            )
            copies[value] = body.get_attr(attribute)
        copies[value].meta = dict(value.meta)
    for node in members:
        copies[node] = body.node_copy(node, copies.__getitem__)
    body.output(copies[outputs[0]] if len(outputs) == 1 else tuple(copies[o] for o in outputs))
    segment.graph = body  # its one code generation

    with graph.inserting_after(members[-1]):
        # create_node: call_module() insists the submodule exists, and it joins only after codegen.
        call = graph.create_node("call_module", name, tuple(inputs))
    last = call
    if len(outputs) == 1:
        call.meta = dict(outputs[0].meta)
        outputs[0].replace_all_uses_with(call, delete_user_cb=lambda user: user not in inside)
    else:
        call.meta["val"] = tuple(o.meta.get("val") for o in outputs)
        for i, value in enumerate(outputs):
            with graph.inserting_after(last):
                last = graph.call_function(operator.getitem, (call, i))
            last.meta = dict(value.meta)
            value.replace_all_uses_with(last, delete_user_cb=lambda user: user not in inside)
    for node in consumers:  # they read the segment's results, so they now follow its call
        last.append(node)
        last = node
    for node in reversed(members):
        graph.erase_node(node)
    return segment


def is_state_write_back(node: Node) -> bool:
    """``copy_`` of a new value into a graph input or a buffer: how an exported program that mutates
    its inputs or buffers (``x[:, 1:3] = v``, ``self.cache[...] = ...``) stores the result.

    The value is computed in TensorRT like any other; storing it into the caller's tensor is a side
    effect an engine cannot have, so the copy stays in PyTorch (and is no fallback).
    """
    if node.op != "call_function" or node.target is not torch.ops.aten.copy_.default:
        return False
    destination = node.args[0]
    return isinstance(destination, Node) and destination.op in ("placeholder", "get_attr")


def is_mutated_state(value: Node) -> bool:
    """A buffer the program writes back to: an engine input read at every call, never a constant
    baked in at build time (the engine would keep reading the value it had then)."""
    return value.op == "get_attr" and any(is_state_write_back(u) and u.args[0] is value for u in value.users)


def _drop_unused_attributes(module: GraphModule) -> None:
    """Weights now held by segments (and baked into their engines) would otherwise stay in memory,
    and in saved files, twice."""
    unused = set()
    for node in list(module.graph.nodes):
        if node.op == "get_attr" and not node.users:
            module.graph.erase_node(node)
            unused.add(str(node.target))
    unused -= {str(n.target) for n in module.graph.nodes if n.op == "get_attr"}  # still read elsewhere
    for target in unused:
        owner_path, _, attr = target.rpartition(".")
        owner = module.get_submodule(owner_path) if owner_path else module
        if hasattr(owner, attr) and not isinstance(getattr(owner, attr), torch.nn.Module):
            delattr(owner, attr)
    module.delete_all_unused_submodules()


def _span(graph: Graph, inside: set[Node]) -> tuple[list[Node], list[Node], dict[Node, int]]:
    """The partition's nodes in graph order, the outside nodes among them that use its results, and
    the position of every node up to the partition's last.

    Those consumers must move behind the segment's call; none of them may feed the partition.
    """
    members: list[Node] = []
    consumers: list[Node] = []
    position: dict[Node, int] = {}
    downstream = set(inside)
    for index, node in enumerate(graph.nodes):
        if len(members) == len(inside):
            break
        position[node] = index
        reads_partition = any(a in downstream for a in node.all_input_nodes)
        if node in inside:
            if any(a in downstream and a not in inside for a in node.all_input_nodes):
                raise PartitionCycleError(
                    f"{node.name} reads a value computed outside its partition from the partition's own results"
                )
            members.append(node)
        elif members and reads_partition:
            downstream.add(node)
            consumers.append(node)
    return members, consumers, position
