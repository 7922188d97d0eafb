"""Stage 1: torch.export with dynamic dims taken from Input ranges."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.fx._pytree import tree_flatten_spec

from torch_tensorrt._Input import Input, check_example_size
from torch_tensorrt._logging import warn_once
from torch_tensorrt.dynamo._hf_cache import explain_unregistered_cache, register_cache_pytrees

logger = logging.getLogger("torch_tensorrt")


def _is_input_leaf(value: Any) -> bool:
    return isinstance(value, (Input, torch.Tensor))


def _flatten_inputs(values: Sequence[Any]) -> tuple[list[Any], Any]:
    """The leaves of (possibly nested) inputs, in torch.export's order, and their structure: inputs
    may be lists, tuples and dicts of tensors/Inputs, as in Torch-TensorRT (a detection model's list
    of images)."""
    return torch.utils._pytree.tree_flatten(list(values), is_leaf=_is_input_leaf)


def as_inputs(values: Sequence[Any]) -> list[Input]:
    """Normalise user inputs (Input objects or example tensors, possibly nested in lists, tuples and
    dicts) to one Input per leaf, in the order of the program's inputs."""
    leaves, _ = _flatten_inputs(values)
    result = []
    for i, value in enumerate(leaves):
        if isinstance(value, Input):
            result.append(value)
        elif isinstance(value, torch.Tensor):
            result.append(Input.from_tensor(value))
        else:
            raise TypeError(
                f"input {i} must be a torch_tensorrt.Input or a torch.Tensor (or lists, tuples and dicts of "
                f"them), got {type(value).__name__}"
            )
    return result


def as_input_tree(values: Sequence[Any]) -> list[Any]:
    """``values`` with each leaf an Input, nested as given (what save re-traces with)."""
    return list(torch.utils._pytree.tree_unflatten(as_inputs(values), _flatten_inputs(values)[1]))


def nested_examples(specs: Sequence[Any], example: Any) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """Positional example arguments for ``specs`` (Inputs, possibly nested), made by ``example`` per
    Input, and torch.export's dynamic_shapes for them nested alike (None when every Input is static)."""
    leaves, _ = _flatten_inputs(specs)
    shapes = _dynamic_shapes(leaves)
    return _nest_like(specs, [example(spec) for spec in leaves]), None if shapes is None else _nest_like(specs, shapes)


def _nest_like(inputs: Sequence[Any], flat: Sequence[Any]) -> tuple[Any, ...]:
    """``flat`` (one value per leaf of ``inputs``) nested as ``inputs`` is: one entry per argument."""
    return tuple(torch.utils._pytree.tree_unflatten(list(flat), _flatten_inputs(inputs)[1]))


def _example_for(spec: Input) -> torch.Tensor:
    if not spec.is_dynamic():
        return spec.example_tensor("opt_shape")
    # torch.export specialises sizes 0 and 1, so the example must use a size >= 2 on dynamic dims.
    shape = [
        opt if lo == hi else max(opt, min(2, hi)) for lo, opt, hi in zip(spec.min_shape, spec.opt_shape, spec.max_shape)
    ]
    check_example_size(spec, shape)
    return spec.random_tensor(shape)


def _dynamic_shapes(specs: Sequence[Input]) -> tuple[dict[int, Any] | None, ...] | None:
    if not any(s.is_dynamic() for s in specs):
        return None
    shared: dict[str, tuple[Any, int, int]] = {}  # Input.shared_dims name -> one Dim for all its axes
    shapes: list[dict[int, Any] | None] = []
    for index, spec in enumerate(specs):
        dims = {}
        for d in spec.dynamic_dims():
            lo, hi = spec.min_shape[d], spec.max_shape[d]
            name = spec.shared_dims.get(d)
            if name is None:
                dims[d] = torch.export.Dim(f"input{index}_dim{d}", min=lo, max=hi)
                continue
            if name not in shared:
                shared[name] = (torch.export.Dim(name, min=lo, max=hi), lo, hi)
            dim, shared_lo, shared_hi = shared[name]
            if (shared_lo, shared_hi) != (lo, hi):
                raise ValueError(
                    f"shared dim {name!r} has range [{lo}, {hi}] on input {index} but [{shared_lo}, {shared_hi}] "
                    "on an earlier input; one name must have one range"
                )
            dims[d] = dim
        shapes.append(dims or None)
    return tuple(shapes)


