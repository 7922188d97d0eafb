"""The precision settings: ``enable_autocast`` and its ``autocast_*`` options, ``enabled_precisions``,
``use_explicit_typing``. Checked here; applied by the lowering pass ``rule_based_autocast``.

Networks are strongly typed, so the compiler cannot pick reduced-precision kernels by itself (what
``enabled_precisions`` asked of TensorRT's weak typing); Torch-TensorRT's replacement is autocast,
which writes reduced precision into the graph. So: ``enabled_precisions`` beyond float32 acts only
through autocast (naming its low-precision type when ``autocast_low_precision_type`` is not given),
and every setting that cannot act warns once saying why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import torch

from torch_tensorrt._enums import as_torch_dtype
from torch_tensorrt._logging import warn_once
from torch_tensorrt._types import dtype_from_any
from torch_tensorrt.dynamo import _defaults as D
from torch_tensorrt.dynamo._op_targets import resolve_op

LOW_PRECISION_TYPES = (torch.float16, torch.bfloat16)
_TYPES_TEXT = "torch.float16 or torch.bfloat16 (or torch_tensorrt.dtype.f16 / .bf16, 'fp16', 'bf16')"

# autocast_* setting -> its default, for "set but has no effect" warnings.
_AUTOCAST_OPTIONS = {
    "autocast_low_precision_type": D.AUTOCAST_LOW_PRECISION_TYPE,
    "autocast_excluded_nodes": frozenset(),
    "autocast_excluded_ops": frozenset(),
    "autocast_max_output_threshold": D.AUTOCAST_MAX_OUTPUT_THRESHOLD,
    "autocast_max_depth_of_reduction": D.AUTOCAST_MAX_DEPTH_OF_REDUCTION,
    "autocast_calibration_dataloader": D.AUTOCAST_CALIBRATION_DATALOADER,
}


def _low_precision_type(value: Any) -> torch.dtype:
    try:
        dtype = dtype_from_any(as_torch_dtype(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"autocast_low_precision_type {value!r} is not a dtype ({exc}); use {_TYPES_TEXT}") from None
    if dtype not in LOW_PRECISION_TYPES:
        raise ValueError(f"autocast_low_precision_type must be {_TYPES_TEXT}, got {dtype}")
    return dtype


def _compiled_patterns(patterns: Iterable[Any]) -> None:
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise TypeError(
                f"autocast_excluded_nodes entries are regular expressions (str), got {type(pattern).__name__}: {pattern!r}"
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"autocast_excluded_nodes pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from None


def _check_dataloader(loader: Any) -> None:
    if loader is None:
        return
    if isinstance(loader, (torch.Tensor, str, bytes)) or not isinstance(loader, Iterable):
        raise TypeError(
            "autocast_calibration_dataloader must be an iterable of batches (a torch.utils.data.DataLoader, or a "
            f"list of input tuples), got {type(loader).__name__}; wrap a single batch as [batch]"
        )


def check_autocast_settings(s: Any) -> None:
    """Types and values of the autocast options (called after the generic type checks)."""
    if s.autocast_low_precision_type is not None:
        s.autocast_low_precision_type = _low_precision_type(s.autocast_low_precision_type)
    _compiled_patterns(s.autocast_excluded_nodes)
    for op in s.autocast_excluded_ops:
        resolve_op(op, "autocast_excluded_ops")  # an entry naming no operator would match nothing
    threshold = s.autocast_max_output_threshold
    if math.isnan(threshold) or threshold <= 0:
        raise ValueError(f"autocast_max_output_threshold must be > 0 (math.inf: no limit), got {threshold!r}")
    depth = s.autocast_max_depth_of_reduction
    if depth is not None and depth < 0:
        raise ValueError(f"autocast_max_depth_of_reduction must be >= 0 or None (no limit), got {depth!r}")
    _check_dataloader(s.autocast_calibration_dataloader)


def resolve_precisions(s: Any) -> None:
    """Take autocast's low type from ``enabled_precisions`` when it names exactly one and none is given,
    then warn once about every precision setting that cannot act."""
    reduced = sorted((p for p in s.enabled_precisions if p in LOW_PRECISION_TYPES), key=str)
    if s.enable_autocast and s.autocast_low_precision_type is None and len(reduced) == 1:
        s.autocast_low_precision_type = reduced[0]
        warn_once(
            "autocast-type-from-enabled_precisions",
            f"enable_autocast: autocast_low_precision_type is taken from enabled_precisions ({reduced[0]}); pass "
            "autocast_low_precision_type to choose it explicitly. (reported once per process)",
            stacklevel=4,
        )
    _warn_enabled_precisions(s)
    _warn_autocast_options(s)
    if not s.use_explicit_typing:
        warn_once(
            "use_explicit_typing",
            "use_explicit_typing=False has no effect: TensorRT-RTX networks are always strongly typed. For "
            "reduced precision chosen by the compiler (what weak typing did), use enable_autocast=True with "
            "autocast_low_precision_type=torch.float16 or torch.bfloat16, as Torch-TensorRT recommends. "
            "(reported once per process)",
            stacklevel=4,
        )


def _warn_enabled_precisions(s: Any) -> None:
    in_use = {torch.float32} | ({s.autocast_low_precision_type} if s.enable_autocast else set())
    unused = sorted(str(p).removeprefix("torch.") for p in s.enabled_precisions - in_use)
    if not unused:
        return
    if s.enable_autocast:
        low = s.autocast_low_precision_type
        why = f"autocast runs layers in float32 and autocast_low_precision_type ({low if low else 'not given'}) only"
    else:
        why = (
            "TensorRT-RTX networks are strongly typed, so layers run in the dtypes of the graph. For mixed precision "
            "chosen by the compiler use enable_autocast=True with autocast_low_precision_type (Torch-TensorRT's "
            "replacement for enabled_precisions), or convert the model and its inputs (model.half(), x.half())"
        )
    warn_once(
        "enabled_precisions",
        f"enabled_precisions containing {unused} has no effect: {why}. (reported once per process)",
        stacklevel=5,
    )


def _warn_autocast_options(s: Any) -> None:
    changed = [
        name
        for name, default in _AUTOCAST_OPTIONS.items()
        if getattr(s, name) != default and getattr(s, name) is not None
    ]
    if not s.enable_autocast:
        for name in changed:
            _warn_no_effect(name, s, "enable_autocast is False")
        return
    if s.autocast_low_precision_type is None:
        _warn_no_effect(
            "enable_autocast",
            s,
            "autocast_low_precision_type is None, which means no reduced precision (as in Torch-TensorRT); pass "
            "autocast_low_precision_type=torch.float16 or torch.bfloat16",
        )
    elif "autocast_max_output_threshold" in changed and s.autocast_calibration_dataloader is None:
        _warn_no_effect(
            "autocast_max_output_threshold",
            s,
            "magnitudes are measured on autocast_calibration_dataloader's batches, and none is given",
        )


def _warn_no_effect(name: str, s: Any, why: str) -> None:
    warn_once(
        f"setting:{name}",
        f"{name}={getattr(s, name)!r} has no effect: {why}. (reported once per process)",
        stacklevel=6,
    )
