"""Engine bytes left in garbage cycles are reclaimed by the next compile, not by chance.

A compiled program is a torch.fx GraphModule, and every GraphModule is a reference cycle (graph,
nodes and owning module point at each other). Dropping one therefore frees its engines only when
Python's cyclic garbage collector runs a full collection, which a process that compiles repeatedly
may not do for a long time: memory grew by one engine per compile. So every engine tensor is tracked
weakly, and a compile first runs a full collection when the engine bytes still alive have grown well
past what was alive after the previous one — engines really in use make that collection find nothing
and raise the baseline, so the cost stays proportional to the garbage.
"""

from __future__ import annotations

import gc
import threading
import weakref

import torch

# Collect when live engine bytes exceed this factor of the last baseline plus the slack below.
GROWTH_FACTOR = 2
SLACK_BYTES = 16 * 1024 * 1024

_lock = threading.Lock()
_refs: dict[int, weakref.ref[torch.Tensor]] = {}
_baseline = 0


def track_engine_tensor(tensor: torch.Tensor) -> None:
    """Count this engine tensor until it is freed (tensors compare elementwise: keyed by id)."""
    key = id(tensor)

    def forget(_: object, key: int = key) -> None:
        with _lock:
            _refs.pop(key, None)

    with _lock:
        _refs[key] = weakref.ref(tensor, forget)


def live_engine_bytes() -> int:
    with _lock:
        refs = list(_refs.values())
    return sum(t.numel() * t.element_size() for t in (r() for r in refs) if t is not None)


def reclaim_dropped_engines() -> bool:
    """Run a full collection if engine bytes grew past the threshold; returns whether it ran."""
    global _baseline
    live = live_engine_bytes()
    if live <= GROWTH_FACTOR * _baseline + SLACK_BYTES:
        return False
    gc.collect()
    _baseline = live_engine_bytes()
    return True
