"""``MutableTorchTensorRTModule``: a PyTorch module whose TensorRT engines follow its weights and inputs.

As in Torch-TensorRT, the wrapper holds the PyTorch model and the compile settings; nothing is
compiled until the first call, which exports the model with that call's inputs and compiles it. On
every later call it decides, before running, whether the engines still fit:

* the weights changed in value (``load_state_dict``, in-place edits, a parameter replaced by one of
  the same shape): the engines are refitted (``refit_module_weights``). When refit cannot run
  (engines built with ``immutable_weights=True``, or no GPU outside ``testing.emulated_runtime()``)
  the model is recompiled instead, with one warning saying why;
* the structure changed (state_dict keys, shapes or dtypes, submodules, or any other attribute set
  through the wrapper): recompile;
* the inputs do not fit the compiled program (other dtypes, ranks, non-tensor values, or sizes
  outside the ranges the program was exported with, which ``set_expected_dynamic_shape_range``
  widens): recompile.

Weight changes are seen through each tensor's identity, storage and version counter, which every
in-place op and ``load_state_dict`` bump: reading the tensors is cheap, and no copy of the weights is
kept. An edit through ``tensor.data`` bypasses the version counter; call ``refit_gm()`` after one.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils import _pytree as pytree

from torch_tensorrt._Device import Device
from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

__all__ = ["MutableTorchTensorRTModule"]

# The settings the engines record (EngineSettings) that are compile settings too: a loaded module
# recompiles with these; every other setting is back at its default.
_RECORDED_SETTINGS = (
    "optimization_level",
    "truncate_double",
    "hardware_compatible",
    "immutable_weights",
    "min_block_size",
    "require_full_compilation",
    "use_fp32_acc",
    "assume_dynamic_shape_support",
)


def _checked_budget(budget: int | None, settings: CompilationSettings) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"weight_streaming_budget must be a number of bytes >= 0 or None, got {budget!r}")
    if not settings.enable_weight_streaming:
        raise ValueError(
            "weight_streaming_budget needs engines with streamable weights: pass enable_weight_streaming=True "
            "too (or leave the budget None)"
        )
    return budget


@dataclass(frozen=True)
class _TensorState:
    """What identifies a weight's current value without copying it."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    device: torch.device
    identity: int
    data_ptr: int
    version: int

    @classmethod
    def of(cls, tensor: torch.Tensor) -> _TensorState:
        return cls(tuple(tensor.shape), tensor.dtype, tensor.device, id(tensor), tensor.data_ptr(), tensor._version)

    def layout(self) -> tuple[Any, ...]:
        return (self.shape, self.dtype, self.device)


@dataclass(frozen=True)
class _ModelState:
    """The model's weights and structure at the last compile or refit."""

    tensors: dict[str, _TensorState]
    structure: tuple[tuple[str, type], ...]

    @classmethod
    def of(cls, model: torch.nn.Module) -> _ModelState:
        tensors = {name: _TensorState.of(t) for name, t in model.state_dict(keep_vars=True).items()}
        return cls(tensors, tuple((name, type(m)) for name, m in model.named_modules()))

    def change(self, now: _ModelState) -> str | None:
        """``"recompile"``, ``"refit"`` or None (no change) to go from this state to ``now``."""
        if self.structure != now.structure or self.tensors.keys() != now.tensors.keys():
            return "recompile"
        if any(self.tensors[k].layout() != now.tensors[k].layout() for k in now.tensors):
            return "recompile"
        return "refit" if self.tensors != now.tensors else None


