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

# Torch-TensorRT's module-pass view of the list above (imported after it: it wraps LOWERING_PASSES).
from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import (  # noqa: E402
    ATEN_POST_LOWERING_PASSES,
    DynamoPassManager,
    _aten_lowering_pass,
    _remove_lowering_pass,
    get_lowering_pass_config,
    post_lowering,
    pre_export_lowering,
    remove_num_users_is_0_nodes,
)

__all__ = [
    "ATEN_POST_LOWERING_PASSES",
    "LOWERING_PASSES",
    "DynamoPassManager",
    "LoweringPass",
    "_aten_lowering_pass",
    "_remove_lowering_pass",
    "get_lowering_pass_config",
    "post_lowering",
    "pre_export_lowering",
    "remove_num_users_is_0_nodes",
]
