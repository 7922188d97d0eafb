"""Engines built without their weights (``strip_engine_weights=True``): the metadata flag that marks
them and the refusal to run one before ``refit_module_weights`` gave it weights.

Both runtimes refuse from the engine metadata, before anything is deserialized, with the same words
(C++: ``WEIGHTS_STRIPPED_FLAG`` / ``stripped_weights_error`` in core/runtime/EngineMetadata.h), so the
verdict does not depend on the backend (TensorRT, or the emulated runtime, which also reads its own
header of the engine bytes).
"""

from __future__ import annotations

from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo

# Metadata flag: the engine was built without its weights and has not been refitted since.
WEIGHTS_STRIPPED_FLAG = "weights_stripped"


def stripped_weights_error(engine_name: str) -> str:
    return (
        f"engine {engine_name!r} was built with strip_engine_weights=True and holds no weights: refit it with "
        "torch_tensorrt.dynamo.refit_module_weights(compiled, exported_program_with_weights) before running it"
    )


def refuse_stripped_weights(info: EngineInfo) -> None:
    """RuntimeError for an engine whose metadata says it holds no weights yet."""
    if info.metadata.flags.get(WEIGHTS_STRIPPED_FLAG, False):
        raise RuntimeError(stripped_weights_error(info.name))


__all__ = ["WEIGHTS_STRIPPED_FLAG", "refuse_stripped_weights", "stripped_weights_error"]
