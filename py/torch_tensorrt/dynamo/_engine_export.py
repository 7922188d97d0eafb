"""Compile entry points beyond ``compile``: a program as one serialized engine, and Windows targets.

``convert_exported_program_to_serialized_trt_engine`` works without a GPU: TensorRT-RTX builds
ahead of time. ``cross_compile_for_windows`` needs a builder that targets Windows; TensorRT-RTX 1.7
refuses to (``ENABLED_FEATURES.windows_cross_compile`` says whether this one does).
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Sequence
from typing import Any

import torch

from torch_tensorrt._trt import ENABLED_FEATURES
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._signatures import with_settings_signature

_ISSUE = "issue 19 of this project"


def convert_exported_program_to_serialized_trt_engine(
    exported_program: torch.export.ExportedProgram,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    lift_mutable_buffers: bool = False,
    arg_input_binding_names: Any = None,
    kwarg_input_binding_names: Any = None,
    output_binding_names: Any = None,
    **kwargs: Any,
) -> bytes:
    """The whole program as one serialized TensorRT engine (plan bytes).

    Every op must convert (``require_full_compilation`` is implied) and the program must become a
    single engine; build failures raise. Settings are those of :func:`torch_tensorrt.dynamo.compile`.

    The engine's I/O tensors are named after the graph's inputs and ``output0``, ``output1``, ... unless
    ``arg_input_binding_names`` / ``kwarg_input_binding_names`` (pytrees of str shaped like the
    program's positional / keyword inputs) and ``output_binding_names`` (shaped like what ``forward``
    returns) name them; names that do not fit the program raise ``BindingNameError`` (a ValueError).

    ``lift_mutable_buffers=True``: each buffer the program mutates becomes an extra engine input
    ``buf_<name>`` after the user's inputs, written in place by TensorRT's KV-cache update layer through
    an engine output aliased to it (after the user's outputs; named like the other outputs, or
    ``buf_<name>_updated`` when ``output_binding_names`` is given); the caller passes the buffer at every
    call. Mutations that layer cannot perform raise ``RuntimeError`` (see :mod:`._lift_buffers`).
    """
    from torch_tensorrt.dynamo._binding_names import resolve_binding_names

    requested = resolve_binding_names(
        exported_program, arg_input_binding_names, kwarg_input_binding_names, output_binding_names
    )
    if not lift_mutable_buffers:
        engine, _ = _single_engine(exported_program, requested, inputs, arg_inputs, kwarg_inputs, kwargs)
        return engine
    from torch_tensorrt.dynamo._lift_buffers import lift_mutated_buffers

    lifted = lift_mutated_buffers(exported_program)
    bindings = [b.binding for b in lifted.buffers]
    kwarg_inputs = {**(kwarg_inputs or {}), **{b.binding: b.value for b in lifted.buffers}}
    engine, aliases = _single_engine(
        lifted.program, _with_lifted_names(requested, bindings), inputs, arg_inputs, kwarg_inputs, kwargs, bindings
    )
    _check_aliases(bindings, aliases)
    return engine


def _with_lifted_names(requested: Any, bindings: list[str]) -> Any:
    """The caller's binding names extended by the lifted buffers' inputs and their aliased outputs."""
    from torch_tensorrt.dynamo._binding_names import BindingNameError, RequestedBindingNames

    if requested is None or not bindings:
        return requested
    inputs = None if requested.inputs is None else (*requested.inputs, *bindings)
    outputs = None if requested.outputs is None else (*requested.outputs, *(f"{b}_updated" for b in bindings))
    names = list(inputs if inputs is not None else bindings) + list(outputs or ())  # buf_* inputs either way
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BindingNameError(
            f"binding names {repeated} are also the names of lifted buffers' engine inputs (buf_<name>) or "
            "their aliased outputs (buf_<name>_updated); choose other names"
        )
    return RequestedBindingNames(inputs, outputs)


def _single_engine(
    program: torch.export.ExportedProgram,
    requested: Any,
    inputs: Sequence[Any] | None,
    arg_inputs: Sequence[Any] | None,
    kwarg_inputs: dict[str, Any] | None,
    kwargs: dict[str, Any],
    kv_cache_inputs: Sequence[str] = (),
) -> tuple[bytes, dict[str, str] | None]:
    """The engine bytes, and the outputs its network aliases to inputs (None: no network was built,
    the engine came from the engine cache)."""
    from torch_tensorrt.dynamo import _compiler
    from torch_tensorrt.dynamo._binding_names import REQUESTED_BINDING_NAMES
    from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS, NetworkBuilt
    from torch_tensorrt.dynamo.conversion._kv_cache_writes import KV_CACHE_INPUTS
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    kwargs = {**kwargs, "require_full_compilation": True, "pass_through_build_failures": True}
    kwargs.setdefault("min_block_size", 1)
    built: list[dict[str, str]] = []

    def observe(event: NetworkBuilt) -> None:
        built.append(network_aliases(event.network))

    tokens = (REQUESTED_BINDING_NAMES.set(requested), KV_CACHE_INPUTS.set(frozenset(kv_cache_inputs)))
    NETWORK_BUILD_OBSERVERS.append(observe)
    try:
        compiled = _compiler.compile(program, inputs, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs, **kwargs)
    finally:
        NETWORK_BUILD_OBSERVERS.remove(observe)
        KV_CACHE_INPUTS.reset(tokens[1])
        REQUESTED_BINDING_NAMES.reset(tokens[0])
    engines = [m for m in compiled.modules() if isinstance(m, TorchTensorRTModule)]
    if len(engines) != 1:
        raise ValueError(
            f"the program compiled into {len(engines)} TensorRT engines, not one: a serialized engine holds "
            "one network. Compile it with torch_tensorrt.dynamo.compile and save the program instead."
        )
    return engines[0].serialized_engine.numpy().tobytes(), (built[-1] if built else None)


def network_aliases(network: Any) -> dict[str, str]:
    """Output name -> input name, for each network output a KV-cache update layer writes into its
    (network input) cache: what ``ICudaEngine.get_aliased_input_tensor`` reports once the engine is built."""
    from torch_tensorrt._trt import trt

    outputs = {network.get_output(i).name for i in range(network.num_outputs)}
    aliases = {}
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        if layer.type != trt.LayerType.KV_CACHE_UPDATE:
            continue
        cache, out = layer.get_input(0), layer.get_output(0)
        if cache.is_network_input and out.name in outputs:
            aliases[out.name] = cache.name
    return aliases


def _check_aliases(bindings: list[str], aliases: dict[str, str] | None) -> None:
    """Every lifted buffer must be written in place by the engine, else its write-back would be lost."""
    if aliases is None:
        return  # an engine-cache hit: cached under this same lifted program, so built as checked then
    missing = [b for b in bindings if list(aliases.values()).count(b) != 1]
    if missing:
        raise RuntimeError(
            f"lift_mutable_buffers: the engine does not write buffer input(s) {missing} in place (its aliased "
            f"outputs: {aliases}), so those buffers would never update; this is a bug in torch_tensorrt's "
            "KV-cache update conversion, please report it"
        )


def _require_linux_x86_64() -> None:
    host = (platform.system(), platform.machine())
    if host != ("Linux", "x86_64"):
        raise RuntimeError(f"cross-compiling for Windows runs on x86-64 Linux only; this machine is {host}")


def cross_compile_for_windows(
    exported_program: torch.export.ExportedProgram,
    inputs: Sequence[Any] | None = None,
    *,
    arg_inputs: Sequence[Any] | None = None,
    kwarg_inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile on Linux for Windows x86-64: the engines record ``windows_x86_64`` as their platform,
    so loading refuses them anywhere else. Build failures raise (a PyTorch fallback would not be a
    Windows program). Save with :func:`save_cross_compiled_exported_program`."""
    _require_linux_x86_64()
    if not ENABLED_FEATURES.windows_cross_compile:
        from torch_tensorrt._trt import TRT_VERSION

        flavour = "TensorRT-RTX" if ENABLED_FEATURES.tensorrt_rtx else "TensorRT"
        raise NotImplementedError(
            f"{flavour} {TRT_VERSION} cannot build engines for Windows here: its builder refuses "
            "runtime_platform=WINDOWS_AMD64 (TensorRT-RTX 1.7 builds for the platform it runs on only). "
            "Compile on Windows instead."
        )
    from torch_tensorrt.dynamo import _compiler

    settings = dataclasses.replace(
        CompilationSettings.from_kwargs(**kwargs),
        enable_cross_compile_for_windows=True,
        pass_through_build_failures=True,
    )
    return _compiler.compile(
        exported_program, inputs, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs, settings=settings
    )


def save_cross_compiled_exported_program(gm: torch.fx.GraphModule, file_path: str | os.PathLike[str]) -> None:
    """Save a program made by :func:`cross_compile_for_windows` (an ExportedProgram file)."""
    if not file_path:
        raise ValueError("file_path is required")
    from torch_tensorrt._compile import save

    save(gm, file_path, output_format="exported_program")


def load_cross_compiled_exported_program(file_path: str | os.PathLike[str] = "") -> Any:
    """Load, on Windows, a program cross-compiled on Linux."""
    if platform.system() != "Windows":
        raise ValueError(
            f"{os.fspath(file_path)!r}: a program cross-compiled for Windows loads on Windows only; this "
            f"machine runs {platform.system()}"
        )
    from torch_tensorrt._compile import load

    return load(file_path)


with_settings_signature(convert_exported_program_to_serialized_trt_engine)
with_settings_signature(cross_compile_for_windows, exclude=("enable_cross_compile_for_windows",))
