"""A.R.G.O against an independent plain-Python computation (tests/reference.py, written
from issue #14's definitions), indicator by indicator: on generated nasty logs, with other
parameters, on a generated market; and the demo market's planted truths through
A.R.G.O's own indicators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brandlens
import reference
from brandlens.specs.strategies import event_logs

D = date(2025, 6, 30)
PREDICTED = "argo.predicted_ltv"  # GOAL's model: compared with reference.clv


def _compare(result, expected):
    reference.compare(result, expected)


_plain = reference.plain


def _check(log, params=None):
    result = reference.computed(log, "argo", params)
    events = _plain(log.events)
    expected = reference.argo(
        events, log.as_of, log.report_brands(), _plain(log.users), _plain(log.spend), params
    )
    _compare(result, expected)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs(spend=True))
def test_argo_matches_the_reference_on_generated_logs(log):
    _check(log)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(spend=True),
    st.sampled_from(
        [
            {"interval_days": 7, "second_order_days": 10, "value_window_days": 90},
            {"interval_days": 1, "second_order_days": 1, "value_window_days": 1},
            {"active_events": ["purchase", "add_to_cart"], "interval_days": 90},
            {"clv_min_repeaters": 1, "clv_horizon_days": 30, "clv_history_days": 90},
        ]
    ),
)
def test_argo_matches_the_reference_with_other_parameters(log, params):
    _check(log, params)


# ---- a generated market ---------------------------------------------------------------------


COLUMNS = ("ts", "user_id", "event_type", "brand", "category", "channel", "amount")


@pytest.fixture(scope="module")
def small_market(tmp_path_factory):
    """A market small enough for the plain-Python reference (2,000 users, ~200,000 events)."""
    from brandlens.data.market import generate

    out = tmp_path_factory.mktemp("argo-market")
    generate(out, users=2000, seed=3)
    return out


def _market_tables(market):
    import duckdb

    con = duckdb.connect()

    def rows(name, columns, cast=()):
        cols = ", ".join(f'CAST("{c}" AS VARCHAR)' if c in cast else f'"{c}"' for c in columns)
        return [
            {k: v for k, v in zip(columns, r, strict=True) if v is not None}
            for r in con.execute(
                f"SELECT {cols} FROM read_parquet($p)", {"p": str(market / f"{name}.parquet")}
            ).fetchall()
        ]

    events = rows("events", COLUMNS, cast=("ts", "amount"))
    users = rows("users", ("user_id",))
    spend = rows("spend", ("brand", "date", "channel", "cost"), cast=("date", "cost"))
    return events, users, spend


def test_a_generated_market_matches_the_reference(small_market):
    result = brandlens.compute(small_market, as_of=D, methodologies=["argo"])
    assert result.errors == [] and result.not_applicable == []
    events, users, spend = _market_tables(small_market)
    brands = sorted({r.brand for r in result.results})
    _compare(result, reference.argo(events, D, brands, users, spend))


# ---- the demo market ----------------------------------------------------------------------


SNACKS = ("Crunchy", "Nimbus", "Orchid", "Verde")
SKINCARE = ("Aurora", "Dusk", "Lumi", "Sakura")


@pytest.fixture(scope="module")
def demo(market):
    return brandlens.compute(market, as_of=D, methodologies=["argo", "goal"])


def test_demo_truths(demo):
    assert demo.errors == [] and demo.not_applicable == []
    # Verde, the growing new entrant, wins the most new buyers for its size: per user
    # active in I0 (the lifecycle's new + returning + resurrecting)
    active = {
        b: sum(demo.value("argo.lifecycle", b, k) for k in ("new", "returning", "resurrecting"))
        for b in SNACKS
    }
    rate = {b: demo.value("argo.new_buyers", b) / active[b] for b in SNACKS}
    assert max(rate, key=rate.get) == "Verde"
    assert rate["Verde"] > 1.5 * max(v for b, v in rate.items() if b != "Verde")
    # Lumi, the small loyal brand, keeps the largest share of its active users
    retention = {b: demo.value("argo.retention_rate", b) for b in SKINCARE}
    assert max(retention, key=retention.get) == "Lumi"


def test_demo_agrees_with_goal(demo):
    """The same CLV model and customers as GOAL, and the same spend per buyer."""
    brands = sorted({r.brand for r in demo.results})
    for b in brands:
        assert demo.value(PREDICTED, b) == demo.value("goal.clv_per_customer", b), b
        assert demo.value("argo.arppu", b) == demo.value("goal.arpu", b), b
    # the two brands that sell in two categories are the only cross-category ones
    crossing = {b for b in brands if demo.value("argo.cross_category_rate", b)}
    assert crossing == {"Nimbus", "Pixelon"}


def test_ltv_cohort_boundaries(tmp_path):
    """A first purchase 365 days before d is in the LTV cohort, 364 days is not; a
    purchase 365 days after the first is outside its year."""
    from brandlens.specs.strategies import utc_ts
    from conftest import write_csv

    def buy(days_before, user, amount):
        day = D - timedelta(days=days_before)
        return {
            "ts": utc_ts(day, 43_200),
            "user_id": user,
            "event_type": "purchase",
            "brand": "Lumi",
            "amount": amount,
        }

    rows = [buy(365, "a", "10"), buy(0, "a", "99"), buy(364, "b", "1000"), buy(729, "c", "20")]
    rows += [buy(730, "d", "5000"), buy(1, "c", "7")]  # d: a day too early; c's 7: a year on
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["argo"])
    ltv = next(x for x in r.results if x.indicator == "argo.ltv_365")
    assert (ltv.numerator, ltv.denominator) == (30, 2)  # a: 10, c: 20
