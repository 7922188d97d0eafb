"""MutableTorchTensorRTModule: lazy compile, refit on weight edits, recompile on structure/input
changes, dynamic ranges, save/load and the refusals. Engines run under the emulated runtime (no GPU);
the Python runtime is used so the tests do not depend on the C++ extension's build."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import MutableTorchTensorRTModule
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.dynamo.runtime._engine_refit import RefitNeedsGPUError
from torch_tensorrt.testing import emulated_runtime
from torch_tensorrt.testing._emulated_runtime import EmulatedBackend

RTOL, ATOL = 1e-4, 1e-4  # float32 engines against eager float32


class _Tiny(torch.nn.Module):
    def __init__(self, out_features: int = 3) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, out_features)
        self.scale = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x)) * self.scale


@pytest.fixture(autouse=True)
def _emulated(tmp_path: Path) -> Iterator[None]:
    reset_warnings()
    with emulated_runtime(tmp_path / "store"):
        yield


@pytest.fixture()
def counts(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the module compiled and refitted (the real methods still run)."""
    seen = {"compile": 0, "refit": 0}
    for method, key in (
        (MutableTorchTensorRTModule.compile, "compile"),
        (MutableTorchTensorRTModule.refit_gm, "refit"),
    ):

        def spy(self: MutableTorchTensorRTModule, _method: object = method, _key: str = key) -> None:
            seen[_key] += 1
            _method(self)  # type: ignore[operator]

        monkeypatch.setattr(MutableTorchTensorRTModule, method.__name__, spy)
    return seen


def _wrapped(**settings: object) -> tuple[_Tiny, MutableTorchTensorRTModule]:
    torch.manual_seed(0)
    model = _Tiny().eval()
    return model, MutableTorchTensorRTModule(model, min_block_size=1, use_python_runtime=True, **settings)


def _assert_eager(module: MutableTorchTensorRTModule, model: torch.nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        torch.testing.assert_close(module(x), model(x), rtol=RTOL, atol=ATOL)


def _new_state(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=generator) for k, v in model.state_dict().items()}


def test_first_call_compiles_then_reuses_the_engines(counts: dict[str, int]) -> None:
    model, module = _wrapped()
    assert module.gm is None and counts["compile"] == 0  # nothing is compiled before the first call
    x = torch.randn(2, 4)
    _assert_eager(module, model, x)
    compiled = module.gm
    assert compiled is not None and counts["compile"] == 1
    _assert_eager(module, model, torch.randn(2, 4))
    assert module.gm is compiled and counts == {"compile": 1, "refit": 0}


def test_weight_changes_refit_to_the_new_weights_numerics(counts: dict[str, int]) -> None:
    model, module = _wrapped()
    x = torch.randn(2, 4)
    module(x)
    compiled = module.gm
    module.load_state_dict(_new_state(model, 1))
    _assert_eager(module, model, x)
    with torch.no_grad():
        module.fc.bias.add_(0.5)  # an in-place edit of a parameter
    _assert_eager(module, model, x)
    module.fc.weight = torch.nn.Parameter(torch.randn(3, 4))  # a parameter replaced by one of the same shape
    _assert_eager(module, model, x)
    assert counts == {"compile": 1, "refit": 3} and module.gm is compiled


