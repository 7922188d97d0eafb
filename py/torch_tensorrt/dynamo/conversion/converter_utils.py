"""Helpers shared by converters: constants, casts, broadcasting, shapes. One place for each."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype, trt_to_torch_dtype
from torch_tensorrt.dynamo._node_args import arg as arg  # converters read their arguments through it
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._weight_names import own_address, register_weights

TRTTensor = Any  # trt.ITensor; an alias keeps signatures readable without importing at type time


def is_trt_tensor(value: Any) -> bool:
    return isinstance(value, trt.ITensor)


def set_layer_name(layer: Any, name: str, suffix: str = "") -> None:
    layer.name = f"{name}{'_' + suffix if suffix else ''}"


def node_dtype(node: torch.fx.Node) -> torch.dtype | None:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return val.dtype if isinstance(val, torch.Tensor) else None


def _scalar_dtype(value: Any) -> torch.dtype:
    if isinstance(value, bool):
        return torch.bool
    if isinstance(value, int):
        return torch.int64
    return torch.float32


def create_constant(ctx: ConversionContext, value: Any, name: str, dtype: torch.dtype | None = None) -> TRTTensor:
    """A constant layer holding ``value`` (tensor, numpy array or Python scalar/list).

    Tensors of at least ``_SHARED_CONSTANT_MIN_BYTES`` are made once per network: the same view of
    the same storage (as in the same dtype) yields the same constant, so shared weights are stored once.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        value = torch.tensor(
            value, dtype=dtype or _scalar_dtype(value if not isinstance(value, (list, tuple)) else value[0])
        )
    key = _constant_key(value, dtype)
    if key is not None and key in ctx.constants:
        return ctx.constants[key]
    out = _add_constant(ctx, value, name, dtype)
    if key is not None:
        ctx.constants[key] = out
    return out


# Small constants (shapes, scalars) are cheap and often made from temporaries whose storage is reused.
_SHARED_CONSTANT_MIN_BYTES = 4096


def _constant_key(value: torch.Tensor, dtype: torch.dtype | None) -> tuple[Any, ...] | None:
    if value.numel() * value.element_size() < _SHARED_CONSTANT_MIN_BYTES or value.device.type == "meta":
        return None
    storage = value.untyped_storage()
    # The dtype the constant will have (as _add_constant makes it): None and the tensor's own dtype
    # are the same constant.
    made = dtype or value.dtype
    made = torch.float32 if made == torch.float64 else made
    # The storage object keeps the data alive (ctx.keep_alive), so its address cannot be reused.
    return (storage.data_ptr(), value.storage_offset(), tuple(value.shape), tuple(value.stride()), value.dtype, made)


def _add_constant(ctx: ConversionContext, value: torch.Tensor, name: str, dtype: torch.dtype | None) -> TRTTensor:
    ctx.keep_alive.append(value)
    tensor = value.detach().cpu()
    if dtype is not None:
        tensor = tensor.to(dtype)
    if tensor.dtype == torch.float64:
        # TensorRT has no float64; the module's float64 constants only exist as float32 there.
        tensor = tensor.to(torch.float32)
    tensor = own_address(ctx, tensor.contiguous())
    weights = trt.Weights(torch_to_trt_dtype(tensor.dtype), tensor.data_ptr(), tensor.numel())
    layer = ctx.net.add_constant(tuple(tensor.shape), weights)
    set_layer_name(layer, ctx.unique_name(f"{name}_constant"))
    register_weights(ctx, layer, "CONSTANT", weights, tensor, attribute_source(ctx, value))
    return layer.get_output(0)


def view_key(value: torch.Tensor) -> tuple[Any, ...]:
    """Which tensor view ``value`` is: same storage, offset, shape and strides."""
    storage = value.untyped_storage().data_ptr()
    return (storage, value.storage_offset(), tuple(value.shape), tuple(value.stride()), value.dtype)


def attribute_source(ctx: ConversionContext, value: torch.Tensor) -> str | None:
    """The module attribute ``value`` is (unchanged but for a dtype cast), else None (computed)."""
    if value.device.type == "meta" or not ctx.attribute_sources:
        return None
    return ctx.attribute_sources.get(view_key(value))


def get_trt_tensor(ctx: ConversionContext, value: Any, name: str, dtype: torch.dtype | None = None) -> TRTTensor:
    """Return ``value`` as an ITensor, creating a constant for tensors and scalars."""
    if is_trt_tensor(value):
        return value if dtype is None else cast_trt_tensor(ctx, value, dtype, name)
    return create_constant(ctx, value, name, dtype)


def dtype_of(tensor: TRTTensor) -> torch.dtype:
    return trt_to_torch_dtype(tensor.dtype)


def cast_trt_tensor(ctx: ConversionContext, tensor: TRTTensor, dtype: torch.dtype, name: str) -> TRTTensor:
    if dtype == torch.float64:
        dtype = torch.float32
    if dtype_of(tensor) == dtype:
        return tensor
    layer = ctx.net.add_cast(tensor, torch_to_trt_dtype(dtype))
    set_layer_name(layer, ctx.unique_name(f"{name}_cast_{dtype}".replace("torch.", "")))
    return layer.get_output(0)


