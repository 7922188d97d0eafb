"""dtype conversions (aten._to_copy) through the real builder and the reference executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import assert_close_to_eager, run_on_reference

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
I8, U8, I32, I64, BOOL = torch.int8, torch.uint8, torch.int32, torch.int64, torch.bool


class _Fn1(nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, a: Any) -> Any:
        return self.fn(a)


class _Fn2(_Fn1):
    def forward(self, a: Any, b: Any) -> Any:  # type: ignore[override]
        return self.fn(a, b)


def check(fn: Callable[..., Any], *inputs: torch.Tensor, **kwargs: Any) -> None:
    module = (_Fn1 if len(inputs) == 1 else _Fn2)(fn)
    assert_close_to_eager(module, list(inputs), **kwargs)


def source(dtype: torch.dtype, shape: tuple[int, ...] = (2, 3, 4)) -> torch.Tensor:
    """Values with fractions, negatives and zeros (float → int truncates toward zero)."""
    if dtype == BOOL:
        return torch.rand(shape) > 0.5
    if dtype == U8:
        return torch.randint(0, 256, shape, dtype=U8)
    if dtype == I8:
        return torch.randint(-128, 128, shape, dtype=I8)
    x = torch.randn(shape) * 40 * (torch.rand(shape) > 0.2)
    return x.to(dtype)


PAIRS = [
    (F32, F16),
    (F32, BF16),
    (F16, F32),
    (BF16, F32),
    (F16, BF16),
    (F32, I32),
    (F16, I64),
    (BF16, I32),
    (I64, F32),
    (I32, F16),
    (I64, I32),
    (I32, I64),
    (BOOL, F32),
    (BOOL, I64),
    (F32, BOOL),
    (I32, BOOL),
    (U8, F32),
    (I8, F16),
    (U8, I32),
]


@pytest.mark.parametrize("src, dst", PAIRS, ids=[f"{a}->{b}".replace("torch.", "") for a, b in PAIRS])
def test_to_copy_dtype(src: torch.dtype, dst: torch.dtype) -> None:
    torch.manual_seed(0)
    check(lambda a: a.to(dst), source(src))


FORMS: list[tuple[str, Callable[..., Any]]] = [
    ("float", lambda a, b: a.float() + b.half()),
    ("long", lambda a, b: a.long() * 2),
    ("type_as", lambda a, b: a.type_as(b) + 1),
    ("to_other", lambda a, b: a.to(b) - b),
    ("to_kwargs", lambda a, b: a.to(dtype=torch.int32, copy=True)),
    ("to_device_same", lambda a, b: a.to("cpu", torch.float16)),
    ("contiguous_format", lambda a, b: a.to(torch.bfloat16, memory_format=torch.contiguous_format)),
    # channels_last inside the graph only changes strides of an intermediate value.
    ("channels_last_inner", lambda a, b: a.to(torch.float16, memory_format=torch.channels_last) * 2),
]


@pytest.mark.parametrize("case", FORMS, ids=[f[0] for f in FORMS])
def test_to_copy_forms(case: tuple) -> None:
    _, fn = case
    torch.manual_seed(0)
    check(fn, source(F32, (1, 2, 3, 2)), source(I64, (1, 2, 3, 2)))


def test_dynamic_shapes() -> None:
    spec = torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(4, 3), max_shape=(4, 3), dtype=F32)
    torch.manual_seed(0)
    for shape in ((1, 3), (4, 3)):
        check(lambda a: (a.to(I32), a.half(), a.bool()), source(F32, shape), input_specs=[spec])


def _refused(fn: Callable[..., Any], x: torch.Tensor, **settings: Any) -> None:
    with pytest.raises(UnsupportedOperatorError, match="_to_copy"):
        check(fn, x, **settings)
    check(fn, x, require_full_compilation=False, **settings)


def test_float64_needs_truncate_double() -> None:
    x = source(F32)
    _refused(lambda a: a.double(), x)
    # With truncate_double, float64 means float32 inside the engine.
    out = run_on_reference(_Fn1(lambda a: a.double() / 3), [x], truncate_double=True)
    torch.testing.assert_close(out[0].double(), x.double() / 3)


@pytest.mark.parametrize("dst", [I8, U8], ids=str)
def test_narrow_int_result_falls_back(dst: torch.dtype) -> None:
    # torch wraps out-of-range values around; a TensorRT cast does not promise that.
    _refused(lambda a: a.to(dst), source(F32))


def test_channels_last_output_falls_back() -> None:
    # The caller can see the strides of a graph output, which an engine output cannot reproduce.
    _refused(lambda a: a.to(torch.float16, memory_format=torch.channels_last), source(F32, (1, 2, 3, 2)))


def _to_copy_node(src: torch.Tensor, out: torch.Tensor, **kwargs: Any) -> torch.fx.Node:
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    x.meta["val"] = src
    node = graph.call_function(torch.ops.aten._to_copy.default, (x,), kwargs)
    node.meta["val"] = out
    graph.output(node)
    return node


@pytest.mark.parametrize(
    "kwargs, ok",
    [
        ({"dtype": F16}, True),
        ({"dtype": F16, "device": torch.device("cpu")}, True),
        ({"dtype": F16, "device": torch.device("cuda")}, False),
        ({"dtype": F16, "layout": torch.sparse_coo}, False),
        ({"dtype": F16, "pin_memory": True}, False),
        ({"dtype": torch.complex64}, False),
    ],
    ids=["plain", "same_device", "other_device", "sparse", "pinned", "complex"],
)
def test_to_copy_validator(kwargs: dict, ok: bool) -> None:
    # Device, layout and memory changes cannot be traced on this CPU-only machine; the validator
    # is checked on hand-built nodes instead.
    out_dtype = kwargs["dtype"]
    node = _to_copy_node(torch.empty(2, 3), torch.empty(2, 3, dtype=out_dtype), **kwargs)
    entry, _ = DYNAMO_CONVERTERS.find(node, CompilationSettings())
    assert (entry is not None) == ok
