"""Runtime mode controls for compiled programs (never serialized into engines).

- :class:`RuntimeSettings`: dynamic-shapes kernel specialization strategy ("lazy", "eager",
  "none"), native CUDA-graph strategy ("disabled", "whole_graph_capture"), runtime cache.
- Process-wide defaults (precedence: runtime/_defaults.py): :func:`dynamic_shapes_kernel_strategy`,
  :func:`cuda_graph_strategy`, :func:`set_runtime_cache_path` and their getters.
- Context managers: :func:`runtime_config`, :func:`set_dynamic_shapes_kernel_strategy`,
  :func:`runtime_cache`, :func:`enable_cudagraphs`; modes: :func:`set_cudagraphs_mode`,
  :func:`get_cudagraphs_mode`, :func:`set_multi_device_safe_mode`.
"""

from torch_tensorrt.runtime._controls import (
    enable_cudagraphs,
    engines_of,
    runtime_cache,
    runtime_config,
    set_dynamic_shapes_kernel_strategy,
)
from torch_tensorrt.runtime._cudagraphs import CaptureDecision, decide_capture
from torch_tensorrt.runtime._defaults import (
    cuda_graph_strategy,
    dynamic_shapes_kernel_strategy,
    get_cuda_graph_strategy,
    get_dynamic_shapes_kernel_strategy,
    get_runtime_cache_path,
    runtime_cache_path,
    set_runtime_cache_path,
)
from torch_tensorrt.runtime._modes import (
    get_cudagraphs_mode,
    get_multi_device_safe_mode,
    set_cudagraphs_mode,
    set_multi_device_safe_mode,
)
from torch_tensorrt.runtime._runtime_cache import RuntimeCache
from torch_tensorrt.runtime._settings import RuntimeSettings

# isort: split
# --- Torch-TensorRT compatibility names (issue 19): output-allocation blocks, profiles, weight
# streaming, whole-graph mode; TorchTensorRTModule/PythonTorchTensorRTModule load on first use.
from torch_tensorrt.runtime._compat import (
    enable_output_allocator,
    enable_pre_allocated_outputs,
    get_whole_cudagraphs_mode,
    lazy_runtime_module,
    optimization_profile,
    weight_streaming,
)


def __getattr__(name: str) -> object:
    return lazy_runtime_module(name)


__all__ = [
    "CaptureDecision",
    "cuda_graph_strategy",
    "dynamic_shapes_kernel_strategy",
    "get_cuda_graph_strategy",
    "get_dynamic_shapes_kernel_strategy",
    "get_runtime_cache_path",
    "runtime_cache_path",
    "set_runtime_cache_path",
    "RuntimeCache",
    "RuntimeSettings",
    "decide_capture",
    "enable_cudagraphs",
    "engines_of",
    "get_cudagraphs_mode",
    "get_multi_device_safe_mode",
    "runtime_cache",
    "runtime_config",
    "set_cudagraphs_mode",
    "set_dynamic_shapes_kernel_strategy",
    "set_multi_device_safe_mode",
    # --- Torch-TensorRT compatibility names (issue 19)
    "PythonTorchTensorRTModule",
    "TorchTensorRTModule",
    "enable_output_allocator",
    "enable_pre_allocated_outputs",
    "get_whole_cudagraphs_mode",
    "optimization_profile",
    "weight_streaming",
]
