"""Which CUDA-graph capture path an engine takes: one decision function, recorded per engine.

Never two captures of the same work: an outer whole-graph capture turns native capture off inside
the engines; on TensorRT-RTX, subgraph mode uses the engine's native capture instead of a torch one.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_CAPTURE = "no_capture"
TORCH_SUBGRAPH_CAPTURE = "torch_subgraph_capture"
RTX_NATIVE_CAPTURE = "rtx_native_capture"
OUTER_WHOLE_GRAPH_CAPTURE = "outer_whole_graph_capture"
NOT_CAPTURABLE = "not_capturable"


@dataclass(frozen=True)
class CaptureDecision:
    path: str
    reason: str = ""

    @property
    def native_strategy(self) -> str:
        """The cuda_graph_strategy the execution context must be created with."""
        return "whole_graph_capture" if self.path == RTX_NATIVE_CAPTURE else "disabled"


_LAZY_DYNAMIC_REASON = (
    "dynamic_shapes_kernel_specialization_strategy='lazy' with dynamic inputs: TensorRT-RTX compiles "
    "shape-specialized kernels in the background during the first runs of each new shape and swaps them "
    "in later, which a recorded graph cannot follow; use dynamic_shapes_kernel_specialization_strategy="
    "'eager' or 'none'"
)

_DATA_DEPENDENT_REASON = "the engine has data-dependent output shapes (it needs an output allocator)"

# A capture was wanted but the execution context cannot be captured on the engine's stream: the call
# runs uncaptured (on both runtimes), with this decision recorded.
STREAM_NOT_CAPTURABLE = CaptureDecision(NOT_CAPTURABLE, "the stream the engine runs on cannot be captured")


def decide_capture(
    *,
    cudagraphs_mode: bool,
    outer_capture: bool,
    is_rtx: bool,
    cuda_graph_strategy: str,
    kernel_strategy: str,
    dynamic_inputs: bool,
    stream_capturable: bool = True,
    data_dependent_outputs: bool = False,
) -> CaptureDecision:
    """The capture path of one engine run; ``cuda_graph_strategy`` and ``kernel_strategy`` are the
    settings as they apply on the backend in use (defaults on standard TensorRT)."""
    # Lazy kernels only break a graph recorded outside the engine (see the RTX branch below).
    lazy_dynamic = is_rtx and dynamic_inputs and kernel_strategy == "lazy"
    if outer_capture:
        # Someone else records this run (whole-graph mode or a user's own capture): the engine must
        # neither capture natively nor start a torch capture, but lazy kernels break that graph too.
        if lazy_dynamic:
            return CaptureDecision(NOT_CAPTURABLE, _LAZY_DYNAMIC_REASON)
        if data_dependent_outputs:
            return CaptureDecision(NOT_CAPTURABLE, _DATA_DEPENDENT_REASON)
        return CaptureDecision(OUTER_WHOLE_GRAPH_CAPTURE, "an outer whole-graph capture records this engine")
    wants_capture = cudagraphs_mode or (is_rtx and cuda_graph_strategy == "whole_graph_capture")
    if not wants_capture:
        return CaptureDecision(NO_CAPTURE)
    if not stream_capturable:
        return STREAM_NOT_CAPTURABLE
    if is_rtx:
        # TensorRT-RTX decides itself which parts of a data-dependent engine it can capture, and its
        # own capture follows the kernels it swaps in under the lazy strategy (as in Torch-TensorRT,
        # which switches to native capture for exactly that reason); only a graph recorded outside
        # the engine cannot.
        return CaptureDecision(RTX_NATIVE_CAPTURE, "TensorRT-RTX captures the engine natively")
    if data_dependent_outputs:
        # Same as the C++ runtime: a graph cannot replay outputs whose size it only learns while
        # running, so the engine runs uncaptured in subgraph mode instead of failing.
        return CaptureDecision(NO_CAPTURE, _DATA_DEPENDENT_REASON)
    return CaptureDecision(TORCH_SUBGRAPH_CAPTURE, "torch CUDA graph around the engine")
