"""Edges of the SQL dialect layer a mutation run found unpinned: the statement kinds the
read-only check refuses, identifier quoting, typed literals, the rewrites of constructs
the built-ins do not use, and what ``brandlens sql`` does with --brand, --param and a
missing --as-of (the snapshots pin only one as-of, no brand list and default parameters).
Every expected SQL text below is written by hand from the rule it checks.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

import brandlens
from brandlens.engine import dialects as d
from brandlens.engine.runs import Dataset, EngineConfig
from brandlens.engine.sqlexport import indicator_sql
from brandlens.plugin import quote_ident
from brandlens.plugin.host import host
from conftest import ev


def written(sql: str, dialect: str = "spark", schema: dict | None = None, **binds) -> str:
    tree = d.parse(sql)
    if binds:
        tree = d.inline_parameters(tree, binds)
    if schema is not None:
        tree = d.annotate(tree, schema)
    return d.to_dialect(tree, dialect)


def _errors_of(register_plugin, sql: str, name: str = "ro") -> list[str]:
    """Register a methodology whose one indicator is ``sql``; the plugin's errors."""
    from brandlens.plugin.methodology import Indicator, Methodology

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            ind = Indicator(id=f"{name}.x", title="x", unit="count", sql=sql)
            register(Methodology(name=name, title="RO", source="s", version="1", indicators=(ind,)))

    register_plugin(P(), f"{name}-plugin")
    reg = host.registry()
    assert name not in reg.methodologies
    return next(p for p in reg.plugins if p.name == f"{name}-plugin").errors


# --- the read-only check of plugin SQL -------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO events SELECT * FROM events", "INSERT"),  # reads and writes a view
        ("COPY (SELECT brand FROM brands) TO 'out.csv'", "COPY"),  # writes a file
        ("ATTACH 'other.duckdb' AS other", "ATTACH"),
        ("PRAGMA enable_external_access", "PRAGMA"),
        ("SET enable_external_access = true", "SET"),
        ("UPDATE events SET brand = 'x'", "UPDATE"),
    ],
)
def test_only_queries_pass_the_read_only_check(register_plugin, sql, kind):
    errors = _errors_of(register_plugin, sql)
    assert len(errors) == 1
    assert f"only SELECT/WITH queries are allowed, got {kind}" in errors[0]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT brand, getenv('HOME') AS value FROM brands", "function getenv() is not"),
        ("SELECT brand, 1 AS value FROM read_csv('/etc/passwd')", "table function"),
        ("SELECT brand, 1 AS value FROM read_csv_auto('/etc/passwd')", "table function"),
    ],
)
def test_environment_and_file_functions_are_refused(register_plugin, sql, message):
    errors = _errors_of(register_plugin, sql)
    assert len(errors) == 1 and message in errors[0], errors


# --- quoting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("events", '"events"'),  # a plain name is quoted too: never left to chance
        ("select", '"select"'),  # a keyword as a column name
        ("row", '"row"'),
        ("my col", '"my col"'),
        ('a"b', '"a""b"'),  # the quote doubled, as DuckDB reads it
    ],
)
def test_identifiers_are_always_quoted(name, quoted):
    assert quote_ident(name) == quoted


# --- typed literals --------------------------------------------------------------------


def test_literals_keep_their_type_and_every_digit():
    out = written(
        "SELECT $b AS b, $t AS t, $f AS f, $l AS l",
        b=True,
        t=datetime(2025, 6, 30, 12, 5, 7),
        f=0.1234567891,
        l=[1, 2],
    )
    # a boolean stays a boolean, a time keeps its time of day (space-separated), a float
    # all its digits (repr), a list of integers stays integers
    assert out == (
        "SELECT TRUE AS b, CAST('2025-06-30 12:05:07' AS TIMESTAMP) AS t, "
        "0.1234567891 AS f, ARRAY(1, 2) AS l"
    )


# --- rewrites of constructs the built-ins do not use -------------------------------------


def test_order_by_all_descending_stays_descending():
    out = written("SELECT brand, n FROM t ORDER BY ALL DESC", "postgres")
    assert out == "SELECT brand, n FROM t ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST"


