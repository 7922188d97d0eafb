"""TensorRT's logger, routed into Python logging; shared by the builder and the runtime.

It lives beside ``_trt.py`` rather than in the conversion package so that running a loaded program
never imports the converters (a stage never imports a later one, DESIGN.md section 7).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from torch_tensorrt._trt import trt

_py_logger = logging.getLogger("torch_tensorrt.tensorrt")
_collecting = threading.local()


@contextlib.contextmanager
def collect_errors() -> Iterator[list[str]]:
    """TensorRT's error messages on this thread go into the yielded list instead of the log.

    A failed build is reported once, by the exception that carries these messages, rather than as
    log lines apart from the error that explains what happens next.
    """
    previous = getattr(_collecting, "errors", None)
    _collecting.errors = errors = []
    try:
        yield errors
    finally:
        _collecting.errors = previous


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
        errors = getattr(_collecting, "errors", None)
        if errors is not None and level >= logging.ERROR:
            errors.append(msg)
            level = logging.DEBUG
        _py_logger.log(level, "[TRT] %s", msg)


TRT_LOGGER = _TRTLogger()
