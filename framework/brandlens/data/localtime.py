"""Local dates from UTC timestamps without a time-zone conversion per row.

Every window counts in local dates, so each event needs ``local_date``. DuckDB's
``timezone()`` asks ICU once per row (about 0.2 s per million rows); but a zone's
UTC offset changes only at a few instants, so between two changes the local date
is ``CAST(ts + offset AS DATE)``. The changes are found once per run by asking
DuckDB's own ICU (never Python's tz database, so both paths give the same dates):
offsets on a weekly grid over :data:`FAST_YEARS`, then each change narrowed to the
second. Rows outside those years fall back to ``timezone()`` exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

FAST_YEARS = (1970, 2100)
"""Years whose offsets are looked up in a table of offset changes; others use ICU per row."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STEP = 7 * 86400
_DAY_US = 86_400_000_000
_BIAS_DAYS = 1
_BIAS_US = _BIAS_DAYS * _DAY_US
"""Added to every offset (and its days taken off again): a UTC offset is at most a day
behind, so from FAST_YEARS' first instant on the dividend stays positive."""


def _offsets(con: duckdb.DuckDBPyConnection, tz: str, seconds: list[int]) -> list[int]:
    """The zone's UTC offset in microseconds at each instant (seconds since the epoch)."""
    rows = con.execute(
        "SELECT i, epoch_us(timezone($tz, to_timestamp(s))) - s * 1000000 "
        "FROM (SELECT unnest(CAST($s AS BIGINT[])) AS s, generate_subscripts($s, 1) AS i) "
        "ORDER BY i",
        {"tz": tz, "s": seconds},
    ).fetchall()
    return [int(r[1]) for r in rows]


_CHANGES: dict[str, list[tuple[int, int]]] = {}


