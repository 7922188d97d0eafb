"""Top-level entry points: compile, save, load and their Torch-TensorRT siblings."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

# Torch-TensorRT's other frontends; this build compiles through torch.export (dynamo) only.
_ABSENT_FRONTENDS = {"ts": "TorchScript", "torchscript": "TorchScript", "fx": "FX"}
_IRS = ("default", "dynamo", "exported_program", "torch_compile")


def _check_ir(ir: str) -> None:
    if ir in _ABSENT_FRONTENDS:
        raise ValueError(
            f"ir={ir!r}: the {_ABSENT_FRONTENDS[ir]} frontend is not available in this build (only the dynamo "
            "frontend is; ENABLED_FEATURES says so). Use ir='dynamo' (the default) or ir='torch_compile'."
        )
    if ir not in _IRS:
        raise ValueError(f"unsupported ir {ir!r}; use 'dynamo' (default) or 'torch_compile'")


def _arg_inputs(inputs: Any, arg_inputs: Any) -> list[Any] | None:
    if inputs is not None and arg_inputs is not None:
        raise ValueError("give inputs= or arg_inputs=, not both")
    given = arg_inputs if arg_inputs is not None else inputs
    if given is None:
        return None
    return list(given) if isinstance(given, Sequence) and not isinstance(given, torch.Tensor) else [given]


def compile(  # noqa: A001 - Torch-TensorRT's name
    module: Any,
    ir: str = "default",
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    enabled_precisions: Any = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile ``module`` (an nn.Module or ExportedProgram) into TensorRT engines.

    ``ir`` may be "default", "dynamo" or "exported_program"; "torch_compile" returns
    ``torch.compile(module, backend="tensorrt", options=kwargs)``.
    Settings are the fields of :class:`torch_tensorrt.dynamo.CompilationSettings`.
    """
    _check_ir(ir)
    args = _arg_inputs(inputs, arg_inputs)
    if enabled_precisions is not None:
        kwargs["enabled_precisions"] = enabled_precisions
    settings = CompilationSettings.from_kwargs(**kwargs)
    if ir == "torch_compile":
        from torch_tensorrt.dynamo.backend import tensorrt_backend  # noqa: F401 (registers)

        return torch.compile(module, backend="tensorrt", options=kwargs)  # type: ignore[return-value]
    from torch_tensorrt.dynamo import _compiler

    if isinstance(module, torch.export.ExportedProgram):
        return _compiler.compile(module, arg_inputs=args, kwarg_inputs=kwarg_inputs, settings=settings)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"compile takes an nn.Module or ExportedProgram, got {type(module).__name__}")
    if args is None:
        raise ValueError("compile needs inputs=[...] (example tensors or torch_tensorrt.Input)")
    return _compiler.trace_and_compile(module, args, kwarg_inputs, settings)


class _Method(torch.nn.Module):
    """``module.<method_name>`` as a forward, so that any method can be exported."""

    def __init__(self, module: torch.nn.Module, method_name: str) -> None:
        super().__init__()
        self.module = module
        self.method_name = method_name

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.module, self.method_name)(*args, **kwargs)


def convert_method_to_trt_engine(
    module: Any,
    method_name: str = "forward",
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    ir: str = "default",
    enabled_precisions: Any = None,
    **kwargs: Any,
) -> bytes:
    """One method of ``module`` as a serialized TensorRT engine (every op must convert)."""
    from torch_tensorrt.dynamo._engine_export import convert_exported_program_to_serialized_trt_engine
    from torch_tensorrt.dynamo._tracer import as_inputs, trace

    _check_ir(ir)
    if ir == "torch_compile":
        raise ValueError("convert_method_to_trt_engine does not take ir='torch_compile' (as in Torch-TensorRT)")
    args = _arg_inputs(inputs, arg_inputs) or []
    if enabled_precisions is not None:
        kwargs["enabled_precisions"] = enabled_precisions
    if isinstance(module, torch.export.ExportedProgram):
        program = module
    elif isinstance(module, torch.nn.Module):
        if not callable(getattr(module, method_name, None)):
            raise AttributeError(f"{type(module).__name__} has no method {method_name!r}")
        target = module if method_name == "forward" else _Method(module, method_name)
        program = trace(target, as_inputs(args), kwarg_inputs=kwarg_inputs)
    else:
        raise TypeError(
            f"convert_method_to_trt_engine takes an nn.Module or ExportedProgram, got {type(module).__name__}"
        )
    return convert_exported_program_to_serialized_trt_engine(
        program, arg_inputs=args, kwarg_inputs=kwarg_inputs, **kwargs
    )


