"""Tests for the serialized engine-info layout and its metadata.

The reader is exposed to untrusted files, so besides round trips these tests
check that every corruption is refused with a ValueError naming the slot, and
fuzz the reader (about 11,000 examples) asserting that nothing but ValueError
ever escapes.
"""

from __future__ import annotations

import ast
import base64
import copy
import inspect
import itertools
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torch_tensorrt.dynamo.runtime import _engine_info as ei
from torch_tensorrt.dynamo.runtime._engine_info import (
    EngineInfo,
    EngineMetadata,
    EngineSettings,
    InputSpec,
    OutputSpec,
)


def fuzz(examples: int) -> settings:
    # No example database: the tests must not write into the source tree.
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


ENGINE = bytes(range(256)) * 3 + b"tail"


def full_metadata() -> EngineMetadata:
    return EngineMetadata(
        inputs=(
            InputSpec(
                name="x",
                dtype="float16",
                shape=("s0", 3, 224, 224),
                min_shape=(1, 3, 224, 224),
                opt_shape=(8, 3, 224, 224),
                max_shape=(32, 3, 224, 224),
            ),
            InputSpec(name="mask", dtype="bool", shape=(4,)),
        ),
        outputs=(
            OutputSpec(name="y", dtype="float16", shape=("s0*4", "max(s0, 2)")),
            OutputSpec(name="idx", dtype="int64", shape=()),
        ),
        settings=EngineSettings(
            optimization_level=5,
            truncate_double=True,
            hardware_compatible=True,
            strongly_typed=False,
            immutable_weights=False,
            enabled_precisions=("float16", "float32"),
            compute_capabilities=("8.6", "12.0"),
        ),
        flags={"data_dependent_outputs": True},
    )


def make_info(**overrides: Any) -> EngineInfo:
    fields: dict[str, Any] = dict(
        name="engine_0",
        gpu_id=0,
        compute_capabilities=("8.0", "8.6", "8.9", "12.0"),
        engine=ENGINE,
        input_names=("x", "mask"),
        output_names=("y", "idx"),
        metadata=full_metadata(),
        target_platform="linux_x86_64",
    )
    fields.update(overrides)
    return EngineInfo(**fields)


VALID = make_info().to_list()


def with_slot(idx: int, value: object) -> list[object]:
    info: list[object] = list(VALID)
    info[idx] = value
    return info


def with_metadata(obj: object) -> list[object]:
    return with_slot(ei.SERIALIZED_METADATA_IDX, json.dumps(obj))


def metadata_dict() -> dict[str, Any]:
    return json.loads(VALID[ei.SERIALIZED_METADATA_IDX])


def slot_pattern(idx: int) -> str:
    name = next(n for n, i in ei.SERIALIZED_INFO_INDICES.items() if i == idx)
    return rf"engine info slot {name} \({idx}\): "


def assert_refused(info: object, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        EngineInfo.from_list(info)


# --------------------------------------------------------------------------
# Layout constants
# --------------------------------------------------------------------------


def test_layout_constants() -> None:
    assert ei.ABI_VERSION == "1"
    assert ei.SERIALIZATION_LEN == 11
    expected = [
        "ABI_TARGET_IDX",
        "NAME_IDX",
        "DEVICE_IDX",
        "SERIALIZED_ENGINE_IDX",
        "INPUT_BINDING_NAMES_IDX",
        "OUTPUT_BINDING_NAMES_IDX",
        "HW_COMPATIBLE_IDX",
        "SERIALIZED_METADATA_IDX",
        "TARGET_PLATFORM_IDX",
        "REQUIRES_OUTPUT_ALLOCATOR_IDX",
        "RESOURCE_ALLOCATION_STRATEGY_IDX",
    ]
    assert list(ei.SERIALIZED_INFO_INDICES) == expected
    for index, name in enumerate(expected):
        assert ei.SERIALIZED_INFO_INDICES[name] == index == getattr(ei, name)
    assert ei.BINDING_DELIM == "%"
    assert ei.KNOWN_PLATFORMS == ("linux_x86_64", "linux_aarch64", "windows_x86_64")


def test_no_runtime_mode_in_layout() -> None:
    # Runtime controls are context-manager settings, never engine properties.
    names = " ".join(ei.SERIALIZED_INFO_INDICES).lower() + " ".join(
        f.name for f in ei.EngineInfo.__dataclass_fields__.values()
    )
    for word in ("cuda_graph", "kernel", "specialization", "runtime_cache"):
        assert word not in names
    assert not any(w in json.dumps(metadata_dict()) for w in ("cuda_graph", "runtime_cache", "kernel"))


def test_current_platform() -> None:
    assert ei.current_platform() in ei.KNOWN_PLATFORMS


def test_modules_never_unpickle_or_eval() -> None:
    from torch_tensorrt.dynamo.runtime import _shape_expr

    for module in (ei, _shape_expr):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "marshal", "shelve", "dill"} & set(mods)
            if isinstance(node, ast.Name):
                assert node.id not in ("eval", "exec", "compile", "__import__")


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------

