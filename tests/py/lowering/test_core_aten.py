"""Lowering without a retrace: the in-place rewrites must give what run_decompositions gives.

Each supported case is lowered both ways; the op multisets must be equal and the outputs identical
(the same ATen ops on the same inputs). Unsupported cases must be refused (None), and the normal
lowering must then still match eager.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable

import pytest
import torch
import torchvision

import torch_tensorrt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._tracer import as_inputs, trace
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.lowering._core_aten import lower_to_core_aten
from torch_tensorrt.dynamo.lowering._lower import decompose_by_retrace

F = torch.nn.functional


class _Lambda(torch.nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor], **children: torch.nn.Module) -> None:
        super().__init__()
        self.fn = fn
        for name, child in children.items():
            self.add_module(name, child)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(self, *xs)


def _program(
    module: torch.nn.Module, shapes: list[tuple[int, ...]], dynamic_batch: bool
) -> torch.export.ExportedProgram:
    specs = []
    for shape in shapes:
        if dynamic_batch:
            specs.append(torch_tensorrt.Input(min_shape=(1, *shape[1:]), opt_shape=shape, max_shape=(8, *shape[1:])))
        else:
            specs.append(torch_tensorrt.Input(shape=shape))
    return trace(module, as_inputs(specs))


def _ops(module: torch.fx.GraphModule) -> Counter[str]:
    return Counter(str(n.target) for n in module.graph.nodes if n.op == "call_function")


def _describe(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return (tuple(str(d) for d in value.shape), value.dtype)
    if isinstance(value, (list, tuple)):
        return tuple(_describe(v) for v in value)
    return str(value)


def _values(module: torch.fx.GraphModule) -> Counter[tuple[str, object]]:
    """Each op with the shapes and dtypes of its fake value: what the converters read."""
    return Counter((str(n.target), _describe(n.meta.get("val"))) for n in module.graph.nodes if n.op == "call_function")


SUPPORTED: dict[str, tuple[torch.nn.Module, list[tuple[int, ...]]]] = {
    "conv1d": (_Lambda(lambda m, x: m.c(x), c=torch.nn.Conv1d(3, 4, 3, stride=2, padding=1)), [(2, 3, 9)]),
    "conv2d_groups_dilation": (
        _Lambda(lambda m, x: m.c(x), c=torch.nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False)),
        [(2, 4, 8, 8)],
    ),
    "conv3d": (_Lambda(lambda m, x: m.c(x), c=torch.nn.Conv3d(2, 3, (1, 2, 3))), [(2, 2, 4, 5, 6)]),
    "batch_norm": (_Lambda(lambda m, x: m.bn(x), bn=torch.nn.BatchNorm2d(3)), [(2, 3, 4, 4)]),
    "batch_norm_1d": (_Lambda(lambda m, x: m.bn(x), bn=torch.nn.BatchNorm1d(3)), [(2, 3, 5)]),
    "max_pool2d": (_Lambda(lambda m, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)), [(2, 3, 9, 9)]),
    "max_pool3d": (_Lambda(lambda m, x: F.max_pool3d(x, 2)), [(2, 3, 4, 4, 4)]),
    "dropout": (_Lambda(lambda m, x: F.dropout(x * 2, 0.3, training=False) + 1), [(2, 5)]),
    "dropout_inplace": (_Lambda(lambda m, x: F.dropout(x * 2, 0.3, training=False, inplace=True) + 1), [(2, 5)]),
    "flatten": (_Lambda(lambda m, x: torch.flatten(x * 2, 1)), [(2, 3, 4)]),
    "relu_add_chain": (_Lambda(lambda m, x, y: torch.relu_((x * 2).add_(y)).mul_(3) - x), [(2, 4), (2, 4)]),
    "hardtanh_silu_inplace": (
        _Lambda(lambda m, x: F.silu(F.hardtanh(x + 1, inplace=True), inplace=True)),
        [(2, 3, 4)],
    ),
    "later_reads_see_the_update": (_Lambda(lambda m, x: _update_then_read(x)), [(2, 3)]),
    "transpose_contiguous_reshape": (
        _Lambda(lambda m, x: (x * 2).transpose(1, -1).contiguous().reshape(x.shape[0], -1) + 1),
        [(2, 3, 4)],
    ),
    "reshape_copies_when_no_view_fits": (
        _Lambda(lambda m, x: (x * 2).transpose(1, 2).reshape(x.shape[0], -1)),
        [(2, 3, 4)],
    ),
    "reshape_views_strided_input": (
        _Lambda(lambda m, x: (x * 2).transpose(1, 2).reshape(x.shape[0], 2, 2, 3) + 1),
        [(2, 3, 4)],
    ),
    "contiguous_of_contiguous": (_Lambda(lambda m, x: (x * 2).contiguous() + 1), [(2, 3)]),
    "unflatten_squeeze": (_Lambda(lambda m, x: (x * 2).unflatten(2, (2, 3))[:, :1].squeeze(1)), [(2, 3, 6)]),
    "to_dtype_and_back": (_Lambda(lambda m, x: x.to(torch.float16).to(torch.float32).to(x.dtype) * 2), [(2, 3)]),
    "arange_new_ones_new_zeros": (
        _Lambda(lambda m, x: x + torch.arange(x.shape[1]) + x.new_ones(x.shape) * 2 + x.new_zeros(x.shape)),
        [(2, 5)],
    ),
    "and_or": (_Lambda(lambda m, x: ((x > 0) & (x < 1)) | (x < -1)), [(2, 5)]),
    "split_chunk": (
        _Lambda(lambda m, x: sum(p.sum(dim=2) for p in (*x.split(3, dim=2), *x.chunk(3, dim=2)))),
        [(2, 3, 8)],
    ),
    "diff": (_Lambda(lambda m, x: torch.diff(x, dim=-1)), [(2, 6)]),
    "diff_bool_prepend": (_Lambda(lambda m, x: torch.diff(x > 0, dim=1, prepend=x[:, :1] > 0)), [(2, 6)]),
    "cnn_block": (
        _Lambda(
            lambda m, x: torch.flatten(F.max_pool2d(torch.relu_(m.bn(m.c(x)).add_(1)), 2), 1),
            c=torch.nn.Conv2d(3, 4, 3, padding=1),
            bn=torch.nn.BatchNorm2d(4),
        ),
        [(2, 3, 6, 6)],
    ),
}


def _update_then_read(x: torch.Tensor) -> torch.Tensor:
    y = x * 2
    before = y.sum(dim=1)  # read before the in-place update: sees the old values
    y.add_(5)
    return before + y.sum(dim=1)  # read after: sees the new values


def _calibrated(module: torch.nn.Module) -> torch.nn.Module:
    for child in module.modules():
        if isinstance(child, torch.nn.modules.batchnorm._BatchNorm):
            child.running_mean.uniform_(-0.5, 0.5)
            child.running_var.uniform_(0.5, 2.0)
    return module.eval()


@pytest.mark.parametrize("dynamic_batch", [False, True], ids=["static", "dynamic_batch"])
@pytest.mark.parametrize("name", list(SUPPORTED))
def test_rewrites_match_the_retrace(name: str, dynamic_batch: bool) -> None:
    torch.manual_seed(0)
    module, shapes = SUPPORTED[name]
    module = _calibrated(module)
    program = _program(module, shapes, dynamic_batch)
    direct = lower_to_core_aten(program)
    assert direct is not None, f"{name} should not need the retrace"
    retraced = decompose_by_retrace(program)
    assert _ops(direct) == _ops(retraced)
    # Rewritten nodes reuse the values they replace instead of running on fake tensors.
    assert _values(direct) == _values(retraced)
    inputs = [torch.randn(3 if dynamic_batch else s[0], *s[1:]) for s in shapes]
    with torch.no_grad():
        expected = module(*[x.clone() for x in inputs])
        got = direct(*[x.clone() for x in inputs])
        torch.testing.assert_close(got, retraced(*[x.clone() for x in inputs]), rtol=0, atol=0)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


DYNAMIC_LAST_DIM: dict[str, Callable[..., torch.Tensor]] = {
    "diff": lambda m, x: torch.diff(x, dim=-1) * 2,
    "diff_of_bools": lambda m, x: torch.diff(x > 0, dim=1),
    "diff_with_prepend": lambda m, x: torch.diff(x, dim=1, prepend=x[:, :1]),
}


@pytest.mark.parametrize("name", list(DYNAMIC_LAST_DIM))
def test_rewrites_along_a_dynamic_dim_match_the_retrace(name: str) -> None:
    """GPT-2's attention masks take torch.diff along the (dynamic) sequence dim."""
    module = _Lambda(DYNAMIC_LAST_DIM[name])
    program = trace(module, as_inputs([torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 6), max_shape=(4, 16))]))
    direct = lower_to_core_aten(program)
    assert direct is not None, f"{name} should not need the retrace"
    retraced = decompose_by_retrace(program)
    assert _ops(direct) == _ops(retraced)
    assert _values(direct) == _values(retraced)
    for shape in [(1, 3), (3, 11)]:
        x = torch.randn(shape)
        torch.testing.assert_close(direct(x), retraced(x), rtol=0, atol=0)
        torch.testing.assert_close(direct(x), module(x), rtol=0, atol=0)


