"""The engine metadata (slot ``SERIALIZED_METADATA_IDX``): versioned JSON, one table per object.

Each JSON object of the format is described once, by a :class:`Schema` listing its keys with their
reader, writer and default; reading, writing and the unknown-key rule all come from that table. The
C++ reader (core/runtime/EngineMetadata.cpp) applies the same rules with the same messages, and
tests/py/runtime/test_engine_info_parity.py runs one table of cases against both.

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
        "min_block_size": int >= 1                     optional (partitioning, for refit)
        "require_full_compilation": bool               optional (partitioning, for refit)
        "torch_executed_ops": [str] (unique)           optional (partitioning, for refit)
        "use_fp32_acc": bool                           optional (lowering, for refit)
        "assume_dynamic_shape_support": bool           optional (partitioning, for refit)
        "decompose_attention": bool                    optional (lowering, for refit)
        "enable_resource_partitioning": bool           optional (partitioning, for refit)
        "cpu_memory_budget": int >= 1                  optional (partitioning, for refit)
        "enable_autocast": bool                        optional (lowering: refit refuses autocast programs)
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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from torch_tensorrt.dynamo.runtime import _shape_expr
from torch_tensorrt.dynamo.runtime._engine_layout import check_tensor_name, is_capability
from torch_tensorrt.dynamo.runtime._strict_json import (
    as_bool,
    as_int,
    as_list,
    as_object,
    check_extra,
    fail,
    kind,
    loads,
    short,
    split_known,
    too_deep,
    unique,
)

__all__ = [
    "DTYPE_NAMES",
    "MAX_METADATA_CHARS",
    "MAX_METADATA_DEPTH",
    "MAX_RANK",
    "METADATA_FORMAT",
    "METADATA_VERSION",
    "Dim",
    "EngineMetadata",
    "EngineSettings",
    "InputSpec",
    "OutputSpec",
    "dtype_name",
    "torch_dtype",
]

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
_MAX_FLAG_NAME = 256

Dim = int | str


def torch_dtype(name: str) -> Any:
    """The ``torch.dtype`` for a metadata dtype name."""
    import torch

    if name not in DTYPE_NAMES:
        raise ValueError(f"unknown dtype {short(name)}; known: {', '.join(DTYPE_NAMES)}")
    return getattr(torch, name)


def dtype_name(dtype: Any) -> str:
    """The metadata dtype name of a ``torch.dtype`` (or of a name)."""
    import torch

    for name in DTYPE_NAMES:
        if dtype == getattr(torch, name) or dtype == name:
            return name
    raise ValueError(f"dtype {dtype!r} cannot be stored in engine metadata")


# ---------------------------------------------------------------------------
# Value readers: (JSON value, its path) -> field value, ValueError naming the path.
# ---------------------------------------------------------------------------


def _as_dtype(value: object, path: str) -> str:
    if type(value) is not str or value not in DTYPE_NAMES:
        shown = short(value) if isinstance(value, str) else kind(value)
        fail(path, f"unknown dtype {shown}; expected one of {', '.join(DTYPE_NAMES)}")
    return value


def _as_dim(value: object, path: str) -> Dim:
    if type(value) is int:
        return as_int(value, path, 0, _shape_expr.INT64_MAX)
    if type(value) is str:
        try:
            _shape_expr.validate(value)
        except ValueError as e:
            fail(path, str(e))
        return value
    fail(path, f"expected an int >= 0 or a shape expression, found {kind(value)}")


def _shape_items(value: object, path: str) -> list[Any]:
    items = as_list(value, path)
    if len(items) > MAX_RANK:
        fail(path, f"rank {len(items)} exceeds the maximum of {MAX_RANK}")
    return items


def _as_shape(value: object, path: str) -> tuple[Dim, ...]:
    return tuple(_as_dim(d, f"{path}[{i}]") for i, d in enumerate(_shape_items(value, path)))


def _as_static_shape(value: object, path: str) -> tuple[int, ...]:
    return tuple(as_int(d, f"{path}[{i}]", 0, _shape_expr.INT64_MAX) for i, d in enumerate(_shape_items(value, path)))


def _as_capability(value: object, path: str) -> str:
    if type(value) is not str or not is_capability(value):
        shown = short(value) if isinstance(value, str) else kind(value)
        fail(path, f"compute capability {shown} is not of the form 'major.minor'")
    return value


def _as_name(value: object, path: str) -> str:
    try:
        return check_tensor_name(value, "name")
    except ValueError as e:
        fail(path, str(e))


def _unique_list_of(read_item: Callable[[object, str], str]) -> Callable[[object, str], tuple[str, ...]]:
    def read(value: object, path: str) -> tuple[str, ...]:
        items = tuple(read_item(v, f"{path}[{i}]") for i, v in enumerate(as_list(value, path)))
        unique(items, path)
        return items

    return read


def _as_optimization_level(value: object, path: str) -> int:
    return as_int(value, path, 0, 5)


def _as_min_block_size(value: object, path: str) -> int:
    return as_int(value, path, 1, 2**31 - 1)


def _as_memory_budget(value: object, path: str) -> int:
    return as_int(value, path, 1, 2**63 - 1)


def _as_op_name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        fail(path, f"expected an operator name (a non-empty string of at most 256 characters), got {short(value)}")
    return value


def _as_optional_json_list(value: Any) -> list[Any] | None:
    return None if value is None else list(value)


def _as_version(value: object, path: str) -> int:
    if type(value) is not int:
        fail(path, f"expected an integer >= 1, found {kind(value)}")
    if value < 1:
        fail(path, f"expected an integer >= 1, found {value}")
    if value > METADATA_VERSION:
        fail(
            path,
            f"metadata version {value} is newer than this torch_tensorrt reads "
            f"(version {METADATA_VERSION}); upgrade torch_tensorrt or recompile the program",
        )
    return value


def _as_flags(value: object, path: str) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for k, v in as_object(value, path).items():
        if type(k) is not str or not k or len(k) > _MAX_FLAG_NAME:
            fail(path, f"flag name must have 1 to {_MAX_FLAG_NAME} characters")
        flags[k] = as_bool(v, f"{path}[{short(k, 40)}]")
    return flags


def _same(value: Any) -> Any:
    return value


def _as_json_list(value: Any) -> list[Any]:
    return list(value)


# ---------------------------------------------------------------------------
# The table machinery
# ---------------------------------------------------------------------------

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
    write: Callable[[Any], Any] = _same  # field value -> JSON value
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


# ---------------------------------------------------------------------------
# The objects of the format, each with its table
# ---------------------------------------------------------------------------

_PROFILE = ("min_shape", "opt_shape", "max_shape")


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
    # A shape-tensor input (Input(is_shape_tensor=True)): the (min, opt, max) *values* its profile
    # allows; the runtimes check them on every call and hand the values to TensorRT from host memory.
    shape_values: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _INPUT.write(self)

    @classmethod
    def from_dict(cls, obj: object, path: str = "input") -> InputSpec:
        values, extra = _INPUT.read(obj, path)
        return cls(**values, extra=extra)


def _profile_rank(values: dict[str, Any], path: str) -> None:
    for key in _PROFILE:
        dims = values.get(key)
        if dims is not None and len(dims) != len(values["shape"]):
            fail(f"{path}.{key}", f"rank {len(dims)} differs from the rank {len(values['shape'])} of shape")


def _profile_bounds(values: dict[str, Any], path: str) -> None:
    if values.get("min_shape") is None:
        return  # no profile (the three are given together or not at all)
    for i, dim in enumerate(values["shape"]):
        lo, mid, hi = (values[k][i] for k in _PROFILE)
        if not lo <= mid <= hi:
            fail(path, f"dim {i}: need min <= opt <= max, found {lo}, {mid}, {hi}")
        if isinstance(dim, int) and not lo == mid == hi == dim:
            fail(path, f"dim {i} is static ({dim}) but the profile is {lo}, {mid}, {hi}")


def _as_shape_values(value: object, path: str) -> tuple[tuple[int, ...], ...]:
    """[min, opt, max] value lists of a shape-tensor input, each of one length, min <= opt <= max."""
    bounds = as_list(value, path)
    if len(bounds) != 3:
        fail(path, f"expected [min, opt, max] value lists, found {len(bounds)} entries")
    lo, opt, hi = (
        tuple(
            as_int(v, f"{path}[{k}][{i}]", -_shape_expr.INT64_MAX, _shape_expr.INT64_MAX)
            for i, v in enumerate(_shape_items(b, f"{path}[{k}]"))
        )
        for k, b in enumerate(bounds)
    )
    if not len(lo) == len(opt) == len(hi) or any(not a <= b <= c for a, b, c in zip(lo, opt, hi)):
        fail(path, f"need min <= opt <= max value lists of one length, found {list(lo)}, {list(opt)}, {list(hi)}")
    return lo, opt, hi


def _write_shape_values(values: tuple[tuple[int, ...], ...]) -> list[list[int]]:
    return [list(v) for v in values]


_INPUT = Schema(
    "InputSpec",
    (
        Key("name", _as_name),
        Key("dtype", _as_dtype),
        Key("shape", _as_shape, write=_as_json_list),
        *(
            Key(k, _as_static_shape, OPTIONAL, _as_json_list, omit_none=True, check=_profile_rank)
            for k in _PROFILE
        ),
        Key("shape_values", _as_shape_values, OPTIONAL, _write_shape_values, omit_none=True),
    ),
    together=_PROFILE,
    check=_profile_bounds,
)


@dataclass
class OutputSpec:
    """One engine output; dynamic dims are shape expressions over input symbols."""

    name: str
    dtype: str
    shape: tuple[Dim, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _OUTPUT.write(self)

    @classmethod
    def from_dict(cls, obj: object, path: str = "output") -> OutputSpec:
        values, extra = _OUTPUT.read(obj, path)
        return cls(**values, extra=extra)


_OUTPUT = Schema(
    "OutputSpec",
    (
        Key("name", _as_name),
        Key("dtype", _as_dtype),
        Key("shape", _as_shape, write=_as_json_list),
    ),
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
    # How the program was partitioned and lowered, so refit_module_weights can partition a model with
    # new weights the same way; None: not recorded (written before refit existed). Python-only keys:
    # the C++ runtime ignores them (unknown keys), as it does not refit.
    min_block_size: int | None = None
    require_full_compilation: bool | None = None
    torch_executed_ops: tuple[str, ...] | None = None
    use_fp32_acc: bool | None = None
    assume_dynamic_shape_support: bool | None = None
    decompose_attention: bool | None = None
    enable_resource_partitioning: bool | None = None
    cpu_memory_budget: int | None = None
    enable_autocast: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _SETTINGS.write(self)

    @classmethod
    def from_dict(cls, obj: object, path: str = "settings") -> EngineSettings:
        values, extra = _SETTINGS.read(obj, path)
        return cls(**values, extra=extra)


# Every setting is optional: a missing key keeps the dataclass default above.
_SETTINGS = Schema(
    "EngineSettings",
    (
        Key("optimization_level", _as_optimization_level, OPTIONAL),
        Key("truncate_double", as_bool, OPTIONAL),
        Key("hardware_compatible", as_bool, OPTIONAL),
        Key("strongly_typed", as_bool, OPTIONAL),
        Key("immutable_weights", as_bool, OPTIONAL),
        Key("enabled_precisions", _unique_list_of(_as_dtype), OPTIONAL, _as_json_list),
        Key("compute_capabilities", _unique_list_of(_as_capability), OPTIONAL, _as_json_list),
        Key("min_block_size", _as_min_block_size, OPTIONAL, omit_none=True),
        Key("require_full_compilation", as_bool, OPTIONAL, omit_none=True),
        Key("torch_executed_ops", _unique_list_of(_as_op_name), OPTIONAL, _as_optional_json_list, omit_none=True),
        Key("use_fp32_acc", as_bool, OPTIONAL, omit_none=True),
        Key("assume_dynamic_shape_support", as_bool, OPTIONAL, omit_none=True),
        Key("decompose_attention", as_bool, OPTIONAL, omit_none=True),
        Key("enable_resource_partitioning", as_bool, OPTIONAL, omit_none=True),
        Key("cpu_memory_budget", _as_memory_budget, OPTIONAL, omit_none=True),
        Key("enable_autocast", as_bool, OPTIONAL, omit_none=True),
    ),
)


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
            d = _METADATA.write(self)
        except (TypeError, AttributeError) as e:
            raise ValueError(f"malformed EngineMetadata: {e}") from None
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
        # The format marker decides which reader applies, so it is checked before any other key.
        document = as_object(obj, "metadata")
        if document.get("format") != METADATA_FORMAT:
            shown = short(document["format"]) if "format" in document else "no 'format' key"
            fail("metadata", f"not torch_tensorrt engine metadata (format: {shown})")
        values, extra = _METADATA.read(document, "metadata")
        return cls(**values, extra=extra)

    @classmethod
    def from_json(cls, text: object) -> EngineMetadata:
        """Parse metadata JSON; ValueError for anything malformed."""
        if type(text) is not str:
            raise ValueError(f"metadata must be JSON text (str), found {type(text).__name__}")
        if len(text) > MAX_METADATA_CHARS:
            raise ValueError(f"metadata is larger than {MAX_METADATA_CHARS} characters")
        if too_deep(text, MAX_METADATA_DEPTH):
            raise ValueError(f"metadata JSON is nested deeper than {MAX_METADATA_DEPTH} levels")
        try:
            obj = loads(text)
        except RecursionError:
            raise ValueError("metadata JSON is nested too deeply") from None
        except ValueError as e:  # includes json.JSONDecodeError
            raise ValueError(f"metadata is not valid JSON ({short(text, 20)}): {e}") from None
        return cls.from_dict(obj)


def _list_of(read_item: Callable[[object, str], Any]) -> Callable[[object, str], tuple[Any, ...]]:
    def read(value: object, path: str) -> tuple[Any, ...]:
        return tuple(read_item(v, f"{path}[{i}]") for i, v in enumerate(as_list(value, path)))

    return read


def _unique_tensor_names(values: dict[str, Any], path: str) -> None:
    unique([i.name for i in values["inputs"]] + [o.name for o in values["outputs"]], f"{path} tensor names")


def _to_dicts(specs: Any) -> list[dict[str, Any]]:
    return [s.to_dict() for s in specs]


_METADATA = Schema(
    "EngineMetadata",
    (
        # Checked by EngineMetadata.from_dict before any key is read.
        Key("format", lambda value, path: value, write=lambda _: METADATA_FORMAT, stored=False),
        Key("version", _as_version),
        Key("inputs", _list_of(InputSpec.from_dict), [], _to_dicts),
        Key("outputs", _list_of(OutputSpec.from_dict), [], _to_dicts, check=_unique_tensor_names),
        Key("settings", EngineSettings.from_dict, {}, lambda s: s.to_dict()),
        Key("flags", _as_flags, {}, dict),
    ),
)
