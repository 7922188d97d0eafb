"""Repeated compiles keep engine memory bounded without the caller running the garbage collector."""

from __future__ import annotations

import gc

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import _engine_memory


def _model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8)).eval()


def _live_engines() -> int:
    with _engine_memory._lock:
        return sum(1 for r in _engine_memory._refs.values() if r() is not None)


@pytest.fixture
def no_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny engines: without slack, any growth of live engine bytes past the baseline counts.
    monkeypatch.setattr(_engine_memory, "SLACK_BYTES", 0)
    monkeypatch.setattr(_engine_memory, "_baseline", 0)


def test_dropped_programs_are_reclaimed_by_the_next_compile(no_slack: None) -> None:
    assert gc.isenabled()
    gc.collect()
    before = _live_engines()
    x = torch.randn(2, 64)
    for _ in range(5):
        compiled = torch_tensorrt.compile(_model(), inputs=[x], min_block_size=1)
        del compiled  # a GraphModule is a reference cycle: only the cyclic collector frees it
    # No gc.collect() here: the compiles themselves reclaimed their predecessors' engines.
    assert _live_engines() - before <= 1


def test_programs_in_use_are_not_collected_again_and_again(no_slack: None) -> None:
    x = torch.randn(2, 64)
    kept = [torch_tensorrt.compile(_model(), inputs=[x], min_block_size=1) for _ in range(2)]
    assert _engine_memory.reclaim_dropped_engines() in (True, False)
    # Nothing was dropped since: the baseline now covers the live engines, so no new collection.
    assert _engine_memory.reclaim_dropped_engines() is False
    assert all(len(list(k.named_buffers())) >= 1 for k in kept)
