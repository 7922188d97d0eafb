"""Host overhead per forward on both runtimes, against the bare runtime-API calls any runtime must make.

    python benchmarks/runtime_overhead.py [--iters 20000] [--repeats 7] [--cpp-backend PATH]

The engine has one input and one output and runs on a no-op backend (no TensorRT call, no compute), so
every figure is host time per call:

- bare API calls: the calls any runtime makes per call, made directly on a no-op Python context
  (set input shape, bind input, output shape, allocate the output, bind it, enqueue); the reference.
- Python runtime: ``TorchTensorRTModule.forward`` (``use_python_runtime=True``) and ``TRTEngine.execute``.
- C++ runtime: ``TorchTensorRTModule.forward`` (``use_python_runtime=False``) and the
  ``torch.ops.tensorrt.execute_engine`` overload it calls, on the C++ fake backend's ``identity``
  engine (a 512-byte copy). Needs the fake backend library, built by
  ``bash tests/core/run_cpp_tests.sh --fake-backend-only`` (its path is the default of --cpp-backend).

Times are thread CPU time (``time.thread_time``), the minimum over interleaved repeats, so that other
processes on a shared machine inflate them as little as possible.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import EngineInfo, TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._engine_info import EngineMetadata, InputSpec, OutputSpec
from torch_tensorrt.dynamo.runtime._execute_engine_op import split_engine_info
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, use_backend

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CPP_BACKEND = REPO / "build" / "cpp_tests" / "libtorchtrt_fake_backend.so"
# The C++ fake backend's engine format (tests/core/fake_backend.cpp): output y is a copy of input x.
FAKE_IDENTITY_ENGINE = b"FAKE_TRT_ENGINE 1\nop identity\ninput x float32 -1,16\noutput y float32\n"


@dataclass
class _NoopContext:
    shape: tuple[int, ...] = ()

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        self.shape = tuple(shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self.shape

    def bind(self, name: str, tensor: torch.Tensor) -> None:
        tensor.data_ptr()

    def execute(self, stream: object) -> None:
        pass

    def serialize_runtime_cache(self) -> bytes | None:
        return None


class _NoopEngine:
    io_tensors = [IOTensor("x", True, torch.float32, (-1, 16)), IOTensor("y", False, torch.float32, (-1, 16))]

    def profile_shape(self, name: str) -> tuple:
        return (1, 16), (8, 16), (64, 16)

    def create_context(self, options: ContextOptions) -> _NoopContext:
        return _NoopContext()


class _NoopBackend:
    name = "noop"
    device_type = "cpu"

    def load_engine(self, engine: bytes, name: str) -> _NoopEngine:
        return _NoopEngine()


def _info(engine: bytes) -> EngineInfo:
    metadata = EngineMetadata(
        inputs=(InputSpec("x", "float32", ("s0", 16), (1, 16), (8, 16), (64, 16)),),
        outputs=(OutputSpec("y", "float32", ("s0", 16)),),
    )
    return EngineInfo(name="noop", engine=engine, input_names=("x",), output_names=("y",), metadata=metadata)


def _measure(cases: dict[str, Callable[[], object]], iters: int, repeats: int) -> dict[str, float]:
    """Microseconds per call of each case: the fastest of ``repeats`` runs, cases interleaved."""
    best = dict.fromkeys(cases, float("inf"))
    for fn in cases.values():
        for _ in range(200):
            fn()
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.thread_time()
            for _ in range(iters):
                fn()
            best[name] = min(best[name], (time.thread_time() - start) / iters * 1e6)
    return best


def python_cases(x: torch.Tensor) -> dict[str, Callable[[], object]]:
    """The bare calls and the Python runtime's paths; call inside use_backend(_NoopBackend())."""
    module = TorchTensorRTModule(_info(b"\0" * 64), use_python_runtime=True)
    engine = module.python_engine
    context = engine.context()
    dtype = torch.float32

    def bare() -> None:
        context.set_input_shape("x", x.shape)
        context.bind("x", x)
        # size= as a keyword, as the runtime does: torch parses it about 0.7 us faster.
        out = torch.empty(size=context.output_shape("y"), dtype=dtype)
        context.bind("y", out)
        context.execute(None)

    return {
        "bare API calls": bare,
        "python module forward": lambda: module(x),
        "python TRTEngine.execute": lambda: engine.execute((x,)),
    }


def cpp_cases(x: torch.Tensor, library: Path) -> dict[str, Callable[[], object]]:
    """The C++ runtime's paths on its fake backend (selected process-wide: call after the Python cases)."""
    os.environ["TORCH_TENSORRT_ALLOW_TEST_BACKENDS"] = "1"
    ops = torch.ops.tensorrt
    ops._load_test_backend(str(library))
    ops._set_python_delegate(0)  # the C++ runtime runs every call, as with a TensorRT SDK
    info = _info(FAKE_IDENTITY_ENGINE)
    module = TorchTensorRTModule(info, use_python_runtime=False)
    assert torch.equal(module(x), x) and module._engine is None, "the forward ran on the C++ engine"
    engine_tensor, short_info = split_engine_info(info)
    op = ops.execute_engine.default
    return {
        "cpp module forward": lambda: module(x),
        "cpp execute_engine op": lambda: op([x], engine_tensor, short_info),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iters", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cpp-backend", type=Path, default=DEFAULT_CPP_BACKEND, help="C++ fake backend library")
    args = parser.parse_args()
    x = torch.randn(8, 16)
    with use_backend(_NoopBackend()):
        figures = _measure(python_cases(x), args.iters, args.repeats)
    if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
        print("C++ runtime: not built (torch_tensorrt._C missing); Python runtime only")
    elif not args.cpp_backend.is_file():
        print(
            f"C++ runtime: no fake backend at {args.cpp_backend}; build it with "
            "bash tests/core/run_cpp_tests.sh --fake-backend-only"
        )
    else:
        figures.update(_measure(cpp_cases(x, args.cpp_backend), args.iters, args.repeats))
    bare = figures["bare API calls"]
    for name, us in figures.items():
        print(f"{name:28s} {us:7.2f} us  {us / bare:5.2f}x bare")
    print(json.dumps({name.replace(" ", "_").replace(".", "_") + "_us": round(us, 2) for name, us in figures.items()}))


if __name__ == "__main__":
    main()
