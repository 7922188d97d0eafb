"""torch_tensorrt.Input: the shape range and dtype of one model input (Torch-TensorRT compatible)."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Sequence
from enum import Enum
from typing import Any

import torch

from torch_tensorrt._enums import as_torch_dtype
from torch_tensorrt._logging import warn_once
from torch_tensorrt._types import dtype_from_any

# Memory formats Input accepts; the engines' bindings are always linear (contiguous).
_CONTIGUOUS_FORMATS = (None, torch.contiguous_format)
_CHANNELS_LAST_FORMATS = (torch.channels_last, torch.channels_last_3d)


def _machine_memory_bytes() -> int:
    """Physical memory: an example tensor larger than this cannot be allocated (1 TiB if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 2**40


def check_example_size(spec: Input, shape: Sequence[int]) -> None:
    """Refuse, before allocating, an example tensor no machine here could hold (e.g. shape 2**40)."""
    nbytes = math.prod(shape) * spec.dtype.itemsize
    limit = _machine_memory_bytes()
    if nbytes > limit:
        raise ValueError(
            f"{spec!r}: an example tensor of shape {tuple(shape)} would need {nbytes:,} bytes, more than this "
            f"machine's {limit:,} bytes of memory, and no engine could run on it either. Check the shape; for a "
            "dynamic dim, the example uses opt_shape, so a smaller opt_shape keeps a large max_shape."
        )


def _check_format(value: Any) -> None:
    if value in _CONTIGUOUS_FORMATS:
        return
    if value in _CHANNELS_LAST_FORMATS:
        warn_once(
            "Input.format",
            f"Input(format={value}) has no effect: TensorRT engines here take contiguous inputs, and a "
            f"{value} tensor given at run time is copied to contiguous first. Drop format= (and pass "
            "contiguous tensors to avoid the copy). (reported once per process)",
            stacklevel=3,
        )
        return
    raise TypeError(f"Input format must be None, torch.contiguous_format or torch.channels_last(_3d), got {value!r}")


def _as_shape(value: Any, what: str) -> tuple[int, ...]:
    if isinstance(value, torch.Size):
        return tuple(int(d) for d in value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        dims = tuple(value)
        if all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            if any(d < 0 for d in dims):
                raise ValueError(f"Input {what} has a negative dimension: {dims}")
            return dims
    raise TypeError(f"Input {what} must be a sequence of ints, got {value!r}")


# Every keyword Input takes (Torch-TensorRT's names); others are reported with the closest of these.
INPUT_KEYWORDS = (
    "shape",
    "min_shape",
    "opt_shape",
    "max_shape",
    "dtype",
    "format",
    "tensor_domain",
    "torch_tensor",
    "name",
    "is_shape_tensor",
    "shared_dims",
    "profiles",
    "shape_ranges",
)
_DEFAULT_DOMAIN = (0.0, 2.0)  # Torch-TensorRT's default tensor_domain: [0, 2)


def _warn_unknown_keywords(unexpected: dict[str, Any]) -> None:
    # Torch-TensorRT ignores unknown Input keywords; a typo must not pass unnoticed either.
    for keyword in sorted(unexpected):
        close = difflib.get_close_matches(keyword, INPUT_KEYWORDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid keywords: {', '.join(INPUT_KEYWORDS)}"
        warn_once(
            f"Input.{keyword}",
            f"Input({keyword}=...) is not an Input keyword and is ignored{hint} (reported once per process)",
            stacklevel=3,
        )


def _from_shape_ranges(shape: Any, shape_ranges: Any) -> tuple[Any, Any, Any]:
    """Torch-TensorRT's InputTensorSpec form: ``shape`` with -1 on dynamic dims + one (min, opt, max)."""
    if not (isinstance(shape_ranges, Sequence) and len(shape_ranges) == 1 and len(shape_ranges[0]) == 3):
        raise ValueError(f"shape_ranges must hold exactly one (min_shape, opt_shape, max_shape), got {shape_ranges!r}")
    lo, opt, hi = (tuple(s) for s in shape_ranges[0])
    if shape is not None:
        dims = tuple(shape)
        fixed = [i for i, d in enumerate(dims) if d != -1]
        if len(dims) != len(lo) or any(not lo[i] == hi[i] == dims[i] for i in fixed):
            raise ValueError(
                f"Input shape {dims} does not match shape_ranges {shape_ranges[0]}: each dim must be -1 or equal "
                "to its fixed range"
            )
    return lo, opt, hi


def _from_profiles(profiles: Any) -> tuple[tuple[dict[str, tuple[int, ...]], ...], Any, Any, Any]:
    """``profiles=[{min_shape, opt_shape, max_shape}, ...]``: one TensorRT optimization profile each.

    Returns the profiles (shapes as tuples) and the range the program is traced over: the elementwise
    envelope of every profile's min and max, with the first profile's opt (Torch-TensorRT's rule).
    """
    if not isinstance(profiles, Sequence) or isinstance(profiles, str) or not profiles:
        raise ValueError(
            "profiles must be a non-empty list of dicts with min_shape, opt_shape and max_shape (the list "
            "index is the optimization-profile index selected at run time)"
        )
    normalized = []
    for index, profile in enumerate(profiles):
        if not isinstance(profile, dict):
            raise ValueError(f"profile {index} must be a dict with min_shape, opt_shape and max_shape, got {profile!r}")
        missing = {"min_shape", "opt_shape", "max_shape"} - set(profile)
        if missing:
            raise ValueError(f"profile {index} lacks {sorted(missing)}")
        lo, opt, hi = (_as_shape(profile[k], f"profile {index} {k}") for k in ("min_shape", "opt_shape", "max_shape"))
        if not len(lo) == len(opt) == len(hi) or any(not a <= b <= c for a, b, c in zip(lo, opt, hi)):
            raise ValueError(
                f"profile {index} needs min_shape <= opt_shape <= max_shape of one rank, got {lo}, {opt}, {hi}"
            )
        if normalized and len(lo) != len(normalized[0]["min_shape"]):
            raise ValueError(
                f"all profiles of an Input must have one rank: profile {index} has rank {len(lo)}, "
                f"profile 0 has rank {len(normalized[0]['min_shape'])}"
            )
        normalized.append({"min_shape": lo, "opt_shape": opt, "max_shape": hi})
    union_min = tuple(min(p["min_shape"][d] for p in normalized) for d in range(len(normalized[0]["min_shape"])))
    union_max = tuple(max(p["max_shape"][d] for p in normalized) for d in range(len(normalized[0]["max_shape"])))
    return tuple(normalized), union_min, normalized[0]["opt_shape"], union_max


def _parse_domain(domain: Any) -> tuple[float, float]:
    if domain is None:
        return _DEFAULT_DOMAIN
    if not (isinstance(domain, Sequence) and len(domain) == 2):
        raise ValueError(f"tensor_domain must be (low, high), got {domain!r}")
    lo, hi = domain
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or not lo < hi:
        raise ValueError(f"tensor_domain must be numbers with low < high, got {domain!r}")
    return float(lo), float(hi)


def _as_torch_format(value: Any) -> Any:
    from torch_tensorrt._enums import memory_format

    if isinstance(value, memory_format):
        converted = value.try_to(torch.memory_format)
        if converted is None:
            raise TypeError(f"Input format {value} is not a layout the engines here take (linear or channels_last)")
        return converted
    return value


class Input:
    """One model input: a fixed ``shape`` or a ``min_shape``/``opt_shape``/``max_shape`` range.

    >>> Input(shape=(1, 3, 224, 224), dtype=torch.half)
    >>> Input(min_shape=(1, 3, 224, 224), opt_shape=(4, 3, 224, 224), max_shape=(8, 3, 224, 224))
    >>> Input(shape=(-1, 3), shape_ranges=[((1, 3), (4, 3), (8, 3))])  # Torch-TensorRT's older form
    >>> Input(profiles=[{"min_shape": (1, 1), "opt_shape": (1, 1), "max_shape": (1, 1)},
    ...                 {"min_shape": (1, 2), "opt_shape": (1, 256), "max_shape": (1, 512)}])

    ``profiles`` builds engines with one optimization profile per entry (the list index is the
    profile's index); the program is traced over their envelope (min of the mins, max of the maxes,
    opt of profile 0), and each call runs on the first profile containing its input shapes.

    ``tensor_domain=(low, high)`` bounds the values of generated example tensors; ``shared_dims``
    ({axis: name}) or namedtuple shapes make equally named dynamic axes of several inputs one dim.
    """

    class _ShapeMode(Enum):
        STATIC = 0
        DYNAMIC = 1

    def __init__(
        self,
        *args: Any,
        shape: Any = None,
        min_shape: Any = None,
        opt_shape: Any = None,
        max_shape: Any = None,
        dtype: Any = torch.float32,
        name: str | None = None,
        format: Any = None,  # noqa: A002 - Torch-TensorRT's keyword; channels_last is reported as unused
        torch_tensor: torch.Tensor | None = None,
        tensor_domain: tuple[float, float] | None = None,
        is_shape_tensor: bool = False,
        shared_dims: dict[int, str] | None = None,
        profiles: Sequence[dict[str, Any]] | None = None,
        shape_ranges: Sequence[Any] | None = None,
        **unexpected: Any,
    ) -> None:
        _warn_unknown_keywords(unexpected)
        # One dict per optimization profile (profiles=...), else None: the engine has one profile.
        self.profiles: tuple[dict[str, tuple[int, ...]], ...] | None = None
        if args:
            if len(args) == 1 and shape is None:
                shape = args[0]
            elif len(args) == 3 and min_shape is None:
                min_shape, opt_shape, max_shape = args
            else:
                raise TypeError("Input takes a shape or (min_shape, opt_shape, max_shape) positionally")
        if profiles is not None:
            if any(v is not None for v in (shape, min_shape, opt_shape, max_shape, shape_ranges)):
                raise ValueError("profiles= replaces shape/min_shape/opt_shape/max_shape; give only one of them")
            self.profiles, min_shape, opt_shape, max_shape = _from_profiles(profiles)
        if shape_ranges is not None:
            min_shape, opt_shape, max_shape = _from_shape_ranges(shape, shape_ranges)
            shape = None
        self.dtype: torch.dtype = dtype_from_any(as_torch_dtype(dtype))
        self.name = name
        format = _as_torch_format(format)  # noqa: A001
        _check_format(format)
        self.format = format
        self._torch_tensor = torch_tensor
        self.tensor_domain = _parse_domain(tensor_domain)
        self.low_tensor_domain_incl, self.high_tensor_domain_excl = self.tensor_domain
        self._explicit_domain = tensor_domain is not None
        self.is_shape_tensor = bool(is_shape_tensor)
        self.shape_tensor_values: tuple[tuple[int, ...], ...] | None = None
        if self.is_shape_tensor:
            self._init_shape_tensor(shape, min_shape, opt_shape, max_shape)
        else:
            self._init_shapes(shape, min_shape, opt_shape, max_shape)
        names = getattr(min_shape, "_fields", None) if shape is None else None
        self.shared_dims = self._parse_shared_dims(shared_dims, names)

    def _init_shapes(self, shape: Any, min_shape: Any, opt_shape: Any, max_shape: Any) -> None:
        if shape is not None:
            if any(s is not None for s in (min_shape, opt_shape, max_shape)):
                raise ValueError("give either shape or min_shape/opt_shape/max_shape, not both")
            fixed = _as_shape(shape, "shape")
            self.shape_mode = Input._ShapeMode.STATIC
            self.min_shape = self.opt_shape = self.max_shape = fixed
            return
        if min_shape is None or max_shape is None:
            raise ValueError("Input needs shape=..., or at least min_shape and max_shape")
        self.min_shape = _as_shape(min_shape, "min_shape")
        self.max_shape = _as_shape(max_shape, "max_shape")
        self.opt_shape = _as_shape(opt_shape, "opt_shape") if opt_shape is not None else self.min_shape
        if not len(self.min_shape) == len(self.opt_shape) == len(self.max_shape):
            raise ValueError(
                f"min/opt/max shapes must have the same rank: {self.min_shape}, {self.opt_shape}, {self.max_shape}"
            )
        for lo, mid, hi in zip(self.min_shape, self.opt_shape, self.max_shape):
            if not lo <= mid <= hi:
                raise ValueError(
                    f"need min_shape <= opt_shape <= max_shape in every dimension, got "
                    f"{self.min_shape}, {self.opt_shape}, {self.max_shape}"
                )
        static = self.min_shape == self.max_shape
        self.shape_mode = Input._ShapeMode.STATIC if static else Input._ShapeMode.DYNAMIC

    def _init_shape_tensor(self, shape: Any, min_shape: Any, opt_shape: Any, max_shape: Any) -> None:
        """``is_shape_tensor=True``: the shapes given are the input's *values* (a 1-D int tensor)."""
        values = (
            (shape,) * 3
            if shape is not None
            else (min_shape, opt_shape if opt_shape is not None else min_shape, max_shape)
        )
        if any(v is None for v in values):
            raise ValueError(
                "Input(is_shape_tensor=True) needs shape=... or min_shape/opt_shape/max_shape (its values)"
            )
        lo, opt, hi = (tuple(int(x) for x in v) for v in values)
        if not len(lo) == len(opt) == len(hi):
            raise ValueError(
                f"Input(is_shape_tensor=True): min/opt/max values must have one length, got {lo}, {opt}, {hi}"
            )
        if any(not a <= b <= c for a, b, c in zip(lo, opt, hi)):
            raise ValueError(
                f"Input(is_shape_tensor=True): need min <= opt <= max for every value, got {lo}, {opt}, {hi}"
            )
        if self.dtype not in (torch.int32, torch.int64):
            raise ValueError(
                f"Input(is_shape_tensor=True) holds sizes, so its dtype must be torch.int32 or torch.int64, "
                f"got {self.dtype}; pass dtype=torch.int64"
            )
        # The values' range becomes the engine's optimization profile (set_shape_input); the tensor
        # itself is a static 1-D tensor of len(values) elements.
        self.shape_tensor_values = (lo, opt, hi)
        self.shape_mode = Input._ShapeMode.STATIC
        self.min_shape = self.opt_shape = self.max_shape = (len(opt),)

    def _parse_shared_dims(self, shared_dims: Any, field_names: Sequence[str] | None) -> dict[int, str]:
        if shared_dims and field_names:
            raise ValueError("give shared_dims or namedtuple shapes to name dynamic axes, not both")
        if field_names:
            shared_dims = {i: n for i, n in enumerate(field_names) if i in self.dynamic_dims()}
        if not shared_dims:
            return {}
        if not isinstance(shared_dims, dict):
            raise TypeError(f"shared_dims must be a dict {{axis: name}}, got {type(shared_dims).__name__}")
        for axis, dim_name in shared_dims.items():
            if not isinstance(axis, int) or not 0 <= axis < len(self.min_shape):
                raise ValueError(f"shared_dims axis {axis!r} is not an axis of a rank-{len(self.min_shape)} input")
            if not isinstance(dim_name, str) or not dim_name:
                raise ValueError(f"shared_dims name for axis {axis} must be a non-empty string, got {dim_name!r}")
            if axis not in self.dynamic_dims():
                raise ValueError(f"shared_dims axis {axis} ({dim_name!r}) is static; only dynamic axes can be named")
        return dict(shared_dims)

    @property
    def shape(self) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
        if self.shape_mode is Input._ShapeMode.STATIC:
            return self.opt_shape
        return {"min_shape": self.min_shape, "opt_shape": self.opt_shape, "max_shape": self.max_shape}

    def is_dynamic(self) -> bool:
        return self.shape_mode is Input._ShapeMode.DYNAMIC

    def dynamic_dims(self) -> list[int]:
        return [i for i, (lo, hi) in enumerate(zip(self.min_shape, self.max_shape)) if lo != hi]

    @classmethod
    def from_tensor(cls, t: torch.Tensor, disable_memory_format_check: bool = False, name: str | None = None) -> Input:
        """The Input of example tensor ``t`` (which it keeps as its example)."""
        if not (disable_memory_format_check or t.is_contiguous() or t.is_contiguous(memory_format=torch.channels_last)):
            raise ValueError("example tensors must be contiguous or channels_last (pass a .contiguous() copy)")
        return cls(shape=tuple(t.shape), dtype=t.dtype, name=name, torch_tensor=t)

    @classmethod
    def from_tensors(cls, ts: Sequence[torch.Tensor], disable_memory_format_check: bool = False) -> list[Input]:
        return [cls.from_tensor(t, disable_memory_format_check) for t in ts]

    @staticmethod
    def equivalent_spec(a: Input, b: Input) -> bool:
        """Same shapes (or ranges), dtype, format and tensor domain."""
        fields = (
            "min_shape", "opt_shape", "max_shape", "dtype", "format", "tensor_domain", "shape_tensor_values", "profiles"
        )  # fmt: skip
        return a.shape_mode == b.shape_mode and all(getattr(a, f) == getattr(b, f) for f in fields)

    @property
    def torch_tensor(self) -> torch.Tensor:
        """The example tensor given; without one, as in Torch-TensorRT, an example at the opt shape
        (made on first read, so an Input that is never asked for it allocates nothing)."""
        if self._torch_tensor is None:
            self._torch_tensor = self.example_tensor("opt_shape")
        return self._torch_tensor

    @torch_tensor.setter
    def torch_tensor(self, value: torch.Tensor | None) -> None:
        self._torch_tensor = value

    def example_tensor(self, optimization_profile_field: str | None = None) -> torch.Tensor:
        field = optimization_profile_field or "opt_shape"
        if field not in ("min_shape", "opt_shape", "max_shape"):
            raise ValueError(f"optimization_profile_field must be min_shape, opt_shape or max_shape, got {field!r}")
        if self._torch_tensor is not None and self.shape_mode is Input._ShapeMode.STATIC:
            return self._torch_tensor
        if self.shape_tensor_values is not None:
            index = ("min_shape", "opt_shape", "max_shape").index(field)
            return torch.tensor(self.shape_tensor_values[index], dtype=self.dtype)
        shape = getattr(self, field)
        check_example_size(self, shape)
        return self.random_tensor(shape)

    def random_tensor(self, shape: Sequence[int]) -> torch.Tensor:
        """A tensor of this dtype and ``shape``; values inside ``tensor_domain`` when one was given."""
        if self.dtype == torch.bool:
            return torch.zeros(shape, dtype=torch.bool)
        if self._explicit_domain:
            lo, hi = self.tensor_domain
            if self.dtype.is_floating_point:
                return (torch.rand(shape) * (hi - lo) + lo).to(self.dtype)
            return torch.randint(math.ceil(lo), max(math.ceil(hi), math.ceil(lo) + 1), tuple(shape), dtype=self.dtype)
        if self.dtype.is_floating_point:
            return torch.randn(shape, dtype=self.dtype)
        return torch.ones(shape, dtype=self.dtype)

    def __repr__(self) -> str:
        if self.profiles is not None and len(self.profiles) > 1:
            return f"Input(profiles={list(self.profiles)}, dtype={self.dtype})"
        if self.shape_mode is Input._ShapeMode.STATIC:
            return f"Input(shape={self.opt_shape}, dtype={self.dtype})"
        return (
            f"Input(min_shape={self.min_shape}, opt_shape={self.opt_shape}, "
            f"max_shape={self.max_shape}, dtype={self.dtype})"
        )