def test_order_by_all_is_spelled_out_for_bigquery():
    # BigQuery has GROUP BY ALL but no ORDER BY ALL
    out = written("SELECT brand, count(*) AS n FROM t GROUP BY ALL ORDER BY ALL", "bigquery")
    assert out.endswith("GROUP BY ALL ORDER BY 1 ASC NULLS LAST, 2 ASC NULLS LAST")


def test_a_windowed_mean_stays_a_mean():
    # avg(x) OVER (...) is a window, not the exact mean of a group: left as it is
    out = written("SELECT avg(x) OVER (PARTITION BY b) AS m FROM t")
    assert out == "SELECT AVG(x) OVER (PARTITION BY b) AS m FROM t"


def test_ordered_count_and_upper_case_list_sum_lose_the_order():
    assert written("SELECT count(x ORDER BY y) AS n FROM t") == "SELECT COUNT(x) AS n FROM t"
    assert written("SELECT LIST_SUM(LIST(x ORDER BY y)) AS s FROM t") == "SELECT SUM(x) AS s FROM t"


def test_date_rules_by_name_and_type():
    # first_date ends in _date: a date by name, so date - 7 days on Trino
    assert written("SELECT first_date - 7 AS x FROM t", "trino") == (
        "SELECT DATE_ADD('DAY', 7 * -1, first_date) AS x FROM t"
    )
    # a date minus a day count (itself a date difference) is a date, not a difference
    out = written("SELECT local_date - (local_date - first_date) AS x FROM t")
    assert out == "SELECT local_date - (DATEDIFF(DAY, first_date, local_date)) AS x FROM t"
    # a timestamp difference is an interval in DuckDB, not a day count
    ts = written(
        "SELECT max(ts) - min(ts) AS r FROM events", schema={"events": {"ts": "TIMESTAMP"}}
    )
    assert ts == "SELECT MAX(events.ts) - MIN(events.ts) AS r FROM events AS events"


def test_a_series_with_ordinality_is_left_to_unnest_on_postgres():
    out = written("SELECT x, i FROM unnest(range(3)) WITH ORDINALITY AS t(x, i)", "postgres")
    assert out == "SELECT x, i FROM UNNEST(GENERATE_SERIES(0, 3 - 1)) WITH ORDINALITY AS t(x, i)"


# --- brandlens sql: brands, parameters, the default as-of --------------------------------


AS_OF = "2025-06-30"


def test_repeated_and_unordered_brands_are_one_sorted_list():
    once = indicator_sql("fast.thriving", "duckdb", as_of=AS_OF, brands=["Acme", "Lumi"])
    again = indicator_sql("fast.thriving", "duckdb", as_of=AS_OF, brands=["Lumi", "Acme", "Lumi"])
    assert again == once
    assert once.count("'Lumi'") == 1 and once.index("'Acme'") < once.index("'Lumi'")


class _Window(BaseModel):
    days: int = Field(30, ge=1)


def _window_method(register_plugin) -> None:
    """``edge.recent``: a brand's events in the ``days`` local days up to as-of; and
    ``edge.age``: the days from 2025-06-01 to as-of."""
    from brandlens.plugin.methodology import Indicator, Methodology

    recent = (
        "SELECT b.brand, CAST(count(e.brand) AS DOUBLE) AS value FROM brands b "
        "LEFT JOIN events e ON e.brand = b.brand "
        "AND e.local_date > $as_of - $days AND e.local_date <= $as_of GROUP BY b.brand"
    )
    age = "SELECT brand, CAST($as_of - DATE '2025-06-01' AS DOUBLE) AS value FROM brands"

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(
                Methodology(
                    name="edge",
                    title="Edge",
                    source="s",
                    version="1",
                    parameters=_Window,
                    indicators=(
                        Indicator(id="edge.recent", title="r", unit="count", sql=recent),
                        Indicator(id="edge.age", title="a", unit="days", sql=age),
                    ),
                )
            )

    register_plugin(P(), "edge-plugin")
    assert "edge" in host.registry().methodologies, host.registry().plugins


