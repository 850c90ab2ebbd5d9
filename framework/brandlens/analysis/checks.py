"""Typos are not zeros: a brand or date that is not in the data is said, not computed.

An unknown brand would otherwise compute as an empty brand (every count 0), and an
as-of date far outside the data as a market with no customers: numbers that look
real. Both are usage errors; a date just outside the data is only a warning.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from brandlens.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.runs import Dataset

MAX_DAYS_OUTSIDE = 365
"""An as-of date further than this from the data is a usage error, not a warning."""


class DataRangeWarning(UserWarning):
    """The as-of date lies outside the data: values describe a market that has stopped."""


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside brandlens: a warning then names the
    line of the caller's code that asked (``brandlens.compute(...)``), not ours."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        level += 1
        frame = frame.f_back
    return level


class BrandNameWarning(UserWarning):
    """Brands whose names differ only in case, spacing or character width: likely one
    brand spelled two ways, compared as two."""


_HALF_WIDTH = {0x3000: 0x20, **{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}}
"""Full-width (全角) ASCII and the ideographic space, to their half-width forms."""


def _spelling(brand: str) -> str:
    """A brand name with case, full width (全角) and runs of spaces set aside; nothing
    else (NFKC would also fold ² into 2, which is another name)."""
    return " ".join(brand.translate(_HALF_WIDTH).casefold().split())


def warn_lookalike_brands(brands: Iterable[str]) -> None:
    """One warning naming each group of brands that only spelling tells apart."""
    groups: dict[str, list[str]] = {}
    for brand in brands:
        groups.setdefault(_spelling(brand), []).append(brand)
    alike = [g for g in groups.values() if len(g) > 1]
    if alike:
        shown = "; ".join(" and ".join(repr(b) for b in g) for g in alike)
        warnings.warn(
            f"brands {shown} differ only in case, spaces or character width and are "
            "compared as different brands; a mapping derive merges spellings, such as "
            'brand: "upper(trim(brand))" (docs/comparing.md)',
            BrandNameWarning,
            stacklevel=_callers_level(),
        )


def known_brands(ds: Dataset) -> list[str]:
    """The brands with at least one event."""
    return ds.brands()


def check_brands(ds: Dataset, brands: Iterable[str] | None) -> None:
    """Every named brand has events; otherwise a usage error naming the closest brands."""
    if brands is None:
        return
    known = known_brands(ds)
    lowered = {b.lower(): b for b in known}
    for brand in dict.fromkeys(brands):
        if brand in known:
            continue
        close = difflib.get_close_matches(brand, known, n=3, cutoff=0.5)
        if brand.lower() in lowered and lowered[brand.lower()] not in close:
            close.insert(0, lowered[brand.lower()])
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"--brand: no events for brand {brand!r}{hint}")


def check_as_of(ds: Dataset, day: date, what: str = "--as-of", strict: bool = True) -> None:
    """Warn when ``day`` lies outside the data; a usage error past MAX_DAYS_OUTSIDE
    unless not ``strict``, when it is a warning too."""
    first, last = ds.date_range()
    if first is None or last is None:
        return
    limit = timedelta(days=MAX_DAYS_OUTSIDE)
    if strict and (day > last + limit or day < first - limit):
        side = "after the last" if day > last else "before the first"
        raise UsageError(
            f"{what} {day}: more than a year {side} event ({first} to {last} in the data)"
        )
    if day > last:
        warnings.warn(
            f"{what} {day} is after the last event ({last}): values count no activity since",
            DataRangeWarning,
            stacklevel=_callers_level(),
        )
    elif day < first:
        warnings.warn(
            f"{what} {day} is before the first event ({first}): there is no data yet",
            DataRangeWarning,
            stacklevel=_callers_level(),
        )


def check_choice(ds: Dataset, as_of: str | date | None, brands: list[str] | None) -> None:
    """``compute``'s and ``entities``' brands, checked as ``compare``'s are, and their
    as-of date: outside the data it is a warning, however far. A comparison far from
    the data is a typo; one indicator's long window (a two-year customer history, an
    audience lapsed for years) legitimately looks far past the last event."""
    check_brands(ds, brands)
    check_as_of(ds, ds._as_of(as_of), strict=False)
