"""``emulated_runtime()`` affects exactly the calls made inside it (issue 16, item 8).

Engines outlive the block, so which backend runs a call is decided per call: a module first run inside
the block does not keep running on the CPU emulator after it, and a module whose first run failed
outside (no GPU) runs inside. Both the module's own engine and the ``execute_engine`` op path (what
loaded programs call) are checked. Outside the block this machine has no GPU, so the expected outcome
there is the error a module that never ran gives.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._runtime_backend import NoUsableGPUError, current_backend
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.runtime import engines_of, runtime_config
from torch_tensorrt.testing import emulated_runtime

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a machine without a GPU, where running outside the block fails"
)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).eval()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, torch.nn.Module, Path]:
    """(eager model, compiled program that never ran, emulation store holding its network)."""
    store = tmp_path_factory.mktemp("emulation")
    model = _model()
    with emulated_runtime(store):
        program = torch_tensorrt.compile(model, ir="dynamo", inputs=[torch.randn(2, 8)], min_block_size=1)
    return model, program, store


def fresh(program: torch.nn.Module) -> torch.nn.Module:
    """A copy whose engines are new objects that never ran."""
    return copy.deepcopy(program)


def no_gpu_error(module: torch.nn.Module, x: torch.Tensor) -> str:
    with pytest.raises(NoUsableGPUError) as err, torch.no_grad():
        module(x)
    return str(err.value)


def run(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module(x)


def test_run_inside_then_outside_fails_like_a_fresh_module(compiled: tuple) -> None:
    model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    with emulated_runtime(store):
        torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
    assert current_backend().name == "tensorrt"
    after = no_gpu_error(module, x)
    assert after == no_gpu_error(fresh(program), x)
    assert "no usable CUDA GPU" in after
    (engine,) = engines_of(module)
    assert engine.backend.name == "tensorrt" and engine._context is None  # nothing emulated is kept


def test_fail_outside_then_inside_matches_eager(compiled: tuple) -> None:
    model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    no_gpu_error(module, x)
    with emulated_runtime(store) as backend:
        torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
        (engine,) = engines_of(module)
        assert engine.backend is backend and engine.contexts_created == 1
    no_gpu_error(module, x)  # and back again


def test_each_block_runs_on_its_own_backend(compiled: tuple) -> None:
    model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    (engine,) = engines_of(module)
    for _ in range(2):
        with emulated_runtime(store) as backend:
            torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
            run(module, x)  # one context per block, reused within it
            assert engine.backend is backend and len(backend.engines) == 1
            assert [c.executions for c in backend.engines[0].contexts] == [2]
    assert engine.contexts_created == 2


def test_settings_belong_to_the_module_across_the_switch(compiled: tuple) -> None:
    _, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    no_gpu_error(module, x)
    with runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
        with emulated_runtime(store) as backend:
            run(module, x)
        no_gpu_error(module, x)
    ((context,),) = [e.contexts for e in backend.engines]
    assert context.options.kernel_strategy == "eager"


def test_op_path_follows_the_block_too(compiled: tuple) -> None:
    """``execute_engine`` (what loaded programs call) decides per call as well."""
    model, program, store = compiled
    (trt_module,) = [m for m in fresh(program).modules() if isinstance(m, TorchTensorRTModule)]
    x = torch.randn(2, 8)

    def call() -> torch.Tensor:
        with torch.no_grad():
            (out,) = torch.ops.tensorrt.execute_engine([x], trt_module.serialized_engine, trt_module.engine_info)
        return out

    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        call()
    with emulated_runtime(store):
        torch.testing.assert_close(call(), run(model, x), rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        call()
