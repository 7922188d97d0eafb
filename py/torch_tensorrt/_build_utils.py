"""Build information and device selection, under Torch-TensorRT's top-level names."""

from __future__ import annotations

import torch

from torch_tensorrt import _build_info
from torch_tensorrt._logging import warn_once
from torch_tensorrt._trt import ENABLED_FEATURES, TRT_VERSION
from torch_tensorrt._version import __version__

#: The CUDA version of the PyTorch this package runs with (its C++ runtime is built against it).
__cuda_version__: str | None = torch.version.cuda
#: The version of the TensorRT (or TensorRT-RTX) Python package in use ("0" when none is installed).
__tensorrt_version__: str = TRT_VERSION


def get_build_info() -> str:
    """A description of this installation: versions, flavour, runtimes and the TensorRT SDK."""
    flavour = "TensorRT-RTX" if ENABLED_FEATURES.tensorrt_rtx else "TensorRT"
    lines = [
        f"torch_tensorrt version: {__version__} ({_build_info.FLAVOUR} build"
        f"{', ' + _build_info.DISTRIBUTION if _build_info.DISTRIBUTION else ''})",
        f"PyTorch version: {torch.__version__} (CUDA {__cuda_version__})",
        f"{flavour} Python package: {__tensorrt_version__ if ENABLED_FEATURES.tensorrt_available else 'not installed'}",
        f"C++ runtime (torch_tensorrt._C) loaded: {ENABLED_FEATURES.torch_tensorrt_runtime}",
        f"C++ runtime compiled against: {_build_info.TENSORRT_SDK_KIND or 'unknown'} "
        f"{_build_info.TENSORRT_SDK_VERSION or ''}".rstrip(),
        f"compile-time defines: {', '.join(_build_info.DEFINES) if _build_info.DEFINES else 'unknown'}",
    ]
    return "\n".join(lines)


def dump_build_info() -> None:
    """Print :func:`get_build_info` to stdout."""
    print(get_build_info())


def set_device(gpu_id: int) -> None:
    """Make ``gpu_id`` the current CUDA device (where engines are loaded and run)."""
    if isinstance(gpu_id, bool) or not isinstance(gpu_id, int) or gpu_id < 0:
        raise ValueError(f"gpu_id must be an int >= 0, got {gpu_id!r}")
    if not torch.cuda.is_available():
        warn_once(
            "set_device",
            f"set_device({gpu_id}) has no effect: this machine has no usable CUDA device (compiling needs "
            "none; engines run on the GPU named by the compile setting device=...). (reported once per process)",
        )
        return
    torch.cuda.set_device(gpu_id)
