"""Converters: dtype conversions (``_to_copy``; ``.to``/``.type_as``/``.float()`` lower to it).

A TensorRT tensor has only a dtype, so a copy that changes nothing else is one Cast layer (or
nothing). Changes the engine cannot express are refused, so the op stays in PyTorch: another
device, a non-strided layout, pinned memory, a channels-last result that leaves the graph (its
strides are visible to the caller), and float64 unless truncate_double asked for float32.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion.converters.elementwise import ENGINE_DTYPES, as_tensor, cast

aten = torch.ops.aten

# uint8/int8 sources are fine (e.g. images read as uint8); as results their overflow behaviour
# (torch wraps around) is not something a TensorRT cast promises, so they are refused.
_SOURCE_DTYPES = (*ENGINE_DTYPES, torch.uint8, torch.int8)
_PLAIN_FORMATS = (None, torch.preserve_format, torch.contiguous_format)


def _val(node: Any) -> torch.Tensor | None:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return val if isinstance(val, torch.Tensor) else None


def _dtype_ok(dtype: torch.dtype, settings: CompilationSettings, allowed: tuple[torch.dtype, ...]) -> bool:
    return dtype in allowed or (dtype == torch.float64 and settings.truncate_double)


def _same_device(a: torch.device, b: torch.device) -> bool:
    # "cuda" and "cuda:0" name the same device when one of them leaves the index open.
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def _to_copy_ok(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    src, out = _val(node.args[0]), _val(node)
    if src is None or out is None:
        return False
    if not (_dtype_ok(src.dtype, settings, _SOURCE_DTYPES) and _dtype_ok(out.dtype, settings, ENGINE_DTYPES)):
        return False
    kwargs = node.kwargs
    if kwargs.get("layout") not in (None, torch.strided) or kwargs.get("pin_memory"):
        return False
    device = kwargs.get("device")
    if device is not None and not _same_device(torch.device(device), src.device):
        return False
    if kwargs.get("memory_format") not in _PLAIN_FORMATS:
        return not any(user.op == "output" for user in node.users)
    return True


@dynamo_tensorrt_converter(aten._to_copy.default, capability_validator=_to_copy_ok)
def aten_ops_to_copy(ctx: ConversionContext, target: Any, args: Any, kwargs: Any, name: str) -> Any:
    x = as_tensor(ctx, args[0], name)
    dtype = kwargs.get("dtype")
    # float64 means float32 here (the validator only lets it through with truncate_double).
    return x if dtype is None else cast(ctx, x, dtype, name)