def cross_compile_for_windows(
    module: torch.nn.Module,
    file_path: str,
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    enabled_precisions: Any = None,
    **kwargs: Any,
) -> None:
    """Compile ``module`` on Linux for Windows and save the program to ``file_path``."""
    from torch_tensorrt.dynamo._engine_export import (
        cross_compile_for_windows as dynamo_cross_compile,
    )
    from torch_tensorrt.dynamo._engine_export import save_cross_compiled_exported_program
    from torch_tensorrt.dynamo._tracer import as_inputs, trace

    if not file_path:
        raise ValueError("file_path is required")
    args = _arg_inputs(inputs, arg_inputs)
    if args is None:
        raise ValueError("cross_compile_for_windows needs inputs=[...] (example tensors or torch_tensorrt.Input)")
    if enabled_precisions is not None:
        kwargs["enabled_precisions"] = enabled_precisions
    specs = as_inputs(args)
    gm = dynamo_cross_compile(trace(module, specs, kwarg_inputs=kwarg_inputs), arg_inputs=specs, **kwargs)
    save_cross_compiled_exported_program(gm, file_path)


def load_cross_compiled_exported_program(file_path: str = "") -> Any:
    """Load, on Windows, a program saved by :func:`cross_compile_for_windows`."""
    from torch_tensorrt.dynamo._engine_export import load_cross_compiled_exported_program as load_cross

    return load_cross(file_path)


# Formats Torch-TensorRT writes that cannot exist here -> why (README "Differences").
_FORMATS_NOT_HERE = {
    "aot_inductor": (
        "an AOTInductor package is a compiled shared library that loading would execute; this project's load "
        "never runs code from a file (README: what load guarantees), and its engines are TensorRT-RTX engines "
        "that AOTInductor's runtime does not call"
    ),
    "executorch": "ExecuTorch programs need Torch-TensorRT's ExecuTorch delegate runtime, which this project does not have",
}


def save(
    module: Any,
    file_path: str | os.PathLike[str] = "",
    *,
    extra_files: dict[str, str] | None = None,
    output_format: str = "exported_program",
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    retrace: bool = True,
    use_legacy_exporter: bool | None = None,
    pickle_protocol: int = 2,
    dynamic_shapes: Any = None,
    **kwargs: Any,
) -> None:
    """Save a compiled module as an ExportedProgram (``.pt2``) or TorchScript file.

    ``extra_files`` ({name: text}) are stored beside the program and read back by
    ``load(path, extra_files={name: ""})``. ``dynamic_shapes`` replaces the ranges the module was
    compiled for when re-exporting. Formats other than exported_program/torchscript raise ValueError.
    """
    from torch_tensorrt.dynamo.runtime._serialization import OUTPUT_FORMATS, save_program

    if not file_path:
        raise ValueError("file_path is required")
    if output_format in _FORMATS_NOT_HERE:
        raise ValueError(
            f"output_format={output_format!r} is not supported here: {_FORMATS_NOT_HERE[output_format]}. "
            f"Supported formats: {', '.join(OUTPUT_FORMATS)}"
        )
    _report_save_options(retrace, use_legacy_exporter, pickle_protocol, output_format, kwargs)
    save_program(
        module,
        file_path,
        output_format,
        _arg_inputs(inputs, arg_inputs),
        kwarg_inputs,
        extra_files=extra_files,
        pickle_protocol=pickle_protocol,
        dynamic_shapes=dynamic_shapes,
    )


def _report_save_options(
    retrace: bool, use_legacy_exporter: bool | None, pickle_protocol: int, output_format: str, extra: dict[str, Any]
) -> None:
    """save() options that change nothing here, each reported once."""
    unused: dict[str, str] = {}
    if not retrace:
        unused["retrace=False"] = "save always re-exports the module so that its engines become execute_engine calls"
    if use_legacy_exporter is not None:
        unused[f"use_legacy_exporter={use_legacy_exporter!r}"] = "there is one exporter here (torch.export)"
    if output_format == "torchscript" and pickle_protocol != 2:
        unused[f"pickle_protocol={pickle_protocol}"] = "torch.jit.save chooses its own pickle protocol"
    for name, value in sorted(extra.items()):
        unused[f"{name}={value!r}"] = (
            "save() takes no such option here (ExecuTorch options need output_format='executorch')"
        )
    for what, why in unused.items():
        warn_once(
            f"save:{what.split('=')[0]}",
            f"save({what}) has no effect: {why}. (reported once per process)",
            stacklevel=3,
        )


def load(
    file_path: str | os.PathLike[str] = "",
    extra_files: dict[str, Any] | None = None,
    *,
    format: str | None = None,  # noqa: A002 - Torch-TensorRT's keyword
    **kwargs: Any,
) -> Any:
    """Load a program saved by :func:`save`; engine info is validated before anything runs.

    ``extra_files`` ({name: ""}) receives the contents of the files saved with the program.
    """
    from torch_tensorrt.dynamo.runtime._serialization import load_program

    if format is not None:
        raise ValueError(
            f"load(format={format!r}) is not supported: ExecuTorch programs need Torch-TensorRT's ExecuTorch "
            "delegate runtime, which this project does not have; omit format= for programs saved by save()"
        )
    for name in sorted(kwargs):
        warn_once(
            f"load:{name}",
            f"load({name}=...) has no effect: programs load with torch's defaults after they are validated. "
            "(reported once per process)",
            stacklevel=2,
        )
    return load_program(file_path, extra_files=extra_files)


__all__ = [
    "compile",
    "convert_method_to_trt_engine",
    "cross_compile_for_windows",
    "load",
    "load_cross_compiled_exported_program",
    "save",
]
