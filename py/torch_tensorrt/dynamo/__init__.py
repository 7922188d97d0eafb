"""The dynamo (torch.export) frontend: compile an ExportedProgram or module into TensorRT engines."""

from torch_tensorrt.dynamo._compiler import compile
from torch_tensorrt.dynamo._engine_export import (
    convert_exported_program_to_serialized_trt_engine,
    cross_compile_for_windows,
    load_cross_compiled_exported_program,
    save_cross_compiled_exported_program,
)
from torch_tensorrt.dynamo._refit import refit_module_weights
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._signatures import with_settings_signature
from torch_tensorrt.dynamo._summary import CompileSummary
from torch_tensorrt.dynamo._tracer import trace
from torch_tensorrt.dynamo.debug import Debugger

# dynamo.compile takes every setting as a keyword (through **kwargs); show them as Torch-TensorRT does.
with_settings_signature(compile)

__all__ = [
    "CompilationSettings",
    "CompileSummary",
    "Debugger",
    "compile",
    "convert_exported_program_to_serialized_trt_engine",
    "cross_compile_for_windows",
    "load_cross_compiled_exported_program",
    "refit_module_weights",
    "save_cross_compiled_exported_program",
    "trace",
]
