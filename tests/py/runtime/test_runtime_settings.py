"""RuntimeSettings: validation on every backend, merging, backend resolution, C++ enum mapping."""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from torch_tensorrt import _trt
from torch_tensorrt.runtime._runtime_cache import RuntimeCache, default_cache_location, is_default_runtime_cache
from torch_tensorrt.runtime._settings import (
    CUDA_GRAPH_STRATEGIES,
    DYNAMIC_SHAPES_KERNEL_STRATEGIES,
    CudaGraphStrategy,
    DynamicShapesKernelStrategy,
    RuntimeSettings,
    effective_for_backend,
    reset_backend_warnings,
)

BACKENDS = pytest.mark.parametrize("rtx", [True, False], ids=["tensorrt_rtx", "standard_tensorrt"])


@pytest.fixture(autouse=True)
def _fresh_warning_state():
    reset_backend_warnings()
    yield
    reset_backend_warnings()


def test_defaults():
    s = RuntimeSettings()
    assert s.dynamic_shapes_kernel_specialization_strategy == "lazy"
    assert s.cuda_graph_strategy == "disabled"
    # As in Torch-TensorRT, a str naming the per-user default location (here a directory holding
    # one file per engine), told apart from the same path given explicitly.
    assert isinstance(s.runtime_cache, str)
    assert s.runtime_cache == str(default_cache_location())
    assert is_default_runtime_cache(s.runtime_cache)
    assert not is_default_runtime_cache(str(s.runtime_cache))
    assert s.non_default_fields() == ()
    assert RuntimeSettings(runtime_cache=None).non_default_fields() == ("runtime_cache",)


def test_constants():
    assert DYNAMIC_SHAPES_KERNEL_STRATEGIES == ("lazy", "eager", "none")
    assert CUDA_GRAPH_STRATEGIES == ("disabled", "whole_graph_capture")


def test_frozen_and_hashable():
    s = RuntimeSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.cuda_graph_strategy = "whole_graph_capture"  # type: ignore[misc]
    assert hash(s) == hash(RuntimeSettings())
    assert s == RuntimeSettings()


def test_merge_returns_new_validated_copy():
    s = RuntimeSettings()
    m = s.merge(
        dynamic_shapes_kernel_specialization_strategy="eager",
        runtime_cache="/tmp/x.bin",
    )
    assert m is not s
    assert m.dynamic_shapes_kernel_specialization_strategy == "eager"
    assert m.runtime_cache == "/tmp/x.bin"
    assert m.cuda_graph_strategy == "disabled"
    assert s == RuntimeSettings()  # original untouched
    assert m.merge() == m
    with pytest.raises(ValueError, match="'disabled', 'whole_graph_capture'"):
        s.merge(cuda_graph_strategy="whole_graph")


def test_merge_unknown_key_lists_valid_keys():
    with pytest.raises(TypeError) as info:
        RuntimeSettings().merge(cuda_graph_strategies="disabled", bogus=1)
    message = str(info.value)
    assert "bogus" in message and "cuda_graph_strategies" in message
    for name in RuntimeSettings.field_names():
        assert name in message


@BACKENDS
@pytest.mark.parametrize(
    ("field", "bad", "valid"),
    [
        (
            "dynamic_shapes_kernel_specialization_strategy",
            "lazzy",
            DYNAMIC_SHAPES_KERNEL_STRATEGIES,
        ),
        (
            "dynamic_shapes_kernel_specialization_strategy",
            "LAZY",
            DYNAMIC_SHAPES_KERNEL_STRATEGIES,
        ),
        (
            "dynamic_shapes_kernel_specialization_strategy",
            None,
            DYNAMIC_SHAPES_KERNEL_STRATEGIES,
        ),
        ("cuda_graph_strategy", "whole_graph", CUDA_GRAPH_STRATEGIES),
        ("cuda_graph_strategy", 1, CUDA_GRAPH_STRATEGIES),
    ],
)
def test_unknown_strategy_raises_on_every_backend(rtx, field, bad, valid):
    with _trt.override_features(tensorrt_rtx=rtx):
        with pytest.raises(ValueError) as info:
            RuntimeSettings(**{field: bad})
        with pytest.raises(ValueError):
            RuntimeSettings().merge(**{field: bad})
    message = str(info.value)
    assert field in message and repr(bad) in message
    for name in valid:
        assert repr(name) in message