def prepend_ones(ctx: ConversionContext, tensor: TRTTensor, count: int, name: str) -> TRTTensor:
    """Reshape to rank + count by adding leading size-1 dims (works for dynamic shapes)."""
    if count <= 0:
        return tensor
    layer = ctx.net.add_shuffle(tensor)
    if has_dynamic_dims(tensor):
        ones = create_constant(ctx, torch.ones(count, dtype=torch.int64), f"{name}_ones")
        shape = ctx.net.add_shape(tensor).get_output(0)
        layer.set_input(1, concat_shape(ctx, [ones, shape], name))
    else:
        layer.reshape_dims = (1,) * count + tuple(tensor.shape)
    # Size-0 dims are real sizes here, not "copy the input dim" placeholders.
    layer.zero_is_placeholder = False
    set_layer_name(layer, ctx.unique_name(f"{name}_broadcast"))
    return layer.get_output(0)


def broadcast_ranks(ctx: ConversionContext, a: TRTTensor, b: TRTTensor, name: str) -> tuple[TRTTensor, TRTTensor]:
    """TensorRT elementwise layers need equal ranks; numpy-style broadcasting pads on the left."""
    ra, rb = len(a.shape), len(b.shape)
    return prepend_ones(ctx, a, rb - ra, f"{name}_a"), prepend_ones(ctx, b, ra - rb, f"{name}_b")


def has_dynamic_dims(tensor: TRTTensor) -> bool:
    return any(d < 0 for d in tensor.shape)


def get_positive_dim(dim: int, rank: int) -> int:
    if not -max(rank, 1) <= dim < max(rank, 1):
        raise IndexError(f"dimension {dim} out of range for rank {rank}")
    return dim % max(rank, 1)


def shape_of(ctx: ConversionContext, tensor: TRTTensor, name: str) -> TRTTensor:
    layer = ctx.net.add_shape(tensor)
    set_layer_name(layer, ctx.unique_name(f"{name}_shape"))
    return layer.get_output(0)


def dim_size(ctx: ConversionContext, tensor: TRTTensor, dim: int, name: str) -> TRTTensor:
    """Size of one dim as a 1-element int64 shape tensor."""
    index = create_constant(ctx, torch.tensor([dim], dtype=torch.int64), f"{name}_dim_index")
    layer = ctx.net.add_gather(shape_of(ctx, tensor, name), index, 0)
    set_layer_name(layer, ctx.unique_name(f"{name}_dim{dim}"))
    return layer.get_output(0)


def concat_shape(ctx: ConversionContext, parts: Sequence[TRTTensor], name: str) -> TRTTensor:
    layer = ctx.net.add_concatenation(list(parts))
    layer.axis = 0
    set_layer_name(layer, ctx.unique_name(f"{name}_shape_concat"))
    return layer.get_output(0)


def shape_tensor_from_dims(ctx: ConversionContext, dims: Sequence[Any], name: str) -> TRTTensor:
    """An int64 1-D shape tensor from a mix of ints and scalar/1-element ITensors."""
    parts = []
    for i, d in enumerate(dims):
        if is_trt_tensor(d):
            d = cast_trt_tensor(ctx, d, torch.int64, f"{name}_d{i}")
            if len(d.shape) == 0:
                d = prepend_ones(ctx, d, 1, f"{name}_d{i}")
            parts.append(d)
        else:
            parts.append(create_constant(ctx, torch.tensor([int(d)], dtype=torch.int64), f"{name}_d{i}"))
    return concat_shape(ctx, parts, name)


def reshape(ctx: ConversionContext, tensor: TRTTensor, shape: Sequence[Any], name: str) -> TRTTensor:
    """Reshape to ``shape`` whose entries may be ints (-1 allowed once) or ITensors."""
    layer = ctx.net.add_shuffle(tensor)
    if all(isinstance(d, int) for d in shape):
        layer.reshape_dims = tuple(shape)
    else:
        layer.set_input(1, shape_tensor_from_dims(ctx, shape, name))
    layer.zero_is_placeholder = False
    set_layer_name(layer, ctx.unique_name(f"{name}_reshape"))
    return layer.get_output(0)


def _dtype_category(dtype: torch.dtype) -> int:
    return 0 if dtype == torch.bool else 2 if dtype.is_floating_point else 1


