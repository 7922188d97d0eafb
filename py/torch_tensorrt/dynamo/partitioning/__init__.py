"""Stage 3: split the lowered graph into TensorRT segments and PyTorch segments."""

from torch_tensorrt.dynamo.partitioning._partition_api import fast_partition, get_submod_inputs, global_partition
from torch_tensorrt.dynamo.partitioning._partitioner import (
    PartitionResult,
    UnsupportedOperatorError,
    partition,
)

__all__ = [
    "PartitionResult",
    "UnsupportedOperatorError",
    "fast_partition",
    "get_submod_inputs",
    "global_partition",
    "partition",
]
