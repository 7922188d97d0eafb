"""KVCacheUpdate (TensorRT operator documentation, ``IKVCacheUpdateLayer``).

Inputs ``cache`` ``[b, d, s_max, h]`` (a network input), ``update`` ``[b, d, s, h]`` of the cache's type
and ``writeIndices`` ``[b]`` (int32/int64). ``KVCacheMode.LINEAR`` with the ``PADDED_BHND`` update form:
``output[i, :, writeIndices[i] + j, :] = update[i, :, j, :]`` for ``j < s``; the rest of the cache is kept.
The output is a network output sharing the cache input's memory, so the write goes into the tensor bound
to the cache input, as on a GPU. A write past ``s_max`` is undefined in TensorRT; here it is an error.
"""

from __future__ import annotations

from ._common import Inputs, Tensor, enum_param, layer_error, need, register, unsupported
from ._record import LayerRecord, NetworkRecord


@register("KV_CACHE_UPDATE")
def _kv_cache_update(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    enum_param(layer, "cache_mode", "KVCacheMode", ("LINEAR",))
    enum_param(layer, "update_form", "AttentionIOForm", ("PADDED_BHND",))
    cache, update, positions = need(layer, inputs, 0), need(layer, inputs, 1), need(layer, inputs, 2)
    if cache.dim() != 4 or update.dim() != 4 or positions.shape != (cache.shape[0],):
        raise unsupported(
            layer, f"cache {tuple(cache.shape)}, update {tuple(update.shape)}, write indices {tuple(positions.shape)}"
        )
    length = update.shape[2]
    for row, start in enumerate(int(p) for p in positions.tolist()):
        if start < 0 or start + length > cache.shape[2]:
            raise layer_error(
                layer, f"write index {start} + update length {length} is outside the cache's {cache.shape[2]} positions"
            )
        cache[row, :, start : start + length, :] = update[row]
    return [cache]


def kv_cache_aliases(record: NetworkRecord) -> dict[str, str]:
    """Network output name -> the network input it shares memory with (its KV-cache update layer's cache)."""
    inputs = {spec.name for spec in record.inputs}
    outputs = set(record.outputs)
    return {
        layer.outputs[0].name: str(layer.inputs[0])
        for layer in record.layers
        if layer.type == "KV_CACHE_UPDATE" and layer.inputs[0] in inputs and layer.outputs[0].name in outputs
    }
