"""Engine binding names chosen by the caller of ``convert_exported_program_to_serialized_trt_engine``.

As in Torch-TensorRT 2.14, ``arg_input_binding_names`` / ``kwarg_input_binding_names`` are pytrees of
strings shaped like the program's positional / keyword inputs, ``output_binding_names`` one shaped like
what ``forward`` returns; their leaves, in pytree flattening order, name the flat program inputs and
outputs. This module checks them against the exported program and maps them onto the I/O of the TensorRT
segment that becomes the engine (the compile reads ``REQUESTED_BINDING_NAMES``).
"""

from __future__ import annotations

import contextvars
import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.utils._pytree as pytree

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo.conversion._conversion import SegmentIONames


class BindingNameError(ValueError):
    """Binding names that do not fit the exported program (structure, type, duplicates)."""


@dataclass(frozen=True)
class RequestedBindingNames:
    inputs: tuple[str, ...] | None  # one per flat program input (args, then kwargs); None: not given
    outputs: tuple[str, ...] | None  # one per flat program output; None: not given


REQUESTED_BINDING_NAMES: contextvars.ContextVar[RequestedBindingNames | None] = contextvars.ContextVar(
    "torch_tensorrt_requested_binding_names", default=None
)


def _program_specs(program: torch.export.ExportedProgram) -> tuple[Any, Any, Any]:
    signature = program.module_call_graph[0].signature
    if signature is None or signature.in_spec is None:
        raise BindingNameError("the exported program records no input/output structure to match binding names to")
    return signature.in_spec.child(0), signature.in_spec.child(1), signature.out_spec


def _leaf_paths(spec: Any) -> list[str]:
    dummy = pytree.tree_unflatten([0] * spec.num_leaves, spec)
    return [pytree.keystr(path) or "<the value itself>" for path, _ in pytree.tree_flatten_with_path(dummy)[0]]


def _flat_names(names: Any, spec: Any, argument: str) -> list[str]:
    if isinstance(names, dict) and spec.type is dict and set(names) == set(spec.context):
        names = {key: names[key] for key in spec.context}  # keyword order does not matter
    leaves, given = pytree.tree_flatten(names)
    if given != spec:
        slots = "\n".join(f"  [{i}] {p}" for i, p in enumerate(_leaf_paths(spec)))
        raise BindingNameError(
            f"{argument} must have the structure of the program's {argument.split('_binding')[0]}s, "
            f"{spec}, with one name per value:\n{slots}\nGot {names!r} (structure {given})."
        )
    bad = [leaf for leaf in leaves if not isinstance(leaf, str) or not leaf]
    if bad:
        raise BindingNameError(f"{argument}: every binding name must be a non-empty str, got {bad!r}")
    return leaves


def resolve_binding_names(
    program: torch.export.ExportedProgram, arg_names: Any, kwarg_names: Any, output_names: Any
) -> RequestedBindingNames | None:
    """The flat names requested for the program's inputs and outputs, checked; None if none were given."""
    if arg_names is None and kwarg_names is None and output_names is None:
        return None
    args_spec, kwargs_spec, out_spec = _program_specs(program)
    inputs = None
    if arg_names is not None or kwarg_names is not None:
        if arg_names is None and args_spec.num_leaves:
            raise BindingNameError("kwarg_input_binding_names was given without arg_input_binding_names: name both")
        if kwarg_names is None and kwargs_spec.num_leaves:
            raise BindingNameError("arg_input_binding_names was given without kwarg_input_binding_names: name both")
        inputs = _flat_names(arg_names if arg_names is not None else (), args_spec, "arg_input_binding_names")
        inputs += _flat_names(kwarg_names if kwarg_names is not None else {}, kwargs_spec, "kwarg_input_binding_names")
    outputs = None if output_names is None else _flat_names(output_names, out_spec, "output_binding_names")
    everything = (inputs or []) + (outputs or [])
    repeated = sorted({n for n in everything if everything.count(n) > 1})
    if repeated:
        raise BindingNameError(f"binding names must be unique across inputs and outputs; repeated: {repeated}")
    return RequestedBindingNames(
        tuple(inputs) if inputs is not None else None, tuple(outputs) if outputs is not None else None
    )


def _engine_output_index(node: Any, call: torch.fx.Node) -> int | None:
    if node is call:
        return 0
    is_item = isinstance(node, torch.fx.Node) and node.target is operator.getitem and node.args[0] is call
    return int(node.args[1]) if is_item else None


def segment_io_names(
    gm: torch.fx.GraphModule, call: torch.fx.Node, segment_outputs: int, requested: RequestedBindingNames
) -> SegmentIONames:
    """``requested`` mapped onto the inputs and the ``segment_outputs`` outputs of the TensorRT segment
    ``call`` in ``gm``."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    input_names: list[str | None] = [None] * len(call.args)
    if requested.inputs is not None:
        if len(requested.inputs) != len(placeholders):
            raise BindingNameError(
                f"{len(requested.inputs)} input binding names for a program with {len(placeholders)} inputs"
            )
        by_node = dict(zip(placeholders, requested.inputs))
        for index, arg in enumerate(call.args):
            input_names[index] = by_node.get(arg)
        unused = [by_node[p] for p in placeholders if p not in call.args]
        if unused:
            warn_once(
                f"binding-names-unused:{unused}",
                f"input binding names {unused} name program inputs the engine does not read: the engine has no "
                "binding for them (an unused input is not an engine input).",
                stacklevel=6,
            )
    outputs = requested.outputs
    output_names = _segment_output_names(gm, call, segment_outputs, outputs) if outputs is not None else ()
    return tuple(input_names), output_names


def _segment_output_names(
    gm: torch.fx.GraphModule, call: torch.fx.Node, segment_outputs: int, names: tuple[str, ...]
) -> tuple[str | None, ...]:
    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    values = out_node.args[0] if isinstance(out_node.args[0], (list, tuple)) else (out_node.args[0],)
    if len(values) != len(names):
        raise BindingNameError(f"{len(names)} output binding names for a program with {len(values)} outputs")
    result: list[str | None] = [None] * segment_outputs
    for position, (value, name) in enumerate(zip(values, names)):
        index = _engine_output_index(value, call)
        if index is None:
            raise BindingNameError(
                f"output binding name {name!r}: program output {position} ({value}) is not computed by the engine "
                "(it is a program input or a constant), so the engine has no output binding to name"
            )
        if result[index] is not None:
            raise BindingNameError(
                f"output binding names {result[index]!r} and {name!r} name the same engine output (the program "
                "returns one value twice); an engine output has one name"
            )
        result[index] = name
    return tuple(result)
