"""``lift_mutable_buffers=True`` of ``convert_exported_program_to_serialized_trt_engine``.

As in Torch-TensorRT, every buffer the program mutates (a ``BUFFER_MUTATION`` of its graph signature)
becomes an extra engine input named ``buf_<buffer name>`` (dots become underscores), after the user's
inputs and in the program's buffer order, and the engine writes the buffer's new value into that input's
memory: an output of TensorRT's KV-cache update layer aliased to the input
(``ICudaEngine.get_aliased_input_tensor``). The aliased outputs follow the user's outputs. Buffers the
program only reads stay constants of the engine.

Only writes the KV-cache update layer can perform are lifted (see :mod:`.conversion._kv_cache_writes`);
any other mutation would need its new value copied back into the buffer after each call, which a bare
engine cannot express, so the whole request is refused with a ``RuntimeError`` naming the buffers,
rather than returning an engine whose buffer never updates. So is a program that reads a buffer's old
value besides writing it (the engine updates the buffer in place, so such a read could see the new one),
and a write of a constant (TensorRT-RTX 1.7's builder fails on a KV-cache update of one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.utils._pytree as pytree
from torch.export.exported_program import ExportedProgram, ModuleCallEntry, ModuleCallSignature
from torch.export.graph_signature import (
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)
from torch.fx import Node

from torch_tensorrt.dynamo.conversion._kv_cache_writes import KVCacheWrite, kv_cache_write

aten = torch.ops.aten


@dataclass(frozen=True)
class LiftedBuffer:
    target: str  # the buffer's name in the module (``layers.0.k_cache``)
    binding: str  # the engine input it becomes (``buf_layers_0_k_cache``)
    value: torch.Tensor  # its current value: the example the engine's input is built for


@dataclass(frozen=True)
class LiftedProgram:
    program: ExportedProgram  # mutated buffers are keyword inputs (after the user's), their new values outputs
    buffers: list[LiftedBuffer]


def _value_free_use(user: Node, placeholder: Node) -> bool:
    """A use of the buffer that reads only its shape and dtype: ``cache[:, :, a:b] = v`` functionalizes
    to ``copy(slice(cache), v)``, whose first argument gives the written slice's shape only."""
    if user.target is not aten.slice.Tensor or user.args[0] is not placeholder:
        return False
    return all(u.target is aten.copy.default and u.args[0] is user and u.args[1] is not user for u in user.users)


def _reads_an_input(node: Node, inputs: set[Node]) -> bool:
    """Whether ``node`` depends on one of ``inputs`` (what stays an engine input; the rest is constant)."""
    seen, stack = set(), [node]
    while stack:
        current = stack.pop()
        if current in inputs:
            return True
        if current not in seen:
            seen.add(current)
            # copy(destination, source) takes only the destination's shape and dtype (see _value_free_use).
            copy = current.target is aten.copy.default and isinstance(current.args[1], Node)
            stack.extend([current.args[1]] if copy else current.all_input_nodes)
    return False


def _why_not_aliasable(placeholder: Node, new_value: Node, engine_inputs: set[Node]) -> str | None:
    write = kv_cache_write(new_value)
    if not isinstance(write, KVCacheWrite):
        return write
    if write.cache is not placeholder:
        return "the write goes into an intermediate value, not the buffer itself (it is written more than once?)"
    if not _reads_an_input(write.update, engine_inputs):
        # TensorRT-RTX 1.7's builder fails on a KV-cache update of a constant (Myelin: CHECK(is_tensor())).
        return "the written value is a constant (it reads no input), which TensorRT-RTX's KV-cache update layer cannot write"
    other_reads = [u.name for u in placeholder.users if u is not new_value and not _value_free_use(u, placeholder)]
    if other_reads:
        return (
            f"the program also reads the buffer's previous value ({', '.join(other_reads)}); the engine updates "
            "the buffer in place, so such reads could see the new value"
        )
    return None


def _binding_name(target: str, taken: set[str]) -> str:
    name = base = "buf_" + target.replace(".", "_")
    suffix = 0
    while name in taken:
        suffix += 1
        name = f"{base}_{suffix}"
    taken.add(name)
    return name


