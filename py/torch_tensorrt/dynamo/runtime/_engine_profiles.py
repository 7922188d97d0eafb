"""Which optimization profile a call runs on, and the weight-streaming budget checks, for the Python
engine. The C++ engine (core/runtime/TRTEngine.cpp, OptimizationProfiles) applies the same rules with
the same messages; tests/py/runtime/test_profiles_and_budgets.py runs both.

Rules (Torch-TensorRT's ``optimization_profile`` semantics, with automatic selection as the default):
a call runs on the profile forced by ``optimization_profile(module, k)``, else on the first profile
(lowest index) whose [min, max] contains every input shape and the values of every shape-tensor input
(``Input(is_shape_tensor=True)``: TensorRT bounds those values per profile, so a profile can fit the
shapes and still refuse the values). The choice is cached per input shapes and values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# (min shape, max shape) per input, per profile.
ProfileRanges = list[list[tuple[tuple[int, ...], tuple[int, ...]]]]
# Per profile, per shape-tensor input (ProfileSelector.value_inputs): (min values, max values), or None
# where the engine does not say.
ValueRanges = list[list[tuple[tuple[int, ...], tuple[int, ...]] | None]]

# Input-shape signatures whose profile is remembered (cleared when full: engines seeing many shapes).
_MAX_CHOICES = 64


def _shape(shape: Sequence[int]) -> str:
    return str(tuple(int(d) for d in shape))


def describe_profile(
    input_names: Sequence[str],
    ranges: ProfileRanges,
    index: int,
    values: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] | None = None,
) -> str:
    """``values``: the value range of shape-tensor inputs in this profile, by input index."""
    parts = []
    for i, (name, (lo, hi)) in enumerate(zip(input_names, ranges[index])):
        value_range = (values or {}).get(i)
        extra = f" values min {_shape(value_range[0])} max {_shape(value_range[1])}" if value_range else ""
        parts.append(f"{name} min {_shape(lo)} max {_shape(hi)}{extra}")
    return f"profile {index}: " + ", ".join(parts)


def describe_shapes(
    input_names: Sequence[str], shapes: Sequence[Sequence[int]], values: dict[int, Sequence[int]] | None = None
) -> str:
    """``values``: the values of shape-tensor inputs, by input index."""
    parts = []
    for i, (name, s) in enumerate(zip(input_names, shapes)):
        given = (values or {}).get(i)
        parts.append(f"{name}={_shape(s)}" + (f" values {_shape(given)}" if given is not None else ""))
    return ", ".join(parts)


class ProfileSelector:
    """The profile of each call of one engine with several optimization profiles."""

    def __init__(
        self,
        engine_name: str,
        input_names: Sequence[str],
        ranges: ProfileRanges,
        value_inputs: Sequence[int] = (),
        value_ranges: ValueRanges | None = None,
    ) -> None:
        """``value_inputs``: the indices of the shape-tensor inputs, whose values ``choose`` is given in
        this order; ``value_ranges``: their ranges per profile."""
        self.engine_name = engine_name
        self.input_names = list(input_names)
        self.ranges = ranges
        self.value_inputs = tuple(value_inputs)
        self.value_ranges = value_ranges or [[None] * len(self.value_inputs) for _ in ranges]
        self._choices: dict[tuple[Any, ...], int] = {}

    @property
    def count(self) -> int:
        return len(self.ranges)

    def fits(self, index: int, shapes: Sequence[Sequence[int]], values: Sequence[Sequence[int]] = ()) -> bool:
        for shape, (lo, hi) in zip(shapes, self.ranges[index]):
            if len(shape) != len(lo) or any(not a <= s <= b for s, a, b in zip(shape, lo, hi)):
                return False
        for given, value_range in zip(values, self.value_ranges[index]):
            if value_range is None:
                continue
            lo, hi = value_range
            if len(given) != len(lo) or any(not a <= v <= b for v, a, b in zip(given, lo, hi)):
                return False
        return True

    def choose(self, shapes: Sequence[Sequence[int]], forced: int | None, values: Sequence[Sequence[int]] = ()) -> int:
        """The profile for these shapes and shape-tensor values (in ``value_inputs`` order);
        ``forced``: the one optimization_profile() selected."""
        key = (forced, tuple(shapes), tuple(tuple(v) for v in values))
        index = self._choices.get(key)
        if index is not None:
            return index
        index = self._resolve(shapes, forced, values)
        if len(self._choices) >= _MAX_CHOICES:
            self._choices.clear()
        self._choices[key] = index
        return index

    def _describe(self, index: int) -> str:
        values = {i: r for i, r in zip(self.value_inputs, self.value_ranges[index]) if r is not None}
        return describe_profile(self.input_names, self.ranges, index, values)

    def _resolve(self, shapes: Sequence[Sequence[int]], forced: int | None, values: Sequence[Sequence[int]]) -> int:
        given = describe_shapes(self.input_names, shapes, dict(zip(self.value_inputs, values)))
        if forced is not None:
            if self.fits(forced, shapes, values):
                return forced
            raise ValueError(
                f"inputs of engine {self.engine_name!r} have shapes {given}, outside optimization profile "
                f"{forced} selected with optimization_profile(): {self._describe(forced)}. Select a profile "
                "containing them, or 'auto' to run on the first profile that does."
            )
        for index in range(self.count):
            if self.fits(index, shapes, values):
                return index
        every = "; ".join(self._describe(k) for k in range(self.count))
        raise ValueError(
            f"inputs of engine {self.engine_name!r} have shapes {given}, which no optimization profile of "
            f"the engine contains ({every}). Pass inputs inside one of them, or recompile with "
            "torch_tensorrt.Input(profiles=[...]) covering these shapes."
        )


def profile_selector(
    engine: Any, engine_name: str, input_names: Sequence[str], value_inputs: Sequence[int] = ()
) -> ProfileSelector | None:
    """The selector of a loaded engine handle with several profiles; None for one profile.
    ``value_inputs``: the indices of its shape-tensor inputs, whose value ranges per profile the handle
    gives with ``profile_values(name, profile)`` (TensorRT's get_tensor_profile_values)."""
    count = int(getattr(engine, "num_optimization_profiles", 1))
    if count <= 1:
        return None
    ranges: ProfileRanges = []
    value_ranges: ValueRanges = []
    read_values = getattr(engine, "profile_values", None)
    for index in range(count):
        ranges.append([tuple(engine.profile_shape(name, index)[0::2]) for name in input_names])  # type: ignore[misc]
        found = [read_values(input_names[i], index) if read_values is not None else None for i in value_inputs]
        value_ranges.append([(tuple(r[0]), tuple(r[2])) if r is not None else None for r in found])
    return ProfileSelector(engine_name, input_names, ranges, value_inputs, value_ranges)


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
