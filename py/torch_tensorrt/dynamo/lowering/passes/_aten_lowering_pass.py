"""Torch-TensorRT's pass-manager view of the lowering passes, for their scripts and tests.

Torch-TensorRT's lowering passes are ``(GraphModule, settings) -> GraphModule`` functions held by a
``DynamoPassManager`` (``ATEN_POST_LOWERING_PASSES``); ``post_lowering(gm, settings)`` runs them and
``_aten_lowering_pass`` registers another. Ours edit a Graph in place (``LOWERING_PASSES``), run
before the module's code is generated. Here each of ours is wrapped as a module pass, in order, and
a pass registered with ``_aten_lowering_pass`` runs after ours, both in ``post_lowering`` and when
``torch_tensorrt.compile`` lowers a program (see ``run_registered_passes``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.fx.passes.pass_manager import PassManager

from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt")

ModulePass = Callable[[torch.fx.GraphModule, CompilationSettings], torch.fx.GraphModule]
GraphPass = Callable[[torch.fx.Graph, Any], None]


def as_module_pass(graph_pass: GraphPass) -> ModulePass:
    """An in-place graph pass as a Torch-TensorRT module pass (same name)."""

    def run(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
        graph_pass(gm.graph, settings)
        gm.recompile()
        return gm

    run.__name__ = getattr(graph_pass, "__name__", "lowering_pass")
    run.__qualname__ = run.__name__
    run._builtin_graph_pass = graph_pass  # type: ignore[attr-defined]
    return run


def is_builtin(module_pass: Any) -> bool:
    return hasattr(module_pass, "_builtin_graph_pass")


class DynamoPassManager(PassManager):  # type: ignore[misc]
    """An ordered list of module passes; calling it runs them in turn on a GraphModule."""

    def __init__(
        self, passes: Sequence[ModulePass] | None = None, constraints: Sequence[Callable[..., Any]] | None = None
    ):
        super().__init__(list(passes or []), list(constraints or []))

    @classmethod
    def build_from_passlist(cls, passes: Sequence[ModulePass] | None) -> DynamoPassManager:
        return cls(passes)

    def add_pass_with_index(self, lowering_pass: ModulePass, index: int | None = None) -> None:
        if index is None:
            self.passes.append(lowering_pass)
        else:
            self.passes.insert(index, lowering_pass)

    def remove_pass_with_index(self, index: int) -> None:
        if is_builtin(self.passes[index]):
            raise ValueError(
                f"lowering pass {self.passes[index].__name__} is one of torch_tensorrt's own passes, which "
                "torch_tensorrt.compile always runs (their effect is set by the compilation settings); only "
                "passes registered with _aten_lowering_pass can be removed"
            )
        del self.passes[index]

    def __call__(self, gm: torch.fx.GraphModule, settings: CompilationSettings | None = None) -> torch.fx.GraphModule:
        settings = settings if settings is not None else CompilationSettings()
        for module_pass in self.passes:
            gm = module_pass(gm, settings)
        return gm

    def __str__(self) -> str:
        return "\n".join(getattr(p, "__name__", repr(p)) for p in self.passes)


def remove_num_users_is_0_nodes(
    gm: torch.fx.GraphModule, settings: CompilationSettings | None = None
) -> torch.fx.GraphModule:
    """Drop computations nobody reads (nodes with inputs and no users), such as torch.export's
    ``_guards_fn`` call; in-place ops (mutable schemas) stay."""
    for node in reversed(list(gm.graph.nodes)):
        if node.op == "output" or node.users or not node.all_input_nodes:
            continue
        if node.op == "call_module" or not node.is_impure():
            gm.graph.erase_node(node)
    gm.graph.eliminate_dead_code()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm


def repair_input_aliasing(
    gm: torch.fx.GraphModule, settings: CompilationSettings | None = None
) -> torch.fx.GraphModule:
    """Put a clone after every tensor input so that tracing with aot_export (Torch-TensorRT's
    torch.compile path, and their lowering tests) sees no input aliased by an output or mutated;
    ``post_lowering`` removes the clones again (``remove_input_alias_fixing_clones``)."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder" and not isinstance(n.meta.get("val"), int)]
    for node in placeholders:
        with gm.graph.inserting_after(placeholders[-1]):
            clone = gm.graph.call_function(torch.ops.aten.clone.default, args=(node,))
        node.replace_all_uses_with(clone, delete_user_cb=lambda user, clone=clone: user is not clone)
    gm.graph.lint()
    gm.recompile()
    return gm


