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
    """toy.stage_users' results with these properties: label -> (status, message); the
    parameters check every indicator gets is left out."""
    spec = _toy_spec()
    (stage_users,) = [i for i in spec["indicators"] if i["id"] == "toy.stage_users"]
    stage_users["properties"] = properties
    _register_toy(spec, tmp_path, register_plugin, "toy-threshold")
    r = CliRunner().invoke(app, ["verify", "toy", "--max-examples", "3", "-f", "json"])
    (m,) = json.loads(r.stdout)["methodologies"]
    return {
        x["property"]: (x["status"], x["message"])
        for x in m["results"]
        if x["indicator"] == "toy.stage_users" and x["property"] != "parameters"
    } | {"exit": r.exit_code, "spec_errors": m["spec_errors"]}


def _edge(event_type: str, **declared) -> dict:
    return {"threshold": {"add": {"event_type": event_type}, **declared}}


def test_each_step_around_the_edge_is_checked(tmp_path, register_plugin):
    """The toy ladder: I from product views on $min_view_days (2) days in $window_days
    (15), L from purchases on 2 days in 365 or a review rated $positive_rating (4) or
    more; add_to_cart makes I at once."""
    got = _verify_stage_users(
        [
            _edge("product_view", days="$min_view_days", within="$window_days", keys="I"),
            _edge("purchase", days=2, within=365, keys="L"),
            _edge("review", rating="$positive_rating", keys="L"),
            _edge("add_to_cart", days=1, keys="I"),
            # wrong: L comes from the second purchase day, not the third
            _edge("purchase", days=3, keys="L"),
            # wrong: a review rated 4 already makes L
            _edge("review", rating=5, keys="L"),
            # true of no step: product views never make L
            _edge("product_view", days=2, keys="L"),
            # wrong: true at the default (2), but L's purchase days are not $min_view_days
            _edge("purchase", days="$min_view_days", keys="L"),
            # wrong way: a new user's second purchase day raises L
            _edge("purchase", days=2, keys="L", direction="non_increasing"),
            # within 15 of the rule's 365 days: true, and proves less
            _edge("purchase", days=2, within=15, keys="L"),
        ],
        tmp_path,
        register_plugin,
    )
    assert got.pop("exit") == 1 and got.pop("spec_errors") == []
    assert {k: v[0] for k, v in got.items()} == {
        "threshold (+product_view on 2 days within 15, keys I)": "pass",
        "threshold (+purchase on 2 days within 365, keys L)": "pass",
        "threshold (+review rated 4, keys L)": "pass",
        "threshold (+add_to_cart on 1 day, keys I)": "pass",
        "threshold (+purchase on 3 days, keys L)": "fail",
        "threshold (+review rated 5, keys L)": "fail",
        "threshold (+product_view on 2 days, keys L)": "unexercised",
        "threshold (+purchase on 2 days, keys L)": "fail",
        "threshold (+purchase on 2 days, keys L, falling)": "fail",
        "threshold (+purchase on 2 days within 15, keys L)": "pass",
    }
    message = {k: v[1] for k, v in got.items()}
    assert message["threshold (+purchase on 3 days, keys L)"].endswith(
        "key 'L': a new user's purchase on 2 days instead of 1 day (counted from 3 days) "
        "changed the value"
    )
    assert message["threshold (+review rated 5, keys L)"].endswith(
        "key 'L': a new user's review rated 4 instead of rated 3 (counted from 5) changed the value"
    )
    assert message["threshold (+product_view on 2 days, keys L)"] == (
        "never exercised: a new user's 2nd day of product_view never changed the value, so "
        "the edge cannot be told from any other step (does the indicator read the event, "
        "counted this way?)"
    )
    assert message["threshold (+purchase on 2 days, keys L)"].endswith(
        "key 'L': a new user's purchase on 2 days instead of 1 day (counted from 3 days), "
        "with min_view_days = 3 changed the value"
    )
    assert message["threshold (+purchase on 2 days, keys L, falling)"].endswith(
        "key 'L': a new user's purchase on 2 days instead of 1 day (counted from 2 days) "
        "made it rise"
    )


def test_an_edge_that_is_no_number_in_range_is_a_spec_error(tmp_path, register_plugin):
    got = _verify_stage_users(
        [
            {"threshold": {"add": {"event_type": "review"}, "rating": 6, "keys": "L"}},
            {"threshold": {"add": {"event_type": "purchase"}, "days": "$min_view_days - 2"}},
            {"threshold": {"add": {"event_type": "purchase"}, "days": "$window_days / 2"}},
            _edge("purchase", days=2.5),
            _edge("purchase", days=2, within=3),
            _edge("purchase", days=2, keys="X*"),
            {
                "monotone": {
                    "add": {"event_type": "purchase"},
                    "direction": "non_decreasing",
                    "keys": "Z",
                }
            },
            _edge("purchase", days=2, keys="L"),
        ],
        tmp_path,
        register_plugin,
    )
    assert got.pop("exit") == 1
    assert got.pop("spec_errors") == [
        "toy.stage_users: threshold keys 'X*' match none of its keys (A, I, P, L)",
        "toy.stage_users: monotone keys 'Z' match none of its keys (A, I, P, L)",
        "toy.stage_users: threshold rating 6 is outside 1 to 5; verify skips that property",
        "toy.stage_users: threshold days $min_view_days - 2 = 0 is outside 1 to 62; verify "
        "skips that property",
        "toy.stage_users: threshold days $window_days / 2 = 7.5 is not a whole number; "
        "verify skips that property",
        "toy.stage_users: threshold days 2.5 is not a whole number; verify skips that property",
        "toy.stage_users: threshold within 3 leaves no room to spread 2 + 1 days; verify "
        "skips that property",
    ]
    assert got.pop("threshold (+purchase on 2 days, keys L)") == ("pass", "")
    # a glob matching no key is said as a spec error, and the property never exercised
    assert {k: v[0] for k, v in got.items()} == {
        "monotone (+purchase, new user, self brand, keys Z)": "unexercised",
        "threshold (+purchase on 2 days, keys X*)": "unexercised",
    }


@pytest.mark.parametrize(
    ("declared", "error"),
    [
        ({"add": {"event_type": "purchase"}}, r"give days \(a count of days\) or rating"),
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
        ({"add": {"event_type": "purchase"}, "days": True}, "not a truth value"),
        ({"add": {"event_type": "review"}, "rating": 4, "within": 30}, "within spreads days"),
        # fields a type does not have, and values no event can hold
        ({"add": {"event_type": "purchase", "rating": 3}, "days": 2}, "rating is a review's"),
        ({"add": {"event_type": "search", "query_type": "nonsense"}, "days": 2}, "query_type is"),
        ({"add": {"event_type": "purchase", "amount": -5}, "days": 2}, "greater than or equal"),
        ({"add": {"event_type": "review", "query_type": "brand"}, "days": 2}, "a search's"),
    ],
)
def test_a_threshold_is_declared_consistently(declared, error):
    with pytest.raises(ValidationError, match=error):
        Threshold(**declared)


def test_unknown_parameters_are_said_apart_not_twice():
    t = Threshold(add={"event_type": "purchase"}, days="$nowhere")
    assert threshold_errors(t, {"window_days": 15}) == []  # the unknown-parameter check says it
