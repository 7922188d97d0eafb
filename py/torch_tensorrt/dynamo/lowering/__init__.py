"""Stage 2: decompositions to core ATen plus small pure graph passes."""

from torch_tensorrt.dynamo.lowering._decompositions import get_decompositions
from torch_tensorrt.dynamo.lowering._lower import lower_exported_program
from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES
from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import (
    apply_lowering_passes,
    post_lowering,
    pre_export_lowering,
    repair_input_aliasing,
)

__all__ = [
    "LOWERING_PASSES",
    "apply_lowering_passes",
    "get_decompositions",
    "lower_exported_program",
    "post_lowering",
    "pre_export_lowering",
    "repair_input_aliasing",
]
