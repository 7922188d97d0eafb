"""``MutableTorchTensorRTModule``: Torch-TensorRT's name and signatures; not implemented yet.

Torch-TensorRT's mutable module recompiles or refits its engines when the wrapped module's weights
or inputs change. It rests on weight refit, which is not implemented yet (issue 19 of this project),
so every entry point raises ``NotImplementedError`` rather than silently compiling once.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._Device import Device

_NOT_IMPLEMENTED = (
    "MutableTorchTensorRTModule is not implemented yet (issue 19 of this project; it needs weight refit): "
    "compile the module with torch_tensorrt.compile and recompile after changing its weights"
)


class MutableTorchTensorRTModule:
    """Would wrap ``pytorch_model`` and keep its TensorRT engines in step with its weights."""

    def __init__(
        self,
        pytorch_model: torch.nn.Module,
        *,
        device: Device | torch.device | str | None = None,
        immutable_weights: bool = False,
        strict: bool = True,
        prefer_deferred_runtime_asserts_over_guards: bool = False,
        weight_streaming_budget: int | None = None,
        **kwargs: Any,
    ) -> None:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def set_expected_dynamic_shape_range(
        self, args_dynamic_shape: tuple[dict[Any, Any], ...], kwargs_dynamic_shape: dict[str, Any]
    ) -> None:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def compile(self) -> None:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def refit_gm(self) -> None:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    @staticmethod
    def save(module: Any, path: str) -> None:
        raise NotImplementedError(_NOT_IMPLEMENTED)

    @staticmethod
    def load(path: str) -> Any:
        raise NotImplementedError(_NOT_IMPLEMENTED)
