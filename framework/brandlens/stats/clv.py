"""Customer lifetime value: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

Public API (numpy arrays in and out; scipy for optimisation and special functions)::

    from brandlens.stats.clv import fit_bgnbd, fit_gamma_gamma

    frequency = [0, 1, 2, 0, 3, 1]  # six customers, times in weeks
    recency = [0.0, 10.0, 20.0, 0.0, 30.0, 5.0]
    T = [40.0, 38.0, 39.0, 35.0, 40.0, 20.0]
    monetary_value = [0.0, 20.0, 35.0, 0.0, 12.0, 50.0]

    bg = fit_bgnbd(frequency, recency, T)  # r, alpha, a, b
    n = bg.expected_transactions(52, frequency, recency, T)  # purchases next year
    gg = fit_gamma_gamma(frequency, monetary_value)  # p, q, v
    m = gg.expected_average_value(frequency, monetary_value)


    # per brand, from the event log, in a Python indicator (GOAL's CLV, A.R.G.O's
    # predicted LTV): fitted once per compute and shared by every indicator that reads it
    def predicted_total(ctx):
        models = run_brand_models(ctx, history_days=730, horizon_days=365, min_repeaters=30)
        return [Value(brand=b, value=models[b].total) for b in ctx.brands if b in models]

Conventions (the RFM summary of Fader, Hardie and Lee): ``frequency`` x is the
number of *repeat* transactions, ``recency`` t_x the time between the first and
the last transaction, ``T`` the time between the first transaction and the end
of observation, all in the same unit (brandlens uses weeks). ``monetary_value``
is the mean value of the repeat transactions.

References: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An
Alternative to the Pareto/NBD Model", Marketing Science 24(2); Fader, Hardie & Lee
(2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", Journal
of Marketing Research 42(4), and Fader & Hardie's note "The Gamma-Gamma Model of
Monetary Value" (2013). Likelihoods are evaluated in log space.

Numerics: the optimiser probes extreme parameters on purpose, so fits and
predictions run with numpy's floating-point warnings silenced; callers check the
results for finiteness instead. Gamma-Gamma is fitted on amounts divided by their
mean, so the fit is the same in cents or in billions (the scale parameter v is
converted back to the caller's unit).
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from scipy.optimize import OptimizeResult

__all__ = [
    "BetaGeoFit",
    "BrandModel",
    "GammaGammaFit",
    "bgnbd_log_likelihood",
    "brand_models",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "quiet",
    "run_brand_models",
]


P = ParamSpec("P")
R = TypeVar("R")


_QUIET = threading.RLock()


def quiet(fn: Callable[P, R]) -> Callable[P, R]:
    """Run without numpy/scipy warnings: overflow at probed parameters is expected, not news.

    One thread at a time: the warning filters and the BLAS thread limit are the
    process's, and two methodologies may fit models concurrently.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _QUIET, warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in values]


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model: ``fit_bgnbd``'s result, or built from known parameters.

    Example (Fader, Hardie & Lee's CDNOW estimates; a customer with 2 repeat
    purchases, the last at week 30.43 of 38.86, over the next 39 weeks)::

        bg = BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)
        float(bg.expected_transactions(39, 2, 30.43, 38.86)[()])  # about 1.226
    """

    r: float = field(metadata={"doc": "shape of the Gamma purchase-rate heterogeneity"})
    alpha: float = field(metadata={"doc": "scale of the purchase rates, in the time unit"})
    a: float = field(metadata={"doc": "Beta shape of the drop-out probability"})
    b: float = field(metadata={"doc": "Beta shape of the drop-out probability"})
    log_likelihood: float = field(metadata={"doc": "at the fitted parameters"})

    @quiet
    def expected_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[transactions in (T, T + t] | x, t_x, T] — FHL (2005) equation (10)."""
        from scipy.special import hyp2f1

        t, x, tx, T = _arrays(t, frequency, recency, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if abs(a - 1) < 1e-9:  # the limit a -> 1 is finite; step off the singular point
            a = 1 + 1e-9
        t, x, tx, T = np.broadcast_arrays(t, x, tx, T)
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        bad = ~np.isfinite(second)
        if bad.any():  # r and alpha so large that 2F1 overflows: sum its terms in log space
            second = np.array(second, dtype=float)  # a copy; 0-d for scalar arguments
            second[bad] = 1 - np.exp(
                _log_scaled_hyp2f1(r + x[bad], b + x[bad], a + b + x[bad] - 1, z[bad])
            )
        # for x > 0 the denominator has the "still alive" term; computed in log space
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        alive_term = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * np.exp(log_ratio), 0.0)
        return first * second / (1 + alive_term)


