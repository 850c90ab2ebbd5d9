"""CLV edges the other CLV tests leave open, found by a mutation pass over brandlens.stats.clv
and the CLV indicators: the a → 1 singularity of E[Y(t)], which customers Gamma-Gamma is
fitted on, its likelihood with weights, the fallback value of a purchase day, the error on a
non-finite prediction, the fit shared by GOAL and A.R.G.O, and the high-value threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import hyp2f1

import brandlens
from brandlens.errors import UsageError
from brandlens.stats.clv import (
    BetaGeoFit,
    GammaGammaFit,
    brand_models,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from brandlens_argo import ArgoParameters
from brandlens_goal import GoalParameters
from conftest import ev, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"


def t(day: str) -> str:
    return f"{day} 04:00:00"


def expected_purchases(t, x, tx, T, r, alpha, a, b):
    """E[Y(t) | x, t_x, T], Fader, Hardie & Lee (2005) equation (10), written out."""
    z = t / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    alive = a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0.0
    return (a + b + x - 1) / (a - 1) * bracket / (1 + alive)


# ---- E[Y(t)] around a = 1 ------------------------------------------------------------------


@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0.0, 30.0), (2, 20.0, 40.0)])
def test_expected_purchases_at_a_equal_to_one_is_the_limit(x, tx, T):
    """At a = 1 the formula is 0/0; its limit is the mean of the formula just either side
    (a = 1 ± 1e-4: the curvature error is ~1e-8, far below the tolerance). Stepping off the
    singular point by 1e-3 instead of 1e-9 moves the value by 1.5e-4 relative."""
    r, alpha, b = 0.5, 5.0, 3.0
    limit = (
        expected_purchases(52, x, tx, T, r, alpha, 1 + 1e-4, b)
        + expected_purchases(52, x, tx, T, r, alpha, 1 - 1e-4, b)
    ) / 2
    got = float(BetaGeoFit(r, alpha, 1.0, b, 0.0).expected_transactions(52, x, tx, T))
    assert got == pytest.approx(limit, rel=2e-5)


@pytest.mark.parametrize("a", [1.005, 0.995, 1.0005])
def test_expected_purchases_near_a_equal_to_one_use_a_itself(a):
    """Only a = 1 itself is stepped off: a few thousandths away the closed form is exact."""
    r, alpha, b, x, tx, T = 0.5, 5.0, 3.0, 2, 20.0, 40.0
    got = float(BetaGeoFit(r, alpha, a, b, 0.0).expected_transactions(52, x, tx, T))
    assert got == pytest.approx(expected_purchases(52, x, tx, T, r, alpha, a, b), rel=1e-9)


def test_a_failed_gradient_search_is_polished_by_nelder_mead():
    """The fits' optimiser: L-BFGS-B with the analytic gradient, Nelder-Mead from where it
    stopped when it fails. A gradient of the wrong sign stops L-BFGS-B at the start; the
    quadratic's minimum (0.5, -1, 2) is then found without the gradient."""
    from brandlens.stats.clv import _minimise

    target = np.array([0.5, -1.0, 2.0])

    def wrong_gradient(p):
        d = p - target
        return float(d @ d), -2 * d

    best = _minimise(wrong_gradient, np.zeros(3))
    assert best.x == pytest.approx(target, abs=1e-5)
    assert best.fun < 1e-9


# ---- Gamma-Gamma: its customers and its likelihood -----------------------------------------

GG_X = np.array([1, 2, 1, 3, 1, 2, 4, 1, 2, 1], dtype=float)
GG_M = np.array([12.0, 30.0, 18.5, 22.0, 45.0, 9.0, 27.5, 33.0, 16.0, 24.0])


def _params(fit):
    return (fit.p, fit.q, fit.v, fit.log_likelihood)


def test_gamma_gamma_leaves_out_customers_without_repeat_spend():
    """Fitted on customers with x ≥ 1 and m̄ > 0 (docs, "CLV"): a one-time buyer (x = 0,
    whatever its m̄), a repeat customer whose repeat days cost nothing (m̄ = 0) and one with
    an unknown m̄ change nothing: the very same fit."""
    base = fit_gamma_gamma(GG_X, GG_M)
    x = np.append(GG_X, [0, 0, 2, 1])
    m = np.append(GG_M, [25.0, 0.0, 0.0, np.nan])
    assert _params(fit_gamma_gamma(x, m)) == _params(base)


def test_gamma_gamma_weighted_log_likelihood_counts_customers():
    """With weights (customers sharing a summary), the reported log-likelihood is the
    published one summed over customers at the fitted parameters, Σ w_i ℓ_i, and the same
    as fitting every customer written out."""
    w = np.array([3, 1, 2, 5, 1, 1, 4, 2, 1, 7], dtype=float)
    weighted = fit_gamma_gamma(GG_X, GG_M, weights=w)
    ll = gamma_gamma_log_likelihood((weighted.p, weighted.q, weighted.v), GG_X, GG_M)
    assert weighted.log_likelihood == pytest.approx(float(np.dot(w, ll)), rel=1e-9)
    written_out = fit_gamma_gamma(np.repeat(GG_X, w.astype(int)), np.repeat(GG_M, w.astype(int)))
    assert weighted.log_likelihood == pytest.approx(written_out.log_likelihood, rel=1e-6)


