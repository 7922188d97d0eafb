"""Small helper for the reference-executor tests: build a TensorRT network by hand, check that the real
builder accepts it, then capture and evaluate it on the reference executor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.testing._reference import NetworkRecord, capture_network, execute_record

LOGGER = trt.Logger(trt.Logger.ERROR)
BUILDER = trt.Builder(LOGGER)

TRT_DTYPES: dict[torch.dtype, Any] = {
    torch.float32: trt.float32,
    torch.float16: trt.float16,
    torch.bfloat16: trt.bfloat16,
    torch.int8: trt.int8,
    torch.int32: trt.int32,
    torch.int64: trt.int64,
    torch.bool: trt.bool,
}

# Tolerances per dtype for float results (fp32 layers compute in fp32; fp16/bf16 round once per layer).
TOL: dict[torch.dtype, dict[str, float]] = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-5},
    torch.float16: {"rtol": 1e-2, "atol": 1e-2},
    torch.bfloat16: {"rtol": 2e-2, "atol": 2e-2},
}

Profiles = Sequence[Mapping[str, tuple[Sequence[int], Sequence[int], Sequence[int]]]]


class Net:
    """A network under construction; keeps every weight buffer alive until the build."""

    def __init__(self) -> None:
        # TensorRT-RTX networks are always strongly typed (flag 0 still reports STRONGLY_TYPED).
        self.network = BUILDER.create_network(0)
        self._keep: list[Any] = []

    def input(self, name: str, dtype: torch.dtype, shape: Sequence[int]) -> Any:
        return self.network.add_input(name, TRT_DTYPES[dtype], tuple(shape))

    def weights(self, value: torch.Tensor) -> Any:
        """TensorRT weights holding ``value`` (bf16 through a raw pointer: NumPy has no bfloat16)."""
        value = value.detach().contiguous().cpu()
        self._keep.append(value)
        if value.dtype == torch.bfloat16:
            return trt.Weights(trt.bfloat16, value.data_ptr(), value.numel())
        array = value.numpy()
        self._keep.append(array)
        return trt.Weights(array) if array.size else trt.Weights(TRT_DTYPES[value.dtype])

    def const(self, value: torch.Tensor | float | int | Sequence[Any], dtype: torch.dtype | None = None) -> Any:
        t = value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)
        if dtype is not None:
            t = t.to(dtype)
        return self.network.add_constant(tuple(t.shape), self.weights(t)).get_output(0)

    def mark(self, *tensors: Any) -> None:
        for t in tensors:
            self.network.mark_output(t)

    def build(self, profiles: Profiles | None = None) -> None:
        """Build with the real builder; failing to build fails the test."""
        config = BUILDER.create_builder_config()
        shape_inputs = {
            self.network.get_input(i).name
            for i in range(self.network.num_inputs)
            if self.network.get_input(i).is_shape_tensor
        }
        for profile in profiles or []:
            p = BUILDER.create_optimization_profile()
            for name, (lo, opt, hi) in profile.items():
                if name in shape_inputs:
                    p.set_shape_input(name, tuple(lo), tuple(opt), tuple(hi))
                else:
                    p.set_shape(name, tuple(lo), tuple(opt), tuple(hi))
            config.add_optimization_profile(p)
        engine = BUILDER.build_serialized_network(self.network, config)
        assert engine is not None, "TensorRT-RTX failed to build the network"

    def record(self, profiles: Profiles | None = None) -> NetworkRecord:
        return capture_network(self.network, profiles)

    def run(
        self, inputs: Mapping[str, torch.Tensor], profiles: Profiles | None = None, *, build: bool = True
    ) -> list[torch.Tensor]:
        """Build (unless told not to), capture, evaluate; the marked outputs in marking order."""
        if build:
            self.build(profiles)
        record = self.record(profiles)
        outputs = execute_record(record, inputs)
        return [outputs[name] for name in record.outputs]


def close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype | None = None) -> None:
    """Same dtype and shape, and values equal (exactly for non-float types, within TOL otherwise)."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (tuple(actual.shape), tuple(expected.shape))
    if actual.dtype.is_floating_point:
        tol = TOL[dtype or actual.dtype]
        torch.testing.assert_close(actual, expected, equal_nan=True, **tol)
    else:
        assert torch.equal(actual, expected), (actual, expected)


def rand(*shape: int, dtype: torch.dtype = torch.float32, low: float = -2.0, high: float = 2.0) -> torch.Tensor:
    return (torch.rand(*shape, dtype=torch.float32) * (high - low) + low).to(dtype)


def np_array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
