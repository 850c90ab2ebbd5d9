"""Every GOAL indicator against an independent computation (tests/reference.py): the 4A
ladder, flows, groups and wallet counted in plain Python; CLV fitted through
brandlens.stats.clv on customer summaries the reference builds from the events."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from brandlens.data.market import generate
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import event_logs

# purchases and refunds weighted up (repeat purchase days, refund-heavy users), every
# other core event type still present
RICH = (*reference.CORE_EVENT_TYPES, *("purchase",) * 8, *("refund",) * 3, "review", "share")


_plain = reference.plain


def _check(log, params=None):
    result = reference.computed(log, "goal", params)
    expected = reference.goal(
        _plain(log.events), log.as_of, log.report_brands(), _plain(log.users), params
    )
    reference.compare(result, expected)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs())
def test_goal_matches_the_reference_on_generated_logs(log):
    _check(log)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(event_types=RICH, max_events=40),
    st.sampled_from(
        [
            # core groups qualify with one buyer; brands fit their own CLV with 2 repeaters
            {"core_group_min_buyers": 1, "core_groups": 2, "clv_min_repeaters": 2},
            {"core_group_min_buyers": 2, "core_groups": 1, "high_value_quantile": 0.5},
            {"buyer_window_days": 30, "flow_period_days": 7, "clv_horizon_days": 30},
            {"clv_history_days": 90, "clv_min_repeaters": 1, "act_window_days": 30},
        ]
    ),
)
def test_goal_matches_the_reference_on_purchase_rich_logs(log, params):
    _check(log, params)


@pytest.fixture(scope="module")
def small_market(tmp_path_factory):
    """A generated market: groups of 30+ buyers (core groups) and brands with their own fit."""
    out = tmp_path_factory.mktemp("goal-market")
    generate(out, users=1200, seed=7)
    events = pq.read_table(out / "events.parquet").to_pylist()
    for e in events:
        e["ts"] = e["ts"].strftime("%Y-%m-%d %H:%M:%S")
        for k in [k for k, v in e.items() if v is None]:
            del e[k]
    users = _plain(pq.read_table(out / "users.parquet").to_pylist())
    return out, events, users


def test_goal_matches_the_reference_on_a_generated_market(small_market):
    out, events, users = small_market
    params = {"core_group_min_buyers": 5}  # 1,200 users: groups of 30 buyers are rare
    with Dataset(out) as ds:
        result = ds.compute(
            as_of="2025-06-30", methodologies=["goal"], params={"goal.core_group_min_buyers": 5}
        )
    assert result.errors == []
    brands = sorted({e["brand"] for e in events if e.get("brand")})
    expected = reference.goal(events, date(2025, 6, 30), brands, users, params)
    reference.compare(result, expected)
    # the market exercises what small logs cannot: qualified core groups, own CLV fits
    assert any(result.value("goal.core_group_penetration", b) for b in brands)
    assert any(result.value("goal.clv_model", b, "pooled") == 0 for b in brands)
