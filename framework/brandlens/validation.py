"""Validation compiled from the schema into SQL, run inside DuckDB over the whole input.

Each failing row goes to the quarantine with exactly one reason code (the first
that applies, in the order of REASONS), so rows read = accepted + quarantined.
Accepted rows become the typed canonical tables the engine computes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brandlens.errors import DataError
from brandlens.result import ReasonCount, TableReport, ValidationReport
from brandlens.schema import TABLES, ColumnSpec, columns_of, table_key
from brandlens.sources import Source, TableSource, _first_line
from brandlens.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

REASONS: dict[str, str] = {
    "excluded_by_mapping": "the mapping maps this event type to null (no canonical type)",
    "missing_required": "a required column (ts, user_id, event_type; key columns) is empty",
    "unknown_event_type": "event_type is not in the vocabulary (core or plugin-registered)",
    "ts_unparseable": "ts is not a timestamp DuckDB can read",
    "bad_type": "a value does not parse as its column's type (integer, decimal, date)",
    "missing_brand": "brand is empty on a brand-level event (purchase, refund, member_*)",
    "missing_amount": "amount is empty on a purchase or refund",
    "missing_rating": "rating is empty on a review",
    "missing_query_type": "query_type is empty on a search",
    "negative_amount": "amount is below 0",
    "rating_out_of_range": "rating is not between 1 and 5",
    "quantity_out_of_range": "quantity is below 1",
    "bad_query_type": "query_type is not brand, category or other",
    "cost_out_of_range": "spend cost is below 0",
    "list_price_out_of_range": "product list_price is below 0",
    "duplicate_event_id": "a later row repeats an event_id seen earlier in the file",
    "duplicate_key": "a later row repeats the key of a dimension table (user_id, product_id)",
}
"""Every reason code, in the order they are checked; docs/data.md lists them."""

EXAMPLES_PER_REASON = 3


def _typed(c: ColumnSpec, raw: str) -> str:
    if c.sql_type == "VARCHAR":
        return f"CASE WHEN trim({raw}) = '' THEN NULL ELSE {raw} END"
    if c.sql_type == "TIMESTAMP":
        return f"TRY_CAST({raw} AS TIMESTAMPTZ)"
    return f"TRY_CAST({raw} AS {c.sql_type})"


def _reason_sql(table: str, specs: list[ColumnSpec]) -> str:
    """The CASE expression giving each row's first failing reason (NULL = accepted)."""
    q = {c.name: quote_ident(c.name) for c in specs}
    present = {c.name: f"(r_{c.name} IS NOT NULL AND trim(r_{c.name}) <> '')" for c in specs}
    whens: list[tuple[str, str]] = []
    if table == "events":
        whens.append(("_excluded", "excluded_by_mapping"))
    required = [c for c in specs if c.required]
    if required:
        whens.append((" OR ".join(f"NOT {present[c.name]}" for c in required), "missing_required"))
    for c in specs:
        if c.vocabulary:
            whens.append((f"NOT list_contains($vocabulary, {q[c.name]})", "unknown_event_type"))
    for c in specs:
        if c.sql_type != "VARCHAR":
            whens.append((f"{present[c.name]} AND {q[c.name]} IS NULL", c.bad_reason))
    for c in specs:
        if c.required_for:
            cond = f"list_contains($req_{c.name}, {q['event_type']}) AND {q[c.name]} IS NULL"
            whens.append((cond, f"missing_{c.name}"))
    for c in specs:
        bounds = []
        if c.ge is not None:
            bounds.append(f"{q[c.name]} < {c.ge:g}")
        if c.le is not None:
            bounds.append(f"{q[c.name]} > {c.le:g}")
        if bounds:
            whens.append((" OR ".join(bounds), c.range_reason))
        if c.enum:
            whens.append((f"NOT list_contains($enum_{c.name}, {q[c.name]})", f"bad_{c.name}"))
    body = " ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in whens)
    return f"CASE {body} END"


def _binds_for(specs: list[ColumnSpec], vocabulary: list[str]) -> dict[str, Any]:
    binds: dict[str, Any] = {}
    for c in specs:
        if c.vocabulary:
            binds["vocabulary"] = vocabulary
        if c.required_for:
            binds[f"req_{c.name}"] = list(c.required_for)
        if c.enum:
            binds[f"enum_{c.name}"] = list(c.enum)
    return binds


def _check_table(
    con: duckdb.DuckDBPyConnection, ts: TableSource, vocabulary: list[str], timezone: str
) -> None:
    """Create _chk_<table>: every source row, typed, with its reason."""
    import duckdb

    table = ts.table
    model = TABLES[table]
    specs = columns_of(model)
    raw_cols = ", ".join(f"CAST({quote_ident(c.name)} AS VARCHAR) AS r_{c.name}" for c in specs)
    typed_cols = ", ".join(f"{_typed(c, 'r_' + c.name)} AS {quote_ident(c.name)}" for c in specs)
    key = table_key(model)
    dup_reason = "duplicate_event_id" if table == "events" else "duplicate_key"
    if key:
        kcols = ", ".join(quote_ident(k) for k in key)
        not_null = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)
        dedup = (
            f"CASE WHEN reason IS NULL AND {not_null} AND row_number() OVER "
            f"(PARTITION BY reason IS NULL, {kcols} ORDER BY _row) > 1 "
            f"THEN '{dup_reason}' ELSE reason END"
        )
    else:
        dedup = "reason"
    excluded = "_excluded" if table == "events" else "false AS _excluded"
    sql = f"""
CREATE OR REPLACE TEMP TABLE {quote_ident("_chk_" + table)} AS
WITH src AS (
  SELECT row_number() OVER () AS _row, * FROM ({
        ts.select_sql if table == "events" else _plain_select(ts)
    })
),
raw AS (SELECT _row, {excluded}, {raw_cols} FROM src),
typed AS (SELECT *, {typed_cols} FROM raw),
reasoned AS (SELECT *, {_reason_sql(table, specs)} AS reason FROM typed)
SELECT * REPLACE ({dedup} AS reason) FROM reasoned
"""
    binds = {**ts.binds, **_binds_for(specs, vocabulary)}
    try:
        con.execute(sql, binds)
    except duckdb.Error as e:
        raise DataError(f"{ts.label}: cannot read ({_first_line(e)})") from None


