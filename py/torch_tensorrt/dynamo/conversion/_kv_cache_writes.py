"""Buffer writes that TensorRT's KV-cache update layer can perform in place (aliased engine I/O).

``convert_exported_program_to_serialized_trt_engine(lift_mutable_buffers=True)`` makes each mutated
buffer an engine input; the engine then writes the buffer's new value into that input's memory
through an ``IKVCacheUpdateLayer`` (``INetworkDefinition.add_kv_cache_update``, ``KVCacheMode.LINEAR``),
whose output is a network output sharing the input's memory. The layer's contract (TensorRT operator
documentation, KVCacheUpdate): the cache is a network input of shape ``[b, d, s_max, h]`` with a static
``s_max`` and dtype float32 / float16 / bfloat16; the update is ``[b, d, s, h]`` of the same dtype;
``write_indices`` is an int32/int64 tensor of shape ``[b]``; it writes
``cache[i, :, write_indices[i] + j, :] = update[i, :, j, :]`` for ``j < s``.

A write maps onto the layer (as in Torch-TensorRT) when it is one of

* ``slice_scatter(cache, update, dim=2, start, end, step=1)`` with constant bounds: the functional form
  of ``cache[:, :, p:p + n, :] = update``; the write index is ``start`` for every batch row;
* ``index_copy(cache, 2, index, update)`` with a one-element ``index`` and ``update.shape[2] == 1``
  (one position, e.g. a decode step): the write index is ``index[0]`` (read at run time), for every
  batch row. The lowering turns ``index_copy`` into ``index_put(cache, [None, None, index], update)``,
  which is recognised the same way;

and the cache is the engine input itself (a whole buffer, static 4-D shape). This module is the one
owner of that rule: the engine export classifies the program's buffer writes with
:func:`kv_cache_write` before compiling (refusing the others), and the converters ask it again for the
node they convert, emitting the layer only for caches in :data:`KV_CACHE_INPUTS`.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

import torch
from torch.fx import Node

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion.converter_utils import (
    cast_trt_tensor,
    create_constant,
    dtype_of,
    get_trt_tensor,
    is_trt_tensor,
    set_layer_name,
)
from torch_tensorrt.dynamo.conversion.converters._shape_helpers import expand_to

aten = torch.ops.aten

_CACHE_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_INDEX_DTYPES = (torch.int32, torch.int64)

# Names of the segment inputs (lifted buffers) whose writes the converters may turn into an in-place
# KV-cache update; empty outside convert_exported_program_to_serialized_trt_engine(lift_mutable_buffers=True).
KV_CACHE_INPUTS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "torch_tensorrt_kv_cache_inputs", default=frozenset()
)


@dataclass(frozen=True)
class KVCacheWrite:
    """A buffer write the KV-cache update layer performs: ``update`` goes to ``cache`` at sequence
    position ``start`` (a constant) or ``index`` (a one-element tensor read at run time)."""

    cache: Node
    update: Node
    start: int | None = None
    index: Node | None = None


def _static_shape(node: object) -> tuple[int, ...] | None:
    val = node.meta.get("val") if isinstance(node, Node) else None
    if not isinstance(val, torch.Tensor) or not all(isinstance(d, int) for d in val.shape):
        return None
    return tuple(int(d) for d in val.shape)


def _dtype(node: object) -> torch.dtype | None:
    val = node.meta.get("val") if isinstance(node, Node) else None
    return val.dtype if isinstance(val, torch.Tensor) else None


def _cache_problem(cache: object, update: object) -> str | None:
    shape = _static_shape(cache)
    if shape is None or len(shape) != 4:
        return "the buffer is not a 4-D tensor [batch, heads, max_seq_len, head_dim] of static shape"
    if _dtype(cache) not in _CACHE_DTYPES:
        return f"the buffer's dtype {_dtype(cache)} is not float32, float16 or bfloat16"
    update_shape = _static_shape(update)
    if update_shape is None or len(update_shape) != 4:
        return "the written value is not a 4-D tensor of static shape"
    if (update_shape[0], update_shape[1], update_shape[3]) != (shape[0], shape[1], shape[3]):
        return f"the written value's shape {update_shape} differs from the buffer's {shape} outside dim 2"
    return None


def _slice_write(node: Node) -> KVCacheWrite | str:
    cache, update = node.args[0], node.args[1]
    dim, start, end, step = (list(node.args[2:]) + [None] * 4)[:4]
    dim = node.kwargs.get("dim", 0 if dim is None else dim)
    start, end = node.kwargs.get("start", start), node.kwargs.get("end", end)
    step = node.kwargs.get("step", 1 if step is None else step)
    if dim not in (2, -2):
        return f"it writes along dim {dim}; the KV-cache update layer writes along dim 2 (the sequence)"
    problem = _cache_problem(cache, update)
    if problem is not None:
        return problem
    size = _static_shape(cache)[2]  # type: ignore[index]
    if step != 1:
        return f"it writes every {step}th position; the KV-cache update layer writes consecutive positions"
    if not all(v is None or isinstance(v, int) for v in (start, end)):
        return "its start or end position is computed at run time; use index_copy_ for a run-time position"
    first, last, _ = slice(start, end).indices(size)
    if last - first != _static_shape(update)[2] or last <= first:  # type: ignore[index]
        return "it writes no positions" if last <= first else "its slice and the written value disagree"
    return KVCacheWrite(cache, update, start=first)


def _position_write(cache: object, index: object, update: object) -> KVCacheWrite | str:
    problem = _cache_problem(cache, update)
    if problem is not None:
        return problem
    if _static_shape(update)[2] != 1 or _static_shape(index) != (1,):  # type: ignore[index]
        return "it writes several positions by index; the KV-cache update layer takes one start position"
    if _dtype(index) not in _INDEX_DTYPES:
        return f"its position has dtype {_dtype(index)}, not int32/int64"
    assert isinstance(cache, Node) and isinstance(index, Node) and isinstance(update, Node)
    return KVCacheWrite(cache, update, index=index)


def kv_cache_write(node: Node) -> KVCacheWrite | str:
    """How the KV-cache update layer performs the write ``node`` computes, or why it cannot."""
    if node.op != "call_function":
        return f"the buffer's new value is {node.op} {node.target}, not a write into the buffer"
    if node.target is aten.slice_scatter.default:
        return _slice_write(node)
    if node.target is aten.index_copy.default and len(node.args) >= 4:
        if node.args[1] not in (2, -2):
            return f"it writes along dim {node.args[1]}; the KV-cache update layer writes along dim 2"
        return _position_write(node.args[0], node.args[2], node.args[3])
    if node.target is aten.index_put.default and len(node.args) >= 3:
        indices = list(node.args[1])
        accumulate = node.args[3] if len(node.args) > 3 else node.kwargs.get("accumulate", False)
        if accumulate or len(indices) != 3 or indices[0] is not None or indices[1] is not None:
            return "it is an indexed write other than cache[:, :, index] = value"
        return _position_write(node.args[0], indices[2], node.args[2])
    return (
        f"its new value is computed by {node.target}, which TensorRT cannot write in place (only "
        "cache[:, :, start:end, :] = value and cache.index_copy_(2, position, value) map onto the "
        "KV-cache update layer)"
    )


def emit_kv_cache_update(ctx: Any, node: Node, cache: Any, update: Any, index: Any, name: str) -> Any:
    """The in-place KV-cache update layer for the write ``node`` (a converter's node), or None when the
    write is not one (see :func:`kv_cache_write`) or its cache is not a lifted buffer input: then the
    converter builds the out-of-place write as usual. ``cache``, ``update`` and ``index`` are the
    converter's TensorRT tensors for those arguments (``index`` None for slice_scatter)."""
    lifted = KV_CACHE_INPUTS.get()
    if not lifted or not is_trt_tensor(cache) or not cache.is_network_input or cache.name not in lifted:
        return None
    write = kv_cache_write(node)
    if not isinstance(write, KVCacheWrite):
        return None
    batch = int(cache.shape[0])
    update = get_trt_tensor(ctx, update, f"{name}_update", dtype_of(cache))
    if write.start is not None:
        positions = create_constant(ctx, torch.full((batch,), write.start, dtype=torch.int32), f"{name}_write_indices")
    else:
        # One position for every batch row: the index's single element, repeated to [batch].
        position = cast_trt_tensor(ctx, get_trt_tensor(ctx, index, f"{name}_index"), torch.int32, f"{name}_index")
        positions = expand_to(ctx, position, [batch], f"{name}_write_indices")
    layer = ctx.net.add_kv_cache_update(cache, update, positions, trt.KVCacheMode.LINEAR)
    set_layer_name(layer, ctx.unique_name(f"{name}_kv_cache_update"))
    out = layer.get_output(0)
    ctx.aliased_outputs[out.name] = cache.name
    return out
