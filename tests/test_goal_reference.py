"""GOAL's non-CLV indicators against an independent plain-Python computation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import reference
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import event_logs

CLV = {
    "goal.clv_total",
    "goal.clv_per_customer",
    "goal.high_value_share",
    "goal.clv_model",
    "goal.flow",
    "goal.core_group_penetration",
}


def _compare(result, expected):
    got = {
        (r.indicator, r.brand, r.key): (r.value, r.numerator, r.denominator)
        for r in result.results
        if r.indicator not in CLV
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


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs())
def test_goal_matches_the_reference_on_generated_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["goal"], brands=log.report_brands())
    assert result.errors == []
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    users = list(log.users) if log.users is not None else None
    _compare(result, reference.goal(events, log.as_of, log.report_brands(), users))
