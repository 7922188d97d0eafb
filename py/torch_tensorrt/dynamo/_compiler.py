"""The compile pipeline: trace → lower → partition → convert/build → runtime modules."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import sympy
import torch

from torch_tensorrt._Input import Input
from torch_tensorrt.dynamo._binding_names import REQUESTED_BINDING_NAMES, segment_io_names
from torch_tensorrt.dynamo._cached_conversion import convert_with_engine_cache, engine_cache_for
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._shape_tensor_inputs import mark_shape_tensor_inputs, mark_shape_tensor_program_inputs
from torch_tensorrt.dynamo._summary import CompileSummary, EngineSummary, FailedSegment
from torch_tensorrt.dynamo._tracer import as_input_tree, as_inputs, program_input_specs, trace
from torch_tensorrt.dynamo.conversion import ConvertedSegment
from torch_tensorrt.dynamo.debug._engine_profile import profile_if_debugging
from torch_tensorrt.dynamo.lowering import lower_exported_program
from torch_tensorrt.dynamo.partitioning import partition
from torch_tensorrt.dynamo.partitioning._partitioner import NON_COMPUTE_TARGETS, op_name
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._compiled_graph_module import as_compiled_graph_module
from torch_tensorrt.dynamo.runtime._engine_memory import reclaim_dropped_engines
from torch_tensorrt.dynamo.runtime._segment_info import engine_info_for_segment

logger = logging.getLogger("torch_tensorrt")
# One INFO record per long step (engine builds), for front ends that show progress (the command line).
progress_logger = logging.getLogger("torch_tensorrt.progress")

_PRESERVED_ATTRIBUTES = "_user_preserved_attributes"  # torch.fx.graph_module._USER_PRESERVED_ATTRIBUTES_KEY

ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

_NON_COMPUTE_NAMES = frozenset(op_name(t) for t in NON_COMPUTE_TARGETS)


@contextlib.contextmanager
def _collect_only_new_objects() -> Iterator[None]:
    """Keep Python's garbage collector to the objects a compile creates.

    A compile allocates enough objects to set off a full collection, which also walks every object
    torch and the model already hold: 0.15 s on ResNet-50, close to a tenth of its compile.
    Freezing the heap that exists before the compile leaves collections only the compile's own
    objects. A process that froze objects itself owns the frozen set; it is left alone.
    """
    if gc.isenabled():
        # Before freezing: engines of dropped programs would otherwise be frozen with the heap.
        reclaim_dropped_engines()
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _debug_logging(enabled: bool) -> Iterator[None]:
    """``debug=True``: the ``torch_tensorrt`` logger reports at DEBUG level for this compile."""
    previous = logger.level
    if enabled:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.setLevel(previous)


class _Stopwatch:
    def __init__(self, summary: CompileSummary) -> None:
        self.summary = summary

    def stage(self, name: str) -> _Stage:
        return _Stage(self.summary, name)


class _Stage:
    def __init__(self, summary: CompileSummary, name: str) -> None:
        self.summary, self.name = summary, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.start
        self.summary.stage_seconds[self.name] = self.summary.stage_seconds.get(self.name, 0.0) + seconds
        logger.info("stage %s took %.3f s", self.name, seconds)


def symbol_ranges(
    module: torch.fx.GraphModule, specs: Sequence[Input], profile: int | None = None
) -> dict[Any, tuple[int, int, int]]:
    """Map each symbolic size of the graph inputs to its (min, opt, max) from the user's Inputs: their
    whole ranges, or (``profile``) the ranges of that optimization profile (see profile_count)."""
    ranges: dict[Any, tuple[int, int, int]] = {}
    placeholders = [n for n in module.graph.nodes if n.op == "placeholder"]
    for node, spec in zip(placeholders, specs):
        val = node.meta.get("val")
        if not isinstance(val, torch.Tensor):
            continue
        shapes = _spec_shapes(spec, profile)
        for d, size in enumerate(val.shape):
            if isinstance(size, torch.SymInt):
                bounds = (shapes[0][d], shapes[1][d], shapes[2][d])
                solved = _solve_linear_size(size.node.expr, bounds)
                if solved is not None:
                    ranges.setdefault(*solved)
    return ranges


def _spec_shapes(spec: Input, profile: int | None) -> tuple[tuple[int, ...], ...]:
    if profile is not None and spec.profiles is not None:
        chosen = spec.profiles[profile]
        return chosen["min_shape"], chosen["opt_shape"], chosen["max_shape"]
    return spec.min_shape, spec.opt_shape, spec.max_shape


def profile_count(specs: Sequence[Input]) -> int:
    """How many optimization profiles the engines get: that of every Input declaring ``profiles``
    (they must agree; the other Inputs reuse their one range in each), else 1."""
    counts = {i: len(s.profiles) for i, s in enumerate(specs) if isinstance(s, Input) and s.profiles is not None}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"input {i}: {n}" for i, n in counts.items())
        raise ValueError(
            f"every Input declaring profiles must declare the same number of them (one engine profile per "
            f"index), got {listed}; give each the same list length"
        )
    return next(iter(counts.values()), 1)


def _solve_linear_size(expr: Any, bounds: tuple[int, int, int]) -> tuple[Any, tuple[int, int, int]] | None:
    """The range of ``s`` for an input size ``a*s + b`` (a > 0) that lies within ``bounds``.

    torch.export refines a size it must divide (``x.view(n, x.shape[2] // 2, -1)``) to ``2*s``; the
    new symbol's range is the values that keep the size inside the user's range.
    """
    symbols = list(expr.free_symbols)
    if len(symbols) != 1:
        return None
    sym = symbols[0]
    poly = sympy.Poly(expr, sym) if expr.is_polynomial(sym) else None
    if poly is None or poly.degree() != 1:
        return None
    a, b = (int(c) for c in poly.all_coeffs())
    if a <= 0:
        return None
    lo, opt, hi = bounds
    low, high = -((b - lo) // a), (hi - b) // a  # ceil((lo - b) / a), floor((hi - b) / a)
    return sym, (low, min(max((opt - b) // a, low), high), high)


def _shape_range(val: torch.Tensor, ranges: dict[Any, tuple[int, int, int]]) -> ShapeRange:
    bounds: list[list[int]] = [[], [], []]
    for size in val.shape:
        if isinstance(size, int):
            for b in bounds:
                b.append(size)
            continue
        expr = size.node.expr
        for k, b in enumerate(bounds):
            value = expr.subs({sym: r[k] for sym, r in ranges.items()})
            if not value.is_number:
                value = _data_dependent_bound(size, value, upper=k > 0)
            b.append(int(value))
    return tuple(bounds[0]), tuple(bounds[1]), tuple(bounds[2])


def _data_dependent_bound(size: torch.SymInt, expr: Any, upper: bool) -> int:
    """A bound of a size made from data-dependent (unbacked) symbols, such as the row count of a
    ``nonzero`` that runs in PyTorch before this segment: the value range torch.export recorded for them.
    min takes the low end; opt and max the high end, so the engine accepts every size the op can give."""
    from torch.utils._sympy.value_ranges import bound_sympy

    known = size.node.shape_env.var_to_range
    unknown = [sym for sym in expr.free_symbols if sym not in known]
    if unknown:
        raise ValueError(f"cannot bound dynamic size {expr}: its symbols come from no Input range")
    bound = bound_sympy(expr, {sym: known[sym] for sym in expr.free_symbols})
    value = bound.upper if upper else bound.lower
    if not isinstance(value, sympy.Integer):  # int_oo when export knows no bound
        names = ", ".join(sorted(str(sym) for sym in expr.free_symbols))
        raise ValueError(
            f"cannot bound the data-dependent size {expr} of a TensorRT segment input: torch.export knows no "
            f"{'upper' if upper else 'lower'} bound for {names}. Bound it in the model, e.g. "
            f"torch._check({names.split(', ')[0]} <= N), or run the consumer in PyTorch (torch_executed_ops)."
        )
    return int(value)


def _segment_input_ranges(
    parent: torch.fx.GraphModule, call: torch.fx.Node, ranges: dict[Any, tuple[int, int, int]]
) -> list[ShapeRange]:
    result = []
    for arg in call.args:
        val = arg.meta.get("val") if isinstance(arg, torch.fx.Node) else None
        if not isinstance(val, torch.Tensor):
            raise ValueError(f"TensorRT segment {call.target} takes a non-tensor input {arg}")
        result.append(_shape_range(val, ranges))
    return result


def compile_module(
    module: torch.fx.GraphModule,
    specs: Sequence[Input],
    settings: CompilationSettings,
    summary: CompileSummary,
) -> torch.fx.GraphModule:
    """Partition a lowered module and replace each TensorRT segment with a runtime module."""
    watch = _Stopwatch(summary)
    ranges = symbol_ranges(module, specs)
    profiles = profile_count(specs)
    per_profile = [symbol_ranges(module, specs, k) for k in range(profiles)] if profiles > 1 else []
    mark_shape_tensor_program_inputs(module, specs)
    with watch.stage("partition"):
        result = partition(module, settings)
    summary.converted_ops.update(result.converted_ops)
    summary.fallback_ops.update(result.fallback_ops)
    for u in result.unsupported:
        summary.fallback_reasons.setdefault(u.op, u.reason)
    gm = result.module
    if settings.dryrun:
        return gm
    calls = [n for n in gm.graph.nodes if n.op == "call_module" and n.target in result.trt_segments]
    engine_cache = engine_cache_for(settings)
    for index, call in enumerate(calls, 1):
        segment_module = getattr(gm, call.target)
        mark_shape_tensor_inputs(gm, call, segment_module)
        input_ranges = _segment_input_ranges(gm, call, ranges)
        profile_ranges = [_segment_input_ranges(gm, call, r) for r in per_profile]
        build_args: tuple[Any, ...] = (profile_ranges,)
        requested_names = REQUESTED_BINDING_NAMES.get()
        if requested_names is not None:
            outputs = _segment_output_count(segment_module)
            build_args += (segment_io_names(gm, call, outputs, requested_names),)
        progress_logger.info("building engine %d/%d (%s)", index, len(calls), call.target)
        with watch.stage("convert+build"):
            try:
                converted = convert_with_engine_cache(
                    engine_cache, call.target, segment_module, input_ranges, settings, *build_args
                )
            except Exception as exc:
                if settings.pass_through_build_failures or settings.require_full_compilation:
                    raise
                _record_failed_segment(summary, call.target, segment_module, exc)
                continue
        summary.stage_seconds["convert"] = summary.stage_seconds.get("convert", 0.0) + converted.convert_seconds
        summary.stage_seconds["build"] = summary.stage_seconds.get("build", 0.0) + converted.build_seconds
        _record_engine(summary, converted)
        out_node = next(n for n in segment_module.graph.nodes if n.op == "output")
        output_is_tuple = isinstance(out_node.args[0], (list, tuple))
        info = engine_info_for_segment(converted, settings)
        trt_module = TorchTensorRTModule(
            info, name=call.target, output_is_tuple=output_is_tuple, use_python_runtime=settings.use_python_runtime
        )
        profile_if_debugging(trt_module)  # Debugger(save_engine_profile=True)
        setattr(gm, call.target, trt_module)
    summary.stage_seconds.pop("convert+build", None)
    return gm  # its code is current: only submodules were swapped since partitioning generated it


def _segment_output_count(segment: torch.fx.GraphModule) -> int:
    out_node = next(n for n in segment.graph.nodes if n.op == "output")
    return len(out_node.args[0]) if isinstance(out_node.args[0], (list, tuple)) else 1


def _record_failed_segment(summary: CompileSummary, name: str, segment: torch.fx.GraphModule, exc: Exception) -> None:
    """A segment that could not become an engine runs in PyTorch: say so, and count its ops there."""
    ops = Counter(op_name(n.target) for n in segment.graph.nodes if n.op == "call_function")
    compute = Counter({op: k for op, k in ops.items() if op not in _NON_COMPUTE_NAMES})
    reason = f"{type(exc).__name__}: {exc}"
    summary.converted_ops -= ops  # the partitioner counted every node placed in the segment
    summary.fallback_ops.update(compute)  # ... and leaves routing nodes out of the fallback count
    for op in compute:
        summary.fallback_reasons.setdefault(op, f"TensorRT segment {name} failed to convert or build")
    summary.failed_segments.append(FailedSegment(name, reason, sum(compute.values())))
    logger.warning(
        "TensorRT segment %s (%d ops) failed and runs in PyTorch instead: %s. "
        "Pass pass_through_build_failures=True to raise this error instead.",
        name,
        sum(compute.values()),
        reason,
    )


def _record_engine(summary: CompileSummary, converted: ConvertedSegment) -> None:
    summary.engines.append(
        EngineSummary(
            name=converted.name,
            engine_bytes=len(converted.engine),
            inputs=len(converted.inputs),
            outputs=len(converted.outputs),
            convert_seconds=converted.convert_seconds,
            build_seconds=converted.build_seconds,
        )
    )


def _check_dynamo_ir(ir: Any) -> None:
    """Torch-TensorRT's tests pass torch_tensorrt.compile's ``ir`` to dynamo.compile too: an IR naming
    this frontend is accepted, any other is refused."""
    if ir is not None and ir not in ("dynamo", "default", "exported_program"):
        raise ValueError(
            f"dynamo.compile(ir={ir!r}): dynamo.compile is the dynamo (torch.export) frontend; use "
            "torch_tensorrt.compile(module, ir=...) to choose another"
        )


@_collect_only_new_objects()
def compile(  # noqa: A001 - Torch-TensorRT's name
    exported_program: torch.export.ExportedProgram,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    settings: CompilationSettings | None = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile an ExportedProgram; returns a GraphModule of TensorRT and PyTorch segments.

    The compile summary is attached as ``module._compile_summary`` and logged at INFO.
    """
    _check_dynamo_ir(kwargs.pop("ir", None))
    if settings is None:
        settings = CompilationSettings.from_kwargs(**kwargs)
    elif kwargs:
        raise TypeError("pass either settings= or keyword settings, not both")
    given = _example_tensors_with_program_ranges(exported_program, arg_inputs if arg_inputs is not None else inputs)
    specs = _specs_from_program(exported_program, given)
    all_specs = program_input_specs(exported_program, list(given), kwarg_inputs) if given is not None else specs
    with _debug_logging(settings.debug):
        return _compile_program(exported_program, specs, settings, CompileSummary(), all_specs)


def _compile_program(
    program: torch.export.ExportedProgram,
    specs: Sequence[Input],
    settings: CompilationSettings,
    summary: CompileSummary,
    input_specs: Sequence[Input] | None = None,
) -> torch.fx.GraphModule:
    """Lower, partition, convert and build; the summary and Inputs are attached to the result.
    ``specs``: the positional inputs', nested as the arguments are (kept for save); ``input_specs``:
    every program input's, keyword inputs included (None: the leaves of ``specs``)."""
    with _Stopwatch(summary).stage("lower"):
        lowered = lower_exported_program(program, settings)
    # module.runtime_settings reaches the engines, as users of Torch-TensorRT set it on the result.
    all_specs = input_specs if input_specs is not None else as_inputs(specs)
    gm = as_compiled_graph_module(compile_module(lowered, all_specs, settings, summary))
    gm._compile_summary = summary  # type: ignore[assignment]
    gm._torch_tensorrt_inputs = list(specs)  # type: ignore[assignment]  (used by save when no inputs are given)
    # copy.deepcopy of a GraphModule keeps only the attributes listed under this meta key.
    gm.meta.setdefault(_PRESERVED_ATTRIBUTES, {}).update(
        _compile_summary=summary, _torch_tensorrt_inputs=gm._torch_tensorrt_inputs
    )
    logger.info("compile summary:\n%s", summary)
    if isinstance(settings.dryrun, str) and settings.dryrun:
        # Torch-TensorRT's dryrun="path": the dry run's report also goes to that file.
        with open(settings.dryrun, "w", encoding="utf-8") as report:
            report.write(f"{summary}\n")
    return gm


def _example_tensors_with_program_ranges(
    program: torch.export.ExportedProgram, inputs: Sequence[Any] | None
) -> Sequence[Any] | None:
    """Example tensors given for a program with dynamic dims stand for the ranges torch.export
    recorded (as in Torch-TensorRT, whose engines take the program's symbolic ranges): a tensor input
    whose placeholder has symbolic sizes becomes that range's Input. Inputs given as
    torch_tensorrt.Input keep theirs; nested inputs are taken as given."""
    if inputs is None or not isinstance(inputs, (list, tuple)):
        return inputs
    if not all(isinstance(i, (torch.Tensor, Input)) for i in inputs):
        return inputs
    ranged = _specs_from_program(program, None)
    if len(ranged) != len(inputs):
        return inputs
    return [
        spec if isinstance(given, torch.Tensor) and spec.is_dynamic() else given for given, spec in zip(inputs, ranged)
    ]


def _specs_from_program(program: torch.export.ExportedProgram, inputs: Sequence[Any] | None) -> list[Any]:
    if inputs is not None:
        return as_input_tree(inputs)
    # No Inputs given: take the ranges torch.export recorded for the user inputs.
    specs = []
    user_inputs = [
        s.arg.name
        for s in program.graph_signature.input_specs
        if s.kind == torch.export.graph_signature.InputKind.USER_INPUT
    ]
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    for name in user_inputs:
        val = nodes[name].meta["val"]
        lo, opt, hi = [], [], []
        for size in val.shape:
            if isinstance(size, int):
                lo.append(size)
                opt.append(size)
                hi.append(size)
            else:
                vr = program.range_constraints.get(size.node.expr)
                hint = size.node.hint
                lo.append(_bound(vr.lower if vr is not None else None, hint))
                hi.append(_bound(vr.upper if vr is not None else None, hint))
                if hi[-1] == hint and lo[-1] != hint:
                    logger.warning(
                        "input %s dim %d has no upper bound in the ExportedProgram; the engine is built for "
                        "sizes up to %d. Pass arg_inputs=[torch_tensorrt.Input(min_shape=..., max_shape=...)] "
                        "to choose the range.",
                        name,
                        len(hi) - 1,
                        hint,
                    )
                opt.append(hint)
        specs.append(Input(min_shape=lo, opt_shape=opt, max_shape=hi, dtype=val.dtype))
    return specs


def _bound(value: Any, fallback: int) -> int:
    """A finite range bound as an int; torch.export's infinities fall back to the traced size."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return fallback


@_collect_only_new_objects()
def trace_and_compile(
    module: torch.nn.Module,
    arg_inputs: Sequence[Any],
    kwarg_inputs: dict[str, Any] | None,
    settings: CompilationSettings,
) -> torch.fx.GraphModule:
    specs = as_input_tree(arg_inputs)
    summary = CompileSummary()
    with _debug_logging(settings.debug):
        with _Stopwatch(summary).stage("trace"):
            # Node source locations reach the user only in require_full_compilation's error and in
            # debug logging; recording them is about a tenth of the trace.
            locations = settings.require_full_compilation or settings.debug
            program = trace(module, list(arg_inputs), kwarg_inputs=kwarg_inputs, source_locations=locations)
        all_specs = program_input_specs(program, list(arg_inputs), kwarg_inputs)
        return _compile_program(program, specs, settings, summary, all_specs)
