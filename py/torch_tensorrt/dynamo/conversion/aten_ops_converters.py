"""Imports every converter family so that each registers its ATen overloads."""

from torch_tensorrt.dynamo.conversion.converters import (  # noqa: F401
    activation,
    attention,
    casts,
    conv,
    creation,
    distance,
    dropout,
    elementwise,
    embedding_bag,
    indexing,
    linear,
    normalization,
    pooling,
    prims,
    randomness,
    reduction,
    sampling,
    scatter,
    shape_ops,
    slicing,
    softmax,
    strided,
    symbolic_sizes,
    unary,
)

# Capability checks under the names Torch-TensorRT's tests import from this module.
from torch_tensorrt.dynamo.conversion.converters.indexing import (  # noqa: E402
    index_has_bool_indices,
    index_nonbool_validator,
    sort_validator,
)
from torch_tensorrt.dynamo.conversion.converters.linear import cross_validator  # noqa: E402

__all__ = ["cross_validator", "index_has_bool_indices", "index_nonbool_validator", "sort_validator"]
