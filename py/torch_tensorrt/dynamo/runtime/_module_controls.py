"""Torch-TensorRT's per-module methods for weight-streaming budgets and optimization profiles.

A mixin of TorchTensorRTModule: each method reaches the module's engine on the runtime that runs it
(``self.engine``: the Python TRTEngine or the C++ engine's controls), which apply the same rules
(_engine_profiles.py / core/runtime/OptimizationProfiles.h). All are runtime controls: nothing here
is saved with the module.
"""

from __future__ import annotations

from typing import Any


class ProfileAndBudgetMethods:
    engine: Any  # TorchTensorRTModule.engine

    # -- weight streaming ------------------------------------------------------------------------
    def get_streamable_device_memory_budget(self) -> int:
        """Bytes of this engine's weights that can be streamed (0: not compiled with
        enable_weight_streaming=True)."""
        return int(self.engine.streamable_device_memory_budget)

    def get_automatic_device_memory_budget(self) -> int:
        """The budget TensorRT chooses for this engine on this device."""
        return int(self.engine.automatic_device_memory_budget)

    def get_device_memory_budget(self) -> int:
        """Bytes of streamable weights kept on the device."""
        return int(self.engine.device_memory_budget)

    def set_device_memory_budget(self, budget_bytes: int) -> int:
        """Keep ``budget_bytes`` of streamable weights on the device (negative: all of them, i.e. no
        streaming, as in Torch-TensorRT); returns the budget now set."""
        if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, int):
            raise TypeError(f"budget_bytes must be an int, got {type(budget_bytes).__name__}")
        if budget_bytes < 0:
            budget_bytes = self.get_streamable_device_memory_budget()
        self.engine.set_device_memory_budget(budget_bytes)
        return self.get_device_memory_budget()

    # -- optimization profiles ---------------------------------------------------------------------
    def set_optimization_profile(self, profile: int | str | None) -> None:
        """Run every call on profile ``profile`` (an index); "auto" or None: on the first profile
        containing the call's input shapes (the default here)."""
        if profile is None or profile == "auto":
            self.engine.set_optimization_profile(None)
            return
        if isinstance(profile, bool) or not isinstance(profile, int):
            raise TypeError(f"profile must be an int index, 'auto' or None, got {profile!r}")
        self.engine.set_optimization_profile(profile)

    def get_optimization_profile_state(self) -> int | None:
        """The forced profile (None: automatic), which optimization_profile() restores on exit."""
        return self.engine.optimization_profile  # type: ignore[no-any-return]

    def restore_optimization_profile_state(self, state: int | None) -> None:
        self.engine.set_optimization_profile(state)
