"""Which ``Debugger`` block is open, for the stages it changes (the builder's profiling verbosity, and
with it the engine cache key).

Process-wide, as Torch-TensorRT's Debugger is (it patches classes for its block): a compile in another
thread during the block is debugged too. Kept free of imports so that any stage may read it.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_open: list[Any] = []  # DebuggerConfig of each open block, innermost last


def push(config: Any) -> None:
    with _lock:
        _open.append(config)


def pop(config: Any) -> None:
    with _lock:
        for index in range(len(_open) - 1, -1, -1):
            if _open[index] is config:
                del _open[index]
                return


def active_config() -> Any | None:
    """The DebuggerConfig of the innermost open Debugger block, or None."""
    with _lock:
        return _open[-1] if _open else None


def profiling_verbosity() -> str:
    """The ProfilingVerbosity engines built now get, by member name: as Torch-TensorRT, DETAILED inside
    a Debugger block (the engine inspector then describes each layer), else LAYER_NAMES_ONLY. The
    engine bytes differ, so the engine cache key includes it."""
    return "DETAILED" if active_config() is not None else "LAYER_NAMES_ONLY"
