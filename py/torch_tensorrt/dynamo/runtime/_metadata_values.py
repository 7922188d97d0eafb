"""The field values of the engine metadata: dtype names, dimensions, shapes, capabilities, names and
flags, each read from JSON by a function ``(JSON value, its path) -> field value`` that raises a
ValueError naming the path. The object tables in ``_engine_metadata`` name these readers per key;
the C++ reader (core/runtime/EngineMetadata.cpp) applies the same rules with the same messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch_tensorrt.dynamo.runtime import _shape_expr
from torch_tensorrt.dynamo.runtime._engine_layout import check_tensor_name, is_capability
from torch_tensorrt.dynamo.runtime._strict_json import as_bool, as_int, as_list, as_object, fail, kind, short, unique

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

MAX_RANK = 8  # nvinfer1::Dims::MAX_DIMS
MAX_FLAG_NAME = 256

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


def as_dtype(value: object, path: str) -> str:
    if type(value) is not str or value not in DTYPE_NAMES:
        shown = short(value) if isinstance(value, str) else kind(value)
        fail(path, f"unknown dtype {shown}; expected one of {', '.join(DTYPE_NAMES)}")
    return value


def as_dim(value: object, path: str) -> Dim:
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


def as_shape(value: object, path: str) -> tuple[Dim, ...]:
    return tuple(as_dim(d, f"{path}[{i}]") for i, d in enumerate(_shape_items(value, path)))


def as_static_shape(value: object, path: str) -> tuple[int, ...]:
    return tuple(as_int(d, f"{path}[{i}]", 0, _shape_expr.INT64_MAX) for i, d in enumerate(_shape_items(value, path)))


def as_capability(value: object, path: str) -> str:
    if type(value) is not str or not is_capability(value):
        shown = short(value) if isinstance(value, str) else kind(value)
        fail(path, f"compute capability {shown} is not of the form 'major.minor'")
    return value


def as_name(value: object, path: str) -> str:
    try:
        return check_tensor_name(value, "name")
    except ValueError as e:
        fail(path, str(e))


def unique_list_of(read_item: Callable[[object, str], str]) -> Callable[[object, str], tuple[str, ...]]:
    def read(value: object, path: str) -> tuple[str, ...]:
        items = tuple(read_item(v, f"{path}[{i}]") for i, v in enumerate(as_list(value, path)))
        unique(items, path)
        return items

    return read


def as_optimization_level(value: object, path: str) -> int:
    return as_int(value, path, 0, 5)


def as_min_block_size(value: object, path: str) -> int:
    return as_int(value, path, 1, 2**31 - 1)


def as_memory_budget(value: object, path: str) -> int:
    return as_int(value, path, 1, 2**63 - 1)


def as_op_name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        fail(path, f"expected an operator name (a non-empty string of at most 256 characters), got {short(value)}")
    return value


def as_optional_json_list(value: Any) -> list[Any] | None:
    return None if value is None else list(value)


def as_flags(value: object, path: str) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for k, v in as_object(value, path).items():
        if type(k) is not str or not k or len(k) > MAX_FLAG_NAME:
            fail(path, f"flag name must have 1 to {MAX_FLAG_NAME} characters")
        flags[k] = as_bool(v, f"{path}[{short(k, 40)}]")
    return flags


def as_json_list(value: Any) -> list[Any]:
    return list(value)


def as_shape_values(value: object, path: str) -> tuple[tuple[int, ...], ...]:
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


def write_shape_values(values: tuple[tuple[int, ...], ...]) -> list[list[int]]:
    return [list(v) for v in values]
