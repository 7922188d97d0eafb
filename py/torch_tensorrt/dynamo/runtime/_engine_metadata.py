"""The engine metadata (slot ``SERIALIZED_METADATA_IDX``): versioned JSON, one table per object.

Each JSON object of the format is described once, here, by a :class:`Schema` (``_json_table``)
listing its keys with their reader, writer and default; reading, writing and the unknown-key rule all
come from that table. The readers of single values (dtypes, dims, shapes, capabilities, flags) are
in ``_metadata_values``. The
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
from typing import Any

from torch_tensorrt.dynamo.runtime._json_table import OPTIONAL, Key, Schema
from torch_tensorrt.dynamo.runtime._metadata_values import (
    DTYPE_NAMES,
    MAX_RANK,
    Dim,
    as_capability,
    as_dtype,
    as_flags,
    as_json_list,
    as_memory_budget,
    as_min_block_size,
    as_name,
    as_op_name,
    as_optimization_level,
    as_optional_json_list,
    as_shape,
    as_shape_values,
    as_static_shape,
    dtype_name,
    torch_dtype,
    unique_list_of,
    write_shape_values,
)
from torch_tensorrt.dynamo.runtime._strict_json import (
    as_bool,
    as_list,
    as_object,
    fail,
    kind,
    loads,
    short,
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

METADATA_FORMAT = "torch_tensorrt.engine_metadata"
METADATA_VERSION = 1
MAX_METADATA_CHARS = 16 * 1024 * 1024
MAX_METADATA_DEPTH = 32


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


_INPUT = Schema(
    "InputSpec",
    (
        Key("name", as_name),
        Key("dtype", as_dtype),
        Key("shape", as_shape, write=as_json_list),
        *(Key(k, as_static_shape, OPTIONAL, as_json_list, omit_none=True, check=_profile_rank) for k in _PROFILE),
        Key("shape_values", as_shape_values, OPTIONAL, write_shape_values, omit_none=True),
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
        Key("name", as_name),
        Key("dtype", as_dtype),
        Key("shape", as_shape, write=as_json_list),
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
        Key("optimization_level", as_optimization_level, OPTIONAL),
        Key("truncate_double", as_bool, OPTIONAL),
        Key("hardware_compatible", as_bool, OPTIONAL),
        Key("strongly_typed", as_bool, OPTIONAL),
        Key("immutable_weights", as_bool, OPTIONAL),
        Key("enabled_precisions", unique_list_of(as_dtype), OPTIONAL, as_json_list),
        Key("compute_capabilities", unique_list_of(as_capability), OPTIONAL, as_json_list),
        Key("min_block_size", as_min_block_size, OPTIONAL, omit_none=True),
        Key("require_full_compilation", as_bool, OPTIONAL, omit_none=True),
        Key("torch_executed_ops", unique_list_of(as_op_name), OPTIONAL, as_optional_json_list, omit_none=True),
        Key("use_fp32_acc", as_bool, OPTIONAL, omit_none=True),
        Key("assume_dynamic_shape_support", as_bool, OPTIONAL, omit_none=True),
        Key("decompose_attention", as_bool, OPTIONAL, omit_none=True),
        Key("enable_resource_partitioning", as_bool, OPTIONAL, omit_none=True),
        Key("cpu_memory_budget", as_memory_budget, OPTIONAL, omit_none=True),
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
        Key("flags", as_flags, {}, dict),
    ),
)
