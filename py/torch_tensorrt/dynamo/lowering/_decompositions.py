"""Which ops are decomposed before conversion.

We start from torch.export's core-ATen table and keep a few ops whole because TensorRT has a
better native layer for them than for their decomposition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch._decomp import _core_aten_decompositions_post_autograd
from torch._export.utils import _is_preservable_cia_op
from torch.export.decomp_utils import PRESERVED_ATEN_CIA_OPS

from torch_tensorrt._logging import warn_once

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
    aten._pad_circular.default,
    aten.flatten.using_ints,
    # F.interpolate: one Resize layer instead of index arithmetic (which dynamic shapes cannot convert).
    *(
        getattr(getattr(aten, name), overload)
        for name in (
            "upsample_nearest1d",
            "upsample_nearest2d",
            "upsample_nearest3d",
            "_upsample_nearest_exact1d",
            "_upsample_nearest_exact2d",
            "_upsample_nearest_exact3d",
            "upsample_linear1d",
            "upsample_bilinear2d",
            "upsample_trilinear3d",
            "upsample_bicubic2d",
        )
        for overload in ("vec", "default")
    ),
)


def get_decompositions(
    enable_experimental_decompositions: bool = False, decompose_attention: bool = False, use_fp32_acc: bool = False
) -> dict[Any, Callable[..., Any]]:
    """The decomposition table (a copy: callers may adjust theirs). Torch-TensorRT's arguments are
    accepted; none changes the table here (see _report_table_options)."""
    _report_table_options(enable_experimental_decompositions, decompose_attention, use_fp32_acc)
    return dict(_decomposition_table())


def _report_table_options(experimental: bool, decompose_attention: bool, use_fp32_acc: bool) -> None:
    if experimental:
        warn_once(
            "get_decompositions:experimental",
            "get_decompositions(enable_experimental_decompositions=True) has no effect: there is one table, "
            "torch.export's core-ATen decompositions less the ops TensorRT has a layer for. (reported once per process)",
            stacklevel=3,
        )
    for name, value in (("decompose_attention", decompose_attention), ("use_fp32_acc", use_fp32_acc)):
        if value:
            warn_once(
                f"get_decompositions:{name}",
                f"get_decompositions({name}=True) leaves the table unchanged: {name} is done by a lowering pass, "
                f"which post_lowering(gm, settings) and torch_tensorrt.compile run when the settings have "
                f"{name}=True. (reported once per process)",
                stacklevel=3,
            )


@functools.cache
def _decomposition_table() -> dict[Any, Callable[..., Any]]:
    # Building torch's table takes a noticeable fraction of a small compile; it never changes.
    table = dict(torch.export.default_decompositions())
    for op in KEPT_WHOLE:
        table.pop(op, None)
    return table


@functools.cache
def decomposes_aten_op(op: torch._ops.OpOverload) -> bool:
    """Whether our table decomposes this ``aten`` op, decided for the one op.

    Building torch's table lists every composite op of the aten namespace first (0.1 s on a first
    compile); its rule for one op is: in the core-ATen decompositions, or a composite op that export
    could keep (functional, not aliasing) but does not choose to.
    """
    if op.namespace != "aten" or op in KEPT_WHOLE:
        return False
    if op in _core_aten_decompositions():
        return True
    return op not in PRESERVED_ATEN_CIA_OPS and _is_preservable_cia_op(op)


@functools.cache
def _core_aten_decompositions() -> frozenset[Any]:
    return frozenset(_core_aten_decompositions_post_autograd())
