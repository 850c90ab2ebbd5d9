"""Membership as of a date: DuckDB's query (member events kept first) gives the rows of
the portable one that Spark and `brandlens sql` use."""

from __future__ import annotations

from datetime import date

import duckdb

from brandlens.engine.engines import DUCKDB_MEMBERS_QUERY, MEMBERS_QUERY

AS_OF = date(2025, 6, 30)


def _members(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[str, str]]:
    return sorted(con.execute(query, {"as_of": AS_OF}).fetchall())


def _log(rows: list[tuple[int, str, str, str, str | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (event_id BIGINT, ts TIMESTAMP, user_id VARCHAR,"
        " event_type VARCHAR, brand VARCHAR, local_date DATE)"
    )
    for event_id, ts, user, event_type, brand in rows:
        con.execute(
            "INSERT INTO events VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5,"
            " CAST(CAST($2 AS TIMESTAMP) AS DATE))",
            [event_id, ts, user, event_type, brand],
        )
    return con


def test_storyboard():
    con = _log(
        [
            # u1 joins A: a member.
            (1, "2025-01-01 10:00:00", "u1", "member_join", "A"),
            # u2 joins A, then leaves: not a member.
            (2, "2025-01-01 10:00:00", "u2", "member_join", "A"),
            (3, "2025-02-01 10:00:00", "u2", "member_leave", "A"),
            # u3 leaves and joins A at the same instant: the leave wins, not a member.
            (4, "2025-03-01 10:00:00", "u3", "member_join", "A"),
            (5, "2025-03-01 10:00:00", "u3", "member_leave", "A"),
            # u4 leaves B, joins again later: a member of B.
            (6, "2025-01-01 10:00:00", "u4", "member_join", "B"),
            (7, "2025-02-01 10:00:00", "u4", "member_leave", "B"),
            (8, "2025-03-01 10:00:00", "u4", "member_join", "B"),
            # u5 joins A after as_of: not yet a member; a purchase makes no member.
            (9, "2025-07-01 10:00:00", "u5", "member_join", "A"),
            (10, "2025-01-01 10:00:00", "u5", "purchase", "A"),
            # u6 joins with no brand: nobody's member.
            (11, "2025-01-01 10:00:00", "u6", "member_join", None),
        ]
    )
    expected = [("u1", "A"), ("u4", "B")]
    assert _members(con, MEMBERS_QUERY) == expected
    assert _members(con, DUCKDB_MEMBERS_QUERY) == expected


def test_same_rows_on_a_generated_market(market):
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events AS SELECT event_id, ts, user_id, event_type, brand,"
        " CAST(ts AS DATE) AS local_date FROM read_parquet($p)",
        {"p": str(market / "events.parquet")},
    )
    portable = _members(con, MEMBERS_QUERY)
    assert len(portable) > 100
    assert _members(con, DUCKDB_MEMBERS_QUERY) == portable