def test_a_customer_without_repeat_spend_gets_the_population_mean_whatever_its_m():
    """For x = 0 the mean repeat value m̄ is undefined (CUSTOMER_SUMMARY_SQL gives null):
    E[M] is the population mean p v / (q − 1) = 6.25 · 15.44 / 2.74 ≈ 35.22 whatever is
    passed for m̄, NaN or infinite included."""
    gg = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=0.0)
    got = gg.expected_average_value([0, 0, 0], [math.nan, math.inf, 0.0])
    assert list(got) == pytest.approx([6.25 * 15.44 / 2.74] * 3, rel=1e-12)


# ---- brand_models: the fallback value of a purchase day, and non-finite predictions ----------


def _hand_purchases(model, rows, horizon_weeks):
    p = model.params
    return np.array(
        [
            expected_purchases(horizon_weeks, x, tx, T, p["r"], p["alpha"], p["a"], p["b"])
            for _, x, tx, T, *_ in rows
        ]
    )


def test_repeat_customers_without_repeat_spend_use_the_mean_purchase_day_value():
    """Brand B's two repeat customers spent nothing on their repeat days (m̄ = 0): there is
    no repeat spend to fit Gamma-Gamma on, so every customer's purchase day is worth the
    mean over customers of their mean purchase-day value, (5 + 4 + 30) / 3 = 13."""
    rows = [
        # brand, x, t_x, T (weeks), m̄ of the repeat days, mean purchase-day value
        ("B", 1, 2.0, 10.0, 0.0, 5.0),  # days worth 10 and 0
        ("B", 2, 4.0, 12.0, 0.0, 4.0),  # 12, 0, 0
        ("B", 0, 0.0, 8.0, None, 30.0),
        ("B", 0, 0.0, 3.0, None, 13.0),  # brings the mean to (5 + 4 + 30 + 13) / 4 = 13
    ]
    model = brand_models(rows, horizon_days=70, min_repeaters=1)["B"]
    assert "p" not in model.params and "q" not in model.params
    n = _hand_purchases(model, rows, 10.0)  # 70 days = 10 weeks
    assert model.clv == pytest.approx(n * 13.0, rel=1e-9)
    assert (model.customers, model.repeaters, model.pooled) == (4, 2, False)


def test_a_gamma_gamma_fit_with_q_at_most_one_uses_the_mean_purchase_day_value():
    """Spend spread over six orders of magnitude: the fitted q ≤ 1, so Gamma-Gamma has no
    finite mean and every purchase day is worth the mean purchase-day value instead."""
    xs = [1, 1, 2, 1, 3, 1, 2, 1, 1, 1]
    ms = [1, 2, 5, 20, 100, 500, 2000, 1e4, 1e5, 1e6]
    rows = [("B", x, 1.5 * x, 10.0 + i, m, m) for i, (x, m) in enumerate(zip(xs, ms, strict=True))]
    rows += [("B", 0, 0.0, 6.0, None, 40.0), ("B", 0, 0.0, 9.0, None, 60.0)]
    model = brand_models(rows, horizon_days=364, min_repeaters=1)["B"]
    assert model.params["q"] <= 1  # the premise
    fallback = (sum(ms) + 40 + 60) / 12
    n = _hand_purchases(model, rows, 52.0)
    assert model.clv == pytest.approx(n * fallback, rel=1e-9)


def test_one_customers_non_finite_prediction_is_an_error():
    """One customer's mean repeat spend overflowed to infinity: it is left out of the
    Gamma-Gamma fit, but its own prediction is infinite, which is an error (documented:
    "Raises ValueError when a prediction is not finite"), not a total of inf."""
    rows = [
        ("B", int(x), 2.0 * x, 20.0, float(m), float(m)) for x, m in zip(GG_X, GG_M, strict=True)
    ]
    rows += [("B", 0, 0.0, 12.0, None, 20.0), ("B", 2, 5.0, 15.0, math.inf, 50.0)]
    with pytest.raises(ValueError, match="CLV prediction for B is not finite"):
        brand_models(rows, horizon_days=365, min_repeaters=1)


# ---- through a compute --------------------------------------------------------------------


def _market() -> list[dict]:
    """Lumi: seven customers, three with a second purchase day; Nova: four customers with two
    purchase days each; Dusk: a product view only (no customer)."""
    rows = []
    for i in range(7):
        rows.append(ev(t(f"2025-0{1 + i % 3}-0{1 + i}"), f"u{i}", "purchase", brand="Lumi",
                       amount=str(10 + i)))  # fmt: skip
        if i % 2:
            rows.append(ev(t(f"2025-05-0{1 + i}"), f"u{i}", "purchase", brand="Lumi",
                           amount=str(20 + i)))  # fmt: skip
    for i in range(4):
        for day in (f"2025-02-0{1 + i}", f"2025-04-0{1 + i}"):
            rows.append(ev(t(day), f"n{i}", "purchase", brand="Nova", amount=str(100 + 50 * i)))
    rows.append(ev(t("2025-06-01"), "v", "product_view", brand="Dusk"))
    return rows


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("clv_edges")
    write_csv(data / "events.csv", _market())
    return data


