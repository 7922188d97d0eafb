"""Torch-TensorRT 2.14's public API surface, walked name by name: each exists, takes the same
parameters (names, order, defaults) and behaves, or differs in a way README's table explains.

The tables below were written from Torch-TensorRT's sources (main branch at 2.14.0a0: torch_tensorrt/
__init__.py, _compile.py, _enums.py, logging.py, dynamo/{__init__,_compiler,_settings,_defaults,
_tracer,_refit}.py, dynamo/debug, runtime/). REQUIRED marks a parameter without default.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import warnings
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._logging import DefaultStderrHandler, reset_warnings
from torch_tensorrt._trt import ENABLED_FEATURES, override_features, trt
from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo import _defaults as D
from torch_tensorrt.dynamo._engine_cache import BaseEngineCache

REQUIRED = inspect.Parameter.empty
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_one_time_warnings() -> None:
    reset_warnings()


def _info(segment: Any) -> Any:
    """The engine info of a TensorRT segment (TorchTensorRTModule)."""
    from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
    from torch_tensorrt.dynamo.runtime._execute_engine_op import join_engine_info

    return EngineInfo.from_list(join_engine_info(segment.serialized_engine, segment.engine_info))


class _Small(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x)) + 1

    def double(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * 2


# -- names -------------------------------------------------------------------------------------------

TOP_LEVEL_NAMES = [
    "Input", "Device", "DeviceType", "EngineCapability", "Platform", "dtype", "memory_format", "compile",
    "convert_method_to_trt_engine", "cross_compile_for_windows", "load_cross_compiled_exported_program",
    "save", "load", "logging", "dynamo", "runtime", "ENABLED_FEATURES", "MutableTorchTensorRTModule",
    "dump_build_info", "get_build_info", "set_device", "__version__", "__cuda_version__",
    # `from torch_tensorrt.runtime import *` in Torch-TensorRT's __init__:
    "TorchTensorRTModule", "enable_cudagraphs", "get_cudagraphs_mode", "get_whole_cudagraphs_mode",
    "set_cudagraphs_mode", "set_multi_device_safe_mode", "optimization_profile", "enable_output_allocator",
    "enable_pre_allocated_outputs", "RuntimeCache", "runtime_cache", "RuntimeSettings", "runtime_config",
    "set_dynamic_shapes_kernel_strategy", "weight_streaming",
]  # fmt: skip
DYNAMO_NAMES = [
    "compile", "convert_exported_program_to_serialized_trt_engine", "cross_compile_for_windows",
    "load_cross_compiled_exported_program", "save_cross_compiled_exported_program", "refit_module_weights",
    "CompilationSettings", "trace", "Debugger",
]  # fmt: skip
RUNTIME_NAMES = [
    "TorchTensorRTModule", "PythonTorchTensorRTModule", "enable_cudagraphs", "get_cudagraphs_mode",
    "get_whole_cudagraphs_mode", "set_cudagraphs_mode", "set_multi_device_safe_mode", "optimization_profile",
    "enable_output_allocator", "enable_pre_allocated_outputs", "RuntimeCache", "runtime_cache",
    "RuntimeSettings", "runtime_config", "set_dynamic_shapes_kernel_strategy", "weight_streaming",
]  # fmt: skip
LOGGING_NAMES = ["Level", "set_level", "debug", "info", "warnings", "errors", "internal_errors", "graphs"]
FEATURE_FIELDS = [
    "torchscript_frontend", "torch_tensorrt_runtime", "dynamo_frontend", "fx_frontend", "refit", "qdp_plugin",
    "windows_cross_compile", "tensorrt_rtx", "trtllm_for_nccl", "native_trt_collectives", "complex_decomposition",
]  # fmt: skip


@pytest.mark.parametrize(
    ("namespace", "names"),
    [
        (torch_tensorrt, TOP_LEVEL_NAMES),
        (torch_tensorrt.dynamo, DYNAMO_NAMES),
        (torch_tensorrt.runtime, RUNTIME_NAMES),
        (torch_tensorrt.logging, LOGGING_NAMES),
    ],
    ids=["torch_tensorrt", "dynamo", "runtime", "logging"],
)
def test_every_public_name_exists(namespace: Any, names: list[str]) -> None:
    missing = [n for n in names if not hasattr(namespace, n)]
    assert missing == []


def test_torch_tensorrt_logging_is_the_package_module_not_the_stdlib() -> None:
    assert torch_tensorrt.logging is not logging
    assert torch_tensorrt.logging.__name__ == "torch_tensorrt.logging"
    import torch_tensorrt.logging as imported

    assert imported is torch_tensorrt.logging


def test_enabled_features_fields_are_truthful() -> None:
    for name in FEATURE_FIELDS:
        assert isinstance(getattr(ENABLED_FEATURES, name), bool), name
    assert ENABLED_FEATURES.dynamo_frontend
    assert not ENABLED_FEATURES.torchscript_frontend and not ENABLED_FEATURES.fx_frontend
    assert ENABLED_FEATURES.refit  # refit_module_weights (on a GPU, or under emulated_runtime())
    assert not ENABLED_FEATURES.qdp_plugin
    assert ENABLED_FEATURES.tensorrt_rtx == (trt.__name__ == "tensorrt_rtx")
    if ENABLED_FEATURES.tensorrt_rtx and trt.__version__.startswith("1.7."):
        assert not ENABLED_FEATURES.windows_cross_compile  # its builder refuses WINDOWS_AMD64


def test_version_is_this_projects_and_consistent_with_the_builds() -> None:
    version = torch_tensorrt.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version) and version not in ("0.0.0", "0.1.0")
    module_bazel = (ROOT / "MODULE.bazel").read_text()
    assert re.search(r'version = "([^"]+)"', module_bazel).group(1) == version
    assert torch_tensorrt.__cuda_version__ == torch.version.cuda


# -- signatures --------------------------------------------------------------------------------------

P = inspect.Parameter
COMPILE_SETTINGS_PARAMS: list[tuple[str, Any]] = [
    ("device", None), ("disable_tf32", False), ("assume_dynamic_shape_support", False), ("sparse_weights", False),
    ("engine_capability", "STANDARD"), ("num_avg_timing_iters", 1), ("workspace_size", 0),
    ("dla_sram_size", 1048576), ("dla_local_dram_size", 1073741824), ("dla_global_dram_size", 536870912),
    ("truncate_double", False), ("use_complex_decomposition", D.USE_COMPLEX_DECOMPOSITION),
    ("require_full_compilation", False), ("min_block_size", 5), ("torch_executed_ops", None),
    ("torch_executed_modules", None), ("pass_through_build_failures", False), ("max_aux_streams", None),
    ("version_compatible", False), ("optimization_level", None), ("use_python_runtime", False),
    ("use_fast_partitioner", True), ("enable_experimental_decompositions", False), ("dryrun", False),
    ("hardware_compatible", False),
    ("timing_cache_path", os.path.join(tempfile.gettempdir(), "torch_tensorrt_engine_cache", "timing_cache.bin")),
    ("lazy_engine_init", False), ("cache_built_engines", False), ("reuse_cached_engines", False),
    ("engine_cache_dir", os.path.join(tempfile.gettempdir(), "torch_tensorrt_engine_cache")), ("engine_cache_size", 5368709120), ("custom_engine_cache", None),
    ("use_fp32_acc", False), ("refit_identical_engine_weights", False), ("strip_engine_weights", False),
    ("immutable_weights", True), ("enable_weight_streaming", False), ("tiling_optimization_level", "none"),
    ("l2_limit_for_tiling", -1), ("offload_module_to_cpu", False), ("use_distributed_mode_trace", False),
    ("enable_resource_partitioning", False), ("cpu_memory_budget", None), ("dynamically_allocate_resources", False),
    ("decompose_attention", False), ("disabled_constant_fold_exclusions", frozenset()), ("attn_bias_is_causal", True),
    ("fallback_data_dependent_ops", False),
]  # fmt: skip
AUTOCAST_PARAMS: list[tuple[str, Any]] = [
    ("enable_autocast", False), ("autocast_low_precision_type", None), ("autocast_excluded_nodes", frozenset()),
    ("autocast_excluded_ops", frozenset()), ("autocast_max_output_threshold", 512),
    ("autocast_max_depth_of_reduction", None), ("autocast_calibration_dataloader", None),
]  # fmt: skip
_EP_HEAD = [("exported_program", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("inputs", None, P.POSITIONAL_OR_KEYWORD),
            ("arg_inputs", None, P.KEYWORD_ONLY), ("kwarg_inputs", None, P.KEYWORD_ONLY)]  # fmt: skip


def _kw(params: list[tuple[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(n, d, P.KEYWORD_ONLY) for n, d in params]


SIGNATURES: dict[str, list[tuple[str, Any, Any]]] = {
    "compile": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("ir", "default", P.POSITIONAL_OR_KEYWORD),
                ("inputs", None, P.POSITIONAL_OR_KEYWORD), ("arg_inputs", None, P.POSITIONAL_OR_KEYWORD),
                ("kwarg_inputs", None, P.POSITIONAL_OR_KEYWORD), ("enabled_precisions", None, P.POSITIONAL_OR_KEYWORD)],
    "save": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("file_path", "", P.POSITIONAL_OR_KEYWORD),
             ("extra_files", None, P.KEYWORD_ONLY), ("output_format", "exported_program", P.KEYWORD_ONLY),
             ("inputs", None, P.KEYWORD_ONLY), ("arg_inputs", None, P.KEYWORD_ONLY), ("kwarg_inputs", None, P.KEYWORD_ONLY),
             ("retrace", True, P.KEYWORD_ONLY), ("use_legacy_exporter", None, P.KEYWORD_ONLY),
             ("pickle_protocol", 2, P.KEYWORD_ONLY), ("dynamic_shapes", None, P.KEYWORD_ONLY)],
    "load": [("file_path", "", P.POSITIONAL_OR_KEYWORD), ("extra_files", None, P.POSITIONAL_OR_KEYWORD),
             ("format", None, P.KEYWORD_ONLY)],
    "convert_method_to_trt_engine": [
        ("module", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("method_name", "forward", P.POSITIONAL_OR_KEYWORD),
        ("inputs", None, P.POSITIONAL_OR_KEYWORD), ("arg_inputs", None, P.POSITIONAL_OR_KEYWORD),
        ("kwarg_inputs", None, P.POSITIONAL_OR_KEYWORD), ("ir", "default", P.POSITIONAL_OR_KEYWORD),
        ("enabled_precisions", None, P.POSITIONAL_OR_KEYWORD)],
    "cross_compile_for_windows": [
        ("module", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("file_path", REQUIRED, P.POSITIONAL_OR_KEYWORD),
        ("inputs", None, P.POSITIONAL_OR_KEYWORD), ("arg_inputs", None, P.POSITIONAL_OR_KEYWORD),
        ("kwarg_inputs", None, P.POSITIONAL_OR_KEYWORD), ("enabled_precisions", None, P.POSITIONAL_OR_KEYWORD)],
    "load_cross_compiled_exported_program": [("file_path", "", P.POSITIONAL_OR_KEYWORD)],
    "dynamo.compile": _EP_HEAD + _kw(COMPILE_SETTINGS_PARAMS + AUTOCAST_PARAMS),
    "dynamo.convert_exported_program_to_serialized_trt_engine": _EP_HEAD + _kw(COMPILE_SETTINGS_PARAMS) + _kw(
        [("lift_mutable_buffers", False), ("arg_input_binding_names", None), ("kwarg_input_binding_names", None),
         ("output_binding_names", None)]),
    "dynamo.cross_compile_for_windows": _EP_HEAD + _kw(COMPILE_SETTINGS_PARAMS),
    "dynamo.save_cross_compiled_exported_program": [("gm", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                                                    ("file_path", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "dynamo.load_cross_compiled_exported_program": [("file_path", "", P.POSITIONAL_OR_KEYWORD)],
    "dynamo.trace": [("mod", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("inputs", None, P.POSITIONAL_OR_KEYWORD),
                     ("arg_inputs", None, P.KEYWORD_ONLY), ("kwarg_inputs", None, P.KEYWORD_ONLY)],
    "dynamo.refit_module_weights": [
        ("compiled_module", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("new_weight_module", REQUIRED, P.POSITIONAL_OR_KEYWORD),
        ("arg_inputs", None, P.POSITIONAL_OR_KEYWORD), ("kwarg_inputs", None, P.POSITIONAL_OR_KEYWORD),
        ("verify_output", False, P.POSITIONAL_OR_KEYWORD), ("in_place", False, P.POSITIONAL_OR_KEYWORD)],
    "dynamo.Debugger": [
        ("log_level", "debug", P.POSITIONAL_OR_KEYWORD), ("capture_fx_graph_before", None, P.POSITIONAL_OR_KEYWORD),
        ("capture_fx_graph_after", None, P.POSITIONAL_OR_KEYWORD), ("save_engine_profile", False, P.POSITIONAL_OR_KEYWORD),
        ("profile_format", "perfetto", P.POSITIONAL_OR_KEYWORD), ("engine_builder_monitor", True, P.POSITIONAL_OR_KEYWORD),
        ("logging_dir", D.DEBUG_LOGGING_DIR, P.POSITIONAL_OR_KEYWORD), ("save_layer_info", False, P.POSITIONAL_OR_KEYWORD)],
    "MutableTorchTensorRTModule": [
        ("pytorch_model", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("device", None, P.KEYWORD_ONLY),
        ("immutable_weights", False, P.KEYWORD_ONLY), ("strict", True, P.KEYWORD_ONLY),
        ("prefer_deferred_runtime_asserts_over_guards", False, P.KEYWORD_ONLY),
        ("weight_streaming_budget", None, P.KEYWORD_ONLY)],
    "Input.from_tensor": [("t", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                          ("disable_memory_format_check", False, P.POSITIONAL_OR_KEYWORD)],
    "Input.from_tensors": [("ts", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                           ("disable_memory_format_check", False, P.POSITIONAL_OR_KEYWORD)],
    "Input.example_tensor": [("optimization_profile_field", None, P.POSITIONAL_OR_KEYWORD)],
    "runtime.set_cudagraphs_mode": [("mode", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.set_multi_device_safe_mode": [("mode", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.get_cudagraphs_mode": [],
    "runtime.get_whole_cudagraphs_mode": [],
    "runtime.enable_cudagraphs": [("compiled_module", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                                  ("cuda_graph_strategy", None, P.KEYWORD_ONLY)],
    "runtime.enable_pre_allocated_outputs": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.enable_output_allocator": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.weight_streaming": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.optimization_profile": [("module", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                                     ("profile", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.runtime_config": [("target_or_targets", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "runtime.runtime_cache": [("target_or_targets", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                              ("path", "", P.POSITIONAL_OR_KEYWORD), ("autosave", True, P.POSITIONAL_OR_KEYWORD)],
    "runtime.set_dynamic_shapes_kernel_strategy": [("target_or_targets", REQUIRED, P.POSITIONAL_OR_KEYWORD),
                                                   ("strategy", REQUIRED, P.POSITIONAL_OR_KEYWORD)],
    "logging.set_level": [("level", REQUIRED, P.POSITIONAL_OR_KEYWORD), ("logger", None, P.POSITIONAL_OR_KEYWORD)],
    "runtime.TorchTensorRTModule.enable_profiling": [
        ("profiling_results_dir", None, P.POSITIONAL_OR_KEYWORD), ("profile_format", "perfetto", P.POSITIONAL_OR_KEYWORD)],
    "runtime.TorchTensorRTModule.disable_profiling": [],
}  # fmt: skip

# (api, parameter) -> why ours differs (README "Differences from Torch-TensorRT" says the same).
KNOWN_DIFFERENCES = {
    ("dynamo.compile", "use_python_runtime"): "None: the C++ runtime when loaded (Torch-TensorRT: deprecated, False)",
    ("dynamo.convert_exported_program_to_serialized_trt_engine", "use_python_runtime"): "as dynamo.compile",
    ("dynamo.cross_compile_for_windows", "use_python_runtime"): "as dynamo.compile",
}


def _resolve(api: str) -> Any:
    obj: Any = torch_tensorrt
    for part in api.split("."):
        obj = getattr(obj, part)
    return obj


def _same_default(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and hasattr(actual, "name") and not isinstance(actual, str):
        return actual.name == expected  # enum members, compared by name
    return bool(expected == actual)


def _differences(api: str, table: list[tuple[str, Any, Any]]) -> list[str]:
    params = list(inspect.signature(_resolve(api)).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    by_name = {p.name: p for p in params}
    has_var_kw = any(p.kind is P.VAR_KEYWORD for p in params)
    problems = []
    for index, (name, default, kind) in enumerate(table):
        if (api, name) in KNOWN_DIFFERENCES:
            continue
        ours = by_name.get(name)
        if ours is None:
            problems.append(f"{name}: missing" + (" (only through **kwargs)" if has_var_kw else ""))
            continue
        if kind is P.POSITIONAL_OR_KEYWORD and (params.index(ours) != index or ours.kind is not kind):
            problems.append(f"{name}: expected positional #{index}, found #{params.index(ours)} {ours.kind}")
        if not _same_default(default, ours.default):
            problems.append(f"{name}: default {ours.default!r}, Torch-TensorRT {default!r}")
    return problems


@pytest.mark.parametrize("api", sorted(SIGNATURES))
def test_signature_matches_torch_tensorrt(api: str) -> None:
    assert _differences(api, SIGNATURES[api]) == []


def test_known_signature_differences_are_still_differences() -> None:
    # A difference that went away must leave the allowlist (and README's table) too.
    for api, name in KNOWN_DIFFERENCES:
        table = dict((n, d) for n, d, _ in SIGNATURES[api])
        params = inspect.signature(_resolve(api)).parameters
        assert name not in params or not _same_default(table[name], params[name].default), (api, name)


def test_settings_have_every_torch_tensorrt_field_and_default() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(CompilationSettings)}
    settings = CompilationSettings()
    for name, default in COMPILE_SETTINGS_PARAMS + AUTOCAST_PARAMS:
        assert name in defaults, name
        value = getattr(settings, name)
        if name == "device":
            assert value.gpu_id == 0
        elif name in ("torch_executed_ops", "torch_executed_modules"):
            assert value == frozenset()
        elif name != "use_python_runtime":
            assert _same_default(default, value), name
    assert settings.enable_cross_compile_for_windows is False


# -- settings: each honoured, warned about, or refused ---------------------------------------------


class _NullEngineCache(BaseEngineCache):
    """A custom engine cache that stores nothing (custom_engine_cache must be a BaseEngineCache)."""

    def __init__(self) -> None:
        pass

    def save(self, hash: str, blob: bytes, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        pass

    def load(self, hash: str, *args: Any, **kwargs: Any) -> bytes | None:  # noqa: A002
        return None


# Field -> a non-default value and what it does. "builder": checked on a real IBuilderConfig below;
# "warn": a one-time UserWarning naming the field; "honoured": tested by its own test here or elsewhere.
SETTING_EFFECTS: dict[str, tuple[Any, str]] = {
    "enabled_precisions": ({torch.half}, "warn"),
    "min_block_size": (1, "honoured"),
    "torch_executed_ops": ({"torch.ops.aten.relu.default"}, "honoured"),
    "require_full_compilation": (True, "honoured"),
    "pass_through_build_failures": (True, "honoured"),
    "optimization_level": (1, "builder"),
    "workspace_size": (1 << 20, "builder"),
    "truncate_double": (True, "honoured"),
    "hardware_compatible": (True, "honoured"),
    "compute_capabilities": (("8.6",), "honoured"),
    "device": ("cuda:1", "honoured"),
    "use_python_runtime": (True, "honoured"),
    "max_aux_streams": (2, "builder"),
    "version_compatible": (True, "builder"),
    "debug": (True, "honoured"),
    "dryrun": (True, "honoured"),
    "use_explicit_typing": (False, "warn"),
    "lazy_engine_init": (True, "honoured"),
    "use_complex_decomposition": (not D.USE_COMPLEX_DECOMPOSITION, "warn"),
    "use_fast_partitioner": (False, "warn"),
    "enable_experimental_decompositions": (True, "warn"),
    "disable_tf32": (True, "builder"),
    "assume_dynamic_shape_support": (True, "honoured"),
    "sparse_weights": (True, "builder"),
    "engine_capability": ("SAFETY", "error"),
    "num_avg_timing_iters": (3, "builder"),
    "dla_sram_size": (1, "warn"),
    "dla_local_dram_size": (1, "warn"),
    "dla_global_dram_size": (1, "warn"),
    "timing_cache_path": ("/nonexistent/timing.bin", "builder"),
    "cache_built_engines": (True, "honoured"),  # tests/py/dynamo/test_engine_cache.py
    "reuse_cached_engines": (True, "honoured"),
    # Honoured with cache_built_engines/reuse_cached_engines; alone they cannot act and say so.
    "engine_cache_dir": ("/tmp/elsewhere", "warn"),
    "engine_cache_size": (1, "warn"),
    "custom_engine_cache": (_NullEngineCache(), "warn"),
    "use_fp32_acc": (True, "honoured"),
    "refit_identical_engine_weights": (True, "error"),  # needs immutable_weights=False (as upstream)
    "strip_engine_weights": (True, "warn"),  # with immutable_weights=True: nothing to strip
    "immutable_weights": (False, "builder"),
    "enable_weight_streaming": (True, "builder"),
    "enable_cross_compile_for_windows": (True, "honoured"),
    "tiling_optimization_level": ("full", "builder"),
    "l2_limit_for_tiling": (1 << 20, "builder"),
    "use_distributed_mode_trace": (True, "warn"),
    "offload_module_to_cpu": (True, "warn"),
    # Alone, each autocast option warns (enable_autocast without a low-precision type changes nothing,
    # as in Torch-TensorRT; the others need enable_autocast); together they are honoured by the
    # lowering pass (tests/py/lowering/test_autocast.py, tests/py/models/test_autocast_models.py).
    "enable_autocast": (True, "warn"),
    "autocast_low_precision_type": (torch.bfloat16, "warn"),
    "autocast_excluded_nodes": ({"^linear"}, "warn"),
    "autocast_excluded_ops": ({"torch.ops.aten.relu.default"}, "warn"),
    "autocast_max_output_threshold": (100.0, "warn"),
    "autocast_max_depth_of_reduction": (8, "warn"),
    "autocast_calibration_dataloader": ([(torch.randn(2, 3),)], "warn"),
    # Honoured by partitioning (tests/py/partitioning/test_memory_budget.py); the budget alone
    # cannot act and says so.
    "enable_resource_partitioning": (True, "honoured"),
    "cpu_memory_budget": (1 << 30, "warn"),
    "dynamically_allocate_resources": (True, "honoured"),
    "decompose_attention": (True, "honoured"),  # tests/py/lowering/test_decompose_attention.py
    "disabled_constant_fold_exclusions": ({"some_rule"}, "error"),
    "attn_bias_is_causal": (False, "honoured"),
    "fallback_data_dependent_ops": (True, "honoured"),
    "torch_executed_modules": (["Linear"], "warn"),
}


def test_every_setting_has_a_classified_effect() -> None:
    assert set(SETTING_EFFECTS) == set(CompilationSettings.field_names())


@pytest.mark.parametrize("name", sorted(n for n, (_, kind) in SETTING_EFFECTS.items() if kind == "warn"))
def test_setting_without_effect_warns_once_saying_why(name: str) -> None:
    value = SETTING_EFFECTS[name][0]
    with pytest.warns(UserWarning) as record:
        CompilationSettings(**{name: value})
    messages = [str(r.message) for r in record]
    assert any(name in m and ("no effect" in m or "not implemented" in m) for m in messages), messages
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CompilationSettings(**{name: value})  # once per process


@pytest.mark.parametrize("name", sorted(n for n, (_, kind) in SETTING_EFFECTS.items() if kind == "error"))
def test_setting_that_cannot_be_honoured_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        CompilationSettings(**{name: SETTING_EFFECTS[name][0]})


def test_defaults_say_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CompilationSettings()
        CompilationSettings.from_kwargs(device=None, torch_executed_ops=None, enabled_precisions=None)


def test_autocast_is_honoured_when_enabled_with_a_low_precision_type() -> None:
    from torch_tensorrt.dynamo.lowering import lower_exported_program

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = CompilationSettings(enable_autocast=True, autocast_low_precision_type=torch_tensorrt.dtype.bf16)
    assert s.autocast_low_precision_type == torch.bfloat16
    lowered = lower_exported_program(torch.export.export(_Small(), (torch.randn(2, 3),)), s)
    linear = next(n for n in lowered.graph.nodes if n.target == torch.ops.aten.linear.default)
    assert linear.meta["val"].dtype == torch.bfloat16
    with pytest.raises(ValueError, match="autocast_low_precision_type"):
        CompilationSettings(autocast_low_precision_type=torch.int8)


def _builder_config(**settings: Any) -> Any:
    from torch_tensorrt._trt_logger import TRT_LOGGER
    from torch_tensorrt.dynamo.conversion._builder_config import apply_builder_settings

    config = trt.Builder(TRT_LOGGER).create_builder_config()
    apply_builder_settings(config, CompilationSettings(**settings))
    return config


def test_builder_flags_reach_the_tensorrt_builder_config() -> None:
    flag = trt.BuilderFlag
    assert _builder_config(sparse_weights=True).get_flag(flag.SPARSE_WEIGHTS)
    assert not _builder_config(sparse_weights=False).get_flag(flag.SPARSE_WEIGHTS)
    assert _builder_config().get_flag(flag.TF32) and not _builder_config(disable_tf32=True).get_flag(flag.TF32)
    assert _builder_config(enable_weight_streaming=True).get_flag(flag.WEIGHT_STREAMING)
    refittable = _builder_config(immutable_weights=False)
    assert refittable.get_flag(flag.REFIT) and not _builder_config().get_flag(flag.REFIT)
    identical = _builder_config(immutable_weights=False, refit_identical_engine_weights=True)
    assert identical.get_flag(flag.REFIT_IDENTICAL) and not identical.get_flag(flag.REFIT)
    with pytest.warns(UserWarning, match="cannot run until they are refitted"):
        stripped = _builder_config(immutable_weights=False, strip_engine_weights=True)
    assert stripped.get_flag(flag.STRIP_PLAN)


def test_tiling_and_timing_settings_reach_the_builder_config() -> None:
    config = _builder_config(tiling_optimization_level="moderate", l2_limit_for_tiling=1 << 20)
    assert config.tiling_optimization_level == trt.TilingOptimizationLevel.MODERATE
    assert config.l2_limit_for_tiling == 1 << 20
    assert _builder_config().tiling_optimization_level == trt.TilingOptimizationLevel.NONE
    if ENABLED_FEATURES.tensorrt_rtx:
        with pytest.warns(UserWarning, match="num_avg_timing_iters has no effect on TensorRT-RTX"):
            config = _builder_config(num_avg_timing_iters=3)
    else:
        config = _builder_config(num_avg_timing_iters=3)
    assert config.avg_timing_iterations == 3
    with pytest.raises(ValueError, match="tiling_optimization_level"):
        CompilationSettings(tiling_optimization_level="fastest")


@pytest.mark.skipif(not ENABLED_FEATURES.tensorrt_rtx, reason="TensorRT-RTX behaviour")
def test_version_compatible_and_timing_cache_warn_on_tensorrt_rtx() -> None:
    with pytest.warns(UserWarning) as record:
        config = _builder_config(version_compatible=True, timing_cache_path="/nonexistent/t.bin")
    assert not config.get_flag(trt.BuilderFlag.VERSION_COMPATIBLE)  # its builder would refuse it
    messages = [str(r.message) for r in record]
    assert any("version_compatible=True has no effect on TensorRT-RTX" in m and "lean runtime" in m for m in messages)
    assert any("timing_cache_path has no effect on TensorRT-RTX" in m for m in messages)
    assert not os.path.exists("/nonexistent/t.bin")


def test_build_settings_run_through_a_real_build() -> None:
    # The flags TensorRT-RTX builds without a GPU, in one engine build (refit needs CUDA to build).
    compiled = torch_tensorrt.compile(
        _Small(), inputs=[torch.randn(2, 3)], min_block_size=1, sparse_weights=True, disable_tf32=True,
        enable_weight_streaming=True, tiling_optimization_level="fast", l2_limit_for_tiling=1 << 20,
        optimization_level=1, pass_through_build_failures=True,
    )  # fmt: skip
    assert compiled._compile_summary.num_engines == 1


def test_deprecated_spellings_are_translated_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="truncate_long_and_double"):
        assert CompilationSettings.from_kwargs(truncate_long_and_double=True).truncate_double
    with pytest.warns(DeprecationWarning, match="make_refittable"):
        assert not CompilationSettings.from_kwargs(make_refittable=True).immutable_weights
    with pytest.warns(DeprecationWarning, match="refit"):
        assert not CompilationSettings.from_kwargs(refit=True).immutable_weights
    with pytest.raises(ValueError, match="conflicts"):
        CompilationSettings.from_kwargs(refit=True, immutable_weights=True)


def test_unknown_setting_names_the_closest_one() -> None:
    with pytest.raises(TypeError, match="did you mean 'sparse_weights'"):
        CompilationSettings.from_kwargs(sparse_weight=True)


def test_compile_refuses_cross_compile_flag_as_torch_tensorrt_does() -> None:
    with pytest.raises(ValueError, match="cross_compile_for_windows"):
        torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], enable_cross_compile_for_windows=True)


def test_assume_dynamic_shape_support_uses_converters_without_dynamic_support() -> None:
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import ConverterRegistry

    registry = ConverterRegistry()
    registry.register(torch.ops.aten.relu.default, lambda *a: None, supports_dynamic_shapes=False)
    program = torch_tensorrt.dynamo.trace(
        torch.nn.ReLU(), arg_inputs=[torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3))]
    )
    node = next(n for n in program.graph.nodes if n.target == torch.ops.aten.relu.default)
    assert registry.find(node, CompilationSettings())[0] is None
    assert registry.find(node, CompilationSettings(assume_dynamic_shape_support=True))[0] is not None


def test_use_fp32_acc_runs_half_matmuls_in_float32() -> None:
    from torch_tensorrt.dynamo.lowering import lower_exported_program

    model = _Small().half()
    program = torch.export.export(model, (torch.randn(2, 3).half(),))
    lowered = lower_exported_program(program, CompilationSettings(use_fp32_acc=True))
    linear = next(n for n in lowered.graph.nodes if n.target == torch.ops.aten.linear.default)
    assert all(a.meta["val"].dtype == torch.float32 for a in linear.args)
    (user,) = linear.users
    assert user.target == torch.ops.aten._to_copy.default and user.meta["val"].dtype == torch.float16
    plain = lower_exported_program(program, CompilationSettings())
    assert not any(n.target == torch.ops.aten._to_copy.default for n in plain.graph.nodes)


def test_engine_info_records_dynamic_allocation_and_windows_target() -> None:
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    compiled = torch_tensorrt.compile(
        _Small(), inputs=[torch.randn(2, 3)], min_block_size=1, dynamically_allocate_resources=True
    )
    (engine,) = [m for m in compiled.modules() if isinstance(m, TorchTensorRTModule)]
    assert _info(engine).resource_allocation_strategy == "dynamic"
    from torch_tensorrt.dynamo.runtime._segment_info import engine_info_for_segment

    class _Converted:
        name, engine, inputs, outputs = (
            "seg",
            b"x",
            [],
            [type("B", (), {"name": "out", "dtype": torch.float32, "symbolic_shape": (2,)})()],
        )

    info = engine_info_for_segment(_Converted(), CompilationSettings(enable_cross_compile_for_windows=True))
    assert info.target_platform == "windows_x86_64"


def test_dryrun_path_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "dryrun.txt"
    torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_block_size=1, dryrun=str(report))
    assert "ops converted to TensorRT" in report.read_text()


# -- Input -------------------------------------------------------------------------------------------


def test_input_shape_ranges_form() -> None:
    spec = torch_tensorrt.Input(shape=(-1, -1, 3), shape_ranges=[((1, 2, 3), (2, 4, 3), (4, 8, 3))])
    assert spec.is_dynamic() and spec.dynamic_dims() == [0, 1]
    assert (spec.min_shape, spec.opt_shape, spec.max_shape) == ((1, 2, 3), (2, 4, 3), (4, 8, 3))
    with pytest.raises(ValueError, match="does not match shape_ranges"):
        torch_tensorrt.Input(shape=(-1, 5), shape_ranges=[((1, 3), (2, 3), (4, 3))])


def test_input_unknown_keyword_warns_with_the_closest_valid_one() -> None:
    with pytest.warns(UserWarning, match="min_shpe.*did you mean 'min_shape'") as record:
        torch_tensorrt.Input(shape=(2, 3), min_shpe=(1, 3))
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_tensorrt.Input(shape=(2, 3), min_shpe=(1, 3))


def test_input_torch_tensor_defaults_to_an_example_at_the_opt_shape() -> None:
    # As Torch-TensorRT: harnesses read spec.torch_tensor without having given one.
    dynamic = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3), dtype=torch.float16)
    assert dynamic.torch_tensor.shape == (2, 3) and dynamic.torch_tensor.dtype == torch.float16
    assert dynamic.torch_tensor is dynamic.torch_tensor  # made once, then kept
    assert torch_tensorrt.Input(shape=(5,), dtype=torch.int32).torch_tensor.shape == (5,)
    given = torch.arange(6.0).reshape(2, 3)
    assert (
        torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3), torch_tensor=given).torch_tensor
        is given
    )


def test_input_shape_tensor_is_a_1d_tensor_of_its_values() -> None:
    # Implemented (tests/py/runtime/test_shape_tensor_inputs.py): no "not implemented" warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = torch_tensorrt.Input(
            min_shape=(1, 2), opt_shape=(3, 4), max_shape=(5, 6), dtype=torch.int64, is_shape_tensor=True
        )
    assert spec.is_shape_tensor and spec.shape == (2,)
    assert spec.shape_tensor_values == ((1, 2), (3, 4), (5, 6))
    assert spec.example_tensor().tolist() == [3, 4] and spec.example_tensor("max_shape").tolist() == [5, 6]


def test_input_accepts_torch_tensorrt_dtypes_formats_and_domains() -> None:
    spec = torch_tensorrt.Input((2, 3), dtype=torch_tensorrt.dtype.half, format=torch_tensorrt.memory_format.linear)
    assert spec.dtype == torch.float16 and spec.format == torch.contiguous_format
    ints = torch_tensorrt.Input(shape=(1000,), dtype=torch.int32, tensor_domain=(3, 7)).example_tensor()
    assert int(ints.min()) >= 3 and int(ints.max()) < 7
    floats = torch_tensorrt.Input(shape=(1000,), tensor_domain=(-1.0, -0.5)).example_tensor()
    assert float(floats.min()) >= -1.0 and float(floats.max()) < -0.5
    with pytest.raises(ValueError, match="tensor_domain"):
        torch_tensorrt.Input(shape=(2,), tensor_domain=(2, 1))


def test_input_profiles_one_or_several_ranges() -> None:
    spec = torch_tensorrt.Input(profiles=[{"min_shape": (1, 3), "opt_shape": (2, 3), "max_shape": (4, 3)}])
    assert spec.max_shape == (4, 3) and len(spec.profiles) == 1
    two = [{"min_shape": (1, 3), "opt_shape": (1, 3), "max_shape": (1, 3)},
           {"min_shape": (4, 3), "opt_shape": (8, 3), "max_shape": (16, 3)}]  # fmt: skip
    several = torch_tensorrt.Input(profiles=two)
    # Traced over the envelope of the profiles, opt from the first (Torch-TensorRT's rule).
    assert (several.min_shape, several.opt_shape, several.max_shape) == ((1, 3), (1, 3), (16, 3))
    assert [p["max_shape"] for p in several.profiles] == [(1, 3), (16, 3)]


def test_shared_dims_make_one_export_dim() -> None:
    from torch_tensorrt.dynamo._tracer import _dynamic_shapes

    shape = namedtuple("shape", ["batch", "seq"])
    a = torch_tensorrt.Input(min_shape=shape(1, 4), opt_shape=shape(2, 4), max_shape=shape(8, 4))
    b = torch_tensorrt.Input(min_shape=(1, 5), opt_shape=(2, 5), max_shape=(8, 5), shared_dims={0: "batch"})
    assert a.shared_dims == {0: "batch"}
    dims = _dynamic_shapes([a, b])
    assert dims[0][0] is dims[1][0]
    c = torch_tensorrt.Input(min_shape=(1, 5), opt_shape=(2, 5), max_shape=(9, 5), shared_dims={0: "batch"})
    with pytest.raises(ValueError, match="shared dim 'batch'"):
        _dynamic_shapes([a, c])
    with pytest.raises(ValueError, match="static"):
        torch_tensorrt.Input(min_shape=(1, 5), opt_shape=(2, 5), max_shape=(8, 5), shared_dims={1: "seq"})


# -- trace, summary ----------------------------------------------------------------------------------


def test_trace_takes_plain_tensors_and_reports_options_without_effect() -> None:
    x = torch.randn(2, 3)
    for program in (
        torch_tensorrt.dynamo.trace(_Small(), arg_inputs=[x]),
        torch_tensorrt.dynamo.trace(_Small(), [x]),
        torch_tensorrt.dynamo.trace(_Small(), arg_inputs=x),
    ):
        assert isinstance(program, torch.export.ExportedProgram)
    with pytest.warns(UserWarning, match="trace\\(device=.*no effect"):
        torch_tensorrt.dynamo.trace(_Small(), arg_inputs=[x], device="cuda:0")


def test_compile_summary_to_json_is_json() -> None:
    compiled = torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_block_size=1)
    data = json.loads(compiled._compile_summary.to_json())
    assert data["converted_ops"]["torch.ops.aten.relu.default"] == 1 and len(data["engines"]) == 1


# -- entry points ------------------------------------------------------------------------------------


def test_serialized_engine_is_the_engine_the_builder_built() -> None:
    from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS

    built: list[bytes] = []
    NETWORK_BUILD_OBSERVERS.append(lambda b: built.append(b.engine))
    try:
        x = torch.randn(2, 3)
        engine = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
            torch.export.export(_Small(), (x,)), arg_inputs=[x]
        )
        method = torch_tensorrt.convert_method_to_trt_engine(_Small(), "double", inputs=[x])
    finally:
        NETWORK_BUILD_OBSERVERS.pop()
    assert isinstance(engine, bytes) and built == [engine, method]


def test_serialized_engine_needs_every_op_in_tensorrt() -> None:
    x = torch.randn(2, 3)
    with pytest.raises(Exception, match="relu"):
        torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
            torch.export.export(_Small(), (x,)), arg_inputs=[x], torch_executed_ops={"torch.ops.aten.relu.default"}
        )


class _StateCounter(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("state", torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.state.add_(x)
        return self.state.sum()


def test_serialized_engine_lift_mutable_buffers_is_honoured_with_torch_tensorrts_refusal() -> None:
    # Implemented (tests/py/dynamo/test_lift_mutable_buffers.py); as Torch-TensorRT, a write TensorRT cannot
    # perform in place is a RuntimeError naming the buffer, and TorchTensorRTModule takes aliased_io.
    x = torch.ones(4)
    with pytest.raises(RuntimeError, match="cannot express the write-back") as info:
        torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
            torch.export.export(_StateCounter(), (x,)), arg_inputs=[x], lift_mutable_buffers=True, min_block_size=1
        )
    assert "['state']" in str(info.value)
    parameter = inspect.signature(torch_tensorrt.runtime.TorchTensorRTModule.__init__).parameters["aliased_io"]
    assert parameter.default is None and parameter.kind is inspect.Parameter.KEYWORD_ONLY


def test_cross_compile_for_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.randn(2, 3)
    program = torch.export.export(_Small(), (x,))
    if not ENABLED_FEATURES.windows_cross_compile:
        with pytest.raises(NotImplementedError, match="WINDOWS_AMD64"):
            torch_tensorrt.dynamo.cross_compile_for_windows(program, arg_inputs=[x])
    # The rest of the path with a builder that accepts the target (the engine itself stays Linux's).
    from torch_tensorrt.dynamo.conversion import _builder_config

    monkeypatch.setattr(_builder_config, "set_windows_target", lambda config: None)
    with override_features(windows_cross_compile=True):
        gm = torch_tensorrt.dynamo.cross_compile_for_windows(program, arg_inputs=[x], min_block_size=1)
    (segment,) = [m for m in gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
    assert _info(segment).target_platform == "windows_x86_64"
    path = tmp_path / "windows.pt2"
    torch_tensorrt.dynamo.save_cross_compiled_exported_program(gm, str(path))
    with pytest.raises(ValueError, match="windows_x86_64"):
        torch_tensorrt.load(path)
    with pytest.raises(ValueError, match="loads on Windows only"):
        torch_tensorrt.load_cross_compiled_exported_program(str(path))


def test_refit_and_mutable_module_refuse_what_they_cannot_use() -> None:
    with pytest.raises(TypeError, match="ExportedProgram"):
        torch_tensorrt.dynamo.refit_module_weights(None, None)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        torch_tensorrt.MutableTorchTensorRTModule(None)  # type: ignore[arg-type]
    mutable = torch_tensorrt.MutableTorchTensorRTModule(_Small(), min_block_size=1)
    assert not mutable.settings.immutable_weights and mutable.gm is None  # refittable, compiled on first call


@pytest.mark.parametrize("output_format", ["aot_inductor", "executorch"])
def test_formats_that_cannot_exist_here_list_the_supported_ones(output_format: str, tmp_path: Path) -> None:
    compiled = torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_block_size=1)
    with pytest.raises(ValueError, match="Supported formats: exported_program, torchscript"):
        torch_tensorrt.save(compiled, str(tmp_path / "m"), output_format=output_format)
    with pytest.raises(ValueError, match="executorch"):
        torch_tensorrt.load(str(tmp_path / "m"), format="executorch")


def test_save_and_load_carry_extra_files(tmp_path: Path) -> None:
    x = torch.randn(2, 3)
    compiled = torch_tensorrt.compile(_Small(), inputs=[x], min_block_size=1)
    path = tmp_path / "m.pt2"
    torch_tensorrt.save(compiled, str(path), inputs=[x], extra_files={"notes.txt": "hello"})
    extra = {"notes.txt": ""}
    torch_tensorrt.load(str(path), extra_files=extra)
    assert extra == {"notes.txt": "hello"}
    with pytest.warns(UserWarning, match="retrace=False"):
        torch_tensorrt.save(compiled, str(path), inputs=[x], retrace=False)


# -- runtime controls --------------------------------------------------------------------------------


def test_runtime_blocks_keep_results_and_say_what_they_do() -> None:
    from torch_tensorrt.testing import emulated_runtime

    x = torch.randn(2, 3)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(_Small(), inputs=[x], min_block_size=1)
        expected = compiled(x)
        for block in (
            torch_tensorrt.runtime.enable_pre_allocated_outputs,
            torch_tensorrt.runtime.enable_output_allocator,
        ):
            with pytest.warns(UserWarning, match="no effect"), block(compiled):
                torch.testing.assert_close(compiled(x), expected)
        with torch_tensorrt.runtime.optimization_profile(compiled, 0) as module:
            torch.testing.assert_close(module(x), expected)
        with (
            pytest.raises(ValueError, match="has 1 optimization profile "),
            torch_tensorrt.runtime.optimization_profile(compiled, 1),
        ):
            pass
        # Budgets need engines built with enable_weight_streaming=True (tests/py/runtime/test_profiles_and_budgets.py).
        with (
            torch_tensorrt.runtime.weight_streaming(compiled) as ws,
            pytest.raises(RuntimeError, match="enable_weight_streaming"),
        ):
            ws.device_budget = 1 << 20
    assert torch_tensorrt.runtime.get_whole_cudagraphs_mode() is False


def test_python_module_name_covers_segments_the_python_runtime_runs() -> None:
    runtime = torch_tensorrt.runtime
    compiled = torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_block_size=1)
    (segment,) = [m for m in compiled.modules() if isinstance(m, runtime.TorchTensorRTModule)]
    assert isinstance(segment, runtime.PythonTorchTensorRTModule) == (not segment.runs_in_cpp())
    python = runtime.PythonTorchTensorRTModule(_info(segment))
    assert isinstance(python, runtime.PythonTorchTensorRTModule) and not python.runs_in_cpp()


# -- logging and debugging ---------------------------------------------------------------------------

LEVEL_BLOCKS = {
    "internal_errors": logging.CRITICAL, "errors": logging.ERROR, "warnings": logging.WARNING,
    "info": logging.INFO, "debug": logging.DEBUG, "graphs": 5,
}  # fmt: skip


@pytest.mark.parametrize("block", sorted(LEVEL_BLOCKS))
def test_logging_blocks_set_and_restore_the_levels(block: str) -> None:
    logger = logging.getLogger("torch_tensorrt")
    fallback = next(h for h in logger.handlers if isinstance(h, DefaultStderrHandler))
    cpp = torch.ops.tensorrt if ENABLED_FEATURES.torch_tensorrt_runtime else None
    before = (logger.level, fallback.level, cpp.get_logging_level() if cpp else None)
    with getattr(torch_tensorrt.logging, block)():
        assert logger.getEffectiveLevel() == LEVEL_BLOCKS[block]
        assert fallback.level == min(LEVEL_BLOCKS[block], logging.WARNING)
        if cpp is not None:
            expected = {"internal_errors": 0, "errors": 1, "warnings": 2, "info": 3, "debug": 4, "graphs": 5}[block]
            assert cpp.get_logging_level() == expected
    assert (logger.level, fallback.level, cpp.get_logging_level() if cpp else None) == before


def test_set_level_takes_python_levels_and_refuses_others() -> None:
    logger = logging.getLogger("torch_tensorrt")
    saved = logger.level
    try:
        torch_tensorrt.logging.set_level(logging.INFO)
        assert logger.level == logging.INFO and torch_tensorrt.logging.get_level() is torch_tensorrt.logging.Level.Info
        torch_tensorrt.logging.set_level(logging.NOTSET)
        assert logger.level == torch_tensorrt.logging.Level.Graph
        with pytest.raises(ValueError, match="unknown logging level"):
            torch_tensorrt.logging.set_level(7)
    finally:
        torch_tensorrt.logging.set_level(logging.WARNING)
        logger.setLevel(saved)


def test_debug_block_reaches_a_user_who_configured_no_logging() -> None:
    script = (
        "import logging, torch_tensorrt\n"
        "log = logging.getLogger('torch_tensorrt.user')\n"
        "log.debug('hidden-before')\n"
        "with torch_tensorrt.logging.debug():\n"
        "    log.debug('shown-inside')\n"
        "log.debug('hidden-after')\n"
        "log.warning('warning-after')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "shown-inside" in done.stderr and "warning-after" in done.stderr
    assert "hidden-before" not in done.stderr and "hidden-after" not in done.stderr


def test_debugger_logs_to_its_directory_and_captures_pass_graphs(tmp_path: Path) -> None:
    logger = logging.getLogger("torch_tensorrt")
    handlers, level = list(logger.handlers), logger.level
    with torch_tensorrt.dynamo.Debugger("debug", logging_dir=str(tmp_path), capture_fx_graph_after=["remove_noop_ops"]):
        torch_tensorrt.compile(_Small(), inputs=[torch.randn(2, 3)], min_block_size=1)
    assert (logger.handlers, logger.level) == (handlers, level)
    log = (tmp_path / "torch_tensorrt_logging.log").read_text()
    assert "DEBUG" in log
    assert "graph()" in (tmp_path / "lowering_passes_visualization" / "after_remove_noop_ops.txt").read_text()
    with pytest.raises(ValueError, match="Invalid level"):
        torch_tensorrt.dynamo.Debugger("verbose")


# -- enums and build info ----------------------------------------------------------------------------


def test_enums_convert_like_torch_tensorrts() -> None:
    import numpy as np

    dt = torch_tensorrt.dtype
    assert dt._from(torch.float16) is dt.f16 and dt.half is dt.f16 and dt.float is dt.f32
    assert dt.f16.to(torch.dtype) == torch.float16 and dt.f16.to(trt.DataType) == trt.DataType.HALF
    assert dt.i32.to(np.dtype) == np.dtype("int32") and dt._from(np.float32) is dt.f32
    assert dt.f16 == torch.float16 and dt.try_from(torch.complex64) is None
    cap = torch_tensorrt.EngineCapability
    assert cap.STANDARD.to(trt.EngineCapability) == trt.EngineCapability.STANDARD
    assert cap._from(trt.EngineCapability.SAFETY) is cap.SAFETY
    assert torch_tensorrt.DeviceType.GPU.to(trt.DeviceType) == trt.DeviceType.GPU
    assert torch_tensorrt.memory_format._from(torch.channels_last) is torch_tensorrt.memory_format.hwc


def test_build_info_and_set_device(capsys: pytest.CaptureFixture[str]) -> None:
    torch_tensorrt.dump_build_info()
    out = capsys.readouterr().out
    assert torch_tensorrt.__version__ in out and torch.__version__ in out
    with pytest.raises(ValueError, match="gpu_id"):
        torch_tensorrt.set_device(-1)


# -- README --------------------------------------------------------------------------------------------


def test_readme_table_covers_every_setting_and_difference() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Differences from Torch-TensorRT") :]
    missing = [name for name in CompilationSettings.field_names() if f"`{name}`" not in section]
    assert missing == []
    for needed in ("aot_inductor", "PythonTorchTensorRTModule", "MutableTorchTensorRTModule", "refit_module_weights"):
        assert needed in section
