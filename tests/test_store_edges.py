"""Edges of the store, the cache, the private working directory and file writes that a
mutation run found the other tests let through: each test fails on one small
definition error (a cache-key part dropped, a threshold moved, a clean-up skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import brandlens
from brandlens import api
from brandlens.data import layout, store
from brandlens.engine import workdir
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError, UsageError
from conftest import ev, write_csv

ROWS = [
    ev("2025-06-01 02:00:00", "u1", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-02 02:00:00", "u2", "ad_click", brand="Lumi"),
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(root))
    for name in ("BRANDLENS_CACHE", "BRANDLENS_CACHE_MAX_GB"):
        monkeypatch.delenv(name, raising=False)
    return root


def _events_folder(path: Path, rows: list[dict] | None = None) -> Path:
    write_csv(path / "events.csv", rows or ROWS)
    return path


def _key(data: Path, mapping: str | None = None, zone: str = "Asia/Shanghai") -> str:
    return store.cache_path(data, mapping, zone, ["ad_click", "purchase"]).name


def _ended_pid() -> int:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(ended.stdout)


# ---- the cache key: every part the docs name ------------------------------------------


def test_a_file_rewritten_to_the_same_size_at_another_time_gets_a_new_key(tmp_path):
    # u1 -> u9: the same number of bytes; only the modification time says it changed.
    data = _events_folder(tmp_path / "data")
    events = data / "events.csv"
    before = _key(data)
    size = events.stat().st_size
    events.write_text(events.read_text().replace("u1", "u9"))
    os.utime(events, ns=(time.time_ns(), events.stat().st_mtime_ns + 10**9))
    assert events.stat().st_size == size
    assert _key(data) != before


def test_a_file_changed_in_size_with_its_time_put_back_gets_a_new_key(tmp_path):
    data = _events_folder(tmp_path / "data")
    events = data / "events.csv"
    before = _key(data)
    stamp = events.stat()
    events.write_text(events.read_text() + "2025-06-03 02:00:00,u3,ad_click,Lumi\n")
    os.utime(events, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert events.stat().st_mtime_ns == stamp.st_mtime_ns
    assert _key(data) != before


def test_a_file_rewritten_at_the_same_size_with_its_time_put_back_gets_a_new_key(tmp_path):
    # u1 -> u9 and the modification time set back, as cp -p or rsync -t of another
    # version leaves it: size and time say unchanged; the status-change time does not
    data = _events_folder(tmp_path / "data")
    events = data / "events.csv"
    stamp = events.stat()
    before = _key(data)
    time.sleep(0.01)  # a status-change time a coarse clock can tell apart
    events.write_text(events.read_text().replace("u1", "u9"))
    os.utime(events, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    after = events.stat()
    assert (after.st_size, after.st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns)
    assert _key(data) != before


def test_a_file_replaced_by_another_of_the_same_size_and_time_gets_a_new_key(tmp_path):
    # mv of a corrected copy over the file: a new inode at the same path
    data = _events_folder(tmp_path / "data")
    events = data / "events.csv"
    stamp = events.stat()
    before = _key(data)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(events.read_text().replace("u1", "u9"))
    os.utime(fixed, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    fixed.replace(events)
    assert _key(data) != before


def test_a_link_pointed_at_another_file_of_the_same_size_and_time_gets_a_new_key(tmp_path):
    # data/events.csv -> a.csv, then -> b.csv: same size (u1/u9) and the same time, but
    # another file is read, so the content id (each file's resolved path) must change.
    a = _events_folder(tmp_path / "a") / "events.csv"
    b = _events_folder(
        tmp_path / "b", [{**r, "user_id": r["user_id"].replace("1", "9")} for r in ROWS]
    )
    b = b / "events.csv"
    os.utime(b, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns))
    assert a.stat().st_size == b.stat().st_size
    data = tmp_path / "data"
    data.mkdir()
    link = data / "events.csv"
    link.symlink_to(a)
    before = _key(data)
    link.unlink()
    link.symlink_to(b)
    assert _key(data) != before


def test_the_key_names_the_mapping_the_zone_and_the_vocabulary(tmp_path):
    data = _events_folder(tmp_path / "data")
    base = _key(data)
    assert _key(data, mapping='{"columns": {"user_id": "uid"}}') != base
    assert _key(data, zone="UTC") != base
    other = store.cache_path(data, None, "Asia/Shanghai", ["ad_click", "purchase", "share"])
    assert other.name != base
    # the vocabulary as a set: its order does not matter
    assert store.cache_path(data, None, "Asia/Shanghai", ["purchase", "ad_click"]).name == base


def test_the_key_names_the_brandlens_duckdb_and_store_versions(tmp_path, monkeypatch):
    data = _events_folder(tmp_path / "data")
    base = _key(data)
    for target, name, value in (
        (store, "__version__", "0.0.0-other"),
        (duckdb, "__version__", "0.0.1"),
        (store, "STORE_FORMAT", store.STORE_FORMAT + 1),
    ):
        with monkeypatch.context() as m:
            m.setattr(target, name, value)
            assert _key(data) != base, name
    assert _key(data) == base


def test_a_new_entry_is_named_by_its_data_id_and_replaces_only_its_own_data(cache, tmp_path):
    one = _events_folder(tmp_path / "one")
    two = _events_folder(tmp_path / "two")
    with Dataset(one) as ds:
        first = ds.cached
    with Dataset(two) as ds:
        other = ds.cached
    events = one / "events.csv"
    events.write_text(events.read_text() + "2025-06-03 02:00:00,u3,ad_click,Lumi\n")
    with Dataset(one) as ds:
        second = ds.cached
    assert first.name.split("-")[0] == second.name.split("-")[0] != other.name.split("-")[0]
    assert store.cache_entries() == sorted([second, other])


# ---- eviction: least recently used first, never the entry just made ---------------------


def _three_entries(tmp_path: Path) -> list[Path]:
    return [_events_folder(tmp_path / name) for name in ("a", "b", "c")]


def test_eviction_removes_the_least_recently_used_and_stops_at_the_cap(
    cache, tmp_path, monkeypatch
):
    a, b, c = _three_entries(tmp_path)
    with Dataset(a) as ds:
        ea = ds.cached
    with Dataset(b) as ds:
        eb = ds.cached
    size = ea.stat().st_size
    assert eb.stat().st_size == size  # the same rows: stores of one size
    now = time.time()
    os.utime(ea, (now - 200, now - 200))
    os.utime(eb, (now - 100, now - 100))
    with Dataset(a) as ds:  # a cached run marks `a` as just used
        assert ds.cached == ea
    assert ea.stat().st_mtime > now - 50
    # Room for exactly two stores (the half byte keeps float rounding off the boundary):
    # making c's removes b's (used least recently) and stops, as a + c fill the cap.
    monkeypatch.setenv("BRANDLENS_CACHE_MAX_GB", repr((2 * size + 0.5) / 1e9))
    assert store.cache_max_bytes() == 2 * size
    with Dataset(c) as ds:
        ec = ds.cached
    assert ec.stat().st_size == size
    assert store.cache_entries() == sorted([ea, ec])


def test_a_cap_of_zero_keeps_only_the_entry_just_made(cache, tmp_path, monkeypatch):
    a, b, _ = _three_entries(tmp_path)
    monkeypatch.setenv("BRANDLENS_CACHE_MAX_GB", "0")
    assert store.cache_max_bytes() == 0  # 0 is a size ("0 or more"), not an error
    with Dataset(a) as ds:
        ea = ds.cached
    assert store.cache_entries() == [ea]
    with Dataset(b) as ds:
        eb = ds.cached
        assert ds.con.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    assert store.cache_entries() == [eb]


@pytest.mark.parametrize("value", ["inf", "1e9", "-0.1"])
def test_a_cache_size_out_of_range_is_a_usage_error(cache, monkeypatch, value):
    monkeypatch.setenv("BRANDLENS_CACHE_MAX_GB", value)
    with pytest.raises(UsageError, match="BRANDLENS_CACHE_MAX_GB: expected gigabytes"):
        store.cache_max_bytes()


def test_cache_info_and_clear_count_every_entry(cache, tmp_path):
    a, b, _ = _three_entries(tmp_path)
    with Dataset(a) as ds:
        ea = ds.cached
    with Dataset(b) as ds:
        eb = ds.cached
    total = ea.stat().st_size + eb.stat().st_size  # summed by hand from the two files
    info = api.cache_info()
    assert (info.entries, info.bytes, info.path) == (2, total, str(cache))
    removed, size = store.clear_cache()
    assert (removed, size) == (2, total)
    assert api.cache_info().entries == 0 and list(cache.iterdir()) == []


# ---- where the cache is, and whether it is on -------------------------------------------


def test_the_cache_folder_is_named_brandlens_under_xdg_or_home(monkeypatch, tmp_path):
    monkeypatch.delenv("BRANDLENS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.cache_dir() == tmp_path / "xdg" / "brandlens"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store.cache_dir() == tmp_path / "home" / ".cache" / "brandlens"
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "mine"))
    assert store.cache_dir() == tmp_path / "mine"


@pytest.mark.parametrize(
    ("value", "on"),
    [
        *[("0", False), ("false", False), ("no", False), ("off", False), (" OFF ", False)],
        *[("FALSE", False), ("1", True), ("yes", True), ("", True)],
    ],
)
def test_brandlens_cache_switches_the_cache(monkeypatch, value, on):
    monkeypatch.setenv("BRANDLENS_CACHE", value)
    assert store.cache_enabled() is on


# ---- unfinished stores in the cache -----------------------------------------------------


def test_unfinished_stores_and_their_logs_go_after_an_hour_or_at_cache_clear(cache):
    cache.mkdir(parents=True)
    half_hour = [cache / ".k0-c.duckdb.ab12.tmp", cache / ".k0-c.duckdb.ab12.tmp.wal"]
    two_hours = [cache / ".k2-c.duckdb.cd34.tmp", cache / ".k2-c.duckdb.cd34.tmp.wal"]
    for p, age in [*((p, 1800) for p in half_hour), *((p, 7200) for p in two_hours)]:
        p.write_bytes(b"half a store")
        os.utime(p, (time.time() - age,) * 2)
    store.remove_unfinished()
    # A run may still be writing a half-hour-old store; a two-hour-old one is a killed run's,
    # its write-ahead log included.
    assert [p.exists() for p in half_hour + two_hours] == [True, True, False, False]
    store.clear_cache()
    assert list(cache.iterdir()) == []


# ---- dataset files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shop.ddb", "shop.db", "SHOP.DUCKDB"])
def test_every_dataset_suffix_in_any_case_is_read_as_a_dataset_file(cache, tmp_path, name):
    target = tmp_path / name
    with Dataset(_events_folder(tmp_path / "data"), into=target) as ds:
        loaded = ds.report
    with Dataset(target) as ds:
        assert ds.cached == target and ds.report == loaded
    assert store.cache_entries() == []


def test_one_stored_row_missing_a_required_value_is_a_data_error(cache, tmp_path):
    good = tmp_path / "good.duckdb"
    with Dataset(_events_folder(tmp_path / "data"), into=good):
        pass
    con = duckdb.connect(str(good))
    con.execute("UPDATE brandlens_data.events SET user_id = NULL WHERE user_id = 'u2'")
    con.close()
    with pytest.raises(DataError, match=r"1 row\(s\) of its events table miss a required"):
        Dataset(good)


# ---- the layout measurement's thresholds -----------------------------------------------


def _store_with_users(users: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS s")
    con.execute("CREATE SCHEMA s.brandlens_data")
    con.execute("CREATE TABLE s.brandlens_data.events (user_id VARCHAR)")
    con.execute("INSERT INTO s.brandlens_data.events SELECT unnest($u)", {"u": users})
    return con


def test_a_log_is_measured_from_4096_events_on():
    # All one user: every row after the first follows its own user, so a measured log
    # says 1.0; 4,095 events are not measured (docs/data.md: "fewer than 4,096").
    assert layout.measure(_store_with_users(["u"] * 4095), "s").same_user_share is None
    assert layout.measure(_store_with_users(["u"] * 4096), "s").same_user_share == 1.0


def test_two_rows_are_enough_for_a_share():
    # a a: one pair, of one user -> 1.0; a b: one pair, two users -> 0.0
    con = _store_with_users(["a", "a"])
    assert layout.same_user_share(con, "s.brandlens_data.events") == 1.0
    con = _store_with_users(["a", "b"])
    assert layout.same_user_share(con, "s.brandlens_data.events") == 0.0


# ---- the private working directory ------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_cache_folder_its_entries_and_its_memo_are_private(tmp_path, monkeypatch):
    """Each entry is a copy of the user's validated log (ids, orders, amounts): under a
    umask of 022 the folder was 755 and the entries 644, readable by every local user
    (a hostile-input review)."""
    from brandlens.plugin import sqlcheck

    cache = tmp_path / "home" / "cache"
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(cache))
    # an earlier run in this process with cache=False told the memo to keep nothing
    monkeypatch.setattr(sqlcheck, "_keep_nothing", False)
    old = os.umask(0o022)
    try:
        brandlens.validate(_events_folder(tmp_path / "data"))
        sqlcheck._save()
    finally:
        os.umask(old)
    assert cache.stat().st_mode & 0o777 == 0o700
    entries = sorted(p.name.rsplit(".", 1)[-1] for p in cache.iterdir())
    assert entries == ["duckdb", "json"]  # the entry and the remembered checks
    assert {p.stat().st_mode & 0o777 for p in cache.iterdir()} == {0o600}
    # a dataset file the user asks for keeps the usual mode: it is theirs to share
    os.umask(0o022)
    try:
        api.load(tmp_path / "data", into=tmp_path / "d.duckdb")
    finally:
        os.umask(old)
    assert (tmp_path / "d.duckdb").stat().st_mode & 0o777 == 0o644


def test_a_run_s_directory_is_private(tmp_path):
    made = workdir.make(tmp_path)
    try:
        assert made.stat().st_mode & 0o777 == 0o700
    finally:
        workdir.remove(made)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_half_made_directory_goes_only_after_an_hour(tmp_path):
    young = tmp_path / ".brandlens-making-young1"
    old = tmp_path / ".brandlens-making-old1"
    for d, age in ((young, 1800), (old, 7200)):
        d.mkdir()
        os.utime(d, (time.time() - age,) * 2)
    assert workdir.remove_stale(tmp_path) == [old]
    assert young.exists() and not old.exists()


def test_a_directory_of_another_user_s_live_process_is_kept(tmp_path, monkeypatch):
    # No lock file (an older brandlens, or no flock): judged by its process id, and a
    # process that may not be signalled (PermissionError) is someone else's, alive.
    theirs = tmp_path / "brandlens-4242-theirs1"
    (theirs / "spill").mkdir(parents=True)

    def not_yours(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(workdir.os, "kill", not_yours)
    assert workdir.remove_stale(tmp_path) == []
    assert theirs.exists()


def test_only_brandlens_own_names_are_cleaned_up(tmp_path):
    pid = _ended_pid()
    ours = tmp_path / f"brandlens-{pid}-ab_c12"
    notes = tmp_path / f"brandlens-{pid}-my.notes"  # not a name mkdtemp makes
    plain = tmp_path / f"brandlens-{pid}-xyz789"  # a file, not a directory
    for d in (ours, notes):
        (d / "spill").mkdir(parents=True)
    plain.write_text("keep")
    assert workdir.remove_stale(tmp_path) == [ours]
    assert notes.exists() and plain.read_text() == "keep"


def test_a_directory_that_cannot_be_made_leaves_nothing(tmp_path, monkeypatch):
    base = tmp_path / "made" / "for" / "it"

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(workdir.tempfile, "mkdtemp", refused)
    with pytest.raises(UsageError, match=r"--temp-directory .*: cannot write \(Permission denied"):
        workdir.make(base)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_failed_rename_leaves_no_half_made_directory(tmp_path, monkeypatch):
    def refused(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(workdir.os, "rename", refused)
    with pytest.raises(UsageError, match="cannot write"):
        workdir.make(tmp_path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


# ---- files written ----------------------------------------------------------------------


def _umask() -> int:
    """The process umask as the kernel reports it (independent of fileio's own reading)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    pytest.skip("no /proc/self/status")


def test_a_written_file_gets_the_usual_mode(tmp_path):
    from brandlens.fileio import atomic_write_text

    mask = _umask()
    if mask & 0o066 == 0o066:
        pytest.skip("a umask that already gives 0600")
    target = tmp_path / "out.json"
    atomic_write_text(target, "{}")
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # 0644 under umask 022


def test_a_failed_rename_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    from brandlens import fileio

    target = tmp_path / "out.json"
    target.write_text("before")

    def refused(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.os, "replace", refused)
    with pytest.raises(UsageError, match=r"out.json: cannot write \(Permission denied\)"):
        fileio.atomic_write_text(target, "after")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert target.read_text() == "before"


def test_a_settings_file_of_exactly_the_limit_is_read(tmp_path):
    from brandlens.fileio import read_small_text

    path = tmp_path / "m.yaml"
    path.write_text("abcd")
    assert read_small_text(path, limit=4) == "abcd"
    path.write_text("abcde")
    with pytest.raises(OSError, match="larger than"):
        read_small_text(path, limit=4)


def test_a_gz_output_is_gzip_compressed(tmp_path):
    import gzip

    import pyarrow as pa

    from brandlens.fileio import write_rows

    target = tmp_path / "rows.csv.gz"
    write_rows(pa.table({"a": [1, 2]}), target)
    assert target.read_bytes()[:2] == b"\x1f\x8b"  # the gzip magic number
    assert gzip.decompress(target.read_bytes()).decode().splitlines() == ["a", "1", "2"]


def test_a_database_path_is_given_to_duckdb_absolute(tmp_path, monkeypatch):
    # "md:shop.duckdb" relative to the working folder is a file name, not MotherDuck.
    from brandlens.fileio import database_path

    monkeypatch.chdir(tmp_path)
    assert database_path("md:shop.duckdb", "--into") == str(tmp_path / "md:shop.duckdb")
    with pytest.raises(UsageError, match=r"--into a\\b.duckdb: .*a backslash"):
        database_path("a\\b.duckdb", "--into")
    with pytest.raises(DataError, match=r"x\?y.duckdb: .*a '\?'"):
        database_path("x?y.duckdb", "", DataError)


# ---- the API's argument checks ------------------------------------------------------------

NOWHERE = "/nonexistent/brandlens-data"


def _load(**kw):
    return lambda: api.load(NOWHERE, "/nonexistent/shop.duckdb", **kw)


REFUSED = [
    # (call, the one line it must say): each taken for something else without its check
    (
        lambda: brandlens.compute(NOWHERE, methodologies={"fast": 1}),
        "methodologies: expected a name or a list of names, got dict",
    ),
    (lambda: brandlens.funnel(NOWHERE, ["x" * 70]), "brand: expected a name (a text), got list"),
    (_load(cluster="no"), "cluster: expected True or False, got str 'no'"),
    (_load(strict="yes"), "strict: expected True or False, got str 'yes'"),
    (_load(preset=1), "preset: expected a text, got int 1"),
    (_load(ts_timezone=8), "ts_timezone: expected a text, got int 8"),
    (_load(load_progress=3), "load_progress: expected a function, got int 3"),
    (_load(quarantine_out=7), "quarantine_out: expected a path, got int 7"),
    (
        lambda: brandlens.validate(NOWHERE, cache="no"),
        "cache: expected True or False, got str 'no'",
    ),
]


@pytest.mark.parametrize(("call", "message"), REFUSED)
def test_a_wrong_argument_is_refused_before_anything_is_opened(call, message):
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value) == message


