"""``emulated_runtime()`` affects exactly the calls made inside it (issue 16, item 8), on both runtimes.

Engines outlive the block, so which backend runs a call is decided per call: a module first run inside
the block does not keep running on the CPU emulator after it, and a module whose first run failed
outside (no GPU) runs inside. Both the module's own engine and the ``execute_engine`` op path (what
loaded programs call) are checked, for programs compiled with ``use_python_runtime=True`` (the Python
engine) and ``False`` (the C++ engine, ``torch.classes.tensorrt.Engine``, which the block runs on its
DispatcherBackend). Outside the block this machine has no GPU, so the expected outcome there is the
error a module that never ran gives.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime._execute_engine_op import NEVER_DELEGATE, delegate_mode
from torch_tensorrt.dynamo.runtime._runtime_backend import NoUsableGPUError, current_backend
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.runtime import engines_of, runtime_config
from torch_tensorrt.testing import _emulated_cpp_runtime, emulated_runtime

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a machine without a GPU, where running outside the block fails"
)

RUNTIMES = ("python", "cpp")


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).eval()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulation")


@pytest.fixture(scope="module", params=RUNTIMES)
def compiled(
    request: pytest.FixtureRequest, store: Path
) -> Iterator[tuple[str, torch.nn.Module, torch.nn.Module, Path]]:
    """(runtime, eager model, compiled program that never ran, emulation store holding its network)."""
    runtime = request.param
    if runtime == "cpp" and not _emulated_cpp_runtime.available():
        pytest.skip("the C++ runtime (with its DispatcherBackend) is not loaded")
    model = _model()
    with emulated_runtime(store):
        program = torch_tensorrt.compile(
            model, ir="dynamo", inputs=[torch.randn(2, 8)], min_block_size=1, use_python_runtime=runtime == "python"
        )
    yield runtime, model, program, store


def fresh(program: torch.nn.Module) -> torch.nn.Module:
    """A copy whose engines are new objects that never ran."""
    return copy.deepcopy(program)


def segment(module: torch.nn.Module) -> TorchTensorRTModule:
    (trt_module,) = [m for m in module.modules() if isinstance(m, TorchTensorRTModule)]
    return trt_module


def cpp_engine(module: torch.nn.Module) -> Any:
    """The C++ engine the op runs for the module's engine tensor (torch.classes.tensorrt.Engine)."""
    trt_module = segment(module)
    return torch.ops.tensorrt.get_engine(trt_module.serialized_engine, trt_module.engine_info)


def no_gpu_error(module: torch.nn.Module, x: torch.Tensor) -> str:
    with pytest.raises(NoUsableGPUError) as err, torch.no_grad():
        module(x)
    return str(err.value)


def cpp_error_outside(module: torch.nn.Module, x: torch.Tensor) -> str:
    """The call made on the C++ engine itself outside the block (whatever backend C++ has there)."""
    with delegate_mode(NEVER_DELEGATE), pytest.raises(RuntimeError) as err, torch.no_grad():
        module(x)
    return str(err.value)


def run(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module(x)


def ran_inside(runtime: str, module: torch.nn.Module, backend: Any) -> None:
    """The block's call ran on the engine of ``runtime``, on the block's backend."""
    if runtime == "python":
        (engine,) = engines_of(module)
        assert engine.backend is backend
        if _emulated_cpp_runtime.available():
            assert cpp_engine(module).stats()["executions"] == 0
    else:
        assert cpp_engine(module).backend_name() == backend.name == "emulated"
        assert segment(module)._engine is None, "the Python engine was never created"


def test_run_inside_then_outside_fails_like_a_fresh_module(compiled: tuple) -> None:
    runtime, model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    outside_backend = torch.ops.tensorrt._backend_name() if _emulated_cpp_runtime.available() else None
    with emulated_runtime(store) as backend:
        torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
        ran_inside(runtime, module, backend)
    assert current_backend().name == "tensorrt"
    after = no_gpu_error(module, x)
    assert after == no_gpu_error(fresh(program), x)
    assert "no usable CUDA GPU" in after
    if runtime == "python":
        (engine,) = engines_of(module)
        assert engine.backend.name == "tensorrt" and engine._context is None  # nothing emulated is kept
    else:
        assert torch.ops.tensorrt._backend_name() == outside_backend
        # The C++ engine itself, called outside: it follows the backend selected there.
        assert cpp_error_outside(module, x) == cpp_error_outside(fresh(program), x)
        assert cpp_engine(module).backend_name() == outside_backend


def test_fail_outside_then_inside_matches_eager(compiled: tuple) -> None:
    runtime, model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    no_gpu_error(module, x)
    if runtime == "cpp":
        cpp_error_outside(module, x)  # the C++ engine has met the outside backend first
    with emulated_runtime(store) as backend:
        torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
        ran_inside(runtime, module, backend)
        contexts = engines_of(module)[0].contexts_created
        assert contexts == 1
    no_gpu_error(module, x)  # and back again


def test_each_block_runs_on_its_own_backend(compiled: tuple) -> None:
    runtime, model, program, store = compiled
    module = fresh(program)
    x = torch.randn(2, 8)
    for _ in range(2):
        with emulated_runtime(store) as backend:
            torch.testing.assert_close(run(module, x), run(model, x), rtol=1e-5, atol=1e-5)
            run(module, x)  # one context per block, reused within it
            ran_inside(runtime, module, backend)
            assert len(backend.engines) == 1
            assert [c.executions for c in backend.engines[0].contexts] == [2]
            (engine,) = engines_of(module)
    assert engine.contexts_created == 2


def test_settings_belong_to_the_module_across_the_switch(compiled: tuple) -> None:
    _, _, program, store = compiled
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
    """``execute_engine`` (what loaded programs call) decides per call as well, on the C++ runtime too."""
    runtime, model, program, store = compiled
    trt_module = segment(fresh(program))
    x = torch.randn(2, 8)

    def call() -> torch.Tensor:
        with torch.no_grad():
            (out,) = torch.ops.tensorrt.execute_engine([x], trt_module.serialized_engine, trt_module.engine_info)
        return out

    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        call()
    with emulated_runtime(store) as backend:
        torch.testing.assert_close(call(), run(model, x), rtol=1e-5, atol=1e-5)
        # The op of a loaded program is the C++ runtime's: inside the block it runs the C++ engine.
        if _emulated_cpp_runtime.available():
            engine = torch.ops.tensorrt.get_engine(trt_module.serialized_engine, trt_module.engine_info)
            assert engine.stats()["executions"] == 1 and engine.backend_name() == backend.name
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        call()
