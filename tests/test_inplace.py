"""A run that keeps nothing reads a Parquet events file in place, with the copy's results.

``data.inplace`` keeps only the failing rows of the file and makes the stored events a
view over it. Everything a run reports must be what a copy of the same file reports:
the validation report (counts per reason, example rows by position), the quarantined
rows, every canonical view row for row, and the result JSON of every methodology,
here at two as-of dates and in two time zones. The events file carries a planted
bad row of every reason a typed Parquet column can have, repeated ids (of a valid row,
of a quarantined row, a repeat of a repeat) and missing ids, placed at the start, in
the middle and at the end, so positions are checked where they are easiest to get
wrong.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from brandlens.data.market import generate
from brandlens.data.schema import TABLES, columns_of
from brandlens.data.store import quarantine_table
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError
from brandlens.plugin.sqlcheck import quote_ident

USERS = 400
SEED = 5

# (sort key, event_id, ts, user_id, event_type, brand, amount, rating, quantity, query_type)
# The sort key places a row among the market's events (ordered by their event_id).
T = "TIMESTAMP '2025-06-01 10:00:00'"
PLANTED = [
    # at the start
    (-3, 9_000_001, T, "'u_plant'", "'teleport'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (-2, 9_000_002, "NULL", "'u_plant'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (-1, 9_000_003, T, "' \t'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    # in the middle
    (5_000, 9_000_004, "TIMESTAMP '2300-01-01'", "'u_plant'", "'share'", "'Aurora'")
    + ("NULL",) * 4,
    (5_001, 9_000_005, T, "'u_plant'", "'purchase'", "NULL", "10.0", "NULL", "1", "NULL"),
    (5_002, 9_000_006, T, "'u_plant'", "'purchase'", "'Aurora'", "NULL", "NULL", "1", "NULL"),
    (5_003, 9_000_007, T, "'u_plant'", "'purchase'", "'Aurora'", "12.345", "NULL", "1", "NULL"),
    (5_004, 9_000_008, T, "'u_plant'", "'purchase'", "'Aurora'", "-3.0", "NULL", "1", "NULL"),
    (5_005, 9_000_009, T, "'u_plant'", "'purchase'", "'Aurora'", "10.0", "NULL", "0", "NULL"),
    (5_006, 9_000_010, T, "'u_plant'", "'review'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (5_007, 9_000_011, T, "'u_plant'", "'review'", "'Aurora'", "NULL", "7", "NULL", "NULL"),
    (5_008, 9_000_012, T, "'u_plant'", "'search'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (5_009, 9_000_013, T, "'u_plant'", "'search'", "'Aurora'", "NULL", "NULL", "NULL", "'odd'"),
    # valid rows: a first id, its later repeat (quarantined), a repeat of the repeat
    (6_000, 9_000_020, T, "'u_plant'", "'purchase'", "'Aurora'", "20.0", "NULL", "1", "NULL"),
    (6_001, 9_000_020, T, "'u_plant'", "'purchase'", "'Aurora'", "30.0", "NULL", "1", "NULL"),
    (8_000, 9_000_020, T, "'u_plant'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    # a quarantined row's id, then a valid row with it: the valid one is the first kept
    (8_001, 9_000_030, T, "'u_plant'", "'teleport'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (8_002, 9_000_030, T, "'u_plant2'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    # a repeat of one of the market's own ids, and rows without an id
    (8_003, 1, T, "'u_plant2'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (8_004, "NULL", T, "'u_plant2'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    (8_005, "NULL", T, "'u_plant2'", "'share'", "'Aurora'", "NULL", "NULL", "NULL", "NULL"),
    # at the end
    (10**9, 9_000_040, T, "'u_plant'", "'review'", "'Aurora'", "NULL", "0", "NULL", "NULL"),
    (10**9 + 1, 9_000_041, T, "'u_plant'", "'purchase'", "'Aurora'", "5.0", "NULL", "1", "NULL"),
]
EXPECTED = {  # reason -> planted rows quarantined for it
    "unknown_event_type": 2,
    "missing_required": 2,
    "ts_unparseable": 1,
    "missing_brand": 1,
    "missing_amount": 1,
    "bad_type": 1,
    "negative_amount": 1,
    "quantity_out_of_range": 1,
    "missing_rating": 1,
    "rating_out_of_range": 2,
    "missing_query_type": 1,
    "bad_query_type": 1,
    "duplicate_event_id": 3,  # 9_000_020 twice after its first, and the market's id 1
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated market whose events.parquet holds the planted rows among its own."""
    out = tmp_path_factory.mktemp("inplace") / "market"
    generate(out, users=USERS, seed=SEED)
    events = out / "events.parquet"
    original = out / "original.parquet"
    events.rename(original)
    rows = " UNION ALL ".join(
        f"SELECT {k} AS k, CAST({i} AS BIGINT) AS event_id, CAST({ts} AS TIMESTAMP) AS ts, "
        f"{u} AS user_id, {e} AS event_type, {b} AS brand, CAST(NULL AS VARCHAR) AS category, "
        "CAST(NULL AS VARCHAR) AS product_id, CAST(NULL AS VARCHAR) AS channel, "
        f"CAST(NULL AS BIGINT) AS order_id, CAST({q} AS SMALLINT) AS quantity, "
        f"CAST({a} AS DOUBLE) AS amount, CAST({r} AS TINYINT) AS rating, "
        f"CAST({qt} AS VARCHAR) AS query_type"
        for k, i, ts, u, e, b, a, r, q, qt in PLANTED
    )
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * EXCLUDE (k) FROM (SELECT event_id AS k, * FROM read_parquet('{original}') "
        f"UNION ALL BY NAME {rows}) ORDER BY k, event_id NULLS LAST) TO '{events}' "
        "(FORMAT PARQUET, ROW_GROUP_SIZE 2048)"
    )
    con.close()
    original.unlink()
    return out


