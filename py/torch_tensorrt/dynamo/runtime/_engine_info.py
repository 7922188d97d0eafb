"""The serialized engine-info layout and its safe, versioned metadata.

A compiled TensorRT-RTX engine is saved as a list of ``SERIALIZATION_LEN``
strings at fixed indices (the "engine info").  The C++ runtime
(``torch.classes.tensorrt.Engine``) and the Python runtime both read this exact
layout, so the indices and ``ABI_VERSION`` here must match the C++ constants;
``SERIALIZED_INFO_INDICES`` exists for that parity check.

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
parser in :mod:`._shape_expr`.

Metadata JSON schema (``METADATA_VERSION`` 1)
---------------------------------------------
::

    {
      "format":  "torch_tensorrt.engine_metadata",     required
      "version": 1,                                    required, int >= 1
      "inputs":  [                                     default []
        {"name": str, "dtype": DTYPE, "shape": [DIM],  required
         "min_shape": [int], "opt_shape": [int],       optional, all three or
         "max_shape": [int]}                           none (optimization profile)
      ],
      "outputs": [                                     default []
        {"name": str, "dtype": DTYPE, "shape": [DIM]}  required
      ],
      "settings": {                                    default {}
        "optimization_level": int 0..5                 default 3
        "truncate_double": bool                        default false
        "hardware_compatible": bool                    default false
        "strongly_typed": bool                         default true
        "immutable_weights": bool                      default true
        "enabled_precisions": [DTYPE] (unique)         default ["float32"]
        "compute_capabilities": ["major.minor"]        default []
      },
      "flags": {str: bool}                             default {}
    }

``DTYPE`` is one of :data:`DTYPE_NAMES`.  ``DIM`` is an int in
``[0, 2**63-1]`` or a shape expression string (``"s0*4"``, see
:mod:`._shape_expr`) over torch size symbols ``s<N>``/``u<N>``.  Shapes have at
most :data:`MAX_RANK` dimensions.  Profile shapes have the rank of ``shape``,
satisfy ``0 <= min <= opt <= max`` and equal ``shape`` on its static dims.  If
``inputs``/``outputs`` are non-empty their names must equal the binding-name
slots, in order.  ``flags`` is an open set of named booleans: a reader treats a
missing flag as false.  The binding, hardware-compatibility and device slots
are authoritative; ``settings`` records what the engine was compiled with.

Forward-compatibility rule
--------------------------
* ``version`` is a *major* version.  It is bumped only when a change would make
  an older reader misinterpret a file (a key changes meaning or type, or a new
  key must be understood to run the engine).  A reader refuses a higher major
  version and names both versions.
* Every key added to the schema after version 1 is optional and gets a default
  here that reproduces the behaviour of files written before it existed, so
  older files (missing the key) keep loading unchanged.  Keys are never removed
  or repurposed within a major version.
* Unknown keys (written by a newer torch_tensorrt of the same major version)
  are kept in the ``extra`` dict of the object they appeared in, written back
  unchanged by ``to_json``, otherwise ignored, and logged at debug level.

Hostile input is bounded: the metadata text is at most
:data:`MAX_METADATA_CHARS` characters and :data:`MAX_METADATA_DEPTH` levels of
nesting (checked by a linear scan *before* ``json.loads``), integer literals
are at most 20 digits, duplicate keys and NaN/Infinity are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from . import _shape_expr

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
    "current_platform",
    "require_host_platform",
    "decode_engine",
    "dtype_name",
    "encode_engine",
    "torch_dtype",
]

logger = logging.getLogger("torch_tensorrt")

ABI_VERSION = "1"

ABI_TARGET_IDX = 0
NAME_IDX = 1
DEVICE_IDX = 2
SERIALIZED_ENGINE_IDX = 3
INPUT_BINDING_NAMES_IDX = 4
OUTPUT_BINDING_NAMES_IDX = 5
HW_COMPATIBLE_IDX = 6
SERIALIZED_METADATA_IDX = 7
TARGET_PLATFORM_IDX = 8
REQUIRES_OUTPUT_ALLOCATOR_IDX = 9
RESOURCE_ALLOCATION_STRATEGY_IDX = 10
SERIALIZATION_LEN = 11

#: Slot name -> index, in index order; compared against the C++ runtime's ops.
SERIALIZED_INFO_INDICES: dict[str, int] = {
    "ABI_TARGET_IDX": ABI_TARGET_IDX,
    "NAME_IDX": NAME_IDX,
    "DEVICE_IDX": DEVICE_IDX,
    "SERIALIZED_ENGINE_IDX": SERIALIZED_ENGINE_IDX,
    "INPUT_BINDING_NAMES_IDX": INPUT_BINDING_NAMES_IDX,
    "OUTPUT_BINDING_NAMES_IDX": OUTPUT_BINDING_NAMES_IDX,
    "HW_COMPATIBLE_IDX": HW_COMPATIBLE_IDX,
    "SERIALIZED_METADATA_IDX": SERIALIZED_METADATA_IDX,
    "TARGET_PLATFORM_IDX": TARGET_PLATFORM_IDX,
    "REQUIRES_OUTPUT_ALLOCATOR_IDX": REQUIRES_OUTPUT_ALLOCATOR_IDX,
    "RESOURCE_ALLOCATION_STRATEGY_IDX": RESOURCE_ALLOCATION_STRATEGY_IDX,
}
_SLOT_NAMES = {i: n for n, i in SERIALIZED_INFO_INDICES.items()}
# A gap or duplicate here would silently shift every later slot.
assert sorted(SERIALIZED_INFO_INDICES.values()) == list(range(SERIALIZATION_LEN))

BINDING_DELIM = "%"
_DEVICE_DELIM = "%"
KNOWN_PLATFORMS: tuple[str, ...] = ("linux_x86_64", "linux_aarch64", "windows_x86_64")
RESOURCE_ALLOCATION_STRATEGIES: tuple[str, ...] = ("static", "dynamic")
DTYPE_NAMES: tuple[str, ...] = (
    "float32",
    "float16",
    "bfloat16",
    "int8",
    "uint8",
    "int32",
    "int64",
    "bool",
    "float64",
)

METADATA_FORMAT = "torch_tensorrt.engine_metadata"
METADATA_VERSION = 1
MAX_METADATA_CHARS = 16 * 1024 * 1024
MAX_METADATA_DEPTH = 32
MAX_RANK = 8  # nvinfer1::Dims::MAX_DIMS
_MAX_INT_DIGITS = 20  # enough for any int64, keeps int() of hostile text cheap
_MAX_FLAG_NAME = 256

_GPU_ID = re.compile(r"0|[1-9][0-9]{0,5}", re.ASCII)
_CAPABILITY = re.compile(r"(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)", re.ASCII)

Dim = int | str


def current_platform() -> str:
    """This host's platform in the spelling of ``KNOWN_PLATFORMS``.

    An unsupported host yields a name outside ``KNOWN_PLATFORMS`` (e.g.
    ``darwin_aarch64``), which writing an engine info then refuses.
    """
    system = platform.system().lower()
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{system}_{machine}"


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


def _short(value: object, limit: int = 60) -> str:
    """repr() of possibly hostile data, cut so messages stay readable."""
    if isinstance(value, str):
        text = value
    else:
        return type(value).__name__
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


# ---------------------------------------------------------------------------
# Engine bytes
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
# dtype names
# ---------------------------------------------------------------------------


def torch_dtype(name: str) -> Any:
    """The ``torch.dtype`` for a metadata dtype name."""
    import torch

    if name not in DTYPE_NAMES:
        raise ValueError(f"unknown dtype {_short(name)}; known: {', '.join(DTYPE_NAMES)}")
    return getattr(torch, name)


def dtype_name(dtype: Any) -> str:
    """The metadata dtype name of a ``torch.dtype`` (or of a name)."""
    import torch

    for name in DTYPE_NAMES:
        if dtype == getattr(torch, name) or dtype == name:
            return name
    raise ValueError(f"dtype {dtype!r} cannot be stored in engine metadata")


# ---------------------------------------------------------------------------
# Strict JSON field readers.  Each takes the path of the value for messages.
# ---------------------------------------------------------------------------


def _fail(path: str, what: str) -> NoReturn:
    raise ValueError(f"{path}: {what}")


def _kind(value: object) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _as_bool(value: object, path: str) -> bool:
    if type(value) is not bool:
        _fail(path, f"expected true/false, found {_kind(value)}")
    return value


def _as_int(value: object, path: str, lo: int, hi: int) -> int:
    if type(value) is not int:
        _fail(path, f"expected an integer, found {_kind(value)}")
    if not lo <= value <= hi:
        _fail(path, f"{value} is outside [{lo}, {hi}]")
    return value


def _as_str(value: object, path: str) -> str:
    if type(value) is not str:
        _fail(path, f"expected a string, found {_kind(value)}")
    return value


def _as_list(value: object, path: str) -> list[Any]:
    if type(value) is not list:
        _fail(path, f"expected a list, found {_kind(value)}")
    return value


def _as_object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        _fail(path, f"expected an object, found {_kind(value)}")
    return value


def _check_tensor_name(name: object, what: str) -> str:
    """A binding name usable by TensorRT's C API and the "%"-joined slots."""
    if type(name) is not str:
        raise ValueError(f"{what} must be a str, found {type(name).__name__}")
    if not name:
        raise ValueError(f"{what} is empty")
    if BINDING_DELIM in name:
        raise ValueError(f"{what} {_short(name)} contains the delimiter {BINDING_DELIM!r}")
    _check_c_string(name, what)
    return name


