"""``Debugger(save_engine_profile=True)``: every engine compiled in the block profiles its runs.

As Torch-TensorRT's compiler does for each engine it builds inside a Debugger block, the runtime module of
each TensorRT segment gets ``enable_profiling(<logging_dir>/engine_visualization_profile, profile_format)``:
each run of the engine (inside the block or after it) then rewrites
``<logging_dir>/engine_visualization_profile/<engine name>_engine_execution_profile.trace`` with the
per-layer times so far. ``module.disable_profiling()`` stops it.
"""

from __future__ import annotations

import os
from typing import Any

from torch_tensorrt.dynamo.debug import _state

ENGINE_PROFILE_DIR = "engine_visualization_profile"


def profile_dir(logging_dir: str) -> str:
    return os.path.join(logging_dir, ENGINE_PROFILE_DIR)


def profile_if_debugging(module: Any) -> None:
    """Called by the compiler for each runtime module it makes."""
    config = _state.active_config()
    if config is None or not config.save_engine_profile:
        return
    module.enable_profiling(profile_dir(config.logging_dir), profile_format=config.profile_format)
