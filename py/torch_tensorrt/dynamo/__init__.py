"""The dynamo (torch.export) frontend: compile an ExportedProgram or module into TensorRT engines."""

from torch_tensorrt.dynamo._compiler import compile
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._summary import CompileSummary
from torch_tensorrt.dynamo._tracer import trace

__all__ = ["CompilationSettings", "CompileSummary", "compile", "trace"]
