"""Tiny compiled programs and fixtures shared by the runtime-control tests.

Each program is compiled once per process under ``emulated_runtime()``, which records its networks
in the suite's emulation directory (tests/py/conftest.py), so any later ``emulated_runtime()`` block
can run them. ``fresh()`` deep-copies a program: the copy's engines are new objects, bound to the
backend active when they are first used, so every test starts from engines that never ran.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._execute_engine_op import python_runtime_delegate
from torch_tensorrt.runtime._settings import reset_backend_warnings
from torch_tensorrt.testing import emulated_runtime

LINEAR_INPUT = (2, 8)
MIXED_INPUT = (1, 3, 8, 8)


class _Mixed(torch.nn.Module):
    """conv → bessel_j0 (no converter: runs in PyTorch) → relu: two engines around a PyTorch op."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(torch.special.bessel_j0(self.conv(x)))


def _linear() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4)).eval()


@functools.cache
def _compiled(kind: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    if kind == "mixed":
        torch.manual_seed(0)
        model: torch.nn.Module = _Mixed().eval()
        inputs: list[Any] = [torch.randn(MIXED_INPUT)]
    elif kind == "linear":
        model, inputs = _linear(), [torch.randn(LINEAR_INPUT)]
    elif kind == "dynamic":
        model = _linear()
        inputs = [torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(2, 8), max_shape=(8, 8))]
    else:
        raise ValueError(kind)
    with emulated_runtime():
        # The tests using these programs inspect the Python engine (engine_handle); under
        # emulated_runtime() a program left to the default runs on the C++ engine when it is loaded.
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=inputs, min_block_size=1, use_python_runtime=True)
    return model, compiled


def fresh(kind: str) -> torch.nn.Module:
    """A compiled program ("linear", "dynamic" or "mixed") whose engines have never run."""
    original = _compiled(kind)[1]
    clone = copy.deepcopy(original)
    # GraphModule.__deepcopy__ keeps only modules and the graph; save() needs the recorded inputs.
    clone._torch_tensorrt_inputs = original._torch_tensorrt_inputs
    return clone


def eager(kind: str) -> torch.nn.Module:
    return _compiled(kind)[0]


def example(kind: str, batch: int = 2) -> torch.Tensor:
    return torch.randn(MIXED_INPUT) if kind == "mixed" else torch.randn(batch, 8)


def engine_handle(engine: Any) -> Any:
    """The EmulatedEngine behind a TRTEngine: it records every context and its ContextOptions."""
    return engine.engine()


# Fixtures: a test module imports these functions (noqa: F401) and asks for them by name.


@pytest.fixture(name="backend")
def backend_fixture() -> Iterator[Any]:
    """A fresh emulated backend for the test; engines first used inside it run on it. Loaded programs
    run on the Python runtime too, like the programs above (their op would go to the C++ runtime)."""
    with emulated_runtime() as emulated, python_runtime_delegate():
        yield emulated


@pytest.fixture(name="cache_dir")
def cache_dir_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's private default runtime-cache directory (created on first use)."""
    directory = tmp_path / "runtime_cache"
    monkeypatch.setenv("TORCH_TENSORRT_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(name="fresh_warnings")
def fresh_warnings_fixture() -> Iterator[None]:
    """Forget which RTX-only settings were reported, so the once-per-process warning shows again."""
    reset_backend_warnings()
    yield
    reset_backend_warnings()
