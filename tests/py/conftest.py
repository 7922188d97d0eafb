"""Suite-wide setup: caches and emulation records go to a temporary directory, never ~/.cache."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_SCRATCH = tempfile.mkdtemp(prefix="torch_tensorrt_tests_")


def pytest_configure(config: pytest.Config) -> None:
    # Set before torch_tensorrt is imported by any test, so default paths resolve in here.
    os.environ.setdefault("TORCH_TENSORRT_CACHE_DIR", os.path.join(_SCRATCH, "runtime_cache"))
    os.environ.setdefault("TORCH_TENSORRT_EMULATION_DIR", os.path.join(_SCRATCH, "emulation"))


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)
