"""Targets: how far a brand got towards the goal it set for an indicator.

Only targets whose period has ended on or before the as-of date count, and the
latest such period per brand and indicator; the actual value is the indicator
as of the period's last day, so a quarter's target is judged on the quarter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING

from brandlens.analysis.model import Achievement

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.runs import Dataset

Number = int | float

_DUE_SQL = """
SELECT brand, indicator, period_start, period_end, target_value FROM (
  SELECT *, row_number() OVER (
    PARTITION BY brand, indicator ORDER BY period_end DESC, period_start DESC, target_value
  ) AS rn
  FROM targets
  WHERE period_end <= CAST($as_of AS DATE)
    AND list_contains($brands, brand) AND list_contains($indicators, indicator)
)
WHERE rn = 1
ORDER BY indicator, brand
"""


def due(
    ds: Dataset, as_of: date, brands: list[str], indicators: Iterable[str]
) -> list[tuple[str, str, date, date, float]]:
    """(brand, indicator, period start, period end, target) of each target that is due."""
    wanted = sorted(set(indicators))
    if not brands or not wanted:
        return []
    rows = ds.read(_DUE_SQL, {"as_of": as_of, "brands": brands, "indicators": wanted})
    return [(b, i, s, e, float(t)) for b, i, s, e, t in rows]


def achievements(
    targets: list[tuple[str, str, date, date, float]],
    actual: Mapping[date, Mapping[tuple[str, str], Number | None]],
) -> list[Achievement]:
    """actual / target per due target; ``actual`` maps a period end to (brand, indicator) values."""
    out = []
    for brand, indicator, start, end, target in targets:
        value = actual.get(end, {}).get((brand, indicator))
        ratio = None if value is None or target == 0 else float(f"{value / target:.12g}")
        out.append(
            Achievement(
                brand=brand,
                indicator=indicator,
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                target=target,
                actual=value,
                achievement=ratio,
            )
        )
    return out
