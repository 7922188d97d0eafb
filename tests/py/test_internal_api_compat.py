"""Torch-TensorRT's internal import paths used by its own tests and scripts (issue 19).

Each name exists where Torch-TensorRT's tests import it, and the converter-test flow those tests use
(trace -> TRTInterpreter(...).run() -> TorchTensorRTModule(serialized_engine=...) -> compare with
eager PyTorch) works here on CPU: the real TensorRT-RTX builder builds every engine and the
emulated runtime runs it.
"""

from __future__ import annotations

import importlib
import sys
from copy import deepcopy
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import Input
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.testing import emulated_runtime

aten = torch.ops.aten

# (module, name) pairs Torch-TensorRT's tests/py/dynamo and examples import.
IMPORTED_NAMES = [
    ("torch_tensorrt.dynamo.conversion", "CompilationSettings"),
    ("torch_tensorrt.dynamo.conversion", "TRTInterpreter"),
    ("torch_tensorrt.dynamo.conversion", "TRTInterpreterResult"),
    ("torch_tensorrt.dynamo.conversion", "UnsupportedOperatorException"),
    ("torch_tensorrt.dynamo.conversion", "interpret_module_to_result"),
    ("torch_tensorrt.dynamo.conversion._conversion", "infer_module_output_dtypes"),
    ("torch_tensorrt.dynamo.conversion._conversion", "interpret_module_to_result"),
    ("torch_tensorrt.dynamo.lowering", "apply_lowering_passes"),
    ("torch_tensorrt.dynamo.lowering", "get_decompositions"),
    ("torch_tensorrt.dynamo.lowering", "post_lowering"),
    ("torch_tensorrt.dynamo.lowering", "pre_export_lowering"),
    ("torch_tensorrt.dynamo.lowering", "repair_input_aliasing"),
    ("torch_tensorrt.dynamo.conversion._ConverterRegistry", "DYNAMO_ATEN_CONVERTERS"),
    ("torch_tensorrt.dynamo.conversion._ConverterRegistry", "node_has_dynamic_shapes"),
    ("torch_tensorrt.dynamo.lowering.passes", "ATEN_POST_LOWERING_PASSES"),
    ("torch_tensorrt.dynamo.lowering.passes", "DynamoPassManager"),
    ("torch_tensorrt.dynamo.lowering.passes", "remove_num_users_is_0_nodes"),
    ("torch_tensorrt.dynamo.lowering.passes", "post_lowering"),
    ("torch_tensorrt.dynamo.lowering.passes", "pre_export_lowering"),
    ("torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass", "_aten_lowering_pass"),
    ("torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass", "_remove_lowering_pass"),
    ("torch_tensorrt.dynamo.runtime", "PythonTorchTensorRTModule"),
    ("torch_tensorrt.dynamo.runtime", "TorchTensorRTModule"),
    ("torch_tensorrt.dynamo._defaults", "default_device"),
    ("torch_tensorrt.dynamo._tracer", "get_dynamic_shapes_args"),
    ("torch_tensorrt.dynamo.partitioning", "fast_partition"),
    ("torch_tensorrt.dynamo.partitioning", "global_partition"),
    ("torch_tensorrt.dynamo.partitioning", "get_submod_inputs"),
    ("torch_tensorrt.dynamo.conversion.converter_utils", "enforce_tensor_types"),
    ("torch_tensorrt.dynamo.conversion.converter_utils", "flatten_dims"),
    ("torch_tensorrt.dynamo.types", "TRTTensor"),
    ("torch_tensorrt._features", "ENABLED_FEATURES"),
    ("torch_tensorrt._utils", "is_tensorrt_version_supported"),
    *[
        ("torch_tensorrt.dynamo.utils", name)
        for name in (
            "ATOL",
            "RTOL",
            "COSINE_THRESHOLD",
            "check_output_equal",
            "cosine_similarity",
            "get_model_device",
            "get_output_metadata",
            "get_torch_inputs",
            "get_torch_tensor",
            "prepare_inputs",
            "to_torch_device",
            "to_torch_tensorrt_device",
        )
    ],
]


