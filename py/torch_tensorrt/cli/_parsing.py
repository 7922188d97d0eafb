"""Parsing the command line's values: shapes, input ranges, dtypes, settings and config overrides.

Every function raises :class:`UsageError` with a message naming the argument and the accepted
form, which the command line turns into argparse's "error: ..." and exit code 2.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._Input import Input


class UsageError(ValueError):
    """A bad argument: reported with the command's usage, exit code 2."""


DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32, "float": torch.float32, "fp32": torch.float32,
    "float16": torch.float16, "half": torch.float16, "fp16": torch.float16,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float64": torch.float64, "double": torch.float64,
    "int64": torch.int64, "long": torch.int64,
    "int32": torch.int32, "int": torch.int32,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}  # fmt: skip


def parse_dtype(text: str, what: str = "--dtype") -> torch.dtype:
    dtype = DTYPES.get(text.strip().lower())
    if dtype is None:
        raise UsageError(f"{what}: unknown dtype {text!r}; use one of {', '.join(DTYPES)}")
    return dtype


def parse_shape(text: str, what: str = "--input") -> tuple[int, ...]:
    """``1x3x224x224`` -> (1, 3, 224, 224)."""
    parts = text.strip().lower().split("x")
    if not text.strip() or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"{what}: {text!r} is not a shape; write sizes joined by 'x', e.g. 1x3x224x224")
    return tuple(int(p) for p in parts)


def parse_input(text: str, default_dtype: torch.dtype) -> Input:
    """``SHAPE`` or ``min=SHAPE,opt=SHAPE,max=SHAPE``, optionally ``@DTYPE`` (e.g. ``1x16@int64``)."""
    body, _, dtype_text = text.partition("@")
    dtype = parse_dtype(dtype_text, f"--input {text}") if dtype_text else default_dtype
    if "=" not in body:
        return Input(shape=parse_shape(body, f"--input {text}"), dtype=dtype)
    ranges: dict[str, tuple[int, ...]] = {}
    for item in body.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in ("min", "opt", "max") or key in ranges:
            raise UsageError(
                f"--input {text}: expected min=SHAPE,opt=SHAPE,max=SHAPE (each once), e.g. "
                "min=1x3x224x224,opt=4x3x224x224,max=8x3x224x224"
            )
        ranges[key] = parse_shape(value, f"--input {text}")
    if set(ranges) != {"min", "opt", "max"}:
        raise UsageError(
            f"--input {text}: give all of min=, opt= and max= (missing {sorted({'min', 'opt', 'max'} - set(ranges))})"
        )
    try:
        return Input(min_shape=ranges["min"], opt_shape=ranges["opt"], max_shape=ranges["max"], dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--input {text}: {exc}") from exc


# --------------------------------------------------------------------------------------------------
# Compilation settings: each value is converted by the field's declared type


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _as_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise UsageError(f"--setting {name}={text}: expected a boolean (true/false)")


def _as_number(name: str, text: str, kind: type) -> Any:
    try:
        return kind(text.strip().replace("_", ""))
    except ValueError:
        raise UsageError(f"--setting {name}={text}: expected {'an integer' if kind is int else 'a number'}") from None


def _convert(name: str, declared: str, text: str) -> Any:
    """``text`` as a value of the field type ``declared`` (the annotation string of the dataclass)."""
    kinds = [k.strip() for k in declared.split("|")]
    if "None" in kinds and text.strip().lower() in ("none", "null"):
        return None
    base = next((k for k in kinds if k != "None"), "str")
    if base == "bool":
        if "str" in kinds and text.strip().lower() not in _TRUE + _FALSE:
            return text  # dryrun: a report file path
        return _as_bool(name, text)
    if base in ("int", "float"):
        return _as_number(name, text, int if base == "int" else float)
    if base.startswith(("frozenset", "tuple", "list")):
        return tuple(item.strip() for item in text.split(",") if item.strip())
    if base in ("Any", "object"):
        raise UsageError(
            f"--setting {name}: this setting takes a Python object and cannot be given on the command line"
        )
    return text  # str, and names the settings resolve themselves (dtype, Device, EngineCapability)


def parse_settings(items: Sequence[str]) -> dict[str, Any]:
    """``["min_block_size=1", ...]`` -> keyword settings, checked by CompilationSettings itself."""
    from torch_tensorrt.dynamo._settings import CompilationSettings

    fields = {f.name: str(f.type) for f in dataclasses.fields(CompilationSettings)}
    settings: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--setting {item!r}: expected NAME=VALUE, e.g. --setting min_block_size=1")
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(
                f"--setting {name}: no such compilation setting{hint}; valid settings: {', '.join(fields)}"
            )
        if name in settings:
            raise UsageError(f"--setting {name} is given twice")
        settings[name] = _convert(name, fields[name], value)
    try:
        CompilationSettings.from_kwargs(**settings)  # the library's own checks, before anything is built
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--setting: {exc}") from exc
    return settings


def parse_config_overrides(items: Sequence[str], what: str) -> dict[str, Any]:
    """``["n_layer=2", "use_cache=false"]`` -> {name: JSON value, or the text when it is not JSON}."""
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{what} {item!r}: expected NAME=VALUE, e.g. {what} n_layer=2")
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            overrides[name.strip()] = lowered == "true"
            continue
        try:
            overrides[name.strip()] = json.loads(value)
        except ValueError:
            overrides[name.strip()] = value
    return overrides
