"""embedding_bag (F.embedding_bag, nn.EmbeddingBag; the aten overloads _embedding_bag,
_embedding_bag_forward_only, embedding_bag) through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import FLOATS, assert_falls_back, check, check_dynamic, dyn, static

from torch_tensorrt.testing import assert_close_to_eager

aten = torch.ops.aten
# Sums of a few embeddings, one rounding per product in half precision.
TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (5e-3, 5e-3), torch.bfloat16: (3e-2, 3e-2)}

INDICES = torch.tensor([1, 2, 4, 5, 7, 0, 0, 9])
# Bag 1 is empty; the last bag runs to the end of the indices.
OFFSETS = torch.tensor([0, 2, 2, 5])

Case = tuple[str, Callable[..., Any], torch.Tensor]

CASES: list[Case] = [
    ("sum", lambda w, i, o: F.embedding_bag(i, w, o, mode="sum"), OFFSETS),
    ("mean", lambda w, i, o: F.embedding_bag(i, w, o, mode="mean"), OFFSETS),
    ("max", lambda w, i, o: F.embedding_bag(i, w, o, mode="max"), OFFSETS),
    ("sum_padding_idx", lambda w, i, o: F.embedding_bag(i, w, o, mode="sum", padding_idx=0), OFFSETS),
    ("mean_padding_idx", lambda w, i, o: F.embedding_bag(i, w, o, mode="mean", padding_idx=0), OFFSETS),
    ("max_padding_idx", lambda w, i, o: F.embedding_bag(i, w, o, mode="max", padding_idx=0), OFFSETS),
    (
        "include_last_offset",
        lambda w, i, o: F.embedding_bag(i, w, o, mode="mean", include_last_offset=True),
        torch.tensor([0, 2, 2, 5, 8]),
    ),
    (
        "per_sample_weights",
        lambda w, i, o: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=torch.linspace(-1, 2, 8).to(w.dtype)),
        OFFSETS,
    ),
    ("aten_embedding_bag_max", lambda w, i, o: aten._embedding_bag(w, i, o, False, 2)[0], OFFSETS),
    ("aten_embedding_bag_default", lambda w, i, o: aten.embedding_bag(w, i, o, False, 1)[0], OFFSETS),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_embedding_bag(case: Case, dtype: torch.dtype) -> None:
    _, fn, offsets = case
    torch.manual_seed(0)
    rtol, atol = TOLERANCES[dtype]
    check(fn, torch.randn(10, 3).to(dtype), INDICES, offsets, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_2d_input(mode: str) -> None:
    # nn.EmbeddingBag with 2-D input: one bag per row (offsets made by F.embedding_bag).
    torch.manual_seed(0)
    bag = torch.nn.EmbeddingBag(10, 4, mode=mode).eval()
    assert_close_to_eager(bag, [torch.tensor([[1, 2, 3], [4, 5, 9], [0, 0, 7]])], rtol=1e-5, atol=1e-5)


def test_embedding_bag_dynamic_indices_and_offsets() -> None:
    # The number of indices and of bags are both run-time lengths.
    weight = torch.randn(10, 3)
    specs = [static(weight), dyn((1,), (4,), (9,), torch.int64), dyn((1,), (2,), (4,), torch.int64)]
    fn = lambda w, i, o: F.embedding_bag(i, w, o, mode="mean")  # noqa: E731
    check_dynamic(fn, specs, [weight, torch.tensor([3]), torch.tensor([0])], [weight, INDICES, OFFSETS])


def test_embedding_bag_extra_outputs_fall_back() -> None:
    # offset2bag / bag sizes / argmax serve the backward pass; a graph that reads them is left to PyTorch.
    fn = lambda w, i, o: aten._embedding_bag(w, i, o, False, 0)[2].float()  # noqa: E731
    assert_falls_back(fn, torch.randn(10, 3), INDICES, OFFSETS, op="_embedding_bag")
