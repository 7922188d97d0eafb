"""The Python engine's runtime-settings and runtime-cache controls (a TRTEngine base class).

Runtime mode controls of one engine, never serialized: the settings it runs with (its own, else the
process-wide defaults; ``torch_tensorrt.runtime._defaults``) and the runtime-cache handle its
execution context uses. Changing either drops the call plan, so the context is recreated once, on
the next run. The C++ engine (core/runtime/TRTEngine.cpp) has the same controls.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo.runtime._runtime_backend import ExecutionContextHandle
from torch_tensorrt.runtime._defaults import effective_settings
from torch_tensorrt.runtime._settings import RuntimeSettings


class RuntimeSettingsControls:
    """Runtime settings and cache handles over TRTEngine's state (lock, plan, context)."""

    _lock: Any
    _plan: Any
    _settings_override: RuntimeSettings | None
    _runtime_cache: Any
    _active_cache: Any
    _context: ExecutionContextHandle | None
    contexts_created: int
    name: str
    engine_hash: str

    if TYPE_CHECKING:

        def _drop_context(self) -> None: ...

    # What the next call's plan depends on besides the call stamp: changing either drops the plan.
    @property
    def runtime_settings_override(self) -> RuntimeSettings | None:
        return self._settings_override

    @runtime_settings_override.setter
    def runtime_settings_override(self, settings: RuntimeSettings | None) -> None:
        with self._lock:
            self._settings_override = settings
            self._plan = None

    @property
    def runtime_cache(self) -> Any:
        return self._runtime_cache

    @runtime_cache.setter
    def runtime_cache(self, cache: Any) -> None:
        with self._lock:
            self._runtime_cache = cache
            self._plan = None

    def _resolved_cache(self, settings: Any) -> Any:
        """The cache handle this engine's context uses: attached, configured, or its default file."""
        if not ENABLED_FEATURES.tensorrt_rtx:
            # The runtime cache is a TensorRT-RTX feature; runtime_cache() warned when it was attached.
            return None
        if self.runtime_cache is not None:
            return self.runtime_cache
        from torch_tensorrt.runtime._runtime_cache import RuntimeCache, RuntimeCacheWarning, resolve_runtime_cache

        try:
            return resolve_runtime_cache(settings.runtime_cache, self.engine_hash)
        except OSError as e:
            # The default directory was refused (not ours, a symlink, not a directory) or cannot be
            # created. The cache only saves JIT time, so the engine runs with an in-memory one
            # rather than failing; nothing is read from or written to the refused place.
            warnings.warn(
                f"{e} Engine {self.name!r} keeps its runtime cache in memory only.", RuntimeCacheWarning, stacklevel=2
            )
            return RuntimeCache(None)

    @property
    def runtime_settings(self) -> RuntimeSettings:
        """The settings this engine runs with: its own, else the process-wide defaults."""
        return effective_settings(self.runtime_settings_override)

    def set_runtime_settings(self, settings: RuntimeSettings | None) -> None:
        """Apply new runtime settings (None: follow the process-wide defaults again); the context is
        recreated once, on the next run, if the effective settings changed."""
        if settings is not None and not isinstance(settings, RuntimeSettings):
            raise TypeError(f"expected RuntimeSettings or None, got {type(settings).__name__}")
        self.runtime_settings_override = settings

    def set_runtime_cache(self, cache: Any) -> None:
        """Attach a cache handle owned by the caller (runtime_cache()), or None to detach."""
        self.runtime_cache = cache

    def detach_runtime_cache(self, cache: Any, previous: Any) -> None:
        """End of a runtime_cache() block: hand the kernels to ``cache`` and restore ``previous``.

        A context still bound to ``cache`` is dropped (the next run would recreate it anyway, as the
        cache changes), so that a later teardown cannot write into a cache whose block has ended,
        which would ignore ``autosave=False`` and save it a second time.
        """
        with self._lock:
            if self._active_cache is cache and previous is not cache:
                self.stash_runtime_cache()
                self._drop_context()
            self.runtime_cache = previous

    @property
    def active_runtime_cache(self) -> Any:
        """The cache handle the current execution context was created with (None without a context)."""
        return self._active_cache

    def num_execution_contexts_created(self) -> int:
        """Execution contexts this engine created (Torch-TensorRT's name for ``contexts_created``)."""
        return self.contexts_created

    def stash_runtime_cache(self) -> None:
        """Hand the context's JIT-compiled kernels to its cache handle (saved by the handle's owner)."""
        with self._lock:  # the handle's owner may save it from another thread while this engine runs
            if self._context is None or self._active_cache is None:
                return
            payload = self._context.serialize_runtime_cache()
            if payload:
                self._active_cache.update(payload)
