"""``torch-tensorrt inspect PROGRAM``: what a saved program holds, read from its engine infos.

Nothing is run and no engine is deserialized by TensorRT: the archive is vetted (``_archive_check``),
torch.export reads it, and each engine's info strings are parsed (``EngineInfo``). Programs built for
another platform are described too (``load`` would refuse them on this host).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from torch_tensorrt.cli._output import Progress, human_bytes, print_json


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "inspect",
        parents=[common],
        help="describe a saved program: engines, bindings, profiles, platform, sizes",
        description="Describe a saved program without running anything: its inputs and outputs, each TensorRT "
        "engine's bindings, optimization profile, target platform, compute capabilities, settings and size, "
        "the ops left to PyTorch, and whether it can be validated on this machine.",
    )
    p.add_argument(
        "program", metavar="PROGRAM", help="a .pt2 file saved by torch_tensorrt.save or torch-tensorrt compile"
    )
    p.add_argument(
        "--store", help="emulation store to look for the engines' networks in (default: the emulated runtime's)"
    )
    p.set_defaults(handler=run, parser=p)


def _dims(shape: Any) -> list[int | str]:
    return [int(s) if isinstance(s, int) else str(s) for s in shape]


def _program_inputs(program: torch.export.ExportedProgram) -> list[dict[str, Any]]:
    from torch_tensorrt.dynamo.runtime._input_ranges import _UNBOUNDED, program_input_checks

    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    described = []
    for name, check in zip(program.graph_signature.user_inputs, program_input_checks(program)):
        val = nodes[name].meta.get("val")
        if check is None:
            described.append({"name": name, "dtype": type(val).__name__, "shape": None, "min": None, "max": None})
            continue
        _, dtype, lo, hi = check
        shown_hi = [None if b == _UNBOUNDED else b for b in hi]
        described.append(
            {"name": name, "dtype": _dtype(dtype), "shape": _dims(val.shape), "min": list(lo), "max": shown_hi}
        )
    return described


def _program_outputs(program: torch.export.ExportedProgram) -> list[dict[str, Any]]:
    output = next(n for n in program.graph.nodes if n.op == "output")
    user = set(program.graph_signature.user_outputs)
    leaves = [a for a in output.args[0] if isinstance(a, torch.fx.Node) and a.name in user]
    described = []
    for node in leaves:
        val = node.meta.get("val")
        if isinstance(val, torch.Tensor):
            described.append({"name": node.name, "dtype": _dtype(val.dtype), "shape": _dims(val.shape)})
        else:
            described.append({"name": node.name, "dtype": type(val).__name__, "shape": None})
    return described


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _engine(tensor: torch.Tensor, info: list[str], store: Any) -> dict[str, Any]:
    from torch_tensorrt.dynamo._settings import KNOWN_COMPUTE_CAPABILITIES
    from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, current_platform
    from torch_tensorrt.dynamo.runtime._execute_engine_op import join_engine_info

    data = tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
    parsed = EngineInfo.from_list(join_engine_info(tensor, info))
    meta = parsed.metadata
    bindings_in = [
        {
            "name": i.name, "dtype": i.dtype, "shape": list(i.shape),
            "profile": None if i.min_shape is None else {"min": list(i.min_shape), "opt": list(i.opt_shape or ()), "max": list(i.max_shape or ())},
        }
        for i in meta.inputs
    ]  # fmt: skip
    settings = meta.settings
    return {
        "name": parsed.name,
        "engine_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "target_platform": parsed.target_platform,
        "runs_on_this_platform": parsed.target_platform == current_platform(),
        "compute_capabilities": list(parsed.compute_capabilities),
        "portable_targets": [] if parsed.compute_capabilities else list(KNOWN_COMPUTE_CAPABILITIES),
        "hardware_compatible": parsed.hardware_compatible,
        "gpu_id": parsed.gpu_id,
        "requires_output_allocator": parsed.requires_output_allocator,
        "resource_allocation_strategy": parsed.resource_allocation_strategy,
        "settings": {
            "optimization_level": settings.optimization_level,
            "enabled_precisions": list(settings.enabled_precisions),
            "strongly_typed": settings.strongly_typed,
            "immutable_weights": settings.immutable_weights,
            "truncate_double": settings.truncate_double,
        },
        "flags": dict(meta.flags),
        "inputs": bindings_in,
        "outputs": [{"name": o.name, "dtype": o.dtype, "shape": list(o.shape)} for o in meta.outputs],
        "network_recorded": store.contains(data),
    }


def _pytorch_ops(program: torch.export.ExportedProgram) -> dict[str, int]:
    """The compute ops outside engines (what runs in PyTorch), by name."""
    import operator

    ops = Counter(
        str(n.target).removeprefix("aten.")
        for n in program.graph.nodes
        if n.op == "call_function" and "execute_engine" not in str(n.target) and n.target is not operator.getitem
    )
    return dict(sorted(ops.items()))


def _reference(reference: torch.export.ExportedProgram | None) -> dict[str, Any] | None:
    if reference is None:
        return None
    ops = sum(1 for n in reference.graph.nodes if n.op == "call_function")
    tensors = list(reference.state_dict.values()) + [
        c for c in reference.constants.values() if isinstance(c, torch.Tensor)
    ]
    return {"ops": ops, "parameters": sum(t.numel() for t in tensors)}


def describe(path: str, store_dir: Path) -> dict[str, Any]:
    from torch_tensorrt.dynamo._program_archive import read_program_archive
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls
    from torch_tensorrt.testing._emulated_runtime import EmulationStore

    archive = read_program_archive(path)
    store = EmulationStore(store_dir)
    engines = []
    for index, (tensor, info) in enumerate(engine_calls(archive.program.module())):
        try:
            engines.append(_engine(tensor, info, store))
        except ValueError as exc:
            raise ValueError(f"{path}: engine {index} is malformed: {exc}") from exc
    return {
        "command": "inspect",
        "path": path,
        "file_bytes": os.path.getsize(path),
        "inputs": _program_inputs(archive.program),
        "outputs": _program_outputs(archive.program),
        "engines": engines,
        "engine_bytes_total": sum(e["engine_bytes"] for e in engines),
        "pytorch_ops": _pytorch_ops(archive.program),
        "reference": _reference(archive.reference),
        "network_store": os.fspath(store_dir),
    }


def run(args: argparse.Namespace, progress: Progress) -> int:
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    progress(f"reading {args.program}")
    report = describe(args.program, Path(args.store) if args.store else default_store_dir())
    if args.json:
        print_json(report)
    else:
        print_description(report)
    return 0


def _shape(shape: list[Any] | None) -> str:
    return "?" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"


def _print_engine(index: int, e: dict[str, Any]) -> None:
    here = "this host" if e["runs_on_this_platform"] else "NOT this host: load refuses it here"
    caps = ", ".join(e["compute_capabilities"]) or f"portable default ({', '.join(e['portable_targets'])})"
    s = e["settings"]
    print(f"engine {index}: {e['name']}  {human_bytes(e['engine_bytes'])}  sha256 {e['sha256'][:16]}")
    print(
        f"  platform {e['target_platform']} ({here}); compute capabilities: {caps}; hardware compatible: {e['hardware_compatible']}"
    )
    print(
        f"  built with optimization level {s['optimization_level']}, precisions {', '.join(s['enabled_precisions'])}, "
        f"strongly typed {s['strongly_typed']}, immutable weights {s['immutable_weights']}; resources "
        f"{e['resource_allocation_strategy']}, output allocator {e['requires_output_allocator']}"
    )
    print(
        "  optimization profile 0:"
        if any(b["profile"] for b in e["inputs"])
        else "  static shapes (no optimization profile)"
    )
    for b in e["inputs"]:
        profile = b["profile"]
        shown = (
            f"  min {_shape(profile['min'])} opt {_shape(profile['opt'])} max {_shape(profile['max'])}"
            if profile
            else ""
        )
        print(f"    in  {b['name']}: {b['dtype']} {_shape(b['shape'])}{shown}")
    for b in e["outputs"]:
        print(f"    out {b['name']}: {b['dtype']} {_shape(b['shape'])}")
    recorded = (
        "recorded (validate can run it on the CPU)"
        if e["network_recorded"]
        else "not recorded in the store (validate cannot run it)"
    )
    print(f"  network: {recorded}")


def print_description(r: dict[str, Any]) -> None:
    ref = r["reference"]
    ref_text = (
        f"reference graph: {ref['ops']} ops, {ref['parameters']:,} parameters"
        if ref
        else "no reference graph (validate cannot run)"
    )
    print(
        f"{r['path']} ({human_bytes(r['file_bytes'])}): {len(r['engines'])} TensorRT engine(s), {human_bytes(r['engine_bytes_total'])}; {ref_text}"
    )
    print("inputs:")
    for i in r["inputs"]:
        ranges = (
            f"  min {_shape(i['min'])} max {_shape([d if d is not None else 'unbounded' for d in i['max']])}"
            if i["min"] is not None
            else ""
        )
        print(f"  {i['name']}: {i['dtype']} {_shape(i['shape'])}{ranges}")
    print("outputs:")
    for o in r["outputs"]:
        print(f"  {o['name']}: {o['dtype']} {_shape(o['shape'])}")
    for index, engine in enumerate(r["engines"]):
        _print_engine(index, engine)
    ops = r["pytorch_ops"]
    print("ops run by PyTorch: " + (", ".join(f"{op} x{n}" for op, n in ops.items()) if ops else "none"))
    print(f"network store: {r['network_store']}")
