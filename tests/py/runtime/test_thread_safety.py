"""Concurrent calls on one module are correct on both runtimes (DESIGN.md section 4, "Threads").

Several threads call one TorchTensorRTModule thousands of times, each with its own values and batch
sizes, and every result is compared with the expected sum. The Python runtime runs on a fake
backend whose context yields the GIL inside every call (set-shape, bind, output-shape, execute), so
an engine that let two calls share its context unguarded would mix their shapes and tensors on
almost every run (once with each implementation of its fast path: the C runner and the Python
closure); the C++ runtime runs on its fake backend, with the GIL released during the op.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
import torch
from _contract_runtimes import adder_info
from _fast_path_impls import assert_runner_is, use_fast_path

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, use_backend

if torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
    from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

THREADS = 4
CALLS = 750  # per thread: without the engine lock nearly every call fails


class _YieldingAdderContext:
    """The adder of _contract_runtimes, giving the GIL away between the steps of a call."""

    def __init__(self) -> None:
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.bound: dict[str, torch.Tensor] = {}

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        self.shapes[name] = tuple(shape)
        time.sleep(0)

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        self.bound[name] = tensor
        time.sleep(0)

    def output_shape(self, name: str) -> tuple[int, ...]:
        time.sleep(0)
        return self.shapes["x"]

    def execute(self, stream: object) -> None:
        x, y, z = self.bound["x"], self.bound["y"], self.bound["z"]
        time.sleep(0)
        # What TensorRT would read: the addresses and shapes bound now, which must be one call's.
        if not (tuple(x.shape) == tuple(y.shape) == tuple(z.shape) == self.shapes["x"] == self.shapes["y"]):
            raise RuntimeError(
                f"bound tensors of different calls: x {x.shape}, y {y.shape}, z {z.shape}, {self.shapes}"
            )
        z.copy_(x + y)

    def serialize_runtime_cache(self) -> bytes | None:
        return None


class _YieldingAdderEngine:
    io_tensors = [
        IOTensor("x", True, torch.float32, (-1, 3)),
        IOTensor("y", True, torch.float32, (-1, 3)),
        IOTensor("z", False, torch.float32, (-1, 3)),
    ]

    def profile_shape(self, name: str) -> tuple:
        return (0, 3), (2, 3), (64, 3)

    def create_context(self, options: ContextOptions) -> _YieldingAdderContext:
        return _YieldingAdderContext()


class _YieldingAdderBackend:
    name = "yielding_adder"
    device_type = "cpu"

    def load_engine(self, engine: bytes, name: str) -> _YieldingAdderEngine:
        return _YieldingAdderEngine()


@pytest.fixture(params=["python:c", "python:python", "cpp"])
def module(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[TorchTensorRTModule]:
    """The module on the C++ runtime, or on the Python runtime with the fast path "python:<fast path>"."""
    if request.param == "cpp":
        if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
            pytest.skip("the C++ runtime torch_tensorrt._C is not built")
        request.getfixturevalue("cpp_fake")
        yield TorchTensorRTModule(adder_info(), use_python_runtime=False)
        return
    fast_path = request.param.partition(":")[2]
    use_fast_path(monkeypatch, fast_path)
    with use_backend(_YieldingAdderBackend()):
        module = TorchTensorRTModule(adder_info(), use_python_runtime=True)
        yield module
        assert_runner_is(module.python_engine, fast_path)  # the calls ran through that fast path


def _hammer(module: torch.nn.Module, thread: int, failures: list[str], start: threading.Barrier) -> None:
    start.wait()
    for call in range(CALLS):
        batch = 1 + (thread + call) % 7  # threads change shapes at different times
        x = torch.full((batch, 3), float(thread * 100_000 + call))
        y = torch.arange(batch * 3, dtype=torch.float32).reshape(batch, 3)
        try:
            out = module(x, y)
        except Exception as e:  # noqa: BLE001 - every failure is collected and reported
            failures.append(f"thread {thread} call {call}: {type(e).__name__}: {e}")
            continue
        if not torch.equal(out, x + y):
            failures.append(f"thread {thread} call {call}: wrong result for batch {batch} (shape {tuple(out.shape)})")


def test_concurrent_calls_on_one_module_are_correct(module: TorchTensorRTModule) -> None:
    failures: list[str] = []
    start = threading.Barrier(THREADS)
    # Each thread runs in a copy of this context, so it sees the backend the test selected
    # (use_backend is a context variable, which new threads do not inherit).
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(_hammer, module, t, failures, start))
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = THREADS * CALLS
    assert not failures, f"{len(failures)} of {total} calls failed or were wrong, e.g. {failures[:3]}"
    x = torch.ones(2, 3)
    assert torch.equal(module(x, x), x * 2), "the engine is still usable afterwards"
