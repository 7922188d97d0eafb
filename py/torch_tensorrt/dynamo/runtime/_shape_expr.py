"""Safe symbolic shape expressions for engine metadata.

A dynamic output dimension is stored in the engine metadata as a short integer
expression over the symbolic input sizes, e.g. ``"s0*4"``, ``"(s0 + 1)//2"`` or
``"max(s0, s1)"``.  Metadata comes from files that may have been tampered with,
so an expression is never handed to ``eval``: it is parsed with :mod:`ast` and
every node is checked against a small whitelist, then evaluated by walking the
checked tree ourselves.

Grammar (a strict subset of Python expression syntax)::

    expr := INT | NAME | "-" expr | expr OP expr | "(" expr ")"
          | ("max" | "min") "(" expr "," expr ("," expr)* ")"
    OP   := "+" | "-" | "*" | "//" | "%"

* ``INT`` is a non-negative integer literal no larger than ``2**63 - 1``.
* ``NAME`` is a torch size symbol (``s<digits>`` for backed sizes,
  ``u<digits>`` for unbacked, data-dependent sizes) or an identifier the caller
  passes in its symbol table.
* ``//`` and ``%`` have Python (floor) semantics, the same as torch's
  ``FloorDiv`` and ``PythonMod``.  There is no ``**`` and no true division.

Bounds keep hostile input cheap: at most :data:`MAX_EXPR_CHARS` characters,
at most :data:`MAX_EXPR_DEPTH` levels of nesting, and every intermediate value
of an evaluation must fit in a signed 64-bit integer (a shape dimension is an
``int64`` in TensorRT, and the bound stops big-integer blow-ups).

Every failure raises :class:`ValueError`.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INT64_MAX",
    "MAX_EXPR_CHARS",
    "MAX_EXPR_DEPTH",
    "evaluate",
    "free_symbols",
    "is_symbol_name",
    "to_expr",
    "validate",
]

MAX_EXPR_CHARS = 1000
MAX_EXPR_DEPTH = 64
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# ASCII only: ast normalises identifiers with NFKC, so a full-width "ｓ０" would
# otherwise silently become "s0"; restricting the alphabet up front also
# rejects strings, attribute access, lambdas, subscripts, ... before parsing.
_ALLOWED_CHARS = re.compile(r"[A-Za-z0-9_ +\-*/%(),]*", re.ASCII)
_TORCH_SYMBOL = re.compile(r"[su][0-9]+", re.ASCII)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_CALLS = ("max", "min")


def is_symbol_name(name: str) -> bool:
    """True if ``name`` is a torch size symbol such as ``s0`` or ``u3``."""
    return isinstance(name, str) and _TORCH_SYMBOL.fullmatch(name) is not None


# ---------------------------------------------------------------------------
# Checked tree.  Nodes are tiny immutable tuples so a parsed expression can be
# cached and shared between threads.
# ---------------------------------------------------------------------------

_Node = tuple[Any, ...]
# ("int", value) | ("sym", name) | ("neg", node) | ("bin", op, lhs, rhs)
# | ("call", "max"|"min", (node, ...))

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}


@dataclass(frozen=True)
class _Parsed:
    tree: _Node
    names: frozenset[str]


def _short(text: str, limit: int = 60) -> str:
    """repr() of possibly hostile text, cut so error messages stay small."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _convert(node: ast.AST, depth: int, names: set[str]) -> _Node:
    if depth > MAX_EXPR_DEPTH:
        raise ValueError(f"nested deeper than {MAX_EXPR_DEPTH} levels")
    if isinstance(node, ast.Constant):
        value = node.value
        # bool is an int subclass; "True" must not sneak in as 1.
        if type(value) is not int:
            raise ValueError(f"only integer literals are allowed, found {type(value).__name__}")
        if value > INT64_MAX:
            raise ValueError("integer literal does not fit in int64")
        return ("int", value)
    if isinstance(node, ast.Name):
        if _IDENTIFIER.fullmatch(node.id) is None or node.id in _CALLS:
            raise ValueError(f"invalid name {_short(node.id)}")
        names.add(node.id)
        return ("sym", node.id)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise ValueError(f"unary operator {type(node.op).__name__} is not allowed")
        return ("neg", _convert(node.operand, depth + 1, names))
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ValueError(f"operator {type(node.op).__name__} is not allowed (use + - * // % max min)")
        return (
            "bin",
            op,
            _convert(node.left, depth + 1, names),
            _convert(node.right, depth + 1, names),
        )
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in _CALLS:
            raise ValueError("only max(...) and min(...) may be called")
        if node.keywords:
            raise ValueError(f"{func.id}() takes no keyword arguments")
        if len(node.args) < 2:
            raise ValueError(f"{func.id}() needs at least two arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError(f"{func.id}() does not accept *arguments")
        args = tuple(_convert(a, depth + 1, names) for a in node.args)
        return ("call", func.id, args)
    raise ValueError(f"{type(node).__name__} is not allowed in a shape expression")


@functools.lru_cache(maxsize=1024)
def _parse(expr: str) -> _Parsed:
    if len(expr) > MAX_EXPR_CHARS:
        raise ValueError(f"shape expression longer than {MAX_EXPR_CHARS} characters")
    if _ALLOWED_CHARS.fullmatch(expr) is None:
        bad = next(c for c in expr if _ALLOWED_CHARS.fullmatch(c) is None)
        raise ValueError(f"shape expression {_short(expr)} contains unexpected character {bad!r}")
    if not expr.strip():
        raise ValueError("empty shape expression")
    try:
        # compile() turns some malformed input into SyntaxWarning ("'int' object
        # is not callable"); it is rejected below anyway, so keep it quiet.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise ValueError(f"shape expression {_short(expr)} is not valid syntax: {e}") from None
    names: set[str] = set()
    try:
        tree = _convert(module.body, 1, names)
    except RecursionError:
        raise ValueError(f"shape expression {_short(expr)} is nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"shape expression {_short(expr)}: {e}") from None
    return _Parsed(tree, frozenset(names))


def _parse_str(expr: object) -> _Parsed:
    if not isinstance(expr, str):
        raise ValueError(f"shape expression must be a str, found {type(expr).__name__}")
    # str subclasses could override hashing/equality used by the cache.
    return _parse(str.__str__(expr))


def free_symbols(expr: str) -> frozenset[str]:
    """The names an expression refers to (after validating its syntax)."""
    return _parse_str(expr).names


def validate(expr: str, symbols: Iterable[str] = ()) -> None:
    """Raise ValueError unless ``expr`` is a well-formed shape expression.

    Names must be torch size symbols (``s0``, ``u1``, ...) or appear in
    ``symbols``.
    """
    parsed = _parse_str(expr)
    allowed = set(symbols) if not isinstance(symbols, str) else {symbols}
    for name in parsed.names:
        if name not in allowed and not is_symbol_name(name):
            raise ValueError(f"shape expression {_short(expr)}: unknown symbol {name!r}")


def _check_int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("shape expression overflows int64")
    return value


def _eval(node: _Node, env: Mapping[str, int]) -> int:
    kind = node[0]
    if kind == "int":
        return node[1]
    if kind == "sym":
        return env[node[1]]
    if kind == "neg":
        return _check_int64(-_eval(node[1], env))
    if kind == "bin":
        op, lhs, rhs = node[1], _eval(node[2], env), _eval(node[3], env)
        if op == "+":
            return _check_int64(lhs + rhs)
        if op == "-":
            return _check_int64(lhs - rhs)
        if op == "*":
            return _check_int64(lhs * rhs)
        if rhs == 0:
            raise ValueError("shape expression divides by zero")
        return _check_int64(lhs // rhs if op == "//" else lhs % rhs)
    values = [_eval(a, env) for a in node[2]]
    return max(values) if node[1] == "max" else min(values)


def evaluate(expr: str, symbols: Mapping[str, int]) -> int:
    """Evaluate ``expr`` with the given symbol values.

    Every name in ``expr`` must be bound in ``symbols`` to an ``int`` within
    int64 range; anything else raises ValueError.
    """
    parsed = _parse_str(expr)
    if not isinstance(symbols, Mapping):
        raise ValueError(f"symbols must be a mapping, found {type(symbols).__name__}")
    env: dict[str, int] = {}
    for name in parsed.names:
        if name not in symbols:
            raise ValueError(f"shape expression {_short(expr)}: symbol {name!r} has no value")
        value = symbols[name]
        if type(value) is not int:
            # Accept torch/numpy integers but never bool or float.
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise ValueError(f"symbol {name!r} must be an int, found {type(value).__name__}")
            value = value.__index__()
        env[name] = _check_int64(value)
    return _eval(parsed.tree, env)


# ---------------------------------------------------------------------------
# sympy / SymInt -> expression string
# ---------------------------------------------------------------------------

_ATOM, _MUL, _ADD = 3, 2, 1
_MAX_POW = 8  # s0**k is written as k factors; bigger powers are not shape-like


def evaluate_symbolic(expr: str, symbols: Mapping[str, Any]) -> Any:
    """Evaluate a validated shape expression where symbols may be SymInts (fake tensors).

    :func:`evaluate` converts values to plain ints, which would specialise symbolic sizes; this walks
    the same parsed tree with SymInt-friendly arithmetic instead (plain ints take :func:`evaluate`).
    """
    if all(isinstance(v, int) for v in symbols.values()):
        return evaluate(expr, symbols)
    import torch  # only fake-tensor callers get here; the parser itself stays torch-free

    def walk(node: Any) -> Any:
        kind = node[0]
        if kind == "int":
            return node[1]
        if kind == "sym":
            return symbols[node[1]]
        if kind == "neg":
            return -walk(node[1])
        if kind == "bin":
            lhs, rhs = walk(node[2]), walk(node[3])
            return {"+": lambda: lhs + rhs, "-": lambda: lhs - rhs, "*": lambda: lhs * rhs,
                    "//": lambda: lhs // rhs, "%": lambda: lhs % rhs}[node[1]]()  # fmt: skip
        values = [walk(a) for a in node[2]]
        pick = torch.sym_max if node[1] == "max" else torch.sym_min
        result = values[0]
        for v in values[1:]:
            result = pick(result, v)
        return result

    parsed = _parse_str(expr)
    missing = [n for n in parsed.names if n not in symbols]
    if missing:
        raise ValueError(f"shape expression {expr!r}: symbols {missing} have no value")
    return walk(parsed.tree)


def _wrap(part: tuple[str, int]) -> str:
    text, prec = part
    return text if prec == _ATOM else f"({text})"


def _print(e: Any) -> tuple[str, int]:
    import sympy

    cls = type(e).__name__
    if isinstance(e, sympy.Integer):
        v = int(e)
        return (str(v), _ATOM if v >= 0 else _MUL)
    if isinstance(e, sympy.Symbol):
        if _IDENTIFIER.fullmatch(e.name) is None:
            raise ValueError(f"symbol name {e.name!r} is not an identifier")
        return (e.name, _ATOM)
    if isinstance(e, sympy.Add):
        terms = list(e.as_ordered_terms())
        text = _print(terms[0])[0]
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " - " + _print_term(-term)
            else:
                text += " + " + _print_term(term)
        return (text, _ADD)
    if isinstance(e, sympy.Mul):
        coeff, factors = e.as_coeff_mul()
        if not coeff.is_Integer:
            raise ValueError(f"non-integer coefficient {coeff}")
        parts: list[str] = []
        for f in factors:
            parts.extend(_factor_list(f))
        text = "*".join(parts)
        if coeff == 1:
            return (text, _MUL)
        if coeff == -1:
            return ("-" + text, _MUL)
        return (f"{int(coeff)}*{text}", _MUL)
    if isinstance(e, sympy.Pow) or cls == "PowByNatural":
        return ("*".join(_factor_list(e)), _MUL)
    if cls in ("FloorDiv", "CleanDiv"):
        # CleanDiv is an exact division, so floor division gives the same value.
        return (f"{_wrap(_print(e.args[0]))}//{_wrap(_print(e.args[1]))}", _MUL)
    if cls in ("PythonMod", "Mod"):
        # torch's Mod assumes non-negative operands, where it agrees with %.
        return (f"{_wrap(_print(e.args[0]))} % {_wrap(_print(e.args[1]))}", _MUL)
    if isinstance(e, sympy.floor):
        coeff, rest = e.args[0].as_coeff_Mul()
        if coeff.is_Rational and not coeff.is_Integer and coeff.q > 0:
            num = _print(coeff.p * rest)
            return (f"{_wrap(num)}//{coeff.q}", _MUL)
        raise ValueError(f"cannot express {e} with integer operations")
    if cls in ("Max", "Min"):
        args = ", ".join(_print(a)[0] for a in e.args)
        return (f"{cls.lower()}({args})", _ATOM)
    if cls in ("TruncToInt", "FloorToInt", "CeilToInt", "RoundToInt"):
        try:
            # Sizes scaled by a float that is a whole number (F.interpolate(scale_factor=2.0) on a
            # dynamic size): the float expression is an integer already, so every rounding is exact.
            return _print(_whole_number_expr(e.args[0]))
        except ValueError:
            if cls == "RoundToInt":
                raise
            return _rounded_ratio(cls, e.args[0])
    raise ValueError(f"{cls} is not supported in shape expressions")


# Denominators of float factors that stay exact: a dyadic float times a size below 2^32 is exact in
# float64, so torch's float rounding and the integer division agree.
_MAX_DYADIC_DENOMINATOR = 2**20


def _rounded_ratio(cls: str, e: Any) -> tuple[str, int]:
    """floor/trunc/ceil of ``num / den`` (``e`` exactly) with integer division.

    ``e`` is a size scaled by a dyadic float (TruncToInt(0.5*ToFloat(s)), as F.interpolate with
    scale_factor=0.5 sizes its output) or a size divided by a positive integer (FloorToInt(s / 3)).
    """
    import sympy

    if type(e).__name__ == "IntTrueDiv" and isinstance(e.args[1], sympy.Integer) and int(e.args[1]) > 0:
        # torch divides in float64; for sizes far below 2^52 the quotient rounds to no integer it
        # does not equal, so floor/ceil of it are those of the exact ratio.
        num, den = e.args[0], int(e.args[1])
    else:
        num, den = _dyadic_ratio(e)
    if cls == "TruncToInt" and not num.is_nonnegative:
        raise ValueError(f"cannot express {e} with integer operations (sign unknown)")
    if cls == "CeilToInt":
        return (f"-({_wrap(_print(-num))}//{den})", _MUL)
    return (f"{_wrap(_print(num))}//{den}", _MUL)


def _dyadic_ratio(e: Any) -> tuple[Any, int]:
    """(integer expression, power-of-two denominator) equal to the float expression ``e``."""
    import fractions

    import sympy

    if isinstance(e, sympy.Float):
        ratio = fractions.Fraction(float(e))
        if ratio.denominator > _MAX_DYADIC_DENOMINATOR:
            raise ValueError(f"cannot express {e} with integer operations")
        return sympy.Integer(ratio.numerator), ratio.denominator
    if isinstance(e, (sympy.Add, sympy.Mul)):
        parts = [_dyadic_ratio(a) for a in e.args]
        if isinstance(e, sympy.Mul):
            num, den = sympy.Integer(1), 1
            for n, d in parts:
                num, den = num * n, den * d
            if den > _MAX_DYADIC_DENOMINATOR:
                raise ValueError(f"cannot express {e} with integer operations")
            return num, den
        den = max(d for _, d in parts)  # powers of two: the largest is a common multiple
        return sympy.Add(*(n * (den // d) for n, d in parts)), den
    return _whole_number_expr(e), 1


def _whole_number_expr(e: Any) -> Any:
    """A float expression of sizes as the equal integer expression; ValueError if it may not be whole."""
    import sympy

    if type(e).__name__ == "ToFloat":
        return e.args[0]
    if isinstance(e, sympy.Float):
        if not float(e).is_integer():
            raise ValueError(f"cannot express {e} with integer operations")
        return sympy.Integer(int(e))
    if isinstance(e, (sympy.Integer, sympy.Symbol)):
        return e
    if isinstance(e, (sympy.Add, sympy.Mul)):
        return type(e)(*(_whole_number_expr(a) for a in e.args))
    raise ValueError(f"cannot express {e} with integer operations")


def _print_term(term: Any) -> str:
    text, prec = _print(term)
    # A term of a sum binds tighter than "+"/"-" unless it is itself a sum.
    return text if prec > _ADD else f"({text})"


def _factor_list(f: Any) -> list[str]:
    import sympy

    if isinstance(f, sympy.Pow) or type(f).__name__ == "PowByNatural":
        base, exp = f.args
        if not (getattr(exp, "is_Integer", False) and 1 <= int(exp) <= _MAX_POW):
            raise ValueError(f"power {f} is not supported")
        return [_wrap(_print(base))] * int(exp)
    return [_wrap(_print(f))]


def to_expr(sym: Any) -> str:
    """Turn an int, ``torch.SymInt`` or sympy integer expression into a string.

    The result is validated, so anything that cannot be expressed with the
    grammar above raises ValueError.
    """
    if isinstance(sym, bool):
        raise ValueError("a bool is not a shape")
    if isinstance(sym, int):
        text = str(sym)
    else:
        node = getattr(sym, "node", None)
        expr = getattr(node, "expr", None) if node is not None else None
        target = expr if expr is not None else sym
        try:
            import sympy
        except ImportError as e:  # pragma: no cover - sympy ships with torch
            raise ValueError(f"cannot convert {type(sym).__name__}: sympy unavailable") from e
        if not isinstance(target, sympy.Basic):
            raise ValueError(f"cannot convert {type(sym).__name__} to a shape expression")
        try:
            text = _print(target)[0]
        except RecursionError:
            raise ValueError("symbolic expression is nested too deeply") from None
    # Names come from the caller's own symbols, so only the syntax is checked.
    _parse_str(text)
    return text
