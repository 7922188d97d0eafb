"""Default value of every compilation setting, under Torch-TensorRT's names (``dynamo._defaults``).

:class:`~torch_tensorrt.dynamo.CompilationSettings` and the signatures of the compile entry points
read them from here. No TensorRT import: settings and lowering use this module.
"""

from __future__ import annotations

import getpass
import os
import re
import tempfile

import torch

from torch_tensorrt._Device import Device
from torch_tensorrt._enums import EngineCapability


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the uid still separates users
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


DEVICE = None
DISABLE_TF32 = False
ASSUME_DYNAMIC_SHAPE_SUPPORT = False
DLA_LOCAL_DRAM_SIZE = 1073741824
DLA_GLOBAL_DRAM_SIZE = 536870912
DLA_SRAM_SIZE = 1048576
ENGINE_CAPABILITY = EngineCapability.STANDARD
WORKSPACE_SIZE = 0
MIN_BLOCK_SIZE = 5
PASS_THROUGH_BUILD_FAILURES = False
MAX_AUX_STREAMS = None
NUM_AVG_TIMING_ITERS = 1
VERSION_COMPATIBLE = False
OPTIMIZATION_LEVEL = None
SPARSE_WEIGHTS = False
TRUNCATE_DOUBLE = False
# Torch-TensorRT's default: PyTorch's own complex decomposition where torch has it (2.14+).
USE_COMPLEX_DECOMPOSITION = tuple(int(p) for p in re.findall(r"\d+", torch.__version__)[:2]) >= (2, 14)
USE_FAST_PARTITIONER = True
ENABLE_EXPERIMENTAL_DECOMPOSITIONS = False
REQUIRE_FULL_COMPILATION = False
DRYRUN = False
HARDWARE_COMPATIBLE = False
TIMING_CACHE_PATH = os.path.join(tempfile.gettempdir(), "torch_tensorrt_engine_cache", "timing_cache.bin")
LAZY_ENGINE_INIT = False
CACHE_BUILT_ENGINES = False
REUSE_CACHED_ENGINES = False
ENGINE_CACHE_DIR = os.path.join(tempfile.gettempdir(), "torch_tensorrt_engine_cache")
ENGINE_CACHE_SIZE = 5368709120  # 5 GiB
CUSTOM_ENGINE_CACHE = None
USE_FP32_ACC = False
REFIT_IDENTICAL_ENGINE_WEIGHTS = False
STRIP_ENGINE_WEIGHTS = False
IMMUTABLE_WEIGHTS = True
ENABLE_WEIGHT_STREAMING = False
ENABLE_CROSS_COMPILE_FOR_WINDOWS = False
TILING_OPTIMIZATION_LEVEL = "none"
L2_LIMIT_FOR_TILING = -1
USE_DISTRIBUTED_MODE_TRACE = False
OFFLOAD_MODULE_TO_CPU = False
ENABLE_AUTOCAST = False
AUTOCAST_LOW_PRECISION_TYPE = None
AUTOCAST_EXCLUDED_NODES: frozenset[str] = frozenset()
AUTOCAST_EXCLUDED_OPS: frozenset[object] = frozenset()
AUTOCAST_MAX_OUTPUT_THRESHOLD = 512
AUTOCAST_MAX_DEPTH_OF_REDUCTION = None
AUTOCAST_CALIBRATION_DATALOADER = None
ENABLE_RESOURCE_PARTITIONING = False
CPU_MEMORY_BUDGET = None
DYNAMICALLY_ALLOCATE_RESOURCES = False
DECOMPOSE_ATTENTION = False
DISABLED_CONSTANT_FOLD_EXCLUSIONS: frozenset[str] = frozenset()
ATTN_BIAS_IS_CAUSAL = True
FALLBACK_DATA_DEPENDENT_OPS = False
DEBUG_LOGGING_DIR = os.path.join(tempfile.gettempdir(), f"torch_tensorrt_{_user()}", "debug_logs")

TILING_OPTIMIZATION_LEVELS = ("none", "fast", "moderate", "full")


def default_device() -> Device:
    """Torch-TensorRT's default target: the current CUDA device (GPU 0 on a machine without one,
    as compiling needs no GPU)."""
    return Device(gpu_id=torch.cuda.current_device() if torch.cuda.is_available() else 0)
