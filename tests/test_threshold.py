"""threshold: the edge inside a rule (N days of an event, a rating of N), step by step."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.specs.spec import Threshold, threshold_errors
from test_verify import _register_toy, _toy_spec


def _verify_stage_users(properties: list, tmp_path, register_plugin) -> dict:
    """toy.stage_users' results with these properties: label -> (status, message)."""
    spec = _toy_spec()
    (stage_users,) = [i for i in spec["indicators"] if i["id"] == "toy.stage_users"]
    stage_users["properties"] = properties
    _register_toy(spec, tmp_path, register_plugin, "toy-threshold")
    r = CliRunner().invoke(app, ["verify", "toy", "--max-examples", "3", "-f", "json"])
    (m,) = json.loads(r.stdout)["methodologies"]
    return {
        x["property"]: (x["status"], x["message"])
        for x in m["results"]
        if x["indicator"] == "toy.stage_users"
    } | {"exit": r.exit_code, "spec_errors": m["spec_errors"]}


def test_each_step_around_the_edge_is_checked(tmp_path, register_plugin):
    """The toy ladder: I from product views on $min_view_days (2) days, L from purchases on
    2 days or a review rated $positive_rating (4) or more; add_to_cart makes I at once."""
    got = _verify_stage_users(
        [
            {
                "threshold": {
                    "add": {"event_type": "product_view"},
                    "days": "$min_view_days",
                    "keys": "I",
                }
            },
            {"threshold": {"add": {"event_type": "purchase"}, "days": 2, "keys": "L"}},
            {
                "threshold": {
                    "add": {"event_type": "review"},
                    "rating": "$positive_rating",
                    "keys": "L",
                }
            },
            {"threshold": {"add": {"event_type": "add_to_cart"}, "days": 1, "keys": "I"}},
            # wrong: L comes from the second purchase day, not the third
            {"threshold": {"add": {"event_type": "purchase"}, "days": 3, "keys": "L"}},
            # wrong: a review rated 4 already makes L
            {"threshold": {"add": {"event_type": "review"}, "rating": 5, "keys": "L"}},
            # true of no step: product views never make L
            {"threshold": {"add": {"event_type": "product_view"}, "days": 2, "keys": "L"}},
        ],
        tmp_path,
        register_plugin,
    )
    assert got.pop("exit") == 1 and got.pop("spec_errors") == []
    assert {k: v[0] for k, v in got.items()} == {
        "threshold (+product_view on 2 days, keys I)": "pass",
        "threshold (+purchase on 2 days, keys L)": "pass",
        "threshold (+review rated 4, keys L)": "pass",
        "threshold (+add_to_cart on 1 day, keys I)": "pass",
        "threshold (+purchase on 3 days, keys L)": "fail",
        "threshold (+review rated 5, keys L)": "fail",
        "threshold (+product_view on 2 days, keys L)": "unexercised",
    }
    assert got["threshold (+purchase on 3 days, keys L)"][1].endswith(
        "key 'L': a new user's purchase on 2 days instead of 1 day (counted from 3 days) "
        "changed the value"
    )
    assert got["threshold (+review rated 5, keys L)"][1].endswith(
        "key 'L': a new user's review rated 4 instead of rated 3 (counted from 5) changed the value"
    )
    assert got["threshold (+product_view on 2 days, keys L)"][1] == (
        "never exercised: a new user's 2nd day of product_view never changed the value, so "
        "the edge cannot be told from any other step (does the indicator read the event, "
        "counted this way?)"
    )


def test_an_edge_that_is_no_number_in_range_is_a_spec_error(tmp_path, register_plugin):
    got = _verify_stage_users(
        [
            {"threshold": {"add": {"event_type": "review"}, "rating": 6, "keys": "L"}},
            {"threshold": {"add": {"event_type": "purchase"}, "days": "$min_view_days - 2"}},
            {"threshold": {"add": {"event_type": "purchase"}, "days": "$window_days / 2"}},
            {"threshold": {"add": {"event_type": "purchase"}, "days": 2, "keys": "L"}},
        ],
        tmp_path,
        register_plugin,
    )
    assert got.pop("exit") == 1
    assert got.pop("spec_errors") == [
        "toy.stage_users: threshold rating 6 is outside 1 to 5; verify skips that property",
        "toy.stage_users: threshold days $min_view_days - 2 = 0 is outside 1 to 62; verify "
        "skips that property",
        "toy.stage_users: threshold days $window_days / 2 = 7.5 is not a whole number; "
        "verify skips that property",
    ]
    assert got == {"threshold (+purchase on 2 days, keys L)": ("pass", "")}


@pytest.mark.parametrize(
    ("declared", "error"),
    [
        ({"add": {"event_type": "purchase"}}, "give days or rating, not both"),
        ({"add": {"event_type": "review"}, "days": 2, "rating": 4}, "give days or rating"),
        (
            {"add": {"event_type": "purchase", "user": "existing"}, "days": 2},
            "a new user of the brand itself",
        ),
        (
            {"add": {"event_type": "purchase", "brand": "other"}, "days": 2},
            "a new user of the brand itself",
        ),
        ({"add": {"event_type": "purchase"}, "rating": 4}, "a rating threshold adds reviews"),
        (
            {"add": {"event_type": "review", "rating": 5}, "rating": 4},
            "leave add.rating out",
        ),
    ],
)
def test_a_threshold_is_declared_consistently(declared, error):
    with pytest.raises(ValidationError, match=error):
        Threshold(**declared)


def test_unknown_parameters_are_said_apart_not_twice():
    t = Threshold(add={"event_type": "purchase"}, days="$nowhere")
    assert threshold_errors(t, {"window_days": 15}) == []  # the unknown-parameter check says it
