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

__all__ = [
    "ENABLED_FEATURES",
    "Device",
    "Input",
    "__version__",
    "compile",
    "dynamo",
    "load",
    "runtime",
    "save",
]
