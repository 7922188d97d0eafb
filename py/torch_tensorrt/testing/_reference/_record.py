"""Capturing an ``INetworkDefinition`` into a plain, serializable :class:`NetworkRecord`.

Everything the executor needs is read through the TensorRT Python API once, here, so that execution (and a
record saved to bytes and loaded in another process) never touches TensorRT again.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from torch_tensorrt._trt import TRT_VERSION, trt

from ._dtypes import torch_dtype

ProfileShapes = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
Profile = Mapping[str, ProfileShapes]

_FORMAT = "torch_tensorrt.reference.NetworkRecord"
_FORMAT_VERSION = 1


@dataclass
class TensorSpec:
    """A tensor as TensorRT declares it: -1 marks a dimension only known at run time."""

    name: str
    dtype: str
    shape: list[int]
    is_shape_tensor: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "is_shape_tensor": self.is_shape_tensor,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TensorSpec:
        return cls(str(d["name"]), str(d["dtype"]), [int(v) for v in d["shape"]], bool(d["is_shape_tensor"]))


@dataclass
class LayerRecord:
    """One layer: its LayerType name, its input tensor names (None for an unset optional input), its
    outputs and its parameters (plain values; enums as member names; weights as torch tensors)."""

    type: str
    name: str
    inputs: list[str | None]
    outputs: list[TensorSpec]
    params: dict[str, Any]
    precision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "inputs": list(self.inputs),
            "outputs": [o.to_dict() for o in self.outputs],
            "params": dict(self.params),
            "precision": self.precision,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LayerRecord:
        return cls(
            type=str(d["type"]),
            name=str(d["name"]),
            inputs=[None if n is None else str(n) for n in d["inputs"]],
            outputs=[TensorSpec.from_dict(o) for o in d["outputs"]],
            params=dict(d["params"]),
            precision=d.get("precision"),
        )


@dataclass
class NetworkRecord:
    """A TensorRT network captured as plain data: inputs, layers in network order, marked outputs and
    the optimization profiles (per input name: [min, opt, max] shapes, or values for shape-tensor inputs)."""

    inputs: list[TensorSpec]
    layers: list[LayerRecord]
    outputs: list[str]
    profiles: list[dict[str, list[list[int]]]] = field(default_factory=list)
    name: str = ""
    trt_version: str = ""
    # BuilderFlag names the engine was built with that change how it runs (e.g. WEIGHT_STREAMING);
    # absent from records written before the field existed.
    builder_flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "name": self.name,
            "trt_version": self.trt_version,
            "inputs": [t.to_dict() for t in self.inputs],
            "layers": [layer.to_dict() for layer in self.layers],
            "outputs": list(self.outputs),
            "profiles": [{k: [list(s) for s in v] for k, v in p.items()} for p in self.profiles],
            "builder_flags": list(self.builder_flags),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NetworkRecord:
        if d.get("format") != _FORMAT:
            raise ValueError("not a serialized reference-executor NetworkRecord")
        if d.get("format_version") != _FORMAT_VERSION:
            raise ValueError(
                f"NetworkRecord format version {d.get('format_version')} is not supported (expected {_FORMAT_VERSION})"
            )
        return cls(
            inputs=[TensorSpec.from_dict(t) for t in d["inputs"]],
            layers=[LayerRecord.from_dict(layer) for layer in d["layers"]],
            outputs=[str(o) for o in d["outputs"]],
            profiles=[{str(k): [[int(x) for x in s] for s in v] for k, v in p.items()} for p in d["profiles"]],
            name=str(d.get("name", "")),
            trt_version=str(d.get("trt_version", "")),
            builder_flags=[str(f) for f in d.get("builder_flags", [])],
        )

    def to_bytes(self) -> bytes:
        # torch.save of plain containers and tensors only, so from_bytes can use weights_only=True and a
        # record from an untrusted file cannot run code when loaded.
        buf = io.BytesIO()
        torch.save(self.to_dict(), buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NetworkRecord:
        return cls.from_dict(torch.load(io.BytesIO(data), weights_only=True))


# --------------------------------------------------------------------------------------------------
# Reading values back from the TensorRT API


def _enum_name(value: Any) -> str:
    return str(value.name)


def _dims(value: Any) -> list[int] | None:
    if value is None:
        return None
    return [int(v) for v in value]


def _raw_weights_bytes(w: Any) -> bytes:
    """Bytes behind a ``trt.Weights`` whose dtype NumPy cannot represent (e.g. BF16).

    The Python binding offers no accessor for such weights (``Weights.numpy()`` hands back the Weights
    object itself), so the C++ ``nvinfer1::Weights`` struct {DataType type; void const* values;
    int64_t count} is read through the pybind11 instance, whose first slot after the PyObject header
    points at the wrapped struct. Every field is cross-checked against the documented properties before
    the pointer is trusted; any mismatch means the layout assumption does not hold in this build.
    """
    header = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    struct_ptr = ctypes.c_void_p.from_address(id(w) + header).value
    values_ptr = None
    if struct_ptr is not None:
        dtype_field = ctypes.c_int32.from_address(struct_ptr).value
        count = ctypes.c_int64.from_address(struct_ptr + 16).value
        if dtype_field == int(w.dtype) and count == int(w.size):
            values_ptr = ctypes.c_void_p.from_address(struct_ptr + 8).value
    if values_ptr is None:
        raise NotImplementedError(
            f"reference executor: cannot read back {w.dtype} weights through this TensorRT binding"
        )
    return ctypes.string_at(values_ptr, int(w.nbytes))


def _weights(value: Any) -> torch.Tensor | None:
    """A copy (TensorRT only references the caller's memory) of layer weights as a flat tensor; None
    when the weights are empty (the parameter is unset)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return None
        return torch.from_numpy(np.array(value, copy=True).reshape(-1))
    if isinstance(value, trt.Weights):
        if int(value.size) == 0:
            return None
        dtype = torch_dtype(_enum_name(value.dtype))
        raw = bytearray(_raw_weights_bytes(value))
        return torch.frombuffer(raw, dtype=torch.uint8).view(dtype).clone()
    raise NotImplementedError(f"reference executor: unexpected weights object {type(value).__name__}")


def _has_input(layer: Any, index: int) -> bool:
    return index < layer.num_inputs and layer.get_input(index) is not None


# --------------------------------------------------------------------------------------------------
# Per-layer parameter readers. Reading a static parameter that was replaced by an input tensor makes
# TensorRT log an error, so each reader checks the optional inputs first.


def _p_activation(layer: Any) -> dict[str, Any]:
    # On the concrete class ``type`` is the ActivationType, not the LayerType.
    return {"activation_type": _enum_name(layer.type), "alpha": float(layer.alpha), "beta": float(layer.beta)}


def _p_op(layer: Any) -> dict[str, Any]:
    return {"op": _enum_name(layer.op)}


def _p_conv(layer: Any) -> dict[str, Any]:
    return {
        "num_output_maps": int(layer.num_output_maps),
        "kernel_size": _dims(layer.kernel_size_nd),
        "stride": _dims(layer.stride_nd),
        "dilation": _dims(layer.dilation_nd),
        "pre_padding": _dims(layer.pre_padding),
        "post_padding": _dims(layer.post_padding),
        "padding_mode": _enum_name(layer.padding_mode),
        "num_groups": int(layer.num_groups),
        "kernel": None if _has_input(layer, 1) else _weights(layer.kernel),
        "bias": None if _has_input(layer, 2) else _weights(layer.bias),
    }


def _p_pooling(layer: Any) -> dict[str, Any]:
    return {
        "pooling_type": _enum_name(layer.type),
        "window_size": _dims(layer.window_size_nd),
        "stride": _dims(layer.stride_nd),
        "pre_padding": _dims(layer.pre_padding),
        "post_padding": _dims(layer.post_padding),
        "padding_mode": _enum_name(layer.padding_mode),
        "blend_factor": float(layer.blend_factor),
        "average_count_excludes_padding": bool(layer.average_count_excludes_padding),
    }


def _p_reduce(layer: Any) -> dict[str, Any]:
    return {"op": _enum_name(layer.op), "axes": int(layer.axes), "keep_dims": bool(layer.keep_dims)}


def _p_shuffle(layer: Any) -> dict[str, Any]:
    # Permutations come back padded to Dims::MAX_DIMS; only the first rank entries are meaningful.
    in_rank = len(layer.get_input(0).shape)
    out_rank = len(layer.get_output(0).shape)
    return {
        "first_transpose": [int(v) for v in layer.first_transpose][:in_rank],
        "reshape_dims": None if _has_input(layer, 1) else _dims(layer.reshape_dims),
        "second_transpose": [int(v) for v in layer.second_transpose][:out_rank],
        "zero_is_placeholder": bool(layer.zero_is_placeholder),
    }


def _p_slice(layer: Any) -> dict[str, Any]:
    return {
        "start": None if _has_input(layer, 1) else _dims(layer.start),
        "shape": None if _has_input(layer, 2) else _dims(layer.shape),
        "stride": None if _has_input(layer, 3) else _dims(layer.stride),
        "mode": _enum_name(layer.mode),
        "axes": None if _has_input(layer, 5) else _dims(getattr(layer, "axes", None)),
    }


def _p_axis(layer: Any) -> dict[str, Any]:
    return {"axis": int(layer.axis)}


def _p_matmul(layer: Any) -> dict[str, Any]:
    return {"op0": _enum_name(layer.op0), "op1": _enum_name(layer.op1)}


def _p_constant(layer: Any) -> dict[str, Any]:
    return {"shape": _dims(layer.shape), "weights": _weights(layer.weights)}


def _p_none(layer: Any) -> dict[str, Any]:
    return {}


def _p_cast(layer: Any) -> dict[str, Any]:
    return {"to_type": _enum_name(layer.to_type)}


def _p_axes(layer: Any) -> dict[str, Any]:
    return {"axes": int(layer.axes)}


def _p_normalization(layer: Any) -> dict[str, Any]:
    return {
        "axes": int(layer.axes),
        "epsilon": float(layer.epsilon),
        "num_groups": int(layer.num_groups),
        "is_v2": bool(getattr(layer, "is_v2", False)),
    }


def _p_scale(layer: Any) -> dict[str, Any]:
    return {
        "mode": _enum_name(layer.mode),
        "shift": _weights(layer.shift),
        "scale": _weights(layer.scale),
        "power": _weights(layer.power),
        "channel_axis": int(layer.channel_axis),
    }


def _p_gather(layer: Any) -> dict[str, Any]:
    return {
        "mode": _enum_name(layer.mode),
        "axis": int(layer.axis),
        "num_elementwise_dims": int(layer.num_elementwise_dims),
    }


def _p_fill(layer: Any) -> dict[str, Any]:
    is_int64 = layer.is_alpha_beta_int64
    is_int64 = bool(is_int64() if callable(is_int64) else is_int64)
    convert: Callable[[Any], int | float] = int if is_int64 else float
    return {
        "operation": _enum_name(layer.operation),
        "shape": None if _has_input(layer, 0) else _dims(layer.shape),
        "alpha": None if _has_input(layer, 1) else convert(layer.alpha),
        "beta": None if _has_input(layer, 2) else convert(layer.beta),
        "is_alpha_beta_int64": is_int64,
        "to_type": _enum_name(layer.to_type),
    }


def _p_resize(layer: Any) -> dict[str, Any]:
    # Output dims, scales or an output-shape input: exactly one is in effect. The shape is read first
    # because it reads back as None when scales are set, while reading unset scales logs a warning.
    dynamic = _has_input(layer, 1)
    shape = None if dynamic else _dims(layer.shape)
    scales = None if dynamic or shape is not None else [float(s) for s in layer.scales]
    return {
        "shape": shape,
        "scales": scales or None,
        "resize_mode": _enum_name(layer.resize_mode),
        "coordinate_transformation": _enum_name(layer.coordinate_transformation),
        "selector_for_single_pixel": _enum_name(layer.selector_for_single_pixel),
        "nearest_rounding": _enum_name(layer.nearest_rounding),
        "cubic_coeff": float(layer.cubic_coeff),
        "exclude_outside": bool(layer.exclude_outside),
    }


def _p_grid_sample(layer: Any) -> dict[str, Any]:
    return {
        "interpolation_mode": _enum_name(layer.interpolation_mode),
        "sample_mode": _enum_name(layer.sample_mode),
        "align_corners": bool(layer.align_corners),
    }


def _p_topk(layer: Any) -> dict[str, Any]:
    return {
        "op": _enum_name(layer.op),
        "k": None if _has_input(layer, 1) else int(layer.k),
        "axes": int(layer.axes),
        "indices_type": _enum_name(layer.indices_type),
    }


def _p_padding(layer: Any) -> dict[str, Any]:
    return {"pre_padding": _dims(layer.pre_padding_nd), "post_padding": _dims(layer.post_padding_nd)}


def _p_scatter(layer: Any) -> dict[str, Any]:
    return {"mode": _enum_name(layer.mode), "axis": int(layer.axis)}


def _p_einsum(layer: Any) -> dict[str, Any]:
    return {"equation": str(layer.equation)}


def _p_cumulative(layer: Any) -> dict[str, Any]:
    return {"op": _enum_name(layer.op), "exclusive": bool(layer.exclusive), "reverse": bool(layer.reverse)}


def _p_indices_type(layer: Any) -> dict[str, Any]:
    return {"indices_type": _enum_name(layer.indices_type)}


def _p_assertion(layer: Any) -> dict[str, Any]:
    return {"message": str(layer.message)}


def _p_qdq(layer: Any) -> dict[str, Any]:
    try:
        block_shape = layer.block_shape
    except (AttributeError, RuntimeError):  # the binding raises when no block shape is set
        block_shape = None
    return {
        "axis": int(layer.axis),
        "to_type": _enum_name(layer.to_type),
        "block_shape": _dims(block_shape) if block_shape is not None else None,
    }


def _p_reverse_sequence(layer: Any) -> dict[str, Any]:
    return {"batch_axis": int(layer.batch_axis), "sequence_axis": int(layer.sequence_axis)}


def _p_kv_cache_update(layer: Any) -> dict[str, Any]:
    return {"cache_mode": _enum_name(layer.cache_mode), "update_form": _enum_name(layer.update_form)}


# LayerType name -> (concrete binding class name, parameter reader)
_CAPTURE: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "ACTIVATION": ("IActivationLayer", _p_activation),
    "ELEMENTWISE": ("IElementWiseLayer", _p_op),
    "UNARY": ("IUnaryLayer", _p_op),
    "CONVOLUTION": ("IConvolutionLayer", _p_conv),
    "DECONVOLUTION": ("IDeconvolutionLayer", _p_conv),
    "POOLING": ("IPoolingLayer", _p_pooling),
    "REDUCE": ("IReduceLayer", _p_reduce),
    "SHUFFLE": ("IShuffleLayer", _p_shuffle),
    "SLICE": ("ISliceLayer", _p_slice),
    "CONCATENATION": ("IConcatenationLayer", _p_axis),
    "MATRIX_MULTIPLY": ("IMatrixMultiplyLayer", _p_matmul),
    "CONSTANT": ("IConstantLayer", _p_constant),
    "IDENTITY": ("IIdentityLayer", _p_none),
    "CAST": ("ICastLayer", _p_cast),
    "SOFTMAX": ("ISoftMaxLayer", _p_axes),
    "NORMALIZATION": ("INormalizationLayer", _p_normalization),
    "SCALE": ("IScaleLayer", _p_scale),
    "GATHER": ("IGatherLayer", _p_gather),
    "SELECT": ("ISelectLayer", _p_none),
    "SHAPE": ("IShapeLayer", _p_none),
    "FILL": ("IFillLayer", _p_fill),
    "RESIZE": ("IResizeLayer", _p_resize),
    "GRID_SAMPLE": ("IGridSampleLayer", _p_grid_sample),
    "TOPK": ("ITopKLayer", _p_topk),
    "PADDING": ("IPaddingLayer", _p_padding),
    "SCATTER": ("IScatterLayer", _p_scatter),
    "EINSUM": ("IEinsumLayer", _p_einsum),
    "CUMULATIVE": ("ICumulativeLayer", _p_cumulative),
    "NON_ZERO": ("INonZeroLayer", _p_indices_type),
    "ONE_HOT": ("IOneHotLayer", _p_axis),
    "SQUEEZE": ("ISqueezeLayer", _p_none),
    "UNSQUEEZE": ("IUnsqueezeLayer", _p_none),
    "PARAMETRIC_RELU": ("IParametricReLULayer", _p_none),
    "ASSERTION": ("IAssertionLayer", _p_assertion),
    "QUANTIZE": ("IQuantizeLayer", _p_qdq),
    "DEQUANTIZE": ("IDequantizeLayer", _p_qdq),
    "REVERSE_SEQUENCE": ("IReverseSequenceLayer", _p_reverse_sequence),
    "KV_CACHE_UPDATE": ("IKVCacheUpdateLayer", _p_kv_cache_update),
}


