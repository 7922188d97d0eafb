"""Prepare a graph that was not traced by torch.export for conversion.

The interpreter and the converters read each node's fake value (dtype, symbolic shape). Graphs from
``torch.fx.symbolic_trace`` — what Torch-TensorRT's converter tests hand ``TRTInterpreter`` — have
none, so the values are propagated here from the input specs, with a symbolic size for every
dimension whose range is not a single value. Such graphs also call ops that torch.export would have
resolved: an overload packet (``aten.matmul``) or a Python operator on tensors (``x + 1``); those
become the ATen overload torch runs for them (:func:`resolve_untraced_targets`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.experimental.proxy_tensor import make_fx
from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv, StatelessSymbolicContext
from torch.fx.passes.fake_tensor_prop import FakeTensorProp

from torch_tensorrt.dynamo.conversion._scalar_constants import inline_scalar_constants_in_lists

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

# The node kinds whose value the interpreter or a converter reads.
_VALUED_OPS = ("placeholder", "call_function", "get_attr")


def lacks_fake_values(module: torch.fx.GraphModule) -> bool:
    """Whether some node the conversion reads has no ``meta["val"]``."""
    return any(node.op in _VALUED_OPS and "val" not in node.meta for node in module.graph.nodes)


def _fake_input(mode: FakeTensorMode, shape_env: ShapeEnv, shape_range: ShapeRange, dtype: torch.dtype) -> torch.Tensor:
    lo, opt, hi = shape_range
    dynamic = [a != b for a, b in zip(lo, hi)]
    # Sizes 0 and 1 get specialised by the shape environment: a dynamic dim is made from a size >= 2.
    example_shape = [max(o, min(2, h)) if d else o for o, h, d in zip(opt, hi, dynamic)]
    context = StatelessSymbolicContext(
        dynamic_sizes=[DimDynamic.DYNAMIC if d else DimDynamic.STATIC for d in dynamic],
        constraint_sizes=[None] * len(dynamic),
    )
    fake = mode.from_tensor(torch.empty(example_shape, dtype=dtype), symbolic_context=context)
    for size, low, high in zip(fake.shape, lo, hi):
        if isinstance(size, torch.SymInt):
            shape_env.constrain_symbol_range(size.node.expr, compiler_min=low, compiler_max=high)
    return fake


def propagate_fake_values(
    module: torch.fx.GraphModule, input_ranges: Sequence[ShapeRange], input_dtypes: Sequence[torch.dtype]
) -> None:
    """Run ``module`` on fake inputs of the given ranges and dtypes, recording every node's value."""
    placeholders = [node for node in module.graph.nodes if node.op == "placeholder"]
    if len(placeholders) != len(input_ranges):
        raise ValueError(
            f"the graph has {len(placeholders)} inputs but {len(input_ranges)} input specs were given; "
            "pass one torch_tensorrt.Input per graph input"
        )
    shape_env = ShapeEnv()
    mode = FakeTensorMode(shape_env=shape_env, allow_non_fake_inputs=True)
    fakes = [_fake_input(mode, shape_env, r, d) for r, d in zip(input_ranges, input_dtypes)]
    with mode:
        _UntracedFakeProp(module, mode).propagate_dont_convert_inputs(*fakes)
    return fakes


def _group_norm_sizes_from_input(args: tuple[Any, ...]) -> tuple[Any, ...]:
    # native_group_norm(x, weight, bias, N, C, HxW, group, eps): hand-written graphs pass N and HxW
    # of one shape; the converter reads them from x, so the value is propagated the same way.
    x = args[0]
    spatial = 1
    for size in x.shape[2:]:
        spatial = spatial * size
    return (x, args[1], args[2], x.shape[0], args[4], spatial, *args[6:])


