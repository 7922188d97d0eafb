"""Input(is_shape_tensor=True): the input's values set shapes inside the engine.

Engines are built by TensorRT-RTX on the CPU (the value range is the optimization profile, given
with set_shape_input); calls run under emulated_runtime() on both runtimes against eager PyTorch.
"""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import engines_of, optimization_profile
from torch_tensorrt.testing import emulated_runtime


class _Broadcast(torch.nn.Module):
    """Repeats a row ``rows`` times, ``rows`` read from a shape-tensor input."""

    def forward(self, row: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        (count,) = rows.tolist()
        return row.expand(count, row.shape[1]) * 2 + 1


class _Reshape(torch.nn.Module):
    def forward(self, x: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
        a, b = dims.tolist()
        torch._check(a * b == x.numel())
        return torch.relu(x.reshape(a, b)) - 0.5


def _runtimes() -> list[bool]:
    return [True, False] if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime else [True]


def _rows_spec() -> torch_tensorrt.Input:
    return torch_tensorrt.Input(min_shape=(1,), opt_shape=(4,), max_shape=(8,), dtype=torch.int64, is_shape_tensor=True)


def _compile(model: torch.nn.Module, specs: list, use_python_runtime: bool) -> torch.fx.GraphModule:
    return torch_tensorrt.compile(
        model, ir="dynamo", arg_inputs=specs, min_block_size=1, require_full_compilation=True,
        use_python_runtime=use_python_runtime, pass_through_build_failures=True,
    )  # fmt: skip


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_broadcast_by_shape_tensor_matches_eager_for_several_values(use_python_runtime: bool) -> None:
    model = _Broadcast().eval()
    row = torch.randn(1, 5)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [torch_tensorrt.Input(shape=(1, 5)), _rows_spec()], use_python_runtime)
        for count in (1, 3, 4, 8):
            rows = torch.tensor([count])
            out = compiled(row, rows)
            assert out.shape == (count, 5)
            torch.testing.assert_close(out, model(row, rows), rtol=1e-6, atol=1e-6)  # float32, exact ops


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_reshape_by_shape_tensor_matches_eager_for_several_values(use_python_runtime: bool) -> None:
    model = _Reshape().eval()
    x = torch.randn(12)
    dims_spec = torch_tensorrt.Input(
        min_shape=(1, 1), opt_shape=(3, 4), max_shape=(12, 12), dtype=torch.int64, is_shape_tensor=True
    )
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [torch_tensorrt.Input(shape=(12,)), dims_spec], use_python_runtime)
        for a, b in ((3, 4), (2, 6), (12, 1), (1, 12)):
            dims = torch.tensor([a, b])
            torch.testing.assert_close(compiled(x, dims), model(x, dims), rtol=1e-6, atol=1e-6)  # float32


def test_engine_records_the_value_range_and_the_build_declares_a_shape_input() -> None:
    model = _Broadcast().eval()
    with emulated_runtime(persist=False):
        compiled = _compile(model, [torch_tensorrt.Input(shape=(1, 5)), _rows_spec()], True)
        (engine,) = engines_of(compiled)
        specs = {s.name: s for s in engine.info.metadata.inputs}
        shape_inputs = [s for s in specs.values() if s.shape_values is not None]
        assert [s.shape_values for s in shape_inputs] == [((1,), (4,), (8,))]
        assert shape_inputs[0].shape == (1,) and shape_inputs[0].dtype == "int64"
        # The metadata round-trips through its JSON form with the value range.
        again = type(engine.info.metadata).from_json(engine.info.metadata.to_json())
        assert [s.shape_values for s in again.inputs] == [s.shape_values for s in engine.info.metadata.inputs]


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
@pytest.mark.parametrize("count", [0, 9])
def test_value_outside_the_range_is_a_value_error(use_python_runtime: bool, count: int) -> None:
    model = _Broadcast().eval()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [torch_tensorrt.Input(shape=(1, 5)), _rows_spec()], use_python_runtime)
        # The same words on both runtimes (the C++ runtime's c10::ValueError is a ValueError).
        expected = (
            rf"^input \S+ of engine '\S+' is a shape tensor with values \({count},\), outside the values the "
            r"engine was built for: min \(1,\), max \(8,\)\. Pass values inside that range, or recompile with a "
            r"wider torch_tensorrt\.Input\(min_shape=\.\.\., max_shape=\.\.\., is_shape_tensor=True\)\.$"
        )
        with pytest.raises(ValueError, match=expected):
            compiled(torch.randn(1, 5), torch.tensor([count]))
        # A good call afterwards still runs.
        assert compiled(torch.randn(1, 5), torch.tensor([2])).shape == (2, 5)


