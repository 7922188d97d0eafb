"""Which ops are decomposed before conversion.

We start from torch.export's core-ATen table and keep a few ops whole because TensorRT has a
better native layer for them than for their decomposition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

aten = torch.ops.aten

# Ops that have a direct TensorRT layer; decomposing them would only lose information.
KEPT_WHOLE: tuple[Any, ...] = (
    aten.linear.default,
    aten.hardswish.default,
    aten.hardsigmoid.default,
    aten.silu.default,
    aten.gelu.default,
    aten.native_layer_norm.default,
    aten.layer_norm.default,
    aten.native_group_norm.default,
    aten.group_norm.default,
    aten.scaled_dot_product_attention.default,
    aten.matmul.default,
    aten.adaptive_avg_pool1d.default,
    aten.adaptive_avg_pool2d.default,
    aten.adaptive_avg_pool3d.default,
    aten._adaptive_avg_pool2d.default,
    aten._adaptive_avg_pool3d.default,
    aten.softmax.int,
    aten.log_softmax.int,
    aten.rms_norm.default,
    aten.elu.default,
    aten.leaky_relu.default,
    aten.hardtanh.default,
    aten.relu6.default,
    aten.pad.default,
    aten.flatten.using_ints,
)


def get_decompositions() -> dict[Any, Callable[..., Any]]:
    return dict(_decomposition_table())  # a copy: callers may adjust theirs


@functools.cache
def _decomposition_table() -> dict[Any, Callable[..., Any]]:
    # Building torch's table takes a noticeable fraction of a small compile; it never changes.
    table = dict(torch.export.default_decompositions())
    for op in KEPT_WHOLE:
        table.pop(op, None)
    return table


@functools.cache
def decomposed_aten_ops() -> frozenset[Any]:
    """The ``aten`` ops our table decomposes.

    Reading the full table first collects the composite ops of every other namespace (0.2 s on a
    first compile); deciding about ``aten`` ops needs only torch's aten part, filled in eagerly.
    """
    aten_table = torch.export.default_decompositions().decomp_table
    return frozenset(op for op in aten_table if op.namespace == "aten" and op not in KEPT_WHOLE)
