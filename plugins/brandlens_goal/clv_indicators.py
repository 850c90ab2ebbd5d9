"""GOAL's A (Advancing): predicted customer lifetime value per brand.

JD's CLV is the predicted spend on the brand over the next 12 months from a
proprietary model. brandlens predicts it with BG/NBD (how many purchase days)
times Gamma-Gamma (value per purchase day), fitted by maximum likelihood per brand
with ``brandlens.stats.clv``; a brand with fewer than ``clv_min_repeaters`` repeat
customers uses parameters fitted on all brands pooled. Undiscounted; refunds are
not modelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brandlens.plugin import IndicatorContext, Value

if TYPE_CHECKING:  # NumPy and the CLV models load when a CLV indicator runs, not at start-up
    from brandlens.stats.clv import BrandModel


def models(ctx: IndicatorContext) -> dict[str, BrandModel]:
    from brandlens.stats.clv import run_brand_models

    p = ctx.params
    return run_brand_models(ctx, p.clv_history_days, p.clv_horizon_days, p.clv_min_repeaters)


def clv_total(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    return [Value(brand=b, value=fitted[b].total if b in fitted else 0.0) for b in ctx.brands]


def clv_per_customer(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    out = []
    for b in ctx.brands:
        if b not in fitted:
            out.append(Value(brand=b, value=None, numerator=0.0, denominator=0))
            continue
        total, n = fitted[b].total, fitted[b].customers
        out.append(Value(brand=b, value=total / n, numerator=total, denominator=n))
    return out


def high_value_share(ctx: IndicatorContext) -> list[Value]:
    import numpy as np

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


QUANTILES = {"p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90}


def clv_distribution(ctx: IndicatorContext) -> list[Value]:
    """Quantiles of the brand's per-customer predicted CLV (the customers of
    clv_per_customer), linear interpolation between order statistics (numpy's default);
    every key null for a brand without customers."""
    import numpy as np

    fitted = models(ctx)
    out = []
    for b in ctx.brands:
        clv = fitted[b].clv if b in fitted else np.empty(0)
        qs = np.quantile(clv, list(QUANTILES.values())) if len(clv) else [None] * len(QUANTILES)
        out += [
            Value(brand=b, key=k, value=None if q is None else float(q))
            for k, q in zip(QUANTILES, qs, strict=True)
        ]
    return out


MODEL_KEYS = ("r", "alpha", "a", "b", "p", "q", "v", "pooled", "customers", "repeaters")


def clv_model(ctx: IndicatorContext) -> list[Value]:
    fitted = models(ctx)
    out = []
    for b in ctx.brands:
        model = fitted.get(b)
        for key in MODEL_KEYS:
            if model is None:  # no customers: no fit was used, pooled or own
                value = {"customers": 0, "repeaters": 0}.get(key)
            elif key == "pooled":
                value = int(model.pooled)
            elif key in ("customers", "repeaters"):
                value = getattr(model, key)
            else:
                value = model.params.get(key)
            out.append(Value(brand=b, key=key, value=value))
    return out
