"""``torch-tensorrt validate PROGRAM``: the engines on the CPU reference executor vs the PyTorch graph.

Exit code 0 when every output of every input case is within tolerance, 1 otherwise (including a
program that cannot be validated: no reference graph, or engines whose networks were not recorded).
"""

from __future__ import annotations

import argparse
from typing import Any

from torch_tensorrt.cli._output import Progress, print_json
from torch_tensorrt.cli._parsing import UsageError


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "validate",
        parents=[common],
        help="run a saved program on the CPU reference executor against its own PyTorch graph",
        description="Draw random inputs at the smallest, traced and largest sizes of the program's input ranges, "
        "run the program's TensorRT engines on the CPU reference executor and its PyTorch reference graph in eager "
        "mode, and compare every output. Errors are relative to the output's scale (its largest magnitude); the "
        "tolerance is the dtype's (float32 1e-4, float16 1e-2, bfloat16 2e-2) unless --rtol is given. float16 and "
        "bfloat16 outputs are measured against the graph evaluated in float32 and may also be as far off as "
        "PyTorch's own result in that dtype, times two. Exit code 0: all within tolerance; 1: not.",
    )
    p.add_argument(
        "program", metavar="PROGRAM", help="a .pt2 file saved by torch-tensorrt compile (or with a reference graph)"
    )
    p.add_argument("--store", help="emulation store holding the engines' networks (default: the emulated runtime's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--rtol", type=float, help="tolerance relative to each output's scale, for every dtype")
    p.set_defaults(handler=run, parser=p)


def run(args: argparse.Namespace, progress: Progress) -> int:
    from torch_tensorrt.testing import validate_program

    if args.rtol is not None and not args.rtol >= 0:
        raise UsageError(f"--rtol must be >= 0, got {args.rtol}")
    report = validate_program(args.program, store_dir=args.store, seed=args.seed, rtol=args.rtol, progress=progress)
    if args.json:
        print_json({"command": "validate", **report.to_dict()})
    else:
        print_report(report)
    return 0 if report.passed else 1


def print_report(report: Any) -> None:
    print(f"validating {report.path} on the reference executor (networks from {report.store_dir})")
    if report.error:
        print(f"FAILED: cannot validate: {report.error}")
        return
    for case in report.cases:
        shapes = ", ".join("x".join(map(str, s)) or "scalar" for s in case.input_shapes)
        where = "static shapes" if case.name == "static" else f"{case.name} sizes"
        print(f"  inputs at {where} ({shapes}):")
        if case.error:
            print(f"    FAIL: {case.error}")
        for o in case.outputs:
            print(f"    {o.describe()}")
    failed = sum(not c.passed for c in report.cases)
    print(
        "PASSED: every output is within tolerance"
        if report.passed
        else f"FAILED: {failed} of {len(report.cases)} input cases out of tolerance"
    )
