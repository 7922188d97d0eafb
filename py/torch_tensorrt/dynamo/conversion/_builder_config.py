"""Builder-configuration settings of Torch-TensorRT (flags, tiling, timing, target platform).

Each setting reaches ``IBuilderConfig`` as in Torch-TensorRT, or, where the TensorRT flavour has no
such thing (TensorRT-RTX has no lean runtime and no kernel timing), warns once saying so.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from torch_tensorrt._logging import warn_once
from torch_tensorrt._trt import ENABLED_FEATURES, trt
from torch_tensorrt.dynamo import _defaults
from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

# A timing cache larger than this is not a timing cache; it is not read.
_MAX_TIMING_CACHE_BYTES = 1 << 30


class CrossCompileError(NotImplementedError):
    """This TensorRT cannot build engines for the requested platform."""


def apply_builder_settings(config: Any, settings: CompilationSettings, *, weight_flags: bool = True) -> None:
    """Everything of ``settings`` that configures the builder, beyond shapes and memory limits.

    ``weight_flags=False``: leave out REFIT/STRIP_PLAN (the emulated runtime stands in for them where
    TensorRT-RTX cannot build refittable engines, see _engine_build).
    """
    _set_flags(config, settings)
    if weight_flags:
        _set_weight_flags(config, settings)
    _set_tiling(config, settings)
    _set_timing(config, settings)
    _set_profiling_verbosity(config)
    if settings.enable_cross_compile_for_windows:
        set_windows_target(config)


def _set_flags(config: Any, settings: CompilationSettings) -> None:
    config.engine_capability = settings.engine_capability.to(trt.EngineCapability)
    if settings.disable_tf32:
        config.clear_flag(trt.BuilderFlag.TF32)
    if settings.sparse_weights:
        config.set_flag(trt.BuilderFlag.SPARSE_WEIGHTS)
    if settings.enable_weight_streaming:
        config.set_flag(trt.BuilderFlag.WEIGHT_STREAMING)
    if not settings.version_compatible:
        return
    if ENABLED_FEATURES.tensorrt_rtx:
        warn_once(
            "rtx:version_compatible",
            "version_compatible=True has no effect on TensorRT-RTX: version-compatible engines run on "
            "TensorRT's lean runtime, which TensorRT-RTX does not have (its builder refuses the flag). "
            "The engine runs with the TensorRT-RTX version that built it. (reported once per process)",
        )
        return
    config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)
    config.set_flag(trt.BuilderFlag.EXCLUDE_LEAN_RUNTIME)


def _set_profiling_verbosity(config: Any) -> None:
    """The verbosity ``debug._state.profiling_verbosity`` names (DETAILED in a ``Debugger`` block)."""
    from torch_tensorrt.dynamo.debug._state import profiling_verbosity

    config.profiling_verbosity = getattr(trt.ProfilingVerbosity, profiling_verbosity())


def _set_weight_flags(config: Any, settings: CompilationSettings) -> None:
    """Refittable engines (immutable_weights=False) as Torch-TensorRT builds them."""
    if settings.immutable_weights:
        return  # strip/refit-identical with immutable weights were reported by the settings
    flag = trt.BuilderFlag.REFIT_IDENTICAL if settings.refit_identical_engine_weights else trt.BuilderFlag.REFIT
    config.set_flag(flag)
    if settings.strip_engine_weights:
        config.set_flag(trt.BuilderFlag.STRIP_PLAN)
        warn_once(
            "strip_engine_weights",
            "strip_engine_weights=True: the engines are built without their weights and cannot run until "
            "they are refitted with torch_tensorrt.dynamo.refit_module_weights. (reported once per process)",
        )


def _set_tiling(config: Any, settings: CompilationSettings) -> None:
    level = settings.tiling_optimization_level
    if not hasattr(config, "tiling_optimization_level"):
        if level != _defaults.TILING_OPTIMIZATION_LEVEL or settings.l2_limit_for_tiling != -1:
            warn_once(
                "tiling",
                "tiling_optimization_level / l2_limit_for_tiling have no effect: this TensorRT's builder "
                "has no tiling optimization (TensorRT 10.8+ and TensorRT-RTX do). (reported once per process)",
            )
        return
    config.tiling_optimization_level = getattr(trt.TilingOptimizationLevel, level.upper())
    if settings.l2_limit_for_tiling != -1:
        config.l2_limit_for_tiling = settings.l2_limit_for_tiling


def _set_timing(config: Any, settings: CompilationSettings) -> None:
    config.avg_timing_iterations = settings.num_avg_timing_iters
    if not ENABLED_FEATURES.tensorrt_rtx:
        _load_timing_cache(config, settings.timing_cache_path)
        return
    for name, default in (
        ("num_avg_timing_iters", _defaults.NUM_AVG_TIMING_ITERS),
        ("timing_cache_path", _defaults.TIMING_CACHE_PATH),
    ):
        if getattr(settings, name) != default:
            warn_once(
                f"rtx:{name}",
                f"{name} has no effect on TensorRT-RTX: its builder does not time kernels (kernels are "
                "chosen when the engine first runs on a GPU, see the runtime cache), so there is no timing "
                "cache and no timing iterations. (reported once per process)",
            )


def _load_timing_cache(config: Any, path: str) -> None:
    data = b""
    try:
        if os.path.isfile(path) and os.path.getsize(path) <= _MAX_TIMING_CACHE_BYTES:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as exc:
        logger.warning("timing cache %s could not be read (%s); starting an empty one", path, exc)
    config.set_timing_cache(config.create_timing_cache(data), False)


def save_timing_cache(config: Any, settings: CompilationSettings) -> None:
    """After a build with standard TensorRT: write the (grown) timing cache, atomically."""
    if ENABLED_FEATURES.tensorrt_rtx:
        return
    cache = config.get_timing_cache()
    if cache is None:
        return
    path = settings.timing_cache_path
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".timing_cache.")
        with os.fdopen(fd, "wb") as f:
            f.write(memoryview(cache.serialize()))
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("timing cache %s could not be written: %s", path, exc)


def set_windows_target(config: Any) -> None:
    """Build for Windows x86-64; refused with the reason where this TensorRT cannot."""
    windows = getattr(getattr(trt, "RuntimePlatform", None), "WINDOWS_AMD64", None)
    if windows is not None:
        config.runtime_platform = windows
    if windows is None or config.runtime_platform != windows:
        flavour = "TensorRT-RTX" if ENABLED_FEATURES.tensorrt_rtx else "TensorRT"
        raise CrossCompileError(
            f"{flavour} {getattr(trt, '__version__', '')} cannot build engines for Windows on this machine: its "
            "builder refuses runtime_platform=WINDOWS_AMD64 (TensorRT-RTX 1.7 builds for the platform it "
            "runs on only). Compile on Windows instead."
        )
