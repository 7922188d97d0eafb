"""Shared helpers for the per-layer semantics modules: the handler registry and small utilities."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ._dtypes import compute_dtype, torch_dtype, trt_name
from ._record import LayerRecord

Tensor = torch.Tensor
Inputs = Sequence[Tensor | None]
Handler = Callable[[LayerRecord, Inputs], list[Tensor]]

# LayerType name -> function computing the layer's outputs from its inputs.
HANDLERS: dict[str, Handler] = {}


def register(*layer_types: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        for layer_type in layer_types:
            HANDLERS[layer_type] = fn
        return fn

    return wrap


def describe(layer: LayerRecord) -> str:
    return f"layer '{layer.name}' (LayerType.{layer.type})"


def unsupported(layer: LayerRecord, what: str) -> NotImplementedError:
    return NotImplementedError(f"reference executor: {what} is not supported ({describe(layer)})")


def layer_error(layer: LayerRecord, message: str) -> RuntimeError:
    """A run-time failure TensorRT would also report (out-of-bounds slice, failed assertion, ...)."""
    return RuntimeError(f"reference executor: {describe(layer)}: {message}")


def enum_param(layer: LayerRecord, key: str, enum: str, allowed: Sequence[str]) -> str:
    """A parameter stored as an enum member name, checked against the values the executor implements."""
    value = str(layer.params[key])
    if value not in allowed:
        raise unsupported(layer, f"{enum}.{value}")
    return value


def need(layer: LayerRecord, inputs: Inputs, index: int) -> Tensor:
    t = inputs[index] if index < len(inputs) else None
    if t is None:
        raise layer_error(layer, f"input {index} is not set")
    return t


def optional(inputs: Inputs, index: int) -> Tensor | None:
    return inputs[index] if index < len(inputs) else None


def out_dtype(layer: LayerRecord, index: int = 0) -> torch.dtype:
    return torch_dtype(layer.outputs[index].dtype)


def widen(t: Tensor) -> Tensor:
    """The tensor in the dtype the layer computes in (fp16/bf16 -> fp32, see _dtypes.compute_dtype)."""
    return t.to(compute_dtype(t.dtype))


def require_dtype(layer: LayerRecord, t: Tensor, allowed: Sequence[torch.dtype], what: str) -> None:
    if t.dtype not in allowed:
        raise unsupported(layer, f"{what} on DataType.{trt_name(t.dtype)} input")


def int_list(layer: LayerRecord, t: Tensor, what: str) -> list[int]:
    """Values of a 0-D/1-D integer shape tensor (start, size, axes, ...)."""
    if t.dtype not in (torch.int32, torch.int64):
        raise layer_error(layer, f"{what} must be an int32/int64 tensor, got {t.dtype}")
    if t.dim() > 1:
        raise layer_error(layer, f"{what} must be a 0-D or 1-D tensor, got shape {tuple(t.shape)}")
    return [int(v) for v in t.reshape(-1).tolist()]


def norm_axis(layer: LayerRecord, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise layer_error(layer, f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def axes_from_mask(layer: LayerRecord, mask: int, rank: int) -> list[int]:
    if mask < 0 or mask >> rank:
        raise layer_error(layer, f"axes bitmask {mask:#b} names an axis beyond rank {rank}")
    return [i for i in range(rank) if mask >> i & 1]


def single_axis(layer: LayerRecord, mask: int, rank: int) -> int:
    axes = axes_from_mask(layer, mask, rank)
    if len(axes) != 1:
        raise unsupported(layer, f"axes bitmask {mask:#b} (exactly one axis is required)")
    return axes[0]


def check_broadcast(layer: LayerRecord, tensors: Sequence[Tensor]) -> None:
    """TensorRT broadcasting: all ranks equal and, per dimension, lengths equal or 1 (no implicit
    leading-dimension insertion as in NumPy)."""
    ranks = {t.dim() for t in tensors}
    if len(ranks) != 1:
        raise layer_error(layer, f"inputs must have the same rank, got shapes {[tuple(t.shape) for t in tensors]}")
    for d in range(tensors[0].dim()):
        lengths = {int(t.shape[d]) for t in tensors} - {1}
        if len(lengths) > 1:
            raise layer_error(
                layer, f"shapes {[tuple(t.shape) for t in tensors]} are not broadcast-compatible in dimension {d}"
            )
