"""Stage 2: decompositions to core ATen plus small pure graph passes."""

from torch_tensorrt.dynamo.lowering._decompositions import get_decompositions
from torch_tensorrt.dynamo.lowering._lower import lower_exported_program
from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES

__all__ = ["LOWERING_PASSES", "get_decompositions", "lower_exported_program"]
