"""Per-layer engine profiles: Torch-TensorRT's ``enable_profiling`` on the Python engine.

TensorRT reports each layer's execution time to the ``IProfiler`` attached to an execution context, once
per layer and run. A profiling engine sums them per layer (in the order layers first reported, which is
TensorRT's execution order) and, after every run, writes the sums to
``<profile_path_prefix>/<engine name>_engine_execution_profile.trace`` (the file Torch-TensorRT's C++
runtime writes), in one of two JSON layouts:

- ``"perfetto"``: Chrome trace events (``ph: "X"``, microseconds), one per layer, laid end to end, which
  Perfetto and chrome://tracing open;
- ``"trex"``: one object per layer with ``timeMs``, ``averageMs`` and ``percentage``, as TensorRT's TREx
  reads them next to the engine's layer information.

``"cudagraph"`` writes the per-layer profile in the perfetto layout and, on the Python runtime, the DOT of
each torch CUDA graph the engine records (``<engine name>_cudagraph.dot``; a GPU is needed to record one).

The C++ engine writes the same file with the same content (core/runtime/EngineProfiler.cpp); the parity
test runs one table of records through both writers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from torch_tensorrt._logging import warn_once

logger = logging.getLogger("torch_tensorrt")

PROFILE_FORMATS = ("perfetto", "trex", "cudagraph")
TRACE_SUFFIX = "_engine_execution_profile.trace"
CUDAGRAPH_SUFFIX = "_cudagraph.dot"


def check_profile_format(profile_format: str) -> str:
    if profile_format not in PROFILE_FORMATS:
        raise ValueError(f"profile_format must be one of {PROFILE_FORMATS}, got {profile_format!r}")
    return profile_format


def trace_file(prefix: str, engine_name: str) -> str:
    return os.path.join(prefix, engine_name + TRACE_SUFFIX)


class LayerTimes:
    """The receiver handed to execution contexts: per-layer totals (milliseconds, runs) in report order.

    TensorRT calls it from inside the enqueue, which the engine's lock serializes; the own lock covers
    readers in other threads (``records``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, list[Any]] = {}  # layer -> [total ms, runs]; dicts keep first-report order

    def report_layer_time(self, layer_name: str, ms: float) -> None:
        with self._lock:
            total = self._totals.setdefault(str(layer_name), [0.0, 0])
            total[0] += float(ms)
            total[1] += 1

    def records(self) -> list[tuple[str, float, int]]:
        """(layer name, total milliseconds, runs) per layer, in the order the layers first reported."""
        with self._lock:
            return [(name, ms, runs) for name, (ms, runs) in self._totals.items()]


def trace_json(engine_name: str, profile_format: str, records: list[tuple[str, float, int]]) -> str:
    """The trace file's text for ``records`` (see the module docstring)."""
    check_profile_format(profile_format)
    events: list[dict[str, Any]] = []
    if profile_format == "trex":
        total = sum(ms for _, ms, _ in records)
        for name, ms, runs in records:
            events.append(
                {
                    "name": name,
                    "timeMs": ms,
                    "averageMs": ms / runs if runs else 0.0,
                    "percentage": ms * 100.0 / total if total > 0 else 0.0,
                }
            )
    else:
        start_us = 0.0
        for name, ms, runs in records:
            events.append(
                {
                    "name": name,
                    "ph": "X",
                    "ts": start_us,
                    "dur": ms * 1000.0,
                    "tid": 1,
                    "pid": f"{engine_name} Engine Execution",
                    "args": {"runs": runs},
                }
            )
            start_us += ms * 1000.0
    return json.dumps(events, indent=2) + "\n"


def write_text_atomically(path: str, text: str) -> None:
    """Readers (a viewer polling the file) never see half a trace: write a temporary file, then replace."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profile-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class EngineProfiling:
    """A TRTEngine base class: ``enable_profiling`` / ``disable_profiling`` and the trace after each run.

    The receiver is attached to every execution context the engine creates while profiling is on
    (``_attach_profiler``); turning profiling off drops the context, as Torch-TensorRT does, so the next
    call runs on one without a profiler. Runs that take the per-call fast path are never profiled: the
    fast path is not built while profiling is on (``_engine_fast_path.fast_runner``).
    """

    _lock: Any
    _plan: Any
    _context: Any
    name: str
    _layer_times: LayerTimes | None = None
    profile_format: str = "perfetto"
    # As in Torch-TensorRT: the system temporary directory unless enable_profiling was given one.
    _profile_path_prefix: str | None = None

    @property
    def profile_path_prefix(self) -> str:
        return self._profile_path_prefix or tempfile.gettempdir()

    @profile_path_prefix.setter
    def profile_path_prefix(self, prefix: str | os.PathLike[str]) -> None:
        if not isinstance(prefix, (str, os.PathLike)) or not os.fspath(prefix):
            raise ValueError(f"profile_path_prefix must name a directory, got {prefix!r}")
        self._profile_path_prefix = os.fspath(prefix)

    @property
    def profiling_enabled(self) -> bool:
        return self._layer_times is not None

    def enable_profiling(self) -> None:
        """Attach a per-layer profiler to this engine's execution contexts (starting a new profile)."""
        with self._lock:
            self._layer_times = LayerTimes()
            self._plan = None  # drops the fast path, which would run unprofiled
            self._fast = None
            if self._context is not None:
                self._attach_profiler(self._context)

    def set_profile_format(self, profile_format: str) -> None:
        self.profile_format = check_profile_format(profile_format)

    def disable_profiling(self) -> None:
        with self._lock:
            self._layer_times = None
            self._drop_context()

    def layer_profile(self) -> list[tuple[str, float, int]]:
        """The profile so far: (layer, total milliseconds, runs) per layer; empty when not profiling."""
        times = self._layer_times
        return [] if times is None else times.records()

    @property
    def profile_trace_path(self) -> str:
        return trace_file(self.profile_path_prefix, self.name)

    def _attach_profiler(self, context: Any) -> None:
        times = self._layer_times
        if times is None:
            return
        attach = getattr(context, "set_profiler", None)
        if attach is None or not attach(times):
            warn_once(
                f"profiling:{type(context).__name__}",
                f"engine {self.name!r}: profiling is enabled but this runtime backend's execution contexts "
                "cannot report per-layer times, so its profile stays empty. (reported once per process)",
                stacklevel=4,
            )

    def _write_profile(self, captured: bool) -> None:
        """After a profiled run: the trace file with the sums so far."""
        times = self._layer_times
        if times is None:
            return
        if captured:
            warn_once(
                f"profiling:captured:{self.name}",
                f"engine {self.name!r} ran from a CUDA graph while profiling: TensorRT reports per-layer times "
                "only for runs it executes directly, so graph replays add nothing to the profile. "
                "(reported once per engine)",
                stacklevel=4,
            )
        records = times.records()
        fmt = "perfetto" if self.profile_format == "cudagraph" else self.profile_format
        path = self.profile_trace_path
        write_text_atomically(path, trace_json(self.name, fmt, records))
        logger.debug("per-layer profile of engine %s (%d layers) written to %s", self.name, len(records), path)

    if TYPE_CHECKING:
        _fast: Any

        def _drop_context(self) -> None: ...