def _plain_select(ts: TableSource) -> str:
    if not ts.select_sql:
        raise AssertionError("source select not planned")
    return ts.select_sql


def _accepted_select(table: str, timezone_bind: str) -> str:
    specs = columns_of(TABLES[table])
    cols = []
    for c in specs:
        name = quote_ident(c.name)
        if table == "events" and c.name == "event_id":
            raw = ", ".join(f"coalesce(r_{s.name}, chr(30))" for s in specs if s.name != "event_id")
            cols.append(
                f"coalesce({name}, 'h' || substr(md5(concat_ws(chr(31), {raw})), 1, 16) || "
                f"'-' || row_number() OVER (PARTITION BY {name} IS NULL, "
                f"md5(concat_ws(chr(31), {raw})) ORDER BY _row)) AS {name}"
            )
        elif c.sql_type == "TIMESTAMP":
            cols.append(f"timezone('UTC', {name}) AS {name}")
            cols.append(f"CAST(timezone(${timezone_bind}, {name}) AS DATE) AS local_date")
        else:
            cols.append(f"CAST({name} AS {c.sql_type}) AS {name}")
    return f"SELECT {', '.join(cols)} FROM {quote_ident('_chk_' + table)} WHERE reason IS NULL"


def _empty_table_sql(table: str) -> str:
    specs = columns_of(TABLES[table])
    cols = ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in specs)
    return f"CREATE OR REPLACE TABLE {quote_ident(table)} ({cols})"


def validate_source(
    con: duckdb.DuckDBPyConnection, source: Source, vocabulary: list[str], timezone: str
) -> ValidationReport:
    """Validate every table; create the canonical tables and ``_quarantine``."""
    import duckdb

    tables: list[TableReport] = []
    reasons: list[ReasonCount] = []
    quarantine_parts: list[str] = []
    for table in TABLES:
        ts = source.tables.get(table)
        if ts is None:
            con.execute(_empty_table_sql(table))
            continue
        _check_table(con, ts, vocabulary, timezone)
        chk = quote_ident("_chk_" + table)
        try:
            accepted = _accepted_select(table, "tz")
            con.execute(
                f"CREATE OR REPLACE TABLE {quote_ident(table)} AS {accepted}",
                {"tz": timezone} if "$tz" in accepted else {},
            )
        except duckdb.Error as e:
            raise DataError(f"{ts.label}: cannot read ({_first_line(e)})") from None
        counts = dict(
            con.execute(f"SELECT coalesce(reason, ''), count(*) FROM {chk} GROUP BY ALL").fetchall()
        )
        read = sum(counts.values())
        bad = read - counts.get("", 0)
        tables.append(
            TableReport(
                table=table,
                source=ts.label,
                rows_read=read,
                rows_accepted=read - bad,
                rows_quarantined=bad,
            )
        )
        raw_names = [c.name for c in columns_of(TABLES[table])]
        order = list(REASONS)
        for reason in sorted((r for r in counts if r), key=order.index):
            rows = con.execute(
                f"SELECT _row, {', '.join('r_' + n for n in raw_names)} FROM {chk} "
                f"WHERE reason = $reason ORDER BY _row LIMIT {EXAMPLES_PER_REASON}",
                {"reason": reason},
            ).fetchall()
            examples = [
                {
                    "row": r[0],
                    **{n: v for n, v in zip(raw_names, r[1:], strict=True) if v is not None},
                }
                for r in rows
            ]
            reasons.append(
                ReasonCount(table=table, reason=reason, count=counts[reason], examples=examples)
            )
        if bad:
            cols = ", ".join(f"r_{n} AS {quote_ident(n)}" for n in raw_names)
            q_table = quote_ident("_q_" + table)
            con.execute(
                f'CREATE OR REPLACE TEMP TABLE {q_table} AS SELECT $table AS "table", '
                f'_row AS "row", reason, {cols} FROM {chk} WHERE reason IS NOT NULL',
                {"table": table},
            )
            quarantine_parts.append(q_table)
        con.execute(f"DROP TABLE {chk}")
    if quarantine_parts:
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {q}" for q in quarantine_parts)
        con.execute(f'CREATE OR REPLACE TABLE _quarantine AS {union} ORDER BY "table", "row"')
        for q in quarantine_parts:
            con.execute(f"DROP TABLE {q}")
    else:
        con.execute(
            'CREATE OR REPLACE TABLE _quarantine ("table" VARCHAR, "row" BIGINT, reason VARCHAR)'
        )
    return ValidationReport(source=source.label, timezone=timezone, tables=tables, reasons=reasons)
