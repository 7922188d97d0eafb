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
class CompileSummary:
    converted_ops: Counter[str] = field(default_factory=Counter)
    fallback_ops: Counter[str] = field(default_factory=Counter)
    fallback_reasons: dict[str, str] = field(default_factory=dict)
    engines: list[EngineSummary] = field(default_factory=list)
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
        return json.dumps(asdict(self) | {"engine_bytes_total": self.engine_bytes}, indent=None)

    def __str__(self) -> str:
        lines = [
            f"TensorRT engines: {self.num_engines} ({self.engine_bytes} bytes)",
            f"ops converted to TensorRT: {self.num_converted_ops}",
            f"ops left to PyTorch: {self.num_fallback_ops}",
        ]
        for op, count in sorted(self.fallback_ops.items()):
            lines.append(f"  {op} x{count}: {self.fallback_reasons.get(op, '')}")
        for stage, seconds in self.stage_seconds.items():
            lines.append(f"  {stage}: {seconds:.3f} s")
        return "\n".join(lines)
