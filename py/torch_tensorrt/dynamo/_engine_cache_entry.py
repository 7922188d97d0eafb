"""The engine cache entry format: a segment's engine bytes and bindings, with a checked header.

**The entry** (:func:`encode_entry` / :func:`decode_entry`, ``BaseEngineCache.pack`` / ``unpack``) is bytes in this
format (integers little-endian; no pickle, so loading an entry never runs code from it)::

    offset  size  field
    0       8     magic            b"TTRTENG\\0"
    8       4     format version   u32, currently 1
    12      4     flags            u32, reserved, must be 0
    16      4     metadata length  u32, at most MAX_METADATA_BYTES
    20      8     engine length    u64
    28      32    SHA-256 of the metadata and engine bytes
    60      m     metadata         UTF-8 JSON: {"key", "inputs", "outputs"} (binding names, dtypes,
                                   shapes, input ranges, symbolic sizes as checked expressions)
    60+m    n     engine           TensorRT's serialized engine, untouched

An entry that is not exactly this (truncated, garbled, another key, bindings that do not match the
segment) is reported by the cache (``_engine_cache``) with an ``EngineCacheWarning`` and the engine is built as if there were no
entry; it never fails a compile.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt._cache_files import header_problem

MAGIC = b"TTRTENG\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIIIQ32s")
HEADER_SIZE = _HEADER.size  # 60
MAX_METADATA_BYTES = 1 << 20
_MAX_METADATA_DEPTH = 8


class EngineCacheFormatError(ValueError):
    """Bytes that are not an engine cache entry in this format."""


@dataclass(frozen=True)
class CachedBinding:
    """One engine input or output as the runtime module needs it.

    ``symbolic_shape`` holds ints and shape expressions over the graph's size symbols (``"s0*2"``);
    ``shape`` (-1 marks a dynamic dim) and ``shape_range`` (min, opt, max) are for inputs only.
    """

    name: str
    dtype: torch.dtype
    symbolic_shape: tuple[int | str, ...]
    shape: tuple[int, ...] | None = None
    shape_range: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None


@dataclass(frozen=True)
class CachedEngine:
    """What a cache hit gives back: the engine bytes and its bindings, under the key they were stored by."""

    key: str
    engine: bytes
    inputs: tuple[CachedBinding, ...]
    outputs: tuple[CachedBinding, ...]


def _binding_document(b: CachedBinding) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": b.name,
        "dtype": str(b.dtype).removeprefix("torch."),
        "symbolic_shape": list(b.symbolic_shape),
    }
    if b.shape is not None:
        doc["shape"] = list(b.shape)
    if b.shape_range is not None:
        doc["shape_range"] = [list(s) for s in b.shape_range]
    return doc


def encode_entry(entry: CachedEngine) -> bytes:
    """Entry -> bytes in the format of the module docstring (no pickle)."""
    metadata = json.dumps(
        {
            "key": entry.key,
            "inputs": [_binding_document(b) for b in entry.inputs],
            "outputs": [_binding_document(b) for b in entry.outputs],
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    if len(metadata) > MAX_METADATA_BYTES:
        raise EngineCacheFormatError(f"entry metadata is {len(metadata)} bytes, over {MAX_METADATA_BYTES}")
    engine = bytes(entry.engine)
    digest = hashlib.sha256(metadata + engine).digest()
    return _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(metadata), len(engine), digest) + metadata + engine


def decode_entry(blob: bytes) -> CachedEngine:
    """Bytes -> entry; raises EngineCacheFormatError for anything that is not exactly an entry."""
    if len(blob) < HEADER_SIZE:
        raise EngineCacheFormatError(
            f"entry is {len(blob)} bytes, shorter than its {HEADER_SIZE}-byte header (truncated)"
        )
    magic, version, flags, meta_len, engine_len, digest = _HEADER.unpack_from(blob)
    problem = header_problem(magic, version, flags, MAGIC, FORMAT_VERSION, "an engine cache entry")
    if problem is not None:
        raise EngineCacheFormatError(problem)
    if meta_len > MAX_METADATA_BYTES:
        raise EngineCacheFormatError(f"metadata length {meta_len} is over the {MAX_METADATA_BYTES}-byte limit")
    expected = HEADER_SIZE + meta_len + engine_len
    if len(blob) != expected:
        raise EngineCacheFormatError(f"entry is {len(blob)} bytes, its header says {expected} (truncated or garbled)")
    body = memoryview(blob)[HEADER_SIZE:]
    if hashlib.sha256(body).digest() != digest:
        raise EngineCacheFormatError("SHA-256 of the entry does not match its header (corrupted)")
    metadata = bytes(body[:meta_len])
    return _parse_metadata(metadata, bytes(body[meta_len:]))


def _parse_metadata(metadata: bytes, engine: bytes) -> CachedEngine:
    # Imported here: the settings module imports this one and must not import the runtime package.
    from torch_tensorrt.dynamo.runtime import _strict_json as sj

    try:
        text = metadata.decode("utf-8")
        if sj.too_deep(text, _MAX_METADATA_DEPTH):
            sj.fail("metadata", f"nested deeper than {_MAX_METADATA_DEPTH}")
        doc = sj.as_object(sj.loads(text), "metadata")
        key = doc.get("key")
        if not isinstance(key, str):
            sj.fail("metadata.key", "expected a string")
        inputs = tuple(
            _parse_binding(b, f"inputs[{i}]", True) for i, b in enumerate(sj.as_list(doc.get("inputs"), "inputs"))
        )
        outputs = tuple(
            _parse_binding(b, f"outputs[{i}]", False) for i, b in enumerate(sj.as_list(doc.get("outputs"), "outputs"))
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EngineCacheFormatError(f"metadata is not valid: {exc}") from exc
    return CachedEngine(key=key, engine=engine, inputs=inputs, outputs=outputs)


def _parse_binding(value: Any, path: str, is_input: bool) -> CachedBinding:
    from torch_tensorrt.dynamo.runtime import _strict_json as sj
    from torch_tensorrt.dynamo.runtime._shape_expr import validate

    doc = sj.as_object(value, path)
    name, dtype_name = doc.get("name"), doc.get("dtype")
    if not isinstance(name, str) or not name:
        sj.fail(f"{path}.name", "expected a non-empty string")
    dtype = getattr(torch, dtype_name, None) if isinstance(dtype_name, str) else None
    if not isinstance(dtype, torch.dtype):
        sj.fail(f"{path}.dtype", f"{sj.short(dtype_name)} is not a torch dtype")
    symbolic: list[int | str] = []
    for i, d in enumerate(sj.as_list(doc.get("symbolic_shape"), f"{path}.symbolic_shape")):
        if isinstance(d, str):
            validate(d)
            symbolic.append(d)
        else:
            symbolic.append(sj.as_int(d, f"{path}.symbolic_shape[{i}]", 0, 2**63 - 1))
    if not is_input:
        return CachedBinding(name, dtype, tuple(symbolic))

    def dims(v: Any, where: str, lo: int) -> tuple[int, ...]:
        return tuple(sj.as_int(x, f"{where}[{j}]", lo, 2**63 - 1) for j, x in enumerate(sj.as_list(v, where)))

    shape = dims(doc.get("shape"), f"{path}.shape", -1)
    ranges = sj.as_list(doc.get("shape_range"), f"{path}.shape_range")
    if len(ranges) != 3:
        sj.fail(f"{path}.shape_range", "expected [min, opt, max]")
    lo, opt, hi = (dims(r, f"{path}.shape_range[{k}]", 0) for k, r in enumerate(ranges))
    return CachedBinding(name, dtype, tuple(symbolic), shape, (lo, opt, hi))
