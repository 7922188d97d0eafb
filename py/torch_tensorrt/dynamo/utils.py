"""Torch-TensorRT's ``dynamo.utils`` helpers, for scripts and tests written against Torch-TensorRT.

Our own code does not use these: each is a small adapter onto ``Input``/``Device`` with
Torch-TensorRT's name, arguments and meaning. One difference, because this package compiles on
machines without a GPU: where Torch-TensorRT would fall back to "the current CUDA device"
(``to_torch_device(None)``, ``get_model_device`` of a module without tensors), these fall back to the
CPU when no CUDA device is present, so the inputs they make can feed the model here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from torch_tensorrt._Device import Device
from torch_tensorrt._enums import dtype
from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo._defaults import default_device

logger = logging.getLogger("torch_tensorrt")

# Torch-TensorRT's default tolerances for comparing TensorRT outputs with PyTorch's.
COSINE_THRESHOLD = 0.99
DYNAMIC_DIM = -1
RTOL = 5e-3
ATOL = 5e-3
CPU_DEVICE = "cpu"


def _fallback_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")


def to_torch_device(device: Device | torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device``; None: the current CUDA device (the CPU without a GPU)."""
    if isinstance(device, Device):
        return device.to(torch.device)
    if isinstance(device, torch.device):
        return device
    if device is None:
        return _fallback_device()
    return torch.device(device)


def to_torch_tensorrt_device(device: Device | torch.device | str | None) -> Device:
    """``device`` as a ``torch_tensorrt.Device`` (None: GPU 0)."""
    return Device._from(device)


def get_model_device(module: torch.nn.Module) -> torch.device:
    """The device of the module's first parameter or buffer; without any, the default device (the
    CPU when this machine has no GPU)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    if torch.cuda.is_available():
        return to_torch_device(default_device())
    return torch.device("cpu")


def get_torch_tensor(input: Input, device: torch.device | str, mode: str = "") -> int | list[int] | torch.Tensor:
    """An example value for ``input`` on ``device``: a shape tensor's opt values (an int for a
    one-element shape tensor), else its tensor (``mode``: "min_shape"/"opt_shape"/"max_shape")."""
    if input.is_shape_tensor:
        values = list(input.opt_shape)
        return values[0] if len(values) == 1 else values
    tensor = input.example_tensor(mode) if mode else input.example_tensor()
    return tensor.to(device)


def get_torch_inputs(
    inputs: Sequence[Input | torch.Tensor] | Mapping[str, Any], device: Device | torch.device | str, mode: str = ""
) -> list[Any] | dict[str, Any]:
    """Example tensors for a list of ``Input``/tensors, or a dict of them (kwarg inputs)."""
    target = to_torch_device(device)
    if isinstance(inputs, Mapping):
        result: dict[str, Any] = {}
        for key, value in inputs.items():
            if isinstance(value, (list, tuple, dict)):
                result[key] = get_torch_inputs(value, target, mode)
            elif isinstance(value, Input):
                result[key] = get_torch_tensor(value, target, mode)
            elif isinstance(value, torch.Tensor):
                result[key] = value.to(target)
        return result
    values: list[Any] = []
    for item in inputs:
        if isinstance(item, Input):
            values.append(get_torch_tensor(item, target, mode))
        elif isinstance(item, torch.Tensor):
            values.append(item.to(target))
        else:
            raise TypeError(
                f"get_torch_inputs: expected torch_tensorrt.Input or torch.Tensor, got {type(item).__name__}"
            )
    return values


def input_is_dynamic(inputs: Sequence[Input | torch.Tensor]) -> bool:
    """Whether any input has a dynamic shape (an ``Input`` range or a tensor with symbolic sizes)."""
    for item in inputs:
        if isinstance(item, Input):
            if item.is_dynamic():
                return True
        elif isinstance(item, torch.Tensor):
            if any(isinstance(d, torch.SymInt) for d in item.shape):
                return True
        else:
            raise TypeError(
                f"input_is_dynamic: expected torch_tensorrt.Input or torch.Tensor, got {type(item).__name__}"
            )
    return False


def prepare_inputs(inputs: Any, disable_memory_format_check: bool = False) -> Any:
    """Tensors and Python scalars, nested in lists/tuples/dicts, as ``Input``s of the same structure."""
    if inputs is None or isinstance(inputs, Input):
        return inputs
    if isinstance(inputs, torch.Tensor):
        return Input.from_tensor(inputs, disable_memory_format_check=disable_memory_format_check)
    if isinstance(inputs, (bool, int, float)):
        return Input.from_tensor(torch.tensor(inputs), disable_memory_format_check=disable_memory_format_check)
    if isinstance(inputs, (list, tuple)):
        items = [prepare_inputs(item, disable_memory_format_check) for item in inputs]
        return items if isinstance(inputs, list) else tuple(items)
    if isinstance(inputs, dict):
        return {key: prepare_inputs(value, disable_memory_format_check) for key, value in inputs.items()}
    raise ValueError(
        f"prepare_inputs: invalid input type {type(inputs).__name__}; use torch_tensorrt.Input, torch.Tensor, "
        "a Python scalar, or lists/tuples/dicts of them"
    )


def cosine_similarity(gt_tensor: torch.Tensor, pred_tensor: torch.Tensor) -> float:
    """Cosine similarity of two tensors, flattened; 1.0 for two all-zero tensors that match."""
    expected = gt_tensor.flatten().to(torch.float32)
    actual = pred_tensor.flatten().to(torch.float32)
    if (expected.sum() == 0.0 or actual.sum() == 0.0) and torch.allclose(
        expected, actual, atol=1e-4, rtol=1e-4, equal_nan=True
    ):
        return 1.0
    return float(torch.nn.functional.cosine_similarity(expected, actual, dim=0, eps=1e-6).item())


def check_output_equal(output1: Any, output2: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether two (nested) outputs have the same structure and all their tensors are close."""
    if type(output1) is not type(output2):
        logger.warning("check_output_equal: the output types differ (%s, %s)", type(output1), type(output2))
        return False
    if isinstance(output1, torch.Tensor):
        return output1.shape == output2.shape and torch.allclose(output1, output2, rtol, atol)
    if isinstance(output1, (tuple, list)):
        return len(output1) == len(output2) and all(
            check_output_equal(a, b, rtol, atol) for a, b in zip(output1, output2)
        )
    if isinstance(output1, dict):
        return output1.keys() == output2.keys() and all(
            check_output_equal(output1[k], output2[k], rtol, atol) for k in output1
        )
    logger.warning("check_output_equal: cannot compare outputs of type %s", type(output1).__name__)
    return False


