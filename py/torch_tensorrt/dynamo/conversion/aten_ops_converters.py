"""Imports every converter family so that each registers its ATen overloads."""

from torch_tensorrt.dynamo.conversion.converters import (  # noqa: F401
    activation,
    attention,
    casts,
    conv,
    creation,
    dropout,
    elementwise,
    embedding_bag,
    indexing,
    linear,
    normalization,
    pooling,
    prims,
    reduction,
    sampling,
    shape_ops,
    slicing,
    softmax,
    strided,
    unary,
)
