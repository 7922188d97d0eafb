"""TorchTensorRTModule: one TensorRT segment of a compiled program."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.modules.module as _nn_module

from torch_tensorrt.dynamo.runtime._aliased_io import check_declared, checked_aliased_io, user_output_count
from torch_tensorrt.dynamo.runtime._cpp_engine import (
    EAGER_CALL,
    CppEngineControls,
    cpp_engine_for,
    cpp_runs_engines,
    cpp_runtime_loaded,
    execute_on_cpp_runtime,
    require_cpp_runtime,
)
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
from torch_tensorrt.dynamo.runtime._engine_memory import track_engine_tensor
from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_for, join_engine_info, split_engine_info
from torch_tensorrt.dynamo.runtime._module_controls import ProfileAndBudgetMethods
from torch_tensorrt.dynamo.runtime._module_profiling import ProfilingMethods
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine
from torch_tensorrt.runtime._controls import module_runtime_settings, set_module_runtime_settings
from torch_tensorrt.runtime._settings import RuntimeSettings


def _tracing(inputs: tuple[torch.Tensor, ...]) -> bool:
    """True under torch.export / torch.compile / any tensor-subclass tracing (fake or proxy tensors)."""
    if torch.compiler.is_compiling() or torch._C._len_torch_dispatch_stack() > 0:
        return True
    for t in inputs:  # a loop, not any(<generator>): this runs on every call
        if type(t) is not torch.Tensor:
            return True
    return False


def _plain_call(module: torch.nn.Module) -> bool:
    """Whether nn.Module.__call__ would do nothing but call forward: no hooks (the module's or global),
    no module.compile(), no TorchScript tracing. Mirrors the fast path of nn.Module._call_impl."""
    return not (
        module._forward_hooks
        or module._forward_pre_hooks
        or module._backward_hooks
        or module._backward_pre_hooks
        or _nn_module._global_forward_hooks
        or _nn_module._global_forward_pre_hooks
        or _nn_module._global_backward_hooks
        or _nn_module._global_backward_pre_hooks
        or module._compiled_call_impl is not None
        or torch._C._get_tracing_state()
    )


# Creating a module's Python engine once, when several threads make its first call together.
_ENGINE_CREATION = threading.Lock()


class TorchTensorRTModule(torch.nn.Module, ProfileAndBudgetMethods, ProfilingMethods):
    """One engine: its bytes (a uint8 buffer) and its engine-info list (strings, engine by digest).

    ``forward`` calls ``torch.ops.tensorrt.execute_engine`` when traced (so exported programs record
    the op) and the engine directly in eager mode (same code path, without the dispatcher hop).
    """

    def __init__(
        self,
        engine_info: EngineInfo | list[str] | bytes | None = None,
        name: str | None = None,
        output_is_tuple: bool | None = None,
        use_python_runtime: bool | None = None,
        *,
        serialized_engine: bytes | None = None,
        input_binding_names: list[str] | None = None,
        output_binding_names: list[str] | None = None,
        aliased_io: Mapping[str, Any] | None = None,
        **engine_parts: Any,
    ) -> None:
        """``engine_info``: the engine and its info. Torch-TensorRT's form is accepted too: the engine's
        bytes (as ``engine_info`` or ``serialized_engine=``) with ``input_binding_names``,
        ``output_binding_names`` and optionally ``settings``, ``requires_output_allocator``.
        ``aliased_io`` ({output: (input, "kv_cache_update")}, as Torch-TensorRT): outputs the engine writes
        into an input's memory (lift_mutable_buffers engines); see :mod:`._aliased_io`."""
        super().__init__()
        if isinstance(engine_info, (bytes, bytearray)) or serialized_engine is not None:
            from torch_tensorrt.dynamo.runtime._engine_info_from_parts import engine_info_from_parts

            plan = serialized_engine if serialized_engine is not None else engine_info
            if isinstance(name, (list, tuple)):  # Torch-TensorRT's positional order: engine, inputs, outputs
                input_binding_names, name = list(name), None
                if isinstance(output_is_tuple, (list, tuple)):
                    output_binding_names, output_is_tuple = list(output_is_tuple), None
            engine_info = engine_info_from_parts(
                plan,
                input_binding_names,
                output_binding_names,
                name=name or "",
                **engine_parts,  # type: ignore[arg-type]
            )
        elif engine_info is None or engine_parts or input_binding_names or output_binding_names:
            raise TypeError(
                "TorchTensorRTModule needs engine_info (an EngineInfo or its list of strings), or Torch-TensorRT's "
                "serialized_engine=<bytes> with input_binding_names and output_binding_names"
            )
        info = engine_info if isinstance(engine_info, EngineInfo) else EngineInfo.from_list(list(engine_info))
        serialized_engine, self.engine_info = split_engine_info(info)
        self.register_buffer("serialized_engine", serialized_engine)
        track_engine_tensor(serialized_engine)
        self.name = name or info.name
        self._engine: TRTEngine | None = None
        self.aliased_io = checked_aliased_io(aliased_io, info.input_names, info.output_names)
        self._user_outputs = user_output_count(info.output_names, self.aliased_io)
        # Mirror the replaced fx submodule: a tuple when it returned several values (or a 1-tuple).
        self.output_is_tuple = self._user_outputs > 1 if output_is_tuple is None else output_is_tuple
        # True: the Python runtime. False: the C++ one, always (a C++ runtime built without a TensorRT SDK
        # hands the calls to Python itself). None: the C++ runtime when it can run engines, else Python.
        self.use_python_runtime = use_python_runtime
        # The C++ engine registry's token for this module's engine (0: none yet); execute_on_cpp_runtime.
        self._cpp_engine_token = 0
        self._aliases_checked = False  # aliased_io compared with the engine's own report (first call)
        require_cpp_runtime(use_python_runtime)

    @property
    def engine(self) -> TRTEngine | CppEngineControls:
        """This module's engine on the runtime that runs it, as in Torch-TensorRT: the Python
        ``TRTEngine``, or the controls of its C++ engine (``torch.classes.tensorrt.Engine``)."""
        if self.runs_in_cpp():
            return cpp_engine_for(self.serialized_engine, self.engine_info)
        return self.python_engine

    @property
    def python_engine(self) -> TRTEngine:
        # Each module owns its engine, so runtime settings applied to one compiled module never
        # reach another copy of the same engine (loaded programs share engines through the op).
        if self._engine is None:
            with _ENGINE_CREATION:
                if self._engine is None:
                    info = EngineInfo.from_list(join_engine_info(self.serialized_engine, self.engine_info))
                    self._engine = TRTEngine(info)
        return self._engine

    @property
    def runtime_settings(self) -> RuntimeSettings:
        """The settings this module's engine runs with: its own, else the process-wide defaults."""
        return module_runtime_settings(self)

    @runtime_settings.setter
    def runtime_settings(self, settings: RuntimeSettings | None) -> None:
        # Reaches the engine on the runtime in use; None returns it to the process-wide defaults.
        set_module_runtime_settings(self, settings)

    @property
    def input_names(self) -> list[str]:
        return list(self.python_engine.info.input_names)

    @property
    def output_names(self) -> list[str]:
        return list(self.python_engine.info.output_names)

    def runs_in_cpp(self) -> bool:
        """Whether eager calls run on the C++ runtime (its engine for this module's engine tensor)."""
        if self.use_python_runtime is None:
            return cpp_runs_engines()
        return self.use_python_runtime is False and cpp_runtime_loaded()

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        # Plain eager calls (no hooks, no tracing, exact tensors) skip nn.Module.__call__, and on the C++
        # runtime run its engine straight from the C++ extension: together about 3 us, as much as the
        # runtime's own work per call. Anything else takes nn.Module.__call__ as for any module.
        if not kwargs and not torch.compiler.is_compiling():
            eager = EAGER_CALL
            if eager is not None:
                result = eager(self, inputs)
                if result is False:
                    return self._run_eager(inputs)
                if result is not None:
                    return result
            elif not _tracing(inputs) and _plain_call(self):
                return self._run_eager(inputs)
        return super().__call__(*inputs, **kwargs)

    def forward(self, *inputs: torch.Tensor) -> Any:
        if _tracing(inputs):
            if self.aliased_io:
                raise RuntimeError(
                    f"engine {self.name!r} writes its inputs in place (aliased_io), which a traced "
                    "execute_engine call does not express; call the module eagerly"
                )
            outputs = torch.ops.tensorrt.execute_engine(list(inputs), self.serialized_engine, self.engine_info)
            return tuple(outputs) if self.output_is_tuple else outputs[0]
        return self._run_eager(inputs)

    def _run_eager(self, inputs: tuple[torch.Tensor, ...]) -> Any:
        if self.aliased_io:
            return self._run_aliased(inputs)
        if self.runs_in_cpp():
            # The C++ engine of this module's own buffer (EngineRegistry): per module, released with it.
            outputs = execute_on_cpp_runtime(self, inputs)
        else:
            outputs = (self._engine or self.python_engine).execute(inputs)
        return tuple(outputs) if self.output_is_tuple else outputs[0]

    def _run_aliased(self, inputs: tuple[torch.Tensor, ...]) -> Any:
        """An engine writing inputs in place: its aliased outputs are the caller's input tensors (both
        runtimes bind them so), and the trailing ones are left out of the result (Torch-TensorRT's rule)."""
        if self.runs_in_cpp():
            outputs = execute_on_cpp_runtime(self, inputs)
            if not self._aliases_checked:
                check_declared(self.name, self.aliased_io, self._cpp_reported_aliases(), self.input_names)
        else:
            engine = self.python_engine
            outputs = engine.execute(inputs)
            if not self._aliases_checked:
                check_declared(self.name, self.aliased_io, engine._aliased, engine.info.input_names)
        self._aliases_checked = True
        outputs = outputs[: self._user_outputs]
        return tuple(outputs) if self.output_is_tuple else outputs[0]

    def _cpp_reported_aliases(self) -> dict[str, int]:
        """The aliasing of the engine that ran the call on the C++ runtime's side: its own engine, or, when
        it handed the call to the Python runtime (no backend that can run engines), the Python engine it
        ran on, whose report the call made (the C++ engine cannot load there)."""
        try:
            return cpp_engine_for(self.serialized_engine, self.engine_info).aliased_outputs
        except RuntimeError:
            return engine_for(self.serialized_engine, self.engine_info)._aliased

    def replace_engine(self, engine_info: EngineInfo) -> None:
        """Hold another engine of the same signature (a refitted one): new engine bytes and info.

        The engine is set up again on the next call, on either runtime (the C++ runtime keys its
        engines by the engine tensor, which is new); settings given to this module's engine are kept.
        """
        own = self.engine.runtime_settings_override if self._engine is not None or self.runs_in_cpp() else None
        serialized_engine, self.engine_info = split_engine_info(engine_info)
        self.register_buffer("serialized_engine", serialized_engine)
        track_engine_tensor(serialized_engine)
        self._engine = None
        self._cpp_engine_token = 0  # the C++ registry token named the previous engine
        if own is not None:
            self.runtime_settings = own

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_engine"] = None  # live TensorRT objects never travel
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_cpp_engine_token", 0)  # modules pickled before the token existed
        self.__dict__.setdefault("aliased_io", {})
        self.__dict__.setdefault("_user_outputs", None)  # only read with aliased_io
        self._aliases_checked = False

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
