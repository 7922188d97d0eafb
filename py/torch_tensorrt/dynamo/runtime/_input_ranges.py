"""The input ranges of a compiled program: kept when it is saved, checked when a loaded one runs.

Saving re-exports the compiled module from example inputs. Example tensors alone would fix every
size to theirs, so the ranges recorded at compile time (``_torch_tensorrt_inputs``) are kept and the
examples only have to lie inside them. A loaded program runs torch's guards first, whose
``AssertionError: Guard failed: x.size()[0] <= 8`` names neither the range nor the fix; its module
checks inputs first and raises the ValueError the compiled module gives before saving.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy
import torch
from torch.fx._pytree import tree_flatten_spec

from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo._tracer import _example_for, as_input_tree, as_inputs

_UNBOUNDED = 2**63 - 1

# (input name, dtype, min shape, max shape) of one user input of a program.
InputCheck = tuple[str, torch.dtype, tuple[int, ...], tuple[int, ...]]


def specs_for_save(module: torch.nn.Module, inputs: Sequence[Any] | None) -> list[Any]:
    """The Inputs to re-trace ``module`` with, nested as its arguments are: the compiled ranges, with
    examples checked against them."""
    recorded = getattr(module, "_torch_tensorrt_inputs", None)
    if inputs is None:
        if recorded is None:
            raise ValueError(
                "save needs the inputs to re-trace the compiled module: pass inputs=[...] (example "
                "tensors or torch_tensorrt.Input ranges, as given to compile)"
            )
        return list(recorded)
    tree = as_input_tree(inputs)
    if recorded is None:
        return tree
    values, given, compiled = _flat_tensors_or_inputs(inputs), as_inputs(inputs), as_inputs(recorded)
    if len(given) != len(compiled):
        raise ValueError(f"save got {len(given)} inputs, but the module was compiled for {len(compiled)}: {recorded}")
    checked = [
        _inside_compiled(index, spec, known, isinstance(value, torch.Tensor))
        for index, (value, spec, known) in enumerate(zip(values, given, compiled))
    ]
    return list(torch.utils._pytree.tree_unflatten(checked, torch.utils._pytree.tree_structure(tree)))


def _flat_tensors_or_inputs(inputs: Sequence[Any]) -> list[Any]:
    return torch.utils._pytree.tree_leaves(list(inputs), is_leaf=lambda v: isinstance(v, (Input, torch.Tensor)))


def _inside_compiled(index: int, given: Input, compiled: Input, is_example: bool) -> Input:
    """``given`` if it lies in the compiled range; an example tensor is widened to that range."""
    rank_ok = len(given.min_shape) == len(compiled.min_shape)
    if not rank_ok or any(
        not (lo <= g_lo and g_hi <= hi)
        for g_lo, g_hi, lo, hi in zip(given.min_shape, given.max_shape, compiled.min_shape, compiled.max_shape)
    ):
        shown = f"shape {given.opt_shape}" if is_example else repr(given)
        raise ValueError(
            f"save: input {index} ({shown}) is outside the range the module was compiled for: min "
            f"{compiled.min_shape}, max {compiled.max_shape}. Pass an example inside that range, or no "
            "inputs= to save with the compiled ranges."
        )
    if given.dtype != compiled.dtype:
        raise ValueError(
            f"save: input {index} has dtype {given.dtype}, but the module was compiled for {compiled.dtype}"
        )
    if not is_example:
        return given  # explicit Input ranges (inside the compiled ones) are the caller's choice
    return Input(
        min_shape=compiled.min_shape,
        opt_shape=given.opt_shape,
        max_shape=compiled.max_shape,
        dtype=compiled.dtype,
        name=compiled.name,
        torch_tensor=given._torch_tensor,  # only an example the caller gave, none made up
    )


def trace_example(spec: Input) -> torch.Tensor:
    """The tensor to export with, on the device of the caller's example when there is one."""
    example = _example_for(spec)
    given = spec._torch_tensor  # the caller's example, if any (reading torch_tensor would make one)
    return example if given is None else example.to(given.device)


def program_input_checks(program: torch.export.ExportedProgram) -> list[InputCheck | None]:
    """Per flattened user input, its dtype and shape bounds (None for a non-tensor input)."""
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    checks: list[InputCheck | None] = []
    for name in program.graph_signature.user_inputs:
        val = nodes[name].meta.get("val") if name in nodes else None
        if not isinstance(val, torch.Tensor):
            checks.append(None)
            continue
        lo, hi = zip(*(_dim_bounds(size, program.range_constraints) for size in val.shape)) if val.dim() else ((), ())
        checks.append((name, val.dtype, tuple(lo), tuple(hi)))
    return checks


def _dim_bounds(size: Any, ranges: dict[Any, Any]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    expr = size.node.expr
    bound = ranges.get(expr) if isinstance(expr, sympy.Symbol) else None
    if bound is None:
        return 0, _UNBOUNDED  # a derived size: torch's own guard checks it
    return _as_int(bound.lower, 0), _as_int(bound.upper, _UNBOUNDED)


def _as_int(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # torch's int_oo
        return fallback


def check_inputs(checks: Sequence[InputCheck | None], values: Sequence[Any]) -> None:
    """Raise the errors an engine gives for a wrong dtype or a shape outside its range."""
    for check, value in zip(checks, values):
        if check is None or not isinstance(value, torch.Tensor):
            continue
        name, dtype, lo, hi = check
        if value.dtype != dtype:
            raise TypeError(f"input {name} must have dtype {dtype}, got {value.dtype}; cast it with .to({dtype})")
        shape = tuple(value.shape)
        if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
            raise ValueError(
                f"input {name} has shape {shape}, outside the range the program was compiled for: min "
                f"{lo}, max {_shown(hi)}. Recompile with a wider torch_tensorrt.Input(min_shape=..., "
                "max_shape=...)."
            )


def _shown(bounds: tuple[int, ...]) -> tuple[int | str, ...]:
    return tuple("?" if b == _UNBOUNDED else b for b in bounds)


class _InputCheckedProgram(torch.export.ExportedProgram):
    """An ExportedProgram whose ``module()`` checks its inputs' dtypes and ranges before torch's guards."""

    def module(self, check_guards: bool = True) -> torch.fx.GraphModule:
        gm = super().module(check_guards=check_guards)
        checks = program_input_checks(self)
        in_spec = self.call_spec.in_spec

        def check(_module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            try:
                values = tree_flatten_spec((args, kwargs), in_spec) if in_spec is not None else list(args)
            except Exception:
                return  # a call torch cannot match to the inputs: its own check reports that
            check_inputs(checks, values)

        gm.register_forward_pre_hook(check, prepend=True, with_kwargs=True)
        return gm


def with_input_checks(program: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """``program`` (same object, still an ExportedProgram) whose modules check their inputs first."""
    if type(program) is torch.export.ExportedProgram:
        program.__class__ = _InputCheckedProgram
    return program