@given(st.text(max_size=30).filter(lambda s: s not in DYNAMIC_SHAPES_KERNEL_STRATEGIES))
def test_any_other_kernel_strategy_name_is_rejected(name):
    with pytest.raises(ValueError, match="valid values"):
        RuntimeSettings(dynamic_shapes_kernel_specialization_strategy=name)


def test_runtime_cache_type_checked(tmp_path):
    RuntimeSettings(runtime_cache=str(tmp_path / "a"))
    RuntimeSettings(runtime_cache=tmp_path / "a")
    RuntimeSettings(runtime_cache=RuntimeCache(None))
    with pytest.raises(TypeError, match="runtime_cache"):
        RuntimeSettings(runtime_cache=42)  # type: ignore[arg-type]


def test_rtx_backend_keeps_settings_without_warning():
    s = RuntimeSettings("eager", "whole_graph_capture", "/tmp/cache.bin")
    with _trt.override_features(tensorrt_rtx=True), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert effective_for_backend(s) is s
        assert s.effective_for_backend(strict=True) is s


def test_standard_tensorrt_warns_once_and_uses_defaults():
    s = RuntimeSettings("eager", "whole_graph_capture", Path("/tmp/cache.bin"))
    with _trt.override_features(tensorrt_rtx=False):
        with pytest.warns(UserWarning, match="TensorRT-RTX") as record:
            effective = effective_for_backend(s)
        assert effective == RuntimeSettings()
        assert len(record) == 1
        message = str(record[0].message)
        for name in RuntimeSettings.field_names():
            assert name in message
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # second time: silent
            assert effective_for_backend(s) == RuntimeSettings()
            assert s.effective_for_backend() == RuntimeSettings()
        reset_backend_warnings()
        with pytest.warns(UserWarning, match="TensorRT-RTX"):
            effective_for_backend(s)


def test_standard_tensorrt_defaults_are_silent_and_strict_raises():
    with _trt.override_features(tensorrt_rtx=False):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert effective_for_backend(RuntimeSettings()) == RuntimeSettings()
        with pytest.raises(
            RuntimeError,
            match="cuda_graph_strategy='whole_graph_capture'.*TensorRT-RTX",
        ):
            effective_for_backend(RuntimeSettings(cuda_graph_strategy="whole_graph_capture"), strict=True)


def test_standard_tensorrt_warns_for_a_newly_seen_setting():
    with _trt.override_features(tensorrt_rtx=False):
        with pytest.warns(UserWarning):
            effective_for_backend(RuntimeSettings(cuda_graph_strategy="whole_graph_capture"))
        with pytest.warns(UserWarning, match="dynamic_shapes_kernel_specialization_strategy='none'") as record:
            effective_for_backend(RuntimeSettings("none", "whole_graph_capture"))
        assert "cuda_graph_strategy" in str(record[0].message)  # the full picture is named


def test_enum_values_are_the_cpp_contract():
    assert {m.strategy_name: int(m) for m in DynamicShapesKernelStrategy} == {
        "lazy": 0,
        "eager": 1,
        "none": 2,
    }
    assert {m.strategy_name: int(m) for m in CudaGraphStrategy} == {
        "disabled": 0,
        "whole_graph_capture": 1,
    }
    assert RuntimeSettings().to_enums() == (0, 0)
    assert RuntimeSettings("none", "whole_graph_capture").to_enums() == (2, 1)


def test_enum_round_trip():
    for kernel, graph in itertools.product(DYNAMIC_SHAPES_KERNEL_STRATEGIES, CUDA_GRAPH_STRATEGIES):
        s = RuntimeSettings(kernel, graph)
        assert RuntimeSettings.from_enums(*s.to_enums()) == s
    cache = RuntimeCache(None)
    assert RuntimeSettings.from_enums(1, 0, cache).runtime_cache is cache


@pytest.mark.parametrize(("kernel", "graph"), [(3, 0), (-1, 0), (0, 2)])
def test_unknown_enum_values_raise(kernel, graph):
    with pytest.raises(ValueError, match="valid values"):
        RuntimeSettings.from_enums(kernel, graph)


def test_enum_from_name():
    assert DynamicShapesKernelStrategy.from_name("none") is DynamicShapesKernelStrategy.NONE
    assert CudaGraphStrategy.from_name("whole_graph_capture") is CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
    with pytest.raises(ValueError, match="'lazy', 'eager', 'none'"):
        DynamicShapesKernelStrategy.from_name("fast")
