"""Validate a saved program: its engines on the reference executor against its own PyTorch graph.

A program saved with :func:`torch_tensorrt.dynamo._program_archive.save_with_reference` carries the
ExportedProgram it was compiled from. :func:`validate_program` draws inputs inside the program's
input ranges (at the smallest, the example and the largest sizes), runs the reference in eager
PyTorch and the compiled program under :func:`emulated_runtime` (each engine evaluated from the
network recorded when it was built), and compares every output.

Errors are judged relative to the output's scale (its largest finite magnitude): an absolute error
of 2e-2 is noise on logits of size 10 and a failure on probabilities of size 1e-3. The tolerance is
the dtype's (:data:`DEFAULT_TOLERANCES`: float32 1e-4, float16 1e-2, bfloat16 2e-2) times that scale;
integer and boolean outputs must match exactly.

A float16 / bfloat16 output is measured against the same graph evaluated in float32, not against
PyTorch's own float16 result, which is itself an approximation: over a deep network both drift from
the exact result (ResNet-50 in float16: PyTorch 2.6e-2 of scale, the engine 2.0e-2, so the two differ
by 1.1e-2 although the engine is the more accurate). Such an output passes when its error is within
the dtype's tolerance, or at most twice PyTorch's own error in that dtype (reported beside it).
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sympy
import torch
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from torch_tensorrt.testing._run_on_reference import DEFAULT_TOLERANCES

Progress = Callable[[str], None]


@dataclass
class OutputCheck:
    """One output of one input case: its error relative to the reference output's scale."""

    index: int
    dtype: str
    shape: list[int]
    max_abs_error: float
    scale: float  # the reference output's largest finite magnitude (at least the dtype's epsilon)
    max_rel_error: float  # max_abs_error / scale
    tolerance: float  # the dtype's tolerance, relative to scale
    passed: bool
    problem: str = ""  # a mismatch no error size describes (shape, dtype, non-finite values)
    # Low-precision outputs, measured against a float32 evaluation: PyTorch's own error in this
    # dtype, and the bar the engine was held to, max(tolerance, 2 x pytorch_rel_error).
    pytorch_rel_error: float | None = None
    allowed_rel_error: float | None = None

    def describe(self) -> str:
        """One line: the error relative to the output's scale and the bar it was held to."""
        verdict = "ok" if self.passed else "FAIL"
        if self.problem and self.max_abs_error == float("inf"):
            return f"output {self.index}: {verdict}: {self.problem}"
        problem = f" ({self.problem})" if self.problem else ""
        head = f"output {self.index} {self.dtype} {self.shape}: max |error| {self.max_abs_error:.2e}"
        if self.pytorch_rel_error is None:
            scale = f"{self.max_rel_error:.1e} of the output's scale {self.scale:.3g}"
            return f"{head} = {scale} (tolerance {self.tolerance:.0e}) {verdict}{problem}"
        return (
            f"{head} against float32 = {self.max_rel_error:.1e} of the output's scale {self.scale:.3g}; PyTorch in "
            f"{self.dtype}: {self.pytorch_rel_error:.1e}; allowed max(tolerance {self.tolerance:.0e}, 2 x PyTorch's) = "
            f"{self.allowed_rel_error:.1e} {verdict}{problem}"
        )


@dataclass
class CaseReport:
    # Where in the input ranges the shapes were taken: "min", "example" (the size the program was
    # traced at) or "max"; "static" when there are no ranges.
    name: str
    input_shapes: list[list[int]]
    outputs: list[OutputCheck] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.outputs) and all(o.passed for o in self.outputs)


