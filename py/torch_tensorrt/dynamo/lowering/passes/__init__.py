"""Small pure graph passes run after decomposition, in order."""

from __future__ import annotations

from collections.abc import Callable

import torch

from torch_tensorrt.dynamo.lowering.passes.accumulate_in_fp32 import accumulate_in_fp32
from torch_tensorrt.dynamo.lowering.passes.remove_assertions import remove_assertions
from torch_tensorrt.dynamo.lowering.passes.remove_noop_ops import remove_noop_ops

# A pass edits the graph in place. Passes run before the module's code is generated (once, after
# all of them), so they see a Graph, not a GraphModule.
LoweringPass = Callable[[torch.fx.Graph, object], None]

LOWERING_PASSES: list[LoweringPass] = [remove_assertions, remove_noop_ops, accumulate_in_fp32]

__all__ = ["LOWERING_PASSES", "LoweringPass"]
