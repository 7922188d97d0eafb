"""``PythonTorchTensorRTModule``: Torch-TensorRT 2.12's name for an engine run by the Python runtime.

Torch-TensorRT 2.13 merged it into ``TorchTensorRTModule``; here it is ``TorchTensorRTModule`` with
``use_python_runtime=True``, and ``isinstance(m, PythonTorchTensorRTModule)`` holds for every segment
the Python runtime runs (so 2.12-era checks keep working on programs compiled with
``use_python_runtime=True``).
"""

from __future__ import annotations

from typing import Any

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule


class _RunsInPython(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        if not isinstance(obj, TorchTensorRTModule):
            return False
        return not obj.runs_in_cpp()


class PythonTorchTensorRTModule(TorchTensorRTModule, metaclass=_RunsInPython):
    """A TensorRT segment whose engine always runs on the Python runtime."""

    def __init__(
        self,
        engine_info: EngineInfo | list[str] | bytes | None = None,
        name: str | None = None,
        output_is_tuple: bool | None = None,
        **engine_parts: Any,
    ) -> None:
        # engine_parts: Torch-TensorRT's serialized_engine=, input_binding_names=, ... (see TorchTensorRTModule)
        super().__init__(engine_info, name, output_is_tuple, use_python_runtime=True, **engine_parts)
