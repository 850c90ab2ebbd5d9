"""Event times written without a UTC offset, read in the zone the user names.

Exports from Chinese platforms usually write Beijing wall-clock time with no offset.
Read as UTC (the default), every event after 16:00 local lands on the next day.
``--ts-timezone ZONE`` (or a mapping's ``ts_timezone``) reads such times in ZONE; a
time that carries its own offset or zone is read as written.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import duckdb
import hypothesis
import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.engine.runs import Dataset

# Each row: (text in the file, stored ts in UTC, local date in Asia/Shanghai) when the
# file's times are read with --ts-timezone Asia/Shanghai (UTC+8, no DST since 1991).
BEIJING = [
    # 21:30 Beijing time is 13:30 UTC, still 30 June locally (read as UTC: 1 July)
    ("2025-06-30 21:30:00", "2025-06-30 13:30:00", "2025-06-30"),
    # ISO 'T' and a fraction: 23:59:59.5 local is 15:59:59.5 UTC
    ("2025-06-30T23:59:59.5", "2025-06-30 15:59:59.500000", "2025-06-30"),
    # spaces around the text are trimmed; 00:10 on 1 July local is 16:10 UTC on 30 June
    (" 2025-07-01 00:10:00 ", "2025-06-30 16:10:00", "2025-07-01"),
    # a date alone is local midnight: 16:00 UTC the day before
    ("2025-07-01", "2025-06-30 16:00:00", "2025-07-01"),
    # minutes without seconds
    ("2025-06-30 08:05", "2025-06-30 00:05:00", "2025-06-30"),
    # its own offset wins: 21:30 UTC is 05:30 on 1 July in Beijing
    ("2025-06-30 21:30:00+00:00", "2025-06-30 21:30:00", "2025-07-01"),
    ("2025-06-30 21:30:00Z", "2025-06-30 21:30:00", "2025-07-01"),
    ("2025-06-30 21:30:00 +0000", "2025-06-30 21:30:00", "2025-07-01"),
    ("2025-06-30 21:30:00 UTC", "2025-06-30 21:30:00", "2025-07-01"),
    # its own zone wins: 21:30 in New York (EDT, UTC-4) is 01:30 UTC on 1 July
    ("2025-06-30 21:30:00 America/New_York", "2025-07-01 01:30:00", "2025-07-01"),
    # 08:00 Beijing time written with its offset is the same instant as without it
    ("2025-06-30T08:00:00+08:00", "2025-06-30 00:00:00", "2025-06-30"),
]
NOT_TIMES = ["not a time", "2025-13-01 10:00:00"]


def _write_csv(path: Path, texts: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "ts", "user_id", "event_type", "brand"])
        w.writerows([i, t, f"u{i}", "ad_click", "B"] for i, t in enumerate(texts))
    return path


def _rows(data: Path | str, **kw) -> tuple[list[tuple[str, str]], dict[str, int], str]:
    """(accepted (ts UTC, local date) in file order, {reason: count}, report's ts zone)."""
    with Dataset(data, **kw) as ds:
        rows = ds.con.execute(
            "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S.%f'), CAST(local_date AS VARCHAR) "
            "FROM events ORDER BY CAST(event_id AS BIGINT)"
        ).fetchall()
        reasons = {r.reason: r.count for r in ds.report.reasons}
        return [(t.removesuffix(".000000"), d) for t, d in rows], reasons, ds.report.ts_timezone


def test_beijing_wall_clock_times_in_a_csv(tmp_path):
    data = _write_csv(tmp_path / "events.csv", [t for t, _, _ in BEIJING] + NOT_TIMES)
    want = [(ts, day) for _, ts, day in BEIJING]
    got = _rows(data, cache=False, ts_timezone="Asia/Shanghai")
    assert got == (want, {"ts_unparseable": 2}, "Asia/Shanghai")
    # without the option the first row is read as UTC: 21:30 UTC is 1 July in Beijing
    plain, _, zone = _rows(data, cache=False)
    assert plain[0] == ("2025-06-30 21:30:00", "2025-07-01") and zone == "UTC"
    assert plain[5:] == want[5:]  # times with their own offset or zone do not move


# Spaces around a time are trimmed and a tab or line break makes it no time, whether
# or not the zone is named: DuckDB's cast alone reads " 2025-06-01" but not
# "2025-06-01 ", and a named zone's form took "2025-06-01\t" as midnight, so the default
# (read as UTC) once quarantined rows that --ts-timezone UTC accepted, and back.
PADDED = [
    ("2025-06-01 ", "2025-06-01 00:00:00"),  # a date alone: midnight
    (" 2025-06-01", "2025-06-01 00:00:00"),
    ("  2025-06-01 10:00:00  ", "2025-06-01 10:00:00"),
    (" 2025-06-01 10:00:00+08:00 ", "2025-06-01 02:00:00"),  # its own offset
    ("2025-06-01 10:00:00 +0800 ", "2025-06-01 02:00:00"),  # an offset after a space
]
BROKEN = ["2025-06-01\t", "\t2025-06-01 10:00:00", "2025-06-01\t10:00:00", "2025-06-01\n"]
BROKEN += ["2025-06-01\x0b", "2025-06-01\x0c", "2025-06-01\r"]  # a named zone read these
PADDED.append(("2025-06-01\u00a0", "2025-06-01 00:00:00"))  # trim() takes a no-break space


@pytest.mark.parametrize("zone", [None, "UTC"], ids=["default", "named"])
def test_spaces_around_a_time_are_trimmed_whether_or_not_the_zone_is_named(tmp_path, zone):
    data = _write_csv(tmp_path / "events.csv", [t for t, _ in PADDED] + BROKEN)
    kw = {} if zone is None else {"ts_timezone": zone}
    rows, reasons, _ = _rows(data, cache=False, **kw)
    assert [ts for ts, _ in rows] == [ts for _, ts in PADDED]
    assert reasons == {"ts_unparseable": len(BROKEN)}


def test_the_mapping_field_and_a_derive_giving_a_wall_clock_time(tmp_path):
    # The docs' recipe without timezone(): the derive gives 21:30 as a naive timestamp
    # and the mapping says it is Beijing time.
    data = tmp_path / "events.csv"
    data.write_text(
        "时间,用户ID,行为,品牌,金额\n2025-06-30 21:30:00,U1,购买,完美日记,10\n", encoding="utf-8"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {user_id: 用户ID, event_type: 行为, brand: 品牌, amount: 金额}\n"
        "derive: {ts: \"strptime(时间, '%Y-%m-%d %H:%M:%S')\"}\n"
        "event_types: {购买: purchase}\n"
        "ts_timezone: Asia/Shanghai\n",
        encoding="utf-8",
    )
    with Dataset(data, mapping=mapping, cache=False) as ds:
        rows = ds.con.execute("SELECT ts, local_date FROM events").fetchall()
    assert [(str(t), str(d)) for t, d in rows] == [("2025-06-30 13:30:00", "2025-06-30")]
    # the option wins over the mapping's field: read as UTC, 21:30 is 1 July locally
    with Dataset(data, mapping=mapping, cache=False, ts_timezone="UTC") as ds:
        rows = ds.con.execute("SELECT ts, local_date FROM events").fetchall()
    assert [(str(t), str(d)) for t, d in rows] == [("2025-06-30 21:30:00", "2025-07-01")]


def _typed_parquet(folder: Path) -> Path:
    """A Parquet file whose ts is a naive TIMESTAMP, as most exports write it."""
    folder.mkdir(parents=True)
    path = folder / "events.parquet"
    duckdb.execute(
        "COPY (SELECT * FROM (VALUES "
        "(1::BIGINT, TIMESTAMP '2025-06-30 21:30:00', 'u1', 'ad_click', 'B'), "
        "(2::BIGINT, TIMESTAMP '2025-07-01 07:59:59', 'u2', 'ad_click', 'B'), "
        "(3::BIGINT, TIMESTAMP '1900-01-01 00:00:00', 'u3', 'ad_click', 'B')"
        f") t(event_id, ts, user_id, event_type, brand)) TO '{path}' (FORMAT parquet)"
    )
    return path


@pytest.mark.parametrize("cached", [False, True], ids=["read in place", "copied to the cache"])
def test_a_typed_naive_timestamp_column(tmp_path, monkeypatch, cached):
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    path = _typed_parquet(tmp_path / "p")
    got = _rows(path.parent, cache=cached, ts_timezone="Asia/Shanghai")
    # 21:30 and 07:59:59 Beijing time are 13:30 and 23:59:59 UTC on 30 June. 1900-01-01
    # 00:00 in Beijing (UTC+08:05:43 then) is before 1900 in UTC: out of range.
    assert got == (
        [("2025-06-30 13:30:00", "2025-06-30"), ("2025-06-30 23:59:59", "2025-07-01")],
        {"ts_unparseable": 1},
        "Asia/Shanghai",
    )
    # the cache is keyed by the zone: the same files without it are read again, as UTC
    # (1900-01-01 00:00 UTC is in range, and 08:05:43 that day in Beijing)
    assert _rows(path.parent, cache=cached)[0] == [
        ("2025-06-30 21:30:00", "2025-07-01"),
        ("2025-07-01 07:59:59", "2025-07-01"),
        ("1900-01-01 00:00:00", "1900-01-01"),
    ]


def test_a_zoned_timestamp_or_date_column(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    duckdb.execute(
        "COPY (SELECT * FROM (VALUES "
        "(1::BIGINT, TIMESTAMPTZ '2025-06-30 21:30:00+00', DATE '2025-07-01', 'u1', "
        "'ad_click', 'B')) t(event_id, ts, day, user_id, event_type, brand)) "
        f"TO '{folder / 'events.parquet'}' (FORMAT parquet)"
    )
    mapping = tmp_path / "m.yaml"
    # an instant keeps its meaning whatever the zone
    mapping.write_text("ts_timezone: America/New_York\n", encoding="utf-8")
    assert _rows(folder, mapping=mapping, cache=False)[0] == [("2025-06-30 21:30:00", "2025-07-01")]
    # a DATE column as ts: midnight in New York (EDT) is 04:00 UTC, 12:00 in Beijing
    mapping.write_text("ts_timezone: America/New_York\ncolumns: {ts: day}\n", encoding="utf-8")
    assert _rows(folder, mapping=mapping, cache=False)[0] == [("2025-07-01 04:00:00", "2025-07-01")]
    # and without a zone, midnight UTC (was: a binder error that failed the file)
    mapping.write_text("columns: {ts: day}\n", encoding="utf-8")
    assert _rows(folder, mapping=mapping, cache=False)[0] == [("2025-07-01 00:00:00", "2025-07-01")]


ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # UTC+05:45
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "America/St_Johns",  # UTC-03:30 with DST
    "UTC",
]


@hypothesis.given(
    wall=st.datetimes(min_value=datetime(1901, 1, 2), max_value=datetime(2199, 12, 30)),
    zone=st.sampled_from(ZONES),
    spelling=st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", " %Y-%m-%d %H:%M:%S "]),
    fraction=st.booleans(),
)
@hypothesis.settings(max_examples=300, deadline=None)
def test_wall_clock_text_reads_as_duckdb_timezone_reads_it(wall, zone, spelling, fraction):
    """Whatever the time, zone (DST gaps and folds included) and spelling, text without
    an offset gives the instant DuckDB's timezone(zone, naive timestamp) gives."""
    from brandlens.data.validation import text_instant

    wall = wall.replace(microsecond=wall.microsecond if fraction else 0)
    text = wall.strftime(spelling)
    if fraction:
        text = text.rstrip() + f".{wall.microsecond:06d}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    got, truth = con.execute(
        f"SELECT epoch_us({text_instant('$t', True)}), epoch_us(timezone($ts_zone, $w::TIMESTAMP))",
        {"t": text, "ts_zone": zone, "w": wall},
    ).fetchone()
    assert got == truth