def _fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    """Per canonical view: a hash of each row over every column, in the order read."""
    out = {}
    for table in TABLES:
        cols = [quote_ident(c.name) for c in columns_of(TABLES[table])]
        if table == "events":
            cols.append("local_date")
        rows = con.execute(
            f"SELECT hash(r) FROM (SELECT {', '.join(cols)} FROM main.{quote_ident(table)}) r"
        ).fetchall()
        out[table] = [h for (h,) in rows]
    return out


def _open(data: Path, **kwargs: Any) -> dict[str, Any]:
    with Dataset(data, **kwargs) as ds:
        kinds = dict(
            ds.con.execute(
                "SELECT table_name, 'table' FROM duckdb_tables() WHERE table_name = 'events' "
                "UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
                "WHERE view_name = 'events' AND schema_name = 'brandlens_data'"
            ).fetchall()
        )
        return {
            "in_place": ds.read_in_place,
            "stored_as": kinds.get("events"),
            "results": [ds.compute(as_of=d).model_dump_json() for d in (None, "2025-03-31")],
            "report": ds.report.model_dump(),
            "quarantine": ds.con.execute(
                f"SELECT * FROM {quarantine_table(ds.catalog)} ORDER BY ALL"
            ).fetchall(),
            "fingerprint": _fingerprint(ds.con),
        }


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "America/New_York"])
def test_in_place_reports_and_computes_what_a_copy_does(
    planted: Path, tmp_path: Path, timezone: str
) -> None:
    in_place = _open(planted, cache=False, timezone=timezone)
    copied = _open(planted, into=tmp_path / "copy.duckdb", timezone=timezone)
    # the runs took the two paths
    assert in_place["in_place"] == [str((planted / "events.parquet").resolve())]
    assert in_place["stored_as"] == "view"
    assert copied["in_place"] == [] and copied["stored_as"] == "table"
    # the planted rows, and only they, are quarantined, for the reasons planted
    counts = {r["reason"]: r["count"] for r in in_place["report"]["reasons"]}
    assert counts == EXPECTED
    for part in ("report", "quarantine", "fingerprint"):
        assert in_place[part] == copied[part], part
    for a, b in zip(in_place["results"], copied["results"], strict=True):
        assert a == b


def test_examples_give_the_rows_position_in_the_file(planted: Path) -> None:
    """Row numbers count from 1 in the file: the first three rows are the planted ones."""
    with Dataset(planted, cache=False) as ds:
        by_reason = {r.reason: r.examples for r in ds.report.reasons}
    assert by_reason["unknown_event_type"][0]["row"] == 1
    assert [e["row"] for e in by_reason["missing_required"]] == [2, 3]
    assert by_reason["missing_required"][1]["user_id"] == " \t"


def _without_events(planted: Path, out: Path) -> Path:
    """A copy of the market's folder without its events file."""
    out.mkdir()
    for f in planted.iterdir():
        if f.name != "events.parquet":
            shutil.copy(f, out / f.name)
    return out