@dataclass
class ValidationReport:
    path: str
    store_dir: str
    cases: list[CaseReport] = field(default_factory=list)
    error: str = ""  # why the program could not be validated at all

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.cases) and all(c.passed for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; an infinite error (a shape or dtype mismatch) becomes None (JSON has no inf)."""
        cases = [{**asdict(c), "passed": c.passed} for c in self.cases]
        data = {
            "path": self.path,
            "store_dir": self.store_dir,
            "passed": self.passed,
            "error": self.error,
            "cases": cases,
        }
        return _finite(data)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# Comparing outputs


def relative_tolerance(dtype: torch.dtype) -> float:
    """The dtype's tolerance as a fraction of the output's scale; 0 (exact) for integers and bool."""
    if not dtype.is_floating_point:
        return 0.0
    return DEFAULT_TOLERANCES.get(dtype, DEFAULT_TOLERANCES[torch.float32])[0]


def _nonfinite_problem(actual: torch.Tensor, expected: torch.Tensor) -> str:
    # Positions where the reference is NaN/inf must hold the same value; elsewhere the error covers them.
    bad = ~torch.isfinite(expected) & ~((actual == expected) | (torch.isnan(actual) & torch.isnan(expected)))
    count = int(bad.sum())
    return f"{count} non-finite reference values differ" if count else ""


def _error(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float, str]:
    """(max |actual - expected| over finite reference values, the reference's scale, a problem)."""
    a, e = actual.detach().cpu().double(), expected.detach().cpu().double()
    finite = torch.isfinite(e)
    diff = (a - e).abs()[finite].nan_to_num(nan=float("inf"))
    max_abs = float(diff.max()) if diff.numel() else 0.0
    floor = torch.finfo(actual.dtype).eps if actual.dtype.is_floating_point else 1.0
    scale = max(float(e[finite].abs().max()) if finite.any() else 0.0, floor)
    return max_abs, scale, _nonfinite_problem(a, e)


def compare_tensor(
    index: int,
    actual: torch.Tensor,
    expected: torch.Tensor,
    rtol: float | None = None,
    exact: torch.Tensor | None = None,
) -> OutputCheck:
    """``actual`` against ``expected`` (same dtype and shape); with ``exact`` (the same computation in
    float32) a low-precision ``actual`` is measured against ``exact`` and may be as far off as PyTorch's
    ``expected`` is, times two."""
    tolerance = relative_tolerance(expected.dtype) if rtol is None else rtol
    dtype, shape = str(expected.dtype).removeprefix("torch."), list(expected.shape)
    problem = ""
    if actual.dtype != expected.dtype:
        problem = f"dtype {actual.dtype}, the reference gives {expected.dtype}"
    elif actual.shape != expected.shape:
        problem = f"shape {list(actual.shape)}, the reference gives {shape}"
    if problem:
        return OutputCheck(index, dtype, shape, float("inf"), 0.0, float("inf"), tolerance, False, problem)
    if exact is None or exact.shape != expected.shape or not expected.dtype.is_floating_point:
        max_abs, scale, problem = _error(actual, expected)
        rel = max_abs / scale
        return OutputCheck(
            index, dtype, shape, max_abs, scale, rel, tolerance, rel <= tolerance and not problem, problem
        )
    max_abs, scale, problem = _error(actual, exact)
    pytorch_abs, _, _ = _error(expected, exact)
    rel, pytorch_rel = max_abs / scale, pytorch_abs / scale
    allowed = max(tolerance, 2 * pytorch_rel)
    passed = rel <= allowed and not problem
    return OutputCheck(index, dtype, shape, max_abs, scale, rel, tolerance, passed, problem, pytorch_rel, allowed)


def compare_outputs(actual: Any, expected: Any, *, rtol: float | None = None, exact: Any = None) -> list[OutputCheck]:
    """Every leaf of ``actual`` against the same leaf of ``expected`` (outputs flattened as pytrees);
    ``exact``, if given, is the reference evaluated in float32 (see :func:`compare_tensor`)."""
    got, want = tree_flatten(actual)[0], tree_flatten(expected)[0]
    truth = tree_flatten(exact)[0] if exact is not None else [None] * len(want)
    if len(got) != len(want) or len(truth) != len(want):
        problem = f"{len(got)} outputs, the reference gives {len(want)}"
        return [OutputCheck(0, "", [], float("inf"), 0.0, float("inf"), 0.0, False, problem)]
    checks = []
    for i, (g, w, t) in enumerate(zip(got, want, truth)):
        if isinstance(w, torch.Tensor) and isinstance(g, torch.Tensor):
            checks.append(compare_tensor(i, g, w, rtol, t if isinstance(t, torch.Tensor) else None))
        else:
            same = type(g) is type(w) and g == w
            problem = "" if same else f"{g!r}, the reference gives {w!r}"
            checks.append(
                OutputCheck(i, type(w).__name__, [], 0.0 if same else float("inf"), 0.0, 0.0, 0.0, same, problem)
            )
    return checks


LOW_PRECISION = (torch.float16, torch.bfloat16)


def _float32_dtype(value: Any) -> Any:
    return torch.float32 if isinstance(value, torch.dtype) and value in LOW_PRECISION else value


def _float32_value(value: Any) -> Any:
    return value.float() if isinstance(value, torch.Tensor) and value.dtype in LOW_PRECISION else value


def float32_module(program: torch.export.ExportedProgram) -> torch.fx.GraphModule:
    """A copy of ``program``'s module computing in float32 where it computed in float16/bfloat16:
    weights converted and every dtype argument (casts, factory ops) of a low-precision type replaced."""
    module = copy.deepcopy(program.module())
    for node in module.graph.nodes:
        node.args, node.kwargs = tree_map(_float32_dtype, node.args), tree_map(_float32_dtype, node.kwargs)
    module.recompile()
    for tensor in [*module.parameters(), *module.buffers()]:
        if tensor.dtype in LOW_PRECISION:
            tensor.data = tensor.data.float()
    for name, value in list(vars(module).items()):
        if isinstance(value, torch.Tensor) and value.dtype in LOW_PRECISION:
            setattr(module, name, value.float())  # lifted constants kept as plain attributes
    return module


def _float32_run(module: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The float32 evaluation, or None when the graph cannot run in float32 (e.g. it bit-casts):
    then low-precision outputs are measured against PyTorch's own result in their dtype."""
    try:
        return module(*tree_map(_float32_value, args), **tree_map(_float32_value, kwargs))
    except Exception:
        return None


@dataclass
class _Reference:
    """The reference graph, and its float32 copy, made once and only for low-precision outputs."""

    program: torch.export.ExportedProgram
    module: torch.nn.Module
    _float32: torch.fx.GraphModule | None = None

    def float32(self) -> torch.fx.GraphModule:
        if self._float32 is None:
            self._float32 = float32_module(self.program)
        return self._float32


# --------------------------------------------------------------------------------------------------
# Drawing inputs inside the program's ranges


@dataclass
class InputCase:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    shapes: list[list[int]]


def _user_input_values(program: torch.export.ExportedProgram) -> list[Any]:
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    return [nodes[name].meta.get("val") for name in program.graph_signature.user_inputs]


def _symbol_hints(values: Sequence[Any], examples: Sequence[Any]) -> dict[sympy.Symbol, int]:
    """Each size symbol's value in the program's example inputs (the size it was traced at)."""
    hints: dict[sympy.Symbol, int] = {}
    for val, example in zip(values, examples):
        if not (isinstance(val, torch.Tensor) and isinstance(example, torch.Tensor)):
            continue
        for size, actual in zip(val.shape, example.shape):
            if isinstance(size, torch.SymInt) and isinstance(size.node.expr, sympy.Symbol):
                hints[size.node.expr] = int(actual)
    return hints


def _bound(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # torch's int_oo: an unbounded range
        return fallback


def _symbol_cases(program: torch.export.ExportedProgram, hints: dict[sympy.Symbol, int]) -> dict[str, dict[Any, int]]:
    """min / example / max values of every size symbol (an unbounded maximum stays at the traced size)."""
    cases: dict[str, dict[Any, int]] = {"min": {}, "example": {}, "max": {}}
    for symbol, hint in hints.items():
        bounds = program.range_constraints.get(symbol)
        lo = _bound(bounds.lower, hint) if bounds is not None else hint
        hi = _bound(bounds.upper, hint) if bounds is not None else hint
        cases["min"][symbol], cases["example"][symbol], cases["max"][symbol] = lo, hint, hi
    return cases


def _concrete_shape(val: torch.Tensor, values: dict[Any, int]) -> list[int]:
    return [int(s) if isinstance(s, int) else int(sympy.sympify(s.node.expr).subs(values)) for s in val.shape]


def _embedding_sizes(program: torch.export.ExportedProgram) -> dict[str, int]:
    """Per user input, the smallest embedding table its values index (so drawn ids stay valid)."""
    users_of = {n: list(n.users) for n in program.graph.nodes}
    sizes: dict[str, int] = {}
    for name in program.graph_signature.user_inputs:
        start = next((n for n in program.graph.nodes if n.op == "placeholder" and n.name == name), None)
        seen, stack = set(), [start] if start is not None else []
        while stack:
            node = stack.pop()
            for user in users_of.get(node, ()):
                if user.target is torch.ops.aten.embedding.default and len(user.args) > 1 and user.args[1] is node:
                    rows = int(user.args[0].meta["val"].shape[0])
                    sizes[name] = min(sizes.get(name, rows), rows)
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
    return sizes


def _draw(val: torch.Tensor, shape: list[int], high: int, generator: torch.Generator) -> torch.Tensor:
    if val.dtype.is_floating_point:
        return torch.randn(shape, generator=generator).to(val.dtype)
    if val.dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=generator).bool()
    return torch.randint(0, high, shape, generator=generator).to(val.dtype)


def input_cases(
    program: torch.export.ExportedProgram, reference: torch.export.ExportedProgram | None = None, *, seed: int = 0
) -> list[InputCase]:
    """Random inputs at the smallest, traced and largest sizes of ``program``'s ranges (duplicates
    dropped). Floats are standard normal; integers index the smallest embedding table they reach in
    ``reference``'s graph, else are 0 or 1 (masks, token types); non-tensor inputs keep their example."""
    values = _user_input_values(program)
    example = program.example_inputs
    leaves, spec = tree_flatten(example) if example is not None else (list(values), None)
    if len(leaves) != len(values):
        leaves, spec = list(values), None
    symbol_cases = _symbol_cases(program, _symbol_hints(values, leaves))
    bounds_graph = reference if reference is not None else program
    embedding = _embedding_sizes(bounds_graph)
    names = bounds_graph.graph_signature.user_inputs
    generator = torch.Generator().manual_seed(seed)
    cases: list[InputCase] = []
    for case_name, assignment in symbol_cases.items():
        drawn, shapes = [], []
        for i, (val, leaf) in enumerate(zip(values, leaves)):
            if not isinstance(val, torch.Tensor):
                drawn.append(leaf)
                continue
            shape = _concrete_shape(val, assignment)
            high = embedding.get(names[i], 2) if i < len(names) else 2
            drawn.append(_draw(val, shape, high, generator))
            shapes.append(shape)
        if any(c.shapes == shapes for c in cases):
            continue
        args, kwargs = tree_unflatten(drawn, spec) if spec is not None else (tuple(drawn), {})
        cases.append(InputCase(case_name, tuple(args), dict(kwargs), shapes))
    if len(cases) == 1:
        cases[0].name = "static"  # no dynamic size: min, opt and max are one shape
    return cases


# --------------------------------------------------------------------------------------------------
# Validating a saved program


def engine_records_missing(program: torch.export.ExportedProgram, store_dir: Path) -> list[str]:
    """Names of the program's engines whose network is not recorded in the emulation store."""
    from torch_tensorrt.dynamo.runtime._engine_layout import NAME_IDX
    from torch_tensorrt.dynamo.runtime._execute_engine_op import engine_calls
    from torch_tensorrt.testing._emulated_runtime import EmulationStore

    store = EmulationStore(store_dir)
    missing = []
    for tensor, info in engine_calls(program.module()):
        data = tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
        if not store.contains(data):
            missing.append(f"{info[NAME_IDX]} (sha256 {hashlib.sha256(data).hexdigest()[:16]})")
    return missing


def _copy(value: Any) -> Any:
    return value.clone() if isinstance(value, torch.Tensor) else value


def _run_case(
    case: InputCase, compiled: torch.nn.Module, reference: _Reference, store_dir: Path, rtol: float | None
) -> CaseReport:
    from torch_tensorrt.testing._emulated_runtime import emulated_runtime

    report = CaseReport(case.name, case.shapes)
    with torch.no_grad():
        try:
            # Copies: a reference that writes into its inputs must not change what the program gets.
            args, kwargs = tree_map(_copy, (case.args, case.kwargs))
            expected = reference.module(*args, **kwargs)
        except Exception as exc:
            report.error = f"the PyTorch reference failed: {type(exc).__name__}: {exc}"
            return report
        low = any(isinstance(t, torch.Tensor) and t.dtype in LOW_PRECISION for t in tree_flatten(expected)[0])
        exact = _float32_run(reference.float32(), case.args, case.kwargs) if low else None
        try:
            with emulated_runtime(store_dir):
                actual = compiled(*case.args, **case.kwargs)
        except Exception as exc:
            report.error = f"the compiled program failed: {type(exc).__name__}: {exc}"
            return report
    report.outputs = compare_outputs(actual, expected, rtol=rtol, exact=exact)
    return report


def validate_program(
    path: str | os.PathLike[str],
    *,
    store_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    rtol: float | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """Run the program saved at ``path`` on the reference executor against its embedded reference.

    ``store_dir`` is the emulation store holding the engines' networks (default: the one
    ``emulated_runtime()`` uses). Raises FileNotFoundError / ValueError for a file that is no
    loadable program; everything else (no reference, missing records, a mismatch) is in the report.
    """
    from torch_tensorrt.dynamo._program_archive import read_program_archive
    from torch_tensorrt.dynamo.runtime._serialization import checked_program
    from torch_tensorrt.testing._emulated_runtime import default_store_dir

    say = progress or (lambda _message: None)
    store = Path(store_dir) if store_dir is not None else default_store_dir()
    report = ValidationReport(os.fspath(path), os.fspath(store))
    say("reading the program")
    archive = read_program_archive(path)
    program = checked_program(archive.path, archive.program)
    if archive.reference is None:
        report.error = (
            "the file holds no reference graph to validate against; save it with one (the command line's "
            "compile does, or torch_tensorrt.testing.save_with_reference in Python)"
        )
        return report
    missing = engine_records_missing(program, store)
    if missing:
        report.error = (
            f"no network recorded in {store} for engine(s) {', '.join(missing)}: the reference executor runs an "
            "engine from the network recorded when it was built. Compile it again (torch-tensorrt compile records "
            "networks; in Python, build under torch_tensorrt.testing.emulated_runtime()), or pass the store it "
            "was recorded in (--store / TORCH_TENSORRT_EMULATION_DIR)"
        )
        return report
    compiled, reference = program.module(), _Reference(archive.reference, archive.reference.module())
    for case in input_cases(program, archive.reference, seed=seed):
        say(f"input case {case.name} ({', '.join('x'.join(map(str, s)) or 'scalar' for s in case.shapes)})")
        report.cases.append(_run_case(case, compiled, reference, store, rtol))
    return report
