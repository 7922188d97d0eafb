"""dtype translation between PyTorch and TensorRT, shared by every stage.

TensorRT is imported only by the functions that translate to or from it: settings and lowering read
dtypes through this module and must not import TensorRT (a stage never imports a later one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from torch_tensorrt._trt import trt

_TORCH_TO_TRT_NAMES: dict[torch.dtype, str] = {
    torch.float32: "FLOAT",
    torch.float16: "HALF",
    torch.bfloat16: "BF16",
    torch.int8: "INT8",
    torch.uint8: "UINT8",
    torch.int32: "INT32",
    torch.int64: "INT64",
    torch.bool: "BOOL",
}


def torch_to_trt_dtype(dtype: torch.dtype) -> trt.DataType:
    from torch_tensorrt._trt import trt

    name = _TORCH_TO_TRT_NAMES.get(dtype)
    if name is None:
        raise TypeError(
            f"dtype {dtype} has no TensorRT equivalent; supported: {', '.join(str(d) for d in _TORCH_TO_TRT_NAMES)}"
        )
    return getattr(trt.DataType, name)


def trt_to_torch_dtype(dtype: trt.DataType) -> torch.dtype:
    from torch_tensorrt._trt import trt

    for torch_dtype, name in _TORCH_TO_TRT_NAMES.items():
        if dtype == getattr(trt.DataType, name):
            return torch_dtype
    raise TypeError(f"TensorRT dtype {dtype} has no PyTorch equivalent")


def dtype_from_any(value: object) -> torch.dtype:
    """Accept torch dtypes, TensorRT dtypes and common names ("fp16", "float16", "half")."""
    if isinstance(value, torch.dtype):
        return value
    if isinstance(value, str):
        aliases = {
            "fp32": torch.float32,
            "float": torch.float32,
            "float32": torch.float32,
            "fp16": torch.float16,
            "half": torch.float16,
            "float16": torch.float16,
            "bf16": torch.bfloat16,
            "bfloat16": torch.bfloat16,
            "int8": torch.int8,
            "uint8": torch.uint8,
            "int32": torch.int32,
            "int64": torch.int64,
            "long": torch.int64,
            "bool": torch.bool,
            "float64": torch.float64,
            "double": torch.float64,
        }
        if value.lower() in aliases:
            return aliases[value.lower()]
        raise TypeError(f"unknown dtype name {value!r}; use one of {sorted(aliases)}")
    try:
        return trt_to_torch_dtype(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    raise TypeError(f"cannot interpret {value!r} as a dtype")


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
