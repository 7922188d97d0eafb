"""One runtime contract: every behaviour here runs on the Python engine and on the C++ engine
(torch.classes.tensorrt.Engine), each on its fake backend (see _contract_runtimes.py). A behaviour that
differs between the runtimes is a failing test.

Covered: the process-wide controls and their precedence under per-module settings, nesting and
restoring of blocks, runtime caches (shared path, nested blocks, autosave=False, streams, saved when
the module goes away), settings isolation between modules holding the same engine bytes, and typos.
"""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest
from _contract_runtimes import (  # noqa: F401 - fixtures
    CACHE_MAGIC,
    Runtime,
    kernel_line,
    process_defaults_fixture,
    runtime_fixture,
)
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

from torch_tensorrt import runtime as rt
from torch_tensorrt.runtime import RuntimeSettings

pytestmark = pytest.mark.filterwarnings("ignore::torch_tensorrt.runtime._runtime_cache.RuntimeCacheWarning")


@pytest.fixture(autouse=True)
def _process_defaults_restored(process_defaults_restored: None) -> None:
    pass


def cache_lines(path: Path) -> set[str]:
    """The kernel lines of a saved cache file (after its 56-byte header)."""
    from torch_tensorrt.runtime._runtime_cache import decode

    payload = decode(path.read_bytes())
    assert payload.startswith(CACHE_MAGIC)
    return {line for line in payload[len(CACHE_MAGIC) :].decode().splitlines() if line}


# ------------------------------------------------------------------------------------------------
# Process-wide controls and precedence
# ------------------------------------------------------------------------------------------------


def test_process_wide_kernel_strategy_reaches_new_contexts(runtime: Runtime) -> None:
    module = runtime.module()
    runtime.run(module)
    assert runtime.context_settings(module)[0] == "lazy"
    with rt.dynamic_shapes_kernel_strategy("eager"):
        assert rt.get_dynamic_shapes_kernel_strategy() == "eager"
        runtime.run(module)
        assert runtime.context_settings(module)[0] == "eager"
        created = runtime.contexts_created(module)
        runtime.run(module)
        assert runtime.contexts_created(module) == created, "no change: the context is reused"
    runtime.run(module)
    assert runtime.context_settings(module)[0] == "lazy"
    assert rt.get_dynamic_shapes_kernel_strategy() == "lazy"


def test_process_wide_cuda_graph_strategy(runtime: Runtime) -> None:
    module = runtime.module()
    # Eager kernels: a lazily specialised dynamic engine is never captured (one rule, both runtimes).
    with rt.dynamic_shapes_kernel_strategy("eager"), rt.cuda_graph_strategy("whole_graph_capture"):
        runtime.run(module)
        assert runtime.context_settings(module) == ("eager", "whole_graph_capture")
    runtime.run(module)
    assert runtime.context_settings(module) == ("lazy", "disabled")


def test_module_settings_win_over_process_defaults(runtime: Runtime) -> None:
    module, other = runtime.module(), runtime.module()
    with rt.dynamic_shapes_kernel_strategy("none"):
        with rt.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
            runtime.run(module)
            runtime.run(other)
            assert runtime.context_settings(module)[0] == "eager"
            assert runtime.context_settings(other)[0] == "none"
        runtime.run(module)
        assert runtime.context_settings(module)[0] == "none", "back to following the process default"
    assert runtime.engine(module).runtime_settings_override is None


def test_nested_blocks_restore_in_order(runtime: Runtime) -> None:
    module = runtime.module()
    engine = runtime.engine(module)
    with rt.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
        with rt.set_dynamic_shapes_kernel_strategy(module, "none"):
            runtime.run(module)
            assert runtime.context_settings(module)[0] == "none"
        runtime.run(module)
        assert runtime.context_settings(module)[0] == "eager"
        with (
            pytest.raises(RuntimeError, match="boom"),
            rt.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="none"),
        ):
            raise RuntimeError("boom")
        assert engine.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "eager"
    assert engine.runtime_settings_override is None


