"""``torch-tensorrt cache [list|clean]``: the runtime cache, the engine cache and the emulation store on disk.

Only files these caches write are counted or removed, recognised by name (a cache directory given
through an environment variable or option may be shared with other files): the runtime cache's
``<engine hash>.trtcache`` files, their quarantined (``.corrupt-*``) and temporary siblings, its
directory lock (counted, never removed) and the per-file locks earlier versions left behind; the
engine cache's ``<key>.trtengine`` entries (written by compiles with ``cache_built_engines=True``,
in ``engine_cache_dir``: Torch-TensorRT's default, or ``--engine-cache-dir``), their temporaries and
its directory lock (never removed); the emulation store's ``<sha256>.network`` records and their
temporaries. Symbolic links and subdirectories are never followed or removed. Cleaning the runtime
cache or the engine cache holds that directory's lock, as eviction does, so no writer is using what
is deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch_tensorrt.cli._output import Progress, human_age, human_bytes, print_json
from torch_tensorrt.cli._parsing import UsageError

_DAY = 86400.0
_RECORD = re.compile(r"[0-9a-f]{64}\.(network|tmp\d+)")


@dataclass
class CacheFile:
    path: Path
    kind: str  # "cache", "entry", "lock", "old lock", "quarantined", "temporary", "record"
    size: int
    mtime: float


@dataclass
class CacheDir:
    name: str  # "runtime", "emulation", "engine"
    title: str
    path: Path
    cleanable: bool
    note: str = ""
    files: list[CacheFile] = field(default_factory=list)


def _runtime_kind(name: str) -> str | None:
    from torch_tensorrt.runtime._runtime_cache import CACHE_SUFFIX, LOCK_NAME, is_cache_file_name

    if name == LOCK_NAME:
        return "lock"
    if is_cache_file_name(name):
        return "cache"
    if CACHE_SUFFIX not in name:
        return None
    if name.endswith(CACHE_SUFFIX + ".lock"):
        return "old lock"  # one per cache file, from before the directory lock
    if ".corrupt-" in name:
        return "quarantined"
    return "temporary" if name.startswith(".") and name.endswith(".tmp") else None


def _engine_kind(name: str) -> str | None:
    from torch_tensorrt.dynamo._engine_cache import ENGINE_SUFFIX, LOCK_NAME, is_entry_name

    if name == LOCK_NAME:
        return "lock"
    if is_entry_name(name):
        return "entry"
    return "temporary" if name.startswith(".") and ENGINE_SUFFIX + "." in name and name.endswith(".tmp") else None


def _store_kind(name: str) -> str | None:
    match = _RECORD.fullmatch(name)
    if match is None:
        return None
    return "record" if match.group(1) == "network" else "temporary"


def _scan(directory: Path, classify: Any) -> list[CacheFile]:
    files = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        kind = classify(entry.name)
        st = entry.stat(follow_symlinks=False)
        if kind is None or not stat.S_ISREG(st.st_mode):
            continue  # not ours, a symlink or a directory: never counted, never removed
        files.append(CacheFile(Path(entry.path), kind, st.st_size, st.st_mtime))
    return files


def cache_dirs(engine_cache_dir: str | None = None) -> list[CacheDir]:
    """The runtime cache, the emulation store and the engine cache (``engine_cache_dir``, default
    Torch-TensorRT's ``<temp dir>/torch_tensorrt_engine_cache``). Nothing is created."""
    from torch_tensorrt.dynamo import _defaults
    from torch_tensorrt.runtime._runtime_cache import default_cache_location
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    # default_cache_location, not default_cache_dir: listing must not create the directory.
    runtime = CacheDir(
        "runtime", "runtime cache", default_cache_location(), True, "kernels compiled on the GPU, one file per engine"
    )
    runtime.files = _scan(runtime.path, _runtime_kind)
    store = CacheDir(
        "emulation",
        "emulation store",
        default_store_dir(),
        True,
        "engine networks for the CPU reference executor (validate)",
    )
    store.files = _scan(store.path, _store_kind)
    engine_dir = Path(os.path.abspath(os.path.expanduser(engine_cache_dir or _defaults.ENGINE_CACHE_DIR)))
    engine = CacheDir(
        "engine", "engine cache", engine_dir, True, "engines stored by compiles with cache_built_engines=True"
    )
    engine.files = _scan(engine.path, _engine_kind)
    return [runtime, engine, store]


def _summary(d: CacheDir, now: float) -> dict[str, Any]:
    kinds: dict[str, dict[str, int]] = {}
    for f in d.files:
        entry = kinds.setdefault(f.kind, {"files": 0, "bytes": 0})
        entry["files"] += 1
        entry["bytes"] += f.size
    ages = [now - f.mtime for f in d.files]
    return {
        "name": d.name,
        "title": d.title,
        "path": os.fspath(d.path),
        "exists": d.path.is_dir(),
        "note": d.note,
        "files": len(d.files),
        "bytes": sum(f.size for f in d.files),
        "oldest_days": max(ages) / _DAY if ages else None,
        "newest_days": min(ages) / _DAY if ages else None,
        "kinds": kinds,
    }


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "cache",
        parents=[common],
        help="list or clean the runtime cache, the engine cache and the emulation store",
        description="List (default) or clean the runtime cache ($TORCH_TENSORRT_CACHE_DIR), the engine cache "
        "(engine_cache_dir: --engine-cache-dir, default Torch-TensorRT's) and the emulation store "
        "($TORCH_TENSORRT_EMULATION_DIR): sizes, file counts and ages (by last write).",
    )
    engine_dir = argparse.ArgumentParser(add_help=False)
    engine_dir.add_argument(
        "--engine-cache-dir",
        metavar="DIR",
        help="the engine cache directory (the engine_cache_dir setting; default: Torch-TensorRT's, "
        "<temp dir>/torch_tensorrt_engine_cache)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", parents=[common, engine_dir], help="sizes, counts and ages (the default)")
    listing.add_argument("-v", "--verbose", action="store_true", help="list every file")
    clean = actions.add_parser(
        "clean", parents=[common, engine_dir], help="remove cache files",
        description="Remove cache files: all of them, or those last written more than DAYS ago. The runtime and engine "
        "caches are cleaned under their directory locks (waiting up to 10 s for a program saving to them).",
    )  # fmt: skip
    clean.add_argument(
        "--older-than", type=float, metavar="DAYS", help="remove files last written more than DAYS days ago"
    )
    clean.add_argument("--all", action="store_true", help="remove every cache file")
    clean.add_argument(
        "--only",
        choices=("runtime", "engine", "emulation"),
        action="append",
        help="clean this cache only (repeatable; default all three)",
    )
    clean.add_argument("--dry-run", action="store_true", help="show what would be removed")
    for parser in (p, listing, clean):
        parser.set_defaults(handler=run, parser=parser)
    p.set_defaults(verbose=False, engine_cache_dir=None)


