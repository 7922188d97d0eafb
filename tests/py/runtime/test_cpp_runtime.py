"""The C++ runtime (torch_tensorrt._C): layout parity with Python, torch.classes.tensorrt.Engine,
the shared tensorrt::execute_engine op, and execution on the C++ fake backend.

The fake backend (tests/core/fake_backend.cpp) is built by tests/core/run_cpp_tests.sh
--fake-backend-only and loaded with torch.ops.tensorrt._load_test_backend, which only works with
TORCH_TENSORRT_ALLOW_TEST_BACKENDS=1 in the environment.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import _engine_info as layout
from torch_tensorrt.dynamo.runtime import _engine_layout, _execute_engine_op, _shape_expr
from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo, EngineMetadata, InputSpec, OutputSpec

if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
    pytest.skip(
        "the C++ runtime torch_tensorrt._C is not built (pip install --no-build-isolation -e . builds it)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:FutureWarning")

REPO = Path(__file__).resolve().parents[3]
OPS = torch.ops.tensorrt

# A Python runtime backend understanding the fake engines (same text format as the C++ fake backend), for
# the Python side of the save/load round trips. Kept as source so a subprocess can exec it too.
PY_FAKE_BACKEND_SRC = textwrap.dedent(
    """
    import torch
    from torch_tensorrt.dynamo.runtime._runtime_backend import IOTensor

    class _PyFakeContext:
        def __init__(self, engine):
            self.engine, self.shapes, self.bound = engine, {}, {}
        def set_input_shape(self, name, shape):
            self.shapes[name] = tuple(shape)
        def output_shape(self, name):
            ins = [t.name for t in self.engine.io_tensors if t.is_input]
            outs = [t.name for t in self.engine.io_tensors if not t.is_input]
            return self.shapes[ins[0] if self.engine.op == "add" else ins[outs.index(name) % len(ins)]]
        def bind(self, name, tensor):
            self.bound[name] = tensor
        def execute(self, stream):
            ins = [self.bound[t.name] for t in self.engine.io_tensors if t.is_input]
            outs = [t.name for t in self.engine.io_tensors if not t.is_input]
            for k, name in enumerate(outs):
                value = sum(ins[1:], ins[0].clone()) if self.engine.op == "add" else ins[k % len(ins)]
                self.bound[name].copy_(value)
            self.engine.runs += 1
        def serialize_runtime_cache(self):
            return None

    class _PyFakeEngine:
        def __init__(self, data):
            lines = data.decode().splitlines()
            assert lines[0] == "FAKE_TRT_ENGINE 1", lines[0]
            self.op, self.io_tensors, self.runs = "identity", [], 0
            for line in lines[1:]:
                parts = line.split()
                if parts[0] == "op":
                    self.op = parts[1]
                elif parts[0] == "input":
                    dims = () if parts[3] == "-" else tuple(int(d) for d in parts[3].split(","))
                    self.io_tensors.append(IOTensor(parts[1], True, getattr(torch, parts[2]), dims))
                else:
                    self.io_tensors.append(IOTensor(parts[1], False, getattr(torch, parts[2]), ()))
        def profile_shape(self, name):
            raise NotImplementedError
        def create_context(self, options):
            return _PyFakeContext(self)

    class PyFakeBackend:
        name = "py_fake"
        device_type = "cpu"
        def __init__(self):
            self.engines = []
        def load_engine(self, engine, name):
            self.engines.append(_PyFakeEngine(engine))
            return self.engines[-1]
    """
)
_namespace: dict = {}
exec(PY_FAKE_BACKEND_SRC, _namespace)  # noqa: S102 - our own test source
PyFakeBackend = _namespace["PyFakeBackend"]


def fake_engine(op: str, inputs: dict[str, str], outputs: list[str], dtype: str = "float32") -> bytes:
    lines = ["FAKE_TRT_ENGINE 1", f"op {op}"]
    lines += [f"input {name} {dtype} {dims}" for name, dims in inputs.items()]
    lines += [f"output {name} {dtype}" for name in outputs]
    return ("\n".join(lines) + "\n").encode()


ADD_METADATA = EngineMetadata(
    inputs=tuple(InputSpec(n, "float32", ("s0", 3), (0, 3), (2, 3), (64, 3)) for n in ("x", "y")),
    outputs=(OutputSpec("z", "float32", ("s0", 3)),),
)


def add_info(name: str = "adder", **kw) -> EngineInfo:
    kw.setdefault("metadata", ADD_METADATA)
    return EngineInfo(
        name=name,
        engine=fake_engine("add", {"x": "-1,3", "y": "-1,3"}, ["z"]),
        input_names=("x", "y"),
        output_names=("z",),
        **kw,
    )


def op_args(info: EngineInfo) -> tuple[torch.Tensor, list[str]]:
    return _execute_engine_op.split_engine_info(info)


@pytest.fixture(scope="session")
def fake_backend_library() -> str:
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        pytest.skip("no C++ compiler to build the fake backend library")
    out = subprocess.run(
        ["bash", str(REPO / "tests/core/run_cpp_tests.sh"), "--fake-backend-only"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture
def cpp_fake(fake_backend_library, monkeypatch):
    """The C++ runtime runs every execute_engine call, on the fake backend."""
    monkeypatch.setenv("TORCH_TENSORRT_ALLOW_TEST_BACKENDS", "1")
    assert OPS._load_test_backend(fake_backend_library) == "fake"
    OPS._clear_engine_cache()
    mode = OPS._get_python_delegate()
    OPS._set_python_delegate(0)
    try:
        yield
    finally:
        OPS._set_python_delegate(mode)
        OPS._select_backend("default")
        OPS.set_cudagraphs_mode(False)
        OPS._clear_engine_cache()


# --------------------------------------------------------------------------------------------------
# Layout parity
# --------------------------------------------------------------------------------------------------


def test_layout_names_and_abi_match_python():
    # One op carries the C++ layout: the slot names in index order, hence every index and the length.
    names = list(OPS.serialized_info_names())
    assert names == [slot.name for slot in _engine_layout.SerializedInfoIndex]
    assert names == list(layout.SERIALIZED_INFO_INDICES) and len(names) == layout.SERIALIZATION_LEN
    assert OPS.ABI_VERSION() == layout.ABI_VERSION
    assert OPS.current_platform() == layout.current_platform()
    for per_slot_op in ("SERIALIZATION_LEN", "NAME_IDX", "RESOURCE_ALLOCATION_STRATEGY_IDX"):
        assert not hasattr(OPS, per_slot_op), f"{per_slot_op}: folded into serialized_info_names"
    _execute_engine_op.check_cpp_runtime_layout()  # what torch_tensorrt runs at import


def test_layout_mismatch_is_refused_at_import(monkeypatch):
    monkeypatch.setitem(_engine_layout.SERIALIZED_INFO_INDICES, "NAME_IDX", 5)
    with pytest.raises(ImportError, match=r"NAME_IDX: C\+\+ 1, Python 5.*Rebuild it"):
        _execute_engine_op.check_cpp_runtime_layout()
    monkeypatch.undo()
    monkeypatch.setattr(_engine_layout, "ABI_VERSION", "2")
    with pytest.raises(ImportError, match=r"ABI_VERSION: C\+\+ '1', Python '2'"):
        _execute_engine_op.check_cpp_runtime_layout()


_NAMES = list(_engine_layout.SERIALIZED_INFO_INDICES)


@pytest.mark.parametrize(
    ("cpp_names", "cpp_abi", "expected"),
    [
        (_NAMES, "1", []),
        (
            [_NAMES[0], _NAMES[2], _NAMES[1], *_NAMES[3:]],
            "1",
            ["NAME_IDX: C++ 2, Python 1", "DEVICE_IDX: C++ 1, Python 2"],
        ),
        (
            _NAMES[:-1],
            "1",
            ["RESOURCE_ALLOCATION_STRATEGY_IDX: missing in C++ (Python: 10)", "SERIALIZATION_LEN: C++ 10, Python 11"],
        ),
        ([*_NAMES, "NEW_IDX"], "1", ["C++ only: NEW_IDX", "SERIALIZATION_LEN: C++ 12, Python 11"]),
        (_NAMES, "2", ["ABI_VERSION: C++ '2', Python '1'"]),
    ],
    ids=["same", "swapped", "missing", "extra", "abi"],
)
def test_layout_differences(cpp_names, cpp_abi, expected):
    found = _execute_engine_op.layout_differences(
        cpp_names, cpp_abi, _engine_layout.SERIALIZED_INFO_INDICES, _engine_layout.ABI_VERSION
    )
    assert found == expected


def test_runtime_setting_ints_match_python():
    from torch_tensorrt.runtime._settings import CudaGraphStrategy, DynamicShapesKernelStrategy, RuntimeSettings

    engine = torch.classes.tensorrt.Engine(add_info().to_list())
    for kernel in DynamicShapesKernelStrategy:
        for graph in CudaGraphStrategy:
            ints = RuntimeSettings(kernel.strategy_name, graph.strategy_name).to_enums()
            engine.set_runtime_settings(*ints)
            assert tuple(engine.get_runtime_settings()) == ints
    with pytest.raises(ValueError, match="valid values: 0 \\(lazy\\), 1 \\(eager\\), 2 \\(none\\)"):
        engine.set_runtime_settings(3, 0)
    with pytest.raises(ValueError, match="valid values: 0 \\(disabled\\), 1 \\(whole_graph_capture\\)"):
        engine.set_runtime_settings(0, 2)


def test_process_wide_modes_round_trip():
    for get, set_ in (
        (OPS.get_cudagraphs_mode, OPS.set_cudagraphs_mode),
        (OPS.get_multi_device_safe_mode, OPS.set_multi_device_safe_mode),
    ):
        before = get()
        try:
            set_(True)
            assert get() is True
            set_(False)
            assert get() is False
        finally:
            set_(before)
    level = OPS.get_logging_level()
    try:
        OPS.set_logging_level(4)
        assert OPS.get_logging_level() == 4
        with pytest.raises(ValueError, match="logging level"):
            OPS.set_logging_level(9)
    finally:
        OPS.set_logging_level(level)


# --------------------------------------------------------------------------------------------------
# torch.classes.tensorrt.Engine
# --------------------------------------------------------------------------------------------------


def test_engine_pickle_round_trip(tmp_path):
    info = add_info(metadata=EngineMetadata(flags={"x": True}, inputs=ADD_METADATA.inputs)).to_list()
    engine = torch.classes.tensorrt.Engine(info)
    assert list(engine.serialize()) == info
    assert engine.name() == "adder"
    assert list(engine.input_names()) == ["x", "y"] and list(engine.output_names()) == ["z"]
    clone = pickle.loads(pickle.dumps(engine))
    assert list(clone.serialize()) == info
    # Runtime settings are not engine properties: they do not travel.
    engine.set_runtime_settings(1, 1)
    assert list(pickle.loads(pickle.dumps(engine)).get_runtime_settings()) == [0, 0]
    # And through TorchScript (def_pickle).
    scripted = torch.jit.script(_ScriptedEngine(engine))
    path = tmp_path / "engine.ts"
    torch.jit.save(scripted, str(path))
    assert list(torch.jit.load(str(path)).engine.serialize()) == info


class _ScriptedEngine(torch.nn.Module):
    def __init__(self, engine):
        super().__init__()
        self.engine = engine

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        return torch.ops.tensorrt.execute_engine([x, y], self.engine)


# Malformed and other-platform engine info: one table for both readers, test_engine_info_parity.py.


def test_abi_and_length_messages():
    good = add_info().to_list()
    with pytest.raises(ValueError, match=r"expected SERIALIZATION_LEN = 11 slots, found 12"):
        torch.classes.tensorrt.Engine(good + ["x"])
    old = ["0"] + good[1:-1]
    with pytest.raises(ValueError, match=r"ABI_TARGET_IDX \(0\): this file was written for engine-info ABI '0'"):
        torch.classes.tensorrt.Engine(old)


def test_other_platform_is_refused():
    other = "linux_aarch64" if layout.current_platform() != "linux_aarch64" else "linux_x86_64"
    info = add_info(target_platform=other).to_list()
    with pytest.raises(ValueError, match=f"was built for platform {other}; this machine is"):
        torch.classes.tensorrt.Engine(info)


def test_metadata_and_shape_expression_parity():
    rng = random.Random(1234)
    pieces = [
        "s0",
        "s1",
        "u2",
        "x",
        "max",
        "min",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "//",
        "/",
        "%",
        " ",
        "1",
        "0",
        "07",
        "1_0",
        "0x1f",
        "**",
        "e5",
        "True",
    ]
    exprs = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 7))) for _ in range(3000)]
    exprs += [
        "s0*4",
        "(s0 + 1)//2",
        "max(s0, s1)",
        "min(s0, 1, 2,)",
        "--s0",
        "+s0",
        "s0 ** 2",
        "9223372036854775808",
        "1e3",
    ]
    mismatches = []
    for expr in exprs:
        try:
            _shape_expr.validate(expr)
            python_ok = True
        except ValueError:
            python_ok = False
        try:
            OPS._check_shape_expr(expr)
            cpp_ok = True
        except ValueError:
            cpp_ok = False
        if python_ok != cpp_ok:
            mismatches.append((expr, python_ok, cpp_ok))
    assert not mismatches, mismatches[:20]

    good = EngineMetadata(inputs=(InputSpec("x", "float32", ("s0", 3), (1, 3), (2, 3), (4, 3)),)).to_json()
    documents = [
        good,
        good.replace('"version":1', '"version":2'),
        good.replace('"float32"', '"f32"'),
        good.replace("[1,3]", "[5,3]"),
        good[:-1],
        good + " ",
        good.replace("{", "{ ", 1),
        '{"format":"torch_tensorrt.engine_metadata","version":1,"flags":{"a":true,"a":false}}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"extra":[NaN]}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"extra":1e999}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"extra":123456789012345678901}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"extra":"\\ud800"}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"settings":{"optimization_level":5.0}}',
        '{"format":"torch_tensorrt.engine_metadata","version":1,"x":' + "[" * 40 + "]" * 40 + "}",
        '{"format":"torch_tensorrt.engine_metadata","version":1,"x":' + "[" * 31 + "]" * 31 + "}",
        '{"format":"torch_tensorrt.engine_metadata","version":true}',
        "[]",
        "",
    ]
    for doc in documents:
        try:
            EngineMetadata.from_json(doc)
            python_ok = True
        except ValueError:
            python_ok = False
        try:
            OPS._check_metadata(doc)
            cpp_ok = True
        except ValueError:
            cpp_ok = False
        assert python_ok == cpp_ok, doc[:80]


# --------------------------------------------------------------------------------------------------
# The op
# --------------------------------------------------------------------------------------------------


def test_without_sdk_the_op_falls_back_to_python_or_explains():
    if OPS.has_tensorrt_backend():
        pytest.skip("built with a TensorRT SDK")
    info = add_info()
    engine, short = op_args(info)
    x = torch.ones(2, 3)
    from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend

    # torch_tensorrt hands calls to the Python runtime when the C++ one cannot run engines ...
    assert OPS._get_python_delegate() == 1
    backend = PyFakeBackend()
    with use_backend(backend):
        (out,) = OPS.execute_engine([x, x], engine, short)
    assert torch.equal(out, x * 2) and backend.engines[0].runs == 1
    # ... and the C++ runtime alone says why it cannot.
    OPS._set_python_delegate(0)
    try:
        with pytest.raises(RuntimeError, match="built without a TensorRT SDK"):
            OPS.execute_engine([x, x], engine, short)
        with pytest.raises(RuntimeError, match="built without a TensorRT SDK"):
            OPS.execute_engine([x, x], torch.classes.tensorrt.Engine(info.to_list()))
    finally:
        OPS._set_python_delegate(1)
        OPS._clear_engine_cache()


def test_python_runtime_delegate_forces_python(cpp_fake):
    from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend

    engine, short = op_args(add_info(name="delegated"))
    x = torch.ones(2, 3)
    backend = PyFakeBackend()
    with _execute_engine_op.python_runtime_delegate(), use_backend(backend):
        assert OPS._get_python_delegate() == 2
        OPS.execute_engine([x, x], engine, short)
    assert backend.engines and backend.engines[0].runs == 1
    assert OPS._get_python_delegate() == 0  # restored to what the fixture set


def test_test_backends_need_the_environment_variable(fake_backend_library, monkeypatch):
    monkeypatch.delenv("TORCH_TENSORRT_ALLOW_TEST_BACKENDS", raising=False)
    with pytest.raises(RuntimeError, match="test backends are disabled"):
        OPS._load_test_backend(fake_backend_library)
    with pytest.raises(ValueError, match="unknown runtime backend"):
        OPS._select_backend("no_such_backend")


def test_fake_backend_execution_through_the_cpp_op(cpp_fake):
    info = add_info()
    engine, short = op_args(info)
    x = torch.arange(6.0).reshape(2, 3)
    y = torch.ones(2, 3)
    (out,) = OPS.execute_engine([x, y], engine, short)
    assert torch.equal(out, x + y)
    cpp_engine = OPS.get_engine(engine, short)
    assert cpp_engine.backend_name() == "fake"
    assert cpp_engine.stats()["executions"] == 1
    assert list(OPS.join_engine_info(engine, short)) == info.to_list()
    # The torchbind overload (TorchScript users) runs the same code.
    (out2,) = OPS.execute_engine([x, y], torch.classes.tensorrt.Engine(info.to_list()))
    assert torch.equal(out2, x + y)
    # Input checks.
    with pytest.raises(ValueError, match="takes 2 inputs \\(x, y\\), got 1"):
        OPS.execute_engine([x], engine, short)
    with pytest.raises(TypeError, match="must have dtype torch.float32, got torch.float64"):
        OPS.execute_engine([x, y.double()], engine, short)
    # Engine bytes that do not match the digest in the info.
    tampered = engine.clone()
    tampered[0] ^= 1
    OPS._clear_engine_cache()
    with pytest.raises(ValueError, match="does not match the engine the info refers to"):
        OPS.execute_engine([x, y], tampered, short)


def test_data_dependent_outputs_and_dynamic_allocation(cpp_fake):
    info = EngineInfo(
        name="filter",
        engine=fake_engine("filter_positive", {"x": "-1"}, ["y"]),
        input_names=("x",),
        output_names=("y",),
        requires_output_allocator=True,
        resource_allocation_strategy="dynamic",
    )
    engine, short = op_args(info)
    (out,) = OPS.execute_engine([torch.tensor([1.0, -1.0, 2.0])], engine, short)
    assert torch.equal(out, torch.tensor([1.0, 2.0]))
    stats = OPS.get_engine(engine, short).stats()
    assert stats["context.allocation"] == 1 and stats["context.device_memory_sets"] == 1


def test_cuda_graph_decisions_through_the_op(cpp_fake, monkeypatch):
    # The fake backend is TensorRT-RTX-like; the engine has a dynamic batch dimension. Decision
    # names and rules are the Python runtime's (test_cudagraph_policy_parity.py).
    engine, short = op_args(add_info(name="graphs"))
    cpp_engine = OPS.get_engine(engine, short)
    x = torch.ones(2, 3)
    OPS.set_cudagraphs_mode(True)
    # Default kernel strategy "lazy" with dynamic inputs: only TensorRT-RTX's own capture can follow
    # the kernels it swaps in, so subgraph mode is the native capture (as with default settings upstream).
    (out,) = OPS.execute_engine([x * 3, x], engine, short)
    assert torch.equal(out, x * 4)
    assert cpp_engine.last_capture_decision() == "rtx_native_capture"
    assert cpp_engine.stats()["context.cuda_graph_strategy"] == 1
    # "eager": the same, never a torch capture.
    cpp_engine.set_runtime_settings(1, 0)
    OPS.execute_engine([x, x], engine, short)
    assert cpp_engine.last_capture_decision() == "rtx_native_capture"
    assert cpp_engine.stats()["context.cuda_graph_strategy"] == 1
    assert cpp_engine.stats()["context.native_capture_runs"] == 1
    assert cpp_engine.stats()["graph_captures"] == 0
    contexts = cpp_engine.stats()["contexts_created"]
    # An outer capture records the engine: a new context without native capture (TensorRT-RTX
    # applies the strategy when a context is created), no torch capture either.
    monkeypatch.setenv("TORCH_TENSORRT_FAKE_OUTER_CAPTURE", "1")
    OPS.execute_engine([x, x], engine, short)
    assert cpp_engine.last_capture_decision() == "outer_whole_graph_capture"
    assert cpp_engine.stats()["contexts_created"] == contexts + 1
    assert cpp_engine.stats()["context.cuda_graph_strategy"] == 0
    assert cpp_engine.stats()["graph_captures"] == 0
    monkeypatch.delenv("TORCH_TENSORRT_FAKE_OUTER_CAPTURE")
    # A context that cannot capture its stream: run uncaptured, decision recorded.
    monkeypatch.setenv("TORCH_TENSORRT_FAKE_NOT_CAPTURABLE", "1")
    assert torch.equal(OPS.execute_engine([x, x], engine, short)[0], x * 2)
    assert cpp_engine.last_capture_decision() == "not_capturable"


def test_runtime_cache_path(cpp_fake, tmp_path):
    from torch_tensorrt.runtime import _runtime_cache

    path = tmp_path / "kernels.trtcache"
    engine, short = op_args(add_info(name="cached"))
    cpp_engine = OPS.get_engine(engine, short)
    cpp_engine.set_runtime_cache_path(str(path))
    assert cpp_engine.get_runtime_cache_path() == str(path)
    OPS.execute_engine([torch.ones(2, 3), torch.ones(2, 3)], engine, short)
    assert cpp_engine.save_runtime_cache()
    # The file is in the Python runtime's format (shared between the two runtimes).
    payload = _runtime_cache.decode(path.read_bytes())
    assert payload.startswith(b"FAKECACHE1\n")
    path.write_bytes(b"garbage")
    OPS._clear_engine_cache()
    fresh = OPS.get_engine(engine, short)
    fresh.set_runtime_cache_path(str(path))
    (out,) = OPS.execute_engine([torch.ones(2, 3), torch.ones(2, 3)], engine, short)  # never fatal
    assert torch.equal(out, torch.full((2, 3), 2.0))
    assert list(tmp_path.glob("kernels.trtcache.corrupt-*"))


def test_torchscript_program_runs_on_the_cpp_runtime(cpp_fake, tmp_path):
    info = add_info()
    scripted = torch.jit.script(_ScriptedEngine(torch.classes.tensorrt.Engine(info.to_list())))
    path = tmp_path / "program.ts"
    torch.jit.save(scripted, str(path))
    loaded = torch.jit.load(str(path))
    x = torch.ones(2, 3)
    assert torch.equal(loaded(x, x)[0], x * 2)


# --------------------------------------------------------------------------------------------------
# Programs saved with one runtime load with the other
# --------------------------------------------------------------------------------------------------


class _Program(torch.nn.Module):
    def __init__(self, info: EngineInfo):
        super().__init__()
        engine, short = _execute_engine_op.split_engine_info(info)
        self.register_buffer("serialized_engine", engine)
        self.engine_info = short

    def forward(self, x, y):
        return torch.ops.tensorrt.execute_engine([x, y], self.serialized_engine, self.engine_info)[0] * 1


def _python_only(script: str, tmp_path: Path) -> str:
    """Run `script` in a process where torch_tensorrt has only its Python runtime."""
    prelude = textwrap.dedent(
        """
        import sys
        sys.modules["torch_tensorrt._C"] = None  # import fails: the Python runtime serves
        import torch, torch_tensorrt
        assert not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime
        """
    )
    file = tmp_path / "python_only.py"
    file.write_text(prelude + PY_FAKE_BACKEND_SRC + textwrap.dedent(script))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "py"), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, str(file)], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_program_saved_with_python_runtime_runs_on_cpp_runtime(cpp_fake, tmp_path):
    path = tmp_path / "from_python.pt2"
    _python_only(
        f"""
        from torch_tensorrt.dynamo.runtime._engine_info import EngineInfo
        from torch_tensorrt.dynamo.runtime import _execute_engine_op
        {textwrap.indent(_PROGRAM_SRC, "        ").strip()}
        info = EngineInfo.from_list({add_info().to_list()!r})
        x = torch.ones(2, 3)
        ep = torch.export.export(Program(info), (x, x))
        torch.export.save(ep, {str(path)!r})
        """,
        tmp_path,
    )
    program = torch.export.load(str(path)).module()
    x = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(program(x, x), x * 2)
    # It really ran on the C++ runtime (fake backend).
    ((engine, short),) = _execute_engine_op.engine_calls(program)
    assert OPS.get_engine(engine, short).stats()["executions"] == 1


def test_program_saved_with_cpp_runtime_runs_on_python_runtime(cpp_fake, tmp_path):
    path = tmp_path / "from_cpp.pt2"
    x = torch.ones(2, 3)
    ep = torch.export.export(_Program(add_info()), (x, x))
    assert any("execute_engine" in str(n.target) for n in ep.graph.nodes)
    torch.export.save(ep, str(path))
    out = _python_only(
        f"""
        from torch_tensorrt.dynamo.runtime._runtime_backend import use_backend
        program = torch.export.load({str(path)!r}).module()
        x = torch.arange(6.0).reshape(2, 3)
        backend = PyFakeBackend()
        with use_backend(backend):
            out = program(x, x)
        assert torch.equal(out, x * 2), out
        assert backend.engines[0].runs == 1
        print("ran on the Python runtime")
        """,
        tmp_path,
    )
    assert "ran on the Python runtime" in out


_PROGRAM_SRC = """
class Program(torch.nn.Module):
    def __init__(self, info):
        super().__init__()
        engine, short = _execute_engine_op.split_engine_info(info)
        self.register_buffer("serialized_engine", engine)
        self.engine_info = short

    def forward(self, x, y):
        return torch.ops.tensorrt.execute_engine([x, y], self.serialized_engine, self.engine_info)[0] * 1
