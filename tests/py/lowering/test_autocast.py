"""The rule-based autocast lowering pass (enable_autocast): which nodes run in reduced precision,
which stay in float32 and why, and the casts that make the strongly typed graph say so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.export import Dim

from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.lowering._lower import decompose_by_retrace
from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES
from torch_tensorrt.dynamo.lowering.passes.rule_based_autocast import rule_based_autocast

aten = torch.ops.aten
nn = torch.nn


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    reset_warnings()


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.head = nn.Linear(10, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv2(torch.relu(self.conv1(x)))).flatten(1)
        return torch.log_softmax(self.head(torch.relu(self.fc(y))), -1)


def _settings(**overrides: Any) -> CompilationSettings:
    overrides.setdefault("enable_autocast", True)
    overrides.setdefault("autocast_low_precision_type", torch.float16)
    return CompilationSettings(**overrides)


def _lower(module: nn.Module, inputs: tuple[torch.Tensor, ...], **settings: Any) -> torch.fx.GraphModule:
    program = torch.export.export(module.eval(), inputs)
    return lower_exported_program(program, _settings(**settings))


def _lower_by_retrace(module: nn.Module, inputs: tuple[torch.Tensor, ...], **settings: Any) -> torch.fx.GraphModule:
    """The same pass after torch's own decomposition route (names and ops of the exported graph are gone)."""
    program = torch.export.export(module.eval(), inputs)
    config = _settings(**settings)
    return decompose_by_retrace(program, lambda graph: rule_based_autocast(graph, config))


def _precision(module: torch.fx.GraphModule, target: Any) -> list[str]:
    """The autocast decision of every node computing ``target`` (an op packet), in graph order."""
    return [
        n.meta["autocast"]
        for n in module.graph.nodes
        if n.op == "call_function" and getattr(n.target, "overloadpacket", None) is target
    ]


def _casts(module: torch.fx.GraphModule) -> list[torch.fx.Node]:
    return [n for n in module.graph.nodes if n.target is aten._to_copy.default]


X = (torch.randn(2, 3, 8, 8),)


def test_float_computations_run_in_the_low_type_and_sensitive_ops_stay_float32() -> None:
    lowered = _lower(ConvNet(), X)
    assert _precision(lowered, aten.convolution) == ["float16", "float16"]
    assert _precision(lowered, aten.linear) == ["float16", "float16"]
    assert _precision(lowered, aten.relu) == ["float16"] * 3
    (log_softmax,) = _precision(lowered, aten._log_softmax) or _precision(lowered, aten.log_softmax)
    assert log_softmax.startswith("float32:") and "precision-sensitive" in log_softmax
    convolution = next(n for n in lowered.graph.nodes if n.target is aten.convolution.default)
    assert all(a.meta["val"].dtype == torch.float16 for a in convolution.all_input_nodes)  # weights too
    assert convolution.meta["val"].dtype == torch.float16


def test_graph_inputs_and_outputs_keep_their_dtypes_and_the_module_still_computes() -> None:
    model = ConvNet().eval()
    lowered = _lower(model, X)
    placeholders = [n for n in lowered.graph.nodes if n.op == "placeholder"]
    assert [p.meta["val"].dtype for p in placeholders] == [torch.float32]
    output = next(n for n in lowered.graph.nodes if n.op == "output")
    assert [a.meta["val"].dtype for a in output.all_input_nodes] == [torch.float32]
    x = torch.randn(2, 3, 8, 8)
    got, want = lowered(x), model(x)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-2, atol=1e-2)
    assert not torch.equal(got, want)  # the float16 layers really ran in float16


def test_nothing_changes_without_enable_autocast_or_without_a_low_type() -> None:
    assert not _casts(_lower(ConvNet(), X, enable_autocast=False, autocast_low_precision_type=None))
    with pytest.warns(UserWarning, match="enable_autocast=True has no effect.*autocast_low_precision_type is None"):
        assert not _casts(_lower(ConvNet(), X, autocast_low_precision_type=None))


def test_a_value_is_cast_once_however_many_nodes_read_it() -> None:
    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.a(x) + self.b(x)

    lowered = _lower(TwoHeads(), (torch.randn(2, 4),), autocast_low_precision_type=torch.bfloat16)
    x = next(n for n in lowered.graph.nodes if n.op == "placeholder")
    (cast,) = x.users
    assert cast.target is aten._to_copy.default and cast.kwargs["dtype"] == torch.bfloat16
    assert len(cast.users) == 2
    add = next(n for n in lowered.graph.nodes if n.target is aten.add.Tensor)
    (back,) = add.users  # the bfloat16 sum goes back to float32 once, for the output
    assert back.kwargs["dtype"] == torch.float32