def get_dynamic_shapes_args(
    mod: torch.nn.Module, inputs: Sequence[Any], dim_registry: dict[str, Any] | None = None
) -> dict[str, Any]:
    """torch.export ``dynamic_shapes`` for ``inputs`` (Inputs or tensors), keyed by the names of
    ``mod.forward``'s parameters: per input, {dim index: torch.export.Dim} for its dynamic dims ({} for
    a static input). Torch-TensorRT's helper, with its naming: a dim is ``Dim(f"{input.name}_{index}")``,
    so same-named dims of several inputs are one symbol (their ranges must agree); with ``dim_registry``
    (name -> Dim), a dim named by ``Input.shared_dims`` is the registry's Dim of that name (added if new)."""
    names = list(inspect.signature(mod.forward).parameters)
    made: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    for name, value in zip(names, inputs):
        dims: dict[int, Any] = {}
        if isinstance(value, Input) and value.is_dynamic():
            for d in value.dynamic_dims():
                lo, hi = value.min_shape[d], value.max_shape[d]
                shared = value.shared_dims.get(d)
                if dim_registry is not None and shared is not None:
                    dims[d] = dim_registry.setdefault(shared, torch.export.Dim(shared, min=lo, max=hi))
                    continue
                dim_name = f"{value.name or ''}_{d}"
                dims[d] = made.setdefault(dim_name, torch.export.Dim(dim_name, min=lo, max=hi))
        shapes[name] = dims
    return shapes


@contextlib.contextmanager
def _stack_traces(record: bool) -> Iterator[None]:
    """Whether traced nodes record the Python stack that created them (``meta["stack_trace"]``)."""
    previous = torch.fx.config.do_not_emit_stack_traces
    torch.fx.config.do_not_emit_stack_traces = previous or not record
    try:
        yield
    finally:
        torch.fx.config.do_not_emit_stack_traces = previous


