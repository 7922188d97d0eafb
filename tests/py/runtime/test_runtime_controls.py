"""Runtime-control context managers on compiled programs, run through the emulated runtime.

An execution context is (re)created only when the settings it was built with change; the emulated
engine records every context with its ContextOptions, so each test counts recreations exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from _controls_testing import backend_fixture, example, fresh, fresh_warnings_fixture  # noqa: F401 - fixtures

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.runtime import (
    RuntimeSettings,
    enable_cudagraphs,
    engines_of,
    get_cudagraphs_mode,
    get_multi_device_safe_mode,
    runtime_config,
    set_cudagraphs_mode,
    set_dynamic_shapes_kernel_strategy,
    set_multi_device_safe_mode,
)

KERNEL = "dynamic_shapes_kernel_specialization_strategy"


def run(module: torch.nn.Module, kind: str = "linear") -> Any:
    with torch.no_grad():
        return module(example(kind))


def strategies(engine: Any) -> list[str]:
    """The kernel strategy of every context the engine created, oldest first."""
    return [c.options.kernel_strategy for c in engine.engine().contexts]


@pytest.mark.parametrize("rtx", [True, False], ids=["tensorrt_rtx", "standard_tensorrt"])
@pytest.mark.parametrize(
    "overrides",
    [{KERNEL: "eagr"}, {KERNEL: "EAGER"}, {"cuda_graph_strategy": "whole_graph"}],
    ids=["kernel_typo", "kernel_case", "graph_typo"],
)
def test_typo_raises_value_error_and_changes_nothing(backend: Any, rtx: bool, overrides: dict[str, str]) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with _trt.override_features(tensorrt_rtx=rtx):
        with pytest.raises(ValueError, match="valid values: 'lazy', 'eager', 'none'|valid values: 'disabled'"):
            with runtime_config(module, **overrides):
                pytest.fail("the block must not run")
        assert engine.runtime_settings == RuntimeSettings()
        run(module)
    assert engine.contexts_created == 1


@pytest.mark.parametrize("rtx", [True, False], ids=["tensorrt_rtx", "standard_tensorrt"])
def test_typo_in_other_context_managers(backend: Any, rtx: bool) -> None:
    module = fresh("linear")
    with _trt.override_features(tensorrt_rtx=rtx):
        with pytest.raises(ValueError, match="eagr"):
            set_dynamic_shapes_kernel_strategy(module, "eagr").__enter__()
        with pytest.raises(ValueError, match="whole_graph"):
            with enable_cudagraphs(module, cuda_graph_strategy="whole_graph"):
                pass
    assert not get_cudagraphs_mode()
    assert engines_of(module)[0].runtime_settings == RuntimeSettings()


def test_unknown_key_raises_type_error_listing_valid_keys(backend: Any) -> None:
    module = fresh("linear")
    with pytest.raises(
        TypeError, match="kernel_strategy.*valid settings: dynamic_shapes_kernel_specialization_strategy"
    ):
        with runtime_config(module, kernel_strategy="eager"):
            pass
    assert engines_of(module)[0].runtime_settings == RuntimeSettings()


def test_defaults_reach_the_context(backend: Any) -> None:
    module = fresh("linear")
    run(module)
    (engine,) = engines_of(module)
    (context,) = engine.engine().contexts
    assert engine.runtime_settings == RuntimeSettings()
    assert (context.options.kernel_strategy, context.options.cuda_graph_strategy) == ("lazy", "disabled")
    assert context.options.use_runtime_cache  # TensorRT-RTX: each engine has its default cache file


def test_override_restores_and_recreates_once_per_real_change(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    run(module)
    with runtime_config(module, **{KERNEL: "eager"}) as yielded:
        assert yielded is module  # as in Torch-TensorRT: the module, to call or to pass on
        assert engine.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "eager"
        run(module)
        run(module)
    assert engine.runtime_settings == RuntimeSettings()
    run(module)
    run(module)
    assert engine.contexts_created == 3
    assert strategies(engine) == ["lazy", "eager", "lazy"]


def test_no_op_changes_recreate_nothing(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    run(module)
    with runtime_config(module, **{KERNEL: "lazy"}, cuda_graph_strategy="disabled"):
        run(module)
    with runtime_config(module):
        run(module)
    with set_dynamic_shapes_kernel_strategy(module, "none"):
        pass  # changed and restored without a run in between: the context still matches
    run(module)
    assert engine.contexts_created == 1


def test_nesting_restores_each_level(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)

    def current() -> str:
        return engine.runtime_settings.dynamic_shapes_kernel_specialization_strategy

    with set_dynamic_shapes_kernel_strategy(module, "eager"):
        run(module)
        with runtime_config(module, **{KERNEL: "none"}, cuda_graph_strategy="whole_graph_capture"):
            run(module)
            assert current() == "none"
        assert engine.runtime_settings == RuntimeSettings(dynamic_shapes_kernel_specialization_strategy="eager")
        run(module)
    assert current() == "lazy"
    run(module)
    assert strategies(engine) == ["eager", "none", "eager", "lazy"]


def test_exception_in_block_restores_settings(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with pytest.raises(KeyError):
        with runtime_config(module, **{KERNEL: "eager"}):
            run(module)
            raise KeyError("boom")
    assert engine.runtime_settings == RuntimeSettings()
    run(module)
    assert strategies(engine) == ["eager", "lazy"]


def test_list_of_modules(backend: Any) -> None:
    linear, mixed = fresh("linear"), fresh("mixed")
    engines = engines_of([linear, mixed])
    assert len(engines) == 3  # one engine in the linear program, two around bessel_j0
    with runtime_config([linear, mixed], **{KERNEL: "none"}):
        run(linear)
        run(mixed, "mixed")
    for engine in engines:
        assert engine.runtime_settings == RuntimeSettings()
        assert strategies(engine) == ["none"]


def test_standard_tensorrt_warns_once_and_keeps_defaults(backend: Any, fresh_warnings: None) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with _trt.override_features(tensorrt_rtx=False):
        with pytest.warns(UserWarning, match="TensorRT-RTX features"):
            with runtime_config(module, **{KERNEL: "eager"}):
                run(module)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # reported once per process, not per block
            with runtime_config(module, **{KERNEL: "eager"}):
                run(module)
    (context,) = engine.engine().contexts  # nothing changed on standard TensorRT: one context
    assert context.options.kernel_strategy == "lazy"
    assert not context.options.use_runtime_cache


def test_engines_of_accepts_programs_and_rejects_other_things(backend: Any, tmp_path: Any) -> None:
    module = fresh("linear")
    torch_tensorrt.save(module, tmp_path / "linear.pt2")
    program = torch_tensorrt.load(tmp_path / "linear.pt2")
    (from_program,) = engines_of(program)
    assert engines_of(program) == [from_program]  # the same engine object every time
    with runtime_config(program, **{KERNEL: "eager"}):
        with torch.no_grad():
            program.module()(example("linear"))
    assert strategies(from_program) == ["eager"]
    with pytest.raises(TypeError, match="int"):
        engines_of(3)
    with pytest.raises(ValueError, match="no TensorRT engines"):
        engines_of(torch.nn.ReLU())


@pytest.mark.parametrize(
    ("setter", "getter"),
    [(set_cudagraphs_mode, get_cudagraphs_mode), (set_multi_device_safe_mode, get_multi_device_safe_mode)],
    ids=["cudagraphs", "multi_device_safe"],
)
def test_mode_plain_call_and_context_manager(setter: Any, getter: Any) -> None:
    assert getter() is False
    try:
        setter(True)  # a plain call sets the mode and keeps it
        assert getter() is True
        if _trt.ENABLED_FEATURES.torch_tensorrt_runtime:  # the C++ runtime follows
            assert getattr(torch.ops.tensorrt, getter.__name__)() is True
        with setter(False):
            assert getter() is False
            with setter(True):
                assert getter() is True
            assert getter() is False
        assert getter() is True
        with pytest.raises(RuntimeError):
            with setter(False):
                raise RuntimeError
        assert getter() is True
        with pytest.raises(TypeError, match="bool"):
            setter(1)
        assert getter() is True
    finally:
        setter(False)
    assert getter() is False
    if _trt.ENABLED_FEATURES.torch_tensorrt_runtime:
        assert getattr(torch.ops.tensorrt, getter.__name__)() is False


def test_enable_cudagraphs_restores_mode_and_strategy(backend: Any) -> None:
    module = fresh("linear")
    (engine,) = engines_of(module)
    with pytest.raises(KeyError):
        with enable_cudagraphs(module, cuda_graph_strategy="whole_graph_capture") as graphed:
            assert get_cudagraphs_mode()
            assert engine.runtime_settings.cuda_graph_strategy == "whole_graph_capture"
            run(graphed)
            raise KeyError("boom")
    assert not get_cudagraphs_mode()
    assert engine.runtime_settings == RuntimeSettings()