def _rows(ds: Dataset, sql: str) -> dict[str, float]:
    return {b: v for b, v in ds.con.execute(f"SELECT brand, value FROM ({sql})").fetchall()}


def test_parameters_reach_the_exported_query(register_plugin, events_dir):
    _window_method(register_plugin)
    # local dates (Asia/Shanghai, UTC+8): B on 06-29, 06-20 and 05-20; as-of 06-30
    data = events_dir(
        [
            ev("2025-06-29 04:00:00", "u1", "product_view"),
            ev("2025-06-20 04:00:00", "u2", "product_view"),
            ev("2025-05-20 04:00:00", "u3", "product_view"),
        ]
    )
    with Dataset(data, cache=False) as ds:
        # 5 days: (06-25, 06-30] holds 06-29; 30 days (the default): also 06-20; 60: all
        for days, want in ((5, 1.0), (30, 2.0), (60, 3.0)):
            text = indicator_sql(
                "edge.recent", "duckdb", as_of=AS_OF, params={"edge.days": str(days)}
            )
            assert f"days={days}" in text.splitlines()[1]
            assert _rows(ds, text) == {"B": want}


def test_an_empty_brand_list_reports_no_brand(register_plugin, events_dir):
    _window_method(register_plugin)
    data = events_dir([ev("2025-06-29 04:00:00", "u1", "product_view")])
    text = indicator_sql("edge.recent", "duckdb", as_of=AS_OF, brands=[])
    with Dataset(data, cache=False) as ds:
        # brands LEFT JOIN events: one row per listed brand, and none is listed (VALUES
        # cannot be empty: one typed NULL row, filtered out by WHERE FALSE)
        assert _rows(ds, text) == {}
        assert _rows(ds, indicator_sql("edge.recent", "duckdb", as_of=AS_OF)) == {"B": 1.0}


def test_without_as_of_the_query_uses_the_last_local_date(register_plugin, events_dir):
    _window_method(register_plugin)
    # 2025-06-05 23:30 UTC is 2025-06-06 07:30 in Asia/Shanghai: the last local date is
    # 06-06, five days after 06-01 (the UTC date, 06-05, would give four)
    data = events_dir(
        [ev("2025-06-01 04:00:00", "u1", "ad_click"), ev("2025-06-05 23:30:00", "u1", "ad_click")]
    )
    text = indicator_sql("edge.age", "duckdb")
    assert "as of the last local event date" in text.splitlines()[1]
    with Dataset(data, cache=False) as ds:
        assert _rows(ds, text) == {"B": 5.0}
        computed = ds.compute(methodologies=["edge"])
    assert [r.value for r in computed.results if r.indicator == "edge.age"] == [5.0]


# --- validation on Spark: what it reports and what it leaves to DuckDB -------------------

needs_spark = pytest.mark.skipif(
    shutil.which("java") is None or importlib.util.find_spec("pyspark") is None,
    reason="the Spark engine needs Java 17+ and pyspark",
)


def _parquet(folder: Path, name: str, select: str) -> Path:
    import duckdb

    folder.mkdir(exist_ok=True)
    duckdb.execute(f"COPY ({select}) TO '{folder / name}' (FORMAT parquet)")
    return folder


@needs_spark
def test_spark_reports_three_examples_when_every_row_fails_alike(tmp_path):
    """Four events, all of an unknown type: no row accepted, one reason; the report
    shows the first three rows (EXAMPLES_PER_REASON) on both engines."""

    folder = _parquet(
        tmp_path / "all_bad",
        "events.parquet",
        "SELECT i AS event_id, TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u' || i AS user_id, "
        "'teleport' AS event_type, 'Lumi' AS brand FROM range(1, 5) t(i)",
    )
    reports = {}
    for engine in ("duckdb", "spark"):
        with Dataset(folder, config=EngineConfig(engine=engine), cache=False) as ds:
            assert ds.validated_by == engine
            reports[engine] = ds.report
    (reason,) = reports["spark"].reasons
    assert (reason.reason, reason.count) == ("unknown_event_type", 4)
    assert [e["row"] for e in reason.examples] == [1, 2, 3]  # 1-based file rows
    assert reports["spark"].model_dump() == reports["duckdb"].model_dump()


