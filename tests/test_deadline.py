"""A slow plugin costs its own indicators, never the run: query time limits and budgets."""

from __future__ import annotations

import json
import time

import pytest

import brandlens
from brandlens.engine.deadline import QueryClock, QueryTimeout
from brandlens.engine.runs import Dataset, EngineConfig
from conftest import ev

# A three-way self-join of 3,000 events: 2.7e10 rows to sum, hours of work. (A bare
# count(*) would not do: DuckDB counts joins without enumerating them.)
SLOW_SQL = """
SELECT b.brand,
       sum(length(e1.user_id) + length(e2.user_id) + length(e3.user_id)) AS value
FROM brands b
JOIN events e1 ON e1.brand = b.brand
JOIN events e2 ON e2.brand = e1.brand
JOIN events e3 ON e3.brand = e2.brand
GROUP BY b.brand
"""


class _Slow:
    """A legal but hopelessly slow methodology beside two quick indicators."""

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        from brandlens.plugin.methodology import Indicator, Methodology

        quick = "SELECT brand, count(*) AS value FROM brands GROUP BY brand"
        register(
            Methodology(
                name="slow",
                title="slow",
                source="a test",
                version="1",
                indicators=(
                    Indicator(id="slow.before", title="b", unit="count", sql=quick),
                    Indicator(id="slow.forever", title="f", unit="count", sql=SLOW_SQL),
                    Indicator(id="slow.after", title="a", unit="count", sql=quick),
                ),
            )
        )


def _rows(n: int) -> list[dict]:
    return [ev(f"2025-06-{1 + i % 28:02d} 04:00:00", f"u{i}", "ad_click") for i in range(n)]


def test_a_query_past_its_limit_is_that_indicators_error(register_plugin, events_dir):
    register_plugin(_Slow(), "slow")
    began = time.monotonic()
    with Dataset(events_dir(_rows(3000)), config=EngineConfig(query_timeout=1.0)) as ds:
        result = ds.compute(methodologies=["slow", "fast"])
    assert time.monotonic() - began < 30
    errors = {e.indicator: e.message for e in result.errors}
    assert list(errors) == ["slow.forever"]
    assert "stopped after 1 s (--query-timeout)" in errors["slow.forever"]
    computed = {r.indicator for r in result.results}
    assert {"slow.before", "slow.after", "fast.fertility"} <= computed


def test_a_spent_budget_stops_the_rest_of_that_methodology(register_plugin, events_dir):
    register_plugin(_Slow(), "slow")
    config = EngineConfig(query_timeout=100.0, methodology_budget=1.0)
    with Dataset(events_dir(_rows(3000)), config=config) as ds:
        result = ds.compute(methodologies=["slow", "fast"])
    errors = {e.indicator: e.message for e in result.errors}
    assert (
        "stopped after" in errors["slow.forever"]
        and "--methodology-budget" in errors["slow.forever"]
    )
    assert "time budget of 1 s is spent" in errors["slow.after"]
    assert any(r.indicator == "fast.fertility" for r in result.results)  # its own budget


def test_the_cli_reports_the_timeout_and_exits_1(register_plugin, events_dir, tmp_path):
    from typer.testing import CliRunner

    from brandlens.cli.app import app

    register_plugin(_Slow(), "slow")
    out = tmp_path / "r.json"
    args = ["compute", str(events_dir(_rows(3000))), "-m", "slow", "--query-timeout", "1"]
    r = CliRunner().invoke(app, [*args, "-f", "json", "-o", str(out)])
    assert r.exit_code == 1
    assert "slow.forever" in r.stderr and "--query-timeout" in r.stderr
    doc = json.loads(out.read_text())
    assert [e["indicator"] for e in doc["errors"]] == ["slow.forever"]


@pytest.mark.parametrize("bad", ["0", "-3", "soon", "inf", "nan", "1e7"])
def test_timeouts_must_be_positive_seconds(bad, monkeypatch):
    from brandlens.errors import UsageError

    monkeypatch.setenv("BRANDLENS_QUERY_TIMEOUT", bad)
    with pytest.raises(UsageError, match=r"^BRANDLENS_QUERY_TIMEOUT: expected seconds"):
        EngineConfig().timeouts()  # the variable is named, not an option not given
    with pytest.raises(UsageError, match=r"^--query-timeout: expected seconds"):
        EngineConfig(query_timeout=float(bad) if bad != "soon" else -1).timeouts()