def _check_c_string(text: str, what: str) -> None:
    # TensorRT takes names as NUL-terminated UTF-8: a NUL would truncate the
    # name and a lone surrogate cannot be encoded at all.
    if "\x00" in text:
        raise ValueError(f"{what} {_short(text)} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {_short(text)} is not valid Unicode text") from None


def _as_dtype(value: object, path: str) -> str:
    if type(value) is not str or value not in DTYPE_NAMES:
        shown = _short(value) if isinstance(value, str) else _kind(value)
        _fail(path, f"unknown dtype {shown}; expected one of {', '.join(DTYPE_NAMES)}")
    return value


def _as_dim(value: object, path: str) -> Dim:
    if type(value) is int:
        return _as_int(value, path, 0, _shape_expr.INT64_MAX)
    if type(value) is str:
        try:
            _shape_expr.validate(value)
        except ValueError as e:
            _fail(path, str(e))
        return value
    _fail(path, f"expected an int >= 0 or a shape expression, found {_kind(value)}")


def _as_shape(value: object, path: str, static: bool = False) -> tuple[Any, ...]:
    items = _as_list(value, path)
    if len(items) > MAX_RANK:
        _fail(path, f"rank {len(items)} exceeds the maximum of {MAX_RANK}")
    if static:
        return tuple(_as_int(d, f"{path}[{i}]", 0, _shape_expr.INT64_MAX) for i, d in enumerate(items))
    return tuple(_as_dim(d, f"{path}[{i}]") for i, d in enumerate(items))


