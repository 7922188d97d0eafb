"""refit_module_weights under the emulated runtime: new numerics, save/load, the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo import refit_module_weights
from torch_tensorrt.dynamo.conversion import TRTInterpreter
from torch_tensorrt.dynamo.conversion._engine_build import EngineBuildError
from torch_tensorrt.dynamo.conversion._weight_names import unnamed_weights
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.partitioning import partition
from torch_tensorrt.dynamo.runtime._engine_refit import RefitError, RefitNeedsGPUError
from torch_tensorrt.dynamo.runtime._segment_info import WEIGHTS_STRIPPED_FLAG
from torch_tensorrt.testing import emulated_runtime

RTOL, ATOL = 1e-4, 1e-4  # float32 engine against eager float32

RUNTIMES = [True] + ([False] if ENABLED_FEATURES.torch_tensorrt_runtime else [])


class _Cnn(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def _block() -> torch.nn.Module:
    return torch.nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0)


def _perturbed(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]:
            tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.5)
    return model


def _models(factory: type[torch.nn.Module] | object) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    old = factory().eval()  # type: ignore[operator]
    new = _perturbed(factory().eval(), 1)  # type: ignore[operator]
    return old, new


@pytest.mark.parametrize("factory, shape", [(_Cnn, (2, 3, 12, 12)), (_block, (2, 6, 16))])
def test_every_weight_of_a_network_has_a_stable_name(factory: object, shape: tuple[int, ...]) -> None:
    model, _ = _models(factory)
    x = torch.randn(shape)
    settings = torch_tensorrt.dynamo.CompilationSettings(min_block_size=1)
    maps = []
    for _ in range(2):  # converting the same graph twice names every weight the same way
        lowered = lower_exported_program(torch.export.export(model, (x,)), settings)
        parts = partition(lowered, settings)
        (segment,) = parts.trt_segments
        ranges = [(tuple(x.shape),) * 3]
        result = TRTInterpreter(getattr(parts.module, segment), ranges, compilation_settings=settings).build_network()
        assert unnamed_weights(result.network, set(result.ctx.refit_weights)) == []
        maps.append({n: (w.source, tuple(w.value.shape)) for n, w in result.ctx.refit_weights.items()})
    assert maps[0] == maps[1] and maps[0]
    sources = {s for s, _ in maps[0].values() if s is not None}
    # The module's weights reach the engine as named constants (conv kernel, linear/attention weights).
    assert any("weight" in s for s in sources), sources


@pytest.mark.parametrize("use_python_runtime", RUNTIMES)
@pytest.mark.parametrize("factory, shape", [(_Cnn, (2, 3, 12, 12)), (_block, (2, 6, 16))])
def test_refit_gives_the_new_weights_numerics(
    factory: object, shape: tuple[int, ...], use_python_runtime: bool
) -> None:
    old, new = _models(factory)
    x = torch.randn(shape)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(
            old, inputs=[x], min_block_size=1, immutable_weights=False, use_python_runtime=use_python_runtime
        )
        torch.testing.assert_close(compiled(x), old(x), rtol=RTOL, atol=ATOL)
        refitted = refit_module_weights(compiled, torch.export.export(new, (x,)), arg_inputs=(x,), verify_output=True)
        torch.testing.assert_close(refitted(x), new(x), rtol=RTOL, atol=ATOL)
        torch.testing.assert_close(compiled(x), old(x), rtol=RTOL, atol=ATOL)  # in_place=False: a copy changed


def test_refit_in_place_and_save_load_keep_the_new_weights(tmp_path: Path) -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    path = tmp_path / "refitted.pt2"
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = torch_tensorrt.compile(old, inputs=[x], min_block_size=1, immutable_weights=False)
        assert refit_module_weights(compiled, torch.export.export(new, (x,)), in_place=True) is compiled
        torch_tensorrt.save(compiled, str(path), inputs=[x])
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        loaded = torch_tensorrt.load(str(path)).module()
        torch.testing.assert_close(loaded(x), new(x), rtol=RTOL, atol=ATOL)
        # A loaded program refits too (its settings come from the engines' metadata).
        back = refit_module_weights(torch_tensorrt.load(str(path)), torch.export.export(old, (x,)))
        torch.testing.assert_close(back(x), old(x), rtol=RTOL, atol=ATOL)


def test_pytorch_segments_get_the_new_weights_too() -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(
            old, inputs=[x], min_block_size=1, immutable_weights=False, torch_executed_ops={"aten.addmm"}
        )
        refitted = refit_module_weights(compiled, torch.export.export(new, (x,)))
        torch.testing.assert_close(refitted(x), new(x), rtol=RTOL, atol=ATOL)


def test_stripped_engines_run_only_after_refit() -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(
            old, inputs=[x], min_block_size=1, immutable_weights=False, strip_engine_weights=True
        )
        with pytest.raises(RuntimeError, match="strip_engine_weights=True and holds no weights"):
            compiled(x)
        refitted = refit_module_weights(compiled, torch.export.export(new, (x,)))
        (segment,) = [m for m in refitted.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
        assert WEIGHTS_STRIPPED_FLAG not in segment.python_engine.info.metadata.flags
        torch.testing.assert_close(refitted(x), new(x), rtol=RTOL, atol=ATOL)


def test_immutable_engines_refuse_refit_naming_the_setting() -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(old, inputs=[x], min_block_size=1)
        with pytest.raises(RefitError, match="immutable_weights=True"):
            refit_module_weights(compiled, torch.export.export(new, (x,)))


def test_a_different_architecture_is_refused() -> None:
    old, _ = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    other = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU()).eval()
    wider = _Cnn().eval()
    wider.fc = torch.nn.Linear(8, 7)
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(old, inputs=[x], min_block_size=1, immutable_weights=False)
        with pytest.raises(RefitError, match="not the architecture|different network"):
            refit_module_weights(compiled, torch.export.export(other, (x,)))
        with pytest.raises(RefitError, match="elements"):
            refit_module_weights(compiled, torch.export.export(wider, (x,)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="the no-GPU errors")
def test_without_gpu_refittable_builds_and_refits_say_a_gpu_is_needed() -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    with pytest.raises(EngineBuildError, match="only on a machine with a CUDA GPU"):
        torch_tensorrt.compile(
            old, inputs=[x], min_block_size=1, immutable_weights=False, pass_through_build_failures=True
        )
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(old, inputs=[x], min_block_size=1, immutable_weights=False)
    with pytest.raises(RefitNeedsGPUError, match="needs a CUDA GPU"):
        refit_module_weights(compiled, torch.export.export(new, (x,)))


# Settings that change how a model is lowered or partitioned are recorded in the engines, so a refit
# lowers and partitions the new weights the same way (without them the segments would not match).
@pytest.mark.parametrize(
    "settings",
    [
        {"decompose_attention": True},
        {"enable_resource_partitioning": True, "cpu_memory_budget": 14_000},
    ],
    ids=["decompose_attention", "resource_partitioning"],
)
def test_lowering_and_partitioning_settings_carry_over_to_refit(settings: dict[str, object]) -> None:
    old, new = _models(_block)
    x = torch.randn(2, 6, 16)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch_tensorrt.compile(old, inputs=[x], min_block_size=1, immutable_weights=False, **settings)
        segments = [m for m in compiled.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
        recorded = segments[0].python_engine.info.metadata.settings
        assert all(getattr(recorded, name) == value for name, value in settings.items())
        if "cpu_memory_budget" in settings:
            assert len(segments) > 1, "the budget split the block into several engines"
        refitted = refit_module_weights(compiled, torch.export.export(new, (x,)), arg_inputs=(x,), verify_output=True)
        torch.testing.assert_close(refitted(x), new(x), rtol=RTOL, atol=ATOL)


def test_autocast_programs_refuse_refit() -> None:
    old, new = _models(_Cnn)
    x = torch.randn(2, 3, 12, 12)
    with emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(
            old,
            inputs=[x],
            min_block_size=1,
            immutable_weights=False,
            enable_autocast=True,
            autocast_low_precision_type=torch.float16,
        )
        with pytest.raises(RefitError, match="enable_autocast=True"):
            refit_module_weights(compiled, torch.export.export(new, (x,)))
