"""Validation on Spark: Parquet sources are read, typed and checked where the data is.

On a cluster the events never pass through the machine running brandlens. Spark
reads each Parquet file itself and gives every row its reason by the checks of
:func:`brandlens.data.validation.checked_rows_sql`, the same query DuckDB runs,
written in Spark's dialect. A row's position is its index in the file (Parquet's
``_metadata.row_index``), so "the first row wins" for a repeated key and the row
numbers of the quarantine are those DuckDB reports. Accepted rows stay in Spark as
the run's canonical tables; only the report, its examples and the quarantined rows
come back, into the DuckDB side of the dataset (so ``--quarantine-out`` works alike).

What differs from DuckDB (docs/engines.md): a generated event_id is made from Spark's
64-bit xxHash of the row instead of DuckDB's hash (both stable, neither an input to
any indicator); local dates come from Java's time-zone database instead of ICU; text
columns parse as timestamps and dates by Spark's rules; the report's examples spell
numbers as Spark writes them. What Spark cannot check alike (a binary column, a
function it lacks, a zone Java lacks) is found by :func:`plan` and left to DuckDB.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from brandlens.data.schema import TABLES, columns_of, table_key
from brandlens.data.sources import Source, TableSource
from brandlens.data.validation import (
    EXAMPLES_PER_REASON,
    INTEGRAL,
    OCCURRENCE,
    add_column_facts,
    binds_for,
    checked_rows_sql,
    failing_column_sql,
    key_column,
    report_table,
    source_types,
    wall_clock_ts,
    write_quarantine,
)
from brandlens.engine import dialects
from brandlens.engine.result import ReasonCount, TableReport, ValidationReport
from brandlens.errors import DataError
from brandlens.plugin.sqlcheck import quote_ident, used_binds

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

ROW = "_brandlens_row"
"""The row's 0-based index in its Parquet file."""


NOT_ON_SPARK = ("BLOB",)
"""Source types Spark reads differently (binary: DuckDB escapes it, Spark decodes UTF-8)."""


def unsupported(source: Source) -> str | None:
    """Why Spark cannot read ``source`` itself, or None when every source is Parquet.

    CSV and JSON keep DuckDB's reader (its malformed-line accounting has no Spark
    equivalent), and so do dataset files and in-memory logs, and a Parquet file whose
    path Spark cannot read literally (see :func:`brandlens.engine.spark.spark_path`).
    Whether Spark can check a Parquet source alike is :func:`plan`'s question.
    """
    from brandlens.engine.spark import spark_path

    for ts in source.tables.values():
        if ts.parts:  # its rows' positions would need the parts' order on Spark
            return f"{ts.label}: Spark reads single Parquet files; parts are validated on DuckDB"
        if ts.file is None or ts.csv is not None or not ts.from_sql.startswith("read_parquet("):
            return f"{ts.label}: Spark reads Parquet files; this source is validated on DuckDB"
        if spark_path(ts.file) is None:
            return f"{ts.label}: Spark cannot read this path literally; validated on DuckDB"
    return None


def _known(column: str) -> str:
    return f"list_contains($vocabulary, {column})"


def _spark_sql(ts: TableSource, types: dict[str, str], view: str) -> tuple[str, str]:
    """The checked rows of ``ts`` over the temporary view ``view``: (Spark, DuckDB) SQL."""
    rows = f"SELECT {ts.select_list}, {ROW} FROM {view}"
    column = failing_column_sql(ts, types, known=_known)
    checked = checked_rows_sql(ts, types, rows, keep=(ROW,), known=_known)
    sql = f"SELECT *, CASE WHEN _reason IS NOT NULL THEN {column} END AS _column FROM ({checked})"
    tree = _spark_rewrites(dialects.parse(sql))
    tree = dialects.inline_parameters(tree, _timestamp_bounds(ts))
    return dialects.to_dialect(tree, "spark"), sql


def _timestamp_bounds(ts: TableSource) -> dict[str, Any]:
    """The timestamp range as literals: naive bounds stay naive, zoned ones UTC instants."""
    specs = columns_of(TABLES[ts.table])
    return {k: v for k, v in binds_for(specs).items() if isinstance(v, datetime)}