@needs_spark
def test_text_dates_and_zoned_times_are_validated_by_duckdb(tmp_path):
    """A DATE column given as text (Spark's cast reads other spellings) and times read in
    a --ts-timezone (DuckDB's ICU, as documented) are checked on DuckDB."""

    events = (
        "SELECT 1 AS event_id, TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, "
        "'ad_click' AS event_type, 'Lumi' AS brand"
    )
    folder = _parquet(tmp_path / "text_dates", "events.parquet", events)
    _parquet(
        folder,
        "targets.parquet",
        "SELECT 'Lumi' AS brand, 'fast.fertility' AS indicator, '2025/04/01' AS period_start, "
        "'2025/06/30' AS period_end, 10.0 AS target_value",
    )
    with Dataset(folder, config=EngineConfig(engine="spark"), cache=False) as ds:
        assert ds.validated_by == "duckdb" and ds.engine.name == "spark"
    zoned = _parquet(tmp_path / "zoned", "events.parquet", events)
    with Dataset(
        zoned, config=EngineConfig(engine="spark"), cache=False, ts_timezone="Asia/Tokyo"
    ) as ds:
        assert ds.validated_by == "duckdb" and ds.engine.name == "spark"


def test_division_by_zero_is_null_on_duckdb(register_plugin, events_dir):
    """DuckDB 2.0 divides in IEEE arithmetic (1 / 0 is inf, which a result refuses); a run
    turns that off, so x / 0 is NULL as on DuckDB 1.x and Spark (docs/engines.md)."""
    _zero_method(register_plugin)
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "ad_click")])
    with Dataset(data, cache=False) as ds:
        result = ds.compute(as_of="2025-06-30", methodologies=["zero"])
        # integer division and the remainder by zero too
        assert ds.read("SELECT 1 / 0, 1.0 / 0, 7 // 0, 7 % 0") == [(None, None, None, None)]
    assert result.errors == []
    # one event of brand B: numerator 1, denominator 0, no value
    assert [(r.brand, r.value, r.numerator, r.denominator) for r in result.results] == [
        ("B", None, 1.0, 0.0)
    ]


def test_a_duckdb_without_the_second_setting_keeps_ieee_division():
    """Turning IEEE arithmetic off without error_on_division_by_zero makes every x / 0 an
    error; where that setting is unknown, the first is put back."""
    import duckdb

    from brandlens.engine.runs import null_arithmetic

    class WithoutSecondSetting:
        def __init__(self) -> None:
            self.con = duckdb.connect()

        def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
            if "error_on_division_by_zero" in sql:
                raise duckdb.CatalogException("unrecognized configuration parameter")
            return self.con.execute(sql, *args)

    old = WithoutSecondSetting()
    known = old.con.sql("SELECT name FROM duckdb_settings()").fetchall()
    if ("ieee_floating_point_ops",) not in known:
        pytest.skip("a DuckDB before IEEE division (1.x) divides by zero to NULL already")
    null_arithmetic(old)  # type: ignore[arg-type]
    assert old.con.sql("SELECT 1.0 / 0, 1 / 0").fetchall() == [(float("inf"), float("inf"))]
    now = duckdb.connect()
    null_arithmetic(now)
    assert now.sql("SELECT 1.0 / 0").fetchall() == [(None,)]


@needs_spark
def test_division_by_zero_is_null_on_spark(register_plugin, events_dir):
    """Spark runs with ANSI mode off (docs/engines.md): x / 0 is NULL there, not a failed
    indicator."""

    _zero_method(register_plugin)
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "ad_click")])
    with Dataset(data, config=EngineConfig(engine="spark"), cache=False) as ds:
        result = ds.compute(as_of="2025-06-30", methodologies=["zero"])
    assert result.errors == []
    # one event of brand B: numerator 1, denominator 0, no value
    assert [(r.brand, r.value, r.numerator, r.denominator) for r in result.results] == [
        ("B", None, 1.0, 0.0)
    ]


