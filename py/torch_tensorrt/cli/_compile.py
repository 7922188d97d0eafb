"""``torch-tensorrt compile MODEL``: trace, compile, save (with the reference graph) and summarize."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
from pathlib import Path
from typing import Any

import torch

from torch_tensorrt._Input import Input
from torch_tensorrt.cli._models import HF_TASKS, ModelSource, resolve_model
from torch_tensorrt.cli._output import Progress, human_bytes, print_json
from torch_tensorrt.cli._parsing import UsageError, parse_config_overrides, parse_dtype, parse_input, parse_settings


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "compile",
        parents=[common],
        help="compile a model into TensorRT-RTX engines and save the program",
        description=(
            "Compile MODEL (a .pt2 file from torch.export.save, torchvision:NAME or hf:MODEL_TYPE, built with "
            "random weights and no download) and save the compiled program with the PyTorch graph it came from, "
            "so that `validate` can check it later."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model.pt2 | torchvision:NAME | hf:MODEL_TYPE")
    p.add_argument("-o", "--output", help="where to save the program (default: ./<model>_trt.pt2)")
    p.add_argument(
        "--input", action="append", default=[], metavar="SPEC",
        help="one per model input: SHAPE (1x3x224x224) or min=SHAPE,opt=SHAPE,max=SHAPE, optionally @DTYPE "
        "(1x16@int64). Default: 1x3x224x224 for torchvision classifiers, 1x16@int64 for hf:, the program's "
        "own ranges for .pt2",
    )  # fmt: skip
    p.add_argument(
        "--dtype", help="convert the model's weights and float inputs to this dtype (float16, bfloat16, ...)"
    )
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a CompilationSettings field, e.g. min_block_size=1",
    )
    p.add_argument(
        "--hf-config",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Hugging Face config value, e.g. n_layer=2",
    )
    p.add_argument(
        "--hf-task",
        choices=HF_TASKS,
        default="auto",
        help="which Hugging Face head to build (default: causal-lm for decoders, else base)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    p.add_argument(
        "--no-reference",
        action="store_true",
        help="do not store the PyTorch reference graph (smaller file; validate cannot run)",
    )
    p.add_argument(
        "--store", help="emulation store recording each engine's network for validation on the CPU "
        "(default: $TORCH_TENSORRT_EMULATION_DIR or a per-user temporary directory)",
    )  # fmt: skip
    p.add_argument(
        "--no-record", action="store_true", help="do not record networks (validate then needs them from elsewhere)"
    )
    p.set_defaults(handler=run, parser=p)


def _input_specs(args: argparse.Namespace, source: ModelSource) -> list[Input] | None:
    if not args.input:
        if source.module is not None and source.default_inputs is None:
            raise UsageError(f"{source.name} is not an image classifier: give its input shapes with --input")
        return source.default_inputs
    if source.program is not None:
        # Each input keeps the program's dtype unless @DTYPE says otherwise.
        placeholders = {n.name: n for n in source.program.graph.nodes if n.op == "placeholder"}
        values = [placeholders[name].meta.get("val") for name in source.program.graph_signature.user_inputs]
        dtypes = [v.dtype if isinstance(v, torch.Tensor) else torch.float32 for v in values]
        if len(args.input) != len(dtypes):
            raise UsageError(f"{source.name} takes {len(dtypes)} inputs; --input was given {len(args.input)} times")
        return [parse_input(text, dtype) for text, dtype in zip(args.input, dtypes)]
    default = torch.int64 if source.integer_inputs else parse_dtype(args.dtype) if args.dtype else torch.float32
    return [parse_input(text, default) for text in args.input]


def _trace(
    source: ModelSource, specs: list[Input] | None, settings: dict[str, Any], progress: Progress
) -> torch.export.ExportedProgram:
    if source.program is not None:
        return source.program
    from torch_tensorrt.dynamo import trace

    progress("tracing")
    # Source locations only reach the user through these two settings (as in torch_tensorrt.compile).
    locations = bool(settings.get("require_full_compilation") or settings.get("debug"))
    return trace(source.module, specs, source_locations=locations)  # type: ignore[arg-type]


def _recording(store: Path | None) -> contextlib.AbstractContextManager[Any]:
    if store is None:
        return contextlib.nullcontext()
    from torch_tensorrt.testing import emulated_runtime

    return emulated_runtime(store)  # records each network as its engine is built


def run(args: argparse.Namespace, progress: Progress) -> int:
    settings = parse_settings(args.setting)
    dtype = parse_dtype(args.dtype) if args.dtype else None
    overrides = parse_config_overrides(args.hf_config, "--hf-config")
    for text in args.input:
        parse_input(text, torch.float32)  # syntax errors before anything slow
    torch.manual_seed(args.seed)
    named = args.model.startswith(("torchvision:", "hf:"))
    progress(f"building {args.model}" if named else f"reading {args.model}")
    source = resolve_model(args.model, dtype, overrides, args.hf_task)
    specs = _input_specs(args, source)
    output = args.output or f"{source.stem}_trt.pt2"
    if os.path.isdir(output):
        raise UsageError(
            f"--output {output} is a directory; give a file name (e.g. {os.path.join(output, source.stem + '_trt.pt2')})"
        )
    store = None if args.no_record else Path(args.store) if args.store else _default_store()
    program = _trace(source, specs, settings, progress)
    summary, size = _compile_and_save(program, specs, settings, store, output, not args.no_reference, progress)
    report = _report(args, source, output, size, store, summary)
    if args.json:
        print_json(report)
    else:
        _print_report(report, summary)
    return 0


def _default_store() -> Path:
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    return default_store_dir()


def _compile_and_save(
    program: torch.export.ExportedProgram,
    specs: list[Input] | None,
    settings: dict[str, Any],
    store: Path | None,
    output: str,
    with_reference: bool,
    progress: Progress,
) -> tuple[Any, int]:
    import torch_tensorrt
    from torch_tensorrt.dynamo._program_archive import save_with_reference

    progress("lowering and partitioning")
    with progress.library_steps(), _recording(store):
        compiled = torch_tensorrt.dynamo.compile(program, arg_inputs=specs, **settings)
    progress(f"saving {output}")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    if with_reference:
        save_with_reference(compiled, output, program)
    else:
        torch_tensorrt.save(compiled, output)
    return compiled._compile_summary, os.path.getsize(output)


def validate_command(output: str, store: Path | None) -> str:
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    command = f"python -m torch_tensorrt validate {shlex.quote(output)}"
    if store is not None and os.path.abspath(store) != os.path.abspath(default_store_dir()):
        command += f" --store {shlex.quote(os.fspath(store))}"
    return command


def _report(
    args: argparse.Namespace, source: ModelSource, output: str, size: int, store: Path | None, summary: Any
) -> dict[str, Any]:
    with_reference = not args.no_reference
    return {
        "command": "compile",
        "model": source.name,
        "notes": source.notes,
        "output": output,
        "output_bytes": size,
        "reference": with_reference,
        "network_store": os.fspath(store) if store is not None else None,
        "validate_command": validate_command(output, store) if with_reference and store is not None else None,
        "summary": json.loads(summary.to_json()),
    }


def _print_report(report: dict[str, Any], summary: Any) -> None:
    extra = ", with its PyTorch reference graph" if report["reference"] else ", without a reference graph"
    print(f"compiled {report['model']} -> {report['output']} ({human_bytes(report['output_bytes'])}{extra})")
    for note in report["notes"]:
        print(f"  {note}")
    print(summary)
    if report["network_store"]:
        print(
            f"engine networks recorded in {report['network_store']} (the CPU reference executor runs the engines from them)"
        )
    if report["validate_command"]:
        print(f"validate it (any process on this machine): {report['validate_command']}")