def trace(
    mod: torch.nn.Module,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    source_locations: bool = True,
    **kwargs: Any,
) -> torch.export.ExportedProgram:
    """Export ``mod`` for the given inputs (``Input`` specs or example tensors, as in Torch-TensorRT);
    dynamic ranges become torch.export Dims.

    ``strict=`` is passed to torch.export. ``source_locations=False`` skips recording each node's
    Python stack: about a tenth of the trace on CNNs, for information only an unsupported-op error
    prints. Other Torch-TensorRT keywords (``device``, ``debug``, ...) are reported as having no effect.
    """
    if inputs is not None and arg_inputs is not None:
        raise ValueError("give inputs= or arg_inputs=, not both")
    given = inputs if inputs is not None else arg_inputs
    given = [given] if isinstance(given, (torch.Tensor, Input)) else list(given or ())
    specs = as_inputs(given)
    strict = bool(kwargs.pop("strict", False))
    _report_trace_options(kwargs)
    args = _nest_like(given, [_example_for(spec) for spec in specs])
    kwargs_examples = _kwarg_examples(kwarg_inputs)
    kwarg_specs = {k: v for k, v in (kwarg_inputs or {}).items() if isinstance(v, Input)}
    # One call for every Input, so that dims shared by name are one Dim across args and kwargs.
    dynamic_shapes: Any = _dynamic_shapes([*specs, *kwarg_specs.values()])
    if dynamic_shapes is not None:
        positional = _nest_like(given, dynamic_shapes[: len(specs)])
    if dynamic_shapes is not None and any(s.is_dynamic() for s in kwarg_specs.values()):
        keyword_shapes = dict(zip(kwarg_specs, dynamic_shapes[len(specs) :]))
        dynamic_shapes = _shapes_by_parameter(mod, args, kwargs_examples or {}, positional, keyword_shapes)
    elif dynamic_shapes is not None:
        dynamic_shapes = positional
        if _takes_only_varargs(mod):
            dynamic_shapes = (dynamic_shapes,)  # torch.export nests *args specs in one tuple

    # Hugging Face models return a KV-cache object by default (use_cache=True); export must flatten it.
    register_cache_pytrees()

    def export(shapes: Any) -> torch.export.ExportedProgram:
        with _stack_traces(source_locations), _explain_data_dependent_control_flow(), explain_unregistered_cache():
            return torch.export.export(mod, args, kwargs=kwargs_examples, dynamic_shapes=shapes, strict=strict)

    try:
        return export(dynamic_shapes)
    except Exception as exc:
        if dynamic_shapes is None or "Suggested fixes" not in str(exc):
            raise
        first_error = exc
    # Each dynamic dim starts out independent; when the model ties dims together (two inputs
    # sharing a batch size, a dim derived from another) torch.export suggests the relations.
    # Apply them once; a range that is still rejected is reported with torch.export's reason.
    from torch.export.dynamic_shapes import refine_dynamic_shapes_from_suggested_fixes

    fixes = _relations_only(_suggested_fixes(str(first_error)))
    if fixes is None:
        # Only dims the model pins to one value: the requested range cannot be honoured.
        raise ValueError(f"torch.export rejected the dynamic input ranges: {first_error}") from first_error
    try:
        refined = refine_dynamic_shapes_from_suggested_fixes(fixes, dynamic_shapes)
        program = export(refined)
    except Exception as exc:
        raise ValueError(f"torch.export rejected the dynamic input ranges: {first_error}") from exc
    logger.info("dynamic dims refined as torch.export suggested: %s", refined)
    return program


def _relations_only(fixes: str) -> str | None:
    """The suggested fixes that relate dims to each other, without those that pin a dim to a value.

    torch.export may suggest pins alongside relations (three inputs of one shape, as ``aten.atan2.out``
    takes them, get pins of their dim 0 next to the equalities of their dim 1); the pins are
    consequences of dims left independent, and exporting with the equalities alone keeps the ranges.
    If a pin is real, the export with the relations fails and the first error is reported."""
    header, *lines = fixes.splitlines()
    relations = [line for line in lines if not line.split(" = ", 1)[1].strip().lstrip("-").isdigit()]
    return "\n".join([header, *relations]) if relations else None


# trace() keywords of Torch-TensorRT that change nothing here -> why.
_TRACE_OPTIONS_WITHOUT_EFFECT = {
    "device": "example tensors are made on the CPU (tracing needs no GPU); the compile device is a setting",
    "debug": "use torch_tensorrt.logging.debug() or dynamo.Debugger for verbose output",
    "enable_experimental_decompositions": "trace() decomposes nothing; lowering applies the decompositions",
}


def _report_trace_options(options: dict[str, Any]) -> None:
    for name, value in sorted(options.items()):
        why = _TRACE_OPTIONS_WITHOUT_EFFECT.get(name, "trace() takes no such option")
        warn_once(
            f"trace:{name}", f"trace({name}={value!r}) has no effect: {why}. (reported once per process)", stacklevel=3
        )


