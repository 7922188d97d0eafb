"""Reading an ATen call's arguments, shared by lowering and conversion.

Kept free of TensorRT (and of the conversion package) so that lowering can use it without importing
a later stage: a stage never imports a later one (DESIGN.md section 7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["arg"]


def arg(args: Sequence[Any], kwargs: Mapping[str, Any], index: int, name: str, default: Any = None) -> Any:
    """An ATen argument given either by position or by keyword; ``default`` when absent."""
    return args[index] if len(args) > index else kwargs.get(name, default)
