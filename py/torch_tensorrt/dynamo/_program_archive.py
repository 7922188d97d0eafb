"""A saved program with its PyTorch reference: the graph it was compiled from, in the same ``.pt2``.

A compiled program holds only engines and PyTorch fallback ops; once saved, nothing says what it
should compute. To validate it later (``python -m torch_tensorrt validate``), ``save_with_reference``
stores the ExportedProgram it was compiled from as a second model of the same torch.export archive:
``models/model.json`` is the compiled program (what ``torch_tensorrt.load`` returns) and
``models/reference.json`` (with its own weights and sample inputs) the reference. Both are ordinary
torch.export members, so ``_archive_check`` vets the reference like the program, and a reader that
knows nothing of it (``torch.export.load``) still returns the program.

Cost: the reference's weights are stored (and deserialized by ``load``) beside the engines.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.export.pt2_archive._package import load_pt2, package_pt2

from torch_tensorrt.dynamo._hf_cache import register_cache_pytrees
from torch_tensorrt.dynamo.runtime._archive_check import check_program_file

PROGRAM_MODEL = "model"  # torch.export.load's name for the one program of an archive
REFERENCE_MODEL = "reference"


def save_with_reference(
    module: torch.nn.Module,
    file_path: str | os.PathLike[str],
    reference: torch.export.ExportedProgram,
    *,
    inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
) -> None:
    """``torch_tensorrt.save(module, file_path, inputs=...)`` plus ``reference``, the ExportedProgram
    ``module`` was compiled from (e.g. ``torch_tensorrt.dynamo.trace(model, inputs)``)."""
    from torch_tensorrt.dynamo.runtime._serialization import export_compiled

    if not isinstance(reference, torch.export.ExportedProgram):
        raise TypeError(f"reference must be a torch.export.ExportedProgram, got {type(reference).__name__}")
    program = (
        module if isinstance(module, torch.export.ExportedProgram) else export_compiled(module, inputs, kwarg_inputs)
    )
    if len(program.graph_signature.user_inputs) != len(reference.graph_signature.user_inputs):
        raise ValueError(
            f"the reference takes {len(reference.graph_signature.user_inputs)} inputs but the compiled program "
            f"takes {len(program.graph_signature.user_inputs)}; pass the program the module was compiled from"
        )
    package_pt2(os.fspath(file_path), exported_programs={PROGRAM_MODEL: program, REFERENCE_MODEL: reference})


@dataclass
class ProgramArchive:
    """The models of a ``.pt2`` file, read without running anything from it."""

    path: str
    program: torch.export.ExportedProgram
    reference: torch.export.ExportedProgram | None


def read_program_archive(file_path: str | os.PathLike[str]) -> ProgramArchive:
    """The program (and reference, if stored) of a ``.pt2`` archive, after ``_archive_check`` vetted it.

    Engine infos are not validated here (``torch_tensorrt.load`` does, for this host's platform):
    ``inspect`` reads programs built for other platforms too. Raises FileNotFoundError or ValueError.
    """
    path = os.fspath(file_path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"no program at {path}")
    if check_program_file(path) != "pt2":
        raise ValueError(f"{path} is a TorchScript archive; this reads torch.export (.pt2) programs only")
    register_cache_pytrees()  # outputs holding a transformers cache unflatten only with it registered
    models = _load_models(path)
    if PROGRAM_MODEL not in models:
        raise ValueError(f"{path} holds no program named {PROGRAM_MODEL!r} (models: {sorted(models)})")
    return ProgramArchive(path, models[PROGRAM_MODEL], models.get(REFERENCE_MODEL))


_UNREGISTERED = re.compile(r"Deserializing (transformers(?:\.\w+)+)\.(\w+) in pytree is not registered")


def _load_models(path: str) -> dict[str, torch.export.ExportedProgram]:
    """``load_pt2``'s models. Outputs of Hugging Face models (``CausalLMOutputWithPast``...) unflatten
    only once transformers registered their class, which it does when the class's module is imported:
    that module, named by the file, is imported only if it is part of transformers (an installed
    package, not code from the file)."""
    imported: set[str] = set()
    while True:
        try:
            return load_pt2(path).exported_programs
        except Exception as exc:
            match = _UNREGISTERED.search(str(exc))
            if match is None or match.group(1) in imported:
                raise ValueError(f"{path} is not a readable torch.export program: {exc}") from exc
            imported.add(match.group(1))
            try:
                importlib.import_module(match.group(1))
            except ImportError:
                raise ValueError(
                    f"{path} returns {match.group(1)}.{match.group(2)}; reading it needs transformers"
                ) from exc
