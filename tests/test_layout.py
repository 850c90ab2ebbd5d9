"""The order of a dataset file's events: as read, or by month then user (`load --cluster`)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from brandlens import api
from brandlens.cli.app import app
from brandlens.data import layout
from brandlens.data.market import generate
from brandlens.engine.runs import Dataset
from brandlens.errors import UsageError
from conftest import ev


def _table(users: list[str | None], dates: list[date] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    days = dates or [date(2025, 1, 1)] * len(users)
    con.execute("CREATE TABLE t (user_id VARCHAR, local_date DATE, ts TIMESTAMP, n INTEGER)")
    rows = [(u, d, d, i, i) for i, (u, d) in enumerate(zip(users, days, strict=True))]
    if rows:
        con.executemany(
            "INSERT INTO t VALUES (?, ?, CAST(? AS TIMESTAMP) + INTERVAL (? % 7) HOUR, ?)", rows
        )
    return con


def test_same_user_share_counts_consecutive_pairs_of_one_user():
    # a a b b b c: pairs (a,a) yes, (a,b) no, (b,b) yes, (b,b) yes, (b,c) no -> 3 of 5
    con = _table(["a", "a", "b", "b", "b", "c"])
    assert layout.same_user_share(con, "t") == pytest.approx(3 / 5)
    # Deleting the first b leaves a a b b c stored: (a,a) yes, (a,b) no, (b,b) yes, (b,c) no
    con.execute("DELETE FROM t WHERE n = 2")
    assert layout.same_user_share(con, "t") == pytest.approx(2 / 4)
    # One row has no pair; no rows neither.
    assert layout.same_user_share(_table(["a"]), "t") is None
    assert layout.same_user_share(_table([]), "t") is None


def test_same_user_share_reads_only_the_sampled_blocks(monkeypatch):
    # 40 rows, users u0 u0 u1 u1 u2 u2 ...; with 2 blocks of 4 rows the stride is
    # 40 // 2 = 20, so rows 0-3 and 20-23 are read, each block's first row unpaired:
    # rows 1 (u0 after u0) yes, 2 (u1 after u0) no, 3 (u1 after u1) yes; the same at
    # 21, 22, 23 -> 4 of 6. The whole table would give 20 of 39.
    monkeypatch.setattr(layout, "SAMPLE_BLOCKS", 2)
    monkeypatch.setattr(layout, "BLOCK_ROWS", 4)
    con = _table([f"u{i // 2}" for i in range(40)])
    assert layout.same_user_share(con, "t") == pytest.approx(4 / 6)
    # Row 20 changed: row 21 (u10) no longer follows its own user -> 3 of 6.
    con.execute("UPDATE t SET user_id = 'x' WHERE n = 20")
    assert layout.same_user_share(con, "t") == pytest.approx(3 / 6)


def test_grouped_by_user_at_half_and_above():
    assert layout.grouped_by_user(0.5) and layout.grouped_by_user(0.79)
    assert not layout.grouped_by_user(0.49) and not layout.grouped_by_user(0.01)
    assert layout.grouped_by_user(None)  # nothing to reorder


def _clustered_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT date_trunc('month', local_date), hash(user_id), ts, user_id, n "
        "FROM c ORDER BY rowid"
    ).fetchall()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "u3", "u4", "u5"]), st.integers(0, 120)),
        max_size=60,
    ),
    st.integers(0, 5),
)
def test_copy_clustered_keeps_every_row_month_by_month_user_by_user(rows, undated):
    # Any rows, some without a local date: the copy holds exactly the same rows, the
    # dated ones by month, within a month by the user's hash then time, and the
    # undated ones after them; the month count is the number of distinct months.
    days = [date(2024, 12, 20) + timedelta(days=d) for _, d in rows]
    con = _table([u for u, _ in rows] + ["u9"] * undated, [*days, *([None] * undated)])
    months = layout.copy_clustered(con, "t", "c")
    assert months == len({(d.year, d.month) for d in days})
    for a, b in (("t", "c"), ("c", "t")):
        assert con.execute(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}").fetchall() == []
    stored = _clustered_rows(con)
    dated = [r for r in stored if r[0] is not None]
    assert stored[: len(dated)] == dated  # undated rows come last
    assert [r[:3] for r in dated] == sorted(r[:3] for r in dated)


def test_copy_clustered_by_hand():
    # Events of u1 and u2 over two months, in time order. Each month's rows are one
    # run per user (whichever user's hash is smaller first), in time order within it.
    users = ["u1", "u2", "u1", "u2", "u2", "u1"]
    days = [date(2025, 1, 3), date(2025, 1, 5), date(2025, 1, 9)]
    days += [date(2025, 2, 1), date(2025, 2, 2), date(2025, 2, 3)]
    con = _table(users, days)
    assert layout.copy_clustered(con, "t", "c") == 2
    u1_first = con.execute("SELECT hash('u1') < hash('u2')").fetchone()[0]
    # January: rows 0 (u1, 3rd), 1 (u2, 5th), 2 (u1, 9th); February: 3 (u2, 1st),
    # 4 (u2, 2nd), 5 (u1, 3rd). Each month: the first user's rows by time, then the other's.
    expected = [0, 2, 1, 5, 3, 4] if u1_first else [1, 0, 2, 3, 4, 5]
    assert [r[4] for r in _clustered_rows(con)] == expected


@pytest.fixture(scope="module")
def markets(tmp_path_factory):
    """One small market in the simulation's order and in time order."""
    root = tmp_path_factory.mktemp("orders")
    generate(root / "user", users=300, seed=4)
    generate(root / "time", users=300, seed=4, order="time")
    return root