@pytest.mark.parametrize(("module", "name"), IMPORTED_NAMES)
def test_torch_tensorrt_internal_name_is_importable(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_runtime_names_are_one_class_on_both_paths() -> None:
    from torch_tensorrt.dynamo.runtime import PythonTorchTensorRTModule

    assert torch_tensorrt.runtime.PythonTorchTensorRTModule is PythonTorchTensorRTModule
    from torch_tensorrt.dynamo import conversion

    assert conversion.CompilationSettings is torch_tensorrt.dynamo.CompilationSettings


# ---------------------------------------------------------------------------------------------------
# The converter-harness flow
# ---------------------------------------------------------------------------------------------------

TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float16: (1e-2, 1e-2), torch.int32: (0, 0), torch.bool: (0, 0)}


def _run_like_the_harness(graph: torch.fx.GraphModule, specs: list[Input], inputs: list[torch.Tensor]) -> Any:
    """What Torch-TensorRT's DispatchTestCase.run_test does with a traced graph."""
    from torch_tensorrt.dynamo.conversion import CompilationSettings, TRTInterpreter
    from torch_tensorrt.dynamo.conversion._conversion import infer_module_output_dtypes
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    settings = CompilationSettings(truncate_double=True)
    interpreter = TRTInterpreter(graph, specs, output_dtypes=None, compilation_settings=settings)
    result = interpreter.run()
    if all("val" in n.meta for n in graph.graph.nodes if n.op == "output"):
        assert [d.to(torch.dtype) for d in infer_module_output_dtypes(graph)] == [
            o.dtype for o in _as_list(graph(*inputs))
        ]
    module = TorchTensorRTModule(
        serialized_engine=bytes(result.engine.serialize()),
        input_binding_names=list(result.input_names),
        output_binding_names=list(result.output_names),
        name="test_engine",
        requires_output_allocator=result.requires_output_allocator,
    )
    return module(*inputs)


def _as_list(value: Any) -> list[torch.Tensor]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _assert_matches_eager(actual: Any, expected: Any) -> None:
    for out, ref in zip(_as_list(actual), _as_list(expected), strict=True):
        rtol, atol = TOLERANCES[ref.dtype]
        torch.testing.assert_close(out, ref, rtol=rtol, atol=atol)


class AddThenRelu(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return aten.relu.default(aten.add.Tensor(x, y))


class MatmulPacketPlusOne(torch.nn.Module):
    """An overload packet (aten.matmul) and Python operators on tensors, as symbolic_trace keeps them."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (aten.matmul(x, y) + 1) ** 2


class TileAndRoll(torch.nn.Module):
    """Ops compile decomposes before conversion (no converters of their own)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return aten.roll.default(aten.tile.default(x, [2, 1]), [1], [0])


class CompareAndSum(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return aten.gt.Tensor(x, y), aten.sum.dim_IntList(x, [1])


@pytest.mark.parametrize(
    ("module", "shapes", "dtype"),
    [
        (AddThenRelu(), [(2, 3), (2, 3)], torch.float32),
        (AddThenRelu(), [(4, 5), (4, 5)], torch.float16),
        (MatmulPacketPlusOne(), [(3, 4), (4, 2)], torch.float32),
        (CompareAndSum(), [(2, 6), (2, 6)], torch.float32),
        (TileAndRoll(), [(3, 4)], torch.float32),
    ],
)
def test_symbolic_traced_graph_runs_like_their_harness(
    module: torch.nn.Module, shapes: list[tuple[int, ...]], dtype: torch.dtype
) -> None:
    inputs = [torch.randn(s).to(dtype) for s in shapes]
    graph = torch.fx.symbolic_trace(module)
    with emulated_runtime(persist=False):
        actual = _run_like_the_harness(graph, Input.from_tensors(inputs), inputs)
    _assert_matches_eager(actual, module(*inputs))


def test_untraced_targets_become_aten_overloads() -> None:
    from torch_tensorrt.dynamo.conversion._fake_meta import propagate_fake_values, resolve_untraced_targets

    graph = torch.fx.symbolic_trace(MatmulPacketPlusOne())
    propagate_fake_values(graph, [((3, 4),) * 3, ((4, 2),) * 3], [torch.float32, torch.float32])
    resolve_untraced_targets(graph)
    targets = [n.target for n in graph.graph.nodes if n.op == "call_function"]
    assert targets == [aten.matmul.default, aten.add.Tensor, aten.pow.Tensor_Scalar]


def test_ops_without_converters_are_decomposed_as_compile_does() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter

    spec = Input(min_shape=(1, 4), opt_shape=(3, 4), max_shape=(6, 4))
    interpreter = TRTInterpreter(torch.fx.symbolic_trace(TileAndRoll()), [spec])
    targets = {n.target for n in interpreter.module.graph.nodes if n.op == "call_function"}
    assert not {aten.tile.default, aten.roll.default} & targets
    x = torch.randn(5, 4)  # inside the dynamic range, not the example's size
    with emulated_runtime(persist=False):
        result = interpreter.run()
        module = torch_tensorrt.dynamo.runtime.TorchTensorRTModule(
            result.engine.serialize(), result.input_names, result.output_names
        )
        out = module(x)
    torch.testing.assert_close(out, TileAndRoll()(x), rtol=0, atol=0)


def test_dynamic_dims_are_shared_by_name_as_in_torch_tensorrt() -> None:
    from torch_tensorrt.dynamo._tracer import get_dynamic_shapes_args

    spec = Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3))
    shapes = get_dynamic_shapes_args(AddThenRelu(), [spec, spec])
    assert shapes["x"][0] is shapes["y"][0], "same-named dims are one symbol"
    program = torch.export.export(AddThenRelu(), (torch.randn(2, 3), torch.randn(2, 3)), dynamic_shapes=shapes)
    assert program.module()(torch.randn(4, 3), torch.randn(4, 3)).shape == (4, 3)
    registry: dict[str, Any] = {}
    named = Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3), shared_dims={0: "batch"})
    first = get_dynamic_shapes_args(AddThenRelu(), [named], dim_registry=registry)
    second = get_dynamic_shapes_args(AddThenRelu(), [named], dim_registry=registry)
    assert first["x"][0] is second["x"][0] is registry["batch"]


