"""Positional inputs nested in lists, tuples and dicts (a detection model's list of images), as
Torch-TensorRT accepts them: compile, run, save and load, static and dynamic."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.testing import emulated_runtime

FP32 = {"rtol": 1e-5, "atol": 1e-5}


class _ImagesAndOptions(torch.nn.Module):
    def forward(
        self, images: list[torch.Tensor], options: dict[str, torch.Tensor]
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        scaled = [image.relu() * options["scale"] for image in images]
        return scaled, images[0].sum() + options["bias"]


class _Pair(torch.nn.Module):
    def forward(self, pair: tuple[torch.Tensor, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return (pair[0] + pair[1]) * z


def _assert_same(got: object, want: object) -> None:
    got_leaves, got_spec = torch.utils._pytree.tree_flatten(got)
    want_leaves, want_spec = torch.utils._pytree.tree_flatten(want)
    assert got_spec == want_spec
    for g, w in zip(got_leaves, want_leaves):
        torch.testing.assert_close(g, w, **FP32)


def _images() -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    return [torch.randn(3, 8, 8), torch.randn(3, 8, 8)], {"scale": torch.tensor(2.0), "bias": torch.randn(1)}


def test_list_and_dict_inputs_compile_and_run_in_one_engine() -> None:
    model = _ImagesAndOptions().eval()
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=list(_images()), min_block_size=1)
        assert not compiled._compile_summary.fallback_ops
        images, options = _images()
        _assert_same(compiled(images, options), model(images, options))


def test_wrong_leaf_type_names_the_accepted_forms() -> None:
    with pytest.raises(TypeError, match=r"input 1 must be a torch_tensorrt.Input or a torch.Tensor \(or lists"):
        torch_tensorrt.compile(_Pair().eval(), ir="dynamo", inputs=[(torch.randn(2), "x"), torch.randn(2)])


def test_dynamic_ranges_inside_a_tuple_reach_the_engine() -> None:
    spec = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))
    model = _Pair().eval()
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[(spec, spec), spec], min_block_size=1)
        for batch in (1, 5, 8):
            a, b, z = (torch.randn(batch, 4) for _ in range(3))
            _assert_same(compiled((a, b), z), model((a, b), z))
        with pytest.raises(ValueError, match="outside the range"):
            compiled((torch.randn(9, 4), torch.randn(9, 4)), torch.randn(9, 4))


@pytest.mark.parametrize("save_inputs", [False, True], ids=["recorded_inputs", "given_inputs"])
def test_nested_program_saves_and_loads(tmp_path: object, save_inputs: bool) -> None:
    model = _ImagesAndOptions().eval()
    path = str(tmp_path / "nested.pt2")  # type: ignore[operator]
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=list(_images()), min_block_size=1)
        if save_inputs:
            torch_tensorrt.save(compiled, path, arg_inputs=list(_images()))
        else:
            torch_tensorrt.save(compiled, path)
        loaded = torch_tensorrt.load(path).module()
        images, options = _images()
        _assert_same(loaded(images, options), model(images, options))


def test_nested_dynamic_program_keeps_its_ranges_when_saved(tmp_path: object) -> None:
    spec = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))
    model = _Pair().eval()
    path = str(tmp_path / "pair.pt2")  # type: ignore[operator]
    with emulated_runtime():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[(spec, spec), spec], min_block_size=1)
        torch_tensorrt.save(compiled, path)
        loaded = torch_tensorrt.load(path).module()
        for batch in (1, 7):
            a, b, z = (torch.randn(batch, 4) for _ in range(3))
            _assert_same(loaded((a, b), z), model((a, b), z))