@pytest.mark.parametrize("lower", [_lower, _lower_by_retrace], ids=["in_place", "retrace"])
@pytest.mark.parametrize(
    ("patterns", "kept"),
    [
        ({"^conv1$"}, ["conv1"]),  # the module path, as Torch-TensorRT matches it
        ({"conv"}, ["conv1", "conv2"]),  # re.match: a prefix matches
        ({"^conv2d_1$"}, ["conv2"]),  # the node's name in the exported graph
        ({"^fc$", "^nothing"}, ["fc"]),
    ],
)
def test_excluded_node_patterns_keep_those_nodes_in_float32(
    lower: Callable[..., torch.fx.GraphModule], patterns: set[str], kept: list[str]
) -> None:
    lowered = lower(ConvNet(), X, autocast_excluded_nodes=patterns)
    decisions = {
        n.meta["nn_module_stack"][next(reversed(n.meta["nn_module_stack"]))][0]: n.meta["autocast"]
        for n in lowered.graph.nodes
        if getattr(n.target, "overloadpacket", None) in (aten.convolution, aten.linear)
    }
    assert {path for path, d in decisions.items() if "autocast_excluded_nodes" in d} == set(kept)
    assert all(d == "float16" for path, d in decisions.items() if path not in kept)


@pytest.mark.parametrize("lower", [_lower, _lower_by_retrace], ids=["in_place", "retrace"])
def test_excluded_ops_match_the_exported_op_or_the_core_aten_op(lower: Callable[..., torch.fx.GraphModule]) -> None:
    # conv2d and flatten exist only in the exported graph; lowering turns them into convolution and view.
    lowered = lower(ConvNet(), X, autocast_excluded_ops={"aten.conv2d.default", aten.flatten.using_ints, "aten::relu"})
    assert all("autocast_excluded_ops" in d for d in _precision(lowered, aten.convolution))
    assert all("autocast_excluded_ops" in d for d in _precision(lowered, aten.view) + _precision(lowered, aten.relu))
    assert _precision(lowered, aten.linear) == ["float16", "float16"]
    lowered = lower(ConvNet(), X, autocast_excluded_ops={"aten.linear"})
    assert _precision(lowered, aten.convolution) == ["float16", "float16"]
    assert all("autocast_excluded_ops" in d for d in _precision(lowered, aten.linear))


class TwoBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.small, self.large = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.small(x), self.large(y)


def _batches(scale_x: float, scale_y: float, count: int = 3) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [
        (torch.randn(2, 4, generator=generator) * scale_x, torch.randn(2, 4, generator=generator) * scale_y)
    ] * count


def test_calibration_keeps_nodes_whose_values_exceed_the_threshold_in_float32() -> None:
    inputs = (torch.randn(2, 4), torch.randn(2, 4))
    lowered = _lower(TwoBranches(), inputs, autocast_calibration_dataloader=_batches(1.0, 1e4))
    small, large = _precision(lowered, aten.linear)
    assert small == "float16"
    assert large.startswith("float32:") and "reaches" in large and "threshold=512" in large
    # The decision follows the data, and the threshold.
    assert _precision(
        _lower(TwoBranches(), inputs, autocast_calibration_dataloader=_batches(1.0, 1.0)), aten.linear
    ) == [
        "float16",
        "float16",
    ]
    relaxed = _lower(
        TwoBranches(), inputs, autocast_calibration_dataloader=_batches(1.0, 1e4), autocast_max_output_threshold=1e6
    )
    assert _precision(relaxed, aten.linear) == ["float16", "float16"]
    # Without calibration data nothing is measured (as in Torch-TensorRT).
    assert _precision(_lower(TwoBranches(), inputs), aten.linear) == ["float16", "float16"]


