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
from brandlens.engine.result import significant

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
    lower_is_better: frozenset[str] = frozenset(),
) -> list[Achievement]:
    """Each due target's achievement; ``actual`` maps a period end to (brand, indicator)
    values, ``lower_is_better`` names the indicators whose better direction is down.

    Where higher is better, achievement is actual ÷ target; where lower is better,
    target ÷ actual, so that above 1 is beyond the target either way (a structure gap of
    0.386 against a target of 0.2 is 52%, not 193%). A ratio with a negative side, or
    a zero it would divide by, reads backwards (+49,466 ÷ −1,000), so there it is none;
    ``met`` still says whether the target was reached.
    """
    out = []
    for brand, indicator, start, end, target in targets:
        value = actual.get(end, {}).get((brand, indicator))
        lower = indicator in lower_is_better
        ratio = met = None
        if value is not None:
            met = value <= target if lower else value >= target
            if target > 0 and value > 0:
                ratio = significant(target / value if lower else value / target)
            elif target > 0 and value == 0 and not lower:
                ratio = 0.0
        out.append(
            Achievement(
                brand=brand,
                indicator=indicator,
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                target=target,
                actual=value,
                direction="lower" if lower else "higher",
                achievement=ratio,
                met=met,
            )
        )
    return out
