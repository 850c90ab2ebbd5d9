"""GOAL's A (Advancing): predicted customer lifetime value per brand.

JD's CLV is the predicted spend on the brand over the next 12 months from a
proprietary model. brandlens predicts it with BG/NBD (how many purchase days)
times Gamma-Gamma (value per purchase day), fitted by maximum likelihood per brand
with ``brandlens.stats.clv``; a brand with fewer than ``clv_min_repeaters`` repeat
customers uses parameters fitted on all brands pooled. Undiscounted; refunds are
not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brandlens.plugin import IndicatorContext, Value
from brandlens.stats.clv import fit_bgnbd, fit_gamma_gamma, quiet

WEEK = 7.0

HISTORY_SQL = """
WITH days AS (
  SELECT brand, user_id, local_date, sum(amount) AS value
  FROM events
  WHERE event_type = 'purchase' AND brand IS NOT NULL
    AND local_date > $as_of - $clv_history_days AND local_date <= $as_of
  GROUP BY brand, user_id, local_date
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY brand, user_id ORDER BY local_date) AS k
  FROM days
)
SELECT brand,
       count(*) - 1 AS x,
       (max(local_date) - min(local_date)) / 7.0 AS tx,
       (CAST($as_of AS DATE) - min(local_date)) / 7.0 AS t,
       CAST(avg(value) FILTER (WHERE k > 1) AS DOUBLE) AS m,
       CAST(avg(value) AS DOUBLE) AS day_value
FROM ranked
GROUP BY brand, user_id
ORDER BY brand, x, tx, t, m, day_value
"""
# Ordered by the values, not by user ids: renaming users changes nothing, not even
# the order in which the likelihood is summed.


@dataclass
class BrandModel:
    """Per-brand predictions and the parameters that made them."""

    clv: np.ndarray
    params: dict[str, float]
    pooled: bool
    customers: int
    repeaters: int


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns (sorted) and how often each occurs: customers
    with the same summary contribute the same likelihood term, fitted once, weighted."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts


def _fit(x: np.ndarray, tx: np.ndarray, t: np.ndarray, m: np.ndarray) -> dict[str, float]:
    (ux, utx, ut), n = _distinct(x, tx, t)
    bg = fit_bgnbd(ux, utx, ut, weights=n)
    params = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b}
    repeat = (x > 0) & (m > 0)
    if repeat.any():
        (rx, rm), rn = _distinct(x[repeat], m[repeat])
        gg = fit_gamma_gamma(rx, rm, weights=rn)
        params |= {"p": gg.p, "q": gg.q, "v": gg.v}
    return params


def _predict(
    params: dict[str, float],
    x: np.ndarray,
    tx: np.ndarray,
    t: np.ndarray,
    m: np.ndarray,
    horizon_weeks: float,
    fallback_value: float,
) -> np.ndarray:
    from brandlens.stats.clv import BetaGeoFit, GammaGammaFit

    bg = BetaGeoFit(params["r"], params["alpha"], params["a"], params["b"], 0.0)
    n = bg.expected_transactions(horizon_weeks, x, tx, t)
    if "p" in params and params["q"] > 1:
        gg = GammaGammaFit(params["p"], params["q"], params["v"], 0.0)
        value = gg.expected_average_value(x, np.nan_to_num(m))
    else:  # no repeat spend to fit a spend model: the mean value per purchase day
        value = np.full(len(x), fallback_value)
    return n * value


@quiet
def _models(ctx: IndicatorContext) -> dict[str, BrandModel]:
    """Fit once per run; every CLV indicator reads the same models (no numpy warnings)."""
    params = ctx.params
    rows = ctx.query(HISTORY_SQL)
    by_brand: dict[str, list[tuple]] = {}
    for brand, *rest in rows:
        by_brand.setdefault(brand, []).append(tuple(rest))
    arrays = {
        b: [
            np.array([r[i] if r[i] is not None else np.nan for r in rs], dtype=float)
            for i in range(5)
        ]
        for b, rs in by_brand.items()
    }
    if not arrays:
        return {}
    every = [np.concatenate([a[i] for _, a in sorted(arrays.items())]) for i in range(5)]
    # without repeat spend to fit Gamma-Gamma: the mean value of a purchase day
    fallback = float(np.mean(every[4])) if len(every[4]) else 0.0
    pooled_params = _fit(*every[:4])
    horizon = params.clv_horizon_days / WEEK
    models: dict[str, BrandModel] = {}
    for brand, (x, tx, t, m, _) in sorted(arrays.items()):
        repeaters = int(np.sum(x > 0))
        own = repeaters >= params.clv_min_repeaters
        fitted = _fit(x, tx, t, m) if own else pooled_params
        clv = _predict(fitted, x, tx, t, m, horizon, fallback)
        if not np.all(np.isfinite(clv)):
            shown = ", ".join(f"{k}={v:.6g}" for k, v in fitted.items())
            raise ValueError(f"CLV prediction for {brand} is not finite (model {shown})")
        models[brand] = BrandModel(clv, fitted, not own, len(x), repeaters)
    return models


def models(ctx: IndicatorContext) -> dict[str, BrandModel]:
    return ctx.shared("clv_models", lambda: _models(ctx))


def clv_total(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    return [
        Value(brand=b, value=float(np.sum(fitted[b].clv)) if b in fitted else 0.0)
        for b in ctx.brands
    ]


def clv_per_customer(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    out = []
    for b in ctx.brands:
        if b not in fitted:
            out.append(Value(brand=b, value=None, numerator=0.0, denominator=0))
            continue
        total, n = float(np.sum(fitted[b].clv)), fitted[b].customers
        out.append(Value(brand=b, value=total / n, numerator=total, denominator=n))
    return out


def high_value_share(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    if not fitted:
        return [Value(brand=b, value=None, numerator=0, denominator=0) for b in ctx.brands]
    every = np.concatenate([fitted[b].clv for b in sorted(fitted)])
    threshold = float(np.quantile(every, ctx.params.high_value_quantile))
    out = []
    for b in ctx.brands:
        clv = fitted[b].clv if b in fitted else np.empty(0)
        high = int(np.sum(clv >= threshold))
        out.append(
            Value(
                brand=b,
                value=high / len(clv) if len(clv) else None,
                numerator=high,
                denominator=len(clv),
            )
        )
    return out


MODEL_KEYS = ("r", "alpha", "a", "b", "p", "q", "v", "pooled", "customers", "repeaters")


def clv_model(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    out = []
    for b in ctx.brands:
        model = fitted.get(b)
        for key in MODEL_KEYS:
            if model is None:
                value = {"pooled": 1, "customers": 0, "repeaters": 0}.get(key)
            elif key == "pooled":
                value = int(model.pooled)
            elif key in ("customers", "repeaters"):
                value = getattr(model, key)
            else:
                value = model.params.get(key)
            out.append(Value(brand=b, key=key, value=value))
    return out
