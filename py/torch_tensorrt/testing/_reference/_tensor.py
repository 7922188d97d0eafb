"""Data-movement and shape layers: Shuffle, Slice, Concatenation, Constant, Shape, Gather, Scatter,
Squeeze, Unsqueeze, Padding, Fill, NonZero, OneHot, Assertion, ReverseSequence."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import (
    Inputs,
    Tensor,
    enum_param,
    int_list,
    layer_error,
    need,
    norm_axis,
    optional,
    out_dtype,
    register,
    unsupported,
)
from ._dtypes import INDEX
from ._record import LayerRecord


def _permutation(layer: LayerRecord, perm: list[int], rank: int, which: str) -> list[int]:
    if sorted(perm) != list(range(rank)):
        raise layer_error(layer, f"{which} {perm} is not a permutation of {rank} dimensions")
    return perm


@register("SHUFFLE")
def _shuffle(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    p = layer.params
    # Permutations follow torch.permute: output dimension i is input dimension perm[i].
    x = x.permute(_permutation(layer, list(p["first_transpose"]), x.dim(), "first transpose"))
    dims_input = optional(inputs, 1)
    dims = int_list(layer, dims_input, "reshape dimensions") if dims_input is not None else p["reshape_dims"]
    if dims is not None:
        resolved: list[int] = []
        for i, d in enumerate(dims):
            if d == 0 and p["zero_is_placeholder"]:
                if i >= x.dim():
                    raise layer_error(layer, f"placeholder 0 at position {i} has no input dimension to copy")
                d = int(x.shape[i])
            resolved.append(int(d))
        if resolved.count(-1) > 1:
            raise layer_error(layer, f"reshape dimensions {dims} contain more than one -1")
        known = math.prod(d for d in resolved if d != -1)
        if -1 in resolved:
            if known == 0 or x.numel() % known:
                raise layer_error(layer, f"cannot infer -1 in {dims} for input shape {tuple(x.shape)}")
            resolved[resolved.index(-1)] = x.numel() // known
        if math.prod(resolved) != x.numel():
            raise layer_error(layer, f"cannot reshape {tuple(x.shape)} to {resolved}")
        x = x.reshape(resolved)
    x = x.permute(_permutation(layer, list(p["second_transpose"]), x.dim(), "second transpose"))
    return [x.contiguous()]


_SAMPLE_MODES = ("STRICT_BOUNDS", "WRAP", "CLAMP", "FILL", "REFLECT")


def _slice_param(layer: LayerRecord, inputs: Inputs, index: int, key: str) -> list[int] | None:
    t = optional(inputs, index)
    if t is not None:
        return int_list(layer, t, key)
    value = layer.params[key]
    return None if value is None else [int(v) for v in value]


@register("SLICE")
def _slice(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    mode = enum_param(layer, "mode", "SampleMode", _SAMPLE_MODES)
    rank = x.dim()
    start = _slice_param(layer, inputs, 1, "start")
    size = _slice_param(layer, inputs, 2, "shape")
    stride = _slice_param(layer, inputs, 3, "stride")
    axes = _slice_param(layer, inputs, 5, "axes")
    if start is None or size is None or stride is None:
        raise layer_error(layer, "start, size and stride must all be known")
    if axes is not None:
        # Axes select the dimensions start/size/stride refer to; the other dimensions are copied whole.
        if not len(axes) == len(start) == len(size) == len(stride):
            raise layer_error(layer, "axes, start, size and stride must have the same length")
        full_start, full_size, full_stride = [0] * rank, [int(d) for d in x.shape], [1] * rank
        for a, s0, n, st in zip(axes, start, size, stride, strict=True):
            a = norm_axis(layer, a, rank)
            full_start[a], full_size[a], full_stride[a] = s0, n, st
        start, size, stride = full_start, full_size, full_stride
    if not len(start) == len(size) == len(stride) == rank:
        raise layer_error(layer, f"start {start}, size {size} and stride {stride} must have {rank} entries")
    fill_value = optional(inputs, 4)
    if fill_value is not None and mode != "FILL":
        raise layer_error(layer, "a fill value input is only allowed with SampleMode.FILL")
    for d in range(rank):
        n = int(x.shape[d])
        if start[d] == 0 and stride[d] == 1 and size[d] == n:
            continue
        coords = start[d] + torch.arange(size[d], dtype=torch.int64) * stride[d]
        if size[d] > 0 and n == 0 and mode != "FILL":
            raise layer_error(layer, f"cannot sample {size[d]} elements from an empty dimension {d}")
        valid = None
        if mode == "STRICT_BOUNDS":
            if size[d] > 0 and (int(coords.min()) < 0 or int(coords.max()) >= n):
                raise layer_error(
                    layer,
                    f"slice of dimension {d} (start {start[d]}, size {size[d]}, stride {stride[d]}) "
                    f"leaves the input length {n}",
                )
            index = coords
        elif mode == "WRAP":
            index = torch.remainder(coords, n)
        elif mode == "CLAMP":
            index = coords.clamp(0, n - 1)
        elif mode == "REFLECT":
            if n == 1:
                index = torch.zeros_like(coords)
            else:
                # Mirror about the centres of the edge elements: period 2 * (n - 1).
                period = 2 * (n - 1)
                m = torch.remainder(coords, period)
                index = torch.where(m >= n, period - m, m)
        else:
            valid = (coords >= 0) & (coords < n)
            index = coords.clamp(0, max(n - 1, 0))
        if n == 0:
            # Only FILL reaches here with an empty dimension: every element is the fill value.
            shape = list(x.shape)
            shape[d] = size[d]
            x = torch.zeros(shape, dtype=x.dtype)
            valid = torch.zeros(size[d], dtype=torch.bool)
        else:
            x = x.index_select(d, index)
        if valid is not None and not bool(valid.all()):
            fill = torch.zeros((), dtype=x.dtype) if fill_value is None else fill_value.reshape(()).to(x.dtype)
            view = [1] * rank
            view[d] = size[d]
            x = torch.where(valid.reshape(view), x, fill)
    return [x.contiguous()]


@register("CONCATENATION")
def _concatenation(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    tensors = [need(layer, inputs, i) for i in range(len(inputs))]
    if len({t.dtype for t in tensors}) != 1:
        raise layer_error(layer, f"input types differ: {[t.dtype for t in tensors]}")
    axis = norm_axis(layer, int(layer.params["axis"]), tensors[0].dim())
    return [torch.cat(tensors, axis)]


@register("CONSTANT")
def _constant(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    shape = [int(d) for d in layer.params["shape"]]
    weights = layer.params["weights"]
    if weights is None:
        if math.prod(shape) != 0:
            raise layer_error(layer, f"no weights for a constant of shape {shape}")
        return [torch.zeros(shape, dtype=out_dtype(layer))]
    if weights.numel() != math.prod(shape):
        raise layer_error(layer, f"{weights.numel()} weights for a constant of shape {shape}")
    # A copy, so that nothing downstream (or a caller holding an output) can alter the record.
    return [weights.reshape(shape).clone()]


@register("SHAPE")
def _shape(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    return [torch.tensor([int(d) for d in need(layer, inputs, 0).shape], dtype=torch.int64)]


def _index_tensor(layer: LayerRecord, t: Tensor) -> Tensor:
    if t.dtype not in INDEX:
        raise layer_error(layer, f"indices must be int32 or int64, got {t.dtype}")
    return t.to(torch.int64)


def _gather_axis(data: Tensor, axis: int, indices: Tensor) -> Tensor:
    """data[..., indices, ...] along ``axis`` (ONNX Gather); negative indices count from the end and
    out-of-bounds indices yield zero, as IGatherLayer documents."""
    n = int(data.shape[axis])
    idx = torch.where(indices < 0, indices + n, indices)
    valid = (idx >= 0) & (idx < n)
    taken = (
        data.index_select(axis, idx.clamp(0, max(n - 1, 0)).reshape(-1))
        if n
        else data.new_zeros([*data.shape[:axis], indices.numel(), *data.shape[axis + 1 :]])
    )
    # A list, not *args: the result may be 0-D (a scalar index into a 1-D tensor).
    taken = taken.reshape([*data.shape[:axis], *indices.shape, *data.shape[axis + 1 :]])
    mask = valid.reshape([1] * axis + list(indices.shape) + [1] * (data.dim() - axis - 1))
    return torch.where(mask, taken, torch.zeros((), dtype=data.dtype))


@register("GATHER")
def _gather(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    data = need(layer, inputs, 0)
    indices = _index_tensor(layer, need(layer, inputs, 1))
    mode = enum_param(layer, "mode", "GatherMode", ["DEFAULT", "ELEMENT", "ND"])
    nb = int(layer.params["num_elementwise_dims"])
    if mode == "DEFAULT":
        axis = norm_axis(layer, int(layer.params["axis"]), data.dim())
        if nb == 0:
            return [_gather_axis(data, axis, indices)]
        if nb != 1 or axis == 0:
            raise unsupported(layer, f"GatherMode.DEFAULT with {nb} elementwise dims on axis {axis}")
        # The leading dimension is a (broadcast) batch: each batch entry gathers with its own indices.
        if len({int(data.shape[0]), int(indices.shape[0])} - {1}) > 1:
            raise layer_error(layer, f"batch lengths {data.shape[0]} and {indices.shape[0]} do not broadcast")
        batch = max(int(data.shape[0]), int(indices.shape[0]))
        rows = [
            _gather_axis(data[min(b, data.shape[0] - 1)], axis - 1, indices[min(b, indices.shape[0] - 1)])
            for b in range(batch)
        ]
        return [torch.stack(rows, 0)]
    if mode == "ELEMENT":
        if nb != 0:
            raise unsupported(layer, f"GatherMode.ELEMENT with {nb} elementwise dims")
        axis = norm_axis(layer, int(layer.params["axis"]), data.dim())
        if indices.dim() != data.dim():
            raise layer_error(layer, "GatherMode.ELEMENT needs indices of the same rank as the data")
        n = int(data.shape[axis])
        idx = torch.where(indices < 0, indices + n, indices)
        valid = (idx >= 0) & (idx < n)
        taken = torch.gather(data, axis, idx.clamp(0, max(n - 1, 0)))
        return [torch.where(valid, taken, torch.zeros((), dtype=data.dtype))]
    # ND: each index tuple (last dimension of indices) addresses data[nb:nb + k]; the first nb
    # dimensions of data and indices are matched element by element.
    k = int(indices.shape[-1])
    if nb + k > data.dim():
        raise layer_error(layer, f"index tuples of length {k} exceed data rank {data.dim()} - {nb}")
    if [int(d) for d in indices.shape[:nb]] != [int(d) for d in data.shape[:nb]]:
        raise layer_error(layer, "the elementwise dimensions of data and indices differ")
    batch_shape = [int(d) for d in data.shape[:nb]]
    indexed = [int(d) for d in data.shape[nb : nb + k]]
    rest = [int(d) for d in data.shape[nb + k :]]
    b = math.prod(batch_shape)
    flat_data = data.reshape(b, math.prod(indexed), *rest)
    tuples = indices.reshape(b, -1, k)
    sizes = torch.tensor(indexed, dtype=torch.int64)
    tuples = torch.where(tuples < 0, tuples + sizes, tuples)
    valid = ((tuples >= 0) & (tuples < sizes)).all(-1)
    linear = torch.zeros(tuples.shape[:-1], dtype=torch.int64)
    for j in range(k):
        linear = linear * indexed[j] + tuples[..., j].clamp(0, max(indexed[j] - 1, 0))
    taken = flat_data[torch.arange(b).unsqueeze(1), linear]
    taken = torch.where(valid.reshape(*valid.shape, *([1] * len(rest))), taken, torch.zeros((), dtype=data.dtype))
    return [taken.reshape(*indices.shape[:-1], *rest)]


@register("SCATTER")
def _scatter(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    data = need(layer, inputs, 0)
    indices = _index_tensor(layer, need(layer, inputs, 1))
    updates = need(layer, inputs, 2)
    if updates.dtype != data.dtype:
        raise layer_error(layer, f"updates type {updates.dtype} differs from data type {data.dtype}")
    mode = enum_param(layer, "mode", "ScatterMode", ["ELEMENT", "ND"])
    out = data.clone()
    if mode == "ELEMENT":
        axis = norm_axis(layer, int(layer.params["axis"]), data.dim())
        n = int(data.shape[axis])
        idx = torch.where(indices < 0, indices + n, indices)
        if indices.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n):
            raise layer_error(layer, "scatter index out of bounds")
        return [out.scatter_(axis, idx, updates)]
    k = int(indices.shape[-1])
    indexed = [int(d) for d in data.shape[:k]]
    rest = [int(d) for d in data.shape[k:]]
    tuples = indices.reshape(-1, k)
    sizes = torch.tensor(indexed, dtype=torch.int64)
    tuples = torch.where(tuples < 0, tuples + sizes, tuples)
    if tuples.numel() and not bool(((tuples >= 0) & (tuples < sizes)).all()):
        raise layer_error(layer, "scatter index out of bounds")
    linear = torch.zeros(tuples.shape[0], dtype=torch.int64)
    for j in range(k):
        linear = linear * indexed[j] + tuples[:, j]
    flat = out.reshape(math.prod(indexed), *rest)
    flat[linear] = updates.reshape(-1, *rest)
    return [flat.reshape(data.shape)]


@register("SQUEEZE")
def _squeeze(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    axes = sorted({norm_axis(layer, a, x.dim()) for a in int_list(layer, need(layer, inputs, 1), "axes")})
    for a in axes:
        if int(x.shape[a]) != 1:
            raise layer_error(layer, f"cannot squeeze dimension {a} of length {int(x.shape[a])}")
    return [x.reshape([int(d) for i, d in enumerate(x.shape) if i not in axes])]


@register("UNSQUEEZE")
def _unsqueeze(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    raw = int_list(layer, need(layer, inputs, 1), "axes")
    final_rank = x.dim() + len(raw)
    axes = sorted({norm_axis(layer, a, final_rank) for a in raw})
    for a in axes:
        x = x.unsqueeze(a)
    return [x]


@register("PADDING")
def _padding(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    pre = [int(v) for v in layer.params["pre_padding"]]
    post = [int(v) for v in layer.params["post_padding"]]
    if len(pre) != len(post) or len(pre) > x.dim():
        raise layer_error(layer, f"padding {pre}/{post} does not fit input rank {x.dim()}")
    # Zero padding of the innermost len(pre) dimensions; negative padding crops.
    pads: list[int] = []
    for b, a in zip(reversed(pre), reversed(post), strict=True):
        pads += [b, a]
    if x.dtype == torch.bool:
        return [F.pad(x.to(torch.uint8), pads).to(torch.bool)]
    return [F.pad(x, pads)]


@register("FILL")
def _fill(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    op = enum_param(layer, "operation", "FillOperation", ["LINSPACE", "RANDOM_UNIFORM", "RANDOM_NORMAL"])
    shape_input = optional(inputs, 0)
    shape = (
        int_list(layer, shape_input, "shape") if shape_input is not None else [int(d) for d in layer.params["shape"]]
    )
    if op == "LINSPACE":
        return [_linspace(layer, inputs, shape)]
    return [_random(layer, inputs, shape, op)]


def _linspace(layer: LayerRecord, inputs: Inputs, shape: list[int]) -> Tensor:
    p = layer.params
    dtype = out_dtype(layer)
    alpha_t, beta_t = optional(inputs, 1), optional(inputs, 2)
    # Element [i0, i1, ...] = alpha + sum_j beta[j] * i_j, computed in the output type.
    compute = torch.float32 if dtype.is_floating_point else torch.int64
    if alpha_t is not None:
        alpha = alpha_t.reshape(()).to(compute)
    else:
        alpha = torch.tensor(p["alpha"], dtype=compute)
    if beta_t is not None:
        beta = beta_t.reshape(-1).to(compute)
    elif len(shape) <= 1:
        # A static beta b is the 1-D tensor [b] (no delta at all for a 0-D output).
        beta = torch.tensor([p["beta"]][: len(shape)], dtype=compute)
    else:
        # The builder accepts this, but the documentation gives no per-dimension deltas for it.
        raise unsupported(layer, f"FillOperation.LINSPACE with a static beta for a {len(shape)}-D output")
    if beta.numel() != len(shape):
        raise layer_error(layer, f"beta has {beta.numel()} entries for a {len(shape)}-D output")
    out = torch.zeros(shape, dtype=compute) + alpha
    for j, n in enumerate(shape):
        view = [1] * len(shape)
        view[j] = n
        out = out + (torch.arange(n, dtype=compute) * beta[j]).reshape(view)
    return out.to(dtype)


def _random_param(layer: LayerRecord, inputs: Inputs, index: int, key: str) -> float:
    t = optional(inputs, index)
    if t is None:
        return float(layer.params[key])
    # TensorRT documents (and its builder checks) the dynamic alpha and beta as scalars: rank 0.
    if t.dim() != 0:
        raise layer_error(layer, f"input {index} ({key}) must be a 0-D tensor, got shape {tuple(t.shape)}")
    return float(t.item())


def _random(layer: LayerRecord, inputs: Inputs, shape: list[int], op: str) -> Tensor:
    """RANDOM_UNIFORM: samples between alpha (the minimum) and beta (the maximum); RANDOM_NORMAL:
    samples of the normal distribution with mean alpha and standard deviation beta (IFillLayer's
    setAlpha/setBeta documentation). TensorRT's values cannot be reproduced and its generator is not
    documented, so these are independent samples of the documented distribution from torch's global
    generator (seed it for repeatable runs): tests of random layers can check statistics, never values.
    """
    dtype = out_dtype(layer)
    if dtype not in (torch.float32, torch.float16):
        raise layer_error(layer, f"FillOperation.{op} produces FLOAT or HALF, not {dtype}")
    alpha = _random_param(layer, inputs, 1, "alpha")
    beta = _random_param(layer, inputs, 2, "beta")
    if op == "RANDOM_UNIFORM":
        if beta < alpha:
            raise layer_error(layer, f"uniform range [{alpha}, {beta}] has its maximum below its minimum")
        samples = alpha + (beta - alpha) * torch.rand(shape, dtype=torch.float32)
    else:
        if beta < 0:
            raise layer_error(layer, f"normal distribution with negative standard deviation {beta}")
        samples = alpha + beta * torch.randn(shape, dtype=torch.float32)
    return samples.to(dtype)


@register("NON_ZERO")
def _non_zero(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    # torch.nonzero lists positions in row-major (lexical) order, one row each; TensorRT wants columns.
    return [torch.nonzero(x).t().contiguous().to(out_dtype(layer))]


@register("ONE_HOT")
def _one_hot(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    indices = _index_tensor(layer, need(layer, inputs, 0))
    values = need(layer, inputs, 1)
    depth_values = int_list(layer, need(layer, inputs, 2), "depth")
    if len(depth_values) != 1 or depth_values[0] <= 0:
        raise layer_error(layer, f"depth must be a positive scalar, got {depth_values}")
    depth = depth_values[0]
    if values.numel() != 2:
        raise layer_error(layer, f"values must hold [off_value, on_value], got shape {tuple(values.shape)}")
    off, on = values.reshape(-1)[0], values.reshape(-1)[1]
    # As in ONNX OneHot: negative indices count from the end; indices outside [-depth, depth) give a
    # row of off values.
    idx = torch.where(indices < 0, indices + depth, indices)
    hot = idx.unsqueeze(-1) == torch.arange(depth, dtype=torch.int64)
    out = torch.where(hot, on, off)
    axis = norm_axis(layer, int(layer.params["axis"]), indices.dim() + 1)
    return [torch.movedim(out, -1, axis).contiguous()]


class NetworkAssertionError(RuntimeError):
    """An IAssertionLayer condition was false for the given inputs."""


@register("ASSERTION")
def _assertion(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    cond = need(layer, inputs, 0)
    if cond.dtype != torch.bool:
        raise layer_error(layer, f"assertion input must be bool, got {cond.dtype}")
    if not bool(cond.all()):
        raise NetworkAssertionError(
            f"reference executor: assertion layer '{layer.name}' failed: {layer.params.get('message', '')}"
        )
    return []


@register("REVERSE_SEQUENCE")
def _reverse_sequence(layer: LayerRecord, inputs: Inputs) -> list[Tensor]:
    x = need(layer, inputs, 0)
    lengths = _index_tensor(layer, need(layer, inputs, 1))
    batch_axis = norm_axis(layer, int(layer.params["batch_axis"]), x.dim())
    seq_axis = norm_axis(layer, int(layer.params["sequence_axis"]), x.dim())
    n_seq = int(x.shape[seq_axis])
    pos = torch.arange(n_seq, dtype=torch.int64)
    # For batch entry b, position j < len[b] reads len[b] - 1 - j; later positions stay in place.
    source = torch.where(pos.unsqueeze(0) < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - pos, pos)
    view = [1] * x.dim()
    view[batch_axis] = int(x.shape[batch_axis])
    view[seq_axis] = n_seq
    if batch_axis > seq_axis:
        source = source.t()
    index = source.reshape(view).expand(x.shape)
    return [torch.gather(x, seq_axis, index)]
