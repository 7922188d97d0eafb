"""The compile summary: what went to TensorRT, what stayed in PyTorch and why, and what it cost."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class EngineSummary:
    name: str
    engine_bytes: int
    inputs: int
    outputs: int
    convert_seconds: float
    build_seconds: float


@dataclass
class FailedSegment:
    """A TensorRT segment whose conversion or engine build failed; its ops run in PyTorch."""

    name: str
    reason: str
    ops: int


@dataclass
class CompileSummary:
    converted_ops: Counter[str] = field(default_factory=Counter)
    fallback_ops: Counter[str] = field(default_factory=Counter)
    fallback_reasons: dict[str, str] = field(default_factory=dict)
    engines: list[EngineSummary] = field(default_factory=list)
    failed_segments: list[FailedSegment] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def num_engines(self) -> int:
        return len(self.engines)

    @property
    def engine_bytes(self) -> int:
        return sum(e.engine_bytes for e in self.engines)

    @property
    def num_converted_ops(self) -> int:
        return sum(self.converted_ops.values())

    @property
    def num_fallback_ops(self) -> int:
        return sum(self.fallback_ops.values())

    def to_json(self) -> str:
        # Not asdict(self): it rebuilds a Counter from (key, value) pairs, giving tuple keys.
        data = {
            "converted_ops": dict(self.converted_ops),
            "fallback_ops": dict(self.fallback_ops),
            "fallback_reasons": self.fallback_reasons,
            "engines": [asdict(e) for e in self.engines],
            "failed_segments": [asdict(f) for f in self.failed_segments],
            "stage_seconds": self.stage_seconds,
            "engine_bytes_total": self.engine_bytes,
        }
        return json.dumps(data, indent=None)

    def __str__(self) -> str:
        lines = [f"TensorRT engines: {self.num_engines} ({self.engine_bytes} bytes)"]
        if self.failed_segments:
            lines.append(f"TensorRT segments that failed and run in PyTorch: {len(self.failed_segments)}")
            lines.extend(f"  {f.name} ({f.ops} ops): {f.reason}" for f in self.failed_segments)
        lines += [
            f"ops converted to TensorRT: {self.num_converted_ops}",
            f"ops left to PyTorch: {self.num_fallback_ops}",
        ]
        for op, count in sorted(self.fallback_ops.items()):
            lines.append(f"  {op} x{count}: {self.fallback_reasons.get(op, '')}")
        for stage, seconds in self.stage_seconds.items():
            lines.append(f"  {stage}: {seconds:.3f} s")
        return "\n".join(lines)
