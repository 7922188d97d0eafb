"""``refit_module_weights``: new weights into the engines of a compiled program, without rebuilding.

As in Torch-TensorRT, the model with the new weights (an ExportedProgram of the same architecture)
is lowered and partitioned with the settings the engines record, and each TensorRT segment is
converted to a network again (no engine build). Converting the same graph names every weight the
same way (``conversion._weight_names``), so the new network's weights are addressed by the names the
engine knows them by; the runtime backend writes them in (``trt.Refitter`` on a GPU, the network
record under ``torch_tensorrt.testing.emulated_runtime()``) and the refitted engine bytes replace the
old ones in the module, so saving it keeps the new weights. Ops left to PyTorch get the new weights too.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion import TRTInterpreter
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.partitioning import partition
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
from torch_tensorrt.dynamo.runtime._engine_memory import track_engine_tensor
from torch_tensorrt.dynamo.runtime._engine_refit import RefitError
from torch_tensorrt.dynamo.runtime._execute_engine_op import join_engine_info, split_engine_info, watch_engine_tensor
from torch_tensorrt.dynamo.runtime._runtime_backend import current_backend
from torch_tensorrt.dynamo.runtime._segment_info import WEIGHTS_STRIPPED_FLAG
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule

logger = logging.getLogger("torch_tensorrt")

__all__ = ["RefitError", "refit_module_weights"]

# Tolerances of verify_output, per output dtype (the engine's numerics against eager PyTorch's).
_VERIFY_TOLERANCES = {torch.float32: (1e-3, 1e-3), torch.float16: (1e-2, 1e-2), torch.bfloat16: (2e-2, 2e-2)}


@dataclass
class _EngineSlot:
    """One engine of the compiled module and how to put a refitted one in its place."""

    info: EngineInfo
    replace: Callable[[EngineInfo], None]

    @property
    def name(self) -> str:
        return self.info.name


def refit_module_weights(
    compiled_module: torch.fx.GraphModule | torch.export.ExportedProgram,
    new_weight_module: torch.export.ExportedProgram,
    arg_inputs: tuple[Any, ...] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    verify_output: bool = False,
    in_place: bool = False,
) -> torch.fx.GraphModule:
    """Refit ``compiled_module``'s engines with the weights of ``new_weight_module``.

    Args:
        compiled_module: what ``torch_tensorrt.compile`` returned, or a program ``torch_tensorrt.load``
            read; its engines must have been compiled with ``immutable_weights=False``.
        new_weight_module: ``torch.export.export`` of the model with the new weights (same
            architecture, exported like the compiled one, dynamic shapes included).
        arg_inputs, kwarg_inputs: example inputs, needed by ``verify_output``.
        verify_output: run both on the inputs and raise ``RefitError`` if the outputs differ.
        in_place: refit ``compiled_module`` itself (not possible for an ExportedProgram) instead of a copy.

    Returns the refitted GraphModule. Raises ``RefitError`` for engines that are not refittable or a
    model that does not fit them, and ``RefitNeedsGPUError`` (a ``RefitError``) when no GPU can refit
    (outside ``emulated_runtime()``).
    """
    if not isinstance(new_weight_module, torch.export.ExportedProgram):
        raise TypeError(
            f"new_weight_module must be a torch.export.ExportedProgram (torch.export.export(model, args)), "
            f"got {type(new_weight_module).__name__}"
        )
    module = _module_to_refit(compiled_module, in_place)
    slots = _engine_slots(module)
    if not slots:
        raise ValueError("compiled_module holds no TensorRT engines: there is nothing to refit")
    settings = refit_settings([slot.info for slot in slots])
    lowered = lower_exported_program(new_weight_module, settings)
    partitioned = partition(lowered, settings)
    _check_same_segments(slots, partitioned.trt_segments)
    backend = current_backend()
    for slot in slots:
        weights = segment_weights(getattr(partitioned.module, slot.name), slot.info, settings)
        engine = backend.refit_engine(slot.info.engine, slot.name, weights)
        slot.replace(_refitted_info(slot.info, engine))
    _update_pytorch_state(module, partitioned.module, set(partitioned.trt_segments))
    if verify_output:
        _verify(module, new_weight_module, arg_inputs, kwarg_inputs)
    return module


def _module_to_refit(compiled: Any, in_place: bool) -> torch.fx.GraphModule:
    if isinstance(compiled, torch.export.ExportedProgram):
        if in_place:
            raise ValueError(
                "in_place=True cannot refit an ExportedProgram (its module() is a new GraphModule each time); "
                "pass in_place=False and use the returned module"
            )
        return compiled.module()
    if not isinstance(compiled, torch.nn.Module):
        raise TypeError(
            f"compiled_module must be a compiled GraphModule or ExportedProgram, got {type(compiled).__name__}"
        )
    return compiled if in_place else copy.deepcopy(compiled)


def _engine_slots(module: torch.nn.Module) -> list[_EngineSlot]:
    """Every engine: TorchTensorRTModule segments, and execute_engine calls of loaded programs."""
    slots = []
    for sub in module.modules():
        if isinstance(sub, TorchTensorRTModule):
            info = EngineInfo.from_list(join_engine_info(sub.serialized_engine, sub.engine_info))
            slots.append(_EngineSlot(info, sub.replace_engine))
        elif isinstance(sub, torch.fx.GraphModule):
            slots += [_call_slot(sub, node) for node in sub.graph.nodes if _is_engine_call(node)]
    return slots


def _is_engine_call(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and "execute_engine" in str(node.target)


def _call_slot(graph_module: torch.fx.GraphModule, node: torch.fx.Node) -> _EngineSlot:
    source = node.args[1]
    if not (isinstance(source, torch.fx.Node) and source.op == "get_attr"):
        raise ValueError(f"execute_engine call {node.name} does not take its engine from a module attribute")
    owner_path, _, attribute = str(source.target).rpartition(".")
    owner = graph_module.get_submodule(owner_path) if owner_path else graph_module
    info = EngineInfo.from_list(join_engine_info(getattr(owner, attribute), list(node.args[2])))

    def replace(new: EngineInfo) -> None:
        tensor, info_list = split_engine_info(new)
        setattr(owner, attribute, tensor)
        track_engine_tensor(tensor)
        watch_engine_tensor(tensor)
        node.args = (node.args[0], source, info_list, *node.args[3:])
        graph_module.recompile()

    return _EngineSlot(info, replace)


def refit_settings(infos: Sequence[EngineInfo]) -> CompilationSettings:
    """The settings to lower and partition new weights with, from what the engines record."""
    first = infos[0].metadata.settings
    for info in infos:
        if info.metadata.settings.immutable_weights:
            raise RefitError(
                f"engine {info.name!r} is not refittable: it was compiled with immutable_weights=True (the "
                "default). Compile with immutable_weights=False to refit its weights, or recompile the model."
            )
        if info.metadata.settings.enable_autocast:
            raise RefitError(
                f"engine {info.name!r} was compiled with enable_autocast=True: which layers run in reduced precision "
                "was decided from the weights and calibration data of that compile, so new weights could need other "
                "decisions. Recompile the model with its new weights instead."
            )
        if _partitioning(info.metadata.settings) != _partitioning(first):
            raise RefitError("the engines of this module record different compile settings; it cannot be refitted")
    return CompilationSettings(
        immutable_weights=False,
        truncate_double=first.truncate_double,
        optimization_level=first.optimization_level,
        hardware_compatible=first.hardware_compatible,
        compute_capabilities=first.compute_capabilities,
        min_block_size=first.min_block_size if first.min_block_size is not None else CompilationSettings.min_block_size,
        require_full_compilation=bool(first.require_full_compilation),
        torch_executed_ops=frozenset(first.torch_executed_ops or ()),
        use_fp32_acc=bool(first.use_fp32_acc),
        assume_dynamic_shape_support=bool(first.assume_dynamic_shape_support),
        decompose_attention=bool(first.decompose_attention),
        enable_resource_partitioning=bool(first.enable_resource_partitioning),
        # None (the host memory available then) is read again now: the same-segments check below
        # refuses a refit whose pieces came out differently.
        cpu_memory_budget=first.cpu_memory_budget if first.enable_resource_partitioning else None,
    )


def _partitioning(settings: Any) -> tuple[Any, ...]:
    return (
        settings.min_block_size,
        settings.require_full_compilation,
        settings.torch_executed_ops,
        settings.use_fp32_acc,
        settings.truncate_double,
        settings.assume_dynamic_shape_support,
        settings.decompose_attention,
        settings.enable_resource_partitioning,
        settings.cpu_memory_budget,
    )


def _check_same_segments(slots: Sequence[_EngineSlot], segments: Sequence[str]) -> None:
    engines = sorted(slot.name for slot in slots)
    if engines != sorted(segments):
        raise RefitError(
            f"the model with the new weights partitions into TensorRT segments {sorted(segments)}, but the compiled "
            f"module has engines {engines}: it is not the architecture that was compiled. Recompile it instead."
        )


def segment_weights(segment: torch.fx.GraphModule, info: EngineInfo, settings: CompilationSettings) -> dict[str, Any]:
    """The named weights of ``segment`` converted again (no engine build), by engine weight name."""
    ranges = []
    for spec in info.metadata.inputs:
        if spec.min_shape is None:
            raise RefitError(f"engine {info.name!r} does not record its input ranges; recompile it to refit it")
        ranges.append((tuple(spec.min_shape), tuple(spec.opt_shape), tuple(spec.max_shape)))
    result = TRTInterpreter(segment, ranges, compilation_settings=settings).build_network()
    return {name: weight.value for name, weight in result.ctx.refit_weights.items()}


def _refitted_info(info: EngineInfo, engine: bytes) -> EngineInfo:
    flags = {k: v for k, v in info.metadata.flags.items() if k != WEIGHTS_STRIPPED_FLAG}
    return dataclasses.replace(info, engine=engine, metadata=dataclasses.replace(info.metadata, flags=flags))


def _update_pytorch_state(module: torch.nn.Module, partitioned: torch.nn.Module, trt_segments: set[str]) -> None:
    """Weights of ops left to PyTorch: the compiled module's own tensors, replaced by the new ones."""
    engine_owned = {f"{name}." for name, sub in module.named_modules() if isinstance(sub, TorchTensorRTModule) and name}
    old = {k for k in _tensor_names(module) if not any(k.startswith(p) for p in engine_owned)}
    new = {k: v for k, v in _named_tensors(partitioned).items() if k.split(".")[0] not in trt_segments}
    for key in sorted(old & set(new)):
        _set_tensor(module, key, new[key])
    stale = sorted(k for k in old - set(new) if not _is_engine_tensor(module, k))
    if stale:
        raise RefitError(f"the model with the new weights has no values for the compiled module's tensors {stale[:5]}")


