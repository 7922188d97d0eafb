"""Optimization profiles and weight-streaming budgets: one behaviour on both runtimes.

The runtime tests run each behaviour on the Python engine and on the C++ engine, each on its fake
backend (_profile_fakes.py), with the same messages. The compile tests build real engines with
TensorRT-RTX on the CPU (several optimization profiles, weight streaming) and run them under
emulated_runtime() on both runtimes against eager PyTorch.
"""

from __future__ import annotations

import copy

import pytest
import torch
from _profile_fakes import Runtime, profile_runtime_fixture  # noqa: F401 - fixture
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

import torch_tensorrt
from torch_tensorrt.runtime import engines_of, optimization_profile, weight_streaming
from torch_tensorrt.runtime._compat import split_budget

# ------------------------------------------------------------------------------------------------
# Profile selection (both runtimes)
# ------------------------------------------------------------------------------------------------


def test_each_call_runs_on_the_first_profile_containing_its_shapes(runtime: Runtime) -> None:
    module = runtime.module()
    engine = runtime.engine(module)
    assert engine.num_optimization_profiles == 2
    runtime.run(module, 8)
    assert engine.active_optimization_profile == 1
    runtime.run(module, 1)
    assert engine.active_optimization_profile == 0
    runtime.run(module, 16)
    assert engine.active_optimization_profile == 1


def test_shapes_in_no_profile_are_refused_naming_shapes_and_ranges(runtime: Runtime) -> None:
    module = runtime.module()
    expected = (
        "inputs of engine 'adder' have shapes x=(2, 3), y=(2, 3), which no optimization profile of the engine "
        "contains (profile 0: x min (1, 3) max (1, 3), y min (1, 3) max (1, 3); profile 1: x min (4, 3) max "
        "(16, 3), y min (4, 3) max (16, 3)). Pass inputs inside one of them, or recompile with "
        "torch_tensorrt.Input(profiles=[...]) covering these shapes."
    )
    with pytest.raises(ValueError) as error:
        runtime.run(module, 2)
    assert expected in str(error.value)
    runtime.run(module, 4)  # the engine still runs shapes inside a profile


def test_forced_profile_is_used_checked_and_restored(runtime: Runtime) -> None:
    module = runtime.module()
    engine = runtime.engine(module)
    with optimization_profile(module, 1) as same:
        assert same is module and engine.optimization_profile == 1
        runtime.run(module, 4)
        assert engine.active_optimization_profile == 1
        with pytest.raises(ValueError, match=r"outside optimization profile 1 selected with optimization_profile\(\)"):
            runtime.run(module, 1)
        with optimization_profile(module, "auto"):
            runtime.run(module, 1)
            assert engine.active_optimization_profile == 0
        assert engine.optimization_profile == 1  # the inner block restored the outer choice
    assert engine.optimization_profile is None
    runtime.run(module, 1)
    assert engine.active_optimization_profile == 0


def test_profile_index_the_engine_lacks_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    module = runtime.module()
    with pytest.raises(ValueError, match="engine 'adder' has 2 optimization profiles"), optimization_profile(module, 2):
        pass
    with pytest.raises(ValueError, match="optimization profile -1 does not exist"):
        module.set_optimization_profile(-1)
    with pytest.raises(TypeError, match="int index"):
        optimization_profile(module, "decode")
    assert runtime.engine(module).optimization_profile is None


def test_a_new_context_starts_on_profile_zero(runtime: Runtime) -> None:
    module = runtime.module(streamable=100)
    runtime.run(module, 8)
    module.set_device_memory_budget(50)  # drops the context
    runtime.run(module, 8)  # the choice (1) is cached per shapes; the new context must switch again
    assert runtime.engine(module).active_optimization_profile == 1


# ------------------------------------------------------------------------------------------------
# Weight-streaming budgets (both runtimes)
# ------------------------------------------------------------------------------------------------


def test_budget_starts_automatic_and_is_set_with_no_context_alive(runtime: Runtime) -> None:
    module = runtime.module(streamable=1000, automatic=600)
    engine = runtime.engine(module)
    assert module.get_streamable_device_memory_budget() == 1000
    assert module.get_device_memory_budget() == 600
    assert module.get_automatic_device_memory_budget() == 600
    runtime.run(module, 1)
    created = engine.contexts_created
    # The fakes refuse a budget while a context is alive (TensorRT's rule): the engine drops it first.
    assert module.set_device_memory_budget(250) == 250
    assert module.get_device_memory_budget() == 250
    runtime.run(module, 1)
    assert engine.contexts_created == created + 1
    assert module.set_device_memory_budget(-1) == 1000  # negative: no streaming, as in Torch-TensorRT
    with pytest.raises(ValueError, match=r"budget 1001 of engine 'adder' must lie in 0\.\.1000"):
        module.set_device_memory_budget(1001)
    assert module.get_device_memory_budget() == 1000