def test_exported_graph_with_dynamic_batch_runs_like_their_harness() -> None:
    from torch_tensorrt.dynamo._tracer import get_dynamic_shapes_args
    from torch_tensorrt.dynamo.lowering import get_decompositions, post_lowering, pre_export_lowering
    from torch_tensorrt.dynamo.lowering.passes import remove_num_users_is_0_nodes
    from torch_tensorrt.dynamo.utils import get_torch_inputs

    specs = [Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(8, 3), dtype=torch.float32), torch.randn(3)]
    module = AddThenRelu().eval()
    dynamic_shapes = get_dynamic_shapes_args(module, specs)
    assert list(dynamic_shapes) == ["x", "y"] and list(dynamic_shapes["x"]) == [0] and dynamic_shapes["y"] == {}
    program = torch.export.export(module, tuple(get_torch_inputs(specs, "cpu")), dynamic_shapes=dynamic_shapes)
    program = pre_export_lowering(program, torch_tensorrt.dynamo.CompilationSettings())
    graph = post_lowering(program.run_decompositions(get_decompositions()).module())
    graph = remove_num_users_is_0_nodes(graph)
    assert not [n for n in graph.graph.nodes if n.op == "call_module"], "the guards call is removed"
    inputs = [torch.randn(6, 3), torch.randn(3)]  # a batch other than the example's
    with emulated_runtime(persist=False):
        actual = _run_like_the_harness(graph, [specs[0], Input.from_tensor(specs[1])], inputs)
    _assert_matches_eager(actual, module(*inputs))


def test_interpret_module_to_result_gives_engine_bytes_and_output_shapes() -> None:
    from torch_tensorrt.dynamo.conversion import interpret_module_to_result
    from torch_tensorrt.dynamo.lowering.passes import remove_num_users_is_0_nodes

    graph = torch.export.export(CompareAndSum(), (torch.randn(2, 6), torch.randn(2, 6))).module()
    graph = remove_num_users_is_0_nodes(graph)
    result = interpret_module_to_result(graph, Input.from_tensors([torch.randn(2, 6)] * 2))
    assert isinstance(result.serialized_engine, bytes) and len(result.serialized_engine) > 0
    assert result.input_names == ["x", "y"]
    assert [result.symbolic_shape_expressions[name] for name in result.output_names] == [[2, 6], [2]]