def test_goal_and_argo_with_different_horizons_each_get_their_own(market_dir):
    """GOAL and A.R.G.O share one fit only when they ask the same question: with A.R.G.O's
    horizon at 30 days, argo.predicted_ltv in a joint compute is what A.R.G.O alone reports,
    and what GOAL reports with the same 30-day horizon, not GOAL's 365-day value."""
    short = {"argo.clv_horizon_days": "30"}
    both = brandlens.compute(market_dir, as_of=D, methodologies=["goal", "argo"], params=short)
    alone = brandlens.compute(market_dir, as_of=D, methodologies=["argo"], params=short)
    goal_30 = brandlens.compute(
        market_dir, as_of=D, methodologies=["goal"], params={"goal.clv_horizon_days": "30"}
    )
    for b in ("Lumi", "Nova"):
        predicted = both.value("argo.predicted_ltv", b)
        assert predicted == alone.value("argo.predicted_ltv", b)
        assert predicted == pytest.approx(goal_30.value("goal.clv_per_customer", b), rel=1e-12)
    # a 30-day horizon predicts less than a year for Lumi's customers
    assert both.value("argo.predicted_ltv", "Lumi") < both.value("goal.clv_per_customer", "Lumi")


def test_high_value_threshold_is_over_every_brand_even_when_one_is_asked_for(market_dir):
    """The high-value threshold is a quantile over every (customer, brand) pair in the data
    (docs): asking for Lumi alone changes neither Lumi's CLVs (pooled over every brand) nor
    the threshold, so Lumi's share is the same as in a run over every brand. (Over Lumi's
    seven customers alone the 80th percentile would fall between its 6th and 7th CLV.)"""
    every = brandlens.compute(market_dir, as_of=D, methodologies=["goal"])
    lumi = brandlens.compute(market_dir, as_of=D, methodologies=["goal"], brands=["Lumi"])
    assert lumi.value("goal.clv_total", "Lumi") == every.value("goal.clv_total", "Lumi")
    got = next(
        r for r in lumi.results if r.indicator == "goal.high_value_share" and r.brand == "Lumi"
    )
    want = next(
        r for r in every.results if r.indicator == "goal.high_value_share" and r.brand == "Lumi"
    )
    assert (got.numerator, got.denominator) == (want.numerator, want.denominator)


def test_customers_at_the_threshold_are_high_value(tmp_path):
    """Three customers with the same purchases have the same CLV, so the 80th percentile is
    that CLV and all three are at or above it: a share of 3 / 3."""
    rows = [
        ev(t(day), u, "purchase", brand="Lumi", amount="25")
        for u in ("a", "b", "c")
        for day in ("2025-01-10", "2025-03-10", "2025-05-10")
    ]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal"])
    assert r.errors == []
    row = next(x for x in r.results if x.indicator == "goal.high_value_share")
    assert (row.value, row.numerator, row.denominator) == (1.0, 3, 3)


def test_a_brand_without_customers(market_dir):
    """Dusk has no purchase day: its predicted total is 0 (a sum over no customers), its
    averages and its high-value share null (docs: empty_brand per indicator)."""
    r = brandlens.compute(market_dir, as_of=D, methodologies=["goal", "argo"])

    def row(indicator):
        return next(x for x in r.results if x.indicator == indicator and x.brand == "Dusk")

    assert row("goal.clv_total").value == 0
    assert row("goal.clv_per_customer").value is None
    predicted = row("argo.predicted_ltv")
    assert (predicted.value, predicted.numerator, predicted.denominator) == (None, 0, 0)
    share = row("goal.high_value_share")
    assert (share.value, share.numerator, share.denominator) == (None, 0, 0)


# ---- parameters: the documented defaults and bounds -----------------------------------------


def test_clv_parameter_defaults_are_the_documented_ones():
    """docs/methodologies/goal.md and argo.md: 730 days of history, a 365-day horizon, 30
    repeat customers for a brand's own fit, the 80th percentile for high value."""
    goal, argo = GoalParameters(), ArgoParameters()
    for p in (goal, argo):
        assert (p.clv_history_days, p.clv_horizon_days, p.clv_min_repeaters) == (730, 365, 30)
    assert goal.high_value_quantile == 0.8


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("goal.clv_history_days", "27"),
        ("argo.clv_history_days", "27"),
        ("goal.high_value_quantile", "0"),
        ("goal.high_value_quantile", "1"),
    ],
)
def test_clv_parameters_out_of_bounds_are_refused(market_dir, name, value):
    """At least 28 days of history (four weeks), and a quantile strictly between 0 and 1."""
    with pytest.raises(UsageError, match=name.replace(".", r"\.")):
        brandlens.compute(
            market_dir, as_of=D, methodologies=[name.split(".")[0]], params={name: value}
        )