def test_settings_are_isolated_between_modules_sharing_engine_bytes(runtime: Runtime) -> None:
    a, b = runtime.module(), runtime.module()
    assert runtime.engine(a) is not runtime.engine(b)
    with rt.runtime_config(a, dynamic_shapes_kernel_specialization_strategy="eager"):
        runtime.run(a)
        runtime.run(b)
        assert runtime.context_settings(a)[0] == "eager"
        assert runtime.context_settings(b)[0] == "lazy"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: rt.runtime_config(m, dynamic_shapes_kernel_specialization_strategy="eagr"), ValueError),
        (lambda m: rt.runtime_config(m, cuda_graph_strategy="whole"), ValueError),
        (lambda m: rt.runtime_config(m, kernel_strategy="eager"), TypeError),
        (lambda m: rt.dynamic_shapes_kernel_strategy("Eager"), ValueError),
        (lambda m: rt.cuda_graph_strategy("on"), ValueError),
        (lambda m: rt.set_runtime_cache_path(3), TypeError),
    ],
    ids=["kernel", "graph", "unknown-field", "process-kernel", "process-graph", "cache-path-type"],
)
def test_typos_are_refused_and_change_nothing(runtime: Runtime, call, error) -> None:
    module = runtime.module()
    with pytest.raises(error):
        with call(module):
            pass
    assert runtime.engine(module).runtime_settings_override is None
    assert (rt.get_dynamic_shapes_kernel_strategy(), rt.get_cuda_graph_strategy()) == ("lazy", "disabled")


# ------------------------------------------------------------------------------------------------
# Runtime caches
# ------------------------------------------------------------------------------------------------


def test_process_wide_cache_path_is_shared_and_saved_on_release(runtime: Runtime, tmp_path: Path) -> None:
    shared = tmp_path / "missing" / "shared.cache"  # a parent directory that does not exist yet
    rt.set_runtime_cache_path(shared)
    assert rt.get_runtime_cache_path() == str(shared)
    a, b = runtime.module(), runtime.module()
    runtime.run(a, batch=2)
    runtime.run(b, batch=5)
    del a, b
    gc.collect()
    assert cache_lines(shared) >= {kernel_line(2)} or cache_lines(shared) >= {kernel_line(5)}


def test_cache_saved_when_module_is_deleted(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "own.cache"
    module = runtime.module()
    with rt.runtime_config(module, runtime_cache=str(path)):
        runtime.run(module, batch=3)
        assert not path.exists(), "nothing is written while the module runs"
    del module
    gc.collect()
    assert kernel_line(3) in cache_lines(path)


def test_nested_cache_blocks_keep_the_outer_file(runtime: Runtime, tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer.cache", tmp_path / "inner.cache"
    module = runtime.module()
    with rt.runtime_cache(module, outer) as outer_cache:
        runtime.run(module, batch=2)
        with rt.runtime_cache(module, inner):
            runtime.run(module, batch=4)
        assert kernel_line(4) in cache_lines(inner)
        assert runtime.engine(module).runtime_cache is outer_cache, "the outer cache is attached again"
        runtime.run(module, batch=6)
    lines = cache_lines(outer)
    assert {kernel_line(2), kernel_line(6)} <= lines


def test_autosave_false_writes_nothing_until_saved(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "manual.cache"
    module = runtime.module()
    with rt.runtime_cache(module, path, autosave=False) as cache:
        runtime.run(module, batch=2)
    del module
    gc.collect()
    assert not path.exists()
    assert cache.flush()
    assert kernel_line(2) in cache_lines(path)


def test_stream_cache_receives_the_kernels(runtime: Runtime) -> None:
    stream = io.BytesIO()
    module = runtime.module()
    with rt.runtime_cache(module, stream):
        runtime.run(module, batch=7)
    from torch_tensorrt.runtime._runtime_cache import decode

    payload = decode(stream.getvalue())
    assert kernel_line(7).encode() in payload


def test_module_cache_setting_in_memory_writes_no_file(runtime: Runtime, tmp_path: Path) -> None:
    rt.set_runtime_cache_path(tmp_path / "process.cache")
    module = runtime.module()
    runtime.engine(module).set_runtime_settings(RuntimeSettings(runtime_cache=""))
    runtime.run(module)
    del module
    gc.collect()
    assert not (tmp_path / "process.cache").exists(), "'' keeps the module's cache in memory"
