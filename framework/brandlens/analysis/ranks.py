"""Ranks, Kendall's tau-b and Kendall's W: pure functions over a few dozen numbers.

Why here and not scipy: the inputs are one value per brand (a handful to a few
hundred), the tie rules must be exactly the documented ones (ties share the mean
of their ranks; tau-b and W corrected for ties), and the core stays importable
without scipy's start-up cost. tests/test_compare_storyboard.py checks every
function against numbers worked out by hand and against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Number = int | float


def rank(values: Mapping[str, Number | None], direction: str = "higher") -> dict[str, float]:
    """1 = best; tied values share the mean of the ranks they span; None is not ranked.

    ``direction`` says which end is best: ``higher`` (the largest value ranks 1) or
    ``lower``.
    """
    present = [(k, float(v)) for k, v in values.items() if v is not None]
    sign = -1.0 if direction == "higher" else 1.0
    ordered = sorted(present, key=lambda kv: (sign * kv[1], kv[0]))
    out: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[i][1]:
            j += 1
        shared = (i + 1 + j + 1) / 2  # the mean of ranks i+1 .. j+1
        for k in range(i, j + 1):
            out[ordered[k][0]] = shared
        i = j + 1
    return out


def _tie_groups(values: Sequence[float]) -> list[int]:
    """The size t of each group of equal values."""
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return list(counts.values())


def _tie_sums(values: Sequence[float]) -> tuple[int, int]:
    """(sum of t(t-1)/2, sum of t^3 - t) over the groups of t equal values."""
    ts = _tie_groups(values)
    return sum(t * (t - 1) // 2 for t in ts), sum(t**3 - t for t in ts)


def _pair_counts(x: Sequence[float], y: Sequence[float]) -> tuple[int, int]:
    """(concordant, discordant) pairs of two paired sequences; ties count as neither."""
    if len(x) != len(y):
        raise ValueError("tau-b needs paired sequences of one length")
    concordant = discordant = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            s = (x[i] - x[j]) * (y[i] - y[j])
            concordant += s > 0
            discordant += s < 0
    return concordant, discordant


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of two paired sequences: (C - D) / sqrt((n0 - n1)(n0 - n2)).

    C and D count concordant and discordant pairs; n0 = n(n-1)/2; n1 and n2 the pairs
    tied in x and in y. None when either sequence is constant (no pair to order).
    """
    concordant, discordant = _pair_counts(x, y)
    n = len(x)
    n0 = n * (n - 1) // 2
    n1, n2 = _tie_sums(x)[0], _tie_sums(y)[0]
    denominator = math.sqrt((n0 - n1) * (n0 - n2))
    if denominator == 0:
        return None
    return (concordant - discordant) / denominator


