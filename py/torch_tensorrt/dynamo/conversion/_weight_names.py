"""Stable names for the refittable weights of a network: the one naming rule refit relies on.

TensorRT's Refitter addresses weights by name. Every weights object a converter hands TensorRT is
named here as ``"<layer name> <ROLE>"`` (``ROLE`` as in :data:`REFITTABLE_ROLES`), through
``INetworkDefinition.set_weights_name``. Layer names come from ``ConversionContext.unique_name``, so
converting the same graph twice (the compiled one, and later the one with new weights) yields the same
names. The values handed to TensorRT are kept in ``ConversionContext.refit_weights`` under those names:
that is what a refit writes into an engine, and what the emulated runtime writes into its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

# LayerType name -> (parameter attribute of the concrete layer, weight role). The parameter names
# are the ones the reference executor's records use as well.
REFITTABLE_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "CONSTANT": (("weights", "CONSTANT"),),
    "CONVOLUTION": (("kernel", "KERNEL"), ("bias", "BIAS")),
    "DECONVOLUTION": (("kernel", "KERNEL"), ("bias", "BIAS")),
    "SCALE": (("shift", "SHIFT"), ("scale", "SCALE"), ("power", "POWER")),
}


def weight_name(layer_name: str, role: str) -> str:
    """The name a refittable weight of ``layer_name`` has in the engine."""
    return f"{layer_name} {role}"


@dataclass(frozen=True)
class RefitWeight:
    """One named weight of a network: the tensor TensorRT was given (flat layout of the engine, in
    the engine's dtype) and, when it is a module attribute unchanged, that attribute's name."""

    name: str
    value: torch.Tensor
    source: str | None = None


def own_address(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
    """``tensor``, or a copy of it when another weights object of the network already starts at its
    address (e.g. ``w`` and ``w[:500]``): TensorRT identifies weights by address and refuses to name
    two of different sizes at one. The returned tensor is kept alive for the build."""
    address = tensor.data_ptr()
    if address in ctx.weight_addresses:
        tensor = tensor.clone()
        address = tensor.data_ptr()
    ctx.weight_addresses.add(address)
    ctx.keep_alive.append(tensor)
    return tensor


def register_weights(ctx: Any, layer: Any, role: str, weights: Any, value: torch.Tensor, source: str | None) -> None:
    """Name ``weights`` (the object given to ``layer``) and remember ``value`` for refit.

    Call after the layer got its final name. Empty weights (an unset bias) have nothing to refit.
    """
    if value.numel() == 0:
        return
    name = weight_name(str(layer.name), role)
    if name in ctx.refit_weights:
        raise ValueError(f"two weights of the network are both named {name!r}; layer names must be unique")
    if not ctx.net.set_weights_name(weights, name):
        raise RuntimeError(f"TensorRT refused the weight name {name!r}")
    ctx.refit_weights[name] = RefitWeight(name, value, source)


def unnamed_weights(network: Any, named: set[str]) -> list[str]:
    """Refittable weights of ``network`` that no converter registered (a converter bug: refit could
    not address them). Reading a layer's weights copies them, so this is for checks and tests."""
    from torch_tensorrt._trt import trt

    missing = []
    concrete = {
        "CONSTANT": "IConstantLayer",
        "CONVOLUTION": "IConvolutionLayer",
        "DECONVOLUTION": "IDeconvolutionLayer",
        "SCALE": "IScaleLayer",
    }
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        kind = layer.type.name
        if kind not in REFITTABLE_ROLES:
            continue
        original = layer.__class__
        layer.__class__ = getattr(trt, concrete[kind])
        try:
            for attribute, role in REFITTABLE_ROLES[kind]:
                if kind in ("CONVOLUTION", "DECONVOLUTION") and _has_tensor_input(layer, 1 if role == "KERNEL" else 2):
                    continue
                if _weight_count(getattr(layer, attribute)) and weight_name(layer.name, role) not in named:
                    missing.append(weight_name(layer.name, role))
        finally:
            layer.__class__ = original
    return missing


def _has_tensor_input(layer: Any, index: int) -> bool:
    return index < layer.num_inputs and layer.get_input(index) is not None


def _weight_count(weights: Any) -> int:
    return int(getattr(weights, "size", 0) or 0)
