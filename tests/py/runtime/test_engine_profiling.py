"""Per-layer engine profiles (``module.enable_profiling`` / ``disable_profiling``) on both runtimes.

The contract runtimes' fake backends (C++: tests/core/fake_backend.cpp; Python: _contract_runtimes.py) time
one layer, "add", at 0.25 ms per run, so the trace files can be checked exactly; the same checks run on
both runtimes. The writers themselves are compared on one table of records (C++ through
``tensorrt::_engine_profile_trace``). Runs on compiled networks (real layer names, measured times) are in
tests/py/dynamo/test_debugger_engine_info.py.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from _contract_runtimes import Runtime, runtime_fixture  # noqa: F401 - fixtures
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._engine_profiling import LayerTimes, trace_json

TRACE = "adder_engine_execution_profile.trace"


def _trace(directory: Path) -> Any:
    return json.loads((directory / TRACE).read_text())


def test_perfetto_trace_after_each_run_summed_over_runs(runtime: Runtime, tmp_path: Path) -> None:
    module = runtime.module()
    module.enable_profiling(str(tmp_path))
    assert module.profiling_enabled
    runtime.run(module)
    assert _trace(tmp_path) == [
        {
            "name": "add",
            "ph": "X",
            "ts": 0,
            "dur": 250.0,
            "tid": 1,
            "pid": "adder Engine Execution",
            "args": {"runs": 1},
        }
    ]
    runtime.run(module)
    runtime.run(module, batch=5)
    (event,) = _trace(tmp_path)
    assert (event["dur"], event["args"]["runs"]) == (750.0, 3)
    assert runtime.engine(module).layer_profile() == [("add", 0.75, 3)]


def test_trex_layout(runtime: Runtime, tmp_path: Path) -> None:
    module = runtime.module()
    module.enable_profiling(str(tmp_path), profile_format="trex")
    runtime.run(module)
    runtime.run(module)
    assert _trace(tmp_path) == [{"name": "add", "timeMs": 0.5, "averageMs": 0.25, "percentage": 100.0}]


def test_profiling_runs_the_general_path_and_survives_new_contexts(runtime: Runtime, tmp_path: Path) -> None:
    module = runtime.module()
    runtime.run(module)
    runtime.run(module)  # the Python engine's fast path exists now
    module.enable_profiling(str(tmp_path))  # attached to the live context, fast path dropped
    runtime.run(module)
    runtime.run(module)
    assert runtime.engine(module).layer_profile() == [("add", 0.5, 2)]
    module.runtime_settings = torch_tensorrt.runtime.RuntimeSettings(
        dynamic_shapes_kernel_specialization_strategy="eager"
    )
    runtime.run(module)  # a new context, profiled too
    assert runtime.contexts_created(module) == 2
    assert runtime.engine(module).layer_profile() == [("add", 0.75, 3)]


def test_disable_stops_profiling_on_a_new_context(runtime: Runtime, tmp_path: Path) -> None:
    module = runtime.module()
    module.enable_profiling(str(tmp_path))
    runtime.run(module)
    module.disable_profiling()
    assert not module.profiling_enabled
    (tmp_path / TRACE).unlink()
    runtime.run(module)
    assert not (tmp_path / TRACE).exists()
    assert runtime.contexts_created(module) == 2
    assert runtime.engine(module).layer_profile() == []


def test_enable_again_starts_a_new_profile(runtime: Runtime, tmp_path: Path) -> None:
    module = runtime.module()
    module.enable_profiling(str(tmp_path))
    runtime.run(module)
    runtime.run(module)
    module.enable_profiling(str(tmp_path / "second"))
    runtime.run(module)
    assert _trace(tmp_path / "second")[0]["args"]["runs"] == 1
    assert _trace(tmp_path)[0]["args"]["runs"] == 2  # the first profile's file is left as it was


def test_default_directory_is_the_temp_dir(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # Python's gettempdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # C++'s temp_directory_path()
    module = runtime.module()
    module.enable_profiling()
    runtime.run(module)
    assert _trace(tmp_path)[0]["name"] == "add"


def test_bad_arguments_are_refused(runtime: Runtime) -> None:
    module = runtime.module()
    with pytest.raises(
        ValueError, match=r"profile_format must be one of \('perfetto', 'trex', 'cudagraph'\), got 'json'"
    ):
        module.enable_profiling(profile_format="json")
    with pytest.raises(ValueError, match="profiling_results_dir must name a directory"):
        module.enable_profiling("")
    with pytest.raises(ValueError, match="profile_path_prefix must name a directory"):
        runtime.engine(module).profile_path_prefix = ""
    assert not module.profiling_enabled


def test_cudagraph_format_writes_the_perfetto_layout(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torch_tensorrt import _logging

    monkeypatch.setattr(_logging, "_WARNED", set())  # warn_once's memory, for this test only
    module = runtime.module()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module.enable_profiling(str(tmp_path), profile_format="cudagraph")
    runtime.run(module)
    assert _trace(tmp_path)[0]["ph"] == "X"
    # The C++ runtime dumps no CUDA graphs: said so; the Python runtime does (on a GPU), silently.
    assert any("no CUDA graph DOT" in str(w.message) for w in caught) == (runtime.name == "cpp")


RECORDS = [
    ("conv1", 1.25, 4),
    ('odd "name"\\with\ncontrol', 0.0, 1),
    ("gemm/fused(relu)", 3.0000000000000004, 3),
    ("µ-layer", 1e-7, 2),
]


@pytest.mark.parametrize("profile_format", ["perfetto", "trex", "cudagraph"])
@pytest.mark.parametrize("records", [RECORDS, []], ids=["layers", "empty"])
def test_python_and_cpp_writers_agree(profile_format: str, records: list[tuple[str, float, int]]) -> None:
    if not hasattr(torch.ops.tensorrt, "_engine_profile_trace"):
        pytest.skip("the C++ runtime (with its profile writer) is not loaded")
    layout = "perfetto" if profile_format == "cudagraph" else profile_format
    names, ms, runs = (list(c) for c in zip(*records)) if records else ([], [], [])
    cpp = torch.ops.tensorrt._engine_profile_trace("eng", layout, names, ms, runs)
    assert json.loads(cpp) == json.loads(trace_json("eng", layout, records))
    assert len(json.loads(cpp)) == len(records)


def test_layer_times_sum_in_first_report_order() -> None:
    times = LayerTimes()
    for name, ms in (("b", 1.0), ("a", 2.0), ("b", 0.5)):
        times.report_layer_time(name, ms)
    assert times.records() == [("b", 1.5, 2), ("a", 2.0, 1)]