def _spark_rewrites(tree: Any) -> Any:
    """DuckDB functions of the checks that Spark spells differently (innermost first, so
    a rewritten call inside another is rewritten too)."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.RegexpFullMatch):
            # RE2's \s is [\t\n\f\r ]; Java's adds \x0B: spell the class out. \z, not $:
            # Java's $ also matches before a final line break.
            pattern = node.expression.name.replace("\\s", "[ \\t\\n\\f\\r]")
            return exp.RegexpLike(
                this=node.this, expression=exp.Literal.string(f"^(?:{pattern})\\z")
            )
        if isinstance(node, exp.UnixToTime) and _is_call(node.this, "EPOCH_US"):
            # a zoned instant as naive UTC: Spark's session time zone is UTC
            return exp.cast(node.this.expressions[0], "TIMESTAMP")
        if _is_call(node, "LIST_EXTRACT"):
            items, position = node.expressions
            if _is_call(position, "LIST_POSITION"):
                where = exp.Anonymous(this="array_position", expressions=position.expressions)
                return exp.Anonymous(
                    this="try_element_at", expressions=[items, exp.cast(where, "INT")]
                )
        return node

    for node in reversed(list(tree.find_all(exp.Expression, bfs=False))):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _is_call(node: Any, name: str) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and str(node.this).upper() == name


def _spark_type(sql_type: str) -> str:
    from sqlglot import exp

    return exp.DataType.build(sql_type, dialect="duckdb").sql("spark")


def canonical_schema(table: str) -> str:
    """A canonical table's Spark schema (DDL), as the Spark engine keeps it."""
    cols = [f"`{c.name}` {_spark_type(c.sql_type)}" for c in columns_of(TABLES[table])]
    if table == "events":
        cols.append("`local_date` DATE")
    return ", ".join(cols)


@dataclass
class Plan:
    """Each present table's checked rows as a lazy Spark DataFrame, already analysed."""

    frames: dict[str, Any]
    views: list[str]


def plan(
    spark: Any,
    con: duckdb.DuckDBPyConnection,
    source: Source,
    vocabulary: list[str],
    timezone: str,
) -> Plan | str:
    """The checks of every table, analysed by Spark; or why Spark cannot run them (then
    DuckDB validates): a file it cannot see (a cluster may not see this machine's), a
    binary column, dates or times as text, times in a mapping's ts_timezone, a function
    Spark lacks (a derive under DuckDB's TRY, a JSON column), a zone Java lacks."""
    import duckdb

    from brandlens.engine.spark import one_line

    try:
        spark.sql(
            "SELECT convert_timezone('UTC', :tz, TIMESTAMP_NTZ '2020-01-01 00:00:00')",
            args={"tz": timezone},
        ).collect()
    except Exception:
        return f"Spark does not know the time zone {timezone!r}"
    tag = uuid.uuid4().hex[:12]
    out = Plan({}, [])
    for table in TABLES:
        ts = source.tables.get(table)
        if ts is None:
            continue
        try:
            types = source_types(con, ts)
        except duckdb.Error as e:
            raise DataError(f"{ts.label}: cannot read ({one_line(e)})") from None
        binary = [c for c, t in types.items() if t in NOT_ON_SPARK]
        if binary:
            drop_views(spark, out.views)
            return f"{ts.label}: column {binary[0]} is binary"
        text_times = _text_times(ts, types)
        if text_times:
            drop_views(spark, out.views)
            return f"{ts.label}: column {text_times[0]} holds dates or times as text"
        if ts.ts_timezone is not None:  # wall-clock times are read by DuckDB's ICU, as documented
            drop_views(spark, out.views)
            return f"{ts.label}: ts is read in the time zone {ts.ts_timezone}"
        view = f"_bl_src_{tag}_{table}"
        out.views.append(view)
        try:
            frame = _checked(spark, ts, types, vocabulary, timezone, view)
            frame.schema  # noqa: B018 - analysis (lazy under Spark Connect)
        except Exception as e:
            drop_views(spark, out.views)
            return f"{ts.label}: {one_line(e)}"
        out.frames[table] = frame
    return out


def _text_times(ts: TableSource, types: dict[str, str]) -> list[str]:
    """Date and time columns given as text: Spark's casts read other spellings than
    DuckDB's (``2025/06/01 10:00:00`` is a time to DuckDB, NULL to Spark), so their rows
    are checked on DuckDB, whose reading the documentation describes."""
    return [
        c.name
        for c in columns_of(TABLES[ts.table])
        if c.sql_type in ("TIMESTAMP", "DATE") and types.get(c.name) in ("VARCHAR", "JSON")
    ]


