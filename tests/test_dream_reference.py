"""DREAM against an independent plain-Python computation: generated logs and a generated market."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from brandlens.data.market import generate
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import AS_OF, CATEGORIES, EventLog, event_logs, events

TARGETED = ("dream.advanced_users", "dream.buyers")


def _compare(result, expected):
    got = {
        (r.indicator, r.brand, r.key): (r.value, r.numerator, r.denominator) for r in result.results
    }
    assert set(got) == set(expected)
    for key, (value, num, den) in expected.items():
        gv, gn, gd = got[key]
        if value is None:
            assert gv is None, key
        else:
            assert gv == pytest.approx(value, rel=1e-9, abs=1e-9), key
        if num is not None:
            assert float(gn) == pytest.approx(float(num), abs=1e-9), key
            assert float(gd) == pytest.approx(float(den), abs=1e-9), key


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(
        categories=(*CATEGORIES, "phone_accessories", "smartphones"), target_indicators=TARGETED
    )
)
def test_dream_matches_the_reference_on_generated_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["dream"], brands=log.report_brands())
    assert result.errors == []
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    users = list(log.users) if log.users is not None else None
    targets = list(log.targets) if log.targets is not None else None
    _compare(result, reference.dream(events, log.as_of, log.report_brands(), users, targets))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(
        categories=(*CATEGORIES, "phone_accessories", "smartphones"), target_indicators=TARGETED
    )
)
def test_dream_matches_the_reference_when_target_days_are_not_snapshots(log):
    """The flow achievement's other path: the mind ladder without the target periods' days
    (no room for them), compiled again per period."""
    from brandlens.engine import runs

    saved, runs.MAX_DATA_SNAPSHOTS = runs.MAX_DATA_SNAPSHOTS, 0
    try:
        with Dataset(log.to_data()) as ds:
            result = ds.compute(
                as_of=log.as_of, methodologies=["dream"], brands=log.report_brands()
            )
    finally:
        runs.MAX_DATA_SNAPSHOTS = saved
    assert result.errors == []
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    users = list(log.users) if log.users is not None else None
    targets = list(log.targets) if log.targets is not None else None
    _compare(result, reference.dream(events, log.as_of, log.report_brands(), users, targets))


@st.composite
def purchase_logs(draw: st.DrawFn) -> EventLog:
    """One brand, two users, purchases and after-sales in two categories on a few days
    around the windows: the accessory-after-phone rule's edges (same day, a day later,
    a window away) come up often."""
    offsets = st.sampled_from((0, 1, 2, 29, 30, 31, 364, 365, 366, 729, 730, 731))
    rows = draw(
        st.lists(
            events(
                AS_OF,
                ("Volt",),
                ("u0", "u1"),
                ("purchase", "purchase", "purchase", "after_sales"),
                ("phone_accessories", "smartphones"),
                day_offsets=offsets,
            ),
            min_size=1,
            max_size=8,
        )
    )
    return EventLog(as_of=AS_OF, events=tuple(rows), brands=("Volt",))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(purchase_logs())
def test_dream_retain_rules_match_the_reference_on_dense_purchase_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["dream"], brands=log.report_brands())
    assert result.errors == []
    events_ = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    _compare(result, reference.dream(events_, log.as_of, log.report_brands()))


@pytest.fixture(scope="module")
def small_market(tmp_path_factory):
    out = tmp_path_factory.mktemp("dream-market")
    generate(out, users=1200, seed=5)
    tables = {n: pq.read_table(out / f"{n}.parquet").to_pylist() for n in ("events", "users")}
    tables["targets"] = pq.read_table(out / "targets.parquet").to_pylist()
    for e in tables["events"]:
        e["ts"] = e["ts"].strftime("%Y-%m-%d %H:%M:%S")
        for k in [k for k, v in e.items() if v is None]:
            del e[k]
    for t in tables["targets"]:
        t["period_start"], t["period_end"] = str(t["period_start"]), str(t["period_end"])
    return out, tables


@pytest.mark.parametrize(
    ("as_of", "params"),
    [
        ("2025-06-30", {}),
        ("2025-03-15", {"flow_period_days": 7, "consider_min_view_days": 2}),
    ],
)
def test_dream_matches_the_reference_on_a_generated_market(small_market, as_of, params):
    out, tables = small_market
    with Dataset(out) as ds:
        result = ds.compute(
            as_of=as_of,
            methodologies=["dream"],
            params={f"dream.{k}": v for k, v in params.items()},
        )
    assert result.errors == []
    brands = sorted({e["brand"] for e in tables["events"] if e.get("brand")})
    expected = reference.dream(
        tables["events"],
        date.fromisoformat(as_of),
        brands,
        tables["users"],
        tables["targets"],
        params,
    )
    _compare(result, expected)
    if as_of == "2025-06-30":  # the demo targets end on 2025-06-30: achievement is exercised
        assert all(result.value("dream.purchase_achievement", b) is not None for b in brands)
