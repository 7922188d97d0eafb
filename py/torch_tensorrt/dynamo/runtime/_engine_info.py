"""The serialized engine info: :class:`EngineInfo`, its typed view, read and written slot by slot.

A compiled TensorRT-RTX engine is saved as a list of ``SERIALIZATION_LEN``
strings at fixed indices (the "engine info").  The C++ runtime
(``torch.classes.tensorrt.Engine``) and the Python runtime both read this exact
layout.  Three modules own its parts, one format each:

* :mod:`._engine_layout`: which slot is at which index (``SerializedInfoIndex``, ``ABI_VERSION``,
  ``SERIALIZATION_LEN``), compared with the C++ runtime's at import;
* :mod:`._engine_metadata`: the metadata JSON of slot ``SERIALIZED_METADATA_IDX``, one table per object;
* this module: the text of each slot and :class:`EngineInfo`.

Every public name of the three is importable from here.

Slots (all ``str``):

====  ================================  ==============================================
idx   name                              content
====  ================================  ==============================================
0     ABI_TARGET_IDX                    ``ABI_VERSION`` ("1")
1     NAME_IDX                          engine name, non-empty
2     DEVICE_IDX                        ``"<gpu_id>%<cc>,<cc>,..."`` e.g. ``"0%8.0,8.6"``;
                                        an empty capability list means "portable default"
3     SERIALIZED_ENGINE_IDX             standard padded base64 of the engine bytes
4     INPUT_BINDING_NAMES_IDX           input names joined by ``BINDING_DELIM`` ("%")
5     OUTPUT_BINDING_NAMES_IDX          output names joined by ``BINDING_DELIM`` (>= 1)
6     HW_COMPATIBLE_IDX                 "0" or "1"
7     SERIALIZED_METADATA_IDX           metadata JSON text (:class:`EngineMetadata`)
8     TARGET_PLATFORM_IDX               one of ``KNOWN_PLATFORMS``
9     REQUIRES_OUTPUT_ALLOCATOR_IDX     "0" or "1"
10    RESOURCE_ALLOCATION_STRATEGY_IDX  "static" or "dynamic"
====  ================================  ==============================================

Runtime mode controls (kernel-specialization strategy, CUDA graph strategy,
runtime cache) are deliberately *not* part of the engine info: they are
per-module context-manager settings and are never serialized.

Reading is strict.  :meth:`EngineInfo.from_list` raises ``ValueError`` naming
the slot for anything malformed and never raises another exception type or
hangs, because a saved program is untrusted input.  The metadata is JSON, never
pickle, and is never evaluated; symbolic shapes inside it go through the safe
parser in :mod:`._shape_expr`.  Its schema and forward-compatibility rule are in
:mod:`._engine_metadata`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch_tensorrt.dynamo.runtime._engine_layout import (
    ABI_TARGET_IDX,
    ABI_VERSION,
    BINDING_DELIM,
    DEVICE_DELIM,
    DEVICE_IDX,
    HW_COMPATIBLE_IDX,
    INPUT_BINDING_NAMES_IDX,
    KNOWN_PLATFORMS,
    NAME_IDX,
    OUTPUT_BINDING_NAMES_IDX,
    REQUIRES_OUTPUT_ALLOCATOR_IDX,
    RESOURCE_ALLOCATION_STRATEGIES,
    RESOURCE_ALLOCATION_STRATEGY_IDX,
    SERIALIZATION_LEN,
    SERIALIZED_ENGINE_IDX,
    SERIALIZED_INFO_INDICES,
    SERIALIZED_METADATA_IDX,
    TARGET_PLATFORM_IDX,
    SerializedInfoIndex,
    check_c_string,
    check_tensor_name,
    current_platform,
    is_capability,
    slot_label,
)
from torch_tensorrt.dynamo.runtime._engine_metadata import (
    DTYPE_NAMES,
    MAX_METADATA_CHARS,
    MAX_METADATA_DEPTH,
    MAX_RANK,
    METADATA_FORMAT,
    METADATA_VERSION,
    Dim,
    EngineMetadata,
    EngineSettings,
    InputSpec,
    OutputSpec,
    dtype_name,
    torch_dtype,
)
from torch_tensorrt.dynamo.runtime._strict_json import short, unique

# The names below were all defined here before the layout and the metadata schema got their own
# modules; they stay importable from this path.
__all__ = [
    "ABI_TARGET_IDX",
    "ABI_VERSION",
    "BINDING_DELIM",
    "DEVICE_IDX",
    "DTYPE_NAMES",
    "HW_COMPATIBLE_IDX",
    "INPUT_BINDING_NAMES_IDX",
    "KNOWN_PLATFORMS",
    "MAX_METADATA_CHARS",
    "MAX_METADATA_DEPTH",
    "MAX_RANK",
    "METADATA_FORMAT",
    "METADATA_VERSION",
    "NAME_IDX",
    "OUTPUT_BINDING_NAMES_IDX",
    "REQUIRES_OUTPUT_ALLOCATOR_IDX",
    "RESOURCE_ALLOCATION_STRATEGIES",
    "RESOURCE_ALLOCATION_STRATEGY_IDX",
    "SERIALIZATION_LEN",
    "SERIALIZED_ENGINE_IDX",
    "SERIALIZED_INFO_INDICES",
    "SERIALIZED_METADATA_IDX",
    "TARGET_PLATFORM_IDX",
    "Dim",
    "EngineInfo",
    "EngineMetadata",
    "EngineSettings",
    "InputSpec",
    "OutputSpec",
    "SerializedInfoIndex",
    "current_platform",
    "require_host_platform",
    "decode_engine",
    "dtype_name",
    "encode_engine",
    "torch_dtype",
]

_GPU_ID = re.compile(r"0|[1-9][0-9]{0,5}", re.ASCII)


def require_host_platform(info: EngineInfo) -> None:
    """Refuse an engine built for another platform (e.g. cross-compiled for Windows) on this host.

    Both runtimes give this verdict, with this text, when an engine is loaded or created.
    """
    host = current_platform()
    if info.target_platform != host:
        raise ValueError(
            f"engine {info.name!r} was built for platform {info.target_platform}; this machine is {host}. "
            "Recompile the program on (or for) this platform."
        )


# ---------------------------------------------------------------------------
# Engine bytes (slot SERIALIZED_ENGINE_IDX)
# ---------------------------------------------------------------------------


def encode_engine(data: bytes | bytearray | memoryview) -> str:
    """Standard padded base64 of a serialized engine (must be non-empty)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"engine must be bytes, found {type(data).__name__}")
    raw = bytes(data)
    if not raw:
        raise ValueError("engine is empty")
    return base64.b64encode(raw).decode("ascii")


