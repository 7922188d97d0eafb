"""The Python engine's input checks (a TRTEngine base class): dtype, shape range and device per input,
with each (shape, dtype, device) signature checked once. The C++ engine makes the same checks with the
same messages (core/runtime/execute_engine.cpp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, torch_dtype
from torch_tensorrt.dynamo.runtime._shape_tensor_inputs import host_shape_inputs

# Input signatures remembered per input as already checked (see EngineInputChecks._checked_inputs).
_MAX_SIGNATURES = 64


class EngineInputChecks:
    """Input checks over TRTEngine's state (info, device, shape-tensor inputs, accepted signatures)."""

    info: EngineInfo
    name: str
    _accepted: list[set[tuple[Any, ...]]]
    _input_checks: list[tuple[str, torch.dtype | None, tuple[int, ...], tuple[int, ...]]] | None
    _shape_inputs: Any
    _truncate_double: bool

    if TYPE_CHECKING:

        @property
        def device(self) -> torch.device: ...

    def _input_specs(self) -> list[tuple[str, torch.dtype | None, tuple[int, ...], tuple[int, ...]]]:
        """(name, dtype, min shape, max shape) per input, derived once from the metadata."""
        if self._input_checks is None:
            specs = {spec.name: spec for spec in self.info.metadata.inputs}
            checks = []
            for name in self.info.input_names:
                spec = specs.get(name)
                if spec is None:
                    checks.append((name, None, (), ()))
                    continue
                # Without a profile, a symbolic dim has no recorded bounds: only its rank is checked.
                lo = (
                    spec.min_shape
                    if spec.min_shape is not None
                    else tuple(d if isinstance(d, int) else 0 for d in spec.shape)
                )
                hi = (
                    spec.max_shape
                    if spec.max_shape is not None
                    else tuple(d if isinstance(d, int) else 2**63 - 1 for d in spec.shape)
                )
                checks.append((name, torch_dtype(spec.dtype), tuple(lo), tuple(hi)))
            self._input_checks = checks
        return self._input_checks

    def _check_input(self, index: int, tensor: torch.Tensor) -> None:
        name, want, lo, hi = self._input_specs()[index]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"input {name} of engine {self.name!r} must be a tensor, got {type(tensor).__name__}")
        if want is not None:
            if tensor.dtype != want:
                raise TypeError(
                    f"input {name} of engine {self.name!r} must have dtype {want}, got {tensor.dtype}; "
                    f"cast it with .to({want})"
                )
            shape = tuple(tensor.shape)
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                raise ValueError(
                    f"input {name} of engine {self.name!r} has shape {shape}, outside the range the engine "
                    f"was built for: min {lo}, max {hi}. Recompile with a wider "
                    "torch_tensorrt.Input(min_shape=..., max_shape=...)."
                )
        if any(index == shape_index for shape_index, *_ in self._shape_inputs):
            return  # a shape tensor may be on the host, where TensorRT reads it (see _checked_inputs)
        want_device = self.device
        if tensor.device != want_device and (
            tensor.device.type != want_device.type
            or (want_device.index is not None and tensor.device.index != want_device.index)
        ):
            raise RuntimeError(
                f"input {name} of engine {self.name!r} is on {tensor.device}; the engine runs on "
                f"{want_device}. Move the input with .to({str(want_device)!r})."
            )

    def _checked_inputs(self, inputs: Sequence[torch.Tensor]) -> Sequence[torch.Tensor]:
        """The inputs as the engine takes them, after the dtype, shape-range and device checks.

        A (shape, dtype, device) signature that passed once passes again, so it is checked only
        the first time; the set is bounded for engines that see many shapes.
        """
        if self._truncate_double:
            # Compiled with truncate_double: the engine takes float32 where the model took float64.
            inputs = [t.float() if isinstance(t, torch.Tensor) and t.dtype == torch.float64 else t for t in inputs]
        accepted = self._accepted
        for i, tensor in enumerate(inputs):
            if type(tensor) is not torch.Tensor:  # subclasses and non-tensors: always the full check
                self._check_input(i, tensor)
                continue
            signature = (tensor.shape, tensor.dtype, tensor.device)
            if signature not in accepted[i]:
                self._check_input(i, tensor)
                if len(accepted[i]) >= _MAX_SIGNATURES:
                    accepted[i].clear()
                accepted[i].add(signature)
        if self._shape_inputs:
            return host_shape_inputs(self.name, self._shape_inputs, inputs)
        return inputs
