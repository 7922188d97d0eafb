"""Stage 4: ATen → TensorRT conversion. Importing this registers every converter."""

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
from torch_tensorrt.dynamo.conversion._TRTInterpreter import ConversionError, TRTInterpreter

__all__ = [
    "DYNAMO_CONVERTERS",
    "NETWORK_BUILD_OBSERVERS",
    "ConversionContext",
    "ConversionError",
    "ConvertedSegment",
    "NetworkBuilt",
    "TRTInterpreter",
    "convert_segment",
    "dynamo_tensorrt_converter",
]
