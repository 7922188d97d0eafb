"""``torch-tensorrt cache [list|clean]``: the runtime cache and the emulation store on disk.

Only files these caches write are counted or removed, recognised by name (a cache directory given
through an environment variable may be shared with other files): the runtime cache's
``<engine hash>.trtcache`` files and their lock, quarantined (``.corrupt-*``) and temporary siblings;
the emulation store's ``<sha256>.network`` records and their temporaries. Symbolic links and
subdirectories are never followed or removed. Torch-TensorRT's engine-cache directory is listed when
it exists, but this build never writes it (engine caching is not implemented), so it is not cleaned.
"""

from __future__ import annotations

import argparse
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
    kind: str  # "cache", "lock", "quarantined", "temporary", "record"
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


def _runtime_kind(name: str, suffix: str) -> str | None:
    if suffix not in name:
        return None
    if name.endswith(suffix + ".lock"):
        return "lock"
    if name.endswith(suffix):
        return "cache"
    if ".corrupt-" in name:
        return "quarantined"
    return "temporary" if name.startswith(".") and name.endswith(".tmp") else None


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


def _runtime_cache_location() -> Path:
    from torch_tensorrt.runtime import _runtime_cache

    # default_cache_location() does not create the directory (listing must not); older code only has
    # default_cache_dir(), which creates it 0700.
    locate = getattr(_runtime_cache, "default_cache_location", _runtime_cache.default_cache_dir)
    return Path(locate())


def cache_dirs() -> list[CacheDir]:
    from torch_tensorrt.dynamo._defaults import ENGINE_CACHE_DIR
    from torch_tensorrt.runtime._runtime_cache import CACHE_SUFFIX
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    runtime = CacheDir("runtime", "runtime cache", _runtime_cache_location(), True, "kernels compiled on the GPU, one file per engine")
    runtime.files = _scan(runtime.path, lambda name: _runtime_kind(name, CACHE_SUFFIX))
    store = CacheDir("emulation", "emulation store", default_store_dir(), True, "engine networks for the CPU reference executor (validate)")
    store.files = _scan(store.path, _store_kind)
    dirs = [runtime, store]
    if os.path.isdir(ENGINE_CACHE_DIR):
        dirs.append(CacheDir("engine", "engine cache", Path(ENGINE_CACHE_DIR), False, "Torch-TensorRT's default engine_cache_dir; this build never writes it"))
    return dirs


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
        help="list or clean the runtime cache and the emulation store",
        description="List (default) or clean the runtime cache ($TORCH_TENSORRT_CACHE_DIR) and the emulation store "
        "($TORCH_TENSORRT_EMULATION_DIR): sizes, file counts and ages (by last write).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="sizes, counts and ages (the default)")
    listing.add_argument("-v", "--verbose", action="store_true", help="list every file")
    clean = actions.add_parser("clean", parents=[common], help="remove cache files", description="Remove cache files: all of them, or those last written more than DAYS ago. A runtime cache whose lock is held by a running process is kept.")
    clean.add_argument("--older-than", type=float, metavar="DAYS", help="remove files last written more than DAYS days ago")
    clean.add_argument("--all", action="store_true", help="remove every cache file")
    clean.add_argument("--only", choices=("runtime", "emulation"), action="append", help="clean this cache only (repeatable; default both)")
    clean.add_argument("--dry-run", action="store_true", help="show what would be removed")
    for parser in (p, listing, clean):
        parser.set_defaults(handler=run, parser=parser)
    p.set_defaults(verbose=False)


def run(args: argparse.Namespace, progress: Progress) -> int:
    if args.action == "clean":
        return _clean(args)
    now = time.time()
    dirs = cache_dirs()
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
    ages = f", last written {human_age(s['newest_days'] * _DAY)} to {human_age(s['oldest_days'] * _DAY)} ago" if d.files else ""
    print(f"{d.title}: {d.path}: {s['files']} files, {human_bytes(s['bytes'])}{ages}")
    print(f"  {d.note}")
    for kind, k in sorted(s["kinds"].items()):
        print(f"  {kind}: {k['files']} files, {human_bytes(k['bytes'])}")
    if verbose:
        for f in sorted(d.files, key=lambda f: f.mtime):
            print(f"    {f.path.name}  {human_bytes(f.size)}  {human_age(now - f.mtime)} ago")


