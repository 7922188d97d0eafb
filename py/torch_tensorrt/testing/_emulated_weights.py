"""Refittable engines under ``emulated_runtime()``: the stand-in build, refit and stripped weights.

TensorRT-RTX builds refittable engines (``immutable_weights=False``) only with a CUDA GPU, and refit
needs the engine deserialized on one. On a CPU-only machine the emulated runtime stands in for both:

* **Build**: the builder builds the plan without REFIT/STRIP_PLAN (the network is still checked by the
  real builder), and the engine bytes become an *emulated plan*: ``EMULATED_PLAN_MAGIC``, a 4-byte
  big-endian header length, a JSON header ``{"version": 1, "stripped": bool, "weights": sha256}`` and
  the plan. The real runtime refuses these bytes with a message saying why (``_engine_refit``).
* **Refit**: the network record of the engine (emulation store, keyed by the SHA-256 of the engine
  bytes) is copied with the new weights, the header gets ``stripped: false`` and the digest of the new
  weights, and the record is stored under the hash of the new bytes. The new bytes are what the module
  then holds, so ``torch_tensorrt.save`` / ``load`` (in this process, or another with the same store
  directory) run the refitted weights. The plan inside keeps the weights it was built with: only the
  emulated runtime ever runs these bytes.
* **Stripped engines** (``strip_engine_weights=True``) refuse to run until refitted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch

from torch_tensorrt.dynamo.conversion._engine_build import WeightFlags
from torch_tensorrt.dynamo.conversion._weight_names import REFITTABLE_ROLES, weight_name
from torch_tensorrt.dynamo.runtime._engine_refit import (
    EMULATED_PLAN_MAGIC,
    RefitError,
    check_weight_names,
    check_weight_shape,
)
from torch_tensorrt.dynamo.runtime._stripped_weights import stripped_weights_error
from torch_tensorrt.testing._reference import NetworkRecord

_HEADER_VERSION = 1
_MAX_HEADER_BYTES = 4096


@dataclasses.dataclass(frozen=True)
class EmulatedPlan:
    stripped: bool
    weights_digest: str
    plan: bytes


def pack(plan: EmulatedPlan) -> bytes:
    header = json.dumps(
        {"version": _HEADER_VERSION, "stripped": plan.stripped, "weights": plan.weights_digest}, sort_keys=True
    ).encode()
    return EMULATED_PLAN_MAGIC + len(header).to_bytes(4, "big") + header + plan.plan


def unpack(engine: bytes) -> EmulatedPlan | None:
    """The emulated plan in ``engine``, or None for a plain TensorRT plan (an immutable-weights engine)."""
    if not engine.startswith(EMULATED_PLAN_MAGIC):
        return None
    start = len(EMULATED_PLAN_MAGIC)
    size = int.from_bytes(engine[start : start + 4], "big")
    if size > _MAX_HEADER_BYTES:
        raise ValueError(f"emulated plan header of {size} bytes (at most {_MAX_HEADER_BYTES})")
    header = json.loads(engine[start + 4 : start + 4 + size])
    if header.get("version") != _HEADER_VERSION:
        raise ValueError(f"emulated plan header version {header.get('version')!r} (expected {_HEADER_VERSION})")
    return EmulatedPlan(bool(header["stripped"]), str(header["weights"]), engine[start + 4 + size :])


def stand_in_build(plan: bytes, flags: WeightFlags) -> bytes:
    """The engine bytes for a refittable engine whose ``plan`` was built without the weight flags."""
    return pack(EmulatedPlan(flags.stripped, "as-built", plan))


def record_weights(record: NetworkRecord) -> dict[str, tuple[int, str, torch.Tensor]]:
    """Engine weight name -> (layer index, parameter, value) of every refittable weight in ``record``."""
    found = {}
    for index, layer in enumerate(record.layers):
        for parameter, role in REFITTABLE_ROLES.get(layer.type, ()):
            value = layer.params.get(parameter)
            if isinstance(value, torch.Tensor) and value.numel():
                found[weight_name(layer.name, role)] = (index, parameter, value)
    return found


def refit_record(record: NetworkRecord, name: str, weights: Mapping[str, torch.Tensor]) -> NetworkRecord:
    """A copy of ``record`` with ``weights`` (by engine weight name) in place of its own."""
    current = record_weights(record)
    check_weight_names(name, set(current), set(weights))
    layers = list(record.layers)
    for weight, value in weights.items():
        index, parameter, old = current[weight]
        check_weight_shape(name, weight, (old.numel(), old.dtype), value)
        layer = layers[index]
        params = dict(layer.params)
        params[parameter] = value.detach().cpu().reshape(-1).clone()
        layers[index] = dataclasses.replace(layer, params=params)
    return dataclasses.replace(record, layers=layers)


def weights_digest(weights: Mapping[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for weight in sorted(weights):
        value = weights[weight].detach().cpu().contiguous()
        digest.update(weight.encode() + b"\0" + str(value.dtype).encode() + b"\0")
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def refit_emulated_engine(store: Any, engine: bytes, name: str, weights: Mapping[str, torch.Tensor]) -> bytes:
    """The emulated runtime's ``refit_engine``: new engine bytes whose record holds ``weights``."""
    plan = unpack(engine)
    if plan is None:
        raise RefitError(
            f"engine {name!r} is not refittable: it was built with immutable_weights=True (Torch-TensorRT's "
            "default). Compile with immutable_weights=False to refit it, or recompile with the new weights."
        )
    record = refit_record(store.get(engine, name), name, weights)
    refitted = pack(EmulatedPlan(False, weights_digest(weights), plan.plan))
    store.put(refitted, record)
    return refitted


def refuse_stripped(engine: bytes, name: str) -> None:
    plan = unpack(engine)
    if plan is not None and plan.stripped:
        raise RuntimeError(stripped_weights_error(name))  # the runtimes' words (they refuse first)
