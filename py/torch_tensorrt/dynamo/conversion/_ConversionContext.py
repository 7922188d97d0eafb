from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings


@dataclass
class ConversionContext:
    """What a converter may touch: the network being built and the compile settings."""

    net: trt.INetworkDefinition
    compilation_settings: CompilationSettings = field(default_factory=CompilationSettings)
    # Weights handed to TensorRT by pointer must outlive the engine build.
    keep_alive: list[Any] = field(default_factory=list)
    _name_counts: dict[str, int] = field(default_factory=dict)
    # The fx node being converted, so converters can read its output dtype/shape from node.meta.
    current_node: Any = None
    # Constant layers by the tensor view they hold (see create_constant): a weight used twice, e.g. a
    # tied embedding / LM head, becomes one constant instead of two copies in the engine.
    constants: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # Refittable weights by their engine name (see _weight_names): what a refit writes into the engine.
    refit_weights: dict[str, Any] = field(default_factory=dict)
    # Addresses of the weights handed to TensorRT so far (see _weight_names.own_address).
    weight_addresses: set[int] = field(default_factory=set)
    # Module attributes (get_attr) by the tensor view they are, so a weight can name the attribute it is.
    attribute_sources: dict[tuple[Any, ...], str] = field(default_factory=dict)
    # Outputs of KV-cache update layers (see _kv_cache_writes) by tensor name -> the input they write in
    # place: engine outputs aliased to that input, which the interpreter marks without copying them.
    aliased_outputs: dict[str, str] = field(default_factory=dict)

    def output_meta(self) -> Any:
        return None if self.current_node is None else self.current_node.meta.get("val")

    def unique_name(self, base: str) -> str:
        count = self._name_counts.get(base, 0)
        self._name_counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"
