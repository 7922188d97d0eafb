"""What a program archive may hold before torch is allowed to read it.

torch.export.load and torch.jit.load can run code from a file: pickled members (sample inputs after a
failed safe load, weights or constants marked ``use_pickle``, ``custom_obj_*`` / ``opaque_obj_*``
constants), AOTInductor shared libraries, guard code turned into Python source, symbolic-shape
expressions given to ``sympy.sympify`` (which evaluates its text), graph targets that resolve to any
attribute of ``torch``, and TorchScript ``__setstate__`` methods run by the unpickler. This module reads
the archive with the standard zip reader and refuses, with a ValueError naming the member and the
reason, everything torch would execute or unpickle outside a small allowlist. Only after it passes does
the caller hand the file to torch.

Rules, one per member kind (the README's "Security" section states them for users):
- a regular file; members stored or deflated (sizes bounded before reading), plain relative names under one
  top-level folder, no symlinks, no "..", no duplicates;
- pickles may import only tensor-rebuild helpers, storages, dtypes and containers (no opcode that
  imports by a computed name), so torch's safe loader accepts them and its unsafe retry never runs;
- weights and constants are raw tensors (``use_pickle`` false, ``tensor_*`` constants only);
- graph targets are registered operators (``torch.ops.*``), ``_operator`` / ``math`` functions or
  torch's symbolic-shape helpers; guard code and symbolic expressions are plain arithmetic over sizes.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from typing import Any

import torch

from torch_tensorrt.dynamo.runtime._pickle_opcodes import PickleScanError, scan_pickle

# Bounds on what is read into memory before torch sees the file; real programs are far below them.
MAX_MEMBERS = 100_000
MAX_TEXT_MEMBER_BYTES = 512 * 1024 * 1024
MAX_PICKLE_BYTES = 64 * 1024 * 1024

_STORAGE_TYPES = frozenset(
    f"{kind}Storage"
    for kind in (
        "Float",
        "Double",
        "Half",
        "BFloat16",
        "Long",
        "Int",
        "Short",
        "Char",
        "Byte",
        "Bool",
        "ComplexFloat",
        "ComplexDouble",
        "Untyped",
    )
)
_DTYPE_NAMES = frozenset(name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype))
# (module, name) pairs a torch.save pickle of tensors, sizes and containers imports.
_TENSOR_PICKLE_GLOBALS = frozenset(
    {
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("collections", "OrderedDict"),
        ("torch", "Size"),
        ("torch", "device"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("builtins", "complex"),
    }
    | {("torch", s) for s in _STORAGE_TYPES}
    | {("torch", d) for d in _DTYPE_NAMES}
)
# Opcodes that import by a computed name or call through the copyreg extension registry.
_REFUSED_OPCODES = frozenset({"STACK_GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4"})
_TORCHSCRIPT_CUSTOM_CLASSES = frozenset({"__torch__.torch.classes.tensorrt"})


class ArchiveRefused(ValueError):
    """A member of the archive is something loading would execute or unpickle."""


def _refuse(member: str, reason: str) -> ArchiveRefused:
    return ArchiveRefused(f"member {member!r} {reason}")


# ------------------------------------------------------------------------------------------------
# The container
# ------------------------------------------------------------------------------------------------


def require_regular_file(path: str) -> int:
    """The size of ``path``; a FIFO, device or directory would hang or exhaust a reader."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path} is not a regular file; a saved program is a .pt2 or TorchScript archive file")
    return st.st_size


def _check_names(infos: list[zipfile.ZipInfo]) -> str:
    """The single top-level folder every member lives in."""
    if len(infos) > MAX_MEMBERS:
        raise ArchiveRefused(f"the archive has {len(infos)} members (limit {MAX_MEMBERS})")
    roots: set[str] = set()
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        parts = name.split("/")
        if (
            name.startswith("/")
            or "\\" in name
            or "\x00" in name
            or ":" in parts[0]
            or ".." in parts
            or "" in parts[:-1]
        ):
            raise _refuse(name, "has an absolute, parent-relative or malformed path")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(name, "is a symbolic link")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(
                name, f"uses zip compression method {info.compress_type}; torch reads stored or deflated members only"
            )
        if name in seen:
            raise _refuse(name, "appears twice")
        seen.add(name)
        roots.add(parts[0])
    if len(roots) != 1 or len(seen) == 0:
        raise ArchiveRefused(f"the archive must hold one top-level folder, found {sorted(roots)[:5]}")
    return roots.pop()


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    size = archive.getinfo(name).file_size
    if size > limit:
        raise _refuse(name, f"is {size} bytes, more than the {limit} bytes allowed for its kind")
    return archive.read(name)


