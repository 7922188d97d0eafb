"""Reach core ATen without a second trace, when the exported graph allows it.

torch.export hands us its training IR: ATen ops, but with in-place ops (``relu_``, ``add_``) and a
few composite ops (``conv2d``, ``batch_norm``, ``max_pool2d``, ``flatten``, ``dropout``) still in it.
``ExportedProgram.run_decompositions`` turns that into core ATen by tracing the whole model a second
time, which costs more than TensorRT's engine build on CNNs. For graphs made only of ops that the
retrace would keep, plus the handful of ops rewritten here, we edit the graph in place instead.

The rewrites produce exactly what the retrace produces (tests compare both paths); any other op, an
in-place op whose target might alias other tensors, or an unusual argument makes
``lower_to_core_aten`` return None and the caller retraces.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from typing import Any

import torch
from torch._export.utils import _check_valid_to_preserve, _is_cia_op
from torch.fx import Graph, GraphModule, Node
from torch.fx.traceback import NodeSource, NodeSourceAction

from torch_tensorrt.dynamo._node_args import arg
from torch_tensorrt.dynamo.lowering._decompositions import decomposes_aten_op
from torch_tensorrt.dynamo.lowering._unlift import unlift

logger = logging.getLogger("torch_tensorrt")

aten = torch.ops.aten


class _NeedsRetrace(Exception):
    """This graph holds something the in-place rewrites do not cover."""


class _RewriteFailed(Exception):
    """A rewrite raised: a bug in it, reported, and the program is retraced instead."""


Rewrite = Callable[["_Rewriter", Node], Node]
REWRITES: dict[Any, Rewrite] = {}


def _rewrites(*ops: Any) -> Callable[[Rewrite], Rewrite]:
    def register(fn: Rewrite) -> Rewrite:
        for op in ops:
            REWRITES[op] = fn
        return fn

    return register


def lower_to_core_aten(
    program: torch.export.ExportedProgram, edit: Callable[[Graph], None] | None = None
) -> GraphModule | None:
    """The program as an unlifted GraphModule in core ATen, or None if it needs the retrace.

    ``edit`` runs on the rewritten graph before the module's code is generated.
    """
    if not all(_kept_by_retrace(n) or _has_rewrite(n) for n in program.graph.nodes):
        return None

    def rewrite(graph: Graph) -> None:
        try:
            _Rewriter(graph).run()
        except _NeedsRetrace:
            raise
        except Exception as exc:
            raise _RewriteFailed(f"{type(exc).__name__}: {exc}") from exc
        graph.eliminate_dead_code()  # the retrace records only what the outputs need
        if edit is not None:
            edit(graph)

    try:
        return unlift(program, rewrite)  # a copy: the program itself stays untouched for a retrace
    except _NeedsRetrace as reason:
        logger.debug("lowering retraces the program: %s", reason)
    except _RewriteFailed as failure:  # a rewrite bug must not cost the user the compile: retrace instead
        logger.warning("lowering rewrites failed (%s); retracing the program instead", failure)
    return None


_SIZE_QUERIES = (aten.sym_size.int, aten.sym_stride.int, aten.sym_numel.default, aten.sym_storage_offset.default)


def _kept_by_retrace(node: Node) -> bool:
    """Would run_decompositions leave this node as it is?"""
    if node.op != "call_function":
        return True
    target = node.target
    if target in _SIZE_QUERIES:
        return True  # the retrace records size queries as nodes again, it never dispatches them
    if isinstance(target, torch._ops.OpOverload):
        if target._schema.is_mutable:
            return False
        if target.namespace != "aten":
            # Another namespace's composite op is decomposed unless the user's table keeps it;
            # telling which needs torch's full table, so such graphs take the retrace.
            return not _is_cia_op(target)
        if decomposes_aten_op(target):
            return False
        # Composite-implicit ops are kept only when export may preserve them (functional, not
        # aliasing) and our table does not ask for their decomposition.
        return not _is_cia_op(target) or _check_valid_to_preserve(target)
    # Symbolic size arithmetic is traced again as the same Python calls.
    return getattr(target, "__module__", None) in ("_operator", "math")  # operator.getitem included


def _has_rewrite(node: Node) -> bool:
    return node.op == "call_function" and (node.target in REWRITES or _functional_twin(node.target) is not None)


class _Rewriter:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.fake_mode = torch._guards.detect_fake_mode(
            [n.meta.get("val") for n in graph.nodes if n.op in ("placeholder", "get_attr")]
        )
        if self.fake_mode is None:
            raise _NeedsRetrace("no fake tensors on the graph inputs")
        self._empty: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        # One size query per symbol, shared by every rewrite that needs it (as the retrace does).
        self.size_nodes: dict[str, Node] = {
            str(n.meta["val"].node.expr): n
            for n in graph.nodes
            if n.target is aten.sym_size.int and isinstance(n.meta.get("val"), torch.SymInt)
        }

    def run(self) -> None:
        for node in list(self.graph.nodes):
            if _kept_by_retrace(node):
                continue
            if node.target in REWRITES:
                with self.graph.inserting_before(node):
                    replacement = REWRITES[node.target](self, node)
            elif _functional_twin(node.target) is not None:
                replacement = self.functionalize(node)
            else:
                raise _NeedsRetrace(f"no rewrite for {node.target}")
            node.replace_all_uses_with(replacement)
            self.graph.erase_node(node)

    def call(
        self,
        like: Node,
        target: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None = None,
        *,
        value: Any = None,
    ) -> Node:
        """A new node computing ``target``, with its fake value and ``like``'s source information.

        A ``value`` known beforehand is taken as it is; otherwise ``target`` runs on fake tensors
        (running them for every rewritten node was a third of lowering's time on CNNs).
        """
        node = self.graph.call_function(target, args, kwargs or {})
        node.meta = {k: v for k, v in like.meta.items() if k != "val"}
        # Provenance, as the retrace records it: rules naming the exported graph's nodes or ops
        # (autocast_excluded_nodes / _ops) still find the node after its rewrite.
        node.meta["from_node"] = [NodeSource(like, "torch_tensorrt.lower_to_core_aten", NodeSourceAction.REPLACE)]
        if value is not None:
            node.meta["val"] = value
        else:
            fake_args, fake_kwargs = torch.fx.node.map_arg((args, kwargs or {}), lambda n: n.meta["val"])
            with self.fake_mode:
                node.meta["val"] = target(*fake_args, **fake_kwargs)
        if target is not operator.getitem and not _kept_by_retrace(node):
            raise _NeedsRetrace(f"{target} would itself be decomposed")
        return node

    def empty_statistics(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two empty fake tensors of ``like``'s dtype and device, made once per dtype and device."""
        key = (like.dtype, like.device)
        if key not in self._empty:
            with self.fake_mode:
                empty = like.new_zeros((0,))
            self._empty[key] = (empty, empty)
        return self._empty[key]

    def same(self, like: Node, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Node:
        """A new node computing exactly what ``like`` computed, in core ATen."""
        return self.call(like, target, args, kwargs, value=like.meta["val"])

    def sizes_of(self, node: Node, source: Node) -> list[Any]:
        """``node``'s output shape as view() arguments: ints, and size queries on ``source``'s dims."""
        return [
            self.size(node, source, size) if isinstance(size, torch.SymInt) else size for size in node.meta["val"].shape
        ]

    def size(self, node: Node, source: Node, size: torch.SymInt) -> Node:
        """A node giving the dynamic ``size`` for ``node``: a size query on the dim of ``source`` that has it."""
        key = str(size.node.expr)
        if key not in self.size_nodes or not self.size_nodes[key] < node:
            known = source.meta["val"].shape
            dims = [d for d, s in enumerate(known) if isinstance(s, torch.SymInt) and str(s.node.expr) == key]
            if not dims:
                raise _NeedsRetrace(f"{node.target} makes a dynamic size out of several input dims")
            self.size_nodes[key] = self.call(node, aten.sym_size.int, (source, dims[0]))
        return self.size_nodes[key]

    def arithmetic(self, node: Node, op: Callable[[Any, Any], Any], a: Node | int, b: Node | int) -> Node | int:
        """``op(a, b)`` on sizes for ``node``; like the retrace, a result some node already holds is reused."""
        value = op(*(v.meta["val"] if isinstance(v, Node) else v for v in (a, b)))
        if not isinstance(value, torch.SymInt):
            return value
        key = str(value.node.expr)
        if key not in self.size_nodes or not self.size_nodes[key] < node:
            self.size_nodes[key] = self.call(node, op, (a, b))
        return self.size_nodes[key]

    def viewable(self, source: Node, node: Node) -> bool:
        """Can ``source`` be viewed with ``node``'s output shape (the test reshape makes)?"""
        with self.fake_mode:
            try:
                source.meta["val"].view(node.meta["val"].shape)
            except (RuntimeError, ValueError) as exc:
                if not any(text in str(exc) for text in ("view size is not compatible", "Cannot view a tensor")):
                    raise _NeedsRetrace(f"cannot decide whether {node.target} copies: {exc}") from exc
                return False
        return True

    def functionalize(self, node: Node) -> Node:
        """``x.op_(...)`` becomes ``y = op(x, ...)``, and every later use of ``x`` reads ``y``."""
        target = node.args[0]
        if not isinstance(target, Node) or not _is_fresh(target):
            raise _NeedsRetrace(f"{node.target} writes into an input, a weight or a view")
        if any(_returns_alias(u.target) and _functional_twin(u.target) is None for u in target.users):
            raise _NeedsRetrace(f"{node.target} writes into a tensor that has views")
        # With no tensor argument besides its target, an in-place op that ran in eager computes what
        # its functional twin computes: a Python scalar cannot promote the result past the target's
        # dtype category, and eager refuses a result it cannot cast back into the target.
        only_target = all(a is target or not isinstance(a, Node) for a in (*node.args, *node.kwargs.values()))
        with self.graph.inserting_before(node):
            twin = _functional_twin(node.target)
            result = (self.same if only_target else self.call)(node, twin, node.args, node.kwargs)
        before, after = target.meta["val"], result.meta["val"]
        # An in-place op keeps its target's dtype and shape; the functional one may promote or broadcast.
        if before.dtype != after.dtype or _shape_key(before) != _shape_key(after):
            raise _NeedsRetrace(f"{node.target} would change its target's dtype or shape")
        for user in list(target.users):
            if user is not node and user is not result and user > node:
                user.replace_input_with(target, result)
        return result


def _functional_twin(op: Any) -> Any:
    """``aten.relu_.default`` -> ``aten.relu.default`` (same arguments), else None."""
    if not isinstance(op, torch._ops.OpOverload) or not op._schema.is_mutable:
        return None
    base = op._schema.name.split("::", 1)[1]
    if not base.endswith("_") or base.endswith("__"):
        return None
    packet = getattr(aten, base[:-1], None)
    twin = getattr(packet, op._overloadname, None) if packet is not None else None
    if not isinstance(twin, torch._ops.OpOverload) or twin._schema.is_mutable:
        return None
    if [a.name for a in twin._schema.arguments] != [a.name for a in op._schema.arguments]:
        return None
    return twin


def _returns_alias(target: Any) -> bool:
    if target is operator.getitem:
        return False
    if not isinstance(target, torch._ops.OpOverload):
        return True  # unknown: assume it may alias
    return any(r.alias_info is not None for r in target._schema.returns)


def _is_fresh(node: Node) -> bool:
    """Does this node produce a new tensor that nothing else aliases?"""
    if node.op != "call_function":
        return False
    if node.target is operator.getitem:
        return isinstance(node.args[0], Node) and _is_fresh(node.args[0])
    target = node.target
    return isinstance(target, torch._ops.OpOverload) and not target._schema.is_mutable and not _returns_alias(target)


def _shape_key(value: torch.Tensor) -> tuple[str, ...]:
    return tuple(str(d.node.expr) if isinstance(d, torch.SymInt) else str(d) for d in value.shape)


def _named_args(node: Node) -> dict[str, Any]:
    """Every schema argument of ``node`` by name, defaults filled in."""
    named = {}
    for i, schema_arg in enumerate(node.target._schema.arguments):
        if i < len(node.args):
            named[schema_arg.name] = node.args[i]
        elif schema_arg.name in node.kwargs:
            named[schema_arg.name] = node.kwargs[schema_arg.name]
        else:
            named[schema_arg.name] = schema_arg.default_value if schema_arg.has_default_value() else None
    return named


def _as_list(value: Any, rank: int) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value) * rank if len(value) == 1 else list(value)
    return [value] * rank


@_rewrites(aten.conv1d.default, aten.conv2d.default, aten.conv3d.default)
def _conv(rewriter: _Rewriter, node: Node) -> Node:
    spatial = {aten.conv1d.default: 1, aten.conv2d.default: 2, aten.conv3d.default: 3}[node.target]
    x, weight = node.args[0], node.args[1]
    if x.meta["val"].dim() != spatial + 2:
        raise _NeedsRetrace(f"{node.target} on an unbatched input")
    args = (
        x,
        weight,
        arg(node.args, node.kwargs, 2, "bias"),
        _as_list(arg(node.args, node.kwargs, 3, "stride", 1), spatial),
        _as_list(arg(node.args, node.kwargs, 4, "padding", 0), spatial),
        _as_list(arg(node.args, node.kwargs, 5, "dilation", 1), spatial),
        False,
        [0] * spatial,
        arg(node.args, node.kwargs, 6, "groups", 1),
    )
    return rewriter.same(node, aten.convolution.default, args)


@_rewrites(aten.batch_norm.default)
def _batch_norm(rewriter: _Rewriter, node: Node) -> Node:
    x, weight, bias, mean, var, training, momentum, eps = (
        arg(node.args, node.kwargs, i, n) for i, n in enumerate(_BN_ARGS)
    )
    if training or mean is None or var is None:
        raise _NeedsRetrace("batch_norm in training mode or without running statistics")
    value = None
    x_value = x.meta["val"]
    if x_value.device.type == "cpu":
        # In inference the CPU kernel saves no statistics: its second and third outputs are empty
        # tensors. Spelling that out spares a fake run of the whole decomposition per input shape
        # (15 ms each on a first compile).
        value = (node.meta["val"], *rewriter.empty_statistics(x_value))
    norm = rewriter.call(
        node,
        aten._native_batch_norm_legit_no_training.default,
        (x, weight, bias, mean, var, momentum, eps),
        value=value,
    )
    return rewriter.same(node, operator.getitem, (norm, 0))


_BN_ARGS = ("input", "weight", "bias", "running_mean", "running_var", "training", "momentum", "eps")


@_rewrites(aten.max_pool2d.default, aten.max_pool3d.default)
def _max_pool(rewriter: _Rewriter, node: Node) -> Node:
    spatial = 2 if node.target is aten.max_pool2d.default else 3
    if node.args[0].meta["val"].dim() != spatial + 2:
        raise _NeedsRetrace(f"{node.target} on an unbatched input")
    with_indices = aten.max_pool2d_with_indices.default if spatial == 2 else aten.max_pool3d_with_indices.default
    pooled = rewriter.call(node, with_indices, node.args, node.kwargs)
    return rewriter.same(node, operator.getitem, (pooled, 0))


@_rewrites(aten.dropout.default, aten.dropout_.default)
def _dropout(rewriter: _Rewriter, node: Node) -> Node:
    if arg(node.args, node.kwargs, 2, "train") is not False:
        raise _NeedsRetrace("dropout in training mode")
    return node.args[0]  # inference dropout returns its input itself


@_rewrites(aten.flatten.using_ints)
def _flatten(rewriter: _Rewriter, node: Node) -> Node:
    x = node.args[0]
    before, after = x.meta["val"], node.meta["val"]
    if _shape_key(before) == _shape_key(after) or not before.is_contiguous():
        raise _NeedsRetrace("flatten that returns its input or needs a copy")
    return rewriter.same(node, aten.view.default, (x, rewriter.sizes_of(node, x)))


@_rewrites(aten.transpose.int)
def _transpose(rewriter: _Rewriter, node: Node) -> Node:
    x, dim0, dim1 = node.args
    rank = x.meta["val"].dim()
    perm = list(range(rank))
    a, b = dim0 % rank, dim1 % rank
    perm[a], perm[b] = perm[b], perm[a]
    return rewriter.same(node, aten.permute.default, (x, perm))


@_rewrites(aten.contiguous.default)
def _contiguous(rewriter: _Rewriter, node: Node) -> Node:
    x = node.args[0]
    if arg(node.args, node.kwargs, 1, "memory_format", torch.contiguous_format) is not torch.contiguous_format:
        raise _NeedsRetrace("contiguous to a non-default memory format")
    if x.meta["val"].is_contiguous():
        return x  # contiguous() returns the tensor itself
    return rewriter.call(node, aten.clone.default, (x,), {"memory_format": torch.contiguous_format})


@_rewrites(aten.reshape.default)
def _reshape(rewriter: _Rewriter, node: Node) -> Node:
    x = node.args[0]
    if x.meta["val"].is_contiguous() or rewriter.viewable(x, node):
        return rewriter.same(node, aten.view.default, (x, node.args[1]))
    # Strides that no view can express: reshape copies into a contiguous tensor first.
    copy = rewriter.call(node, aten.clone.default, (x,), {"memory_format": torch.contiguous_format})
    return rewriter.same(node, aten.view.default, (copy, rewriter.sizes_of(node, x)))


@_rewrites(aten.unflatten.int)
def _unflatten(rewriter: _Rewriter, node: Node) -> Node:
    x = node.args[0]
    if not x.meta["val"].is_contiguous():
        raise _NeedsRetrace("unflatten of a non-contiguous tensor")
    return rewriter.same(node, aten.view.default, (x, rewriter.sizes_of(node, x)))


@_rewrites(aten.squeeze.dim)
def _squeeze_dim(rewriter: _Rewriter, node: Node) -> Node:
    return rewriter.same(node, aten.squeeze.dims, (node.args[0], [node.args[1]]))


@_rewrites(aten.to.dtype, aten.to.dtype_layout, aten.to.device)
def _to(rewriter: _Rewriter, node: Node) -> Node:
    x = node.args[0]
    named = _named_args(node)
    if (
        named["copy"]
        or named["memory_format"] not in (None, torch.preserve_format)
        or named.get("layout") not in (None, torch.strided)
    ):
        raise _NeedsRetrace(f"{node.target} with copy, layout or memory format arguments")
    before, after = x.meta["val"], node.meta["val"]
    if after.device != before.device:
        raise _NeedsRetrace(f"{node.target} moves the tensor to another device")
    if after.dtype == before.dtype:
        return x  # to() without a change returns the tensor itself
    return rewriter.same(node, aten._to_copy.default, (x,), {"dtype": after.dtype})


@_rewrites(aten.arange.default)
def _arange(rewriter: _Rewriter, node: Node) -> Node:
    kwargs = dict(node.kwargs)
    if kwargs.get("layout") is None:
        kwargs["layout"] = torch.strided
    return rewriter.same(node, aten.arange.start_step, (0, node.args[0]), kwargs)


@_rewrites(aten.new_ones.default, aten.new_zeros.default)
def _new_filled(rewriter: _Rewriter, node: Node) -> Node:
    size, val = node.args[1], node.meta["val"]
    kwargs = {"dtype": val.dtype, "layout": torch.strided, "device": val.device}
    if "pin_memory" in node.kwargs:
        kwargs["pin_memory"] = node.kwargs["pin_memory"]
    fill = 1 if node.target is aten.new_ones.default else 0
    return rewriter.same(node, aten.full.default, (size, fill), kwargs)


_OPERATOR_TWINS = {aten.__and__.Tensor: aten.bitwise_and.Tensor, aten.__or__.Tensor: aten.bitwise_or.Tensor}


@_rewrites(*_OPERATOR_TWINS)
def _bitwise(rewriter: _Rewriter, node: Node) -> Node:
    return rewriter.same(node, _OPERATOR_TWINS[node.target], node.args, node.kwargs)


@_rewrites(aten.split.Tensor, aten.chunk.default)
def _split(rewriter: _Rewriter, node: Node) -> Node:
    x, count = node.args[0], node.args[1]
    dim = arg(node.args, node.kwargs, 2, "dim", 0)
    length = x.meta["val"].shape[dim]
    if not isinstance(length, int) or not isinstance(count, int) or count <= 0:
        raise _NeedsRetrace(f"{node.target} of a dynamic dimension")
    # chunk(n) is split(ceil(length / n)); both end with one shorter piece when it does not divide.
    size = -(-length // count) if node.target is aten.chunk.default else count
    if size == 0:
        raise _NeedsRetrace(f"{node.target} of an empty dimension")
    sizes = [size] * (length // size) + ([length % size] if length % size else [])
    return rewriter.same(node, aten.split_with_sizes.default, (x, sizes, dim))


@_rewrites(aten.diff.default)
def _diff(rewriter: _Rewriter, node: Node) -> Node:
    named = _named_args(node)
    if named["n"] != 1:
        raise _NeedsRetrace("diff of a higher order")
    dim = named["dim"]
    parts = [p for p in (named["prepend"], named["self"], named["append"]) if p is not None]
    base = parts[0] if len(parts) == 1 else rewriter.call(node, aten.cat.default, (parts, dim))
    # The length of what is differenced, summed over its parts left to right as the retrace does:
    # along a dynamic dim that records size queries and the arithmetic on them as nodes.
    length: Node | int = 0
    for i, part in enumerate(parts):
        size = part.meta["val"].shape[dim]
        term = rewriter.size(node, part, size) if isinstance(size, torch.SymInt) else size
        length = term if i == 0 else rewriter.arithmetic(node, operator.add, length, term)
    last = rewriter.arithmetic(node, operator.sub, length, 1)
    before = rewriter.call(node, aten.slice.Tensor, (base, dim, 0, last))
    after = rewriter.call(node, aten.slice.Tensor, (base, dim, 1, length))
    # Booleans differ by exclusive or, as torch.diff defines it.
    op = aten.logical_xor.default if base.meta["val"].dtype == torch.bool else aten.sub.Tensor
    return rewriter.call(node, op, (after, before))
