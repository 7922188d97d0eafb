"""In-place and view-mutation patterns models use (``x[..., a:b] = v``, ``masked_fill_``,
``index_put_``, ``copy_``, ``resize_``, in-place arithmetic, writes through views) compile fully after
functionalization and match eager; so do programs that mutate their inputs or buffers, whose new
values are computed in TensorRT and stored back into the caller's tensors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from _shape_testing import assert_outputs_close, check, dyn, fn_module, randn
from torch import nn

from torch_tensorrt.testing import compile_on_reference, emulated_runtime

Case = tuple[str, Callable[..., Any], Callable[[], list[torch.Tensor]]]


def _slice_assign(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[..., 1:3] = v
    return y


def _strided_iadd(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[1:, ::2] += 5
    return y


def _view_writes(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[..., 0].zero_()  # through a select view
    y[:, 1:3].mul_(2)  # through a slice view
    y[0, 1] = 9.0
    return y


def _mask_assign(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[y > 0.5] = 2.0
    return y.masked_fill_(y < -1, -1.0)


def _index_writes(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y.index_put_((torch.tensor([0, 2]),), v)
    y[torch.tensor([1])] = v[:1] * 3
    return y.index_fill_(1, torch.tensor([0, 3]), -3.0)


def _copy_broadcast(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y[:, 1:3].copy_(v)
    return y.copy_(y + 1)


def _fresh_buffer(x: torch.Tensor) -> torch.Tensor:
    y = torch.zeros(3, 4)
    y[1] = x[0]
    y[:, -1] = 7
    return y


def _inplace_chain(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y.clamp_(min=-0.5).mul_(2).sigmoid_()
    y.t_()
    return y.unsqueeze_(0)


def _resize(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y.resize_(2, 5)  # shrinking: a view of the first 10 elements
    return y


def _swin_mask(x: torch.Tensor) -> torch.Tensor:
    # Swin's shifted-window attention mask: region ids written slice by slice into a fresh tensor.
    mask = torch.zeros(1, 6, 6, 1)
    count = 0
    for h in (slice(0, -3), slice(-3, -1), slice(-1, None)):
        for w in (slice(0, -3), slice(-3, -1), slice(-1, None)):
            mask[:, h, w, :] = count
            count += 1
    return x + mask.reshape(1, 36)


def _pair() -> list[torch.Tensor]:
    return [randn(3, 4), randn(3, 2)]


CASES: list[Case] = [
    ("slice_assign", _slice_assign, _pair),
    ("strided_iadd", _strided_iadd, lambda: [randn(3, 4)]),
    ("view_writes", _view_writes, lambda: [randn(3, 4)]),
    ("mask_assign_masked_fill_", _mask_assign, lambda: [randn(3, 4)]),
    ("index_put_index_fill_", _index_writes, lambda: [randn(3, 4), randn(2, 4)]),
    ("copy_", _copy_broadcast, _pair),
    ("copy_broadcast_row", lambda x, v: (x * 1).copy_(v), lambda: [randn(3, 4), randn(4)]),
    ("fresh_tensor_writes", _fresh_buffer, lambda: [randn(3, 4)]),
    ("inplace_chain", _inplace_chain, lambda: [randn(3, 4)]),
    ("resize_", _resize, lambda: [randn(3, 4)]),
    ("swin_mask", _swin_mask, lambda: [randn(2, 36)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mutation_pattern(case: Case) -> None:
    torch.manual_seed(0)
    check(case[1], *case[2]())


DYNAMIC_CASES: list[tuple[str, Callable[..., Any], int]] = [
    ("slice_assign", lambda x: _slice_assign(x, x[:, :2] * 2), 1),
    ("strided_iadd", _strided_iadd, 1),
    ("view_writes", _view_writes, 1),
    ("mask_assign_masked_fill_", _mask_assign, 1),
    ("copy_", lambda x: _copy_broadcast(x, x[:, 2:] - 1), 1),
]


@pytest.mark.parametrize("case", DYNAMIC_CASES, ids=[c[0] for c in DYNAMIC_CASES])
def test_mutation_pattern_dynamic(case: tuple[str, Callable[..., Any], int]) -> None:
    torch.manual_seed(0)
    module = fn_module(case[1], 1)
    with emulated_runtime(persist=False):
        compiled = _one_engine(module, [randn(3, 4)], [dyn((2, 4), (3, 4), (8, 4))])
        for rows in (2, 5, 8):
            x = randn(rows, 4)
            with torch.no_grad():
                assert_outputs_close([compiled(x)], [module(x)])


def _one_engine(module: nn.Module, inputs: Sequence[torch.Tensor], specs: Sequence[Any] | None = None) -> Any:
    compiled = compile_on_reference(module, list(inputs), input_specs=specs)
    summary = compiled._compile_summary
    assert summary.num_engines == 1 and not summary.fallback_ops, (summary.num_engines, summary.fallback_reasons)
    return compiled


class MutatesInput(nn.Module):
    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        x[:, 1:3] = v
        x.mul_(2)
        return x.sum(0)


def test_input_mutation_is_stored_back() -> None:
    # The engine computes the new x; the caller's tensor receives it, as in eager.
    torch.manual_seed(0)
    x, v = randn(3, 4), randn(3, 2)
    eager_x = x.clone()
    with torch.no_grad():
        expected = MutatesInput()(eager_x, v)
    with emulated_runtime(persist=False):
        compiled = _one_engine(MutatesInput(), [x.clone(), v])
        compiled_x = x.clone()
        with torch.no_grad():
            actual = compiled(compiled_x, v)
    assert_outputs_close([actual, compiled_x], [expected, eager_x])


class RunningSum(nn.Module):
    """A buffer updated in forward (a running statistic or a cache)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("total", torch.zeros(3, 4))
        self.register_buffer("cache", torch.zeros(2, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.total += x
        self.cache[1:] = x[:1]
        return self.total * 2 + self.cache.sum()


def test_buffer_mutation_persists_across_calls() -> None:
    torch.manual_seed(0)
    xs = [randn(3, 4) for _ in range(3)]
    eager = RunningSum()
    with emulated_runtime(persist=False):
        # Compiling traces a copy of the state: the compiled module's buffers start from zeros too.
        compiled = _one_engine(RunningSum(), xs[:1])
        for x in xs:
            with torch.no_grad():
                assert_outputs_close([compiled(x)], [eager(x)])
    assert_outputs_close([compiled.total, compiled.cache], [eager.total, eager.cache])
