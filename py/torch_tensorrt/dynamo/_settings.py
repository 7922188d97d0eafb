"""CompilationSettings: every compile-time option, with Torch-TensorRT's field names and defaults.

Each setting is honoured, or warned about once (saying why it changes nothing here), or refused;
none is silently ignored. README "Differences from Torch-TensorRT" lists which is which. Warnings
that depend on the TensorRT flavour (TensorRT-RTX or standard) are issued by the engine build,
because this module must not import TensorRT (settings are read by lowering).
"""

from __future__ import annotations

import dataclasses
import difflib
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt._Device import Device
from torch_tensorrt._enums import EngineCapability, as_torch_dtype
from torch_tensorrt._logging import warn_once
from torch_tensorrt._types import dtype_from_any
from torch_tensorrt.dynamo import _defaults as D
from torch_tensorrt.dynamo._autocast_settings import check_autocast_settings, resolve_precisions
from torch_tensorrt.dynamo._op_targets import resolve_op

# Compute capabilities TensorRT-RTX 1.7 builds working engines for (its default, empty, covers them
# all). trt.ComputeCapability still names SM75 (Turing), but the builder cannot compile an FP32 GEMM
# for it ("FP32 GEMM is not supported"), so a Turing target only turns into a failed build; running
# needs 8.0, 8.6, 8.9 or 12.x (see README). tests/py/test_settings_validation.py checks every value
# here against the builder.
KNOWN_COMPUTE_CAPABILITIES = ("8.0", "8.6", "8.9", "12.0", "12.1")


