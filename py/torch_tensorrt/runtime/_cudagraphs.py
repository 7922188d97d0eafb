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


def decide_capture(
    *,
    cudagraphs_mode: bool,
    outer_capture: bool,
    is_rtx: bool,
    cuda_graph_strategy: str,
    kernel_strategy: str,
    dynamic_inputs: bool,
    stream_capturable: bool = True,
) -> CaptureDecision:
    if outer_capture:
        return CaptureDecision(OUTER_WHOLE_GRAPH_CAPTURE, "an outer whole-graph capture records this engine")
    wants_capture = cudagraphs_mode or (is_rtx and cuda_graph_strategy == "whole_graph_capture")
    if not wants_capture:
        return CaptureDecision(NO_CAPTURE)
    if not stream_capturable:
        return CaptureDecision(NOT_CAPTURABLE, "the current stream cannot be captured (use a non-default stream)")
    if is_rtx and dynamic_inputs and kernel_strategy == "lazy":
        return CaptureDecision(
            NOT_CAPTURABLE,
            "lazy kernel specialization compiles kernels during the first runs of each new shape, which a "
            "graph capture cannot contain; use dynamic_shapes_kernel_specialization_strategy='eager' or 'none'",
        )
    if is_rtx:
        return CaptureDecision(RTX_NATIVE_CAPTURE, "TensorRT-RTX captures the engine natively")
    return CaptureDecision(TORCH_SUBGRAPH_CAPTURE, "torch CUDA graph around the engine")
