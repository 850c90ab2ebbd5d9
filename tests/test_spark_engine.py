"""The same plugins on Spark (local[*]): identical JSON to DuckDB on a generated market
of about 200,000 events, and every storyboard's hand-computed values on Spark.

Runs when Java and pyspark are present (the test extra installs pyspark); one local
Spark is started per process.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or importlib.util.find_spec("pyspark") is None,
    reason="the Spark engine needs Java 17+ and pyspark",
)

ROOT = Path(__file__).resolve().parents[1]
STORYBOARDS = [
    "tests/test_fast_storyboard.py",
    "tests/test_argo_storyboard.py",
    "tests/test_super_storyboard.py",
    "tests/test_engine_storyboard.py",
    "tests/test_clv_by_hand.py",
]


@pytest.fixture(scope="module")
def market_200k(tmp_path_factory):
    from brandlens.data.market import generate

    out = tmp_path_factory.mktemp("market200k")
    generate(out, users=2000, seed=0)
    return out


def test_market_json_identical_on_both_engines(market_200k):
    from brandlens.engine.runs import Dataset, EngineConfig

    texts = {}
    for engine in ("duckdb", "spark"):
        with Dataset(market_200k, config=EngineConfig(engine=engine), cache=False) as ds:
            result = ds.compute(as_of="2025-06-30")
        assert ds.validated_by == engine  # Parquet: Spark reads and checks it itself
        assert ds.info.rows_read > 200_000
        assert not result.errors, result.errors[:3]
        texts[engine] = result.model_dump_json(indent=2)
    assert texts["spark"] == texts["duckdb"]


def test_storyboards_hold_on_spark():
    # the storyboards' expected values are computed by hand; on Spark they must hold too
    env = {**os.environ, "BRANDLENS_ENGINE": "spark"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *STORYBOARDS]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize(
    "args",
    [
        ["entities", "-m", "super", "-b", "Lumi"],
        ["funnel", "-b", "Lumi"],
        ["compare", "-m", "fast", "-m", "goal", "--funnel"],
    ],
    ids=["entities", "funnel", "compare"],
)
def test_other_commands_identical_on_both_engines(market_200k, args):
    out = {}
    for engine in ("duckdb", "spark"):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "brandlens.cli.app",
                args[0],
                str(market_200k),
                *args[1:],
                "--format",
                "json",
                "--engine",
                engine,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        out[engine] = run.stdout
    assert out["spark"] == out["duckdb"]


def test_cli_engine_spark_is_quiet(tmp_path, market_200k):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "brandlens.cli.app",
            "compute",
            str(market_200k),
            "-m",
            "grow",
            "--engine",
            "spark",
            "--format",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no Java start-up chatter, no progress bars
    assert '"grow.gmv_change"' in run.stdout


def test_unknown_engine_is_a_usage_error(tmp_path, market_200k):
    run = subprocess.run(
        [sys.executable, "-m", "brandlens.cli.app", "compute", str(market_200k), "--engine", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        == "brandlens: error: --engine: unknown engine 'x' (available: duckdb, spark)"
    )


def _hostile_parquet(folder: Path) -> Path:
    """Events and users in Parquet with a row for every reason a Parquet row can fail."""
    import duckdb

    folder.mkdir()
    con = duckdb.connect()
    con.execute(
        """
