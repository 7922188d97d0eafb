from __future__ import annotations

from collections.abc import Callable

import torch
from torch.fx import Graph

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering._core_aten import lower_to_core_aten
from torch_tensorrt.dynamo.lowering._decompositions import get_decompositions
from torch_tensorrt.dynamo.lowering._unlift import unlift
from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES
from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import run_registered_passes


def lower_exported_program(
    program: torch.export.ExportedProgram, settings: CompilationSettings
) -> torch.fx.GraphModule:
    """Reach core ATen, unlift parameters into attributes and run the lowering passes in order.

    The module's code is generated once, after every pass.
    """

    def run_passes(graph: Graph) -> None:
        for graph_pass in LOWERING_PASSES:
            graph_pass(graph, settings)

    module = lower_to_core_aten(program, run_passes)
    if module is None:
        module = decompose_by_retrace(program, run_passes)
    module = run_registered_passes(module, settings)  # passes users added with _aten_lowering_pass
    module.graph.lint()  # with its module: get_attr targets are checked too
    return module


def decompose_by_retrace(
    program: torch.export.ExportedProgram, edit: Callable[[Graph], None] | None = None
) -> torch.fx.GraphModule:
    """torch.export's own route to core ATen: trace the whole program again with the decompositions."""
    return unlift(program.run_decompositions(get_decompositions()), edit)
