"""Category context: a brand is measured against brands that sell what it sells.

Ranking a smartphone brand against a snack brand on size says nothing; within
its category a brand's value reads as an index to the category median and a
percentile among the category's brands. A brand's main category is the one
with the most purchase GMV up to the as-of date.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from statistics import median
from typing import TYPE_CHECKING

from brandlens.analysis.model import CategoryCell, ComparisonColumn
from brandlens.engine.result import significant
from brandlens.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.runs import Dataset

Number = int | float

_GMV_SQL = """
SELECT brand, category, sum(amount) AS gmv
FROM events
WHERE event_type = 'purchase' AND brand IS NOT NULL AND category IS NOT NULL
  AND amount IS NOT NULL AND local_date <= CAST($as_of AS DATE)
GROUP BY brand, category
HAVING sum(amount) > 0
ORDER BY brand, gmv DESC, category
"""


def category_gmv(ds: Dataset, as_of: date) -> dict[str, dict[str, float]]:
    """brand -> category -> purchase GMV up to as_of (largest first)."""
    out: dict[str, dict[str, float]] = {}
    for brand, category, gmv in ds.read(_GMV_SQL, {"as_of": as_of}):
        out.setdefault(brand, {})[category] = float(gmv)
    return out


def assign(gmv: Mapping[str, Mapping[str, float]], chosen: str | None) -> dict[str, str]:
    """brand -> the category it is compared within.

    Without ``chosen``: its main category (most GMV; the first name on a tie). With
    ``chosen``: that category, for every brand that sells in it (others have none).
    """
    if chosen is None:
        return {b: next(iter(cats)) for b, cats in gmv.items() if cats}
    known = sorted({c for cats in gmv.values() for c in cats})
    if chosen not in known:
        close = [c for c in known if c.lower() == chosen.lower()]
        close += [c for c in difflib.get_close_matches(chosen, known, n=3) if c not in close]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(
            f"--category: no purchases in category {chosen!r}{hint} (categories: "
            f"{', '.join(known) or 'none'})"
        )
    return {b: chosen for b, cats in gmv.items() if chosen in cats}


def percentile(value: Number, peers: list[Number], direction: str) -> float | None:
    """The share of the other peers ``value`` beats (ties count half), in percent.

    ``peers`` includes the value itself; None with no other peer.
    """
    n = len(peers)
    if n < 2:
        return None
    better = (lambda p: p < value) if direction == "higher" else (lambda p: p > value)
    worse = sum(1 for p in peers if better(p))
    equal = sum(1 for p in peers if p == value) - 1
    return 100.0 * (worse + 0.5 * equal) / (n - 1)


def cells(
    columns: list[ComparisonColumn],
    values: Mapping[str, Mapping[str, Number | None]],
    placed: Mapping[str, str],
    shown: list[str],
) -> list[CategoryCell]:
    """Index to the category median and percentile, per shown brand and headline indicator.

    ``values`` holds brand -> indicator -> value for every brand of the categories
    involved (the shown ones and their peers).
    """
    out = []
    for col in columns:
        for brand in shown:
            category = placed.get(brand)
            value = values.get(brand, {}).get(col.indicator)
            if category is None:
                continue
            peers = [
                v
                for b, c in placed.items()
                if c == category and (v := values.get(b, {}).get(col.indicator)) is not None
            ]
            mid = _significant(median(peers)) if peers else None
            out.append(
                CategoryCell(
                    brand=brand,
                    indicator=col.indicator,
                    category=category,
                    peers=len(peers),
                    median=mid,
                    index=(
                        None  # alone, its median is its own value: no index to read
                        if value is None or mid is None or mid <= 0 or len(peers) < 2
                        else round(value / mid * 100, 6) + 0.0  # never -0.0
                    ),
                    percentile=(
                        None if value is None else _round(percentile(value, peers, col.direction))
                    ),
                )
            )
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _significant(x: Number) -> Number:
    """A median at 12 significant digits, as every result value: the mean of two middle
    values can carry a thirteenth (0.123456789012 and 0.223456789013 give
    0.1734567890125)."""
    return significant(x) if isinstance(x, float) else x