def test_a_time_limit_out_of_range_says_the_range(monkeypatch):
    from brandlens.errors import UsageError

    monkeypatch.setenv("BRANDLENS_METHODOLOGY_BUDGET", "inf")
    with pytest.raises(UsageError) as caught:
        EngineConfig().timeouts()
    assert str(caught.value) == (
        "BRANDLENS_METHODOLOGY_BUDGET: expected seconds above 0 and below 10,000,000, got 'inf'"
    )
    monkeypatch.delenv("BRANDLENS_METHODOLOGY_BUDGET")
    assert EngineConfig(methodology_budget=9_999_999).timeouts()[1] == 9_999_999


def test_a_late_timer_never_interrupts_the_next_query():
    import duckdb

    con = duckdb.connect()
    clock = QueryClock(con, per_query=0.05, budget=60)
    with clock.limit("first"):
        con.execute("SELECT 1").fetchall()
    time.sleep(0.1)  # the first query's timer would have fired by now
    with clock.limit("second"):
        assert con.execute("SELECT 2").fetchall() == [(2,)]
    with pytest.raises(QueryTimeout, match=r"third: stopped after 0\.05 s"), clock.limit("third"):
        con.execute("SELECT count(*) FROM range(100000000000)").fetchall()


def test_failures_are_on_stderr_in_every_format_and_with_output(
    register_plugin, events_dir, tmp_path
):
    from typer.testing import CliRunner

    from brandlens.cli.app import app

    register_plugin(_Slow(), "slow")
    data = str(events_dir(_rows(3000)))
    for fmt in ("table", "markdown", "csv", "json"):
        out = tmp_path / f"r.{fmt}"
        args = ["compute", data, "-m", "slow", "--query-timeout", "0.5", "-f", fmt]
        r = CliRunner().invoke(app, [*args, "-o", str(out)])
        assert r.exit_code == 1, fmt
        assert "brandlens: indicator slow.forever failed" in r.stderr, fmt
        assert r.stdout == "", fmt


def test_the_signal_watcher_imports_nothing():
    """The SIGTERM watcher thread must not import the engine (duckdb) on its own.

    It once did, at thread start: a quick command such as ``new-plugin`` then exited
    while that daemon thread was inside duckdb's C++ import, and the process aborted
    ("FATAL: exception not rethrown", exit 134) about half the time on a loaded machine.
    """
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "import brandlens.cli.app as app\n"
        "app._watch_signals()\n"
        "time.sleep(1.0)\n"
        "print('duckdb' in sys.modules, 'brandlens.engine.runs' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_default_limits_grow_with_the_events_a_given_limit_is_kept(monkeypatch):
    """300 s per query and 900 s per methodology up to 100 M events, in proportion beyond:
    at a billion events DREAM's ladder ran past 300 s and failed. Given limits stay."""
    monkeypatch.delenv("BRANDLENS_QUERY_TIMEOUT", raising=False)
    monkeypatch.delenv("BRANDLENS_METHODOLOGY_BUDGET", raising=False)
    assert EngineConfig().timeouts() == (300, 900)
    assert EngineConfig().timeouts(100_000_000) == (300, 900)
    assert EngineConfig().timeouts(1_005_725_127) == (3017, 9052)  # whole seconds
    given = EngineConfig(query_timeout=20, methodology_budget=50)
    assert given.timeouts(1_005_725_127) == (20, 50)
    monkeypatch.setenv("BRANDLENS_QUERY_TIMEOUT", "42")
    assert EngineConfig().timeouts(10**9)[0] == 42


def test_a_dataset_takes_its_limits_from_its_events(events_dir, monkeypatch):
    """The Dataset scales the defaults by the events it accepted: with the base made
    1,000 events, 3,000 events get three times the defaults; a given limit stays."""
    from brandlens.engine import deadline

    monkeypatch.delenv("BRANDLENS_QUERY_TIMEOUT", raising=False)
    monkeypatch.delenv("BRANDLENS_METHODOLOGY_BUDGET", raising=False)
    monkeypatch.setattr(deadline, "DEFAULT_LIMITS_EVENTS", 1000)
    data = events_dir(_rows(3000))
    with Dataset(data, cache=False) as ds:
        assert ds.timeouts == (900, 2700)
    with Dataset(data, cache=False, config=EngineConfig(query_timeout=7)) as ds:
        assert ds.timeouts == (7, 2700)
