"""torch.compile(model, backend="tensorrt"): graph breaks, options, recompiles."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt  # noqa: F401  (registers the backends)
from torch_tensorrt.dynamo.backend.backends import COMPILED_GRAPHS
from torch_tensorrt.testing import emulated_runtime


class _WithGraphBreak(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = torch.nn.Linear(6, 8)
        self.second = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.first(x))
        print("graph break")  # Dynamo splits the function here
        return torch.sigmoid(self.second(y)) * 2 + 1


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> None:
    torch._dynamo.reset()
    COMPILED_GRAPHS.clear()


@pytest.mark.parametrize("backend", ["tensorrt", "torch_tensorrt"])
def test_graph_break_matches_eager_one_engine_per_graph(backend: str) -> None:
    model = _WithGraphBreak().eval()
    x = torch.randn(3, 6)
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch.compile(model, backend=backend, options={"min_block_size": 1})
        out = compiled(x)
    torch.testing.assert_close(out, model(x), rtol=1e-4, atol=1e-4)
    assert len(COMPILED_GRAPHS) == 2, "Dynamo hands over two graphs around the print"
    assert [g._compile_summary.num_engines for g in COMPILED_GRAPHS] == [1, 1]


def test_options_are_compilation_settings() -> None:
    model = _WithGraphBreak().eval()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch.compile(
            model,
            backend="tensorrt",
            options={"min_block_size": 1, "torch_executed_ops": {"torch.ops.aten.sigmoid.default"}},
        )
        compiled(torch.randn(3, 6))
    assert COMPILED_GRAPHS[-1]._compile_summary.fallback_ops["torch.ops.aten.sigmoid.default"] == 1


def test_unknown_option_is_refused() -> None:
    with pytest.raises(Exception, match="min_blok_size"):
        torch.compile(_WithGraphBreak().eval(), backend="tensorrt", options={"min_blok_size": 1})(torch.randn(3, 6))


def test_new_shapes_recompile_per_dynamo_rules_and_bounded_dynamic_dims_build_ranges() -> None:
    model = _WithGraphBreak().eval()
    with emulated_runtime(persist=False), torch.no_grad():
        compiled = torch.compile(model, backend="tensorrt", options={"min_block_size": 1})
        compiled(torch.randn(3, 6))
        static_graphs = len(COMPILED_GRAPHS)
        x = torch.randn(5, 6)
        torch._dynamo.mark_dynamic(x, 0, min=1, max=16)
        out = compiled(x)
        torch.testing.assert_close(out, model(x), rtol=1e-4, atol=1e-4)
        after_dynamic = len(COMPILED_GRAPHS)
        y = torch.randn(11, 6)
        torch.testing.assert_close(compiled(y), model(y), rtol=1e-4, atol=1e-4)
    assert after_dynamic > static_graphs, "a new dynamic size triggers a recompile"
    first_dynamic = COMPILED_GRAPHS[static_graphs]
    engine = torch_tensorrt.runtime.engines_of(first_dynamic)[0]
    spec = engine.info.metadata.inputs[0]
    assert spec.min_shape[0] <= 5 <= spec.max_shape[0] and spec.max_shape[0] == 16
