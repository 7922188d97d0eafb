"""One table of engine-info cases (_engine_info_cases.py), one verdict per case on both readers."""

from __future__ import annotations

import re

import pytest
import torch
from _engine_info_cases import cases

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, require_host_platform

CASES = cases()


def python_verdict(info: list[str]) -> str | None:
    """What loading (torch_tensorrt.load) and the Python runtime decide for this info."""
    try:
        require_host_platform(EngineInfo.from_list(info))
    except ValueError as exc:
        return str(exc)
    return None


def cpp_verdict(info: list[str]) -> str | None:
    try:
        torch.classes.tensorrt.Engine(info)
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(("label", "info", "expected"), CASES, ids=[c[0] for c in CASES])
def test_python_reader(label: str, info: list[str], expected: str | None) -> None:
    verdict = python_verdict(info)
    if expected is None:
        assert verdict is None, verdict
    else:
        assert verdict is not None and re.search(expected, verdict), verdict


@pytest.mark.parametrize(("label", "info", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cpp_reader_gives_the_same_verdict(label: str, info: list[str], expected: str | None) -> None:
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        pytest.skip("the C++ runtime torch_tensorrt._C is not built (pip install --no-build-isolation -e . builds it)")
    python, cpp = python_verdict(info), cpp_verdict(info)
    assert (python is None) == (cpp is None), (python, cpp)
    if expected is not None:
        assert cpp is not None and re.search(expected, cpp), cpp
        # Same slot, same kind of explanation: the text before the first colon agrees.
        assert cpp.split(":")[0] == python.split(":")[0], (cpp, python)  # type: ignore[union-attr]
