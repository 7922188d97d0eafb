"""The per-module runtime controls match Torch-TensorRT 2.14's ``torch_tensorrt.runtime`` API (issue 17
item 10): names and signatures, argument errors raised when called with Torch-TensorRT's exception
types, and the behaviours, each run on the Python engine and on the C++ engine
(``torch.classes.tensorrt.Engine``) over the mirrored fake backends of _contract_runtimes.py.
"""

from __future__ import annotations

import copy
import gc
import inspect
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import torch
from _contract_runtimes import (  # noqa: F401 - fixtures
    CACHE_MAGIC,
    Runtime,
    kernel_line,
    process_defaults_fixture,
    runtime_fixture,
)
from test_cpp_runtime import cpp_fake, fake_backend_library  # noqa: F401 - fixtures

import torch_tensorrt
from torch_tensorrt import runtime as rt
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._compiled_graph_module import CompiledGraphModule, as_compiled_graph_module
from torch_tensorrt.runtime import RuntimeCache, RuntimeSettings
from torch_tensorrt.runtime._runtime_cache import decode, default_cache_location

pytestmark = pytest.mark.filterwarnings("ignore::torch_tensorrt.runtime._runtime_cache.RuntimeCacheWarning")

KERNEL = "dynamic_shapes_kernel_specialization_strategy"


@pytest.fixture(autouse=True)
def _process_defaults_restored(process_defaults_restored: None) -> None:
    pass


@pytest.fixture(name="cache_dir")
def cache_dir_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "default_runtime_cache"
    monkeypatch.setenv("TORCH_TENSORRT_CACHE_DIR", str(directory))
    return directory


def kernels(payload: bytes) -> set[str]:
    assert payload.startswith(CACHE_MAGIC), payload[:20]
    return {line for line in payload[len(CACHE_MAGIC) :].decode().splitlines() if line}


def file_kernels(path: Path) -> set[str]:
    return kernels(decode(path.read_bytes()))


