"""Stage 4: convert one TensorRT segment into an engine plus the bindings the runtime needs."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._engine_build import build_engine
from torch_tensorrt.dynamo.conversion._TRTInterpreter import (
    InputBinding,
    OutputBinding,
    ShapeRange,
    TRTInterpreter,
)

logger = logging.getLogger("torch_tensorrt")


@dataclass
class ConvertedSegment:
    name: str
    engine: bytes
    inputs: list[InputBinding]
    outputs: list[OutputBinding]
    convert_seconds: float
    build_seconds: float

    @property
    def engine_hash(self) -> str:
        return hashlib.sha256(self.engine).hexdigest()


@dataclass
class NetworkBuilt:
    """Told to build observers (the testing API) while the network object is still alive."""

    name: str
    network: Any
    profile: dict[str, ShapeRange]
    engine: bytes


# Observers of every engine build (used by torch_tensorrt.testing to evaluate networks on CPU).
NETWORK_BUILD_OBSERVERS: list[Callable[[NetworkBuilt], None]] = []


def convert_segment(
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
) -> ConvertedSegment:
    start = time.perf_counter()
    result = TRTInterpreter(module, input_ranges, settings).run()
    converted = time.perf_counter()
    engine = build_engine(result.builder, result.network, result.profile(), settings)
    built = time.perf_counter()
    for observer in list(NETWORK_BUILD_OBSERVERS):
        observer(NetworkBuilt(name, result.network, result.profile(), engine))
    return ConvertedSegment(
        name=name,
        engine=engine,
        inputs=result.inputs,
        outputs=result.outputs,
        convert_seconds=converted - start,
        build_seconds=built - converted,
    )
