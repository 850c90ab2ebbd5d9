"""`brandlens sql`: every built-in SQL indicator as one self-contained query.

Run on DuckDB over the canonical tables, the DuckDB-dialect query gives the rows
`compute` gives; every dialect's text is kept as a snapshot (as MetricFlow keeps its
per-dialect SQL), so a change in what brandlens writes for a warehouse shows in review.
Regenerate with BRANDLENS_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.engine import dialects
from brandlens.engine.runs import Dataset
from brandlens.engine.sqlexport import indicator_sql
from brandlens.plugin.host import registry

SNAPSHOTS = Path(__file__).parent / "snapshots" / "sql"
AS_OF = "2025-06-30"
BUILT_IN = {"argo", "dream", "fast", "goal", "grow", "super"}


def sql_indicators() -> list[str]:
    return sorted(
        i.id
        for m in registry().methodologies.values()
        for i in m.methodology.indicators
        if i.sql is not None and m.name in BUILT_IN
    )


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def computed(market):
    ds = Dataset(market)
    try:
        yield ds, ds.compute(as_of=AS_OF)
    finally:
        ds.close()


def test_duckdb_dialect_query_equals_compute(computed):
    ds, result = computed
    by_indicator: dict[str, dict] = {}
    for r in result.results:
        by_indicator.setdefault(r.indicator, {})[(r.brand, r.key)] = r
    checked = 0
    for ind in sql_indicators():
        text = indicator_sql(ind, "duckdb", as_of=AS_OF)
        cur = ds.con.execute(text)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        expected = by_indicator.get(ind, {})
        got = {(r["brand"], None if r.get("key") is None else str(r["key"])): r for r in rows}
        for key, want in expected.items():
            assert key in got, (ind, key)
            row = got[key]
            assert _close(row["value"], want.value), (ind, key, row["value"], want.value)
            for field in ("numerator", "denominator"):
                if field in row:
                    assert _close(row[field], getattr(want, field)), (ind, key, field)
        checked += len(expected)
    assert checked > 1000  # every SQL indicator's every brand (and key) was compared


@pytest.mark.parametrize("dialect", dialects.DIALECTS)
def test_snapshots(dialect):
    folder = SNAPSHOTS / dialect
    update = os.environ.get("BRANDLENS_UPDATE_SNAPSHOTS") == "1"
    unportable = []
    for ind in sql_indicators():
        path = folder / f"{ind}.sql"
        try:
            text = indicator_sql(ind, dialect, as_of=AS_OF)
        except dialects.NotPortable as e:
            text = f"-- {ind}: {e.message}\n"
            unportable.append(ind)
        if update:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale (see module docs)"
    if dialect in ("duckdb", "spark"):
        assert not unportable  # every built-in runs on both engines


def test_python_indicator_is_a_usage_error():
    out = CliRunner().invoke(app, ["sql", "goal.clv_total"])
    assert out.exit_code == 2
    assert "computed in Python" in out.stderr


def test_cli_writes_the_query():
    args = ["sql", "fast.thriving", "--dialect", "trino", "--as-of", AS_OF, "-b", "Lumi"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0
    assert out.stdout.startswith("-- fast.thriving")
    assert "'Lumi'" in out.stdout and "CAST('2025-06-30' AS DATE)" in out.stdout


def test_names_are_taken_in_any_case_as_explain_takes_them():
    # was: `sql FAST.thriving` and `--dialect Spark` refused, where `explain FAST.THRIVING`
    # and `-m FAST` are taken (found by an independent review)
    want = indicator_sql("fast.thriving", "spark", as_of=AS_OF)
    assert indicator_sql("FAST.Thriving", "Spark", as_of=AS_OF) == want
    out = CliRunner().invoke(app, ["sql", "nosuch.x"])
    assert out.exit_code == 2 and "no methodology 'nosuch'" in out.stderr
    out = CliRunner().invoke(app, ["sql", "fast.nosuch"])
    assert out.exit_code == 2 and "(known: fast.fertility" in out.stderr
