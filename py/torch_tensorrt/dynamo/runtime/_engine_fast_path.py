"""The Python engine's per-call fast path (issue 17 item 9: host overhead close to the bare API calls).

Once a call has made a plan (capture decision + execution context, ``TRTEngine._make_plan``), later calls
that change nothing the plan depends on run through :func:`fast_runner`'s closure: it checks exactly what
``TRTEngine.execute`` checks, with the plan's objects bound to locals, and makes the API calls only where
they are needed (a context keeps its input shapes, so unchanged shapes are not set again and the output
shapes they gave are reused). It returns None for anything it does not handle, and the general path
runs the call as before; engines whose calls always need the general path get no closure at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from torch_tensorrt.runtime._cudagraphs import NO_CAPTURE
from torch_tensorrt.runtime._modes import get_multi_device_safe_mode

if TYPE_CHECKING:
    from torch_tensorrt.dynamo.runtime._TRTEngine import TRTEngine

FastRunner = Callable[[Sequence[torch.Tensor]], "list[torch.Tensor] | None"]


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
    # The input shapes last set on this context and the output shapes they gave; [0] is None when
    # unknown (TRTEngine._run, the general path, sets shapes itself and clears it).
    shapes_state: list[Any] = [None, None]

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

    engine._fast_shapes = shapes_state
    return run_fast
