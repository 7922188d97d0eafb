"""Per-module runtime mode controls (DESIGN.md section 4).

These are not engine properties: they are never serialized with an engine and are applied when an
execution context is created. All three are TensorRT-RTX features; on standard TensorRT they are
validated like everywhere else (a typo is never silently dropped) and then ignored with a one-time
warning by :func:`effective_for_backend`.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from torch_tensorrt import _trt

from ._runtime_cache import RuntimeCache, default_runtime_cache, is_default_runtime_cache

__all__ = [
    "CUDA_GRAPH_STRATEGIES",
    "DYNAMIC_SHAPES_KERNEL_STRATEGIES",
    "CudaGraphStrategy",
    "DynamicShapesKernelStrategy",
    "RuntimeSettings",
    "effective_for_backend",
    "reset_backend_warnings",
]


class _NamedIntEnum(enum.IntEnum):
    """Int values shared with the C++ runtime; user-facing names are the lower-case member names."""

    @property
    def strategy_name(self) -> str:
        return self.name.lower()

    @classmethod
    def valid_names(cls) -> tuple[str, ...]:
        return tuple(member.name.lower() for member in cls)

    @classmethod
    def from_name(cls, name: object) -> Any:
        if isinstance(name, str) and name.upper() in cls.__members__ and name == name.lower():
            return cls[name.upper()]
        valid = ", ".join(repr(n) for n in cls.valid_names())
        raise ValueError(f"unknown {cls._field_name()} {name!r}; valid values: {valid}")

    @classmethod
    def from_int(cls, value: int) -> Any:
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(f"{m.value} ({m.name.lower()})" for m in cls)
            raise ValueError(f"unknown {cls._field_name()} enum value {value!r}; valid values: {valid}") from None

    @classmethod
    def _field_name(cls) -> str:
        raise NotImplementedError


class DynamicShapesKernelStrategy(_NamedIntEnum):
    LAZY = 0
    EAGER = 1
    NONE = 2

    @classmethod
    def _field_name(cls) -> str:
        return "dynamic_shapes_kernel_specialization_strategy"


class CudaGraphStrategy(_NamedIntEnum):
    DISABLED = 0
    WHOLE_GRAPH_CAPTURE = 1

    @classmethod
    def _field_name(cls) -> str:
        return "cuda_graph_strategy"


DYNAMIC_SHAPES_KERNEL_STRATEGIES: tuple[str, ...] = DynamicShapesKernelStrategy.valid_names()
CUDA_GRAPH_STRATEGIES: tuple[str, ...] = CudaGraphStrategy.valid_names()


# from_enums without a runtime cache: None is a value (no file), so "not given" needs its own marker.
_UNSET: Any = object()


@dataclass(frozen=True)
class RuntimeSettings:
    """How a module's engines run; see DESIGN.md section 4 (Torch-TensorRT's ``RuntimeSettings``).

    ``runtime_cache``:

    - the default, ``RuntimeSettings().runtime_cache``: a ``str`` naming the private per-user cache
      directory (``DefaultRuntimeCache``). It stands for the process-wide default cache
      (``set_runtime_cache_path``), which unless changed is one file per engine in that directory,
      because TensorRT-RTX caches cannot be merged (Torch-TensorRT uses one shared file);
    - ``None`` or ``""``: no file, the kernels stay in memory (``None`` opts out as in Torch-TensorRT);
    - a path: a file shared by all engines using it;
    - a :class:`RuntimeCache`: used as given; it saves itself only if ``autosave_on_del``.
    """

    dynamic_shapes_kernel_specialization_strategy: str = "lazy"
    cuda_graph_strategy: str = "disabled"
    runtime_cache: str | os.PathLike[str] | RuntimeCache | None = dataclasses.field(
        default_factory=default_runtime_cache
    )

    def __post_init__(self) -> None:
        # Validated on every backend: a typo must fail even where the setting would be ignored.
        DynamicShapesKernelStrategy.from_name(self.dynamic_shapes_kernel_specialization_strategy)
        CudaGraphStrategy.from_name(self.cuda_graph_strategy)
        if self.runtime_cache is not None and not isinstance(self.runtime_cache, str | os.PathLike | RuntimeCache):
            raise TypeError(
                f"runtime_cache must be a path, a RuntimeCache or None, not {type(self.runtime_cache).__name__}"
            )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def merge(self, **overrides: Any) -> RuntimeSettings:
        """A copy with ``overrides`` applied (and validated); unknown keys raise ``TypeError``."""
        valid = self.field_names()
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise TypeError(f"unknown runtime setting(s) {', '.join(unknown)}; valid settings: {', '.join(valid)}")
        return dataclasses.replace(self, **overrides)

    def non_default_fields(self) -> tuple[str, ...]:
        defaults = RuntimeSettings()
        return tuple(
            name for name in self.field_names() if not _is_default(name, getattr(self, name), getattr(defaults, name))
        )

    def to_enums(self) -> tuple[int, int]:
        """(kernel strategy, CUDA graph strategy) as the C++ runtime's ints."""
        return (
            int(DynamicShapesKernelStrategy.from_name(self.dynamic_shapes_kernel_specialization_strategy)),
            int(CudaGraphStrategy.from_name(self.cuda_graph_strategy)),
        )

    @classmethod
    def from_enums(
        cls,
        dynamic_shapes_kernel_specialization_strategy: int,
        cuda_graph_strategy: int,
        runtime_cache: str | os.PathLike[str] | RuntimeCache | None = _UNSET,
    ) -> RuntimeSettings:
        """Inverse of :meth:`to_enums`, with the given runtime cache (else the default); unknown
        ints raise ``ValueError``."""
        settings = cls(
            DynamicShapesKernelStrategy.from_int(dynamic_shapes_kernel_specialization_strategy).strategy_name,
            CudaGraphStrategy.from_int(cuda_graph_strategy).strategy_name,
        )
        return settings if runtime_cache is _UNSET else settings.merge(runtime_cache=runtime_cache)

    def effective_for_backend(self, *, strict: bool = False) -> RuntimeSettings:
        return effective_for_backend(self, strict=strict)


