"""Frozen reference of the pre-rewrite path, used only by the equivalence test.

The validation and the stage-ladder compiler as they were at commit 1b56b66, before
validation moved to one pass into a store and ladders learnt to read each event type
only as far back as its own rules need. tests/test_engine_equivalence.py runs the
engine once as it is and once with these two patched in, and asserts byte-identical
results; keeping a copy is what lets that test outlive the old code. Do not improve
this file: it is meant to stay what the old path did.

Copied verbatim except where marked ``ADAPTED``; the adaptation plugs the old code
into today's engine, which lays its canonical views over a store schema:

* ``validate_source`` takes today's ``store`` argument (a quoted catalog.schema) and
  writes the old-style canonical tables (canonical types, md5-generated event ids,
  ``local_date`` from ``timezone()`` per row) and the quarantine there instead of into
  ``main`` and ``brandlens_internal``, so ``store.create_views`` works over them;
* the ladder compiler is a function taking the ladder as ``self``, to be patched in
  as ``StageLadder.compile``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brandlens.data.schema import TABLES, ColumnSpec, columns_of, table_key
from brandlens.data.sources import Source, TableSource
from brandlens.data.validation import QUARANTINE_TABLE
from brandlens.engine.ladders import StageLadder, resolve
from brandlens.engine.result import ReasonCount, TableReport, ValidationReport
from brandlens.errors import DataError, first_line
from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

# ---- validation (framework/brandlens/data/validation.py at 1b56b66) ---------------------------

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
    "malformed_row": "a CSV line that does not parse (wrong number of fields, bad quoting, "
    "invalid UTF-8); counted by line",
}
"""Every reason code, in the order they are checked; docs/data.md lists them."""

EXAMPLES_PER_REASON = 3
# ADAPTED: the quarantine was brandlens_internal._quarantine; today's engine reads it
# from the store schema (``store.quarantine_table``).


_BLANK = r"\s*"  # whitespace-only text (tabs and newlines too) is a missing value
TS_YEARS = (1900, 2200)
"""Timestamps outside these years (and infinities) are quarantined as ts_unparseable."""


def _text(src: str, src_type: str) -> str:
    """The source value as text: JSON scalars unquoted, objects and arrays NULL."""
    if src_type == "JSON":
        return (
            f"CASE WHEN json_type({src}) IN ('OBJECT', 'ARRAY') THEN NULL "
            f"ELSE json_extract_string({src}, '$') END"
        )
    return src if src_type == "VARCHAR" else f"CAST({src} AS VARCHAR)"


def _typed(c: ColumnSpec, src: str, src_type: str) -> str:
    """The typed value of a column from its source value (text or already typed).

    Nothing is rounded into validity: an integer column takes only whole numbers, a
    decimal(18,2) column only values with at most two decimals; anything else is NULL,
    which the reason CASE reports as bad_type.
    """
    text_like = src_type in ("VARCHAR", "JSON")
    value = src
    if text_like:
        t = _text(src, src_type)
        value = f"(CASE WHEN regexp_full_match({t}, '{_BLANK}') THEN NULL ELSE {t} END)"
    if c.sql_type == "VARCHAR":
        return value if text_like else f"CAST({src} AS VARCHAR)"
    if c.sql_type == "TIMESTAMP":
        ts = src if src_type == "TIMESTAMP WITH TIME ZONE" else f"TRY_CAST({value} AS TIMESTAMPTZ)"
        lo, hi = TS_YEARS
        return f"(CASE WHEN isfinite({ts}) AND year({ts}) BETWEEN {lo} AND {hi} THEN {ts} END)"
    if c.sql_type in ("INTEGER", "BIGINT"):
        if text_like:
            return (
                f"(CASE WHEN regexp_full_match(trim({value}), '[+-]?[0-9]+') "
                f"THEN TRY_CAST(trim({value}) AS {c.sql_type}) END)"
            )
        return (
            f"(CASE WHEN TRY_CAST({src} AS DOUBLE) = round(TRY_CAST({src} AS DOUBLE)) "
            f"THEN TRY_CAST({src} AS {c.sql_type}) END)"
        )
    if c.sql_type.startswith("DECIMAL"):
        exact = f"TRY_CAST({value} AS DECIMAL(38,10))"
        return (
            f"(CASE WHEN {exact} = TRY_CAST({value} AS {c.sql_type}) "
            f"THEN TRY_CAST({value} AS {c.sql_type}) END)"
        )
    return f"TRY_CAST({value} AS {c.sql_type})"


def _present(src: str, src_type: str) -> str:
    if src_type in ("VARCHAR", "JSON"):
        blank = f"regexp_full_match({_text(src, src_type)}, '{_BLANK}')"
        return f"({src} IS NOT NULL AND NOT coalesce({blank}, false))"
    return f"({src} IS NOT NULL)"


def _reason_sql(table: str, specs: list[ColumnSpec], present: dict[str, str]) -> str:
    """The CASE expression giving each row's first failing reason (NULL = accepted)."""
    q = {c.name: quote_ident(c.name) for c in specs}
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
    order = list(REASONS)  # the first failing reason in the documented order wins
    whens.sort(key=lambda w: order.index(w[1]))
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


