"""Which CUDA-graph capture path an engine takes, and what its execution context is built with.

Under the emulated runtime nothing is captured (no GPU), but every run goes through the same
decision, recorded as ``engine.last_capture_decision``, and the context records the native
``cuda_graph_strategy`` it was created with. "Never two captures of the same work" is checked on
both: a torch capture (``_run_captured``) and a native one ("whole_graph_capture") never coincide.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from _controls_testing import backend_fixture, eager, example, fresh  # noqa: F401 - fixtures

from torch_tensorrt import _trt
from torch_tensorrt.runtime import (
    decide_capture,
    enable_cudagraphs,
    engines_of,
    get_cudagraphs_mode,
    runtime_config,
    set_cudagraphs_mode,
)
from torch_tensorrt.runtime._cudagraphs import (
    NO_CAPTURE,
    NOT_CAPTURABLE,
    OUTER_WHOLE_GRAPH_CAPTURE,
    RTX_NATIVE_CAPTURE,
    TORCH_SUBGRAPH_CAPTURE,
)
from torch_tensorrt.runtime._modes import OUTER_CAPTURE
from torch_tensorrt.testing._emulated_runtime import EmulatedContext

KERNEL = "dynamic_shapes_kernel_specialization_strategy"


def decide(**overrides: Any) -> str:
    args = dict(
        cudagraphs_mode=False,
        outer_capture=False,
        is_rtx=True,
        cuda_graph_strategy="disabled",
        kernel_strategy="lazy",
        dynamic_inputs=False,
    )
    args.update(overrides)
    return decide_capture(**args).path


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({}, NO_CAPTURE),
        ({"is_rtx": False}, NO_CAPTURE),
        ({"cudagraphs_mode": True}, RTX_NATIVE_CAPTURE),
        ({"cudagraphs_mode": True, "is_rtx": False}, TORCH_SUBGRAPH_CAPTURE),
        ({"cuda_graph_strategy": "whole_graph_capture"}, RTX_NATIVE_CAPTURE),
        # TensorRT-RTX's own capture follows lazily specialized kernels (as in Torch-TensorRT).
        ({"cudagraphs_mode": True, "dynamic_inputs": True}, RTX_NATIVE_CAPTURE),
        ({"cuda_graph_strategy": "whole_graph_capture", "dynamic_inputs": True}, RTX_NATIVE_CAPTURE),
        ({"cudagraphs_mode": True, "dynamic_inputs": True, "kernel_strategy": "eager"}, RTX_NATIVE_CAPTURE),
        ({"cudagraphs_mode": True, "dynamic_inputs": True, "kernel_strategy": "none"}, RTX_NATIVE_CAPTURE),
        ({"cudagraphs_mode": True, "dynamic_inputs": True, "is_rtx": False}, TORCH_SUBGRAPH_CAPTURE),
        ({"dynamic_inputs": True}, NO_CAPTURE),  # lazy kernels only matter when something captures
        ({"outer_capture": True, "cudagraphs_mode": True}, OUTER_WHOLE_GRAPH_CAPTURE),
        ({"outer_capture": True, "cuda_graph_strategy": "whole_graph_capture"}, OUTER_WHOLE_GRAPH_CAPTURE),
        ({"outer_capture": True, "is_rtx": False}, OUTER_WHOLE_GRAPH_CAPTURE),
        ({"outer_capture": True, "dynamic_inputs": True}, NOT_CAPTURABLE),
        ({"outer_capture": True, "dynamic_inputs": True, "is_rtx": False}, OUTER_WHOLE_GRAPH_CAPTURE),
        ({"cudagraphs_mode": True, "stream_capturable": False}, NOT_CAPTURABLE),
        ({"stream_capturable": False}, NO_CAPTURE),
        ({"cudagraphs_mode": True, "is_rtx": False, "data_dependent_outputs": True}, NO_CAPTURE),
        ({"outer_capture": True, "data_dependent_outputs": True}, NOT_CAPTURABLE),
    ],
)
def test_decide_capture(overrides: dict[str, Any], path: str) -> None:
    assert decide(**overrides) == path


def test_decision_native_strategy() -> None:
    native = decide_capture(
        cudagraphs_mode=True,
        outer_capture=False,
        is_rtx=True,
        cuda_graph_strategy="disabled",
        kernel_strategy="lazy",
        dynamic_inputs=False,
    )
    assert native.native_strategy == "whole_graph_capture"
    reason = decide_capture(
        cudagraphs_mode=True,
        outer_capture=True,
        is_rtx=True,
        cuda_graph_strategy="disabled",
        kernel_strategy="lazy",
        dynamic_inputs=True,
    ).reason
    assert "dynamic_shapes_kernel_specialization_strategy='lazy'" in reason and "'eager'" in reason


# mode × cuda_graph_strategy × backend × inputs → (path, the context's native strategy, torch capture)
CASES = [
    (False, "disabled", True, "linear", NO_CAPTURE, "disabled", False),
    (False, "disabled", False, "linear", NO_CAPTURE, "disabled", False),
    (True, "disabled", True, "linear", RTX_NATIVE_CAPTURE, "whole_graph_capture", False),
    (True, "disabled", False, "linear", TORCH_SUBGRAPH_CAPTURE, "disabled", True),
    (False, "whole_graph_capture", True, "linear", RTX_NATIVE_CAPTURE, "whole_graph_capture", False),
    (False, "whole_graph_capture", False, "linear", NO_CAPTURE, "disabled", False),  # RTX-only: ignored
    (True, "whole_graph_capture", True, "linear", RTX_NATIVE_CAPTURE, "whole_graph_capture", False),
    (True, "whole_graph_capture", False, "linear", TORCH_SUBGRAPH_CAPTURE, "disabled", True),
    (True, "disabled", True, "dynamic", RTX_NATIVE_CAPTURE, "whole_graph_capture", False),  # eager below
    (True, "disabled", False, "dynamic", TORCH_SUBGRAPH_CAPTURE, "disabled", True),
]


@pytest.mark.filterwarnings("ignore:.*TensorRT-RTX features:UserWarning")
@pytest.mark.parametrize(("mode", "strategy", "rtx", "kind", "path", "native", "torch_capture"), CASES)
def test_engine_capture_path(
    backend: Any,
    monkeypatch: pytest.MonkeyPatch,
    mode: bool,
    strategy: str,
    rtx: bool,
    kind: str,
    path: str,
    native: str,
    torch_capture: bool,
) -> None:
    module = fresh(kind)
    (engine,) = engines_of(module)
    torch_captures = spy_torch_capture(monkeypatch, engine)
    x = example(kind)
    with _trt.override_features(tensorrt_rtx=rtx), set_cudagraphs_mode(mode):
        with runtime_config(module, cuda_graph_strategy=strategy, **{KERNEL: "eager"}), torch.no_grad():
            torch.testing.assert_close(module(x), eager(kind)(x), rtol=1e-5, atol=1e-5)
    assert engine.last_capture_decision.path == path
    (context,) = engine.engine().contexts
    assert context.options.cuda_graph_strategy == native
    assert (len(torch_captures) > 0) is torch_capture
    assert not (torch_capture and native == "whole_graph_capture")  # never both


def spy_torch_capture(monkeypatch: pytest.MonkeyPatch, engine: Any) -> list[Any]:
    calls: list[Any] = []
    original = engine._run_captured

    def spy(context: Any, inputs: Any) -> Any:
        calls.append(context)
        return original(context, inputs)

    monkeypatch.setattr(engine, "_run_captured", spy)
    return calls


@pytest.mark.parametrize("rtx", [True, False], ids=["tensorrt_rtx", "standard_tensorrt"])
def test_subgraph_mode_on_a_pure_tensorrt_module(backend: Any, monkeypatch: pytest.MonkeyPatch, rtx: bool) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    torch_captures = spy_torch_capture(monkeypatch, engine)
    with _trt.override_features(tensorrt_rtx=rtx), enable_cudagraphs(module) as graphed, torch.no_grad():
        assert graphed is module  # per-engine capture; no wrapper
        torch.testing.assert_close(graphed(x := example("linear")), eager("linear")(x))
    (context,) = engine.engine().contexts
    if rtx:  # native capture instead of a torch one
        assert engine.last_capture_decision.path == RTX_NATIVE_CAPTURE
        assert context.options.cuda_graph_strategy == "whole_graph_capture" and not torch_captures
    else:
        assert engine.last_capture_decision.path == TORCH_SUBGRAPH_CAPTURE
        assert context.options.cuda_graph_strategy == "disabled" and len(torch_captures) == 1
    assert not get_cudagraphs_mode()


@pytest.mark.parametrize("rtx", [True, False], ids=["tensorrt_rtx", "standard_tensorrt"])
def test_whole_graph_mode_on_a_mixed_module(backend: Any, monkeypatch: pytest.MonkeyPatch, rtx: bool) -> None:
    module = fresh("mixed")
    engines = engines_of(module)
    assert len(engines) == 2
    torch_captures = [spy_torch_capture(monkeypatch, engine) for engine in engines]
    x = example("mixed")
    with _trt.override_features(tensorrt_rtx=rtx), torch.no_grad():
        # Even with native capture asked for, the outer capture turns it off inside the engines.
        with enable_cudagraphs(module, cuda_graph_strategy="whole_graph_capture") as graphed:
            assert graphed is not module
            torch.testing.assert_close(graphed(x), eager("mixed")(x), rtol=1e-4, atol=1e-4)
            assert OUTER_CAPTURE.get() is False  # only while the wrapper runs
    for engine, captures in zip(engines, torch_captures):
        assert engine.last_capture_decision.path == OUTER_WHOLE_GRAPH_CAPTURE
        assert [c.options.cuda_graph_strategy for c in engine.engine().contexts] == ["disabled"]
        assert not captures


def test_opaque_wrapper_counts_as_mixed(backend: Any) -> None:
    class Wrapper(torch.nn.Module):  # its forward could run any PyTorch op
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x) + 1

    wrapper = Wrapper(fresh("linear"))
    with enable_cudagraphs(wrapper) as graphed, torch.no_grad():
        assert graphed is not wrapper
        graphed(example("linear"))
    assert engines_of(wrapper)[0].last_capture_decision.path == OUTER_WHOLE_GRAPH_CAPTURE


def test_dynamic_engine_with_default_settings_captures_natively_on_rtx(backend: Any) -> None:
    # As in Torch-TensorRT: enable_cudagraphs on a dynamic-shape engine needs no settings change.
    module = fresh("dynamic")
    (engine,) = engines_of(module)
    with enable_cudagraphs(module) as graphed, torch.no_grad():
        assert graphed is module
        for batch in (3, 5, 3):
            torch.testing.assert_close(graphed(x := example("dynamic", batch)), eager("dynamic")(x))
    assert engine.last_capture_decision.path == RTX_NATIVE_CAPTURE
    (context,) = engine.engine().contexts
    assert (context.options.kernel_strategy, context.options.cuda_graph_strategy) == ("lazy", "whole_graph_capture")


def test_lazy_dynamic_under_an_outer_capture_is_reported_before_running(backend: Any) -> None:
    module = fresh("dynamic")
    (engine,) = engines_of(module)
    target = torch.nn.Sequential(module)  # Sequential: opaque → captured whole, from outside the engine
    with enable_cudagraphs(target) as graphed, torch.no_grad():
        with pytest.raises(RuntimeError, match="cannot be captured.*strategy='lazy'.*'eager'"):
            graphed(example("dynamic", 3))
        assert engine.last_capture_decision.path == NOT_CAPTURABLE
        assert engine.contexts_created == 0  # reported before a context existed or anything ran
        with set_cudagraphs_mode(False):  # uncaptured, lazy is fine
            module(example("dynamic", 3))
        with runtime_config(module, **{KERNEL: "eager"}):
            graphed(example("dynamic", 3))
    assert engine.last_capture_decision.path == OUTER_WHOLE_GRAPH_CAPTURE


def test_changing_the_mode_recreates_the_context_once(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    x = example("linear")
    with torch.no_grad():
        module(x)
        with set_cudagraphs_mode(True):
            module(x)
            module(x)
        with set_cudagraphs_mode(True):
            pass  # no run: nothing to recreate
        module(x)
        module(x)
    assert [c.options.cuda_graph_strategy for c in engine.engine().contexts] == [
        "disabled",
        "whole_graph_capture",
        "disabled",
    ]


def test_mode_changes_recreate_nothing_on_standard_tensorrt(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with _trt.override_features(tensorrt_rtx=False), torch.no_grad():
        module(example("linear"))
        with set_cudagraphs_mode(True):  # torch capture around the same context
            module(example("linear"))
        module(example("linear"))
    assert engine.contexts_created == 1


def test_context_that_cannot_capture_its_stream_runs_uncaptured(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # TensorRT-RTX contexts can tell whether their stream is capturable (isStreamCapturable). As on the
    # C++ runtime (test_capture_decision_contract.py runs both), the call runs uncaptured on the context
    # made for native capture (TensorRT-RTX falls back itself), and the decision says why.
    monkeypatch.setattr(EmulatedContext, "is_stream_capturable", lambda self, stream: False, raising=False)
    module = fresh("linear")
    (engine,) = engines_of(module)
    torch_captures = spy_torch_capture(monkeypatch, engine)
    x = example("linear")
    with set_cudagraphs_mode(True), torch.no_grad():
        torch.testing.assert_close(module(x), eager("linear")(x), rtol=1e-5, atol=1e-5)
        module(x)
    decision = engine.last_capture_decision
    assert (decision.path, decision.reason) == (NOT_CAPTURABLE, "the stream the engine runs on cannot be captured")
    assert [(c.options.cuda_graph_strategy, c.executions) for c in engine.engine().contexts] == [
        ("whole_graph_capture", 2)
    ]
    assert not torch_captures
    with torch.no_grad():
        module(x)  # not capturing: the probe is not consulted
    assert engine.last_capture_decision.path == NO_CAPTURE
