"""The runtime cache through real engines: default files, runtime_cache(), teardown, bad files.

The emulated context serializes its "kernels" (one line per input-shape signature it ran) like
TensorRT-RTX serializes JIT-compiled kernels, and starts from the bytes it is given, so a round
trip through a file is visible in the next context's kernels.
"""

from __future__ import annotations

import gc
import hashlib
import io
import pickle
import stat
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from _controls_testing import (  # noqa: F401 - fixtures
    backend_fixture,
    cache_dir_fixture,
    example,
    fresh,
    fresh_warnings_fixture,
)

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.dynamo.runtime import _TRTEngine
from torch_tensorrt.dynamo.runtime._execute_engine_op import python_runtime_delegate
from torch_tensorrt.runtime import RuntimeCache, RuntimeSettings, engines_of, runtime_cache, runtime_config
from torch_tensorrt.runtime._runtime_cache import RuntimeCacheWarning, decode, encode
from torch_tensorrt.testing import emulated_runtime

KERNEL = "dynamic_shapes_kernel_specialization_strategy"


def run(module: torch.nn.Module, kind: str = "linear", batch: int = 2) -> None:
    with torch.no_grad():
        module(example(kind, batch))


def default_file(cache_dir: Path, engine: Any) -> Path:
    return cache_dir / f"{hashlib.sha256(engine.info.engine).hexdigest()}.trtcache"


def kernels(payload: bytes | None) -> list[str]:
    """The input shapes an emulated cache holds kernels for (lines "<input name>=<shape>")."""
    return [] if not payload else [line.split("=", 1)[1] for line in payload.decode().split("\n")[1:]]


def cache_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.trtcache*"))


def test_default_file_is_written_at_module_teardown(backend: Any, cache_dir: Path) -> None:
    module = fresh("linear")
    run(module)
    (engine,) = engines_of(module)
    path = default_file(cache_dir, engine)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700  # private directory, created on first use
    assert not path.exists()  # nothing written while the module lives
    del module, engine
    gc.collect()
    assert kernels(decode(path.read_bytes())) == ["(2, 8)"]


def test_exit_hook_saves_engines_still_alive(backend: Any, cache_dir: Path) -> None:
    module = fresh("linear")
    run(module)
    (engine,) = engines_of(module)
    _TRTEngine._close_live_engines()  # what atexit runs, before modules are torn down
    assert kernels(decode(default_file(cache_dir, engine).read_bytes())) == ["(2, 8)"]
    run(module)  # the engine keeps working: a new context starts from the saved kernels
    assert engine.engine().contexts[-1].options.runtime_cache == decode(default_file(cache_dir, engine).read_bytes())


