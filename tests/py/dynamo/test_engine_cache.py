"""Engine caching across compiles (cache_built_engines / reuse_cached_engines / engine_cache_dir /
engine_cache_size / custom_engine_cache): hits skip the build and behave like a fresh compile, the key
follows weights, settings and shapes, and the disk format survives bad files and concurrent writers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo import _engine_cache as ec
from torch_tensorrt.dynamo import _engine_cache_key as ec_key
from torch_tensorrt.dynamo._engine_cache import (
    BaseEngineCache,
    CachedBinding,
    CachedEngine,
    DiskEngineCache,
    EngineCacheWarning,
)
from torch_tensorrt.dynamo.conversion import _conversion
from torch_tensorrt.testing import emulated_runtime

RTOL, ATOL = 1e-5, 1e-5  # float32, reference executor against eager


class SmallNet(torch.nn.Module):
    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x))) * 2.0


DYNAMIC = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(16, 8))


@pytest.fixture
def build_spy() -> Iterator[mock.MagicMock]:
    """Counts engine builds (the real builder still runs)."""
    with mock.patch.object(_conversion, "build_engine", wraps=_conversion.build_engine) as spy:
        yield spy


def _compile(model: torch.nn.Module, **settings: Any) -> torch.fx.GraphModule:
    return torch_tensorrt.compile(
        model, inputs=[DYNAMIC], min_block_size=1, cache_built_engines=True, reuse_cached_engines=True, **settings
    )


def _engines(gm: torch.fx.GraphModule) -> list[Any]:
    return [m for m in gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]


def test_second_compile_reuses_the_engine_without_building(tmp_path: Path, build_spy: mock.MagicMock) -> None:
    model = SmallNet().eval()
    with emulated_runtime(tmp_path / "emu"):
        fresh = _compile(model, engine_cache_dir=str(tmp_path / "cache"))
        assert build_spy.call_count == 1
        (entry,) = DiskEngineCache(str(tmp_path / "cache"), 1 << 30).entries()
        cached = _compile(model, engine_cache_dir=str(tmp_path / "cache"))
        assert build_spy.call_count == 1, "the hit must not call the builder"
        for batch in (1, 5, 16):  # across the dynamic range
            x = torch.randn(batch, 8)
            out_fresh, out_cached = fresh(x), cached(x)
            assert torch.equal(out_fresh, out_cached)
            torch.testing.assert_close(out_cached, model(x), rtol=RTOL, atol=ATOL)
    (a,), (b,) = _engines(fresh), _engines(cached)
    assert a.engine_info == b.engine_info  # names, bindings, ranges, symbolic sizes, metadata
    assert torch.equal(a.serialized_engine, b.serialized_engine)
    assert entry.stat().st_size > len(bytes(a.serialized_engine.numpy()))


def test_hit_under_a_fresh_emulation_store_still_runs(tmp_path: Path, build_spy: mock.MagicMock) -> None:
    """A hit builds no network; the emulated runtime still learns it (converted again, not built)."""
    model = SmallNet(3).eval()
    _compile(model, engine_cache_dir=str(tmp_path / "cache"))  # outside any emulation scope
    with emulated_runtime(tmp_path / "other-store"):
        cached = _compile(model, engine_cache_dir=str(tmp_path / "cache"))
        x = torch.randn(3, 8)
        torch.testing.assert_close(cached(x), model(x), rtol=RTOL, atol=ATOL)
    assert build_spy.call_count == 1


def test_cache_only_or_reuse_only(tmp_path: Path, build_spy: mock.MagicMock) -> None:
    model = SmallNet().eval()
    directory = str(tmp_path / "cache")
    torch_tensorrt.compile(
        model, inputs=[DYNAMIC], min_block_size=1, reuse_cached_engines=True, engine_cache_dir=directory
    )
    assert not os.path.exists(directory), "reuse alone stores nothing"
    torch_tensorrt.compile(
        model, inputs=[DYNAMIC], min_block_size=1, cache_built_engines=True, engine_cache_dir=directory
    )
    torch_tensorrt.compile(
        model, inputs=[DYNAMIC], min_block_size=1, cache_built_engines=True, engine_cache_dir=directory
    )
    assert build_spy.call_count == 3, "cache_built_engines alone never reuses"
    torch_tensorrt.compile(
        model, inputs=[DYNAMIC], min_block_size=1, reuse_cached_engines=True, engine_cache_dir=directory
    )
    assert build_spy.call_count == 3


def test_changed_weights_miss_and_are_stored_separately(tmp_path: Path, build_spy: mock.MagicMock) -> None:
    directory = str(tmp_path / "cache")
    with emulated_runtime(tmp_path / "emu"):
        first = _compile(SmallNet(0).eval(), engine_cache_dir=directory)
        other_model = SmallNet(1).eval()
        other = _compile(other_model, engine_cache_dir=directory)
        assert build_spy.call_count == 2
        x = torch.randn(2, 8)
        torch.testing.assert_close(other(x), other_model(x), rtol=RTOL, atol=ATOL)
        assert not torch.allclose(first(x), other(x))
    assert len(DiskEngineCache(directory, 1 << 30).entries()) == 2


# ---------------------------------------------------------------------------------------------------
# The key


def _segment(weight: torch.Tensor, scale: float = 2.0) -> torch.fx.GraphModule:
    root = torch.nn.Module()
    root.register_buffer("w", weight)
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    w = graph.get_attr("w")
    y = graph.call_function(torch.ops.aten.mm.default, (x, w))
    graph.output(graph.call_function(torch.ops.aten.mul.Scalar, (y, scale)))
    return torch.fx.GraphModule(root, graph)


SPECS = [torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))]


def _key(gm: torch.fx.GraphModule, specs: list[Any] = SPECS, **settings: Any) -> str:
    return BaseEngineCache.get_hash(gm, specs, CompilationSettings(**settings))


def test_key_is_deterministic_and_follows_weights_args_and_shapes() -> None:
    w = torch.randn(4, 4)
    base = _key(_segment(w))
    assert base == _key(_segment(w.clone())) and len(base) == 64
    changed = w.clone()
    changed[1, 2] += 1e-6
    assert _key(_segment(changed)) != base, "one weight value"
    assert _key(_segment(w.double())) != base, "weight dtype"
    assert _key(_segment(w, scale=3.0)) != base, "a scalar argument"
    assert _key(_segment(w, scale=2)) != base, "2 and 2.0 differ"
    other_range = [torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(16, 4))]
    assert _key(_segment(w), other_range) != base, "input range"
    other_dtype = [torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4), dtype=torch.half)]
    assert _key(_segment(w), other_dtype) != base, "input dtype"


@pytest.mark.parametrize(
    "setting",
    [
        {"optimization_level": 1},
        {"truncate_double": True},
        {"compute_capabilities": ("8.6",)},
        {"hardware_compatible": True},
        {"use_fp32_acc": True},
        {"workspace_size": 1 << 20},
        {"immutable_weights": False},
        {"dynamically_allocate_resources": True},
        {"device": "cuda:1"},
    ],
)
def test_settings_that_change_the_engine_change_the_key(setting: dict[str, Any]) -> None:
    gm = _segment(torch.ones(4, 4))
    assert _key(gm, **setting) != _key(gm)


def test_settings_that_cannot_change_the_engine_keep_the_key(tmp_path: Path) -> None:
    gm = _segment(torch.ones(4, 4))
    same = {"debug": True, "min_block_size": 3, "engine_cache_dir": str(tmp_path), "use_python_runtime": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _key(gm, **same) == _key(gm)


def test_every_setting_is_in_the_key_or_listed_as_engine_independent() -> None:
    in_key = set(ec.settings_document(CompilationSettings()))
    assert in_key | ec.SETTINGS_NOT_IN_KEY == set(CompilationSettings.field_names())
    assert not in_key & ec.SETTINGS_NOT_IN_KEY


def test_builder_version_and_converter_code_are_in_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_tensorrt import _trt

    gm = _segment(torch.ones(4, 4))
    base = _key(gm)
    monkeypatch.setattr(_trt, "TRT_VERSION", _trt.TRT_VERSION + ".1")
    assert _key(gm) != base
    monkeypatch.undo()
    monkeypatch.setattr(ec_key, "_converter_sources_digest", lambda: "edited")  # the key module owns it
    assert _key(gm) != base


def test_profiling_verbosity_is_in_the_key(tmp_path: Path) -> None:
    gm = _segment(torch.ones(4, 4))
    base = _key(gm)
    with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path)):
        detailed = _key(gm)
    assert detailed != base, "a Debugger block builds with ProfilingVerbosity.DETAILED"
    assert _key(gm) == base  # and only inside the block


def test_an_engine_cached_outside_a_debugger_block_is_not_reused_inside(
    tmp_path: Path, build_spy: mock.MagicMock
) -> None:
    """The Debugger's engines must carry DETAILED profiling (its layer information needs it): a cached
    LAYER_NAMES_ONLY engine would silently lack it."""
    model = SmallNet(5).eval()
    cache = str(tmp_path / "cache")
    with emulated_runtime(tmp_path / "emu"):
        _compile(model, engine_cache_dir=cache)
        with torch_tensorrt.dynamo.Debugger("info", logging_dir=str(tmp_path / "debug")):
            debugged = _compile(model, engine_cache_dir=cache, pass_through_build_failures=True)
            assert build_spy.call_count == 2, "the cached engine was built with other profiling verbosity"
            _compile(model, engine_cache_dir=cache)
        assert build_spy.call_count == 2, "the DETAILED engine is cached under its own key"
        x = torch.randn(3, 8)
        torch.testing.assert_close(debugged(x), model(x), rtol=RTOL, atol=ATOL)
    assert len(DiskEngineCache(cache, 1 << 30).entries()) == 2


def test_values_without_a_canonical_form_are_not_cached() -> None:
    gm = _segment(torch.ones(4, 4))
    gm.graph.call_function(torch.ops.aten.add.Tensor, (next(iter(gm.graph.nodes)), object()))
    with pytest.raises(ec.NotCacheable, match="object"):
        _key(gm)
    fake_weights = _segment(torch.empty(4, 4, device="meta"))
    with pytest.raises(ec.NotCacheable, match="no values"):
        _key(fake_weights)


# ---------------------------------------------------------------------------------------------------
# The entry format and the disk cache


def _entry(key: str = "k" * 64, engine: bytes = b"engine-bytes" * 10) -> CachedEngine:
    return CachedEngine(
        key=key,
        engine=engine,
        inputs=(CachedBinding("x", torch.float32, ("s0", 8), (-1, 8), ((1, 8), (4, 8), (16, 8))),),
        outputs=(CachedBinding("output0", torch.float16, ("2*s0", 4)),),
    )


def test_pack_unpack_round_trip_without_pickle() -> None:
    blob = BaseEngineCache.pack(_entry())
    assert b"\x80\x04" not in blob[:2] and blob.startswith(ec.MAGIC)
    assert BaseEngineCache.unpack(blob) == _entry()


def _garbled() -> dict[str, bytes]:
    blob = BaseEngineCache.pack(_entry())
    flipped = bytearray(blob)
    flipped[-3] ^= 0xFF
    huge_meta = bytearray(blob)
    huge_meta[16:20] = (1 << 31).to_bytes(4, "little")
    return {
        "truncated": blob[:-5],
        "header only": blob[:30],
        "flipped byte": bytes(flipped),
        "trailing bytes": blob + b"x",
        "garbage": os.urandom(500),
        "metadata length": bytes(huge_meta),
        "empty": b"",
    }


@pytest.mark.parametrize("case", sorted(_garbled()))
def test_garbled_entries_are_a_warning_and_a_miss(tmp_path: Path, case: str) -> None:
    cache = DiskEngineCache(str(tmp_path), 1 << 20)
    key = "a" * 64
    cache.save(key, BaseEngineCache.pack(_entry(key)))
    cache.entry_path(key).write_bytes(_garbled()[case])
    with pytest.warns(EngineCacheWarning, match="not usable"):
        assert cache.check(key) is None


def test_bad_metadata_is_refused_not_evaluated() -> None:
    bad = CachedEngine(
        "k", b"e", (CachedBinding("x", torch.float32, ("__import__('os')",), (1,), ((1,), (1,), (1,))),), ()
    )
    with pytest.raises(ec.EngineCacheFormatError, match="metadata"):
        BaseEngineCache.unpack(BaseEngineCache.pack(bad))


def test_oversize_entry_is_not_read(tmp_path: Path) -> None:
    cache = DiskEngineCache(str(tmp_path), 1000)
    key = "b" * 64
    cache.save(key, BaseEngineCache.pack(_entry(key)))
    cache.entry_path(key).write_bytes(b"\0" * 5000)
    with mock.patch.object(ec, "read_at_most", wraps=ec.read_at_most) as reads:
        with pytest.warns(EngineCacheWarning, match="over engine_cache_size=1000"):
            assert cache.load(key) is None
    assert reads.call_count == 0


def test_entry_over_the_size_is_not_stored(tmp_path: Path) -> None:
    cache = DiskEngineCache(str(tmp_path), 100)
    with pytest.warns(EngineCacheWarning, match="over engine_cache_size=100; not cached"):
        cache.save("c" * 64, b"x" * 101)
    assert cache.entries() == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_at_an_entry_path_is_refused_without_blocking(tmp_path: Path) -> None:
    cache = DiskEngineCache(str(tmp_path), 1 << 20)
    key = "d" * 64
    os.mkfifo(cache.entry_path(key))
    result: list[Any] = []

    def load() -> None:
        with pytest.warns(EngineCacheWarning, match="FIFO"):
            result.append(cache.load(key))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert result == [None]


def test_directory_that_is_a_symlink_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    cache = DiskEngineCache(str(tmp_path / "link"), 1 << 20)
    with pytest.warns(EngineCacheWarning, match="symbolic link"):
        cache.save("e" * 64, BaseEngineCache.pack(_entry("e" * 64)))
    assert list((tmp_path / "real").iterdir()) == []


def test_new_directory_is_private(tmp_path: Path) -> None:
    cache = DiskEngineCache(str(tmp_path / "a" / "b"), 1 << 20)
    cache.save("f" * 64, BaseEngineCache.pack(_entry("f" * 64)))
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    blobs = {k * 64: BaseEngineCache.pack(_entry(k * 64, bytes(1000))) for k in "0123"}
    size = len(next(iter(blobs.values())))
    cache = DiskEngineCache(str(tmp_path), 3 * size)
    for i, (key, blob) in enumerate(list(blobs.items())[:3]):
        cache.save(key, blob)
        os.utime(cache.entry_path(key), (1000 + i, 1000 + i))  # 0 oldest, 2 newest
    assert cache.check("0" * 64) is not None  # a hit makes 0 the most recently used
    cache.save("3" * 64, blobs["3" * 64])
    assert sorted(p.name[0] for p in cache.entries()) == ["0", "2", "3"]
    assert sum(p.stat().st_size for p in cache.entries()) <= 3 * size


def test_threads_writing_at_once(tmp_path: Path) -> None:
    blobs = [BaseEngineCache.pack(_entry(f"{i:064x}", os.urandom(2000))) for i in range(24)]
    limit = 10 * len(blobs[0])
    cache = DiskEngineCache(str(tmp_path), limit)
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(offset, offset + 24):
                blob = blobs[i % len(blobs)]
                cache.save(BaseEngineCache.unpack(blob).key, blob)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 3,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = cache.entries()
    assert entries and sum(p.stat().st_size for p in entries) <= limit
    for path in entries:
        assert cache.check(path.name.removesuffix(ec.ENGINE_SUFFIX)) is not None
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


_WRITER = """
import os, sys
from torch_tensorrt.dynamo._engine_cache import BaseEngineCache, CachedEngine, DiskEngineCache
cache = DiskEngineCache(sys.argv[1], int(sys.argv[2]))
for i in range(40):
    key = f"{(i * 7 + int(sys.argv[3])) % 30:064x}"
    cache.save(key, BaseEngineCache.pack(CachedEngine(key, os.urandom(3000), (), ())))