def _source_types(con: duckdb.DuckDBPyConnection, ts: TableSource) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM ({ts.select_sql})", ts.binds).fetchall()
    return {r[0]: r[1] for r in rows}


def _check_table(
    con: duckdb.DuckDBPyConnection, ts: TableSource, vocabulary: list[str], timezone: str
) -> None:
    """Create _chk_<table>: every source row (s_* as read), typed, with its reason."""
    import duckdb

    table = ts.table
    model = TABLES[table]
    specs = columns_of(model)
    try:
        types = _source_types(con, ts)
    except duckdb.Error as e:
        raise DataError(f"{ts.label}: cannot read ({first_line(e)})") from None
    src_cols = ", ".join(f"{quote_ident(c.name)} AS s_{c.name}" for c in specs)
    typed_cols = ", ".join(
        f"{_typed(c, 's_' + c.name, types[c.name])} AS {quote_ident(c.name)}" for c in specs
    )
    present = {c.name: _present("s_" + c.name, types[c.name]) for c in specs}
    key = table_key(model)
    dup_reason = "duplicate_event_id" if table == "events" else "duplicate_key"
    excluded = "_excluded" if table == "events" else "false AS _excluded"
    if key:  # later repeats of a key among otherwise valid rows; the first row is kept
        kcols = ", ".join(quote_ident(k) for k in key)
        join = " AND ".join(f"r.{quote_ident(k)} = d.{quote_ident(k)}" for k in key)
        final = f"""
dups AS (
  SELECT {kcols}, min(_row) AS first_row FROM reasoned
  WHERE reason IS NULL AND {" AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)}
  GROUP BY {kcols} HAVING count(*) > 1
)
SELECT r.* REPLACE (CASE WHEN r.reason IS NULL AND d.first_row IS NOT NULL
                         AND r._row > d.first_row THEN '{dup_reason}' ELSE r.reason END
                    AS reason)
FROM reasoned r LEFT JOIN dups d ON {join}"""
    else:
        final = "SELECT * FROM reasoned"
    sql = f"""
CREATE OR REPLACE TEMP TABLE {quote_ident("_chk_" + table)} AS
WITH src AS (SELECT row_number() OVER () AS _row, * FROM ({ts.select_sql})),
raw AS (SELECT _row, {excluded}, {src_cols} FROM src),
typed AS (SELECT *, {typed_cols} FROM raw),
reasoned AS (SELECT *, {_reason_sql(table, specs, present)} AS reason FROM typed),
{final}
"""
    binds = {**ts.binds, **_binds_for(specs, vocabulary)}
    try:
        con.execute(sql, binds)
    except duckdb.Error as e:
        raise DataError(f"{ts.label}: cannot read ({first_line(e)})") from None


