"""Capability checks under Torch-TensorRT's names (imported by their tests from aten_ops_converters):
they answer for real exported nodes as the converter registry does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.conversion.aten_ops_converters import (
    cross_validator,
    index_has_bool_indices,
    index_nonbool_validator,
    sort_validator,
)

aten = torch.ops.aten


def _exported_node(fn: Callable[..., torch.Tensor], target: object, *examples: torch.Tensor) -> torch.fx.Node:
    class Wrapper(torch.nn.Module):
        def forward(self, *xs: torch.Tensor) -> torch.Tensor:
            return fn(*xs)

    graph = torch.export.export(Wrapper(), examples).graph
    return next(n for n in graph.nodes if n.op == "call_function" and n.target is target)


@pytest.mark.parametrize(
    ("sort", "accepted"),
    [
        (lambda x: torch.sort(x)[0], True),  # dim left to its default: not in the node's args
        (lambda x: torch.sort(x, 0, descending=True)[0], True),
        (lambda x: torch.sort(x, stable=True)[0], False),  # TopK does not keep ties in order
    ],
)
def test_sort_validator_reads_defaults_and_refuses_stable_sorts(
    sort: Callable[[torch.Tensor], torch.Tensor], accepted: bool
) -> None:
    target = aten.sort.default if accepted else aten.sort.stable
    node = _exported_node(sort, target, torch.randn(4, 8))
    assert sort_validator(node) is accepted
    entry, _ = DYNAMO_CONVERTERS.find(node, CompilationSettings())
    assert (entry is not None) is accepted


@pytest.mark.parametrize(
    ("index", "has_bool"),
    [
        (torch.tensor([0, 2]), False),
        (torch.tensor([True, False, True]), True),
    ],
)
def test_index_validators_tell_masks_from_integer_indices(index: torch.Tensor, has_bool: bool) -> None:
    node = _exported_node(lambda x, i: aten.index.Tensor(x, [None, i]), aten.index.Tensor, torch.randn(2, 3), index)
    assert index_has_bool_indices(node) is has_bool
    # Masks give data-dependent shapes: only integer indices are converted.
    assert index_nonbool_validator(node) is not has_bool


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "dim", "accepted"),
    [
        ((4, 3), (4, 3), -1, True),
        ((2, 3, 1), (1, 3, 4), 1, True),  # other dims broadcast
        ((2, 3, 4), (3, 4), 1, False),  # torch needs operands of one rank
        ((4, 4), (4, 4), -1, False),  # not 3-vectors
        ((4, 3), (4, 3), 2, False),  # no such dim
    ],
)
def test_cross_validator_needs_both_sizes_three_along_dim(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], dim: int, accepted: bool
) -> None:
    class Cross(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return aten.linalg_cross.default(a, b, dim=dim)

    node = next(n for n in torch.fx.symbolic_trace(Cross()).graph.nodes if n.target is aten.linalg_cross.default)
    assert cross_validator(node) is False  # no values recorded: the size along dim is unknown
    node.args[0].meta["val"], node.args[1].meta["val"] = torch.empty(a_shape), torch.empty(b_shape)
    assert cross_validator(node) is accepted


def test_cross_validator_refuses_a_symbolic_size_along_dim() -> None:
    class Cross(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return torch.linalg.cross(a, b, dim=0)

    size = torch.export.Dim("n", min=2, max=8)
    a = torch.randn(3, 4)
    graph = torch.export.export(Cross(), (a, a), dynamic_shapes=({1: size}, {1: size})).graph
    node = next(n for n in graph.nodes if n.target is aten.linalg_cross.default)
    assert cross_validator(node)  # the symbolic dim is a batch dim, dim 0 is 3
    node.kwargs = {"dim": 1}
    node.args = node.args[:2]
    assert not cross_validator(node)
