"""Compile entry points beyond ``compile``: a program as one serialized engine, and Windows targets.

``convert_exported_program_to_serialized_trt_engine`` works without a GPU: TensorRT-RTX builds
ahead of time. ``cross_compile_for_windows`` needs a builder that targets Windows; TensorRT-RTX 1.7
refuses to (``ENABLED_FEATURES.windows_cross_compile`` says whether this one does).
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._signatures import with_settings_signature

_ISSUE = "issue 19 of this project"


def convert_exported_program_to_serialized_trt_engine(
    exported_program: torch.export.ExportedProgram,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    lift_mutable_buffers: bool = False,
    arg_input_binding_names: Any = None,
    kwarg_input_binding_names: Any = None,
    output_binding_names: Any = None,
    **kwargs: Any,
) -> bytes:
    """The whole program as one serialized TensorRT engine (plan bytes).

    Every op must convert (``require_full_compilation`` is implied) and the program must become a
    single engine; build failures raise. Settings are those of :func:`torch_tensorrt.dynamo.compile`.

    The engine's I/O tensors are named after the graph's inputs and ``output0``, ``output1``, ... unless
    ``arg_input_binding_names`` / ``kwarg_input_binding_names`` (pytrees of str shaped like the
    program's positional / keyword inputs) and ``output_binding_names`` (shaped like what ``forward``
    returns) name them; names that do not fit the program raise ``BindingNameError`` (a ValueError).
    """
    if lift_mutable_buffers:
        raise NotImplementedError(
            f"lift_mutable_buffers=True is not implemented yet ({_ISSUE}): it makes mutated buffers engine "
            "inputs written in place through aliased I/O, which TensorRT-RTX offers only through its KV-cache "
            "update layer (no converter here yet). Export the model without buffer mutation, or pass the "
            "buffer as an input and return its new value."
        )
    from torch_tensorrt.dynamo import _compiler
    from torch_tensorrt.dynamo._binding_names import REQUESTED_BINDING_NAMES, resolve_binding_names
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    requested = resolve_binding_names(
        exported_program, arg_input_binding_names, kwarg_input_binding_names, output_binding_names
    )
    kwargs.update(require_full_compilation=True, pass_through_build_failures=True)
    kwargs.setdefault("min_block_size", 1)
    token = REQUESTED_BINDING_NAMES.set(requested)
    try:
        compiled = _compiler.compile(
            exported_program, inputs, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs, **kwargs
        )
    finally:
        REQUESTED_BINDING_NAMES.reset(token)
    engines = [m for m in compiled.modules() if isinstance(m, TorchTensorRTModule)]
    if len(engines) != 1:
        raise ValueError(
            f"the program compiled into {len(engines)} TensorRT engines, not one: a serialized engine holds "
            "one network. Compile it with torch_tensorrt.dynamo.compile and save the program instead."
        )
    return engines[0].serialized_engine.numpy().tobytes()


def _require_linux_x86_64() -> None:
    host = (platform.system(), platform.machine())
    if host != ("Linux", "x86_64"):
        raise RuntimeError(f"cross-compiling for Windows runs on x86-64 Linux only; this machine is {host}")


def cross_compile_for_windows(
    exported_program: torch.export.ExportedProgram,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile on Linux for Windows x86-64: the engines record ``windows_x86_64`` as their platform,
    so loading refuses them anywhere else. Build failures raise (a PyTorch fallback would not be a
    Windows program). Save with :func:`save_cross_compiled_exported_program`."""
    _require_linux_x86_64()
    if not ENABLED_FEATURES.windows_cross_compile:
        from torch_tensorrt._trt import TRT_VERSION

        flavour = "TensorRT-RTX" if ENABLED_FEATURES.tensorrt_rtx else "TensorRT"
        raise NotImplementedError(
            f"{flavour} {TRT_VERSION} cannot build engines for Windows here: its builder refuses "
            "runtime_platform=WINDOWS_AMD64 (TensorRT-RTX 1.7 builds for the platform it runs on only). "
            "Compile on Windows instead."
        )
    from torch_tensorrt.dynamo import _compiler

    settings = dataclasses.replace(
        CompilationSettings.from_kwargs(**kwargs),
        enable_cross_compile_for_windows=True,
        pass_through_build_failures=True,
    )
    return _compiler.compile(
        exported_program, inputs, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs, settings=settings
    )


def save_cross_compiled_exported_program(gm: torch.fx.GraphModule, file_path: str | os.PathLike[str]) -> None:
    """Save a program made by :func:`cross_compile_for_windows` (an ExportedProgram file)."""
    if not file_path:
        raise ValueError("file_path is required")
    from torch_tensorrt._compile import save

    save(gm, file_path, output_format="exported_program")


def load_cross_compiled_exported_program(file_path: str | os.PathLike[str] = "") -> Any:
    """Load, on Windows, a program cross-compiled on Linux."""
    if platform.system() != "Windows":
        raise ValueError(
            f"{os.fspath(file_path)!r}: a program cross-compiled for Windows loads on Windows only; this "
            f"machine runs {platform.system()}"
        )
    from torch_tensorrt._compile import load

    return load(file_path)


with_settings_signature(convert_exported_program_to_serialized_trt_engine)
with_settings_signature(cross_compile_for_windows, exclude=("enable_cross_compile_for_windows",))
