"""torch_tensorrt.Input: the shape range and dtype of one model input (Torch-TensorRT compatible)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from enum import Enum
from typing import Any

import torch

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
    raise TypeError(
        f"Input format must be None, torch.contiguous_format or torch.channels_last(_3d), got {value!r}"
    )


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


class Input:
    """One model input: a fixed ``shape`` or a ``min_shape``/``opt_shape``/``max_shape`` range.

    >>> Input(shape=(1, 3, 224, 224), dtype=torch.half)
    >>> Input(min_shape=(1, 3, 224, 224), opt_shape=(4, 3, 224, 224), max_shape=(8, 3, 224, 224))
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
        **unexpected: Any,
    ) -> None:
        if unexpected:
            raise TypeError(f"unexpected Input arguments: {sorted(unexpected)}")
        if args:
            if len(args) == 1 and shape is None:
                shape = args[0]
            elif len(args) == 3 and min_shape is None:
                min_shape, opt_shape, max_shape = args
            else:
                raise TypeError("Input takes a shape or (min_shape, opt_shape, max_shape) positionally")
        self.dtype: torch.dtype = dtype_from_any(dtype)
        self.name = name
        _check_format(format)
        self.format = format
        self.torch_tensor = torch_tensor
        if shape is not None:
            if any(s is not None for s in (min_shape, opt_shape, max_shape)):
                raise ValueError("give either shape or min_shape/opt_shape/max_shape, not both")
            fixed = _as_shape(shape, "shape")
            self.shape_mode = Input._ShapeMode.STATIC
            self.min_shape = self.opt_shape = self.max_shape = fixed
        else:
            if min_shape is None or max_shape is None:
                raise ValueError("Input needs shape=..., or at least min_shape and max_shape")
            self.min_shape = _as_shape(min_shape, "min_shape")
            self.max_shape = _as_shape(max_shape, "max_shape")
            self.opt_shape = _as_shape(opt_shape, "opt_shape") if opt_shape is not None else self.min_shape
            if not len(self.min_shape) == len(self.opt_shape) == len(self.max_shape):
                raise ValueError(
                    f"min/opt/max shapes must have the same rank: {self.min_shape}, "
                    f"{self.opt_shape}, {self.max_shape}"
                )
            for lo, mid, hi in zip(self.min_shape, self.opt_shape, self.max_shape):
                if not lo <= mid <= hi:
                    raise ValueError(
                        f"need min_shape <= opt_shape <= max_shape in every dimension, got "
                        f"{self.min_shape}, {self.opt_shape}, {self.max_shape}"
                    )
            static = self.min_shape == self.max_shape
            self.shape_mode = Input._ShapeMode.STATIC if static else Input._ShapeMode.DYNAMIC

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
    def from_tensor(cls, t: torch.Tensor, name: str | None = None) -> Input:
        return cls(shape=tuple(t.shape), dtype=t.dtype, name=name, torch_tensor=t)

    @classmethod
    def from_tensors(cls, tensors: Sequence[torch.Tensor]) -> list[Input]:
        return [cls.from_tensor(t) for t in tensors]

    def example_tensor(self, optimization_profile_field: str = "opt_shape") -> torch.Tensor:
        if self.torch_tensor is not None and self.shape_mode is Input._ShapeMode.STATIC:
            return self.torch_tensor
        shape = getattr(self, optimization_profile_field)
        check_example_size(self, shape)
        if self.dtype.is_floating_point:
            return torch.randn(shape, dtype=self.dtype)
        if self.dtype == torch.bool:
            return torch.zeros(shape, dtype=torch.bool)
        return torch.ones(shape, dtype=self.dtype)

    def __repr__(self) -> str:
        if self.shape_mode is Input._ShapeMode.STATIC:
            return f"Input(shape={self.opt_shape}, dtype={self.dtype})"
        return (
            f"Input(min_shape={self.min_shape}, opt_shape={self.opt_shape}, "
            f"max_shape={self.max_shape}, dtype={self.dtype})"
        )
