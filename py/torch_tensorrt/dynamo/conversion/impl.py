"""``torch_tensorrt.dynamo.conversion.impl``: Torch-TensorRT's library of layer-building helpers
(``impl.elementwise.add(ctx, target, source_ir, name, a, b)``, ...), which its custom converters call.

This package does not have that library: each of our converters builds its layers itself
(``torch_tensorrt.dynamo.conversion.converters``, one module per op family, shared helpers in
``converter_utils``). The module exists so that code importing it loads; using any of its names
raises an ``AttributeError`` that says what to do instead.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"torch_tensorrt.dynamo.conversion.impl.{name}: Torch-TensorRT's converter implementation library is "
        "not part of this package. A custom converter (registered with "
        "torch_tensorrt.dynamo.conversion.dynamo_tensorrt_converter) adds its layers to ctx.net with the "
        "TensorRT API directly, using torch_tensorrt.dynamo.conversion.converter_utils (get_trt_tensor, "
        "cast_trt_tensor, broadcast_ranks, add_binary, add_unary, reshape, ...); or call the ATen op's own "
        "converter, found with torch_tensorrt.dynamo.conversion.DYNAMO_CONVERTERS"
    )
