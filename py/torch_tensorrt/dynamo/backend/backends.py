"""The torch.compile backend: each Dynamo graph is exported and compiled like any module.

Dynamo handles graph breaks and decides when to recompile; every graph it hands over becomes one
compiled GraphModule (TensorRT engines plus PyTorch fallback). Sizes Dynamo passes as separate
SymInt inputs are recomputed from the tensors they came from, so engines only take tensors.
Dynamic sizes need bounds (``torch._dynamo.mark_dynamic(x, dim, min=..., max=...)``): TensorRT
builds for a range. A graph with an unbounded dynamic size runs in PyTorch, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch._dynamo import register_backend

from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

# torch.export cannot bound a TensorRT profile by infinity; sizes beyond this are refused.
_MAX_DYNAMIC_SIZE = 1 << 20


class _TensorOnlyGraph(torch.nn.Module):
    """Calls a Dynamo graph from its runtime tensors only.

    SymInt inputs are recomputed from the tensors' sizes, and module parameters/buffers (which
    Dynamo passes as graph inputs) are held as constants, so TensorRT bakes them into the engine.
    """

    def __init__(self, gm: torch.fx.GraphModule, order: list[Any], constants: dict[int, torch.Tensor]) -> None:
        super().__init__()
        self.gm = gm
        self.order = order  # ("tensor", i), ("size", tensor_index, dim) or ("constant", i) per graph input
        for i, value in constants.items():
            self.register_buffer(f"constant_{i}", value.detach(), persistent=False)

    def forward(self, *tensors: torch.Tensor) -> Any:
        args = []
        for spec in self.order:
            if spec[0] == "tensor":
                args.append(tensors[spec[1]])
            elif spec[0] == "size":
                args.append(tensors[spec[1]].size(spec[2]))
            else:
                args.append(getattr(self, f"constant_{spec[1]}"))
        return self.gm(*args)


def _is_module_state(node: torch.fx.Node, value: Any) -> bool:
    """Dynamo lifts parameters and buffers into graph inputs; their source names say so."""
    if isinstance(value, torch.nn.Parameter):
        return True
    grapharg = node.meta.get("grapharg")
    source = getattr(getattr(grapharg, "source", None), "name", None)
    name = source() if callable(source) else str(source or "")
    return "_parameters" in name or "_buffers" in name


def _finite_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None  # sympy/torch infinities


def _fake_value(node: torch.fx.Node) -> Any:
    return node.meta.get("example_value", node.meta.get("val"))


def runtime_tensor_positions(gm: torch.fx.GraphModule, example_inputs: Sequence[Any]) -> list[int]:
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    return [
        i
        for i, v in enumerate(example_inputs)
        if isinstance(v, torch.Tensor) and not _is_module_state(placeholders[i], v)
    ]


def _plan(gm: torch.fx.GraphModule, example_inputs: Sequence[Any]) -> tuple[list[Any], list[Input]] | None:
    """How to call ``gm`` from tensors only, and each tensor's Input range; None if unbounded."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    tensor_positions = runtime_tensor_positions(gm, example_inputs)
    fakes = {i: _fake_value(placeholders[i]) for i in tensor_positions}
    symbol_source: dict[Any, tuple[int, int]] = {}
    specs: list[Input] = []
    for k, i in enumerate(tensor_positions):
        real, fake = example_inputs[i], fakes[i]
        lo, hi = [], []
        for d, size in enumerate(real.shape):
            sym = fake.shape[d] if isinstance(fake, torch.Tensor) else size
            if isinstance(sym, torch.SymInt):
                expr = sym.node.expr
                symbol_source.setdefault(expr, (k, d))
                vr = sym.node.shape_env.var_to_range.get(expr)
                upper = _finite_int(vr.upper) if vr is not None else None
                if upper is None or upper > _MAX_DYNAMIC_SIZE:
                    return None
                lo.append(max(_finite_int(vr.lower) or 1, 1))
                hi.append(upper)
            else:
                lo.append(int(size))
                hi.append(int(size))
        specs.append(Input(min_shape=lo, opt_shape=tuple(real.shape), max_shape=hi, dtype=real.dtype))
    order: list[Any] = []
    for i, value in enumerate(example_inputs):
        if isinstance(value, torch.Tensor):
            if i in tensor_positions:
                order.append(("tensor", tensor_positions.index(i)))
            else:
                order.append(("constant", i))
            continue
        fake = _fake_value(placeholders[i])
        source = symbol_source.get(getattr(getattr(fake, "node", None), "expr", None))
        if source is None:
            return None  # a size not taken from any tensor: leave the graph to PyTorch
        order.append(("size", *source))
    return order, specs


@register_backend(name="tensorrt")  # type: ignore[misc]
def tensorrt_backend(gm: torch.fx.GraphModule, example_inputs: Sequence[Any], **kwargs: Any) -> Callable[..., Any]:
    """Compile one Dynamo graph; ``options={...}`` of torch.compile are CompilationSettings."""
    from torch_tensorrt.dynamo._compiler import trace_and_compile

    options = dict(kwargs.get("options") or {})
    settings = CompilationSettings.from_kwargs(**options)
    plan = _plan(gm, example_inputs)
    if plan is None:
        logger.warning(
            "torch.compile graph with an unbounded dynamic size runs in PyTorch; bound it with "
            "torch._dynamo.mark_dynamic(tensor, dim, min=..., max=...) to build a TensorRT engine"
        )
        return gm.forward
    order, specs = plan
    constants = {spec[1]: example_inputs[spec[1]] for spec in order if spec[0] == "constant"}
    wrapper = _TensorOnlyGraph(gm, order, constants)
    tensor_positions = runtime_tensor_positions(gm, example_inputs)
    compiled: list[torch.fx.GraphModule] = []

    def run(*args: Any) -> Any:
        # Compiled on the first call, outside Dynamo's own tracing: torch.export inside a backend
        # call would nest a second trace in Dynamo's and break its guards.
        if not compiled:
            compiled.append(trace_and_compile(wrapper, specs, None, settings))
            COMPILED_GRAPHS.append(compiled[0])
        result = compiled[0](*[args[i] for i in tensor_positions])
        return result if isinstance(result, (list, tuple)) else (result,)

    return run


# Every graph compiled by the backend, newest last (tests count engines per Dynamo graph).
COMPILED_GRAPHS: list[torch.fx.GraphModule] = []


@register_backend(name="torch_tensorrt")  # type: ignore[misc]
def torch_tensorrt_backend(
    gm: torch.fx.GraphModule, example_inputs: Sequence[Any], **kwargs: Any
) -> Callable[..., Any]:
    return tensorrt_backend(gm, example_inputs, **kwargs)
