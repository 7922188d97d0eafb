"""Small pure graph passes run after decomposition, in order."""

from __future__ import annotations

from collections.abc import Callable

import torch

from torch_tensorrt.dynamo.lowering.passes.accumulate_in_fp32 import accumulate_in_fp32
from torch_tensorrt.dynamo.lowering.passes.decompose_attention import decompose_attention
from torch_tensorrt.dynamo.lowering.passes.remove_assertions import remove_assertions
from torch_tensorrt.dynamo.lowering.passes.remove_noop_ops import remove_noop_ops
from torch_tensorrt.dynamo.lowering.passes.rule_based_autocast import rule_based_autocast

# A pass edits the graph in place. Passes run before the module's code is generated (once, after
# all of them), so they see a Graph, not a GraphModule; its owning_module holds the weights.
LoweringPass = Callable[[torch.fx.Graph, object], None]

# Autocast runs before accumulate_in_fp32, so use_fp32_acc covers the matmuls autocast puts in float16
# (as in Torch-TensorRT, whose autocast is a pre-lowering pass). Attention is decomposed after autocast
# (which decides an attention's precision as a whole) and before accumulate_in_fp32, which then finds
# the float32 products decompose_attention writes for use_fp32_acc and leaves them alone.
LOWERING_PASSES: list[LoweringPass] = [
    remove_assertions,
    remove_noop_ops,
    rule_based_autocast,
    decompose_attention,
    accumulate_in_fp32,
]

__all__ = ["LOWERING_PASSES", "LoweringPass"]
