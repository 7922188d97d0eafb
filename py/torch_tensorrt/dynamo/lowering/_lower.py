from __future__ import annotations

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering._core_aten import lower_to_core_aten
from torch_tensorrt.dynamo.lowering._decompositions import get_decompositions
from torch_tensorrt.dynamo.lowering._unlift import unlift
from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES


def lower_exported_program(
    program: torch.export.ExportedProgram, settings: CompilationSettings
) -> torch.fx.GraphModule:
    """Reach core ATen, unlift parameters into attributes and run the lowering passes in order."""
    module = lower_to_core_aten(program)
    if module is None:
        module = decompose_by_retrace(program)
    for graph_pass in LOWERING_PASSES:
        module = graph_pass(module, settings)
    module.graph.lint()
    module.recompile()
    return module


def decompose_by_retrace(program: torch.export.ExportedProgram) -> torch.fx.GraphModule:
    """torch.export's own route to core ATen: trace the whole program again with the decompositions."""
    return unlift(program.run_decompositions(get_decompositions()))
