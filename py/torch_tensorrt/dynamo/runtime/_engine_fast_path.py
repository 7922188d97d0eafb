"""The Python engine's per-call fast path (issue 17 item 9: host overhead close to the bare API calls).

Once a call has made a plan (capture decision + execution context, ``TRTEngine._make_plan``), later calls
that change nothing the plan depends on run through the runner :func:`fast_runner` makes: it checks
exactly what ``TRTEngine.execute`` checks, with the plan's objects bound, and makes the API calls only
where they are needed (a context keeps its input shapes, so unchanged shapes are not set again and the
output shapes they gave are reused). It returns None for anything it does not handle, and the general
path runs the call as before; engines whose calls always need the general path get no runner at all.

The runner has two implementations of the same steps: ``torch_tensorrt._C._EngineFastPath``
(core/runtime/engine_fast_path.cpp), which TorchTensorRTModule's eager call runs without a Python frame,
and the closure below, used without the extension, when ``USE_C_FAST_PATH`` is False, and by the C one
for calls made under a torch function or dispatch mode or JIT tracing (those see its calls as written).
Both share the shape state (``engine._fast_shapes``) and read the call stamp from the same places
(:func:`_stamp_sources`, which must list what ``TRTEngine._call_stamp`` reads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt.dynamo.runtime import _runtime_backend
from torch_tensorrt.runtime import _defaults, _modes
from torch_tensorrt.runtime._cudagraphs import NO_CAPTURE
from torch_tensorrt.runtime._modes import get_multi_device_safe_mode

if TYPE_CHECKING:
    from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

FastRunner = Callable[[Sequence[torch.Tensor]], "list[torch.Tensor] | None"]

# Internal switch: False makes plans made from now on use the Python closure even where the C runner is
# available (tests run every fast-path test on both; a C runner already made stays until its plan ends).
USE_C_FAST_PATH = True


def fast_runner(engine: TRTEngine, plan: tuple[Any, ...]) -> FastRunner | None:
    """The fast path of ``engine`` while ``plan`` is its plan, or None when its calls need the general
    path every time: CUDA-graph capture, several optimization profiles, shape-tensor inputs,
    truncate_double, per-call scratch memory, data-dependent outputs or per-layer profiling."""
    stamp, decision, context = plan
    if (
        decision.path != NO_CAPTURE
        or engine._profiles is not None
        or engine._shape_inputs
        or engine._truncate_double
        or engine._dynamic_memory
        or engine.info.requires_output_allocator
        or engine._aliased  # outputs bound to inputs (written in place): the general path binds them
        or engine.profiling_enabled
    ):
        return None
    shapes_state: list[Any] = [None, None]
    engine._fast_shapes = shapes_state
    python_runner = _python_runner(engine, plan, shapes_state)
    c_runner_type = _c_runner_type()
    if c_runner_type is None:
        return python_runner
    return c_runner_type(**_c_runner_arguments(engine, plan, shapes_state), fallback=python_runner)


def _c_runner_type() -> Any:
    """torch_tensorrt._C._EngineFastPath when the extension is loaded and USE_C_FAST_PATH, else None."""
    if not USE_C_FAST_PATH:
        return None
    # Imported here: _cpp_engine imports the Python engine, which imports this module.
    from torch_tensorrt.dynamo.runtime._cpp_engine import _extension_function

    return _extension_function("_EngineFastPath")


def _c_runner_arguments(engine: TRTEngine, plan: tuple[Any, ...], shapes_state: list[Any]) -> dict[str, Any]:
    """The objects the C runner reads on each call (engine_fast_path.cpp's kKeywords but fallback)."""
    _, _, context = plan
    cuda = engine._cuda
    return {
        "engine": engine,
        "plan": plan,
        "acquire": engine._lock.acquire,
        "release": engine._lock.release,
        **_stamp_sources(engine),
        "names": tuple(engine.info.input_names),
        "outputs": tuple(engine._outputs or ()),
        "set_shape": context.set_input_shape,
        "bind": context.bind,
        "output_shape": context.output_shape,
        "run": engine._launch if cuda else context.execute,
        "run_arg": context if cuda else None,
        "device": engine._device if cuda else None,
        "shapes_state": shapes_state,
    }


def _stamp_sources(engine: TRTEngine) -> dict[str, Any]:
    """Where TRTEngine._call_stamp's parts live, for the C runner to read them on each call as that
    method does (module globals as (globals, name): a setter replaces the value, never mutates it).
    Keep in step with _call_stamp; tests/py/runtime/test_engine_fast_path.py changes each part."""
    call_stamp_globals = type(engine)._call_stamp.__globals__  # the module _call_stamp reads
    return {
        "pinned_backend": engine._pinned_backend,
        "backend_var": _runtime_backend._ACTIVE_BACKEND,
        "default_backend": (vars(_runtime_backend), "_REAL_BACKEND"),
        "defaults": (vars(_defaults), "_defaults"),
        "features": (call_stamp_globals, "ENABLED_FEATURES"),
        "rtx_name": "tensorrt_rtx",
        "cudagraphs": (vars(_modes), "_cudagraphs_enabled"),
        "multi_device": (vars(_modes), "_multi_device_safe_mode"),
        "outer_capture_var": _modes.OUTER_CAPTURE,
        "is_capturing": torch.cuda.is_current_stream_capturing,
    }


def _python_runner(engine: TRTEngine, plan: tuple[Any, ...], shapes_state: list[Any]) -> FastRunner:
    """The fast path as a Python closure. ``shapes_state``: the input shapes last set on the context
    ([0]; None when unknown: TRTEngine._run, the general path, sets shapes itself and clears it) and
    the (name, dtype, shape) of each output they gave ([1])."""
    stamp, decision, context = plan
    names = tuple(engine.info.input_names)
    count, indices = len(names), range(len(names))
    outputs = tuple(engine._outputs or ())
    cuda = engine._cuda
    device = engine._device if cuda else None
    lock, call_stamp = engine._lock, engine._call_stamp
    set_shape, bind, output_shape = context.set_input_shape, context.bind, context.output_shape
    run = engine._launch if cuda else context.execute
    run_arg = context if cuda else None
    tensor_type, empty = torch.Tensor, torch.empty

    def run_fast(inputs: Sequence[torch.Tensor]) -> list[torch.Tensor] | None:
        if len(inputs) != count:
            return None
        lock.acquire()
        try:
            if engine._plan is not plan or call_stamp() != stamp or (cuda and get_multi_device_safe_mode()):
                return None
            accepted, known = engine._accepted, shapes_state[0]
            for i in indices:
                tensor = inputs[i]
                # Exactly torch.Tensor, dense, of a signature already checked: anything else is the
                # general path's (checks, subclasses, dense copies), which sets every shape again.
                if type(tensor) is not tensor_type or not tensor.is_contiguous():
                    return None
                shape = tensor.shape
                if (shape, tensor.dtype, tensor.device) not in accepted[i]:
                    return None
                if known is None or known[i] != shape:
                    if known is not None:
                        shapes_state[0] = known = None  # unknown until every shape is set
                    set_shape(names[i], shape)
                bind(names[i], tensor)
            if known is None:
                shapes_state[1] = [(name, dtype, output_shape(name)) for name, dtype in outputs]
                shapes_state[0] = [t.shape for t in inputs]
            results = []
            for name, dtype, shape in shapes_state[1]:
                out = empty(size=shape, dtype=dtype, device=device)
                bind(name, out)
                results.append(out)
            engine.last_capture_decision = decision
            run(run_arg)
            return results
        finally:
            lock.release()

    return run_fast
