"""Small pure graph passes run after decomposition, in order."""

from __future__ import annotations

from collections.abc import Callable

import torch

from torch_tensorrt.dynamo.lowering.passes.remove_assertions import remove_assertions
from torch_tensorrt.dynamo.lowering.passes.remove_noop_ops import remove_noop_ops

LoweringPass = Callable[[torch.fx.GraphModule, object], torch.fx.GraphModule]

LOWERING_PASSES: list[LoweringPass] = [remove_assertions, remove_noop_ops]

__all__ = ["LOWERING_PASSES", "LoweringPass"]