def test_an_output_above_the_threshold_keeps_its_node_and_its_readers_in_float32() -> None:
    class Amplify(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(x * 1000.0) - 1.0

    lowered = _lower(Amplify(), (torch.randn(8),), autocast_calibration_dataloader=[torch.randn(8)])
    (mul,) = _precision(lowered, aten.mul)
    (tanh,) = _precision(lowered, aten.tanh)
    assert "its output reaches" in mul and "its input mul reaches" in tanh
    assert _precision(lowered, aten.sub) == ["float16"]  # tanh's output is within range again


def test_calibration_batches_must_match_the_model_inputs() -> None:
    inputs = (torch.randn(2, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match="batch 0 holds 1 inputs but the model takes 2"):
        _lower(TwoBranches(), inputs, autocast_calibration_dataloader=[torch.randn(2, 4)])
    with pytest.raises(ValueError, match="yielded no batches"):
        _lower(TwoBranches(), inputs, autocast_calibration_dataloader=[])
    with pytest.raises(TypeError, match="batch 0 is a dict"):
        _lower(TwoBranches(), inputs, autocast_calibration_dataloader=[{"x": torch.randn(2, 4)}])


def test_a_torch_utils_data_dataloader_calibrates() -> None:
    dataset = torch.utils.data.TensorDataset(torch.randn(6, 4), torch.randn(6, 4) * 1e4)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2)
    lowered = _lower(TwoBranches(), (torch.randn(2, 4), torch.randn(2, 4)), autocast_calibration_dataloader=loader)
    assert [d.split(":")[0] for d in _precision(lowered, aten.linear)] == ["float16", "float32"]


def test_reductions_deeper_than_the_maximum_stay_in_float32() -> None:
    class Deep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wide, self.narrow = nn.Linear(64, 8), nn.Linear(8, 8)
            self.conv = nn.Conv2d(4, 4, 3)  # 4 channels x 3x3 kernel: 36 products per output

        def forward(self, x: torch.Tensor, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.narrow(self.wide(x)), self.conv(image)

    inputs = (torch.randn(2, 64), torch.randn(1, 4, 6, 6))
    lowered = _lower(Deep(), inputs, autocast_max_depth_of_reduction=16)
    wide, narrow = _precision(lowered, aten.linear)
    assert "reduces over 64 elements" in wide and narrow == "float16"
    (conv,) = _precision(lowered, aten.convolution)
    assert "reduces over 36 elements" in conv
    assert _precision(_lower(Deep(), inputs, autocast_max_depth_of_reduction=64), aten.convolution) == ["float16"]
    assert _precision(_lower(Deep(), inputs, autocast_max_depth_of_reduction=64), aten.linear) == ["float16"] * 2


def test_a_dynamic_reduction_counts_at_the_top_of_its_range() -> None:
    class Scores(nn.Module):
        def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
            return q @ k.transpose(-1, -2)

    def lowered(max_k: int) -> torch.fx.GraphModule:
        dim = Dim("k", min=2, max=max_k)
        program = torch.export.export(
            Scores(), (torch.randn(3, 8), torch.randn(5, 8)), dynamic_shapes=({1: dim}, {1: dim})
        )
        return lower_exported_program(program, _settings(autocast_max_depth_of_reduction=32))

    deep = [d for n in lowered(64).graph.nodes if (d := n.meta.get("autocast")) and "reduces" in d]
    assert deep and "reduces over 64 elements" in deep[0]
    assert not [n for n in lowered(16).graph.nodes if "reduces" in str(n.meta.get("autocast"))]


def test_torch_autocast_regions_keep_the_dtypes_the_model_gave_them() -> None:
    class Regions(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.in_bf16, self.in_fp32, self.free = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                y = self.in_bf16(x)
            with torch.autocast("cpu", enabled=False):
                z = self.in_fp32(y.float())
            return self.free(z)

    lowered = _lower(Regions(), (torch.randn(2, 8),))
    linears = [n for n in lowered.graph.nodes if n.target is aten.linear.default]
    assert [n.meta["val"].dtype for n in linears] == [torch.bfloat16, torch.float32, torch.float16]
    assert "autocast" not in linears[0].meta  # already reduced by the model: not autocast's to decide
    assert "torch.autocast region" in linears[1].meta["autocast"]
    assert linears[2].meta["autocast"] == "float16"


def test_use_fp32_acc_applies_to_the_matmuls_autocast_put_in_float16() -> None:
    lowered = _lower(ConvNet(), X, use_fp32_acc=True)
    linear = next(n for n in lowered.graph.nodes if n.target is aten.linear.default)
    assert linear.meta["val"].dtype == torch.float32
    assert all(a.target is aten._to_copy.default and a.args[0].meta["val"].dtype == torch.float16 for a in linear.args)


def test_the_pass_is_registered_before_fp32_accumulation() -> None:
    names = [p.__name__ for p in LOWERING_PASSES]
    assert names.index("rule_based_autocast") < names.index("accumulate_in_fp32")


def test_a_constant_beyond_the_low_types_range_keeps_its_node_in_float32() -> None:
    class Masked(nn.Module):
        def forward(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return torch.softmax(scores.masked_fill(mask, -1e9), -1) * 2

    inputs = (torch.randn(2, 4), torch.rand(2, 4) > 0.5)
    (fill,) = _precision(_lower(Masked(), inputs), aten.where)  # masked_fill lowers to where(mask, c, x)
    assert "its constant -1e+09 is beyond torch.float16's range" in fill
    # bfloat16 reaches 3.4e38: the same fill runs in it.
    assert _precision(_lower(Masked(), inputs, autocast_low_precision_type=torch.bfloat16), aten.where) == ["bfloat16"]
