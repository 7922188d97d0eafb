"""Capability checks under Torch-TensorRT's names (imported by their tests from aten_ops_converters):
they answer for real exported nodes as the converter registry does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.conversion.aten_ops_converters import (
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