# ------------------------------------------------------------------------------------------------
# Pickles
# ------------------------------------------------------------------------------------------------


def _pickle_globals(member: str, data: bytes) -> Iterator[tuple[str, str]]:
    try:
        for op in scan_pickle(data):
            if op.name in _REFUSED_OPCODES:
                raise _refuse(member, f"is a pickle using {op.name}, which imports or calls by a computed name")
            if op.name == "GLOBAL" and op.global_name is not None:
                yield op.global_name
    except PickleScanError as exc:
        raise _refuse(member, f"is not a readable pickle ({exc})") from exc


def check_tensor_pickle(member: str, data: bytes) -> None:
    """A torch.save pickle that only rebuilds tensors and plain containers."""
    for module, name in _pickle_globals(member, data):
        if (module, name) not in _TENSOR_PICKLE_GLOBALS:
            raise _refuse(member, f"is a pickle importing {module}.{name}; only tensors and containers are allowed")


def _check_torch_save_zip(member: str, data: bytes) -> None:
    """A nested torch.save archive (sample inputs): safe names and a tensor-only data.pkl."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _refuse(member, "is not a torch.save zip archive (legacy pickle formats are refused)") from exc
    with inner:
        root = _check_names(inner.infolist())
        pickles = [n for n in inner.namelist() if n.endswith(".pkl")]
        if pickles != [f"{root}/data.pkl"]:
            raise _refuse(member, f"holds pickles {pickles}; a torch.save archive holds exactly data.pkl")
        check_tensor_pickle(f"{member}:{pickles[0]}", _read(inner, pickles[0], MAX_PICKLE_BYTES))


# ------------------------------------------------------------------------------------------------
# Model JSON: graph targets, guard code and symbolic expressions
# ------------------------------------------------------------------------------------------------

_SYMPY_FUNCTIONS = frozenset(
    {
        "FloorDiv",
        "ModularIndexing",
        "Where",
        "PythonMod",
        "Mod",
        "CleanDiv",
        "CeilToInt",
        "FloorToInt",
        "CeilDiv",
        "LShift",
        "RShift",
        "IsNonOverlappingAndDenseIndicator",
        "TruncToFloat",
        "TruncToInt",
        "RoundToInt",
        "RoundDecimal",
        "ToFloat",
        "FloatPow",
        "PowByNatural",
        "IntTrueDiv",
        "FloatTrueDiv",
        "Identity",
        "OpaqueUnaryFn_sqrt",
        "BitwiseFn_bitwise_and",
        "BitwiseFn_bitwise_or",
        "BitwiseFn_bitwise_xor",
        "Max",
        "Min",
        "Abs",
        "Eq",
        "Ne",
        "Lt",
        "Le",
        "Gt",
        "Ge",
        "And",
        "Or",
        "Not",
        "Pow",
        "Mul",
        "Add",
        "Integer",
        "Rational",
        "floor",
        "ceiling",
        "Piecewise",
        "ITE",
    }
)
_ARITHMETIC = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.BoolOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Load,
)
_BUILTIN_NAMES = frozenset(dir(builtins))


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, bool)


_SYMBOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_ASSUMPTIONS = frozenset(
    {"positive", "negative", "nonnegative", "nonpositive", "integer", "real", "finite", "zero", "nonzero"}
)


def _symbol_call_ok(node: ast.Call) -> bool:
    """``Symbol('s0', positive=True, integer=True)``, the srepr form torch writes."""
    name_ok = len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    return (
        name_ok
        and _SYMBOL_NAME.fullmatch(node.args[0].value) is not None  # type: ignore[union-attr]
        and all(
            k.arg in _ASSUMPTIONS and isinstance(k.value, ast.Constant) and type(k.value.value) is bool
            for k in node.keywords
        )
    )


def _symbolic_node_ok(node: ast.AST, symbol_names: set[int]) -> bool:
    if isinstance(node, _ARITHMETIC) or _is_number(node) or id(node) in symbol_names:
        return True
    if isinstance(node, ast.keyword):
        return True  # checked with its Symbol call
    if isinstance(node, ast.Name):
        return (
            node.id in _SYMPY_FUNCTIONS
            or node.id == "Symbol"
            or (_SYMBOL_NAME.fullmatch(node.id) is not None and node.id not in _BUILTIN_NAMES)
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "Symbol":
            return _symbol_call_ok(node)
        return node.func.id in _SYMPY_FUNCTIONS and not node.keywords
    return False


def check_symbolic_expression(member: str, text: str) -> None:
    """Text torch passes to sympy.sympify (which evaluates it): arithmetic over size symbols only."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _refuse(member, f"holds the symbolic expression {text[:80]!r}, which is not plain arithmetic") from exc
    symbol_names = {
        id(n.args[0])
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Symbol" and n.args
    }
    for node in ast.walk(tree):
        if not _symbolic_node_ok(node, symbol_names):
            raise _refuse(
                member, f"holds the symbolic expression {text[:80]!r} with {type(node).__name__}, which is not allowed"
            )


