"""Values shared by the methodologies of one compute (``ctx.shared_across_methodologies``).

GOAL and A.R.G.O both report on the same CLV models; one compute fits them once,
and each methodology's numbers are those it gives alone.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from brandlens.plugin.methodology import SharedValues
from brandlens.stats import clv


def test_a_value_is_computed_once_while_others_wait() -> None:
    shared = SharedValues()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)  # the second asker arrives while the first computes
        return "fit"

    got: list[str] = []
    askers = [threading.Thread(target=lambda: got.append(shared.get("k", slow))) for _ in "ab"]
    for t in askers:
        t.start()
    for t in askers:
        t.join()
    assert got == ["fit", "fit"]
    assert len(calls) == 1
    assert shared.get("other", lambda: "second") == "second"  # keys are separate


def test_a_failure_is_not_kept() -> None:
    shared = SharedValues()
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first attempt fails")
        return 7

    with pytest.raises(ValueError, match="first attempt"):
        shared.get("k", flaky)
    assert shared.get("k", flaky) == 7
    assert shared.get("k", flaky) == 7
    assert len(attempts) == 2


def test_goal_and_argo_fit_clv_once_and_report_what_they_report_alone(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandlens.engine.runs import Dataset

    fits: list[int] = []
    fit = clv.brand_models
    monkeypatch.setattr(clv, "brand_models", lambda *a, **k: fits.append(1) or fit(*a, **k))
    with Dataset(market, cache=False) as ds:
        alone = {m: ds.compute(as_of="2024-06-30", methodologies=[m]) for m in ("goal", "argo")}
        assert len(fits) == 2  # one fit per compute
        both = ds.compute(as_of="2024-06-30", methodologies=["goal", "argo"])
        assert len(fits) == 3  # one fit for the two methodologies
    rows = [r.model_dump(mode="json") for r in both.results]
    for m, result in alone.items():
        own = [r.model_dump(mode="json") for r in result.results]
        assert own and json.dumps(own) == json.dumps([r for r in rows if r["methodology"] == m])
    assert any(r["indicator"].startswith("goal.clv") for r in rows)
    assert any(r["indicator"] == "argo.predicted_ltv" for r in rows)


def test_distinct_rows_are_those_of_numpy_unique() -> None:
    """The summaries a model is fitted on: numpy's distinct rows, order and counts."""
    rng = np.random.default_rng(7)
    n = 5000
    x = rng.integers(0, 6, n).astype(float)
    t = rng.integers(1, 60, n) / 7.0
    tx = np.minimum(rng.integers(0, 60, n) / 7.0, t)
    for columns in ((x, tx, t), (x, t), (x[:1], tx[:1], t[:1]), (x[:0], tx[:0], t[:0])):
        rows, counts = clv._distinct(*columns)
        expected, expected_counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
        assert np.array_equal(np.column_stack(rows), expected.reshape(-1, len(columns)))
        assert np.array_equal(counts, expected_counts)
        assert counts.sum() == len(columns[0])