def _as_capability(value: object, path: str) -> str:
    if type(value) is not str or _CAPABILITY.fullmatch(value) is None:
        shown = _short(value) if isinstance(value, str) else _kind(value)
        _fail(path, f"compute capability {shown} is not of the form 'major.minor'")
    return value


def _unique(values: Sequence[str], path: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            _fail(path, f"duplicate entry {_short(v)}")
        seen.add(v)


def _split_known(obj: dict[str, Any], known: tuple[str, ...], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    extra = {k: v for k, v in obj.items() if k not in known}
    if extra:
        names = ", ".join(_short(k, 40) for k in list(extra)[:10])
        logger.debug(
            "engine metadata: ignoring unknown key(s) %s in %s (written by a newer torch_tensorrt?)",
            names,
            path,
        )
    return {k: v for k, v in obj.items() if k in known}, extra


def _check_extra(extra: object, known: tuple[str, ...], what: str) -> dict[str, Any]:
    if type(extra) is not dict:
        raise ValueError(f"{what}.extra must be a dict, found {type(extra).__name__}")
    for k in extra:
        if type(k) is not str:
            raise ValueError(f"{what}.extra keys must be str")
        if k in known:
            raise ValueError(f"{what}.extra must not hold the known key {k!r}")
    return extra


# ---------------------------------------------------------------------------
# Metadata dataclasses
# ---------------------------------------------------------------------------

_INPUT_KEYS = ("name", "dtype", "shape", "min_shape", "opt_shape", "max_shape")
_OUTPUT_KEYS = ("name", "dtype", "shape")
_SETTINGS_KEYS = (
    "optimization_level",
    "truncate_double",
    "hardware_compatible",
    "strongly_typed",
    "immutable_weights",
    "enabled_precisions",
    "compute_capabilities",
)
_TOP_KEYS = ("format", "version", "inputs", "outputs", "settings", "flags")


@dataclass
class InputSpec:
    """One engine input: name, dtype, shape and optional optimization profile.

    ``shape`` holds ints for static dims and shape expressions (``"s0"``) for
    dynamic ones.  ``min_shape``/``opt_shape``/``max_shape`` are all given or
    all ``None``.
    """

    name: str
    dtype: str
    shape: tuple[Dim, ...]
    min_shape: tuple[int, ...] | None = None
    opt_shape: tuple[int, ...] | None = None
    max_shape: tuple[int, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
        }
        for key in ("min_shape", "opt_shape", "max_shape"):
            value = getattr(self, key)
            if value is not None:
                d[key] = list(value)
        d.update(_check_extra(self.extra, _INPUT_KEYS, "InputSpec"))
        return d

    @classmethod
    def from_dict(cls, obj: object, path: str = "input") -> InputSpec:
        known, extra = _split_known(_as_object(obj, path), _INPUT_KEYS, path)
        for key in ("name", "dtype", "shape"):
            if key not in known:
                _fail(path, f"missing required key {key!r}")
        try:
            name = _check_tensor_name(known["name"], "name")
        except ValueError as e:
            _fail(f"{path}.name", str(e))
        dtype = _as_dtype(known["dtype"], f"{path}.dtype")
        shape = _as_shape(known["shape"], f"{path}.shape")
        present = [k for k in ("min_shape", "opt_shape", "max_shape") if k in known]
        profile: dict[str, tuple[int, ...]] = {}
        if present and len(present) != 3:
            _fail(path, "min_shape, opt_shape and max_shape must be given together")
        for key in present:
            dims = _as_shape(known[key], f"{path}.{key}", static=True)
            if len(dims) != len(shape):
                _fail(
                    f"{path}.{key}",
                    f"rank {len(dims)} differs from the rank {len(shape)} of shape",
                )
            profile[key] = dims
        if profile:
            for i, dim in enumerate(shape):
                lo, mid, hi = (profile[k][i] for k in ("min_shape", "opt_shape", "max_shape"))
                if not lo <= mid <= hi:
                    _fail(
                        path,
                        f"dim {i}: need min <= opt <= max, found {lo}, {mid}, {hi}",
                    )
                if isinstance(dim, int) and not lo == mid == hi == dim:
                    _fail(
                        path,
                        f"dim {i} is static ({dim}) but the profile is {lo}, {mid}, {hi}",
                    )
        return cls(
            name=name,
            dtype=dtype,
            shape=shape,
            min_shape=profile.get("min_shape"),
            opt_shape=profile.get("opt_shape"),
            max_shape=profile.get("max_shape"),
            extra=extra,
        )


@dataclass
class OutputSpec:
    """One engine output; dynamic dims are shape expressions over input symbols."""

    name: str
    dtype: str
    shape: tuple[Dim, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
        }
        d.update(_check_extra(self.extra, _OUTPUT_KEYS, "OutputSpec"))
        return d

    @classmethod
    def from_dict(cls, obj: object, path: str = "output") -> OutputSpec:
        known, extra = _split_known(_as_object(obj, path), _OUTPUT_KEYS, path)
        for key in _OUTPUT_KEYS:
            if key not in known:
                _fail(path, f"missing required key {key!r}")
        try:
            name = _check_tensor_name(known["name"], "name")
        except ValueError as e:
            _fail(f"{path}.name", str(e))
        return cls(
            name=name,
            dtype=_as_dtype(known["dtype"], f"{path}.dtype"),
            shape=_as_shape(known["shape"], f"{path}.shape"),
            extra=extra,
        )


@dataclass
class EngineSettings:
    """Compile settings that matter when the engine is loaded or run."""

    optimization_level: int = 3
    truncate_double: bool = False
    hardware_compatible: bool = False
    # TensorRT-RTX builds strongly typed networks.
    strongly_typed: bool = True
    immutable_weights: bool = True
    enabled_precisions: tuple[str, ...] = ("float32",)
    compute_capabilities: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "optimization_level": self.optimization_level,
            "truncate_double": self.truncate_double,
            "hardware_compatible": self.hardware_compatible,
            "strongly_typed": self.strongly_typed,
            "immutable_weights": self.immutable_weights,
            "enabled_precisions": list(self.enabled_precisions),
            "compute_capabilities": list(self.compute_capabilities),
        }
        d.update(_check_extra(self.extra, _SETTINGS_KEYS, "EngineSettings"))
        return d

    @classmethod
    def from_dict(cls, obj: object, path: str = "settings") -> EngineSettings:
        known, extra = _split_known(_as_object(obj, path), _SETTINGS_KEYS, path)
        out = cls(extra=extra)
        # Every setting is optional: a missing key keeps the default above.
        if "optimization_level" in known:
            out.optimization_level = _as_int(known["optimization_level"], f"{path}.optimization_level", 0, 5)
        for key in (
            "truncate_double",
            "hardware_compatible",
            "strongly_typed",
            "immutable_weights",
        ):
            if key in known:
                setattr(out, key, _as_bool(known[key], f"{path}.{key}"))
        if "enabled_precisions" in known:
            p = f"{path}.enabled_precisions"
            items = _as_list(known["enabled_precisions"], p)
            out.enabled_precisions = tuple(_as_dtype(v, f"{p}[{i}]") for i, v in enumerate(items))
            _unique(out.enabled_precisions, p)
        if "compute_capabilities" in known:
            p = f"{path}.compute_capabilities"
            items = _as_list(known["compute_capabilities"], p)
            out.compute_capabilities = tuple(_as_capability(v, f"{p}[{i}]") for i, v in enumerate(items))
            _unique(out.compute_capabilities, p)
        return out


def _json_object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are resolved differently by different JSON parsers (the
    # C++ side may read this too), so an ambiguous document is refused.
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {_short(k, 40)}")
        out[k] = v
    return out


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"integer literal longer than {_MAX_INT_DIGITS} digits")
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:30]} is out of range")
    return value


