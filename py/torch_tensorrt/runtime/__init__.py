"""Runtime mode controls (context managers) for compiled programs."""

from torch_tensorrt.runtime._settings import RuntimeSettings

__all__ = ["RuntimeSettings"]