def _write_input(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    x.add_(1)
    return x * 2


def _write_view(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    y = x * 2
    y[0].mul_(10)
    return y + 1


def _write_promotes(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    h = x.half() * 1
    h.add_(x)  # stays fp16 in place; the functional add would give fp32
    return h


def _write_buffer(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    m.state.add_(1)
    return x + m.state


class _WithBuffer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("state", torch.zeros(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _write_buffer(self, x)


REFUSED: dict[str, tuple[torch.nn.Module, list[tuple[int, ...]]]] = {
    "writes_an_input": (_Lambda(_write_input), [(2, 3)]),
    "writes_a_view": (_Lambda(_write_view), [(2, 3)]),
    "in_place_promotion": (_Lambda(_write_promotes), [(2, 3)]),
    "writes_a_buffer": (_WithBuffer(), [(2, 3)]),
    "unbatched_conv": (_Lambda(lambda m, x: m.c(x[0]), c=torch.nn.Conv2d(3, 4, 3)), [(2, 3, 6, 6)]),
    "flatten_merges_dynamic_dims": (_Lambda(lambda m, x: torch.flatten(x * 2)), [(2, 3)]),
    "no_rewrite_for_op": (_Lambda(lambda m, x: x.narrow(1, 0, 2) * 2), [(2, 3)]),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_unsupported_graphs_take_the_retrace_and_stay_correct(name: str) -> None:
    torch.manual_seed(0)
    module, shapes = REFUSED[name]
    program = _program(module.eval(), shapes, dynamic_batch=name == "flatten_merges_dynamic_dims")
    assert lower_to_core_aten(program) is None
    lowered = lower_exported_program(program, CompilationSettings())
    inputs = [torch.randn(s) for s in shapes]
    with torch.no_grad():
        # A copy: stateful cases update their buffer, which the lowered module shares.
        expected = copy.deepcopy(module)(*[x.clone() for x in inputs])
        got = lowered(*[x.clone() for x in inputs])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_training_mode_batch_norm_takes_the_retrace() -> None:
    module = _Lambda(lambda m, x: m.bn(x), bn=torch.nn.BatchNorm2d(3)).train()
    assert lower_to_core_aten(_program(module, [(2, 3, 4, 4)], dynamic_batch=False)) is None


@pytest.mark.parametrize("dynamic_batch", [False, True], ids=["static", "dynamic_batch"])
def test_resnet18_lowers_without_retrace(dynamic_batch: bool) -> None:
    torch.manual_seed(0)
    model = _calibrated(torchvision.models.resnet18(weights=None))
    program = _program(model, [(2, 3, 64, 64)], dynamic_batch)
    direct = lower_to_core_aten(program)
    assert direct is not None
    retraced = decompose_by_retrace(program)
    assert _ops(direct) == _ops(retraced)
    assert _values(direct) == _values(retraced)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(direct(x), retraced(x), rtol=0, atol=0)


def test_gpt2_with_dynamic_batch_and_sequence_lowers_without_retrace() -> None:
    """Its masks difference position ids along the dynamic sequence (the retrace took 9 s on GPT-2 small)."""
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=2, n_positions=32, use_cache=False)
    model = _Lambda(lambda m, ids: m.lm(input_ids=ids).logits, lm=transformers.GPT2LMHeadModel(config)).eval()
    spec = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 8), max_shape=(4, 32), dtype=torch.int64)
    program = trace(model, as_inputs([spec]))
    assert any(n.target is torch.ops.aten.diff.default for n in program.graph.nodes)
    direct = lower_to_core_aten(program)
    assert direct is not None
    retraced = decompose_by_retrace(program)
    assert _ops(direct) == _ops(retraced)
    assert _values(direct) == _values(retraced)
    with torch.no_grad():
        for batch, seq in [(1, 4), (3, 17), (4, 32)]:
            ids = torch.randint(0, 64, (batch, seq))
            torch.testing.assert_close(direct(ids), retraced(ids), rtol=0, atol=0)
            torch.testing.assert_close(direct(ids), model(ids), rtol=1e-5, atol=1e-5)


def _conv_relu() -> tuple[torch.nn.Module, torch.export.ExportedProgram]:
    module = _Lambda(lambda m, x: F.relu(m.conv(x)), conv=torch.nn.Conv2d(3, 4, 3)).eval()
    return module, _program(module, [(1, 3, 8, 8)], dynamic_batch=False)


def test_a_failing_rewrite_is_reported_and_the_program_retraced(monkeypatch, caplog) -> None:
    from torch_tensorrt.dynamo.lowering import _core_aten

    def broken(rewriter: object, node: torch.fx.Node) -> torch.fx.Node:
        raise IndexError("rewrite bug")

    monkeypatch.setitem(_core_aten.REWRITES, torch.ops.aten.conv2d.default, broken)
    module, program = _conv_relu()
    assert lower_to_core_aten(program) is None
    assert "lowering rewrites failed (IndexError: rewrite bug)" in caplog.text
    lowered = lower_exported_program(program, CompilationSettings())
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(lowered(x), module(x), rtol=1e-5, atol=1e-5)


def test_a_failing_lowering_pass_is_not_mistaken_for_a_rewrite_bug(monkeypatch) -> None:
    from torch_tensorrt.dynamo.lowering import _lower

    def broken_pass(graph: torch.fx.Graph, settings: object) -> None:
        raise RuntimeError("pass bug")

    monkeypatch.setattr(_lower, "LOWERING_PASSES", [broken_pass])
    _, program = _conv_relu()
    with pytest.raises(RuntimeError, match="pass bug"):
        lower_exported_program(program, CompilationSettings())


@pytest.mark.parametrize("retrace", [False, True], ids=["rewritten", "retraced"])
def test_lowered_code_is_generated_after_the_passes(retrace: bool) -> None:
    # aten.alias is removed by a lowering pass: code generated before the passes would still call it.
    module = _Lambda(lambda m, x: torch.ops.aten.alias(F.relu(m.conv(x))) + 1, conv=torch.nn.Conv2d(3, 4, 3)).eval()
    program = _program(module, [(1, 3, 8, 8)], dynamic_batch=False)
    assert any(n.target is torch.ops.aten.alias.default for n in program.graph.nodes)
    if retrace:
        lowered = decompose_by_retrace(program, _lower_passes)
    else:
        lowered = lower_exported_program(program, CompilationSettings())
    assert "alias" not in lowered.code
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(lowered(x), module(x), rtol=1e-5, atol=1e-5)


def _lower_passes(graph: torch.fx.Graph) -> None:
    from torch_tensorrt.dynamo.lowering import LOWERING_PASSES

    for graph_pass in LOWERING_PASSES:
        graph_pass(graph, CompilationSettings())
