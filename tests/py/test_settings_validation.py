"""Every accepted setting is honoured or rejected: compute capabilities, torch_executed_ops,
precision settings, Input format and size, and models torch.export cannot trace."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt._trt import ENABLED_FEATURES, trt
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo._settings import KNOWN_COMPUTE_CAPABILITIES
from torch_tensorrt.dynamo._tracer import DataDependentControlFlowError


class _Chain(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + 1) * 2 - 3


@pytest.fixture(autouse=True)
def _fresh_one_time_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


# -- compute_capabilities ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["7.5", "9.0", "sm86", "8"])
def test_unsupported_compute_capability_lists_valid_values(bad: str) -> None:
    with pytest.raises(ValueError) as err:
        CompilationSettings(compute_capabilities=(bad,))
    message = str(err.value)
    assert repr(bad) in message
    assert all(repr(cc) in message for cc in KNOWN_COMPUTE_CAPABILITIES)


def test_turing_is_refused_through_compile() -> None:
    with pytest.raises(ValueError, match="'8.0', '8.6'"):
        torch_tensorrt.compile(_Chain(), ir="dynamo", inputs=[torch.randn(2, 3)], compute_capabilities=("7.5",))


@pytest.mark.skipif(not ENABLED_FEATURES.tensorrt_rtx, reason="compute capabilities are a TensorRT-RTX setting")
def test_every_known_compute_capability_is_a_builder_target() -> None:
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    config = builder.create_builder_config()
    config.num_compute_capabilities = 1
    for cc in KNOWN_COMPUTE_CAPABILITIES:
        member = getattr(trt.ComputeCapability, "SM" + cc.replace(".", ""))
        assert config.set_compute_capability(member, 0), cc
    # Ampere and later only: the enum's Turing member builds no FP32 GEMM, so it is not offered.
    assert "7.5" not in KNOWN_COMPUTE_CAPABILITIES and hasattr(trt.ComputeCapability, "SM75")


# -- torch_executed_ops ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    ["aten.relu", "aten::relu", "aten.relu.default", "aten::relu.default", "torch.ops.aten.relu", torch.ops.aten.relu],
)
def test_executed_op_spellings_all_keep_relu_in_pytorch(entry: object) -> None:
    gm = torch_tensorrt.compile(
        _Chain(), ir="dynamo", inputs=[torch.randn(2, 3)], min_block_size=1, torch_executed_ops={entry}, dryrun=True
    )
    assert gm._compile_summary.fallback_ops == {"torch.ops.aten.relu.default": 1}


def test_a_single_string_is_one_op() -> None:
    gm = torch_tensorrt.compile(
        _Chain(), ir="dynamo", inputs=[torch.randn(2, 3)], min_block_size=1, torch_executed_ops="aten.relu", dryrun=True
    )
    assert gm._compile_summary.fallback_ops == {"torch.ops.aten.relu.default": 1}


@pytest.mark.parametrize("entry", ["not.an.op", "aten.not_an_op", "aten.relu.no_such_overload", "", "aten..relu"])
def test_executed_op_naming_nothing_is_refused(entry: str) -> None:
    for value in (entry, {entry}):
        with pytest.raises(ValueError) as err:
            CompilationSettings(torch_executed_ops=value)
        assert repr(entry) in str(err.value) and "'aten.relu.default'" in str(err.value)


def test_bare_op_name_suggests_the_namespace() -> None:
    with pytest.raises(ValueError, match="did you mean 'aten.relu'"):
        CompilationSettings(torch_executed_ops={"relu"})


def test_executed_op_that_is_not_an_operator_is_refused() -> None:
    with pytest.raises(TypeError, match="torch.relu|not an operator"):
        CompilationSettings(torch_executed_ops={torch.relu})


# -- precision settings ----------------------------------------------------------------------------


def test_enabled_precisions_half_warns_once_with_the_fix() -> None:
    with pytest.warns(UserWarning) as record:
        CompilationSettings(enabled_precisions={torch.half})
    assert len(record) == 1
    message = str(record[0].message)
    assert "float16" in message and "strongly typed" in message and "model.half()" in message
    assert record[0].filename == __file__, "the warning points at the caller"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CompilationSettings(enabled_precisions={torch.half})  # once per process
        CompilationSettings()  # the default says nothing


def test_use_explicit_typing_false_warns() -> None:
    with pytest.warns(UserWarning, match="use_explicit_typing=False has no effect"):
        CompilationSettings(use_explicit_typing=False)


# -- Input -----------------------------------------------------------------------------------------


def test_channels_last_format_warns_once() -> None:
    with pytest.warns(UserWarning, match="channels_last.*no effect.*contiguous") as record:
        torch_tensorrt.Input(shape=(1, 3, 8, 8), format=torch.channels_last)
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_tensorrt.Input(shape=(1, 3, 8, 8), format=torch.channels_last)
        torch_tensorrt.Input(shape=(1, 3, 8, 8), format=torch.contiguous_format)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(TypeError, match="format"):
        torch_tensorrt.Input(shape=(1, 3, 8, 8), format="nhwc")


def test_absurd_static_shape_is_refused_before_allocating() -> None:
    spec = torch_tensorrt.Input(shape=(2**40, 3, 4, 4))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="bytes") as err:
        torch_tensorrt.compile(_Chain(), ir="dynamo", inputs=[spec], min_block_size=1)
    assert time.perf_counter() - start < 10
    assert "(1099511627776, 3, 4, 4)" in str(err.value)
    with pytest.raises(ValueError, match="bytes"):
        spec.example_tensor()


def test_dynamic_shape_with_huge_max_only_allocates_opt() -> None:
    spec = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(2**40, 3))
    gm = torch_tensorrt.compile(_Chain(), ir="dynamo", inputs=[spec], min_block_size=1, dryrun=True)
    assert gm is not None
    with pytest.raises(ValueError, match="opt_shape"):
        torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2**40, 3), max_shape=(2**40, 3)).example_tensor()


# -- models torch.export cannot trace ---------------------------------------------------------------


class _DataDependentBranch(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x - 1


def test_data_dependent_branch_names_the_line_and_the_fix() -> None:
    from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

    with pytest.raises(DataDependentControlFlowError) as err:
        torch_tensorrt.compile(_DataDependentBranch(), ir="dynamo", inputs=[torch.randn(2, 3)], min_block_size=1)
    message = str(err.value)
    assert "depends on tensor values" in message and "torch.cond" in message
    assert "test_settings_validation.py" in message and "if x.sum() > 0:" in message
    assert isinstance(err.value.__cause__, GuardOnDataDependentSymNode)
