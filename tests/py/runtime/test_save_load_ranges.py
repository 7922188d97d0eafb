"""save(..., inputs=[example]) keeps the compiled dynamic ranges, and a loaded program refuses
out-of-range inputs with the same ValueError as the module before saving."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.testing import emulated_runtime


class _Small(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + 1) * 2


_RANGE = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(8, 3))


@pytest.fixture(scope="module")
def dynamic(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.fx.GraphModule, Path]:
    store = tmp_path_factory.mktemp("emulation")
    with emulated_runtime(store):
        compiled = torch_tensorrt.compile(_Small(), ir="dynamo", inputs=[_RANGE], min_block_size=1)
    assert compiled._compile_summary.num_engines == 1
    return compiled, store


def _ranges(program: torch.export.ExportedProgram) -> list[tuple[int, int]]:
    return [(int(r.lower), int(r.upper)) for r in program.range_constraints.values()]


def _saved_with_example(dynamic: tuple, tmp_path: Path) -> torch.export.ExportedProgram:
    compiled, store = dynamic
    path = tmp_path / "small.pt2"
    with emulated_runtime(store):
        torch_tensorrt.save(compiled, path, inputs=[torch.randn(2, 3)])
        return torch_tensorrt.load(path)


def test_example_tensor_keeps_the_compiled_range(dynamic: tuple, tmp_path: Path) -> None:
    program = _saved_with_example(dynamic, tmp_path)
    assert isinstance(program, torch.export.ExportedProgram)
    assert _ranges(program) == [(1, 8)]
    _, store = dynamic
    with emulated_runtime(store), torch.no_grad():
        for batch in (1, 5, 8):
            x = torch.randn(batch, 3)
            torch.testing.assert_close(program.module()(x), _Small()(x), rtol=1e-5, atol=1e-5)


def test_loaded_program_refuses_out_of_range_like_the_compiled_module(dynamic: tuple, tmp_path: Path) -> None:
    compiled, store = dynamic
    program = _saved_with_example(dynamic, tmp_path)
    x = torch.randn(9, 3)
    with emulated_runtime(store), torch.no_grad():
        with pytest.raises(ValueError) as before:
            compiled(x)
        with pytest.raises(ValueError) as after:
            program.module()(x)
    for err in (before, after):
        message = str(err.value)
        assert "input x" in message and "(9, 3)" in message
        assert "min (1, 3)" in message and "max (8, 3)" in message
        assert "torch_tensorrt.Input(min_shape=..., max_shape=...)" in message


def test_loaded_program_refuses_wrong_rank_and_dtype(tmp_path: Path, dynamic: tuple) -> None:
    program = _saved_with_example(dynamic, tmp_path)
    module = program.module()
    with pytest.raises(ValueError, match="input x has shape \\(2, 3, 1\\)"):
        module(torch.randn(2, 3, 1))
    with pytest.raises(TypeError, match="float32"):
        module(torch.randn(2, 3, dtype=torch.float16))


def test_saved_without_inputs_also_checks_after_load(dynamic: tuple, tmp_path: Path) -> None:
    compiled, store = dynamic
    with emulated_runtime(store):
        torch_tensorrt.save(compiled, tmp_path / "plain.pt2")
        program = torch_tensorrt.load(tmp_path / "plain.pt2")
    with pytest.raises(ValueError, match="outside the range the program was compiled for"):
        program.module()(torch.randn(9, 3))


@pytest.mark.parametrize("bad", [torch.randn(9, 3), torch.randn(2, 4), torch.randn(2, 3, 1)])
def test_example_outside_the_compiled_range_is_refused(dynamic: tuple, tmp_path: Path, bad: torch.Tensor) -> None:
    compiled, store = dynamic
    with emulated_runtime(store), pytest.raises(ValueError) as err:
        torch_tensorrt.save(compiled, tmp_path / "bad.pt2", inputs=[bad])
    message = str(err.value)
    assert f"shape {tuple(bad.shape)}" in message and "min (1, 3), max (8, 3)" in message
    assert not (tmp_path / "bad.pt2").exists()


def test_explicit_input_range_inside_is_kept_and_wider_is_refused(dynamic: tuple, tmp_path: Path) -> None:
    compiled, store = dynamic
    with emulated_runtime(store):
        narrow = torch_tensorrt.Input(min_shape=(2, 3), opt_shape=(2, 3), max_shape=(4, 3))
        torch_tensorrt.save(compiled, tmp_path / "narrow.pt2", inputs=[narrow])
        assert _ranges(torch_tensorrt.load(tmp_path / "narrow.pt2")) == [(2, 4)]
        wide = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(16, 3))
        with pytest.raises(ValueError, match="outside the range the module was compiled for"):
            torch_tensorrt.save(compiled, tmp_path / "wide.pt2", inputs=[wide])


def test_wrong_number_of_examples_is_refused(dynamic: tuple, tmp_path: Path) -> None:
    compiled, store = dynamic
    with emulated_runtime(store), pytest.raises(ValueError, match="compiled for 1"):
        torch_tensorrt.save(compiled, tmp_path / "two.pt2", inputs=[torch.randn(2, 3), torch.randn(2, 3)])
