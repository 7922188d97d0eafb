"""Random ops (rand, randn, randint, randperm, *_like, normal, uniform, bernoulli, exponential, training
dropout) on TensorRT fill layers: values cannot match eager, so each case checks the dtype and shape
eager gives, the range, and the distribution (Kolmogorov-Smirnov distance, moments, frequencies) of
samples the reference executor draws from the fill layers' documented distributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from _shape_testing import FLOATS, dyn, fn_module, randn

from torch_tensorrt.dynamo.partitioning import UnsupportedOperatorError
from torch_tensorrt.testing import compile_on_reference, emulated_runtime

aten = torch.ops.aten
Cdf = Callable[[torch.Tensor], torch.Tensor]


def _samples(
    fn: Callable[..., Any], inputs: Sequence[torch.Tensor], specs: Sequence[Any] | None = None, runs: int = 1
) -> list[torch.Tensor]:
    """Compile ``fn`` fully (one engine set) and run it ``runs`` times; checks dtype/shape against eager."""
    torch.manual_seed(0)
    module = fn_module(fn, len(inputs))
    with torch.no_grad():
        want = module(*inputs)
    with emulated_runtime(persist=False):
        compiled = compile_on_reference(module, list(inputs), input_specs=specs)
        with torch.no_grad():
            outs = [compiled(*inputs) for _ in range(runs)]
    for out in outs:
        assert out.dtype == want.dtype, f"dtype {out.dtype}, eager gives {want.dtype}"
        assert out.shape == want.shape, f"shape {tuple(out.shape)}, eager gives {tuple(want.shape)}"
    return outs


def ks_distance(samples: torch.Tensor, cdf: Cdf) -> float:
    """Kolmogorov-Smirnov distance between the samples' empirical distribution and ``cdf``."""
    x = samples.double().reshape(-1).sort().values
    n = x.numel()
    f = cdf(x)
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    below = f - torch.arange(0, n, dtype=torch.float64) / n
    return float(torch.maximum(above, below).max())


def assert_distributed(samples: torch.Tensor, cdf: Cdf) -> None:
    # 1.95 / sqrt(n): a right distribution is rejected with probability 1e-3 (seeded, so never flaky).
    # fp16/bf16 rounding moves the empirical CDF by at most a few 2^-9: far below the bound for n <= 10^4.
    bound = 1.95 / math.sqrt(samples.numel())
    distance = ks_distance(samples, cdf)
    assert distance < bound, f"KS distance {distance:.4f} over {samples.numel()} samples exceeds {bound:.4f}"


def uniform_cdf(low: float, high: float) -> Cdf:
    return lambda x: ((x - low) / (high - low)).clamp(0, 1)


def normal_cdf(mean: float, std: float) -> Cdf:
    return lambda x: torch.special.ndtr((x - mean) / std)


def exponential_cdf(rate: float) -> Cdf:
    return lambda x: 1 - torch.exp(-rate * x.clamp(min=0))


# ---------------------------------------------------------------------------------------------
# Continuous distributions: range and KS distance
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Continuous:
    name: str
    fn: Callable[..., Any]
    cdf: Cdf
    low: float = -math.inf  # samples lie in [low, high)
    high: float = math.inf


def _continuous_cases(dtype: torch.dtype) -> list[Continuous]:
    d = dtype
    return [
        Continuous("rand", lambda x: torch.rand(64, 64, dtype=d), uniform_cdf(0, 1), 0.0, 1.0),
        Continuous("rand_like", lambda x: torch.rand_like(x), uniform_cdf(0, 1), 0.0, 1.0),
        Continuous("rand_plus_input", lambda x: torch.rand(64, 64, dtype=d) + x * 0, uniform_cdf(0, 1), 0.0, 1.0),
        Continuous("randn", lambda x: torch.randn(4, 32, 32, dtype=d), normal_cdf(0, 1)),
        Continuous("randn_like", lambda x: torch.randn_like(x), normal_cdf(0, 1)),
        Continuous("normal_float_float", lambda x: torch.normal(2.0, 3.0, (64, 64), dtype=d), normal_cdf(2, 3)),
        Continuous("normal_tensor_float", lambda x: torch.normal(torch.full_like(x, -1.0), 0.5), normal_cdf(-1, 0.5)),
        Continuous("normal_float_tensor", lambda x: torch.normal(1.0, torch.full_like(x, 2.0)), normal_cdf(1, 2)),
        Continuous("normal_tensor_tensor", lambda x: torch.normal(x * 0 + 3, x * 0 + 0.25), normal_cdf(3, 0.25)),
        Continuous("normal_", lambda x: (x * 0).normal_(-2.0, 4.0), normal_cdf(-2, 4)),
        Continuous("uniform_", lambda x: (x * 0).uniform_(-3.0, 5.0), uniform_cdf(-3, 5), -3.0, 5.0),
        Continuous("exponential_", lambda x: (x * 0).exponential_(2.5), exponential_cdf(2.5), 0.0),
    ]


_CONTINUOUS = [(c, d) for d in FLOATS for c in _continuous_cases(d)]


