"""The order of a stored events table: as read, or clustered by month, then user.

A log in the order things happened (a real brand's log) scatters each user's events
over every row group, so every (user, brand) grouping a methodology runs sees every
group in every chunk of rows, and each string column's dictionary holds most users.
``brandlens load --into FILE --cluster`` writes such a log's events month by month,
each month's rows sorted by user: row groups keep narrow date ranges (the ladders'
window scans still skip most of them) and each user's events sit together within a
month. A log that already keeps each user's events together (an export user by user)
is left as read: cutting it into months would only scatter each user's rows again.
See docs/performance.md ("A store clustered by month, then user").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from brandlens.data.store import store_schema
from brandlens.data.validation import DATA_SCHEMA
from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

SAMPLE_BLOCKS = 64
"""Blocks of consecutive rows sampled, spread evenly over the table."""
BLOCK_ROWS = 4096
"""Rows per sampled block."""
GROUPED_SHARE = 0.5
"""At or above this share of consecutive rows of one user, a log counts as grouped by
user. Measured on the 10 M generated market: 0.91 written user by user, 0.006 in time
order; a real log in time order is as low as the second."""
MIN_EVENTS = BLOCK_ROWS
"""A log of fewer events is not measured (and so never clustered, nor hinted at):
its order costs nothing worth a second copy."""
CLUSTER_KEY = "hash(user_id), ts"
"""Each month's sort: the user's hash spreads users evenly and sorts as one integer
(with the id itself in the key the sort took 20% longer; two users whose hashes
collide only share a run of rows); within a user, time order."""


def same_user_share(con: duckdb.DuckDBPyConnection, table: str, min_rows: int = 2) -> float | None:
    """The share of rows whose user is the user of the row before, in stored order.

    Measured over ``SAMPLE_BLOCKS`` blocks of ``BLOCK_ROWS`` consecutive row ids spread
    evenly over the table (a smaller table is read whole); a row is compared only with
    the stored row before it in its own block. Each block is a range of row ids, which
    DuckDB reads without scanning the rest: 0.07-0.11 s at 100 M events. None for
    fewer than ``min_rows`` rows (and never fewer than two). ``table`` is a quoted
    table name.
    """
    rows, last = con.execute(f"SELECT count(*), max(rowid) FROM {table}").fetchone()
    if rows < max(2, min_rows):
        return None
    stride = max(BLOCK_ROWS, (last + 1) // SAMPLE_BLOCKS)
    binds: dict[str, int] = {"stride": stride}
    ranges = []
    for k in range(SAMPLE_BLOCKS):
        binds[f"from{k}"], binds[f"to{k}"] = k * stride, k * stride + BLOCK_ROWS
        ranges.append(f"(rowid >= $from{k} AND rowid < $to{k})")
    row = con.execute(
        f"""
        SELECT avg(CASE WHEN user_id = before THEN 1.0 ELSE 0.0 END)
        FROM (
            SELECT user_id, lag(user_id) OVER block AS before, lag(rowid) OVER block AS paired
            FROM {table}
            WHERE {" OR ".join(ranges)}
            WINDOW block AS (PARTITION BY rowid // $stride ORDER BY rowid)
        )
        WHERE paired IS NOT NULL
        """,
        binds,
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def grouped_by_user(share: float | None) -> bool:
    """Whether a table with this same-user share already keeps users together."""
    return share is None or share >= GROUPED_SHARE


def copy_clustered(con: duckdb.DuckDBPyConnection, source: str, target: str) -> int:
    """Create ``target`` holding ``source``'s rows month by month, each month by user.

    One ``INSERT`` per month of ``local_date`` (each sort holds one month, not the
    whole log; on a log in time order each month's scan skips the other months' row
    groups), then any rows without a local date. Returns the number of months.
    Both names are quoted table names.
    """
    con.execute(f"CREATE TABLE {target} AS FROM {source} LIMIT 0")
    months = con.execute(
        f"""
        SELECT m, CAST(m + INTERVAL 1 MONTH AS DATE)
        FROM (SELECT DISTINCT CAST(date_trunc('month', local_date) AS DATE) AS m
              FROM {source} WHERE local_date IS NOT NULL)
        ORDER BY m
        """
    ).fetchall()
    for first, after in months:
        con.execute(
            f"INSERT INTO {target} FROM {source} "
            f"WHERE local_date >= $first AND local_date < $after ORDER BY {CLUSTER_KEY}",
            {"first": first, "after": after},
        )
    con.execute(f"INSERT INTO {target} FROM {source} WHERE local_date IS NULL")
    return len(months)


@dataclass(frozen=True)
class Layout:
    """How a store's events were laid out, and the measurement that decided it."""

    clustered: bool
    same_user_share: float | None
    months: int = 0


def measure(con: duckdb.DuckDBPyConnection, catalog: str) -> Layout:
    """The layout of a store's events as they are (never clustered here); the share
    is measured from ``MIN_EVENTS`` events on."""
    return Layout(False, same_user_share(con, _events(catalog), MIN_EVENTS))


def copy_clustered_store(
    con: duckdb.DuckDBPyConnection, source: str, target: str, share: float | None
) -> Layout:
    """Copy every stored table of catalog ``source`` into catalog ``target``, the
    events clustered by month, then user; ``share`` is the source's measured
    :func:`same_user_share`, recorded in the returned layout."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {store_schema(target)}")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = $db "
            "AND schema_name = $s ORDER BY table_name",
            {"db": source, "s": DATA_SCHEMA},
        ).fetchall()
    ]
    months = 0
    for table in tables:
        name = quote_ident(table)
        src, dst = f"{store_schema(source)}.{name}", f"{store_schema(target)}.{name}"
        if table == "events":
            months = copy_clustered(con, src, dst)
        else:
            con.execute(f"CREATE TABLE {dst} AS FROM {src}")
    return Layout(True, share, months)


def _events(catalog: str) -> str:
    return f"{store_schema(catalog)}.{quote_ident('events')}"
