"""Compile → run → save → load → run end to end on CPU through the emulated runtime."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torchvision

import torch_tensorrt
from torch_tensorrt.testing import emulated_runtime

PY_DIR = Path(__file__).resolve().parents[3] / "py"


@pytest.fixture(scope="module")
def resnet18() -> torch.nn.Module:
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()


@pytest.fixture(scope="module")
def dynamic_resnet18(resnet18: torch.nn.Module, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    store = tmp_path_factory.mktemp("emulation")
    spec = torch_tensorrt.Input(min_shape=(1, 3, 64, 64), opt_shape=(4, 3, 64, 64), max_shape=(8, 3, 64, 64))
    with emulated_runtime(store):
        compiled = torch_tensorrt.compile(resnet18, ir="dynamo", inputs=[spec], min_block_size=1)
    return compiled, store


def test_static_resnet18_matches_eager(resnet18: torch.nn.Module) -> None:
    x = torch.randn(2, 3, 64, 64)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(resnet18, ir="dynamo", inputs=[x], min_block_size=1)
        out = compiled(x)
        expected = resnet18(x)
    assert compiled._compile_summary.num_engines == 1
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_dynamic_batch_in_range(dynamic_resnet18: tuple, resnet18: torch.nn.Module, batch: int) -> None:
    compiled, store = dynamic_resnet18
    x = torch.randn(batch, 3, 64, 64)
    with emulated_runtime(store), torch.no_grad():
        torch.testing.assert_close(compiled(x), resnet18(x), rtol=1e-4, atol=1e-4)


def test_batch_outside_profile_is_refused(dynamic_resnet18: tuple) -> None:
    compiled, store = dynamic_resnet18
    with emulated_runtime(store), pytest.raises(ValueError) as err, torch.no_grad():
        compiled(torch.randn(9, 3, 64, 64))
    message = str(err.value)
    assert "(9, 3, 64, 64)" in message and "max (8, 3, 64, 64)" in message and "min (1, 3, 64, 64)" in message


def test_wrong_dtype_is_refused(dynamic_resnet18: tuple) -> None:
    compiled, store = dynamic_resnet18
    with emulated_runtime(store), pytest.raises(TypeError, match="float32"), torch.no_grad():
        compiled(torch.randn(2, 3, 64, 64, dtype=torch.float16))


def test_one_execution_context_for_repeated_forwards(dynamic_resnet18: tuple) -> None:
    compiled, store = dynamic_resnet18
    with emulated_runtime(store) as backend, torch.no_grad():
        # Inside the block: the engines that run here (the C++ runtime's when it is loaded).
        engines = torch_tensorrt.runtime.engines_of(compiled)
        before = [e.contexts_created for e in engines]
        for batch in (2, 2, 5, 2):
            compiled(torch.randn(batch, 3, 64, 64))
    created = [e.contexts_created - b for e, b in zip(engines, before)]
    # Each block is a new backend (the emulated runtime affects exactly the calls inside it), so its
    # first call creates the context; every later call, shape changes included, reuses it.
    assert created == [1]
    assert [[c.executions for c in handle.contexts] for handle in backend.engines] == [[4]]


def test_save_and_load_in_a_new_process(dynamic_resnet18: tuple, resnet18: torch.nn.Module, tmp_path: Path) -> None:
    compiled, store = dynamic_resnet18
    path = tmp_path / "resnet18.pt2"
    with emulated_runtime(store):
        torch_tensorrt.save(compiled, path)
    x = torch.randn(3, 3, 64, 64)
    torch.save(x, tmp_path / "x.pt")
    script = textwrap.dedent(
        f"""
        import torch, torch_tensorrt
        from torch_tensorrt.testing import emulated_runtime
        with emulated_runtime({str(store)!r}), torch.no_grad():
            program = torch_tensorrt.load({str(path)!r})
            out = program.module()(torch.load({str(tmp_path / "x.pt")!r}))
        torch.save(out, {str(tmp_path / "out.pt")!r})
        """
    )
    env = dict(os.environ, PYTHONPATH=str(PY_DIR))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with torch.no_grad():
        torch.testing.assert_close(torch.load(tmp_path / "out.pt"), resnet18(x), rtol=1e-4, atol=1e-4)


def test_saved_program_loads_with_plain_torch_export(
    dynamic_resnet18: tuple, resnet18: torch.nn.Module, tmp_path: Path
) -> None:
    compiled, store = dynamic_resnet18
    path = tmp_path / "resnet18.pt2"
    with emulated_runtime(store):
        torch_tensorrt.save(compiled, path)
        program = torch.export.load(path)  # torch_tensorrt is imported, so the op is registered
        x = torch.randn(8, 3, 64, 64)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(x), resnet18(x), rtol=1e-4, atol=1e-4)
    # The dynamic range survives the round trip.
    ranges = [(int(r.lower), int(r.upper)) for r in program.range_constraints.values()]
    assert (1, 8) in ranges


def test_mixed_tensorrt_and_pytorch_graph_round_trip(tmp_path: Path) -> None:
    class Mixed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.conv(x))
            return torch.special.bessel_j0(y) + y

    model = Mixed().eval()
    x = torch.randn(2, 3, 8, 8)
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
        torch_tensorrt.save(compiled, tmp_path / "mixed.pt2")
        loaded = torch_tensorrt.load(tmp_path / "mixed.pt2").module()
        torch.testing.assert_close(loaded(x), model(x), rtol=1e-4, atol=1e-4)
    assert compiled._compile_summary.num_fallback_ops == 1


def test_fp16_model(resnet18: torch.nn.Module) -> None:
    model = torchvision.models.resnet18(weights=None).eval().half()
    model.load_state_dict({k: v.half() for k, v in resnet18.state_dict().items()})
    x = torch.randn(1, 3, 64, 64, dtype=torch.float16)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        out = compiled(x)
    expected = resnet18(x.float())
    assert out.dtype == torch.float16
    # fp16 through 20 layers: compare against the fp32 model at fp16 accuracy over the logits' range.
    torch.testing.assert_close(out.float(), expected, rtol=2e-2, atol=2e-2 * expected.abs().max().item())


def test_engine_pickle_keeps_bytes_drops_live_objects(dynamic_resnet18: tuple) -> None:
    import pickle

    compiled, store = dynamic_resnet18
    engine = torch_tensorrt.runtime.engines_of(compiled)[0]
    with emulated_runtime(store), torch.no_grad():
        compiled(torch.randn(2, 3, 64, 64))
        clone = pickle.loads(pickle.dumps(engine))
    assert clone.info.engine == engine.info.engine
    assert clone._context is None and clone._engine is None and clone.contexts_created == 0


def test_emulation_is_only_active_when_selected(dynamic_resnet18: tuple) -> None:
    compiled, _ = dynamic_resnet18
    program = torch_tensorrt.dynamo.runtime._serialization.export_compiled(compiled) if False else None
    assert program is None
    from torch_tensorrt.dynamo.runtime._runtime_backend import current_backend

    assert current_backend().name == "tensorrt"
