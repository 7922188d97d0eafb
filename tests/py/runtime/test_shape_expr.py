"""Tests for the safe symbolic shape expressions stored in engine metadata."""

from __future__ import annotations

import math
import string

import pytest
import sympy
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils._sympy import functions as sym_fn

from torch_tensorrt.dynamo.runtime import _shape_expr as se


def fuzz(examples: int) -> settings:
    # No example database: the tests must not write into the source tree.
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.mark.parametrize(
    ("expr", "symbols", "expected"),
    [
        ("7", {}, 7),
        ("s0", {"s0": 5}, 5),
        ("s0*4", {"s0": 3}, 12),
        ("(s0 + 1)//2", {"s0": 8}, 4),
        ("(s0 + 1)//2", {"s0": 9}, 5),
        ("max(s0, s1)", {"s0": 2, "s1": 9}, 9),
        ("min(s0, s1, 4)", {"s0": 7, "s1": 9}, 4),
        ("s0 % 3", {"s0": 10}, 1),
        ("-s0 + 10", {"s0": 3}, 7),
        ("-7//2", {}, -4),  # floor semantics, as torch's FloorDiv
        ("-7 % 3", {}, 2),
        ("s0 - s1*2", {"s0": 10, "s1": 3}, 4),
        ("u0*2", {"u0": 6}, 12),
        ("batch*2 + 1", {"batch": 4}, 9),
        ("  s12  ", {"s12": 1}, 1),
        ("max(min(s0, 8), (s1 - 1)//3)", {"s0": 20, "s1": 31}, 10),
        (str(se.INT64_MAX), {}, se.INT64_MAX),
    ],
)
def test_accepted_forms_evaluate(expr: str, symbols: dict[str, int], expected: int) -> None:
    assert se.evaluate(expr, symbols) == expected
    se.validate(expr, symbols)


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "   ",
        "s0.real",
        "s0.__class__",
        "__import__('os')",
        "__import__",
        "lambda: 1",
        "(lambda x: x)(1)",
        "abs(s0)",
        "pow(s0, 2)",
        "max(s0)",
        "max(s0, key=s1)",
        "max(*s0)",
        "s0(1)",
        "2**3",
        "2**100000000",
        "9**9**9**9",
        "s0 / 2",
        "'abc'",
        '"s0"',
        "b'x'",
        "1.5",
        "1e3",
        "1j",
        "True",
        "None",
        "s0 if s1 else 2",
        "s0 < s1",
        "s0 and s1",
        "~s0",
        "+s0",
        "s0 << 2",
        "s0 & 1",
        "[s0]",
        "s0[0]",
        "{s0}",
        "s0, s1",
        "s0 = 1",
        "s0 +",
        "foo",  # not a torch symbol and not in the symbol table
        "max",
        "ｓ0",  # full-width letter: NFKC would turn it into s0
        "s٣",  # Arabic-Indic digit
        "s0\n+1",
        "s0\x00",
        "9" * 30,  # does not fit in int64
        "s0+" * 400 + "1",  # too long
        "x" * 2000,
        "-" * 900 + "1",  # too deep
        "(" * 300 + "1" + ")" * 300,
        "max(" * 100 + "1, 2" + ")" * 100,
    ],
)
def test_rejected_forms(expr: str) -> None:
    with pytest.raises(ValueError):
        se.validate(expr)
    with pytest.raises(ValueError):
        se.evaluate(expr, {"s0": 1, "s1": 2})


@pytest.mark.parametrize("bad", [None, 3, b"s0", ["s0"]])
def test_non_string_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="must be a str"):
        se.validate(bad)  # type: ignore[arg-type]


def test_symbol_table_extends_names() -> None:
    with pytest.raises(ValueError, match="unknown symbol 'batch'"):
        se.validate("batch + 1")
    se.validate("batch + 1", ["batch"])
    assert se.free_symbols("max(s0, batch) + s0") == {"s0", "batch"}


