"""Reference executor: capture, NetworkRecord serialization, input validation, unsupported layers, speed."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _reference_net import Net, close, rand

from torch_tensorrt._trt import trt
from torch_tensorrt.testing._reference import (
    NetworkRecord,
    capture_network,
    execute_network,
    execute_record,
)
from torch_tensorrt.testing._reference._record import _raw_weights_bytes


def _small_net() -> tuple[Net, dict[str, torch.Tensor]]:
    n = Net()
    x = n.input("x", torch.float32, (-1, 3, 6, 6))
    w, b = rand(4, 3, 3, 3), rand(4)
    conv = n.network.add_convolution_nd(x, 4, (3, 3), n.weights(w), n.weights(b))
    conv.padding_nd = (1, 1)
    act = n.network.add_activation(conv.get_output(0), trt.ActivationType.RELU)
    pool = n.network.add_pooling_nd(act.get_output(0), trt.PoolingType.MAX, (2, 2))
    pool.stride_nd = (2, 2)
    bias = n.const(rand(1, 4, 1, 1, dtype=torch.bfloat16))
    cast = n.network.add_cast(pool.get_output(0), trt.bfloat16)
    add = n.network.add_elementwise(cast.get_output(0), bias, trt.ElementWiseOperation.SUM)
    n.mark(add.get_output(0), n.network.add_shape(x).get_output(0))
    return n, {"w": w, "b": b}


PROFILES = [{"x": ((1, 3, 6, 6), (2, 3, 6, 6), (4, 3, 6, 6))}]


def test_capture_contents() -> None:
    n, _ = _small_net()
    record = n.record(PROFILES)
    assert [t.name for t in record.inputs] == ["x"]
    assert record.inputs[0].shape == [-1, 3, 6, 6] and record.inputs[0].dtype == "FLOAT"
    assert record.profiles == [{"x": [[1, 3, 6, 6], [2, 3, 6, 6], [4, 3, 6, 6]]}]
    types = [layer.type for layer in record.layers]
    assert types == ["CONVOLUTION", "ACTIVATION", "POOLING", "CONSTANT", "CAST", "ELEMENTWISE", "SHAPE"]
    conv = record.layers[0]
    assert conv.params["padding_mode"] == "EXPLICIT_ROUND_DOWN"  # enums are stored by member name
    assert conv.params["kernel"].dtype == torch.float32 and conv.params["kernel"].numel() == 108
    assert record.layers[1].params["activation_type"] == "RELU"
    assert record.layers[2].params["pooling_type"] == "MAX"
    assert record.layers[3].params["weights"].dtype == torch.bfloat16  # read back without NumPy
    assert record.layers[4].params["to_type"] == "BF16"
    assert record.layers[5].outputs[0].dtype == "BF16"
    assert record.layers[6].outputs[0].dtype == "INT64"
    assert all(layer.precision is None for layer in record.layers)  # strongly typed: no layer precisions
    assert len(record.outputs) == 2


def test_unset_optional_inputs_are_none() -> None:
    n = Net()
    x = n.input("x", torch.float32, (4,))
    layer = n.network.add_slice(x, (0,), (2,), (1,))
    layer.mode = trt.SampleMode.FILL
    layer.set_input(4, n.const(torch.tensor(1.0)))
    n.mark(layer.get_output(0))
    record = n.record()
    slice_layer = next(layer for layer in record.layers if layer.type == "SLICE")
    assert slice_layer.inputs[1:4] == [None, None, None] and slice_layer.inputs[4] is not None


def test_record_round_trip_bytes() -> None:
    n, _ = _small_net()
    n.build(PROFILES)
    record = n.record(PROFILES)
    data = record.to_bytes()
    # Plain containers and tensors only: loadable with weights_only=True, no custom classes.
    raw = torch.load(io.BytesIO(data), weights_only=True)
    assert isinstance(raw, dict) and raw["format"] == "torch_tensorrt.reference.NetworkRecord"
    restored = NetworkRecord.from_bytes(data)
    _assert_same(restored.to_dict(), record.to_dict())
    xv = rand(3, 3, 6, 6)
    a = execute_record(record, {"x": xv})
    b = execute_record(restored, {"x": xv})
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name])


def _assert_same(a: object, b: object) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    else:
        assert a == b and type(a) is type(b)


def test_from_bytes_rejects_other_data() -> None:
    buf = io.BytesIO()
    torch.save({"something": 1}, buf)
    with pytest.raises(ValueError, match="not a serialized"):
        NetworkRecord.from_bytes(buf.getvalue())


def test_execute_network_matches_torch() -> None:
    n, wb = _small_net()
    n.build(PROFILES)
    xv = rand(2, 3, 6, 6)
    outputs = execute_network(n.network, {"x": xv}, PROFILES)
    record = capture_network(n.network)
    bias = record.layers[3].params["weights"].reshape(1, 4, 1, 1)
    expected = F.max_pool2d(torch.relu(F.conv2d(xv, wb["w"], wb["b"], padding=1)), 2).to(torch.bfloat16) + bias
    values = [outputs[name] for name in record.outputs]
    close(values[0], expected)
    close(values[1], torch.tensor([2, 3, 6, 6]))


def test_raw_weights_read_agrees_with_numpy() -> None:
    # The pointer-based reader (needed for BF16) must see exactly the bytes NumPy sees.
    array = np.arange(10, dtype=np.float16)
    assert _raw_weights_bytes(trt.Weights(array)) == array.tobytes()


# ------------------------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    "inputs,message",
    [
        ({}, "input 'x' is missing: expected a tensor of dtype torch.float32 and shape \\(-1, 3, 6, 6\\)"),
        ({"x": torch.zeros(2, 3, 6, 6, dtype=torch.float16)}, "input 'x': expected dtype torch.float32"),
        ({"x": torch.zeros(3, 6, 6)}, "input 'x': expected rank 4 .* got rank 3"),
        ({"x": torch.zeros(2, 3, 7, 6)}, "input 'x': dimension 2 is fixed to 6 .* got shape \\(2, 3, 7, 6\\)"),
        ({"x": torch.zeros(5, 3, 6, 6)}, "input 'x' has shape \\(5, 3, 6, 6\\), outside min \\(1, 3, 6, 6\\) / max"),
        ({"x": torch.zeros(2, 3, 6, 6), "y": torch.zeros(1)}, "unknown input\\(s\\) \\['y'\\]"),
        ({"x": np.zeros((2, 3, 6, 6), np.float32)}, "input 'x': expected a torch.Tensor"),
    ],
    ids=["missing", "dtype", "rank", "fixed-dim", "profile", "unknown", "not-tensor"],
)
def test_input_validation(inputs: dict[str, object], message: str) -> None:
    n, _ = _small_net()
    record = n.record(PROFILES)
    with pytest.raises(ValueError, match=message):
        execute_record(record, inputs)  # type: ignore[arg-type]


def test_multiple_profiles() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1, 2))
    n.mark(n.network.add_unary(x, trt.UnaryOperation.NEG).get_output(0))
    profiles = [{"x": ((1, 2), (2, 2), (3, 2))}, {"x": ((8, 2), (9, 2), (10, 2))}]
    n.build(profiles)
    record = n.record(profiles)
    xv = rand(9, 2)
    close(execute_record(record, {"x": xv})[record.outputs[0]], -xv)  # fits the second profile
    with pytest.raises(ValueError, match="profile 0: .*\\(5, 2\\).* \\| profile 1: "):
        execute_record(record, {"x": rand(5, 2)})


def test_profile_names_unknown_input() -> None:
    n = Net()
    x = n.input("x", torch.float32, (-1,))
    n.mark(n.network.add_identity(x).get_output(0))
    with pytest.raises(ValueError, match="'nope', which is not an input"):
        capture_network(n.network, [{"nope": ((1,), (1,), (1,))}])


# --------------------------------------------------------------------------- unsupported / checks


def test_unsupported_layer_type_is_named() -> None:
    n = Net()
    boxes = n.input("boxes", torch.float32, (1, 10, 4))
    scores = n.input("scores", torch.float32, (1, 10, 1))
    nms = n.network.add_nms(boxes, scores, n.const(torch.tensor(5, dtype=torch.int32)))
    n.mark(nms.get_output(0))
    # (Not built: TensorRT-RTX on this GPU-less machine has no NMS implementation to build with.)
    record = n.record()  # capturing never fails because of an unsupported layer
    with pytest.raises(NotImplementedError, match="reference executor: LayerType.NMS is not supported"):
        execute_record(record, {"boxes": rand(1, 10, 4), "scores": rand(1, 10, 1)})


def test_unsupported_parameter_value_is_named() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3))
    n.mark(n.network.add_reduce(x, trt.ReduceOperation.SUM, 1, False).get_output(0))
    record = n.record()
    record.layers[0].params["op"] = "NONE"
    with pytest.raises(NotImplementedError, match="ReduceOperation.NONE is not supported"):
        execute_record(record, {"x": rand(2, 3)})


def test_unused_layers_are_not_evaluated() -> None:
    # TensorRT drops layers no output depends on; an unsupported one must not fail the evaluation.
    n = Net()
    x = n.input("x", torch.float32, (2, 3, 4, 4))
    n.network.add_lrn(x, 3, 1.0, 0.5, 1.0)
    n.mark(n.network.add_unary(x, trt.UnaryOperation.ABS).get_output(0))
    xv = rand(2, 3, 4, 4)
    close(n.run({"x": xv})[0], xv.abs())


def test_disagreement_with_tensorrt_shape_inference_is_reported() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 3))
    n.mark(n.network.add_unary(x, trt.UnaryOperation.ABS).get_output(0))
    record = n.record()
    record.layers[0].outputs[0].shape = [3, 2]
    with pytest.raises(RuntimeError, match="disagrees with TensorRT"):
        execute_record(record, {"x": rand(2, 3)})


def test_outputs_do_not_alias_record() -> None:
    n = Net()
    c = n.const(torch.tensor([1.0, 2.0]))
    n.mark(c)
    n.build()
    record = n.record()
    out = execute_record(record, {})[record.outputs[0]]
    out.fill_(5.0)
    close(execute_record(record, {})[record.outputs[0]], torch.tensor([1.0, 2.0]))


def test_quantize_dequantize_int8() -> None:
    n = Net()
    x = n.input("x", torch.float32, (2, 4))
    scale = n.const(torch.tensor(0.05))
    q = n.network.add_quantize(x, scale, trt.int8)
    dq = n.network.add_dequantize(q.get_output(0), scale, trt.float32)
    n.mark(dq.get_output(0))
    xv = torch.tensor([[0.024, 0.026, -0.075, 10.0], [-10.0, 0.0, 1.0, -0.125]])
    expected = torch.clamp(torch.round(xv / 0.05), -128, 127) * 0.05
    close(n.run({"x": xv})[0], expected)


# ------------------------------------------------------------------------------------ performance


def _resnet50(n: Net, x: object) -> object:
    """ResNet-50 topology (convolutions with bias, batch norm as Scale layers, ReLU, residual adds)."""
    net = n.network

    def conv(t: object, cin: int, cout: int, k: int, stride: int = 1, relu: bool = True) -> object:
        w = torch.randn(cout, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5
        layer = net.add_convolution_nd(t, cout, (k, k), n.weights(w), n.weights(torch.zeros(cout)))
        layer.stride_nd, layer.padding_nd = (stride, stride), (k // 2, k // 2)
        bn = net.add_scale(
            layer.get_output(0), trt.ScaleMode.CHANNEL, n.weights(torch.zeros(cout)), n.weights(torch.ones(cout)), None
        )
        out = bn.get_output(0)
        return net.add_activation(out, trt.ActivationType.RELU).get_output(0) if relu else out

    t = conv(x, 3, 64, 7, 2)
    pool = net.add_pooling_nd(t, trt.PoolingType.MAX, (3, 3))
    pool.stride_nd, pool.padding_nd = (2, 2), (1, 1)
    t, cin = pool.get_output(0), 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            s = stride if i == 0 else 1
            y = conv(conv(conv(t, cin, width, 1), width, width, 3, s), width, width * 4, 1, relu=False)
            shortcut = conv(t, cin, width * 4, 1, s, relu=False) if i == 0 else t
            add = net.add_elementwise(y, shortcut, trt.ElementWiseOperation.SUM).get_output(0)
            t, cin = net.add_activation(add, trt.ActivationType.RELU).get_output(0), width * 4
    pooled = net.add_reduce(t, trt.ReduceOperation.AVG, 0b1100, False).get_output(0)
    fc = n.const(torch.randn(2048, 1000) * 0.01)
    return net.add_matrix_multiply(pooled, trt.MatrixOperation.NONE, fc, trt.MatrixOperation.NONE).get_output(0)


def test_resnet50_sized_network_runs_fast() -> None:
    torch.manual_seed(0)
    n = Net()
    x = n.input("x", torch.float32, (1, 3, 224, 224))
    n.mark(_resnet50(n, x))
    assert n.network.num_layers >= 170
    wall, cpu = time.perf_counter(), time.process_time()
    record = n.record()
    xv = torch.randn(1, 3, 224, 224)
    (out,) = execute_record(record, {"x": xv}).values()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
    # Budget: 10 s on 2 cores. CPU time (summed over threads) is the measure, so that other jobs
    # competing for the same cores do not make the test flaky; wall time is reported alongside.
    budget = 10.0 * max(torch.get_num_threads(), 1)
    assert cpu < budget, f"capture + execution took {cpu:.1f} s CPU ({wall:.1f} s wall)"
