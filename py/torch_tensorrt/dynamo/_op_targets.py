"""Resolving ``torch_executed_ops`` (and ``autocast_excluded_ops``) entries to the operators they name.

An entry that names no operator used to be kept and silently matched nothing; now every entry is
resolved when the settings are made, and one that names nothing is an error saying which forms
are accepted.
"""

from __future__ import annotations

from typing import Any

import torch

ACCEPTED_FORMS = (
    "an operator (torch.ops.aten.relu.default), an overload packet (torch.ops.aten.relu), or a string "
    "naming one: 'torch.ops.aten.relu.default', 'aten.relu.default', 'aten::relu', 'aten.relu'"
)

OpTarget = torch._ops.OpOverload | torch._ops.OpOverloadPacket | torch._ops.HigherOrderOperator


def resolve_op(entry: Any, setting: str = "torch_executed_ops") -> OpTarget:
    """The operator (overload, or packet = every overload) ``entry`` of ``setting`` names; raises if it names none."""
    if isinstance(entry, (torch._ops.OpOverload, torch._ops.OpOverloadPacket, torch._ops.HigherOrderOperator)):
        return entry
    if not isinstance(entry, str):
        raise TypeError(f"{setting} entry {entry!r} ({type(entry).__name__}) is not an operator; use {ACCEPTED_FORMS}")
    op = _lookup(entry)
    if op is None:
        hint = ""
        if "." not in entry and ":" not in entry and _lookup(f"aten.{entry}") is not None:
            hint = f" (did you mean 'aten.{entry}'?)"
        raise ValueError(f"{setting} entry {entry!r} names no operator{hint}; use {ACCEPTED_FORMS}")
    return op


def _lookup(name: str) -> OpTarget | None:
    text = name.strip().removeprefix("torch.ops.")
    namespace, sep, rest = text.partition("::")
    parts = [namespace, *rest.split(".")] if sep else text.split(".")
    if len(parts) not in (2, 3) or not all(p.isidentifier() for p in parts):
        return None
    try:
        # torch.ops creates a namespace object for any name; the op lookup is what fails.
        op: Any = getattr(getattr(torch.ops, parts[0]), parts[1])
        if len(parts) == 3:
            op = getattr(op, parts[2])
    except (AttributeError, RuntimeError):
        return None
    if isinstance(op, (torch._ops.OpOverload, torch._ops.OpOverloadPacket, torch._ops.HigherOrderOperator)):
        return op
    return None


def matches(target: Any, resolved: frozenset[OpTarget]) -> bool:
    """Whether a graph node's target is one of the resolved operators (a packet covers its overloads)."""
    if target in resolved:
        return True
    return isinstance(target, torch._ops.OpOverload) and target.overloadpacket in resolved