def test_missing_converter_raises_unsupported_operator_exception() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter, UnsupportedOperatorException

    class Unconvertible(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return aten._fft_r2c.default(x, [0], 0, True)

    graph = torch.fx.symbolic_trace(Unconvertible())
    with pytest.raises(UnsupportedOperatorException, match="no converter"):
        TRTInterpreter(graph, [Input.from_tensor(torch.randn(8))]).run()


def test_interpreter_refuses_settings_in_the_output_dtypes_position() -> None:
    from torch_tensorrt.dynamo.conversion import CompilationSettings, TRTInterpreter

    graph = torch.fx.symbolic_trace(AddThenRelu())
    with pytest.raises(TypeError, match="output_dtypes"):
        TRTInterpreter(graph, Input.from_tensors([torch.randn(2)] * 2), None, compilation_settings="fast")  # type: ignore[arg-type]
    interpreter = TRTInterpreter(graph, Input.from_tensors([torch.randn(2)] * 2), None, CompilationSettings())
    assert interpreter.compilation_settings == CompilationSettings()


def test_interpreter_needs_dtypes_when_graph_has_no_values() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter

    with pytest.raises(ValueError, match="torch_tensorrt.Input"):
        TRTInterpreter(torch.fx.symbolic_trace(AddThenRelu()), [((2,), (2,), (2,))] * 2)


def test_output_dtypes_are_honoured() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter

    graph = torch.fx.symbolic_trace(AddThenRelu())
    inputs = [torch.randn(2, 3), torch.randn(2, 3)]
    with emulated_runtime(persist=False):
        result = TRTInterpreter(graph, Input.from_tensors(inputs), output_dtypes=[torch_tensorrt.dtype.f16]).run()
        module = torch_tensorrt.dynamo.runtime.TorchTensorRTModule(
            result.engine.serialize(), result.input_names, result.output_names
        )
        out = module(*inputs)
    assert out.dtype == torch.float16
    torch.testing.assert_close(out, AddThenRelu()(*inputs).half(), rtol=1e-2, atol=1e-2)


def test_serialized_engine_explains_what_it_is_not() -> None:
    from torch_tensorrt.dynamo.conversion import TRTInterpreter

    result = TRTInterpreter(torch.fx.symbolic_trace(AddThenRelu()), Input.from_tensors([torch.randn(2)] * 2)).run()
    assert bytes(result.engine.serialize())[:4] == result.engine.serialize()[:4]
    with pytest.raises(AttributeError, match="deserialize_cuda_engine"):
        _ = result.engine.num_io_tensors


def test_torchtrt_module_from_bytes_needs_output_names() -> None:
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    with pytest.raises(ValueError, match="output_binding_names"):
        TorchTensorRTModule(serialized_engine=b"plan", input_binding_names=["x"], output_binding_names=[])
    with pytest.raises(TypeError, match="serialized_engine"):
        TorchTensorRTModule(input_binding_names=["x"])


# ---------------------------------------------------------------------------------------------------
# Converter helpers
# ---------------------------------------------------------------------------------------------------


def test_enforce_tensor_types_checks_and_promotes() -> None:
    import numpy as np

    from torch_tensorrt.dynamo.conversion.converter_utils import enforce_tensor_types
    from torch_tensorrt.dynamo.types import TRTTensor

    seen: list[Any] = []

    @enforce_tensor_types({0: (np.ndarray,), "w": (np.ndarray, torch.Tensor)})
    def promoting(ctx: Any, target: Any, args: Any, kwargs: Any, name: str) -> None:
        seen.extend([args[0], kwargs["w"]])

    promoting(None, None, (torch.ones(2, 2),), {"w": torch.zeros(3)}, "conv")
    assert isinstance(seen[0], np.ndarray) and seen[0].shape == (2, 2)
    assert isinstance(seen[1], torch.Tensor), "an approved type is left as it is"

    @enforce_tensor_types({0: (TRTTensor,)}, promote=False)
    def strict(ctx: Any, target: Any, args: Any, kwargs: Any, name: str) -> None:
        return None

    with pytest.raises(AssertionError, match="argument 0"):
        strict(None, None, (np.ones(2),), {}, "strict")
    with pytest.raises(AssertionError, match="tuple of"):
        enforce_tensor_types({0: (int,)})
    with pytest.raises(AssertionError, match="only allowed together"):
        enforce_tensor_types({0: (torch.Tensor,)})


def test_enforce_tensor_types_freezes_constants_into_the_network() -> None:
    from torch_tensorrt._trt import trt
    from torch_tensorrt._trt_logger import TRT_LOGGER
    from torch_tensorrt.dynamo.conversion import ConversionContext
    from torch_tensorrt.dynamo.conversion.converter_utils import enforce_tensor_types
    from torch_tensorrt.dynamo.types import TRTTensor

    ctx = ConversionContext(trt.Builder(TRT_LOGGER).create_network(0))

    @enforce_tensor_types({1: (TRTTensor,)})
    def converter(ctx: Any, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        return args[1]

    tensor = converter(ctx, None, (None, torch.arange(6.0).reshape(2, 3)), {}, "frozen")
    assert isinstance(tensor, trt.ITensor) and tuple(tensor.shape) == (2, 3)


@pytest.mark.parametrize(
    ("shape", "start", "end", "expected"),
    [((1, 2), 0, 0, (1, 2)), ((2, 3, 4), 1, 2, (2, 12)), ((2, 3, 4, 5), 0, -2, (24, 5)), ((2, 3, 4), -3, 2, (24,))],
)
def test_flatten_dims(shape: tuple[int, ...], start: int, end: int, expected: tuple[int, ...]) -> None:
    from torch_tensorrt.dynamo.conversion.converter_utils import flatten_dims

    assert flatten_dims(torch.empty(shape), start, end) == expected
    assert torch.empty(shape).flatten(start, end).shape == expected


def test_impl_library_is_absent_with_an_explanation() -> None:
    from torch_tensorrt.dynamo.conversion import impl

    with pytest.raises(AttributeError, match="converter_utils"):
        _ = impl.elementwise


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def test_dynamo_utils_helpers() -> None:
    from torch_tensorrt.dynamo import utils

    spec = Input(min_shape=(1, 2), opt_shape=(3, 2), max_shape=(5, 2))
    tensors = utils.get_torch_inputs([spec, torch.ones(2)], "cpu", mode="max_shape")
    assert [t.shape for t in tensors] == [torch.Size([5, 2]), torch.Size([2])]
    kwargs = utils.get_torch_inputs({"a": spec}, "cpu")
    assert kwargs["a"].shape == torch.Size([3, 2])
    prepared = utils.prepare_inputs({"a": [torch.zeros(1, 4), 3]})
    assert prepared["a"][0].shape == (1, 4) and prepared["a"][1].dtype == torch.int64
    with pytest.raises(ValueError, match="invalid input type"):
        utils.prepare_inputs("text")
    assert utils.cosine_similarity(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])) == pytest.approx(1.0)
    assert utils.cosine_similarity(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])) == pytest.approx(0.0)
    assert utils.check_output_equal((torch.ones(2), {"k": torch.zeros(1)}), (torch.ones(2), {"k": torch.zeros(1)}))
    assert not utils.check_output_equal([torch.ones(2), torch.ones(2)], [torch.ones(2), torch.zeros(2)])
    assert utils.to_torch_tensorrt_device("cuda:1").gpu_id == 1
    assert utils.to_torch_device(torch_tensorrt.Device(gpu_id=2)) == torch.device("cuda", 2)
    if not torch.cuda.is_available():
        assert utils.to_torch_device(None) == torch.device("cpu")
        assert utils.get_model_device(torch.nn.ReLU()) == torch.device("cpu")
    assert utils.get_model_device(torch.nn.Linear(2, 2)) == torch.device("cpu")


