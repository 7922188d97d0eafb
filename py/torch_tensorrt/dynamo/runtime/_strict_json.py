"""Strict readers for untrusted JSON and text: every problem is a ``ValueError`` naming where it is.

A saved program is untrusted input, so its engine info and metadata are read with these: exact
types (``True`` is not an int), bounded parsing (size, nesting depth, integer length checked before
``json.loads`` does the work), no duplicate keys, no NaN/Infinity, and messages that quote hostile
text only in a shortened, readable form. The C++ reader (core/runtime/Json.cpp, EngineMetadata.cpp)
gives the same verdicts with the same texts.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from typing import Any, NoReturn

logger = logging.getLogger("torch_tensorrt")

_MAX_INT_DIGITS = 20  # enough for any int64, keeps int() of hostile text cheap


def short(value: object, limit: int = 60) -> str:
    """repr() of possibly hostile data, cut so messages stay readable."""
    if not isinstance(value, str):
        return type(value).__name__
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value)} chars)"


def fail(path: str, what: str) -> NoReturn:
    raise ValueError(f"{path}: {what}")


def kind(value: object) -> str:
    """The JSON name of a value's type, for "expected X, found Y" messages."""
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def as_bool(value: object, path: str) -> bool:
    if type(value) is not bool:
        fail(path, f"expected true/false, found {kind(value)}")
    return value


def as_int(value: object, path: str, lo: int, hi: int) -> int:
    if type(value) is not int:
        fail(path, f"expected an integer, found {kind(value)}")
    if not lo <= value <= hi:
        fail(path, f"{value} is outside [{lo}, {hi}]")
    return value


def as_list(value: object, path: str) -> list[Any]:
    if type(value) is not list:
        fail(path, f"expected a list, found {kind(value)}")
    return value


def as_object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        fail(path, f"expected an object, found {kind(value)}")
    return value


def unique(values: Sequence[str], path: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            fail(path, f"duplicate entry {short(v)}")
        seen.add(v)


def split_known(obj: dict[str, Any], known: Sequence[str], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the keys this reader knows, the others); the others were written by a newer reader."""
    extra = {k: v for k, v in obj.items() if k not in known}
    if extra:
        names = ", ".join(short(k, 40) for k in list(extra)[:10])
        logger.debug(
            "engine metadata: ignoring unknown key(s) %s in %s (written by a newer torch_tensorrt?)",
            names,
            path,
        )
    return {k: v for k, v in obj.items() if k in known}, extra


def check_extra(extra: object, known: Sequence[str], what: str) -> dict[str, Any]:
    """The unknown keys an object carries back on writing; they must not shadow a known key."""
    if type(extra) is not dict:
        raise ValueError(f"{what}.extra must be a dict, found {type(extra).__name__}")
    for k in extra:
        if type(k) is not str:
            raise ValueError(f"{what}.extra keys must be str")
        if k in known:
            raise ValueError(f"{what}.extra must not hold the known key {k!r}")
    return extra


def loads(text: str) -> Any:
    """``json.loads`` refusing duplicate keys, NaN/Infinity and over-long integer literals.

    Raises ``ValueError`` (or ``RecursionError`` on deep nesting: call :func:`too_deep` first).
    """
    return json.loads(
        text,
        object_pairs_hook=_object_pairs,
        parse_int=_int,
        parse_float=_float,
        parse_constant=_constant,
    )


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are resolved differently by different JSON parsers (the
    # C++ side may read this too), so an ambiguous document is refused.
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {short(k, 40)}")
        out[k] = v
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"integer literal longer than {_MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:30]} is out of range")
    return value


def _constant(text: str) -> NoReturn:
    raise ValueError(f"{text} is not valid JSON")


_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')


def too_deep(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit``.

    A linear scan run before ``json.loads``, whose recursive decoder would
    otherwise be driven into RecursionError (or a long stall) by hostile input.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    skip_to = -1
    for m in _JSON_SPECIAL.finditer(text):
        i = m.start()
        if i < skip_to:  # the character after a backslash escape
            continue
        ch = text[i]
        if in_string:
            if ch == "\\":
                skip_to = i + 2
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False
