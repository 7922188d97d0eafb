"""Saving and loading compiled programs.

An ExportedProgram save re-exports the compiled GraphModule: each TensorRT segment becomes one
``tensorrt::execute_engine(inputs, serialized_engine, engine_info)`` call: the engine bytes are a
uint8 constant and the engine info a list of strings, so the file holds no pickled objects.
Loading validates every engine's info (and the engine bytes against their digest) before returning.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo._hf_cache import register_cache_pytrees
from torch_tensorrt.dynamo._tracer import as_inputs, nested_examples
from torch_tensorrt.dynamo.runtime._archive_check import check_program_file
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, require_host_platform
from torch_tensorrt.dynamo.runtime._input_ranges import specs_for_save, trace_example, with_input_checks

OUTPUT_FORMATS = ("exported_program", "torchscript")


def _specs_for(module: torch.nn.Module, inputs: Sequence[Any] | None) -> list[Any]:
    # Example tensors keep the dynamic ranges the module was compiled for (see _input_ranges).
    return specs_for_save(module, inputs)


def export_compiled(
    module: torch.nn.Module,
    inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    dynamic_shapes: Any = None,
) -> torch.export.ExportedProgram:
    """The compiled module as an ExportedProgram whose engines are execute_engine calls.

    ``dynamic_shapes`` (torch.export's form) replaces the ranges the module was compiled for.
    """
    args, shapes = nested_examples(_specs_for(module, inputs), trace_example)
    shapes = dynamic_shapes if dynamic_shapes is not None else shapes
    return torch.export.export(module, args, kwargs=kwarg_inputs or None, dynamic_shapes=shapes, strict=False)


def save_program(
    module: torch.nn.Module,
    file_path: str | os.PathLike[str],
    output_format: str,
    inputs: Sequence[Any] | None,
    kwarg_inputs: dict[str, Any] | None,
    *,
    extra_files: dict[str, str] | None = None,
    pickle_protocol: int = 2,
    dynamic_shapes: Any = None,
) -> None:
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    if output_format == "torchscript":
        if not ENABLED_FEATURES.torch_tensorrt_runtime:
            raise RuntimeError(
                "output_format='torchscript' needs the C++ runtime (torch_tensorrt._C), which is not "
                "loaded; save with output_format='exported_program' or install a build with the C++ runtime"
            )
        from torch_tensorrt.dynamo.runtime._torchscript import save_torchscript

        save_torchscript(module, file_path, as_inputs(_specs_for(module, inputs)), extra_files=extra_files)
        return
    if isinstance(module, torch.export.ExportedProgram):
        program = module
    else:
        program = export_compiled(module, inputs, kwarg_inputs, dynamic_shapes)
    torch.export.save(program, file_path, extra_files=extra_files, pickle_protocol=pickle_protocol)


def engine_infos(program: torch.export.ExportedProgram) -> list[list[str]]:
    """The full engine-info lists of every execute_engine call in ``program``."""
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls, join_engine_info

    return [join_engine_info(tensor, info) for tensor, info in engine_calls(program.module())]


def load_program(file_path: str | os.PathLike[str], extra_files: dict[str, Any] | None = None) -> Any:
    """Load an ExportedProgram (or TorchScript) file; nothing in it runs before it is validated.

    The archive is inspected first (``_archive_check``): anything torch would unpickle or execute is
    refused. Then every engine's info is validated, for this host's platform too.
    """
    path = os.fspath(file_path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"no compiled program at {path}")
    kind = check_program_file(path)
    if kind == "torchscript":
        return _load_torchscript(path, extra_files)
    # Outputs holding a transformers KV cache (DynamicCache) unflatten only with its pytree registered.
    register_cache_pytrees()
    try:
        program = torch.export.load(path, extra_files=extra_files)
    except Exception as exc:
        raise ValueError(f"{path} is not a program saved by torch_tensorrt.save: {exc}") from exc
    return checked_program(path, program)


def checked_program(path: str, program: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """What ``load`` does to a program read from ``path``: every engine's info validated (for this
    host's platform too), engines released with the program, inputs checked against the ranges."""
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls, join_engine_info, watch_engine_tensor

    for index, (tensor, info) in enumerate(engine_calls(program.module())):
        try:
            require_host_platform(EngineInfo.from_list(join_engine_info(tensor, info)))
        except ValueError as exc:
            raise ValueError(f"{path}: engine {index} is malformed: {exc}") from exc
        watch_engine_tensor(tensor)  # the program's engines (either runtime) go away with it
    return with_input_checks(program)  # out-of-range calls: the same ValueError as before saving


def _load_torchscript(path: str, extra_files: dict[str, Any] | None = None) -> Any:
    if not ENABLED_FEATURES.torch_tensorrt_runtime:
        raise ValueError(
            f"{path} is a TorchScript program; loading it needs the C++ runtime (torch_tensorrt._C), which is "
            "not loaded: install a build with the C++ runtime or save the program as an ExportedProgram"
        )
    try:
        # Each engine's info is validated by the C++ engine's unpickler.
        return torch.jit.load(path, _extra_files=extra_files) if extra_files is not None else torch.jit.load(path)
    except Exception as exc:
        raise ValueError(f"{path}: the TorchScript program could not be loaded: {exc}") from exc
