"""Runs the C++ runtime's googletest suite (tests/core) so that the Python test command counts it.

tests/core/run_cpp_tests.sh builds the runtime sources (core/runtime/sources.bzl) without a TensorRT
SDK plus the fake backend and the tests against the installed torch, incrementally in build/cpp_tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "tests" / "core" / "run_cpp_tests.sh"
GTEST_SRC = Path(os.environ.get("GTEST_SRC", "/usr/src/googletest"))


def test_cpp_runtime_unit_tests():
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        pytest.skip("no C++ compiler (g++) to build the C++ tests")
    if not (GTEST_SRC / "googletest" / "src" / "gtest-all.cc").is_file():
        pytest.skip(f"googletest sources not found in {GTEST_SRC} (apt-get install -y googletest)")
    result = subprocess.run(
        ["bash", str(SCRIPT), "--gtest_brief=1"], capture_output=True, text=True, timeout=1800, cwd=REPO
    )
    summary = "\n".join(line for line in result.stdout.splitlines() if "PASSED" in line or "FAILED" in line)
    assert result.returncode == 0, f"C++ tests failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    assert "PASSED" in summary, result.stdout[-2000:]
