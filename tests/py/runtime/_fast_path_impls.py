"""The two implementations of the Python runtime's per-call fast path (_engine_fast_path): the C runner
of torch_tensorrt._C (engine_fast_path.cpp) and the pure-Python closure. Fast-path tests run on both."""

from __future__ import annotations

from typing import Any

import pytest

from torch_tensorrt.dynamo.runtime import _engine_fast_path
from torch_tensorrt.dynamo.runtime._cpp_engine import _extension_function

FAST_PATHS = ["c", "python"]
C_RUNNER_TYPE = _extension_function("_EngineFastPath")


def use_fast_path(monkeypatch: pytest.MonkeyPatch, implementation: str) -> None:
    """Plans made from now on (for the rest of the test) get ``implementation``'s runner."""
    if implementation == "c" and C_RUNNER_TYPE is None:
        pytest.skip("torch_tensorrt._C is not built (or has no _EngineFastPath): only the Python fast path exists")
    monkeypatch.setattr(_engine_fast_path, "USE_C_FAST_PATH", implementation == "c")


@pytest.fixture(name="fast_path", params=FAST_PATHS)
def fast_path_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_fast_path(monkeypatch, request.param)
    return request.param


def assert_runner_is(engine: Any, implementation: str) -> None:
    """The engine's current runner is ``implementation``'s: a parametrization that ran one implementation
    twice would otherwise pass unnoticed."""
    runner = engine._fast
    assert runner is not None, "the engine has no fast path"
    is_c = C_RUNNER_TYPE is not None and type(runner) is C_RUNNER_TYPE
    assert is_c == (implementation == "c"), f"expected the {implementation} runner, got {runner!r}"
