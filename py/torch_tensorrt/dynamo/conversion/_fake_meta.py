"""Fill in ``node.meta["val"]`` of a graph that was not traced by torch.export.

The interpreter and the converters read each node's fake value (dtype, symbolic shape). Graphs from
``torch.fx.symbolic_trace`` — what Torch-TensorRT's converter tests hand ``TRTInterpreter`` — have
none, so the values are propagated here from the input specs, with a symbolic size for every
dimension whose range is not a single value.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv, StatelessSymbolicContext
from torch.fx.passes.fake_tensor_prop import FakeTensorProp

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

# The node kinds whose value the interpreter or a converter reads.
_VALUED_OPS = ("placeholder", "call_function", "get_attr")


def lacks_fake_values(module: torch.fx.GraphModule) -> bool:
    """Whether some node the conversion reads has no ``meta["val"]``."""
    return any(node.op in _VALUED_OPS and "val" not in node.meta for node in module.graph.nodes)


def _fake_input(mode: FakeTensorMode, shape_env: ShapeEnv, shape_range: ShapeRange, dtype: torch.dtype) -> torch.Tensor:
    lo, opt, hi = shape_range
    dynamic = [a != b for a, b in zip(lo, hi)]
    # Sizes 0 and 1 get specialised by the shape environment: a dynamic dim is made from a size >= 2.
    example_shape = [max(o, min(2, h)) if d else o for o, h, d in zip(opt, hi, dynamic)]
    context = StatelessSymbolicContext(
        dynamic_sizes=[DimDynamic.DYNAMIC if d else DimDynamic.STATIC for d in dynamic],
        constraint_sizes=[None] * len(dynamic),
    )
    fake = mode.from_tensor(torch.empty(example_shape, dtype=dtype), symbolic_context=context)
    for size, low, high in zip(fake.shape, lo, hi):
        if isinstance(size, torch.SymInt):
            shape_env.constrain_symbol_range(size.node.expr, compiler_min=low, compiler_max=high)
    return fake


def propagate_fake_values(
    module: torch.fx.GraphModule, input_ranges: Sequence[ShapeRange], input_dtypes: Sequence[torch.dtype]
) -> None:
    """Run ``module`` on fake inputs of the given ranges and dtypes, recording every node's value."""
    placeholders = [node for node in module.graph.nodes if node.op == "placeholder"]
    if len(placeholders) != len(input_ranges):
        raise ValueError(
            f"the graph has {len(placeholders)} inputs but {len(input_ranges)} input specs were given; "
            "pass one torch_tensorrt.Input per graph input"
        )
    shape_env = ShapeEnv()
    mode = FakeTensorMode(shape_env=shape_env, allow_non_fake_inputs=True)
    fakes = [_fake_input(mode, shape_env, r, d) for r, d in zip(input_ranges, input_dtypes)]
    with mode:
        FakeTensorProp(module, mode).propagate_dont_convert_inputs(*fakes)


__all__ = ["lacks_fake_values", "propagate_fake_values"]
