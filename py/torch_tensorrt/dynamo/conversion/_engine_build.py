"""Turns a finished INetworkDefinition into a serialized engine with the real builder."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES, trt
from torch_tensorrt._trt_logger import collect_errors
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._builder_config import apply_builder_settings, save_timing_cache

logger = logging.getLogger("torch_tensorrt")

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


class EngineBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class WeightFlags:
    """What the weight settings ask of an engine: refittable (immutable_weights=False), and built
    without its weights (strip_engine_weights=True, which only refittable engines can be)."""

    refittable: bool
    stripped: bool

    @classmethod
    def of(cls, settings: CompilationSettings) -> WeightFlags:
        refittable = not settings.immutable_weights
        return cls(refittable, refittable and settings.strip_engine_weights)


# How to stand in for a refittable build on a machine without a GPU (TensorRT-RTX needs CUDA to build
# a refittable engine). torch_tensorrt.testing.emulated_runtime() sets it: it gets the plan built
# without the weight flags and returns the engine bytes its emulated runtime refits and runs.
RefittableStandIn = Callable[[bytes, WeightFlags], bytes]
REFITTABLE_BUILD_STAND_IN: contextvars.ContextVar[RefittableStandIn | None] = contextvars.ContextVar(
    "torch_tensorrt_refittable_build_stand_in", default=None
)


def _refittable_stand_in(flags: WeightFlags) -> RefittableStandIn | None:
    """The stand-in to use for this build, or None for a real build; refuses what cannot be built."""
    if not flags.refittable or not ENABLED_FEATURES.tensorrt_rtx or torch.cuda.is_available():
        return None
    stand_in = REFITTABLE_BUILD_STAND_IN.get()
    if stand_in is None:
        raise EngineBuildError(
            "TensorRT-RTX builds refittable engines (immutable_weights=False, strip_engine_weights=True) only "
            "on a machine with a CUDA GPU, and this one has none. Compile with immutable_weights=True (the "
            "default) and recompile to change weights, or compile on a GPU machine; "
            "torch_tensorrt.testing.emulated_runtime() stands in for refittable engines on the CPU."
        )
    return stand_in


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


def _check_weight_streaming(network: Any, settings: CompilationSettings) -> None:
    """TensorRT streams weights only of strongly typed networks (TensorRT-RTX networks always are)."""
    if not settings.enable_weight_streaming:
        return
    flag = trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED
    if hasattr(network, "get_flag") and not network.get_flag(flag):
        raise EngineBuildError(
            "enable_weight_streaming=True needs a strongly typed network (TensorRT refuses to stream the "
            "weights of a weakly typed one); this network was created without "
            "NetworkDefinitionCreationFlag.STRONGLY_TYPED. Compile with enable_weight_streaming=False, or "
            "with TensorRT-RTX, whose networks are always strongly typed."
        )


# The (min, opt, max) values of each shape-tensor input (Input(is_shape_tensor=True)), per network
# and input index: the interpreter declares them, the build puts them in every optimization profile.
# By index, so that inputs renamed after conversion keep their values.
_SHAPE_INPUT_VALUES: weakref.WeakKeyDictionary[Any, dict[int, ShapeRange]] = weakref.WeakKeyDictionary()


def declare_shape_input_values(network: Any, index: int, values: ShapeRange | None) -> None:
    """Network input ``index`` is a shape tensor whose values lie in ``values`` (None: it is not)."""
    declared = _SHAPE_INPUT_VALUES.setdefault(network, {})
    if values is None:
        declared.pop(index, None)
    else:
        declared[index] = values


def shape_input_values(network: Any) -> dict[str, ShapeRange]:
    declared = _SHAPE_INPUT_VALUES.get(network, {})
    return {network.get_input(index).name: values for index, values in declared.items()}


def _add_profiles(
    builder: Any,
    config: Any,
    envelope: Mapping[str, ShapeRange],
    profiles: Sequence[Mapping[str, ShapeRange]],
    shape_values: Mapping[str, ShapeRange],
) -> None:
    if not shape_values and len(profiles) == 1 and all(r[0] == r[2] for r in envelope.values()):
        return  # static shapes: TensorRT needs no profile
    for ranges in profiles:
        opt_profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in ranges.items():
            if name in shape_values:
                # TensorRT reads a shape tensor's values at run time: its profile bounds those values.
                opt_profile.set_shape_input(name, *shape_values[name])
            else:
                opt_profile.set_shape(name, lo, opt, hi)
        if config.add_optimization_profile(opt_profile) < 0:
            raise EngineBuildError(f"TensorRT refused optimization profile {dict(ranges)} (see the TensorRT log)")


def build_engine(
    builder: Any,
    network: Any,
    profile: Mapping[str, ShapeRange],
    settings: CompilationSettings,
    profiles: Sequence[Mapping[str, ShapeRange]] | None = None,
) -> bytes:
    """``profile``: every input's range; ``profiles``: one optimization profile each, in index order
    (None: ``profile`` alone). An engine with one static profile gets none (TensorRT needs none)."""
    flags = WeightFlags.of(settings)
    stand_in = _refittable_stand_in(flags)
    config = builder.create_builder_config()
    _add_profiles(builder, config, profile, list(profiles) if profiles else [profile], shape_input_values(network))
    _check_weight_streaming(network, settings)
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
    apply_builder_settings(config, settings, weight_flags=stand_in is None)
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
    return bytes(serialized) if stand_in is None else stand_in(bytes(serialized), flags)
