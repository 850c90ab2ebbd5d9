"""Where a run's queries execute: one small interface, DuckDB and Spark behind it.

The data layer always validates with DuckDB (the store); an engine then runs the
per-run tables (``brands``, ``members``), the ladders, the relations and the
indicator queries. Plugins never see an engine: their SQL is DuckDB dialect, and an
engine that speaks another dialect translates it (``engine.dialects``). The rules of
plugin SQL hold on every engine: it is checked read-only by the core before any
engine sees it, values arrive as bound parameters, and the engine's tables are the
only things it can read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ENGINES: tuple[str, ...] = ("duckdb", "spark")

_MEMBER_EVENTS = """event_type IN ('member_join', 'member_leave')
    AND brand IS NOT NULL
    AND local_date <= CAST($as_of AS DATE)"""


def _latest_membership(source: str, where: str) -> str:
    return f"""
SELECT user_id, brand FROM (
  SELECT user_id, brand, event_type,
    row_number() OVER (
      PARTITION BY user_id, brand
      ORDER BY ts DESC, (event_type = 'member_leave') DESC, event_id DESC
    ) AS rn
  FROM {source}{where}
) AS latest
WHERE rn = 1 AND event_type = 'member_join'
"""


MEMBERS_QUERY = _latest_membership("events", f"\n  WHERE {_MEMBER_EVENTS}")
"""Membership as of as_of: the last join/leave up to that date; a same-instant tie is a leave."""

DUCKDB_MEMBERS_QUERY = f"""
WITH member_events AS MATERIALIZED (
  SELECT user_id, brand, event_type, ts, event_id FROM events
  WHERE {_MEMBER_EVENTS}
)""" + _latest_membership("member_events", "")
"""The same rows on DuckDB, from the join and leave events kept first. Over the events
table itself, DuckDB splits the window into 100 user-id ranges, each scanning the whole
table: 87 s at a billion events where reading the members first takes 0.9 s."""


class QueryEngine(Protocol):
    """What the run needs from an engine."""

    name: str
    type_codes: dict[str, int] | None
    """Event type -> vocabulary code for ladder bit masks, or None for list tests."""

    def prepare(self, as_of: date, brands: list[str]) -> None:
        """Create the run's ``brands`` (the brands reported) and ``members`` tables."""

    def enter(self, schema: str, own: Collection[str]) -> None:
        """Start a methodology: its relations live in ``schema`` under their own names."""

    def leave(self) -> None:
        """End the methodology started by ``enter``."""

    def materialise(self, name: str, sql: str, binds: Mapping[str, Any]) -> None:
        """Compute ``sql`` once and keep it as the methodology's table ``name``."""

    def fetch(self, sql: str, binds: Mapping[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a read-only query: (column names, rows)."""

    def drop(self, name: str) -> None:
        """Forget the methodology's table ``name``."""

    def interrupt(self) -> None:
        """Stop the running query (from another thread)."""

    def check(self, sql: str) -> str | None:
        """Why ``sql`` cannot run on this engine, or None."""


class DuckDBEngine:
    """The embedded default: the dataset's own connection, relations in a schema."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, type_codes: dict[str, int] | None):
        self.con = con
        self.type_codes = type_codes
        self.schema: str | None = None

    def prepare(self, as_of: date, brands: list[str]) -> None:
        self.con.execute(
            "CREATE OR REPLACE TABLE main.brands AS "
            "SELECT unnest(CAST($brands AS VARCHAR[])) AS brand",
            {"brands": brands},
        )
        self.con.execute(
            f"CREATE OR REPLACE TABLE main.members AS {DUCKDB_MEMBERS_QUERY}", {"as_of": as_of}
        )

    def enter(self, schema: str, own: Collection[str]) -> None:
        self.schema = schema
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        self.con.execute("SET search_path = $p", {"p": f"{schema},main"})

    def leave(self) -> None:
        self.schema = None
        self.con.execute("SET search_path = 'main'")

    def _target(self, name: str) -> str:
        assert self.schema is not None, "materialise outside a methodology"
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def materialise(self, name: str, sql: str, binds: Mapping[str, Any]) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {self._target(name)} AS {sql}", dict(binds))

    def fetch(self, sql: str, binds: Mapping[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.con.execute(sql, dict(binds))
        rows = cur.fetchall()
        return [d[0] for d in cur.description or []], rows

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self._target(name)}")

    def interrupt(self) -> None:
        self.con.interrupt()

    def check(self, sql: str) -> str | None:
        return None

    def fork(self) -> DuckDBEngine:
        """An engine on its own cursor of the same database, for a concurrent run: its own
        search path and interrupt; the same tables. A cursor is a session of its own, so
        it is given the run's time zone and the variables of an events file read in place."""
        from brandlens.data.inplace import copy_session

        cursor = self.con.cursor()
        copy_session(self.con, cursor)
        return DuckDBEngine(cursor, self.type_codes)

    def close(self) -> None:
        self.con.close()
