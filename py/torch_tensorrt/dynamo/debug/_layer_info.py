"""``Debugger(save_layer_info=True)``: each engine built in the block has its layers described by
TensorRT's engine inspector (``IEngineInspector.get_engine_information(JSON)``), written to
``logging_dir``: ``<engine name>_layer_information.json`` per engine (the name Torch-TensorRT's runtime
gives the file) and ``engine_layer_info.json``, which, as in Torch-TensorRT, holds the last engine's.

The inspector needs a deserialized engine, so the engine is loaded through the runtime backend: with
TensorRT that needs a GPU (without one this warns and writes nothing); under
``torch_tensorrt.testing.emulated_runtime()`` the emulated engine describes its recorded network.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo.runtime._runtime_backend import NoUsableGPUError, current_backend

logger = logging.getLogger("torch_tensorrt")

LATEST_LAYER_INFO_FILE = "engine_layer_info.json"


def layer_info_file(logging_dir: str, engine_name: str) -> str:
    return os.path.join(logging_dir, f"{engine_name}_layer_information.json")


def engine_layer_information(engine: bytes, name: str) -> str | None:
    """The engine inspector's JSON for ``engine``, or None (warned) where no engine can be inspected."""
    backend = current_backend()
    try:
        handle: Any = backend.load_engine(engine, name)
    except NoUsableGPUError:
        warn_once(
            "Debugger.save_layer_info:no-gpu",
            "Debugger(save_layer_info=True) wrote no layer information: TensorRT's engine inspector needs a "
            "deserialized engine, and deserializing needs a CUDA GPU, which this machine lacks (under "
            "torch_tensorrt.testing.emulated_runtime() the emulated engines describe their layers). "
            "(reported once per process)",
        )
        return None
    inspect = getattr(handle, "layer_information", None)
    if inspect is None:
        warn_once(
            f"Debugger.save_layer_info:{backend.name}",
            f"Debugger(save_layer_info=True) wrote no layer information: the {backend.name!r} runtime backend has "
            "no engine inspector. (reported once per process)",
        )
        return None
    return str(inspect())


def write_layer_information(logging_dir: str, engine: bytes, name: str) -> None:
    text = engine_layer_information(engine, name)
    if text is None:
        return
    os.makedirs(logging_dir, exist_ok=True)
    for path in (layer_info_file(logging_dir, name), os.path.join(logging_dir, LATEST_LAYER_INFO_FILE)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    logger.debug("layer information of engine %s written to %s", name, layer_info_file(logging_dir, name))