def remove_input_alias_fixing_clones(
    gm: torch.fx.GraphModule, settings: CompilationSettings | None = None
) -> torch.fx.GraphModule:
    """Undo ``repair_input_aliasing``: a clone that is the only user of an input is dropped."""
    changed = False
    for node in list(gm.graph.nodes):
        if node.op != "placeholder" or len(node.users) != 1:
            continue
        (user,) = node.users
        if user.target is torch.ops.aten.clone.default and not user.kwargs:
            user.replace_all_uses_with(node)
            gm.graph.erase_node(user)
            changed = True
    if changed:
        gm.recompile()
    return gm


# Runs in post_lowering only: torch_tensorrt.compile never inserts these clones.
remove_input_alias_fixing_clones._post_lowering_only = True  # type: ignore[attr-defined]


def _builtin_passes() -> list[ModulePass]:
    from torch_tensorrt.dynamo.lowering.passes import LOWERING_PASSES

    return [remove_input_alias_fixing_clones] + [as_module_pass(p) for p in LOWERING_PASSES]


ATEN_POST_LOWERING_PASSES = DynamoPassManager.build_from_passlist(_builtin_passes())


def _aten_lowering_pass(*args: ModulePass, index: int | None = None, **kwargs: Any) -> Any:
    """Register a module pass (``@_aten_lowering_pass`` or ``@_aten_lowering_pass(index=i)``); keyword
    arguments are stored on the pass as its config (``get_lowering_pass_config``)."""

    def register(lowering_pass: ModulePass) -> ModulePass:
        if kwargs:
            lowering_pass._lowering_pass_config = kwargs  # type: ignore[attr-defined]
        ATEN_POST_LOWERING_PASSES.add_pass_with_index(lowering_pass, index)
        logger.debug("registered lowering pass %s at index %s", lowering_pass, index)
        return lowering_pass

    if not args:
        return register
    if len(args) == 1 and callable(args[0]):
        return register(args[0])
    raise TypeError(
        f"_aten_lowering_pass takes the pass function, or only keywords (index=...): got {args!r}; "
        "write @_aten_lowering_pass(index=i) to choose the position"
    )


def _remove_lowering_pass(*, index: int) -> None:
    """Unregister the pass at ``index`` of ``ATEN_POST_LOWERING_PASSES`` (only registered ones)."""
    ATEN_POST_LOWERING_PASSES.remove_pass_with_index(index)


def get_lowering_pass_config(lowering_pass: ModulePass) -> dict[str, Any]:
    return dict(getattr(lowering_pass, "_lowering_pass_config", {}))


def run_registered_passes(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    """The passes registered with ``_aten_lowering_pass``, in order (compile runs ours before them)."""
    for module_pass in ATEN_POST_LOWERING_PASSES.passes:
        if not is_builtin(module_pass) and not getattr(module_pass, "_post_lowering_only", False):
            gm = module_pass(gm, settings)
    return gm


def post_lowering(gm: torch.fx.GraphModule, settings: CompilationSettings | None = None) -> torch.fx.GraphModule:
    """Run the lowering passes (ours, then registered ones) on a GraphModule after torch.export and
    decomposition, and return it."""
    return ATEN_POST_LOWERING_PASSES(gm, settings if settings is not None else CompilationSettings())


def pre_export_lowering(
    ep: torch.export.ExportedProgram, settings: CompilationSettings | None = None
) -> torch.export.ExportedProgram:
    """Torch-TensorRT's passes before decomposition. All of ours run after it (in ``post_lowering``),
    autocast included, so the program is returned unchanged."""
    return ep


def apply_lowering_passes(
    gm: torch.fx.GraphModule, sample_inputs: Sequence[Any] | None = None, settings: CompilationSettings | None = None
) -> torch.fx.GraphModule:
    """Torch-TensorRT 2.2's name for ``post_lowering`` (the sample inputs are not needed: the graph's
    nodes carry their traced values)."""
    return post_lowering(gm, settings)


def dump_lowering_passes() -> str:
    return str(ATEN_POST_LOWERING_PASSES)


__all__ = [
    "ATEN_POST_LOWERING_PASSES",
    "DynamoPassManager",
    "_aten_lowering_pass",
    "_remove_lowering_pass",
    "apply_lowering_passes",
    "dump_lowering_passes",
    "get_lowering_pass_config",
    "post_lowering",
    "pre_export_lowering",
    "remove_input_alias_fixing_clones",
    "remove_num_users_is_0_nodes",
    "repair_input_aliasing",
    "run_registered_passes",
]
