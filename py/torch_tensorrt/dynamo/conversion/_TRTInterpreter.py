"""Walks one TensorRT segment (an fx GraphModule) and builds an INetworkDefinition from it."""

from __future__ import annotations

import logging
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from torch_tensorrt._logging import warn_once
from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.conversion._engine_build import declare_shape_input_values
from torch_tensorrt.dynamo.conversion.converter_utils import cast_trt_tensor, create_constant, is_trt_tensor, view_key

logger = logging.getLogger("torch_tensorrt")

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

# Placeholder meta of a segment input fed by an Input(is_shape_tensor=True): its (min, opt, max)
# values, which become the input's optimization profile (set by the compiler, read here).
SHAPE_TENSOR_VALUES_META = "torch_tensorrt_shape_tensor_values"


class ConversionError(RuntimeError):
    pass


@dataclass
class InputBinding:
    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]  # -1 marks a dynamic dim
    shape_range: ShapeRange
    symbolic_shape: tuple[Any, ...]  # ints or sympy expressions, from tracing
    shape_values: ShapeRange | None = None  # a shape-tensor input: the range of its values


@dataclass
class OutputBinding:
    name: str
    dtype: torch.dtype
    symbolic_shape: tuple[Any, ...]


@dataclass
class InterpreterResult:
    network: Any
    builder: Any
    ctx: ConversionContext
    inputs: list[InputBinding] = field(default_factory=list)
    outputs: list[OutputBinding] = field(default_factory=list)

    def profile(self) -> dict[str, ShapeRange]:
        return {b.name: b.shape_range for b in self.inputs}


def _logger() -> Any:
    from torch_tensorrt._trt_logger import TRT_LOGGER

    return TRT_LOGGER


class TRTInterpreter(torch.fx.Interpreter):
    def __init__(
        self,
        module: torch.fx.GraphModule,
        input_ranges: Sequence[ShapeRange],
        settings: CompilationSettings,
    ) -> None:
        super().__init__(module)
        self.builder = trt.Builder(_logger())
        self.network = self.builder.create_network(0)
        self.ctx = ConversionContext(self.network, settings)
        self.settings = settings
        self.input_ranges = list(input_ranges)
        self.result = InterpreterResult(self.network, self.builder, self.ctx)
        self._placeholder_index = 0

    def run(self) -> InterpreterResult:  # type: ignore[override]
        super().run()
        self._settle_shape_inputs()
        return self.result

    def _settle_shape_inputs(self) -> None:
        """Keep the value ranges of the inputs TensorRT reads as shape tensors; an input declared
        is_shape_tensor whose values the network only uses as data is an ordinary input."""
        for index, binding in enumerate(self.result.inputs):
            if binding.shape_values is None or self.network.get_input(index).is_shape_tensor:
                continue
            warn_once(
                f"shape-input-as-data:{binding.name}",
                f"Input(is_shape_tensor=True) for engine input {binding.name} is not used as a shape by "
                "TensorRT (its values only feed computations), so it is bound as an ordinary tensor and "
                "its value range is not checked. (reported once per process)",
            )
            binding.shape_values = None
            declare_shape_input_values(self.network, index, None)

    def run_node(self, n: torch.fx.Node) -> Any:
        self.ctx.current_node = n
        try:
            return super().run_node(n)
        except ConversionError:
            raise
        except Exception as exc:
            raise ConversionError(f"converting node {n.name} ({n.target}) failed: {exc}") from exc

    def placeholder(self, target: Any, args: Any, kwargs: Any) -> Any:
        node = self.ctx.current_node
        val = node.meta.get("val")
        if not isinstance(val, torch.Tensor):
            raise ConversionError(f"segment input {node.name} is not a tensor ({type(val).__name__})")
        index = self._placeholder_index
        self._placeholder_index += 1
        lo, opt, hi = self.input_ranges[index]
        dtype = val.dtype
        if dtype == torch.float64 and self.settings.truncate_double:
            dtype = torch.float32
        shape = tuple(-1 if a != b else a for a, b in zip(lo, hi))
        name = node.name
        tensor = self.network.add_input(name, torch_to_trt_dtype(dtype), shape)
        symbolic = tuple(int(d) if isinstance(d, int) else d.node.expr for d in val.shape)
        values = node.meta.get(SHAPE_TENSOR_VALUES_META)
        if values is not None:
            declare_shape_input_values(self.network, index, values)
        self.result.inputs.append(InputBinding(name, dtype, shape, (lo, opt, hi), symbolic, values))
        return tensor

    def get_attr(self, target: Any, args: Any, kwargs: Any) -> Any:
        value = super().get_attr(target, args, kwargs)  # a torch.Tensor; converters make constants
        if isinstance(value, torch.Tensor) and value.device.type != "meta":
            self.ctx.attribute_sources.setdefault(view_key(value), str(target))
        return value

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        node = self.ctx.current_node
        if target is operator.getitem:
            return args[0][args[1]]
        entry, reason = DYNAMO_CONVERTERS.find(node, self.settings)
        if entry is None:
            raise ConversionError(f"no converter for {target}: {reason}")
        return entry.converter(self.ctx, target, args, kwargs, node.name)

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        raise ConversionError(f"call_module {target} cannot appear in a TensorRT segment")

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        raise ConversionError(f"call_method {target} cannot appear in a TensorRT segment")

    def output(self, target: Any, args: Any, kwargs: Any) -> Any:
        node = self.ctx.current_node
        values = args[0] if isinstance(args[0], (list, tuple)) else (args[0],)
        metas = node.args[0] if isinstance(node.args[0], (list, tuple)) else (node.args[0],)
        for i, (value, meta_node) in enumerate(zip(values, metas)):
            val = meta_node.meta.get("val") if isinstance(meta_node, torch.fx.Node) else None
            if not is_trt_tensor(value):
                value = create_constant(self.ctx, value, f"output{i}")
            if isinstance(val, torch.Tensor):
                want = torch.float32 if val.dtype == torch.float64 else val.dtype
                value = cast_trt_tensor(self.ctx, value, want, f"output{i}")
                symbolic = tuple(int(d) if isinstance(d, int) else d.node.expr for d in val.shape)
            else:
                symbolic = tuple(value.shape)
            if value.is_network_input or value.is_network_output:
                # An engine output must be produced by a layer of its own.
                value = self.network.add_identity(value).get_output(0)
            value.name = f"output{i}"
            self.network.mark_output(value)
            from torch_tensorrt._types import trt_to_torch_dtype

            self.result.outputs.append(OutputBinding(value.name, trt_to_torch_dtype(value.dtype), symbolic))
        return args[0]
