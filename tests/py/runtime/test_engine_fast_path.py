"""The C runner of the Python runtime's fast path (torch_tensorrt._C._EngineFastPath, engine_fast_path.cpp)
against the Python closure it replaces (_engine_fast_path): it declines exactly the calls the closure
declines, for every part of the call stamp (TRTEngine._call_stamp) and every input check; it hands calls
made under torch modes to the closure and shares the shape state with it; an error in a backend call
releases the engine's lock; and the runner does not keep its engine alive.

Not run here: CUDA engines (output allocation on the device, engine._launch) need a GPU; their
multi-device check is tested up to the decline.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from _contract_runtimes import PyContractBackend, _PyContractContext, adder_info
from _fast_path_impls import C_RUNNER_TYPE, fast_path_fixture, use_fast_path  # noqa: F401 - fixture
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

import torch_tensorrt
from torch_tensorrt import runtime as rt
from torch_tensorrt._trt import override_features
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule, _engine_fast_path
from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend
from torch_tensorrt.runtime._modes import OUTER_CAPTURE
from torch_tensorrt.runtime._settings import RuntimeSettings

pytestmark = pytest.mark.skipif(C_RUNNER_TYPE is None, reason="torch_tensorrt._C (with _EngineFastPath) is not built")


def _pair(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.full((batch, 3), 1.5), torch.arange(batch * 3, dtype=torch.float32).reshape(batch, 3)


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> Iterator[TorchTensorRTModule]:
    """A Python-runtime adder that has made its plan (one call, batch 2), with a C runner."""
    use_fast_path(monkeypatch, "c")
    with use_backend(PyContractBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        x, y = _pair()
        module(x, y)
        assert type(module.python_engine._fast) is C_RUNNER_TYPE
        yield module


def _runners(engine: Any) -> dict[str, Callable[[Any], Any]]:
    """The engine's C runner and a Python closure for the same plan and shape state."""
    python = _engine_fast_path._python_runner(engine, engine._plan, engine._fast_shapes)
    return {"c": engine._fast, "python": python}


@contextlib.contextmanager
def _outer_capture() -> Iterator[None]:
    token = OUTER_CAPTURE.set(True)
    try:
        yield
    finally:
        OUTER_CAPTURE.reset(token)


def _drop_plan(engine: Any) -> contextlib.AbstractContextManager[Any]:
    engine.runtime_settings_override = RuntimeSettings(dynamic_shapes_kernel_specialization_strategy="eager")
    return contextlib.nullcontext()


def _forget_signatures(engine: Any) -> contextlib.AbstractContextManager[Any]:
    engine._accepted = [set() for _ in engine._accepted]  # what a backend switch does
    return contextlib.nullcontext()


# Each part of the call stamp, the plan and the multi-device check, changed: (state, declined).
STATES: dict[str, tuple[Callable[[Any], contextlib.AbstractContextManager[Any]], bool]] = {
    "unchanged": (lambda engine: contextlib.nullcontext(), False),
    "another backend active": (lambda engine: use_backend(PyContractBackend()), True),
    "process defaults changed": (lambda engine: rt.dynamic_shapes_kernel_strategy("eager"), True),
    "tensorrt_rtx flipped": (
        lambda engine: override_features(tensorrt_rtx=not torch_tensorrt.ENABLED_FEATURES.tensorrt_rtx),
        True,
    ),
    "cudagraphs mode on": (lambda engine: rt.set_cudagraphs_mode(True), True),
    "outer whole-graph capture": (lambda engine: _outer_capture(), True),
    "plan dropped (settings changed)": (_drop_plan, True),
    "accepted signatures forgotten": (_forget_signatures, True),
    "multi-device safe mode, host engine": (lambda engine: rt.set_multi_device_safe_mode(True), False),
}