"""


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    limit = 12 * (ec.HEADER_SIZE + 3200)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(Path(torch_tensorrt.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(limit), str(k)], env=env, stderr=subprocess.PIPE
        )
        for k in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    cache = DiskEngineCache(str(tmp_path), limit)
    entries = cache.entries()
    assert entries and sum(p.stat().st_size for p in entries) <= limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in entries:
            assert cache.check(path.name.removesuffix(ec.ENGINE_SUFFIX)) is not None


# ---------------------------------------------------------------------------------------------------
# Custom caches and settings


class DictCache(BaseEngineCache):
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.saves = 0

    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        self.saves += 1
        self.blobs[hash] = blob

    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        return self.blobs.get(hash)


def test_custom_cache_is_used(tmp_path: Path, build_spy: mock.MagicMock) -> None:
    cache = DictCache()
    model = SmallNet(5).eval()
    with emulated_runtime(tmp_path / "emu"):
        fresh = _compile(model, custom_engine_cache=cache)
        cached = _compile(model, custom_engine_cache=cache)
        x = torch.randn(4, 8)
        assert torch.equal(fresh(x), cached(x))
    assert build_spy.call_count == 1 and cache.saves == 1 and len(cache.blobs) == 1
    (key,) = cache.blobs
    cache.blobs[key] = b"not an entry"
    with pytest.warns(EngineCacheWarning, match="not usable"):
        _compile(model, custom_engine_cache=cache)
    assert build_spy.call_count == 2
    assert BaseEngineCache.unpack(cache.blobs[key]).key == key, "the rebuilt engine replaced the bad entry"


def test_bad_custom_cache_is_rejected() -> None:
    with pytest.raises(TypeError, match="BaseEngineCache"):
        CompilationSettings(cache_built_engines=True, custom_engine_cache=object())
    with pytest.raises(TypeError, match=r"pass DictCache\(\.\.\.\) instead"):
        CompilationSettings(cache_built_engines=True, custom_engine_cache=DictCache)
    with pytest.raises(TypeError, match="abstract"):
        type("Incomplete", (BaseEngineCache,), {"__init__": lambda self: None})()


def test_cache_settings_no_longer_warn(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CompilationSettings(
            cache_built_engines=True,
            reuse_cached_engines=True,
            engine_cache_dir=str(tmp_path),
            engine_cache_size=1 << 20,
        )
        CompilationSettings(cache_built_engines=True, custom_engine_cache=DictCache())


def test_cache_settings_that_cannot_act_warn(tmp_path: Path) -> None:
    reset_warnings()
    with pytest.warns(UserWarning, match="engine_cache_size=12345 has no effect: neither cache_built_engines"):
        CompilationSettings(engine_cache_size=12345)
    with pytest.warns(UserWarning, match="engine_cache_dir=.* has no effect: custom_engine_cache is given"):
        CompilationSettings(
            reuse_cached_engines=True, custom_engine_cache=DictCache(), engine_cache_dir=str(tmp_path / "x")
        )