def result_dtype(*values: Any) -> torch.dtype:
    """torch's type promotion over ITensors, tensors and Python scalars (None is skipped).

    As in torch, dimensioned tensors decide first; a 0-dim tensor (rank-0 ITensor) only when it is
    of a higher category (bool < int < float), and a Python scalar only above all tensors — so
    fp16 tensor + fp32 0-dim tensor stays fp16, and int tensor + 2.5 becomes float32.
    """
    dims: list[torch.dtype] = []
    zero_dims: list[torch.dtype] = []
    scalars: list[torch.dtype] = []
    for v in values:
        if v is None:
            continue
        if is_trt_tensor(v):
            (dims if len(v.shape) > 0 else zero_dims).append(dtype_of(v))
        elif isinstance(v, torch.Tensor):
            (dims if v.dim() > 0 else zero_dims).append(v.dtype)
        else:
            scalars.append(_scalar_dtype(v))
    dtype: torch.dtype | None = None
    for group in (dims, zero_dims, scalars):
        if not group:
            continue
        promoted = group[0]
        for dt in group[1:]:
            promoted = torch.promote_types(promoted, dt)
        if dtype is None or _dtype_category(promoted) > _dtype_category(dtype):
            dtype = promoted
    if dtype is None:
        raise ValueError("result_dtype needs at least one value")
    return dtype


def output_dtype(ctx: ConversionContext, index: int | None = None) -> torch.dtype | None:
    """The dtype PyTorch computed for the node being converted (from tracing metadata)."""
    val = ctx.output_meta()
    if index is not None and isinstance(val, (list, tuple)):
        val = val[index]
    if isinstance(val, torch.Tensor):
        return torch.float32 if val.dtype == torch.float64 else val.dtype
    return None


def add_binary(ctx: ConversionContext, op: Any, a: TRTTensor, b: TRTTensor, name: str) -> TRTTensor:
    """``a op b`` (trt.ElementWiseOperation) for two ITensors of one dtype, ranks aligned first."""
    a, b = broadcast_ranks(ctx, a, b, name)
    layer = ctx.net.add_elementwise(a, b, op)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def add_unary(ctx: ConversionContext, op: Any, x: TRTTensor, name: str) -> TRTTensor:
    """``op(x)`` for a trt.UnaryOperation."""
    layer = ctx.net.add_unary(x, op)
    set_layer_name(layer, ctx.unique_name(name))
    return layer.get_output(0)


def axes_mask(dims: Sequence[int], rank: int) -> int:
    """TensorRT's axes bitmask for (possibly negative) ``dims`` of a rank-``rank`` tensor."""
    mask = 0
    for d in dims:
        mask |= 1 << get_positive_dim(d, rank)
    return mask


def flatten_dims(value: Any, start_dim: int, end_dim: int) -> tuple[int, ...]:
    """The shape of ``value`` (anything with ``.shape``) with dims ``start_dim..end_dim`` (inclusive,
    negative counted from the end) merged into one."""
    shape = tuple(value.shape)
    start, end = get_positive_dim(start_dim, len(shape)), get_positive_dim(end_dim, len(shape))
    merged = 1
    for size in shape[start : end + 1]:
        merged *= size
    return shape[:start] + (merged,) + shape[end + 1 :]


def _promote(ctx: ConversionContext, value: Any, approved: tuple[type, ...], name: str) -> Any:
    """``value`` as the first approved type it can become: a NumPy array (from tensors and numbers,
    not from network tensors), else a network constant."""
    for kind in approved:
        if kind is np.ndarray and not is_trt_tensor(value):
            return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        if kind is trt.ITensor:
            return get_trt_tensor(ctx, torch.as_tensor(value) if isinstance(value, np.ndarray) else value, name)
    raise AssertionError(f"argument {value!r} cannot be converted to any of {approved}")


def enforce_tensor_types(
    type_dictionary: dict[int | str, tuple[type, ...]], promote: bool = True
) -> Callable[..., Any]:
    """Torch-TensorRT's converter decorator: the arguments named by ``type_dictionary`` (an index into
    args, or a kwarg name) must be one of the given types (``trt.ITensor``, ``np.ndarray``,
    ``torch.Tensor``); with ``promote`` others are converted in that order of preference, else an
    ``AssertionError`` names the argument."""
    allowed = (trt.ITensor, np.ndarray, torch.Tensor)
    for key, kinds in type_dictionary.items():
        if not isinstance(key, (int, str)):
            raise AssertionError(f"enforce_tensor_types: key {key!r} must be an argument index or a keyword name")
        if not isinstance(kinds, tuple) or not all(k in allowed for k in kinds):
            raise AssertionError(f"enforce_tensor_types: types for {key!r} must be a tuple of {allowed}, got {kinds!r}")
        if torch.Tensor in kinds and np.ndarray not in kinds:
            raise AssertionError("enforce_tensor_types: torch.Tensor is only allowed together with np.ndarray")

    def decorate(converter: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(converter)
        def convert(ctx: Any, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
            args, kwargs = tuple(args), dict(kwargs)
            for key, kinds in type_dictionary.items():
                value = args[key] if isinstance(key, int) else kwargs[key]
                if isinstance(value, kinds):
                    continue
                if not promote:
                    raise AssertionError(f"argument {key!r} of {name} is a {type(value).__name__}, not one of {kinds}")
                promoted = _promote(ctx, value, kinds, f"{name}_constant_{key}")
                if isinstance(key, int):
                    args = args[:key] + (promoted,) + args[key + 1 :]
                else:
                    kwargs[key] = promoted
            return converter(ctx, target, args, kwargs, name)

        return convert

    return decorate