METADATA_VARIANTS = {
    "default": EngineMetadata(),
    "full": full_metadata(),
    "extras": EngineMetadata(
        settings=EngineSettings(extra={"future_setting": [1, {"a": None}]}),
        flags={"x": False},
        extra={"future_top": "kept"},
    ),
}


@pytest.mark.parametrize(
    ("hw", "allocator", "target_platform", "strategy", "metadata"),
    list(
        itertools.product(
            [False, True],
            [False, True],
            ei.KNOWN_PLATFORMS,
            ei.RESOURCE_ALLOCATION_STRATEGIES,
            METADATA_VARIANTS,
        )
    ),
)
def test_round_trip_combinations(hw: bool, allocator: bool, target_platform: str, strategy: str, metadata: str) -> None:
    meta = copy.deepcopy(METADATA_VARIANTS[metadata])
    names = {}
    if not meta.inputs:
        names = {"input_names": ("a",), "output_names": ("b",)}
    info = make_info(
        hardware_compatible=hw,
        requires_output_allocator=allocator,
        target_platform=target_platform,
        resource_allocation_strategy=strategy,
        metadata=meta,
        **names,
    )
    as_list = info.to_list()
    assert len(as_list) == ei.SERIALIZATION_LEN
    assert all(type(s) is str for s in as_list)
    assert as_list[ei.ABI_TARGET_IDX] == "1"
    assert as_list[ei.HW_COMPATIBLE_IDX] == ("1" if hw else "0")
    assert as_list[ei.REQUIRES_OUTPUT_ALLOCATOR_IDX] == ("1" if allocator else "0")
    assert as_list[ei.TARGET_PLATFORM_IDX] == target_platform
    assert as_list[ei.RESOURCE_ALLOCATION_STRATEGY_IDX] == strategy
    back = EngineInfo.from_list(as_list)
    assert back == info
    assert back.to_list() == as_list
    assert EngineInfo.from_list(tuple(as_list)) == info


def test_slot_encodings() -> None:
    info = make_info()
    assert VALID[ei.NAME_IDX] == "engine_0"
    assert VALID[ei.DEVICE_IDX] == "0%8.0,8.6,8.9,12.0"
    assert VALID[ei.SERIALIZED_ENGINE_IDX] == base64.b64encode(ENGINE).decode()
    assert VALID[ei.INPUT_BINDING_NAMES_IDX] == "x%mask"
    assert VALID[ei.OUTPUT_BINDING_NAMES_IDX] == "y%idx"
    assert ei.decode_engine(ei.encode_engine(info.engine)) == ENGINE
    portable = make_info(gpu_id=3, compute_capabilities=())
    assert portable.to_list()[ei.DEVICE_IDX] == "3%"
    assert EngineInfo.from_list(portable.to_list()).compute_capabilities == ()


def test_metadata_json_shape() -> None:
    d = metadata_dict()
    assert d["format"] == "torch_tensorrt.engine_metadata"
    assert d["version"] == 1
    assert d["inputs"][0] == {
        "name": "x",
        "dtype": "float16",
        "shape": ["s0", 3, 224, 224],
        "min_shape": [1, 3, 224, 224],
        "opt_shape": [8, 3, 224, 224],
        "max_shape": [32, 3, 224, 224],
    }
    assert d["inputs"][1] == {"name": "mask", "dtype": "bool", "shape": [4]}
    assert d["outputs"][0] == {"name": "y", "dtype": "float16", "shape": ["s0*4", "max(s0, 2)"]}
    assert d["settings"] == {
        "optimization_level": 5,
        "truncate_double": True,
        "hardware_compatible": True,
        "strongly_typed": False,
        "immutable_weights": False,
        "enabled_precisions": ["float16", "float32"],
        "compute_capabilities": ["8.6", "12.0"],
    }
    assert d["flags"] == {"data_dependent_outputs": True}
    assert EngineMetadata.from_json(json.dumps(d)) == full_metadata()


def test_zero_inputs_allowed() -> None:
    info = make_info(input_names=(), metadata=EngineMetadata())
    assert info.to_list()[ei.INPUT_BINDING_NAMES_IDX] == ""
    assert EngineInfo.from_list(info.to_list()).input_names == ()


