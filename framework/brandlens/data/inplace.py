"""Validating an events file where it lies, for a run that keeps nothing.

A run with a cache (or ``--into``) copies the validated events into a DuckDB file, and
that copy is most of a first run (at 10 M events about 3.5 s of compression; checking
every row is 0.4 s of it). A run that keeps nothing (``--no-cache``) used to make the
same copy in memory, about 150 bytes per event. Here it makes none: one checking pass
keeps only the failing rows (position, reason, source text) and the later repeats of
an event id; the stored events are a view that reads the file through the same typing
and leaves those positions out. Memory no longer grows with the log, and a run that
reads the events a few times (one methodology) is faster; each read of the view types
the columns it reads again, so a run of every methodology costs about what it did.

Only what reads back row for row is read in place: Parquet, one file or a folder of
parts, whose event ids are integers (ids made from a row's content, or kept as text,
need the copy's bookkeeping). A row's position is the one a copy gives it: in one file
its ``file_row_number``; in a folder of parts, read in list order, the rows of the parts
before its own (from their footers) plus its row there. Anything else is copied as
before: ``plan`` says which.

A view cannot hold bound parameters, so the values its SQL names (the file's path, the
time zone's offsets, the vocabulary lists) are bound into session variables
(``SET VARIABLE``) and the view reads them with ``getvariable``; a cursor is a new
session, so ``engine.engines`` copies them (and the session's time zone, by which
text becomes a time) onto each one. The files stay readable after the load switches
file access off: the run allows those paths (``allowed_paths``) and no other.
DuckDB's allowance covers writing too; plugin SQL cannot write (SQLGlot's check), only
a library caller's own SQL on the connection could.

Rows come back in the file's order, as a copy's do: the failing positions are left
out by a filter reading a bitmap of them (an anti-join would hash the rows out of
order), or not at all when none fails. Every read types its columns again, and the
run refuses to go on if the file changed since it was checked (``engine.runs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from brandlens.data.schema import TABLES, columns_of
from brandlens.data.sources import TableSource
from brandlens.plugin.sqlcheck import quote_ident, used_binds

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

POSITION = "_pos"
"""A row's position in the file (0-based): Parquet's ``file_row_number``."""
VARIABLE_PREFIX = "brandlens_in_place_"
"""The session variable holding an in-place view's values: this prefix and the table."""
_OFFSETS = "in_place_offsets"
_FAILING = "_failing_events"
_ROWS = "_rows_events"
_BITMAP = "_failing_bitmap_events"
_BIND = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_GLOB_CHARS = frozenset("*?[")


def failing_rows(store: str) -> str:
    """The table of an in-place source's failing rows: position, reason, source text."""
    return f"{store}.{quote_ident(_FAILING)}"


@dataclass(frozen=True)
class Plan:
    """What reading a source in place needs from it, read once: its column types and
    each file's rows (from the Parquet footers), in reading order."""

    types: dict[str, str]
    rows: list[int]


def plan(con: duckdb.DuckDBPyConnection, ts: TableSource) -> Plan | None:
    """How ``ts`` is validated and read where it lies, or None when it is copied: it
    cannot be (see the module's doc), or a copy is lighter (:func:`preferred`)."""
    from brandlens.data.validation import INTEGRAL, readable_types

    if ts.table != "events" or ts.csv is not None or not ts.files:
        return None
    if not ts.from_sql.startswith("read_parquet("):
        return None
    if any(_GLOB_CHARS & set(file) for file in ts.files):
        return None
    own = {column.lower() for column in ts.columns}  # DuckDB's names ignore case
    if own & set(_reader_columns(ts)):  # the reader's own would be shadowed, or clash
        return None
    types = readable_types(con, ts)
    if "event_id" not in ts.present or types.get("event_id") not in INTEGRAL:
        return None
    rows = _footer_rows(con, ts)
    if rows is None:
        return None
    return Plan(types, rows) if preferred(con, ts, rows) else None


COPY_BYTES_PER_EVENT = 150
"""About what validating into memory holds per event (10 M events: 1.57 GB at peak)."""


def preferred(con: duckdb.DuckDBPyConnection, ts: TableSource, rows: list[int]) -> bool:
    """Whether a readable ``ts`` of ``rows`` per file is lighter read in place than
    copied into memory.

    One file: always (10 M events, FAST: 2.4 s at 0.26 GB against 3.7 s at 1.6 GB).
    A folder of parts: only when the copy would take more than half the memory limit.
    Each query opens every part again, which a copy pays once: at 10 M events every
    methodology took 10.1 s in place against 7.5 s copied in 28 parts, 17.4 against
    10.7 s in 823; past the limit the copy spills (100 M events in 28 parts: 97 against
    131 s, 3.1 against 5.6 GB).
    """
    if not ts.parts:
        return True
    limit = _memory_limit(con)
    return limit is None or sum(rows) * COPY_BYTES_PER_EVENT > limit / 2


