"""TorchTensorRTModule's per-call path (issue 17 item 9): plain eager calls skip nn.Module.__call__ and,
on the C++ runtime, run the module's registered engine straight from the extension
(torch_tensorrt._C._eager_call). These tests pin that the shortcut changes nothing a user can observe:
hooks, tracing, profiler events, errors, output structure and engine replacement behave as through the
op, on both runtimes where the behaviour is the runtime's. The Python runtime's tests run with each
implementation of its fast path (the C runner and the Python closure, _fast_path_impls).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from _contract_runtimes import PyContractBackend, Runtime, adder_info, on_runtime
from _fast_path_impls import assert_runner_is, fast_path_fixture, use_fast_path  # noqa: F401 - fixtures
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

from torch_tensorrt.dynamo.runtime import TorchTensorRTModule, _cpp_engine

needs_extension = pytest.mark.skipif(
    _cpp_engine.EAGER_CALL is None, reason="torch_tensorrt._C without its module functions (Bazel build)"
)


@pytest.fixture(name="runtime", params=["python:c", "python:python", "cpp"])
def runtime_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test on the C++ runtime and on the Python runtime with each fast path ("python:<fast path>")."""
    _, _, fast_path = request.param.partition(":")
    if fast_path:
        use_fast_path(monkeypatch, fast_path)
    yield from on_runtime(request, PyContractBackend(), Runtime)


def _fast_path_under_test(request: pytest.FixtureRequest) -> str:
    """The fast path the ``runtime`` parameter selected ("" on the C++ runtime)."""
    return request.node.callspec.params["runtime"].partition(":")[2]