def _zero_method(register_plugin) -> None:
    """``zero.ratio``: each brand's event count over zero."""
    from brandlens.plugin.methodology import Indicator, Methodology

    ratio = (
        "SELECT brand, count(*) / (count(*) - count(*)) AS value, "
        "count(*) AS numerator, count(*) - count(*) AS denominator FROM events GROUP BY brand"
    )

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            ind = Indicator(id="zero.ratio", title="r", unit="ratio", sql=ratio)
            register(
                Methodology(name="zero", title="Z", source="s", version="1", indicators=(ind,))
            )

    register_plugin(P(), "zero-plugin")


@needs_spark
def test_division_by_zero_gives_the_same_result_on_both_engines(register_plugin, events_dir):
    """The same plugin SQL gives the same rows and errors on DuckDB and on Spark."""
    _zero_method(register_plugin)
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "ad_click")])
    out = {}
    for engine in ("duckdb", "spark"):
        with Dataset(data, config=EngineConfig(engine=engine), cache=False) as ds:
            result = ds.compute(as_of="2025-06-30", methodologies=["zero"])
        out[engine] = (
            [(r.brand, r.value) for r in result.results],
            [e.message for e in result.errors],
        )
    assert out["spark"] == out["duckdb"]


def test_the_exported_query_divides_by_zero_to_null_on_a_stock_duckdb(register_plugin, events_dir):
    """``brandlens sql`` writes a query for a warehouse that has none of a run's settings:
    on a stock DuckDB 2.0 ``x / 0`` is ``inf`` and ``x // 0`` an error, elsewhere an error.
    The export divides by ``NULLIF(divisor, 0)``, so it gives what ``compute`` gives."""
    import contextlib

    import duckdb

    _zero_method(register_plugin)
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "ad_click")])
    text = indicator_sql("zero.ratio", "duckdb", as_of=AS_OF)
    assert "/ NULLIF(COUNT(*) - COUNT(*), 0)" in text
    with Dataset(data, cache=False) as ds:
        computed = ds.compute(as_of=AS_OF, methodologies=["zero"])
        for name in ("ieee_floating_point_ops", "error_on_division_by_zero"):  # stock again
            with contextlib.suppress(duckdb.CatalogException):
                ds.con.execute(f"SET GLOBAL {name} = true")
        assert _rows(ds, text) == {"B": None}
    assert [(r.brand, r.value) for r in computed.results] == [("B", None)]


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        # a divisor that may be zero is guarded, for /, // and %
        (
            "SELECT a / b, a // b, a % b",
            "SELECT a / NULLIF(b, 0), a // NULLIF(b, 0), a % NULLIF(b, 0)",
        ),
        # an expression loses its parentheses inside NULLIF; zero itself is guarded too
        ("SELECT a / (b - c), a / 0", "SELECT a / NULLIF(b - c, 0), a / NULLIF(0, 0)"),
        # a non-zero number, negative or in parentheses, and a NULLIF(…, 0) stay as written
        (
            "SELECT a / 2, a / -1, a / (2.5), a / NULLIF(b, 0)",
            "SELECT a / 2, a / -1, a / (2.5), a / NULLIF(b, 0)",
        ),
        # DuckDB's dividing functions too (mod() is % to SQLGlot)
        (
            "SELECT fdiv(a, b), fmod(a, 2), divide(a, b - 1), mod(a, b)",
            "SELECT FDIV(a, NULLIF(b, 0)), FMOD(a, 2), DIVIDE(a, NULLIF(b - 1, 0)), "
            "a % NULLIF(b, 0)",
        ),
        # NULLIF by something other than zero still may divide by zero
        ("SELECT a / NULLIF(b, 1)", "SELECT a / NULLIF(NULLIF(b, 1), 0)"),
    ],
)
def test_null_division_guards_only_divisors_that_may_be_zero(sql, want):
    assert d.to_dialect(d.null_division(d.parse(sql)), "duckdb") == want
