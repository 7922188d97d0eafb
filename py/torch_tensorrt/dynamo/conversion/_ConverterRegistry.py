"""Converters keyed by ATen overload, each with an optional capability check."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

ConverterFn = Callable[..., Any]
CapabilityCheck = Callable[[torch.fx.Node, CompilationSettings], bool]


@dataclass(frozen=True)
class ConverterEntry:
    converter: ConverterFn
    capability_validator: CapabilityCheck
    supports_dynamic_shapes: bool
    priority: int


def _always(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    return True


class ConverterRegistry:
    def __init__(self) -> None:
        self._entries: dict[Any, list[ConverterEntry]] = {}

    def register(
        self,
        targets: Any | Sequence[Any],
        converter: ConverterFn,
        capability_validator: CapabilityCheck | None = None,
        supports_dynamic_shapes: bool = True,
        priority: int = 0,
    ) -> None:
        for target in targets if isinstance(targets, (list, tuple)) else [targets]:
            entry = ConverterEntry(converter, capability_validator or _always, supports_dynamic_shapes, priority)
            bucket = self._entries.setdefault(target, [])
            bucket.append(entry)
            bucket.sort(key=lambda e: -e.priority)

    def find(self, node: torch.fx.Node, settings: CompilationSettings) -> tuple[ConverterEntry | None, str]:
        """The converter for ``node``, or None with the reason none applies."""
        entries = self._entries.get(node.target)
        if not entries:
            return None, "no converter"
        dynamic = _has_dynamic_shapes(node)
        reasons = []
        for entry in entries:
            # assume_dynamic_shape_support: Torch-TensorRT's switch to try such converters anyway.
            if dynamic and not entry.supports_dynamic_shapes and not settings.assume_dynamic_shape_support:
                reasons.append("dynamic shapes not supported by the converter")
                continue
            try:
                ok = entry.capability_validator(node, settings)
            except Exception as exc:  # noqa: BLE001 - a broken check means "cannot convert"
                logger.debug("capability check for %s raised %s", node.target, exc)
                ok = False
            if ok:
                return entry, ""
            reasons.append("arguments not supported by the converter")
        return None, "; ".join(dict.fromkeys(reasons))

    def __contains__(self, target: Any) -> bool:
        return target in self._entries

    def targets(self) -> list[Any]:
        return list(self._entries)


def _has_dynamic_shapes(node: torch.fx.Node) -> bool:
    def dynamic(val: Any) -> bool:
        if isinstance(val, torch.Tensor):
            return any(not isinstance(d, int) for d in val.shape)
        if isinstance(val, (list, tuple)):
            return any(dynamic(v) for v in val)
        return isinstance(val, torch.SymInt)

    values = [node.meta.get("val")] + [a.meta.get("val") for a in node.all_input_nodes]
    return any(dynamic(v) for v in values)


DYNAMO_CONVERTERS = ConverterRegistry()
# Torch-TensorRT's names: the registry's table itself (target -> entries; edits reach the registry) and
# the dynamic-shape test the registry applies to a node.
DYNAMO_ATEN_CONVERTERS = DYNAMO_CONVERTERS._entries
node_has_dynamic_shapes = _has_dynamic_shapes


def dynamo_tensorrt_converter(
    targets: Any | Sequence[Any],
    *,
    capability_validator: CapabilityCheck | None = None,
    supports_dynamic_shapes: bool = True,
    priority: int = 0,
) -> Callable[[ConverterFn], ConverterFn]:
    """Register the decorated function as the converter of one or more ATen overloads."""

    def register(fn: ConverterFn) -> ConverterFn:
        DYNAMO_CONVERTERS.register(targets, fn, capability_validator, supports_dynamic_shapes, priority)
        return fn

    return register