def test_older_metadata_missing_optional_keys_loads() -> None:
    # A file from before "flags", "immutable_weights" and profiles existed.
    old = {
        "format": "torch_tensorrt.engine_metadata",
        "version": 1,
        "inputs": [{"name": "x", "dtype": "float32", "shape": [2, 3]}],
        "settings": {"optimization_level": 2},
    }
    info = with_metadata(old)
    info[ei.INPUT_BINDING_NAMES_IDX] = "x"
    meta = EngineInfo.from_list(info).metadata
    assert meta.settings.optimization_level == 2
    assert meta.settings.immutable_weights is True
    assert meta.settings.enabled_precisions == ("float32",)
    assert meta.flags == {}
    assert meta.outputs == ()
    assert meta.inputs[0].min_shape is None
    minimal = EngineMetadata.from_json('{"format":"torch_tensorrt.engine_metadata","version":1}')
    assert minimal == EngineMetadata()


def test_unknown_keys_kept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    d = metadata_dict()
    d["new_top_level"] = {"nested": [1, 2]}
    d["settings"]["new_setting"] = "fast"
    d["inputs"][0]["layout"] = "NCHW"
    with caplog.at_level(logging.DEBUG, logger="torch_tensorrt"):
        info = EngineInfo.from_list(with_metadata(d))
    assert "new_top_level" in caplog.text and "new_setting" in caplog.text
    assert info.metadata.extra == {"new_top_level": {"nested": [1, 2]}}
    assert info.metadata.settings.extra == {"new_setting": "fast"}
    assert info.metadata.inputs[0].extra == {"layout": "NCHW"}
    # Written back unchanged, so a newer reader still sees them.
    assert json.loads(info.to_list()[ei.SERIALIZED_METADATA_IDX]) == d


@st.composite
def tensor_names(draw: st.DrawFn, n_min: int, n_max: int) -> tuple[str, ...]:
    alphabet = st.characters(blacklist_characters="%\x00", blacklist_categories=("Cs",))
    return tuple(
        draw(st.lists(st.text(alphabet, min_size=1, max_size=12), min_size=n_min, max_size=n_max, unique=True))
    )


