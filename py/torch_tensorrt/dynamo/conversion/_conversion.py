"""Stage 4: convert one TensorRT segment into an engine plus the bindings the runtime needs."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._engine_build import build_engine
from torch_tensorrt.dynamo.conversion._interpreter_result import (  # noqa: F401  (Torch-TensorRT's import path)
    SerializedInterpreterResult,
    infer_module_output_dtypes,
    interpret_module_to_result,
)
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
    profile: dict[str, ShapeRange]  # the envelope of the profiles: the range of every input
    engine: bytes
    # One entry per optimization profile the engine was built with (a single one: [profile]).
    profiles: list[dict[str, ShapeRange]] = field(default_factory=list)
    weight_streaming: bool = False  # built with BuilderFlag.WEIGHT_STREAMING


# Names for an engine's I/O tensors chosen by the caller (convert_exported_program_to_serialized_trt_engine's
# *_binding_names): per segment input, then per segment output, a name or None (keep the graph's name).
SegmentIONames = tuple[tuple[str | None, ...], tuple[str | None, ...]]


def _rename_io(result: Any, io_names: SegmentIONames) -> None:
    """Give the network's inputs and outputs the requested names before the build, so they are the
    engine's binding names. TensorRT refuses a name another tensor of the network has: that is refused
    here with the name (each tensor first gets a unique interim name, so that names can swap)."""
    input_names, output_names = io_names
    renames = [(result.network.get_input(i), result.inputs[i], n) for i, n in enumerate(input_names) if n]
    # Engine outputs by name: KV-cache update outputs are marked after the others (see TRTInterpreter.output).
    network_outputs = {
        result.network.get_output(i).name: result.network.get_output(i) for i in range(len(result.outputs))
    }
    renames += [
        (network_outputs[result.outputs[i].name], result.outputs[i], n) for i, n in enumerate(output_names) if n
    ]
    for index, (tensor, _, _) in enumerate(renames):
        tensor.name = f"__torch_tensorrt_renaming_{index}"
    for tensor, binding, name in renames:
        tensor.name = name
        if tensor.name != name:
            raise ValueError(
                f"binding name {name!r} is already the name of another tensor of the engine's network (the "
                f"engine's other bindings: inputs {[b.name for b in result.inputs]}, outputs "
                f"{[b.name for b in result.outputs]}); choose another name"
            )
        binding.name = name


# Observers of every engine build (used by torch_tensorrt.testing to evaluate networks on CPU).
NETWORK_BUILD_OBSERVERS: list[Callable[[NetworkBuilt], None]] = []


def convert_segment(
    name: str,
    module: torch.fx.GraphModule,
    input_ranges: Sequence[ShapeRange],
    settings: CompilationSettings,
    profile_ranges: Sequence[Sequence[ShapeRange]] | None = None,
    io_names: SegmentIONames | None = None,
) -> ConvertedSegment:
    """``input_ranges``: each input's range over all profiles; ``profile_ranges``: per optimization
    profile, each input's range inside it (None or one entry: one profile, ``input_ranges``);
    ``io_names``: binding names to give the engine's inputs and outputs (None: the graph's names)."""
    start = time.perf_counter()
    result = TRTInterpreter(module, input_ranges, compilation_settings=settings).build_network()
    if io_names is not None:
        _rename_io(result, io_names)
    converted = time.perf_counter()
    names = [b.name for b in result.inputs]
    profiles = [dict(zip(names, ranges)) for ranges in profile_ranges or ()] or [result.profile()]
    engine = build_engine(result.builder, result.network, result.profile(), settings, profiles=profiles)
    built = time.perf_counter()
    for observer in list(NETWORK_BUILD_OBSERVERS):
        observer(
            NetworkBuilt(name, result.network, result.profile(), engine, profiles, settings.enable_weight_streaming)
        )
    return ConvertedSegment(
        name=name,
        engine=engine,
        inputs=result.inputs,
        outputs=result.outputs,
        convert_seconds=converted - start,
        build_seconds=built - converted,
    )