class _UntracedFakeProp(FakeTensorProp):
    """FakeTensorProp with the value rules of ops whose eager meaning needs concrete data (or
    constant sizes) but whose converters work on any input of the spec."""

    def call_function(self, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if target is torch.sym_not and args and isinstance(args[0], torch.Tensor):
            # On a one-element tensor, sym_not is `not tensor`: a guard on data. Its converter
            # gives the truth value as a 1-element bool vector, the value recorded here.
            return torch.logical_not(args[0]).reshape(-1)
        if target is torch.ops.aten.native_group_norm.default and len(args) >= 6:
            args = _group_norm_sizes_from_input(args)
        return super().call_function(target, args, kwargs)


# Python operators on tensors and the ATen overloads torch runs for them (tensor, tensor-or-number).
_TENSOR_OPERATORS: dict[Any, tuple[Any, Any]] = {
    operator.add: (torch.ops.aten.add.Tensor, torch.ops.aten.add.Tensor),
    operator.sub: (torch.ops.aten.sub.Tensor, torch.ops.aten.sub.Tensor),
    operator.mul: (torch.ops.aten.mul.Tensor, torch.ops.aten.mul.Tensor),
    operator.truediv: (torch.ops.aten.div.Tensor, torch.ops.aten.div.Tensor),
    operator.floordiv: (torch.ops.aten.floor_divide.default, torch.ops.aten.floor_divide.default),
    operator.mod: (torch.ops.aten.remainder.Tensor, torch.ops.aten.remainder.Scalar),
    operator.pow: (torch.ops.aten.pow.Tensor_Tensor, torch.ops.aten.pow.Tensor_Scalar),
    operator.eq: (torch.ops.aten.eq.Tensor, torch.ops.aten.eq.Scalar),
    operator.ne: (torch.ops.aten.ne.Tensor, torch.ops.aten.ne.Scalar),
    operator.lt: (torch.ops.aten.lt.Tensor, torch.ops.aten.lt.Scalar),
    operator.le: (torch.ops.aten.le.Tensor, torch.ops.aten.le.Scalar),
    operator.gt: (torch.ops.aten.gt.Tensor, torch.ops.aten.gt.Scalar),
    operator.ge: (torch.ops.aten.ge.Tensor, torch.ops.aten.ge.Scalar),
    operator.and_: (torch.ops.aten.bitwise_and.Tensor, torch.ops.aten.bitwise_and.Scalar),
    operator.or_: (torch.ops.aten.bitwise_or.Tensor, torch.ops.aten.bitwise_or.Scalar),
    operator.xor: (torch.ops.aten.bitwise_xor.Tensor, torch.ops.aten.bitwise_xor.Scalar),
    operator.matmul: (torch.ops.aten.matmul.default, torch.ops.aten.matmul.default),
}


def _value(arg: Any) -> Any:
    return arg.meta.get("val") if isinstance(arg, torch.fx.Node) else arg


def _is_tensor(arg: Any) -> bool:
    return isinstance(_value(arg), torch.Tensor)


def _operator_overload(node: torch.fx.Node) -> Any:
    """The ATen overload of a Python binary operator whose first operand is a tensor (else None)."""
    pair = _TENSOR_OPERATORS.get(node.target)
    if pair is None or len(node.args) != 2 or node.kwargs or not _is_tensor(node.args[0]):
        return None
    return pair[0] if _is_tensor(node.args[1]) else pair[1]


def _accepts(schema: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether an overload's schema takes these arguments, telling tensors from numbers."""
    params = [a for a in schema.arguments if not a.kwarg_only]
    if len(args) > len(params):
        return False
    for param, arg in zip(params, args):
        wants_tensor = isinstance(param.type, torch.TensorType)
        if wants_tensor != _is_tensor(arg) and not (wants_tensor and arg is None):
            return False
    names = {a.name for a in schema.arguments}
    return all(key in names for key in kwargs)


def _packet_overload(node: torch.fx.Node) -> Any:
    """The overload of an ATen overload packet (``aten.matmul``) that takes the node's arguments."""
    packet = node.target
    names = sorted(packet.overloads(), key=lambda name: name != "default")
    for name in names:
        overload = getattr(packet, name)
        if _accepts(overload._schema, node.args, node.kwargs):
            return overload
    return None


def resolve_untraced_targets(module: torch.fx.GraphModule) -> None:
    """Replace overload packets and Python operators on tensors by the ATen overload they run
    (node values must be propagated first; the values stay the same)."""
    for node in module.graph.nodes:
        if node.op != "call_function":
            continue
        if isinstance(node.target, torch._ops.OpOverloadPacket):
            resolved = _packet_overload(node)
        else:
            resolved = _operator_overload(node)
        if resolved is not None:
            node.target = resolved
    module.recompile()


def _lacks_converter(node: torch.fx.Node) -> bool:
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS

    return (
        node.op == "call_function"
        and isinstance(node.target, torch._ops.OpOverload)
        and node.target not in DYNAMO_CONVERTERS
    )


def decompose_unconvertible(module: torch.fx.GraphModule, fakes: Sequence[torch.Tensor]) -> torch.fx.GraphModule:
    """When an op of the graph has no converter (``aten.tile``, ``aten.roll``, ...: ops that
    torch_tensorrt.compile decomposes before conversion), trace the graph again through the same
    decomposition table compile uses; otherwise return it unchanged."""
    if not any(_lacks_converter(node) for node in module.graph.nodes):
        return module
    from torch_tensorrt.dynamo.lowering._decompositions import get_decompositions

    decomposed = make_fx(module, decomposition_table=get_decompositions(), tracing_mode="symbolic")(*fakes)
    decomposed.graph.eliminate_dead_code()
    decomposed.recompile()
    return decomposed


def prepare_untraced_graph(
    module: torch.fx.GraphModule, input_ranges: Sequence[ShapeRange], input_dtypes: Sequence[torch.dtype]
) -> torch.fx.GraphModule:
    """A graph not traced by torch.export, made convertible: node values from the input specs,
    ATen overloads for packets and Python operators, ops without a converter decomposed."""
    inline_scalar_constants_in_lists(module)
    fakes = propagate_fake_values(module, input_ranges, input_dtypes)
    resolve_untraced_targets(module)
    return decompose_unconvertible(module, fakes)


__all__ = [
    "decompose_unconvertible",
    "lacks_fake_values",
    "prepare_untraced_graph",
    "propagate_fake_values",
    "resolve_untraced_targets",
]
