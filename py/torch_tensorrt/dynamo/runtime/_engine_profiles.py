"""Which optimization profile a call runs on, and the weight-streaming budget checks, for the Python
engine. The C++ engine (core/runtime/TRTEngine.cpp, OptimizationProfiles) applies the same rules with
the same messages; tests/py/runtime/test_profiles_and_budgets.py runs both.

Rules (Torch-TensorRT's ``optimization_profile`` semantics, with automatic selection as the default):
a call runs on the profile forced by ``optimization_profile(module, k)``, else on the first profile
(lowest index) whose [min, max] contains every input shape. The choice is cached per input shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# (min shape, max shape) per input, per profile.
ProfileRanges = list[list[tuple[tuple[int, ...], tuple[int, ...]]]]

# Input-shape signatures whose profile is remembered (cleared when full: engines seeing many shapes).
_MAX_CHOICES = 64


def _shape(shape: Sequence[int]) -> str:
    return str(tuple(int(d) for d in shape))


def describe_profile(input_names: Sequence[str], ranges: ProfileRanges, index: int) -> str:
    return f"profile {index}: " + ", ".join(
        f"{name} min {_shape(lo)} max {_shape(hi)}" for name, (lo, hi) in zip(input_names, ranges[index])
    )


def describe_shapes(input_names: Sequence[str], shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(f"{name}={_shape(s)}" for name, s in zip(input_names, shapes))


class ProfileSelector:
    """The profile of each call of one engine with several optimization profiles."""

    def __init__(self, engine_name: str, input_names: Sequence[str], ranges: ProfileRanges) -> None:
        self.engine_name = engine_name
        self.input_names = list(input_names)
        self.ranges = ranges
        self._choices: dict[tuple[Any, ...], int] = {}

    @property
    def count(self) -> int:
        return len(self.ranges)

    def fits(self, index: int, shapes: Sequence[Sequence[int]]) -> bool:
        for shape, (lo, hi) in zip(shapes, self.ranges[index]):
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                return False
        return True

    def choose(self, shapes: Sequence[Sequence[int]], forced: int | None) -> int:
        """The profile for these shapes (``forced``: the one optimization_profile() selected)."""
        key = (forced, *shapes)
        index = self._choices.get(key)
        if index is not None:
            return index
        index = self._resolve(shapes, forced)
        if len(self._choices) >= _MAX_CHOICES:
            self._choices.clear()
        self._choices[key] = index
        return index

    def _resolve(self, shapes: Sequence[Sequence[int]], forced: int | None) -> int:
        given = describe_shapes(self.input_names, shapes)
        if forced is not None:
            if self.fits(forced, shapes):
                return forced
            raise ValueError(
                f"inputs of engine {self.engine_name!r} have shapes {given}, outside optimization profile "
                f"{forced} selected with optimization_profile(): "
                f"{describe_profile(self.input_names, self.ranges, forced)}. Select a profile containing "
                "them, or 'auto' to run on the first profile that does."
            )
        for index in range(self.count):
            if self.fits(index, shapes):
                return index
        every = "; ".join(describe_profile(self.input_names, self.ranges, k) for k in range(self.count))
        raise ValueError(
            f"inputs of engine {self.engine_name!r} have shapes {given}, which no optimization profile of "
            f"the engine contains ({every}). Pass inputs inside one of them, or recompile with "
            "torch_tensorrt.Input(profiles=[...]) covering these shapes."
        )


def profile_selector(engine: Any, engine_name: str, input_names: Sequence[str]) -> ProfileSelector | None:
    """The selector of a loaded engine handle with several profiles; None for one profile."""
    count = int(getattr(engine, "num_optimization_profiles", 1))
    if count <= 1:
        return None
    ranges: ProfileRanges = []
    for index in range(count):
        ranges.append([tuple(engine.profile_shape(name, index)[0::2]) for name in input_names])  # type: ignore[misc]
    return ProfileSelector(engine_name, input_names, ranges)


def check_profile_index(engine_name: str, profile: int, count: int) -> None:
    if not 0 <= profile < count:
        raise ValueError(
            f"optimization profile {profile} does not exist: engine {engine_name!r} has {count} "
            f"optimization profile{'s' if count != 1 else ''} (0..{count - 1}); compile with "
            "torch_tensorrt.Input(profiles=[...]) for more"
        )


def check_budget(engine_name: str, budget: int, streamable: int) -> None:
    """A budget an engine can take: it streams weights, and 0 <= budget <= its streamable bytes."""
    if streamable <= 0:
        raise RuntimeError(
            f"engine {engine_name!r} has no streamable weights: it was not compiled with "
            "enable_weight_streaming=True (recompile with it to set a weight-streaming budget)"
        )
    if not 0 <= budget <= streamable:
        raise ValueError(
            f"weight-streaming budget {budget} of engine {engine_name!r} must lie in 0..{streamable} "
            "(its streamable weight bytes)"
        )
