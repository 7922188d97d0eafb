"""Stage 4: ATen → TensorRT conversion. Importing this registers every converter."""

from torch_tensorrt.dynamo._settings import CompilationSettings as _CompilationSettings
from torch_tensorrt.dynamo.conversion import aten_ops_converters  # noqa: F401  (registers converters)
from torch_tensorrt.dynamo.conversion._conversion import (
    NETWORK_BUILD_OBSERVERS,
    ConvertedSegment,
    NetworkBuilt,
    convert_segment,
)
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import (
    DYNAMO_CONVERTERS,
    dynamo_tensorrt_converter,
)
from torch_tensorrt.dynamo.conversion._interpreter_result import (
    SerializedInterpreterResult,
    TRTInterpreterResult,
    interpret_module_to_result,
)
from torch_tensorrt.dynamo.conversion._TRTInterpreter import (
    ConversionError,
    TRTInterpreter,
    UnsupportedOperatorException,
)

# Torch-TensorRT's tests import the settings class from here too.
CompilationSettings = _CompilationSettings

__all__ = [
    "CompilationSettings",
    "DYNAMO_CONVERTERS",
    "NETWORK_BUILD_OBSERVERS",
    "ConversionContext",
    "ConversionError",
    "ConvertedSegment",
    "NetworkBuilt",
    "SerializedInterpreterResult",
    "TRTInterpreter",
    "TRTInterpreterResult",
    "UnsupportedOperatorException",
    "convert_segment",
    "dynamo_tensorrt_converter",
    "interpret_module_to_result",
]
