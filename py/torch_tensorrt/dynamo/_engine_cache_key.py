"""The engine cache key: the SHA-256 of a canonical document of everything that decides a segment's
engine (``torch_tensorrt.dynamo._engine_cache`` stores entries under it).

**The key** (:func:`segment_key`, ``BaseEngineCache.get_hash``) is the SHA-256 of a canonical document of everything
that decides the engine: the segment's graph (every node's op, name, target, arguments and the
dtype/shape of its value, symbolic sizes included), the segment's input ranges and dtypes, every
compilation setting except those listed in :data:`SETTINGS_NOT_IN_KEY` (which cannot change a
segment's engine), the builder's profiling verbosity (DETAILED inside a ``Debugger`` block), the
TensorRT flavour and version, the host platform, torch's and this package's versions and a digest of
the converter sources. **Unlike Torch-TensorRT, the key also holds a
SHA-256 of every weight value**: Torch-TensorRT leaves weights out of the key and refits the cached
engine with the new weights after a hit, but refitting needs a GPU here, so a hit is only ever an
engine built from the very same weights and is valid as it is (and caching works with the default
``immutable_weights=True``). Changing a weight is a miss.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from torch_tensorrt._Input import Input
    from torch_tensorrt.dynamo._settings import CompilationSettings

# Version of the key document below: bump it when the document changes, so old entries miss.
_KEY_VERSION = 1

# Settings that cannot change the engine of a given segment graph, so they are left out of the key:
# the cache's own controls; logging, failure handling and runtime choice; and the partitioning
# settings, whose effect is the segment graph itself (which is in the key). timing_cache_path names
# a file of measurements; an engine built with or without them is equally valid. Every other
# setting, including ones added later, is in the key.
SETTINGS_NOT_IN_KEY = frozenset(
    {
        "cache_built_engines",
        "reuse_cached_engines",
        "engine_cache_dir",
        "engine_cache_size",
        "custom_engine_cache",
        "debug",
        "dryrun",
        "pass_through_build_failures",
        "lazy_engine_init",
        "use_python_runtime",
        "min_block_size",
        "torch_executed_ops",
        "torch_executed_modules",
        "require_full_compilation",
        "use_fast_partitioner",
        "enable_resource_partitioning",
        "cpu_memory_budget",
        "timing_cache_path",
    }
)


class NotCacheable(Exception):
    """A segment whose key cannot be computed (a value with no canonical form); it is built uncached."""


def _canonical(value: Any, nodes: dict[torch.fx.Node, int]) -> Any:
    """A JSON-able form of a node argument or setting that two equal values share; raises NotCacheable.

    Types are tagged so that 1, 1.0 and True stay distinct; floats are written exactly (hex).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, torch.fx.Node):
        return ["node", nodes[value]]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_canonical(v, nodes) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted(json.dumps(_canonical(v, nodes), sort_keys=True) for v in value)]
    if isinstance(value, dict):
        items = [[json.dumps(_canonical(k, nodes), sort_keys=True), _canonical(v, nodes)] for k, v in value.items()]
        return ["dict", sorted(items, key=lambda kv: kv[0])]
    if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        return ["sym", str(value.node.expr)]
    if isinstance(value, torch.Tensor):
        return ["tensor", _tensor_digest(value)]
    return _canonical_object(value, nodes)


def _canonical_object(value: Any, nodes: dict[torch.fx.Node, int]) -> Any:
    if isinstance(value, complex):
        return ["complex", value.real.hex(), value.imag.hex()]
    if isinstance(value, (torch.dtype, torch.device, torch.memory_format, torch.layout)):
        return [type(value).__name__, str(value)]
    if isinstance(value, slice):
        return ["slice", [_canonical(v, nodes) for v in (value.start, value.stop, value.step)]]
    if isinstance(value, enum.Enum):
        return ["enum", type(value).__qualname__, value.name]
    if isinstance(value, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
        return ["op", str(value)]
    from torch_tensorrt._Device import Device

    if isinstance(value, Device):
        return ["Device", _canonical(dict(vars(value)), nodes)]
    if hasattr(value, "node") and hasattr(value.node, "expr"):  # sympy-backed sizes of other kinds
        return ["sym", str(value.node.expr)]
    if type(value).__module__.startswith("sympy"):
        return ["sym", str(value)]
    raise NotCacheable(f"a value of type {type(value).__module__}.{type(value).__qualname__} has no canonical form")


def _tensor_digest(tensor: torch.Tensor) -> list[Any]:
    """dtype, shape and SHA-256 of a tensor's values (weights are in the key, see the module docstring)."""
    from torch._subclasses.fake_tensor import FakeTensor

    if isinstance(tensor, FakeTensor) or tensor.device.type == "meta":
        raise NotCacheable("a constant of the segment has no values (fake or meta tensor)")
    if tensor.layout != torch.strided or tensor.is_quantized:
        raise NotCacheable(f"a constant of the segment has layout {tensor.layout} (quantized or sparse)")
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    digest = hashlib.sha256(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"").hexdigest()
    return [str(tensor.dtype), list(tensor.shape), digest]


def _value_meta(value: Any, nodes: dict[torch.fx.Node, int]) -> Any:
    """dtype and shape (symbolic sizes as expressions) of a node's traced value: what converters read."""
    if isinstance(value, torch.Tensor):
        return ["tensor", str(value.dtype), [_canonical(s, nodes) for s in value.shape]]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_value_meta(v, nodes) for v in value]]
    return _canonical(value, nodes)


