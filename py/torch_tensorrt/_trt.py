"""The one door to TensorRT (DESIGN.md section 2).

Every other module gets TensorRT from here: ``from torch_tensorrt._trt import trt``.
TensorRT-RTX is preferred; standard TensorRT is used when only it is installed. Behaviour that
differs between the two branches on ``ENABLED_FEATURES``, never on scattered import errors.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


def _import_tensorrt() -> tuple[ModuleType | None, bool]:
    for name, is_rtx in (("tensorrt_rtx", True), ("tensorrt", False)):
        try:
            return importlib.import_module(name), is_rtx
        except ImportError:
            continue
    return None, False


_module, _is_rtx = _import_tensorrt()


def _alias_rtx_as_tensorrt() -> None:
    """As Torch-TensorRT-RTX does, make ``import tensorrt`` give TensorRT-RTX, so scripts and tests
    written ``import tensorrt as trt`` run unchanged. Only when no standard TensorRT is installed:
    the alias must not hide a real one."""
    if _is_rtx and "tensorrt" not in sys.modules and importlib.util.find_spec("tensorrt") is None:
        sys.modules["tensorrt"] = _module  # type: ignore[assignment]


_alias_rtx_as_tensorrt()


class _MissingTensorRT:
    """Stands in for the module when no TensorRT is installed, failing with a fix on first use."""

    def __getattr__(self, item: str) -> Any:
        raise ImportError(
            "No TensorRT Python package is installed. Install TensorRT-RTX with "
            "`pip install tensorrt-rtx` (or standard TensorRT with `pip install tensorrt`)."
        )


trt: Any = _module if _module is not None else _MissingTensorRT()


@dataclass
class FeatureSet:
    """What this installation can do.

    One shared instance; code reads it at call time (``_trt.ENABLED_FEATURES.tensorrt_rtx``) so that
    tests can simulate another backend with :func:`override_features`.
    """

    tensorrt_rtx: bool
    tensorrt_available: bool
    torch_tensorrt_runtime: bool  # the C++ runtime extension is loaded
    python_runtime: bool = True
    # Torch-TensorRT's fields, with what holds here: compiling is the dynamo (torch.export) frontend
    # only; no TorchScript or FX frontend, no TensorRT plugins or NCCL collectives, no complex-number
    # lowering. Refit (refit_module_weights) needs a GPU, or torch_tensorrt.testing.emulated_runtime().
    torchscript_frontend: bool = False
    dynamo_frontend: bool = True
    fx_frontend: bool = False
    refit: bool = True
    qdp_plugin: bool = False
    trtllm_for_nccl: bool = False
    native_trt_collectives: bool = False
    complex_decomposition: bool = False
    # None until first read: probing builds a TensorRT builder, which must not happen at import.
    _windows_cross_compile: bool | None = field(default=None, repr=False)

    @property
    def windows_cross_compile(self) -> bool:
        """Whether this TensorRT builds engines for Windows x86-64 here (Linux x86-64 hosts only)."""
        if self._windows_cross_compile is None:
            self._windows_cross_compile = _probe_windows_cross_compile()
        return self._windows_cross_compile

    @windows_cross_compile.setter
    def windows_cross_compile(self, value: bool) -> None:
        self._windows_cross_compile = value


def _probe_windows_cross_compile() -> bool:
    """Ask the builder: TensorRT-RTX 1.7 refuses ``runtime_platform = WINDOWS_AMD64`` (it logs an
    API-usage error and keeps SAME_AS_BUILD); standard TensorRT 10 accepts it on Linux x86-64."""
    import platform

    if _module is None or (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        return False
    windows = getattr(getattr(_module, "RuntimePlatform", None), "WINDOWS_AMD64", None)
    if windows is None:
        return False
    from torch_tensorrt._trt_logger import TRT_LOGGER, collect_errors

    with collect_errors():  # the refusal is the answer, not an error to report
        config = _module.Builder(TRT_LOGGER).create_builder_config()
        try:
            config.runtime_platform = windows
        except Exception:  # noqa: BLE001 - a refusing binding means "cannot"
            return False
    return bool(config.runtime_platform == windows)


def _cpp_runtime_loaded() -> bool:
    try:
        import torch

        return hasattr(torch.classes, "tensorrt") and hasattr(torch.classes.tensorrt, "Engine")
    except Exception:  # noqa: BLE001 - any failure means the extension is not usable
        return False


ENABLED_FEATURES = FeatureSet(
    tensorrt_rtx=_is_rtx,
    tensorrt_available=_module is not None,
    torch_tensorrt_runtime=False,  # updated by torch_tensorrt.__init__ once the extension is loaded
)

TRT_VERSION: str = getattr(_module, "__version__", "0") if _module is not None else "0"


@contextlib.contextmanager
def override_features(**changes: bool) -> Iterator[FeatureSet]:
    """Temporarily change fields of ENABLED_FEATURES (tests simulating another backend)."""
    saved = {name: getattr(ENABLED_FEATURES, name) for name in changes}
    for name, value in changes.items():
        if not hasattr(ENABLED_FEATURES, name):
            raise AttributeError(f"unknown feature {name!r}")
        setattr(ENABLED_FEATURES, name, value)
    try:
        yield ENABLED_FEATURES
    finally:
        for name, value in saved.items():
            setattr(ENABLED_FEATURES, name, value)


def is_tensorrt_rtx() -> bool:
    return ENABLED_FEATURES.tensorrt_rtx
