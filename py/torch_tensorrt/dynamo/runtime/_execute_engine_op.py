"""``torch.ops.tensorrt.execute_engine`` for the Python runtime.

Schema: ``execute_engine(Tensor[] input_tensors, Tensor serialized_engine, str[] engine_info) -> Tensor[]``.

The engine bytes travel as a uint8 tensor (passed by reference, saved in the program's weights
archive) and ``engine_info`` is the serialized engine-info list whose engine slot holds
``"sha256:<hex>"`` of those bytes instead of their base64. Strings passed to an op are copied on
every call, so the (large) engine must never be one. A saved program holds no pickled objects.
Engines are created once per distinct info and cached; each call runs on the backend active for it
(real or ``emulated_runtime()``), so one engine serves both.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence

import torch

from torch_tensorrt.dynamo.runtime._engine_info import SERIALIZED_ENGINE_IDX, EngineInfo, encode_engine
from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

ENGINE_REF_PREFIX = "sha256:"

# Engines the op runs (a loaded program calls the op directly), by the storage of their engine tensor;
# compiled TorchTensorRTModules own their engines and never come through here in eager mode.
_ENGINES: dict[int, tuple[tuple[str, ...], TRTEngine]] = {}
_LOCK = threading.Lock()


def split_engine_info(info: EngineInfo) -> tuple[torch.Tensor, list[str]]:
    """(engine bytes as a uint8 tensor, info list with the engine slot replaced by its digest)."""
    engine = torch.frombuffer(bytearray(info.engine), dtype=torch.uint8)
    return engine, info.to_list(engine_slot=ENGINE_REF_PREFIX + hashlib.sha256(info.engine).hexdigest())


def join_engine_info(serialized_engine: torch.Tensor, engine_info: Sequence[str]) -> list[str]:
    """The full serialized engine-info list; refuses bytes that do not match the recorded digest."""
    info = [str(s) for s in engine_info]
    if len(info) <= SERIALIZED_ENGINE_IDX:
        return info  # EngineInfo.from_list reports the wrong length
    reference = info[SERIALIZED_ENGINE_IDX]
    data = serialized_engine.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
    if reference.startswith(ENGINE_REF_PREFIX):
        digest = hashlib.sha256(data).hexdigest()
        if reference[len(ENGINE_REF_PREFIX) :] != digest:
            raise ValueError(
                f"engine info slot SERIALIZED_ENGINE_IDX ({SERIALIZED_ENGINE_IDX}): the engine tensor "
                f"(sha256 {digest[:16]}…) does not match the engine the info refers to ({reference[:23]}…); "
                "the file is corrupt or was edited"
            )
        info[SERIALIZED_ENGINE_IDX] = encode_engine(data)
    return info


def _storage_key(serialized_engine: torch.Tensor) -> int:
    # The StorageImpl address: the C++ registry's key too (EngineRegistry), so one key releases both.
    return int(serialized_engine.untyped_storage()._cdata)


def _release_engines_of(key: int) -> None:
    """The engine tensor ``key`` is going away: release its engines on both runtimes (caches saved).

    Runs from the tensor's finalizer, before torch frees the storage, so the C++ engine is released
    by key rather than by noticing an expired storage.
    """
    with _LOCK:
        entry = _ENGINES.pop(key, None)
    if entry is not None:
        entry[1].close()
    if hasattr(torch.ops.tensorrt, "_release_engine"):
        torch.ops.tensorrt._release_engine(key)


def watch_engine_tensor(serialized_engine: torch.Tensor) -> None:
    """Release the engines made for this tensor (on either runtime) as soon as the tensor is collected.

    Engines belong to the tensor holding their bytes, i.e. to the module or loaded program owning it
    (DESIGN.md section 4): two modules with the same bytes share nothing mutable.
    """
    if getattr(serialized_engine, "_torch_tensorrt_watched", False) or type(serialized_engine) is not torch.Tensor:
        return
    weakref.finalize(serialized_engine, _release_engines_of, _storage_key(serialized_engine))
    serialized_engine._torch_tensorrt_watched = True  # type: ignore[attr-defined]


def engine_for(serialized_engine: torch.Tensor, engine_info: Sequence[str]) -> TRTEngine:
    """The engine of this engine tensor (one per tensor, released with it; see watch_engine_tensor).

    The backend is not part of the key: the engine follows the backend of each call.
    """
    key, info = _storage_key(serialized_engine), tuple(engine_info)
    entry = _ENGINES.get(key)
    if entry is None or entry[0] != info:
        with _LOCK:
            entry = _ENGINES.get(key)
            if entry is None or entry[0] != info:
                engine = TRTEngine(EngineInfo.from_list(join_engine_info(serialized_engine, engine_info)))
                entry = _ENGINES[key] = (info, engine)
        watch_engine_tensor(serialized_engine)
    return entry[1]


def execute_engine(
    input_tensors: list[torch.Tensor], serialized_engine: torch.Tensor, engine_info: list[str]
) -> list[torch.Tensor]:
    """Run the engine whose bytes are ``serialized_engine`` and whose info is ``engine_info``."""
    return engine_for(serialized_engine, engine_info).execute(input_tensors)


def _op_exists() -> bool:
    try:
        torch.ops.tensorrt.execute_engine  # noqa: B018 - the C++ runtime may have defined it
    except (AttributeError, RuntimeError):
        return False
    return True


# A plain Library registration: the dispatcher calls the kernel directly, without the autograd and
# redispatch layers of torch.library.custom_op (several hundred microseconds per call).
_LIB = None
if not _op_exists():
    _LIB = torch.library.Library("tensorrt", "DEF")
    _LIB.define("execute_engine(Tensor[] input_tensors, Tensor serialized_engine, str[] engine_info) -> Tensor[]")
    _LIB.impl("execute_engine", execute_engine, "CompositeExplicitAutograd")
else:
    # The C++ runtime (torch_tensorrt._C) defined the op. It hands calls to this Python runtime through
    # tensorrt::execute_engine_python when it cannot run engines itself (built without a TensorRT SDK), or
    # always while python_runtime_delegate() is active (delegate_mode() below).
    _LIB = torch.library.Library("tensorrt", "IMPL")
    _LIB.impl("execute_engine_python", execute_engine, "CompositeExplicitAutograd")
    torch.ops.tensorrt._set_python_delegate(1)

# Delegate modes of the C++ op (core/runtime/execute_engine.h): who runs tensorrt::execute_engine.
NEVER_DELEGATE, DELEGATE_WITHOUT_BACKEND, ALWAYS_DELEGATE = 0, 1, 2

# Active delegate_mode() blocks, oldest first, and the mode from before the first of them. The newest
# block decides; blocks may exit in any order (threads), and the mode returns once all have.
_MODE_REQUESTS: list[tuple[object, int]] = []
_MODE_BEFORE = DELEGATE_WITHOUT_BACKEND
_MODE_LOCK = threading.Lock()


@contextlib.contextmanager
def delegate_mode(mode: int) -> Iterator[None]:
    """Set who runs ``tensorrt::execute_engine`` calls while active (no-op without the C++ runtime)."""
    global _MODE_BEFORE
    if not hasattr(torch.ops.tensorrt, "_set_python_delegate"):
        yield
        return
    token = object()
    with _MODE_LOCK:
        if not _MODE_REQUESTS:
            _MODE_BEFORE = torch.ops.tensorrt._get_python_delegate()
        _MODE_REQUESTS.append((token, mode))
        torch.ops.tensorrt._set_python_delegate(mode)
    try:
        yield
    finally:
        with _MODE_LOCK:
            _MODE_REQUESTS[:] = [r for r in _MODE_REQUESTS if r[0] is not token]
            torch.ops.tensorrt._set_python_delegate(_MODE_REQUESTS[-1][1] if _MODE_REQUESTS else _MODE_BEFORE)


def python_runtime_delegate() -> contextlib.AbstractContextManager[None]:
    """Run every ``tensorrt::execute_engine`` call with the Python runtime while active (no-op without the C++ one)."""
    return delegate_mode(ALWAYS_DELEGATE)


def check_cpp_runtime_layout() -> None:
    """Refuse a C++ runtime whose engine-info layout differs from _engine_layout.py (a stale torch_tensorrt._C)."""
    # Read through the module at call time: the tests patch it to simulate a mismatch.
    from torch_tensorrt.dynamo.runtime import _engine_layout as layout

    ops = torch.ops.tensorrt
    try:
        cpp_names = [str(n) for n in ops.serialized_info_names()]
        cpp_abi = ops.ABI_VERSION()
    except (AttributeError, RuntimeError):
        problems = ["serialized_info_names/ABI_VERSION: missing in C++"]
    else:
        problems = layout_differences(cpp_names, cpp_abi, layout.SERIALIZED_INFO_INDICES, layout.ABI_VERSION)
    if problems:
        raise ImportError(
            "torch_tensorrt._C (the C++ runtime) does not match this torch_tensorrt's engine-info layout: "
            + "; ".join(problems)
            + ". Rebuild it (pip install --no-build-isolation -e .) or remove the stale extension."
        )


def layout_differences(
    cpp_names: Sequence[str], cpp_abi: str, python_indices: Mapping[str, int], python_abi: str
) -> list[str]:
    """Each way the C++ layout (slot names in index order, ABI) differs from Python's; [] if none."""
    problems = []
    for name, index in python_indices.items():
        if name not in cpp_names:
            problems.append(f"{name}: missing in C++ (Python: {index})")
        elif cpp_names.index(name) != index:
            problems.append(f"{name}: C++ {cpp_names.index(name)}, Python {index}")
    unknown = [n for n in cpp_names if n not in python_indices]
    if unknown:
        problems.append(f"C++ only: {', '.join(unknown)}")
    if len(cpp_names) != len(python_indices):
        problems.append(f"SERIALIZATION_LEN: C++ {len(cpp_names)}, Python {len(python_indices)}")
    if cpp_abi != python_abi:
        problems.append(f"ABI_VERSION: C++ {cpp_abi!r}, Python {python_abi!r}")
    return problems