def _classify(program: ExportedProgram) -> dict[str, Node]:
    """Mutated buffer name -> the node computing its new value; refuses writes an engine cannot alias."""
    signature = program.graph_signature
    nodes = {n.name: n for n in program.graph.nodes}
    placeholders = {
        spec.target: nodes[spec.arg.name] for spec in signature.input_specs if spec.kind is InputKind.BUFFER
    }
    mutated = {
        str(spec.target): nodes[spec.arg.name]
        for spec in signature.output_specs
        if spec.kind is OutputKind.BUFFER_MUTATION
    }
    engine_inputs = {nodes[s.arg.name] for s in signature.input_specs if s.kind is InputKind.USER_INPUT}
    engine_inputs |= {placeholders[t] for t in mutated}
    refused = {
        t: why for t, v in mutated.items() if (why := _why_not_aliasable(placeholders[t], v, engine_inputs)) is not None
    }
    if refused:
        reasons = "\n".join(f"  {t}: {why}" for t, why in refused.items())
        raise RuntimeError(
            f"convert_exported_program_to_serialized_trt_engine cannot express the write-back for mutable "
            f"buffer(s) {sorted(refused)}: the engine cannot update them in place, so the buffers would never "
            f"update.\n{reasons}\nOnly cache[:, :, start:end, :] = value and cache.index_copy_(2, position, value) "
            "on a whole 4-D float buffer map onto TensorRT's KV-cache update layer. Use "
            "torch_tensorrt.dynamo.compile, whose program copies every buffer's new value back itself, or "
            "lift_mutable_buffers=False."
        )
    return mutated


def lift_mutated_buffers(program: ExportedProgram) -> LiftedProgram:
    """``program`` with its mutated buffers turned into keyword inputs ``buf_<name>`` and their new
    values into extra outputs, after the user's (see the module docstring); refused writes raise."""
    program = program.run_decompositions({})  # functional: mutations become BUFFER_MUTATION outputs
    mutated = _classify(program)
    if not mutated:
        return LiftedProgram(program, [])
    signature = program.graph_signature
    nodes = {n.name: n for n in program.graph.nodes}
    taken = {n.name for n in program.graph.nodes}
    # Placeholders follow the input specs' order: the lifted ones go after every other (the user's last).
    kept = [
        nodes[s.arg.name] for s in signature.input_specs if s.kind is not InputKind.BUFFER or s.target not in mutated
    ]
    last = kept[-1] if kept else None
    kept_inputs, lifted_inputs, buffers = [], [], []
    for spec in signature.input_specs:
        if spec.kind is not InputKind.BUFFER or spec.target not in mutated:
            kept_inputs.append(spec)
            continue
        node = nodes[spec.arg.name]
        node._rename(_binding_name(str(spec.target), taken))
        if last is not None:
            last.append(node)
        last = node
        value = program.state_dict[spec.target] if spec.persistent else program.constants[spec.target]
        buffers.append(LiftedBuffer(str(spec.target), node.name, value))
        lifted_inputs.append(InputSpec(InputKind.USER_INPUT, TensorArgument(node.name), None))
    lifted_outputs = [s for s in signature.output_specs if s.kind is OutputKind.BUFFER_MUTATION and s.target in mutated]
    kept_outputs = [s for s in signature.output_specs if s not in lifted_outputs]
    output_specs = kept_outputs + [OutputSpec(OutputKind.USER_OUTPUT, s.arg, None) for s in lifted_outputs]
    output_node = next(n for n in program.graph.nodes if n.op == "output")
    output_node.args = (tuple(nodes[s.arg.name] for s in output_specs),)
    new_signature = ExportGraphSignature(kept_inputs + lifted_inputs, output_specs)
    return LiftedProgram(_rebuilt(program, new_signature, [b.binding for b in buffers]), buffers)


def _rebuilt(program: ExportedProgram, signature: ExportGraphSignature, bindings: list[str]) -> ExportedProgram:
    """The program with its new signature; the lifted buffers are keyword inputs, so that they come
    after every user input in the flat input order (positional, then keyword)."""
    lifted = {spec.target for spec in program.graph_signature.input_specs if spec.arg.name in bindings}
    lifted |= {s.target for s in program.graph_signature.output_specs if s.kind is OutputKind.BUFFER_MUTATION}
    state_dict = {k: v for k, v in program.state_dict.items() if k not in lifted}
    constants = {k: v for k, v in program.constants.items() if k not in lifted}
    root, *rest = program.module_call_graph
    call = root.signature
    assert call is not None and call.in_spec is not None
    args_spec, kwargs_spec = call.in_spec.child(0), call.in_spec.child(1)
    args = pytree.tree_unflatten([0] * args_spec.num_leaves, args_spec)
    kwargs = dict(pytree.tree_unflatten([0] * kwargs_spec.num_leaves, kwargs_spec))
    kwargs.update({name: 0 for name in bindings})
    outputs = pytree.tree_unflatten([0] * call.out_spec.num_leaves, call.out_spec)
    new_call = ModuleCallSignature(
        inputs=list(call.inputs),
        outputs=list(call.outputs),
        in_spec=pytree.tree_structure((args, kwargs)),
        out_spec=pytree.tree_structure((outputs, *([0] * len(bindings)))),
        forward_arg_names=list(call.forward_arg_names or []) + bindings,
    )
    return ExportedProgram(
        root=program.graph_module,
        graph=program.graph,
        graph_signature=signature,
        state_dict=state_dict,
        range_constraints=program.range_constraints,
        module_call_graph=[ModuleCallEntry(root.fqn, new_call), *rest],
        example_inputs=None,
        constants=constants,
        verifiers=program.verifiers,
    )
