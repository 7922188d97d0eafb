"""Torch-TensorRT's per-module ``enable_profiling`` / ``disable_profiling`` (a TorchTensorRTModule mixin).

A module's engine may run on either runtime, chosen per call (``TorchTensorRTModule.runs_in_cpp``: the C++
runtime when it can run engines, which ``emulated_runtime()`` blocks change), so the request is applied
to the module's engine on both: the Python ``TRTEngine`` and, when the C++ runtime is loaded, the C++
engine of its engine tensor. Neither is deserialized by this. Like the other runtime controls, nothing
here is saved with the module.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo.runtime._engine_profiling import check_profile_format


class ProfilingMethods:
    # TorchTensorRTModule's
    name: str
    python_engine: Any
    serialized_engine: Any
    engine_info: list[str]
    engine: Any

    if TYPE_CHECKING:

        def runs_in_cpp(self) -> bool: ...

    def enable_profiling(self, profiling_results_dir: str | None = None, profile_format: str = "perfetto") -> None:
        """Profile every later run of this module's engine: per-layer times (TensorRT's IProfiler), summed
        over runs and written after each run to ``<profiling_results_dir>/<engine name>_engine_execution_profile.trace``
        (default directory: the system temporary directory) in the ``"perfetto"`` or ``"trex"`` layout.
        ``"cudagraph"`` writes the perfetto layout and, on the Python runtime, the DOT of each torch CUDA
        graph the engine records. Calling it again starts a new profile."""
        check_profile_format(profile_format)
        if profiling_results_dir is not None:
            if not isinstance(profiling_results_dir, (str, os.PathLike)) or not os.fspath(profiling_results_dir):
                raise ValueError(f"profiling_results_dir must name a directory, got {profiling_results_dir!r}")
            profiling_results_dir = os.fspath(profiling_results_dir)
            os.makedirs(profiling_results_dir, exist_ok=True)
        if profile_format == "cudagraph" and self.runs_in_cpp():
            warn_once(
                "enable_profiling:cudagraph:cpp",
                "enable_profiling(profile_format='cudagraph') on the C++ runtime writes the per-layer profile in the "
                "perfetto layout but no CUDA graph DOT file: only the Python runtime dumps the graphs it records "
                "(use_python_runtime=True). (reported once per process)",
                stacklevel=2,
            )
        for engine in self._engines_on_both_runtimes():
            if profiling_results_dir is not None:
                engine.profile_path_prefix = profiling_results_dir
            engine.set_profile_format(profile_format)
            engine.enable_profiling()

    def disable_profiling(self) -> None:
        """Stop profiling (the engine's next call runs on a new execution context without a profiler)."""
        for engine in self._engines_on_both_runtimes():
            engine.disable_profiling()

    @property
    def profiling_enabled(self) -> bool:
        """Whether the engine on the runtime that runs this module profiles its runs."""
        return bool(self.engine.profiling_enabled)

    def _engines_on_both_runtimes(self) -> list[Any]:
        from torch_tensorrt.dynamo.runtime._cpp_engine import cpp_engine_for, cpp_runtime_loaded

        engines = [self.python_engine]
        if cpp_runtime_loaded():
            engines.append(cpp_engine_for(self.serialized_engine, self.engine_info))
        return engines
