"""fuse_partitions: each partition becomes one submodule call, the graph stays in order, values stay right."""

from __future__ import annotations

import operator

import pytest
import torch

from torch_tensorrt.dynamo.partitioning._fuse import PartitionCycleError, fuse_partitions


class _Interleaved(torch.nn.Module):
    """``neg`` sits between partition nodes and reads one of their results."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(4))
        self.register_buffer("shared", torch.randn(4))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = torch.relu(y)
        b = torch.neg(a)
        c = torch.sigmoid(x) * self.w
        return b * self.shared, c + a * self.shared


def _traced(module: torch.nn.Module) -> torch.fx.GraphModule:
    return torch.fx.symbolic_trace(module)


def _nodes(gm: torch.fx.GraphModule, *names: str) -> set[torch.fx.Node]:
    by_name = {n.name: n for n in gm.graph.nodes}
    return {by_name[name] for name in names}


def _order(gm: torch.fx.GraphModule) -> list[str]:
    return [n.name for n in gm.graph.nodes]


def test_consumer_between_partition_nodes_moves_behind_the_call() -> None:
    gm = _traced(_Interleaved())
    x, y = torch.randn(4), torch.randn(4)
    expected = gm(x, y)
    assert _order(gm).index("neg") < _order(gm).index("sigmoid")
    inside = _nodes(gm, "relu", "sigmoid", "w", "mul", "shared", "mul_2", "add")
    inside = {n for n in inside if n.op == "call_function"}
    names = fuse_partitions(gm, [inside], "_seg_")
    assert names == ["_seg_0"]
    order = _order(gm)
    call = next(n for n in gm.graph.nodes if n.op == "call_module")
    assert order.index("neg") > order.index(call.name), "neg reads the segment's result, so it follows the call"
    gm.graph.lint()
    for got, want in zip(gm(x, y), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_results_used_outside_become_a_tuple_unpacked_by_getitem() -> None:
    gm = _traced(_Interleaved())
    inside = {n for n in _nodes(gm, "relu", "sigmoid", "mul", "mul_2", "add")}
    fuse_partitions(gm, [inside], "_seg_")
    segment = gm.get_submodule("_seg_0")
    (returned,) = [n for n in segment.graph.nodes if n.op == "output"]
    assert isinstance(returned.args[0], tuple) and len(returned.args[0]) == 2, "relu (read by neg) and add"
    getitems = [n for n in gm.graph.nodes if n.target is operator.getitem]
    assert [g.args[1] for g in getitems] == [0, 1]
    assert all(isinstance(g.meta.get("val", torch.empty(0)), torch.Tensor) for g in getitems)


def test_one_result_is_returned_as_is() -> None:
    class Chain(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x) * 2 + 1

    gm = _traced(Chain())
    x = torch.randn(3, 4)
    expected = gm(x)
    fuse_partitions(gm, [{n for n in gm.graph.nodes if n.op == "call_function"}], "_seg_")
    segment = gm.get_submodule("_seg_0")
    (returned,) = [n for n in segment.graph.nodes if n.op == "output"]
    assert isinstance(returned.args[0], torch.fx.Node)
    assert not any(n.target is operator.getitem for n in gm.graph.nodes)
    torch.testing.assert_close(gm(x), expected, rtol=0, atol=0)


def test_weights_become_segment_constants_and_leave_the_parent() -> None:
    gm = _traced(_Interleaved())
    x, y = torch.randn(4), torch.randn(4)
    expected = gm(x, y)
    # "shared" is read inside (mul_2) and by the parent's mul_1: the parent keeps it; "w" moves.
    inside = _nodes(gm, "relu", "sigmoid", "mul", "mul_2", "add")
    fuse_partitions(gm, [inside], "_seg_")
    call = next(n for n in gm.graph.nodes if n.op == "call_module")
    assert all(a.op == "placeholder" for a in call.args), "weights are not passed in"
    assert [a.name for a in call.args] == ["x", "y"], "graph inputs keep the forward() order"
    segment = gm.get_submodule("_seg_0")
    buffers = dict(segment.named_buffers())
    assert len(buffers) == 2 and all(name.startswith("_const_") for name in buffers)
    assert segment.state_dict() == {}, "constants are not state: TensorRT bakes them in"
    assert not hasattr(gm, "w"), "a weight only the segment reads is not kept twice"
    assert any(torch.equal(gm.shared, b) for b in buffers.values()), "the parent's mul_1 still reads it"
    for got, want in zip(gm(x, y), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_two_partitions_around_a_pytorch_op() -> None:
    class Split(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = torch.relu(x) + 1
            b = torch.special.bessel_j0(a)
            return torch.sigmoid(b) * a

    gm = _traced(Split())
    x = torch.randn(5)
    expected = gm(x)
    first = _nodes(gm, "relu", "add")
    second = _nodes(gm, "sigmoid", "mul")
    assert fuse_partitions(gm, [first, second], "_seg_") == ["_seg_0", "_seg_1"]
    calls = [n for n in gm.graph.nodes if n.op == "call_module"]
    assert [c.target for c in calls] == ["_seg_0", "_seg_1"]
    gm.graph.lint()
    torch.testing.assert_close(gm(x), expected, rtol=0, atol=0)


def test_partition_fed_by_its_own_result_through_an_outside_node_is_refused() -> None:
    class Loop(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = torch.relu(x)
            b = torch.neg(a)
            return torch.sigmoid(b)

    gm = _traced(Loop())
    with pytest.raises(PartitionCycleError, match="sigmoid"):
        fuse_partitions(gm, [_nodes(gm, "relu", "sigmoid")], "_seg_")


def test_segment_code_is_generated_and_parent_code_is_current() -> None:
    gm = _traced(_Interleaved())
    fuse_partitions(gm, [_nodes(gm, "relu", "sigmoid", "mul", "mul_2", "add")], "_seg_")
    assert "_seg_0" in gm.code
    assert "relu" not in gm.code
    assert "relu" in gm.get_submodule("_seg_0").code