def _flatten_nodes(value: Any) -> list[torch.fx.Node]:
    if isinstance(value, torch.fx.Node):
        return [value]
    if isinstance(value, (list, tuple)):
        return [node for item in value for node in _flatten_nodes(item)]
    if isinstance(value, dict):
        return [node for item in value.values() for node in _flatten_nodes(item)]
    return []


def get_output_metadata(gm: torch.fx.GraphModule) -> list[dict[str, Any]]:
    """The ``meta`` dict of every node the graph returns, in output order."""
    output = next((node for node in gm.graph.nodes if node.op == "output"), None)
    if output is None:
        raise ValueError("get_output_metadata: the graph has no output node")
    return [node.meta for node in _flatten_nodes(output.args)]


def get_output_dtypes(output: Any, truncate_double: bool = False) -> list[dtype]:
    """The dtypes of the outputs (fx nodes, possibly nested) from their ``val``/``tensor_meta``;
    float64 becomes float32 with ``truncate_double``."""
    dtypes: list[dtype] = []
    for node in _flatten_nodes(output):
        if "val" in node.meta:
            value = node.meta["val"]
            if value is None:
                continue
            torch_dtype = torch.int64 if isinstance(value, torch.SymInt) else getattr(value, "dtype", None)
        elif "tensor_meta" in node.meta:
            torch_dtype = node.meta["tensor_meta"].dtype
        else:
            raise ValueError(
                f"node {node.name} has no 'val' or 'tensor_meta' metadata; trace the module with torch.export "
                "(or run ShapeProp on it) so that its outputs have metadata"
            )
        if torch_dtype is None:
            raise ValueError(f"node {node.name} does not produce a tensor (its value is {value!r})")
        if truncate_double and torch_dtype == torch.float64:
            torch_dtype = torch.float32
        dtypes.append(dtype._from(torch_dtype))
    return dtypes


__all__ = [
    "ATOL",
    "COSINE_THRESHOLD",
    "CPU_DEVICE",
    "DYNAMIC_DIM",
    "RTOL",
    "check_output_equal",
    "cosine_similarity",
    "get_model_device",
    "get_output_dtypes",
    "get_output_metadata",
    "get_torch_inputs",
    "get_torch_tensor",
    "input_is_dynamic",
    "prepare_inputs",
    "to_torch_device",
    "to_torch_tensorrt_device",
]