def _stored(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("FROM brandlens_data.events ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_cluster_writes_a_time_ordered_log_by_month_then_user(markets, tmp_path):
    plain = api.load(markets / "time", tmp_path / "plain.duckdb")
    clustered = api.load(markets / "time", tmp_path / "clustered.duckdb", cluster=True)
    assert not plain.clustered and clustered.clustered
    assert plain.same_user_share == clustered.same_user_share < layout.GROUPED_SHARE
    # The validation itself is the same: counts, reasons, examples.
    strip = {"dataset", "clustered", "months"}
    assert plain.model_dump(exclude=strip) == clustered.model_dump(exclude=strip)
    rows, reordered = _stored(tmp_path / "plain.duckdb"), _stored(tmp_path / "clustered.duckdb")
    assert sorted(rows, key=repr) == sorted(reordered, key=repr) and rows != reordered
    con = duckdb.connect(str(tmp_path / "clustered.duckdb"), read_only=True)
    keys = con.execute(
        "SELECT date_trunc('month', local_date), hash(user_id), ts "
        "FROM brandlens_data.events ORDER BY rowid"
    ).fetchall()
    months = con.execute(
        "SELECT count(DISTINCT date_trunc('month', local_date)) FROM brandlens_data.events"
    ).fetchone()[0]
    con.close()
    assert keys == sorted(keys) and clustered.months == months
    # Every methodology gives the same numbers on both files.
    outputs = []
    for name in ("plain", "clustered"):
        with Dataset(tmp_path / f"{name}.duckdb") as ds:
            outputs.append(ds.compute(as_of="2025-06-30").model_dump_json())
    assert outputs[0] == outputs[1]


def test_cluster_keeps_a_log_written_user_by_user_as_read(markets, tmp_path):
    plain = api.load(markets / "user", tmp_path / "plain.duckdb")
    kept = api.load(markets / "user", tmp_path / "kept.duckdb", cluster=True)
    assert not kept.clustered and kept.months == 0
    assert kept.same_user_share == plain.same_user_share >= layout.GROUPED_SHARE
    assert _stored(tmp_path / "plain.duckdb") == _stored(tmp_path / "kept.duckdb")


def test_cluster_keeps_the_quarantine(events_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "MIN_EVENTS", 2)  # measure even a log this small
    rows = [
        ev("2025-06-01 02:00:00", "u1", "purchase", brand="Lumi", amount="10"),
        ev("2025-05-02 02:00:00", "u2", "ad_click", brand="Lumi"),
        ev("2025-06-03 02:00:00", "u3", "bogus", brand="Lumi"),  # quarantined: unknown type
        ev("2025-04-03 02:00:00", "u1", "ad_click", brand="Lumi"),
    ]
    data = events_dir(rows)
    plain = api.load(data, tmp_path / "p.duckdb", quarantine_out=tmp_path / "p.csv")
    clustered = api.load(
        data, tmp_path / "c.duckdb", cluster=True, quarantine_out=tmp_path / "c.csv"
    )
    assert clustered.rows_quarantined == plain.rows_quarantined == 1
    assert clustered.events.rows_read == clustered.events.rows_accepted + 1
    assert (tmp_path / "p.csv").read_text() == (tmp_path / "c.csv").read_text()
    # 3 accepted events, pairs (u1,u2), (u2,u1) in stored order: share 0, so clustered.
    assert clustered.same_user_share == 0.0 and clustered.clustered
    assert clustered.months == 3


def test_the_share_is_measured_on_the_accepted_events(events_dir, tmp_path, monkeypatch):
    # u1 u1 [u2 quarantined] u1 u1: stored, u1 u1 u1 u1, three pairs of one user -> 1.0
    # (measured over the rows read it would be 2 of 4).
    monkeypatch.setattr(layout, "MIN_EVENTS", 2)
    rows = [ev(f"2025-06-0{d} 02:00:00", "u1", "ad_click", brand="Lumi") for d in (1, 2)]
    rows.append(ev("2025-06-03 02:00:00", "u2", "bogus", brand="Lumi"))
    rows += [ev(f"2025-06-0{d} 02:00:00", "u1", "ad_click", brand="Lumi") for d in (4, 5)]
    report = api.load(events_dir(rows), tmp_path / "s.duckdb", cluster=True)
    assert report.rows_quarantined == 1
    assert report.same_user_share == 1.0 and not report.clustered


def test_a_small_log_is_not_measured(events_dir, tmp_path):
    # Three events (u1 u2 u1) would measure 0: far below MIN_EVENTS, left as read, no hint.
    rows = [ev("2025-06-01 02:00:00", u, "ad_click", brand="Lumi") for u in ("u1", "u2", "u1")]
    report = api.load(events_dir(rows), tmp_path / "s.duckdb", cluster=True)
    assert report.same_user_share is None and not report.clustered


def _folder(path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def test_a_load_leaves_only_its_dataset_file(markets, tmp_path):
    # Clustered (the validated file discarded) or kept as read (the second file
    # discarded): either way the folder holds the dataset file and nothing else.
    for market, name in (("time", "t.duckdb"), ("user", "u.duckdb")):
        out = tmp_path / market
        out.mkdir()
        api.load(markets / market, out / name, cluster=True)
        assert _folder(out) == [name]


@pytest.mark.parametrize("where", ["copy", "after the copy", "strict"])
def test_a_failed_load_leaves_the_target_as_it_was(
    markets, events_dir, tmp_path, monkeypatch, where
):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "shop.duckdb"
    # an earlier dataset file (load --into refuses to replace any other file)
    api.load(events_dir([ev("2025-05-01 02:00:00", "u0", "ad_click", brand="Old")]), target)
    old = target.read_bytes()
    data = markets / "time"
    strict = False
    if where == "copy":  # during the month-by-month copy into the second file
        monkeypatch.setattr(layout, "copy_clustered", _boom)
    elif where == "after the copy":  # after the swap to the second file
        monkeypatch.setattr("brandlens.data.store.write_meta", _boom)
    else:  # every file written, then --strict fails the load on its quarantined row
        good = ev("2025-06-01 02:00:00", "u1", "ad_click", brand="Lumi")
        data = events_dir([good, ev("2025-06-02 02:00:00", "u1", "bogus", brand="Lumi")])
        strict = True
    with pytest.raises(Exception, match=r"boom|--strict"):
        api.load(data, target, cluster=True, strict=strict)
    assert target.read_bytes() == old and _folder(out) == ["shop.duckdb"]


def _boom(*_a: object, **_k: object) -> None:
    raise RuntimeError("boom")


def test_cluster_needs_a_dataset_file(events_dir):
    with pytest.raises(UsageError, match="--cluster applies to a dataset file"):
        Dataset(events_dir([ev("2025-06-01 02:00:00", "u1", "ad_click")]), cluster=True)


def test_load_reports_the_layout_and_hints_at_cluster(markets, tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.duckdb"
    r = runner.invoke(app, ["load", str(markets / "time"), "--into", str(out), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["dataset"] == str(out) and report["clustered"] is False
    assert "hint: this log does not keep each user's events together" in r.stderr
    assert "--cluster" in r.stderr
    quiet = runner.invoke(app, ["load", str(markets / "time"), "--into", str(out), "-q"])
    assert quiet.exit_code == 0 and "hint" not in quiet.stderr
    assert "by month, then user" not in quiet.stdout and "in the order read" in quiet.stdout
    r = runner.invoke(app, ["load", str(markets / "time"), "--into", str(out), "--cluster"])
    assert r.exit_code == 0 and "hint" not in r.stderr and "by month, then user" in r.stdout
    r = runner.invoke(app, ["load", str(markets / "user"), "--into", str(out)])
    assert r.exit_code == 0 and "hint" not in r.stderr  # already grouped by user


def test_a_first_run_on_a_log_in_time_order_hints_at_load_cluster(markets, tmp_path, monkeypatch):
    # The run that writes the cache entry measures the order and says how to cluster,
    # with the options it was given; a run on the kept dataset writes nothing and says
    # nothing, nor does -q, nor a log written user by user.
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    data = markets / "time"
    args = ["compute", str(data), "-m", "grow", "-f", "json", "--timezone", "UTC"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    assert f"`brandlens load {data} --into FILE.duckdb --cluster --timezone UTC`" in first.stderr
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "hint" not in again.stderr
    assert again.stdout == first.stdout
    fresh = {"BRANDLENS_CACHE_DIR": str(tmp_path / "fresh")}  # a first run again, quiet
    quiet = runner.invoke(app, [*args, "-q"], env=fresh)
    assert quiet.exit_code == 0 and "hint" not in quiet.stderr
    grouped = runner.invoke(app, ["compute", str(markets / "user"), "-m", "grow", "-f", "json"])
    assert grouped.exit_code == 0 and "hint" not in grouped.stderr