def test_what_cannot_be_read_in_place_is_copied(planted: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    src = f"read_parquet('{planted / 'events.parquet'}')"
    # text ids: kept as numbers or text by the copy's bookkeeping
    text_ids = _without_events(planted, tmp_path / "text_ids")
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(event_id AS VARCHAR) AS event_id) FROM {src}) "
        f"TO '{text_ids / 'events.parquet'}' (FORMAT PARQUET)"
    )
    # a CSV file
    as_csv = _without_events(planted, tmp_path / "csv")
    con.execute(f"COPY (SELECT * FROM {src}) TO '{as_csv / 'events.csv'}' (FORMAT CSV, HEADER)")
    # a folder of JSON-lines parts (Parquet parts are read in place: below)
    parts = _without_events(planted, tmp_path / "parts")
    (parts / "events").mkdir()
    con.execute(
        f"COPY (SELECT * FROM {src} WHERE event_id % 2 = 0) "
        f"TO '{parts / 'events' / 'a.jsonl'}' (FORMAT JSON)"
    )
    con.execute(
        f"COPY (SELECT * FROM {src} WHERE event_id % 2 <> 0 OR event_id IS NULL) "
        f"TO '{parts / 'events' / 'b.jsonl'}' (FORMAT JSON)"
    )
    con.close()
    reference = _content(planted)
    for data in (text_ids, as_csv, parts):
        run = _open(data, cache=False)
        assert run["in_place"] == [] and run["stored_as"] == "table", data.name
        # the same events; a missing text id is generated from the row, a missing integer
        # id stays missing, so ids are left out
        assert _content(data) == reference, data.name


def _content(data: Path) -> list[int]:
    """A hash of every accepted event but its id, sorted."""
    with Dataset(data, cache=False) as ds:
        rows = ds.con.execute(
            "SELECT hash(e) FROM (SELECT * EXCLUDE (event_id) FROM events) e"
        ).fetchall()
    return sorted(h for (h,) in rows)


def test_only_the_file_read_in_place_stays_readable(planted: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n", encoding="utf-8")
    with Dataset(planted, cache=False) as ds:
        assert ds.con.execute("SELECT count(*) FROM events").fetchone()[0] > 0
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            ds.con.execute(f"SELECT * FROM read_csv('{other}')").fetchall()
        with pytest.raises(duckdb.Error):
            ds.con.execute("SET allowed_paths = $p", {"p": [str(other)]})


def test_a_cursor_reads_the_same_events(planted: Path) -> None:
    """Methodologies run two at a time on cursors: each must read the same rows."""
    every = "SELECT hash(e) FROM (SELECT * FROM events) e"
    with Dataset(planted, cache=False) as ds:
        whole = ds.con.execute(every).fetchall()
        forked = ds.engine.fork()
        try:
            assert forked.fetch(every, {})[1] == whole
        finally:
            forked.close()


def test_a_bad_file_is_a_data_error(tmp_path: Path) -> None:
    data = tmp_path / "broken"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="events"):
        Dataset(data, cache=False)


def test_a_file_changed_while_read_in_place_stops_the_run(planted: Path, tmp_path: Path) -> None:
    """Each query reads the file again: results from two versions of it are refused."""
    data = _without_events(planted, tmp_path / "changing")
    events = data / "events.parquet"
    shutil.copy(planted / "events.parquet", events)
    with Dataset(data, cache=False) as ds:
        ds.compute(methodologies=["fast"])  # unchanged: fine
        stat = events.stat()
        os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with pytest.raises(DataError, match="changed while brandlens was reading it"):
            ds.compute(methodologies=["fast"])


def test_every_read_after_a_change_is_refused(planted: Path, tmp_path: Path) -> None:
    data = _without_events(planted, tmp_path / "changing")
    events = data / "events.parquet"
    shutil.copy(planted / "events.parquet", events)
    with Dataset(data, cache=False) as ds:
        assert ds.read("SELECT count(*) FROM events")[0][0] > 0
        shutil.copy(planted / "events.parquet", tmp_path / "next.parquet")
        os.replace(tmp_path / "next.parquet", events)  # the same bytes, another file
        with pytest.raises(DataError, match="changed while"):
            ds.read("SELECT count(*) FROM events")
        with pytest.raises(DataError, match="changed while"):
            ds.ladder_counts("fast")