def _accepted_select(table: str, timezone_bind: str) -> str:
    """Accepted rows, typed; events gain local_date and (where absent) a generated event_id.

    A generated id hashes the row's source values and numbers identical rows, so it does
    not depend on row order; it is computed only for rows that lack an id.
    """
    specs = columns_of(TABLES[table])
    chk = quote_ident("_chk_" + table)

    def columns(event_id: str) -> str:
        cols = []
        for c in specs:
            name = quote_ident(c.name)
            if table == "events" and c.name == "event_id":
                cols.append(f"{event_id} AS {name}")
            elif c.sql_type == "TIMESTAMP":
                cols.append(f"timezone('UTC', {name}) AS {name}")
                cols.append(f"CAST(timezone(${timezone_bind}, {name}) AS DATE) AS local_date")
            else:
                cols.append(f"CAST({name} AS {c.sql_type}) AS {name}")
        return ", ".join(cols)

    if table != "events":
        return f"SELECT {columns('')} FROM {chk} WHERE reason IS NULL"
    text = ", ".join(
        f"coalesce(CAST(s_{c.name} AS VARCHAR), chr(30))" for c in specs if c.name != "event_id"
    )
    digest = f"md5(concat_ws(chr(31), {text}))"
    generated = (
        f"'h' || substr({digest}, 1, 16) || '-' || "
        f"row_number() OVER (PARTITION BY {digest} ORDER BY _row)"
    )
    return (
        f"SELECT {columns('event_id')} FROM {chk} "
        f"WHERE reason IS NULL AND event_id IS NOT NULL "
        f"UNION ALL SELECT {columns(generated)} FROM {chk} "
        f"WHERE reason IS NULL AND event_id IS NULL"
    )


def _empty_table_sql(table: str, store: str) -> str:
    specs = columns_of(TABLES[table])
    cols = ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in specs)
    # ADAPTED: created in the store schema, not in main
    return f"CREATE OR REPLACE TABLE {store}.{quote_ident(table)} ({cols})"