@pytest.mark.parametrize("state", STATES)
def test_the_c_runner_declines_the_state_changes_the_python_one_declines(module: TorchTensorRTModule, state: str):
    change, declined = STATES[state]
    engine = module.python_engine
    runners = _runners(engine)
    x, y = _pair()
    with change(engine):
        results = {name: runner((x, y)) for name, runner in runners.items()}
    for name, outputs in results.items():
        assert (outputs is None) is declined, f"{name} runner under {state!r}: {outputs!r}"
        if outputs is not None:
            assert torch.equal(outputs[0], x + y), name
    if not declined:
        assert engine.last_capture_decision is engine._plan[1]


class _Tagged(torch.Tensor):
    pass


def _inputs_case(name: str) -> Any:
    x, y = _pair()
    cases = {
        "same signatures": (x, y),
        "as a list": [x, y],
        "one input": (x,),
        "three inputs": (x, y, y),
        "not contiguous": (x.t().contiguous().t(), y),
        "tensor subclass": (x.as_subclass(_Tagged), y),
        "parameter": (torch.nn.Parameter(x, requires_grad=False), y),
        "unchecked shape": _pair(7),
        "other dtype": (x.double(), y.double()),
        "not a tensor": (1.5, y),
    }
    return cases[name]


INPUTS_DECLINED = {
    "same signatures": False,
    "as a list": False,
    "one input": True,
    "three inputs": True,
    "not contiguous": True,
    "tensor subclass": True,
    "parameter": True,
    "unchecked shape": True,
    "other dtype": True,
    "not a tensor": True,
}


@pytest.mark.parametrize("case", INPUTS_DECLINED)
def test_the_c_runner_declines_the_inputs_the_python_one_declines(module: TorchTensorRTModule, case: str):
    runners = _runners(module.python_engine)
    inputs = _inputs_case(case)
    for name, runner in runners.items():
        outputs = runner(inputs)
        assert (outputs is None) is INPUTS_DECLINED[case], f"{name} runner, {case}: {outputs!r}"
        if outputs is not None:
            assert torch.equal(outputs[0], inputs[0] + inputs[1]), name


def test_stamp_sources_name_what_call_stamp_reads(module: TorchTensorRTModule):
    engine = module.python_engine
    sources = _engine_fast_path._stamp_sources(engine)
    for key in ("default_backend", "defaults", "features", "cudagraphs", "multi_device"):
        namespace, name = sources[key]
        assert name in namespace, f"{key}: {name} is not a global of its module any more"
    assert sources["features"][0] is type(engine)._call_stamp.__globals__
    _, features_name = sources["features"]
    assert hasattr(sources["features"][0][features_name], sources["rtx_name"])


def test_cuda_engine_declines_in_multi_device_safe_mode(module: TorchTensorRTModule, monkeypatch: pytest.MonkeyPatch):
    """CUDA engines check their device on every call in multi-device safe mode (the general path's
    _ensure_device), so both runners decline; nothing past the check runs here (no GPU)."""
    engine = module.python_engine
    monkeypatch.setattr(engine, "_cuda", True)
    monkeypatch.setattr(engine, "_device", torch.device("cuda", 0))
    plan = engine._plan
    runners = {
        "c": _engine_fast_path.fast_runner(engine, plan),
        "python": _engine_fast_path._python_runner(engine, plan, engine._fast_shapes),
    }
    assert type(runners["c"]) is C_RUNNER_TYPE
    with rt.set_multi_device_safe_mode(True):
        for name, runner in runners.items():
            assert runner(_pair()) is None, name


