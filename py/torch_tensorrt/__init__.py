"""torch_tensorrt: compile PyTorch models into TensorRT(-RTX) engines (Torch-TensorRT compatible API)."""

from __future__ import annotations

from torch_tensorrt import _trt
from torch_tensorrt._Device import Device
from torch_tensorrt._Input import Input
from torch_tensorrt._logging import install_default_handler
from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt._version import __version__

# WARNING+ reaches stderr until the application configures logging (see _logging).
install_default_handler()


def _load_cpp_runtime() -> bool:
    """Load the C++ runtime extension when it was built; the Python runtime serves otherwise."""
    import importlib

    try:
        importlib.import_module("torch_tensorrt._C")
    except ImportError:
        return False
    return _trt._cpp_runtime_loaded()


ENABLED_FEATURES.torch_tensorrt_runtime = _load_cpp_runtime()

from torch_tensorrt import dynamo, runtime  # noqa: E402
from torch_tensorrt._compile import compile, load, save  # noqa: E402
from torch_tensorrt.dynamo import backend as _backend  # noqa: E402,F401  (torch.compile backends)
from torch_tensorrt.dynamo.runtime import _execute_engine_op  # noqa: E402,F401  (registers the op)

if ENABLED_FEATURES.torch_tensorrt_runtime:
    # A torch_tensorrt._C built from other sources than this package would misread saved engines.
    _execute_engine_op.check_cpp_runtime_layout()

# isort: split
# --- The rest of Torch-TensorRT's top-level names (issue 19) ------------------------------------
# `torch_tensorrt.logging` is this package's logging module (never Python's stdlib module).
from torch_tensorrt import logging  # noqa: E402
from torch_tensorrt._build_utils import (  # noqa: E402,E501
    __cuda_version__,
    __tensorrt_version__,
    dump_build_info,
    get_build_info,
    set_device,
)
from torch_tensorrt._compile import (  # noqa: E402
    convert_method_to_trt_engine,
    cross_compile_for_windows,
    load_cross_compiled_exported_program,
)
from torch_tensorrt._enums import DeviceType, EngineCapability, Platform, dtype, memory_format  # noqa: E402
from torch_tensorrt.dynamo.runtime._MutableTorchTensorRTModule import MutableTorchTensorRTModule  # noqa: E402
from torch_tensorrt.runtime import (  # noqa: E402  (Torch-TensorRT star-imports its runtime package)
    PythonTorchTensorRTModule,
    RuntimeCache,
    RuntimeSettings,
    TorchTensorRTModule,
    enable_cudagraphs,
    enable_output_allocator,
    enable_pre_allocated_outputs,
    get_cudagraphs_mode,
    get_whole_cudagraphs_mode,
    optimization_profile,
    runtime_cache,
    runtime_config,
    set_cudagraphs_mode,
    set_dynamic_shapes_kernel_strategy,
    set_multi_device_safe_mode,
    weight_streaming,
)

__all__ = [
    "ENABLED_FEATURES",
    "Device",
    "DeviceType",
    "EngineCapability",
    "Input",
    "MutableTorchTensorRTModule",
    "Platform",
    "PythonTorchTensorRTModule",
    "RuntimeCache",
    "RuntimeSettings",
    "TorchTensorRTModule",
    "__cuda_version__",
    "__tensorrt_version__",
    "__version__",
    "compile",
    "convert_method_to_trt_engine",
    "cross_compile_for_windows",
    "dtype",
    "dump_build_info",
    "dynamo",
    "enable_cudagraphs",
    "enable_output_allocator",
    "enable_pre_allocated_outputs",
    "get_build_info",
    "get_cudagraphs_mode",
    "get_whole_cudagraphs_mode",
    "load",
    "load_cross_compiled_exported_program",
    "logging",
    "memory_format",
    "optimization_profile",
    "runtime",
    "runtime_cache",
    "runtime_config",
    "save",
    "set_cudagraphs_mode",
    "set_device",
    "set_dynamic_shapes_kernel_strategy",
    "set_multi_device_safe_mode",
    "weight_streaming",
]