def drop_views(spark: Any, views: list[str]) -> None:
    for view in views:
        with contextlib.suppress(Exception):
            spark.catalog.dropTempView(view)


def validate(
    spark: Any,
    con: duckdb.DuckDBPyConnection,
    source: Source,
    planned: Plan,
    timezone: str,
    quarantine: str,
) -> tuple[ValidationReport, dict[str, Any]]:
    """Run the planned checks: the report and the accepted canonical DataFrames.

    The quarantined rows are written to the DuckDB table ``quarantine`` (a quoted name).
    A Spark failure is one line naming the source.
    """
    from brandlens.engine.spark import SparkQueryError, one_line

    tables: list[TableReport] = []
    reasons: list[ReasonCount] = []
    frames: dict[str, Any] = {}
    parts: list[str] = []
    try:
        for table in TABLES:
            ts = source.tables.get(table)
            if ts is None:
                frames[table] = spark.createDataFrame([], canonical_schema(table))
                continue
            checked = planned.frames[table].localCheckpoint()
            counts = {r[0] or "": int(r[1]) for r in checked.groupBy("_reason").count().collect()}
            examples = _examples(checked) if len(counts) > 1 or "" not in counts else {}
            table_report, table_reasons = report_table(
                table, ts.label, counts, lambda r, e=examples: e.get(r, [])
            )
            tables.append(table_report)
            reasons += table_reasons
            if table_report.rows_quarantined:
                parts.append(_pull_quarantine(con, checked, table))
            frames[table] = _accepted(checked, table).localCheckpoint()
            table_report.identical_rows = _identical_rows(checked, frames[table], table)
        write_quarantine(con, quarantine, [f"SELECT * FROM {p}" for p in parts])
        add_column_facts(con, quarantine, reasons)
    except Exception as e:
        raise SparkQueryError(f"{source.label}: Spark: {one_line(e)}") from None
    finally:
        drop_views(spark, planned.views)
        for p in parts:
            with contextlib.suppress(Exception):
                con.execute(f"DROP TABLE IF EXISTS {p}")
    events = source.tables.get("events")  # a zone sends validation to DuckDB: none here
    report = ValidationReport(
        source=source.label,
        timezone=timezone,
        tables=tables,
        reasons=reasons,
        naive_ts_as_utc=events is not None and wall_clock_ts(con, events),
    )
    return report, frames