@hypothesis.given(
    wall=st.datetimes(min_value=datetime(1901, 1, 2), max_value=datetime(2199, 12, 30)),
    zone=st.sampled_from(ZONES),
    written=st.sampled_from(["+08:00", "-0530", "+00", "Z", " UTC", " Asia/Tokyo", " +0800"]),
)
@hypothesis.settings(max_examples=200, deadline=None)
def test_a_time_with_its_own_offset_or_zone_ignores_ts_timezone(wall, zone, written):
    from brandlens.data.validation import text_instant

    text = wall.strftime("%Y-%m-%d %H:%M:%S") + written
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    zoned, plain = con.execute(
        f"SELECT epoch_us({text_instant('$t', True)}), epoch_us({text_instant('$t', False)})",
        {"t": text, "ts_zone": zone},
    ).fetchone()
    assert zoned == plain is not None


def test_the_cli_option_its_errors_and_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    data = _write_csv(tmp_path / "d" / "events.csv", ["2025-06-30 21:30:00"])
    runner = CliRunner()
    r = runner.invoke(app, ["validate", str(data.parent), "--ts-timezone", "Asia/Shanghai"])
    assert r.exit_code == 0, r.output
    assert "times without a UTC offset read in │ Asia/Shanghai" in r.stdout
    # a name Python's zone database takes and DuckDB's does not: one line too
    r = runner.invoke(app, ["validate", str(data.parent), "--ts-timezone", "right/UTC"])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        "brandlens: error: --ts-timezone: DuckDB does not know the time zone 'right/UTC'"
    )
    r = runner.invoke(app, ["validate", str(data.parent), "--ts-timezone", "Asia/Shangai"])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "brandlens: error: --ts-timezone: unknown time zone 'Asia/Shangai' "
        "(e.g. Asia/Shanghai, UTC)"
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("ts_timezone: Mars/Base\n", encoding="utf-8")
    r = runner.invoke(app, ["validate", str(data.parent), "--mapping", str(bad)])
    assert r.exit_code == 2
    assert "mapping field ts_timezone" in r.stderr and "'Mars/Base'" in r.stderr
    # a dataset file's times were read when it was loaded
    into = tmp_path / "d.duckdb"
    r = runner.invoke(
        app, ["load", str(data.parent), "--into", str(into), "--ts-timezone", "Asia/Shanghai"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", str(into), "-f", "json"])
    assert r.exit_code == 0 and '"ts_timezone": "Asia/Shanghai"' in r.stdout
    # and every result says it, beside the rest of what the data was
    r = runner.invoke(app, ["compute", str(into), "-m", "fast", "-f", "json"])
    assert json.loads(r.stdout)["dataset"]["ts_timezone"] == "Asia/Shanghai"
    r = runner.invoke(app, ["compute", str(into), "--ts-timezone", "UTC", "-m", "fast"])
    assert r.exit_code == 2 and "takes no --ts-timezone (its times were read" in r.stderr


@hypothesis.given(
    zone=st.sampled_from(ZONES),
    far=st.datetimes(min_value=datetime(1901, 1, 2), max_value=datetime(2199, 12, 30)),
    edge=st.sampled_from(["lo", "hi", "far"]),
    minutes=st.integers(-600, 600),
)
@hypothesis.settings(max_examples=400, deadline=None)
def test_the_steady_offset_shortcut_is_icus_conversion(zone, far, edge, minutes):
    """A typed wall-clock time takes one subtraction inside the zone's longest stretch of
    one offset and ICU outside it: the same instant either way, also just inside and
    just outside either end of the stretch (where a gap or a fold would be)."""
    from datetime import timedelta

    from brandlens.data.localtime import steady_offset, wall_clock_binds, wall_clock_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    lo, hi, _ = steady_offset(con, zone)
    wall = {"lo": lo, "hi": hi, "far": far}[edge] + timedelta(minutes=minutes, seconds=0.5)
    got, truth = con.execute(
        f"SELECT {wall_clock_sql('$w')}, make_timestamp(epoch_us(timezone($ts_zone, $w)))",
        {**wall_clock_binds(con, zone), "w": wall},
    ).fetchone()
    assert got == truth


def test_beijing_time_since_1991_takes_the_shortcut():
    # China has kept UTC+8 without daylight saving since 15 September 1991
    from brandlens.data.localtime import steady_offset

    con = duckdb.connect()
    lo, hi, off = steady_offset(con, "Asia/Shanghai")
    assert (lo, hi.year, off) == (datetime(1991, 9, 15, 2, 0), 2100, 8 * 3600 * 10**6)


def test_validate_says_when_times_without_an_offset_were_read_as_utc(tmp_path, monkeypatch):
    # was: silence, and a Beijing-time export's evening events counted on the next day
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    note = "brandlens: note: event times without a UTC offset were read as UTC"
    runner = CliRunner()

    def said(data: Path, *args: str) -> bool:
        r = runner.invoke(app, ["validate", str(data), "-f", "json", *args])
        assert r.exit_code == 0, r.output
        flag = json.loads(r.stdout)["naive_ts_as_utc"]
        assert flag == (note in r.stderr)
        return flag

    naive = _write_csv(tmp_path / "a" / "events.csv", ["2025-06-30 21:30:00"])
    assert said(naive)
    assert not said(naive, "--ts-timezone", "UTC")  # said: no guess to warn of
    aware = _write_csv(tmp_path / "b" / "events.csv", ["2025-06-30 21:30:00+08:00"] * 3)
    assert not said(aware)
    # one naive time among offsets is enough: it is the one read as UTC
    mixed = _write_csv(tmp_path / "c" / "events.csv", ["2025-06-30Z", "2025-06-30"])
    assert said(mixed)
    assert said(_typed_parquet(tmp_path / "p").parent)  # TIMESTAMP without time zone
