"""Walks one TensorRT segment (an fx GraphModule) and builds an INetworkDefinition from it."""

from __future__ import annotations

import logging
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt._enums import dtype
from torch_tensorrt._Input import Input
from torch_tensorrt._logging import warn_once
from torch_tensorrt._trt import trt
from torch_tensorrt._types import torch_to_trt_dtype
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.conversion._engine_build import declare_shape_input_values
from torch_tensorrt.dynamo.conversion._fake_meta import lacks_fake_values, prepare_untraced_graph
from torch_tensorrt.dynamo.conversion.converter_utils import cast_trt_tensor, create_constant, is_trt_tensor, view_key

if TYPE_CHECKING:
    from torch_tensorrt.dynamo.conversion._interpreter_result import TRTInterpreterResult

logger = logging.getLogger("torch_tensorrt")

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

# Placeholder meta of a segment input fed by an Input(is_shape_tensor=True): its (min, opt, max)
# values, which become the input's optimization profile (set by the compiler, read here).
SHAPE_TENSOR_VALUES_META = "torch_tensorrt_shape_tensor_values"


class ConversionError(RuntimeError):
    pass


class UnsupportedOperatorException(ConversionError):
    """No converter accepts a node of the graph (Torch-TensorRT's name for this error)."""


def _shape_range(spec: Input | ShapeRange) -> ShapeRange:
    if isinstance(spec, Input):
        if spec.is_shape_tensor:
            raise ValueError(
                "TRTInterpreter: Input(is_shape_tensor=True) specs are handled by torch_tensorrt.compile; "
                "the interpreter takes tensor inputs only"
            )
        return (tuple(spec.min_shape), tuple(spec.opt_shape), tuple(spec.max_shape))
    lo, opt, hi = spec
    return (tuple(lo), tuple(opt), tuple(hi))


def _torch_dtype(value: Any) -> torch.dtype:
    """A torch.dtype from a torch_tensorrt.dtype or a torch.dtype."""
    return value if isinstance(value, torch.dtype) else dtype._from(value).to(torch.dtype)


def _checked_settings(compilation_settings: Any, engine_cache: Any) -> CompilationSettings:
    settings = compilation_settings if compilation_settings is not None else CompilationSettings()
    if not isinstance(settings, CompilationSettings):
        raise TypeError(
            f"TRTInterpreter: compilation_settings must be a CompilationSettings, got {type(settings).__name__} "
            "(the third positional argument is output_dtypes; pass the settings by keyword)"
        )
    if engine_cache is not None:
        warn_once(
            "trt-interpreter-engine-cache",
            "TRTInterpreter(engine_cache=...) is not used: engines are cached by torch_tensorrt.compile "
            "(cache_built_engines / reuse_cached_engines), not by the interpreter. (reported once per process)",
            stacklevel=4,
        )
    return settings