_GUARD_METHODS = frozenset({"size", "stride", "storage_offset", "dim", "numel"})


def check_guard_code(member: str, text: str) -> None:
    """A guard torch.export turns into Python source: comparisons of input sizes with numbers."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _refuse(member, f"holds the guard {text[:80]!r}, which is not an expression") from exc
    for node in ast.walk(tree):
        if isinstance(node, _ARITHMETIC) or _is_number(node):
            continue
        if isinstance(node, ast.Name) and node.id == "L":
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            continue  # a key of L['x']
        if isinstance(node, ast.Subscript):
            continue
        if isinstance(node, ast.Attribute) and node.attr in _GUARD_METHODS:
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _GUARD_METHODS
            and not node.keywords
            and all(_is_number(a) for a in node.args)
        ):
            continue
        raise _refuse(member, f"holds the guard {text[:80]!r} with {type(node).__name__}, which is not allowed")


# ATen operators named after Python's operator methods. Any other "__" in a target is refused: torch
# resolves targets attribute by attribute, and dunder attributes lead to Python internals.
_DUNDER_ATEN_OPS = frozenset(
    f"__{name}__" for op in ("and", "or", "xor", "lshift", "rshift") for name in (op, f"i{op}")
)


def _without_dunder_op(target: str) -> str:
    """``target`` with an allowed dunder op name (torch.ops.aten.__and__.Tensor) taken out."""
    parts = target.split(".")
    if len(parts) == 5 and parts[:3] == ["torch", "ops", "aten"] and parts[3] in _DUNDER_ATEN_OPS:
        return ".".join(parts[:3] + parts[4:])
    return target


def check_graph_target(member: str, target: str) -> None:
    """Targets resolve by attribute lookup on torch / operator / math: only operators and size helpers."""
    ok = (
        target.startswith("torch.ops.")
        or (target.startswith(("_operator.", "math.")) and target.count(".") == 1)
        or (target.startswith(("torch.sym_", "torch._sym_")) and target.count(".") == 1)
    )
    if not ok or "__" in _without_dunder_op(target):
        raise _refuse(
            member,
            f"calls {target!r}; a program may call registered operators, _operator, math and torch.sym_* functions only",
        )


def _walk_json(member: str, value: Any, key: str | None = None) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "range_constraints" and isinstance(v, dict):
                for symbol in v:
                    check_symbolic_expression(member, str(symbol))
            _walk_json(member, v, k)
    elif isinstance(value, list):
        if key == "guards_code":
            for guard in value:
                check_guard_code(member, str(guard))
            return
        for item in value:
            _walk_json(member, item, key)
    elif isinstance(value, str):
        if key == "expr_str":
            check_symbolic_expression(member, value)
        elif key == "target":
            check_graph_target(member, value)


def check_model_json(member: str, data: bytes) -> None:
    try:
        model = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(member, f"is not valid JSON ({exc})") from exc
    _walk_json(member, model)


# ------------------------------------------------------------------------------------------------
# Archives
# ------------------------------------------------------------------------------------------------

_PT2_FIXED = frozenset({"archive_format", "archive_version", "byteorder", ".data/version", ".data/serialization_id"})


def _check_payload_config(member: str, data: bytes, constants: bool) -> None:
    try:
        config = json.loads(data)["config"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise _refuse(member, f"is not a payload config ({exc})") from exc
    for fqn, meta in config.items():
        if not isinstance(meta, dict) or meta.get("use_pickle") or meta.get("tensor_meta") is None:
            raise _refuse(member, f"stores {fqn!r} as a pickled object; only raw tensors are loaded")
        if constants and not str(meta.get("path_name", "")).startswith("tensor_"):
            raise _refuse(member, f"stores {fqn!r} as {meta.get('path_name')!r}, a custom or opaque object")


def _check_pt2_member(archive: zipfile.ZipFile, name: str, rel: str) -> None:
    if rel in _PT2_FIXED or rel.startswith("extra/"):
        return
    if rel.startswith("models/") and rel.endswith(".json"):
        check_model_json(name, _read(archive, name, MAX_TEXT_MEMBER_BYTES))
    elif rel.startswith("data/sample_inputs/") and rel.endswith(".pt"):
        _check_torch_save_zip(name, _read(archive, name, MAX_PICKLE_BYTES))
    elif rel.startswith(("data/weights/", "data/constants/")) and rel.endswith("_config.json"):
        _check_payload_config(name, _read(archive, name, MAX_TEXT_MEMBER_BYTES), rel.startswith("data/constants/"))
    elif rel.startswith(("data/weights/weight_", "data/constants/tensor_")) and rel.count("/") == 2:
        return  # raw tensor bytes, read as storage; a config refuses any use_pickle entry naming them
    else:
        reason = (
            "is AOTInductor code (a shared library)"
            if rel.startswith("data/aotinductor/")
            else "is not part of a torch.export program"
        )
        raise _refuse(name, reason)


def check_pt2(archive: zipfile.ZipFile) -> None:
    root = _check_names(archive.infolist())
    marker = f"{root}/archive_format"
    if marker not in archive.namelist() or _read(archive, marker, 64) != b"pt2":
        raise ArchiveRefused("the archive is not a torch.export .pt2 archive (no archive_format 'pt2')")
    for name in archive.namelist():
        _check_pt2_member(archive, name, name[len(root) + 1 :])


_TS_TOP = frozenset({"data.pkl", "constants.pkl", "version", "byteorder", "traced_inputs.pkl"})
_TS_FOLDERS = ("code/", "data/", "constants/", "extra/", ".data/", "traced_inputs/")
_TS_PICKLE_GLOBALS = frozenset(
    {("torch._utils", "_rebuild_tensor_v2"), ("collections", "OrderedDict"), ("torch", "device")}
    | {("torch", s) for s in _STORAGE_TYPES}
)


def _check_torchscript_pickle(member: str, data: bytes) -> None:
    for module, name in _pickle_globals(member, data):
        if module == "torch.jit._pickle" or (module, name) in _TS_PICKLE_GLOBALS:
            continue
        if module.startswith("__torch__.torch.classes."):
            if module not in _TORCHSCRIPT_CUSTOM_CLASSES:
                raise _refuse(member, f"creates the custom class {module}.{name}; only tensorrt.Engine is allowed")
            continue
        if module.startswith("__torch__"):
            continue  # a TorchScript class compiled from code/ (checked for __setstate__ below)
        raise _refuse(member, f"is a pickle importing {module}.{name}, which TorchScript archives never need")


def check_torchscript(archive: zipfile.ZipFile) -> None:
    root = _check_names(archive.infolist())
    for name in archive.namelist():
        rel = name[len(root) + 1 :]
        if rel not in _TS_TOP and not rel.startswith(_TS_FOLDERS):
            raise _refuse(name, "is not part of a TorchScript archive")
        if rel.endswith(".pkl") or rel.endswith(".debug_pkl"):
            _check_torchscript_pickle(name, _read(archive, name, MAX_TEXT_MEMBER_BYTES))
        elif rel.startswith("code/") and rel.endswith(".py"):
            source = _read(archive, name, MAX_TEXT_MEMBER_BYTES)
            if b"__setstate__" in source:
                raise _refuse(name, "defines __setstate__, TorchScript code the loader would run")


def archive_kind(archive: zipfile.ZipFile) -> str:
    """'pt2' or 'torchscript', from the member names alone."""
    rels = {n.split("/", 1)[1] for n in archive.namelist() if "/" in n}
    if "archive_format" in rels:
        return "pt2"
    if "data.pkl" in rels and any(r.startswith("code/") for r in rels):
        return "torchscript"
    raise ArchiveRefused("the archive is neither a torch.export program (.pt2) nor a TorchScript archive")


def check_program_file(path: str) -> str:
    """Refuse ``path`` unless torch can load it without running anything from it; returns its kind."""
    require_regular_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            kind = archive_kind(archive)
            (check_pt2 if kind == "pt2" else check_torchscript)(archive)
            return kind
    except ArchiveRefused as exc:
        raise ValueError(f"{path}: refusing to load: {exc}") from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        UnicodeDecodeError,
        EOFError,
        OSError,
    ) as exc:
        raise ValueError(
            f"{path} is not a program saved by torch_tensorrt.save (not a readable zip archive: {exc})"
        ) from exc