@pytest.mark.parametrize(("case", "dtype"), _CONTINUOUS, ids=[f"{c.name}-{str(d)[6:]}" for c, d in _CONTINUOUS])
def test_continuous_distribution(case: Continuous, dtype: torch.dtype) -> None:
    (out,) = _samples(case.fn, [randn(64, 64, dtype=dtype)])
    assert out.dtype == dtype
    assert float(out.min()) >= case.low and float(out.max()) < case.high
    assert_distributed(out, case.cdf)


def test_rand_scalar() -> None:
    # The builder cannot make a 0-D fill: one element is drawn and reshaped.
    outs = _samples(lambda x: torch.rand(()) + x.sum() * 0, [randn(3)], runs=400)
    values = torch.stack(outs)
    assert 0 <= float(values.min()) and float(values.max()) < 1
    assert_distributed(values, uniform_cdf(0, 1))


def test_rand_empty() -> None:
    (out,) = _samples(lambda x: torch.rand(0, 3) + x.sum(), [randn(3)])
    assert out.numel() == 0


def test_engine_draws_new_values_every_run() -> None:
    a, b = _samples(lambda x: torch.randn_like(x), [randn(8, 8)], runs=2)
    assert not torch.equal(a, b)


def test_normal_zero_std_is_the_mean() -> None:
    x = randn(4, 5)
    (out,) = _samples(lambda x: torch.normal(x, 0.0), [x])
    # Eager gives the mean itself; so does mean + 0 * z.
    assert torch.equal(out, x)


# ---------------------------------------------------------------------------------------------
# Discrete distributions: randint, bernoulli, dropout masks, randperm
# ---------------------------------------------------------------------------------------------


def assert_frequencies(values: torch.Tensor, support: Sequence[int], probabilities: Sequence[float]) -> None:
    """Every value in ``support``; each count within 5 standard deviations of n * p."""
    flat = values.reshape(-1).to(torch.int64)
    assert set(flat.unique().tolist()) <= set(support), flat.unique().tolist()
    n = flat.numel()
    for v, p in zip(support, probabilities):
        count = int((flat == v).sum())
        assert abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p)) + 1, (
            f"value {v}: {count} of {n}, expected {n * p:.0f}"
        )


RANDINT_CASES: list[tuple[str, Callable[..., Any], int, int, torch.dtype]] = [
    ("randint_high", lambda x: torch.randint(7, (64, 64)), 0, 7, torch.int64),
    ("randint_low_high", lambda x: torch.randint(-3, 4, (64, 64)), -3, 4, torch.int64),
    ("randint_int32", lambda x: torch.randint(2, 9, (64, 64), dtype=torch.int32), 2, 9, torch.int32),
    ("randint_float", lambda x: torch.randint(0, 5, (64, 64), dtype=torch.float32), 0, 5, torch.float32),
    ("randint_like", lambda x: torch.randint_like(x, 6), 0, 6, torch.float32),
    ("randint_like_low", lambda x: torch.randint_like(x.int(), 10, 13), 10, 13, torch.int32),
    ("randint_span_one", lambda x: torch.randint(5, 6, (64, 64)), 5, 6, torch.int64),
    # The bound is a 0-D tensor's value (here computed in forward, so known only at run time).
    ("randint_like_tensor_bound", lambda x: aten.randint_like.Tensor(x, (x[0, 0] * 0 + 4).long()), 0, 4, torch.float32),
]


@pytest.mark.parametrize("case", RANDINT_CASES, ids=[c[0] for c in RANDINT_CASES])
def test_randint(case: tuple[str, Callable[..., Any], int, int, torch.dtype]) -> None:
    _, fn, low, high, dtype = case
    (out,) = _samples(fn, [randn(64, 64)])
    assert out.dtype == dtype
    assert torch.equal(out, out.round()), "randint values must be integers"
    assert_frequencies(out, range(low, high), [1 / (high - low)] * (high - low))


BERNOULLI_CASES: list[tuple[str, Callable[..., Any], float, torch.dtype]] = [
    ("bernoulli_tensor_p", lambda x: torch.bernoulli(torch.full_like(x, 0.3)), 0.3, torch.float32),
    ("bernoulli_p", lambda x: (x * 0).bernoulli_(0.8), 0.8, torch.float32),
    ("bernoulli_p_half", lambda x: x.half().bernoulli_(0.25), 0.25, torch.float16),
    ("bernoulli_p_int", lambda x: x.int().bernoulli_(0.5), 0.5, torch.int32),
    ("bernoulli_tensor_overload", lambda x: aten.bernoulli.Tensor(x, torch.full_like(x, 0.6)), 0.6, torch.float32),
    ("dropout_mask", lambda x: aten.native_dropout(x, 0.3, True)[1], 0.7, torch.bool),
    # train=None is training for the eager kernel too.
    ("dropout_mask_train_none", lambda x: aten.native_dropout(x, 0.9, None)[1], 0.1, torch.bool),
]


