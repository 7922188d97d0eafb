"""``run_on_reference`` and ``assert_close_to_eager``: the testing API for conversions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def _flatten(value: Any) -> list[Any]:
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    return leaves


def compile_on_reference(
    module: torch.nn.Module, inputs: Sequence[Any], *, input_specs: Sequence[Any] | None = None, **settings: Any
) -> torch.fx.GraphModule:
    """Compile with full compilation required; engines are built by the real builder."""
    import torch_tensorrt

    settings.setdefault("require_full_compilation", True)
    settings.setdefault("min_block_size", 1)
    settings.setdefault("pass_through_build_failures", True)
    specs = list(input_specs) if input_specs is not None else list(inputs)
    return torch_tensorrt.compile(module, ir="dynamo", arg_inputs=specs, **settings)


def run_on_reference(
    module: torch.nn.Module, inputs: Sequence[Any], *, input_specs: Sequence[Any] | None = None, **settings: Any
) -> list[Any]:
    """Compile ``module`` (full compilation, min_block_size=1), build every engine with the real
    TensorRT-RTX builder, evaluate the networks on the CPU reference executor for ``inputs`` and
    return the outputs flattened like the module's.

    ``input_specs`` (``torch_tensorrt.Input`` ranges) makes the engines dynamic; ``inputs`` may then
    have any shape inside the ranges.
    """
    from torch_tensorrt.testing._emulated_runtime import emulated_runtime

    with emulated_runtime(persist=False):
        compiled = compile_on_reference(module, inputs, input_specs=input_specs, **settings)
        with torch.no_grad():
            return _flatten(compiled(*inputs))


def assert_close_to_eager(
    module: torch.nn.Module,
    inputs: Sequence[Any],
    *,
    input_specs: Sequence[Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    **settings: Any,
) -> list[Any]:
    """``run_on_reference`` compared with eager PyTorch, with per-dtype default tolerances."""
    with torch.no_grad():
        expected = _flatten(module(*inputs))
    actual = run_on_reference(module, inputs, input_specs=input_specs, **settings)
    assert len(actual) == len(expected), f"{len(actual)} outputs, eager gives {len(expected)}"
    for i, (got, want) in enumerate(zip(actual, expected)):
        if not isinstance(want, torch.Tensor):
            assert got == want, f"output {i}: {got} != {want}"
            continue
        assert got.dtype == want.dtype, f"output {i}: dtype {got.dtype}, eager gives {want.dtype}"
        assert got.shape == want.shape, f"output {i}: shape {tuple(got.shape)}, eager gives {tuple(want.shape)}"
        r, a = DEFAULT_TOLERANCES.get(want.dtype, (0.0, 0.0))
        torch.testing.assert_close(
            got,
            want,
            rtol=r if rtol is None else rtol,
            atol=a if atol is None else atol,
            msg=lambda m, i=i: f"output {i}: {m}",
        )
    return actual
