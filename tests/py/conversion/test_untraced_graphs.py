"""Graphs that torch.export never saw (``torch.fx.symbolic_trace`` of hand-written ATen/prims calls),
handed to TRTInterpreter as Torch-TensorRT's converter harness does: node values come from the
input specs, so ops whose eager meaning depends on data or on constant sizes need value rules.
Each engine is built with the real builder and run on the emulated runtime against eager PyTorch.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from torch_tensorrt import Input
from torch_tensorrt.testing import emulated_runtime

aten = torch.ops.aten
prims = torch.ops.prims

TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bool: (0, 0)}


def _build_and_run(module: torch.nn.Module, specs: list[Input], inputs: list[torch.Tensor]) -> Any:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    interpreter = TRTInterpreter(torch.fx.symbolic_trace(module), specs)
    with emulated_runtime(persist=False):
        result = interpreter.run()
        engine_module = TorchTensorRTModule(
            serialized_engine=bytes(result.engine.serialize()),
            input_binding_names=list(result.input_names),
            output_binding_names=list(result.output_names),
            name="untraced",
        )
        return engine_module(*inputs)


class SymNot(torch.nn.Module):
    def forward(self, flag: torch.Tensor) -> Any:
        return torch.sym_not(flag)


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
@pytest.mark.parametrize("value", [True, False])
def test_sym_not_of_a_one_element_tensor_is_its_negated_truth_value(shape: tuple[int, ...], value: bool) -> None:
    flag = torch.full(shape, value, dtype=torch.bool)
    out = _build_and_run(SymNot(), [Input.from_tensor(flag)], [flag])
    # Eager gives a Python bool; the engine gives it as a 1-element bool vector.
    assert out.dtype == torch.bool and out.shape == (1,)
    assert bool(out.item()) is SymNot()(flag)


def test_sym_not_of_a_tensor_with_many_elements_has_no_converter() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter, UnsupportedOperatorException

    flags = torch.ones(3, dtype=torch.bool)
    with pytest.raises(UnsupportedOperatorException, match="sym_not"):
        TRTInterpreter(torch.fx.symbolic_trace(SymNot()), [Input.from_tensor(flags)]).run()


class GroupNormWithFixedSizes(torch.nn.Module):
    """native_group_norm called with N and HxW of one shape (here the largest) on a dynamic input."""

    def __init__(self, n: int, channels: int, hxw: int, groups: int) -> None:
        super().__init__()
        self.sizes = (n, channels, hxw, groups)

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, channels, hxw, groups = self.sizes
        return aten.native_group_norm.default(x, weight, bias, n, channels, hxw, groups, 1e-5)[0]


@pytest.mark.parametrize(
    ("min_shape", "max_shape", "groups", "run_shape"),
    [
        ((2, 4, 2), (5, 4, 4), 2, (3, 4, 3)),
        ((1, 6, 2, 2), (4, 6, 3, 5), 3, (2, 6, 3, 2)),
        ((1, 6, 2, 2), (4, 6, 3, 5), 3, (4, 6, 3, 5)),
    ],
)
def test_native_group_norm_sizes_come_from_the_input(
    min_shape: tuple[int, ...], max_shape: tuple[int, ...], groups: int, run_shape: tuple[int, ...]
) -> None:
    channels = max_shape[1]
    hxw = int(torch.tensor(max_shape[2:]).prod())
    module = GroupNormWithFixedSizes(max_shape[0], channels, hxw, groups)
    specs = [
        Input(min_shape=min_shape, opt_shape=max_shape, max_shape=max_shape, dtype=torch.float32),
        Input(shape=(channels,), dtype=torch.float32),
        Input(shape=(channels,), dtype=torch.float32),
    ]
    x, weight, bias = torch.randn(run_shape), torch.randn(channels), torch.randn(channels)
    out = _build_and_run(module, specs, [x, weight, bias])
    rtol, atol = TOLERANCES[torch.float32]
    torch.testing.assert_close(out, torch.nn.functional.group_norm(x, groups, weight, bias, 1e-5), rtol=rtol, atol=atol)


class BroadcastInDim(torch.nn.Module):
    def __init__(self, shape: list[int], broadcast_dimensions: list[int]) -> None:
        super().__init__()
        self.shape, self.broadcast_dimensions = shape, broadcast_dimensions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return prims.broadcast_in_dim.default(x, self.shape, self.broadcast_dimensions)


@pytest.mark.parametrize(
    ("in_shape", "shape", "broadcast_dimensions"),
    [
        ((4, 5, 6), [4, 5, 6, 1, 1], [0, 1, 2]),  # new trailing dims (an unsqueeze)
        ((1, 1), [1, 1, 1], [0, 1]),
        ((4, 5, 6), [4, 5, 6, 7, 1], [0, 1, 2]),  # a new dim of size 7: a real broadcast
        ((3, 1), [2, 3, 4], [1, 2]),  # a leading new dim and a size-1 dim broadcast
        ((5,), [5, 2], [0]),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_prims_broadcast_in_dim_matches_eager(
    in_shape: tuple[int, ...], shape: list[int], broadcast_dimensions: list[int], dtype: torch.dtype
) -> None:
    x = torch.randn(in_shape).to(dtype)
    module = BroadcastInDim(shape, broadcast_dimensions)
    out = _build_and_run(module, [Input.from_tensor(x)], [x])
    rtol, atol = TOLERANCES[dtype]
    torch.testing.assert_close(out, module(x), rtol=rtol, atol=atol)


class LinalgCross(torch.nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return aten.linalg_cross.default(a, b, dim=self.dim)


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "dim"),
    [
        ((3,), (3,), -1),
        ((4, 3), (4, 3), 1),
        ((3, 4, 5), (3, 4, 5), 0),
        ((5, 3), (1, 3), -1),  # batch dim broadcast
        ((2, 3, 1), (1, 3, 4), 1),  # cross dim in the middle, both neighbours broadcast
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_linalg_cross_converts_directly_and_matches_eager(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], dim: int, dtype: torch.dtype
) -> None:
    a, b = torch.randn(a_shape).to(dtype), torch.randn(b_shape).to(dtype)
    out = _build_and_run(LinalgCross(dim), [Input.from_tensor(a), Input.from_tensor(b)], [a, b])
    rtol, atol = TOLERANCES[dtype]
    expected = LinalgCross(dim)(a.float(), b.float()).to(dtype)  # float16 cross is not on every CPU build
    torch.testing.assert_close(out, expected, rtol=rtol, atol=atol)


def test_linalg_cross_over_a_dynamic_batch() -> None:
    spec = Input(min_shape=(2, 3), opt_shape=(4, 3), max_shape=(6, 3), dtype=torch.float32)
    a, b = torch.randn(5, 3), torch.randn(5, 3)
    out = _build_and_run(LinalgCross(-1), [spec, spec], [a, b])
    torch.testing.assert_close(out, torch.linalg.cross(a, b), rtol=1e-5, atol=1e-5)
