"""Engine cache across compiles: Torch-TensorRT's ``torch_tensorrt.dynamo._engine_cache``.

``cache_built_engines=True`` stores every engine a compile builds; ``reuse_cached_engines=True``
makes a compile that finds an entry for a TensorRT segment skip building its engine and use the
stored one. ``custom_engine_cache`` takes a :class:`BaseEngineCache` subclass (``save``/``load``
bytes by key); otherwise a :class:`DiskEngineCache` in ``engine_cache_dir`` (default
``<temp dir>/torch_tensorrt_engine_cache``) holding at most ``engine_cache_size`` bytes (default
5 GiB), as in Torch-TensorRT.

**The key** (:meth:`BaseEngineCache.get_hash`) is the SHA-256 of a canonical document of everything
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

**The entry** (:meth:`BaseEngineCache.pack` / :meth:`~BaseEngineCache.unpack`) is bytes in this
format (integers little-endian; no pickle, so loading an entry never runs code from it)::

    offset  size  field
    0       8     magic            b"TTRTENG\\0"
    8       4     format version   u32, currently 1
    12      4     flags            u32, reserved, must be 0
    16      4     metadata length  u32, at most MAX_METADATA_BYTES
    20      8     engine length    u64
    28      32    SHA-256 of the metadata and engine bytes
    60      m     metadata         UTF-8 JSON: {"key", "inputs", "outputs"} (binding names, dtypes,
                                   shapes, input ranges, symbolic sizes as checked expressions)
    60+m    n     engine           TensorRT's serialized engine, untouched

An entry that is not exactly this (truncated, garbled, another key, bindings that do not match the
segment) is reported with an :class:`EngineCacheWarning` and the engine is built as if there were no
entry; it never fails a compile.

**On disk** (:class:`DiskEngineCache`): one ``<key>.trtengine`` file per engine in a private
directory (created 0700; a directory that is a symlink or owned by another user is refused with a
warning, since entries are code the GPU runs), one lock file per directory (``LOCK_NAME``) under
which entries are written (temporary file, fsync, atomic rename) and evicted, so several processes
can share the directory. Reads are bounded: only regular files are opened (FIFOs and devices are
refused before opening) and a file larger than ``engine_cache_size`` is not read. After each save,
least recently used entries (oldest modification time; a hit touches its entry) are deleted until the
directory's entries fit in ``engine_cache_size``. The file rules are the runtime cache's
(``torch_tensorrt._cache_files``, ``torch_tensorrt._file_lock``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import logging
import os
import re
import struct
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt._cache_files import (
    RefusedFile,
    atomic_write,
    evict_lru,
    make_private_dirs,
    open_regular,
    read_at_most,
    remove_orphaned_temporaries,
    secure_private_directory,
)
from torch_tensorrt._file_lock import file_lock

if TYPE_CHECKING:
    from torch_tensorrt._Input import Input
    from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

__all__ = [
    "BaseEngineCache",
    "CachedBinding",
    "CachedEngine",
    "DiskEngineCache",
    "EngineCacheFormatError",
    "EngineCacheWarning",
    "SETTINGS_NOT_IN_KEY",
]

MAGIC = b"TTRTENG\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIIIQ32s")
HEADER_SIZE = _HEADER.size  # 60
MAX_METADATA_BYTES = 1 << 20
_MAX_METADATA_DEPTH = 8
ENGINE_SUFFIX = ".trtengine"
LOCK_NAME = ".torch_tensorrt_engine_cache.lock"
DEFAULT_LOCK_TIMEOUT_S = 10.0
# Version of the key document below: bump it when the document changes, so old entries miss.
_KEY_VERSION = 1
_KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")

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


class EngineCacheWarning(UserWarning):
    """An engine cache entry could not be used or stored (never fatal: the engine is built)."""


class EngineCacheFormatError(ValueError):
    """Bytes that are not an engine cache entry in this format."""


class NotCacheable(Exception):
    """A segment whose key cannot be computed (a value with no canonical form); it is built uncached."""


@dataclass(frozen=True)
class CachedBinding:
    """One engine input or output as the runtime module needs it.

    ``symbolic_shape`` holds ints and shape expressions over the graph's size symbols (``"s0*2"``);
    ``shape`` (-1 marks a dynamic dim) and ``shape_range`` (min, opt, max) are for inputs only.
    """

    name: str
    dtype: torch.dtype
    symbolic_shape: tuple[int | str, ...]
    shape: tuple[int, ...] | None = None
    shape_range: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None


@dataclass(frozen=True)
class CachedEngine:
    """What a cache hit gives back: the engine bytes and its bindings, under the key they were stored by."""

    key: str
    engine: bytes
    inputs: tuple[CachedBinding, ...]
    outputs: tuple[CachedBinding, ...]


# ---------------------------------------------------------------------------------------------------
# The key


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


# ---------------------------------------------------------------------------------------------------
# The entry format


def _binding_document(b: CachedBinding) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": b.name,
        "dtype": str(b.dtype).removeprefix("torch."),
        "symbolic_shape": list(b.symbolic_shape),
    }
    if b.shape is not None:
        doc["shape"] = list(b.shape)
    if b.shape_range is not None:
        doc["shape_range"] = [list(s) for s in b.shape_range]
    return doc


def _encode(entry: CachedEngine) -> bytes:
    metadata = json.dumps(
        {
            "key": entry.key,
            "inputs": [_binding_document(b) for b in entry.inputs],
            "outputs": [_binding_document(b) for b in entry.outputs],
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    if len(metadata) > MAX_METADATA_BYTES:
        raise EngineCacheFormatError(f"entry metadata is {len(metadata)} bytes, over {MAX_METADATA_BYTES}")
    engine = bytes(entry.engine)
    digest = hashlib.sha256(metadata + engine).digest()
    return _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(metadata), len(engine), digest) + metadata + engine


def _decode(blob: bytes) -> CachedEngine:
    if len(blob) < HEADER_SIZE:
        raise EngineCacheFormatError(
            f"entry is {len(blob)} bytes, shorter than its {HEADER_SIZE}-byte header (truncated)"
        )
    magic, version, flags, meta_len, engine_len, digest = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise EngineCacheFormatError(f"bad magic {magic!r} (expected {MAGIC!r}): not an engine cache entry")
    if version != FORMAT_VERSION:
        raise EngineCacheFormatError(f"format version {version}, this build reads version {FORMAT_VERSION}")
    if flags != 0:
        raise EngineCacheFormatError(f"unknown header flags {flags:#x}")
    if meta_len > MAX_METADATA_BYTES:
        raise EngineCacheFormatError(f"metadata length {meta_len} is over the {MAX_METADATA_BYTES}-byte limit")
    expected = HEADER_SIZE + meta_len + engine_len
    if len(blob) != expected:
        raise EngineCacheFormatError(f"entry is {len(blob)} bytes, its header says {expected} (truncated or garbled)")
    body = memoryview(blob)[HEADER_SIZE:]
    if hashlib.sha256(body).digest() != digest:
        raise EngineCacheFormatError("SHA-256 of the entry does not match its header (corrupted)")
    metadata = bytes(body[:meta_len])
    return _parse_metadata(metadata, bytes(body[meta_len:]))


def _parse_metadata(metadata: bytes, engine: bytes) -> CachedEngine:
    # Imported here: the settings module imports this one and must not import the runtime package.
    from torch_tensorrt.dynamo.runtime import _strict_json as sj

    try:
        text = metadata.decode("utf-8")
        if sj.too_deep(text, _MAX_METADATA_DEPTH):
            sj.fail("metadata", f"nested deeper than {_MAX_METADATA_DEPTH}")
        doc = sj.as_object(sj.loads(text), "metadata")
        key = doc.get("key")
        if not isinstance(key, str):
            sj.fail("metadata.key", "expected a string")
        inputs = tuple(
            _parse_binding(b, f"inputs[{i}]", True) for i, b in enumerate(sj.as_list(doc.get("inputs"), "inputs"))
        )
        outputs = tuple(
            _parse_binding(b, f"outputs[{i}]", False) for i, b in enumerate(sj.as_list(doc.get("outputs"), "outputs"))
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EngineCacheFormatError(f"metadata is not valid: {exc}") from exc
    return CachedEngine(key=key, engine=engine, inputs=inputs, outputs=outputs)


def _parse_binding(value: Any, path: str, is_input: bool) -> CachedBinding:
    from torch_tensorrt.dynamo.runtime import _strict_json as sj
    from torch_tensorrt.dynamo.runtime._shape_expr import validate

    doc = sj.as_object(value, path)
    name, dtype_name = doc.get("name"), doc.get("dtype")
    if not isinstance(name, str) or not name:
        sj.fail(f"{path}.name", "expected a non-empty string")
    dtype = getattr(torch, dtype_name, None) if isinstance(dtype_name, str) else None
    if not isinstance(dtype, torch.dtype):
        sj.fail(f"{path}.dtype", f"{sj.short(dtype_name)} is not a torch dtype")
    symbolic: list[int | str] = []
    for i, d in enumerate(sj.as_list(doc.get("symbolic_shape"), f"{path}.symbolic_shape")):
        if isinstance(d, str):
            validate(d)
            symbolic.append(d)
        else:
            symbolic.append(sj.as_int(d, f"{path}.symbolic_shape[{i}]", 0, 2**63 - 1))
    if not is_input:
        return CachedBinding(name, dtype, tuple(symbolic))

    def dims(v: Any, where: str, lo: int) -> tuple[int, ...]:
        return tuple(sj.as_int(x, f"{where}[{j}]", lo, 2**63 - 1) for j, x in enumerate(sj.as_list(v, where)))

    shape = dims(doc.get("shape"), f"{path}.shape", -1)
    ranges = sj.as_list(doc.get("shape_range"), f"{path}.shape_range")
    if len(ranges) != 3:
        sj.fail(f"{path}.shape_range", "expected [min, opt, max]")
    lo, opt, hi = (dims(r, f"{path}.shape_range[{k}]", 0) for k, r in enumerate(ranges))
    return CachedBinding(name, dtype, tuple(symbolic), shape, (lo, opt, hi))


# ---------------------------------------------------------------------------------------------------
# The caches


class BaseEngineCache(ABC):
    """Base class of engine caches (Torch-TensorRT's name and methods).

    Subclasses implement ``save(hash, blob)`` and ``load(hash) -> bytes | None``; blobs are opaque
    bytes made by :meth:`pack`. :meth:`get_hash` is the key (see the module docstring); ``insert`` and
    ``check`` pack/save and load/unpack an entry. Pass an instance as ``custom_engine_cache``.
    """

    @abstractmethod
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @staticmethod
    def get_hash(gm: torch.fx.GraphModule, input_specs: Sequence[Input], settings: CompilationSettings) -> str:
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

    @staticmethod
    def pack(entry: CachedEngine) -> bytes:
        """Entry -> bytes in the format of the module docstring (no pickle)."""
        return _encode(entry)

    @staticmethod
    def unpack(packed_obj: bytes) -> CachedEngine:
        """Bytes -> entry; raises EngineCacheFormatError for anything that is not exactly an entry."""
        return _decode(bytes(packed_obj))

    def insert(self, hash: str, entry: CachedEngine, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Torch-TensorRT's name
        """Pack ``entry`` and :meth:`save` it under ``hash``."""
        self.save(hash, self.pack(entry), *args, **kwargs)

    def check(self, hash: str, *args: Any, **kwargs: Any) -> CachedEngine | None:  # noqa: A002
        """The entry stored under ``hash``, or None (missing, or unusable: reported with a warning)."""
        blob = self.load(hash, *args, **kwargs)
        if blob is None:
            return None
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            warnings.warn(
                f"engine cache {type(self).__name__}.load returned {type(blob).__name__}, not bytes; building the engine",
                EngineCacheWarning,
                stacklevel=2,
            )
            return None
        try:
            return self.unpack(bytes(blob))
        except EngineCacheFormatError as exc:
            warnings.warn(
                f"engine cache entry {hash} is not usable ({exc}); building the engine",
                EngineCacheWarning,
                stacklevel=2,
            )
            return None

    @abstractmethod
    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        """Store ``blob`` under ``hash``."""

    @abstractmethod
    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        """The blob stored under ``hash``, or None."""


class DiskEngineCache(BaseEngineCache):
    """Entries as ``<engine_cache_dir>/<hash>.trtengine`` files, at most ``engine_cache_size`` bytes in
    all (least recently used evicted); safe to share between processes (module docstring)."""

    def __init__(
        self, engine_cache_dir: str, engine_cache_size: int, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    ) -> None:
        if not isinstance(engine_cache_dir, (str, os.PathLike)):
            raise TypeError(f"engine_cache_dir must be a path, got {type(engine_cache_dir).__name__}")
        if not isinstance(engine_cache_size, int) or isinstance(engine_cache_size, bool) or engine_cache_size < 0:
            raise ValueError(f"engine_cache_size must be a number of bytes >= 0, got {engine_cache_size!r}")
        # Resolved once, so that a later chdir cannot move the cache.
        self.engine_cache_dir = os.path.abspath(os.path.expanduser(os.fspath(engine_cache_dir)))
        self.engine_cache_size = engine_cache_size
        self.lock_timeout = lock_timeout

    @property
    def directory(self) -> Path:
        return Path(self.engine_cache_dir)

    def __repr__(self) -> str:
        return f"DiskEngineCache({self.engine_cache_dir!r}, {self.engine_cache_size})"

    def entry_path(self, hash: str) -> Path:  # noqa: A002
        if not isinstance(hash, str) or not _KEY_RE.fullmatch(hash):
            raise ValueError(f"engine cache key {hash!r} is not usable as a file name")
        return self.directory / f"{hash}{ENGINE_SUFFIX}"

    def _warn(self, message: str) -> None:
        warnings.warn(f"engine cache {self.engine_cache_dir}: {message}", EngineCacheWarning, stacklevel=4)

    def _checked_directory(self, create: bool) -> bool:
        """Whether the directory can be used; created 0700 when ``create``. Refusals are warned."""
        try:
            if not os.path.lexists(self.directory):
                if not create:
                    return False
                make_private_dirs(self.directory)
            secure_private_directory(
                self.directory, "engine cache directory", "pass engine_cache_dir= a directory you own"
            )
        except OSError as exc:
            self._warn(f"{exc}; not using the engine cache")
            return False
        return True

    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        blob = bytes(blob)
        path = self.entry_path(hash)
        if len(blob) > self.engine_cache_size:
            self._warn(
                f"entry {hash} is {len(blob)} bytes, over engine_cache_size={self.engine_cache_size}; not cached"
            )
            return
        if not self._checked_directory(create=True):
            return
        try:
            with file_lock(self.directory / LOCK_NAME, self.lock_timeout) as exclusive:
                if exclusive:
                    remove_orphaned_temporaries(path)
                atomic_write(path, blob)
                for name in evict_lru(self.directory, _is_entry_name, path.name, self.engine_cache_size):
                    logger.info("engine cache: evicted least recently used entry %s", name)
        except (OSError, TimeoutError) as exc:
            self._warn(f"could not store entry {hash}: {exc}")

    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        path = self.entry_path(hash)
        if not self._checked_directory(create=False):
            return None
        try:
            with contextlib.ExitStack() as stack:
                try:
                    stack.enter_context(file_lock(self.directory / LOCK_NAME, self.lock_timeout))
                except (OSError, TimeoutError) as exc:
                    # Entries are replaced atomically, so an unlocked read still sees a whole file.
                    logger.info("engine cache: reading %s without its lock: %s", path, exc)
                return self._read_entry(path)
        except OSError as exc:
            self._warn(f"could not read entry {hash}: {exc}; building the engine")
            return None

    def _read_entry(self, path: Path) -> bytes | None:
        try:
            f, st = open_regular(path)
        except FileNotFoundError:
            return None
        except RefusedFile as exc:
            self._warn(f"{path.name} {exc}; not reading it, building the engine")
            return None
        with f:
            if st.st_size > self.engine_cache_size:
                self._warn(
                    f"{path.name} is {st.st_size} bytes, over engine_cache_size={self.engine_cache_size}; "
                    "not reading it, building the engine"
                )
                return None
            # One byte more than fstat said, so that a file that grew is caught (as garbled) by unpack.
            blob = read_at_most(f, st.st_size + 1)
        with contextlib.suppress(OSError):
            os.utime(path)  # "used", for least-recently-used eviction
        return blob

    def entries(self) -> list[Path]:
        """The entry files in the directory (regular files named ``<key>.trtengine``)."""
        try:
            with os.scandir(self.directory) as it:
                return sorted(Path(e.path) for e in it if _is_entry_name(e.name) and e.is_file(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []


def _is_entry_name(name: str) -> bool:
    """``<key>.trtengine``: temporaries and the lock start with "." and never match."""
    return name.endswith(ENGINE_SUFFIX) and bool(_KEY_RE.fullmatch(name[: -len(ENGINE_SUFFIX)]))


def is_entry_name(name: str) -> bool:
    """Whether ``name`` is an engine cache entry's file name (for the command line)."""
    return _is_entry_name(name)


def engine_cache_for(settings: CompilationSettings) -> BaseEngineCache | None:
    """The cache a compile uses: None unless cache_built_engines or reuse_cached_engines is set; then
    custom_engine_cache if given, else a DiskEngineCache(engine_cache_dir, engine_cache_size)."""
    if not (settings.cache_built_engines or settings.reuse_cached_engines):
        return None
    if settings.custom_engine_cache is not None:
        return settings.custom_engine_cache
    return DiskEngineCache(settings.engine_cache_dir, settings.engine_cache_size)
