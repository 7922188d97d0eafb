"""Top-level entry points: compile, save, load (Torch-TensorRT compatible)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")


def compile(  # noqa: A001 - Torch-TensorRT's name
    module: Any,
    ir: str = "default",
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile ``module`` (an nn.Module or ExportedProgram) into TensorRT engines.

    ``ir`` may be "default", "dynamo" or "exported_program"; "torch_compile" returns
    ``torch.compile(module, backend="tensorrt", options=kwargs)``.
    Settings are the fields of :class:`torch_tensorrt.dynamo.CompilationSettings`.
    """
    if ir not in ("default", "dynamo", "exported_program", "torch_compile"):
        raise ValueError(f"unsupported ir {ir!r}; use 'dynamo' (default) or 'torch_compile'")
    if inputs is not None and arg_inputs is not None:
        raise ValueError("give inputs= or arg_inputs=, not both")
    arg_inputs = arg_inputs if arg_inputs is not None else inputs
    settings = CompilationSettings.from_kwargs(**kwargs)
    if ir == "torch_compile":
        from torch_tensorrt.dynamo.backend import tensorrt_backend  # noqa: F401 (registers)

        return torch.compile(module, backend="tensorrt", options=kwargs)  # type: ignore[return-value]
    from torch_tensorrt.dynamo import _compiler

    if isinstance(module, torch.export.ExportedProgram):
        return _compiler.compile(module, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs, settings=settings)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"compile takes an nn.Module or ExportedProgram, got {type(module).__name__}")
    if arg_inputs is None:
        raise ValueError("compile needs inputs=[...] (example tensors or torch_tensorrt.Input)")
    return _compiler.trace_and_compile(module, arg_inputs, kwarg_inputs, settings)


def save(
    module: torch.nn.Module,
    file_path: str | os.PathLike[str],
    *,
    output_format: str = "exported_program",
    inputs: Sequence[Any] | None = None,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    retrace: bool = True,
) -> None:
    """Save a compiled module as an ExportedProgram (``.pt2``) or TorchScript file."""
    from torch_tensorrt.dynamo.runtime._serialization import save_program

    save_program(module, file_path, output_format, arg_inputs if arg_inputs is not None else inputs, kwarg_inputs)


def load(file_path: str | os.PathLike[str]) -> Any:
    """Load a program saved by :func:`save`; engine info is validated before anything runs."""
    from torch_tensorrt.dynamo.runtime._serialization import load_program

    return load_program(file_path)
