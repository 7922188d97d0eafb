"""convert_exported_program_to_serialized_trt_engine(*_binding_names=...): the engine's I/O tensors carry
the requested names. Engines are built for real on the CPU; deserializing them needs a GPU, so the names are
checked twice: in the network recorded for exactly these engine bytes (emulated runtime store, keyed by
the bytes' SHA-256) and in the plan bytes themselves (TensorRT serializes tensor names into the plan)."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo._binding_names import BindingNameError
from torch_tensorrt.testing import emulated_runtime

export_engine = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine


class _ArgsAndKwargs(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor, *, z: torch.Tensor) -> dict[str, object]:
        return {"a": x + y, "b": (y * 2, z - 1)}


class _PassThrough(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * 3, x


def _program() -> tuple[torch.export.ExportedProgram, list[torch.Tensor], dict[str, torch.Tensor]]:
    args = [torch.randn(2, 3), torch.randn(2, 3)]
    kwargs = {"z": torch.randn(2, 3)}
    return torch.export.export(_ArgsAndKwargs(), tuple(args), kwargs), args, kwargs


def _engine_io(backend: object, engine: bytes) -> tuple[list[str], list[str]]:
    record = backend.store.get(engine, "exported")  # type: ignore[attr-defined]
    return [spec.name for spec in record.inputs], list(record.outputs)


def test_requested_names_are_the_engines_io_names() -> None:
    program, args, kwargs = _program()
    with emulated_runtime(persist=False) as backend:
        engine = export_engine(
            program,
            arg_inputs=args,
            kwarg_inputs=kwargs,
            arg_input_binding_names=("first", "second"),
            kwarg_input_binding_names={"z": "third"},
            output_binding_names={"b": ("doubled", "less_one"), "a": "total"},  # key order is free
        )
        default = export_engine(program, arg_inputs=args, kwarg_inputs=kwargs)
        assert _engine_io(backend, engine) == (["first", "second", "third"], ["total", "doubled", "less_one"])
        assert _engine_io(backend, default) == (["x", "y", "z"], ["output0", "output1", "output2"])
    for name in ("first", "second", "third", "total", "doubled", "less_one"):
        assert name.encode() in engine and name.encode() not in default
    assert b"output0" not in engine


def test_output_names_alone_keep_the_graph_input_names() -> None:
    program, args, kwargs = _program()
    with emulated_runtime(persist=False) as backend:
        engine = export_engine(
            program, arg_inputs=args, kwarg_inputs=kwargs, output_binding_names={"a": "p", "b": ("q", "r")}
        )
        assert _engine_io(backend, engine) == (["x", "y", "z"], ["p", "q", "r"])


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"output_binding_names": ["p", "q", "r"]}, "structure of the program's outputs"),
        ({"arg_input_binding_names": ("a",), "kwarg_input_binding_names": {"z": "c"}}, r"\[1\]"),
        ({"arg_input_binding_names": ("a", 7), "kwarg_input_binding_names": {"z": "c"}}, "non-empty str"),
        ({"arg_input_binding_names": ("a", "b")}, "without kwarg_input_binding_names"),
        ({"arg_input_binding_names": ("a", "b"), "kwarg_input_binding_names": {"z": "b"}}, r"repeated: \['b'\]"),
        (
            {"arg_input_binding_names": ("a", "b"), "kwarg_input_binding_names": {"z": "c"},
             "output_binding_names": {"a": "a", "b": ("q", "r")}},
            r"repeated: \['a'\]",
        ),
    ],
)  # fmt: skip
def test_names_that_do_not_fit_the_program_are_refused(names: dict[str, object], message: str) -> None:
    program, args, kwargs = _program()
    with pytest.raises(BindingNameError, match=message):
        export_engine(program, arg_inputs=args, kwarg_inputs=kwargs, **names)


def test_a_name_another_tensor_has_is_refused_and_names_can_swap() -> None:
    program, args, kwargs = _program()
    with pytest.raises(ValueError, match="'x' is already the name of another tensor"):
        export_engine(program, arg_inputs=args, kwarg_inputs=kwargs, output_binding_names={"a": "x", "b": ("q", "r")})
    with emulated_runtime(persist=False) as backend:
        swapped = export_engine(
            program, arg_inputs=args, kwarg_inputs=kwargs,
            arg_input_binding_names=("y", "x"), kwarg_input_binding_names={"z": "z"},
        )  # fmt: skip
        assert _engine_io(backend, swapped)[0] == ["y", "x", "z"]


def test_an_output_the_engine_does_not_compute_cannot_be_named() -> None:
    x = torch.randn(2, 3)
    program = torch.export.export(_PassThrough(), (x,))
    with pytest.raises(BindingNameError, match="not computed by the engine"):
        export_engine(program, arg_inputs=[x], output_binding_names=("tripled", "same"))


def test_lift_mutable_buffers_without_mutated_buffers_changes_no_binding() -> None:
    # Buffer lifting adds inputs/outputs only for mutated buffers (tests/py/dynamo/test_lift_mutable_buffers.py).
    program, args, kwargs = _program()
    with emulated_runtime(persist=False) as backend:
        lifted = export_engine(program, arg_inputs=args, kwarg_inputs=kwargs, lift_mutable_buffers=True)
        assert _engine_io(backend, lifted) == (["x", "y", "z"], ["output0", "output1", "output2"])