def _checked(
    spark: Any,
    ts: TableSource,
    types: dict[str, str],
    vocabulary: list[str],
    timezone: str,
    view: str,
) -> Any:
    """Every row of the source with its typed columns, local date, reason and source text
    (lazy: nothing runs until the caller checkpoints it)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from brandlens.engine.spark import spark_path, spark_value

    table = ts.table
    specs = columns_of(TABLES[table])
    assert ts.file is not None
    raw = spark.read.parquet(spark_path(ts.file))
    raw.select("*", F.col("_metadata.row_index").alias(ROW)).createOrReplaceTempView(view)
    sql, duck_sql = _spark_sql(ts, types, view)
    binds = {**ts.binds, **binds_for(specs), "vocabulary": list(vocabulary)}
    named = used_binds(duck_sql, binds)
    args = {k: spark_value(v) for k, v in named.items() if not isinstance(v, datetime)}
    rows = spark.sql(sql, args=args or None)
    reason = F.col("_reason")
    key = table_key(TABLES[table])
    if key:  # later repeats of a key among valid rows; the first (by file position) stays
        w = Window.partitionBy(*[F.col(k) for k in key], reason.isNull()).orderBy(ROW)
        later = reason.isNull() & F.row_number().over(w).__gt__(1)
        for k in key:
            later = later & F.col(k).isNotNull()
        dup = "duplicate_event_id" if table == "events" else "duplicate_key"
        rows = rows.withColumn("_later", later)  # one window, read by reason and column
        rows = rows.withColumns(
            {
                "_reason": F.when(F.col("_later"), F.lit(dup)).otherwise(reason),
                "_column": F.when(F.col("_later"), F.lit(key_column(table))).otherwise(
                    F.col("_column")
                ),
            }
        ).drop("_later")
    if table == "events":
        rows = rows.withColumn(
            "local_date",
            F.to_date(F.convert_timezone(F.lit("UTC"), F.lit(timezone), F.col("ts"))),
        )
        if "event_id" not in ts.present or types["event_id"] not in INTEGRAL:
            raw_cols = [F.col(f"s_{c.name}") for c in specs if c.name != "event_id"]
            digest = F.when(F.col("event_id").isNull(), F.xxhash64(*raw_cols))
            valid = F.col("_reason").isNull() & digest.isNotNull()
            w = Window.partitionBy(digest, valid).orderBy(ROW)
            occurrence = F.when(valid, F.row_number().over(w)).otherwise(F.lit(1))
            generated = F.concat(
                F.lit("h"),
                F.lpad(F.lower(F.hex(digest)), 16, "0"),
                F.lit("-"),
                occurrence.cast("string"),
            )
            rows = rows.withColumns(
                {
                    "event_id": F.coalesce(F.col("event_id").cast("string"), generated),
                    OCCURRENCE: F.when(digest.isNotNull(), occurrence),
                }
            )
    source_text = F.struct(*[F.col(f"s_{c.name}").cast("string").alias(c.name) for c in specs])
    rows = rows.withColumn("_source", F.when(F.col("_reason").isNotNull(), source_text))
    keep = [c.name for c in specs] + (["local_date"] if table == "events" else [])
    keep += [OCCURRENCE] if OCCURRENCE in rows.columns else []
    return rows.select(*keep, "_reason", "_column", "_source", ROW)


def _identical_rows(checked: Any, accepted: Any, table: str) -> int:
    """Accepted rows that repeat an earlier one exactly, as DuckDB's validation counts them:
    events without an id past their first occurrence, and spend rows past the first of
    each group of equal rows (0 for the tables with keys)."""
    from pyspark.sql import functions as F

    if table == "events" and OCCURRENCE in checked.columns:
        return checked.where(F.col("_reason").isNull() & (F.col(OCCURRENCE) > 1)).count()
    if table == "spend":
        groups = accepted.groupBy(*accepted.columns).count().where(F.col("count") > 1)
        return int(groups.agg(F.sum(F.col("count") - 1)).first()[0] or 0)
    return 0


def _examples(checked: Any) -> dict[str, list[dict[str, Any]]]:
    """The first few failing rows of each reason, by file position, as DuckDB reports them."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("_reason").orderBy(ROW)
    first = (
        checked.where(F.col("_reason").isNotNull())
        .withColumn("_k", F.row_number().over(w))
        .where(F.col("_k") <= EXAMPLES_PER_REASON)
        .select("_reason", ROW, "_column", "_source")
        .orderBy("_reason", ROW)
        .collect()
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for reason, row, column, src in first:
        values = src.asDict()
        where: dict[str, Any] = {"row": int(row) + 1}
        if column is not None:
            where["column"] = column
        out.setdefault(reason, []).append(
            {**where, **{n: v for n, v in values.items() if v is not None}}
        )
    return out


def _pull_quarantine(con: duckdb.DuckDBPyConnection, checked: Any, table: str) -> str:
    """The failing rows into a DuckDB table (Arrow); returns its quoted name."""
    from pyspark.sql import functions as F

    names = [c.name for c in columns_of(TABLES[table])]
    bad = checked.where(F.col("_reason").isNotNull()).select(
        F.lit(table).alias("table"),
        (F.col(ROW) + 1).cast("bigint").alias("row"),
        F.col("_reason").alias("reason"),
        F.col("_column").alias("column"),
        *[F.col("_source")[n].alias(n) for n in names],
    )
    arrow = bad.toArrow()
    target = quote_ident(f"_spark_quarantine_{table}")
    con.register("_spark_arrow", arrow)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM _spark_arrow")
    finally:
        con.unregister("_spark_arrow")
    return target


def _accepted(checked: Any, table: str) -> Any:
    """The accepted rows in the canonical columns and types."""
    from pyspark.sql import functions as F

    cols = [
        F.col(c.name).cast(_spark_type(c.sql_type)).alias(c.name) for c in columns_of(TABLES[table])
    ]
    if table == "events":
        cols.append(F.col("local_date"))
    return checked.where(F.col("_reason").isNull()).select(*cols)
