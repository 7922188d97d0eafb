"""The Python engine's optimization-profile and weight-streaming controls (a TRTEngine base class).

Runtime controls of one engine, never serialized: which profile calls run on (the rules in
``_engine_profiles``) and how many bytes of streamable weights stay on the device. The C++ engine
(core/runtime/TRTEngine.cpp) has the same controls with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt.dynamo.runtime._engine_profiles import check_budget, check_profile_index
from torch_tensorrt.dynamo.runtime._runtime_backend import EngineHandle, ExecutionContextHandle


class ProfileAndBudgetControls:
    """Profile selection and weight-streaming budgets over TRTEngine's state (lock, engine, context)."""

    _lock: Any
    _profiles: Any
    _forced_profile: int | None
    _context_profile: int
    _weight_budget: int | None
    _graphs: dict[Any, Any]
    _side_stream: Any
    _cuda: bool
    name: str

    if TYPE_CHECKING:
        device: torch.device

        def _follow_active_backend(self) -> None: ...

        def engine(self) -> EngineHandle: ...

        def close(self) -> None: ...

    @property
    def num_optimization_profiles(self) -> int:
        with self._lock:
            self._follow_active_backend()
            self.engine()
            return 1 if self._profiles is None else self._profiles.count

    @property
    def optimization_profile(self) -> int | None:
        """The profile forced by optimization_profile(module, k); None: the first containing the shapes."""
        return self._forced_profile

    @property
    def active_optimization_profile(self) -> int:
        """The profile the current execution context runs on."""
        return self._context_profile

    def set_optimization_profile(self, profile: int | None) -> None:
        with self._lock:
            if profile is not None and profile != 0:
                check_profile_index(self.name, profile, self.num_optimization_profiles)
            self._forced_profile = profile

    def _use_profile(self, context: ExecutionContextHandle, inputs: Sequence[torch.Tensor]) -> None:
        """Switch the context to this call's profile (cached per input shapes and shape-tensor values);
        a switch drops the CUDA graphs recorded on the old one."""
        selector = self._profiles
        values = [[int(v) for v in inputs[i].reshape(-1).tolist()] for i in selector.value_inputs]  # host copies
        index = selector.choose([t.shape for t in inputs], self._forced_profile, values)
        if index != self._context_profile:
            stream = self._engine_stream() if self._cuda else None
            if not context.set_optimization_profile(index, stream):  # type: ignore[attr-defined]
                raise RuntimeError(f"TensorRT could not switch engine {self.name!r} to optimization profile {index}")
            self._context_profile = index
            self._graphs.clear()

    def _engine_stream(self) -> Any:
        """The stream _launch enqueues on: the caller's, or the side stream off the legacy default one."""
        caller = torch.cuda.current_stream(self.device)
        if caller != torch.cuda.default_stream(self.device):
            return caller
        if self._side_stream is None:
            self._side_stream = torch.cuda.Stream(self.device)
        return self._side_stream

    @property
    def streamable_device_memory_budget(self) -> int:
        """Bytes of weights the engine can stream (0: not built with enable_weight_streaming)."""
        with self._lock:
            self._follow_active_backend()
            return int(getattr(self.engine(), "streamable_weights_size", 0))

    @property
    def automatic_device_memory_budget(self) -> int:
        with self._lock:
            self._follow_active_backend()
            engine = self.engine()
            check_budget(self.name, 0, int(getattr(engine, "streamable_weights_size", 0)))
            return int(engine.weight_streaming_automatic_budget())  # type: ignore[attr-defined]

    @property
    def device_memory_budget(self) -> int:
        """Bytes of streamable weights kept on the device (the streamable size: no streaming)."""
        with self._lock:
            self._follow_active_backend()
            engine = self.engine()
            if int(getattr(engine, "streamable_weights_size", 0)) <= 0:
                return 0
            return int(engine.weight_streaming_budget())  # type: ignore[attr-defined]

    @device_memory_budget.setter
    def device_memory_budget(self, budget: int) -> None:
        self.set_device_memory_budget(budget)

    def set_device_memory_budget(self, budget: int) -> bool:
        """Keep ``budget`` bytes of streamable weights on the device. TensorRT takes a budget only while
        no context exists, so the context is dropped (its kernels kept) and recreated by the next call."""
        with self._lock:
            self._follow_active_backend()
            engine = self.engine()
            check_budget(self.name, budget, int(getattr(engine, "streamable_weights_size", 0)))
            self.close()  # its kernels are kept (and saved as at teardown); the next call makes a new one
            if not engine.set_weight_streaming_budget(budget):  # type: ignore[attr-defined]
                raise RuntimeError(f"TensorRT refused weight-streaming budget {budget} for engine {self.name!r}")
            self._weight_budget = budget
            return True

    def _apply_weight_budget(self, engine: EngineHandle) -> None:
        """On load: the budget set before (engines are reloaded on another backend), else TensorRT's
        automatic one (as Torch-TensorRT sets it)."""
        if int(getattr(engine, "streamable_weights_size", 0)) <= 0:
            return
        budget = self._weight_budget
        if budget is None:
            budget = int(engine.weight_streaming_automatic_budget())  # type: ignore[attr-defined]
        if not engine.set_weight_streaming_budget(budget):  # type: ignore[attr-defined]
            raise RuntimeError(f"TensorRT refused weight-streaming budget {budget} for engine {self.name!r}")