def _tensor_spec(tensor: Any) -> TensorSpec:
    try:
        shape = [int(d) for d in tensor.shape]
    except RuntimeError as e:
        # TensorRT cannot infer shapes of an invalid network (its log says why).
        raise ValueError(f"TensorRT cannot infer the shape of tensor '{tensor.name}'; the network is invalid") from e
    return TensorSpec(
        name=str(tensor.name),
        dtype=_enum_name(tensor.dtype),
        shape=shape,
        is_shape_tensor=bool(tensor.is_shape_tensor),
    )


def _layer_precision(layer: Any) -> str | None:
    # Standard TensorRT's weakly typed networks carry per-layer precisions; TensorRT-RTX networks are
    # always strongly typed and their layers have no such attribute.
    if getattr(layer, "precision_is_set", False):
        return _enum_name(layer.precision)
    return None


def _capture_layer(layer: Any) -> LayerRecord:
    # The LayerType must be read before the cast: on several concrete classes ``type`` means something
    # else (IActivationLayer.type is the ActivationType, IPoolingLayer.type the PoolingType).
    layer_type = _enum_name(layer.type)
    inputs = [None if t is None else str(t.name) for t in (layer.get_input(i) for i in range(layer.num_inputs))]
    outputs = [_tensor_spec(layer.get_output(i)) for i in range(layer.num_outputs)]
    precision = _layer_precision(layer)
    params: dict[str, Any] = {}
    entry = _CAPTURE.get(layer_type)
    if entry is not None:
        class_name, reader = entry
        # network.get_layer() returns the ILayer base; TensorRT's own samples recover the concrete
        # interface by reassigning __class__. pybind11 may hand this same wrapper to other code, so the
        # base class is restored afterwards (on the concrete class ``type`` means something else).
        original = layer.__class__
        layer.__class__ = getattr(trt, class_name)
        try:
            params = reader(layer)
        finally:
            layer.__class__ = original
    # A layer type without a reader is still recorded (type, name, tensors): executing it raises
    # NotImplementedError naming the type, but capturing a network never fails because of it.
    return LayerRecord(
        type=layer_type, name=str(layer.name), inputs=inputs, outputs=outputs, params=params, precision=precision
    )


