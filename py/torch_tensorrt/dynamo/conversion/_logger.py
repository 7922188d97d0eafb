from __future__ import annotations

import logging

from torch_tensorrt._trt import trt

_py_logger = logging.getLogger("torch_tensorrt.tensorrt")


class _TRTLogger(trt.ILogger):  # type: ignore[misc,name-defined]
    """Routes TensorRT's messages into Python logging (logger ``torch_tensorrt.tensorrt``)."""

    def __init__(self) -> None:
        trt.ILogger.__init__(self)

    def log(self, severity: object, msg: str) -> None:
        level = {
            trt.ILogger.Severity.INTERNAL_ERROR: logging.CRITICAL,
            trt.ILogger.Severity.ERROR: logging.ERROR,
            trt.ILogger.Severity.WARNING: logging.WARNING,
            trt.ILogger.Severity.INFO: logging.DEBUG,
            trt.ILogger.Severity.VERBOSE: logging.DEBUG,
        }.get(severity, logging.INFO)
        _py_logger.log(level, "[TRT] %s", msg)


TRT_LOGGER = _TRTLogger()