@st.composite
def engine_infos(draw: st.DrawFn) -> EngineInfo:
    names = draw(tensor_names(1, 6))
    n_in = draw(st.integers(0, len(names) - 1))
    inputs, outputs = names[:n_in], names[n_in:]
    dtype = st.sampled_from(ei.DTYPE_NAMES)
    dims = st.lists(
        st.one_of(st.integers(0, 2**63 - 1), st.sampled_from(["s0", "s1*2", "(s0 + 1)//2", "max(s0, u0)"])),
        max_size=ei.MAX_RANK,
    )
    metadata = EngineMetadata()
    if draw(st.booleans()):
        in_specs = []
        for n in inputs:
            shape = draw(st.lists(st.integers(1, 64), max_size=4))
            if draw(st.booleans()):
                in_specs.append(InputSpec(n, draw(dtype), tuple(shape)))
            else:
                lo = tuple(max(1, d // 2) for d in shape)
                hi = tuple(d * 2 for d in shape)
                in_specs.append(
                    InputSpec(n, draw(dtype), tuple(f"s{i}" for i in range(len(shape))), lo, tuple(shape), hi)
                )
        metadata = EngineMetadata(
            inputs=tuple(in_specs),
            outputs=tuple(OutputSpec(n, draw(dtype), tuple(draw(dims))) for n in outputs),
            settings=EngineSettings(
                optimization_level=draw(st.integers(0, 5)),
                truncate_double=draw(st.booleans()),
                hardware_compatible=draw(st.booleans()),
                strongly_typed=draw(st.booleans()),
                enabled_precisions=tuple(draw(st.lists(dtype, unique=True, max_size=3))),
                compute_capabilities=tuple(
                    draw(st.lists(st.sampled_from(["7.5", "8.0", "8.6", "8.9", "12.0"]), unique=True))
                ),
            ),
            flags=draw(st.dictionaries(st.text(min_size=1, max_size=8), st.booleans(), max_size=3)),
        )
    return EngineInfo(
        name=draw(
            st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=20)
        ),
        gpu_id=draw(st.integers(0, 999_999)),
        compute_capabilities=tuple(
            draw(st.lists(st.sampled_from(["7.5", "8.0", "8.6", "8.9", "10.0", "12.0"]), unique=True))
        ),
        engine=draw(st.binary(min_size=1, max_size=64)),
        input_names=inputs,
        output_names=outputs,
        hardware_compatible=draw(st.booleans()),
        metadata=metadata,
        target_platform=draw(st.sampled_from(ei.KNOWN_PLATFORMS)),
        requires_output_allocator=draw(st.booleans()),
        resource_allocation_strategy=draw(st.sampled_from(ei.RESOURCE_ALLOCATION_STRATEGIES)),
    )


@fuzz(500)
@given(engine_infos())
def test_round_trip_property(info: EngineInfo) -> None:
    as_list = info.to_list()
    back = EngineInfo.from_list(as_list)
    assert back == info
    assert back.to_list() == as_list


# --------------------------------------------------------------------------
# Corruptions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("container", [None, "abc", b"abc", 3, {"0": "1"}, iter(VALID), set()])
def test_wrong_container(container: object) -> None:
    assert_refused(container, r"engine info: expected a list of 11 str")


@pytest.mark.parametrize("length", [0, 1, 10, 12, 20])
def test_wrong_length(length: int) -> None:
    info = (VALID * 2)[:length]
    assert_refused(info, rf"expected SERIALIZATION_LEN = 11 slots, found {length}")


@pytest.mark.parametrize("abi", ["2", "0", "", "1 ", "01", "1.0"])
def test_wrong_abi(abi: str) -> None:
    msg = (
        slot_pattern(0) + rf"this file was written for engine-info ABI {abi!r}; this "
        r"torch_tensorrt reads ABI 1; recompile the program with this version"
    )
    assert_refused(with_slot(ei.ABI_TARGET_IDX, abi), msg)
    # Named before the length: another ABI usually has another layout.
    assert_refused([abi, *VALID[1:], "extra"], msg)


@pytest.mark.parametrize("idx", range(ei.SERIALIZATION_LEN))
@pytest.mark.parametrize("value", [None, 1, b"1", ["1"], 1.0, True])
def test_non_str_slot(idx: int, value: object) -> None:
    assert_refused(with_slot(idx, value), slot_pattern(idx) + "expected str, found")


CORRUPTIONS = [
    (ei.NAME_IDX, "", "engine name is empty"),
    (ei.NAME_IDX, "a\x00b", "NUL"),
    (ei.NAME_IDX, "\ud800", "not valid Unicode"),
    (ei.DEVICE_IDX, "", "expected '<gpu_id>%<capabilities>'"),
    (ei.DEVICE_IDX, "0", "expected '<gpu_id>%<capabilities>'"),
    (ei.DEVICE_IDX, "0%8.0%8.6", "expected '<gpu_id>%<capabilities>'"),
    (ei.DEVICE_IDX, "-1%8.0", "gpu id '-1'"),
    (ei.DEVICE_IDX, "01%8.0", "gpu id '01'"),
    (ei.DEVICE_IDX, "x%", "gpu id 'x'"),
    (ei.DEVICE_IDX, "9999999%", "gpu id"),
    (ei.DEVICE_IDX, "0%8", "compute capability '8'"),
    (ei.DEVICE_IDX, "0%8.0,,8.6", "compute capability ''"),
    (ei.DEVICE_IDX, "0%8.0,", "compute capability ''"),
    (ei.DEVICE_IDX, "0%sm_80", "compute capability 'sm_80'"),
    (ei.DEVICE_IDX, "0%8.0,8.0", "duplicate entry '8.0'"),
    (ei.SERIALIZED_ENGINE_IDX, "", "engine is empty"),
    (ei.SERIALIZED_ENGINE_IDX, "====", "engine is empty|not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "!!!!", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QUJD\n", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QUJ", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QQ=", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QR==", "non-canonical"),
    (ei.SERIALIZED_ENGINE_IDX, "QUJD====", "excess padding"),
    (ei.SERIALIZED_ENGINE_IDX, "QQ=A", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QUI=QUI=", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QUJDé===", "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, "QU-_", "not valid base64"),  # urlsafe alphabet
    (ei.SERIALIZED_ENGINE_IDX, VALID[3][:-1], "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, VALID[3][:-2], "not valid base64"),
    (ei.SERIALIZED_ENGINE_IDX, VALID[3][:-4] + "A", "not valid base64"),
    (ei.INPUT_BINDING_NAMES_IDX, "x%%mask", "input name #1 is empty"),
    (ei.INPUT_BINDING_NAMES_IDX, "%x", "input name #0 is empty"),
    (ei.INPUT_BINDING_NAMES_IDX, "x%", "input name #1 is empty"),
    (ei.INPUT_BINDING_NAMES_IDX, "x%x", "duplicate entry 'x'"),
    (ei.INPUT_BINDING_NAMES_IDX, "x\x00", "NUL"),
    (ei.OUTPUT_BINDING_NAMES_IDX, "", "at least one output"),
    (ei.OUTPUT_BINDING_NAMES_IDX, "y%y", "duplicate entry 'y'"),
    (ei.OUTPUT_BINDING_NAMES_IDX, "y%x", "'x' is both an input and an output"),
    (ei.HW_COMPATIBLE_IDX, "true", "expected '0' or '1'"),
    (ei.HW_COMPATIBLE_IDX, "", "expected '0' or '1'"),
    (ei.HW_COMPATIBLE_IDX, " 1", "expected '0' or '1'"),
    (ei.HW_COMPATIBLE_IDX, "2", "expected '0' or '1'"),
    (
        ei.TARGET_PLATFORM_IDX,
        "darwin_arm64",
        "unknown target platform 'darwin_arm64'; known: linux_x86_64, linux_aarch64, windows_x86_64",
    ),
    (ei.TARGET_PLATFORM_IDX, "", "unknown target platform"),
    (ei.TARGET_PLATFORM_IDX, "LINUX_X86_64", "unknown target platform"),
    (ei.REQUIRES_OUTPUT_ALLOCATOR_IDX, "yes", "expected '0' or '1'"),
    (ei.RESOURCE_ALLOCATION_STRATEGY_IDX, "Static", "unknown resource allocation strategy"),
    (ei.RESOURCE_ALLOCATION_STRATEGY_IDX, "", "unknown resource allocation strategy"),
    (ei.SERIALIZED_METADATA_IDX, "", "not valid JSON"),
    (ei.SERIALIZED_METADATA_IDX, "not json", "not valid JSON"),
    (ei.SERIALIZED_METADATA_IDX, "{", "not valid JSON"),
    (ei.SERIALIZED_METADATA_IDX, "[]", "expected an object, found list"),
    (ei.SERIALIZED_METADATA_IDX, "null", "expected an object, found null"),
    (ei.SERIALIZED_METADATA_IDX, "{}", "not torch_tensorrt engine metadata"),
    (ei.SERIALIZED_METADATA_IDX, '{"format":"other","version":1}', "not torch_tensorrt engine metadata"),
    (ei.SERIALIZED_METADATA_IDX, "[" * 100_000, "nested deeper than 32"),
    (ei.SERIALIZED_METADATA_IDX, '{"a":' * 50_000 + "1" + "}" * 50_000, "nested deeper than 32"),
    (ei.SERIALIZED_METADATA_IDX, " " * (ei.MAX_METADATA_CHARS + 1), "larger than"),
]


@pytest.mark.parametrize(("idx", "value", "message"), CORRUPTIONS, ids=range(len(CORRUPTIONS)))
def test_corrupt_slot(idx: int, value: str, message: str) -> None:
    assert_refused(with_slot(idx, value), slot_pattern(idx) + f".*(?:{message})")


def _md(**changes: Any) -> dict[str, Any]:
    d = metadata_dict()
    for path, value in changes.items():
        target: Any = d
        *parents, last = path.split("__")
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return d


_DELETE = object()

METADATA_CORRUPTIONS = [
    (dict(version=2), "metadata version 2 is newer than this torch_tensorrt reads \\(version 1\\)"),
    (dict(version=10**6), "metadata version 1000000 is newer"),
    (dict(version=0), "expected an integer >= 1, found 0"),
    (dict(version="1"), "expected an integer >= 1, found str"),
    (dict(version=True), "expected an integer >= 1, found bool"),
    (dict(version=1.0), "expected an integer >= 1, found float"),
    (dict(version=_DELETE), "missing required key 'version'"),
    (dict(format=_DELETE), "not torch_tensorrt engine metadata"),
    (dict(inputs={}), "metadata.inputs: expected a list"),
    (dict(inputs__0=[]), r"metadata.inputs\[0\]: expected an object"),
    (dict(inputs__0__name=_DELETE), "missing required key 'name'"),
    (dict(inputs__0__name=""), r"inputs\[0\].name: name is empty"),
    (dict(inputs__0__name="a%b"), "contains the delimiter"),
    (dict(inputs__0__name=3), "name must be a str"),
    (dict(inputs__0__dtype="float8"), "unknown dtype 'float8'"),
    (dict(inputs__0__dtype=None), "unknown dtype null"),
    (dict(inputs__0__shape="s0"), r"inputs\[0\].shape: expected a list"),
    (dict(inputs__0__shape__1=-1), r"shape\[1\]: -1 is outside"),
    (dict(inputs__0__shape__1=2**63), r"shape\[1\]: .* is outside"),
    (dict(inputs__0__shape__1=1.5), "expected an int >= 0 or a shape expression, found float"),
    (dict(inputs__0__shape__1=True), "found bool"),
    (dict(inputs__0__shape__0="__import__('os')"), "unexpected character"),
    (dict(inputs__0__shape__0="s0**99999999"), "Pow is not allowed"),
    (dict(inputs__0__shape__0="batch"), "unknown symbol 'batch'"),
    (dict(inputs__0__shape=[1] * 9), "rank 9 exceeds the maximum of 8"),
    (dict(inputs__0__min_shape=_DELETE), "must be given together"),
    (dict(inputs__0__min_shape=[1, 3, 224]), "rank 3 differs"),
    (dict(inputs__0__min_shape=[64, 3, 224, 224]), "need min <= opt <= max"),
    (dict(inputs__0__max_shape=[32, 3, 224, 225]), r"dim 3 is static \(224\)"),
    (dict(inputs__0__opt_shape=["s0", 3, 224, 224]), "expected an integer, found str"),
    (dict(inputs__1__name="x"), "duplicate entry 'x'"),
    (dict(inputs__1__name="y"), "duplicate entry 'y'"),
    (dict(outputs__0__shape__0="s0/4"), "Div is not allowed"),
    (dict(outputs__0__shape__0="lambda: 0"), "unexpected character"),
    (dict(outputs__0__min_shape=[1]), None),  # unknown key: accepted as extra
    (dict(settings=[]), "metadata.settings: expected an object"),
    (dict(settings__optimization_level=6), r"optimization_level: 6 is outside \[0, 5\]"),
    (dict(settings__optimization_level="3"), "expected an integer, found str"),
    (dict(settings__truncate_double=1), "expected true/false, found int"),
    (dict(settings__strongly_typed=None), "expected true/false, found null"),
    (dict(settings__enabled_precisions=["float16", "float16"]), "duplicate entry 'float16'"),
    (dict(settings__enabled_precisions=["fp8"]), "unknown dtype 'fp8'"),
    (dict(settings__compute_capabilities=["86"]), "compute capability '86'"),
    (dict(flags=[]), "metadata.flags: expected an object"),
    (dict(flags__x=1), "expected true/false, found int"),
    (dict(flags={"": True}), "flag name"),
]


@pytest.mark.parametrize(("changes", "message"), METADATA_CORRUPTIONS)
def test_corrupt_metadata(changes: dict[str, Any], message: str | None) -> None:
    info = with_metadata(_md(**changes))
    if message is None:
        EngineInfo.from_list(info)
        return
    assert_refused(info, slot_pattern(ei.SERIALIZED_METADATA_IDX) + ".*" + message)


@pytest.mark.parametrize(
    "text",
    [
        VALID[7].replace('"version":1', '"version":1,"version":1'),
        VALID[7].replace('"optimization_level":5', '"optimization_level":NaN'),
        VALID[7].replace('"optimization_level":5', '"optimization_level":Infinity'),
        VALID[7].replace('"optimization_level":5', '"optimization_level":1e999'),
        VALID[7].replace('"optimization_level":5', '"optimization_level":' + "9" * 5000),
        VALID[7] + "x",
        VALID[7][:-1],
        "\ufeff" + VALID[7],
        VALID[7].replace('"x"', '"x\x01"'),
        VALID[7].replace('"x"', '"\\ud800"'),
        VALID[7].replace('"x"', '"\\u0000"'),
    ],
)
def test_malformed_metadata_text(text: str) -> None:
    assert_refused(with_slot(ei.SERIALIZED_METADATA_IDX, text), slot_pattern(7))


def test_metadata_names_must_match_bindings() -> None:
    info = with_slot(ei.INPUT_BINDING_NAMES_IDX, "mask%x")
    assert_refused(
        info, slot_pattern(7) + r"metadata input names \['x', 'mask'\] differ from INPUT_BINDING_NAMES_IDX \(4\)"
    )
    info = with_slot(ei.OUTPUT_BINDING_NAMES_IDX, "y")
    assert_refused(info, slot_pattern(7) + "metadata output names")


class _CreatesFile:
    """Unpickling this calls open(path, "w"): a stand-in for arbitrary code."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_pickle_payload_in_metadata_is_refused(tmp_path: Path) -> None:
    # The payload is live: unpickling it really does create a file.
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(_CreatesFile(canary))).close()  # noqa: S301
    assert canary.exists()

    target = tmp_path / "pwned"
    payload = pickle.dumps(_CreatesFile(target), protocol=pickle.HIGHEST_PROTOCOL)
    forms: list[object] = [
        payload,
        payload.decode("latin-1"),
        base64.b64encode(payload).decode("ascii"),  # Torch-TensorRT's old layout
        json.dumps(
            {"format": "torch_tensorrt.engine_metadata", "version": 1, "settings": base64.b64encode(payload).decode()}
        ),
        json.dumps(
            {"format": "torch_tensorrt.engine_metadata", "version": 1, "flags": {"x": payload.decode("latin-1")}}
        ),
    ]
    for form in forms:
        with pytest.raises(ValueError, match=slot_pattern(ei.SERIALIZED_METADATA_IDX)):
            EngineInfo.from_list(with_slot(ei.SERIALIZED_METADATA_IDX, form))
        with pytest.raises(ValueError):
            EngineMetadata.from_json(form)
    assert not target.exists()


# --------------------------------------------------------------------------
# Writer-side validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "idx", "message"),
    [
        (dict(abi_version="2"), ei.ABI_TARGET_IDX, "ABI '2'"),
        (dict(name=""), ei.NAME_IDX, "empty"),
        (dict(name=None), ei.NAME_IDX, "expected str"),
        (dict(gpu_id=-1), ei.DEVICE_IDX, "gpu id"),
        (dict(gpu_id="0"), ei.DEVICE_IDX, "gpu_id must be an int"),
        (dict(compute_capabilities=("86",)), ei.DEVICE_IDX, "compute capability"),
        (dict(compute_capabilities="8.6"), ei.DEVICE_IDX, "tuple of 'major.minor'"),
        (dict(engine=b""), ei.SERIALIZED_ENGINE_IDX, "engine is empty"),
        (dict(engine="abcd"), ei.SERIALIZED_ENGINE_IDX, "engine must be bytes"),
        (dict(input_names=("x", "x")), ei.INPUT_BINDING_NAMES_IDX, "duplicate"),
        (dict(input_names=("x%y",)), ei.INPUT_BINDING_NAMES_IDX, "delimiter"),
        (dict(input_names="x"), ei.INPUT_BINDING_NAMES_IDX, "tuple of str"),
        (dict(output_names=()), ei.OUTPUT_BINDING_NAMES_IDX, "at least one output"),
        (dict(hardware_compatible=1), ei.HW_COMPATIBLE_IDX, "expected a bool"),
        (dict(metadata={}), ei.SERIALIZED_METADATA_IDX, "must be an EngineMetadata"),
        (dict(metadata=EngineMetadata(flags={"x": 1})), ei.SERIALIZED_METADATA_IDX, "true/false"),
        (
            dict(metadata=EngineMetadata(settings=EngineSettings(enabled_precisions=("fp4",)))),
            ei.SERIALIZED_METADATA_IDX,
            "unknown dtype",
        ),
        (dict(metadata=EngineMetadata(extra={"version": 3})), ei.SERIALIZED_METADATA_IDX, "known key"),
        (dict(metadata=EngineMetadata(extra={"x": object()})), ei.SERIALIZED_METADATA_IDX, "not JSON-serializable"),
        (
            dict(metadata=EngineMetadata(outputs=(OutputSpec("y", "float32", 3),))),
            ei.SERIALIZED_METADATA_IDX,
            "malformed EngineMetadata",
        ),
        (dict(target_platform="darwin_arm64"), ei.TARGET_PLATFORM_IDX, "unknown target platform"),
        (dict(requires_output_allocator=None), ei.REQUIRES_OUTPUT_ALLOCATOR_IDX, "expected a bool"),
        (dict(resource_allocation_strategy="lazy"), ei.RESOURCE_ALLOCATION_STRATEGY_IDX, "unknown resource"),
    ],
)
def test_to_list_validates(overrides: dict[str, Any], idx: int, message: str) -> None:
    if "metadata" in overrides or "output_names" in overrides or "input_names" in overrides:
        overrides.setdefault("metadata", EngineMetadata())
    with pytest.raises(ValueError, match=slot_pattern(idx) + ".*" + message):
        make_info(**overrides).to_list()


def test_engine_helpers() -> None:
    assert ei.encode_engine(bytearray(b"abc")) == "YWJj"
    assert ei.encode_engine(memoryview(b"abc")) == "YWJj"
    assert ei.decode_engine("YWJj") == b"abc"
    for bad in ("", "YWJ", None, b"YWJj"):
        with pytest.raises(ValueError):
            ei.decode_engine(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        ei.encode_engine(b"")


def test_dtype_helpers() -> None:
    import torch

    for name in ei.DTYPE_NAMES:
        assert ei.dtype_name(ei.torch_dtype(name)) == name
    with pytest.raises(ValueError):
        ei.dtype_name(torch.complex64)
    with pytest.raises(ValueError):
        ei.torch_dtype("complex64")


# --------------------------------------------------------------------------
# Fuzzing: only ValueError may escape, and whatever is accepted round-trips.
# The strict entry point (_from_list) is used so that from_list's catch-all
# cannot mask a bug.
# --------------------------------------------------------------------------


def check_reader(info: object) -> None:
    try:
        parsed = EngineInfo._from_list(info)
    except ValueError as e:
        assert str(e).startswith("engine info")
        return
    again = parsed.to_list()
    assert EngineInfo._from_list(again) == parsed
    # Only canonical text is accepted: every slot but the metadata (whose
    # JSON layout may differ) is reproduced exactly.
    for idx, (old, new) in enumerate(zip(info, again, strict=True)):  # type: ignore[call-overload]
        if idx != ei.SERIALIZED_METADATA_IDX:
            assert old == new, idx


# Kept small: drawing big recursive values dominates the fuzzing time.  Keys
# are mostly schema keys so mutations get past the first checks.
_KEYS = st.sampled_from(
    [
        "format",
        "version",
        "inputs",
        "outputs",
        "settings",
        "flags",
        "name",
        "dtype",
        "shape",
        "min_shape",
        "opt_shape",
        "max_shape",
        "optimization_level",
        "enabled_precisions",
        "x",
    ]
) | st.text(max_size=4)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.sampled_from([0.5, -1.0, 1e300, "float32", "s0", "s0*2", "8.6", "", "1"])
    | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=8,
)

slot_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "0", "1", "%", "%%", "0%", "0%8.0", "static", "dynamic", "linux_x86_64", "{}", "[]", "==", "QQ=="]
    ),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
    st.binary(min_size=1, max_size=30).map(lambda b: base64.b64encode(b).decode()),
    json_values.map(json.dumps),
)


@fuzz(2000)
@given(st.lists(st.text(max_size=30), max_size=14))
def test_fuzz_arbitrary_text_lists(info: list[str]) -> None:
    check_reader(info)


@fuzz(800)
@given(
    st.one_of(
        st.lists(
            st.one_of(
                st.none(),
                st.integers(),
                st.binary(max_size=8),
                st.text(max_size=8),
                st.lists(st.text(max_size=3), max_size=2),
            ),
            max_size=13,
        ),
        json_values,
        st.tuples(*[slot_text] * ei.SERIALIZATION_LEN),
    )
)
def test_fuzz_arbitrary_objects(info: object) -> None:
    check_reader(info)


@fuzz(2500)
@given(st.integers(0, ei.SERIALIZATION_LEN - 1), slot_text)
def test_fuzz_replace_one_slot(idx: int, value: str) -> None:
    check_reader(with_slot(idx, value))


@fuzz(1500)
@given(st.integers(0, ei.SERIALIZATION_LEN - 1), st.data())
def test_fuzz_edit_one_slot(idx: int, data: st.DataObject) -> None:
    text = VALID[idx]
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        char = data.draw(st.characters())
        if op == "insert":
            text = text[:pos] + char + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif op == "replace":
            text = text[:pos] + char + text[pos + 1 :]
        else:
            text = text[:pos]
    check_reader(with_slot(idx, text))


@fuzz(700)
@given(st.integers(0, len(VALID[3])), st.binary(max_size=4), st.booleans())
def test_fuzz_engine_base64(cut: int, junk: bytes, urlsafe: bool) -> None:
    text = VALID[ei.SERIALIZED_ENGINE_IDX][:cut] + junk.decode("latin-1")
    if urlsafe:
        text = text.replace("+", "-").replace("/", "_")
    check_reader(with_slot(ei.SERIALIZED_ENGINE_IDX, text))


@fuzz(1000)
@given(json_values)
def test_fuzz_metadata_any_json(value: object) -> None:
    check_reader(with_slot(ei.SERIALIZED_METADATA_IDX, json.dumps(value)))


@fuzz(1500)
@given(st.data(), json_values)
def test_fuzz_metadata_mutation(data: st.DataObject, value: object) -> None:
    doc: Any = metadata_dict()
    parent: Any = None
    key: Any = None
    node = doc
    # Walk a random path into the valid document, then replace or delete there.
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys))
        node = node[key]
    if parent is None:
        doc = value
    elif data.draw(st.booleans()):
        parent[key] = value
    else:
        del parent[key]
    check_reader(with_slot(ei.SERIALIZED_METADATA_IDX, json.dumps(doc)))


@fuzz(300)
@given(st.integers(0, 20_000), st.sampled_from(["[", '{"a":', '[{"b":']), st.booleans())
def test_fuzz_nested_json(depth: int, opener: str, closed: bool) -> None:
    closer = {"[": "]", '{"a":': "}", '[{"b":': "}]"}[opener]
    text = opener * depth + ("1" + closer * depth if closed else "")
    check_reader(with_slot(ei.SERIALIZED_METADATA_IDX, text))
    wrapped = json.dumps({**metadata_dict(), "deep": "PLACEHOLDER"}).replace('"PLACEHOLDER"', text if closed else "0")
    check_reader(with_slot(ei.SERIALIZED_METADATA_IDX, wrapped))


@pytest.mark.parametrize("info", [["1"] * 11, [VALID[0]] * 11, [None] * 11, [[[]]] * 11])
def test_public_reader_only_value_error(info: object) -> None:
    with pytest.raises(ValueError):
        EngineInfo.from_list(info)
