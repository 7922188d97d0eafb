"""Torch-TensorRT's interpreter results: ``TRTInterpreter.run()`` and ``interpret_module_to_result``.

Torch-TensorRT's ``run()`` deserializes the engine it built into an ``ICudaEngine``. TensorRT-RTX
builds on a machine without a GPU, where no engine can be deserialized, so ``TRTInterpreterResult.engine``
here is a :class:`SerializedEngine`: the plan, with ``serialize()`` (what callers use to hand the engine
to ``TorchTensorRTModule``). Deserialize it with ``trt.Runtime`` on a GPU for the rest of ICudaEngine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import torch

from torch_tensorrt._enums import dtype
from torch_tensorrt._Input import Input
from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._engine_build import build_engine
from torch_tensorrt.dynamo.utils import get_output_dtypes

if TYPE_CHECKING:
    from torch_tensorrt.dynamo.conversion._TRTInterpreter import OutputBinding, TRTInterpreter


class SerializedEngine:
    """A built engine plan standing in for Torch-TensorRT's ``ICudaEngine`` (see the module doc)."""

    def __init__(self, plan: bytes) -> None:
        self._plan = plan

    def serialize(self) -> bytes:
        return self._plan

    def __len__(self) -> int:
        return len(self._plan)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"SerializedEngine has no {name!r}: TRTInterpreter builds a serialized TensorRT-RTX plan (which needs "
            "no GPU); deserialize it with trt.Runtime(...).deserialize_cuda_engine(engine.serialize()) on a "
            "machine with a GPU for the ICudaEngine API, or run it in a TorchTensorRTModule"
        )


class TRTInterpreterResult(NamedTuple):
    engine: SerializedEngine
    input_names: list[str]
    output_names: list[str]
    requires_output_allocator: bool
    requires_native_multidevice: bool = False
    # Engine output name -> (input name, kind) for outputs that alias inputs; none here.
    aliased_io: dict[str, tuple[str, str]] = {}


class SerializedInterpreterResult(NamedTuple):
    serialized_engine: bytes
    input_names: list[str]
    output_names: list[str]
    requires_output_allocator: bool
    # Output name -> its dims (ints and shape expressions over the input sizes).
    symbolic_shape_expressions: dict[str, list[Any]]
    requires_native_multidevice: bool = False
    aliased_io: dict[str, tuple[str, str]] = {}


def _data_dependent(outputs: Sequence[OutputBinding]) -> bool:
    """Whether an output's size depends on data (an unbacked symbol, named u0, u1, ... by torch):
    what Torch-TensorRT's output allocator is for."""
    for binding in outputs:
        for dim in binding.symbolic_shape:
            symbols = getattr(dim, "free_symbols", ())
            if any(str(symbol).startswith("u") for symbol in symbols):
                return True
    return False


def _warn_unused_build_options(strict_type_constraints: bool, tactic_sources: int | None) -> None:
    if strict_type_constraints:
        warn_once(
            "trt-interpreter-strict-types",
            "TRTInterpreter.run(strict_type_constraints=True) has no effect: TensorRT-RTX networks are strongly "
            "typed, so every layer already runs in the types of the graph. (reported once per process)",
        )
    if tactic_sources is not None:
        warn_once(
            "trt-interpreter-tactic-sources",
            "TRTInterpreter.run(tactic_sources=...) has no effect: TensorRT-RTX has no tactic sources to "
            "choose from. (reported once per process)",
        )


def build_interpreter_result(
    interpreter: TRTInterpreter, strict_type_constraints: bool = False, tactic_sources: int | None = None
) -> TRTInterpreterResult:
    """Convert the interpreter's graph and build its engine, as Torch-TensorRT's ``run()`` does."""
    # Imported here: _conversion imports this module for interpret_module_to_result.
    from torch_tensorrt.dynamo.conversion._conversion import NETWORK_BUILD_OBSERVERS, NetworkBuilt

    _warn_unused_build_options(strict_type_constraints, tactic_sources)
    result = interpreter.build_network()
    settings = interpreter.settings
    plan = build_engine(result.builder, result.network, result.profile(), settings)
    name = interpreter.module.__class__.__name__
    for observer in list(NETWORK_BUILD_OBSERVERS):
        observer(
            NetworkBuilt(
                name, result.network, result.profile(), plan, [result.profile()], settings.enable_weight_streaming
            )
        )
    return TRTInterpreterResult(
        engine=SerializedEngine(plan),
        input_names=[b.name for b in result.inputs],
        output_names=[b.name for b in result.outputs],
        requires_output_allocator=_data_dependent(result.outputs),
    )


def _shape_expressions(outputs: Sequence[OutputBinding]) -> dict[str, list[Any]]:
    """Each output's dims: ints, and the text of the shape expression of each dynamic dim."""
    return {
        b.name: [int(d) if isinstance(d, int) or getattr(d, "is_number", False) else str(d) for d in b.symbolic_shape]
        for b in outputs
    }


def infer_module_output_dtypes(module: torch.fx.GraphModule, truncate_double: bool = False) -> list[dtype]:
    """The dtypes of the module's outputs, read from the traced values of its output nodes
    (float64 becomes float32 with ``truncate_double``)."""
    output = next((node for node in module.graph.nodes if node.op == "output"), None)
    if output is None:
        raise ValueError("infer_module_output_dtypes: the graph has no output node")
    return get_output_dtypes(output.args, truncate_double)


def interpret_module_to_result(
    module: torch.fx.GraphModule,
    inputs: Sequence[Input],
    settings: CompilationSettings | None = None,
    engine_cache: Any = None,
    *,
    input_binding_names: Sequence[str] | None = None,
    output_binding_names: Sequence[str] | None = None,
) -> SerializedInterpreterResult:
    """Convert a lowered graph (one TensorRT segment) into a serialized engine. ``inputs``: one
    ``Input`` per graph input, keyword inputs included (flattened)."""
    from torch_tensorrt.dynamo.conversion._TRTInterpreter import TRTInterpreter

    settings = settings if settings is not None else CompilationSettings()
    interpreter = TRTInterpreter(
        module,
        inputs,
        output_dtypes=infer_module_output_dtypes(module, settings.truncate_double),
        compilation_settings=settings,
        engine_cache=engine_cache,
        input_binding_names=input_binding_names,
        output_binding_names=output_binding_names,
    )
    result = interpreter.run()
    return SerializedInterpreterResult(
        serialized_engine=result.engine.serialize(),
        input_names=result.input_names,
        output_names=result.output_names,
        requires_output_allocator=result.requires_output_allocator,
        symbolic_shape_expressions=_shape_expressions(interpreter.result.outputs),
    )


__all__ = [
    "SerializedEngine",
    "SerializedInterpreterResult",
    "TRTInterpreterResult",
    "build_interpreter_result",
    "infer_module_output_dtypes",
    "interpret_module_to_result",
]
