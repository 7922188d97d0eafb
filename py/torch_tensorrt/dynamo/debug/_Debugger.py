"""``Debugger``: verbose logging to the console and a log file, and lowering graphs, for a block.

    with torch_tensorrt.dynamo.Debugger("debug", logging_dir="/tmp/trt_debug",
                                        capture_fx_graph_after=["remove_noop_ops"]):
        trt_model = torch_tensorrt.compile(model, inputs=[x])

While a block is open, engines are built with ``ProfilingVerbosity.DETAILED`` (as in Torch-TensorRT),
and with ``save_layer_info=True`` each engine built in the block has its layer information written to
``logging_dir`` (see ``_layer_info``). With ``save_engine_profile=True`` the engines compiled in the block
profile their runs on either runtime, writing per-layer traces in ``profile_format`` to
``logging_dir/engine_visualization_profile`` (see ``_engine_profile``).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from torch_tensorrt import logging as trt_logging
from torch_tensorrt._logging import LIBRARY_LOGGER, DefaultStderrHandler, _user_handler_receives, warn_once
from torch_tensorrt.dynamo import _defaults
from torch_tensorrt.dynamo.debug import _state

_LEVELS = {
    "debug": trt_logging.debug,
    "info": trt_logging.info,
    "warning": trt_logging.warnings,
    "error": trt_logging.errors,
    "internal_errors": trt_logging.internal_errors,
    "graphs": trt_logging.graphs,
}
_PROFILE_FORMATS = ("perfetto", "trex", "cudagraph")
LOG_FILE_NAME = "torch_tensorrt_logging.log"


@dataclass
class DebuggerConfig:
    log_level: str = "debug"
    save_engine_profile: bool = False
    capture_tensorrt_api_recording: bool = False
    engine_builder_monitor: bool = True
    logging_dir: str = _defaults.DEBUG_LOGGING_DIR
    profile_format: str = "perfetto"
    save_layer_info: bool = False


class Debugger:
    """Context manager: the library logs at ``log_level`` to stderr and ``logging_dir``'s log file."""

    def __init__(
        self,
        log_level: str = "debug",
        capture_fx_graph_before: list[str] | None = None,
        capture_fx_graph_after: list[str] | None = None,
        save_engine_profile: bool = False,
        profile_format: str = "perfetto",
        engine_builder_monitor: bool = True,
        logging_dir: str = _defaults.DEBUG_LOGGING_DIR,
        save_layer_info: bool = False,
    ) -> None:
        if log_level not in _LEVELS:
            raise ValueError(f"Invalid level: {log_level}, allowed levels are: {', '.join(_LEVELS)}")
        if profile_format not in _PROFILE_FORMATS:
            raise ValueError(f"profile_format must be one of {_PROFILE_FORMATS}, got {profile_format!r}")
        self.cfg = DebuggerConfig(
            log_level=log_level,
            save_engine_profile=save_engine_profile,
            engine_builder_monitor=engine_builder_monitor,
            logging_dir=logging_dir,
            profile_format=profile_format,
            save_layer_info=save_layer_info,
        )
        self.capture_fx_graph_before = list(capture_fx_graph_before or [])
        self.capture_fx_graph_after = list(capture_fx_graph_after or [])
        _warn_unavailable(self.cfg)
        self._handlers: list[logging.Handler] = []
        self._level_block: Any = None
        self._saved_passes: list[Any] | None = None
        self._build_observer: Any = None

    @property
    def log_file(self) -> str:
        return os.path.join(self.cfg.logging_dir, LOG_FILE_NAME)

    def __enter__(self) -> None:
        os.makedirs(self.cfg.logging_dir, exist_ok=True)
        logger = logging.getLogger(LIBRARY_LOGGER)
        fallback = next((h for h in logger.handlers if isinstance(h, DefaultStderrHandler)), None)
        # The log file is another handler, which would silence the stderr fallback: keep the console.
        console_wanted = fallback is not None and not _user_handler_receives(LIBRARY_LOGGER, fallback)
        file_handler = logging.FileHandler(self.log_file, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
        self._handlers = [file_handler]
        if console_wanted:
            console = logging.StreamHandler(sys.stderr)
            console.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
            self._handlers.append(console)
        for handler in self._handlers:
            logger.addHandler(handler)
        self._level_block = _LEVELS[self.cfg.log_level]()
        self._level_block.__enter__()
        self._capture_graphs()
        _state.push(self.cfg)
        if self.cfg.save_layer_info:
            self._observe_builds()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS
        from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES

        _state.pop(self.cfg)
        if self._build_observer is not None:
            NETWORK_BUILD_OBSERVERS.remove(self._build_observer)
            self._build_observer = None
        if self._saved_passes is not None:
            LOWERING_PASSES[:] = self._saved_passes
            self._saved_passes = None
        if self._level_block is not None:
            self._level_block.__exit__(exc_type, exc, tb)
        logger = logging.getLogger(LIBRARY_LOGGER)
        for handler in self._handlers:
            logger.removeHandler(handler)
            handler.close()
        self._handlers = []

    def _observe_builds(self) -> None:
        """Write the layer information of every engine built (or taken from the engine cache) in the block."""
        from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS, NetworkBuilt
        from torch_tensorrt.dynamo.debug._layer_info import write_layer_information

        logging_dir = self.cfg.logging_dir

        def observe(event: NetworkBuilt) -> None:
            write_layer_information(logging_dir, event.engine, event.name)

        self._build_observer = observe
        NETWORK_BUILD_OBSERVERS.append(observe)

    def _capture_graphs(self) -> None:
        """Write the graph before/after each named lowering pass to ``logging_dir``."""
        if not (self.capture_fx_graph_before or self.capture_fx_graph_after):
            return
        from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES

        names = [p.__name__ for p in LOWERING_PASSES]
        unknown = sorted(set(self.capture_fx_graph_before + self.capture_fx_graph_after) - set(names))
        if unknown:
            warn_once(
                f"Debugger.capture:{unknown}",
                f"Debugger: no lowering pass is named {unknown}; the passes here are {names}",
                stacklevel=3,
            )
        self._saved_passes = list(LOWERING_PASSES)
        directory = os.path.join(self.cfg.logging_dir, "lowering_passes_visualization")
        os.makedirs(directory, exist_ok=True)
        LOWERING_PASSES[:] = [
            _capturing(
                p, directory, p.__name__ in self.capture_fx_graph_before, p.__name__ in self.capture_fx_graph_after
            )
            for p in self._saved_passes
        ]


def _capturing(graph_pass: Any, directory: str, before: bool, after: bool) -> Any:
    if not (before or after):
        return graph_pass

    def run(graph: Any, settings: Any) -> None:
        if before:
            _write_graph(directory, f"before_{graph_pass.__name__}", graph)
        graph_pass(graph, settings)
        if after:
            _write_graph(directory, f"after_{graph_pass.__name__}", graph)

    run.__name__ = graph_pass.__name__
    return run


def _write_graph(directory: str, stem: str, graph: Any) -> None:
    with open(os.path.join(directory, stem + ".txt"), "w", encoding="utf-8") as f:
        f.write(str(graph))


def _warn_unavailable(cfg: DebuggerConfig) -> None:
    if not cfg.engine_builder_monitor:
        warn_once(
            "Debugger.engine_builder_monitor=False",
            "Debugger(engine_builder_monitor=False) has no effect: the engine build shows its progress bar "
            "whenever stderr is a terminal. (reported once per process)",
            stacklevel=3,
        )