def _named_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    tensors = dict(module.named_parameters(remove_duplicate=False))
    tensors.update(module.named_buffers(remove_duplicate=False))
    return tensors


def _tensor_names(module: torch.nn.Module) -> set[str]:
    return set(_named_tensors(module))


def _is_engine_tensor(module: torch.nn.Module, key: str) -> bool:
    value = _named_tensors(module).get(key)
    return value is not None and value.dtype == torch.uint8 and value.dim() == 1


def _set_tensor(module: torch.nn.Module, key: str, value: torch.Tensor) -> None:
    # Replaced, not copied into: the compiled module's tensors may be the original model's.
    owner_path, _, name = key.rpartition(".")
    owner = module.get_submodule(owner_path) if owner_path else module
    if name in owner._parameters:
        owner._parameters[name] = torch.nn.Parameter(value.detach(), requires_grad=False)
    else:
        owner._buffers[name] = value.detach()


def _verify(
    module: torch.nn.Module,
    reference: torch.export.ExportedProgram,
    arg_inputs: Sequence[Any] | None,
    kwarg_inputs: dict[str, Any] | None,
) -> None:
    if arg_inputs is None:
        raise ValueError("verify_output=True needs arg_inputs (example inputs to compare the outputs on)")
    args, kwargs = tuple(arg_inputs), dict(kwarg_inputs or {})
    expected = torch.utils._pytree.tree_leaves(reference.module()(*args, **kwargs))
    actual = torch.utils._pytree.tree_leaves(module(*args, **kwargs))
    for index, (want, got) in enumerate(zip(expected, actual)):
        if not isinstance(want, torch.Tensor):
            continue
        rtol, atol = _VERIFY_TOLERANCES.get(want.dtype, (0.0, 0.0))
        if not torch.allclose(got.to(want.device), want, rtol=rtol, atol=atol):
            raise RefitError(
                f"refit verification failed: output {index} differs from the model with the new weights by up to "
                f"{(got.to(want.device).float() - want.float()).abs().max().item():.3g} (rtol {rtol}, atol {atol})"
            )
    logger.info("refit verified: the outputs match the model with the new weights")
