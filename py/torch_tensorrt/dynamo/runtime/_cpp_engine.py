"""Using the C++ runtime (``torch.classes.tensorrt.Engine``) from Python.

When the C++ runtime can run engines itself (built with a TensorRT SDK, or a test backend
selected), compiled modules call it through ``torch.ops.tensorrt.execute_engine`` and the runtime
controls reach its engines through :class:`CppEngineControls`. Strategy names are validated by
``RuntimeSettings`` in Python before anything reaches C++.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from typing import Any

import torch

from torch_tensorrt import _trt
from torch_tensorrt.dynamo.runtime._execute_engine_op import watch_engine_tensor
from torch_tensorrt.runtime._defaults import effective_settings
from torch_tensorrt.runtime._settings import RuntimeSettings


def cpp_runtime_loaded() -> bool:
    """Whether the C++ runtime (torch_tensorrt._C) is loaded, whatever backend it has."""
    return bool(_trt.ENABLED_FEATURES.torch_tensorrt_runtime)


def require_cpp_runtime(use_python_runtime: bool | None) -> None:
    """``use_python_runtime=False`` asks for the C++ runtime: a ValueError when it is not loaded."""
    if use_python_runtime is False and not cpp_runtime_loaded():
        raise ValueError(
            "use_python_runtime=False needs the C++ runtime (torch_tensorrt._C), which is not loaded; "
            "use use_python_runtime=None (the C++ runtime when it can run engines, else Python) or True, "
            "or install a build with the C++ runtime"
        )


def _extension_function(name: str) -> Any:
    """A function of the torch_tensorrt._C extension module when it is loaded (torch_tensorrt's import
    loads it first), else None: Bazel builds load the runtime as a plain library without the module's
    functions, and importing the extension here could register the tensorrt ops after Python did."""
    module = sys.modules.get("torch_tensorrt._C")
    return None if module is None else getattr(module, name, None)


# The eager per-call entry points of python_module.cpp: no op call, no argument boxing.
EAGER_CALL = _extension_function("_eager_call")
_EXECUTE_REGISTERED = _extension_function("_execute_registered")
_RUNS_ENGINES_BY_DEFAULT = _extension_function("_runs_engines_by_default")


@functools.cache
def _ops() -> tuple[Any, Any, Any]:
    # Overloads, not packets: the packet resolves the overload anew on every call (about 5 us).
    ops = torch.ops.tensorrt
    return ops.execute_engine.default, ops._engine_token.default, ops._runs_engines_by_default.default


def cpp_runs_engines() -> bool:
    """Whether modules left to choose (use_python_runtime=None) run on the C++ runtime (the rule is
    the C++ runtime's runs_engines_by_default, execute_engine.h)."""
    if not _trt.ENABLED_FEATURES.torch_tensorrt_runtime:
        return False
    direct = _RUNS_ENGINES_BY_DEFAULT
    return bool(direct() if direct is not None else _ops()[2]())


def execute_on_cpp_runtime(module: Any, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """One eager call of a TorchTensorRTModule on the C++ runtime: the engine of its own engine tensor.

    After the first call through the op, the module keeps the registry token of its engine and calls it
    directly (torch_tensorrt._C._execute_registered); the op path serves every call that cannot
    (first call, engine released or replaced, calls handed to the Python runtime).
    """
    # Read from _buffers directly: nn.Module.__getattr__ is a slow path taken per call.
    engine_tensor = module._buffers["serialized_engine"]
    token = module._cpp_engine_token
    if token and _EXECUTE_REGISTERED is not None:
        outputs = _EXECUTE_REGISTERED(engine_tensor, token, inputs)
        if outputs is not None:
            return outputs  # type: ignore[no-any-return]
    execute_engine, engine_token, _ = _ops()
    watch_engine_tensor(engine_tensor)
    outputs = execute_engine(list(inputs), engine_tensor, module.engine_info)
    if _EXECUTE_REGISTERED is not None:
        # 0 while calls are handed to the Python runtime: the next call asks again.
        module._cpp_engine_token = engine_token(engine_tensor, module.engine_info)
    return outputs  # type: ignore[no-any-return]


class CppEngineControls:
    """The engine interface the runtime controls use, over one C++ engine (torch.classes.tensorrt.Engine).

    One object per engine tensor (see :func:`cpp_engine_for`), so what the controls attach (a cache
    handle, the module's own settings) survives between calls, as on the Python engine. A cache
    handle is served as on the Python runtime: the C++ engine keeps the kernels in memory, starting
    from the handle's bytes, and hands them back to the handle, which alone reads and writes its file
    or stream (so ``autosave=False`` and file-like caches behave the same on both runtimes).
    """

    def __init__(self, engine: Any, info: tuple[str, ...]) -> None:
        self.engine = engine
        self.info = info
        self.runtime_settings_override: RuntimeSettings | None = None
        self.runtime_cache: Any = None
        # The RuntimeCache handle the C++ engine was last given the kernels of (attached by a block
        # or named by the settings); None while the C++ engine uses its own cache file.
        self._served: Any = None

    @property
    def name(self) -> str:
        return str(self.engine.name())

    @property
    def runtime_settings(self) -> RuntimeSettings:
        return effective_settings(self.runtime_settings_override)

    @property
    def contexts_created(self) -> int:
        return int(self.engine.stats()["contexts_created"])

    def num_execution_contexts_created(self) -> int:
        """Execution contexts this engine created (Torch-TensorRT's name for ``contexts_created``)."""
        return self.contexts_created

    @property
    def active_runtime_cache(self) -> Any:
        """The RuntimeCache handle whose kernels the C++ engine runs with, if any."""
        return self._served

    # Optimization profiles and weight streaming: the Python engine's names (TRTEngine), over the C++
    # engine's methods, which apply the same rules and messages (TRTEngine.cpp).
    @property
    def num_optimization_profiles(self) -> int:
        return int(self.engine.num_optimization_profiles())

    @property
    def optimization_profile(self) -> int | None:
        forced = int(self.engine.get_optimization_profile())
        return None if forced < 0 else forced

    @property
    def active_optimization_profile(self) -> int:
        return int(self.engine.active_optimization_profile())

    def set_optimization_profile(self, profile: int | None) -> None:
        if profile is None:
            self.engine.clear_optimization_profile()
        else:
            self.engine.set_optimization_profile(int(profile))

    @property
    def streamable_device_memory_budget(self) -> int:
        return int(self.engine.get_streamable_device_memory_budget())

    @property
    def automatic_device_memory_budget(self) -> int:
        return int(self.engine.get_automatic_device_memory_budget())

    @property
    def device_memory_budget(self) -> int:
        return int(self.engine.get_device_memory_budget())

    @device_memory_budget.setter
    def device_memory_budget(self, budget: int) -> None:
        self.set_device_memory_budget(budget)

    def set_device_memory_budget(self, budget: int) -> bool:
        return bool(self.engine.set_device_memory_budget(int(budget)))

    # Per-layer profiling: the Python engine's names (_engine_profiling.EngineProfiling), over the C++
    # engine's (TRTEngineProfiling.cpp), which writes the same trace file.
    @property
    def profiling_enabled(self) -> bool:
        return bool(self.engine.profiling_enabled())

    def enable_profiling(self) -> None:
        self.engine.enable_profiling()

    def disable_profiling(self) -> None:
        self.engine.disable_profiling()

    @property
    def profile_format(self) -> str:
        return str(self.engine.get_profile_format())

    def set_profile_format(self, profile_format: str) -> None:
        self.engine.set_profile_format(profile_format)

    @property
    def profile_path_prefix(self) -> str:
        return str(self.engine.get_profile_path_prefix())

    @profile_path_prefix.setter
    def profile_path_prefix(self, prefix: str) -> None:
        self.engine.set_profile_path_prefix(os.fspath(prefix))

    @property
    def profile_trace_path(self) -> str:
        return str(self.engine.profile_trace_path())

    def layer_profile(self) -> list[tuple[str, float, int]]:
        names, milliseconds, runs = self.engine.layer_profile()
        return list(zip(names, milliseconds, runs))

    @property
    def aliased_outputs(self) -> dict[str, int]:
        """Outputs the engine writes into an input's memory -> that input's index, as the engine reports
        them (the Python engine's ``_aliased``; see _aliased_io.py)."""
        return {str(name): int(index) for name, index in self.engine.aliased_outputs().items()}

    def set_runtime_settings(self, settings: RuntimeSettings | None) -> None:
        if settings is not None and not isinstance(settings, RuntimeSettings):
            raise TypeError(f"expected RuntimeSettings or None, got {type(settings).__name__}")
        self.runtime_settings_override = settings
        if settings is None:
            self.engine.clear_runtime_settings()
        else:
            self.engine.set_runtime_settings(*settings.to_enums())
        if self.runtime_cache is None:
            self._apply_settings_cache()

    def _apply_cache_setting(self, value: Any, *, follow_defaults: bool) -> None:
        from torch_tensorrt.runtime._runtime_cache import RuntimeCache, is_default_runtime_cache

        if isinstance(value, RuntimeCache):
            self._serve_handle(value)
            return
        self._served = None
        if follow_defaults or is_default_runtime_cache(value):
            self.engine.clear_runtime_cache_path()  # the process-wide default (C++ globals)
        else:
            # None (no file, as in Torch-TensorRT) and "" keep the kernels in memory.
            self.engine.set_runtime_cache_path("" if value is None else os.fspath(value))

    def _apply_settings_cache(self) -> None:
        settings = self.runtime_settings_override
        self._apply_cache_setting(
            None if settings is None else settings.runtime_cache, follow_defaults=settings is None
        )

    def _serve_handle(self, cache: Any) -> None:
        payload = cache.payload if cache.load_count else cache.load()
        self.engine.set_runtime_cache_path("")
        data = torch.frombuffer(bytearray(payload), dtype=torch.uint8) if payload else torch.empty(0, dtype=torch.uint8)
        self.engine.set_runtime_cache_payload(data)
        self._served = cache
        cache.add_user(self)

    def set_runtime_cache(self, cache: Any) -> None:
        """Attach a cache handle owned by the caller (runtime_cache()), or None to detach.

        The kernels compiled so far go to the cache in use until now first: the handle it was
        (which its owner saves), or the engine's own file.
        """
        if cache is not self.runtime_cache:
            self.stash_runtime_cache()
        self.runtime_cache = cache
        if cache is None:
            self._apply_settings_cache()
        else:
            self._serve_handle(cache)

    def detach_runtime_cache(self, cache: Any, previous: Any) -> None:
        self.set_runtime_cache(previous)

    def stash_runtime_cache(self) -> None:
        """Hand the kernels to the handle being served (saved by its owner), else save the engine's file."""
        if self._served is None:
            self.engine.save_runtime_cache()
            return
        payload = self.engine.get_runtime_cache_payload()
        if payload.numel():
            self._served.update(payload.numpy().tobytes())

    def __del__(self) -> None:
        # The module (its engine tensor) is going away: as on the Python runtime, the handle named by
        # the settings gets the kernels and saves them if it saves itself; a block's handle is saved
        # by its block. The C++ engine saves a cache file of its own when it is released.
        try:
            served = getattr(self, "_served", None)
            if served is not None:
                self.stash_runtime_cache()
                if served is not self.runtime_cache:
                    served.autosave_now()
        except Exception:  # noqa: BLE001 - never raise from a finaliser; the file stays as it was
            pass


# One controls object per engine tensor, stored on the tensor itself so it goes (and with it the engine
# reference) when the tensor goes; tensors compare elementwise, so they cannot be dictionary keys.
_CONTROLS_ATTR = "_torch_tensorrt_cpp_controls"
_CONTROLS_LOCK = threading.Lock()


def cpp_engine_for(serialized_engine: torch.Tensor, engine_info: list[str]) -> CppEngineControls:
    """The C++ engine the op runs for this engine tensor (its module's own), with its controls."""
    info = tuple(engine_info)
    with _CONTROLS_LOCK:
        controls = getattr(serialized_engine, _CONTROLS_ATTR, None)
        if controls is None or controls.info != info:
            from torch_tensorrt.dynamo.runtime._execute_engine_op import watch_engine_tensor

            controls = CppEngineControls(torch.ops.tensorrt.get_engine(serialized_engine, list(info)), info)
            setattr(serialized_engine, _CONTROLS_ATTR, controls)
            watch_engine_tensor(serialized_engine)
    return controls
