"""Dynamic keyword inputs: trace(..., kwarg_inputs={"k": Input(min_shape=..., ...)}) and compile.

As in Torch-TensorRT, a keyword Input range becomes a torch.export dynamic dim (dynamic_shapes keyed
by forward's parameter names); compiled programs run under emulated_runtime() against eager PyTorch
at several sizes inside the range.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo import trace
from torch_tensorrt.testing import emulated_runtime


class _Masked(torch.nn.Module):
    """The keyword tensor shares the batch dim of the positional one."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 6)

    def forward(self, x: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.lin(x)) * mask


class _Independent(torch.nn.Module):
    """The keyword tensor (positional-or-keyword parameter, given by name) has a batch of its own."""

    def forward(self, x: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        return x.sum(0) * 2 + extra.sum(0)


class _VarKeyword(torch.nn.Module):
    def forward(self, x: torch.Tensor, **inputs: torch.Tensor) -> torch.Tensor:
        return x + inputs["offset"].mean(0)


def _range(width: int, hi: int = 16) -> torch_tensorrt.Input:
    return torch_tensorrt.Input(min_shape=(1, width), opt_shape=(4, width), max_shape=(hi, width))


def _compile(model: torch.nn.Module, args: list[Any], kwargs: dict[str, Any], use_python_runtime: bool) -> Any:
    return torch_tensorrt.compile(
        model, ir="dynamo", arg_inputs=args, kwarg_inputs=kwargs, min_block_size=1,
        require_full_compilation=True, use_python_runtime=use_python_runtime, pass_through_build_failures=True,
    )  # fmt: skip


def _runtimes() -> list[bool]:
    return [True, False] if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime else [True]


def test_trace_makes_the_keyword_input_dynamic() -> None:
    program = trace(_Independent(), arg_inputs=[_range(3)], kwarg_inputs={"extra": _range(3, hi=8)})
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    extra_batch = placeholders["extra"].meta["val"].shape[0]
    assert isinstance(extra_batch, torch.SymInt)
    bounds = program.range_constraints[extra_batch.node.expr]
    assert (int(bounds.lower), int(bounds.upper)) == (1, 8)
    # Runs at other batch sizes than the example's.
    module = program.module()
    x, extra = torch.randn(5, 3), torch.randn(7, 3)
    torch.testing.assert_close(module(x, extra=extra), _Independent()(x, extra=extra))


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_keyword_batch_shared_with_positional_matches_eager(use_python_runtime: bool) -> None:
    torch.manual_seed(0)
    model = _Masked().eval()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [_range(4)], {"mask": _range(6)}, use_python_runtime)
        for batch in (1, 3, 4, 16):
            x, mask = torch.randn(batch, 4), torch.rand(batch, 6)
            torch.testing.assert_close(compiled(x, mask=mask), model(x, mask=mask), rtol=1e-5, atol=1e-5)  # float32


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_keyword_batch_of_its_own_matches_eager_and_is_range_checked(use_python_runtime: bool) -> None:
    model = _Independent().eval()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [_range(3)], {"extra": _range(3, hi=8)}, use_python_runtime)
        for x_batch, extra_batch in ((1, 8), (16, 1), (5, 3)):
            x, extra = torch.randn(x_batch, 3), torch.randn(extra_batch, 3)
            torch.testing.assert_close(compiled(x, extra=extra), model(x, extra=extra), rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError, match=r"shape \(9, 3\), outside"):
            compiled(torch.randn(2, 3), extra=torch.randn(9, 3))


def test_var_keyword_forward_takes_a_dynamic_keyword_input() -> None:
    model = _VarKeyword().eval()
    x_spec = torch_tensorrt.Input(shape=(2, 5))
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [x_spec], {"offset": _range(5, hi=6)}, True)
        for batch in (1, 2, 6):
            x, offset = torch.randn(2, 5), torch.randn(batch, 5)
            torch.testing.assert_close(compiled(x, offset=offset), model(x, offset=offset), rtol=1e-5, atol=1e-5)


def test_compile_of_an_exported_program_takes_keyword_ranges() -> None:
    model = _Independent().eval()
    program = trace(model, arg_inputs=[_range(3)], kwarg_inputs={"extra": _range(3, hi=8)})
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.dynamo.compile(
            program, arg_inputs=[_range(3)], kwarg_inputs={"extra": _range(3, hi=8)}, min_block_size=1,
            require_full_compilation=True, use_python_runtime=True,
        )  # fmt: skip
        for extra_batch in (1, 8):
            x, extra = torch.randn(4, 3), torch.randn(extra_batch, 3)
            torch.testing.assert_close(compiled(x, extra=extra), model(x, extra=extra), rtol=1e-5, atol=1e-5)