@pytest.mark.parametrize("name", ["file_row_number", "File_Row_Number"])
def test_a_file_with_a_file_row_number_column_is_copied(
    planted: Path, tmp_path: Path, name: str
) -> None:
    data = _without_events(planted, tmp_path / "named")
    con = duckdb.connect()
    con.execute(
        f'COPY (SELECT *, 7 AS "{name}" '
        f"FROM read_parquet('{planted / 'events.parquet'}')) "
        f"TO '{data / 'events.parquet'}' (FORMAT PARQUET)"
    )
    con.close()
    run = _open(data, cache=False)
    assert run["in_place"] == [] and run["stored_as"] == "table"
    assert run["report"]["reasons"] == _open(planted, cache=False)["report"]["reasons"]


def test_a_mapped_file_read_in_place(planted: Path, tmp_path: Path) -> None:
    """Renamed columns, a derived amount and mapped event types read as a copy reads them."""
    from brandlens.data.mapping import Mapping

    data = _without_events(planted, tmp_path / "mapped")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * EXCLUDE (user_id, ts, amount, event_type) REPLACE "
        "(CAST(NULL AS VARCHAR) AS category), user_id AS buyer, ts AS at, "
        "CASE event_type WHEN 'purchase' THEN 'buy' WHEN 'share' THEN 'junk' "
        "ELSE event_type END AS kind, amount * 100 AS cents "
        f"FROM read_parquet('{planted / 'events.parquet'}')) "
        f"TO '{data / 'events.parquet'}' (FORMAT PARQUET, ROW_GROUP_SIZE 4096)"
    )
    con.close()
    mapping = Mapping(
        columns={"user_id": "buyer", "ts": "at", "event_type": "kind"},
        derive={"amount": "cents / 100"},
        event_types={"buy": "purchase", "junk": None},
    )
    in_place = _open(data, cache=False, mapping=mapping)
    copied = _open(data, into=tmp_path / "copy.duckdb", mapping=mapping)
    assert in_place["in_place"] and copied["in_place"] == []
    counts = {r["reason"]: r["count"] for r in in_place["report"]["reasons"]}
    # every share became junk, mapped to null: the first reason checked
    shares = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{planted / 'events.parquet'}') "
        "WHERE event_type = 'share'"
    ).fetchone()
    assert shares is not None and counts["excluded_by_mapping"] == shares[0] > 0
    for part in ("report", "quarantine", "fingerprint", "results"):
        assert in_place[part] == copied[part], part


TEXT_TS = """
import json, sys
from brandlens.engine.runs import Dataset
data, copy = sys.argv[1], sys.argv[2]
out = []
for kwargs in ({"cache": False}, {"into": copy}):
    with Dataset(data, **kwargs) as ds:
        rows = ds.con.execute("SELECT hash(e) FROM (SELECT * FROM events) e").fetchall()
        out.append([ds.read_in_place != [], rows, ds.compute().model_dump_json()])
print(json.dumps([out[0][0], out[1][0], out[0][1] == out[1][1], out[0][2] == out[1][2]]))
"""