@pytest.mark.parametrize(
    ("expr", "symbols", "message"),
    [
        ("s0 + 1", {}, "has no value"),
        ("s0//s1", {"s0": 1, "s1": 0}, "divides by zero"),
        ("s0 % s1", {"s0": 1, "s1": 0}, "divides by zero"),
        ("s0*s0", {"s0": 2**40}, "overflows int64"),
        ("s0 + 1", {"s0": se.INT64_MAX}, "overflows int64"),
        ("s0", {"s0": 2**64}, "overflows int64"),
        ("s0", {"s0": True}, "must be an int"),
        ("s0", {"s0": 1.0}, "must be an int"),
        ("s0", {"s0": "1"}, "must be an int"),
    ],
)
def test_evaluation_errors(expr: str, symbols: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        se.evaluate(expr, symbols)  # type: ignore[arg-type]


def test_evaluate_needs_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        se.evaluate("s0", None)  # type: ignore[arg-type]


def test_evaluate_accepts_index_like_ints() -> None:
    assert se.evaluate("s0*2", {"s0": torch.tensor(3).item()}) == 6


# --------------------------------------------------------------------------
# sympy / SymInt conversion
# --------------------------------------------------------------------------

S0, S1 = sympy.symbols("s0 s1", integer=True, positive=True)


@pytest.mark.parametrize(
    "sym",
    [
        S0,
        4 * S0,
        4 * S0 - 1,
        3 - S0,
        S0 * S1 + 2,
        S0**2,
        sym_fn.FloorDiv(S0 + 1, 2),
        sym_fn.FloorDiv(S0 * S1, S0 + 1),
        sym_fn.PythonMod(S0, 3),
        sym_fn.Mod(S0, 3),
        sym_fn.Max(S0, S1),
        sym_fn.Min(S0 + 1, 2 * S1) * S0,
        -S0 * sym_fn.FloorDiv(S1, 3) + 7,
        sympy.floor(S0 / 2),
        sympy.floor(3 * S0 / 4),
        sym_fn.CleanDiv(S0 * 4, 2),
        sympy.Integer(12),
    ],
)
def test_to_expr_matches_sympy(sym: sympy.Expr) -> None:
    text = se.to_expr(sym)
    se.validate(text)
    for s0 in (1, 2, 7, 64):
        for s1 in (1, 3, 10):
            expected = int(sym.subs({S0: s0, S1: s1}))
            assert se.evaluate(text, {"s0": s0, "s1": s1}) == expected, text


@pytest.mark.parametrize(
    "sym",
    [S0 / 2, S0**20, sympy.sqrt(S0), sympy.Symbol("a.b"), 1.5, "s0", None, True],
)
def test_to_expr_rejects_non_integer_forms(sym: object) -> None:
    with pytest.raises(ValueError):
        se.to_expr(sym)


@pytest.mark.parametrize("scale", [2.0, 3.0])
def test_to_expr_of_whole_float_scales(scale: float) -> None:
    # F.interpolate(scale_factor=2.0, mode="bicubic") sizes its output as TruncToInt(2.0*ToFloat(s)).
    text = se.to_expr(sym_fn.TruncToInt(sympy.Float(scale) * sym_fn.ToFloat(S0) + 1))
    assert [se.evaluate(text, {"s0": n}) for n in (1, 5, 64)] == [int(scale * n) + 1 for n in (1, 5, 64)]


ROUNDINGS = {"TruncToInt": math.trunc, "FloorToInt": math.floor, "CeilToInt": math.ceil}


@pytest.mark.parametrize("rounding", list(ROUNDINGS))
@pytest.mark.parametrize(("scale", "offset"), [(1.5, 0.0), (0.5, 0.0), (0.25, 0.75), (0.625, -0.5)])
def test_to_expr_of_dyadic_float_scales(scale: float, offset: float, rounding: str) -> None:
    # F.interpolate(scale_factor=0.5) sizes its output as TruncToInt(0.5*ToFloat(s)): a dyadic scale
    # times a size is exact in float64, so integer division gives torch's rounding exactly.
    fn = getattr(sym_fn, rounding)
    text = se.to_expr(fn(sympy.Float(scale) * sym_fn.ToFloat(S0) + sympy.Float(offset)))
    for n in range(1, 300):
        assert se.evaluate(text, {"s0": n}) == ROUNDINGS[rounding](scale * float(n) + offset), (text, n)


@pytest.mark.parametrize("rounding", ["FloorToInt", "CeilToInt"])
def test_to_expr_of_int_true_division(rounding: str) -> None:
    # math.floor(x.shape[0] / 3): torch divides in float64, which never rounds across an integer here.
    text = se.to_expr(getattr(sym_fn, rounding)(sym_fn.IntTrueDiv(S0, sympy.Integer(3))))
    assert [se.evaluate(text, {"s0": n}) for n in range(1, 300)] == [ROUNDINGS[rounding](n / 3) for n in range(1, 300)]


@pytest.mark.parametrize("scale", [0.3, 1 / 3])
def test_to_expr_rejects_inexact_float_scales(scale: float) -> None:
    # 0.3 * s in float64 is not (p * s) / q exactly: no integer expression is guaranteed to agree.
    with pytest.raises(ValueError, match="integer operations"):
        se.to_expr(sym_fn.TruncToInt(sympy.Float(scale) * sym_fn.ToFloat(S0)))


def test_to_expr_rejects_round_to_int_of_a_fraction() -> None:
    # Round half to even has no integer-division form here.
    with pytest.raises(ValueError, match="integer operations"):
        se.to_expr(sym_fn.RoundToInt(sympy.Float(0.5) * sym_fn.ToFloat(S0)))


def test_to_expr_from_exported_symint() -> None:
    class Flatten(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, x]).reshape(-1)

    batch = torch.export.Dim("batch", min=2, max=64)
    ep = torch.export.export(Flatten(), (torch.zeros(4, 3),), dynamic_shapes={"x": {0: batch}})
    out = next(n for n in ep.graph.nodes if n.op == "output").args[0][0]
    size = out.meta["val"].shape[0]
    assert isinstance(size, torch.SymInt)
    text = se.to_expr(size)
    (name,) = se.free_symbols(text)
    assert se.evaluate(text, {name: 5}) == 2 * 5 * 3


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------


