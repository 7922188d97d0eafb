"""Signatures of the compile entry points, made from CompilationSettings (one list of settings).

Torch-TensorRT spells every setting out as a keyword-only parameter of ``dynamo.compile`` and its
siblings. Here they arrive through ``**kwargs`` and become :class:`CompilationSettings`; the
``__signature__`` set below makes ``inspect.signature``, ``help()`` and IDEs show the same
parameters and defaults.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from torch_tensorrt.dynamo._settings import CompilationSettings

F = TypeVar("F", bound=Callable[..., Any])

# Fields whose default is made per instance: Torch-TensorRT's signatures show None for them.
_NONE_DEFAULTS = ("enabled_precisions", "torch_executed_ops", "torch_executed_modules", "device")


def settings_parameters(exclude: Sequence[str] = ()) -> list[inspect.Parameter]:
    """One keyword-only parameter per setting, with the setting's default."""
    params = []
    for f in dataclasses.fields(CompilationSettings):
        if f.name in exclude:
            continue
        default = None if f.name in _NONE_DEFAULTS else f.default
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return params


def with_settings_signature(func: F, exclude: Sequence[str] = ()) -> F:
    """Show ``func``'s own parameters followed by every setting (before its ``**kwargs``)."""
    own = list(inspect.signature(func).parameters.values())
    var_kw = [p for p in own if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in own if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in head}
    extra = [p for p in settings_parameters(exclude) if p.name not in taken]
    func.__signature__ = inspect.Signature(head + extra + var_kw)  # type: ignore[attr-defined]
    return func
