"""``torch_tensorrt.logging``: how much the library (and TensorRT) reports, as in Torch-TensorRT.

Every message of this package goes to the ``torch_tensorrt`` logger (TensorRT's own messages to its
child ``torch_tensorrt.tensorrt``). The context managers set that logger's level for a block and
restore it afterwards, together with the C++ runtime's TensorRT logger when that runtime is loaded::

    with torch_tensorrt.logging.debug():
        trt_model = torch_tensorrt.compile(model, inputs=[x])

With no logging configured by the application, WARNING and above reach stderr through the library's
fallback handler (``_logging.DefaultStderrHandler``); inside one of these blocks that fallback shows
the block's level too, so ``debug()`` prints debug messages without any setup.
"""

from __future__ import annotations

import logging as _std_logging
from enum import IntEnum
from types import TracebackType
from typing import Any

from torch_tensorrt._logging import LIBRARY_LOGGER, DefaultStderrHandler

_GRAPH = 5  # below DEBUG: lowering graphs (Torch-TensorRT's "graphs" level)
_std_logging.addLevelName(_GRAPH, "GRAPHS")


class Level(IntEnum):
    """Reportable levels, most to least severe; values are Python ``logging`` levels."""

    InternalError = _std_logging.CRITICAL
    Error = _std_logging.ERROR
    Warning = _std_logging.WARNING
    Info = _std_logging.INFO
    Debug = _std_logging.DEBUG
    Graph = _GRAPH


# TensorRT's ILogger severities, as the C++ runtime's set_logging_level op numbers them (Graph = 5).
_CPP_SEVERITY = {
    Level.InternalError: 0,
    Level.Error: 1,
    Level.Warning: 2,
    Level.Info: 3,
    Level.Debug: 4,
    Level.Graph: 5,
}


def _library_logger() -> _std_logging.Logger:
    return _std_logging.getLogger(LIBRARY_LOGGER)


def _fallback_handlers() -> list[DefaultStderrHandler]:
    return [h for h in _library_logger().handlers if isinstance(h, DefaultStderrHandler)]


def _cpp_logging_ops() -> Any | None:
    """``torch.ops.tensorrt`` when the C++ runtime (which keeps its own TensorRT logger) is loaded."""
    from torch_tensorrt._trt import ENABLED_FEATURES

    if not ENABLED_FEATURES.torch_tensorrt_runtime:
        return None
    import torch

    ops = torch.ops.tensorrt
    return ops if hasattr(ops, "set_logging_level") and hasattr(ops, "get_logging_level") else None


def _as_level(level: int | Level) -> Level:
    if int(level) == _std_logging.NOTSET:
        return Level.Graph  # Torch-TensorRT's set_level(logging.NOTSET): the most verbose level
    try:
        return Level(int(level))
    except ValueError:
        valid = ", ".join(f"{m.name} ({m.value})" for m in Level)
        raise ValueError(f"unknown logging level {level!r}; use one of {valid}") from None


def get_level() -> Level:
    """The ``torch_tensorrt`` logger's effective level."""
    effective = _library_logger().getEffectiveLevel()
    return max((m for m in Level if m <= effective), default=Level.Graph)


def set_level(level: int | Level, logger: _std_logging.Logger | None = None) -> None:
    """Set the level until changed again: of ``logger`` (default: the ``torch_tensorrt`` logger),
    of the fallback stderr handler, and of the C++ runtime's TensorRT logger when it is loaded."""
    lvl = _as_level(level)
    target = logger if logger is not None else _library_logger()
    target.setLevel(int(lvl))
    if logger is None:
        for handler in _fallback_handlers():
            # The fallback prints WARNING+ by default; a lower library level is asked-for output.
            handler.setLevel(min(int(lvl), _std_logging.WARNING))
        ops = _cpp_logging_ops()
        if ops is not None:
            ops.set_logging_level(_CPP_SEVERITY[lvl])


class _LevelBlock:
    """Sets the reportable level on entry; restores logger, fallback handler and C++ level on exit."""

    level: Level

    def __enter__(self) -> None:
        logger = _library_logger()
        self._saved_level = logger.level
        self._saved_handlers = [(h, h.level) for h in _fallback_handlers()]
        ops = _cpp_logging_ops()
        self._saved_cpp = int(ops.get_logging_level()) if ops is not None else None
        set_level(self.level)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _library_logger().setLevel(self._saved_level)
        for handler, level in self._saved_handlers:
            handler.setLevel(level)
        ops = _cpp_logging_ops()
        if ops is not None and self._saved_cpp is not None:
            ops.set_logging_level(self._saved_cpp)


class internal_errors(_LevelBlock):  # noqa: N801 - Torch-TensorRT's names
    """Report only internal errors inside the block."""

    level = Level.InternalError


class errors(_LevelBlock):  # noqa: N801
    """Report errors and worse inside the block."""

    level = Level.Error


class warnings(_LevelBlock):  # noqa: N801
    """Report warnings and worse inside the block."""

    level = Level.Warning


class info(_LevelBlock):  # noqa: N801
    """Report informational messages and worse inside the block."""

    level = Level.Info


class debug(_LevelBlock):  # noqa: N801
    """Report debug messages (including TensorRT's verbose ones) inside the block."""

    level = Level.Debug


class graphs(_LevelBlock):  # noqa: N801
    """Report everything, including intermediate graphs, inside the block."""

    level = Level.Graph


def __getattr__(name: str) -> Any:
    # TensorRT's logger is made on first use: importing this module must not import TensorRT.
    if name == "TRT_LOGGER":
        from torch_tensorrt._trt_logger import TRT_LOGGER

        return TRT_LOGGER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Level",
    "debug",
    "errors",
    "get_level",
    "graphs",
    "info",
    "internal_errors",
    "set_level",
    "warnings",
]