def decode_engine(text: str) -> bytes:
    """Inverse of :func:`encode_engine`; ValueError for anything else.

    Only canonical encodings are accepted (as :func:`encode_engine` writes
    them), so decoding and re-encoding reproduces the slot exactly.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected str, found {type(text).__name__}")
    if not text:
        raise ValueError("engine is empty")
    if len(text) % 4:
        raise ValueError(f"not valid base64: {len(text)} chars is not a multiple of 4 (truncated or corrupted?)")
    try:
        # validate=True refuses characters outside the standard alphabet
        # (newlines, "-"/"_" of the URL-safe variant) and, since Python 3.11,
        # data after the padding.
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"not valid base64: {e}") from None
    if not raw:
        raise ValueError("engine is empty")
    # b64decode tolerates extra "=" and ignores the unused low bits of the
    # last symbol; refuse both so only encode_engine's exact output loads.
    if len(text) != 4 * ((len(raw) + 2) // 3):
        raise ValueError("not valid base64: excess padding")
    rest = len(raw) % 3
    if rest and base64.b64encode(raw[-rest:]).decode("ascii") != text[-4:]:
        raise ValueError("not valid base64: non-canonical padding bits")
    return raw


# ---------------------------------------------------------------------------
# The other slots and EngineInfo
# ---------------------------------------------------------------------------


def _slot_error(idx: int, detail: str) -> ValueError:
    return ValueError(f"engine info slot {slot_label(idx)}: {detail}")


def _parse_flag(text: str) -> bool:
    if text == "1":
        return True
    if text == "0":
        return False
    raise ValueError(f"expected '0' or '1', found {short(text)}")


def _format_flag(value: object) -> str:
    if type(value) is not bool:
        raise ValueError(f"expected a bool, found {type(value).__name__}")
    return "1" if value else "0"


def _parse_names(text: str, kind: str) -> tuple[str, ...]:
    if text == "":
        return ()
    names = tuple(text.split(BINDING_DELIM))
    for i, name in enumerate(names):
        check_tensor_name(name, f"{kind} name #{i}")
    unique(names, f"{kind} names")
    return names


def _format_names(names: object, kind: str) -> str:
    if not isinstance(names, (tuple, list)):
        raise ValueError(f"{kind} names must be a tuple of str, found {type(names).__name__}")
    for i, name in enumerate(names):
        check_tensor_name(name, f"{kind} name #{i}")
    unique(names, f"{kind} names")
    return BINDING_DELIM.join(names)


def _parse_device(text: str) -> tuple[int, tuple[str, ...]]:
    parts = text.split(DEVICE_DELIM)
    if len(parts) != 2:
        raise ValueError(f"expected '<gpu_id>%<capabilities>', found {short(text)}")
    gpu, caps = parts
    if _GPU_ID.fullmatch(gpu) is None:
        raise ValueError(f"gpu id {short(gpu)} is not a non-negative integer")
    capabilities = tuple(caps.split(",")) if caps else ()
    for cap in capabilities:
        if not is_capability(cap):
            raise ValueError(f"compute capability {short(cap)} is not of the form 'major.minor'")
    unique(capabilities, "compute capabilities")
    return int(gpu), capabilities


def _format_device(gpu_id: object, capabilities: object) -> str:
    if type(gpu_id) is not int:
        raise ValueError(f"gpu_id must be an int, found {type(gpu_id).__name__}")
    if not isinstance(capabilities, (tuple, list)) or not all(type(c) is str for c in capabilities):
        raise ValueError("compute_capabilities must be a tuple of 'major.minor' strings")
    return f"{gpu_id}{DEVICE_DELIM}{','.join(capabilities)}"


def _parse_platform(text: str) -> str:
    if text not in KNOWN_PLATFORMS:
        raise ValueError(f"unknown target platform {short(text)}; known: {', '.join(KNOWN_PLATFORMS)}")
    return text


def _parse_strategy(text: str) -> str:
    if text not in RESOURCE_ALLOCATION_STRATEGIES:
        raise ValueError(
            f"unknown resource allocation strategy {short(text)}; expected "
            f"{' or '.join(RESOURCE_ALLOCATION_STRATEGIES)}"
        )
    return text


def _parse_name(text: str) -> str:
    if not text:
        raise ValueError("engine name is empty")
    check_c_string(text, "engine name")
    return text


def _parse_abi(text: str) -> str:
    if text != ABI_VERSION:
        raise ValueError(
            f"this file was written for engine-info ABI {short(text)}; this torch_tensorrt "
            f"reads ABI {ABI_VERSION}; recompile the program with this version"
        )
    return text


def _check_bindings(inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    if not outputs:
        raise _slot_error(OUTPUT_BINDING_NAMES_IDX, "an engine needs at least one output")
    overlap = set(inputs) & set(outputs)
    if overlap:
        raise _slot_error(
            OUTPUT_BINDING_NAMES_IDX,
            f"name {short(min(overlap))} is both an input and an output",
        )


def _check_metadata_names(metadata: EngineMetadata, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    # The binding slots are authoritative; metadata that describes other tensors belongs to another engine.
    for kind, specs, names, idx in (
        ("input", metadata.inputs, inputs, INPUT_BINDING_NAMES_IDX),
        ("output", metadata.outputs, outputs, OUTPUT_BINDING_NAMES_IDX),
    ):
        recorded = tuple(s.name for s in specs)
        if recorded and recorded != names:
            raise _slot_error(
                SERIALIZED_METADATA_IDX,
                f"metadata {kind} names {list(recorded)[:8]} differ from {slot_label(idx)}: {list(names)[:8]}",
            )


@dataclass(kw_only=True)
class EngineInfo:
    """Typed view of the serialized engine-info list (one field per slot).

    ``metadata`` is an :class:`EngineMetadata`.  Build one with keywords
    (``name``, ``engine`` and ``output_names`` are required) and call
    :meth:`to_list`; read one with :meth:`from_list`.
    """

    abi_version: str = ABI_VERSION
    name: str
    gpu_id: int = 0
    compute_capabilities: tuple[str, ...] = ()
    engine: bytes = field(repr=False)
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...]
    hardware_compatible: bool = False
    metadata: EngineMetadata = field(default_factory=EngineMetadata)
    target_platform: str = field(default_factory=current_platform)
    requires_output_allocator: bool = False
    resource_allocation_strategy: str = "static"

    @classmethod
    def from_list(cls, info: object) -> EngineInfo:
        """Parse a serialized engine-info list.

        Raises ``ValueError`` (naming the slot) for anything malformed and
        never any other exception.
        """
        try:
            return cls._from_list(info)
        except ValueError:
            raise
        except RecursionError:
            raise ValueError("engine info: input is nested too deeply") from None
        except Exception as e:  # pragma: no cover - a bug; never leak another type
            raise ValueError(f"engine info: malformed ({type(e).__name__}: {e})") from e

    @classmethod
    def _from_list(cls, info: object) -> EngineInfo:
        # The checks themselves raise only ValueError; the fuzz tests call this
        # directly so that the catch-all in from_list cannot hide a bug.
        if not isinstance(info, (list, tuple)):
            raise ValueError(f"engine info: expected a list of {SERIALIZATION_LEN} str, found {type(info).__name__}")
        # A different ABI usually also means a different length; the ABI
        # message is the one that tells the user what to do.
        if info and type(info[ABI_TARGET_IDX]) is str:
            try:
                _parse_abi(info[ABI_TARGET_IDX])
            except ValueError as e:
                raise _slot_error(ABI_TARGET_IDX, str(e)) from None
        if len(info) != SERIALIZATION_LEN:
            raise ValueError(f"engine info: expected SERIALIZATION_LEN = {SERIALIZATION_LEN} slots, found {len(info)}")
        return cls._from_slots(list(info), decode=True)

    @classmethod
    def _from_slots(cls, slots: list[object], decode: bool) -> EngineInfo:
        def slot(idx: int, parse: Callable[[str], Any]) -> Any:
            value = slots[idx]
            try:
                if type(value) is not str:
                    raise ValueError(f"expected str, found {type(value).__name__}")
                return parse(value)
            except ValueError as e:
                raise _slot_error(idx, str(e)) from None

        abi = slot(ABI_TARGET_IDX, _parse_abi)
        name = slot(NAME_IDX, _parse_name)
        gpu_id, caps = slot(DEVICE_IDX, _parse_device)
        # to_list passes decode=False: it already holds the bytes, and decoding
        # a large engine again would only cost time.
        engine = slot(SERIALIZED_ENGINE_IDX, decode_engine if decode else (lambda s: b""))
        inputs = slot(INPUT_BINDING_NAMES_IDX, lambda s: _parse_names(s, "input"))
        outputs = slot(OUTPUT_BINDING_NAMES_IDX, lambda s: _parse_names(s, "output"))
        _check_bindings(inputs, outputs)
        hw = slot(HW_COMPATIBLE_IDX, _parse_flag)
        metadata = slot(SERIALIZED_METADATA_IDX, EngineMetadata.from_json)
        _check_metadata_names(metadata, inputs, outputs)
        target_platform = slot(TARGET_PLATFORM_IDX, _parse_platform)
        allocator = slot(REQUIRES_OUTPUT_ALLOCATOR_IDX, _parse_flag)
        strategy = slot(RESOURCE_ALLOCATION_STRATEGY_IDX, _parse_strategy)
        return cls(
            abi_version=abi,
            name=name,
            gpu_id=gpu_id,
            compute_capabilities=caps,
            engine=engine,
            input_names=inputs,
            output_names=outputs,
            hardware_compatible=hw,
            metadata=metadata,
            target_platform=target_platform,
            requires_output_allocator=allocator,
            resource_allocation_strategy=strategy,
        )

    def to_list(self, engine_slot: str | None = None) -> list[str]:
        """Serialize; validated with the reader's rules (ValueError naming the slot).

        ``engine_slot`` replaces the base64 engine (the op's lists carry a digest instead), which
        spares encoding a large engine nobody will read from this list.
        """
        slots: list[object] = [""] * SERIALIZATION_LEN

        def put(idx: int, make: Callable[[], object]) -> None:
            try:
                slots[idx] = make()
            except ValueError as e:
                raise _slot_error(idx, str(e)) from None

        put(ABI_TARGET_IDX, lambda: self.abi_version)
        put(NAME_IDX, lambda: self.name)
        put(DEVICE_IDX, lambda: _format_device(self.gpu_id, self.compute_capabilities))
        put(SERIALIZED_ENGINE_IDX, lambda: encode_engine(self.engine) if engine_slot is None else engine_slot)
        put(INPUT_BINDING_NAMES_IDX, lambda: _format_names(self.input_names, "input"))
        put(OUTPUT_BINDING_NAMES_IDX, lambda: _format_names(self.output_names, "output"))
        put(HW_COMPATIBLE_IDX, lambda: _format_flag(self.hardware_compatible))
        put(SERIALIZED_METADATA_IDX, self._metadata_json)
        put(TARGET_PLATFORM_IDX, lambda: self.target_platform)
        put(
            REQUIRES_OUTPUT_ALLOCATOR_IDX,
            lambda: _format_flag(self.requires_output_allocator),
        )
        put(RESOURCE_ALLOCATION_STRATEGY_IDX, lambda: self.resource_allocation_strategy)
        # One set of rules: re-read the strings (engine bytes excepted) so a
        # writer cannot produce a list the reader would refuse.
        self._from_slots(slots, decode=False)
        return [str(s) for s in slots]

    def _metadata_json(self) -> str:
        if not isinstance(self.metadata, EngineMetadata):
            raise ValueError(f"metadata must be an EngineMetadata, found {type(self.metadata).__name__}")
        return self.metadata.to_json()
