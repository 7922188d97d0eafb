"""Debugging aids: :class:`Debugger` (Torch-TensorRT's ``with torch_tensorrt.dynamo.Debugger(...)``)."""

from torch_tensorrt.dynamo.debug._Debugger import Debugger, DebuggerConfig

__all__ = ["Debugger", "DebuggerConfig"]
