"""TensorRT data types as plain strings, and their PyTorch equivalents.

Records store a data type as the TensorRT ``DataType`` member name (``"FLOAT"``, ``"HALF"``, ...) so that
a record can be loaded with ``torch.load(weights_only=True)`` in a process that never imported TensorRT.
"""

from __future__ import annotations

import torch

# Only types whose PyTorch representation is exact are listed; INT4, FP4 and E8M0 have no plain torch
# dtype, so networks using them are reported as unsupported instead of being approximated.
_TRT_TO_TORCH: dict[str, torch.dtype] = {
    "FLOAT": torch.float32,
    "HALF": torch.float16,
    "BF16": torch.bfloat16,
    "INT8": torch.int8,
    "INT32": torch.int32,
    "INT64": torch.int64,
    "BOOL": torch.bool,
    "UINT8": torch.uint8,
    "FP8": torch.float8_e4m3fn,
}

_TORCH_TO_TRT: dict[torch.dtype, str] = {v: k for k, v in _TRT_TO_TORCH.items()}

FLOATING = (torch.float32, torch.float16, torch.bfloat16)
INTEGER = (torch.int8, torch.int32, torch.int64, torch.uint8)
INDEX = (torch.int32, torch.int64)


def torch_dtype(trt_name: str) -> torch.dtype:
    """The torch dtype for a TensorRT DataType name; NotImplementedError for types without one."""
    try:
        return _TRT_TO_TORCH[trt_name]
    except KeyError:
        raise NotImplementedError(f"reference executor: DataType.{trt_name} is not supported") from None


def trt_name(dtype: torch.dtype) -> str:
    """The TensorRT DataType name for a torch dtype (for messages and records)."""
    try:
        return _TORCH_TO_TRT[dtype]
    except KeyError:
        raise NotImplementedError(f"reference executor: torch dtype {dtype} has no TensorRT equivalent") from None


def is_floating(dtype: torch.dtype) -> bool:
    return dtype in FLOATING


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype arithmetic is carried out in for a tensor of ``dtype``.

    fp16/bf16 are widened to fp32 for the computation of one layer and the layer's result is rounded back
    to the declared type. This matches TensorRT's reduced-precision kernels (they accumulate in fp32 and
    store fp16/bf16) and avoids PyTorch CPU kernels that do not exist for half types, while still rounding
    every layer output so that a missing cast in a converter remains visible.
    """
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
