"""Describing a JSON object once, as a table of keys: :class:`Schema` reads an object (required and
optional keys, defaults, keys given together, rules between keys, unknown keys kept aside) and writes
it back from a dataclass, so that reading, writing and the unknown-key rule all come from one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from torch_tensorrt.dynamo.runtime._strict_json import as_object, check_extra, fail, split_known


def identity(value: Any) -> Any:
    return value


#: Key.default: the key must be present.
REQUIRED: Final = object()
#: Key.default: a missing key leaves the field at its dataclass default.
OPTIONAL: Final = object()


@dataclass(frozen=True)
class Key:
    """One key of a JSON object: how it is read, written and defaulted.

    ``default`` is :data:`REQUIRED`, :data:`OPTIONAL` or a JSON value that is read in place of a
    missing key (so the rules for a default and for a written value are the same).
    """

    name: str
    read: Callable[[Any, str], Any]  # (JSON value, its path) -> field value
    default: Any = REQUIRED
    write: Callable[[Any], Any] = identity  # field value -> JSON value
    omit_none: bool = False  # a field left at None is not written
    stored: bool = True  # False: read and written, but not a field (the format marker)
    # A rule between this key and the keys before it, run as soon as it is read: (values, object path).
    check: Callable[[dict[str, Any], str], None] | None = None


@dataclass(frozen=True)
class Schema:
    """The keys of one JSON object, in reading (and writing) order."""

    what: str  # the dataclass, for messages about its ``extra``
    keys: tuple[Key, ...]
    together: tuple[str, ...] = ()  # keys given all together or not at all
    check: Callable[[dict[str, Any], str], None] | None = None  # run once every key is read

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def read(self, obj: object, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(field values by name, unknown keys) of the JSON object ``obj`` found at ``path``."""
        known, extra = split_known(as_object(obj, path), self.names, path)
        for key in self.keys:
            if key.default is REQUIRED and key.name not in known:
                fail(path, f"missing required key {key.name!r}")
        values: dict[str, Any] = {}
        for key in self.keys:
            if key.name not in known and key.default is OPTIONAL:
                continue
            if key.name in self.together:
                self._check_together(known, path)
            value = key.read(known.get(key.name, key.default), f"{path}.{key.name}")
            if key.stored:
                values[key.name] = value
            if key.check is not None:
                key.check(values, path)
        if self.check is not None:
            self.check(values, path)
        return values, extra

    def _check_together(self, known: dict[str, Any], path: str) -> None:
        present = [k for k in self.together if k in known]
        if present and len(present) != len(self.together):
            names = ", ".join(self.together[:-1]) + " and " + self.together[-1]
            fail(path, f"{names} must be given together")

    def write(self, obj: Any) -> dict[str, Any]:
        """The JSON object of ``obj`` (a dataclass with one field per stored key, plus ``extra``)."""
        out: dict[str, Any] = {}
        for key in self.keys:
            value = getattr(obj, key.name) if key.stored else None
            if key.omit_none and value is None:
                continue
            out[key.name] = key.write(value)
        out.update(check_extra(obj.extra, self.names, self.what))
        return out
