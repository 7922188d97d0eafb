"""unlift(program) must give what ExportedProgram.module() gives, minus its extra work.

Compared with module(): outputs, forward signature, parameters, buffers (persistent or not), state
dict and the ops of the graph; programs it does not handle must come back from module() itself.
"""

from __future__ import annotations

import inspect
from collections import Counter

import pytest
import torch
from torch.export._unlift import _StatefulGraphModule

from torch_tensorrt.dynamo.lowering._unlift import unlift


class _Everything(torch.nn.Module):
    """Parameters (one tied), persistent and non-persistent buffers, a tensor constant, kwargs, nested outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.block = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
        self.head = torch.nn.Linear(4, 4, bias=False)
        self.head.weight = self.block[0].weight  # tied: one placeholder for two names
        self.register_buffer("scale", torch.tensor(2.0), persistent=False)
        self.register_buffer("shift", torch.full((4,), 0.5))
        self.table = torch.arange(4.0)  # a plain tensor attribute: a lifted constant

    def forward(self, x: torch.Tensor, *, bias: torch.Tensor) -> dict[str, object]:
        h = self.block(x) * self.scale + self.shift + self.table
        return {"out": self.head(h) + bias, "parts": (h, h.sum(dim=1))}


def _export(module: torch.nn.Module) -> torch.export.ExportedProgram:
    return torch.export.export(module.eval(), (torch.randn(3, 4),), {"bias": torch.randn(4)})


def _ops(module: torch.fx.GraphModule) -> Counter[str]:
    return Counter(f"{n.op}:{n.target if n.op == 'call_function' else ''}" for n in module.graph.nodes)


def test_unlift_matches_module() -> None:
    torch.manual_seed(0)
    model = _Everything().eval()
    program = _export(model)
    ours, theirs = unlift(program), program.module(check_guards=False)
    assert not isinstance(ours, _StatefulGraphModule)  # the plain path, not module() in disguise
    assert str(inspect.signature(ours.forward)) == str(inspect.signature(theirs.forward))
    assert {k: v.data_ptr() for k, v in ours.named_parameters()} == {
        k: v.data_ptr() for k, v in theirs.named_parameters()
    }
    assert dict(ours.named_buffers()).keys() == dict(theirs.named_buffers()).keys()
    assert ours.state_dict().keys() == theirs.state_dict().keys()  # the non-persistent buffer stays out
    assert _ops(ours) == _ops(theirs)
    x, bias = torch.randn(3, 4), torch.randn(4)  # module() checks the exported batch size
    with torch.no_grad():
        torch.testing.assert_close(ours(x, bias=bias), theirs(x, bias=bias), rtol=0, atol=0)
        torch.testing.assert_close(ours(x, bias=bias), model(x, bias=bias), rtol=1e-6, atol=1e-6)


def test_unlift_leaves_the_program_untouched() -> None:
    program = _export(_Everything())
    before = [(n.op, n.name, str(n.target), sorted(n.meta)) for n in program.graph.nodes]
    module = unlift(program)
    for node in module.graph.nodes:
        node.meta["edited"] = True  # node metadata is copied, not shared
    first = next(n for n in module.graph.nodes if n.op == "call_function")
    first.replace_all_uses_with(first.args[0])
    module.graph.erase_node(first)
    assert [(n.op, n.name, str(n.target), sorted(n.meta)) for n in program.graph.nodes] == before


class _CountsCalls(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.add_(1)
        return x * self.calls


def test_in_place_buffer_updates_reach_the_attribute() -> None:
    program = torch.export.export(_CountsCalls(), (torch.randn(2),))
    module = unlift(program)
    x = torch.ones(2)
    module(x)
    torch.testing.assert_close(module(x), x * 2)
    torch.testing.assert_close(module.calls, torch.tensor(2.0))


class _Branches(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (x,))


def test_programs_with_subgraphs_come_from_module() -> None:
    program = torch.export.export(_Branches(), (torch.randn(3),))
    module = unlift(program)
    assert isinstance(module, _StatefulGraphModule)  # module() carries the branch subgraphs over
    x = torch.randn(3)
    torch.testing.assert_close(module(x), _Branches()(x))


@pytest.mark.parametrize("method", ["train", "eval"])
def test_mode_switches_are_refused(method: str) -> None:
    module = unlift(_export(_Everything()))
    with pytest.raises(NotImplementedError, match="compile it again"):
        getattr(module, method)()