def _inputs(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.full((batch, 3), 1.5), torch.arange(batch * 3, dtype=torch.float32).reshape(batch, 3)


@pytest.fixture
def op_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many calls reached the C++ execute_engine op (the slow path) rather than the direct one."""
    calls: list[int] = []
    execute, token, runs_by_default = _cpp_engine._ops()

    def counted(*args: Any) -> Any:
        calls.append(1)
        return execute(*args)

    monkeypatch.setattr(_cpp_engine, "_ops", lambda: (counted, token, runs_by_default))
    return calls


@needs_extension
def test_cpp_module_calls_after_the_first_skip_the_op(cpp_fake, op_calls):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    x, y = _inputs()
    for _ in range(5):
        assert torch.equal(module(x, y), x + y)
    assert len(op_calls) == 1, "only the first call goes through the op; it hands out the engine's token"
    assert module._cpp_engine_token > 0
    (controls,) = torch_tensorrt_engines(module)
    assert dict(controls.engine.stats())["executions"] == 5, "every call ran the same C++ engine"


def torch_tensorrt_engines(module: torch.nn.Module) -> list[Any]:
    from torch_tensorrt.runtime import engines_of

    return list(engines_of(module))


@needs_extension
def test_replaced_engine_tensor_is_never_run_through_a_stale_token(cpp_fake, op_calls):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    x, y = _inputs()
    module(x, y)
    old_token = module._cpp_engine_token
    module.replace_engine(dataclasses.replace(adder_info(), name="adder_v2"))
    assert torch.equal(module(x, y), x + y)
    assert len(op_calls) == 2, "the new engine tensor has no registered engine: the op path runs it"
    assert module._cpp_engine_token != old_token
    module(x, y)
    assert len(op_calls) == 2


@needs_extension
def test_delegated_calls_run_on_the_python_runtime(cpp_fake, op_calls):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    x, y = _inputs()
    module(x, y)
    torch.ops.tensorrt._set_python_delegate(2)  # what emulated_runtime() sets: the Python runtime runs calls
    with pytest.raises(Exception):  # noqa: B017 - the real Python backend cannot run the fake engine
        module(x, y)
    assert len(op_calls) == 2, "a delegated call is never run by the C++ engine directly"


@needs_extension
@pytest.mark.parametrize(("output_is_tuple", "tuple_expected"), [(None, False), (True, True), (False, False)])
def test_output_structure_matches_the_op_path(cpp_fake, output_is_tuple, tuple_expected):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), output_is_tuple=output_is_tuple, use_python_runtime=False)
    x, y = _inputs()
    first, second = module(x, y), module(x, y)  # the op path, then the direct one
    for out in (first, second):
        assert isinstance(out, tuple) is tuple_expected
        assert torch.equal(out[0] if tuple_expected else out, x + y)


@needs_extension
def test_errors_on_the_direct_path_are_the_op_path_errors(cpp_fake):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    x, y = _inputs()
    module(x, y)
    with pytest.raises(TypeError, match=r"input x of engine 'adder' must have dtype torch.float32, got torch.float64"):
        module(x.double(), y)
    with pytest.raises(ValueError, match=r"outside the range the engine was built for: min \(0, 3\), max \(64, 3\)"):
        module(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="takes 2 inputs"):
        module(x)
    assert torch.equal(module(x, y), x + y), "the engine still runs after refused calls"


@needs_extension
def test_profiler_sees_the_engine_call_on_the_direct_path(cpp_fake):  # noqa: F811
    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    x, y = _inputs()
    module(x, y)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        module(x, y)
    assert "tensorrt::execute_engine" in {e.name for e in prof.events()}


def test_module_hooks_are_called(runtime: Runtime):
    module = runtime.module()
    x, y = _inputs()
    seen: list[str] = []
    pre = module.register_forward_pre_hook(lambda m, args: (seen.append("pre"), (args[0] * 2, args[1]))[1])
    post = module.register_forward_hook(lambda m, args, out: (seen.append("post"), out + 1)[1])
    assert torch.equal(module(x, y), x * 2 + y + 1), "the pre-hook's inputs ran and the hook's output returned"
    assert seen == ["pre", "post"]
    pre.remove()
    post.remove()
    assert torch.equal(module(x, y), x + y)


def test_global_hooks_are_called(runtime: Runtime):
    module = runtime.module()
    x, y = _inputs()
    seen: list[type] = []
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, args, out: seen.append(type(m)))
    try:
        module(x, y)
    finally:
        handle.remove()
    assert seen == [TorchTensorRTModule]


class _TwoInputs(torch.nn.Module):
    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.inner(x, y)


def test_keyword_inputs_and_tracing_take_nn_module_call(runtime: Runtime):
    module = runtime.module()
    x, y = _inputs()
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        module(x, y=y)
    # fx traces through the module (not a leaf): its forward records the op on the proxies.
    traced = torch.fx.symbolic_trace(_TwoInputs(module))
    targets = [n.target for n in traced.graph.nodes if n.op == "call_function"]
    assert torch.ops.tensorrt.execute_engine in targets or torch.ops.tensorrt.execute_engine.default in targets
    assert torch.equal(module(x, y), x + y)


def test_tensor_subclass_inputs_take_the_op(runtime: Runtime):
    class Tagged(torch.Tensor):
        pass

    module = runtime.module()
    x, y = _inputs()
    out = module(x.as_subclass(Tagged), y)
    assert torch.equal(torch.as_tensor(out), x + y)


# --- The Python engine's fast path (_engine_fast_path): same results, fewer API calls -------------------


def test_alternating_shapes_and_strided_inputs_give_the_right_results(runtime: Runtime, request: pytest.FixtureRequest):
    module = runtime.module()
    for batch in (2, 2, 5, 2, 5, 5, 1):
        x, y = _inputs(batch)
        assert torch.equal(module(x, y), x + y), batch
        wide = torch.arange(batch * 6, dtype=torch.float32).reshape(batch, 6)
        strided = wide[:, ::2]  # not contiguous: the general path's dense copy
        assert torch.equal(module(strided, y), strided + y), batch
        assert torch.equal(module(x, y), x + y), batch
    if runtime.name == "python":
        assert_runner_is(module.python_engine, _fast_path_under_test(request))


def test_fast_path_sets_shapes_only_when_they_change(monkeypatch: pytest.MonkeyPatch, fast_path: str):
    from _contract_runtimes import _PyContractContext

    from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend

    calls: list[str] = []
    original_set, original_out = _PyContractContext.set_input_shape, _PyContractContext.output_shape

    def set_input_shape(self: Any, name: str, shape: Any) -> None:
        calls.append(f"set {name} {tuple(shape)}")
        original_set(self, name, shape)

    def output_shape(self: Any, name: str) -> tuple[int, ...]:
        calls.append(f"out {name}")
        return original_out(self, name)

    monkeypatch.setattr(_PyContractContext, "set_input_shape", set_input_shape)
    monkeypatch.setattr(_PyContractContext, "output_shape", output_shape)
    with use_backend(PyContractBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        x, y = _inputs(2)
        for _ in range(4):
            assert torch.equal(module(x, y), x + y)
        first_call = ["set x (2, 3)", "set y (2, 3)", "out z"]
        assert calls == first_call + first_call, "first call (general path), then the fast path once, then nothing"
        assert_runner_is(module.python_engine, fast_path)
        calls.clear()
        x5, y5 = _inputs(5)
        assert torch.equal(module(x5, y5), x5 + y5)
        assert calls == ["set x (5, 3)", "set y (5, 3)", "out z"]
        calls.clear()
        assert torch.equal(module(x5, y5), x5 + y5)  # the fast path (it knew (2, 3)): sets them again
        calls.clear()
        assert torch.equal(module(x5, y5), x5 + y5)
        assert calls == [], "same shapes: the context keeps them"
        # A call the fast path declines (not contiguous) runs the general path, which sets its own shapes
        # on the context; the fast path must then set the next call's shapes again.
        strided = x.t().contiguous().t()
        assert not strided.is_contiguous()
        assert torch.equal(module(strided, y), x + y)
        assert calls[:2] == ["set x (2, 3)", "set y (2, 3)"]
        calls.clear()
        assert torch.equal(module(x5, y5), x5 + y5)
        assert calls == ["set x (5, 3)", "set y (5, 3)", "out z"], "after the general path the shapes are set again"


def test_settings_change_rebuilds_the_fast_path(fast_path: str):
    import torch_tensorrt
    from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend

    with use_backend(PyContractBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        x, y = _inputs(3)
        module(x, y)
        engine = module.python_engine
        before = engine._fast
        with torch_tensorrt.runtime.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
            assert torch.equal(module(x, y), x + y)
            assert engine._fast is not before
            assert_runner_is(engine, fast_path)
            assert engine.engine().contexts[-1].options.kernel_strategy == "eager"
        assert torch.equal(module(x, y), x + y)
        assert engine.engine().contexts[-1].options.kernel_strategy == "lazy"


@needs_extension
def test_cpp_engine_sets_shapes_only_when_they_change(cpp_fake):  # noqa: F811
    import torch_tensorrt

    module = TorchTensorRTModule(adder_info(), use_python_runtime=False)
    (controls,) = torch_tensorrt_engines(module)

    def counts() -> tuple[int, int]:
        stats = dict(controls.engine.stats())
        return stats["context.set_input_shape_calls"], stats["context.get_output_shape_calls"]

    x, y = _inputs(2)
    for _ in range(3):
        assert torch.equal(module(x, y), x + y)
    assert counts() == (2, 1), "the first call sets both shapes and reads the output shape; later ones reuse them"
    x5, y5 = _inputs(5)
    assert torch.equal(module(x5, y5), x5 + y5)
    assert torch.equal(module(x5, y5), x5 + y5)
    assert counts() == (4, 2)
    with torch_tensorrt.runtime.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
        assert torch.equal(module(x5, y5), x5 + y5)  # a new context knows no shapes
        assert counts() == (2, 1)