def _normalize_profiles(profiles: Sequence[Profile] | None, input_names: set[str]) -> list[dict[str, list[list[int]]]]:
    result: list[dict[str, list[list[int]]]] = []
    for index, profile in enumerate(profiles or []):
        entry: dict[str, list[list[int]]] = {}
        for name, shapes in profile.items():
            if name not in input_names:
                raise ValueError(f"profile {index} names '{name}', which is not an input of the network")
            if len(shapes) != 3:
                raise ValueError(f"profile {index} for input '{name}' must be (min, opt, max), got {shapes!r}")
            entry[str(name)] = [[int(v) for v in s] for s in shapes]
        result.append(entry)
    return result


def capture_network(network: Any, profiles: Sequence[Profile] | None = None) -> NetworkRecord:
    """Read a TensorRT ``INetworkDefinition`` into a :class:`NetworkRecord`.

    ``profiles`` gives, per optimization profile, ``{input_name: (min, opt, max)}`` shapes (values for
    shape-tensor inputs); the network does not hold them, the builder config does. Weights are copied, so
    the record stays valid after the network and the arrays it referenced are gone.
    """
    inputs = [_tensor_spec(network.get_input(i)) for i in range(network.num_inputs)]
    layers = [_capture_layer(network.get_layer(i)) for i in range(network.num_layers)]
    outputs = [str(network.get_output(i).name) for i in range(network.num_outputs)]
    return NetworkRecord(
        inputs=inputs,
        layers=layers,
        outputs=outputs,
        profiles=_normalize_profiles(profiles, {t.name for t in inputs}),
        name=str(getattr(network, "name", "") or ""),
        trt_version=str(TRT_VERSION),
    )
