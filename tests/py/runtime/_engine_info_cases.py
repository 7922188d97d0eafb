"""The engine-info cases every reader must agree on: the Python reader used by load and the Python
runtime, and the C++ reader behind torch.classes.tensorrt.Engine. One table, run against both
(test_engine_info_parity.py); a verdict that differs between them is a failing test.

A case is (label, info list, expected): expected is None when the info must be accepted on this
host, else a regular expression the refusal's message must match.
"""

from __future__ import annotations

import json

from torch_tensorrt.dynamo.runtime import _engine_info as layout
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, InputSpec, OutputSpec

_ENGINE = b"FAKE_TRT_ENGINE 1\nop add\ninput x float32 -1,3\ninput y float32 -1,3\noutput z float32\n"
_METADATA = EngineMetadata(
    inputs=tuple(InputSpec(n, "float32", ("s0", 3), (0, 3), (2, 3), (64, 3)) for n in ("x", "y")),
    outputs=(OutputSpec("z", "float32", ("s0", 3)),),
)


def good_info(**overrides: object) -> EngineInfo:
    fields: dict[str, object] = dict(
        name="adder", engine=_ENGINE, input_names=("x", "y"), output_names=("z",), metadata=_METADATA
    )
    fields.update(overrides)
    return EngineInfo(**fields)  # type: ignore[arg-type]


def _metadata_json_with(**settings: object) -> str:
    # Edits the JSON: the writer checks with the reader's rules and would refuse what the case is about.
    document = _METADATA.to_dict()
    document["settings"].update(settings)
    return json.dumps(document)


def _metadata_json_with_shape_values(values: object) -> str:
    """The metadata with input y's ``shape_values`` set to ``values`` (JSON edited, as above)."""
    document = _METADATA.to_dict()
    document["inputs"][1]["shape_values"] = values
    return json.dumps(document)


# (label, shape_values, expected): the value range of a shape-tensor input (Input(is_shape_tensor=True)).
_SHAPE_VALUES_CASES: list[tuple[str, object, str | None]] = [
    ("shape values", [[1], [4], [8]], None),
    ("shape values negative", [[-1, 2], [-1, 3], [-1, 4]], None),
    ("shape values empty lists", [[], [], []], None),
    ("shape values not a list", {"min": [1]}, r"inputs\[1\]\.shape_values: expected a list"),
    ("shape values two lists", [[1], [2]], r"inputs\[1\]\.shape_values: expected \[min, opt, max\]"),
    ("shape values min above opt", [[5], [4], [8]], r"inputs\[1\]\.shape_values: need min <= opt <= max"),
    ("shape values lengths", [[1, 1], [4], [8, 8]], r"inputs\[1\]\.shape_values: need min <= opt <= max"),
    ("shape values float", [[1], [4.0], [8]], r"inputs\[1\]\.shape_values\[1\]\[0\]: expected an integer"),
    ("shape values bool", [[1], [4], [True]], r"inputs\[1\]\.shape_values\[2\]\[0\]: expected an integer"),
    ("shape values int64 min", [[-(2**63)], [4], [8]], r"inputs\[1\]\.shape_values\[0\]\[0\]: .* is outside"),
    ("shape values too long", [[1] * 9, [4] * 9, [8] * 9], r"inputs\[1\]\.shape_values\[0\]: rank 9 exceeds"),
]


def _other_platform() -> str:
    return "linux_aarch64" if layout.current_platform() != "linux_aarch64" else "linux_x86_64"


def cases() -> list[tuple[str, list[str], str | None]]:
    good = good_info().to_list()
    out: list[tuple[str, list[str], str | None]] = [
        ("valid", good, None),
        ("valid hardware-compatible", good_info(hardware_compatible=True).to_list(), None),
        ("valid capabilities", good_info(compute_capabilities=("8.6", "12.0")).to_list(), None),
        ("valid output allocator", good_info(requires_output_allocator=True).to_list(), None),
        ("too long", [*good, "x"], r"SERIALIZATION_LEN"),
        ("too short", good[:-1], r"SERIALIZATION_LEN"),
        ("empty", [], r"SERIALIZATION_LEN"),
    ]

    def put(label: str, idx: int, value: str, expected: str | None) -> None:
        info = list(good)
        info[idx] = value
        out.append((label, info, expected))

    put("abi", layout.ABI_TARGET_IDX, "0", "ABI_TARGET_IDX")
    put("name", layout.NAME_IDX, "", "NAME_IDX")
    put("device", layout.DEVICE_IDX, "gpu0", "DEVICE_IDX")
    put("device caps", layout.DEVICE_IDX, "0%8.6,8.6", "DEVICE_IDX")
    # Compute capabilities: one rule (is_capability) per reader, for the device slot and the settings.
    for cap in ("08.6", "8.06", "8.6.1", "100.0", "8.", "sm86"):
        put(f"device capability {cap}", layout.DEVICE_IDX, f"0%{cap}", "DEVICE_IDX")
    put("device capabilities", layout.DEVICE_IDX, "0%0.0,99.99", None)
    bad_settings = _metadata_json_with(compute_capabilities=["12.0", "8.06"])
    put(
        "settings capability",
        layout.SERIALIZED_METADATA_IDX,
        bad_settings,
        r"compute_capabilities\[1\]: compute capability",
    )
    for label, values, expected in _SHAPE_VALUES_CASES:
        put(label, layout.SERIALIZED_METADATA_IDX, _metadata_json_with_shape_values(values), expected)
    put("engine", layout.SERIALIZED_ENGINE_IDX, "!!!", "SERIALIZED_ENGINE_IDX")
    put("engine padding", layout.SERIALIZED_ENGINE_IDX, "aGVsbG9=", "SERIALIZED_ENGINE_IDX")
    put("inputs", layout.INPUT_BINDING_NAMES_IDX, "x%x", "INPUT_BINDING_NAMES_IDX")
    put("outputs", layout.OUTPUT_BINDING_NAMES_IDX, "", "OUTPUT_BINDING_NAMES_IDX")
    put("overlap", layout.OUTPUT_BINDING_NAMES_IDX, "x", "OUTPUT_BINDING_NAMES_IDX")
    put("hw", layout.HW_COMPATIBLE_IDX, "yes", "HW_COMPATIBLE_IDX")
    put("metadata json", layout.SERIALIZED_METADATA_IDX, "{", "SERIALIZED_METADATA_IDX")
    put("metadata pickle", layout.SERIALIZED_METADATA_IDX, "\x80\x04\x95", "SERIALIZED_METADATA_IDX")
    put(
        "metadata version",
        layout.SERIALIZED_METADATA_IDX,
        '{"format":"torch_tensorrt.engine_metadata","version":9}',
        "SERIALIZED_METADATA_IDX",
    )
    put("unknown platform", layout.TARGET_PLATFORM_IDX, "darwin_arm64", "unknown target platform")
    put("other platform", layout.TARGET_PLATFORM_IDX, _other_platform(), "was built for platform")
    put("windows platform", layout.TARGET_PLATFORM_IDX, "windows_x86_64", "was built for platform")
    put("allocator", layout.REQUIRES_OUTPUT_ALLOCATOR_IDX, "2", "REQUIRES_OUTPUT_ALLOCATOR_IDX")
    put("strategy", layout.RESOURCE_ALLOCATION_STRATEGY_IDX, "auto", "RESOURCE_ALLOCATION_STRATEGY_IDX")
    if layout.current_platform() == "windows_x86_64":  # the "windows" case is this host's platform there
        out = [c for c in out if c[0] != "windows platform"]
    return out
