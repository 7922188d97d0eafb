"""What ``compile`` compiles: a saved ExportedProgram, or a torchvision / Hugging Face model by name.

Named models get random weights and are built from code and default configurations only: nothing
is downloaded (a deployment host may have no network, and a compile must not depend on one).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt._Input import Input
from torch_tensorrt.cli._parsing import UsageError

HF_TASKS = ("auto", "base", "causal-lm", "masked-lm", "sequence-classification")
# Torchvision's classification models take ImageNet-sized images; others need --input.
_IMAGE_INPUT = (1, 3, 224, 224)
_HF_INPUT = (1, 16)  # one sequence of 16 token ids


@dataclass
class ModelSource:
    """A model to compile: a module to trace, or an ExportedProgram that is already traced."""

    name: str  # as given on the command line
    stem: str  # for the default output file name
    module: torch.nn.Module | None = None
    program: torch.export.ExportedProgram | None = None
    default_inputs: list[Input] | None = None  # None: the program's own ranges (or --input required)
    integer_inputs: bool = False  # token ids: --input shapes default to int64
    notes: list[str] = field(default_factory=list)


def _close(name: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(name, choices, 3)
    return f" (did you mean {', '.join(found)}?)" if found else ""


def load_exported_program(path: str) -> torch.export.ExportedProgram:
    """A plain torch.export program, vetted like ``torch_tensorrt.load`` vets files (nothing unpickled)."""
    from torch_tensorrt.dynamo._program_archive import read_program_archive
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls

    program = read_program_archive(path).program
    if engine_calls(program.module()):
        raise UsageError(
            f"{path} is already a compiled program (it holds TensorRT engines); compile the exported program it came from"
        )
    return program


def torchvision_model(name: str, dtype: torch.dtype) -> ModelSource:
    import torchvision

    names = torchvision.models.list_models()
    if name not in names:
        raise UsageError(
            f"torchvision has no model {name!r}{_close(name, names)}; see torchvision.models.list_models()"
        )
    module = torchvision.models.get_model(name, weights=None).eval().to(dtype)
    classifier = name in torchvision.models.list_models(module=torchvision.models)
    inputs = [Input(shape=_IMAGE_INPUT, dtype=dtype)] if classifier else None
    return ModelSource(f"torchvision:{name}", name, module=module, default_inputs=inputs)


def _hf_model_class(model_type: str, task: str) -> Any:
    import transformers
    from transformers.models.auto import modeling_auto

    if task == "auto":
        causal = model_type in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        # Encoders (BERT) also have a causal-LM class; their natural head is the base model.
        task = "causal-lm" if causal and model_type not in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES else "base"
    classes = {
        "base": transformers.AutoModel,
        "causal-lm": transformers.AutoModelForCausalLM,
        "masked-lm": transformers.AutoModelForMaskedLM,
        "sequence-classification": transformers.AutoModelForSequenceClassification,
    }
    return classes[task]


def hf_config(model_type: str, overrides: dict[str, Any]) -> Any:
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if model_type not in CONFIG_MAPPING_NAMES:
        hint = _close(model_type, list(CONFIG_MAPPING_NAMES))
        raise UsageError(
            f"hf:{model_type}: not a Hugging Face model type{hint}. hf: takes a model type (gpt2, llama, bert, ...) "
            "whose default configuration is built locally; hub names would need a download"
        )
    defaults = AutoConfig.for_model(model_type)
    unknown = [k for k in overrides if not hasattr(defaults, k)]
    if unknown:
        keys = sorted(k for k in defaults.to_dict() if not k.startswith("_"))
        raise UsageError(f"--hf-config: {type(defaults).__name__} has no {unknown[0]!r}{_close(unknown[0], keys)}")
    # A single forward returns logits only unless asked otherwise (generation: torch_tensorrt.dynamo.llm).
    return AutoConfig.for_model(model_type, **{"use_cache": False, **overrides})


def hf_model(model_type: str, dtype: torch.dtype, overrides: dict[str, Any], task: str) -> ModelSource:
    try:
        import transformers  # noqa: F401 - only to report its absence clearly
    except ImportError as exc:
        raise UsageError("hf: models need the transformers package (pip install transformers)") from exc
    config = hf_config(model_type, overrides)
    try:
        module = _hf_model_class(model_type, task).from_config(config)
    except ValueError as exc:  # the task has no class for this model type
        raise UsageError(f"hf:{model_type} --hf-task {task}: {exc}") from exc
    module = module.eval().to(dtype) if dtype.is_floating_point else module.eval()
    notes = [f"{type(module).__name__} with random weights, config overrides {overrides or 'none'}"]
    inputs = [Input(shape=_HF_INPUT, dtype=torch.int64)]
    return ModelSource(
        f"hf:{model_type}", model_type, module=module, default_inputs=inputs, integer_inputs=True, notes=notes
    )


def resolve_model(spec: str, dtype: torch.dtype | None, hf_overrides: dict[str, Any], hf_task: str) -> ModelSource:
    """``MODEL`` of ``compile``: a .pt2 file, ``torchvision:NAME`` or ``hf:MODEL_TYPE``."""
    kind, sep, name = spec.partition(":")
    if hf_overrides and kind != "hf":
        raise UsageError("--hf-config applies to hf: models only")
    if sep and kind == "torchvision":
        return torchvision_model(name, dtype or torch.float32)
    if sep and kind == "hf":
        return hf_model(name, dtype or torch.float32, hf_overrides, hf_task)
    if spec.endswith(".pt2") or os.path.exists(spec):
        if dtype is not None:
            raise UsageError(
                "--dtype cannot change a saved program (its dtypes were fixed by torch.export); export it in that dtype"
            )
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        stem = os.path.splitext(os.path.basename(spec))[0]
        return ModelSource(spec, stem, program=load_exported_program(spec))
    raise UsageError(
        f"MODEL {spec!r}: give a .pt2 file saved by torch.export.save, torchvision:NAME (e.g. torchvision:resnet18) or hf:MODEL_TYPE (e.g. hf:gpt2)"
    )
