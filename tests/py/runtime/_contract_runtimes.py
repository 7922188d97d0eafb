"""The two runtimes behind one harness, for the shared runtime-contract suite (test_runtime_contract.py).

Both run the same fake engines (the text format of tests/core/fake_backend.cpp): the C++ runtime on the
C++ fake backend, the Python runtime on ``PyContractBackend`` below, which mirrors it — same ops, same
runtime-cache payload (``FAKECACHE1`` + one line per kernel, i.e. per op and input shapes), same
refusal of a foreign cache. So a test can assert the same observable behaviour (outputs, files,
context settings) on both, and a difference is a failing test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import runtime as rt
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, InputSpec, OutputSpec
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, use_backend
from torch_tensorrt.runtime import engines_of
from torch_tensorrt.runtime._modes import OUTER_CAPTURE

R = TypeVar("R")

CACHE_MAGIC = b"FAKECACHE1\n"
# The fake backends' switches (tests/core/fake_backend.cpp reads them; the Python one the first).
NOT_CAPTURABLE_ENV = "TORCH_TENSORRT_FAKE_NOT_CAPTURABLE"
OUTER_CAPTURE_ENV = "TORCH_TENSORRT_FAKE_OUTER_CAPTURE"
KERNEL_STRATEGIES = ("lazy", "eager", "none")
GRAPH_STRATEGIES = ("disabled", "whole_graph_capture")

_ENGINE = b"FAKE_TRT_ENGINE 1\nop add\ninput x float32 -1,3\ninput y float32 -1,3\noutput z float32\n"
_METADATA = EngineMetadata(
    inputs=tuple(InputSpec(n, "float32", ("s0", 3), (0, 3), (2, 3), (64, 3)) for n in ("x", "y")),
    outputs=(OutputSpec("z", "float32", ("s0", 3)),),
)


def adder_info() -> EngineInfo:
    return EngineInfo(name="adder", engine=_ENGINE, input_names=("x", "y"), output_names=("z",), metadata=_METADATA)


def kernel_line(batch: int) -> str:
    """The cache line both fake backends write after running the adder on a (batch, 3) pair."""
    return f"add;x={batch},3;y={batch},3"


class _PyContractContext:
    def __init__(self, engine: _PyContractEngine, options: ContextOptions) -> None:
        self.engine, self.options, self.shapes, self.bound = engine, options, {}, {}
        self.kernels: set[str] = set()
        if options.use_runtime_cache and options.runtime_cache:
            if not options.runtime_cache.startswith(CACHE_MAGIC):
                raise ValueError("fake backend: not a runtime cache of this backend")
            self.kernels = {line for line in options.runtime_cache[len(CACHE_MAGIC) :].decode().splitlines() if line}

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        self.shapes[name] = tuple(shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self.shapes["x"]

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor

    def set_profiler(self, receiver: Any) -> bool:
        self.profiler = receiver
        return True

    def execute(self, stream: object) -> None:
        self.bound["z"].copy_(self.bound["x"] + self.bound["y"])
        if getattr(self, "profiler", None) is not None:
            # As the C++ fake backend: its one layer (named by the op) takes 0.25 ms per run.
            self.profiler.report_layer_time("add", 0.25)
        key = "add" + "".join(f";{n}={','.join(str(d) for d in s)}" for n, s in sorted(self.shapes.items()))
        self.kernels.add(key)

    def is_stream_capturable(self, stream: object) -> bool:
        # The C++ fake backend's switch (tests/core/fake_backend.cpp), so one setting reaches both.
        return os.environ.get(NOT_CAPTURABLE_ENV) != "1"

    def serialize_runtime_cache(self) -> bytes | None:
        if not self.options.use_runtime_cache:
            return None
        return CACHE_MAGIC + b"".join(k.encode() + b"\n" for k in sorted(self.kernels))


class _PyContractEngine:
    io_tensors = [
        IOTensor("x", True, torch.float32, (-1, 3)),
        IOTensor("y", True, torch.float32, (-1, 3)),
        IOTensor("z", False, torch.float32, (-1, 3)),
    ]

    def __init__(self) -> None:
        self.contexts: list[_PyContractContext] = []

    def profile_shape(self, name: str) -> tuple:
        return (0, 3), (2, 3), (64, 3)

    def create_context(self, options: ContextOptions) -> _PyContractContext:
        self.contexts.append(_PyContractContext(self, options))
        return self.contexts[-1]


class PyContractBackend:
    name = "py_contract"
    device_type = "cpu"

    def load_engine(self, engine: bytes, name: str) -> _PyContractEngine:
        assert engine == _ENGINE, "the contract suite runs only the adder engine"
        return _PyContractEngine()


class Runtime:
    """One runtime as the suite sees it: modules on it, and what its engines' contexts were made with."""

    def __init__(self, name: str) -> None:
        self.name = name

    def module(self, info: EngineInfo | None = None) -> TorchTensorRTModule:
        return TorchTensorRTModule(info or adder_info(), use_python_runtime=self.name == "python")

    def engine(self, module: torch.nn.Module) -> Any:
        (engine,) = engines_of(module)
        return engine

    def run(self, module: torch.nn.Module, batch: int = 2) -> None:
        x = torch.full((batch, 3), 1.5)
        out = module(x, x)
        assert torch.equal(out, x * 2), out

    def context_settings(self, module: torch.nn.Module) -> tuple[str, str]:
        """(kernel strategy, CUDA-graph strategy) the engine's current context was created with."""
        engine = self.engine(module)
        if self.name == "python":
            options = engine.engine().contexts[-1].options
            return options.kernel_strategy, options.cuda_graph_strategy
        stats = dict(engine.engine.stats())
        return KERNEL_STRATEGIES[stats["context.kernel_strategy"]], GRAPH_STRATEGIES[
            stats["context.cuda_graph_strategy"]
        ]

    def contexts_created(self, module: torch.nn.Module) -> int:
        return int(self.engine(module).contexts_created)

    def last_capture_decision(self, module: torch.nn.Module) -> str:
        engine = self.engine(module)
        if self.name == "python":
            decision = engine.last_capture_decision
            return "not run" if decision is None else decision.path
        return str(engine.engine.last_capture_decision())

    @contextlib.contextmanager
    def outer_capture(self) -> Iterator[None]:
        """Calls in the block run as if the caller's stream were being captured into a CUDA graph (the
        Python runtime's flag for its whole-graph capture; the C++ fake backend's stream query)."""
        token = OUTER_CAPTURE.set(True)
        before = os.environ.get(OUTER_CAPTURE_ENV)
        os.environ[OUTER_CAPTURE_ENV] = "1"
        try:
            yield
        finally:
            OUTER_CAPTURE.reset(token)
            if before is None:
                del os.environ[OUTER_CAPTURE_ENV]
            else:
                os.environ[OUTER_CAPTURE_ENV] = before