def offset_changes(con: duckdb.DuckDBPyConnection, tz: str) -> list[tuple[int, int]]:
    """``[(start second, offset µs), ...]``: the offset in force from each start on.

    Looked up once per zone and process (they depend only on DuckDB's ICU data).

    The first start is the beginning of FAST_YEARS; the list covers up to its end.
    Two changes within one week that cancel out would be missed; no zone has had
    such a pair since 1970 (DST periods last months).
    """
    if tz in _CHANGES:
        return _CHANGES[tz]
    lo = int((datetime(FAST_YEARS[0], 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
    hi = int((datetime(FAST_YEARS[1], 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
    grid = [*range(lo, hi, _STEP), hi]
    offs = _offsets(con, tz, grid)
    # Each change lies in (grid[i], grid[i + 1]]: bisect all of them together, to the second.
    pending = [
        (grid[i], grid[i + 1], offs[i]) for i in range(len(grid) - 1) if offs[i] != offs[i + 1]
    ]
    while any(b - a > 1 for a, b, _ in pending):
        mids = [(a + b) // 2 for a, b, _ in pending]
        at_mid = _offsets(con, tz, mids)
        pending = [
            (m, b, o) if got == o else (a, m, o)
            for (a, b, o), m, got in zip(pending, mids, at_mid, strict=True)
        ]
    starts = [lo] + [b for _, b, _ in pending]
    _CHANGES[tz] = list(zip(starts, _offsets(con, tz, starts), strict=True))
    return _CHANGES[tz]


def local_date_sql(
    con: duckdb.DuckDBPyConnection,
    tz: str,
    ts: str,
    prefix: str = "ld",
    span: tuple[datetime, datetime] | None = None,
) -> tuple[str, dict[str, Any]]:
    """SQL for the local date of the naive-UTC timestamp expression ``ts`` in zone ``tz``.

    Returns the expression and its bound parameters (named ``<prefix>_*``): a balanced
    CASE tree over the offset changes, so each row makes about log2(changes) comparisons.

    ``span`` (the first and last naive-UTC timestamp the rows are expected to hold) keeps
    only the offsets in force between them: a log of two years in a zone without
    daylight saving then adds one offset per row (a view read again by every query:
    0.2 s per 10 M rows). It is a hint, not a promise: a row outside the kept offsets
    takes ICU's exact conversion, as a row outside FAST_YEARS always does.
    """
    changes = offset_changes(con, tz)
    end = datetime(FAST_YEARS[1], 1, 1)
    if span is not None:
        lo, hi = (int((t.replace(tzinfo=UTC) - _EPOCH).total_seconds()) for t in span)
        ends = [start for start, _ in changes[1:]] + [
            int((end.replace(tzinfo=UTC) - _EPOCH).total_seconds())
        ]
        kept = [i for i, (start, _) in enumerate(changes) if start <= hi and ends[i] > lo]
        if kept:
            end = (_EPOCH + timedelta(seconds=ends[kept[-1]])).replace(tzinfo=None)
            changes = [changes[i] for i in kept]
    binds: dict[str, Any] = {f"{prefix}_tz": tz}
    for i, (start, off) in enumerate(changes):
        binds[f"{prefix}_t{i}"] = (_EPOCH + timedelta(seconds=start)).replace(tzinfo=None)
        binds[f"{prefix}_o{i}"] = off + _BIAS_US

    def tree(a: int, b: int) -> str:
        if a == b:
            return f"${prefix}_o{a}"
        mid = (a + b + 1) // 2
        return f"CASE WHEN {ts} < ${prefix}_t{mid} THEN {tree(a, mid - 1)} ELSE {tree(mid, b)} END"

    binds[f"{prefix}_hi"] = end
    # Whole days since the epoch in integers (timestamp + interval costs about twice as
    # much per row); the offsets carry _BIAS_US so the dividend is never negative and
    # truncating division is floor division.
    days = f"(epoch_us({ts}) + {tree(0, len(changes) - 1)}) // {_DAY_US} - {_BIAS_DAYS}"
    fast = f"(DATE '1970-01-01' + CAST({days} AS INTEGER))"
    exact = f"CAST(timezone(${prefix}_tz, timezone('UTC', {ts})) AS DATE)"
    sql = f"(CASE WHEN {ts} >= ${prefix}_t0 AND {ts} < ${prefix}_hi THEN {fast} ELSE {exact} END)"
    return sql, binds


def steady_offset(con: duckdb.DuckDBPyConnection, tz: str) -> tuple[datetime, datetime, int]:
    """The longest stretch of wall-clock time in FAST_YEARS over which ``tz`` keeps one
    UTC offset: (first, end) as naive local times, and the offset in microseconds.

    Inside it a wall-clock time L is the instant L - offset, exactly what ICU's
    ``timezone(tz, L)`` gives: no daylight-saving gap or fold reaches into it (each end
    is pulled in by the neighbouring offsets). For Asia/Shanghai that is 1991 to 2100,
    so reading a Beijing-time export needs no ICU call per row.
    """
    changes = offset_changes(con, tz)
    end = int((datetime(FAST_YEARS[1], 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
    best = (0, 0, 0)
    for k, (start, off) in enumerate(changes):
        stop = changes[k + 1][0] if k + 1 < len(changes) else end
        before = changes[k - 1][1] if k > 0 else off
        after = changes[k + 1][1] if k + 1 < len(changes) else off
        lo = start * 1_000_000 + max(off, before)
        hi = stop * 1_000_000 + min(off, after)
        if hi - lo > best[1] - best[0]:
            best = (lo, hi, off)
    lo, hi, off = best

    def naive(us: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=us)).replace(tzinfo=None)

    return naive(lo), naive(hi), off


def wall_clock_sql(naive: str) -> str:
    """SQL for the naive-UTC instant of the wall-clock time expression ``naive`` in the
    zone ``$ts_zone`` (what ``timezone($ts_zone, naive)`` gives): one subtraction inside
    :func:`steady_offset`'s stretch (binds from :func:`wall_clock_binds`), ICU's exact
    conversion outside it."""
    return (
        f"(CASE WHEN {naive} >= $wall_lo AND {naive} < $wall_hi "
        f"THEN {naive} - to_microseconds($wall_off) "
        f"ELSE make_timestamp(epoch_us(timezone($ts_zone, {naive}))) END)"
    )


def wall_clock_binds(con: duckdb.DuckDBPyConnection, tz: str) -> dict[str, Any]:
    """The binds :func:`wall_clock_sql` names, for the zone ``tz``."""
    lo, hi, off = steady_offset(con, tz)
    return {"ts_zone": tz, "wall_lo": lo, "wall_hi": hi, "wall_off": off}
