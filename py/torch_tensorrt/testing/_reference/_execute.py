"""Evaluating a :class:`NetworkRecord` layer by layer on CPU."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch

# The semantics modules register their layer handlers on import.
from . import _conv, _pointwise, _quant, _reduce, _resize, _tensor  # noqa: F401
from ._common import HANDLERS, describe
from ._dtypes import torch_dtype
from ._record import LayerRecord, NetworkRecord, Profile, TensorSpec, capture_network


def _shape_str(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def _check_declared(spec: TensorSpec, t: torch.Tensor, owner: str) -> None:
    dtype = torch_dtype(spec.dtype)
    if t.dtype != dtype:
        raise ValueError(f"{owner} '{spec.name}': expected dtype {dtype} (DataType.{spec.dtype}), got {t.dtype}")
    if t.dim() != len(spec.shape):
        raise ValueError(
            f"{owner} '{spec.name}': expected rank {len(spec.shape)} (shape {_shape_str(spec.shape)}), "
            f"got rank {t.dim()} (shape {_shape_str(t.shape)})"
        )
    for d, (want, got) in enumerate(zip(spec.shape, t.shape, strict=True)):
        if want != -1 and want != int(got):
            raise ValueError(
                f"{owner} '{spec.name}': dimension {d} is fixed to {want} (declared shape "
                f"{_shape_str(spec.shape)}), got shape {_shape_str(t.shape)}"
            )


def _profile_violation(spec: TensorSpec, t: torch.Tensor, bounds: list[list[int]]) -> str | None:
    lo, hi = bounds[0], bounds[2]
    # A shape-tensor input's profile bounds its values; any other input's profile bounds its shape.
    found = [int(v) for v in t.reshape(-1).tolist()] if spec.is_shape_tensor else [int(d) for d in t.shape]
    what = "values" if spec.is_shape_tensor else "shape"
    if len(found) != len(lo) or any(not a <= v <= b for a, v, b in zip(lo, found, hi, strict=True)):
        return (
            f"input '{spec.name}' has {what} {_shape_str(found)}, outside min {_shape_str(lo)} / max {_shape_str(hi)}"
        )
    return None


def _validate_inputs(record: NetworkRecord, inputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    declared = {spec.name for spec in record.inputs}
    unknown = sorted(set(inputs) - declared)
    if unknown:
        raise ValueError(f"unknown input(s) {unknown}; the network's inputs are {sorted(declared)}")
    values: dict[str, torch.Tensor] = {}
    for spec in record.inputs:
        if spec.name not in inputs:
            raise ValueError(
                f"input '{spec.name}' is missing: expected a tensor of dtype {torch_dtype(spec.dtype)} "
                f"and shape {_shape_str(spec.shape)}"
            )
        t = inputs[spec.name]
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"input '{spec.name}': expected a torch.Tensor, got {type(t).__name__}")
        t = t.detach().cpu()
        _check_declared(spec, t, "input")
        values[spec.name] = t
    if record.profiles:
        problems: list[str] = []
        for index, profile in enumerate(record.profiles):
            found = [
                v
                for spec in record.inputs
                if spec.name in profile
                and (v := _profile_violation(spec, values[spec.name], profile[spec.name])) is not None
            ]
            if not found:
                break
            problems.append(f"profile {index}: " + "; ".join(found))
        else:
            raise ValueError("inputs fit no optimization profile: " + " | ".join(problems))
    return values


def _schedule(record: NetworkRecord, available: set[str]) -> list[LayerRecord]:
    """Layers needed for the marked outputs and the assertions, in dependency order.

    The network's layer order is not trusted to be topological (setInput can wire a layer to a tensor
    produced by a later layer), and layers nothing depends on are skipped, as TensorRT eliminates them.
    """
    producer: dict[str, int] = {}
    for index, layer in enumerate(record.layers):
        for out in layer.outputs:
            producer[out.name] = index
    roots = [producer[name] for name in record.outputs if name not in available]
    roots += [i for i, layer in enumerate(record.layers) if layer.type == "ASSERTION"]
    order: list[int] = []
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    for root in roots:
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            index, expanded = stack.pop()
            if expanded:
                state[index] = 2
                order.append(index)
                continue
            if state.get(index) == 2:
                continue
            if state.get(index) == 1:
                raise RuntimeError(f"reference executor: {describe(record.layers[index])} is part of a cycle")
            state[index] = 1
            stack.append((index, True))
            for name in record.layers[index].inputs:
                if name is None or name in available:
                    continue
                if name not in producer:
                    raise RuntimeError(
                        f"reference executor: tensor '{name}' used by {describe(record.layers[index])} "
                        "is produced by no layer"
                    )
                dep = producer[name]
                if state.get(dep) != 2:
                    stack.append((dep, False))
    return [record.layers[i] for i in order]


def _run_layer(layer: LayerRecord, values: dict[str, torch.Tensor]) -> None:
    handler = HANDLERS.get(layer.type)
    if handler is None:
        raise NotImplementedError(f"reference executor: LayerType.{layer.type} is not supported (layer '{layer.name}')")
    args = [None if name is None else values[name] for name in layer.inputs]
    outputs = handler(layer, args)
    if len(outputs) != len(layer.outputs):
        raise RuntimeError(f"reference executor: {describe(layer)} produced {len(outputs)} outputs")
    for spec, t in zip(layer.outputs, outputs, strict=True):
        # TensorRT's own type and shape inference is the oracle: a mismatch is a bug in this executor's
        # semantics for the layer (or a layer TensorRT would reject), never something to paper over.
        try:
            _check_declared(spec, t, "output")
        except ValueError as e:
            raise RuntimeError(f"reference executor: {describe(layer)} disagrees with TensorRT: {e}") from None
        values[spec.name] = t


def execute_record(
    record: NetworkRecord, inputs: Mapping[str, torch.Tensor], layer_times: list[tuple[str, float]] | None = None
) -> dict[str, torch.Tensor]:
    """Evaluate a captured network on CPU; returns the marked outputs by name. With ``layer_times``, each
    layer evaluated appends (its name, milliseconds it took), in evaluation order (the emulated runtime's
    stand-in for TensorRT's per-layer profiler)."""
    values = _validate_inputs(record, inputs)
    with torch.no_grad():
        for layer in _schedule(record, set(values)):
            if layer_times is None:
                _run_layer(layer, values)
                continue
            start = time.perf_counter()
            _run_layer(layer, values)
            layer_times.append((layer.name, (time.perf_counter() - start) * 1000.0))
    # Engine outputs are buffers of their own: copy any output that shares memory with an input or
    # with another output (identity layers, reshapes, an input marked as an output).
    seen = {values[spec.name].untyped_storage().data_ptr() for spec in record.inputs}
    result: dict[str, torch.Tensor] = {}
    for name in record.outputs:
        t = values[name]
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen and t.numel():
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        result[name] = t
    return result


def execute_network(
    network: Any, inputs: Mapping[str, torch.Tensor], profiles: Sequence[Profile] | None = None
) -> dict[str, torch.Tensor]:
    """Capture ``network`` (see :func:`capture_network`) and evaluate it for ``inputs``."""
    return execute_record(capture_network(network, profiles), inputs)