def on_runtime(request: pytest.FixtureRequest, python_backend: Any, runtime: Callable[[str], R]) -> Iterator[R]:
    """The body of a fixture parametrized over ("python", "cpp"): the C++ runtime on its fake backend
    (``cpp_fake`` must be in the test module's namespace), the Python one on ``python_backend``."""
    if request.param == "cpp":
        if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
            pytest.skip("the C++ runtime torch_tensorrt._C is not built")
        request.getfixturevalue("cpp_fake")
        yield runtime("cpp")
        return
    with use_backend(python_backend):
        yield runtime("python")


@pytest.fixture(name="runtime", params=["python", "cpp"])
def runtime_fixture(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """Each test once per runtime (the C++ one needs ``cpp_fake`` in the test module's namespace)."""
    yield from on_runtime(request, PyContractBackend(), Runtime)


@pytest.fixture(name="process_defaults_restored", autouse=False)
def process_defaults_fixture() -> Iterator[None]:
    """The process-wide runtime defaults as they were before the test."""
    before = (rt.get_dynamic_shapes_kernel_strategy(), rt.get_cuda_graph_strategy(), rt.get_runtime_cache_path())
    yield
    rt.set_runtime_cache_path(before[2])
    rt.dynamic_shapes_kernel_strategy(before[0])
    rt.cuda_graph_strategy(before[1])
