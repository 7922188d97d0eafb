"""CompilationSettings: every compile-time option, with Torch-TensorRT's field names."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt._Device import Device
from torch_tensorrt._logging import warn_once
from torch_tensorrt._types import dtype_from_any
from torch_tensorrt.dynamo._op_targets import resolve_op

# Compute capabilities TensorRT-RTX 1.7 builds working engines for (its default, empty, covers them
# all). trt.ComputeCapability still names SM75 (Turing), but the builder cannot compile an FP32 GEMM
# for it ("FP32 GEMM is not supported"), so a Turing target only turns into a failed build; running
# needs 8.0, 8.6, 8.9 or 12.x (see README). tests/py/test_settings_validation.py checks every value
# here against the builder.
KNOWN_COMPUTE_CAPABILITIES = ("8.0", "8.6", "8.9", "12.0", "12.1")


@dataclass
class CompilationSettings:
    """Options of ``torch_tensorrt.compile`` (field names follow Torch-TensorRT).

    Attributes:
        enabled_precisions: kept for API compatibility; the network is strongly typed, so layers run
            in the model's own dtypes and anything beyond float32 here is reported as having no effect.
        min_block_size: fewest TensorRT-convertible ops a segment needs to become an engine.
        torch_executed_ops: ops (overloads, packets or names like "torch.ops.aten.add.Tensor",
            "aten.add", "aten::add") that always run in PyTorch; a name that resolves to no op is an error.
        require_full_compilation: refuse to leave any op to PyTorch; the error lists them all.
        pass_through_build_failures: raise on a converter/engine failure instead of falling back.
        optimization_level: TensorRT builder optimization level (0-5), None = TensorRT's default.
        workspace_size: builder workspace limit in bytes (0 = TensorRT's default).
        truncate_double: compile float64 inputs and constants as float32.
        hardware_compatible: build for every supported GPU architecture (Ampere+).
        compute_capabilities: TensorRT-RTX targets, some of KNOWN_COMPUTE_CAPABILITIES, e.g.
            ("8.6", "8.9"); empty = portable default.
        device: the GPU the engines will run on (no GPU is needed to compile).
        use_python_runtime: run engines with the Python runtime even if the C++ one is loaded.
        max_aux_streams: limit on auxiliary streams TensorRT may use (None = default).
        version_compatible: accepted for compatibility; TensorRT-RTX engines are portable anyway.
        debug: verbose logging of every stage.
        dryrun: run partitioning and report, but build no engines.
    """

    enabled_precisions: frozenset[torch.dtype] = field(default_factory=lambda: frozenset({torch.float32}))
    min_block_size: int = 5
    torch_executed_ops: frozenset[Any] = field(default_factory=frozenset)
    require_full_compilation: bool = False
    pass_through_build_failures: bool = False
    optimization_level: int | None = None
    workspace_size: int = 0
    truncate_double: bool = False
    hardware_compatible: bool = False
    compute_capabilities: tuple[str, ...] = ()
    device: Device = field(default_factory=Device)
    use_python_runtime: bool | None = None
    max_aux_streams: int | None = None
    version_compatible: bool = False
    debug: bool = False
    dryrun: bool = False
    use_explicit_typing: bool = True
    lazy_engine_init: bool = False

    def __post_init__(self) -> None:
        self.enabled_precisions = frozenset(dtype_from_any(p) for p in _as_collection(self.enabled_precisions, "enabled_precisions"))
        self.torch_executed_ops = frozenset(_as_collection(self.torch_executed_ops, "torch_executed_ops"))
        for entry in self.torch_executed_ops:
            resolve_op(entry)  # an entry naming no operator would silently match nothing
        self.compute_capabilities = tuple(str(c) for c in _as_collection(self.compute_capabilities, "compute_capabilities"))
        self.device = Device._from(self.device)
        for name, kind in (
            ("min_block_size", int),
            ("workspace_size", int),
            ("require_full_compilation", bool),
            ("pass_through_build_failures", bool),
            ("truncate_double", bool),
            ("hardware_compatible", bool),
            ("version_compatible", bool),
            ("debug", bool),
            ("dryrun", bool),
            ("use_explicit_typing", bool),
            ("lazy_engine_init", bool),
        ):
            _check_type(name, getattr(self, name), kind)
        for name in ("optimization_level", "max_aux_streams"):
            if getattr(self, name) is not None:
                _check_type(name, getattr(self, name), int)
        if self.use_python_runtime is not None:
            _check_type("use_python_runtime", self.use_python_runtime, bool)
        if self.min_block_size < 1:
            raise ValueError(f"min_block_size must be >= 1, got {self.min_block_size}")
        if self.workspace_size < 0:
            raise ValueError(f"workspace_size must be >= 0, got {self.workspace_size}")
        if self.optimization_level is not None and not 0 <= self.optimization_level <= 5:
            raise ValueError(f"optimization_level must be in 0..5, got {self.optimization_level}")
        unknown = [c for c in self.compute_capabilities if c not in KNOWN_COMPUTE_CAPABILITIES]
        if unknown:
            raise ValueError(
                f"compute_capabilities {unknown} are not targets TensorRT-RTX can build for; valid values "
                f"are {list(KNOWN_COMPUTE_CAPABILITIES)} (or leave it empty to build for all of them)"
            )
        _warn_ignored_precision_settings(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CompilationSettings:
        """Build settings from keyword arguments, refusing unknown names with the valid ones listed."""
        valid = cls.field_names()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise TypeError(
                f"unknown compilation setting(s) {unknown}; valid settings are: {', '.join(valid)}"
            )
        return cls(**kwargs)


def _warn_ignored_precision_settings(settings: CompilationSettings) -> None:
    """Settings kept for Torch-TensorRT compatibility that cannot act on a strongly typed network."""
    extra = sorted(str(p).removeprefix("torch.") for p in settings.enabled_precisions - {torch.float32})
    if extra:
        warn_once(
            "enabled_precisions",
            f"enabled_precisions containing {extra} has no effect: TensorRT-RTX networks are strongly typed, "
            "so every layer runs in the dtype the model computes in. To run in reduced precision, convert "
            "the model and its example inputs before compiling (e.g. model.half() and x.half()). "
            "(reported once per process)",
            stacklevel=4,
        )
    if not settings.use_explicit_typing:
        warn_once(
            "use_explicit_typing",
            "use_explicit_typing=False has no effect: TensorRT-RTX networks are always strongly typed; "
            "convert the model and inputs to the dtype you want instead. (reported once per process)",
            stacklevel=4,
        )


def _as_collection(value: Any, name: str) -> Collection[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        if name == "torch_executed_ops" and isinstance(value, str):
            return [value]
        raise TypeError(f"setting {name} must be a collection, got {type(value).__name__}: {value!r}")
    return value


def _check_type(name: str, value: Any, kind: type) -> None:
    # bool is an int subclass: an int field must not silently accept True/False and vice versa.
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if not ok:
        raise TypeError(f"setting {name} must be {kind.__name__}, got {type(value).__name__}: {value!r}")
