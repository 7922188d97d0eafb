"""The ``torch-tensorrt`` command line (also ``python -m torch_tensorrt``).

    torch-tensorrt compile MODEL [-o OUT] [--input SPEC]... [--dtype D] [--setting NAME=VALUE]... [--json]
    torch-tensorrt inspect PROGRAM [--json]
    torch-tensorrt validate PROGRAM [--seed N] [--rtol R] [--json]
    torch-tensorrt cache [list [-v] | clean (--all | --older-than DAYS) [--dry-run]] [--json]

Exit codes: 0 success, 1 the operation failed (a validation out of tolerance, a compile error, a
refused file), 2 bad arguments. Progress goes to stderr, results to stdout; with ``--json`` stdout is
one JSON object (also for failures: ``{"error": ...}``) and there are no progress lines.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from torch_tensorrt.cli import _cache, _compile, _inspect, _validate
from torch_tensorrt.cli._output import Progress, print_json
from torch_tensorrt.cli._parsing import UsageError

PROG = "torch-tensorrt"


def build_parser() -> argparse.ArgumentParser:
    from torch_tensorrt._version import __version__

    # Options every subcommand takes, so they may follow the subcommand (`inspect x.pt2 --json`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout, no progress lines")
    common.add_argument("--traceback", action="store_true", help="on failure, print the Python traceback too")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compile PyTorch models into TensorRT-RTX engines, and inspect, validate and clean up after them.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_compile, _inspect, _validate, _cache):
        module.add_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    progress = Progress(enabled=not args.json)
    try:
        return int(args.handler(args, progress))
    except UsageError as exc:
        args.parser.error(str(exc))  # usage + "error: ..." on stderr, exit code 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG} {args.command}: interrupted\n")
        return 130
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, (ValueError, FileNotFoundError)) else str(exc)
        if args.traceback:
            traceback.print_exc()
        if args.json:
            print_json({"command": args.command, "error": message})
        hint = "" if args.traceback else " (--traceback shows where)"
        sys.stderr.write(f"{PROG} {args.command}: error: {message}{hint}\n")
        return 1
    return 2  # not reached: parser.error exits


__all__ = ["build_parser", "main"]
