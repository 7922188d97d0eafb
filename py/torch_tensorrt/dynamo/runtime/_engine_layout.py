"""The serialized engine-info layout: which string sits at which index, defined once for Python.

The C++ runtime defines the same list once for C++ (``TORCH_TENSORRT_SERIALIZED_INFO_SLOTS`` in
core/runtime/runtime.h) and returns it from ``torch.ops.tensorrt.serialized_info_names()``;
``torch_tensorrt`` compares the two at import (``_execute_engine_op.check_cpp_runtime_layout``).
What each slot holds is described in :mod:`._engine_info`.
"""

from __future__ import annotations

import enum
import platform
import re

from torch_tensorrt.dynamo.runtime._strict_json import short

__all__ = [
    "ABI_TARGET_IDX",
    "ABI_VERSION",
    "BINDING_DELIM",
    "DEVICE_DELIM",
    "DEVICE_IDX",
    "HW_COMPATIBLE_IDX",
    "INPUT_BINDING_NAMES_IDX",
    "KNOWN_PLATFORMS",
    "NAME_IDX",
    "OUTPUT_BINDING_NAMES_IDX",
    "REQUIRES_OUTPUT_ALLOCATOR_IDX",
    "RESOURCE_ALLOCATION_STRATEGIES",
    "RESOURCE_ALLOCATION_STRATEGY_IDX",
    "SERIALIZATION_LEN",
    "SERIALIZED_ENGINE_IDX",
    "SERIALIZED_INFO_INDICES",
    "SERIALIZED_METADATA_IDX",
    "TARGET_PLATFORM_IDX",
    "SerializedInfoIndex",
    "check_c_string",
    "check_tensor_name",
    "current_platform",
    "is_capability",
    "slot_label",
]

#: Bumped whenever the meaning of a slot changes; a file with another ABI is refused.
ABI_VERSION = "1"


class SerializedInfoIndex(enum.IntEnum):
    """Index of each string in the serialized engine-info list, in order, without gaps."""

    ABI_TARGET_IDX = 0
    NAME_IDX = 1
    DEVICE_IDX = 2
    SERIALIZED_ENGINE_IDX = 3
    INPUT_BINDING_NAMES_IDX = 4
    OUTPUT_BINDING_NAMES_IDX = 5
    HW_COMPATIBLE_IDX = 6
    SERIALIZED_METADATA_IDX = 7
    TARGET_PLATFORM_IDX = 8
    REQUIRES_OUTPUT_ALLOCATOR_IDX = 9
    RESOURCE_ALLOCATION_STRATEGY_IDX = 10


SERIALIZATION_LEN = len(SerializedInfoIndex)
# A gap or duplicate would silently shift every later slot.
assert [int(i) for i in SerializedInfoIndex] == list(range(SERIALIZATION_LEN))

# The module-level names callers and the Torch-TensorRT layout use; the enum is their one definition.
ABI_TARGET_IDX = SerializedInfoIndex.ABI_TARGET_IDX
NAME_IDX = SerializedInfoIndex.NAME_IDX
DEVICE_IDX = SerializedInfoIndex.DEVICE_IDX
SERIALIZED_ENGINE_IDX = SerializedInfoIndex.SERIALIZED_ENGINE_IDX
INPUT_BINDING_NAMES_IDX = SerializedInfoIndex.INPUT_BINDING_NAMES_IDX
OUTPUT_BINDING_NAMES_IDX = SerializedInfoIndex.OUTPUT_BINDING_NAMES_IDX
HW_COMPATIBLE_IDX = SerializedInfoIndex.HW_COMPATIBLE_IDX
SERIALIZED_METADATA_IDX = SerializedInfoIndex.SERIALIZED_METADATA_IDX
TARGET_PLATFORM_IDX = SerializedInfoIndex.TARGET_PLATFORM_IDX
REQUIRES_OUTPUT_ALLOCATOR_IDX = SerializedInfoIndex.REQUIRES_OUTPUT_ALLOCATOR_IDX
RESOURCE_ALLOCATION_STRATEGY_IDX = SerializedInfoIndex.RESOURCE_ALLOCATION_STRATEGY_IDX

#: Slot name -> index, in index order (a plain-int view of :class:`SerializedInfoIndex`).
SERIALIZED_INFO_INDICES: dict[str, int] = {i.name: int(i) for i in SerializedInfoIndex}

BINDING_DELIM = "%"
DEVICE_DELIM = "%"
KNOWN_PLATFORMS: tuple[str, ...] = ("linux_x86_64", "linux_aarch64", "windows_x86_64")
RESOURCE_ALLOCATION_STRATEGIES: tuple[str, ...] = ("static", "dynamic")

_CAPABILITY = re.compile(r"(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)", re.ASCII)


def slot_label(index: int) -> str:
    """``"NAME_IDX (1)"``, as messages name a slot (the C++ ``slot_label`` gives the same text)."""
    return f"{SerializedInfoIndex(index).name} ({int(index)})"


def is_capability(text: str) -> bool:
    """Whether ``text`` is a compute capability ``"major.minor"`` (the device slot and the settings)."""
    return _CAPABILITY.fullmatch(text) is not None


def current_platform() -> str:
    """This host's platform in the spelling of ``KNOWN_PLATFORMS``.

    An unsupported host yields a name outside ``KNOWN_PLATFORMS`` (e.g.
    ``darwin_aarch64``), which writing an engine info then refuses.
    """
    system = platform.system().lower()
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{system}_{machine}"


def check_tensor_name(name: object, what: str) -> str:
    """A binding name usable by TensorRT's C API and the "%"-joined slots."""
    if type(name) is not str:
        raise ValueError(f"{what} must be a str, found {type(name).__name__}")
    if not name:
        raise ValueError(f"{what} is empty")
    if BINDING_DELIM in name:
        raise ValueError(f"{what} {short(name)} contains the delimiter {BINDING_DELIM!r}")
    check_c_string(name, what)
    return name


def check_c_string(text: str, what: str) -> None:
    # TensorRT takes names as NUL-terminated UTF-8: a NUL would truncate the
    # name and a lone surrogate cannot be encoded at all.
    if "\x00" in text:
        raise ValueError(f"{what} {short(text)} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {short(text)} is not valid Unicode text") from None
