"""FAST against an independent plain-Python computation: generated logs and the sample market."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import brandlens
import reference
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import event_logs

SAMPLE = Path(__file__).resolve().parents[1] / "framework/brandlens/data/sample"


def _compare(result, expected):
    got = {
        (r.indicator, r.brand, r.key): (r.value, r.numerator, r.denominator) for r in result.results
    }
    assert set(got) == set(expected)
    for key, (value, num, den) in expected.items():
        gv, gn, gd = got[key]
        assert (gn, gd) == (num, den), key
        assert gv == pytest.approx(value, rel=1e-9) if value is not None else gv is None, key


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs())
def test_fast_matches_the_reference_on_generated_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["fast"], brands=log.report_brands())
    assert result.errors == []
    events = [{k: v for k, v in e.items() if v is not None} for e in log.events]
    _compare(result, reference.fast(events, log.as_of, log.report_brands()))


@pytest.mark.parametrize("as_of", ["2025-06-30", "2025-03-15", "2024-11-11"])
@pytest.mark.parametrize(
    "params",
    [{}, {"ad_click_stage": "awareness", "advancing_period_days": 30, "purchase_window_days": 730}],
)
def test_fast_matches_the_reference_on_the_sample_market(as_of, params):
    with (SAMPLE / "events.csv").open() as f:
        events = [{k: v for k, v in row.items() if v} for row in csv.DictReader(f)]
    result = brandlens.compute(
        SAMPLE,
        as_of=as_of,
        methodologies=["fast"],
        params={f"fast.{k}": v for k, v in params.items()},
    )
    brands = sorted({e["brand"] for e in events})
    _compare(result, reference.fast(events, date.fromisoformat(as_of), brands, params))
