"""GROW: a storyboard with every term by hand, zero-driver cases, an independent check,
and the planted truths of the demo market."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brandlens
import reference
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import event_logs
from conftest import ev, write_csv

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"
# P1 = [2024-07-01, 2025-06-30], P0 = [2023-07-02, 2024-06-30] (period_days = 365)


def t(day: str) -> str:
    return f"{day} 04:00:00"


STORY = [
    # snacks, continuing, buyers double at a flat price: P0 u1 u2 buy 10 each; P1 u1..u4
    # N0=2 T0=2 GMV0=20 V0=10 | N1=4 T1=4 GMV1=40 V1=10
    # L(40, 20) = 20 / ln 2; G = L · ln(4/2) = 20; R = L · ln(1/1) = 0; O = L · ln(10/10) = 0
    ev(t("2024-01-10"), "u1", "purchase", category="snacks", amount="10"),
    ev(t("2024-01-11"), "u2", "purchase", category="snacks", amount="10"),
    *[
        ev(t("2025-02-01"), u, "purchase", category="snacks", amount="10")
        for u in ("u1", "u2", "u3", "u4")
    ],
    # skincare, continuing, price up with the same buyer: P0 u5 pays 100, P1 u5 pays 150
    # N=1 T=1 both periods; L(150, 100) = 50 / ln 1.5; G = R = 0; O = L · ln(150/100) = 50
    ev(t("2023-09-01"), "u5", "purchase", category="skincare", amount="100"),
    ev(t("2024-09-01"), "u5", "purchase", category="skincare", amount="150"),
    # toys, new in P1: W = 30
    ev(t("2025-03-01"), "u6", "purchase", category="toys", amount="30"),
    # tea, dropped after P0: Lost = -8
    ev(t("2023-12-01"), "u7", "purchase", category="tea", amount="8"),
    # a refund in P1 does not change gross GMV; a purchase before P0 is outside both periods
    ev(t("2025-02-02"), "u1", "refund", category="snacks", amount="10"),
    ev(t("2023-07-01"), "u8", "purchase", category="snacks", amount="999"),
]
# GMV0 = 20 + 100 + 8 = 128, GMV1 = 40 + 150 + 30 = 220: change 92 = 20 + 0 + 50 + 30 - 8
# brand level: N0 = {u1 u2 u5 u7} = 4, T0 = 4, V0 = 128/4 = 32
#              N1 = {u1 u2 u3 u4 u5 u6} = 6, T1 = 6, V1 = 220/6


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    d = tmp_path_factory.mktemp("grow")
    write_csv(d / "events.csv", STORY)
    return brandlens.compute(d, as_of=D, methodologies=["grow"])


def test_every_term_by_hand(story):
    r = story
    assert r.errors == []
    assert r.value("grow.gmv_change", "B") == 92
    assert r.value("grow.gain", "B") == pytest.approx(20)
    assert r.value("grow.retain", "B") == pytest.approx(0, abs=1e-12)
    assert r.value("grow.boost", "B") == pytest.approx(50)
    assert r.value("grow.widen", "B") == 30
    assert r.value("grow.lost", "B") == -8
    contribution = {x.key: x.value for x in r.results if x.indicator == "grow.contribution"}
    assert contribution == pytest.approx(
        {
            "snacks|G": 20,
            "snacks|R": 0,
            "snacks|O": 0,
            "skincare|G": 0,
            "skincare|R": 0,
            "skincare|O": 50,
            "toys|W": 30,
            "tea|Lost": -8,
        }
    )
    assert sum(contribution.values()) == pytest.approx(92)


def test_driver_shares_and_growth_rates(story):
    r = story
    # |G| + |R| + |O| = 70
    assert r.value("grow.driver_share", "B", "G") == pytest.approx(20 / 70)
    assert r.value("grow.driver_share", "B", "R") == pytest.approx(0, abs=1e-12)
    assert r.value("grow.driver_share", "B", "O") == pytest.approx(50 / 70)
    assert r.value("grow.buyers_growth", "B") == pytest.approx(6 / 4 - 1)
    assert r.value("grow.frequency_growth", "B") == pytest.approx(0, abs=1e-12)
    assert r.value("grow.value_growth", "B") == pytest.approx((220 / 6) / 32 - 1)


def _one_category(p0, p1, tmp_path):
    """p0/p1: lists of (user, day offset within the period, amount) in one category."""
    rows = [ev(t(day), u, "purchase", category="c", amount=str(a)) for u, day, a in p0 + p1]
    write_csv(tmp_path / "events.csv", rows)
    return brandlens.compute(tmp_path, as_of=D, methodologies=["grow"])


def test_same_buyers_means_no_gain(tmp_path):
    r = _one_category(
        [("u1", "2024-01-01", 10), ("u2", "2024-01-01", 10)],
        [("u1", "2025-01-01", 12), ("u1", "2025-01-05", 9), ("u2", "2025-01-01", 30)],
        tmp_path,
    )
    assert r.value("grow.gain", "B") == pytest.approx(0, abs=1e-9)
    assert r.value("grow.retain", "B") != 0 and r.value("grow.boost", "B") != 0


def test_same_days_per_buyer_means_no_retain(tmp_path):
    r = _one_category(
        [("u1", "2024-01-01", 10)], [("u1", "2025-01-01", 20), ("u2", "2025-01-01", 5)], tmp_path
    )
    assert r.value("grow.retain", "B") == pytest.approx(0, abs=1e-9)


def test_same_value_per_day_means_no_boost(tmp_path):
    r = _one_category(
        [("u1", "2024-01-01", 10)],
        [("u1", "2025-01-01", 10), ("u1", "2025-02-01", 10), ("u2", "2025-01-01", 10)],
        tmp_path,
    )
    assert r.value("grow.boost", "B") == pytest.approx(0, abs=1e-9)
    assert r.value("grow.retain", "B") > 0 and r.value("grow.gain", "B") > 0


def test_an_unchanged_gmv_uses_the_limit_of_the_log_mean(tmp_path):
    """P0: u1 buys 10; P1: u1 and u2 buy 5 each. GMV is 10 in both periods, so the
    logarithmic mean L(10, 10) is its limit, 10 (the formula itself is 0/0):
    G = 10 · ln(2/1) = 6.93, R = 10 · ln((2/2)/(1/1)) = 0, O = 10 · ln((10/2)/(10/1)) = -6.93;
    they sum to the change, 0, and G and O each drive half of it."""
    r = _one_category(
        [("u1", "2024-01-01", 10)], [("u1", "2025-01-01", 5), ("u2", "2025-01-01", 5)], tmp_path
    )
    assert r.value("grow.gain", "B") == pytest.approx(10 * math.log(2), rel=1e-12)
    assert r.value("grow.retain", "B") == pytest.approx(0, abs=1e-12)
    assert r.value("grow.boost", "B") == pytest.approx(-10 * math.log(2), rel=1e-12)
    assert r.value("grow.gmv_change", "B") == 0
    assert r.value("grow.driver_share", "B", "G") == pytest.approx(0.5)
    assert r.value("grow.driver_share", "B", "O") == pytest.approx(0.5)


def test_value_growth_is_null_when_the_base_gmv_is_zero(tmp_path):
    """P0: u1 buys for 0 (a free sample); P1: u1 buys for 10. One buyer and one purchase
    day in each period: buyers and frequency growth 0; value per purchase day 0 -> 10 has
    no growth rate (10 / 0), so value growth is null, not infinite or an error."""
    r = _one_category([("u1", "2024-03-01", 0)], [("u1", "2025-03-01", 10)], tmp_path)
    assert r.errors == []
    assert r.value("grow.buyers_growth", "B") == 0
    assert r.value("grow.frequency_growth", "B") == 0
    assert r.value("grow.value_growth", "B") is None


def test_four_week_blocks(tmp_path):
    write_csv(tmp_path / "events.csv", STORY)
    r = brandlens.compute(
        tmp_path, as_of=D, methodologies=["grow"], params={"grow.period_days": "28"}
    )
    # P1 = [06-03, 06-30], P0 = [05-06, 06-02]: no purchase in either block
    assert r.value("grow.gmv_change", "B") == 0 and r.value("grow.buyers_growth", "B") is None


# ---- the independent computation (tests/reference.py), every indicator -------------------


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs())
def test_grow_matches_the_reference_on_generated_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["grow"], brands=log.report_brands())
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    reference.compare(result, reference.grow(events, log.as_of, log.report_brands()))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(event_types=("purchase",) * 6 + ("refund", "product_view"), max_events=40),
    st.sampled_from([365, 30, 1]),
)
def test_grow_matches_the_reference_on_purchase_rich_logs(log, period_days):
    """Repeat purchase days and continuing categories in both periods, other period lengths."""
    with Dataset(log.to_data()) as ds:
        result = ds.compute(
            as_of=log.as_of,
            methodologies=["grow"],
            brands=log.report_brands(),
            params={"grow.period_days": period_days},
        )
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    expected = reference.grow(events, log.as_of, log.report_brands(), period_days)
    reference.compare(result, expected)


# ---- the demo market's planted truths ----------------------------------------------------


@pytest.fixture(scope="module")
def demo(market):
    return brandlens.compute(market, as_of=D, methodologies=["grow"])


def _largest_driver(result, brand):
    drivers = {k: result.value(f"grow.{k}", brand) for k in ("gain", "retain", "boost")}
    return max(drivers, key=drivers.get)


def test_demo_truths(demo, market):
    assert _largest_driver(demo, "Verde") == "gain"
    assert _largest_driver(demo, "Orchid") == "boost"
    assert demo.value("grow.widen", "Nimbus") > 0
    assert demo.value("grow.buyers_growth", "Dusk") < 0


def test_demo_matches_the_reference(demo, market):
    import duckdb

    con = duckdb.connect()
    rows = con.execute(
        "SELECT CAST(ts AS VARCHAR), user_id, event_type, brand, category, amount "
        "FROM read_parquet($p) WHERE event_type = 'purchase'",
        {"p": str(market / "events.parquet")},
    ).fetchall()
    events = [
        {
            "ts": r[0],
            "user_id": r[1],
            "event_type": r[2],
            "brand": r[3],
            "category": r[4],
            "amount": f"{r[5]:.2f}",
        }
        for r in rows
    ]
    from datetime import date

    brands = sorted({e["brand"] for e in events})
    reference.compare(demo, reference.grow(events, date(2025, 6, 30), brands))