def _kwarg_examples(kwarg_inputs: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keyword inputs as example values; Input specs become example tensors (see _example_for)."""
    if not kwarg_inputs:
        return None
    return {key: _example_for(value) if isinstance(value, Input) else value for key, value in kwarg_inputs.items()}


def _shapes_by_parameter(
    mod: torch.nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    positional: Sequence[Any],
    by_keyword: dict[str, Any],
) -> dict[str, Any]:
    """torch.export's dynamic_shapes keyed by forward's parameter names: the form that reaches
    keyword inputs (a tuple covers positional ones only). ``positional``: one entry per arg;
    ``by_keyword``: the entries of keyword Inputs (other keyword values are static: None)."""
    signature = inspect.signature(mod.forward)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"arg_inputs/kwarg_inputs do not fit {type(mod).__name__}.forward{signature}: {exc}") from exc
    shapes: dict[str, Any] = {}
    next_arg = 0
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            shapes[name] = tuple(positional[next_arg : next_arg + len(value)])
            next_arg += len(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            shapes[name] = {key: by_keyword.get(key) for key in value}
        elif name in kwargs:
            shapes[name] = by_keyword.get(name)
        else:
            shapes[name] = positional[next_arg]
            next_arg += 1
    return shapes


def program_input_specs(
    program: torch.export.ExportedProgram, arg_inputs: Sequence[Any], kwarg_inputs: dict[str, Any] | None
) -> list[Input]:
    """One Input per user input of ``program`` traced by :func:`trace`: the leaves of ``arg_inputs``
    (Inputs or tensors, possibly nested), then the keyword inputs in the program's order (example
    tensors become static Inputs). Keyword values that are not tensors (e.g. cache objects) leave the
    keyword inputs without specs, as before they had any."""
    arg_specs = as_inputs(arg_inputs)
    if not kwarg_inputs:
        return arg_specs
    try:
        leaves = tree_flatten_spec((tuple(arg_inputs), kwarg_inputs), program.call_spec.in_spec)
    except Exception:  # a structure torch flattens differently: keep the positional specs only
        return arg_specs
    if len(leaves) != len(program.graph_signature.user_inputs):
        return arg_specs
    specs = []
    for leaf in leaves:
        if isinstance(leaf, torch.Tensor):
            leaf = Input.from_tensor(leaf, disable_memory_format_check=True)
        if not isinstance(leaf, Input):
            return arg_specs
        specs.append(leaf)
    return specs


class DataDependentControlFlowError(RuntimeError):
    """The model branches (or sizes a tensor) on values only known at run time; export cannot trace it."""


@contextlib.contextmanager
def _explain_data_dependent_control_flow() -> Iterator[None]:
    """Turn torch's GuardOnDataDependentSymNode into an error that says what to change."""
    from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

    try:
        yield
    except GuardOnDataDependentSymNode as exc:
        raise DataDependentControlFlowError(
            "the model's control flow depends on tensor values (like `if x.sum() > 0:`), which "
            f"torch.export cannot trace{_user_frame(str(exc))}. Rewrite the branch with torch.cond(pred, "
            "true_fn, false_fn, operands) or torch.where, or compile with torch.compile(model, "
            "backend='tensorrt'), which runs such code in Python between TensorRT graphs. torch's "
            "explanation is attached as the cause."
        ) from exc


def _user_frame(message: str) -> str:
    """The model line torch names after "The following call raised this error:", as ' (File ...: `code`)'."""
    marker = "The following call raised this error:"
    if marker not in message:
        return ""
    lines = [ln.strip() for ln in message[message.index(marker) + len(marker) :].splitlines() if ln.strip()]
    return f" ({lines[0]}: `{lines[1]}`)" if len(lines) >= 2 else ""


def _takes_only_varargs(module: torch.nn.Module) -> bool:
    params = list(inspect.signature(module.forward).parameters.values())
    return len(params) == 1 and params[0].kind is inspect.Parameter.VAR_POSITIONAL


def _suggested_fixes(message: str) -> str:
    """Only the "Suggested fixes:" block: torch's parser fails on the advice printed after it."""
    block = message[message.index("Suggested fixes:") :].splitlines()
    fixes = []
    for line in block[1:]:
        if not line.strip() or " = " not in line:
            break
        fixes.append(line)
    return "\n".join(["Suggested fixes:", *fixes])
