"""Imports every converter family so that each registers its ATen overloads."""

from torch_tensorrt.dynamo.conversion.converters import (  # noqa: F401
    activation,
    conv,
    elementwise,
    linear,
    normalization,
    pooling,
    shape_ops,
)