def _exprs() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.integers(0, 50).map(str), st.sampled_from(["s0", "s1", "s2"]))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "//", "%"]), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            children.map(lambda c: f"-{c}"),
            st.tuples(st.sampled_from(["max", "min"]), st.lists(children, min_size=2, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@fuzz(600)
@given(_exprs(), st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)))
def test_evaluate_agrees_with_python(expr: str, values: tuple[int, int, int]) -> None:
    env = dict(zip(("s0", "s1", "s2"), values, strict=True))
    try:
        # Oracle only: the expression is generated by this test, never read from input.
        expected = eval(expr, {"__builtins__": {}, "max": max, "min": min}, dict(env))  # noqa: S307
    except ZeroDivisionError:
        with pytest.raises(ValueError, match="divides by zero"):
            se.evaluate(expr, env)
        return
    if not se.INT64_MIN <= expected <= se.INT64_MAX:
        with pytest.raises(ValueError):
            se.evaluate(expr, env)
        return
    try:
        assert se.evaluate(expr, env) == expected
    except ValueError as e:
        # An intermediate may overflow even when the final value fits.
        assert "overflows int64" in str(e) or "longer than" in str(e) or "deeper" in str(e)


@fuzz(1500)
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet=string.ascii_letters + string.digits + " +-*/%(),_.'\"[]:", max_size=80),
    )
)
def test_arbitrary_text_only_value_error(text: str) -> None:
    try:
        se.validate(text)
        value = se.evaluate(text, {n: 3 for n in se.free_symbols(text)})
    except ValueError:
        return
    assert type(value) is int
