"""The exported program as a GraphModule that holds its own weights.

``ExportedProgram.module()`` does this and more: it deep-copies every node's metadata, records each
node's provenance, installs input checks that lowering removes again and regenerates the code three
times, which was half of lowering's time on CNNs. For the programs a compile usually sees (inputs,
weights, buffers and tensor constants in; outputs out; nothing mutated) one shallow graph copy and
one code generation suffice. Anything else is left to ``module()``.
"""

from __future__ import annotations

import types
from collections.abc import Callable

import torch
from torch.export._unlift import _get_codegen
from torch.export.graph_signature import InputKind, OutputKind
from torch.fx import Graph, GraphModule, Node

_STATE_KINDS = (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)


def unlift(program: torch.export.ExportedProgram, edit: Callable[[Graph], None] | None = None) -> GraphModule:
    """A new GraphModule computing ``program``, with its state as attributes; ``program`` is untouched.

    ``edit`` changes the new graph in place before its code is generated, saving a regeneration.
    """
    signature = program.graph_signature
    call_signature = program.module_call_graph[0].signature
    plain = (
        call_signature is not None
        and all(s.kind is InputKind.USER_INPUT or s.kind in _STATE_KINDS for s in signature.input_specs)
        and all(s.kind is OutputKind.USER_OUTPUT for s in signature.output_specs)
        # Submodules (higher-order op bodies) live on the program's module: module() carries them over.
        and all(n.op in ("placeholder", "call_function", "output") for n in program.graph.nodes)
    )
    if not plain:
        module = program.module(check_guards=False)
        # torch.export's own input-range check would pre-empt the engines' profile checks, whose
        # errors name the input, its shape and the allowed range; the engines enforce the same ranges.
        for key, hook in list(module._forward_pre_hooks.items()):
            if getattr(hook, "__name__", "") == "_check_input_constraints_pre_hook":
                del module._forward_pre_hooks[key]
        if edit is not None:
            edit(module.graph)
            module.recompile()
        return _fixed_mode(module)

    graph = Graph()
    copies: dict[Node, Node] = {}
    result, output = graph.graph_copy(
        program.graph, copies, return_output_node=True
    )  # node metadata is copied shallowly
    graph.output(result, output.type).meta = dict(output.meta)
    # The state goes straight onto the module: GraphModule(root, graph) would copy it from a root
    # and turn tensor constants into buffers on the way.
    module = GraphModule(torch.nn.Module(), Graph())
    placeholders = [n for n in program.graph.nodes if n.op == "placeholder"]
    for original, spec in zip(placeholders, signature.input_specs, strict=True):
        if spec.kind is InputKind.USER_INPUT:
            continue
        _attach(module, spec, program)
        placeholder = copies[original]
        with graph.inserting_before(placeholder):
            attribute = graph.get_attr(spec.target)
        attribute.meta = placeholder.meta
        placeholder.replace_all_uses_with(attribute)
        graph.erase_node(placeholder)
    if edit is not None:
        graph.owning_module = module  # passes that run the graph (autocast calibration) need the weights
        edit(graph)
    call_spec = program.call_spec
    graph._codegen = _get_codegen(call_spec.in_spec, call_spec.out_spec, call_signature.forward_arg_names)
    module.graph = graph  # the one code generation
    module.meta.update(program.graph_module.meta)
    return _fixed_mode(module)


def _fixed_mode(module: GraphModule) -> GraphModule:
    """The graph was traced in one mode; train()/eval() could not switch it, so they say so (as module() does)."""

    def refuse(self: GraphModule, mode: bool = True) -> GraphModule:
        raise NotImplementedError(
            "a compiled module runs in the mode its model was exported in (dropout, batch-norm statistics); "
            "call train()/eval() on the model and compile it again"
        )

    module.train = types.MethodType(refuse, module)  # type: ignore[method-assign]
    module.eval = types.MethodType(refuse, module)  # type: ignore[method-assign]
    return module


def _attach(
    root: torch.nn.Module, spec: torch.export.graph_signature.InputSpec, program: torch.export.ExportedProgram
) -> None:
    """Put one parameter, buffer or constant at its dotted path under ``root``, as what it was."""
    *path, name = str(spec.target).split(".")
    owner = root
    for part in path:
        if not hasattr(owner, part):
            owner.add_module(part, torch.nn.Module())
        owner = getattr(owner, part)
    if spec.kind is InputKind.PARAMETER:
        owner.register_parameter(name, program.state_dict[spec.target])
    elif spec.kind is InputKind.BUFFER:
        # Non-persistent buffers are kept out of the state dict, so export keeps them with the constants.
        value = program.state_dict[spec.target] if spec.persistent else program.constants[spec.target]
        owner.register_buffer(name, value, persistent=bool(spec.persistent))
    else:
        setattr(owner, name, program.constants[spec.target])