def test_engines_without_streamable_weights_refuse_budgets(runtime: Runtime) -> None:
    module = runtime.module()
    assert module.get_streamable_device_memory_budget() == 0
    assert module.get_device_memory_budget() == 0
    with pytest.raises(RuntimeError, match="not compiled with enable_weight_streaming=True"):
        module.set_device_memory_budget(0)
    with pytest.raises(RuntimeError, match="no streamable weights"):
        module.get_automatic_device_memory_budget()
    with weight_streaming(module) as ws:
        assert ws.total_device_budget == 0 and ws.device_budget == 0
        with pytest.raises(RuntimeError, match="compile with enable_weight_streaming=True"):
            ws.device_budget = 10


class _TwoSegments(torch.nn.Module):
    def __init__(self, first: torch.nn.Module, second: torch.nn.Module) -> None:
        super().__init__()
        self.first, self.second = first, second

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x, x), x)


def test_module_budget_is_split_in_proportion_and_restored_on_exit(runtime: Runtime) -> None:
    first = runtime.module("first", streamable=1000, automatic=700)
    second = runtime.module("second", streamable=3000, automatic=2000)
    model = _TwoSegments(first, second)
    with weight_streaming(model) as ws:
        assert ws.total_device_budget == 4000
        assert ws.device_budget == 2700  # each engine starts on its automatic budget
        assert ws.get_automatic_weight_streaming_budget() == 2700
        ws.device_budget = 100
        assert (first.get_device_memory_budget(), second.get_device_memory_budget()) == (25, 75)
        assert ws.device_budget == 100
        x = torch.ones(4, 3)
        torch.testing.assert_close(model(x), x * 3, rtol=0, atol=0)  # numerics do not depend on the budget
        with pytest.warns(UserWarning, match="exceeds the 4000 streamable bytes"):
            ws.device_budget = 5000
        assert ws.device_budget == 4000
        with pytest.raises(ValueError, match=">= 0"):
            ws.device_budget = -1
    assert (first.get_device_memory_budget(), second.get_device_memory_budget()) == (700, 2000)


def test_budget_split_never_exceeds_an_engine_or_the_request() -> None:
    assert split_budget(100, [1000, 3000]) == [25, 75]
    assert split_budget(10, [1, 2, 3]) == [1, 3, 5]
    huge = [(1 << 40) + 7, (1 << 41) + 3]
    shares = split_budget(sum(huge) - 1, huge)  # exact integers: no float rounding past a size
    assert all(s <= h for s, h in zip(shares, huge)) and sum(shares) <= sum(huge) - 1
    assert split_budget(0, [5, 0]) == [0, 0]


def test_budgets_and_profiles_are_not_saved_with_the_engine(runtime: Runtime) -> None:
    module = runtime.module(streamable=1000, automatic=600)
    info = list(module.engine_info)
    module.set_device_memory_budget(10)
    module.set_optimization_profile(1)
    assert list(module.engine_info) == info  # runtime controls: the engine info is unchanged
    clone = copy.deepcopy(module)  # as a save/load round trip: engine bytes and info only
    assert clone.get_device_memory_budget() == 600
    assert runtime.engine(clone).optimization_profile is None
    assert module.get_device_memory_budget() == 10 and runtime.engine(module).optimization_profile == 1


# ------------------------------------------------------------------------------------------------
# Real engines: built with TensorRT-RTX on the CPU, run under emulated_runtime() on both runtimes
# ------------------------------------------------------------------------------------------------

_DECODE_PREFILL = [
    {"min_shape": (1, 1, 8), "opt_shape": (1, 1, 8), "max_shape": (1, 1, 8)},  # decode: one token
    {"min_shape": (1, 2, 8), "opt_shape": (1, 16, 8), "max_shape": (1, 32, 8)},  # prefill
]


class _Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(8, 16)
        self.out = torch.nn.Linear(16, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.proj(x))
        hidden = torch.cumsum(hidden, dim=1)  # kept in PyTorch below: a graph break between two engines
        return self.out(hidden) + x


def _runtimes() -> list[bool]:
    return [True, False] if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime else [True]


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
@pytest.mark.parametrize("graph_break", [False, True], ids=["one_engine", "two_engines"])
def test_two_profile_engines_match_eager_on_both_profiles(use_python_runtime: bool, graph_break: bool) -> None:
    from torch_tensorrt.testing import emulated_runtime

    torch.manual_seed(0)
    model = _Block().eval()
    spec = torch_tensorrt.Input(profiles=_DECODE_PREFILL)
    executed = {torch.ops.aten.cumsum.default} if graph_break else set()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(
            model, inputs=[spec], min_block_size=1, torch_executed_ops=executed,
            use_python_runtime=use_python_runtime, pass_through_build_failures=True,
        )  # fmt: skip
        engines = engines_of(compiled)
        assert len(engines) == (2 if graph_break else 1)
        assert all(e.num_optimization_profiles == 2 for e in engines)
        for seq, profile in ((1, 0), (16, 1), (32, 1), (1, 0)):
            x = torch.randn(1, seq, 8)
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)  # float32
            assert [e.active_optimization_profile for e in engines] == [profile] * len(engines)
        with optimization_profile(compiled, 1):
            x = torch.randn(1, 4, 8)
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)
            with pytest.raises(ValueError, match="outside optimization profile 1"):
                compiled(torch.randn(1, 1, 8))


