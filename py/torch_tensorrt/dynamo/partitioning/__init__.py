"""Stage 3: split the lowered graph into TensorRT segments and PyTorch segments."""

from torch_tensorrt.dynamo.partitioning._partitioner import (
    PartitionResult,
    UnsupportedOperatorError,
    partition,
)

__all__ = ["PartitionResult", "UnsupportedOperatorError", "partition"]