def test_a_temp_directory_that_cannot_be_created_leaves_no_folders_behind(tmp_path):
    # mkdir(parents=True) makes "new" and "deeper", then fails on a name longer than
    # NAME_MAX (255 on Linux); the folders it made go again, the one it could not make
    # is skipped, not taken for a folder in use
    base = tmp_path / "new" / "deeper" / ("a" * 300)
    with pytest.raises(UsageError, match="cannot create"):
        workdir.make(base)
    assert list(tmp_path.iterdir()) == []


def test_a_temp_directory_name_too_long_under_an_existing_folder_is_a_usage_error(tmp_path):
    # asking whether such a path exists raises OSError in Python 3.11; the question
    # must not, so the answer is the one-line usage error
    with pytest.raises(UsageError, match="cannot create"):
        workdir.make(tmp_path / ("a" * 300))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("under", [False, True], ids=["a file", "under a file"])
def test_a_cache_folder_that_is_a_file_is_said_not_silently_skipped(tmp_path, monkeypatch, under):
    """BRANDLENS_CACHE_DIR naming a file (or a folder under one) used to turn the cache
    off without a word: every run validated again, and `cache info` reported it enabled
    and empty."""
    data = _events_folder(tmp_path / "d")
    afile = tmp_path / "afile"
    afile.write_text("")
    root = afile / "cache" if under else afile
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(root))
    monkeypatch.delenv("BRANDLENS_CACHE", raising=False)
    why = f"{afile} is a file, so it cannot be made" if under else "a file, not a folder"
    message = (
        f"BRANDLENS_CACHE_DIR {root}: {why}; name a folder (made if missing), or set "
        "BRANDLENS_CACHE=0 to keep nothing"
    )
    for call in (
        lambda: brandlens.validate(data),
        store.describe_cache,
        store.clear_cache,
    ):
        with pytest.raises(UsageError) as caught:
            call()
        assert str(caught.value) == message
    # keeping nothing needs no folder, and a cache that is off is described as off
    assert brandlens.validate(data, cache=False).events.rows_accepted > 0
    monkeypatch.setenv("BRANDLENS_CACHE", "0")
    assert brandlens.validate(data).events.rows_accepted > 0
    info = store.describe_cache()
    assert (info.enabled, info.entries) == (False, 0)
    assert store.clear_cache() == (0, 0)


def test_a_cache_folder_that_cannot_be_made_is_warned_of_and_the_run_goes_on(tmp_path, monkeypatch):
    """A read-only home, say (the tests run as root, who may write anywhere: mkdir is
    made to fail as it would there)."""
    data = _events_folder(tmp_path / "d")
    folder = tmp_path / "ro" / "cache"
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(folder))
    monkeypatch.delenv("BRANDLENS_CACHE", raising=False)
    real = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.warns(
        store.CacheWarning, match=r"cannot make the cache folder .*ro/cache \(Permission denied\)"
    ):
        report = brandlens.validate(data)
    assert report.events.rows_accepted > 0 and not folder.exists()
