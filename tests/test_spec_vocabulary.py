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


# ---- monotone on an indicator with a dimension -----------------------------------------

DIM_SPEC = """
methodology: dim
title: {en: Breakdowns, zh: 细分}
sources: ["assumption: a test fixture"]
indicators:
  - id: dim.one_time_buyers
    title: {en: One-time buyers per category, zh: 单次购买人数}
    definition: users with one purchase day of the brand in the category (no row when none)
    formula: see the test
    unit: users
    direction: higher
    dimension: category
    properties:
      - monotone: {add: {event_type: purchase, user: existing_buyer}, direction: non_decreasing}
  - id: dim.buyers_by_days
    title: {en: Buyers by purchase days, zh: 按购买天数的人数}
    definition: buyers of the brand with one purchase day (key 1) and with more (key 2+)
    formula: see the test
    unit: users
    direction: higher
    dimension: days
    keys: ["1", "2+"]
    properties:
      - monotone:
          add: {event_type: purchase, user: existing_buyer}
          direction: non_decreasing
          keys: "2+"
      - monotone: {add: {event_type: purchase, user: existing_buyer}, direction: non_decreasing}
  - id: dim.buyers_by_category
    title: {en: Buyers per category, zh: 各品类购买人数}
    definition: users with a purchase of the brand in the category (no row when none)
    formula: see the test
    unit: users
    direction: higher
    dimension: category
    properties:
      - monotone: {add: {event_type: purchase, user: new}, direction: non_decreasing}
"""

DAYS = (
    "SELECT brand, category, user_id, count(DISTINCT local_date) AS days FROM events "
    "WHERE event_type = 'purchase' AND brand IS NOT NULL AND category IS NOT NULL GROUP BY ALL"
)


def _dim_plugin(tmp_path):
    import brandlens
    from brandlens.plugin import Indicator, Methodology

    path = tmp_path / "dim.yaml"
    path.write_text(DIM_SPEC, encoding="utf-8")
    days_per_brand = (
        "SELECT brand, user_id, count(DISTINCT local_date) AS days FROM events "
        "WHERE event_type = 'purchase' GROUP BY ALL"
    )
    dim = Methodology(
        name="dim",
        title="Breakdowns",
        source="tests/test_spec_vocabulary.py",
        version="0",
        indicators=(
            Indicator(
                id="dim.one_time_buyers",
                sql=f"SELECT d.brand, d.category AS key, count(*) AS value FROM ({DAYS}) d "
                "JOIN brands b ON b.brand = d.brand WHERE d.days = 1 GROUP BY ALL",
            ),
            Indicator(
                id="dim.buyers_by_days",
                sql=f"SELECT b.brand, k.key, count(d.user_id) FILTER (WHERE (d.days >= 2) = "
                f"(k.key = '2+')) AS value FROM brands b "
                "CROSS JOIN (SELECT unnest(['1', '2+']) AS key) k "
                f"LEFT JOIN ({days_per_brand}) d ON d.brand = b.brand GROUP BY b.brand, k.key",
            ),
            Indicator(
                id="dim.buyers_by_category",
                sql=f"SELECT d.brand, d.category AS key, count(*) AS value FROM ({DAYS}) d "
                "JOIN brands b ON b.brand = d.brand GROUP BY ALL",
            ),
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(dim, spec=path)

    return Plugin()


def test_monotone_holds_key_by_key_and_a_vanished_key_counts_as_zero(tmp_path, register_plugin):
    from brandlens.specs.verification import verify

    register_plugin(_dim_plugin(tmp_path), "dim")
    (m,) = verify(["dim"], max_examples=3).methodologies
    got = {(r.indicator, r.property): r for r in m.results}
    # a one-time buyer who buys again leaves the breakdown: their key's row is gone, 1 -> 0
    gone = got[("dim.one_time_buyers", "monotone (+purchase, existing_buyer user, self brand)")]
    assert gone.status == "fail" and "made it fall" in gone.message
    assert (gone.left, gone.right) == (1, 0)
    # the same buyer moves from key 1 to key 2+: 2+ never falls, 1 may
    by_days = "monotone (+purchase, existing_buyer user, self brand"
    assert got[("dim.buyers_by_days", by_days + ", keys 2+)")].status == "pass"
    fell = got[("dim.buyers_by_days", by_days + ")")]
    assert fell.status == "fail" and ", key '1': " in fell.message
    # a new buyer's category appears from nothing: compared from 0, it rose (exercised)
    new = got[("dim.buyers_by_category", "monotone (+purchase, new user, self brand)")]
    assert new.status == "pass"
