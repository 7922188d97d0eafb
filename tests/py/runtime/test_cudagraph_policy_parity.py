"""One CUDA-graph rule set for both runtimes (DESIGN.md section 4).

The C++ runtime decides with ``CudaGraphPolicy`` (core/runtime/CudaGraphPolicy.cpp), reachable as
``torch.ops.tensorrt._decide_capture``; the Python runtime with
``torch_tensorrt.runtime._cudagraphs.decide_capture``. Every combination of their inputs must give
the same path and the same reason, so a rule changed on one side only is a failing test here.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime._cudagraphs import (
    NO_CAPTURE,
    NOT_CAPTURABLE,
    OUTER_WHOLE_GRAPH_CAPTURE,
    RTX_NATIVE_CAPTURE,
    TORCH_SUBGRAPH_CAPTURE,
    decide_capture,
)
from torch_tensorrt.runtime._settings import CUDA_GRAPH_STRATEGIES, DYNAMIC_SHAPES_KERNEL_STRATEGIES

if not torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime:
    pytest.skip(
        "the C++ runtime torch_tensorrt._C is not built (pip install --no-build-isolation -e . builds it)",
        allow_module_level=True,
    )

# decide_capture's boolean inputs, in the op's argument order (the strategies go between is_rtx and
# dynamic_inputs).
FLAGS = ("cudagraphs_mode", "outer_capture", "is_rtx", "dynamic_inputs", "stream_capturable", "data_dependent_outputs")


def every_input() -> list[dict[str, Any]]:
    cases = []
    for bits in itertools.product((False, True), repeat=len(FLAGS)):
        for graph_strategy in CUDA_GRAPH_STRATEGIES:
            for kernel_strategy in DYNAMIC_SHAPES_KERNEL_STRATEGIES:
                case: dict[str, Any] = dict(zip(FLAGS, bits))
                case.update(cuda_graph_strategy=graph_strategy, kernel_strategy=kernel_strategy)
                cases.append(case)
    return cases


def cpp_decide(case: dict[str, Any]) -> tuple[str, str]:
    path, reason = torch.ops.tensorrt._decide_capture(
        case["cudagraphs_mode"],
        case["outer_capture"],
        case["is_rtx"],
        case["cuda_graph_strategy"],
        case["kernel_strategy"],
        case["dynamic_inputs"],
        case["stream_capturable"],
        case["data_dependent_outputs"],
    )
    return path, reason


def test_both_runtimes_decide_alike_on_every_input() -> None:
    cases = every_input()
    assert len(cases) == 2 ** len(FLAGS) * len(CUDA_GRAPH_STRATEGIES) * len(DYNAMIC_SHAPES_KERNEL_STRATEGIES)
    differences = []
    for case in cases:
        py = decide_capture(**case)
        cpp = cpp_decide(case)
        if (py.path, py.reason) != cpp:
            differences.append(f"{case}: Python {(py.path, py.reason)}, C++ {cpp}")
    assert not differences, f"{len(differences)} of {len(cases)} inputs differ, e.g.\n" + "\n".join(differences[:5])


def test_the_enumeration_reaches_every_path() -> None:
    # A table that never reaches a path would not notice that path drifting.
    paths = {cpp_decide(case)[0] for case in every_input()}
    assert paths == {NO_CAPTURE, TORCH_SUBGRAPH_CAPTURE, RTX_NATIVE_CAPTURE, OUTER_WHOLE_GRAPH_CAPTURE, NOT_CAPTURABLE}


def test_subgraph_mode_on_tensorrt_rtx_is_native_capture_in_cpp() -> None:
    # The drift this test was written for: C++ used to do a torch capture here.
    case = dict.fromkeys(FLAGS, False) | {
        "cudagraphs_mode": True,
        "is_rtx": True,
        "stream_capturable": True,
        "cuda_graph_strategy": "disabled",
        "kernel_strategy": "lazy",
    }
    assert cpp_decide(case) == (RTX_NATIVE_CAPTURE, "TensorRT-RTX captures the engine natively")


@pytest.mark.parametrize(
    ("graph_strategy", "kernel_strategy", "message"),
    [
        ("whole_graph", "lazy", "unknown cuda_graph_strategy 'whole_graph'"),
        ("disabled", "Eager", "unknown dynamic_shapes_kernel_specialization_strategy 'Eager'"),
    ],
)
def test_unknown_strategy_names_are_refused(graph_strategy: str, kernel_strategy: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        torch.ops.tensorrt._decide_capture(False, False, True, graph_strategy, kernel_strategy, False, True, False)
