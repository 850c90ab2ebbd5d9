"""The spec vocabulary's smaller parts: window expressions, property texts, dimensions."""

from __future__ import annotations

import pytest

from brandlens.specs.spec import window_days

PARAMS = {"window_days": 90, "engaged_days": 30, "history_weeks": 52}


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (30, 30),
        ("$window_days", 90),
        ("$window_days + $engaged_days", 120),
        ("max($window_days, $engaged_days)", 90),
        ("max($engaged_days, $window_days)", 90),
        ("max($engaged_days, 7 * ($history_weeks - 1), $window_days) + 1", 358),
        ("max(max($engaged_days, 10), 20)", 30),
    ],
)
def test_window_expressions(days, expected):
    assert window_days(days, PARAMS) == expected


@pytest.mark.parametrize(
    "days", ["max($window_days)", "min($window_days, 3)", "max(a=1, b=2)", "__import__('os')"]
)
def test_window_expressions_allow_nothing_else(days):
    with pytest.raises(ValueError, match="unsupported expression"):
        window_days(days, PARAMS)


def test_explain_keeps_every_field_of_a_monotone_addition():
    """`user: new` and `brand: self` are defaults, yet they are what the property says."""
    import json

    from typer.testing import CliRunner

    from brandlens.cli.app import app

    r = CliRunner().invoke(app, ["explain", "fast.fertility", "-f", "json"])
    props = json.loads(r.stdout)["properties"]
    assert (
        "monotone add={event_type: purchase, user: new, brand: self}, direction=non_decreasing"
        in props
    )
    r = CliRunner().invoke(app, ["explain", "goal.share_of_wallet", "-f", "json"])
    assert (
        "monotone add={event_type: purchase, user: existing_buyer, brand: other}, "
        "direction=non_increasing" in json.loads(r.stdout)["properties"]
    )
    # other properties still leave their defaults out
    assert "window_bounded days=$buyer_window_days" in json.loads(r.stdout)["properties"]