def _spec_dtype(spec: Input | ShapeRange) -> torch.dtype:
    if isinstance(spec, Input):
        return _torch_dtype(spec.dtype)
    raise ValueError(
        "TRTInterpreter: the graph has no traced values (node.meta['val']), so its input dtypes must come "
        "from the input specs: pass torch_tensorrt.Input objects rather than shape ranges"
    )


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
    """Walks a lowered segment and adds its layers to a TensorRT network.

    Torch-TensorRT's constructor: ``input_specs`` are ``torch_tensorrt.Input``s (or, from the compiler,
    (min, opt, max) shape ranges), one per graph input; ``output_dtypes`` the dtypes the engine outputs
    are cast to (None: each output's traced dtype). :meth:`build_network` returns the network,
    :meth:`run` builds the serialized engine from it (Torch-TensorRT's flow). A graph without fake
    values (``torch.fx.symbolic_trace``) gets them from ``input_specs`` first.
    """

    def __init__(
        self,
        module: torch.fx.GraphModule,
        input_specs: Sequence[Input | ShapeRange],
        output_dtypes: Sequence[Any] | None = None,
        compilation_settings: CompilationSettings | None = None,
        engine_cache: Any = None,
        *,
        input_binding_names: Sequence[str] | None = None,
        output_binding_names: Sequence[str] | None = None,
    ) -> None:
        settings = _checked_settings(compilation_settings, engine_cache)
        self.input_ranges = [_shape_range(spec) for spec in input_specs]
        if lacks_fake_values(module):  # not traced by torch.export (e.g. torch.fx.symbolic_trace)
            module = prepare_untraced_graph(module, self.input_ranges, [_spec_dtype(spec) for spec in input_specs])
        super().__init__(module)
        self.builder = trt.Builder(_logger())
        self.network = self.builder.create_network(0)
        self.ctx = ConversionContext(self.network, settings)
        self.settings = settings
        self.compilation_settings = settings
        self.output_dtypes = [_torch_dtype(d) for d in output_dtypes] if output_dtypes is not None else None
        self.input_binding_names = list(input_binding_names) if input_binding_names is not None else None
        self.output_binding_names = list(output_binding_names) if output_binding_names is not None else None
        self.result = InterpreterResult(self.network, self.builder, self.ctx)
        self._placeholder_index = 0

    def build_network(self) -> InterpreterResult:
        """Convert every node: the network, its bindings and the builder, ready to build."""
        super().run()
        self._settle_shape_inputs()
        return self.result

    def run(  # type: ignore[override]
        self, strict_type_constraints: bool = False, tactic_sources: int | None = None
    ) -> TRTInterpreterResult:
        """Torch-TensorRT's flow: convert, then build the engine with the real builder."""
        # Imported here: the build step belongs to the stage after this module (it notifies the
        # build observers of _conversion, which imports this module).
        from torch_tensorrt.dynamo.conversion._interpreter_result import build_interpreter_result

        return build_interpreter_result(self, strict_type_constraints, tactic_sources)

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
        name = self.input_binding_names[index] if self.input_binding_names else node.name
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
            raise UnsupportedOperatorException(f"no converter for {target}: {reason}")
        return entry.converter(self.ctx, target, args, kwargs, node.name)

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        raise ConversionError(f"call_module {target} cannot appear in a TensorRT segment")

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        raise ConversionError(f"call_method {target} cannot appear in a TensorRT segment")

    def output(self, target: Any, args: Any, kwargs: Any) -> Any:
        from torch_tensorrt._types import trt_to_torch_dtype

        node = self.ctx.current_node
        values = args[0] if isinstance(args[0], (list, tuple)) else (args[0],)
        metas = node.args[0] if isinstance(node.args[0], (list, tuple)) else (node.args[0],)
        prepared: list[tuple[Any, tuple[Any, ...]]] = []
        for i, (value, meta) in enumerate(zip(values, metas)):
            prepared.append(self._output_value(i, value, meta, [v for v, _ in prepared]))
        # Outputs of KV-cache update layers (lift_mutable_buffers) share their cache input's memory: they
        # are the engine's last bindings, after the user's outputs (Torch-TensorRT's order). The bindings
        # (result.outputs) stay in the segment's order; the runtimes find engine outputs by name.
        order = sorted(range(len(prepared)), key=lambda i: prepared[i][0].name in self.ctx.aliased_outputs)
        for position, i in enumerate(order):
            value = prepared[i][0]
            value.name = self.output_binding_names[i] if self.output_binding_names else f"output{position}"
            self.network.mark_output(value)
        for value, symbolic in prepared:
            self.result.outputs.append(OutputBinding(value.name, trt_to_torch_dtype(value.dtype), symbolic))
        return args[0]

    def _output_value(self, index: int, value: Any, meta_node: Any, taken: list[Any]) -> tuple[Any, tuple[Any, ...]]:
        """The tensor to mark as segment output ``index`` (``taken``: those of the outputs before it)."""
        val = meta_node.meta.get("val") if isinstance(meta_node, torch.fx.Node) else None
        if not is_trt_tensor(value):
            value = create_constant(self.ctx, value, f"output{index}")
        seen = any(value is t or value.name == t.name for t in taken)  # the same tensor, returned again
        if value.name in self.ctx.aliased_outputs and not seen:
            return value, tuple(value.shape)  # itself: a cast or copy would not be the cache's memory
        if isinstance(val, torch.Tensor):
            want = torch.float32 if val.dtype == torch.float64 else val.dtype
            if self.output_dtypes is not None:
                want = self.output_dtypes[index]
            value = cast_trt_tensor(self.ctx, value, want, f"output{index}")
            symbolic = tuple(int(d) if isinstance(d, int) else d.node.expr for d in val.shape)
        else:
            symbolic = tuple(value.shape)
        if value.is_network_input or value.is_network_output or seen:
            # An engine output must be produced by a layer of its own.
            value = self.network.add_identity(value).get_output(0)
        return value, symbolic
