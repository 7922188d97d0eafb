"""Partitioning: fallback to PyTorch, full-compilation errors, torch_executed_ops, min_block_size."""

from __future__ import annotations

import logging

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import emulated_runtime


class _Mixed(torch.nn.Module):
    """relu/mul/add convert; the Bessel function has no converter and must stay in PyTorch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(x) * 3 + 1
        z = torch.special.bessel_j0(y)
        return torch.relu(z) * 2 + y


def _compile(module: torch.nn.Module, x: torch.Tensor, **settings: object) -> torch.fx.GraphModule:
    return torch_tensorrt.compile(module.eval(), ir="dynamo", inputs=[x], **settings)


def _segments(gm: torch.fx.GraphModule) -> list[str]:
    return [n.target for n in gm.graph.nodes if n.op == "call_module" and str(n.target).startswith("_run_on_acc_")]


def test_unsupported_op_falls_back_and_result_is_right() -> None:
    x = torch.randn(4, 5)
    with emulated_runtime(persist=False):
        gm = _compile(_Mixed(), x, min_block_size=1)
        out = gm(x)
    torch.testing.assert_close(out, _Mixed()(x), rtol=1e-4, atol=1e-4)
    assert len(_segments(gm)) == 2, "the PyTorch op splits the graph into two engines"
    summary = gm._compile_summary
    assert summary.fallback_ops == {"torch.ops.aten.special_bessel_j0.default": 1}
    assert "no converter" in summary.fallback_reasons["torch.ops.aten.special_bessel_j0.default"]


def test_require_full_compilation_names_the_op_and_its_location() -> None:
    with pytest.raises(UnsupportedOperatorError) as err:
        _compile(_Mixed(), torch.randn(4, 5), min_block_size=1, require_full_compilation=True)
    message = str(err.value)
    assert "special_bessel_j0" in message
    assert "test_partitioning.py" in message, "the error points at the model source line"
    assert "relu" not in message.split("\n", 1)[1], "only unsupported ops are listed"


def test_torch_executed_ops_forces_pytorch() -> None:
    class Chain(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + 1) * 2 - 3

    x = torch.randn(3, 4)
    with emulated_runtime(persist=False):
        gm = _compile(Chain(), x, min_block_size=1, torch_executed_ops={"torch.ops.aten.relu.default"})
        out = gm(x)
    torch.testing.assert_close(out, Chain()(x), rtol=1e-4, atol=1e-4)
    assert gm._compile_summary.fallback_ops["torch.ops.aten.relu.default"] == 1
    assert "torch_executed_ops" in gm._compile_summary.fallback_reasons["torch.ops.aten.relu.default"]
    assert any(n.target == torch.ops.aten.relu.default for n in gm.graph.nodes), "relu runs in the parent graph"


def test_torch_executed_ops_accepts_overload_objects() -> None:
    class Chain(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + 1) * 2

    gm = _compile(
        Chain(), torch.randn(3, 4), min_block_size=1, torch_executed_ops={torch.ops.aten.relu.default}, dryrun=True
    )
    assert gm is not None
    assert any(n.target == torch.ops.aten.relu.default for n in gm.graph.nodes)


def test_min_block_size_keeps_small_segments_in_pytorch() -> None:
    x = torch.randn(4, 5)
    # Segments here have 3 ops each: below min_block_size=4 neither becomes an engine.
    with emulated_runtime(persist=False):
        gm = _compile(_Mixed(), x, min_block_size=4)
        out = gm(x)
    torch.testing.assert_close(out, _Mixed()(x), rtol=1e-4, atol=1e-4)
    assert _segments(gm) == []
    assert "min_block_size" in gm._compile_summary.fallback_reasons["torch.ops.aten.relu.default"]
    with emulated_runtime(persist=False):
        gm3 = _compile(_Mixed(), x, min_block_size=3)
    assert len(_segments(gm3)) == 2


def test_dryrun_builds_nothing() -> None:
    gm = _compile(_Mixed(), torch.randn(4, 5), min_block_size=1, dryrun=True)
    assert gm._compile_summary.num_engines == 0


def _bessel_node(gm: torch.fx.GraphModule) -> torch.fx.Node:
    return next(n for n in gm.graph.nodes if n.target == torch.ops.aten.special_bessel_j0.default)


def test_source_locations_are_recorded_only_when_something_prints_them() -> None:
    x = torch.randn(4, 5)
    quiet = _compile(_Mixed(), x, min_block_size=1, dryrun=True)
    assert "stack_trace" not in _bessel_node(quiet).meta, "recording them costs a tenth of the trace"
    verbose = _compile(_Mixed(), x, min_block_size=1, dryrun=True, debug=True)
    assert "test_partitioning.py" in _bessel_node(verbose).meta["stack_trace"]
    assert not torch.fx.config.do_not_emit_stack_traces, "torch's setting is restored"


def test_debug_logs_each_fallback_op_with_its_location(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("torch_tensorrt")
    level = logger.level
    with caplog.at_level(logging.DEBUG, logger="torch_tensorrt"):
        logger.setLevel(logging.INFO)
        _compile(_Mixed(), torch.randn(4, 5), min_block_size=1, dryrun=True)
        assert "stays in PyTorch" not in caplog.text, "INFO level: no per-op lines"
        _compile(_Mixed(), torch.randn(4, 5), min_block_size=1, dryrun=True, debug=True)
        assert logger.level == logging.INFO, "debug=True lasts for its compile only"
    logger.setLevel(level)
    lines = [r.getMessage() for r in caplog.records if "stays in PyTorch" in r.getMessage()]
    assert len(lines) == 1 and "special_bessel_j0" in lines[0] and "no converter" in lines[0]
    assert "test_partitioning.py" in lines[0], "the line names the model source location"
