"""``refit_module_weights``: Torch-TensorRT's name and signature; refit is not implemented yet.

Refitting writes new weights into a built engine through ``trt.Refitter``, which needs the engine
deserialized on a GPU. Until issue 19's refit work lands, recompile with the new weights instead.
"""

from __future__ import annotations

from typing import Any

import torch

REFIT_NOT_IMPLEMENTED = (
    "refitting engine weights is not implemented yet (issue 19 of this project): recompile the module "
    "with its new weights (torch_tensorrt.compile) instead"
)


def refit_module_weights(
    compiled_module: torch.fx.GraphModule | torch.export.ExportedProgram,
    new_weight_module: torch.export.ExportedProgram,
    arg_inputs: tuple[Any, ...] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    verify_output: bool = False,
    in_place: bool = False,
) -> torch.fx.GraphModule:
    """Would refit ``compiled_module``'s engines with the weights of ``new_weight_module``."""
    raise NotImplementedError(REFIT_NOT_IMPLEMENTED)
