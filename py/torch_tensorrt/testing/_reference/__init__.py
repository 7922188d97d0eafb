"""Reference executor: evaluates a TensorRT ``INetworkDefinition`` on CPU with PyTorch ops.

Independent of the converters (nothing here imports ``torch_tensorrt.dynamo``): every layer's meaning
comes from TensorRT's operator documentation, and its parameters and weights are read back through the
TensorRT Python API by :func:`capture_network`. Layers, parameter values or data types without a
documented, implemented meaning raise ``NotImplementedError`` naming them.
"""

from . import _kv_cache  # noqa: F401  (registers the KV_CACHE_UPDATE layer)
from ._execute import execute_network, execute_record
from ._record import LayerRecord, NetworkRecord, TensorSpec, capture_network
from ._tensor import NetworkAssertionError

__all__ = [
    "LayerRecord",
    "NetworkAssertionError",
    "NetworkRecord",
    "TensorSpec",
    "capture_network",
    "execute_network",
    "execute_record",
]