_SIZE = re.compile(r"([0-9.]+)\s*(bytes|KiB|MiB|GiB|TiB|PiB)")


def _memory_limit(con: duckdb.DuckDBPyConnection) -> float | None:
    """The connection's memory limit in bytes, as DuckDB shows it ("4.7 GiB"); None if
    it shows none."""
    shown = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    found = _SIZE.fullmatch(str(shown).strip())
    if found is None:
        return None
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
    return float(found.group(1)) * 1024 ** units.index(found.group(2))


def _footer_rows(con: duckdb.DuckDBPyConnection, ts: TableSource) -> list[int] | None:
    """Rows of each file of ``ts``, in reading order, from the Parquet footers; None if
    DuckDB names a file otherwise than ``ts`` does (then positions could not be matched,
    and the source is copied)."""
    sql = "SELECT file_name, num_rows FROM parquet_file_metadata($files)"
    rows = dict(con.execute(sql, {"files": ts.files}).fetchall())
    if any(file not in rows for file in ts.files):
        return None
    return [int(rows[file]) for file in ts.files]


def _reader_columns(ts: TableSource) -> tuple[str, ...]:
    """The reader's columns a row's position is made of: its row in its file, and for
    a folder of parts which file (in reading order)."""
    return ("file_row_number", "file_index") if ts.parts else ("file_row_number",)


def _position(ts: TableSource, rows: list[int], binds: dict[str, Any]) -> str:
    """A row's position in the whole read, as a copy numbers it (``rows``: each file's).

    One file: its ``file_row_number``. A folder of parts, read in list order: the rows of
    the parts before it plus its row in its own part (``file_index`` is the part's place
    in the list), so the position is the copy's ``rowid`` and a quarantined row is
    reported by part and row as a copy reports it.
    """
    if not ts.parts:
        return "file_row_number"
    binds[_OFFSETS] = [0, *accumulate(rows[:-1])]
    return f"list_extract(${_OFFSETS}, CAST(file_index AS BIGINT) + 1) + file_row_number"


def _span(
    con: duckdb.DuckDBPyConnection, ts: TableSource, types: dict[str, str]
) -> tuple[datetime, datetime] | None:
    """The first and last timestamp (naive UTC) of a TIMESTAMP or TIMESTAMPTZ ``ts``
    column: the local-date expression, read again by every query, then keeps only the
    offsets in between (without, a generated market's UTC-adjusted times made a run of
    every methodology 8.5 -> 9.2-10.1 s at 10 M events)."""
    kind = types.get("ts")
    if kind == "TIMESTAMP":
        sql = f'SELECT min("ts"), max("ts") FROM ({ts.select_sql})'
    elif kind == "TIMESTAMP WITH TIME ZONE":  # epoch_us: the instant, no zone lookup
        sql = (
            'SELECT make_timestamp(epoch_us(min("ts"))), make_timestamp(epoch_us(max("ts"))) '
            f"FROM ({ts.select_sql})"
        )
    else:
        return None
    lo, hi = con.execute(sql, used_binds(sql, ts.binds)).fetchone()
    if not isinstance(lo, datetime) or not isinstance(hi, datetime):
        return None
    return lo, hi


REPEATED_ID = "'event_id'"
"""What a repeated id's quarantine names as its column (an SQL literal)."""


def validate(
    con: duckdb.DuckDBPyConnection,
    ts: TableSource,
    plan: Plan,
    vocabulary: list[str],
    timezone: str,
    store: str,
) -> int:
    """Check every row of ``ts`` in one pass and make its stored table a view over it.

    Leaves ``failing_rows(store)`` holding the rows that fail a check and the later
    repeats of an event id (as validation's copy would mark them), and returns how many
    rows the source has.
    """
    from brandlens.data.validation import (
        _integer_keys_unique,
        _source_json,
        checked_rows_sql,
        failing_source_sql,
        later_repeats,
        stored_columns,
    )
    from brandlens.data.vocabulary import create_vocabulary_type

    specs = columns_of(TABLES[ts.table])
    types = plan.types
    create_vocabulary_type(con, vocabulary)
    out, binds = stored_columns(con, ts, timezone, _span(con, ts, types))
    reader = ts.from_sql[:-1] + ", file_row_number=true)"
    position = _position(ts, plan.rows, binds)
    rows_sql = f"SELECT {ts.select_list}, {position} AS {POSITION} FROM {reader}"
    checked = checked_rows_sql(ts, types, rows_sql, keep=(POSITION,))
    failing = failing_rows(store)
    source = failing_source_sql(ts, types)
    sql = (
        f"CREATE OR REPLACE TABLE {failing} AS SELECT {POSITION}, _reason, "
        f"{source} AS _source FROM ({checked}) WHERE _reason IS NOT NULL"
    )
    con.execute(sql, used_binds(sql, binds))
    read = sum(plan.rows)

    rows = f"{store}.{quote_ident(_ROWS)}"
    variable = f"{VARIABLE_PREFIX}{ts.table}"

    def lay_view() -> None:
        """The rows view: every accepted row, typed, in the file's order."""
        view = (
            f"CREATE OR REPLACE VIEW {rows} AS SELECT {POSITION}, "
            f"CAST(NULL AS VARCHAR) AS _reason, {', '.join(out)} FROM ({checked})"
            f"{_leaving_out(con, store, failing, read)}"
        )
        con.execute(_with_variables(con, view, binds, variable))

    lay_view()
    later: list[int] = []
    if not _integer_keys_unique(con, rows, ["event_id"]):
        later = later_repeats(con, rows, ["event_id"], '"event_id" IS NOT NULL', position=POSITION)
    if later:
        repeats = (
            f"INSERT INTO {failing} SELECT {POSITION}, 'duplicate_event_id', "
            f"{_source_json(specs, '', REPEATED_ID, ts.inputs)} FROM ({rows_sql}) "
            f"WHERE {POSITION} IN (SELECT unnest($later))"
        )
        con.execute(repeats, {**used_binds(repeats, binds), "later": later})
        lay_view()
    stored = f"{store}.{quote_ident(ts.table)}"
    con.execute(
        f"CREATE OR REPLACE VIEW {stored} AS SELECT * EXCLUDE ({POSITION}, _reason) FROM {rows}"
    )
    ts.in_place = True
    return read