def test_dynamo_compile_accepts_its_own_ir_name() -> None:
    from torch_tensorrt.testing import emulated_runtime as emulated

    x = torch.randn(2, 3)
    program = torch.export.export(AddThenRelu(), (x, x))
    with emulated(persist=False):
        compiled = torch_tensorrt.dynamo.compile(program, inputs=[x, x], ir="dynamo", min_block_size=1)
        torch.testing.assert_close(compiled(x, x), torch.relu(x + x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="torch_tensorrt.compile"):
        torch_tensorrt.dynamo.compile(program, inputs=[x, x], ir="torch_compile")


def test_default_device_is_a_gpu_target() -> None:
    from torch_tensorrt.dynamo._defaults import default_device

    assert default_device().to(torch.device).type == "cuda"


def test_get_decompositions_reports_arguments_without_effect() -> None:
    from torch_tensorrt.dynamo.lowering import get_decompositions

    reset_warnings()
    with pytest.warns(UserWarning, match="enable_experimental_decompositions"):
        table = get_decompositions(True, False, use_fp32_acc=False)
    assert table == get_decompositions()


# ---------------------------------------------------------------------------------------------------
# Lowering passes
# ---------------------------------------------------------------------------------------------------


def test_registered_lowering_pass_runs_in_post_lowering_and_compile() -> None:
    from torch_tensorrt.dynamo.lowering import post_lowering
    from torch_tensorrt.dynamo.lowering.passes import ATEN_POST_LOWERING_PASSES
    from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import (
        _aten_lowering_pass,
        _remove_lowering_pass,
        get_lowering_pass_config,
    )

    seen: list[str] = []

    @_aten_lowering_pass(note="kept")
    def record_pass(gm: torch.fx.GraphModule, settings: Any) -> torch.fx.GraphModule:
        seen.append(type(settings).__name__)
        return gm

    try:
        assert get_lowering_pass_config(record_pass) == {"note": "kept"}
        post_lowering(torch.fx.symbolic_trace(torch.nn.ReLU()))
        assert seen == ["CompilationSettings"]
        from torch_tensorrt.testing import run_on_reference

        x = torch.randn(2, 3)
        (out,) = run_on_reference(torch.nn.ReLU(), [x])
        torch.testing.assert_close(out, torch.relu(x), rtol=1e-5, atol=1e-5)
        assert len(seen) == 2, "torch_tensorrt.compile runs registered passes too"
    finally:
        _remove_lowering_pass(index=ATEN_POST_LOWERING_PASSES.passes.index(record_pass))
    assert record_pass not in ATEN_POST_LOWERING_PASSES.passes
    from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import is_builtin

    ours = next(i for i, p in enumerate(ATEN_POST_LOWERING_PASSES.passes) if is_builtin(p))
    with pytest.raises(ValueError, match="own passes"):
        _remove_lowering_pass(index=ours)


def test_input_alias_clones_are_added_and_removed_again() -> None:
    from torch_tensorrt.dynamo.lowering import post_lowering, repair_input_aliasing

    gm = repair_input_aliasing(torch.fx.symbolic_trace(AddThenRelu()))
    clones = [n for n in gm.graph.nodes if n.target is aten.clone.default]
    assert sorted(c.args[0].name for c in clones) == ["x", "y"]
    assert all(user.target is aten.clone.default for n in gm.graph.nodes if n.op == "placeholder" for user in n.users)
    gm = post_lowering(gm)
    assert not [n for n in gm.graph.nodes if n.target is aten.clone.default]
    x, y = torch.randn(3), torch.randn(3)
    torch.testing.assert_close(gm(x, y), torch.relu(x + y), rtol=0, atol=0)


def test_converter_table_is_the_registry() -> None:
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_ATEN_CONVERTERS, DYNAMO_CONVERTERS

    assert aten.relu.default in DYNAMO_ATEN_CONVERTERS and aten.relu.default in DYNAMO_CONVERTERS
    saved = DYNAMO_ATEN_CONVERTERS.pop(aten.relu.default)
    try:
        assert aten.relu.default not in DYNAMO_CONVERTERS
    finally:
        DYNAMO_ATEN_CONVERTERS[aten.relu.default] = saved


def test_remove_num_users_is_0_nodes_keeps_in_place_ops() -> None:
    from torch_tensorrt.dynamo.lowering.passes import remove_num_users_is_0_nodes

    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    graph.call_function(aten.relu.default, (x,))  # unused: dropped
    graph.call_function(aten.add_.Tensor, (x, x))  # in place: kept
    graph.output(x)
    gm = remove_num_users_is_0_nodes(torch.fx.GraphModule(torch.nn.Module(), graph))
    assert [n.target for n in gm.graph.nodes if n.op == "call_function"] == [aten.add_.Tensor]


# ---------------------------------------------------------------------------------------------------
# Partitioning
# ---------------------------------------------------------------------------------------------------


class ThreeOps(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return aten.relu.default(aten.mul.Tensor(aten.add.Tensor(x, y), y))


def _valued_graph() -> torch.fx.GraphModule:
    from torch.fx.passes.fake_tensor_prop import FakeTensorProp

    graph = torch.fx.symbolic_trace(ThreeOps())
    FakeTensorProp(graph).propagate(torch.randn(2, 3), torch.randn(2, 3))
    return graph


def _segments(graph: torch.fx.GraphModule) -> list[str]:
    return [name for name, _ in graph.named_children() if "_run_on_acc" in name]


def test_fast_and_global_partition_follow_min_block_size() -> None:
    from torch_tensorrt.dynamo import partitioning

    assert _segments(partitioning.fast_partition(_valued_graph(), min_block_size=3)[0]) == ["_run_on_acc_0"]
    assert _segments(partitioning.global_partition(_valued_graph(), min_block_size=4)[0]) == []
    assert _segments(partitioning.fast_partition(_valued_graph(), min_block_size=4, require_full_compilation=True)[0])
    partitioned, result = partitioning.fast_partition(
        _valued_graph(), min_block_size=1, torch_executed_ops={"torch.ops.aten.relu.default"}
    )
    assert dict(result.fallback_ops) == {"torch.ops.aten.relu.default": 1}
    assert dict(result.converted_ops) == {"torch.ops.aten.add.Tensor": 1, "torch.ops.aten.mul.Tensor": 1}


def test_untraced_graph_is_partitioned_by_registered_converters() -> None:
    from torch_tensorrt.dynamo import partitioning

    class WithUnconvertible(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = aten.relu.default(aten.add.Tensor(x, x))
            return aten.mul.Tensor(aten._fft_r2c.default(y, [0], 0, True).real, 2.0)

    partitioned, result = partitioning.fast_partition(torch.fx.symbolic_trace(WithUnconvertible()), min_block_size=2)
    assert _segments(partitioned) == ["_run_on_acc_0"]
    assert dict(result.converted_ops) == {"torch.ops.aten.add.Tensor": 1, "torch.ops.aten.relu.default": 1}
    assert "torch.ops.aten._fft_r2c.default" in result.fallback_ops


def test_get_submod_inputs_captures_what_the_segment_receives() -> None:
    from torch_tensorrt.dynamo import partitioning

    partitioned, _ = partitioning.fast_partition(deepcopy(_valued_graph()), min_block_size=2)
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    received = partitioning.get_submod_inputs(partitioned, partitioned._run_on_acc_0, [x, y])
    assert len(received) == 2 and all(isinstance(t, torch.Tensor) for t in received)
    with pytest.raises(ValueError, match="not a submodule"):
        partitioning.get_submod_inputs(partitioned, torch.nn.ReLU(), [x, y])


# ---------------------------------------------------------------------------------------------------
# Features and versions
# ---------------------------------------------------------------------------------------------------


def test_features_and_version_checks() -> None:
    from torch_tensorrt import _features, _utils
    from torch_tensorrt._trt import ENABLED_FEATURES, override_features

    assert _features.ENABLED_FEATURES is ENABLED_FEATURES
    assert _utils.is_tensorrt_rtx_version_supported("0.1")
    assert _utils.is_tensorrt_version_supported("10.0") == (
        ENABLED_FEATURES.tensorrt_rtx or _utils._at_least(torch_tensorrt._trt.TRT_VERSION, "10.0")
    )

    @_features.needs_qdp_plugin
    def plugin_only() -> str:
        return "ran"

    with override_features(qdp_plugin=False), pytest.raises(NotImplementedError, match="plugin_only"):
        plugin_only()
    with override_features(qdp_plugin=True):
        assert plugin_only() == "ran"
    if not torch.cuda.is_available():
        assert not (_utils.is_tegra_platform() or _utils.is_orin() or _utils.is_thor())


def test_import_tensorrt_gives_the_backend_in_use() -> None:
    import torch_tensorrt._trt as trt_door

    if trt_door.ENABLED_FEATURES.tensorrt_rtx and "tensorrt" in sys.modules:
        import tensorrt

        assert tensorrt.Builder is trt_door.trt.Builder
