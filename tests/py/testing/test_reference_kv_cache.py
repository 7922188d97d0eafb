"""Reference executor: KVCacheUpdate (LINEAR, PADDED_BHND). Networks built by hand and by the real builder; the
expected values come from the operator's definition output[i, :, w[i] + j, :] = update[i, :, j, :]."""

from __future__ import annotations

import pytest
import torch
from _reference_net import Net, close, rand

from torch_tensorrt._trt import trt
from torch_tensorrt.testing._reference import execute_record
from torch_tensorrt.testing._reference._kv_cache import kv_cache_aliases


def _kv_net(dtype: torch.dtype, write_indices: torch.Tensor | None, index_dtype: torch.dtype = torch.int32) -> Net:
    n = Net()
    cache = n.input("cache", dtype, (2, 3, 10, 4))
    update = n.input("update", dtype, (2, 3, 2, 4))
    positions = n.const(write_indices) if write_indices is not None else n.input("positions", index_dtype, (2,))
    layer = n.network.add_kv_cache_update(cache, update, positions, trt.KVCacheMode.LINEAR)
    out = layer.get_output(0)
    total = n.network.add_reduce(out, trt.ReduceOperation.SUM, 0b1111, False).get_output(0)
    n.mark(total, out)
    return n


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_rows_are_written_at_their_own_index_into_the_bound_cache(dtype: torch.dtype) -> None:
    n = _kv_net(dtype, torch.tensor([3, 7], dtype=torch.int32))
    n.build()
    record = n.record()
    assert kv_cache_aliases(record) == {record.outputs[1]: "cache"}
    cache, update = rand(2, 3, 10, 4, dtype=dtype), rand(2, 3, 2, 4, dtype=dtype)
    expected = cache.clone()
    expected[0, :, 3:5] = update[0]
    expected[1, :, 7:9] = update[1]
    outputs = execute_record(record, {"cache": cache, "update": update})
    close(cache, expected)  # in place, as the aliased output on a GPU
    close(outputs[record.outputs[1]], expected)
    close(outputs[record.outputs[0]], expected.float().sum().to(dtype), dtype)


def test_run_time_indices_and_a_write_past_the_end() -> None:
    n = _kv_net(torch.float32, None)
    n.build()
    record = n.record()
    cache, update = torch.zeros(2, 3, 10, 4), torch.ones(2, 3, 2, 4)
    positions = torch.tensor([0, 8], dtype=torch.int32)
    execute_record(record, {"cache": cache, "update": update, "positions": positions})
    assert cache[0, :, :2].eq(1).all() and cache[1, :, 8:].eq(1).all() and cache.sum() == 48
    with pytest.raises(RuntimeError, match="write index 9 \\+ update length 2 is outside the cache's 10 positions"):
        positions = torch.tensor([0, 9], dtype=torch.int32)
        execute_record(record, {"cache": cache, "update": update, "positions": positions})


def test_tensorrt_rtx_takes_int32_write_indices_only() -> None:
    # The operator documentation allows int64 too; TensorRT-RTX 1.7's builder refuses it (the converter casts).
    with pytest.raises(AssertionError, match="failed to build"):
        _kv_net(torch.float32, None, torch.int64).build()


def test_record_keeps_the_mode_and_update_form() -> None:
    record = _kv_net(torch.float32, torch.tensor([0, 0], dtype=torch.int32)).record()
    (layer,) = [entry for entry in record.layers if entry.type == "KV_CACHE_UPDATE"]
    assert layer.params == {"cache_mode": "LINEAR", "update_form": "PADDED_BHND"}
    restored = type(record).from_bytes(record.to_bytes())
    assert kv_cache_aliases(restored) == kv_cache_aliases(record)
