"""The CUDA-graph capture decision of a run, on both runtimes: one table of cases, each run on the
Python engine and on the C++ engine (each on its fake backend, _contract_runtimes.py), asserting the
decision the engine records, whether the call runs or is refused (and with which words), and the
CUDA-graph strategy its execution context was created with.

The rule itself (CudaGraphPolicy / decide_capture) is compared input by input in
test_cudagraph_policy_parity.py; this table checks what each runtime does around it: the stream
probe after the context exists, refusals under an outer capture (recorded before anything runs), and
the native strategy the context gets. Both fake backends are TensorRT-RTX flavoured; the adder's
inputs are dynamic (a batch range), so "lazy" kernels matter to a capture.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import pytest
from _contract_runtimes import (  # noqa: F401 - fixtures
    NOT_CAPTURABLE_ENV,
    Runtime,
    adder_info,
    process_defaults_fixture,
    runtime_fixture,
)
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

import torch_tensorrt
from torch_tensorrt import runtime as rt
from torch_tensorrt.dynamo.runtime._stripped_weights import WEIGHTS_STRIPPED_FLAG, stripped_weights_error
from torch_tensorrt.runtime._cudagraphs import (
    NO_CAPTURE,
    NOT_CAPTURABLE,
    OUTER_WHOLE_GRAPH_CAPTURE,
    RTX_NATIVE_CAPTURE,
)

if not torch_tensorrt.ENABLED_FEATURES.tensorrt_rtx:
    pytest.skip("the table is written for TensorRT-RTX (native capture)", allow_module_level=True)

LAZY_REFUSAL = "cannot be captured in a CUDA graph: dynamic_shapes_kernel_specialization_strategy='lazy'"


@pytest.fixture(autouse=True)
def _process_defaults_restored(process_defaults_restored: None) -> None:
    pass


@dataclasses.dataclass(frozen=True)
class Case:
    cudagraphs_mode: bool
    graph_strategy: str  # the module's cuda_graph_strategy
    kernel_strategy: str
    outer_capture: bool
    stream_capturable: bool
    decision: str  # what the engine records
    context_graph_strategy: str | None  # the context's; None: no context was created
    refusal: str | None = None  # the error of a refused call

    @property
    def id(self) -> str:
        return (
            f"mode={int(self.cudagraphs_mode)}-{self.graph_strategy}-{self.kernel_strategy}"
            f"-outer={int(self.outer_capture)}-capturable={int(self.stream_capturable)}"
        )


CASES = [
    Case(False, "disabled", "lazy", False, True, NO_CAPTURE, "disabled"),
    Case(False, "disabled", "lazy", False, False, NO_CAPTURE, "disabled"),  # the probe is not asked
    Case(True, "disabled", "lazy", False, True, RTX_NATIVE_CAPTURE, "whole_graph_capture"),
    Case(False, "whole_graph_capture", "eager", False, True, RTX_NATIVE_CAPTURE, "whole_graph_capture"),
    # The context cannot be captured on its stream: the call runs uncaptured on the same context.
    Case(True, "disabled", "lazy", False, False, NOT_CAPTURABLE, "whole_graph_capture"),
    Case(False, "whole_graph_capture", "eager", False, False, NOT_CAPTURABLE, "whole_graph_capture"),
    # An outer capture records the engine; its context never captures natively.
    Case(False, "disabled", "eager", True, True, OUTER_WHOLE_GRAPH_CAPTURE, "disabled"),
    Case(True, "whole_graph_capture", "eager", True, True, OUTER_WHOLE_GRAPH_CAPTURE, "disabled"),
    Case(False, "disabled", "eager", True, False, OUTER_WHOLE_GRAPH_CAPTURE, "disabled"),
    # ... unless lazy kernels would break the outer graph: refused before a context exists, recorded.
    Case(False, "disabled", "lazy", True, True, NOT_CAPTURABLE, None, LAZY_REFUSAL),
    Case(True, "whole_graph_capture", "lazy", True, True, NOT_CAPTURABLE, None, LAZY_REFUSAL),
]


@contextlib.contextmanager
def conditions(runtime: Runtime, case: Case, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not case.stream_capturable:
        monkeypatch.setenv(NOT_CAPTURABLE_ENV, "1")
    outer = runtime.outer_capture() if case.outer_capture else contextlib.nullcontext()
    with rt.set_cudagraphs_mode(case.cudagraphs_mode), outer:
        yield


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_capture_decision_table(runtime: Runtime, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    module = runtime.module()
    settings = {
        "cuda_graph_strategy": case.graph_strategy,
        "dynamic_shapes_kernel_specialization_strategy": case.kernel_strategy,
    }
    with rt.runtime_config(module, **settings), conditions(runtime, case, monkeypatch):
        if case.refusal is None:
            runtime.run(module, batch=3)
        else:
            with pytest.raises(RuntimeError, match=f"engine 'adder' {case.refusal}"):
                runtime.run(module, batch=3)
        assert runtime.last_capture_decision(module) == case.decision
        if case.context_graph_strategy is None:
            assert runtime.contexts_created(module) == 0
        else:
            assert runtime.context_settings(module) == (case.kernel_strategy, case.context_graph_strategy)


def test_table_reaches_every_recorded_path_and_both_outcomes() -> None:
    # A table that never reaches a path (or never refuses) would not notice a runtime drifting there.
    assert {c.decision for c in CASES} == {NO_CAPTURE, RTX_NATIVE_CAPTURE, OUTER_WHOLE_GRAPH_CAPTURE, NOT_CAPTURABLE}
    assert {c.refusal is None for c in CASES} == {True, False}


def test_a_refused_call_leaves_the_engine_usable(runtime: Runtime) -> None:
    module = runtime.module()
    with runtime.outer_capture():
        with pytest.raises(RuntimeError, match=LAZY_REFUSAL):
            runtime.run(module)
    runtime.run(module)  # the capture is over: runs, and records the new decision
    assert runtime.last_capture_decision(module) == NO_CAPTURE
    assert runtime.contexts_created(module) == 1


# ------------------------------------------------------------------------------------------------
# Stripped engines (strip_engine_weights=True) are refused from the metadata on both runtimes
# ------------------------------------------------------------------------------------------------


def stripped_adder_info() -> torch_tensorrt.dynamo.runtime._engine_info.EngineInfo:
    info = adder_info()
    metadata = dataclasses.replace(info.metadata, flags={WEIGHTS_STRIPPED_FLAG: True})
    return dataclasses.replace(info, metadata=metadata)


def test_stripped_engine_is_refused_before_it_is_loaded(runtime: Runtime) -> None:
    module = runtime.module(stripped_adder_info())
    for _ in range(2):  # and again: no plan or context was left behind by the first refusal
        with pytest.raises(RuntimeError) as refused:
            runtime.run(module)
        assert stripped_weights_error("adder") in str(refused.value)
    assert "refit_module_weights" in str(refused.value)
    assert runtime.contexts_created(module) == 0
    assert runtime.last_capture_decision(module) == "not run"


def test_an_engine_whose_flag_is_false_runs(runtime: Runtime) -> None:
    info = adder_info()
    unflagged = dataclasses.replace(
        info, metadata=dataclasses.replace(info.metadata, flags={WEIGHTS_STRIPPED_FLAG: False})
    )
    runtime.run(runtime.module(unflagged))
