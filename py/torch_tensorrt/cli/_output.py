"""How the command line talks: progress lines on stderr, results on stdout (text or one JSON object)."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any


class Progress:
    """``[  3.2 s] building engine 1/2 (_run_on_acc_0)...`` on stderr; silent with --json, whose stdout
    is one JSON document and whose stderr should carry only real problems."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.enabled:
            sys.stderr.write(f"[{time.monotonic() - self.start:6.1f} s] {message}...\n")
            sys.stderr.flush()

    @contextlib.contextmanager
    def library_steps(self) -> Iterator[None]:
        """Show the library's progress records (torch_tensorrt.progress: one per engine build)."""
        if not self.enabled:
            yield
            return
        handler = _ProgressHandler(self)
        logger = logging.getLogger("torch_tensorrt.progress")
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)


class _ProgressHandler(logging.Handler):
    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress(record.getMessage())


def print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


def human_age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
