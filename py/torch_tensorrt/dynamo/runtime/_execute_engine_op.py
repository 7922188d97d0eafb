"""``torch.ops.tensorrt.execute_engine`` for the Python runtime.

The engine travels as its serialized engine-info list (strings only), so a compiled program can be
exported, saved and loaded as an ordinary ExportedProgram with no pickled objects in it. Engines
are created once per distinct info and cached.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

import torch

from torch_tensorrt.dynamo.runtime._engine_info import NAME_IDX, EngineInfo
from torch_tensorrt.dynamo.runtime._runtime_backend import current_backend
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

# Engines owned by TorchTensorRTModules live as long as their module (teardown saves the runtime
# cache); engines the op creates itself (a loaded program calling the op directly) live for the process.
_ENGINES: weakref.WeakValueDictionary[tuple[int, str, int], TRTEngine] = weakref.WeakValueDictionary()
_OP_OWNED: dict[tuple[int, str, int], TRTEngine] = {}
_LOCK = threading.Lock()


def _key(info: Sequence[str]) -> tuple[int, str, int]:
    """Engines are shared per backend (real or emulated) and per distinct engine info."""
    backend = id(current_backend())
    if len(info) <= NAME_IDX:
        return (backend, "", hash(tuple(info)))
    # str hashes are cached on the object, so this is cheap on every call after the first.
    return backend, info[NAME_IDX], hash(tuple(info))


def register_engine(info_list: Sequence[str], engine: TRTEngine) -> None:
    with _LOCK:
        _ENGINES[_key(info_list)] = engine


def engine_for(info_list: Sequence[str], *, owned_by_caller: bool = False) -> TRTEngine:
    """The engine for this info, created once; the op keeps engines it creates alive itself."""
    key = _key(info_list)
    engine = _ENGINES.get(key)
    if engine is None:
        with _LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = TRTEngine(EngineInfo.from_list(list(info_list)))
                _ENGINES[key] = engine
                if not owned_by_caller:
                    _OP_OWNED[key] = engine
    return engine


@torch.library.custom_op(
    "tensorrt::execute_engine",
    mutates_args=(),
    schema="(Tensor[] input_tensors, str[] engine_info) -> Tensor[]",
)
def execute_engine(input_tensors: list[torch.Tensor], engine_info: list[str]) -> list[torch.Tensor]:
    """Run the engine described by ``engine_info`` on ``input_tensors``."""
    return engine_for(engine_info).execute(input_tensors)


@execute_engine.register_fake
def _execute_engine_fake(input_tensors: list[torch.Tensor], engine_info: list[str]) -> list[torch.Tensor]:
    info = EngineInfo.from_list(list(engine_info))
    engine = _ENGINES.get(_key(engine_info))
    inferred = (engine or _ShapeOnlyEngine(info)).infer_outputs(input_tensors)
    device = input_tensors[0].device if input_tensors else torch.device("cpu")
    return [torch.empty(shape, dtype=dtype, device=device) for shape, dtype in inferred]


class _ShapeOnlyEngine(TRTEngine):
    """Shape inference needs only the metadata: no backend, no deserialization."""

    def __init__(self, info: EngineInfo) -> None:  # deliberately skips the backend
        self.info = info

    def __del__(self) -> None:
        pass
