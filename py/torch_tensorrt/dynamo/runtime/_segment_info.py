"""Builds the EngineInfo of a freshly converted segment."""

from __future__ import annotations

from typing import Any

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.runtime._engine_info import (
    EngineInfo,
    EngineMetadata,
    EngineSettings,
    InputSpec,
    OutputSpec,
    current_platform,
    dtype_name,
)
from torch_tensorrt.dynamo.runtime._shape_expr import to_expr


def _dims(symbolic: tuple[Any, ...]) -> tuple[int | str, ...]:
    return tuple(int(d) if isinstance(d, int) or getattr(d, "is_number", False) else to_expr(d) for d in symbolic)


def engine_info_for_segment(converted: Any, settings: CompilationSettings) -> EngineInfo:
    inputs = tuple(
        InputSpec(
            name=b.name,
            dtype=dtype_name(b.dtype),
            shape=_dims(b.symbolic_shape),
            min_shape=b.shape_range[0],
            opt_shape=b.shape_range[1],
            max_shape=b.shape_range[2],
        )
        for b in converted.inputs
    )
    outputs = tuple(OutputSpec(name=b.name, dtype=dtype_name(b.dtype), shape=_dims(b.symbolic_shape)) for b in converted.outputs)
    metadata = EngineMetadata(
        inputs=inputs,
        outputs=outputs,
        settings=EngineSettings(
            optimization_level=settings.optimization_level if settings.optimization_level is not None else 3,
            truncate_double=settings.truncate_double,
            hardware_compatible=settings.hardware_compatible,
            enabled_precisions=tuple(sorted(dtype_name(p) for p in settings.enabled_precisions)),
            compute_capabilities=settings.compute_capabilities,
        ),
    )
    return EngineInfo(
        name=converted.name,
        gpu_id=settings.device.gpu_id,
        compute_capabilities=settings.compute_capabilities,
        engine=converted.engine,
        input_names=tuple(b.name for b in converted.inputs),
        output_names=tuple(b.name for b in converted.outputs),
        hardware_compatible=settings.hardware_compatible,
        metadata=metadata,
        # Recorded so that loading refuses the engine on any other platform (cross_compile_for_windows).
        target_platform="windows_x86_64" if settings.enable_cross_compile_for_windows else current_platform(),
        resource_allocation_strategy="dynamic" if settings.dynamically_allocate_resources else "static",
    )


__all__ = ["engine_info_for_segment"]
