"""Torch-TensorRT's ``dynamo.types``: names for TensorRT's network classes, for annotations and
``isinstance`` checks in converters (ours and Torch-TensorRT's)."""

from __future__ import annotations

from collections.abc import Sequence

from torch_tensorrt._trt import trt

TRTNetwork = trt.INetworkDefinition
TRTTensor = trt.ITensor
TRTLayer = trt.ILayer
TRTDataType = trt.DataType
TRTElementWiseOp = trt.ElementWiseOperation

Shape = Sequence[int]

__all__ = ["Shape", "TRTDataType", "TRTElementWiseOp", "TRTLayer", "TRTNetwork", "TRTTensor"]
