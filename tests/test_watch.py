"""Progress of a long load: engine.watch reports DuckDB's statement progress, and the CLI
shows it as a bar on a terminal only."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager

import duckdb
from rich.console import Console

from brandlens.engine import runs
from brandlens.engine.watch import watching
from conftest import ev

SLOW = "SELECT count(*) FROM range(200000000) WHERE hash(range) % 3 = 0"
"""About a second on one thread (the tests' connections have one, so more cores do not
shorten it): long enough for many 10 ms polls."""


def _one_thread() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"threads": 1})


def _bar_setting(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_a_long_statement_reports_percentages_then_one_end():
    con = _one_thread()
    con.execute("SET enable_progress_bar = false")
    got: list[float | None] = []
    with watching(con, got.append, every=0.01):
        (count,) = con.execute(SLOW).fetchone()
    assert count == con.execute(SLOW).fetchone()[0]  # as unwatched
    assert len(got) >= 3, got  # the statement ran for many polls
    assert got[-1] is None and got.count(None) == 1  # the end, once, last
    assert all(0.0 <= p <= 100.0 for p in got[:-1])
    assert max(got[:-1]) > min(got[:-1])  # it moved
    assert _bar_setting(con) is False  # DuckDB's own tracking is off again


def test_no_callback_changes_nothing():
    con = _one_thread()
    con.execute("SET enable_progress_bar = false")
    with watching(con, None):
        assert _bar_setting(con) is False
        con.execute("SELECT 1").fetchall()


def test_a_failing_display_does_not_stop_the_statement(capsys):
    con = _one_thread()
    calls: list[float | None] = []

    def broken(percent: float | None) -> None:
        calls.append(percent)
        raise RuntimeError("terminal gone")

    with watching(con, broken, every=0.01):
        (count,) = con.execute(SLOW).fetchone()
    assert count > 0
    assert len(calls) == 1  # reporting stopped at the first failure; no end call
    assert "Traceback" not in capsys.readouterr().err


def test_nothing_reported_means_no_end_call():
    con = _one_thread()
    got: list[float | None] = []
    with watching(con, got.append, every=60):  # never polls within the block
        con.execute("SELECT 1").fetchall()
    assert got == []


def test_dataset_watches_its_load(monkeypatch, events_dir):
    """Dataset hands its connection and the caller's callback to the watcher around the
    load, and only around the load."""
    seen: list[tuple[object, object, bool]] = []

    @contextmanager
    def recording(con, report, every=None):
        seen.append((con, report, True))
        yield
        seen.append((con, report, False))

    monkeypatch.setattr(runs, "watching", recording)

    def report(percent: float | None) -> None:
        return None

    data = events_dir([ev("2025-06-01 10:00:00", "u1", "product_view")])
    with runs.Dataset(data, cache=False, load_progress=report) as ds:
        assert [(c is ds.con, r is report, inside) for c, r, inside in seen] == [
            (True, True, True),
            (True, True, False),
        ]
        assert ds.report.events.rows_accepted == 1


def test_a_real_load_reports_its_progress(monkeypatch, market):
    """The demo market (2.1 M events) through Dataset with the real watcher: the load's
    statements report moving percentages, then one end."""
    from brandlens.engine import watch

    monkeypatch.setattr(watch, "POLL_SECONDS", 0.002)
    got: list[float | None] = []
    with runs.Dataset(market, cache=False, load_progress=got.append) as ds:
        assert ds.report.events.rows_accepted > 2_000_000
    assert got[-1] is None and got.count(None) == 1
    percents = [p for p in got if p is not None]
    assert all(0.0 <= p <= 100.0 for p in percents) and max(percents) > 0.0


def test_the_cli_bar_shows_on_a_terminal_only(monkeypatch):
    from brandlens.cli import app as cli

    buf = io.StringIO()
    terminal = Console(file=buf, width=100, force_terminal=True)
    monkeypatch.setattr(cli, "_stderr", lambda no_color=False: terminal)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with cli._loading("events.parquet", quiet=False) as report:
        assert report is None  # not a terminal: nothing on stderr
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with cli._loading("events.parquet", quiet=True) as report:
        assert report is None
    with cli._loading("events.parquet", quiet=False) as report:
        assert buf.getvalue() == ""  # nothing shown before a statement reports
        report(42.0)
        report(None)  # loaded: the bar goes
        shown = buf.getvalue()
        report(7.0)  # a later statement brings it back
    assert "loading events.parquet" in shown and "42%" in shown
    assert "7%" in buf.getvalue()