def kendall_tau_p(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Two-sided p-value of Kendall's tau-b under independence, as SciPy computes it.

    Without ties and with at most 33 objects (or at most one discordant or concordant
    pair): exact, from the number of orderings of n objects with each count of
    discordant pairs (Kendall 1970). Otherwise the normal approximation of C - D with
    the tie-corrected variance. None where tau-b is none (a constant sequence).
    """
    concordant, discordant = _pair_counts(x, y)
    n = len(x)
    if n < 2:
        return None
    total = n * (n - 1) // 2
    x_tied, y_tied = _tie_sums(x)[0], _tie_sums(y)[0]
    if x_tied == total or y_tied == total:
        return None
    if x_tied == 0 and y_tied == 0 and (n <= 33 or min(discordant, total - discordant) <= 1):
        return _exact_tau_p(n, min(discordant, total - discordant))
    x0, x1 = _variance_sums(x)
    y0, y1 = _variance_sums(y)
    m = n * (n - 1)
    var = (
        (m * (2 * n + 5) - x1 - y1) / 18
        + (2 * x_tied * y_tied) / m
        + (x0 * y0 / (9 * m * (n - 2)) if n > 2 else 0.0)
    )
    z = (concordant - discordant) / math.sqrt(var)
    return min(1.0, math.erfc(abs(z) / math.sqrt(2)))


def _variance_sums(values: Sequence[float]) -> tuple[int, int]:
    """(sum of t(t-1)(t-2), sum of t(t-1)(2t+5)) over the groups of t equal values."""
    ts = _tie_groups(values)
    return sum(t * (t - 1) * (t - 2) for t in ts), sum(t * (t - 1) * (2 * t + 5) for t in ts)


def _exact_tau_p(n: int, c: int) -> float:
    """P(at most c discordant pairs) among the n! orderings, doubled (two-sided), at most 1.

    ``ways[k]`` counts orderings of the first j objects with k discordant pairs; adding
    object j+1 adds 0..j of them (the Mahonian numbers), in exact integers.
    """
    if 4 * c == n * (n - 1):
        return 1.0
    ways = [1]
    for j in range(1, n):
        grown = [0] * min(len(ways) + j, c + 1)
        for k, w in enumerate(ways):
            for add in range(min(j, c - k) + 1):
                grown[k + add] += w
        ways = grown
    return min(1.0, 2 * sum(ways) / math.factorial(n))


def kendall_w_p(w: float, m: int, n: int) -> float:
    """The p-value of Kendall's W for m rankings of n objects: chi-square m(n-1)W with
    n-1 degrees of freedom (Friedman's statistic); rough below about 7 objects."""
    return _chi2_sf(m * (n - 1) * w, n - 1)


def _chi2_sf(x: float, k: int) -> float:
    """P(chi-square with k degrees of freedom > x), in closed form for whole k.

    The tail is e^-h (sum of h^i / i!) for even k, erfc(sqrt h) plus e^-h (sum of
    h^(i-1/2) / Gamma(i+1/2)) for odd k, with h = x / 2. Each term is taken in logs
    (for a thousand brands e^-h underflows while the sum overflows) and is at most 1.
    """
    if x <= 0:
        return 1.0
    h = x / 2
    log_h = math.log(h)
    if k % 2 == 0:
        terms = [i * log_h - math.lgamma(i + 1) - h for i in range(k // 2)]
        head = 0.0
    else:
        terms = [(i - 0.5) * log_h - math.lgamma(i + 0.5) - h for i in range(1, (k - 1) // 2 + 1)]
        head = math.erfc(math.sqrt(h))
    return min(1.0, head + math.fsum(math.exp(t) for t in terms))


def kendall_w(rankings: Sequence[Sequence[float]]) -> float | None:
    """Kendall's coefficient of concordance W of m rankings of the same n objects.

    W = 12 S / (m^2 (n^3 - n) - m T), S the sum of squared deviations of the objects'
    rank sums from their mean, T the sum over rankings of t^3 - t over tied groups
    (the tie correction). Each ranking must already hold ranks (ties averaged).
    None with fewer than two rankings or objects, or when every ranking is all ties.
    """
    m = len(rankings)
    if m < 2:
        return None
    n = len(rankings[0])
    if any(len(r) != n for r in rankings):
        raise ValueError("W needs rankings of the same objects")
    if n < 2:
        return None
    sums = [sum(r[i] for r in rankings) for i in range(n)]
    mean = sum(sums) / n
    s = sum((v - mean) ** 2 for v in sums)
    ties = sum(_tie_sums(r)[1] for r in rankings)
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return None
    return 12 * s / denominator


def agreement_word(tau: float | None) -> str:
    """How strongly two rankings agree, in words (the thresholds are documented)."""
    if tau is None:
        return "cannot be compared"
    if tau >= 0.7:
        return "agree strongly"
    if tau >= 0.4:
        return "agree moderately"
    if tau >= 0.1:
        return "agree weakly"
    if tau > -0.1:
        return "rank brands independently"
    return "rank brands in opposite directions"