def test_text_timestamps_read_in_place_whatever_the_machines_zone(
    planted: Path, tmp_path: Path
) -> None:
    """Text ts is typed again by every read, on every cursor: always as UTC, as a copy
    typed it, even when the process runs in another zone."""
    import json
    import subprocess
    import sys

    data = _without_events(planted, tmp_path / "text_ts")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * REPLACE (strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts) "
        f"FROM read_parquet('{planted / 'events.parquet'}')) "
        f"TO '{data / 'events.parquet'}' (FORMAT PARQUET, ROW_GROUP_SIZE 4096)"
    )
    con.close()
    env = {**os.environ, "TZ": "America/Los_Angeles"}
    done = subprocess.run(
        [sys.executable, "-c", TEXT_TS, str(data), str(tmp_path / "copy.duckdb")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == [True, False, True, True]


@pytest.mark.parametrize("size", [1000, 10_000])
def test_failing_rows_left_out_slice_by_slice(
    planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """A file larger than one bitmap holds leaves its failing rows out slice by slice
    (here slices of 1,000 and 10,000 rows, most of them with no failing row): the same rows,
    in the same order, as a copy."""
    from brandlens.data import inplace

    monkeypatch.setattr(inplace, "BITMAP_SLICE_ROWS", size)
    in_place = _open(planted, cache=False)
    copied = _open(planted, into=tmp_path / "copy.duckdb")
    assert in_place["in_place"] and in_place["fingerprint"] == copied["fingerprint"]
    assert in_place["report"] == copied["report"]


PARTS = ["dt=1/a.parquet", "dt=2/b.parquet", "dt=2/c.parquet", "dt=3/d.parquet"]


def _split(planted: Path, out: Path) -> Path:
    """The planted market with its events as a folder of parts, in reading order:
    ``a`` up to the row with id 9_000_004 (the one dated 2300), ``b`` from it to the
    repeat-of-a-repeat of 9_000_020 and without the rating column, ``c`` empty, ``d``
    the rest. Bad rows and repeats then sit at a part's first row and across parts."""
    data = _without_events(planted, out)
    src = f"read_parquet('{planted / 'events.parquet'}', file_row_number=true)"
    con = duckdb.connect()
    ((cut1,),) = con.execute(
        f"SELECT file_row_number FROM {src} WHERE event_id = 9000004"
    ).fetchall()
    ((cut2,),) = con.execute(
        f"SELECT file_row_number FROM {src} WHERE event_id = 9000020 AND event_type = 'share'"
    ).fetchall()
    ranges = [(0, cut1, ""), (cut1, cut2, ", rating"), (0, 0, ""), (cut2, 10**12, "")]
    for name, (lo, hi, left_out) in zip(PARTS, ranges, strict=True):
        (data / "events" / name).parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * EXCLUDE (file_row_number{left_out}) FROM {src} "
            f"WHERE file_row_number >= {lo} AND file_row_number < {hi}) "
            f"TO '{data / 'events' / name}' (FORMAT PARQUET, ROW_GROUP_SIZE 1000)"
        )
    con.close()
    return data


@pytest.fixture
def parts_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts are read in place when a copy would crowd the memory limit: make it so."""
    from brandlens.data import inplace

    monkeypatch.setattr(inplace, "COPY_BYTES_PER_EVENT", 10**9)


def test_parts_are_read_in_place_when_a_copy_would_crowd_memory(
    planted: Path, tmp_path: Path
) -> None:
    """A copy reads the parts once, a view in every query: small logs are copied."""
    from brandlens.engine.runs import EngineConfig

    data = _split(planted, tmp_path / "parts")
    ((rows,),) = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{data}/events/*/*.parquet')"
    ).fetchall()
    assert 10 * 2**20 < rows * 150 * 2 < 100 * 2**20  # between the two limits below
    with Dataset(data, cache=False, config=EngineConfig(memory_limit="100MiB")) as ds:
        assert ds.read_in_place == []
    with Dataset(data, cache=False, config=EngineConfig(memory_limit="10MiB")) as ds:
        assert len(ds.read_in_place) == len(PARTS)
    with Dataset(planted, cache=False, config=EngineConfig(memory_limit="100MiB")) as ds:
        assert len(ds.read_in_place) == 1  # one file: always


@pytest.mark.usefixtures("parts_in_place")
def test_a_folder_of_parts_read_in_place_reports_what_a_copy_does(
    planted: Path, tmp_path: Path
) -> None:
    """A row's position is the rows of the parts before it plus its row in its part:
    the copy's, so reports, quarantine, rows in order and results agree."""
    data = _split(planted, tmp_path / "parts")
    in_place = _open(data, cache=False)
    copied = _open(data, into=tmp_path / "copy.duckdb")
    files = [str((data / "events" / name).resolve()) for name in PARTS]
    assert in_place["in_place"] == files and in_place["stored_as"] == "view"
    assert copied["in_place"] == [] and copied["stored_as"] == "table"
    for part in ("report", "quarantine", "fingerprint", "results"):
        assert in_place[part] == copied[part], part
    counts = {r["reason"]: r["count"] for r in in_place["report"]["reasons"]}
    assert counts["duplicate_event_id"] == 3  # 9_000_020 in b and d, the market's id 1 in d
    # part b has no rating column: its reviews (the planted 9_000_010 among them) miss it
    assert counts["missing_rating"] > EXPECTED["missing_rating"]
    examples = {r["reason"]: r["examples"] for r in in_place["report"]["reasons"]}
    assert examples["unknown_event_type"][0]["file"] == "dt=1/a.parquet"
    assert examples["unknown_event_type"][0]["row"] == 1
    (dated_2300,) = examples["ts_unparseable"]
    assert (dated_2300["file"], dated_2300["row"], dated_2300["event_id"]) == (
        "dt=2/b.parquet",
        1,
        "9000004",
    )
    # d begins with the repeat of a repeat; the market's id 1 comes a few rows later,
    # as many as the one file puts between them
    ((between,),) = duckdb.execute(
        "SELECT max(file_row_number) FILTER (WHERE event_id = 1) - max(file_row_number) "
        "FILTER (WHERE event_id = 9000020) FROM "
        f"read_parquet('{planted / 'events.parquet'}', file_row_number=true)"
    ).fetchall()
    repeats = [(e["file"], e["row"]) for e in examples["duplicate_event_id"]]
    assert repeats[1:] == [("dt=3/d.parquet", 1), ("dt=3/d.parquet", 1 + between)]


@pytest.mark.usefixtures("parts_in_place")
def test_a_changed_part_stops_the_run(planted: Path, tmp_path: Path) -> None:
    data = _split(planted, tmp_path / "parts")
    with Dataset(data, cache=False) as ds:
        assert ds.read("SELECT count(*) FROM events")[0][0] > 0
        part = data / "events" / PARTS[2]
        stat = part.stat()
        os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with pytest.raises(DataError, match=r"dt=2/c\.parquet: changed while"):
            ds.read("SELECT count(*) FROM events")


@pytest.mark.usefixtures("parts_in_place")
@pytest.mark.parametrize("name", ["file_index", "FILE_INDEX", "File_Row_Number"])
def test_parts_with_a_column_named_as_the_readers_own_are_copied(
    planted: Path, tmp_path: Path, name: str
) -> None:
    """The reader's ``file_index`` would be shadowed by the parts' own column (whatever
    its case: DuckDB's names ignore it), and its ``file_row_number`` clash with it."""
    data = _split(planted, tmp_path / "parts")
    last = data / "events" / PARTS[3]
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT *, 7 AS \"{name}\" FROM read_parquet('{last}')) "
        f"TO '{tmp_path / 'd.parquet'}' (FORMAT PARQUET)"
    )
    con.close()
    shutil.move(tmp_path / "d.parquet", last)
    run = _open(data, cache=False)
    assert run["in_place"] == [] and run["stored_as"] == "table"
    assert run["report"] == _open(data, into=tmp_path / "copy.duckdb")["report"]


@pytest.mark.usefixtures("parts_in_place")
def test_a_part_gone_before_validation_is_a_data_error(planted: Path, tmp_path: Path) -> None:
    """Found when DATA is opened, deleted before its rows are read: one clear error."""
    from brandlens.data import inplace

    data = _split(planted, tmp_path / "parts")
    preferred = inplace.preferred

    def gone(con: duckdb.DuckDBPyConnection, ts: Any, rows: list[int]) -> bool:
        (data / "events" / PARTS[1]).unlink()
        return preferred(con, ts, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inplace, "preferred", gone)
        with pytest.raises(DataError, match="events: cannot read"):
            Dataset(data, cache=False)


def test_the_span_of_utc_adjusted_times_is_found_as_that_of_naive_ones(tmp_path: Path) -> None:
    """The local-date expression keeps only the zone's offsets within the file's span;
    for a TIMESTAMPTZ column (the generator's times since 2026-12-06) none was found,
    and every read took the whole offset tree (a run of every methodology at 10 M:
    8.5 -> 9.2-10.1 s). Both forms give the same naive-UTC span."""
    from datetime import datetime

    from brandlens.data.inplace import _span
    from brandlens.data.sources import TableSource

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # the naive file's times are the UTC wall clock
    spans = []
    for kind in ("TIMESTAMP", "TIMESTAMPTZ"):
        path = tmp_path / f"{kind}.parquet"
        con.execute(
            f"COPY (SELECT CAST(t AS {kind}) AS ts FROM (VALUES "
            "(TIMESTAMPTZ '2024-03-01 23:30:00+00'), (TIMESTAMPTZ '2025-06-30 15:59:56+00')) "
            f"v(t)) TO '{path}'"
        )
        ts = TableSource("events", "e", "read_parquet($p)", {"p": str(path)}, {}, '"ts"')
        kinds = {"ts": con.execute(f"SELECT typeof(ts) FROM '{path}' LIMIT 1").fetchone()[0]}
        spans.append(_span(con, ts, kinds))
    assert spans[0] == spans[1] == (datetime(2024, 3, 1, 23, 30), datetime(2025, 6, 30, 15, 59, 56))