def _entry(f: CacheFile) -> str:
    """The cache file a runtime-cache file belongs to (``<hash>.trtcache``), from its name."""
    name = f.path.name
    cut = name.find(".trtcache")
    return name[: cut + len(".trtcache")].lstrip(".") if cut >= 0 else name


def _held(lock: Path) -> bool:
    from torch_tensorrt.runtime._file_lock import file_lock

    try:
        with file_lock(lock, timeout=0):
            return False
    except TimeoutError:
        return True


def _lock_free_unlink(path: Path) -> bool:
    """Remove a lock file unless a process holds it. Held while it is unlinked, so no holder loses it;
    a process that opened the file just before can still lock the unlinked copy, which only matters
    while it saves that same cache, and its cache file is already gone."""
    from torch_tensorrt.runtime._file_lock import file_lock

    try:
        with file_lock(path, timeout=0):
            path.unlink()
        return True
    except (TimeoutError, FileNotFoundError):
        return False


def _selected(d: CacheDir, cutoff: float | None) -> tuple[list[CacheFile], list[CacheFile]]:
    """(files to remove, files kept because a running process holds their cache's lock). A lock
    file goes only with its cache file, and only when nobody holds it."""
    in_use = {_entry(f) for f in d.files if f.kind == "lock" and _held(f.path)}
    doomed = [f for f in d.files if f.kind != "lock" and (cutoff is None or f.mtime < cutoff)]
    kept = [f for f in doomed if _entry(f) in in_use]
    doomed = [f for f in doomed if _entry(f) not in in_use]
    remaining = {f.path.name for f in d.files if f.kind == "cache"} - {f.path.name for f in doomed}
    locks = [f for f in d.files if f.kind == "lock" and _entry(f) not in remaining and _entry(f) not in in_use]
    return doomed + locks, kept


def _clean(args: argparse.Namespace) -> int:
    if args.all == (args.older_than is not None):
        raise UsageError("cache clean: give exactly one of --all or --older-than DAYS")
    if args.older_than is not None and not args.older_than >= 0:
        raise UsageError(f"--older-than must be a number of days >= 0, got {args.older_than}")
    cutoff = None if args.all else time.time() - args.older_than * _DAY
    only = set(args.only or ("runtime", "emulation"))
    removed, kept, errors = [], [], []
    for d in cache_dirs():
        if not d.cleanable or d.name not in only:
            continue
        doomed, in_use = _selected(d, cutoff)
        kept += [{"cache": d.name, "path": os.fspath(f.path), "bytes": f.size} for f in in_use]
        for f in doomed:
            entry = {"cache": d.name, "path": os.fspath(f.path), "bytes": f.size}
            if args.dry_run:
                removed.append(entry)
                continue
            try:
                done = _lock_free_unlink(f.path) if f.kind == "lock" else (f.path.unlink() is None)
            except FileNotFoundError:
                continue  # removed concurrently
            except OSError as exc:
                errors.append(f"{f.path}: {exc}")
                continue
            (removed if done else kept).append(entry)
    report = {
        "command": "cache", "action": "clean", "dry_run": args.dry_run,
        "removed_files": len(removed), "removed_bytes": sum(r["bytes"] for r in removed),
        "removed": removed, "kept_in_use": kept, "errors": errors,
    }  # fmt: skip
    if args.json:
        print_json(report)
    else:
        verb = "would remove" if args.dry_run else "removed"
        print(f"{verb} {len(removed)} files ({human_bytes(report['removed_bytes'])}) from {', '.join(sorted(only))}")
        for k in kept:
            print(f"  kept {k['path']}: a running process holds its runtime cache's lock")
        for e in errors:
            print(f"  could not remove {e}")
    return 1 if errors else 0
