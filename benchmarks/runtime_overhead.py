"""Host overhead of the Python runtime per forward, against the bare runtime-API calls it must make.

    python benchmarks/runtime_overhead.py [--iters 20000]

The engine is a 1-input/1-output engine behind a no-op backend (no TensorRT call, no compute), so
the figures are pure host time: (a) TorchTensorRTModule.forward through torch.ops.tensorrt.execute_engine,
(b) TRTEngine.execute directly, (c) a loop of the calls any runtime must make (set input shape, bind
input and output, allocate the output, enqueue).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

import torch_tensorrt  # noqa: F401  (registers the op)
from torch_tensorrt.dynamo.runtime import EngineInfo, TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._engine_info import EngineMetadata, InputSpec, OutputSpec
from torch_tensorrt.dynamo.runtime._runtime_backend import ContextOptions, IOTensor, use_backend


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


def _time(fn, iters: int) -> float:
    for _ in range(200):
        fn()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - start) / iters * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20000)
    args = parser.parse_args()
    metadata = EngineMetadata(
        inputs=(InputSpec("x", "float32", ("s0", 16), (1, 16), (8, 16), (64, 16)),),
        outputs=(OutputSpec("y", "float32", ("s0", 16)),),
    )
    info = EngineInfo(name="noop", engine=b"\0" * 64, input_names=("x",), output_names=("y",), metadata=metadata)
    x = torch.randn(8, 16)
    with use_backend(_NoopBackend()):
        module = TorchTensorRTModule(info)
        engine = module.engine
        context = engine.context()
        module_us = _time(lambda: module(x), args.iters)
        engine_us = _time(lambda: engine.execute([x]), args.iters)

        def bare() -> None:
            context.set_input_shape("x", x.shape)
            context.bind("x", x)
            out = torch.empty(context.output_shape("y"), dtype=torch.float32)
            context.bind("y", out)
            context.execute(None)

        bare_us = _time(bare, args.iters)
    print(json.dumps({
        "module_forward_us": round(module_us, 2),
        "engine_execute_us": round(engine_us, 2),
        "bare_api_calls_us": round(bare_us, 2),
        "module_vs_bare": round(module_us / bare_us, 2),
        "engine_vs_bare": round(engine_us / bare_us, 2),
    }))


if __name__ == "__main__":
    main()