def _malformed_lines(con: duckdb.DuckDBPyConnection, ts: TableSource) -> list[tuple[int, str, str]]:
    """(line number, line text, error) of the CSV lines DuckDB could not parse."""
    # ADAPTED: CSV sources now record rejects in a table of their own (sources/csvread)
    if ts.csv is None:
        return []
    from brandlens.data.csvread import reject_lines

    rows = con.execute(f"SELECT * FROM ({reject_lines(ts.csv.rejects)}) ORDER BY line").fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def validate_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    vocabulary: list[str],
    timezone: str,
    store: str,  # ADAPTED: today's signature; the old path wrote to main
    in_place: bool = False,  # ADAPTED: today's signature; the old path always copied
) -> ValidationReport:
    """Validate every table; create the canonical tables and ``_quarantine``."""
    import duckdb

    tables: list[TableReport] = []
    reasons: list[ReasonCount] = []
    quarantine_parts: list[str] = []
    as_utc = False  # ADAPTED
    for table in TABLES:
        ts = source.tables.get(table)
        if ts is None:
            con.execute(_empty_table_sql(table, store))
            continue
        _check_table(con, ts, vocabulary, timezone)
        chk = quote_ident("_chk_" + table)
        if table == "events":  # ADAPTED: today's report says when naive times were read as UTC
            as_utc = _naive_ts(con, chk)
        try:
            accepted = _accepted_select(table, "tz")
            con.execute(
                f"CREATE OR REPLACE TABLE {store}.{quote_ident(table)} AS {accepted}",
                {"tz": timezone} if "$tz" in accepted else {},
            )
        except duckdb.Error as e:
            raise DataError(f"{ts.label}: cannot read ({first_line(e)})") from None
        counts = dict(
            con.execute(f"SELECT coalesce(reason, ''), count(*) FROM {chk} GROUP BY ALL").fetchall()
        )
        malformed = _malformed_lines(con, ts)
        if malformed:
            counts["malformed_row"] = len(malformed)
        read = sum(counts.values())
        bad = read - counts.get("", 0)
        identical = 0  # ADAPTED: today's report counts rows a generated id numbers 2, 3, ...
        if table == "events":
            identical = con.execute(
                f"SELECT count(*) FROM {store}.events "
                "WHERE regexp_full_match(event_id, 'h[0-9a-f]{16}-[0-9]+') "
                "AND CAST(split_part(event_id, '-', 2) AS BIGINT) > 1"
            ).fetchone()[0]
        tables.append(
            TableReport(
                table=table,
                source=ts.label,
                rows_read=read,
                rows_accepted=read - bad,
                rows_quarantined=bad,
                identical_rows=identical,
            )
        )
        raw_names = [c.name for c in columns_of(TABLES[table])]
        order = list(REASONS)
        for reason in sorted((r for r in counts if r), key=order.index):
            if reason == "malformed_row":
                examples = [
                    {"row": line, "line": text, "error": err}
                    for line, text, err in malformed[:EXAMPLES_PER_REASON]
                ]
                reasons.append(
                    ReasonCount(table=table, reason=reason, count=counts[reason], examples=examples)
                )
                continue
            rows = con.execute(
                f"SELECT _row, {', '.join(f'CAST(s_{n} AS VARCHAR)' for n in raw_names)} "
                f"FROM {chk} "
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
            cols = ", ".join(f"CAST(s_{n} AS VARCHAR) AS {quote_ident(n)}" for n in raw_names)
            q_table = quote_ident("_q_" + table)
            con.execute(
                f'CREATE OR REPLACE TEMP TABLE {q_table} AS SELECT $table AS "table", '
                f'_row AS "row", reason, {cols} FROM {chk} WHERE reason IS NOT NULL',
                {"table": table},
            )
            quarantine_parts.append(q_table)
        if malformed:
            m_table = quote_ident("_m_" + table)
            con.execute(
                f'CREATE OR REPLACE TEMP TABLE {m_table} AS SELECT $table AS "table", '
                "line AS \"row\", 'malformed_row' AS reason, text AS line FROM "
                "(SELECT unnest($lines) AS line, unnest($texts) AS text)",
                {
                    "table": table,
                    "lines": [m[0] for m in malformed],
                    "texts": [m[1] for m in malformed],
                },
            )
            quarantine_parts.append(m_table)
        con.execute(f"DROP TABLE {chk}")
    # The quarantine lives outside the search path, where no plugin query can name it.
    quarantine = f"{store}.{quote_ident(QUARANTINE_TABLE)}"  # ADAPTED: in the store
    if quarantine_parts:
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {q}" for q in quarantine_parts)
        con.execute(f'CREATE OR REPLACE TABLE {quarantine} AS {union} ORDER BY "table", "row"')
        for q in quarantine_parts:
            con.execute(f"DROP TABLE {q}")
    else:
        con.execute(
            f'CREATE OR REPLACE TABLE {quarantine} ("table" VARCHAR, "row" BIGINT, reason VARCHAR)'
        )
    for table in source.tables:  # raw copies of in-memory input are no longer needed
        con.execute(f"DROP TABLE IF EXISTS {quote_ident('_mem_' + table)}")
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    return ValidationReport(
        source=source.label,
        timezone=timezone,
        tables=tables,
        reasons=reasons,
        naive_ts_as_utc=as_utc,  # ADAPTED
    )


def _naive_ts(con: duckdb.DuckDBPyConnection, chk: str) -> bool:
    """ADAPTED: whether the source's times carry no offset, found apart from today's check:
    the column's type, or Python's ISO reading of the first 1,000 texts."""
    from datetime import datetime

    rows = con.execute(
        f"SELECT typeof(s_ts), CAST(s_ts AS VARCHAR) FROM {chk} WHERE s_ts IS NOT NULL LIMIT 1000"
    ).fetchall()
    for kind, text in rows:
        if kind in ("TIMESTAMP", "DATE"):
            return True
        if kind != "VARCHAR":
            return False
        try:
            if datetime.fromisoformat(text.strip()).tzinfo is None:
                return True
        except ValueError:
            continue
    return False


# ---- ladder compile (StageLadder.compile in framework/brandlens/engine/ladders.py at 1b56b66) ----


def compile_ladder(
    self: StageLadder, params: dict[str, Any], codes: dict[str, int] | None = None
) -> tuple[str, dict[str, Any]]:
    # ``codes`` (the vocabulary's type codes, added later) is accepted and ignored: the old
    # compiler tests every rule's types with a bound list.
    """Return (SQL, bound parameters) computing the ladder relation."""
    binds: dict[str, Any] = {"as_of": None}  # filled by the engine
    rules: list[tuple[int, str, str, str]] = []  # (stage index, flag, window bind, min bind)
    flag_exprs: list[str] = []
    all_types: set[str] = set()
    windows: list[int] = []
    for s_i, stage in enumerate(self.stages):
        for e_i, ev in enumerate(stage.evidence):
            if any(resolve(f"${k}", params) != v for k, v in ev.when.items()):
                continue
            tag = f"l_{self.name}_{s_i}_{e_i}"
            binds[f"{tag}_types"] = list(ev.event_types)
            all_types.update(ev.event_types)
            parts = [f"list_contains(${tag}_types, event_type)"]
            for c_i, cond in enumerate(ev.where):
                col = quote_ident(cond.column)
                bind = f"{tag}_c{c_i}"
                value = resolve(cond.value, params)
                if cond.op in ("in", "not in"):
                    binds[bind] = list(value)
                    neg = "NOT " if cond.op == "not in" else ""
                    parts.append(f"{neg}list_contains(${bind}, {col})")
                else:
                    binds[bind] = value
                    parts.append(f"{col} {cond.op} ${bind}")
            window = int(resolve(ev.window_days, params))
            windows.append(window)
            binds[f"{tag}_w"] = window
            binds[f"{tag}_m"] = int(resolve(ev.min_days, params))
            flag = f"f_{s_i}_{e_i}"
            flag_exprs.append(f"bool_or({' AND '.join(parts)}) AS {flag}")
            rules.append((s_i, flag, f"{tag}_w", f"{tag}_m"))
    snapshots = sorted({int(resolve(s, params)) for s in self.snapshots})
    binds["l_snapshots"] = snapshots
    binds["l_types"] = sorted(all_types)
    binds["l_maxw"] = max(windows) if windows else 1
    binds["l_span"] = binds["l_maxw"] + max(snapshots)
    if not rules:  # every rule switched off by `when`: an empty relation
        sql = (
            "SELECT CAST(NULL AS INTEGER) AS days_before, CAST(NULL AS DATE) AS snapshot_date,"
            " CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS brand,"
            " CAST(NULL AS VARCHAR) AS stage, CAST(NULL AS INTEGER) AS stage_rank WHERE false"
        )
        return sql, {}
    counts = [
        f"count(*) FILTER (WHERE d.{flag} AND d.local_date > s.snapshot_date - ${w}) AS n{i}"
        for i, (_, flag, w, _) in enumerate(rules)
    ]
    stage_case, rank_case = [], []
    for s_i in reversed(range(len(self.stages))):
        ors = [f"n{i} >= ${m}" for i, (si, _, _, m) in enumerate(rules) if si == s_i]
        if not ors:
            continue
        cond = " OR ".join(ors)
        key = self.stages[s_i].key
        binds[f"l_key_{s_i}"] = key
        stage_case.append(f"WHEN {cond} THEN $l_key_{s_i}")
        rank_case.append(f"WHEN {cond} THEN {s_i + 1}")
    sql = f"""
WITH snap AS (
  SELECT days_before, CAST($as_of AS DATE) - days_before AS snapshot_date
  FROM (SELECT unnest($l_snapshots) AS days_before)
),
days AS (
  SELECT user_id, brand, local_date, {", ".join(flag_exprs)}
  FROM events
  WHERE brand IS NOT NULL
    AND local_date <= CAST($as_of AS DATE)
    AND local_date > CAST($as_of AS DATE) - $l_span
    AND list_contains($l_types, event_type)
  GROUP BY user_id, brand, local_date
),
counted AS (
  SELECT s.days_before, s.snapshot_date, d.user_id, d.brand, {", ".join(counts)}
  FROM days d JOIN snap s
    ON d.local_date <= s.snapshot_date AND d.local_date > s.snapshot_date - $l_maxw
  GROUP BY s.days_before, s.snapshot_date, d.user_id, d.brand
),
staged AS (
  SELECT days_before, snapshot_date, user_id, brand,
    CASE {" ".join(stage_case)} END AS stage,
    CAST(CASE {" ".join(rank_case)} END AS INTEGER) AS stage_rank
  FROM counted
)
SELECT * FROM staged WHERE stage IS NOT NULL
"""
    return sql, binds
