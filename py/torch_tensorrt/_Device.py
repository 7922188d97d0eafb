"""torch_tensorrt.Device: the target of a compilation (Torch-TensorRT compatible)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Device:
    """A GPU target. ``Device("cuda:0")``, ``Device(gpu_id=1)`` or ``Device(torch.device(...))``.

    No GPU is needed at compile time: the id only says where the engine will run.
    """

    gpu_id: int = 0
    device_type: str = "gpu"
    allow_gpu_fallback: bool = False

    def __init__(self, *args: Any, gpu_id: int | None = None, **kwargs: Any) -> None:
        self.device_type = "gpu"
        self.allow_gpu_fallback = bool(kwargs.pop("allow_gpu_fallback", False))
        if kwargs.pop("dla_core", None) not in (None, -1):
            raise ValueError("DLA cores are not supported by TensorRT-RTX")
        kwargs.pop("device_type", None)
        if kwargs:
            raise TypeError(f"unexpected Device arguments: {sorted(kwargs)}")
        self.gpu_id = 0
        if args:
            if len(args) > 1:
                raise TypeError("Device takes at most one positional argument")
            spec = args[0]
            if isinstance(spec, Device):
                self.gpu_id = spec.gpu_id
            elif isinstance(spec, torch.device):
                self.gpu_id = spec.index or 0
            elif isinstance(spec, str):
                dev = torch.device(spec)
                if dev.type != "cuda":
                    raise ValueError(f"Device must be a CUDA device, got {spec!r}")
                self.gpu_id = dev.index or 0
            elif isinstance(spec, int):
                self.gpu_id = spec
            else:
                raise TypeError(f"cannot make a Device from {spec!r}")
        if gpu_id is not None:
            self.gpu_id = int(gpu_id)
        if self.gpu_id < 0:
            raise ValueError(f"gpu_id must be >= 0, got {self.gpu_id}")

    def to(self, kind: type) -> Any:
        if kind is torch.device:
            return torch.device("cuda", self.gpu_id)
        raise TypeError(f"cannot convert Device to {kind}")

    def __str__(self) -> str:
        return f"Device(type=gpu, gpu_id={self.gpu_id})"

    @classmethod
    def _from(cls, value: Any) -> Device:
        if value is None:
            return cls()
        return value if isinstance(value, Device) else cls(value)
