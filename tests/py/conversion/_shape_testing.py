"""Helpers for the shape / slicing / indexing / creation converter tests.

``check`` wraps a function of tensors in a module and compares it with eager on the reference
executor. ``check_dynamic`` compiles once for ``torch_tensorrt.Input`` ranges and then runs every
given input set (typically shapes at min, opt and max) through the same engines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import (
    DEFAULT_TOLERANCES,
    assert_close_to_eager,
    compile_on_reference,
    emulated_runtime,
    run_on_reference,
)

FLOATS = [torch.float32, torch.float16, torch.bfloat16]


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn


class _Fn1(_Fn):
    def forward(self, a: torch.Tensor) -> Any:
        return self.fn(a)


class _Fn2(_Fn):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> Any:
        return self.fn(a, b)


class _Fn3(_Fn):
    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> Any:
        return self.fn(a, b, c)


def fn_module(fn: Callable[..., Any], arity: int) -> torch.nn.Module:
    """A module whose forward takes ``arity`` tensors (torch.export needs named positional args)."""
    return {1: _Fn1, 2: _Fn2, 3: _Fn3}[arity](fn).eval()


def _flatten(value: Any) -> list[Any]:
    return torch.utils._pytree.tree_flatten(value)[0]


def assert_outputs_close(
    actual: Sequence[Any], expected: Sequence[Any], rtol: float | None = None, atol: float | None = None
) -> None:
    assert len(actual) == len(expected), f"{len(actual)} outputs, eager gives {len(expected)}"
    for i, (got, want) in enumerate(zip(actual, expected)):
        assert got.dtype == want.dtype, f"output {i}: dtype {got.dtype}, eager gives {want.dtype}"
        assert got.shape == want.shape, f"output {i}: shape {tuple(got.shape)}, eager gives {tuple(want.shape)}"
        r, a = DEFAULT_TOLERANCES.get(want.dtype, (0.0, 0.0))
        torch.testing.assert_close(got, want, rtol=r if rtol is None else rtol, atol=a if atol is None else atol)


def check(fn: Callable[..., Any], *inputs: torch.Tensor, **kwargs: Any) -> list[Any]:
    return assert_close_to_eager(fn_module(fn, len(inputs)), list(inputs), **kwargs)


def check_dynamic(fn: Callable[..., Any], specs: Sequence[Any], *input_sets: Sequence[torch.Tensor]) -> None:
    """Compile once for ``specs``; every input set must match eager through the same engines."""
    module = fn_module(fn, len(specs))
    with emulated_runtime(persist=False):
        compiled = compile_on_reference(module, list(input_sets[0]), input_specs=list(specs))
        for inputs in input_sets:
            with torch.no_grad():
                expected = _flatten(module(*inputs))
                actual = _flatten(compiled(*inputs))
            assert_outputs_close(actual, expected)


def dyn(
    min_shape: tuple[int, ...],
    opt_shape: tuple[int, ...],
    max_shape: tuple[int, ...],
    dtype: torch.dtype = torch.float32,
) -> Any:
    return torch_tensorrt.Input(min_shape=min_shape, opt_shape=opt_shape, max_shape=max_shape, dtype=dtype)


def static(t: torch.Tensor) -> Any:
    return torch_tensorrt.Input.from_tensor(t)


def assert_falls_back(
    fn: Callable[..., Any],
    *inputs: torch.Tensor,
    op: str,
    input_specs: Sequence[Any] | None = None,
    run_partial: bool = True,
) -> None:
    """``op`` is refused by its validator: full compilation fails naming it, and (with
    ``run_partial``) a partial compilation, the op left to PyTorch, still matches eager."""
    module = fn_module(fn, len(inputs))
    with pytest.raises(UnsupportedOperatorError, match=op):
        with emulated_runtime(persist=False):
            compile_on_reference(module, list(inputs), input_specs=input_specs)
    if not run_partial:
        return
    with torch.no_grad():
        expected = _flatten(module(*inputs))
    actual = run_on_reference(module, list(inputs), input_specs=input_specs, require_full_compilation=False)
    assert_outputs_close(actual, expected)


def randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape).to(dtype)


def distinct(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Values without ties (in any dtype used here), so sort/topk orders are unambiguous."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).reshape(shape) - n // 2).to(dtype)


def run_untraced(
    module: torch.nn.Module, specs: Sequence[Any], input_sets: Sequence[Sequence[torch.Tensor]]
) -> list[Any]:
    """Convert ``fx.symbolic_trace(module)`` (no traced values, as Torch-TensorRT's converter tests
    hand graphs over) once for ``specs`` with TRTInterpreter; run every input set through that engine."""
    from torch_tensorrt.dynamo.conversion import CompilationSettings, TRTInterpreter
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    graph = torch.fx.symbolic_trace(module)
    with emulated_runtime(persist=False):  # engines built inside it are recorded to run on the CPU
        result = TRTInterpreter(graph, list(specs), compilation_settings=CompilationSettings()).run()
        engine = TorchTensorRTModule(
            serialized_engine=bytes(result.engine.serialize()),
            input_binding_names=list(result.input_names),
            output_binding_names=list(result.output_names),
        )
        with torch.no_grad():
            return [engine(*inputs) for inputs in input_sets]
