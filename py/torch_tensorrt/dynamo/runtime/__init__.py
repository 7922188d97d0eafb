"""Stage 5: the runtime modules a compiled program is made of."""

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
from torch_tensorrt.dynamo.runtime._PythonTorchTensorRTModule import PythonTorchTensorRTModule
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

__all__ = ["EngineInfo", "PythonTorchTensorRTModule", "TRTEngine", "TorchTensorRTModule"]
