"""Turns a finished INetworkDefinition into a serialized engine with the real builder."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from torch_tensorrt._trt import ENABLED_FEATURES, trt
from torch_tensorrt._trt_logger import collect_errors
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._builder_config import apply_builder_settings, save_timing_cache

logger = logging.getLogger("torch_tensorrt")

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


class EngineBuildError(RuntimeError):
    pass


def _progress_monitor() -> Any | None:
    """A tqdm bar fed by TensorRT's progress monitor, only when a person watches stderr."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None

    class _TqdmMonitor(trt.IProgressMonitor):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self._bars: dict[str, Any] = {}

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            self._bars[phase_name] = tqdm(total=num_steps, desc=phase_name, leave=False, file=sys.stderr)

        def step_complete(self, phase_name: str, step: int) -> bool:
            bar = self._bars.get(phase_name)
            if bar is not None:
                bar.update(1)
            return True

        def phase_finish(self, phase_name: str) -> None:
            bar = self._bars.pop(phase_name, None)
            if bar is not None:
                bar.close()

    return _TqdmMonitor()


def _compute_capability_enum(cc: str) -> Any:
    return getattr(trt.ComputeCapability, "SM" + cc.replace(".", ""))


def build_engine(
    builder: Any,
    network: Any,
    profile: Mapping[str, ShapeRange],
    settings: CompilationSettings,
) -> bytes:
    config = builder.create_builder_config()
    dynamic = {name: r for name, r in profile.items() if r[0] != r[2]}
    if dynamic:
        opt_profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in profile.items():
            opt_profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(opt_profile)
    if settings.optimization_level is not None:
        config.builder_optimization_level = settings.optimization_level
    if settings.workspace_size:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_size)
    if settings.max_aux_streams is not None:
        config.max_aux_streams = settings.max_aux_streams
    if ENABLED_FEATURES.tensorrt_rtx and settings.compute_capabilities:
        config.num_compute_capabilities = len(settings.compute_capabilities)
        for i, cc in enumerate(settings.compute_capabilities):
            config.set_compute_capability(_compute_capability_enum(cc), i)
    elif not ENABLED_FEATURES.tensorrt_rtx and settings.hardware_compatible:
        config.hardware_compatibility_level = trt.HardwareCompatibilityLevel.AMPERE_PLUS
    apply_builder_settings(config, settings)
    monitor = _progress_monitor()
    if monitor is not None:
        config.progress_monitor = monitor
    start = time.perf_counter()
    with collect_errors() as errors:
        serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        reason = "; ".join(errors) or "TensorRT gave no reason (see logger 'torch_tensorrt.tensorrt' at DEBUG)"
        raise EngineBuildError(f"TensorRT could not build the engine: {reason}")
    logger.debug("engine built in %.3f s (%d bytes)", time.perf_counter() - start, serialized.nbytes)
    save_timing_cache(config, settings)
    return bytes(serialized)