def test_context_manager_loads_and_saves_once(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    module = fresh("dynamic")
    with runtime_cache(module, path) as cache:
        for batch in (2, 3, 2):
            run(module, batch=batch)
        with runtime_config(module, **{KERNEL: "eager"}):  # a second context, same cache
            run(module, batch=4)
        assert (cache.load_count, cache.save_count) == (1, 0)
        assert not path.exists()
    assert (cache.load_count, cache.save_count) == (1, 1)
    assert kernels(decode(path.read_bytes())) == ["(2, 8)", "(3, 8)", "(4, 8)"]
    (engine,) = engines_of(module)
    assert engine.runtime_cache is None  # detached again
    del module, engine
    gc.collect()
    assert cache.save_count == 1  # teardown does not save the block's cache a second time


def test_autosave_false_writes_nothing_until_asked(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    module = fresh("linear")
    with runtime_cache(module, path, autosave=False) as cache:
        run(module)
    del module
    gc.collect()
    assert not path.exists() and cache.save_count == 0
    assert cache.flush()
    assert kernels(decode(path.read_bytes())) == ["(2, 8)"]


def test_in_memory_cache_writes_nothing(backend: Any, cache_dir: Path, tmp_path: Path) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with runtime_cache(module) as cache:
        run(module)
        run(module)
    assert cache.in_memory and kernels(cache.payload) == ["(2, 8)"]
    with runtime_config(module, runtime_cache=""):  # the same through the settings
        run(module)
        run(module)
    assert engine.contexts_created == 2  # one in-memory handle per setting, not one per run
    del module, engine
    gc.collect()
    assert cache_files(tmp_path) == []


def test_one_handle_shared_by_all_engines(backend: Any, tmp_path: Path) -> None:
    linear, mixed = fresh("linear"), fresh("mixed")
    engines = engines_of([linear, mixed])
    with runtime_cache([linear, mixed], tmp_path / "shared.cache") as cache:
        assert all(engine.runtime_cache is cache for engine in engines)
        run(linear)
        run(mixed, "mixed")
    assert (cache.load_count, cache.save_count) == (1, 1)

    # A path in the settings is shared the same way, through one process-wide handle.
    path = tmp_path / "settings.cache"
    with runtime_config([linear, mixed], runtime_cache=str(path)):
        run(linear)
        run(mixed, "mixed")
        assert RuntimeCache.shared(path).load_count == 1
        assert {c.options.use_runtime_cache for e in engines for c in e.engine().contexts} == {True}


def test_saved_kernels_reach_the_next_context(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    module = fresh("dynamic")
    with runtime_cache(module, path):
        run(module, batch=3)
    saved = decode(path.read_bytes())
    with emulated_runtime():  # another backend: a brand-new engine object for the same program
        again = fresh("dynamic")
        (engine,) = engines_of(again)
        with runtime_cache(again, path) as cache:
            run(again, batch=5)
        (context,) = engine.engine().contexts
    assert context.options.runtime_cache == saved  # the bytes saved before, untouched
    assert kernels(cache.payload) == ["(3, 8)", "(5, 8)"]  # old kernels kept, new ones added


def test_file_like_cache(backend: Any) -> None:
    stream = io.BytesIO(encode(b"emulated-runtime-cache\nx=(7, 8)"))
    module = fresh("dynamic")
    with runtime_cache(module, stream) as cache:
        run(module, batch=1)
    assert cache.save_count == 1
    assert kernels(decode(stream.getvalue())) == ["(1, 8)", "(7, 8)"]


def test_corrupt_default_file_is_moved_aside_and_rebuilt(backend: Any, cache_dir: Path) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    path = default_file(cache_dir, engine)
    cache_dir.mkdir(mode=0o700)
    path.write_bytes(b"not a cache")
    with pytest.warns(RuntimeCacheWarning, match="not a valid cache file"):
        run(module)
    (context,) = engine.engine().contexts
    assert context.options.runtime_cache is None  # TensorRT never sees the bad bytes
    (aside,) = cache_dir.glob("*.corrupt-*")
    assert aside.read_bytes() == b"not a cache"
    del module, engine
    gc.collect()
    assert kernels(decode(path.read_bytes())) == ["(2, 8)"]


def test_file_changed_by_another_writer_warns_on_save(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    module = fresh("linear")
    with pytest.warns(RuntimeCacheWarning, match="changed since it was loaded"):
        with runtime_cache(module, path):
            run(module)
            RuntimeCache(path).store(b"kernels of another process")
    assert kernels(decode(path.read_bytes())) == ["(2, 8)"]


def test_block_without_runs_leaves_the_file_alone(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "kernels.cache"
    path.write_bytes(encode(b"emulated-runtime-cache\nx=(9, 8)"))
    before = path.read_bytes()
    with runtime_cache(fresh("linear"), path) as cache:
        pass
    assert cache.save_count == 0 and path.read_bytes() == before


def test_standard_tensorrt_ignores_the_cache(backend: Any, tmp_path: Path, fresh_warnings: None) -> None:
    path = tmp_path / "kernels.cache"
    module = fresh("linear")
    with _trt.override_features(tensorrt_rtx=False):
        with pytest.warns(UserWarning, match="runtime_cache"):
            with runtime_cache(module, path):
                run(module)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per process
            with runtime_cache(module, path):
                run(module)
    (context,) = engines_of(module)[0].engine().contexts
    assert not context.options.use_runtime_cache
    assert not path.exists()


def test_settings_are_not_serialized(backend: Any, tmp_path: Path) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    overrides = {KERNEL: "eager", "cuda_graph_strategy": "whole_graph_capture", "runtime_cache": str(tmp_path / "c")}
    with runtime_config(module, **overrides):
        run(module)
        torch_tensorrt.save(module, tmp_path / "program.pt2")
        assert pickle.loads(pickle.dumps(engine)).runtime_settings == RuntimeSettings()
    # Another backend, so the loaded program gets its own engine objects (on the Python runtime, as here).
    with emulated_runtime(), python_runtime_delegate():
        program = torch_tensorrt.load(tmp_path / "program.pt2")
        (loaded,) = engines_of(program)
        assert loaded is not engine
        assert loaded.runtime_settings == RuntimeSettings() and loaded.runtime_cache is None
        with torch.no_grad():
            program.module()(example("linear"))
        (context,) = loaded.engine().contexts
    assert (context.options.kernel_strategy, context.options.cuda_graph_strategy) == ("lazy", "disabled")
    assert not any(s in value for value in loaded.info.to_list() for s in ("eager", "whole_graph_capture"))


def test_refused_default_directory_runs_with_an_in_memory_cache(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)  # could point anywhere another user chose
    monkeypatch.setenv("TORCH_TENSORRT_CACHE_DIR", str(tmp_path / "link"))
    module = fresh("linear")
    with pytest.warns(RuntimeCacheWarning, match="symbolic link.*in memory only"):
        run(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(module)  # warned once: the resolution is kept
    del module
    gc.collect()
    assert list(target.iterdir()) == []


def test_nested_blocks_keep_their_own_kernels(backend: Any, tmp_path: Path) -> None:
    module = fresh("dynamic")
    (engine,) = engines_of(module)
    with runtime_cache(module, tmp_path / "outer.cache") as outer:
        run(module, batch=1)
        with runtime_cache(module, tmp_path / "inner.cache") as inner:
            run(module, batch=2)
        assert engine.runtime_cache is outer and inner.save_count == 1
        run(module, batch=3)
    assert kernels(decode((tmp_path / "inner.cache").read_bytes())) == ["(2, 8)"]
    assert kernels(decode((tmp_path / "outer.cache").read_bytes())) == ["(1, 8)", "(3, 8)"]
    assert engine.contexts_created == 3