def run(args: argparse.Namespace, progress: Progress) -> int:
    if args.action == "clean":
        return _clean(args)
    now = time.time()
    dirs = cache_dirs(args.engine_cache_dir)
    report = {"command": "cache", "action": "list", "caches": [_summary(d, now) for d in dirs]}
    if args.json:
        print_json(report)
        return 0
    for d, s in zip(dirs, report["caches"]):
        _print_dir(d, s, now, args.verbose)
    return 0


def _print_dir(d: CacheDir, s: dict[str, Any], now: float, verbose: bool) -> None:
    if not s["exists"]:
        print(f"{d.title}: {d.path} (does not exist)")
        return
    ages = (
        f", last written {human_age(s['newest_days'] * _DAY)} to {human_age(s['oldest_days'] * _DAY)} ago"
        if d.files
        else ""
    )
    print(f"{d.title}: {d.path}: {s['files']} files, {human_bytes(s['bytes'])}{ages}")
    print(f"  {d.note}")
    for kind, k in sorted(s["kinds"].items()):
        print(f"  {kind}: {k['files']} files, {human_bytes(k['bytes'])}")
    if verbose:
        for f in sorted(d.files, key=lambda f: f.mtime):
            print(f"    {f.path.name}  {human_bytes(f.size)}  {human_age(now - f.mtime)} ago")


# How long clean waits for a runtime-cache writer to release the directory lock.
LOCK_TIMEOUT_S = 10.0
# Emulation-store writes hold no lock (a temporary, then an atomic rename): a temporary this young
# may belong to a compile that is writing it, so even --all leaves it.
_STORE_TEMPORARY_GRACE_S = 3600.0


