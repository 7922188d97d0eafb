"""The EngineInfo of an engine handed over as Torch-TensorRT hands it to ``TorchTensorRTModule``:
``TorchTensorRTModule(serialized_engine=..., input_binding_names=..., output_binding_names=...,
name=..., settings=..., requires_output_allocator=...)``.

Such an engine comes with its binding names only, so its metadata records no binding shapes or
dtypes: the runtimes then take them from the engine itself (and skip the up-front input checks
that need them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, current_platform
from torch_tensorrt.dynamo.runtime._segment_info import engine_settings


def _warn_unused(weight_name_map: Any, symbolic_shape_expressions: Any) -> None:
    if weight_name_map is not None:
        warn_once(
            "torchtrt-module-weight-name-map",
            "TorchTensorRTModule(weight_name_map=...) is not used: refit_module_weights finds each engine weight "
            "by the name the converters gave it. (reported once per process)",
            stacklevel=4,
        )
    if symbolic_shape_expressions is not None:
        warn_once(
            "torchtrt-module-symbolic-shapes",
            "TorchTensorRTModule(symbolic_shape_expressions=...) is not used: the runtimes take output shapes "
            "from the engine. (reported once per process)",
            stacklevel=4,
        )


def engine_info_from_parts(
    serialized_engine: bytes | bytearray,
    input_binding_names: Sequence[str] | None,
    output_binding_names: Sequence[str] | None,
    *,
    name: str = "",
    settings: CompilationSettings | None = None,
    requires_output_allocator: bool = False,
    weight_name_map: Any = None,
    symbolic_shape_expressions: Any = None,
) -> EngineInfo:
    """An EngineInfo for a bare serialized engine and its binding names."""
    if not isinstance(serialized_engine, (bytes, bytearray)) or not serialized_engine:
        raise TypeError(
            f"TorchTensorRTModule: serialized_engine must be the non-empty bytes of a built engine, got "
            f"{type(serialized_engine).__name__}"
        )
    if not output_binding_names:
        raise ValueError("TorchTensorRTModule: output_binding_names must name the engine's outputs (at least one)")
    _warn_unused(weight_name_map, symbolic_shape_expressions)
    settings = settings if settings is not None else CompilationSettings()
    return EngineInfo(
        name=name or "tensorrt_engine",
        gpu_id=settings.device.gpu_id,
        compute_capabilities=settings.compute_capabilities,
        engine=bytes(serialized_engine),
        input_names=tuple(input_binding_names or ()),
        output_names=tuple(output_binding_names),
        hardware_compatible=settings.hardware_compatible,
        metadata=EngineMetadata(settings=engine_settings(settings)),
        target_platform="windows_x86_64" if settings.enable_cross_compile_for_windows else current_platform(),
        requires_output_allocator=bool(requires_output_allocator),
        resource_allocation_strategy="dynamic" if settings.dynamically_allocate_resources else "static",
    )


__all__ = ["engine_info_from_parts"]
