"""Converter coverage: which ATen overloads reach TensorRT here, directly or through lowering.

    python benchmarks/converter_coverage.py [--set core|issue18|all] [--verify] [--json] [--only NAME ...]

Two sets of overloads: torch's core ATen opset (every ``torch.ops.aten`` overload tagged
``torch.Tag.core``) and the overloads issue 18 lists (those Torch-TensorRT registers converters for).

An overload with a probe (a small module calling it, below) is compiled for real up to partitioning
(``dryrun=True``, ``min_block_size=1``), statically and, where the probe gives ranges, with dynamic
shapes. The verdict comes from the compile summary:

* ``direct``   the overload itself went to a converter;
* ``lowered``  lowering replaced it, and every op it became went to a converter;
* ``no``       some op stayed in PyTorch; the reason is the partitioner's (or the probe's error).

An overload without a probe is judged statically: a registered converter counts as ``direct``, an
overload lowering decomposes as ``lowered`` (unverified, marked ``*``), anything else as ``no`` with the
reason from ``KNOWN_GAPS`` or "no converter". ``--verify`` also builds every probe that converts with
the real TensorRT-RTX builder and compares the reference executor's result with eager PyTorch.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

import torch_tensorrt
from torch_tensorrt.dynamo.conversion import aten_ops_converters  # noqa: F401 - registers the converters
from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS
from torch_tensorrt.dynamo.lowering._core_aten import REWRITES
from torch_tensorrt.dynamo.lowering._decompositions import decomposes_aten_op
from torch_tensorrt.dynamo.partitioning._partitioner import op_name

aten = torch.ops.aten
prims = torch.ops.prims


@dataclass
class Probe:
    """A call of one overload: ``fn(*inputs)``; ``dynamic`` gives (min, max) shapes per input."""

    fn: Callable[..., Any]
    inputs: Callable[[], list[torch.Tensor]]
    dynamic: list[tuple[tuple[int, ...], tuple[int, ...]] | None] | None = None


def _r(*shape: int) -> torch.Tensor:
    return torch.randn(shape)


def _i(*values: int) -> torch.Tensor:
    return torch.tensor(values)


def _bag(fn: Callable[..., Any]) -> Probe:
    return Probe(fn, lambda: [_r(10, 3), _i(1, 2, 4, 5, 7), _i(0, 2)])


_NCHW = ((1, 2, 3, 4), (4, 2, 6, 8))
# Running statistics are module constants (statistics computed in forward are issue 18 item 3).
_STATS = (torch.zeros(2), torch.ones(2))

# The overloads of issue 18, each called the way models call it (F.interpolate makes the .vec forms).
ISSUE_18: dict[str, Probe] = {
    "aten._cdist_forward.default": Probe(lambda a, b: torch.cdist(a, b), lambda: [_r(2, 5, 3), _r(2, 4, 3)]),
    "aten._pdist_forward.default": Probe(lambda a: F.pdist(a), lambda: [_r(5, 3)]),
    "aten._embedding_bag.default": _bag(lambda w, i, o: aten._embedding_bag(w, i, o, False, 1)[0]),
    "aten.embedding_bag.default": _bag(lambda w, i, o: aten.embedding_bag(w, i, o, False, 0)[0]),
    "aten._pad_circular.default": Probe(
        lambda a: aten._pad_circular(a, [1, 2]), lambda: [_r(1, 2, 5)], [((1, 2, 3), (4, 2, 9))]
    ),
    "aten._prelu_kernel.default": Probe(
        lambda a, w: aten._prelu_kernel(a, w.reshape(1, 3, 1)),
        lambda: [_r(2, 3, 4), _r(3)],
        [((1, 3, 2), (4, 3, 8)), None],
    ),
    "aten._reshape_copy.default": Probe(
        lambda a: aten._reshape_copy(a, [-1, 4]), lambda: [_r(2, 3, 4)], [((1, 3, 4), (5, 3, 4))]
    ),
    "aten.as_strided.default": Probe(lambda a: torch.as_strided(a, (2, 2), (1, 2), 1), lambda: [_r(3, 4)]),
    "aten.resize_.default": Probe(lambda a: (a * 1).resize_(2, 5), lambda: [_r(3, 4)]),
    "aten.copy.default": Probe(lambda a, b: aten.copy(a, b), lambda: [_r(3, 4), _r(4)], [((1, 4), (6, 4)), None]),
    "aten.slice_scatter.default": Probe(
        lambda a, b: torch.slice_scatter(a, b, 1, 1, 3),
        lambda: [_r(3, 4), _r(3, 2)],
        [((2, 4), (6, 4)), ((2, 2), (6, 2))],
    ),
    "aten.diagonal.default": Probe(
        lambda a: torch.diagonal(a, 1, -2, -1) * 1, lambda: [_r(2, 3, 4)], [((1, 3, 4), (5, 3, 4))]
    ),
    "aten.atan2.default": Probe(torch.atan2, lambda: [_r(3, 4), _r(3, 4)], [((1, 4), (6, 4)), ((1, 4), (6, 4))]),
    "aten.atan2.out": Probe(lambda a, b: aten.atan2.out(a, b, out=torch.empty(3, 4)), lambda: [_r(3, 4), _r(3, 4)]),
    "aten.avg_pool1d.default": Probe(lambda a: F.avg_pool1d(a, 2), lambda: [_r(1, 2, 6)], [((1, 2, 4), (4, 2, 12))]),
    "aten.max_pool1d.default": Probe(
        lambda a: F.max_pool1d(a, 3, 2, 1), lambda: [_r(2, 2, 6)], [((1, 2, 6), (4, 2, 6))]
    ),
    "aten.max_pool2d.default": Probe(
        lambda a: F.max_pool2d(a, 3, 2, 1), lambda: [_r(1, 2, 6, 6)], [((1, 2, 5, 4), (4, 2, 8, 9))]
    ),
    "aten.max_pool3d.default": Probe(
        lambda a: F.max_pool3d(a, 2), lambda: [_r(1, 2, 4, 4, 4)], [((1, 2, 4, 4, 4), (3, 2, 6, 4, 8))]
    ),
    "aten.batch_norm.default": Probe(
        lambda a: F.batch_norm(a, _STATS[0], _STATS[1]), lambda: [_r(1, 2, 6)], [((1, 2, 2), (4, 2, 9))]
    ),
    "aten.bitwise_and.Scalar_Tensor": Probe(lambda a: aten.bitwise_and(True, a), lambda: [_r(3) > 0]),
    "aten.bitwise_or.Scalar_Tensor": Probe(lambda a: aten.bitwise_or(False, a), lambda: [_r(3) > 0]),
    "aten.bitwise_xor.Scalar_Tensor": Probe(lambda a: aten.bitwise_xor(True, a), lambda: [_r(3) > 0]),
    "aten.clip.default": Probe(lambda a: torch.clip(a, -0.5, 0.5), lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.clip.Tensor": Probe(lambda a, b: torch.clip(a, b), lambda: [_r(3, 4), _r(3, 4)]),
    "aten.floor_divide.Scalar": Probe(lambda a: aten.floor_divide.Scalar(a, 2), lambda: [_r(3, 4)]),
    "aten.grid_sampler.default": Probe(
        lambda a, g: F.grid_sample(a, g, align_corners=False), lambda: [_r(1, 2, 4, 4), _r(1, 3, 3, 2)]
    ),
    "aten.grid_sampler_2d.default": Probe(
        lambda a, g: aten.grid_sampler_2d(a, g, 0, 0, True), lambda: [_r(1, 2, 4, 4), _r(1, 3, 3, 2)]
    ),
    "aten.index_copy.default": Probe(lambda a, s: torch.index_copy(a, 0, _i(2, 0), s), lambda: [_r(3, 4), _r(2, 4)]),
    "aten.index_put.default": Probe(lambda a, v: torch.index_put(a, (_i(2, 0),), v), lambda: [_r(3, 4), _r(2, 4)]),
    "aten.linalg_cross.default": Probe(
        torch.linalg.cross, lambda: [_r(2, 3), _r(2, 3)], [((1, 3), (5, 3)), ((1, 3), (5, 3))]
    ),
    "aten.native_dropout.default": Probe(lambda a: aten.native_dropout(a, 0.5, False)[0], lambda: [_r(2, 3)]),
    "aten.nonzero.default": Probe(torch.nonzero, lambda: [_r(2, 3)]),
    "aten.pixel_shuffle.default": Probe(
        lambda a: F.pixel_shuffle(a, 2), lambda: [_r(2, 8, 2, 3)], [((1, 8, 2, 3), (4, 8, 5, 6))]
    ),
    "aten.pixel_unshuffle.default": Probe(
        lambda a: F.pixel_unshuffle(a, 2), lambda: [_r(2, 2, 4, 6)], [((1, 2, 4, 6), (4, 2, 4, 6))]
    ),
    "aten.roll.default": Probe(lambda a: torch.roll(a, 1, 0), lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.softplus.default": Probe(F.softplus, lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.split.sizes": Probe(lambda a: aten.split.sizes(a, [1, 3], 1), lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.sym_numel.default": Probe(lambda a: a.new_ones(a.numel()), lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.tile.default": Probe(lambda a: torch.tile(a, (2, 1)), lambda: [_r(3, 4)], [((1, 4), (6, 4))]),
    "aten.upsample_nearest1d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0), lambda: [_r(2, 2, 3)], [((1, 2, 3), (4, 2, 7))]
    ),
    "aten.upsample_nearest2d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0), lambda: [_r(2, 2, 3, 4)], [_NCHW]
    ),
    "aten.upsample_nearest3d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0), lambda: [_r(2, 2, 3, 3, 3)], [((1, 2, 2, 2, 2), (3, 2, 4, 4, 4))]
    ),
    "aten.upsample_linear1d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0, mode="linear"), lambda: [_r(2, 2, 3)], [((1, 2, 3), (4, 2, 7))]
    ),
    "aten.upsample_bilinear2d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0, mode="bilinear"), lambda: [_r(2, 2, 3, 4)], [_NCHW]
    ),
    "aten.upsample_bicubic2d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0, mode="bicubic"), lambda: [_r(2, 2, 3, 4)], [_NCHW]
    ),
    "aten.upsample_trilinear3d.vec": Probe(
        lambda a: F.interpolate(a, scale_factor=2.0, mode="trilinear"),
        lambda: [_r(2, 2, 3, 3, 3)],
        [((1, 2, 2, 2, 2), (3, 2, 4, 4, 4))],
    ),
    "prims.div.default": Probe(lambda a, b: prims.div(a, b), lambda: [_r(3, 4), _r(3, 4)]),
    "prims.sum.default": Probe(lambda a: prims.sum(a, [0]), lambda: [_r(3, 4)]),
}

# Core overloads outside issue 18 that a probe checks too (a registered converter alone does not say
# which arguments it takes).
EXTRA_PROBES: dict[str, Probe] = {
    "aten.scatter_add.default": Probe(
        lambda a, s: torch.scatter_add(a, 0, _i(0, 2, 0).reshape(3, 1).expand(3, 4), s), lambda: [_r(3, 4), _r(3, 4)]
    ),
    "aten.select_scatter.default": Probe(lambda a, b: torch.select_scatter(a, b, 0, 1), lambda: [_r(3, 4), _r(4)]),
    "aten.var.dim": Probe(lambda a: aten.var.dim(a, [1]), lambda: [_r(3, 4)]),
    "aten.fill.Scalar": Probe(lambda a: aten.fill.Scalar(a, 2.0), lambda: [_r(3, 4)]),
    "aten.empty_strided.default": Probe(lambda a: a + torch.empty_strided((3, 4), (4, 1)).zero_(), lambda: [_r(3, 4)]),
    "aten.masked_scatter.default": Probe(lambda a, s: a.masked_scatter(a > 0, s), lambda: [_r(3, 4), _r(3, 4)]),
    "aten.scatter_reduce.two": Probe(
        lambda a, s: a.scatter_reduce(0, _i(0, 2, 0).reshape(3, 1).expand(3, 4), s, "amax"),
        lambda: [_r(3, 4), _r(3, 4)],
    ),
    # Random ops: each probe returns a deterministic property of its samples, so --verify can compare.
    "aten.rand.default": Probe(lambda a: (torch.rand(3, 4) < 1) & (a > -9), lambda: [_r(3, 4)]),
    "aten.randn.default": Probe(
        lambda a: torch.randn(a.shape[0], 4).isfinite(), lambda: [_r(3, 4)], [((1, 4), (6, 4))]
    ),
    "aten.randperm.default": Probe(
        lambda a: torch.randperm(a.shape[0]).sort().values, lambda: [_r(3, 4)], [((1, 4), (6, 4))]
    ),
}

PROBES = {**ISSUE_18, **EXTRA_PROBES}

# Why an overload without converter or lowering does not convert, where that is known.
KNOWN_GAPS: dict[str, str] = {
    "aten.nonzero.default": "TensorRT-RTX implements no NonZero layer (NVIDIA/TensorRT-RTX#32, on GPUs too)",
    "aten._local_scalar_dense.default": "Tensor.item(): a host-side Python number, data-dependent",
    "aten._fft_r2c.default": "FFT: complex results; TensorRT has neither complex dtypes nor a Fourier transform layer",
    "aten._fft_c2r.default": "FFT: complex results; TensorRT has neither complex dtypes nor a Fourier transform layer",
    "aten.sym_stride.int": "strides of TensorRT tensors are not observable (always contiguous)",
    "aten.sym_storage_offset.default": "storage offsets of TensorRT tensors are not observable",
}


@dataclass
class Verdict:
    op: str
    status: str  # direct | lowered | no
    detail: str = ""
    probed: bool = True
    dynamic: str | None = None  # the verdict with dynamic shapes, where the probe has ranges
    verified: str | None = None  # --verify: "ok" or the mismatch
    became: list[str] = field(default_factory=list)


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: torch.Tensor) -> Any:
        return self.fn(*args)


def _specs(probe: Probe, inputs: Sequence[torch.Tensor], dynamic: bool) -> list[Any]:
    if not dynamic or probe.dynamic is None:
        return list(inputs)
    specs: list[Any] = []
    for x, rng in zip(inputs, probe.dynamic, strict=True):
        if rng is None:
            specs.append(torch_tensorrt.Input.from_tensor(x))
        else:
            lo, hi = rng
            specs.append(torch_tensorrt.Input(min_shape=lo, opt_shape=tuple(x.shape), max_shape=hi, dtype=x.dtype))
    return specs


def _judge(op: str, probe: Probe, dynamic: bool) -> tuple[str, str, list[str]]:
    """(status, detail, ops it became) for one compile of the probe, up to partitioning."""
    torch.manual_seed(0)
    inputs = probe.inputs()
    try:
        gm = torch_tensorrt.compile(
            _Fn(probe.fn).eval(), ir="dynamo", arg_inputs=_specs(probe, inputs, dynamic), dryrun=True, min_block_size=1
        )
    except Exception as exc:  # noqa: BLE001 - a probe that cannot be compiled is a finding, not a crash
        return "no", f"compile failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}", []
    summary = gm._compile_summary
    name = op_name(_resolve(op))
    converted = sorted(summary.converted_ops)
    if summary.fallback_ops:
        reasons = "; ".join(f"{o}: {summary.fallback_reasons.get(o, '?')}" for o in sorted(summary.fallback_ops))
        if op in KNOWN_GAPS:
            reasons += f" ({KNOWN_GAPS[op]})"
        return "no", reasons, converted
    if name in summary.converted_ops:
        return "direct", "", converted
    return "lowered", "", converted


def _verify(probe: Probe) -> str:
    from torch_tensorrt.testing import assert_close_to_eager

    torch.manual_seed(0)
    inputs = probe.inputs()
    try:
        assert_close_to_eager(_Fn(probe.fn).eval(), inputs)
    except Exception as exc:  # noqa: BLE001 - reported per op
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return "ok"


def _resolve(op: str) -> Any:
    namespace, packet, overload = op.split(".")
    return getattr(getattr(getattr(torch.ops, namespace), packet), overload)


def probe_verdict(op: str, probe: Probe, verify: bool) -> Verdict:
    status, detail, became = _judge(op, probe, dynamic=False)
    verdict = Verdict(op, status, detail, became=became)
    if probe.dynamic is not None:
        dyn_status, dyn_detail, _ = _judge(op, probe, dynamic=True)
        verdict.dynamic = dyn_status if dyn_status != "no" else f"no ({dyn_detail})"
    if verify and status != "no":
        verdict.verified = _verify(probe)
    return verdict


def static_verdict(op: str) -> Verdict:
    target = _resolve(op)
    if target in DYNAMO_CONVERTERS:
        return Verdict(op, "direct", "converter registered", probed=False)
    if target in REWRITES or decomposes_aten_op(target):
        return Verdict(op, "lowered", "decomposed by lowering", probed=False)
    if "backward" in op:
        return Verdict(op, "no", "gradient op: training graphs only", probed=False)
    return Verdict(op, "no", KNOWN_GAPS.get(op, "no converter"), probed=False)


def core_aten_overloads() -> list[str]:
    names = []
    for packet_name in dir(aten):
        packet = getattr(aten, packet_name, None)
        if not isinstance(packet, torch._ops.OpOverloadPacket):
            continue
        for overload in packet.overloads():
            if torch.Tag.core in getattr(packet, overload).tags:
                names.append(f"aten.{packet_name}.{overload}")
    return sorted(names)


_VERDICTS: dict[tuple[str, bool], Verdict] = {}


def evaluate(ops: Sequence[str], verify: bool) -> list[Verdict]:
    """One verdict per overload; an overload in both sets is probed once."""
    for op in ops:
        if (op, verify) not in _VERDICTS:
            _VERDICTS[op, verify] = probe_verdict(op, PROBES[op], verify) if op in PROBES else static_verdict(op)
    return [_VERDICTS[op, verify] for op in ops]


def _counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = {"total": len(verdicts), "direct": 0, "lowered": 0, "no": 0}
    for v in verdicts:
        counts[v.status] += 1
    counts["converts"] = counts["direct"] + counts["lowered"]
    return counts


def report(title: str, verdicts: Sequence[Verdict], verbose: bool) -> None:
    c = _counts(verdicts)
    print(
        f"== {title}: {c['converts']}/{c['total']} convert ({c['direct']} directly, {c['lowered']} via lowering), "
        f"{c['no']} do not"
    )
    dynamic = [v for v in verdicts if v.dynamic is not None]
    if dynamic:
        ok = sum(1 for v in dynamic if not v.dynamic.startswith("no"))
        print(f"   with dynamic shapes: {ok}/{len(dynamic)} of the probes that have ranges")
    verified = [v for v in verdicts if v.verified is not None]
    if verified:
        print(
            f"   built and matching eager on the reference executor: {sum(v.verified == 'ok' for v in verified)}/{len(verified)}"
        )
    quiet = [v for v in verdicts if not verbose and v.status == "direct" and not v.probed]
    if quiet:
        print(f"   {len(quiet)} more have a registered converter and no probe (--verbose lists them)")
    for v in sorted(verdicts, key=lambda v: ({"no": 0, "lowered": 1, "direct": 2}[v.status], v.op)):
        if v in quiet:
            continue
        mark = "" if v.probed else "*"
        extra = [v.detail] if v.detail else []
        if v.dynamic is not None and v.dynamic != v.status:
            extra.append(f"dynamic: {v.dynamic}")
        if v.verified not in (None, "ok"):
            extra.append(f"verify: {v.verified}")
        print(f"  {v.status:8s}{mark:1s} {v.op}" + (f"  -- {' | '.join(extra)}" if extra else ""))
    print()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["core", "issue18", "all"], default="all")
    parser.add_argument("--verify", action="store_true", help="build probes that convert and compare with eager")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the report")
    parser.add_argument("--only", nargs="*", help="only these overloads (e.g. aten.roll.default)")
    parser.add_argument("--verbose", action="store_true", help="also list unprobed overloads with a converter")
    args = parser.parse_args(argv)
    logging.getLogger("torch_tensorrt").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    sets = {"core": core_aten_overloads(), "issue18": list(ISSUE_18)}
    chosen = {k: v for k, v in sets.items() if args.set in (k, "all")}
    results: dict[str, list[Verdict]] = {}
    for title, ops in chosen.items():
        if args.only:
            ops = [op for op in ops if op in args.only]
        results[title] = evaluate(ops, args.verify)
    if args.json:
        json.dump({k: {"counts": _counts(v), "ops": [vars(x) for x in v]} for k, v in results.items()}, sys.stdout)
        print()
        return
    titles = {"core": "core ATen opset (torch.Tag.core)", "issue18": "issue 18 overloads"}
    for key, verdicts in results.items():
        report(titles[key], verdicts, args.verbose)
    print("* judged without a probe: a registered converter or a lowering exists; arguments may still be refused")


if __name__ == "__main__":
    main()