class _TwoSegments(torch.nn.Module):
    """adder → PyTorch op → adder: a compiled program with two TensorRT segments."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._run_on_acc_0 = runtime.module()
        self._run_on_acc_1 = runtime.module()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._run_on_acc_0(x, x)
        return self._run_on_acc_1(y, torch.neg(x))


class _SegmentTracer(torch.fx.Tracer):
    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return isinstance(m, TorchTensorRTModule) or super().is_leaf_module(m, qualname)


def compiled_program(runtime: Runtime) -> CompiledGraphModule:
    root = _TwoSegments(runtime)
    return as_compiled_graph_module(torch.fx.GraphModule(root, _SegmentTracer().trace(root)))


def segments(module: torch.nn.Module) -> list[TorchTensorRTModule]:
    return [m for m in module.modules() if isinstance(m, TorchTensorRTModule)]


# ------------------------------------------------------------------------------------------------
# Names and signatures
# ------------------------------------------------------------------------------------------------


def test_public_names() -> None:
    for name in (
        "RuntimeCache",
        "RuntimeSettings",
        "enable_cudagraphs",
        "get_cudagraphs_mode",
        "runtime_cache",
        "runtime_config",
        "set_cudagraphs_mode",
        "set_dynamic_shapes_kernel_strategy",
        "set_multi_device_safe_mode",
    ):
        assert hasattr(rt, name), name
    assert isinstance(TorchTensorRTModule.runtime_settings, property)
    assert TorchTensorRTModule.runtime_settings.fset is not None
    assert CompiledGraphModule.runtime_settings.fset is not None


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_signatures() -> None:
    empty, kw, pos = inspect.Parameter.empty, inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    init = _parameters(RuntimeCache.__init__)
    assert init[:3] == [("self", pos, empty), ("path", pos, ""), ("autosave_on_del", pos, False)]
    assert _parameters(RuntimeCache.save)[1:] == [("path", pos, None)]
    assert _parameters(RuntimeCache.load)[1:] == [("path", pos, None)]
    assert [p[0] for p in _parameters(RuntimeCache.save_to_stream)] == ["self", "stream"]
    assert [p[0] for p in _parameters(RuntimeCache.load_from_stream)] == ["self", "stream"]
    assert [p[0] for p in _parameters(RuntimeCache.has_cache)] == ["self"]
    assert [p[0] for p in _parameters(RuntimeCache.is_cpp_runtime)] == ["self"]
    assert _parameters(rt.runtime_cache) == [
        ("target_or_targets", pos, empty),
        ("path", pos, ""),
        ("autosave", pos, True),
    ]
    assert _parameters(rt.runtime_config)[0] == ("target_or_targets", pos, empty)
    assert _parameters(rt.runtime_config)[1][1] == inspect.Parameter.VAR_KEYWORD
    assert [p[0] for p in _parameters(rt.set_dynamic_shapes_kernel_strategy)] == ["target_or_targets", "strategy"]
    assert _parameters(rt.enable_cudagraphs) == [("compiled_module", pos, empty), ("cuda_graph_strategy", kw, None)]
    fields = [(f.name, f.default) for f in RuntimeSettings.__dataclass_fields__.values()]
    assert fields[:2] == [(KERNEL, "lazy"), ("cuda_graph_strategy", "disabled")]
    assert fields[2][0] == "runtime_cache"


def test_default_settings_name_the_per_user_cache_path(cache_dir: Path) -> None:
    settings = RuntimeSettings()
    assert isinstance(settings.runtime_cache, str) and settings.runtime_cache == str(cache_dir)
    assert settings == RuntimeSettings() and settings.merge(cuda_graph_strategy="disabled") == settings
    assert str(default_cache_location()) == str(cache_dir)
    assert not cache_dir.exists(), "naming the default location creates nothing"


def test_runtime_cache_path_is_kept_as_given(tmp_path: Path) -> None:
    assert RuntimeCache().path == "" and RuntimeCache("").path == ""
    assert RuntimeCache("relative/kernels.bin").path == "relative/kernels.bin"
    given = RuntimeCache(tmp_path / "k.bin", autosave_on_del=True)
    assert given.path == str(tmp_path / "k.bin") and type(given.path) is str and given.autosave_on_del
    assert RuntimeCache().autosave_on_del is False
    assert not given.has_cache()
    assert given.is_cpp_runtime() == torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime
    with pytest.raises(TypeError):
        RuntimeCache(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Argument errors: raised when called, with Torch-TensorRT's exception types
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: rt.runtime_config(m, not_a_field=1), TypeError),
        (lambda m: rt.runtime_config(m, **{KERNEL: "eagr"}), ValueError),
        (lambda m: rt.runtime_config(m, cuda_graph_strategy="whole"), ValueError),
        (lambda m: rt.set_dynamic_shapes_kernel_strategy(m, "fast"), ValueError),
        (lambda m: rt.runtime_cache(m, 42), TypeError),
        (lambda m: rt.runtime_cache(torch.nn.ReLU(), ""), RuntimeError),
        (lambda m: rt.enable_cudagraphs(m, cuda_graph_strategy="always"), ValueError),
        (lambda m: RuntimeSettings(**{KERNEL: "Lazy"}), ValueError),
        (lambda m: RuntimeSettings().merge(not_a_field=1), TypeError),
        (lambda m: setattr(m, "runtime_settings", {KERNEL: "eager"}), TypeError),
    ],
    ids=[
        "unknown-field",
        "kernel",
        "graph",
        "kernel-sugar",
        "cache-path-type",
        "no-engines",
        "cudagraphs",
        "settings",
        "merge",
        "settings-type",
    ],
)
def test_argument_errors_are_raised_when_called(call: Any, error: type[Exception]) -> None:
    module = TorchTensorRTModule(_adder_info(), use_python_runtime=True)
    with pytest.raises(error):
        call(module)  # no ``with``: the error comes from the call itself
    assert module.engine.runtime_settings_override is None


def _adder_info() -> Any:
    from _contract_runtimes import adder_info

    return adder_info()


# ------------------------------------------------------------------------------------------------
# module.runtime_settings
# ------------------------------------------------------------------------------------------------


def test_module_runtime_settings_reach_the_engine(runtime: Runtime) -> None:
    module = runtime.module()
    assert module.runtime_settings == RuntimeSettings()
    module.runtime_settings = RuntimeSettings(**{KERNEL: "eager"}, cuda_graph_strategy="disabled")
    assert "runtime_settings" not in vars(module), "a property, not a plain attribute"
    runtime.run(module)
    assert runtime.context_settings(module) == ("eager", "disabled")
    assert module.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "eager"
    assert module.engine.num_execution_contexts_created() == 1, "settings given before the first run"
    module.runtime_settings = None  # back to the process-wide defaults
    with rt.dynamic_shapes_kernel_strategy("none"):
        runtime.run(module)
        assert runtime.context_settings(module)[0] == "none"
        assert module.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "none"
    assert module.engine.num_execution_contexts_created() == 2


def test_compiled_program_runtime_settings_reach_every_segment(runtime: Runtime) -> None:
    program = compiled_program(runtime)
    first, second = segments(program)
    x = torch.full((2, 3), 1.5)
    program.runtime_settings = RuntimeSettings(**{KERNEL: "eager"})
    assert "runtime_settings" not in vars(program)
    assert torch.equal(program(x), x * 2 - x)
    assert runtime.context_settings(first)[0] == runtime.context_settings(second)[0] == "eager"
    assert program.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "eager"
    copied = copy.deepcopy(program)
    assert isinstance(copied, CompiledGraphModule) and torch.equal(copied(x), program(x))
    first.runtime_settings = RuntimeSettings(**{KERNEL: "none"})
    with pytest.raises(ValueError, match="different settings"):
        _ = program.runtime_settings
    program.runtime_settings = None
    assert program.runtime_settings == RuntimeSettings()
    assert first.engine.runtime_settings_override is None and second.engine.runtime_settings_override is None


def test_num_execution_contexts_created(runtime: Runtime) -> None:
    module = runtime.module()
    engine = module.engine
    assert engine.num_execution_contexts_created() == 0
    runtime.run(module)
    runtime.run(module)
    assert engine.num_execution_contexts_created() == 1
    module.runtime_settings = RuntimeSettings(**{KERNEL: "eager"})
    runtime.run(module)
    assert engine.num_execution_contexts_created() == 2, "a change recreates the context once"


# ------------------------------------------------------------------------------------------------
# runtime_config and enable_cudagraphs
# ------------------------------------------------------------------------------------------------


def test_runtime_config_yields_the_modules(runtime: Runtime) -> None:
    a, b = runtime.module(), runtime.module()
    with rt.runtime_config(a, **{KERNEL: "eager"}) as yielded:
        assert yielded is a
        with rt.enable_cudagraphs(yielded) as graphed:
            x = torch.ones(2, 3)
            assert torch.equal(graphed(x, x), x * 2)
        assert runtime.context_settings(a)[0] == "eager"
    with rt.runtime_config([a, b], **{KERNEL: "none"}) as pair:
        assert pair == (a, b)
    with rt.set_dynamic_shapes_kernel_strategy(a, "none") as same:
        assert same is a


def test_cudagraphs_on_a_dynamic_engine_with_default_settings(runtime: Runtime) -> None:
    module = runtime.module()  # dynamic batch dimension, lazy kernel strategy
    assert module.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "lazy"
    with rt.enable_cudagraphs(module) as graphed:
        for batch in (2, 5, 2):
            x = torch.full((batch, 3), 0.5)
            assert torch.equal(graphed(x, x), x * 2)


# ------------------------------------------------------------------------------------------------
# RuntimeCache
# ------------------------------------------------------------------------------------------------


def test_handle_given_in_settings_saves_only_when_asked(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "mine.bin"
    module = runtime.module()
    cache = RuntimeCache(str(path))
    module.runtime_settings = RuntimeSettings(runtime_cache=cache)
    runtime.run(module, batch=3)
    assert cache.save() and kernel_line(3) in file_kernels(path), "save() collects the live kernels"
    assert cache.has_cache()
    other = tmp_path / "elsewhere" / "copy.bin"
    assert cache.save(str(other)) and file_kernels(other) == file_kernels(path)
    path.unlink()
    runtime.run(module, batch=4)
    del module
    gc.collect()
    assert not path.exists(), "autosave_on_del=False: the user saves"


def test_handle_with_autosave_on_del_saves_itself(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "auto.bin"
    module = runtime.module()
    module.runtime_settings = RuntimeSettings(runtime_cache=RuntimeCache(path=str(path), autosave_on_del=True))
    runtime.run(module, batch=6)
    assert not path.exists()
    del module
    gc.collect()
    assert kernel_line(6) in file_kernels(path)


def test_stream_round_trip(runtime: Runtime) -> None:
    first = runtime.module()
    cache = RuntimeCache()
    first.runtime_settings = RuntimeSettings(runtime_cache=cache)
    runtime.run(first, batch=3)
    stream = io.BytesIO()
    written = cache.save_to_stream(stream)
    assert written == len(stream.getvalue()) > 0
    assert kernels(decode(stream.getvalue())) == {kernel_line(3)}
    assert RuntimeCache().save_to_stream(io.BytesIO()) == 0, "nothing to save"

    second = runtime.module()
    loaded = RuntimeCache()
    stream.seek(0)
    assert loaded.load_from_stream(stream) == written
    assert loaded.load_from_stream(io.BytesIO()) == 0
    second.runtime_settings = RuntimeSettings(runtime_cache=loaded)
    runtime.run(second, batch=5)
    again = io.BytesIO()
    loaded.save_to_stream(again)
    assert kernels(decode(again.getvalue())) == {kernel_line(3), kernel_line(5)}, "the context started from them"


def test_runtime_cache_block_with_a_stream_keeps_path_empty(runtime: Runtime) -> None:
    module = runtime.module()
    stream = io.BytesIO()
    with rt.runtime_cache(module, stream) as cache:
        assert cache.path == ""
        runtime.run(module, batch=7)
    assert kernel_line(7) in kernels(decode(stream.getvalue()))
    with rt.runtime_cache(module) as memory:
        assert memory.path == ""


def test_cache_is_saved_when_swapped_out(runtime: Runtime, tmp_path: Path) -> None:
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    module = runtime.module()
    module.runtime_settings = RuntimeSettings(runtime_cache=str(first))
    runtime.run(module, batch=2)
    assert not first.exists(), "nothing is written while the cache is in use"
    module.runtime_settings = RuntimeSettings(runtime_cache=str(second))
    assert kernel_line(2) in file_kernels(first), "saved when swapped out, before any further run"
    with rt.runtime_config(module, runtime_cache=str(first)):
        runtime.run(module, batch=4)
    assert kernel_line(4) in file_kernels(first), "and when a block's cache is swapped back out"


def test_none_opts_out_of_the_cache_file(runtime: Runtime, cache_dir: Path) -> None:
    module = runtime.module()
    module.runtime_settings = RuntimeSettings(runtime_cache=None)
    runtime.run(module)
    del module
    gc.collect()
    assert not cache_dir.exists() or not any(cache_dir.iterdir())


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_save_into_a_missing_directory_creates_it_private(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "kernels.bin"
    module = runtime.module()
    module.runtime_settings = RuntimeSettings(runtime_cache=str(path))
    runtime.run(module, batch=2)
    module.runtime_settings = None  # swapped out: saved now
    assert kernel_line(2) in file_kernels(path)
    for directory in (path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_handle_save_creates_missing_directories_private(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "kernels.bin"
    cache = RuntimeCache(str(path))
    cache.update(CACHE_MAGIC + b"k\n")
    assert cache.save()
    assert file_kernels(path) == {"k"}
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
