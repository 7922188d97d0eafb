"""Writing new weights into a serialized engine: the TensorRT side of ``refit_module_weights``.

``refit_serialized_engine`` is what ``TensorRTBackend.refit_engine`` does: deserialize the engine on
the GPU, hand every named weight to ``trt.Refitter``, refit, and serialize the engine again *with*
its weights (a stripped engine's plan then holds them) and still refittable. It needs a GPU:
TensorRT's Refitter works on a deserialized ``ICudaEngine``. The emulated runtime
(``torch_tensorrt.testing``) implements the same ``refit_engine`` on its records instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from torch_tensorrt._trt import trt

# An engine the emulated runtime stood in for (a refittable engine built on a machine without GPU):
# its bytes start with this marker, followed by the emulator's header and the plan TensorRT built
# without the weight flags. No real TensorRT runtime may run or refit it as if it were refittable.
EMULATED_PLAN_MAGIC = b"TORCH_TENSORRT_EMULATED_PLAN\x00"


class RefitError(RuntimeError):
    """The engine cannot take the new weights (not refittable, other weights, TensorRT refused)."""


class RefitNeedsGPUError(RefitError):
    """Refitting a real engine needs a CUDA GPU, and there is none (and no emulated runtime)."""


def refuse_emulated_plan(engine: bytes, name: str, what: str) -> None:
    """Engines made by the emulated runtime's stand-in are not TensorRT plans a GPU can use as built."""
    if engine.startswith(EMULATED_PLAN_MAGIC):
        raise RuntimeError(
            f"cannot {what} engine {name!r} with TensorRT: it was compiled with immutable_weights=False under "
            "torch_tensorrt.testing.emulated_runtime() on a machine without a GPU, where TensorRT-RTX cannot "
            "build refittable engines, so it only runs and refits under emulated_runtime(). Compile it again "
            "on a GPU machine."
        )


def require_gpu_for_refit(name: str) -> None:
    if not torch.cuda.is_available():
        raise RefitNeedsGPUError(
            f"cannot refit engine {name!r}: refitting writes the new weights into the deserialized engine with "
            "TensorRT's Refitter, which needs a CUDA GPU, and this machine has none. Refit on a GPU machine, "
            "recompile with the new weights (torch_tensorrt.compile), or use "
            "torch_tensorrt.testing.emulated_runtime() to check the refit on the CPU."
        )


def refit_serialized_engine(runtime: Any, engine: bytes, name: str, weights: Mapping[str, torch.Tensor]) -> bytes:
    """The engine bytes with ``weights`` (by engine weight name) written in; needs a GPU."""
    from torch_tensorrt._trt_logger import TRT_LOGGER
    from torch_tensorrt._types import torch_to_trt_dtype

    refuse_emulated_plan(engine, name, "refit")
    require_gpu_for_refit(name)
    cuda_engine = runtime.deserialize_cuda_engine(engine)
    if cuda_engine is None:
        raise RefitError(f"TensorRT could not deserialize engine {name!r} to refit it (see the TensorRT log)")
    if not cuda_engine.refittable:
        raise RefitError(f"engine {name!r} is not refittable: compile it with immutable_weights=False")
    refitter = trt.Refitter(cuda_engine, TRT_LOGGER)
    check_weight_names(name, set(refitter.get_all_weights()), set(weights))
    keep = []  # the refitter reads host memory until refit_cuda_engine returns
    for weight_name, value in weights.items():
        host = value.detach().cpu().contiguous()
        keep.append(host)
        trt_weights = trt.Weights(torch_to_trt_dtype(host.dtype), host.data_ptr(), host.numel())
        if not refitter.set_named_weights(weight_name, trt_weights):
            raise RefitError(f"TensorRT refused the new value of weight {weight_name!r} of engine {name!r}")
    missing = list(refitter.get_missing_weights())
    if missing or not refitter.refit_cuda_engine():
        raise RefitError(f"TensorRT could not refit engine {name!r} (missing weights: {missing}; see the TensorRT log)")
    config = cuda_engine.create_serialization_config()
    config.clear_flag(trt.SerializationFlag.EXCLUDE_WEIGHTS)  # the refitted plan keeps its weights
    if hasattr(trt.SerializationFlag, "INCLUDE_REFIT"):
        config.set_flag(trt.SerializationFlag.INCLUDE_REFIT)  # ... and stays refittable
    return bytes(cuda_engine.serialize_with_config(config))


def check_weight_names(name: str, expected: set[str], given: set[str]) -> None:
    """The new weights must be exactly the engine's: the same graph, converted the same way."""
    if expected == given:
        return
    missing, unexpected = sorted(expected - given), sorted(given - expected)
    raise RefitError(
        f"the new weights do not fit engine {name!r}: the model they come from converts to a different network "
        f"(engine weights without a new value: {missing[:5]}{'...' if len(missing) > 5 else ''}; new weights the "
        f"engine does not have: {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}). Refit only with a model "
        "of the same architecture, traced with the same inputs; recompile for a changed model."
    )


def check_weight_shape(engine: str, weight: str, expected: tuple[int, torch.dtype], value: torch.Tensor) -> None:
    """Same number of elements and dtype as the engine's weight (TensorRT weights are flat)."""
    count, dtype = expected
    if value.numel() != count or value.dtype != dtype:
        raise RefitError(
            f"the new value of weight {weight!r} of engine {engine!r} has {value.numel()} {value.dtype} elements; "
            f"the engine's has {count} {dtype}. Refit only with a model of the same architecture."
        )
