"""Shared pieces of the unary-style converter case tables (activation, unary)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from torch import nn

from torch_tensorrt.testing import assert_close_to_eager


class Fn1(nn.Module):
    """Wraps a one-argument function as a module to compile."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, a: Any) -> Any:
        return self.fn(a)


def check(fn: Callable[..., Any], x: torch.Tensor, **kwargs: Any) -> None:
    assert_close_to_eager(Fn1(fn), [x], **kwargs)


def rank_cycle_table(rows: Sequence[tuple], dtypes_at: int, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """pytest params: one per (row, dtype, shape), the shape cycling through ``shapes`` (ranks 1-5)."""
    params = []
    for row in rows:
        for dtype in row[dtypes_at]:
            shape = shapes[len(params) % len(shapes)]
            params.append(
                pytest.param(row, dtype, shape, id=f"{row[0]}-{str(dtype).removeprefix('torch.')}-rank{len(shape)}")
            )
    return params
