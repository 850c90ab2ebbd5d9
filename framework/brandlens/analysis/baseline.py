"""Change over time: the same comparison as of an earlier date, from the same data.

``previous`` is the same day a month earlier and ``yoy`` the same day a year
earlier (the last day of the month when the month is shorter), so a month-end
as-of compares with a month-end baseline; any ISO date works too. The engine
runs once more, for that date: every indicator is recomputed, none is guessed.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date

from brandlens.analysis.model import BaselineCell, ComparisonColumn
from brandlens.engine.result import significant
from brandlens.errors import UsageError

Number = int | float


def months_back(day: date, months: int) -> date:
    """The same day ``months`` earlier; the month's last day when it has no such day."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = m + 1
    last = calendar.monthrange(y, month)[1]
    # a month-end stays a month-end: 2025-06-30 -> 2025-05-31
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(y, month, last)
    return date(y, month, min(day.day, last))


def resolve(spec: str, as_of: date) -> tuple[str, date]:
    """(kind, date) for ``previous``, ``yoy`` or an ISO date before as_of."""
    if spec == "previous":
        return "previous", months_back(as_of, 1)
    if spec == "yoy":
        return "yoy", months_back(as_of, 12)
    try:
        day = date.fromisoformat(spec)
    except ValueError:
        raise UsageError(
            f"--baseline: expected previous, yoy or a date (YYYY-MM-DD), got {spec!r}"
        ) from None
    if day >= as_of:
        raise UsageError(f"--baseline {day}: must be before the as-of date {as_of}")
    return "date", day


def cells(
    columns: list[ComparisonColumn],
    now: Mapping[str, Mapping[str, Number | None]],
    then: Mapping[str, Mapping[str, Number | None]],
    shown: list[str],
) -> list[BaselineCell]:
    """Value, baseline value and their change (absolute and relative) per brand and indicator."""
    out = []
    for col in columns:
        for brand in shown:
            value = now.get(brand, {}).get(col.indicator)
            base = then.get(brand, {}).get(col.indicator)
            change = None if value is None or base is None else significant(value - base)
            rel = None if change is None or not base else significant(change / abs(base))
            out.append(
                BaselineCell(
                    brand=brand,
                    indicator=col.indicator,
                    value=value,
                    baseline=base,
                    change=change,
                    change_rel=rel,
                )
            )
    return out
