"""Torch-TensorRT's enums: ``dtype``, ``memory_format``, ``DeviceType``, ``EngineCapability``, ``Platform``.

Each converts from and to the matching type of PyTorch, TensorRT and (for dtype) NumPy, with
``_from``/``try_from`` and ``to``/``try_to`` as in Torch-TensorRT. TensorRT is imported only inside the
conversions: settings and lowering read these enums and must not import TensorRT (a stage never
imports a later one).
"""

from __future__ import annotations

import platform as _platform
from enum import Enum, auto
from typing import Any

import torch


def _trt() -> Any:
    from torch_tensorrt._trt import trt

    return trt


# (member, torch dtype, TensorRT DataType name, NumPy type name); None where the library has no equivalent.
_DTYPE_TABLE: tuple[tuple[str, torch.dtype | None, str | None, str | None], ...] = (
    ("u8", torch.uint8, "UINT8", "uint8"),
    ("i8", torch.int8, "INT8", "int8"),
    ("i32", torch.int32, "INT32", "int32"),
    ("i64", torch.int64, "INT64", "int64"),
    ("f16", torch.float16, "HALF", "float16"),
    ("f32", torch.float32, "FLOAT", "float32"),
    ("f64", torch.float64, None, "float64"),
    ("b", torch.bool, "BOOL", "bool_"),
    ("bf16", torch.bfloat16, "BF16", None),
    ("f8", torch.float8_e4m3fn, "FP8", None),
    ("f4", getattr(torch, "float4_e2m1fn_x2", None), "FP4", None),
)


class dtype(Enum):  # noqa: N801 - Torch-TensorRT's name
    """A data type, convertible to and from torch, TensorRT and NumPy dtypes."""

    unknown = auto()
    u8 = auto()
    i8 = auto()
    i32 = auto()
    i64 = auto()
    f16 = auto()
    f32 = auto()
    f64 = auto()
    b = auto()
    bf16 = auto()
    f8 = auto()
    f4 = auto()

    uint8 = u8
    int8 = i8
    int32 = i32
    long = i64
    int64 = i64
    float8 = f8
    fp8 = f8
    float4 = f4
    fp4 = f4
    half = f16
    fp16 = f16
    float16 = f16
    float = f32
    fp32 = f32
    float32 = f32
    double = f64
    fp64 = f64
    float64 = f64
    bfloat16 = bf16

    @classmethod
    def _from(cls, t: Any, use_default: bool = False) -> dtype:
        """The dtype equivalent to ``t`` (torch/TensorRT/NumPy dtype or dtype); TypeError if none."""
        if isinstance(t, dtype):
            return t
        for name, torch_dt, trt_name, np_name in _DTYPE_TABLE:
            if _matches_dtype(t, torch_dt, trt_name, np_name):
                return cls[name]
        if use_default:
            return cls.f32
        raise TypeError(f"{t!r} has no torch_tensorrt.dtype equivalent")

    @classmethod
    def try_from(cls, t: Any, use_default: bool = False) -> dtype | None:
        try:
            return cls._from(t, use_default)
        except (TypeError, ValueError):
            return None

    def to(self, t: Any, use_default: bool = False) -> Any:
        """This dtype as a ``torch.dtype``, ``tensorrt.DataType``, ``numpy.dtype`` or ``dtype``."""
        if t is dtype:
            return self
        row = next((r for r in _DTYPE_TABLE if r[0] == self.name), None)
        torch_dt, trt_name, np_name = (row[1], row[2], row[3]) if row else (None, None, None)
        value: Any = None
        if t is torch.dtype:
            value = torch_dt
        elif _is_numpy_dtype_type(t):
            import numpy as np

            value = np.dtype(getattr(np, np_name)) if np_name else None
        elif t is _trt().DataType:
            value = getattr(_trt().DataType, trt_name) if trt_name else None
        else:
            raise TypeError(f"cannot convert torch_tensorrt.dtype to {t!r}")
        if value is None:
            if use_default:
                return dtype.f32.to(t)
            raise TypeError(f"torch_tensorrt.dtype.{self.name} has no equivalent in {t!r}")
        return value

    def try_to(self, t: Any, use_default: bool = False) -> Any:
        try:
            return self.to(t, use_default)
        except (TypeError, ValueError):
            return None

    def __eq__(self, other: object) -> bool:
        other_dtype = dtype.try_from(other)
        return other_dtype is not None and self.value == other_dtype.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return f"dtype.{self.name}"

    # Last: inside the class body these names shadow the builtins.
    bool = b
    int = i32


def _is_numpy_dtype_type(t: Any) -> bool:
    return getattr(t, "__module__", "") == "numpy" and getattr(t, "__name__", "") == "dtype"


def _matches_dtype(t: Any, torch_dt: torch.dtype | None, trt_name: str | None, np_name: str | None) -> bool:
    if isinstance(t, torch.dtype):
        return torch_dt is not None and t == torch_dt
    module = type(t).__module__ or ""
    if "tensorrt" in module:
        return trt_name is not None and getattr(_trt().DataType, trt_name, None) == t
    if np_name is not None and (module.startswith("numpy") or getattr(t, "__module__", "") == "numpy"):
        import numpy as np

        try:
            return bool(np.dtype(t) == np.dtype(getattr(np, np_name)))
        except TypeError:
            return False
    return False