@torch.library.register_fake("tensorrt::execute_engine")
def _execute_engine_fake(
    input_tensors: list[torch.Tensor], serialized_engine: torch.Tensor, engine_info: list[str]
) -> list[torch.Tensor]:
    # Shapes come from the metadata alone; the engine bytes (a fake tensor here) are not needed.
    info = list(engine_info)
    if len(info) > SERIALIZED_ENGINE_IDX:
        info[SERIALIZED_ENGINE_IDX] = encode_engine(b"\0")
    inferred = _ShapeOnlyEngine(EngineInfo.from_list(info)).infer_outputs(input_tensors)
    device = input_tensors[0].device if input_tensors else torch.device("cpu")
    return [torch.empty(shape, dtype=dtype, device=device) for shape, dtype in inferred]


class _ShapeOnlyEngine(TRTEngine):
    """Shape inference needs only the metadata: no backend, no deserialization."""

    def __init__(self, info: EngineInfo) -> None:  # deliberately skips the backend
        self.info = info

    def __del__(self) -> None:
        pass


def engine_calls(module: torch.nn.Module) -> list[tuple[torch.Tensor, list[str]]]:
    """(engine tensor, engine info) of every execute_engine call in the GraphModules of ``module``."""
    calls = []
    for sub in module.modules():
        if not isinstance(sub, torch.fx.GraphModule):
            continue
        for node in sub.graph.nodes:
            if node.op == "call_function" and "execute_engine" in str(node.target):
                source = node.args[1]
                if not (isinstance(source, torch.fx.Node) and source.op == "get_attr"):
                    raise ValueError(
                        f"execute_engine call {node.name} does not take its engine from a module attribute"
                    )
                calls.append((operator.attrgetter(str(source.target))(sub), list(node.args[2])))
    return calls