def _log_scaled_hyp2f1(
    p: np.ndarray, q: np.ndarray, c: np.ndarray, z: np.ndarray, max_terms: int = 1_000_000
) -> np.ndarray:
    """log[(1 - z)^p 2F1(p, q; c; z)] for 0 <= z < 1 and positive parameters.

    Every term of the series is positive, so summing them in log space loses nothing;
    it is used only where scipy's 2F1 overflows (a near-Poisson fit with huge r, alpha).
    All customers advance together, one term per step, until every sum has converged.
    """
    log_z = np.log(np.where(z > 0, z, 1.0))
    log_term = np.where(z > 0, 0.0, -np.inf)
    log_sum = np.zeros(len(p))
    peak = p * z / np.maximum(1 - z, 1e-300)  # terms grow until about here, then shrink
    for k in range(max_terms):
        log_term = log_term + np.log(p + k) + np.log(q + k) - np.log(c + k) - np.log(k + 1) + log_z
        log_sum = np.logaddexp(log_sum, log_term)
        if k > peak.max() and np.all(log_term < log_sum - 40):
            break
    return p * np.log1p(-z) + log_sum


@quiet
def bgnbd_log_likelihood(
    params: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood of (r, alpha, a, b) — FHL (2005) equation (6)."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = np.asarray(params, dtype=float)
    x, tx, T = _arrays(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    a3 = np.where(
        x > 0,
        betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    return a1 + np.logaddexp(a2, a3)


class _Repeats:
    """A customer column with few distinct values (x, the repeat purchase days): a special
    function of it is evaluated once per distinct value and spread back, which gives
    every customer the very same float as evaluating it per customer."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.values, self.index = np.unique(x, return_inverse=True)

    def each(self, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``f(x)`` per customer, computed on the distinct values."""
        return f(self.values)[self.index]


def _bgnbd_nll_and_grad(
    log_params: np.ndarray, xs: _Repeats, tx: np.ndarray, T: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood of BG/NBD and its gradient in log-parameters.

    ll = A1 + log(e^A2 + e^A3) (FHL 2005, equation 6); each term's derivative uses
    d betaln(a, b)/da = psi(a) - psi(a + b), so no numerical differencing is needed.
    The special functions of x alone run once per distinct x (most of the work).
    """
    from scipy.special import betaln, digamma, gammaln

    r, alpha, a, b = np.exp(log_params)
    x = xs.x
    ab = digamma(a + b)
    abx = xs.each(lambda v: digamma(a + b + v))
    a1 = xs.each(lambda v: gammaln(r + v)) - gammaln(r) + r * np.log(alpha)
    a2 = xs.each(lambda v: betaln(a, b + v)) - betaln(a, b) - (r + x) * np.log(alpha + T)
    a3_x = xs.each(lambda v: betaln(a + 1, np.maximum(b + v - 1, 1e-12)))
    a3 = np.where(x > 0, a3_x - betaln(a, b) - (r + x) * np.log(alpha + tx), -np.inf)
    ll = a1 + np.logaddexp(a2, a3)
    w3 = np.where(x > 0, np.exp(a3 - np.logaddexp(a2, a3)), 0.0)
    w2 = 1.0 - w3
    d_r = xs.each(lambda v: digamma(r + v)) - digamma(r) + np.log(alpha)
    d_r += w2 * -np.log(alpha + T) + w3 * np.where(x > 0, -np.log(alpha + tx), 0.0)
    d_alpha = r / alpha - w2 * (r + x) / (alpha + T)
    d_alpha -= w3 * np.where(x > 0, (r + x) / (alpha + tx), 0.0)
    d_a = w2 * (ab - abx) + w3 * (digamma(a + 1) - abx - digamma(a) + ab)
    d_b = w2 * (xs.each(lambda v: digamma(b + v)) - abx - digamma(b) + ab)
    psi_bx1 = xs.each(lambda v: digamma(np.maximum(b + v - 1, 1e-12)))
    d_b += w3 * np.where(x > 0, psi_bx1 - abx - digamma(b) + ab, 0.0)
    value = -float(np.dot(w, ll))
    grad = -np.array(
        [r * np.dot(w, d_r), alpha * np.dot(w, d_alpha), a * np.dot(w, d_a), b * np.dot(w, d_b)]
    )
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(4)
    return value, grad


@quiet
def fit_bgnbd(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> BetaGeoFit:
    """Maximum-likelihood BG/NBD parameters for the given customers.

    ``weights`` counts customers with the same (x, t_x, T): fitting the distinct
    triples once, weighted, is the same likelihood at a fraction of the work.
    """
    x, tx, T = _arrays(frequency, recency, T)
    if len(x) == 0:
        raise ValueError("no customers to fit")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)

    # a starts away from 1, where E[Y(t)] has a removable singularity
    start = np.log([1.0, max(float(np.average(T, weights=w)), 1.0), 2.0, 3.0])
    xs = _Repeats(x)
    best = _minimise(lambda p: _bgnbd_nll_and_grad(p, xs, tx, T, w), start)
    r, alpha, a, b = np.exp(best.x)
    return BetaGeoFit(float(r), float(alpha), float(a), float(b), float(-best.fun))


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model (v is the scale parameter, often written gamma).

    Example (the CDNOW estimates; a customer with 3 repeat purchases averaging 40)::

        gg = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=float("nan"))
        float(gg.expected_average_value(3, 40.0)[()])  # about 39.39
    """

    p: float = field(metadata={"doc": "shape of the per-transaction spend Gamma"})
    q: float = field(metadata={"doc": "shape of the customers' spend-scale Gamma"})
    v: float = field(metadata={"doc": "scale of the spend-scale Gamma, in money"})
    log_likelihood: float = field(metadata={"doc": "at the fitted parameters"})

    @property
    def population_mean(self) -> float:
        """E[M] = p v / (q − 1): the expected value per transaction of a new customer."""
        return self.p * self.v / (self.q - 1)

    @quiet
    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E[M | x, m̄] = p (v + x m̄) / (p x + q − 1); the population mean when x = 0."""
        x, m = _arrays(frequency, monetary_value)
        p, q, v = self.p, self.q, self.v
        conditional = p * (v + x * m) / (p * x + q - 1)
        return np.where(x > 0, conditional, self.population_mean)


@quiet
def gamma_gamma_log_likelihood(
    params: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood of (p, q, v) given x ≥ 1 and the mean value m̄ > 0."""
    from scipy.special import gammaln

    p, q, v = np.asarray(params, dtype=float)
    x, m = _arrays(frequency, monetary_value)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )


def _gamma_gamma_nll_and_grad(
    log_params: np.ndarray, xs: _Repeats, m: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood of Gamma-Gamma and its gradient in log-parameters.

    The log-likelihood is :func:`gamma_gamma_log_likelihood`'s, term for term, with the
    special functions of x alone run once per distinct x.
    """
    from scipy.special import digamma, gammaln

    p, q, v = np.exp(log_params)
    x = xs.x
    ll = (
        xs.each(lambda u: gammaln(p * u + q))
        - xs.each(lambda u: gammaln(p * u))
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )
    psi_pxq = xs.each(lambda u: digamma(p * u + q))
    d_p = x * (
        psi_pxq - xs.each(lambda u: digamma(p * u)) + np.log(m) + np.log(x) - np.log(v + x * m)
    )
    d_q = psi_pxq - digamma(q) + np.log(v) - np.log(v + x * m)
    d_v = q / v - (p * x + q) / (v + x * m)
    value = -float(np.dot(w, ll))
    grad = -np.array([p * np.dot(w, d_p), q * np.dot(w, d_q), v * np.dot(w, d_v)])
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(3)
    return value, grad


@quiet
def fit_gamma_gamma(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters, on customers with x ≥ 1 and m̄ > 0.

    The model is scale-equivariant in m̄ (p and q are unit-free, v has m̄'s unit), so it
    is fitted on m̄ / s with s the mean of m̄: the search space fits any currency unit.
    """
    x, m = _arrays(frequency, monetary_value)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m, w = x[keep], m[keep], w[keep]
    if len(x) == 0:
        raise ValueError("no repeat customers with a positive spend to fit")
    scale = float(np.average(m, weights=w))
    unit = m / scale

    xs = _Repeats(x)
    best = _minimise(lambda p: _gamma_gamma_nll_and_grad(p, xs, unit, w), np.log([1.0, 2.0, 1.0]))
    p, q, v = np.exp(best.x)
    # the density of m̄ = s · m̄/s carries the Jacobian 1/s per customer
    log_likelihood = float(-best.fun) - float(np.sum(w)) * float(np.log(scale))
    return GammaGammaFit(float(p), float(q), float(v) * scale, log_likelihood)


def _minimise(
    nll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray
) -> OptimizeResult:
    """L-BFGS-B on log-parameters with the analytic gradient; Nelder-Mead as a fallback.

    Both stay within the bounds: an unbounded polish can wander to exp(700).

    BLAS runs single-threaded here: the vectors are tiny, and OpenBLAS threads that
    spin-wait for a core turned each optimiser step into milliseconds on a busy machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _minimise_here(nll_and_grad, start)


def _minimise_here(
    nll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray
) -> OptimizeResult:
    from scipy.optimize import minimize

    bounds = [(-12.0, 12.0)] * len(start)
    best = minimize(
        nll_and_grad,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 500},
    )
    if not best.success:
        polished = minimize(
            lambda p: nll_and_grad(p)[0],
            best.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 800, "xatol": 1e-7, "fatol": 1e-9},
        )
        if polished.fun < best.fun:
            best = polished
    return best


# ---- per-brand models from an event log --------------------------------------------------

WEEK = 7.0

# Means are an exact (decimal) sum over a count, divided once in floating point: the same
# operations on every engine, so DuckDB and Spark give the fit the same inputs bit for bit.
CUSTOMER_SUMMARY_SQL = """
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
       CAST(sum(value) FILTER (WHERE k > 1) AS DOUBLE) / count(value) FILTER (WHERE k > 1) AS m,
       CAST(sum(value) AS DOUBLE) / count(value) AS day_value
FROM ranked
GROUP BY brand, user_id
ORDER BY brand, x, tx, t, m, day_value
"""
"""One row per customer of a brand (a purchase day in the last ``$clv_history_days`` up to
``$as_of``): brand, x (repeat purchase days), t_x and T in weeks, m (mean value of the
repeat purchase days, null without any) and the mean value of a purchase day.

Transactions are purchase days (a day's orders merged, amounts summed); refunds are not
modelled. Rows are ordered by the values, not by user ids: renaming users changes
nothing, not even the order in which the likelihood is summed. Run it with
``IndicatorContext.query``, passing ``clv_history_days=`` when the methodology has no
parameter of that name.
"""


@dataclass
class BrandModel:
    """One brand's predicted CLV per customer and the parameters that made them.

    ``brand_models`` returns one per brand; a Python indicator usually gets them
    through ``run_brand_models(ctx, ...)``, which fits once per run.

    Example (two customers of a brand with a pooled fit's parameters)::

        model = BrandModel(
            clv=np.array([120.0, 30.5]),
            params={"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4},
            pooled=True,
            customers=2,
            repeaters=1,
        )
        model.total  # 150.5
    """

    clv: np.ndarray = field(metadata={"doc": "predicted spend per customer over the horizon"})
    params: dict[str, float] = field(metadata={"doc": "the BG/NBD (and Gamma-Gamma) parameters"})
    pooled: bool = field(metadata={"doc": "parameters fitted on every brand's customers"})
    customers: int = field(metadata={"doc": "customers with a purchase day in the history"})
    repeaters: int = field(metadata={"doc": "customers with at least one repeat purchase day"})

    @property
    def total(self) -> float:
        """The brand's total predicted spend: the sum over its customers."""
        return float(np.sum(self.clv))


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns (sorted) and how often each occurs: customers
    with the same summary contribute the same likelihood term, fitted once, weighted."""
    # The rows sorted lexicographically (as np.unique(axis=0) would, 5x faster), then
    # the first of every run of equal rows.
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    first = np.ones(len(order), dtype=bool)
    first[1:] = np.any([c[1:] != c[:-1] for c in ordered], axis=0)
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(order)))
    return [c[starts] for c in ordered], counts


def _fit_customers(x: np.ndarray, tx: np.ndarray, t: np.ndarray, m: np.ndarray) -> dict[str, float]:
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
    bg = BetaGeoFit(params["r"], params["alpha"], params["a"], params["b"], 0.0)
    n = bg.expected_transactions(horizon_weeks, x, tx, t)
    if "p" in params and params["q"] > 1:
        gg = GammaGammaFit(params["p"], params["q"], params["v"], 0.0)
        value = gg.expected_average_value(x, np.nan_to_num(m))
    else:  # no repeat spend to fit a spend model: the mean value per purchase day
        value = np.full(len(x), fallback_value)
    return n * value


@quiet
def brand_models(
    rows: Sequence[Sequence[Any]], horizon_days: float, min_repeaters: int
) -> dict[str, BrandModel]:
    """Predicted spend of every customer in the next ``horizon_days``, per brand.

    ``rows`` are :data:`CUSTOMER_SUMMARY_SQL`'s. Each brand's BG/NBD (purchase days)
    and Gamma-Gamma (value per purchase day) are fitted by maximum likelihood; a brand
    with fewer than ``min_repeaters`` repeat customers uses parameters fitted on all
    brands' customers pooled. Without repeat spend to fit Gamma-Gamma, or with a fitted
    q ≤ 1, the value of a purchase day is the mean over every customer of every brand of
    the customer's mean purchase-day value. Undiscounted. Raises ValueError when a
    prediction is not finite.
    """
    table = np.array(rows, dtype=object).reshape(len(rows), 6)  # (0, 6) when no rows
    values = table[:, 1:].astype(float)  # a missing value (None) becomes NaN
    brand_of = table[:, 0]
    arrays = {
        b: [values[brand_of == b, i] for i in range(5)] for b in dict.fromkeys(brand_of.tolist())
    }
    if not arrays:
        return {}
    every = [np.concatenate([a[i] for _, a in sorted(arrays.items())]) for i in range(5)]
    fallback = float(np.mean(every[4])) if len(every[4]) else 0.0
    pooled_params = _fit_customers(*every[:4])
    horizon = horizon_days / WEEK
    models: dict[str, BrandModel] = {}
    for brand, (x, tx, t, m, _) in sorted(arrays.items()):
        repeaters = int(np.sum(x > 0))
        own = repeaters >= min_repeaters
        fitted = _fit_customers(x, tx, t, m) if own else pooled_params
        clv = _predict(fitted, x, tx, t, m, horizon, fallback)
        if not np.all(np.isfinite(clv)):
            shown = ", ".join(f"{k}={v:.6g}" for k, v in fitted.items())
            raise ValueError(f"CLV prediction for {brand} is not finite (model {shown})")
        models[brand] = BrandModel(clv, fitted, not own, len(x), repeaters)
    return models


def run_brand_models(
    ctx: Any, history_days: int, horizon_days: float, min_repeaters: int
) -> dict[str, BrandModel]:
    """:func:`brand_models` of a run, for a Python indicator's ``IndicatorContext``.

    Reads :data:`CUSTOMER_SUMMARY_SQL` over the last ``history_days`` through
    ``ctx.query`` and fits once per compute (``ctx.shared_across_methodologies``), so
    every indicator of every methodology that asks with the same numbers reads the
    same models (GOAL and A.R.G.O fit once between them).
    """
    key = f"brandlens.stats.clv:{history_days}:{horizon_days}:{min_repeaters}"
    return ctx.shared_across_methodologies(
        key,
        lambda: brand_models(
            ctx.query(CUSTOMER_SUMMARY_SQL, clv_history_days=history_days),
            horizon_days,
            min_repeaters,
        ),
    )