@dataclass(frozen=True)
class _InputRanges:
    """The inputs a compiled program takes: the pytree layout, and per leaf a tensor's dtype and
    per-dim (min, max), or a non-tensor's value (torch.export specializes on those)."""

    spec: pytree.TreeSpec
    leaves: tuple[Any, ...]

    @classmethod
    def of(cls, program: torch.export.ExportedProgram, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _InputRanges:
        leaves, spec = pytree.tree_flatten((args, kwargs))
        placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
        vals = [placeholders[name].meta.get("val") for name in program.graph_signature.user_inputs]
        tensor_vals = iter(v for v in vals if isinstance(v, torch.Tensor))
        ranges = []
        for leaf in leaves:
            if not isinstance(leaf, torch.Tensor):
                ranges.append(("value", leaf))
                continue
            val = next(tensor_vals, None)
            dims = (
                [_dim_range(program, size) for size in val.shape] if val is not None else [(s, s) for s in leaf.shape]
            )
            ranges.append(("tensor", leaf.dtype, tuple(dims)))
        return cls(spec, tuple(ranges))

    def mismatch(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """Why ``args``/``kwargs`` do not fit, or None."""
        leaves, spec = pytree.tree_flatten((args, kwargs))
        if spec != self.spec:
            return "the inputs have another structure (number, names or nesting)"
        for index, (leaf, want) in enumerate(zip(leaves, self.leaves)):
            if want[0] == "value":
                if isinstance(leaf, torch.Tensor) or leaf != want[1]:
                    return f"input {index} is {leaf!r}, the program was compiled for {want[1]!r}"
                continue
            if not isinstance(leaf, torch.Tensor) or leaf.dtype != want[1] or leaf.dim() != len(want[2]):
                return f"input {index} is not a {want[1]} tensor of rank {len(want[2])}"
            outside = [d for d, (size, (lo, hi)) in enumerate(zip(leaf.shape, want[2])) if not lo <= size <= hi]
            if outside:
                return f"input {index} has shape {tuple(leaf.shape)}, outside the compiled ranges {want[2]}"
        return None


def _dim_range(program: torch.export.ExportedProgram, size: Any) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    bounds = program.range_constraints.get(size.node.expr)
    hint = size.node.hint
    low = _finite(bounds.lower if bounds is not None else None, hint)
    high = _finite(bounds.upper if bounds is not None else None, hint)
    return low, high


def _finite(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # torch.export's infinity
        return fallback


class MutableTorchTensorRTModule:
    """Wrap ``pytorch_model``: called like it, run by TensorRT engines kept in step with its weights.

    Keyword arguments are ``torch_tensorrt.dynamo.compile``'s settings (``CompilationSettings``
    fields); ``immutable_weights`` defaults to False here so that weight changes refit. ``strict``
    and ``prefer_deferred_runtime_asserts_over_guards`` are passed to ``torch.export.export``.
    Attributes the wrapper does not have are the wrapped model's (read and written through).
    """

    def __init__(
        self,
        pytorch_model: torch.nn.Module,
        *,
        device: Device | torch.device | str | None = None,
        immutable_weights: bool = False,
        strict: bool = True,
        prefer_deferred_runtime_asserts_over_guards: bool = False,
        weight_streaming_budget: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(pytorch_model, torch.nn.Module):
            raise TypeError(f"pytorch_model must be a torch.nn.Module, got {type(pytorch_model).__name__}")
        settings_kwargs = dict(kwargs, immutable_weights=immutable_weights)
        if device is not None:
            settings_kwargs["device"] = device
        own = {
            "original_model": pytorch_model,
            "settings": CompilationSettings.from_kwargs(**settings_kwargs),
            "strict": bool(strict),
            "prefer_deferred_runtime_asserts_over_guards": bool(prefer_deferred_runtime_asserts_over_guards),
            "gm": None,  # the compiled GraphModule, after the first call
            "exp_program": None,  # the ExportedProgram gm was compiled (or last refitted) from
            "arg_inputs": None,  # the inputs of the call that compiled
            "kwarg_inputs": {},
            "arg_dynamic_shapes": None,
            "kwarg_dynamic_shapes": None,
            "_input_ranges": None,
            "_model_state": None,
            "_recompile_reason": None,
        }
        # Bytes of streamable weights kept on the device after each compile (None: automatic).
        own["weight_streaming_budget"] = _checked_budget(weight_streaming_budget, own["settings"])
        own["weight_streaming_ctx"] = None
        for name, value in own.items():
            object.__setattr__(self, name, value)

    # -- attribute access: the wrapped model's -----------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called for names this object lacks (its own state is in __dict__).
        model = self.__dict__.get("original_model")
        if model is None:
            raise AttributeError(name)
        return getattr(model, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        if not isinstance(value, torch.Tensor):
            # A submodule or a plain attribute may change what forward computes: not a weight edit.
            object.__setattr__(self, "_recompile_reason", f"attribute {name!r} of the model was set")
        setattr(self.original_model, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            raise AttributeError(f"{name!r} is MutableTorchTensorRTModule state and cannot be deleted")
        object.__setattr__(self, "_recompile_reason", f"attribute {name!r} of the model was deleted")
        delattr(self.original_model, name)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """The model's ``load_state_dict``; the next call refits (or recompiles if shapes changed)."""
        return self.original_model.load_state_dict(state_dict, strict=strict, assign=assign)

    # -- compile, refit, run ------------------------------------------------------------------------

    def set_expected_dynamic_shape_range(
        self, args_dynamic_shape: tuple[dict[Any, Any], ...], kwargs_dynamic_shape: dict[str, Any]
    ) -> None:
        """The sizes the next compile covers, in ``torch.export``'s form: one entry per positional
        input (``{dim: torch.export.Dim(...)}``, ``{}`` for a static one) and per keyword input.
        Calls whose sizes stay within these ranges run without recompiling."""
        if not isinstance(args_dynamic_shape, tuple):
            raise TypeError(
                f"args_dynamic_shape must be a tuple (one entry per positional input), got {args_dynamic_shape!r}"
            )
        if not isinstance(kwargs_dynamic_shape, dict):
            raise TypeError(
                f"kwargs_dynamic_shape must be a dict (keyword input -> shape), got {kwargs_dynamic_shape!r}"
            )
        self.arg_dynamic_shapes = args_dynamic_shape
        self.kwarg_dynamic_shapes = dict(kwargs_dynamic_shape)
        self._recompile_reason = "the expected dynamic shape range was set"

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        action = self._update_action(args, kwargs)
        if action == "compile":
            previous = self.arg_inputs, self.kwarg_inputs
            self.arg_inputs, self.kwarg_inputs = args, kwargs
            try:
                self.compile()
            except Exception:
                # Inputs that failed to compile must not become the ones later refits export with.
                self.arg_inputs, self.kwarg_inputs = previous
                raise
        elif action == "refit":
            self._refit_or_recompile()
        return self.gm(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _update_action(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """What the call needs first: "compile", "refit" or None."""
        if self.gm is None or self._recompile_reason is not None:
            logger.info("MutableTorchTensorRTModule: compiling (%s)", self._recompile_reason or "first call")
            return "compile"
        mismatch = self._input_ranges.mismatch(args, kwargs)
        if mismatch is not None:
            if self.arg_dynamic_shapes is not None or self.kwarg_dynamic_shapes is not None:
                warn_once(
                    "MutableTorchTensorRTModule:outside-dynamic-range",
                    f"MutableTorchTensorRTModule: {mismatch}, outside what set_expected_dynamic_shape_range "
                    "covers; recompiling for these inputs with static shapes. Set a wider range to avoid this.",
                )
                self.arg_dynamic_shapes = self.kwarg_dynamic_shapes = None
            logger.info("MutableTorchTensorRTModule: recompiling, %s", mismatch)
            return "compile"
        change = self._model_state.change(_ModelState.of(self.original_model))
        if change is not None:
            logger.info(
                "MutableTorchTensorRTModule: the model's %s changed: %s",
                "weights" if change == "refit" else "structure",
                change,
            )
        return change

    def compile(self) -> None:
        """(Re)compile from the model and the inputs of the last call that compiled."""
        from torch_tensorrt.dynamo._compiler import compile as dynamo_compile

        if self.arg_inputs is None:
            raise RuntimeError("MutableTorchTensorRTModule compiles from a call's inputs: call the module first")
        program = self._export()
        # No inputs given: compile takes the ranges torch.export recorded (static, or the dynamic range).
        self.gm = dynamo_compile(program, settings=self.settings)
        if self.settings.enable_weight_streaming:
            self.set_weight_streaming_ctx(self.weight_streaming_budget)
        self.exp_program = program
        self._input_ranges = _InputRanges.of(program, self.arg_inputs, self.kwarg_inputs)
        self._model_state = _ModelState.of(self.original_model)
        self._recompile_reason = None

    def set_weight_streaming_ctx(self, requested_budget: int | None = None) -> None:
        """Keep ``requested_budget`` bytes of the engines' streamable weights on the device (None: the
        automatic budget), as Torch-TensorRT does after every compile with enable_weight_streaming."""
        from torch_tensorrt.runtime import weight_streaming

        self.weight_streaming_ctx = weight_streaming(self.gm)
        budget = (
            self.weight_streaming_ctx.get_automatic_weight_streaming_budget()
            if requested_budget is None
            else requested_budget
        )
        self.weight_streaming_ctx.device_budget = budget

    def refit_gm(self) -> None:
        """Refit the engines with the model's current weights (same structure); call it after an edit
        the wrapper cannot see (through ``tensor.data``). Raises ``RefitError`` when refit cannot run."""
        from torch_tensorrt.dynamo._refit import refit_module_weights

        if self.gm is None:
            raise RuntimeError("MutableTorchTensorRTModule has not compiled yet: call it once before refit_gm()")
        program = self._export()
        refit_module_weights(self.gm, program, in_place=True)
        self.exp_program = program
        self._model_state = _ModelState.of(self.original_model)

    def _refit_or_recompile(self) -> None:
        from torch_tensorrt.dynamo.runtime._engine_refit import RefitError, RefitNeedsGPUError

        if self.settings.immutable_weights:
            warn_once(
                "MutableTorchTensorRTModule:immutable-weights",
                "MutableTorchTensorRTModule: the weights changed and the engines were built with "
                "immutable_weights=True, so they cannot be refitted: recompiling instead. Pass "
                "immutable_weights=False to refit.",
            )
            self.compile()
            return
        try:
            self.refit_gm()
        except RefitNeedsGPUError as exc:
            warn_once(
                "MutableTorchTensorRTModule:refit-needs-gpu",
                f"MutableTorchTensorRTModule: recompiling instead of refitting: {exc}",
            )
            self.compile()
        except RefitError as exc:
            warn_once(
                "MutableTorchTensorRTModule:refit-error",
                f"MutableTorchTensorRTModule: refit failed, recompiling: {exc}",
            )
            self.compile()

    def _export(self) -> torch.export.ExportedProgram:
        return torch.export.export(
            self.original_model,
            tuple(self.arg_inputs or ()),
            kwargs=self.kwarg_inputs or None,
            dynamic_shapes=self._export_dynamic_shapes(),
            strict=self.strict,
            prefer_deferred_runtime_asserts_over_guards=self.prefer_deferred_runtime_asserts_over_guards,
        )

    def _export_dynamic_shapes(self) -> dict[str, Any] | None:
        """The dynamic shape range as torch.export's dict keyed by forward's parameter names."""
        if self.arg_dynamic_shapes is None and self.kwarg_dynamic_shapes is None:
            return None
        arg_shapes = self.arg_dynamic_shapes or ()
        if len(arg_shapes) != len(self.arg_inputs or ()):
            raise ValueError(
                f"set_expected_dynamic_shape_range gave {len(arg_shapes)} positional entries but the model is called "
                f"with {len(self.arg_inputs or ())} positional inputs: give one per input ({{}} for a static one)"
            )
        names = [
            p.name
            for p in inspect.signature(self.original_model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(names) < len(arg_shapes):
            raise ValueError("the model's forward takes *args; dynamic shape ranges need named parameters")
        shapes = dict(zip(names, arg_shapes))
        shapes.update(self.kwarg_dynamic_shapes or {})
        return shapes

    # -- save / load ------------------------------------------------------------------------------

    @staticmethod
    def save(module: MutableTorchTensorRTModule, path: str | os.PathLike[str]) -> None:
        """Write the compiled program and the model it was compiled from to one ``.pt2`` (through
        ``torch_tensorrt.save``'s format, nothing pickled); ``load`` reads both back."""
        from torch_tensorrt.dynamo._program_archive import save_with_reference

        if not isinstance(module, MutableTorchTensorRTModule):
            raise TypeError(f"module must be a MutableTorchTensorRTModule, got {type(module).__name__}")
        if module.gm is None:
            raise ValueError("the MutableTorchTensorRTModule has not compiled yet: call it once before saving it")
        if module._recompile_reason is not None or module._model_state.change(_ModelState.of(module.original_model)):
            raise ValueError(
                "the model changed since it was compiled: call the MutableTorchTensorRTModule once (it refits or "
                "recompiles) before saving it, so the saved engines have the current weights"
            )
        tensors_only = {k: v for k, v in module.kwarg_inputs.items() if isinstance(v, torch.Tensor)}
        save_with_reference(module.gm, path, module.exp_program, kwarg_inputs=tensors_only or None)

    @staticmethod
    def load(path: str | os.PathLike[str]) -> MutableTorchTensorRTModule:
        """A MutableTorchTensorRTModule from a file ``save`` wrote: the compiled program runs at once,
        and the model (the saved ExportedProgram's ``module()``) refits or recompiles it after edits.
        The settings the engines record are kept; other compile settings are back at their defaults."""
        import torch_tensorrt
        from torch_tensorrt.dynamo._program_archive import read_program_archive

        archive = read_program_archive(path)
        reference = archive.reference
        if reference is None or reference.example_inputs is None:
            raise ValueError(
                f"{os.fspath(path)} holds no reference model with example inputs, so it was not written by "
                "MutableTorchTensorRTModule.save; read its compiled program with torch_tensorrt.load instead"
            )
        loaded = torch_tensorrt.load(path)  # checks the engines against this host
        gm = loaded.module() if isinstance(loaded, torch.export.ExportedProgram) else loaded
        module = MutableTorchTensorRTModule(reference.module(), **_recorded_settings(gm))
        args, kwargs = reference.example_inputs
        module.arg_inputs, module.kwarg_inputs = tuple(args), dict(kwargs)
        module.gm, module.exp_program = gm, reference
        module._input_ranges = _InputRanges.of(reference, module.arg_inputs, module.kwarg_inputs)
        module._model_state = _ModelState.of(module.original_model)
        return module


def _recorded_settings(gm: torch.nn.Module) -> dict[str, Any]:
    from torch_tensorrt.dynamo._refit import _engine_slots

    slots = _engine_slots(gm)
    if not slots:
        return {}
    recorded = slots[0].info.metadata.settings
    return {name: getattr(recorded, name) for name in _RECORDED_SETTINGS if getattr(recorded, name) is not None}