"""


def test_saved_program_holds_no_pickled_engine(cpp_fake, tmp_path):
    x = torch.ones(2, 3)
    ep = torch.export.export(_Program(add_info()), (x, x))
    buffer = io.BytesIO()
    torch.export.save(ep, buffer)
    digest = hashlib.sha256(add_info().engine).hexdigest()
    assert f"sha256:{digest}".encode() in buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Compiled modules use the C++ engine when it runs engines, and the runtime controls reach it
# --------------------------------------------------------------------------------------------------


def test_module_runs_on_cpp_engine_and_controls_reach_it(cpp_fake):
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
    from torch_tensorrt.dynamo.runtime._cpp_engine import cpp_runs_engines

    assert cpp_runs_engines()
    module = TorchTensorRTModule(add_info())
    x = torch.ones(2, 3)
    assert torch.equal(module(x, x), x * 2)
    assert module._engine is None, "the Python engine was never created: C++ ran the forward"
    (controls,) = torch_tensorrt.runtime.engines_of(module)
    assert controls.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "lazy"
    with torch_tensorrt.runtime.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eager"):
        assert tuple(controls.engine.get_runtime_settings())[0] == 1
        assert torch.equal(module(x, x), x * 2)
    assert tuple(controls.engine.get_runtime_settings())[0] == 0, "restored on exit"
    with pytest.raises(ValueError, match="eager"):
        with torch_tensorrt.runtime.runtime_config(module, dynamic_shapes_kernel_specialization_strategy="eagr"):
            pass


def test_compiled_resnet18_runs_through_the_cpp_op(tmp_path):
    """A compiled, saved and loaded ResNet-18 calls the C++ runtime's execute_engine op.

    The C++ fake backend only interprets its own toy engines, not real TensorRT engines, so the op
    hands execution to the (emulated) Python runtime: everything up to the TensorRT call runs in C++
    (schema, engine-info/digest handling, delegation) and the network itself on the reference executor.
    """
    import torchvision

    from torch_tensorrt.testing import emulated_runtime

    assert "torch_tensorrt._C" in sys.modules, "the op under test is the C++ one"
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 64, 64)
    with emulated_runtime(tmp_path / "store"), torch.no_grad():
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        torch_tensorrt.save(compiled, tmp_path / "resnet18.pt2")
        program = torch_tensorrt.load(tmp_path / "resnet18.pt2").module()
        calls = [n for n in program.graph.nodes if n.target is torch.ops.tensorrt.execute_engine.default]
        assert len(calls) == 1
        torch.testing.assert_close(program(x), model(x), rtol=1e-4, atol=1e-4)