@pytest.mark.parametrize("cause", ["no GPU", "immutable_weights"])
def test_weight_change_recompiles_with_one_warning_when_refit_cannot_run(
    cause: str, counts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, module = _wrapped(immutable_weights=cause == "immutable_weights")
    if cause == "no GPU":

        def no_gpu(self: EmulatedBackend, engine: bytes, name: str, weights: object) -> bytes:
            # What the TensorRT backend raises on a machine without a GPU.
            raise RefitNeedsGPUError(f"cannot refit engine {name!r}: no CUDA GPU")

        monkeypatch.setattr(EmulatedBackend, "refit_engine", no_gpu)
    x = torch.randn(2, 4)
    module(x)
    module.load_state_dict(_new_state(model, 1))
    with pytest.warns(UserWarning, match="no CUDA GPU" if cause == "no GPU" else "immutable_weights=True"):
        _assert_eager(module, model, x)
    assert counts["compile"] == 2
    module.load_state_dict(_new_state(model, 2))
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        _assert_eager(module, model, x)
    assert [str(w.message) for w in again if "MutableTorchTensorRTModule" in str(w.message)] == []  # warned once
    assert counts["compile"] == 3


def test_structural_changes_recompile(counts: dict[str, int]) -> None:
    model, module = _wrapped()
    x = torch.randn(2, 4)
    module(x)
    module.fc = torch.nn.Linear(4, 5)  # other shapes: cannot be refitted
    _assert_eager(module, model, x)
    assert module(x).shape == (2, 5) and counts["compile"] == 2
    module.scale = 2.0  # a plain attribute forward reads: recompiled, not refitted
    _assert_eager(module, model, x)
    assert counts == {"compile": 3, "refit": 0}


def test_input_shape_change_recompiles(counts: dict[str, int]) -> None:
    model, module = _wrapped()
    module(torch.randn(2, 4))
    _assert_eager(module, model, torch.randn(3, 4))
    assert counts["compile"] == 2
    with pytest.raises(RuntimeError):  # inputs the model itself refuses: export fails, nothing runs stale engines
        module(torch.randn(3, 5))
    assert counts["compile"] == 3
    module.load_state_dict(_new_state(model, 1))  # refits with the inputs that last compiled
    _assert_eager(module, model, torch.randn(3, 4))
    assert counts == {"compile": 3, "refit": 1}


def test_dynamic_range_avoids_recompiles_until_an_input_leaves_it(counts: dict[str, int]) -> None:
    model, module = _wrapped()
    batch = torch.export.Dim("batch", min=1, max=8)
    module.set_expected_dynamic_shape_range(({0: batch},), {})
    for size in (2, 5, 8, 1):
        _assert_eager(module, model, torch.randn(size, 4))
    assert counts["compile"] == 1
    with pytest.warns(UserWarning, match="outside what set_expected_dynamic_shape_range covers"):
        _assert_eager(module, model, torch.randn(9, 4))
    assert counts["compile"] == 2 and module.arg_dynamic_shapes is None


def test_save_load_round_trip_keeps_refitted_weights_and_refits_again(tmp_path: Path) -> None:
    model, module = _wrapped()
    x = torch.randn(2, 4)
    module(x)
    module.load_state_dict(_new_state(model, 1))
    expected = module(x)
    path = tmp_path / "mutable.pt2"
    MutableTorchTensorRTModule.save(module, path)
    loaded = MutableTorchTensorRTModule.load(path)
    torch.testing.assert_close(loaded(x), expected, rtol=RTOL, atol=ATOL)
    assert not loaded.settings.immutable_weights  # the engines' recorded setting came back
    loaded.load_state_dict(_new_state(model, 2))
    model.load_state_dict(_new_state(model, 2))
    _assert_eager(loaded, model, x)


def test_attributes_are_the_wrapped_models() -> None:
    model, module = _wrapped()
    assert module.fc is model.fc and module.scale == 1.0 and module.training is False
    module.extra = 3  # set through the wrapper: lands on the model
    assert model.extra == 3
    with pytest.raises(AttributeError):
        _ = module.missing_attribute


def test_bad_arguments_are_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="torch.nn.Module"):
        MutableTorchTensorRTModule(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="min_block_size"):
        MutableTorchTensorRTModule(_Tiny(), min_blok_size=1)
    with pytest.raises(ValueError, match="enable_weight_streaming=True"):
        MutableTorchTensorRTModule(_Tiny(), weight_streaming_budget=1 << 20)
    with pytest.raises(ValueError, match="bytes >= 0"):
        MutableTorchTensorRTModule(_Tiny(), weight_streaming_budget=-1, enable_weight_streaming=True)
    model, module = _wrapped()
    with pytest.raises(TypeError, match="tuple"):
        module.set_expected_dynamic_shape_range([{}], {})  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="call it once"):
        module.refit_gm()
    with pytest.raises(ValueError, match="call it once before saving"):
        MutableTorchTensorRTModule.save(module, tmp_path / "early.pt2")
    x = torch.randn(2, 4)
    module(x)
    module.load_state_dict(_new_state(model, 1))
    with pytest.raises(ValueError, match="changed since it was compiled"):
        MutableTorchTensorRTModule.save(module, tmp_path / "stale.pt2")
    plain = tmp_path / "plain.pt2"
    torch_tensorrt.save(module.gm, str(plain), arg_inputs=[x])
    with pytest.raises(ValueError, match="not written by MutableTorchTensorRTModule.save"):
        MutableTorchTensorRTModule.load(plain)


def test_weight_streaming_budget_is_applied_after_each_compile() -> None:
    torch.manual_seed(0)
    model = _Tiny().eval()
    module = MutableTorchTensorRTModule(
        model, weight_streaming_budget=20, enable_weight_streaming=True, min_block_size=1, use_python_runtime=True
    )
    x = torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(module(x), model(x), rtol=RTOL, atol=ATOL)
    (segment,) = [m for m in module.gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
    assert segment.get_streamable_device_memory_budget() >= (4 * 3 + 3) * 4  # fc's weight and bias at least
    assert segment.get_device_memory_budget() == 20
    module.scale = 2.0  # a structure change: recompiled, and the budget applied to the new engines
    with torch.no_grad():
        torch.testing.assert_close(module(x), model(x), rtol=RTOL, atol=ATOL)
    (segment,) = [m for m in module.gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
    assert segment.get_device_memory_budget() == 20