def _free_unlink(path: Path) -> bool:
    """Remove an old per-file lock unless a process (of an earlier version) holds it."""
    from torch_tensorrt._file_lock import file_lock

    try:
        with file_lock(path, timeout=0):
            path.unlink()
        return True
    except (TimeoutError, FileNotFoundError):
        return False


def _selected(d: CacheDir, cutoff: float | None, now: float) -> tuple[list[CacheFile], list[CacheFile]]:
    """(files to remove, files kept because a writer may be using them)."""
    if d.name in ("runtime", "engine"):
        # Under the directory lock every temporary is an orphan; an old lock goes with its cache.
        doomed = [
            f
            for f in d.files
            if f.kind not in ("lock", "old lock") and (cutoff is None or f.mtime < cutoff or f.kind == "temporary")
        ]
        remaining = {f.path.name for f in d.files if f.kind == "cache"} - {f.path.name for f in doomed}
        return doomed + [
            f for f in d.files if f.kind == "old lock" and f.path.name.removesuffix(".lock") not in remaining
        ], []
    doomed = [f for f in d.files if cutoff is None or f.mtime < cutoff]
    young = [f for f in doomed if f.kind == "temporary" and now - f.mtime < _STORE_TEMPORARY_GRACE_S]
    return [f for f in doomed if f not in young], young


def _directory_lock(d: CacheDir) -> contextlib.AbstractContextManager[Any]:
    from torch_tensorrt._file_lock import file_lock
    from torch_tensorrt.dynamo._engine_cache import LOCK_NAME as ENGINE_LOCK_NAME
    from torch_tensorrt.runtime._runtime_cache import LOCK_NAME

    lock_name = {"runtime": LOCK_NAME, "engine": ENGINE_LOCK_NAME}.get(d.name)
    if lock_name is None or not d.path.is_dir():
        return contextlib.nullcontext()
    return file_lock(d.path / lock_name, timeout=LOCK_TIMEOUT_S)


def _remove(d: CacheDir, files: list[CacheFile], report: dict[str, list[Any]]) -> None:
    try:
        with _directory_lock(d):
            for f in files:
                entry = {"cache": d.name, "path": os.fspath(f.path), "bytes": f.size}
                try:
                    done = _free_unlink(f.path) if f.kind == "old lock" else (f.path.unlink() is None)
                except FileNotFoundError:
                    continue  # removed meanwhile (eviction, another clean)
                except OSError as exc:
                    report["errors"].append(f"{f.path}: {exc}")
                    continue
                report["removed" if done else "kept_in_use"].append(entry)
    except TimeoutError as exc:
        report["errors"].append(f"{d.path}: {exc}; try again when no program is saving its {d.title}")


def _clean(args: argparse.Namespace) -> int:
    if args.all == (args.older_than is not None):
        raise UsageError("cache clean: give exactly one of --all or --older-than DAYS")
    if args.older_than is not None and not args.older_than >= 0:
        raise UsageError(f"--older-than must be a number of days >= 0, got {args.older_than}")
    now = time.time()
    cutoff = None if args.all else now - args.older_than * _DAY
    only = set(args.only or ("runtime", "engine", "emulation"))
    report: dict[str, list[Any]] = {"removed": [], "kept_in_use": [], "errors": []}
    for d in cache_dirs(args.engine_cache_dir):
        if not d.cleanable or d.name not in only:
            continue
        doomed, young = _selected(d, cutoff, now)
        report["kept_in_use"] += [{"cache": d.name, "path": os.fspath(f.path), "bytes": f.size} for f in young]
        if args.dry_run:
            report["removed"] += [{"cache": d.name, "path": os.fspath(f.path), "bytes": f.size} for f in doomed]
        else:
            _remove(d, doomed, report)
    removed_bytes = sum(r["bytes"] for r in report["removed"])
    if args.json:
        print_json(
            {
                "command": "cache",
                "action": "clean",
                "dry_run": args.dry_run,
                "removed_files": len(report["removed"]),
                "removed_bytes": removed_bytes,
                **report,
            }
        )
    else:
        verb = "would remove" if args.dry_run else "removed"
        print(f"{verb} {len(report['removed'])} files ({human_bytes(removed_bytes)}) from {', '.join(sorted(only))}")
        for k in report["kept_in_use"]:
            print(f"  kept {k['path']}: a running process may be writing it")
        for e in report["errors"]:
            print(f"  could not remove {e}")
    return 1 if report["errors"] else 0