def as_torch_dtype(value: Any) -> Any:
    """``torch_tensorrt.dtype`` values as ``torch.dtype``; anything else unchanged (for dtype_from_any)."""
    return value.to(torch.dtype) if isinstance(value, dtype) else value


class memory_format(Enum):  # noqa: N801 - Torch-TensorRT's name
    """A tensor layout. Engines here take linear (contiguous) tensors only; see ``Input(format=...)``."""

    linear = auto()
    chw2 = auto()
    hwc8 = auto()
    chw4 = auto()
    chw16 = auto()
    chw32 = auto()
    dhwc8 = auto()
    cdhw32 = auto()
    hwc = auto()
    dla_linear = auto()
    dla_hwc4 = auto()
    hwc16 = auto()
    dhwc = auto()

    contiguous = linear
    channels_last = hwc
    channels_last_3d = dhwc

    @classmethod
    def _from(cls, f: Any) -> memory_format:
        if isinstance(f, memory_format):
            return f
        torch_formats = {
            torch.contiguous_format: cls.linear,
            torch.channels_last: cls.hwc,
            torch.channels_last_3d: cls.dhwc,
        }
        if isinstance(f, torch.memory_format) and f in torch_formats:
            return torch_formats[f]
        if "tensorrt" in (type(f).__module__ or ""):
            return cls[f.name.lower()]
        raise TypeError(f"{f!r} has no torch_tensorrt.memory_format equivalent")

    @classmethod
    def try_from(cls, f: Any) -> memory_format | None:
        try:
            return cls._from(f)
        except (TypeError, KeyError, AttributeError):
            return None

    def to(self, t: Any) -> Any:
        if t is memory_format:
            return self
        if t is torch.memory_format:
            torch_formats = {
                memory_format.linear: torch.contiguous_format,
                memory_format.hwc: torch.channels_last,
                memory_format.dhwc: torch.channels_last_3d,
            }
            if self in torch_formats:
                return torch_formats[self]
            raise TypeError(f"memory_format.{self.name} has no torch.memory_format equivalent")
        if t is _trt().TensorFormat:
            return getattr(_trt().TensorFormat, self.name.upper())
        raise TypeError(f"cannot convert torch_tensorrt.memory_format to {t!r}")

    def try_to(self, t: Any) -> Any:
        try:
            return self.to(t)
        except (TypeError, AttributeError):
            return None


class _TrtMirroredEnum(Enum):
    """An enum whose members share their names with a TensorRT enum (``_TRT_TYPE``)."""

    @classmethod
    def _trt_type(cls) -> Any:
        return getattr(_trt(), cls.__name__)

    @classmethod
    def _from(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        name = getattr(value, "name", None)
        if "tensorrt" in (type(value).__module__ or "") and name in cls.__members__:
            return cls[name]
        raise TypeError(f"{value!r} has no torch_tensorrt.{cls.__name__} equivalent")

    @classmethod
    def try_from(cls, value: Any) -> Any:
        try:
            return cls._from(value)
        except TypeError:
            return None

    def to(self, t: Any) -> Any:
        if t is type(self):
            return self
        if t is self._trt_type():
            return getattr(t, self.name)
        raise TypeError(f"cannot convert torch_tensorrt.{type(self).__name__} to {t!r}")

    def try_to(self, t: Any) -> Any:
        try:
            return self.to(t)
        except (TypeError, AttributeError):
            return None


class DeviceType(_TrtMirroredEnum):
    """The kind of device an engine runs on. TensorRT-RTX has GPUs only (no DLA)."""

    UNKNOWN = auto()
    GPU = auto()
    DLA = auto()

    def to(self, t: Any) -> Any:
        if t is DeviceType:
            return self
        if t is _trt().DeviceType and self is not DeviceType.UNKNOWN:
            return getattr(t, self.name)
        raise TypeError(f"cannot convert torch_tensorrt.DeviceType.{self.name} to {t!r}")


class EngineCapability(_TrtMirroredEnum):
    """Which kernels the builder may use. TensorRT-RTX builds ``STANDARD`` engines only."""

    STANDARD = auto()
    SAFETY = auto()
    DLA_STANDALONE = auto()


class Platform(Enum):
    """Operating system and CPU architecture an engine is built for."""

    LINUX_X86_64 = auto()
    LINUX_AARCH64 = auto()
    WIN_X86_64 = auto()
    UNKNOWN = auto()
    WIN_ARM64 = auto()

    @classmethod
    def current_platform(cls) -> Platform:
        system, machine = _platform.system().lower(), _platform.machine().lower()
        arm = machine.startswith(("aarch64", "arm64"))
        x86 = machine in ("x86_64", "amd64")
        if system == "linux":
            return cls.LINUX_AARCH64 if arm else cls.LINUX_X86_64 if x86 else cls.UNKNOWN
        if system == "windows":
            return cls.WIN_ARM64 if arm else cls.WIN_X86_64 if x86 else cls.UNKNOWN
        return cls.UNKNOWN

    def __str__(self) -> str:
        return self.name.lower()


__all__ = ["DeviceType", "EngineCapability", "Platform", "as_torch_dtype", "dtype", "memory_format"]
