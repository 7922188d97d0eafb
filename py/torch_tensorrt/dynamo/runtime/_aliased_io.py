"""Engine outputs aliased to engine inputs (TensorRT's KV-cache update layer writes its cache in place).

An engine built by ``convert_exported_program_to_serialized_trt_engine(lift_mutable_buffers=True)`` has,
per lifted buffer, an output that TensorRT requires to live at its input's address
(``ICudaEngine.get_aliased_input_tensor(output)`` names the input). The runtimes bind such an output to
the caller's input tensor instead of allocating it, so the caller's buffer is updated in place, and
return that same tensor for it. ``TorchTensorRTModule(aliased_io={output: (input, "kv_cache_update")})``
(Torch-TensorRT's argument) declares them: the module checks the declaration against the engine's own
report and, as Torch-TensorRT does, leaves the aliased outputs at the end of the binding list out of
what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

KV_CACHE_UPDATE = "kv_cache_update"  # Torch-TensorRT's kind for TensorRT-enforced aliasing

AliasedIO = dict[str, tuple[str, str]]  # output binding -> (input binding, kind)


def engine_aliases(handle: Any, input_names: Sequence[str]) -> dict[str, int]:
    """Output name -> index of the input whose memory it is, as the deserialized engine reports it
    (backends without the query report none)."""
    ask = getattr(handle, "aliased_input", None)
    if ask is None:
        return {}
    aliases: dict[str, int] = {}
    for tensor in handle.io_tensors:
        source = None if tensor.is_input else ask(tensor.name)
        if not source:
            continue
        if source not in input_names:
            raise RuntimeError(
                f"engine output {tensor.name} is aliased to input {source}, which is not one of the engine "
                f"info's inputs {list(input_names)}"
            )
        aliases[tensor.name] = list(input_names).index(source)
    return aliases


def aliased_output(engine: str, output: str, input_name: str, tensor: torch.Tensor) -> torch.Tensor:
    """The tensor an aliased output is bound to: the caller's input itself, which must be dense (a dense
    copy would take the engine's write and leave the caller's tensor unchanged)."""
    if not tensor.is_contiguous():
        raise ValueError(
            f"input {input_name} of engine {engine!r} is written in place (output {output} is aliased to it), "
            "so it must be a contiguous tensor: a contiguous copy would receive the update instead. Pass "
            f"{input_name}.contiguous() and keep using that tensor."
        )
    return tensor


def checked_aliased_io(
    aliased_io: Mapping[str, Any] | None, input_names: Sequence[str], output_names: Sequence[str]
) -> AliasedIO:
    """``TorchTensorRTModule(aliased_io=...)`` as {output: (input, kind)}, checked against the bindings."""
    result: AliasedIO = {}
    for output, entry in dict(aliased_io or {}).items():
        source, kind = (entry, KV_CACHE_UPDATE) if isinstance(entry, str) else tuple(entry)
        if output not in output_names or source not in input_names:
            raise ValueError(
                f"aliased_io maps output {output!r} to input {source!r}, but the engine's outputs are "
                f"{list(output_names)} and its inputs {list(input_names)}"
            )
        if kind != KV_CACHE_UPDATE:
            raise ValueError(
                f"aliased_io kind {kind!r} for output {output!r}: only {KV_CACHE_UPDATE!r} (aliasing TensorRT's "
                "KV-cache update layer performs) exists for TensorRT-RTX engines"
            )
        result[str(output)] = (str(source), kind)
    return result


def user_output_count(output_names: Sequence[str], aliased_io: Mapping[str, Any]) -> int:
    """How many leading outputs the module returns: the aliased outputs after the last other one are
    the engine's side effects (all of them, when every output is aliased)."""
    for index in range(len(output_names) - 1, -1, -1):
        if output_names[index] not in aliased_io:
            return index + 1
    return len(output_names)


def check_declared(engine: str, declared: AliasedIO, reported: Mapping[str, int], input_names: Sequence[str]) -> None:
    """The module's aliased_io must be what the engine does: an output it declares aliased but the engine
    allocates would leave the buffer unchanged; one it misses would be returned as a user output."""
    found = {output: input_names[index] for output, index in reported.items()}
    wanted = {output: source for output, (source, _) in declared.items()}
    if found != wanted:
        raise RuntimeError(
            f"engine {engine!r}: aliased_io declares {wanted}, but the engine aliases {found} "
            "(ICudaEngine.get_aliased_input_tensor); pass the engine's own aliasing"
        )