def _json_constant(text: str) -> NoReturn:
    raise ValueError(f"{text} is not valid JSON")


_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')


def _json_too_deep(text: str, limit: int) -> bool:
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


@dataclass
class EngineMetadata:
    """Typed engine metadata; (de)serialized as versioned JSON (see module doc)."""

    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    settings: EngineSettings = field(default_factory=EngineSettings)
    flags: dict[str, bool] = field(default_factory=dict)
    version: int = METADATA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; validated, so a bad field raises ValueError."""
        try:
            d: dict[str, Any] = {
                "format": METADATA_FORMAT,
                "version": self.version,
                "inputs": [i.to_dict() for i in self.inputs],
                "outputs": [o.to_dict() for o in self.outputs],
                "settings": self.settings.to_dict(),
                "flags": dict(self.flags),
            }
        except (TypeError, AttributeError) as e:
            raise ValueError(f"malformed EngineMetadata: {e}") from None
        d.update(_check_extra(self.extra, _TOP_KEYS, "EngineMetadata"))
        # One set of rules for reading and writing: a writer cannot produce
        # a file that the reader would refuse.
        type(self).from_dict(d)
        return d

    def to_json(self) -> str:
        d = self.to_dict()
        try:
            return json.dumps(d, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as e:
            raise ValueError(f"metadata is not JSON-serializable: {e}") from None

    @classmethod
    def from_dict(cls, obj: object) -> EngineMetadata:
        known, extra = _split_known(_as_object(obj, "metadata"), _TOP_KEYS, "metadata")
        if known.get("format") != METADATA_FORMAT:
            shown = _short(known["format"]) if "format" in known else "no 'format' key"
            _fail("metadata", f"not torch_tensorrt engine metadata (format: {shown})")
        if "version" not in known:
            _fail("metadata", "missing required key 'version'")
        version = known["version"]
        if type(version) is not int:
            _fail("metadata.version", f"expected an integer >= 1, found {_kind(version)}")
        if version < 1:
            _fail("metadata.version", f"expected an integer >= 1, found {version}")
        if version > METADATA_VERSION:
            _fail(
                "metadata.version",
                f"metadata version {version} is newer than this torch_tensorrt reads "
                f"(version {METADATA_VERSION}); upgrade torch_tensorrt or recompile the program",
            )
        inputs = tuple(
            InputSpec.from_dict(v, f"metadata.inputs[{i}]")
            for i, v in enumerate(_as_list(known.get("inputs", []), "metadata.inputs"))
        )
        outputs = tuple(
            OutputSpec.from_dict(v, f"metadata.outputs[{i}]")
            for i, v in enumerate(_as_list(known.get("outputs", []), "metadata.outputs"))
        )
        _unique(
            [i.name for i in inputs] + [o.name for o in outputs],
            "metadata tensor names",
        )
        settings = EngineSettings.from_dict(known.get("settings", {}), "metadata.settings")
        flags: dict[str, bool] = {}
        for k, v in _as_object(known.get("flags", {}), "metadata.flags").items():
            if type(k) is not str or not k or len(k) > _MAX_FLAG_NAME:
                _fail(
                    "metadata.flags",
                    f"flag name must have 1 to {_MAX_FLAG_NAME} characters",
                )
            flags[k] = _as_bool(v, f"metadata.flags[{_short(k, 40)}]")
        return cls(
            inputs=inputs,
            outputs=outputs,
            settings=settings,
            flags=flags,
            version=version,
            extra=extra,
        )

    @classmethod
    def from_json(cls, text: object) -> EngineMetadata:
        """Parse metadata JSON; ValueError for anything malformed."""
        if type(text) is not str:
            raise ValueError(f"metadata must be JSON text (str), found {type(text).__name__}")
        if len(text) > MAX_METADATA_CHARS:
            raise ValueError(f"metadata is larger than {MAX_METADATA_CHARS} characters")
        if _json_too_deep(text, MAX_METADATA_DEPTH):
            raise ValueError(f"metadata JSON is nested deeper than {MAX_METADATA_DEPTH} levels")
        try:
            obj = json.loads(
                text,
                object_pairs_hook=_json_object_pairs,
                parse_int=_json_int,
                parse_float=_json_float,
                parse_constant=_json_constant,
            )
        except RecursionError:
            raise ValueError("metadata JSON is nested too deeply") from None
        except ValueError as e:  # includes json.JSONDecodeError
            raise ValueError(f"metadata is not valid JSON ({_short(text, 20)}): {e}") from None
        return cls.from_dict(obj)


# ---------------------------------------------------------------------------
# EngineInfo
# ---------------------------------------------------------------------------


def _slot_error(idx: int, detail: str) -> ValueError:
    return ValueError(f"engine info slot {_SLOT_NAMES[idx]} ({idx}): {detail}")


def _parse_flag(text: str) -> bool:
    if text == "1":
        return True
    if text == "0":
        return False
    raise ValueError(f"expected '0' or '1', found {_short(text)}")


def _format_flag(value: object) -> str:
    if type(value) is not bool:
        raise ValueError(f"expected a bool, found {type(value).__name__}")
    return "1" if value else "0"


def _parse_names(text: str, kind: str) -> tuple[str, ...]:
    if text == "":
        return ()
    names = tuple(text.split(BINDING_DELIM))
    for i, name in enumerate(names):
        _check_tensor_name(name, f"{kind} name #{i}")
    _unique(names, f"{kind} names")
    return names


def _format_names(names: object, kind: str) -> str:
    if not isinstance(names, (tuple, list)):
        raise ValueError(f"{kind} names must be a tuple of str, found {type(names).__name__}")
    for i, name in enumerate(names):
        _check_tensor_name(name, f"{kind} name #{i}")
    _unique(names, f"{kind} names")
    return BINDING_DELIM.join(names)


def _parse_device(text: str) -> tuple[int, tuple[str, ...]]:
    parts = text.split(_DEVICE_DELIM)
    if len(parts) != 2:
        raise ValueError(f"expected '<gpu_id>%<capabilities>', found {_short(text)}")
    gpu, caps = parts
    if _GPU_ID.fullmatch(gpu) is None:
        raise ValueError(f"gpu id {_short(gpu)} is not a non-negative integer")
    capabilities = tuple(caps.split(",")) if caps else ()
    for cap in capabilities:
        if _CAPABILITY.fullmatch(cap) is None:
            raise ValueError(f"compute capability {_short(cap)} is not of the form 'major.minor'")
    _unique(capabilities, "compute capabilities")
    return int(gpu), capabilities


def _format_device(gpu_id: object, capabilities: object) -> str:
    if type(gpu_id) is not int:
        raise ValueError(f"gpu_id must be an int, found {type(gpu_id).__name__}")
    if not isinstance(capabilities, (tuple, list)) or not all(type(c) is str for c in capabilities):
        raise ValueError("compute_capabilities must be a tuple of 'major.minor' strings")
    return f"{gpu_id}{_DEVICE_DELIM}{','.join(capabilities)}"


def _parse_platform(text: str) -> str:
    if text not in KNOWN_PLATFORMS:
        raise ValueError(f"unknown target platform {_short(text)}; known: {', '.join(KNOWN_PLATFORMS)}")
    return text


def _parse_strategy(text: str) -> str:
    if text not in RESOURCE_ALLOCATION_STRATEGIES:
        raise ValueError(
            f"unknown resource allocation strategy {_short(text)}; expected "
            f"{' or '.join(RESOURCE_ALLOCATION_STRATEGIES)}"
        )
    return text


def _parse_name(text: str) -> str:
    if not text:
        raise ValueError("engine name is empty")
    _check_c_string(text, "engine name")
    return text


def _parse_abi(text: str) -> str:
    if text != ABI_VERSION:
        raise ValueError(
            f"this file was written for engine-info ABI {_short(text)}; this torch_tensorrt "
            f"reads ABI {ABI_VERSION}; recompile the program with this version"
        )
    return text


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
        if not outputs:
            raise _slot_error(OUTPUT_BINDING_NAMES_IDX, "an engine needs at least one output")
        overlap = set(inputs) & set(outputs)
        if overlap:
            raise _slot_error(
                OUTPUT_BINDING_NAMES_IDX,
                f"name {_short(min(overlap))} is both an input and an output",
            )
        hw = slot(HW_COMPATIBLE_IDX, _parse_flag)
        metadata = slot(SERIALIZED_METADATA_IDX, EngineMetadata.from_json)
        for kind, specs, names, idx in (
            ("input", metadata.inputs, inputs, INPUT_BINDING_NAMES_IDX),
            ("output", metadata.outputs, outputs, OUTPUT_BINDING_NAMES_IDX),
        ):
            recorded = tuple(s.name for s in specs)
            if recorded and recorded != names:
                raise _slot_error(
                    SERIALIZED_METADATA_IDX,
                    f"metadata {kind} names {list(recorded)[:8]} differ from "
                    f"{_SLOT_NAMES[idx]} ({idx}): {list(names)[:8]}",
                )
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