@pytest.mark.parametrize("case", BERNOULLI_CASES, ids=[c[0] for c in BERNOULLI_CASES])
def test_bernoulli(case: tuple[str, Callable[..., Any], float, torch.dtype]) -> None:
    _, fn, p, dtype = case
    (out,) = _samples(fn, [randn(64, 64)])
    assert out.dtype == dtype
    assert_frequencies(out, [0, 1], [1 - p, p])


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_training_dropout(dtype: torch.dtype) -> None:
    x = randn(64, 64, dtype=dtype)
    (out,) = _samples(lambda x: F.dropout(x, 0.25, training=True), [x])
    kept = out != 0
    # Kept elements are scaled by 1 / (1 - p); about 3/4 are kept.
    rtol = {torch.float32: 1e-6, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    torch.testing.assert_close(out[kept], (x[kept].float() / 0.75).to(dtype), rtol=rtol, atol=0)
    assert_frequencies(kept, [0, 1], [0.25, 0.75])


def test_randperm() -> None:
    n, runs = 12, 300
    outs = _samples(lambda x: torch.randperm(n) + x.sum().long() * 0, [randn(3)], runs=runs)
    for out in outs:
        assert torch.equal(out.sort().values, torch.arange(n)), out
    # Uniform over permutations: the first element is each value with probability 1 / n.
    assert_frequencies(torch.stack([o[0] for o in outs]), range(n), [1 / n] * n)


def test_randperm_dtype() -> None:
    (out,) = _samples(lambda x: torch.randperm(5, dtype=torch.int32), [randn(3)])
    assert torch.equal(out.sort().values, torch.arange(5, dtype=torch.int32))


# ---------------------------------------------------------------------------------------------
# Dynamic shapes: sizes and bounds from symbolic sizes, one engine for the whole range
# ---------------------------------------------------------------------------------------------


def _dynamic_samples(fn: Callable[..., Any], rows: Sequence[int]) -> list[torch.Tensor]:
    torch.manual_seed(0)
    module = fn_module(fn, 1)
    spec = [dyn((1, 64), (32, 64), (128, 64))]
    outs = []
    with emulated_runtime(persist=False):
        compiled = compile_on_reference(module, [randn(32, 64)], input_specs=spec)
        for r in rows:
            x = randn(r, 64)
            with torch.no_grad():
                out, want = compiled(x), module(x)
            assert out.dtype == want.dtype and out.shape == want.shape, (out.dtype, tuple(out.shape), tuple(want.shape))
            outs.append(out)
    return outs


def test_rand_dynamic_size() -> None:
    for out in _dynamic_samples(lambda x: torch.rand(x.shape[0], 64) + x * 0, [1, 77, 128]):
        assert 0 <= float(out.min()) and float(out.max()) < 1
    assert_distributed(out, uniform_cdf(0, 1))


def test_randn_like_dynamic() -> None:
    outs = _dynamic_samples(lambda x: torch.randn_like(x) * 2 + 1, [1, 100, 128])
    assert_distributed(outs[-1], normal_cdf(1, 2))


def test_normal_tensor_dynamic() -> None:
    outs = _dynamic_samples(lambda x: torch.normal(x * 0 + 5, 0.1), [3, 128])
    assert_distributed(outs[-1], normal_cdf(5, 0.1))


def test_randint_dynamic_bound() -> None:
    # The bound is a symbolic size: values in [0, rows).
    for rows, out in zip(
        [2, 5, 128], _dynamic_samples(lambda x: torch.randint(0, x.shape[0], (x.shape[0], 64)), [2, 5, 128])
    ):
        assert_frequencies(out, range(rows), [1 / rows] * rows)


def test_randperm_dynamic() -> None:
    outs = _dynamic_samples(lambda x: torch.randperm(x.shape[0]), [1, 9, 128])
    for rows, out in zip([1, 9, 128], outs):
        assert torch.equal(out.sort().values, torch.arange(rows))


def test_dropout_dynamic() -> None:
    outs = _dynamic_samples(lambda x: F.dropout(x * 0 + 1, 0.5, training=True), [1, 128])
    assert_frequencies(outs[-1] != 0, [0, 1], [0.5, 0.5])


def test_independent_calls_draw_independent_samples() -> None:
    # Two rand calls of one shape are two fill layers: their difference is triangular on (-1, 1)
    # (variance 1/6), not zero.
    (out,) = _samples(lambda x: torch.rand(64, 64) - torch.rand(64, 64) + x * 0, [randn(64, 64)])
    assert abs(float(out.var()) - 1 / 6) < 0.02
    assert_distributed(out, lambda v: torch.where(v < 0, (1 + v).clamp(0) ** 2 / 2, 1 - (1 - v).clamp(0) ** 2 / 2))


class _SeededRand(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.generator = torch.Generator().manual_seed(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.rand(3, generator=self.generator)


def test_explicit_generator_is_left_to_pytorch() -> None:
    # A seeded generator promises a sequence TensorRT cannot reproduce.
    with pytest.raises(UnsupportedOperatorError, match="rand.generator"):
        compile_on_reference(_SeededRand(), [randn(3)])