class _FunctionLog(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


class _DispatchLog(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.seen.append(str(func))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("mode_type", [_FunctionLog, _DispatchLog])
def test_calls_under_a_mode_see_the_python_runners_calls(module: TorchTensorRTModule, mode_type: type):
    x, y = _pair()
    logs = {}
    for name, runner in _runners(module.python_engine).items():
        runner((x, y))  # shapes known: both logged calls start from the same shape state
        with mode_type() as mode:
            outputs = runner((x, y))
        assert outputs is not None and torch.equal(outputs[0], x + y), name
        logs[name] = mode.seen
    assert logs["c"] == logs["python"], "the C runner handed the call to the Python one"
    assert any("empty" in call for call in logs["c"]), logs["c"]


def test_the_shape_state_is_shared_with_the_python_runner(monkeypatch: pytest.MonkeyPatch):
    calls: list[str] = []
    original_set = _PyContractContext.set_input_shape

    def set_input_shape(self: Any, name: str, shape: Any) -> None:
        calls.append(f"set {name} {tuple(shape)}")
        original_set(self, name, shape)

    # Before the plan: the runners hold the context's bound methods.
    monkeypatch.setattr(_PyContractContext, "set_input_shape", set_input_shape)
    use_fast_path(monkeypatch, "c")
    with use_backend(PyContractBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        x5, y5 = _pair(5)
        module(x5, y5)  # the general path (shapes unknown to the fast path afterwards)
        x, y = _pair()
        module(x, y)  # unchecked signature: the general path again
        module(x, y)  # the C runner: sets both shapes
        calls.clear()
        with _FunctionLog():
            assert torch.equal(module(x5, y5), x5 + y5)  # handed to the Python runner, which sets them
        assert calls == ["set x (5, 3)", "set y (5, 3)"]
        calls.clear()
        assert torch.equal(module(x5, y5), x5 + y5)
        assert calls == [], "the C runner knows the shapes the Python runner set"
        assert type(module.python_engine._fast) is C_RUNNER_TYPE
        assert torch.equal(module(x, y), x + y)
        assert calls == ["set x (2, 3)", "set y (2, 3)"]


class _RefusingOutputs(dict):
    def __setitem__(self, name: str, tensor: torch.Tensor) -> None:
        if name == "z":
            raise RuntimeError("fake backend: cannot bind z")
        super().__setitem__(name, tensor)


def _try_lock(lock: Any) -> bool:
    """Whether another thread can take ``lock`` now (released again if it could)."""
    acquired: list[bool] = []

    def attempt() -> None:
        acquired.append(lock.acquire(blocking=False))
        if acquired[0]:
            lock.release()

    other = threading.Thread(target=attempt)
    other.start()
    other.join()
    return acquired == [True]


def test_a_failing_backend_call_releases_the_lock(module: TorchTensorRTModule):
    engine = module.python_engine
    _, _, context = engine._plan
    context.bound = _RefusingOutputs()  # the context's bind (bound into the runner) stores here
    x, y = _pair()
    with pytest.raises(RuntimeError, match="cannot bind z"):
        engine._fast((x, y))
    assert _try_lock(engine._lock), "the lock is still held after the error"
    context.bound = {}
    assert torch.equal(module(x, y), x + y), "the engine runs after the error"


def test_the_runner_does_not_keep_its_engine_alive(module: TorchTensorRTModule):
    engine = module.python_engine
    assert type(engine._fast) is C_RUNNER_TYPE  # engine -> runner -> engine: collected as a cycle
    gone = weakref.ref(engine)
    del engine
    module._engine = None
    gc.collect()
    assert gone() is None, "the engine <-> runner cycle was not collected"


def test_eager_calls_run_the_c_runner_without_a_python_frame(fast_path: str):
    frames: list[str] = []
    with use_backend(PyContractBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        x, y = _pair()
        module(x, y)

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "call":
                frames.append(frame.f_code.co_qualname)

        sys.setprofile(profile)
        try:
            module(x, y)
        finally:
            sys.setprofile(None)
    assert "_PyContractContext.bind" in frames, frames  # the backend's methods are still Python calls
    assert ("_python_runner.<locals>.run_fast" in frames) is (fast_path == "python"), frames
    assert "TRTEngine.execute" not in frames, "the eager call reaches the runner without TRTEngine.execute"


def test_the_runner_refuses_missing_arguments():
    with pytest.raises(TypeError, match="keyword arguments"):
        C_RUNNER_TYPE(engine=None)
