"""``torch.compile(model, backend="tensorrt")`` (also "torch_tensorrt")."""

from torch_tensorrt.dynamo.backend.backends import tensorrt_backend

__all__ = ["tensorrt_backend"]