CREATE TABLE e AS SELECT event_id, CAST(t AS TIMESTAMP) AS ts, user_id, event_type, brand,
  category, amount, rating, quantity, query_type FROM (VALUES
  (1, '2025-06-01 04:00:00', 'u1', 'buy', 'Lumi', 'skincare', '12.50', NULL, 1, NULL),
  (2, '2025-06-01 05:00:00', 'u1', 'noise', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (3, '1800-01-01 00:00:00', 'u2', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (4, '2025-06-02 04:00:00', ' \t', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (5, '2025-06-02 04:00:00', 'u3', 'teleport', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (6, '2025-06-02 04:00:00', 'u3', 'purchase', NULL, 'skincare', '10', NULL, 1, NULL),
  (7, '2025-06-02 04:00:00', 'u3', 'purchase', 'Lumi', 'skincare', '-3', NULL, 1, NULL),
  (8, '2025-06-02 04:00:00', 'u3', 'purchase', 'Lumi', 'skincare', 'abc', NULL, 1, NULL),
  (9, '2025-06-02 04:00:00', 'u3', 'purchase', 'Lumi', 'skincare', '1.234', NULL, 1, NULL),
  (10, '2025-06-02 04:00:00', 'u3', 'purchase', 'Lumi', 'skincare', '5', NULL, 0, NULL),
  (11, '2025-06-03 04:00:00', 'u4', 'review', 'Lumi', 'skincare', NULL, 7, NULL, NULL),
  (12, '2025-06-03 04:00:00', 'u4', 'review', 'Lumi', 'skincare', NULL, NULL, NULL, NULL),
  (13, '2025-06-03 04:00:00', 'u4', 'search', NULL, NULL, NULL, NULL, NULL, 'weird'),
  (13, '2025-06-03 05:00:00', 'u5', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (NULL, '2025-06-04 04:00:00', 'u6', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (NULL, '2025-06-04 04:00:00', 'u6', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL),
  (14, '2025-06-05 23:30:00', 'u7', 'purchase', 'Lumi', 'skincare', '20', NULL, 2, NULL),
  (14, '2025-06-06 01:00:00', 'u8', 'product_view', 'Lumi', NULL, NULL, NULL, NULL, NULL)
) t(event_id, t, user_id, event_type, brand, category, amount, rating, quantity, query_type)
"""
    )
    con.execute(f"COPY e TO '{folder / 'events.parquet'}' (FORMAT parquet)")
    con.execute(
        f"COPY (SELECT * FROM (VALUES ('u1', 'g1'), ('u2', 'g2'), ('u1', 'g3'))"
        f" t(user_id, target_group)) TO '{folder / 'users.parquet'}' (FORMAT parquet)"
    )
    # targets: one good; NaN and infinity (no target); a period that ends before it starts
    con.execute(
        "COPY (SELECT brand, 'fast.fertility' AS indicator, CAST(s AS DATE) AS period_start, "
        "CAST(e AS DATE) AS period_end, CAST(v AS DOUBLE) AS target_value FROM (VALUES "
        "('A', '2025-04-01', '2025-06-30', '10'), ('A', '2025-01-01', '2025-03-31', 'nan'), "
        "('A', '2024-10-01', '2024-12-31', 'inf'), ('B', '2025-06-30', '2025-04-01', '5')) "
        f"t(brand, s, e, v)) TO '{folder / 'targets.parquet'}' (FORMAT parquet)"
    )
    con.close()
    return folder


def test_validation_on_spark_reports_what_duckdb_reports(tmp_path):
    """Spark reads the Parquet itself and gives every row the reason DuckDB gives it:
    the same counts, the same first rows per reason, the same quarantine rows, the same
    results; mapped and excluded event types, a zone that moves 23:30 UTC to the next
    local day, repeated ids (the first stays) and repeated content without an id."""
    from brandlens.data.mapping import Mapping
    from brandlens.engine.runs import Dataset, EngineConfig

    data = _hostile_parquet(tmp_path / "hostile")
    mapping = Mapping(event_types={"buy": "purchase", "noise": None})
    out = {}
    for engine in ("duckdb", "spark"):
        quarantine = tmp_path / f"q_{engine}.csv"
        with Dataset(
            data,
            mapping=mapping,
            config=EngineConfig(engine=engine),
            cache=False,
            quarantine_out=quarantine,
        ) as ds:
            assert ds.validated_by == engine
            result = ds.compute(as_of="2025-06-30", methodologies=["fast", "goal"])
        out[engine] = (ds.report, quarantine.read_text(), result.model_dump_json())
    report = out["spark"][0]
    # examples spell numbers as each engine writes them: Spark's NaN and Infinity
    spelled = report.model_dump_json().replace('"NaN"', '"nan"').replace('"Infinity"', '"inf"')
    assert spelled == out["duckdb"][0].model_dump_json()
    by_reason = {(r.table, r.reason): r.count for r in report.reasons}
    assert by_reason == {
        ("events", "excluded_by_mapping"): 1,
        ("events", "missing_required"): 1,
        ("events", "unknown_event_type"): 1,
        ("events", "ts_unparseable"): 1,
        ("events", "bad_type"): 2,
        ("events", "missing_brand"): 1,
        ("events", "missing_rating"): 1,
        ("events", "negative_amount"): 1,
        ("events", "rating_out_of_range"): 1,
        ("events", "quantity_out_of_range"): 1,
        ("events", "bad_query_type"): 1,
        ("events", "duplicate_event_id"): 1,
        ("users", "duplicate_key"): 1,
        ("targets", "bad_type"): 2,  # NaN and infinity
        ("targets", "period_out_of_order"): 1,
    }
    # accepted: 1 (buy -> purchase), the second 13 (the first failed), both rows without
    # an id (the same content twice: occurrences 1 and 2) and the first 14
    assert report.events.rows_read == 18 and report.events.rows_accepted == 5
    quarantine = out["spark"][1].replace(",NaN\n", ",nan\n").replace(",Infinity\n", ",inf\n")
    assert quarantine == out["duckdb"][1]
    assert out["spark"][2] == out["duckdb"][2]


def test_csv_on_spark_is_validated_by_duckdb(tmp_path):
    """CSV keeps DuckDB's reader (its malformed-line accounting): the run is on Spark,
    the report is DuckDB's."""
    import duckdb

    from brandlens.engine.runs import Dataset, EngineConfig

    data = _hostile_parquet(tmp_path / "p")
    csv = tmp_path / "c"
    csv.mkdir()
    duckdb.execute(
        f"COPY (SELECT * FROM '{data / 'events.parquet'}') TO '{csv / 'events.csv'}' (HEADER)"
    )
    reports = {}
    for engine in ("duckdb", "spark"):
        with Dataset(csv, config=EngineConfig(engine=engine), cache=False) as ds:
            assert ds.validated_by == "duckdb"
            assert ds.engine.name == engine
            reports[engine] = ds.report
            result = ds.compute(as_of="2025-06-30", methodologies=["fast"])
            assert result.errors == []
    assert reports["spark"] == reports["duckdb"]


def test_a_file_spark_cannot_see_is_validated_by_duckdb(tmp_path):
    """A cluster may not see this machine's files: Spark's plan reads each one first,
    and a source it cannot read is a reason (the dataset then validates on DuckDB)."""
    import duckdb

    from brandlens.data.schema import CORE_EVENT_TYPES
    from brandlens.data.sources import open_source
    from brandlens.engine import spark_validation
    from brandlens.engine.spark import session

    spark, con = session(), duckdb.connect()
    source = open_source(con, str(_hostile_parquet(tmp_path / "seen")), None)
    seen = spark_validation.plan(spark, con, source, list(CORE_EVENT_TYPES), "UTC")
    assert isinstance(seen, spark_validation.Plan)
    spark_validation.drop_views(spark, seen.views)
    source.tables["events"].file = str(tmp_path / "elsewhere.parquet")  # DuckDB still sees it
    unseen = spark_validation.plan(spark, con, source, list(CORE_EVENT_TYPES), "UTC")
    assert isinstance(unseen, str) and "elsewhere.parquet" in unseen


def test_text_typed_numbers_and_odd_blanks_check_alike_on_spark(tmp_path):
    """Numbers stored as text (the integer check's regular expression nested in another),
    a trailing line break (Java's $ would match before it; brandlens anchors with \\z)
    and a brand of a space and U+2028 (not blank to RE2): the same report on both."""
    import duckdb

    from brandlens.engine.runs import Dataset, EngineConfig

    folder = tmp_path / "text"
    folder.mkdir()
    duckdb.execute(
        """
COPY (SELECT * FROM (VALUES
  (1, TIMESTAMP '2025-06-01 04:00:00', 'u1', 'purchase', 'Lumi', '10', '3', NULL),
  (2, TIMESTAMP '2025-06-01 04:00:00', 'u2', 'purchase', 'Lumi', '10', '4' || chr(10), NULL),
  (3, TIMESTAMP '2025-06-01 04:00:00', 'u3', 'purchase', 'Lumi', '10', ' 5 ', NULL),
  (4, TIMESTAMP '2025-06-01 04:00:00', 'u4', 'review', 'Lumi', NULL, NULL, '4' || chr(13)),
  (5, TIMESTAMP '2025-06-01 04:00:00', 'u5', 'purchase', ' ' || chr(8232), '10', '1', NULL),
  (6, TIMESTAMP '2025-06-01 04:00:00', 'u6', 'purchase', 'Lumi', '7' || chr(10), '1', NULL)
) t(event_id, ts, user_id, event_type, brand, amount, quantity, rating))
"""
        f"TO '{folder / 'events.parquet'}' (FORMAT parquet)"
    )
    reports = {}
    for engine in ("duckdb", "spark"):
        quarantine = tmp_path / f"q_{engine}.csv"
        with Dataset(
            folder, config=EngineConfig(engine=engine), cache=False, quarantine_out=quarantine
        ) as ds:
            assert ds.validated_by == engine
            reports[engine] = (ds.report.model_dump(), quarantine.read_text())
    assert reports["spark"] == reports["duckdb"]
    by_reason = {r["reason"]: r["count"] for r in reports["spark"][0]["reasons"]}
    # the integers '4\n' (quantity) and '4\r' (rating) are not whole numbers; a decimal
    # parses with its trailing line break on both engines ('7\n' is 7)
    assert by_reason == {"bad_type": 2}
    rows = [e["row"] for r in reports["spark"][0]["reasons"] for e in r["examples"]]
    assert rows == [2, 4]


def test_what_spark_cannot_check_alike_is_validated_by_duckdb(tmp_path):
    """A binary column (DuckDB escapes it, Spark decodes it) and a zone Java does not know
    fall back to DuckDB's validation; the run still computes on Spark."""
    import duckdb

    from brandlens.engine.runs import Dataset, EngineConfig

    folder = tmp_path / "blob"
    folder.mkdir()
    duckdb.execute(
        "COPY (SELECT 1 AS event_id, TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, "
        "'ad_click' AS event_type, CAST('Lumi' AS BLOB) AS brand) "
        f"TO '{folder / 'events.parquet'}' (FORMAT parquet)"
    )
    with Dataset(folder, config=EngineConfig(engine="spark"), cache=False) as ds:
        assert ds.validated_by == "duckdb" and ds.engine.name == "spark"
    plain = _hostile_parquet(tmp_path / "plain")
    with Dataset(plain, config=EngineConfig(engine="spark"), cache=False, timezone="Factory") as ds:
        assert ds.validated_by == "duckdb"


def test_times_as_text_are_validated_by_duckdb(tmp_path):
    """Spark's cast reads other spellings of a time than DuckDB's (a slash date is NULL
    to it): a text ts is checked on DuckDB, so both engines accept the same rows."""
    import duckdb

    from brandlens.engine.runs import Dataset, EngineConfig

    folder = tmp_path / "text_ts"
    folder.mkdir()
    duckdb.execute(
        "COPY (SELECT * FROM (VALUES (1, '2025/06/01 10:00:00'), (2, '2025-06-01 10:00:00 +0800'),"
        " (3, 'Sun Jun 01 10:00:00 CST 2025')) t(event_id, ts), (SELECT 'u1' AS user_id, "
        f"'ad_click' AS event_type, 'Lumi' AS brand)) TO '{folder / 'events.parquet'}' "
        "(FORMAT parquet)"
    )
    reports = {}
    for engine in ("duckdb", "spark"):
        with Dataset(folder, config=EngineConfig(engine=engine), cache=False) as ds:
            assert ds.validated_by == "duckdb" and ds.engine.name == engine
            reports[engine] = ds.report.model_dump()
    assert reports["spark"] == reports["duckdb"]
    assert [t["rows_accepted"] for t in reports["spark"]["tables"]] == [2]


def test_a_median_is_duckdbs_to_the_last_bit_on_spark():
    """Spark's own median interpolates as lo + (hi − lo) · 0.5, DuckDB's takes (lo + hi) / 2:
    a different double for about one pair in seven, which DREAM's rounded structure gap
    then showed in its last printed digit. The core writes median for Spark as DuckDB's.
    Groups of 0 to 6 doubles over several magnitudes, NULLs among them, a FILTER, and
    whole numbers: every median equal to DuckDB's bit for bit."""
    import random

    import duckdb

    from brandlens.engine import dialects, spark

    rng = random.Random(7)
    rows = []
    for g in range(1500):
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6])):
            x = None if rng.random() < 0.1 else rng.random() ** 3 * rng.choice([1, 1e-3, 7.3])
            rows.append((g, x, rng.randint(-5, 5)))
        rows.append((g, None, 0))
    sql = (
        "SELECT g, median(x) AS m, median(i) AS mi, median(x) FILTER (WHERE i > 0) AS mf "
        "FROM t GROUP BY g"
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE t (g INTEGER, x DOUBLE, i INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    expected = {r[0]: tuple(r[1:]) for r in con.execute(sql).fetchall()}

    session = spark.session()
    session.createDataFrame(rows, "g INT, x DOUBLE, i INT").createOrReplaceTempView("t")
    typed = dialects.annotate(
        dialects.parse(sql), {"t": {"g": "INTEGER", "x": "DOUBLE", "i": "INTEGER"}}
    )
    got = {r[0]: tuple(r[1:]) for r in session.sql(dialects.to_dialect(typed, "spark")).collect()}
    assert got == expected
    own = {r[0]: r[1] for r in session.sql("SELECT g, median(x) FROM t GROUP BY g").collect()}
    assert sum(own[g] != expected[g][0] for g in expected) > 100  # the difference is real


def test_rows_repeated_exactly_are_counted_on_spark_as_on_duckdb(tmp_path):
    """Events without an event_id that repeat an earlier row exactly, and spend rows that
    repeat one, are kept and counted: the count is the only warning that an export written
    twice counts twice. Spark's validation reported 0 for both. Here three copies of one
    view (2 repeats), another view once, and a spend day written twice (1 repeat)."""
    import duckdb

    from brandlens.engine.runs import Dataset, EngineConfig

    folder = tmp_path / "copies"
    folder.mkdir()
    con = duckdb.connect()
    view = "(TIMESTAMP '2025-06-01 04:00:00', 'u1', 'product_view', 'Lumi')"
    con.execute(
        f"COPY (SELECT * FROM (VALUES {view}, {view}, "
        "(TIMESTAMP '2025-06-01 05:00:00', 'u1', 'product_view', 'Lumi'), "
        f"{view}) t(ts, user_id, event_type, brand)) TO '{folder / 'events.parquet'}'"
    )
    day = "('Lumi', DATE '2025-06-01', 'search_ads', 100.0)"
    con.execute(
        f"COPY (SELECT * FROM (VALUES {day}, {day}, ('Lumi', DATE '2025-06-02', "
        "'search_ads', 100.0)) t(brand, date, channel, cost)) "
        f"TO '{folder / 'spend.parquet'}'"
    )
    con.close()
    counts = {}
    for engine in ("duckdb", "spark"):
        with Dataset(folder, config=EngineConfig(engine=engine), cache=False) as ds:
            assert ds.validated_by == engine
            counts[engine] = {t.table: t.identical_rows for t in ds.report.tables}
    assert counts["duckdb"] == {"events": 2, "spend": 1}
    assert counts["spark"] == counts["duckdb"]


def _one_brand(folder: Path, brand: str) -> Path:
    """Five purchases of ``brand`` in ``folder``/events.parquet."""
    import duckdb

    folder.mkdir(parents=True)
    duckdb.execute(
        "COPY (SELECT TIMESTAMP '2025-06-01 04:00:00' + INTERVAL (i) DAY AS ts, 'u' || i AS "
        f"user_id, 'purchase' AS event_type, '{brand}' AS brand, 'snacks' AS category, "
        "10.0 * (i + 1) AS amount FROM range(5) r(i)) "
        f"TO '{folder / 'events.parquet'}'"
    )
    return folder


@pytest.mark.parametrize(("name", "decoy"), [("d[1]", "d1"), ("e?", "ex"), ("f{a,b}", "fa")])
def test_a_path_spark_would_read_as_a_pattern_is_read_literally(tmp_path, name, decoy):
    """Spark globs every path it reads: given d[1], it read d1/events.parquet, another
    folder's data, and said nothing (an engines review). The path goes to Spark escaped."""
    from brandlens.engine.runs import Dataset, EngineConfig

    data = _one_brand(tmp_path / name, "Right")
    _one_brand(tmp_path / decoy, "Wrong")
    texts = {}
    for engine in ("duckdb", "spark"):
        with Dataset(data, config=EngineConfig(engine=engine), cache=False) as ds:
            assert ds.validated_by == engine
            result = ds.compute(as_of="2025-06-30", methodologies=["grow"])
        assert {r.brand for r in result.results} == {"Right"}
        texts[engine] = result.model_dump_json()
    assert texts["spark"] == texts["duckdb"]


def test_a_path_spark_cannot_read_literally_is_validated_by_duckdb(tmp_path):
    """A ':' beside an escaped glob character fails in Hadoop as a URI whatever the
    escaping: such a source is validated on DuckDB, and a run's private folder under such
    a temp directory (or one with a glob character only, beside the folder its pattern
    would match) sends its tables to Spark as for Spark Connect. Both failed with an
    internal error. A ':' alone is read by Spark as it is."""
    from brandlens.engine.runs import Dataset, EngineConfig

    texts = {}
    runs = (
        ("a:b[1]", "duckdb", None, "duckdb"),
        ("a:b[1]", "spark", "t:x[1]", "duckdb"),
        ("a:b[1]", "spark", "t[1]", "duckdb"),
        ("a:b", "spark", None, "spark"),
    )
    for folder, engine, temp, validated_by in runs:
        data = tmp_path / folder
        if not data.exists():
            _one_brand(data, "Right")
        spill = None
        if temp is not None:
            spill = tmp_path / temp
            spill.mkdir()
            (tmp_path / "t1").mkdir(exist_ok=True)  # what t[1] matches as a pattern
        config = EngineConfig(engine=engine, temp_directory=None if spill is None else str(spill))
        with Dataset(data, config=config, cache=False) as ds:
            assert ds.validated_by == validated_by
            assert ds.engine.name == engine
            result = ds.compute(as_of="2025-06-30", methodologies=["grow"])
        texts[(folder, engine, temp)] = result.model_dump_json().replace("a:b[1]", "a:b")
    assert len(set(texts.values())) == 1, texts
