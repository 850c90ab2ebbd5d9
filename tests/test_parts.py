"""A table given as a folder of parts (Spark and Hive exports): read as one table, in
path order, every row accounted for by its part and its row in that part."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.data import store
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError
from conftest import ev


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _split(market: Path, out: Path, folder: str = "events") -> Path:
    """``market``'s events as one Parquet part per year under hive-style folders, with the
    marker, checksum and unfinished files Spark leaves, and its other tables as they are."""
    out.mkdir()
    for table in ("users", "products", "targets", "spend"):
        (out / f"{table}.parquet").write_bytes((market / f"{table}.parquet").read_bytes())
    src = str(market / "events.parquet")
    con = duckdb.connect()
    years = con.execute(
        "SELECT DISTINCT year(ts AT TIME ZONE 'UTC') FROM read_parquet($p) ORDER BY 1", {"p": src}
    ).fetchall()
    for (year,) in years:
        part = out / folder / f"year={year}" / "part-00000.snappy.parquet"
        part.parent.mkdir(parents=True)
        con.execute(
            "COPY (SELECT * FROM read_parquet($p) WHERE year(ts AT TIME ZONE 'UTC') = $y) "
            "TO $out (FORMAT parquet)",
            {"p": src, "y": year, "out": str(part)},
        )
    (out / folder / "_SUCCESS").write_text("")
    unfinished = out / folder / "_temporary" / "0" / "part-00001.snappy.parquet"
    unfinished.parent.mkdir(parents=True)
    unfinished.write_bytes(b"PAR1 an unfinished task's output")
    (out / folder / f"year={years[0][0]}" / ".part-00000.snappy.parquet.crc").write_text("x")
    return out


def _results(data: Path) -> dict:
    out = json.loads(brandlens.compute(data).model_dump_json())
    out.pop("dataset")  # names the source
    return out


def test_a_folder_of_parquet_parts_computes_what_the_single_file_does(market, tmp_path):
    """Events split by year into `events/year=YYYY/part-00000.snappy.parquet` (plus
    `_SUCCESS`, a `.crc` file and a `_temporary/` folder, which are skipped): every
    result equals the one-file market's; `events.parquet/` as a folder name reads the
    same."""
    parts = _split(market, tmp_path / "parts")
    assert len(list((parts / "events").rglob("*.parquet"))) >= 3
    single = _results(market)
    assert _results(parts) == single
    spark_named = _split(market, tmp_path / "spark", folder="events.parquet")
    assert _results(spark_named) == single


def test_a_quarantined_row_names_its_part_and_its_row_there(tmp_path):
    """JSON-lines parts read in path order: a/p.jsonl, then b.jsonl (a folder walk would
    list b.jsonl first).
    a/p.jsonl row 1: e1, accepted.
    a/p.jsonl row 2: a timestamp that is no time -> ts_unparseable.
    b.jsonl row 1: e1 again -> duplicate_event_id (the first, in a/p.jsonl, stays).
    b.jsonl row 2: teleport is no event type -> unknown_event_type.
    b.jsonl row 3: e4, accepted; it alone has a channel (the older part lacks the column).
    Read 5 = accepted 2 + quarantined 3."""
    data = tmp_path / "data"
    _jsonl(
        data / "events" / "a" / "p.jsonl",
        [
            {"event_id": "e1", **ev("2025-06-01 04:00:00", "u1", "ad_impression")},
            {"event_id": "e2", **ev("nope", "u2", "ad_impression")},
        ],
    )
    _jsonl(
        data / "events" / "b.jsonl",
        [
            {"event_id": "e1", **ev("2025-06-02 04:00:00", "u1", "ad_click")},
            {"event_id": "e3", **ev("2025-06-02 04:00:00", "u3", "teleport")},
            {"event_id": "e4", **ev("2025-06-02 05:00:00", "u3", "ad_click"), "channel": "live"},
        ],
    )
    out = tmp_path / "q.csv"
    report = brandlens.validate(data, quarantine_out=out)
    events = report.events
    assert (events.rows_read, events.rows_accepted, events.rows_quarantined) == (5, 2, 3)
    a, c = "a/p.jsonl", "b.jsonl"  # the part's path inside the folder
    examples = {r.reason: [(e["file"], e["row"]) for e in r.examples] for r in report.reasons}
    assert examples == {
        "ts_unparseable": [(a, 2)],
        "duplicate_event_id": [(c, 1)],
        "unknown_event_type": [(c, 2)],
    }
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["table", "file", "row", "reason"]
    assert [line.split(",")[1:4] for line in lines[1:]] == [
        [a, "2", "ts_unparseable"],
        [c, "1", "duplicate_event_id"],
        [c, "2", "unknown_event_type"],
    ]
    with Dataset(data) as ds:
        kept = ds.con.execute("SELECT event_id, channel FROM events ORDER BY 1").fetchall()
    assert kept == [("e1", None), ("e4", "live")]


def test_parquet_parts_may_differ_in_their_columns(tmp_path):
    """An older part without `channel`, and `rating` written as integers in one part and
    as text in the other: columns are matched by name, a missing one is NULL, and the
    values are typed by validation as in any file."""
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, "
        "'review' AS event_type, 'B' AS brand, 4 AS rating) TO $p (FORMAT parquet)",
        {"p": str(data / "events" / "2025-06-01.parquet")},
    )
    con.execute(
        "COPY (SELECT TIMESTAMP '2025-06-02 04:00:00' AS ts, 'u2' AS user_id, "
        "'review' AS event_type, 'B' AS brand, '5' AS rating, 'live' AS channel "
        "UNION ALL SELECT TIMESTAMP '2025-06-02 05:00:00', 'u3', 'review', 'B', 'five', "
        "NULL) TO $p (FORMAT parquet)",
        {"p": str(data / "events" / "2025-06-02.parquet")},
    )
    with Dataset(data) as ds:
        rows = ds.con.execute("SELECT user_id, rating, channel FROM events ORDER BY 1").fetchall()
        reasons = [(r.reason, r.count) for r in ds.report.reasons]
    assert rows == [("u1", 4, None), ("u2", 5, "live")]
    assert reasons == [("bad_type", 1)]  # u3's rating 'five'


def test_the_part_positions_follow_the_read_order_over_many_parts(tmp_path):
    """Twelve parts of different sizes (0 to 11 rows; part k's row r has user `u{k}-{r}`),
    one bad row planted in each non-empty part at a different row: every quarantined
    row reports exactly its part and its row there, which a mapping off by one row or
    one part, or a part order other than the paths', would get wrong."""
    data = tmp_path / "data"
    planted = []
    for k in range(12):
        rows = [ev("2025-06-01 04:00:00", f"u{k}-{r}", "ad_click") for r in range(1, k + 1)]
        if k:
            bad = (k * 7) % k + 1  # 1-based row of the bad one
            rows[bad - 1] = ev("2025-06-01 04:00:00", f"u{k}-{bad}", "teleport")
            planted.append((f"p{k:02d}.jsonl", bad, f"u{k}-{bad}"))
        _jsonl(data / "events" / f"p{k:02d}.jsonl", rows)
    out = tmp_path / "q.csv"
    report = brandlens.validate(data, quarantine_out=out)
    assert report.events.rows_read == sum(range(12))
    got = [line.split(",") for line in out.read_text().splitlines()[1:]]
    header = out.read_text().splitlines()[0].split(",")
    user = header.index("user_id")
    assert [(g[1], int(g[2]), g[user]) for g in got] == planted


def test_a_folder_that_cannot_be_read_as_parts_is_a_one_line_error(tmp_path):
    """Each refusal names the folder and what is wrong, with exit code 1."""

    def folder(name: str, files: dict[str, str]) -> Path:
        data = tmp_path / name
        for rel, text in files.items():
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            (data / rel).write_text(text)
        (data / "events").mkdir(parents=True, exist_ok=True)
        return data

    row = json.dumps(ev("2025-06-01 04:00:00", "u1", "ad_click")) + "\n"
    cases = {
        "empty": ({"events/_SUCCESS": ""}, "no data files in the folder"),
        "stray": ({"events/a.jsonl": row, "events/notes.md": "x"}, "is not a data file"),
        "mixed": (
            {"events/a.jsonl": row, "events/b.csv": "ts,user_id,event_type\n"},
            "parts of more than one kind",
        ),
        "csv header": (
            {
                "events/a.csv": "ts,user_id,event_type\n",
                "events/b.csv": "user_id,ts,event_type\n",
            },
            "b.csv has another header line",
        ),
        "both": ({"events.jsonl": row, "events/a.jsonl": row}, "more than one events file"),
        "delta": (
            {"events/part-0.parquet": "", "events/_delta_log/0.json": "{}"},
            "a Delta Lake table",
        ),
    }
    for name, (files, message) in cases.items():
        data = folder(name, files)
        with pytest.raises(DataError, match=message):
            brandlens.validate(data)
        r = CliRunner().invoke(app, ["validate", str(data)])
        assert r.exit_code == 1, (name, r.output)
        assert message in r.output and "Traceback" not in r.output, name
        assert len(r.output.strip().splitlines()) == 1, (name, r.output)


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symbolic", "hard"])
def test_two_names_for_one_file_are_refused(tmp_path, link):
    """A link beside its target would read the same rows twice."""
    data = tmp_path / "data"
    a = _jsonl(data / "events" / "a.jsonl", [ev("2025-06-01 04:00:00", "u1", "ad_click")])
    link(a, data / "events" / "b.jsonl")
    with pytest.raises(DataError, match=r"a\.jsonl and b\.jsonl are the same file"):
        brandlens.validate(data)


def test_a_link_to_a_folder_among_the_parts_is_named_not_passed_by(tmp_path):
    """os.walk does not descend into a linked folder: its parts' rows were neither read
    nor counted, and nothing said so. Now a one-line error naming the link."""
    data = tmp_path / "data"
    _jsonl(data / "events" / "day=1" / "a.jsonl", [ev("2025-06-01 04:00:00", "u1", "ad_click")])
    elsewhere = _jsonl(tmp_path / "x" / "b.jsonl", [ev("2025-06-02 04:00:00", "u2", "ad_click")])
    (data / "events" / "day=2").symlink_to(elsewhere.parent, target_is_directory=True)
    with pytest.raises(DataError, match=r"events: day=2 is a link to a folder, which"):
        brandlens.validate(data)


def test_glob_characters_in_part_names_are_literal(tmp_path):
    """`p[1].jsonl` is read as that file (DuckDB would expand it as a pattern matching
    `p1.jsonl`, which holds other rows)."""
    data = tmp_path / "data"
    _jsonl(data / "events" / "p[1].jsonl", [ev("2025-06-01 04:00:00", "u1", "ad_click")])
    _jsonl(data / "events" / "p1.jsonl", [ev("2025-06-01 04:00:00", "u2", "ad_click")])
    with Dataset(data) as ds:
        users = ds.con.execute("SELECT user_id FROM events ORDER BY 1").fetchall()
    assert users == [("u1",), ("u2",)]


def test_the_folder_itself_may_be_data(market, tmp_path):
    """`brandlens compute path/to/events/` (a folder of events parts with no other
    tables) reads its parts as the events table."""
    parts = _split(market, tmp_path / "parts") / "events"
    with Dataset(parts) as ds:
        n = ds.con.execute("SELECT count(*) FROM events").fetchone()[0]
    assert (
        n
        == duckdb.execute(
            "SELECT count(*) FROM read_parquet($p)", {"p": str(market / "events.parquet")}
        ).fetchall()[0][0]  # fetchone would leave the default connection's result open
    )


def test_a_changed_added_or_removed_part_changes_the_cache_key(tmp_path):
    """The cached dataset is keyed by every part's path, size, times and inode."""
    data = tmp_path / "data"
    _jsonl(data / "events" / "d1" / "a.jsonl", [ev("2025-06-01 04:00:00", "u1", "ad_click")])

    def key() -> str:
        return store.cache_path(data, None, "UTC", ["ad_click"]).name

    first = key()
    assert key() == first
    b = _jsonl(data / "events" / "d2" / "b.jsonl", [ev("2025-06-02 04:00:00", "u2", "ad_click")])
    added = key()
    assert added != first
    b.write_text(b.read_text() + json.dumps(ev("2025-06-03 04:00:00", "u3", "ad_click")) + "\n")
    assert key() not in (first, added)
    b.unlink()
    assert key() == first


def test_a_folder_named_after_a_column_the_parts_lack_is_refused(tmp_path):
    """`events/brand=Aurora/part.jsonl` without a brand column: Hive keeps the value in the
    folder's name, which brandlens never reads (it would count every purchase as having
    no brand). Refused in one line; the same folders over parts that hold the column,
    and a folder `dt=...` naming no canonical column, are read as usual."""
    row = ev("2025-06-01 04:00:00", "u1", "ad_click")
    lacking = tmp_path / "lacking"
    no_brand = {k: v for k, v in row.items() if k != "brand"}
    _jsonl(lacking / "events" / "brand=Aurora" / "part.jsonl", [no_brand])
    r = CliRunner().invoke(app, ["validate", str(lacking)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
    assert "folder brand=Aurora names column brand, which the parts do not hold" in r.output
    holding = tmp_path / "holding"
    _jsonl(holding / "events" / "brand=Aurora" / "dt=2025-06-01" / "part.jsonl", [row])
    assert brandlens.validate(holding).events.rows_accepted == 1


def test_a_mapping_with_event_types_reports_the_parts_quarantine(tmp_path):
    """A mapping renames columns and event types (`buy` -> purchase; `rm` is left out)
    on two parts; d1/a.jsonl row 2 has no time -> ts_unparseable, d2/b.jsonl row 2 buys
    without a price -> missing_amount, row 3 is `rm` -> excluded_by_mapping. Counting
    each part's rows takes only its own parameters (the mapping's event-type lists are
    the validation query's)."""
    data = tmp_path / "data"
    _jsonl(
        data / "events" / "d1" / "a.jsonl",
        [
            {"uid": "u1", "time": "2025-06-01 04:00:00", "act": "pv", "brand": "B"},
            {"uid": "u2", "time": "bad", "act": "pv", "brand": "B"},
        ],
    )
    _jsonl(
        data / "events" / "d2" / "b.jsonl",
        [
            {"uid": "u1", "time": "2025-06-02 04:00:00", "act": "buy", "brand": "B", "price": 5},
            {"uid": "u3", "time": "2025-06-02 04:00:00", "act": "buy", "brand": "B"},
            {"uid": "u3", "time": "2025-06-02 05:00:00", "act": "rm", "brand": "B"},
        ],
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {user_id: uid, ts: time, event_type: act, amount: price}\n"
        "event_types: {pv: product_view, buy: purchase, rm: null}\n"
    )
    report = brandlens.validate(data, mapping=mapping)
    got = {r.reason: [(e["file"], e["row"]) for e in r.examples] for r in report.reasons}
    assert got == {
        "ts_unparseable": [("d1/a.jsonl", 2)],
        "missing_amount": [("d2/b.jsonl", 2)],
        "excluded_by_mapping": [("d2/b.jsonl", 3)],
    }
    assert report.events.rows_accepted == 2  # u1's view and purchase


def test_parquet_parts_with_integer_and_float_ids_are_refused(tmp_path):
    """pandas writes ids with a missing value as floats; read with a part of BIGINT ids
    the column is DOUBLE, so 9007199254740992 and ...993 became one id: a good row was
    quarantined as duplicate_event_id, and ids printed as 9007199254740992.0."""
    import duckdb

    folder = tmp_path / "data" / "events"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    for name, ids in (
        ("a.parquet", "(9007199254740992 + i)::BIGINT"),
        ("b.parquet", "0.5::DOUBLE"),
    ):
        con.execute(
            f"COPY (SELECT TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u' || i AS user_id, "
            f"'ad_click' AS event_type, {ids} AS event_id FROM range(2) t(i)) "
            f"TO '{folder / name}'"
        )
    with pytest.raises(DataError, match=r"event_id is BIGINT in a\.parquet and DOUBLE in b\."):
        brandlens.validate(tmp_path / "data")
    (folder / "b.parquet").unlink()  # one kind of id: read as it is
    assert brandlens.validate(tmp_path / "data").events.rows_accepted == 2


def test_json_ids_past_2_53_beside_decimals_are_refused(tmp_path):
    """JSON lines with an id 2.0 (pandas, for an id column with a missing value) beside
    9007199254740993 read the column as DOUBLE: ...993 became ...992, merged with the
    real ...992 and was quarantined as duplicate_event_id. In parts or in one file."""
    a = [
        ev("2025-06-01 04:00:00", "u1", "ad_click", event_id=9007199254740993),
        ev("2025-06-01 05:00:00", "u1", "ad_click", event_id=9007199254740992),
    ]
    b = [ev("2025-06-02 04:00:00", "u2", "ad_click", event_id=2.0)]
    parts = tmp_path / "parts"
    _jsonl(parts / "events" / "a.jsonl", a)
    _jsonl(parts / "events" / "b.jsonl", b)
    one = _jsonl(tmp_path / "one" / "events.jsonl", a + b)
    for data in (parts, one.parent):
        with pytest.raises(DataError, match=r"event_id holds whole numbers past 2\^53 \(9007"):
            brandlens.validate(data)
    small = _jsonl(
        tmp_path / "small" / "events.jsonl", [*b, ev("2025-06-02", "u3", "ad_click", event_id=7)]
    )
    assert brandlens.validate(small.parent).events.rows_accepted == 2  # no digit is lost


def test_json_keys_are_checked_as_a_csv_header_is(tmp_path):
    """Two spellings of a key brandlens reads (user_id and USER_ID) silently used the
    first; an empty key made DuckDB read each line as one map and the error said ts,
    user_id and event_type were missing. Two spellings of a key nobody reads are fine."""
    row = ev("2025-06-01 04:00:00", "u1", "ad_click")
    both = _jsonl(tmp_path / "both" / "events.jsonl", [{**row, "USER_ID": "u9"}])
    with pytest.raises(DataError, match=r"name the key 'user_id' 2 ways \(USER_ID, user_id\)"):
        brandlens.validate(both.parent)
    empty = _jsonl(tmp_path / "empty" / "events.jsonl", [{"": "x", **row}])
    with pytest.raises(DataError, match=r'events.jsonl: its objects have an empty key \(""\)'):
        brandlens.validate(empty.parent)
    notes = _jsonl(tmp_path / "notes" / "events.jsonl", [{**row, "Note": "a", "note": "b"}])
    assert brandlens.validate(notes.parent).events.rows_accepted == 1


def test_parquet_parts_with_and_without_a_time_zone_are_refused(tmp_path):
    # Read together, DuckDB makes the union a UTC instant: the part written without a
    # zone (10:00 Beijing time) became 10:00 UTC although --ts-timezone said
    # Asia/Shanghai, and the report said its times were read in Asia/Shanghai.
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "events"
    folder.mkdir()
    for name, zone in (("p1.parquet", None), ("p2.parquet", "Asia/Shanghai")):
        times = pa.array([datetime.datetime(2025, 6, 1, 10)], pa.timestamp("us", tz=zone))
        table = pa.table({"ts": times, "user_id": [name], "event_type": ["ad_click"]})
        pq.write_table(table, folder / name)
    with pytest.raises(DataError) as e:
        Dataset(tmp_path, cache=False, ts_timezone="Asia/Shanghai")
    assert str(e.value) == (
        f"{folder}: ts is a UTC instant in p2.parquet and a time without a zone in "
        "p1.parquet; read together, the times without a zone would be taken as UTC "
        "whatever zone they are in: write every part's ts alike (all with a time zone, "
        "or all without)"
    )
    # parts alike in this are read as before
    (folder / "p2.parquet").unlink()
    with Dataset(tmp_path, cache=False, ts_timezone="Asia/Shanghai") as ds:
        (got,) = ds.con.execute("SELECT CAST(ts AS VARCHAR) FROM events").fetchone()
    assert got == "2025-06-01 02:00:00"
