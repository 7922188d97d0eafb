"""Public API surface: settings validation, Input, Device, compile entry points."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
import torch_tensorrt.testing
from torch_tensorrt.dynamo import CompilationSettings


class _Small(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * 2 + 1


def test_unknown_setting_lists_valid_ones() -> None:
    with pytest.raises(TypeError) as err:
        torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_blok_size=1)
    message = str(err.value)
    assert "min_blok_size" in message
    assert "min_block_size" in message and "torch_executed_ops" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_block_size", "3"), ("require_full_compilation", 1), ("optimization_level", 2.0), ("workspace_size", True)],
)
def test_wrong_type_names_the_field(field: str, value: object) -> None:
    with pytest.raises(TypeError, match=field):
        CompilationSettings.from_kwargs(**{field: value})


@pytest.mark.parametrize(("field", "value"), [("min_block_size", 0), ("optimization_level", 7), ("workspace_size", -1)])
def test_out_of_range_values(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        CompilationSettings.from_kwargs(**{field: value})


def test_unknown_compute_capability() -> None:
    with pytest.raises(ValueError, match="compute_capabilities"):
        CompilationSettings(compute_capabilities=("9.0",))


def test_settings_accept_upstream_spellings() -> None:
    s = CompilationSettings.from_kwargs(
        enabled_precisions={torch.half, "fp32"}, torch_executed_ops={"torch.ops.aten.relu.default"}
    )
    assert s.enabled_precisions == frozenset({torch.float16, torch.float32})
    assert "torch.ops.aten.relu.default" in s.torch_executed_ops


def test_input_static_and_dynamic() -> None:
    static = torch_tensorrt.Input(shape=(1, 3, 8, 8), dtype=torch.half)
    assert not static.is_dynamic() and static.shape == (1, 3, 8, 8) and static.dtype == torch.float16
    dyn = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3))
    assert dyn.is_dynamic() and dyn.dynamic_dims() == [0]
    assert dyn.example_tensor("max_shape").shape == (8, 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_shape": (4, 3), "opt_shape": (2, 3), "max_shape": (8, 3)},
        {"min_shape": (1, 3), "opt_shape": (2, 3, 1), "max_shape": (8, 3)},
        {"shape": (1, 3), "min_shape": (1, 3)},
        {"shape": (1, -3)},
        {"min_shape": (1, 3)},
    ],
)
def test_input_rejects_bad_ranges(kwargs: dict) -> None:
    with pytest.raises((ValueError, TypeError)):
        torch_tensorrt.Input(**kwargs)


def test_device_spellings() -> None:
    assert torch_tensorrt.Device("cuda:1").gpu_id == 1
    assert torch_tensorrt.Device(gpu_id=2).gpu_id == 2
    assert torch_tensorrt.Device(torch.device("cuda", 3)).gpu_id == 3
    with pytest.raises(ValueError):
        torch_tensorrt.Device("cpu")


def test_compile_exported_program_and_module_agree() -> None:
    model = _Small().eval()
    x = torch.randn(2, 3)
    program = torch.export.export(model, (x,))
    with torch_tensorrt.testing.emulated_runtime(persist=False):
        from_program = torch_tensorrt.dynamo.compile(program, arg_inputs=[x], min_block_size=1)
        from_module = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        torch.testing.assert_close(from_program(x), model(x), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(from_module(x), model(x), rtol=1e-4, atol=1e-4)
    assert from_program._compile_summary.num_engines == 1


def test_compile_needs_inputs_for_modules() -> None:
    with pytest.raises(ValueError, match="inputs"):
        torch_tensorrt.compile(_Small())


def test_compile_without_gpu_reports_clearly_when_run() -> None:
    """Outside the emulated runtime, a machine with no GPU refuses to run an engine with a clear error."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the no-GPU error path cannot be observed")
    compiled = torch_tensorrt.compile(_Small().eval(), inputs=[torch.randn(2, 3)], min_block_size=1)
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        compiled(torch.randn(2, 3))


def test_compile_summary_object() -> None:
    with torch_tensorrt.testing.emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(_Small().eval(), inputs=[torch.randn(2, 3)], min_block_size=1)
    summary = compiled._compile_summary
    assert summary.num_engines == 1 and summary.engine_bytes > 0
    assert summary.num_fallback_ops == 0 and summary.num_converted_ops >= 3
    assert {"trace", "lower", "partition", "build"} <= set(summary.stage_seconds)
    assert "TensorRT engines: 1" in str(summary)