BITMAP_SLICE_ROWS = 1_000_000_000
"""Positions per bitmap of failing rows: one ``bitstring_agg`` spans at most this many
(DuckDB's limit, and ``get_bit`` takes a 32-bit index); a larger file has one per slice."""


def _leaving_out(con: duckdb.DuckDBPyConnection, store: str, failing: str, read: int) -> str:
    """The WHERE clause that leaves the failing positions out, keeping the file's order.

    None failing (the usual case): none. Otherwise a bitmap of the failing positions,
    one bit per row of the file (one bitmap per slice of BITMAP_SLICE_ROWS rows), read
    by each row: a filter, so rows stay in the file's order as a copy's do (an anti-join
    would hash them out of it).
    """
    if not con.execute(f"SELECT count(*) FROM {failing}").fetchone()[0]:
        return ""
    size = BITMAP_SLICE_ROWS
    slices = -(-read // size)
    bitmap = f"{store}.{quote_ident(_BITMAP)}"
    columns = ", ".join(
        f"bitstring_agg({POSITION} - {k * size}, 0, {min(size, read - k * size) - 1}) "
        f"FILTER (WHERE {POSITION} >= {k * size} AND {POSITION} < {(k + 1) * size}) AS f{k}"
        for k in range(slices)
    )
    con.execute(f"CREATE OR REPLACE TABLE {bitmap} AS SELECT {columns} FROM {failing}")
    # a slice without failing rows has no bitmap (NULL): none of its rows is left out
    index = f"CAST({POSITION} % {size} AS INTEGER)"
    if slices == 1:
        return f" WHERE coalesce(get_bit((SELECT f0 FROM {bitmap}), {index}), 0) = 0"
    which = " ".join(f"WHEN {k} THEN (SELECT f{k} FROM {bitmap})" for k in range(slices))
    return f" WHERE coalesce(get_bit(CASE {POSITION} // {size} {which} END, {index}), 0) = 0"


def _with_variables(
    con: duckdb.DuckDBPyConnection, sql: str, binds: dict[str, Any], variable: str
) -> str:
    """``sql`` with each bound value it names read from one session variable instead.

    The values travel as the fields of one STRUCT (``SET VARIABLE`` binds it), which
    DuckDB folds to constants when it plans a query: as fast as literals, and one value
    for a cursor to copy however many offset changes a time zone has.
    """
    used = used_binds(sql, binds)
    con.execute(f"SET VARIABLE {quote_ident(variable)} = $v", {"v": used})

    def field(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in used:
            return m.group(0)
        return f"struct_extract(getvariable('{variable}'), '{name}')"

    return _BIND.sub(field, sql)


SESSION_SETTINGS = ("TimeZone", "Calendar")
"""Settings of a session that change how text becomes a time (a view types ``ts`` again
on every read, and a copy typed it once, in the run's session)."""


def copy_session(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> None:
    """Give ``target`` (a cursor: a session of its own) ``source``'s time zone and
    calendar, and the variables of the views over files read in place."""
    for name in SESSION_SETTINGS:
        value = source.execute("SELECT current_setting($n)", {"n": name}).fetchone()[0]
        target.execute(f"SET {name} = $v", {"v": value})
    names = source.execute(
        "SELECT name FROM duckdb_variables() WHERE starts_with(name, $p) ORDER BY name",
        {"p": VARIABLE_PREFIX},
    ).fetchall()
    for (name,) in names:
        value = source.execute("SELECT getvariable($n)", {"n": name}).fetchone()[0]
        target.execute(f"SET VARIABLE {quote_ident(name)} = $v", {"v": value})