@pytest.mark.parametrize("use_python_runtime", _runtimes(), ids=lambda p: "python" if p else "cpp")
def test_streamed_weights_keep_results_and_budgets_split_across_engines(use_python_runtime: bool) -> None:
    from torch_tensorrt.testing import emulated_runtime

    torch.manual_seed(0)
    model = _Block().eval()
    x = torch.randn(1, 5, 8)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(
            model, inputs=[x], min_block_size=1, torch_executed_ops={torch.ops.aten.cumsum.default},
            enable_weight_streaming=True, use_python_runtime=use_python_runtime, pass_through_build_failures=True,
        )  # fmt: skip
        segments = [m for m in compiled.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
        streamable = [s.get_streamable_device_memory_budget() for s in segments]
        # The emulator streams every weight: proj (16x8 + 16) and out (8x16 + 8) float32 values.
        assert sorted(streamable) == [(8 * 16 + 8) * 4, (16 * 8 + 16) * 4]
        expected = model(x)
        with weight_streaming(compiled) as ws:
            assert ws.total_device_budget == sum(streamable)
            ws.device_budget = 100
            assert [s.get_device_memory_budget() for s in segments] == split_budget(100, streamable)
            torch.testing.assert_close(compiled(x), expected, rtol=1e-5, atol=1e-5)
        assert [s.get_device_memory_budget() for s in segments] == streamable  # automatic: all fit


def test_compile_without_streaming_has_no_streamable_weights() -> None:
    from torch_tensorrt.testing import emulated_runtime

    x = torch.randn(1, 5, 8)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(_Block().eval(), inputs=[x], min_block_size=1, use_python_runtime=True)
        with weight_streaming(compiled) as ws, pytest.raises(RuntimeError, match="enable_weight_streaming=True"):
            ws.device_budget = 0


# ------------------------------------------------------------------------------------------------
# Input(profiles=...) and the compile step
# ------------------------------------------------------------------------------------------------


def test_input_profiles_trace_over_their_envelope() -> None:
    spec = torch_tensorrt.Input(profiles=_DECODE_PREFILL, dtype=torch.float16)
    assert (spec.min_shape, spec.opt_shape, spec.max_shape) == ((1, 1, 8), (1, 1, 8), (1, 32, 8))
    assert spec.is_dynamic() and len(spec.profiles) == 2 and spec.dtype == torch.float16
    with pytest.raises(ValueError, match="profile 1 needs min_shape <= opt_shape <= max_shape"):
        torch_tensorrt.Input(profiles=[_DECODE_PREFILL[0], {"min_shape": (2,), "opt_shape": (1,), "max_shape": (3,)}])
    with pytest.raises(ValueError, match="one rank"):
        torch_tensorrt.Input(profiles=[_DECODE_PREFILL[0], {"min_shape": (1,), "opt_shape": (1,), "max_shape": (3,)}])
    with pytest.raises(ValueError, match="profile 0 lacks"):
        torch_tensorrt.Input(profiles=[{"min_shape": (1,)}])
    with pytest.raises(ValueError, match="replaces shape"):
        torch_tensorrt.Input(shape=(1, 8), profiles=_DECODE_PREFILL)


def test_inputs_declaring_different_profile_counts_are_refused() -> None:
    from torch_tensorrt.dynamo._compiler import profile_count

    two = torch_tensorrt.Input(profiles=_DECODE_PREFILL)
    three = torch_tensorrt.Input(profiles=[*_DECODE_PREFILL, _DECODE_PREFILL[1]])
    plain = torch_tensorrt.Input(shape=(1, 8))
    assert profile_count([two, plain]) == 2 and profile_count([plain]) == 1
    with pytest.raises(ValueError, match="input 0: 2, input 1: 3"):
        profile_count([two, three])


def test_every_profile_reaches_the_real_builder() -> None:
    from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS

    built: list = []
    NETWORK_BUILD_OBSERVERS.append(built.append)
    try:
        torch_tensorrt.compile(
            _Block().eval(), inputs=[torch_tensorrt.Input(profiles=_DECODE_PREFILL)], min_block_size=1,
            enable_weight_streaming=True, pass_through_build_failures=True,
        )  # fmt: skip
    finally:
        NETWORK_BUILD_OBSERVERS.remove(built.append)
    (event,) = built
    assert event.weight_streaming and len(event.engine) > 0
    assert [p[event.network.get_input(0).name] for p in event.profiles] == [
        ((1, 1, 8), (1, 1, 8), (1, 1, 8)),
        ((1, 2, 8), (1, 16, 8), (1, 32, 8)),
    ]
