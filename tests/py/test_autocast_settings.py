"""The precision settings: autocast_* options are checked when the settings are made, and every
precision setting that cannot act (enabled_precisions, use_explicit_typing, autocast options without
enable_autocast) warns once saying why; with autocast on and consistent options nothing is said."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._logging import reset_warnings
from torch_tensorrt.dynamo._settings import CompilationSettings


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    reset_warnings()


def _silent(**settings: Any) -> CompilationSettings:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CompilationSettings(**settings)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (torch.float16, torch.float16),
        ("bf16", torch.bfloat16),
        (torch_tensorrt.dtype.f16, torch.float16),
        ("half", torch.float16),
    ],
)
def test_low_precision_type_spellings(value: Any, expected: torch.dtype) -> None:
    settings = _silent(enable_autocast=True, autocast_low_precision_type=value)
    assert settings.autocast_low_precision_type == expected


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"autocast_low_precision_type": torch.int8}, ValueError, "autocast_low_precision_type must be torch.float16"),
        ({"autocast_low_precision_type": torch.float32}, ValueError, "autocast_low_precision_type must be"),
        ({"autocast_low_precision_type": "fp17"}, TypeError, "autocast_low_precision_type 'fp17' is not a dtype"),
        ({"autocast_excluded_nodes": {"conv("}}, ValueError, "pattern 'conv\\(' is not a valid regular expression"),
        ({"autocast_excluded_nodes": {3}}, TypeError, "autocast_excluded_nodes entries are regular expressions"),
        ({"autocast_excluded_nodes": "^conv"}, TypeError, "autocast_excluded_nodes must be a collection"),
        ({"autocast_excluded_ops": {"aten.not_an_op"}}, ValueError, "autocast_excluded_ops entry 'aten.not_an_op'"),
        ({"autocast_excluded_ops": {len}}, TypeError, "autocast_excluded_ops entry .* is not an operator"),
        ({"autocast_max_output_threshold": 0}, ValueError, "autocast_max_output_threshold must be > 0"),
        ({"autocast_max_output_threshold": math.nan}, ValueError, "autocast_max_output_threshold must be > 0"),
        ({"autocast_max_output_threshold": "512"}, TypeError, "autocast_max_output_threshold must be float"),
        ({"autocast_max_depth_of_reduction": -1}, ValueError, "autocast_max_depth_of_reduction must be >= 0"),
        ({"autocast_max_depth_of_reduction": 2.5}, TypeError, "autocast_max_depth_of_reduction must be int"),
        ({"autocast_calibration_dataloader": torch.randn(2, 3)}, TypeError, "wrap a single batch as \\[batch\\]"),
        ({"autocast_calibration_dataloader": 7}, TypeError, "must be an iterable of batches"),
        ({"enable_autocast": 1}, TypeError, "enable_autocast must be bool"),
    ],
)
def test_bad_autocast_options_are_refused_naming_the_setting(
    settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        CompilationSettings(**{"enable_autocast": True, **settings})


def test_consistent_autocast_options_say_nothing() -> None:
    _silent(
        enable_autocast=True,
        autocast_low_precision_type=torch.bfloat16,
        autocast_excluded_nodes={"^encoder\\.", "head$"},
        autocast_excluded_ops={"aten.conv2d.default", torch.ops.aten.linear},
        autocast_max_output_threshold=math.inf,
        autocast_max_depth_of_reduction=0,
        autocast_calibration_dataloader=[(torch.randn(2, 3),)],
        enabled_precisions={torch.float32, torch.bfloat16},  # the precisions autocast uses
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("autocast_low_precision_type", torch.float16),
        ("autocast_excluded_nodes", {"^fc"}),
        ("autocast_excluded_ops", {"aten.relu"}),
        ("autocast_max_output_threshold", 100.0),
        ("autocast_max_depth_of_reduction", 8),
        ("autocast_calibration_dataloader", [torch.randn(1)]),
    ],
)
def test_autocast_options_without_enable_autocast_warn(name: str, value: Any) -> None:
    with pytest.warns(UserWarning, match=f"{name}=.* has no effect: enable_autocast is False"):
        CompilationSettings(**{name: value})


def test_enable_autocast_without_a_low_precision_type_warns_as_it_changes_nothing() -> None:
    with pytest.warns(UserWarning, match="enable_autocast=True has no effect: autocast_low_precision_type is None"):
        CompilationSettings(enable_autocast=True)


def test_a_threshold_without_calibration_data_warns() -> None:
    with pytest.warns(UserWarning, match="autocast_max_output_threshold=100.0 has no effect: magnitudes are measured"):
        CompilationSettings(
            enable_autocast=True, autocast_low_precision_type="fp16", autocast_max_output_threshold=100.0
        )


def test_enabled_precisions_without_autocast_warns_pointing_to_autocast() -> None:
    with pytest.warns(
        UserWarning, match="enabled_precisions containing \\['float16'\\] has no effect.*enable_autocast=True"
    ):
        settings = CompilationSettings(enabled_precisions={torch.float16})
    assert settings.autocast_low_precision_type is None and not settings.enable_autocast


def test_enabled_precisions_names_autocasts_low_type_when_none_is_given() -> None:
    with pytest.warns(UserWarning, match="autocast_low_precision_type is taken from enabled_precisions") as record:
        settings = CompilationSettings(enable_autocast=True, enabled_precisions={torch.float32, torch.bfloat16})
    assert settings.autocast_low_precision_type == torch.bfloat16
    assert not any("has no effect" in str(r.message) for r in record)


def test_enabled_precisions_autocast_does_not_use_warn() -> None:
    with pytest.warns(
        UserWarning, match="enabled_precisions containing \\['bfloat16', 'int8'\\] has no effect: autocast"
    ):
        settings = CompilationSettings(
            enable_autocast=True,
            autocast_low_precision_type=torch.float16,
            enabled_precisions={torch.float16, torch.bfloat16, torch.int8},
        )
    assert settings.autocast_low_precision_type == torch.float16
    # Two reduced types and no explicit choice: autocast cannot pick one, and says it does nothing.
    reset_warnings()
    with pytest.warns(UserWarning) as record:
        CompilationSettings(enable_autocast=True, enabled_precisions={torch.float16, torch.bfloat16})
    messages = " | ".join(str(r.message) for r in record)
    assert "enable_autocast=True has no effect" in messages
    assert "['bfloat16', 'float16'] has no effect: autocast runs layers in float32 and" in messages


def test_use_explicit_typing_false_warns_pointing_to_autocast() -> None:
    with pytest.warns(UserWarning, match="use_explicit_typing=False has no effect.*enable_autocast=True"):
        CompilationSettings(use_explicit_typing=False)


def test_compile_keywords_reach_the_settings() -> None:
    settings = CompilationSettings.from_kwargs(
        enable_autocast=True, autocast_low_precision_type=torch_tensorrt.dtype.bf16, autocast_excluded_nodes=["^fc"]
    )
    assert settings.autocast_low_precision_type == torch.bfloat16
    assert settings.autocast_excluded_nodes == frozenset({"^fc"})
