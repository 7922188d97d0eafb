"""How the library's messages reach users: logging with a stderr fallback, and one-time warnings.

A library normally installs only a ``NullHandler``, which silences its warnings until the
application configures logging: a failed engine build then went unnoticed. The ``torch_tensorrt``
logger instead carries :class:`DefaultStderrHandler`, which prints WARNING and above to stderr
only while no other handler would receive the record. An application that configures logging
(``logging.basicConfig``, a handler on the root or on a ``torch_tensorrt`` logger) gets each
record once, through its own handlers.
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings

LIBRARY_LOGGER = "torch_tensorrt"


class DefaultStderrHandler(logging.Handler):
    """Writes WARNING+ records to the current ``sys.stderr`` when the user configured no handler."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _user_handler_receives(record.name, self):
            return
        try:
            # sys.stderr is looked up per record so redirections (and pytest's capsys) apply.
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _user_handler_receives(name: str, own: logging.Handler) -> bool:
    """Whether a handler other than ``own`` (and null handlers) sees records of logger ``name``."""
    current: logging.Logger | None = logging.getLogger(name)
    while current is not None:
        if any(h is not own and not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def install_default_handler() -> None:
    """Give the library logger its stderr fallback once (re-imports must not add a second one)."""
    logger = logging.getLogger(LIBRARY_LOGGER)
    if not any(isinstance(h, DefaultStderrHandler) for h in logger.handlers):
        logger.addHandler(DefaultStderrHandler())


_WARNED: set[str] = set()
_WARNED_LOCK = threading.Lock()


def warn_once(key: str, message: str, *, stacklevel: int = 2) -> bool:
    """Issue ``message`` as a UserWarning the first time ``key`` is seen in this process.

    Returns whether it was issued. ``warnings`` (not logging) is used because these are about the
    caller's arguments: Python shows them without any setup and points at the caller's line.
    """
    with _WARNED_LOCK:
        if key in _WARNED:
            return False
        _WARNED.add(key)
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
    return True


def reset_warnings() -> None:
    """Forget which one-time warnings were issued (tests)."""
    with _WARNED_LOCK:
        _WARNED.clear()
