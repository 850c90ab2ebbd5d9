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

Numerics: the optimiser probes extreme parameters on purpose, so fits and
predictions run with numpy's floating-point warnings silenced; callers check the
results for finiteness instead. Gamma-Gamma is fitted on amounts divided by their
mean, so the fit is the same in cents or in billions (the scale parameter v is
converted back to the caller's unit).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from scipy.optimize import OptimizeResult


P = ParamSpec("P")
R = TypeVar("R")


def quiet(fn: Callable[P, R]) -> Callable[P, R]:
    """Run without numpy/scipy warnings: overflow at probed parameters is expected, not news."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


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
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        # for x > 0 the denominator has the "still alive" term; computed in log space
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        alive_term = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * np.exp(log_ratio), 0.0)
        return first * second / (1 + alive_term)


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


@quiet
def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoFit:
    """Maximum-likelihood BG/NBD parameters for the given customers."""
    x, tx, T = _arrays(frequency, recency, T)
    if len(x) == 0:
        raise ValueError("no customers to fit")

    def nll(log_params: np.ndarray) -> float:
        value = -np.sum(bgnbd_log_likelihood(np.exp(log_params), x, tx, T))
        return float(value) if np.isfinite(value) else 1e300

    # a starts away from 1, where E[Y(t)] has a removable singularity
    best = _minimise(nll, np.log([1.0, max(float(np.mean(T)), 1.0), 2.0, 3.0]))
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


@quiet
def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters, on customers with x ≥ 1 and m̄ > 0.

    The model is scale-equivariant in m̄ (p and q are unit-free, v has m̄'s unit), so it
    is fitted on m̄ / s with s the mean of m̄: the search space fits any currency unit.
    """
    x, m = _arrays(frequency, monetary_value)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if len(x) == 0:
        raise ValueError("no repeat customers with a positive spend to fit")
    scale = float(np.mean(m))
    unit = m / scale

    def nll(log_params: np.ndarray) -> float:
        value = -np.sum(gamma_gamma_log_likelihood(np.exp(log_params), x, unit))
        return float(value) if np.isfinite(value) else 1e300

    best = _minimise(nll, np.log([1.0, 2.0, 1.0]))
    p, q, v = np.exp(best.x)
    # the density of m̄ = s · m̄/s carries the Jacobian 1/s per customer
    log_likelihood = float(-best.fun) - len(x) * float(np.log(scale))
    return GammaGammaFit(float(p), float(q), float(v) * scale, log_likelihood)


def _minimise(nll: Callable[[np.ndarray], float], start: np.ndarray) -> OptimizeResult:
    """L-BFGS-B on log-parameters; Nelder-Mead as a fallback. Deterministic.

    Both stay within the bounds: an unbounded polish can wander to exp(700).
    """
    from scipy.optimize import minimize

    bounds = [(-12.0, 12.0)] * len(start)
    best = minimize(nll, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    if not best.success:
        polished = minimize(
            nll,
            best.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 800, "xatol": 1e-7, "fatol": 1e-9},
        )
        if polished.fun < best.fun:
            best = polished
    return best