def _is_default(name: str, value: object, default: object) -> bool:
    if name == "runtime_cache":
        # The default path depends on the environment when it was made: compare what it means.
        return is_default_runtime_cache(value)
    return value == default


# Settings already reported as ignored on standard TensorRT in this process.
_WARNED_IGNORED: set[str] = set()
_WARNED_MUTEX = threading.Lock()

# Every field is a TensorRT-RTX IRuntimeConfig / runtime-cache feature.
_RTX_ONLY_FIELDS = RuntimeSettings.field_names()


def effective_for_backend(settings: RuntimeSettings, *, strict: bool = False) -> RuntimeSettings:
    """The settings that actually apply on the TensorRT in use (read at call time).

    On TensorRT-RTX, ``settings`` unchanged. On standard TensorRT the RTX-only settings do nothing, so
    their defaults are returned; non-default values are reported by one ``UserWarning`` per setting
    per process (:func:`reset_backend_warnings` resets that), or raise ``RuntimeError`` when
    ``strict`` (the user explicitly asked for the feature).
    """
    if _trt.ENABLED_FEATURES.tensorrt_rtx:
        return settings
    ignored = [name for name in settings.non_default_fields() if name in _RTX_ONLY_FIELDS]
    if not ignored:
        return settings
    described = ", ".join(f"{name}={getattr(settings, name)!r}" for name in ignored)
    if strict:
        raise RuntimeError(f"{described} requires TensorRT-RTX, but standard TensorRT is in use")
    with _WARNED_MUTEX:
        new = [name for name in ignored if name not in _WARNED_IGNORED]
        _WARNED_IGNORED.update(new)
    if new:
        warnings.warn(
            f"{described}: these runtime settings are TensorRT-RTX features and have no effect on standard "
            "TensorRT; using the defaults (reported once per process)",
            UserWarning,
            stacklevel=3,
        )
    defaults = RuntimeSettings()
    return settings.merge(**{name: getattr(defaults, name) for name in ignored})


def reset_backend_warnings() -> None:
    """Forget which ignored settings were reported (tests)."""
    with _WARNED_MUTEX:
        _WARNED_IGNORED.clear()
