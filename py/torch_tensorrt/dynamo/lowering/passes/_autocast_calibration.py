"""Peak magnitudes of every value of a graph over ``autocast_calibration_dataloader``'s batches.

The graph being lowered runs in float32 on the batches (PyTorch on CPU or wherever the weights are);
only each node's running maximum of ``|value|`` is kept, so memory does not grow with the data
(Torch-TensorRT keeps every intermediate output of every batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.fx import Graph, Node

from torch_tensorrt.dynamo.lowering.passes._autocast_rules import leaves

BATCH_FORMS = "a tensor (one model input) or a tuple/list of tensors (the model's positional inputs)"


def _peak(value: Any) -> float | None:
    peaks = [
        float(leaf.detach().abs().max())
        for leaf in leaves(value)
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point() and leaf.numel() > 0
    ]
    return max(peaks) if peaks else None


class _PeakRecorder(torch.fx.Interpreter):
    def __init__(self, module: torch.nn.Module, graph: Graph) -> None:
        super().__init__(module, garbage_collect_values=True, graph=graph)
        self.peaks: dict[Node, float] = {}

    def run_node(self, n: Node) -> Any:
        result = super().run_node(n)
        peak = _peak(result)
        if peak is not None:
            self.peaks[n] = max(self.peaks.get(n, peak), peak)
        return result


def _batch_inputs(batch: Any, index: int, expected: int) -> tuple[Any, ...]:
    if isinstance(batch, torch.Tensor):
        inputs: tuple[Any, ...] = (batch,)
    elif isinstance(batch, (tuple, list)):
        inputs = tuple(batch)
    else:
        raise TypeError(
            f"autocast_calibration_dataloader batch {index} is a {type(batch).__name__}; each batch must be {BATCH_FORMS}"
        )
    if len(inputs) != expected:
        raise ValueError(
            f"autocast_calibration_dataloader batch {index} holds {len(inputs)} inputs but the model takes "
            f"{expected}; each batch must be {BATCH_FORMS}"
        )
    return inputs


def calibration_peaks(graph: Graph, batches: Iterable[Any]) -> dict[Node, float]:
    """Each node's largest ``|value|`` over all batches (nodes without floating-point values are absent)."""
    module = graph.owning_module
    if module is None:
        raise RuntimeError("autocast calibration needs the graph's module (its weights); lowering did not attach it")
    expected = sum(1 for n in graph.nodes if n.op == "placeholder")
    recorder = _PeakRecorder(module, graph)
    count = 0
    # Lowering may run with a fake mode around: calibration needs real tensors.
    with torch.no_grad(), torch._subclasses.fake_tensor.unset_fake_temporarily():
        for count, batch in enumerate(batches, start=1):
            recorder.run(*_batch_inputs(batch, count - 1, expected))
    if count == 0:
        raise ValueError("autocast_calibration_dataloader yielded no batches; give it at least one, or pass None")
    return recorder.peaks
