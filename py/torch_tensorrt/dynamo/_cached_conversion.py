"""Where a compile consults the engine cache: around the conversion and build of each TensorRT segment.

As in Torch-TensorRT (``interpret_module_to_result``): the key is computed once per segment; with
``reuse_cached_engines`` an entry for it replaces the conversion and the engine build; with
``cache_built_engines`` a built engine is stored. A hit gives the same ``ConvertedSegment`` as the
build it replaces (engine bytes, binding names, dtypes, ranges, symbolic sizes), so the runtime
module, its engine info and its metadata are those of a fresh compile. The format, the key and the
caches themselves are ``_engine_cache``'s.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._Input import Input
from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._engine_cache import (
    BaseEngineCache,
    CachedBinding,
    CachedEngine,
    EngineCacheWarning,
    NotCacheable,
    engine_cache_for,
    extend_key,
)
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion import (
    NETWORK_BUILD_OBSERVERS,
    ConvertedSegment,
    NetworkBuilt,
    convert_segment,
)
from torch_tensorrt.dynamo.conversion._TRTInterpreter import (
    SHAPE_TENSOR_VALUES_META,
    InputBinding,
    OutputBinding,
    ShapeRange,
    TRTInterpreter,
)
from torch_tensorrt.dynamo.runtime._segment_info import _dims as symbolic_dims

logger = logging.getLogger("torch_tensorrt")

__all__ = ["convert_with_engine_cache", "engine_cache_for"]


def convert_with_engine_cache(
    engine_cache: BaseEngineCache | None,
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
    *build_args: Any,
) -> ConvertedSegment:
    """``convert_segment(name, module, input_ranges, settings, *build_args)``, served from or stored
    in ``engine_cache`` as the settings say (``engine_cache`` None: no caching)."""
    if engine_cache is None:
        return convert_segment(name, module, input_ranges, settings, *build_args)
    key = _segment_key(engine_cache, name, module, input_ranges, settings, build_args)
    if key is not None and settings.reuse_cached_engines:
        hit = _reuse(engine_cache, key, name, module, input_ranges, settings)
        if hit is not None:
            return hit
    converted = convert_segment(name, module, input_ranges, settings, *build_args)
    if key is not None and settings.cache_built_engines:
        _store(engine_cache, key, converted)
    return converted


def _segment_specs(module: torch.fx.GraphModule, input_ranges: Sequence[ShapeRange]) -> list[Input]:
    placeholders = [n for n in module.graph.nodes if n.op == "placeholder"]
    specs = []
    for node, (lo, opt, hi) in zip(placeholders, input_ranges):
        if node.meta.get(SHAPE_TENSOR_VALUES_META) is not None:
            # A cached entry would come back without the value range the runtimes check.
            raise NotCacheable(f"input {node.name} is a shape tensor (Input(is_shape_tensor=True))")
        val = node.meta.get("val")
        dtype = val.dtype if isinstance(val, torch.Tensor) else torch.float32
        specs.append(Input(min_shape=lo, opt_shape=opt, max_shape=hi, dtype=dtype))
    return specs


def _segment_key(
    cache: BaseEngineCache,
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
    build_args: tuple[Any, ...],
) -> str | None:
    try:
        key = cache.get_hash(module, _segment_specs(module, input_ranges), settings)
        if build_args:
            # Further build arguments (e.g. per-profile ranges) change the engine: they extend the key.
            key = extend_key(key, build_args)
    except NotCacheable as exc:
        warn_once(
            f"engine-cache-not-cacheable:{exc}",
            f"engine cache: TensorRT segment {name} is built without the cache: {exc}. (reported once per process)",
            stacklevel=5,
        )
        return None
    if not isinstance(key, str) or not key:
        warnings.warn(
            f"engine cache {type(cache).__name__}.get_hash returned {key!r}, not a non-empty str; "
            f"TensorRT segment {name} is built without the cache",
            EngineCacheWarning,
            stacklevel=4,
        )
        return None
    return key


def _reuse(
    cache: BaseEngineCache,
    key: str,
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
) -> ConvertedSegment | None:
    try:
        entry = cache.check(key)
    except Exception as exc:  # a user's cache failing must not fail the compile
        warnings.warn(
            f"engine cache {type(cache).__name__} could not load {key}: {exc}; building the engine",
            EngineCacheWarning,
            stacklevel=4,
        )
        return None
    if entry is None:
        logger.info("engine cache: no entry for TensorRT segment %s (key %s)", name, key)
        return None
    mismatch = _mismatch(entry, key, module, input_ranges)
    if mismatch is not None:
        warnings.warn(
            f"engine cache entry {key} does not fit TensorRT segment {name} ({mismatch}); building the engine",
            EngineCacheWarning,
            stacklevel=4,
        )
        return None
    logger.info("engine cache: TensorRT segment %s reuses cached engine %s (no build)", name, key)
    _announce_to_observers(name, module, input_ranges, settings, entry.engine)
    return ConvertedSegment(
        name=name,
        engine=entry.engine,
        inputs=[
            InputBinding(b.name, b.dtype, b.shape or (), b.shape_range or ((), (), ()), b.symbolic_shape)
            for b in entry.inputs
        ],
        outputs=[OutputBinding(b.name, b.dtype, b.symbolic_shape) for b in entry.outputs],
        convert_seconds=0.0,
        build_seconds=0.0,
    )


def _mismatch(
    entry: CachedEngine, key: str, module: torch.fx.GraphModule, input_ranges: Sequence[ShapeRange]
) -> str | None:
    """Why an entry cannot stand for this segment (another key, other inputs or outputs), or None."""
    if entry.key != key:
        return f"it was stored under key {entry.key}"
    names = [n.name for n in module.graph.nodes if n.op == "placeholder"]
    if [b.name for b in entry.inputs] != names:
        return f"its inputs are {[b.name for b in entry.inputs]}, the segment's {names}"
    ranges = [tuple(tuple(s) for s in r) for r in input_ranges]
    if [b.shape_range for b in entry.inputs] != ranges:
        return "its input ranges differ from the segment's"
    out = next(n for n in module.graph.nodes if n.op == "output").args[0]
    count = len(out) if isinstance(out, (list, tuple)) else 1
    if len(entry.outputs) != count:
        return f"it has {len(entry.outputs)} outputs, the segment {count}"
    return None


def _announce_to_observers(
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
    engine: bytes,
) -> None:
    """Build observers (the testing API's emulated runtime) learn every engine's network; a hit builds
    none, so when someone observes, the segment is converted again (no engine build) for them."""
    if not NETWORK_BUILD_OBSERVERS:
        return
    result = TRTInterpreter(module, input_ranges, compilation_settings=settings).build_network()
    for observer in list(NETWORK_BUILD_OBSERVERS):
        observer(NetworkBuilt(name, result.network, result.profile(), engine))


def _store(cache: BaseEngineCache, key: str, converted: ConvertedSegment) -> None:
    entry = CachedEngine(
        key=key,
        engine=converted.engine,
        inputs=tuple(
            CachedBinding(
                b.name, b.dtype, symbolic_dims(b.symbolic_shape), tuple(b.shape), tuple(tuple(s) for s in b.shape_range)
            )
            for b in converted.inputs
        ),
        outputs=tuple(CachedBinding(b.name, b.dtype, symbolic_dims(b.symbolic_shape)) for b in converted.outputs),
    )
    try:
        cache.insert(key, entry)
    except Exception as exc:  # a user's cache failing must not fail the compile
        warnings.warn(
            f"engine cache {type(cache).__name__} could not store {key}: {exc}", EngineCacheWarning, stacklevel=4
        )
        return
    logger.info("engine cache: stored the engine of TensorRT segment %s (key %s)", converted.name, key)