@dataclass
class CompilationSettings:
    """Options of ``torch_tensorrt.compile`` (field names and defaults follow Torch-TensorRT 2.14).

    Attributes (this project's meaning; README lists how each differs from Torch-TensorRT):
        enabled_precisions: kept for API compatibility; the network is strongly typed, so layers run
            in the graph's dtypes. With enable_autocast, a single float16 or bfloat16 here is autocast's
            low-precision type when autocast_low_precision_type is not given; otherwise anything beyond
            float32 is reported as having no effect.
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
        use_python_runtime: the runtime of every engine of the compiled program, as in Torch-TensorRT:
            True = the Python runtime; False = the C++ runtime (torch_tensorrt._C), a ValueError here
            when it is not loaded; None = the C++ runtime when it can run engines, else Python.
        max_aux_streams: limit on auxiliary streams TensorRT may use (None = default).
        version_compatible: standard TensorRT: version-compatible (lean runtime) engines; warned on
            TensorRT-RTX, which has no lean runtime.
        debug: verbose logging of every stage.
        dryrun: partition and report, but build no engines; a string is a file the report is written to.
        use_explicit_typing: always True in effect (networks are strongly typed); False warns.
        enable_autocast / autocast_*: rule-based mixed precision written into the graph (lowering
            pass rule_based_autocast; _autocast_settings checks the options).
        lazy_engine_init: engines are always set up on first use here.
        disable_tf32 / sparse_weights / num_avg_timing_iters / tiling_optimization_level /
        l2_limit_for_tiling / immutable_weights / refit_identical_engine_weights /
        strip_engine_weights / enable_weight_streaming / timing_cache_path / engine_capability:
            builder configuration, as in Torch-TensorRT.
        assume_dynamic_shape_support: use converters that declare no dynamic-shape support anyway.
        use_fp32_acc: float16 matrix multiplications accumulate (and run) in float32.
        dynamically_allocate_resources: engines allocate their scratch memory per call.
        enable_cross_compile_for_windows: set by ``dynamo.cross_compile_for_windows`` only.
        cache_built_engines / reuse_cached_engines: store every built engine in the engine cache / take
            a segment's engine from it instead of building it (``torch_tensorrt.dynamo._engine_cache``;
            unlike Torch-TensorRT the key includes the weight values, so a hit needs no refit).
        engine_cache_dir / engine_cache_size: the disk cache's private directory and its size limit in
            bytes (least recently used entries are evicted).
        custom_engine_cache: a ``BaseEngineCache`` instance used instead of the disk cache.
        decompose_attention: write scaled dot-product attention out as matmul / softmax / masking ops
            (lowering pass decompose_attention) instead of converting it as one op.
        enable_resource_partitioning / cpu_memory_budget: split TensorRT segments whose engine build
            (estimated, as Torch-TensorRT does, at 4 x their weight bytes) exceeds the budget in bytes
            (None = the host memory available) into consecutive segments that fit
            (partitioning/_memory_budget).
        The remaining Torch-TensorRT fields are accepted and warn once when set (see README).
    """

    enabled_precisions: frozenset[torch.dtype] = field(default_factory=lambda: frozenset({torch.float32}))
    min_block_size: int = D.MIN_BLOCK_SIZE
    torch_executed_ops: frozenset[Any] = field(default_factory=frozenset)
    require_full_compilation: bool = D.REQUIRE_FULL_COMPILATION
    pass_through_build_failures: bool = D.PASS_THROUGH_BUILD_FAILURES
    optimization_level: int | None = D.OPTIMIZATION_LEVEL
    workspace_size: int = D.WORKSPACE_SIZE
    truncate_double: bool = D.TRUNCATE_DOUBLE
    hardware_compatible: bool = D.HARDWARE_COMPATIBLE
    compute_capabilities: tuple[str, ...] = ()
    device: Device = field(default_factory=Device)
    use_python_runtime: bool | None = None
    max_aux_streams: int | None = D.MAX_AUX_STREAMS
    version_compatible: bool = D.VERSION_COMPATIBLE
    debug: bool = False
    dryrun: bool | str = D.DRYRUN
    use_explicit_typing: bool = True
    lazy_engine_init: bool = D.LAZY_ENGINE_INIT
    # -- the rest of Torch-TensorRT 2.14's settings, in its order --------------------------------
    use_complex_decomposition: bool = D.USE_COMPLEX_DECOMPOSITION
    use_fast_partitioner: bool = D.USE_FAST_PARTITIONER
    enable_experimental_decompositions: bool = D.ENABLE_EXPERIMENTAL_DECOMPOSITIONS
    disable_tf32: bool = D.DISABLE_TF32
    assume_dynamic_shape_support: bool = D.ASSUME_DYNAMIC_SHAPE_SUPPORT
    sparse_weights: bool = D.SPARSE_WEIGHTS
    engine_capability: EngineCapability = D.ENGINE_CAPABILITY
    num_avg_timing_iters: int = D.NUM_AVG_TIMING_ITERS
    dla_sram_size: int = D.DLA_SRAM_SIZE
    dla_local_dram_size: int = D.DLA_LOCAL_DRAM_SIZE
    dla_global_dram_size: int = D.DLA_GLOBAL_DRAM_SIZE
    timing_cache_path: str = D.TIMING_CACHE_PATH
    cache_built_engines: bool = D.CACHE_BUILT_ENGINES
    reuse_cached_engines: bool = D.REUSE_CACHED_ENGINES
    engine_cache_dir: str = D.ENGINE_CACHE_DIR
    engine_cache_size: int = D.ENGINE_CACHE_SIZE
    custom_engine_cache: Any = D.CUSTOM_ENGINE_CACHE
    use_fp32_acc: bool = D.USE_FP32_ACC
    refit_identical_engine_weights: bool = D.REFIT_IDENTICAL_ENGINE_WEIGHTS
    strip_engine_weights: bool = D.STRIP_ENGINE_WEIGHTS
    immutable_weights: bool = D.IMMUTABLE_WEIGHTS
    enable_weight_streaming: bool = D.ENABLE_WEIGHT_STREAMING
    enable_cross_compile_for_windows: bool = D.ENABLE_CROSS_COMPILE_FOR_WINDOWS
    tiling_optimization_level: str = D.TILING_OPTIMIZATION_LEVEL
    l2_limit_for_tiling: int = D.L2_LIMIT_FOR_TILING
    use_distributed_mode_trace: bool = D.USE_DISTRIBUTED_MODE_TRACE
    offload_module_to_cpu: bool = D.OFFLOAD_MODULE_TO_CPU
    enable_autocast: bool = D.ENABLE_AUTOCAST
    autocast_low_precision_type: torch.dtype | None = D.AUTOCAST_LOW_PRECISION_TYPE
    autocast_excluded_nodes: frozenset[str] = D.AUTOCAST_EXCLUDED_NODES
    autocast_excluded_ops: frozenset[Any] = D.AUTOCAST_EXCLUDED_OPS
    autocast_max_output_threshold: float = D.AUTOCAST_MAX_OUTPUT_THRESHOLD
    autocast_max_depth_of_reduction: int | None = D.AUTOCAST_MAX_DEPTH_OF_REDUCTION
    autocast_calibration_dataloader: Any = D.AUTOCAST_CALIBRATION_DATALOADER
    enable_resource_partitioning: bool = D.ENABLE_RESOURCE_PARTITIONING
    cpu_memory_budget: int | None = D.CPU_MEMORY_BUDGET
    dynamically_allocate_resources: bool = D.DYNAMICALLY_ALLOCATE_RESOURCES
    decompose_attention: bool = D.DECOMPOSE_ATTENTION
    disabled_constant_fold_exclusions: frozenset[str] = D.DISABLED_CONSTANT_FOLD_EXCLUSIONS
    attn_bias_is_causal: bool = D.ATTN_BIAS_IS_CAUSAL
    fallback_data_dependent_ops: bool = D.FALLBACK_DATA_DEPENDENT_OPS
    # A compile() argument in Torch-TensorRT (unimplemented in its dynamo frontend too).
    torch_executed_modules: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self._normalize()
        self._check_types()
        self._check_values()
        resolve_precisions(self)
        _warn_settings_without_effect(self)

    def _normalize(self) -> None:
        # None is Torch-TensorRT's default for these compile() arguments.
        if self.enabled_precisions is None:
            self.enabled_precisions = frozenset({torch.float32})
        for name in _COLLECTION_FIELDS:
            if getattr(self, name) is None:
                setattr(self, name, frozenset())
        self.enabled_precisions = frozenset(
            dtype_from_any(as_torch_dtype(p)) for p in _as_collection(self.enabled_precisions, "enabled_precisions")
        )
        self.torch_executed_ops = frozenset(_as_collection(self.torch_executed_ops, "torch_executed_ops"))
        for entry in self.torch_executed_ops:
            resolve_op(entry)  # an entry naming no operator would silently match nothing
        self.compute_capabilities = tuple(
            str(c) for c in _as_collection(self.compute_capabilities, "compute_capabilities")
        )
        self.device = Device._from(self.device)
        self.engine_capability = EngineCapability._from(self.engine_capability)
        for name in ("autocast_excluded_nodes", "autocast_excluded_ops", "disabled_constant_fold_exclusions"):
            setattr(self, name, frozenset(_as_collection(getattr(self, name), name)))
        self.torch_executed_modules = frozenset(_as_collection(self.torch_executed_modules, "torch_executed_modules"))

    def _check_types(self) -> None:
        for name, kind in _FIELD_TYPES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL_FIELDS:
                continue
            _check_type(name, value, kind)
        if not isinstance(self.dryrun, (bool, str)):
            raise TypeError(f"setting dryrun must be a bool or a file path, got {type(self.dryrun).__name__}")
        if not isinstance(self.timing_cache_path, str):
            raise TypeError(f"setting timing_cache_path must be str, got {type(self.timing_cache_path).__name__}")

    def _check_values(self) -> None:
        _check_ranges(self)
        unknown = [c for c in self.compute_capabilities if c not in KNOWN_COMPUTE_CAPABILITIES]
        if unknown:
            raise ValueError(
                f"compute_capabilities {unknown} are not targets TensorRT-RTX can build for; valid values "
                f"are {list(KNOWN_COMPUTE_CAPABILITIES)} (or leave it empty to build for all of them)"
            )
        _check_weight_settings(self)
        _check_resource_settings(self)
        _check_engine_cache_settings(self)
        _check_capability_and_precision(self)
        check_autocast_settings(self)
        _check_runtime_choice(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CompilationSettings:
        """Settings from compile() keywords: deprecated Torch-TensorRT spellings are translated (with
        a DeprecationWarning); unknown names are refused with the closest valid one named."""
        kwargs = _translate_deprecated(dict(kwargs))
        valid = cls.field_names()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            hints = [
                f"{u!r} (did you mean {m[0]!r}?)" for u in unknown if (m := difflib.get_close_matches(u, valid, 1))
            ]
            raise TypeError(
                f"unknown compilation setting(s) {unknown}{'; ' + ', '.join(hints) if hints else ''}; "
                f"valid settings are: {', '.join(valid)}"
            )
        if kwargs.get("enable_cross_compile_for_windows"):
            raise ValueError(
                "enable_cross_compile_for_windows=True is not a compile() option: use "
                "torch_tensorrt.dynamo.cross_compile_for_windows() (or torch_tensorrt.cross_compile_for_windows) "
                "to build engines for Windows"
            )
        return cls(**kwargs)


_COLLECTION_FIELDS = (
    "torch_executed_ops",
    "torch_executed_modules",
    "autocast_excluded_nodes",
    "autocast_excluded_ops",
    "disabled_constant_fold_exclusions",
)

# Field -> type checked in __post_init__ (bool is refused for int fields and vice versa).
_FIELD_TYPES: dict[str, type] = {
    **dict.fromkeys(
        (
            "require_full_compilation",
            "pass_through_build_failures",
            "truncate_double",
            "hardware_compatible",
            "version_compatible",
            "debug",
            "use_explicit_typing",
            "lazy_engine_init",
            "use_complex_decomposition",
            "use_fast_partitioner",
            "enable_experimental_decompositions",
            "disable_tf32",
            "assume_dynamic_shape_support",
            "sparse_weights",
            "cache_built_engines",
            "reuse_cached_engines",
            "use_fp32_acc",
            "refit_identical_engine_weights",
            "strip_engine_weights",
            "immutable_weights",
            "enable_weight_streaming",
            "enable_cross_compile_for_windows",
            "use_distributed_mode_trace",
            "offload_module_to_cpu",
            "enable_autocast",
            "enable_resource_partitioning",
            "dynamically_allocate_resources",
            "decompose_attention",
            "attn_bias_is_causal",
            "fallback_data_dependent_ops",
            "use_python_runtime",
        ),  # fmt: skip
        bool,
    ),
    **dict.fromkeys(
        (
            "min_block_size",
            "workspace_size",
            "optimization_level",
            "max_aux_streams",
            "num_avg_timing_iters",
            "dla_sram_size",
            "dla_local_dram_size",
            "dla_global_dram_size",
            "engine_cache_size",
            "l2_limit_for_tiling",
            "cpu_memory_budget",
            "autocast_max_depth_of_reduction",
        ),  # fmt: skip
        int,
    ),
    "tiling_optimization_level": str,
    "engine_cache_dir": str,
    "autocast_max_output_threshold": float,
}
_OPTIONAL_FIELDS = frozenset(
    {
        "optimization_level",
        "max_aux_streams",
        "use_python_runtime",
        "cpu_memory_budget",
        "autocast_max_depth_of_reduction",
    }
)


def _check_ranges(s: CompilationSettings) -> None:
    checks = (
        ("min_block_size", s.min_block_size >= 1, ">= 1"),
        ("workspace_size", s.workspace_size >= 0, ">= 0"),
        ("optimization_level", s.optimization_level is None or 0 <= s.optimization_level <= 5, "in 0..5"),
        ("max_aux_streams", s.max_aux_streams is None or s.max_aux_streams >= 0, ">= 0"),
        ("num_avg_timing_iters", s.num_avg_timing_iters >= 0, ">= 0"),
        ("l2_limit_for_tiling", s.l2_limit_for_tiling >= -1, ">= -1 (-1: no limit)"),
        ("engine_cache_size", s.engine_cache_size >= 0, ">= 0"),
        (
            "cpu_memory_budget",
            s.cpu_memory_budget is None or s.cpu_memory_budget > 0,
            "a positive number of bytes (or None: the host memory available when partitioning)",
        ),
        (
            "tiling_optimization_level",
            s.tiling_optimization_level in D.TILING_OPTIMIZATION_LEVELS,
            f"one of {list(D.TILING_OPTIMIZATION_LEVELS)}",
        ),
    )
    for name, ok, expected in checks:
        if not ok:
            raise ValueError(f"{name} must be {expected}, got {getattr(s, name)!r}")


def _check_weight_settings(s: CompilationSettings) -> None:
    if s.refit_identical_engine_weights and s.immutable_weights:
        raise ValueError("`immutable_weights` must be False when `refit_identical_engine_weights` is True.")
    if s.strip_engine_weights and s.immutable_weights:
        warn_once(
            "strip_engine_weights+immutable_weights",
            "strip_engine_weights=True has no effect with immutable_weights=True (Torch-TensorRT ignores it "
            "too): only refittable engines can be stripped. Pass immutable_weights=False as well. "
            "(reported once per process)",
            stacklevel=5,
        )


def _check_resource_settings(s: CompilationSettings) -> None:
    if s.cpu_memory_budget is not None and not s.enable_resource_partitioning:
        warn_once(
            "cpu_memory_budget-unused",
            f"cpu_memory_budget={s.cpu_memory_budget!r} has no effect without enable_resource_partitioning=True "
            "(which splits TensorRT segments to fit it). (reported once per process)",
            stacklevel=5,
        )


def _check_engine_cache_settings(s: CompilationSettings) -> None:
    """custom_engine_cache must be a BaseEngineCache instance; cache settings that cannot act warn."""
    cache = s.custom_engine_cache
    if cache is not None:
        # Imported here: the engine cache module is not needed (nor loaded) unless a cache is given.
        from torch_tensorrt.dynamo._engine_cache import BaseEngineCache

        if isinstance(cache, type) and issubclass(cache, BaseEngineCache):
            raise TypeError(
                f"custom_engine_cache must be an instance of a BaseEngineCache subclass, got the class "
                f"{cache.__name__}; pass {cache.__name__}(...) instead"
            )
        if not isinstance(cache, BaseEngineCache):
            raise TypeError(
                f"custom_engine_cache must be an instance of a torch_tensorrt.dynamo._engine_cache.BaseEngineCache "
                f"subclass (implementing save(hash, blob) and load(hash)), got {type(cache).__name__}"
            )
    disk_settings = [name for name in ("engine_cache_dir", "engine_cache_size") if getattr(s, name) != _DEFAULTS[name]]
    if not (s.cache_built_engines or s.reuse_cached_engines):
        unused = (["custom_engine_cache"] if cache is not None else []) + disk_settings
        why = "neither cache_built_engines nor reuse_cached_engines is True"
    elif cache is not None:
        unused, why = disk_settings, "custom_engine_cache is given, so no disk cache is used (as in Torch-TensorRT)"
    else:
        unused = []
    for name in unused:
        warn_once(
            f"engine-cache-unused:{name}:{why}",
            f"{name}={getattr(s, name)!r} has no effect: {why}. (reported once per process)",
            stacklevel=5,
        )


def _check_runtime_choice(s: CompilationSettings) -> None:
    """use_python_runtime=False without the C++ runtime is refused before anything is compiled."""
    if s.use_python_runtime is False:
        # Imported only here: settings are read by lowering, which must not import the runtime.
        from torch_tensorrt.dynamo.runtime._cpp_engine import require_cpp_runtime

        require_cpp_runtime(s.use_python_runtime)


def _check_capability_and_precision(s: CompilationSettings) -> None:
    if s.engine_capability is not EngineCapability.STANDARD:
        raise ValueError(
            f"engine_capability={s.engine_capability.name} cannot be built here: SAFETY engines need TensorRT's "
            "safety runtime and DLA_STANDALONE engines a DLA core, neither of which this runtime (or "
            "TensorRT-RTX) has. Use EngineCapability.STANDARD (the default)."
        )
    if s.disabled_constant_fold_exclusions:
        raise ValueError(
            f"disabled_constant_fold_exclusions names unknown rules {sorted(s.disabled_constant_fold_exclusions)}: "
            "lowering here defines no constant-fold exclusion rules, so there is nothing to disable"
        )


# Deprecated Torch-TensorRT keywords -> (current setting, how the old value maps to it).
_DEPRECATED: dict[str, tuple[str, Any]] = {
    "truncate_long_and_double": ("truncate_double", bool),
    "refit": ("immutable_weights", lambda v: not v),
    "make_refittable": ("immutable_weights", lambda v: not v),
}


def _translate_deprecated(kwargs: dict[str, Any]) -> dict[str, Any]:
    for old, (new, convert) in _DEPRECATED.items():
        if old not in kwargs:
            continue
        value = convert(kwargs.pop(old))
        if new in kwargs and kwargs[new] != value:
            raise ValueError(f"{old!r} is a deprecated spelling of {new!r} and conflicts with it; pass only {new!r}")
        warnings.warn(
            f"compile option {old!r} is deprecated (as in Torch-TensorRT): use {new}={value!r} instead",
            DeprecationWarning,
            stacklevel=4,
        )
        kwargs[new] = value
    return kwargs


_NO_DLA = "TensorRT-RTX (and this runtime) has no DLA cores, so there are no DLA memory pools to size"
_ONE_PARTITIONER = (
    "there is one partitioner here, which places every supported op in TensorRT segments globally "
    "(like Torch-TensorRT's global partitioner) and fuses adjacent segments"
)

# Settings whose non-default value changes nothing here -> why (the warning's text).
_NO_EFFECT: dict[str, str] = {
    "dla_sram_size": _NO_DLA,
    "dla_local_dram_size": _NO_DLA,
    "dla_global_dram_size": _NO_DLA,
    "use_fast_partitioner": _ONE_PARTITIONER,
    "enable_experimental_decompositions": (
        "lowering always applies torch's full core-ATen decomposition table, keeping whole only the ops "
        "TensorRT has a native layer for"
    ),
    "use_complex_decomposition": (
        "complex-valued graphs are not lowered to TensorRT here (their ops run in PyTorch), so the choice "
        "of complex decomposition changes nothing"
    ),
    "use_distributed_mode_trace": "distributed (DTensor) models are not supported; tracing is torch.export's",
    "offload_module_to_cpu": (
        "compiling holds no GPU memory (TensorRT-RTX builds on the CPU), so there is nothing to free; "
        "the module is left where it is"
    ),
    "torch_executed_modules": (
        "keeping whole modules in PyTorch is unimplemented (as in Torch-TensorRT's dynamo frontend); "
        "list their ops in torch_executed_ops instead"
    ),
}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(CompilationSettings)}


def _warn_settings_without_effect(settings: CompilationSettings) -> None:
    for name, why in _NO_EFFECT.items():
        default = _DEFAULTS[name]
        value = getattr(settings, name)
        if value == default or (isinstance(value, Collection) and not isinstance(value, str) and not value):
            continue
        warn_once(
            f"setting:{name}",
            f"{name}={value!r} has no effect: {why}. (reported once per process)",
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
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if not ok:
        raise TypeError(f"setting {name} must be {kind.__name__}, got {type(value).__name__}: {value!r}")
