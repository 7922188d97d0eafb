"""Builds the EngineInfo of a freshly converted segment."""

from __future__ import annotations

from typing import Any

from torch_tensorrt.dynamo._op_targets import resolve_op
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
from torch_tensorrt.dynamo.runtime._shape_expr import to_expr, validate
from torch_tensorrt.dynamo.runtime._stripped_weights import WEIGHTS_STRIPPED_FLAG


def _dims(symbolic: tuple[Any, ...]) -> tuple[int | str, ...]:
    """A binding's dims as engine metadata stores them: ints and shape expressions. A string is an
    expression already (a binding read back from the engine cache): it is checked and kept."""
    return tuple(_dim(d) for d in symbolic)


def _dim(d: Any) -> int | str:
    if isinstance(d, str):
        validate(d)
        return d
    return int(d) if isinstance(d, int) or getattr(d, "is_number", False) else to_expr(d)


def _op_names(ops: Any) -> tuple[str, ...]:
    """torch_executed_ops as names that resolve back to the same operators (resolve_op)."""
    return tuple(sorted({str(resolve_op(entry)) for entry in ops}))  # "aten.relu", "aten.add.Tensor"


def engine_settings(settings: CompilationSettings) -> EngineSettings:
    """What the metadata records of the compile settings (see EngineSettings)."""
    return EngineSettings(
        optimization_level=settings.optimization_level if settings.optimization_level is not None else 3,
        truncate_double=settings.truncate_double,
        hardware_compatible=settings.hardware_compatible,
        immutable_weights=settings.immutable_weights,
        enabled_precisions=tuple(sorted(dtype_name(p) for p in settings.enabled_precisions)),
        compute_capabilities=settings.compute_capabilities,
        min_block_size=settings.min_block_size,
        require_full_compilation=settings.require_full_compilation,
        torch_executed_ops=_op_names(settings.torch_executed_ops),
        use_fp32_acc=settings.use_fp32_acc,
        assume_dynamic_shape_support=settings.assume_dynamic_shape_support,
        decompose_attention=settings.decompose_attention,
        enable_resource_partitioning=settings.enable_resource_partitioning,
        cpu_memory_budget=settings.cpu_memory_budget,
        enable_autocast=settings.enable_autocast,
    )


def engine_info_for_segment(converted: Any, settings: CompilationSettings) -> EngineInfo:
    inputs = tuple(
        InputSpec(
            name=b.name,
            dtype=dtype_name(b.dtype),
            shape=_dims(b.symbolic_shape),
            min_shape=b.shape_range[0],
            opt_shape=b.shape_range[1],
            max_shape=b.shape_range[2],
            shape_values=b.shape_values,
        )
        for b in converted.inputs
    )
    outputs = tuple(
        OutputSpec(name=b.name, dtype=dtype_name(b.dtype), shape=_dims(b.symbolic_shape)) for b in converted.outputs
    )
    metadata = EngineMetadata(
        inputs=inputs,
        outputs=outputs,
        settings=engine_settings(settings),
        flags={WEIGHTS_STRIPPED_FLAG: True} if not settings.immutable_weights and settings.strip_engine_weights else {},
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


__all__ = ["WEIGHTS_STRIPPED_FLAG", "engine_info_for_segment", "engine_settings"]