def test_compile_freezes_the_existing_heap_only_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collections during a compile skip the objects that existed before it; afterwards all is as before."""
    import gc

    from torch_tensorrt.dynamo import _compiler

    seen: list[int] = []
    lower = _compiler.lower_exported_program
    monkeypatch.setattr(
        _compiler, "lower_exported_program", lambda *a: (seen.append(gc.get_freeze_count()), lower(*a))[1]
    )
    x = torch.randn(2, 3)
    assert gc.get_freeze_count() == 0
    torch_tensorrt.compile(_Small().eval(), inputs=[x], min_block_size=1)
    torch_tensorrt.dynamo.compile(torch.export.export(_Small().eval(), (x,)), arg_inputs=[x], min_block_size=1)
    assert len(seen) == 2 and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0
    # A process that froze objects itself owns its frozen set: the compile neither adds nor releases.
    calls: list[str] = []
    gc.freeze()
    try:
        monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
        monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
        torch_tensorrt.compile(_Small().eval(), inputs=[x], min_block_size=1)
        assert calls == [] and gc.get_freeze_count() > 0
    finally:
        monkeypatch.undo()
        gc.unfreeze()


def test_segment_whose_build_fails_runs_in_pytorch(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """Without pass_through_build_failures a failed segment stays in PyTorch, weights included."""
    from torch_tensorrt.dynamo import _compiler

    def fail(engine_cache: object, name: str, *args: object) -> None:
        raise RuntimeError(f"no engine for {name}")

    monkeypatch.setattr(_compiler, "convert_with_engine_cache", fail)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).eval()
    x = torch.randn(5, 3)
    with caplog.at_level("WARNING", logger="torch_tensorrt"):
        compiled = torch_tensorrt.compile(model, inputs=[x], min_block_size=1)
    assert (
        "_run_on_acc_0 (3 ops) failed and runs in PyTorch instead: RuntimeError: no engine for _run_on_acc_0"
        in caplog.text
    )
    assert compiled._compile_summary.num_engines == 0
    assert compiled._compile_summary.num_fallback_ops == 3 and compiled._compile_summary.num_converted_ops == 0
    torch.testing.assert_close(compiled(x), model(x), rtol=1e-6, atol=1e-6)
    with pytest.raises(RuntimeError, match="no engine"):
        torch_tensorrt.compile(model, inputs=[x], min_block_size=1, pass_through_build_failures=True)


def test_deep_copy_keeps_summary_and_inputs(tmp_path) -> None:
    """A deep copy can still be saved without inputs= (the compile-time Inputs travel with it)."""
    import copy

    x = torch.randn(2, 3)
    with torch_tensorrt.testing.emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(_Small().eval(), inputs=[x], min_block_size=1)
        duplicate = copy.deepcopy(compiled)
        assert duplicate._compile_summary.num_engines == 1
        assert [i.shape for i in duplicate._torch_tensorrt_inputs] == [i.shape for i in compiled._torch_tensorrt_inputs]
        torch_tensorrt.save(duplicate, str(tmp_path / "copy.ep"))
        loaded = torch_tensorrt.load(str(tmp_path / "copy.ep"))
        torch.testing.assert_close(loaded.module()(x), _Small()(x), rtol=1e-4, atol=1e-4)


def test_dynamic_dims_tied_by_the_model_are_refined() -> None:
    """Two inputs with their own ranges whose batch dims the model ties together still compile."""

    class Concat(torch.nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, y], 1) * 2

    spec = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3))
    for batch in (1, 8):
        inputs = [torch.randn(batch, 3), torch.randn(batch, 3)]
        torch_tensorrt.testing.assert_close_to_eager(Concat(), inputs, input_specs=[spec, spec])


def test_range_rejected_by_export_reports_export_reason() -> None:
    class PinsTheBatch(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.reshape(4, 3) * 2  # only batch 4 works: the range 2..8 cannot be honoured

    spec = torch_tensorrt.Input(min_shape=(2, 3), opt_shape=(4, 3), max_shape=(8, 3))
    with pytest.raises(ValueError) as err:
        torch_tensorrt.compile(PinsTheBatch(), inputs=[spec], min_block_size=1)
    message = str(err.value)
    assert "torch.export rejected the dynamic input ranges" in message and "input0_dim0" in message


def test_trace_records_source_locations_unless_told_not_to() -> None:
    class Model(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x) + 1

    specs = [torch_tensorrt.Input(shape=(2, 3))]
    with_locations = torch_tensorrt.dynamo.trace(Model(), specs)
    without = torch_tensorrt.dynamo.trace(Model(), specs, source_locations=False)
    ops = lambda program: [n for n in program.graph.nodes if n.op == "call_function"]  # noqa: E731
    assert all("test_api.py" in n.meta["stack_trace"] for n in ops(with_locations))
    assert ops(without) and all("stack_trace" not in n.meta for n in ops(without))
    assert not torch.fx.config.do_not_emit_stack_traces

    class Broken(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("model bug")

    with pytest.raises(RuntimeError, match="model bug"):
        torch_tensorrt.dynamo.trace(Broken(), specs, source_locations=False)
    assert not torch.fx.config.do_not_emit_stack_traces, "restored after a failed trace too"
