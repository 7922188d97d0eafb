"""Torch-TensorRT's partitioning entry points (``fast_partition``, ``global_partition``,
``get_submod_inputs``), for their scripts and tests, on our one partitioner.

Torch-TensorRT has two algorithms: the "fast" adjacency partitioner and the "global" one (torch's
``CapabilityBasedPartitioner``). Ours is a capability-based partitioner with the same rules as both
(supported ops, ``min_block_size``, ``torch_executed_ops``, ``require_full_compilation``), so both
names run it. TensorRT segments are submodules named ``_run_on_acc_<n>``, as in Torch-TensorRT. A graph without
traced values (``torch.fx.symbolic_trace``) is partitioned by which ops have a converter registered;
their arguments are checked when the segment is converted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import torch

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo import _defaults
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.partitioning._partitioner import PartitionResult, partition


def _partition_with(
    gm: torch.fx.GraphModule, min_block_size: int, torch_executed_ops: Collection[Any], require_full_compilation: bool
) -> tuple[torch.fx.GraphModule, PartitionResult]:
    gm.graph.eliminate_dead_code()
    gm.graph.lint()
    gm.recompile()
    settings = CompilationSettings(
        min_block_size=min_block_size,
        torch_executed_ops=set(torch_executed_ops),
        require_full_compilation=require_full_compilation,
    )
    result = partition(gm, settings)
    result.module.recompile()
    return result.module, result


def fast_partition(
    gm: torch.fx.GraphModule,
    min_block_size: int = _defaults.MIN_BLOCK_SIZE,
    torch_executed_ops: Collection[Any] = frozenset(),
    require_full_compilation: bool = _defaults.REQUIRE_FULL_COMPILATION,
    skip_fusion: bool = False,
) -> tuple[torch.fx.GraphModule, PartitionResult]:
    """Split ``gm`` (edited in place) into TensorRT segments and PyTorch code. Returns the module and
    the partition result (which ops were converted, which stay in PyTorch and why)."""
    if skip_fusion:
        warn_once(
            "fast_partition:skip_fusion",
            "fast_partition(skip_fusion=True) has no effect: the partitioner here has no separate fusion step "
            "to skip. (reported once per process)",
            stacklevel=2,
        )
    return _partition_with(gm, min_block_size, torch_executed_ops, require_full_compilation)


def global_partition(
    gm: torch.fx.GraphModule,
    min_block_size: int = _defaults.MIN_BLOCK_SIZE,
    torch_executed_ops: Collection[Any] = frozenset(),
    require_full_compilation: bool = _defaults.REQUIRE_FULL_COMPILATION,
) -> tuple[torch.fx.GraphModule, PartitionResult]:
    """Torch-TensorRT's capability-based partitioning: the same partitioner as :func:`fast_partition`."""
    return _partition_with(gm, min_block_size, torch_executed_ops, require_full_compilation)


def get_submod_inputs(mod: torch.fx.GraphModule, submod: torch.nn.Module, inputs: Sequence[Any]) -> list[Any]:
    """The arguments ``submod`` receives when ``mod`` runs on ``inputs`` (``submod`` must be called)."""
    captured: list[Any] = []

    def record(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        captured[:] = list(args)

    handle = submod.register_forward_pre_hook(record)
    try:
        with torch.no_grad():
            mod(*inputs)
    finally:
        handle.remove()
    if not captured and not any(m is submod for m in mod.modules()):
        raise ValueError("get_submod_inputs: submod is not a submodule of mod")
    return captured


__all__ = ["fast_partition", "get_submod_inputs", "global_partition"]