def test_shape_tensor_input_spec_is_checked() -> None:
    with pytest.raises(ValueError, match="min <= opt <= max"):
        torch_tensorrt.Input(min_shape=(4,), opt_shape=(2,), max_shape=(8,), dtype=torch.int64, is_shape_tensor=True)
    with pytest.raises(ValueError, match="dtype must be torch.int32 or torch.int64"):
        torch_tensorrt.Input(min_shape=(1,), max_shape=(8,), dtype=torch.float32, is_shape_tensor=True)
    with pytest.raises(ValueError, match="one length"):
        torch_tensorrt.Input(min_shape=(1,), max_shape=(8, 8), dtype=torch.int64, is_shape_tensor=True)


def test_python_cuda_graphs_are_keyed_by_shape_tensor_values_too() -> None:
    """A torch CUDA graph records the shape-tensor values TensorRT read; another value needs another graph
    (the key; recording itself needs a GPU)."""
    from types import SimpleNamespace

    from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

    engine = SimpleNamespace(_shape_inputs=((1, "dims", (1,), (8,)),))
    x = torch.zeros(2, 3)
    key = TRTEngine._graph_key(engine, (x, torch.tensor([4])))  # type: ignore[arg-type]
    assert key == TRTEngine._graph_key(engine, (x, torch.tensor([4])))  # type: ignore[arg-type]
    assert key != TRTEngine._graph_key(engine, (x, torch.tensor([5])))  # type: ignore[arg-type]
    plain = SimpleNamespace(_shape_inputs=())
    assert TRTEngine._graph_key(plain, (x,)) == (((2, 3),), ())  # type: ignore[arg-type]


class _RowsOfSum(torch.nn.Module):
    """The column sums of ``x``, repeated ``rows`` times (``rows`` read from a shape-tensor input)."""

    def forward(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        (count,) = rows.tolist()
        return x.sum(0, keepdim=True).expand(count, x.shape[1]) * 2 + 1


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_shape_tensor_beside_an_input_with_several_profiles(use_python_runtime: bool) -> None:
    """Each profile bounds the shape tensor's *values* (min 2 here, above its one-element shape): a
    runtime that took them for its shape would find no profile for any call."""
    model = _RowsOfSum().eval()
    x_profiles = torch_tensorrt.Input(
        profiles=[
            {"min_shape": (1, 5), "opt_shape": (1, 5), "max_shape": (1, 5)},
            {"min_shape": (2, 5), "opt_shape": (4, 5), "max_shape": (8, 5)},
        ]
    )
    rows = torch_tensorrt.Input(min_shape=(2,), opt_shape=(4,), max_shape=(8,), dtype=torch.int64, is_shape_tensor=True)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(model, [x_profiles, rows], use_python_runtime)
        (engine,) = engines_of(compiled)
        for batch, count in ((1, 3), (4, 2), (8, 8), (1, 8)):
            x, values = torch.randn(batch, 5), torch.tensor([count])
            torch.testing.assert_close(compiled(x, values), model(x, values), rtol=1e-5, atol=1e-5)  # float32 sums
            assert engine.active_optimization_profile == (0 if batch == 1 else 1)


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_profiles_report_the_value_ranges_of_shape_tensors(use_python_runtime: bool) -> None:
    """Both runtimes read each profile's value range of a shape tensor from the engine (TensorRT's
    get_tensor_profile_values; here the emulated engine) and name it when the call does not fit."""
    x_profiles = torch_tensorrt.Input(
        profiles=[
            {"min_shape": (1, 5), "opt_shape": (1, 5), "max_shape": (1, 5)},
            {"min_shape": (2, 5), "opt_shape": (4, 5), "max_shape": (8, 5)},
        ]
    )
    rows = torch_tensorrt.Input(min_shape=(2,), opt_shape=(4,), max_shape=(8,), dtype=torch.int64, is_shape_tensor=True)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = _compile(_RowsOfSum().eval(), [x_profiles, rows], use_python_runtime)
        with optimization_profile(compiled, 0), pytest.raises(ValueError) as refused:
            compiled(torch.randn(4, 5), torch.tensor([3]))
    assert (
        "have shapes x=(4, 5), rows=(1,) values (3,), outside optimization profile 0 selected with "
        "optimization_profile(): profile 0: x min (1, 5) max (1, 5), rows min (1,) max (1,) values min (2,) max (8,)."
    ) in str(refused.value)
