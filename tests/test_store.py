"""The dataset store: the cache, dataset files, the private working directory, local dates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brandlens.data import store
from brandlens.data.localtime import local_date_sql
from brandlens.data.market import MARKET_VERSION
from brandlens.engine import workdir
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError, UsageError
from conftest import ev

ROWS = [
    ev("2025-06-01 02:00:00", "u1", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-02 02:00:00", "u2", "ad_click", brand="Lumi"),
    ev("2025-06-03 02:00:00", "u3", "bogus", brand="Lumi"),  # quarantined
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(root))
    monkeypatch.delenv("BRANDLENS_CACHE", raising=False)
    return root


def test_second_open_reuses_the_cached_store(cache, events_dir):
    data = events_dir(ROWS)
    with Dataset(data) as first:
        assert first.cached is not None and first.cached.parent == cache
        report = first.report
    with Dataset(data) as second:
        assert second.cached == first.cached
        assert second.report == report  # counts, reasons and examples survive the cache
        assert second.con.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    assert len(store.cache_entries()) == 1


def _read_only(ds: Dataset) -> bool:
    sql = "SELECT readonly FROM duckdb_databases() WHERE database_name = $n"
    return ds.con.execute(sql, {"n": store.STORE_ALIAS}).fetchone()[0]


def _events_from_another_process(entry: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import duckdb, sys; c = duckdb.connect(); "
        "c.execute('ATTACH $p AS s (READ_ONLY)', {'p': sys.argv[1]}); "
        "print(c.execute('SELECT count(*) FROM s.brandlens_data.events').fetchone()[0])"
    )
    return subprocess.run([sys.executable, "-c", code, str(entry)], capture_output=True, text=True)


def _database_source(tmp_path: Path) -> Path:
    db = tmp_path / "data.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE events (ts VARCHAR, user_id VARCHAR, event_type VARCHAR)")
    con.execute("INSERT INTO events VALUES ('2025-06-01', 'u1', 'ad_click'), ('x', 'u2', 'share')")
    con.close()
    return db


def test_a_first_run_reads_its_new_entry_read_only(cache, events_dir):
    """Once written, a new cache entry is read as a cached run reads it: read-only, so
    another command on the same data opens it while this run still computes (the
    writer's lock refused it: "Conflicting lock is held")."""
    with Dataset(events_dir(ROWS)) as first:
        assert first.cached is not None and _read_only(first)
        other = _events_from_another_process(first.cached)
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == "2"
        assert first.con.execute("SELECT count(*) FROM events").fetchone()[0] == 2


def test_a_database_source_s_new_entry_is_read_only_too(cache, tmp_path):
    """A database source switches file access off before validation; DuckDB still
    attaches the entry it had attached again, read-only."""
    with Dataset(_database_source(tmp_path)) as ds:
        assert ds.cached is not None and ds.cached.parent == cache and _read_only(ds)
        other = _events_from_another_process(ds.cached)
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == "1"
        assert ds.con.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        with pytest.raises(duckdb.Error):  # and file access stays off
            ds.con.execute("SELECT * FROM read_csv('/etc/hostname')")


def test_on_duckdb_1_1_a_database_source_keeps_its_entry_as_written(cache, tmp_path, monkeypatch):
    """DuckDB 1.1 refuses to attach any file once file access is off, even one it had
    attached: there the entry stays attached as written rather than lost."""
    from brandlens.engine import runs

    source = _database_source(tmp_path)
    monkeypatch.setattr(runs, "duckdb_version", lambda: (1, 1, 3))
    with Dataset(source) as ds:
        assert ds.cached is not None and not _read_only(ds)
        assert ds.con.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    monkeypatch.setattr(runs, "duckdb_version", lambda: (1, 2, 0))
    with Dataset(source) as again:  # a later run finds it
        assert again.cached == ds.cached and _read_only(again)


@pytest.mark.parametrize(
    ("spelled", "numbers"),
    [("1.1.3", (1, 1, 3)), ("1.2.0-dev4321", (1, 2, 0)), ("v1.10.2", (1, 10, 2)), ("2.0", (2, 0))],
)
def test_duckdb_version_reads_releases_and_development_builds(monkeypatch, spelled, numbers):
    from brandlens.engine.runs import REATTACH_WITHOUT_FILE_ACCESS, duckdb_version

    monkeypatch.setattr(duckdb, "__version__", spelled)
    assert duckdb_version() == numbers
    assert (numbers >= REATTACH_WITHOUT_FILE_ACCESS) == (spelled != "1.1.3")


def test_a_changed_source_makes_a_new_entry_and_drops_the_old(cache, events_dir):
    data = events_dir(ROWS)
    with Dataset(data) as ds:
        old = ds.cached
    events = data / "events.csv"
    events.write_text(events.read_text() + events.read_text().splitlines()[1] + "\n")
    os.utime(events, ns=(time.time_ns(), time.time_ns() + 10**9))
    with Dataset(data) as ds:
        assert ds.cached != old
        assert ds.report.events.rows_read == 4
    assert store.cache_entries() == [ds.cached]


def test_files_beside_the_tables_leave_the_entry_as_it_is(cache, events_dir):
    """A report written into the data folder (as `brandlens demo` writes its own), a
    README or a hidden marker is never read, so the next command opens the same entry;
    a second events file is read (it is an error), so it is part of the key."""
    data = events_dir(ROWS)
    with Dataset(data) as ds:
        entry = ds.cached
    (data / "report.html").write_text("<html></html>")
    (data / "README.txt").write_text("notes")
    (data / ".complete").write_text(MARKET_VERSION)
    with Dataset(data) as ds:
        assert ds.cached == entry
    assert store.cache_entries() == [entry]
    keyed = store.cache_path(data, None, "Asia/Shanghai", ["ad_click"])
    (data / "users.csv").write_text("user_id\nu1\n")
    assert store.cache_path(data, None, "Asia/Shanghai", ["ad_click"]) != keyed
    (data / "EVENTS.jsonl").write_text("")
    assert store.cache_path(data, None, "Asia/Shanghai", ["ad_click"]) not in (keyed, entry)


def _key(data: Path) -> str:
    return store.cache_path(data, None, "Asia/Shanghai", ["ad_click"]).name


def test_a_link_named_events_to_a_folder_of_parts_is_keyed_by_its_parts(tmp_path):
    """DATA is itself the parts when its name, as given, is a table's: through a link
    `data/events -> flat` the key must follow the parts, as the read does."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("p1.jsonl", "p2.jsonl"):
        (flat / name).write_text('{"user_id": "u1"}\n')
    (tmp_path / "data").mkdir()
    link = tmp_path / "data" / "events"
    link.symlink_to(flat, target_is_directory=True)
    both = _key(link)
    (flat / "p2.jsonl").unlink()
    assert _key(link) != both
    # the same files by a relative path share the entry
    old = Path.cwd()
    try:
        os.chdir(tmp_path / "data")
        assert _key(Path("events")) == _key(link)
    finally:
        os.chdir(old)


def test_links_to_one_file_read_differently_are_keyed_apart(tmp_path):
    """`e.csv` and `e.tsv` linked to one file are read with commas and with tabs."""
    raw = tmp_path / "raw.txt"
    raw.write_text("user_id\tts\nu1\t2025-06-01\n")
    (tmp_path / "e.csv").symlink_to(raw)
    (tmp_path / "e.tsv").symlink_to(raw)
    assert _key(tmp_path / "e.csv") != _key(tmp_path / "e.tsv")


def test_a_database_source_is_keyed_with_its_write_ahead_log(tmp_path):
    """A writer that did not checkpoint leaves changes in `<file>.wal`, which a read
    replays: the key must change with it although the file itself did not."""
    db = _database_source(tmp_path)
    clean = _key(db)
    wal = db.with_name(db.name + ".wal")
    assert not wal.exists()
    wal.write_bytes(b"\0" * 64)
    assert _key(db) != clean


def test_the_cache_key_includes_the_time_zone(cache, events_dir):
    data = events_dir(ROWS)
    with Dataset(data) as a, Dataset(data, timezone="UTC") as b:
        assert a.cached != b.cached


def test_no_cache_keeps_nothing(cache, events_dir):
    with Dataset(events_dir(ROWS), cache=False) as ds:
        assert ds.cached is None
        work = ds.workdir
        assert work is not None and work.is_dir()
    assert not work.exists()
    assert store.cache_entries() == []


def test_cache_clear(cache, events_dir):
    with Dataset(events_dir(ROWS)):
        pass
    removed, size = store.clear_cache()
    assert removed == 1 and size > 0 and store.cache_entries() == []


def test_a_damaged_memo_is_a_miss_and_cache_clear_removes_it(cache, events_dir, monkeypatch):
    """JSON nested past Python's stack in the remembered plugin checks raised an internal
    RecursionError in every command (--no-cache too), and cache clear left it (a review)."""
    from brandlens.plugin import sqlcheck

    cache.mkdir()
    memo = sqlcheck._memo_file()
    assert memo is not None and memo.parent == cache
    memo.write_text("[" * 100_000 + "]" * 100_000)
    assert sqlcheck._read_memo(memo) == {}  # a cache miss: checked again, never an error
    store.clear_cache()
    assert sqlcheck.memo_files(cache) == []


def test_a_loaded_dataset_file_is_data_for_every_command(cache, events_dir, tmp_path):
    target = tmp_path / "shop.duckdb"
    with Dataset(events_dir(ROWS), into=target) as ds:
        loaded = ds.report
    assert target.is_file() and store.cache_entries() == []
    assert not list(tmp_path.glob(".shop.duckdb.*"))  # the temporary name is gone
    with Dataset(target) as ds:
        assert ds.report == loaded and ds.cached == target
        assert ds.con.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    with pytest.raises(UsageError, match="loaded with --timezone Asia/Shanghai"):
        Dataset(target, timezone="UTC")
    with pytest.raises(UsageError, match="no --mapping or --preset"):
        Dataset(target, preset="cdnow")


def test_a_dataset_file_of_another_format_says_how_to_make_it_again(cache, events_dir, tmp_path):
    # Was: "the database has no table named events", about a file `load --into` made.
    target = tmp_path / "shop.duckdb"
    with Dataset(events_dir(ROWS), into=target):
        pass
    con = duckdb.connect(str(target))
    con.execute("UPDATE brandlens_data._meta SET value = '3' WHERE key = 'format'")
    con.close()
    with pytest.raises(DataError) as e:
        Dataset(target)
    assert str(e.value) == (
        f"{target}: written by another brandlens (store format 3; this one reads "
        f"{store.STORE_FORMAT}): make it again with `brandlens load SOURCE --into {target}`"
    )


def test_a_database_with_views_under_store_names_is_not_taken_for_a_store(cache, tmp_path):
    # A view named like a store's table could run any query: such a file is plain data.
    db = tmp_path / "fake.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA brandlens_data")
    con.execute("CREATE VIEW brandlens_data._meta AS SELECT 'format' AS key, '1' AS value")
    con.execute(
        "CREATE TABLE main.events AS SELECT TIMESTAMP '2025-01-01' AS ts, 'u' AS user_id, "
        "'ad_click' AS event_type, 'B' AS brand"
    )
    con.close()
    with Dataset(db) as ds:
        assert ds.cached != db  # validated as data, not opened as a store
        assert ds.report.events.rows_accepted == 1


def test_stale_working_directories_of_dead_processes_are_removed(tmp_path):
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(ended.stdout)  # a process that has exited
    stale = tmp_path / f"brandlens-{pid}-abc123"
    (stale / "spill").mkdir(parents=True)
    mine = tmp_path / f"brandlens-{os.getpid()}-keep1"
    mine.mkdir()
    other = tmp_path / "brandlens-notapid"
    other.mkdir()
    made = workdir.make(tmp_path)
    assert not stale.exists()
    assert mine.exists() and other.exists() and made.is_dir()
    workdir.remove(made)
    assert not made.exists()


def _ended_pid() -> int:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(ended.stdout)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_directory_a_live_run_holds_is_kept_whatever_its_process_id(tmp_path):
    """Runs in two containers sharing /tmp see each other's process ids as ended: the id
    said a live run's directory was stale, and its spill files went. The lock a live run
    holds decides now; an ended run's id taken by a live process keeps nothing."""
    import fcntl

    def held_elsewhere(name: str) -> tuple[Path, object]:
        d = tmp_path / name
        (d / "spill").mkdir(parents=True)
        f = open(d / "lock", "xb")  # noqa: SIM115
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # another open file: as another process
        return d, f

    live, f = held_elsewhere(f"brandlens-{_ended_pid()}-other1")
    reused = tmp_path / f"brandlens-{os.getpid()}-ended1"  # unheld, the id now someone's
    (reused / "spill").mkdir(parents=True)
    (reused / "lock").write_bytes(b"")
    first = workdir.make(tmp_path)
    second = workdir.make(tmp_path)  # this process's own first directory is held too
    assert live.exists() and first.exists() and second.exists()
    assert not reused.exists()
    assert (first / "lock").is_file() and first.name.startswith(f"brandlens-{os.getpid()}-")
    f.close()  # the other run ends without cleaning up
    workdir.remove(second)
    third = workdir.make(tmp_path)
    assert not live.exists() and first.exists()
    for made in (first, third):
        workdir.remove(made)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_run_releases_its_directory(tmp_path):
    """A run killed mid-way leaves its directory; the next run finds it unheld."""
    code = (
        "import sys, time; from brandlens.engine import workdir; "
        f"print(workdir.make({str(tmp_path)!r}), flush=True); time.sleep(60)"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        left = Path(p.stdout.readline().strip())
        assert left.is_dir()
        mine = workdir.make(tmp_path)  # the other run is alive: its directory stays
        assert left.exists()
    finally:
        p.kill()
        p.wait()
    again = workdir.make(tmp_path)
    assert not left.exists() and mine.exists()
    for made in (mine, again):
        workdir.remove(made)


def test_spill_goes_to_the_private_directory(cache, events_dir, tmp_path):
    from brandlens.engine.runs import EngineConfig

    base = tmp_path / "spill-here"
    base.mkdir()
    with Dataset(events_dir(ROWS), config=EngineConfig(temp_directory=str(base))) as ds:
        setting = ds.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        assert Path(setting).parent == ds.workdir and ds.workdir.parent == base
    assert list(base.iterdir()) == []


def test_a_temp_directory_made_for_a_run_goes_with_it(cache, events_dir, tmp_path):
    """`--temp-directory /nonexistent/x` was made and left behind; what the run made is
    removed with it, unless something else was put there meanwhile."""
    from brandlens.engine.runs import EngineConfig

    base = tmp_path / "made" / "for" / "it"
    with Dataset(events_dir(ROWS), config=EngineConfig(temp_directory=str(base))) as ds:
        assert ds.workdir.parent == base
    assert not (tmp_path / "made").exists()
    with Dataset(events_dir(ROWS), config=EngineConfig(temp_directory=str(base))) as ds:
        (tmp_path / "made" / "keep.txt").write_text("someone else's")
    assert sorted(p.name for p in (tmp_path / "made").iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    "tz", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
)
@settings(max_examples=40, deadline=None)
@given(seconds=st.integers(min_value=-2_208_988_800, max_value=7_258_118_400))
def test_local_dates_equal_icu_per_row(tz, seconds):
    """The offset-table local date equals DuckDB's own per-row conversion, 1900..2200."""
    con = _con()
    expr, binds = local_date_sql(con, tz, "ts")
    got, want = con.execute(
        f"SELECT {expr}, CAST(timezone($ld_tz, timezone('UTC', ts)) AS DATE) "
        "FROM (SELECT make_timestamp(CAST($s AS BIGINT) * 1000000) AS ts)",
        {**binds, "s": seconds},
    ).fetchone()
    assert got == want


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"])
@settings(max_examples=60, deadline=None)
@given(
    seconds=st.integers(min_value=-2_208_988_800, max_value=7_258_118_400),
    span=st.tuples(
        st.integers(min_value=-100_000_000, max_value=4_200_000_000),
        st.integers(min_value=0, max_value=400_000_000),
    ),
    within=st.integers(min_value=0, max_value=400_000_000),
)
def test_a_span_hint_never_changes_a_local_date(tz, seconds, span, within):
    """Offsets kept for a span of the log only (a hint): a row anywhere, inside the span
    or not, still gets ICU's local date."""
    start, length = span
    lo = datetime(1970, 1, 1) + timedelta(seconds=start)
    con = _con()
    expr, binds = local_date_sql(con, tz, "ts", span=(lo, lo + timedelta(seconds=length)))
    inside = start + within % (length + 1)
    rows = con.execute(
        f"SELECT {expr} = CAST(timezone($ld_tz, timezone('UTC', ts)) AS DATE) "
        "FROM (SELECT make_timestamp(unnest(CAST($s AS BIGINT[])) * 1000000) AS ts)",
        {**binds, "s": [seconds, inside]},
    ).fetchall()
    assert rows == [(True,), (True,)]


def test_local_dates_at_every_offset_change():
    con = _con()
    for tz in ("America/New_York", "Europe/London", "Asia/Shanghai"):
        expr, binds = local_date_sql(con, tz, "ts")
        starts = [s for s, _ in store_changes(con, tz)]
        bad = con.execute(
            f"""SELECT count(*) FROM (
                  SELECT make_timestamp(CAST(s AS BIGINT) * 1000000 + d) AS ts
                  FROM (SELECT unnest(CAST($st AS BIGINT[])) AS s)
                  CROSS JOIN (SELECT unnest([-3600000001, -1, 0, 1, 3600000000]) AS d))
                WHERE {expr} <> CAST(timezone($ld_tz, timezone('UTC', ts)) AS DATE)""",
            {**binds, "st": starts},
        ).fetchone()[0]
        assert bad == 0, tz


def store_changes(con, tz):
    from brandlens.data.localtime import offset_changes

    return offset_changes(con, tz)


_CON: list[duckdb.DuckDBPyConnection] = []


def _con() -> duckdb.DuckDBPyConnection:
    if not _CON:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        _CON.append(con)
    return _CON[0]


def test_sigterm_removes_the_working_directory_and_exits_143(market, tmp_path):
    """A terminated run stops its query at once and cleans up like an interrupted one."""
    import signal

    root = Path(__file__).resolve().parents[1]
    base = tmp_path / "work"
    out = tmp_path / "r.json"
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PYTHONPATH": os.pathsep.join([str(root / "framework"), str(root / "plugins")]),
    }
    cmd = [sys.executable, "-m", "brandlens.cli.app", "compute", str(market), "-f", "json", "-q"]
    cmd += ["-o", str(out), "--temp-directory", str(base), "--no-cache"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Signal once the run is under way: its private directory exists only after start-up.
    deadline = time.monotonic() + 60
    while not (base.is_dir() and any(base.iterdir())):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = p.communicate(timeout=60)
    assert time.monotonic() - sent < 5  # the running query is interrupted, not awaited
    assert p.returncode == 143, stderr
    assert stderr == "brandlens: terminated\n"
    assert not out.exists()
    assert not base.exists()  # the run's private directory is gone, and the folder made for it


def test_unfinished_stores_of_killed_runs_are_removed(cache):
    cache.mkdir(parents=True)
    old = cache / ".abc-def.duckdb.x1y2.tmp"
    fresh = cache / ".abc-def.duckdb.z3w4.tmp"
    for p in (old, fresh):
        p.write_bytes(b"half a store")
    os.utime(old, (time.time() - 2 * store.STALE_AFTER,) * 2)
    store.remove_unfinished()
    assert not old.exists() and fresh.exists()  # another run may still be writing it
    store.clear_cache()
    assert not fresh.exists()


def test_cache_clear_during_a_first_run_is_a_one_line_error(cache, events_dir, monkeypatch):
    """`brandlens cache clear` in another terminal removes the entry a first run is
    writing (DuckDB writes on to the unlinked file); the run stops with a sentence,
    not DuckDB's read-only attach error, and leaves nothing in the cache."""
    data = events_dir(ROWS)
    original = store.write_meta

    def cleared_meanwhile(*args, **kwargs):
        store.clear_cache()
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "write_meta", cleared_meanwhile)
    with pytest.raises(DataError, match="the cache entry this run was writing was removed"):
        Dataset(data)
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(store, "write_meta", original)
    with Dataset(data) as ds:  # and the next run makes it
        assert ds.cached is not None and ds.cached.exists()


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_cache_size_is_said_before_the_load(cache, events_dir, monkeypatch, value):
    """BRANDLENS_CACHE_MAX_GB=abc was ignored without a word (the 20 GB default)."""
    monkeypatch.setenv("BRANDLENS_CACHE_MAX_GB", value)
    with pytest.raises(UsageError, match=f"BRANDLENS_CACHE_MAX_GB: expected gigabytes .*{value}"):
        Dataset(events_dir(ROWS))
    assert not cache.exists() or list(cache.iterdir()) == []
    monkeypatch.setenv("BRANDLENS_CACHE_MAX_GB", "0.5")
    assert store.cache_max_bytes() == 500_000_000


def test_a_link_read_as_its_target_shares_its_entry(tmp_path):
    """A link named differently from its target, read the same way, is keyed as the
    target (one entry, one validation); a database linked elsewhere keys the log
    beside the file it is attached from."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "events.csv").write_text("user_id\nu1\n")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert _key(tmp_path / "link") == _key(real)
    db = _database_source(tmp_path)
    (tmp_path / "other.db").symlink_to(db)
    clean = _key(tmp_path / "other.db")
    assert clean == _key(db)
    db.with_name(db.name + ".wal").write_bytes(b"\0" * 64)
    assert _key(tmp_path / "other.db") != clean


DAMAGE = [  # (statement run on a good dataset file, what the one-line error says)
    ("UPDATE brandlens_data._meta SET value = '{' WHERE key = 'report'", "does not read"),
    ("DELETE FROM brandlens_data._meta WHERE key = 'source_columns'", "no 'source_columns'"),
    # JSON nested past Python's stack: an internal RecursionError before (a review)
    (
        "UPDATE brandlens_data._meta SET value = repeat('[', 100000) || repeat(']', 100000) "
        "WHERE key IN ('source_columns', 'vocabulary')",
        "maximum recursion depth",
    ),
    ("UPDATE brandlens_data._meta SET value = 'UTC'';x' WHERE key = 'timezone'", "time zone"),
    ("UPDATE brandlens_data.events SET event_type = 'nonsense'", "'nonsense', which validation"),
    ("UPDATE brandlens_data.events SET user_id = NULL", "2 row(s) of its events table miss"),
    ("DELETE FROM brandlens_data.events WHERE user_id = 'u1'", "holds 1 rows where"),
    ("ALTER TABLE brandlens_data.events DROP COLUMN user_id", "has no column user_id"),
    ("ALTER TABLE brandlens_data.events ALTER ts TYPE VARCHAR", "events.ts is VARCHAR"),
    (
        "UPDATE brandlens_data._meta SET value = replace(value, '\"rows_read\":3', "
        "'\"rows_read\":99') WHERE key = 'report'",
        "does not add up",
    ),
]


@pytest.mark.parametrize(("statement", "says"), DAMAGE)
def test_a_dataset_file_not_as_a_load_wrote_it_is_a_data_error(
    cache, events_dir, tmp_path, statement, says
):
    """A file that looks like a dataset file skipped validation: damaged metadata was an
    internal error (ValidationError, KeyError), and rows validation refuses (an unknown
    event type, a missing user) reached the plugins, with a report that did not add up.
    A given dataset file is checked as a load leaves it; a cache entry so damaged is
    made again from its source (its rows are the user's own: not scanned on every run)."""
    good = tmp_path / "good.duckdb"
    with Dataset(events_dir(ROWS), into=good):
        pass
    bad = tmp_path / "bad.duckdb"
    shutil.copy(good, bad)
    con = duckdb.connect(str(bad))
    con.execute(statement)
    con.close()
    with pytest.raises(DataError) as e:
        Dataset(bad)
    message = str(e.value)
    assert message.startswith(f"{bad}: a brandlens dataset file that is not as a load wrote")
    assert says in message and message.endswith(f"--into {bad}`")
    if "validation refuses" in message or "miss a required" in message:
        return  # rows are checked in files anyone can write, not in the user's own cache
    data = events_dir(ROWS)
    with Dataset(data) as ds:  # the cache entry, damaged the same way
        entry = ds.cached
    con = duckdb.connect(str(entry))
    con.execute(statement)
    con.close()
    with Dataset(data) as ds:
        assert ds.report.events.rows_accepted == 2
        users = ds.con.execute("SELECT count(DISTINCT user_id) FROM events").fetchone()[0]
    assert users == 2


def test_a_good_dataset_file_is_read_as_written(cache, events_dir, tmp_path):
    good = tmp_path / "good.duckdb"
    with Dataset(events_dir(ROWS), into=good) as ds:
        loaded = ds.report
    with Dataset(good) as ds:
        assert ds.report == loaded


def test_a_directory_that_cannot_be_looked_into_does_not_stop_the_clean_up(tmp_path, monkeypatch):
    """Another user's 0700 directory in a shared /tmp: asking for its lock file raised
    PermissionError, which ended the clean-up there, so the stale directories listed
    after it stayed forever. It is now taken as held and the others still go."""
    theirs = tmp_path / "brandlens-1-theirs"  # sorts first
    (theirs / "spill").mkdir(parents=True)
    (theirs / "lock").write_bytes(b"")
    stale = [tmp_path / f"brandlens-{_ended_pid()}-stale{i}" for i in range(3)]
    for d in stale:
        (d / "spill").mkdir(parents=True)
    real_exists = Path.exists

    def exists(self, *args, **kwargs):
        if theirs in (self, *self.parents):
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", exists)
    removed = workdir.remove_stale(tmp_path)
    monkeypatch.setattr(Path, "exists", real_exists)
    assert sorted(removed) == sorted(stale) and theirs.exists()
    assert not any(d.exists() for d in stale)


def test_a_file_system_without_flock_falls_back_to_the_process_id(tmp_path, monkeypatch):
    """Some network mounts refuse flock: the run's directory is made without a lock file
    (judged by its process id, as before locks), instead of refusing to run there."""
    fcntl = pytest.importorskip("fcntl")

    def no_flock(fd, op):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    made = workdir.make(tmp_path)
    assert made.is_dir() and not (made / "lock").exists()
    monkeypatch.undo()
    assert workdir.remove_stale(tmp_path) == []  # this process is alive: kept
    workdir.remove(made)
    assert list(tmp_path.iterdir()) == []
