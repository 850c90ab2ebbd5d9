"""Customer lifetime value: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

Public API (numpy arrays in and out; scipy for optimisation and special functions)::

    from brandlens.clv import fit_bgnbd, fit_gamma_gamma

    bg = fit_bgnbd(frequency, recency, T)          # r, alpha, a, b
    n = bg.expected_transactions(t, frequency, recency, T)
    gg = fit_gamma_gamma(frequency, monetary_value)  # p, q, v
    m = gg.expected_average_value(frequency, monetary_value)

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from scipy.optimize import OptimizeResult


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in values]


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def expected_transactions(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[transactions in (T, T + t] | x, t_x, T] — FHL (2005) equation (10)."""
        from scipy.special import hyp2f1

        t, x, tx, T = _arrays(t, frequency, recency, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if abs(a - 1) < 1e-9:  # the limit a -> 1 is finite; step off the singular point
            a = 1 + 1e-9
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        # for x > 0 the denominator has the "still alive" term; computed in log space
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        alive_term = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * np.exp(log_ratio), 0.0)
        return first * second / (1 + alive_term)


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


def _bgnbd_nll_and_grad(
    log_params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood of BG/NBD and its gradient in log-parameters.

    ll = A1 + log(e^A2 + e^A3) (FHL 2005, equation 6); each term's derivative uses
    d betaln(a, b)/da = psi(a) - psi(a + b), so no numerical differencing is needed.
    """
    from scipy.special import betaln, digamma, gammaln

    r, alpha, a, b = np.exp(log_params)
    ab = digamma(a + b)
    abx = digamma(a + b + x)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    bx1 = np.maximum(b + x - 1, 1e-12)
    a3 = np.where(x > 0, betaln(a + 1, bx1) - betaln(a, b) - (r + x) * np.log(alpha + tx), -np.inf)
    ll = a1 + np.logaddexp(a2, a3)
    w3 = np.where(x > 0, np.exp(a3 - np.logaddexp(a2, a3)), 0.0)
    w2 = 1.0 - w3
    d_r = digamma(r + x) - digamma(r) + np.log(alpha)
    d_r += w2 * -np.log(alpha + T) + w3 * np.where(x > 0, -np.log(alpha + tx), 0.0)
    d_alpha = r / alpha - w2 * (r + x) / (alpha + T)
    d_alpha -= w3 * np.where(x > 0, (r + x) / (alpha + tx), 0.0)
    d_a = w2 * (ab - abx) + w3 * (digamma(a + 1) - abx - digamma(a) + ab)
    d_b = w2 * (digamma(b + x) - abx - digamma(b) + ab)
    d_b += w3 * np.where(x > 0, digamma(bx1) - abx - digamma(b) + ab, 0.0)
    value = -float(np.dot(w, ll))
    grad = -np.array(
        [r * np.dot(w, d_r), alpha * np.dot(w, d_alpha), a * np.dot(w, d_a), b * np.dot(w, d_b)]
    )
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(4)
    return value, grad


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
    best = _minimise(lambda p: _bgnbd_nll_and_grad(p, x, tx, T, w), start)
    r, alpha, a, b = np.exp(best.x)
    return BetaGeoFit(float(r), float(alpha), float(a), float(b), float(-best.fun))


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model (v is the scale parameter, often written gamma)."""

    p: float
    q: float
    v: float
    log_likelihood: float

    @property
    def population_mean(self) -> float:
        """E[M] = p v / (q − 1): the expected value per transaction of a new customer."""
        return self.p * self.v / (self.q - 1)

    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E[M | x, m̄] = p (v + x m̄) / (p x + q − 1); the population mean when x = 0."""
        x, m = _arrays(frequency, monetary_value)
        p, q, v = self.p, self.q, self.v
        conditional = p * (v + x * m) / (p * x + q - 1)
        return np.where(x > 0, conditional, self.population_mean)


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
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood of Gamma-Gamma and its gradient in log-parameters."""
    from scipy.special import digamma

    p, q, v = np.exp(log_params)
    ll = gamma_gamma_log_likelihood((p, q, v), x, m)
    px = p * x
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - np.log(v + x * m))
    d_q = digamma(px + q) - digamma(q) + np.log(v) - np.log(v + x * m)
    d_v = q / v - (px + q) / (v + x * m)
    value = -float(np.dot(w, ll))
    grad = -np.array([p * np.dot(w, d_p), q * np.dot(w, d_q), v * np.dot(w, d_v)])
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(3)
    return value, grad


def fit_gamma_gamma(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters, on customers with x ≥ 1 and m̄ > 0."""
    x, m = _arrays(frequency, monetary_value)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m, w = x[keep], m[keep], w[keep]
    if len(x) == 0:
        raise ValueError("no repeat customers with a positive spend to fit")

    start = np.log([1.0, 2.0, max(float(np.average(m, weights=w)), 1.0)])
    best = _minimise(lambda p: _gamma_gamma_nll_and_grad(p, x, m, w), start)
    p, q, v = np.exp(best.x)
    return GammaGammaFit(float(p), float(q), float(v), float(-best.fun))


def _minimise(
    nll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray
) -> OptimizeResult:
    """L-BFGS-B on log-parameters with the analytic gradient; Nelder-Mead as a fallback.

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
            options={"maxiter": 800, "xatol": 1e-7, "fatol": 1e-9},
        )
        if polished.fun < best.fun:
            best = polished
    return best