def _target_name(node: torch.fx.Node) -> str:
    target = node.target
    if isinstance(target, str):
        return target
    if isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
        return str(target)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def _attribute(module: torch.nn.Module, target: str) -> Any:
    value: Any = module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def graph_document(gm: torch.fx.GraphModule) -> list[Any]:
    """The canonical form of a segment: per node, op, name, target, arguments and value metadata;
    per constant (get_attr), the digest of its values."""
    nodes: dict[torch.fx.Node, int] = {}
    document = []
    for index, node in enumerate(gm.graph.nodes):
        nodes[node] = index
        if node.op in ("call_module", "call_method"):
            # Weights inside a called submodule would be missing from the key (TensorRT segments never
            # hold such calls; other graphs are not cached).
            raise NotCacheable(f"{node.op} {node.target} in the graph")
        entry = [
            node.op,
            node.name,
            _target_name(node),
            _canonical(node.args, nodes),
            _canonical(dict(node.kwargs), nodes),
            _value_meta(node.meta.get("val"), nodes),
        ]
        if node.op == "get_attr":
            attribute = _attribute(gm, str(node.target))
            if not isinstance(attribute, torch.Tensor):
                raise NotCacheable(f"get_attr {node.target} is a {type(attribute).__name__}, not a tensor")
            entry.append(_tensor_digest(attribute))
        document.append(entry)
    return document


def _input_spec_document(spec: Input) -> list[Any]:
    values = getattr(spec, "shape_tensor_values", None)
    return [
        list(spec.min_shape),
        list(spec.opt_shape),
        list(spec.max_shape),
        str(spec.dtype),
        bool(getattr(spec, "is_shape_tensor", False)),
        [list(v) for v in values] if values else None,
    ]


def settings_document(settings: CompilationSettings) -> dict[str, Any]:
    """Every setting that can change a segment's engine (all but SETTINGS_NOT_IN_KEY), canonical."""
    return {
        f.name: _canonical(getattr(settings, f.name), {})
        for f in dataclasses.fields(settings)
        if f.name not in SETTINGS_NOT_IN_KEY
    }


@functools.cache
def _converter_sources_digest() -> str:
    """SHA-256 of the converter and builder sources: an edited converter (same version) must miss."""
    root = Path(__file__).resolve().parent / "conversion"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def environment_document() -> dict[str, Any]:
    """The builder flavour and version, host platform and code versions that decide an engine."""
    # Imported here: the settings module imports this one, and settings must not import TensorRT.
    from torch_tensorrt._trt import ENABLED_FEATURES, TRT_VERSION
    from torch_tensorrt._version import __version__
    from torch_tensorrt.dynamo.runtime._engine_layout import current_platform

    return {
        "key_version": _KEY_VERSION,
        "builder": "tensorrt_rtx" if ENABLED_FEATURES.tensorrt_rtx else "tensorrt",
        "builder_version": TRT_VERSION,
        "host_platform": current_platform(),
        "torch": torch.__version__,
        "torch_tensorrt": __version__,
        "converters": _converter_sources_digest(),
    }


def extend_key(key: str, extra: Any) -> str:
    """A key for ``key``'s segment built with further arguments (e.g. per-profile input ranges)."""
    text = json.dumps([key, _canonical(extra, {})], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def segment_key(gm: torch.fx.GraphModule, input_specs: Sequence[Input], settings: CompilationSettings) -> str:
    """The key of a TensorRT segment: SHA-256 (hex) of its graph with weight values, its input specs,
    the settings that change engines and the builder/platform (module docstring). Raises
    NotCacheable for a graph holding a value with no canonical form."""
    from torch_tensorrt.dynamo.debug._state import profiling_verbosity

    document = {
        "graph": graph_document(gm),
        "inputs": [_input_spec_document(s) for s in input_specs],
        "settings": settings_document(settings),
        "environment": environment_document(),
        # Not a setting, yet it changes the engine: a Debugger block builds with DETAILED verbosity.
        "profiling_verbosity": profiling_verbosity(),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
