"""Torch-TensorRT's ``torch_tensorrt._utils`` version and platform checks, for their tests and scripts."""

from __future__ import annotations

import torch

from torch_tensorrt._trt import ENABLED_FEATURES, TRT_VERSION


def sanitized_torch_version() -> str:
    """torch's version without an NVIDIA container suffix (``2.5.0a0.nv24.10`` -> ``2.5.0a0``)."""
    return torch.__version__.split(".nv")[0]


def _at_least(version: str, minimum: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) >= Version(minimum)
    except InvalidVersion:
        return False


def is_tensorrt_rtx_version_supported(min_version: str) -> bool:
    """Whether the TensorRT-RTX in use is at least ``min_version`` (True on standard TensorRT, where
    the check does not apply, as in Torch-TensorRT)."""
    return not ENABLED_FEATURES.tensorrt_rtx or _at_least(TRT_VERSION, min_version)


def is_tensorrt_version_supported(min_version: str) -> bool:
    """Whether the standard TensorRT in use is at least ``min_version`` (True on TensorRT-RTX, whose
    versions are numbered apart, as in Torch-TensorRT)."""
    if ENABLED_FEATURES.tensorrt_rtx:
        return True
    return ENABLED_FEATURES.tensorrt_available and _at_least(TRT_VERSION, min_version)


def check_cross_compile_trt_win_lib() -> bool:
    """Whether engines for Windows can be built here (``cross_compile_for_windows``)."""
    return ENABLED_FEATURES.windows_cross_compile


def _device_capability() -> tuple[int, int] | None:
    return torch.cuda.get_device_capability() if torch.cuda.is_available() else None


def is_tegra_platform() -> bool:
    """Whether this machine's GPU is a Jetson (Orin or Xavier); False without a GPU."""
    return _device_capability() in ((8, 7), (7, 2))


def is_orin() -> bool:
    return _device_capability() == (8, 7)


def is_thor() -> bool:
    return _device_capability() == (11, 0)


__all__ = [
    "check_cross_compile_trt_win_lib",
    "is_orin",
    "is_tegra_platform",
    "is_tensorrt_rtx_version_supported",
    "is_tensorrt_version_supported",
    "is_thor",
    "sanitized_torch_version",
]
