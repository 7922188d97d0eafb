"""A failed engine build is a visible warning and the compile summary says what happened; library
warnings reach stderr without any logging setup, and only once when the application configures logging."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.conversion._engine_build import EngineBuildError

PY_DIR = Path(__file__).resolve().parents[2] / "py"


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x)) * 2 + 1


@contextlib.contextmanager
def _no_logging_configured() -> Iterator[None]:
    """The state of a script that never configured logging (pytest puts capture handlers on the root)."""
    saved = logging.root.handlers[:]
    logging.root.handlers.clear()
    try:
        yield
    finally:
        logging.root.handlers[:] = saved


def test_warning_reaches_stderr_without_logging_setup(capfd: pytest.CaptureFixture[str]) -> None:
    with _no_logging_configured():
        logging.getLogger("torch_tensorrt.dynamo").warning("visible %d", 1)
        logging.getLogger("torch_tensorrt").info("not at info level")
    err = capfd.readouterr().err
    assert "torch_tensorrt.dynamo WARNING: visible 1" in err
    assert "not at info level" not in err


def test_configured_logging_gets_each_record_once(capfd: pytest.CaptureFixture[str]) -> None:
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    for owner in (logging.root, logging.getLogger("torch_tensorrt")):
        handler = _Keep()
        with _no_logging_configured():
            owner.addHandler(handler)
            try:
                logging.getLogger("torch_tensorrt").warning("routed to the user's handler")
            finally:
                owner.removeHandler(handler)
        assert "routed to the user's handler" not in capfd.readouterr().err, owner
    assert [r.getMessage() for r in records] == ["routed to the user's handler"] * 2


def test_fresh_process_prints_warnings_then_defers_to_basic_config() -> None:
    script = textwrap.dedent(
        """
        import logging, torch_tensorrt
        logging.getLogger("torch_tensorrt").warning("before setup")
        logging.basicConfig(format="USER %(message)s")
        logging.getLogger("torch_tensorrt").warning("after setup")
        """
    )
    env = dict(os.environ, PYTHONPATH=str(PY_DIR))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [ln for ln in result.stderr.splitlines() if "setup" in ln]
    assert lines == ["torch_tensorrt WARNING: before setup", "USER after setup"]


def _failing_convert(*args: object, **kwargs: object) -> None:
    raise EngineBuildError("TensorRT could not build the engine: out of tactics")


def test_failed_build_is_a_warning_and_the_summary_tells_the_truth(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("torch_tensorrt.dynamo._compiler.convert_with_engine_cache", _failing_convert)
    x = torch.randn(2, 4)
    model = _Net().eval()
    with _no_logging_configured():
        gm = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
    err = capfd.readouterr().err
    assert "WARNING" in err and "_run_on_acc_0" in err and "out of tactics" in err and "PyTorch" in err
    summary = gm._compile_summary
    assert summary.num_engines == 0 and summary.num_converted_ops == 0
    assert summary.num_fallback_ops == 4  # linear, relu, mul, add
    [failed] = summary.failed_segments
    assert failed.name == "_run_on_acc_0" and failed.ops == 4 and "out of tactics" in failed.reason
    text = str(summary)
    assert "failed and run in PyTorch: 1" in text and "ops converted to TensorRT: 0" in text
    assert "ops left to PyTorch: 4" in text
    assert '"failed_segments": [{"name": "_run_on_acc_0"' in summary.to_json()
    with torch.no_grad():
        torch.testing.assert_close(gm(x), model(x))


def test_pass_through_build_failures_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch_tensorrt.dynamo._compiler.convert_with_engine_cache", _failing_convert)
    with pytest.raises(EngineBuildError, match="out of tactics"):
        torch_tensorrt.compile(
            _Net(), ir="dynamo", inputs=[torch.randn(2, 4)], min_block_size=1, pass_through_build_failures=True
        )


@pytest.mark.skipif(not ENABLED_FEATURES.tensorrt_rtx, reason="compute capabilities are a TensorRT-RTX setting")
def test_builder_error_is_the_reason_reported_once(capfd: pytest.CaptureFixture[str]) -> None:
    # Bypass the settings check to make the real builder fail: TensorRT-RTX 1.7 builds no FP32 GEMM
    # for Turing. Its error text must be in the summary, and not printed a second time as a log line.
    x = torch.randn(2, 4)
    settings = CompilationSettings(min_block_size=1)
    settings.compute_capabilities = ("7.5",)
    program = torch.export.export(_Net().eval(), (x,))
    with _no_logging_configured():
        gm = torch_tensorrt.dynamo.compile(program, arg_inputs=[x], settings=settings)
    err = capfd.readouterr().err
    [failed] = gm._compile_summary.failed_segments
    assert "could not build the engine" in failed.reason and "SM75" in failed.reason
    assert err.count("SM75") == 1, err
