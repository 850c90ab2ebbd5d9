"""Reading sources at their edges: folders of parts, table names, mappings, JSON lines.

A mutation run over the source layer (small errors planted one at a time in
``data/sources.py``, ``csvread.py``, ``jsonread.py``, ``inplace.py``, ``mapping.py`` and
``localtime.py``) found behaviour docs/data.md states that no test touched: a folder
whose name says Parquet holding CSV parts, CSV parts with other line ends, a line of
empty fields in a part, a file whose name only starts like a table's, a mapping given
with optional tables beside the events, the keys of a JSON source's first 1,000 objects
and of the columns a mapping reads, a row starting with ``#``, blank, tab-only and
non-UTF-8 lines in JSON lines, a headerless file's row numbers, the mapping's own checks,
half the memory limit for parts read in place, a path with a glob character, and a zone's
offset change at local midnight. Each test below fails under one of those errors; the
expected numbers are counted by hand from the tiny inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import brandlens
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError, UsageError

HEADER = "ts,user_id,event_type,brand,amount\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _examples(report: Any) -> dict[str, list[tuple[Any, ...]]]:
    """{reason: [(file, row) or (row,), ...]} of a validation report's examples."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in report.reasons:
        out[r.reason] = [
            (e["file"], int(e["row"])) if "file" in e else (int(e["row"]),) for e in r.examples
        ]
    return out


def _jsonl(path: Path, lines: list[str]) -> Path:
    return _write(path, "".join(line + "\n" for line in lines))


def _event(i: int, **values: Any) -> str:
    row = {"ts": "2025-06-01 04:00:00", "user_id": f"u{i}", "event_type": "ad_click", "brand": "B"}
    return json.dumps({**row, **values})


# ---- folders of parts ------------------------------------------------------------------------


def test_a_folder_named_parquet_holding_csv_parts_is_refused(tmp_path):
    # docs/data.md: a folder named events.parquet (Spark names its output after the file)
    # holds Parquet parts; CSV parts in it are a one-line error naming what the name says
    _write(tmp_path / "d" / "events.parquet" / "part-0.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    with pytest.raises(DataError, match=r"events\.parquet: the folder's name says \.parquet"):
        brandlens.validate(tmp_path / "d", cache=False)


def test_a_line_of_empty_fields_keeps_the_row_numbers_of_its_part(tmp_path):
    # part a.csv: row 1 accepted, row 2 all empty (",,,,": missing_required), row 3 a bad
    # amount; part b.csv: row 1 unparseable ts. Each names its part and its row there: the
    # empty row counts as a row of a.csv, so b.csv's row is still its row 1.
    folder = tmp_path / "d" / "events"
    _write(
        folder / "a.csv", HEADER + "2025-06-01,u1,ad_click,B,\n,,,,\n2025-06-01,u3,purchase,B,x\n"
    )
    _write(folder / "b.csv", HEADER + "nope,u4,ad_click,B,\n2025-06-02,u5,ad_click,B,\n")
    report = brandlens.validate(tmp_path / "d", cache=False)
    assert (report.events.rows_read, report.events.rows_accepted) == (5, 2)
    assert _examples(report) == {
        "missing_required": [("a.csv", 2)],
        "bad_type": [("a.csv", 3)],
        "ts_unparseable": [("b.csv", 1)],
    }


def test_csv_parts_with_other_line_ends_are_a_one_line_error(tmp_path):
    # one reader reads every part with one dialect: a part whose lines end in a lone CR
    # (old Mac files) beside one of LF lines is refused by name (docs/data.md, CSV parts)
    folder = tmp_path / "d" / "events"
    _write(folder / "a.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    (folder / "b.csv").write_bytes(
        (HEADER + "2025-06-02,u2,ad_click,B,\n").replace("\n", "\r").encode()
    )
    with pytest.raises(DataError, match=r"b\.csv ends its lines otherwise than a\.csv"):
        brandlens.validate(tmp_path / "d", cache=False)


# ---- which files are tables --------------------------------------------------------------------


def test_a_file_whose_name_only_starts_like_a_tables_is_not_read(tmp_path):
    # only events.csv is the events table: events_old.csv and events.csv.bak beside it are
    # other files, never read (nor a second events file)
    d = tmp_path / "d"
    _write(d / "events.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    _write(d / "events_old.csv", HEADER + "2025-06-01,u2,ad_click,B,\n2025-06-01,u3,ad_click,B,\n")
    _write(d / "users_2024.csv", "user_id\nu1\nu2\n")
    report = brandlens.validate(d, cache=False)
    assert {t.table: t.rows_read for t in report.tables if t.rows_read} == {"events": 1}


def test_a_mapping_reads_the_events_only_not_the_other_tables(tmp_path):
    # the mapping renames and delimits the events file; users (a folder of comma parts)
    # and products (one comma file) keep canonical names and commas: 2 + 1 rows
    d = tmp_path / "d"
    _write(d / "events.csv", "time;uid;action;brand\n2025-06-01 10:00:00;u1;ad_click;B\n")
    _write(d / "users" / "part-0.csv", "user_id,target_group\nu1,g1\nu2,g2\n")
    _write(d / "products.csv", "product_id,brand\np1,B\n")
    mapping = _write(
        tmp_path / "m.yaml",
        "read: {delimiter: ';'}\ncolumns: {ts: time, user_id: uid, event_type: action}\n",
    )
    report = brandlens.validate(d, mapping=mapping, cache=False)
    rows = {t.table: (t.rows_read, t.rows_accepted) for t in report.tables if t.rows_read}
    assert rows == {"events": (1, 1), "users": (2, 2), "products": (1, 1)}


def test_a_row_starting_with_a_hash_is_data(tmp_path):
    # no comment character: "#x" is a (bad) time like any other, row 2, in one file and
    # in a folder of parts (docs/data.md, CSV files: a row starting with # is data)
    text = HEADER + "2025-06-01,u1,ad_click,B,\n#x,u2,ad_click,B,\n"
    one = _write(tmp_path / "one" / "events.csv", text)
    _write(tmp_path / "parts" / "events" / "part-0.csv", text)
    report = brandlens.validate(one.parent, cache=False)
    assert (report.events.rows_read, _examples(report)) == (2, {"ts_unparseable": [(2,)]})
    report = brandlens.validate(tmp_path / "parts", cache=False)
    expected = {"ts_unparseable": [("part-0.csv", 2)]}
    assert (report.events.rows_read, _examples(report)) == (2, expected)


# ---- JSON keys -------------------------------------------------------------------------------


def test_json_keys_are_checked_in_the_first_1000_objects(tmp_path):
    # object 500 (of 600) names user_id a second way: within the first 1,000, so refused
    lines = [_event(i) for i in range(1, 600)]
    lines.insert(499, _event(500, USER_ID="x"))
    path = _jsonl(tmp_path / "d" / "events.jsonl", lines)
    with pytest.raises(DataError, match=r"name the key 'user_id' 2 ways \(USER_ID, user_id\)"):
        brandlens.validate(path.parent, cache=False)


def test_a_json_key_a_mapping_reads_given_two_ways_is_refused(tmp_path):
    # the mapping reads uid; the objects give uid and UID: which holds the user is a guess
    row = {"ts": "2025-06-01 04:00:00", "uid": "u1", "UID": "u9", "event_type": "ad_click"}
    path = _jsonl(tmp_path / "d" / "events.jsonl", [json.dumps(row)])
    mapping = _write(tmp_path / "m.yaml", "columns: {user_id: uid}\n")
    with pytest.raises(DataError, match=r"name the key 'uid' 2 ways \(UID, uid\)"):
        brandlens.validate(path.parent, mapping=mapping, cache=False)


# ---- JSON lines read by lines --------------------------------------------------------------


def test_blank_lines_count_in_a_json_line_files_row_numbers_and_a_tab_is_blank(tmp_path):
    # line 1 accepted, line 2 empty, line 3 cut short (malformed_row), line 4 a bad time,
    # line 5 a tab alone (blank: no row, not malformed), line 6 accepted. Rows read by
    # lines are numbered by their line numbers, blank lines counted: the bad time is row 4.
    lines = [_event(1), "", '{"ts": "2025', _event(4, ts="nope"), "\t", _event(6)]
    path = _jsonl(tmp_path / "d" / "events.jsonl", lines)
    report = brandlens.validate(path.parent, cache=False)
    assert (report.events.rows_read, report.events.rows_accepted) == (4, 2)
    assert _examples(report) == {"ts_unparseable": [(4,)], "malformed_row": [(3,)]}


def test_lines_not_utf8_count_among_the_bad_lines_of_a_json_file(tmp_path):
    # 1 object, 1 line cut short, 1 line of invalid UTF-8: 2 of 3 lines are no object, so
    # the file is not JSON lines and fails in one line with DuckDB's message
    path = tmp_path / "d" / "events.jsonl"
    path.parent.mkdir()
    path.write_bytes(_event(1).encode() + b'\n{"ts": "20\n{"brand": "\xff\xfe"}\n')
    with pytest.raises(DataError, match=r"events\.jsonl: cannot read"):
        brandlens.validate(path.parent, cache=False)


def test_the_line_before_a_line_too_long_to_read_keeps_its_line_number(tmp_path):
    # read by lines (line 3's quote never closes): line 2 a bad time (row 1), line 3
    # malformed, line 4 longer than 2 MB (malformed: the line reader refuses it), line 5
    # accepted. The refused line 4 shifts only the lines after it.
    long = "2025-06-01," + "x" * 3_000_000 + ",ad_click,B"
    lines = ["nope,u1,ad_click,B", '2025-06-01,"u2,ad_click,B', long, "2025-06-01,u4,ad_click,B"]
    path = _write(
        tmp_path / "d" / "events.csv", "ts,user_id,event_type,brand\n" + "\n".join(lines) + "\n"
    )
    report = brandlens.validate(path.parent, cache=False)
    assert report.events.rows_accepted == 1
    assert _examples(report) == {"ts_unparseable": [(1,)], "malformed_row": [(3,), (4,)]}


# ---- headerless CSV ----------------------------------------------------------------------------


def test_a_headerless_files_rows_around_a_malformed_line_keep_their_line_numbers(tmp_path):
    # taobao-userbehavior has no header: row n is line n. Line 1 and line 3 hold a unix
    # time that is no number (ts_unparseable: rows 1 and 3), line 2 a sixth field
    # (malformed_row, line 2); the row before the malformed line keeps its number too.
    path = _write(
        tmp_path / "UserBehavior.csv",
        "1,2,3,pv,abc\n2,2,3,pv,1511544070,9\n3,2,3,pv,xyz\n4,2,3,pv,1511544071\n",
    )
    report = brandlens.validate(path, preset="taobao-userbehavior", cache=False)
    assert (report.events.rows_read, report.events.rows_accepted) == (4, 1)
    assert _examples(report) == {"ts_unparseable": [(1,), (3,)], "malformed_row": [(2,)]}


# ---- the mapping's own checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a misspelt key would otherwise be dropped without a word
        ("colums: {user_id: uid}\n", r"mapping field colums: Extra inputs are not permitted"),
        # a name of spaces is no name (docs/data.md: read.names are non-empty)
        ("read: {header: false, names: [ts, ' ', event_type]}\n", r"must not be empty"),
        # two sources for one column: the derive used to win without a word
        (
            "columns: {user_id: uid}\nderive: {user_id: upper(uid)}\n",
            r"mapping: column 'user_id' is given under both columns and derive; keep one$",
        ),
        # a misspelt target would quarantine every such row as unknown_event_type
        (
            "event_types: {view: product_vieww}\n",
            r"event_types maps 'view' to 'product_vieww', which is not an event type "
            r"\(did you mean product_view\?\)$",
        ),
        ("event_types: {view: Seen}\n", r"'Seen', which is not an event type \(one of: ad_click, "),
    ],
)
def test_a_mapping_breaking_its_rules_is_a_usage_error(tmp_path, text, message):
    d = tmp_path / "d"
    _write(d / "events.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    mapping = _write(tmp_path / "m.yaml", text)
    with pytest.raises(UsageError, match=r"m\.yaml: .*" + message):
        brandlens.validate(d, mapping=mapping, cache=False)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        # SQLGlot's "Required keyword: 'expression' missing for <class '...Add'>"
        (
            'derive: {amount: "price +"}\n',
            "m.yaml: derive amount: expression does not parse: incomplete Add: its second "
            "operand is missing. Line 1, Col: 7.",
        ),
        (
            'derive: {amount: "-"}\n',
            "incomplete Neg: its first operand is missing",
        ),
    ],
)
def test_a_derive_that_does_not_parse_is_said_in_a_users_words(tmp_path, mapping, message):
    data = _write(
        tmp_path / "d" / "events.csv", HEADER.rstrip("\n") + ",price\n2025-06-01,u1,purchase,B,,3\n"
    )
    path = _write(tmp_path / "m.yaml", mapping)
    with pytest.raises(UsageError) as caught:
        brandlens.validate(data, mapping=path, cache=False)
    assert message in str(caught.value) and "sqlglot" not in str(caught.value)


def test_a_headerless_file_without_names_says_read_names_is_needed(tmp_path):
    data = _write(tmp_path / "e.csv", "2025-06-01,u1,ad_click\n")
    path = _write(tmp_path / "m.yaml", "read: {header: false}\ncolumns: {ts: time}\n")
    with pytest.raises(DataError) as caught:
        brandlens.validate(data, mapping=path, cache=False)
    assert str(caught.value) == f"{data}: " + (
        "mapping reads column 'time', which is not in the file (with read: {header: "
        "false} the file's 3 columns have no names but column0, column1, ...: name them with "
        "read.names, in order)"
    )


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        # event_id is read as itself: no candidate for user_id (it was "user_id -> event_id")
        ("event_id,ts,event_type,brand", "; name the file's columns with a mapping"),
        ("event_id,ts,uid,event_type,brand", "; closest in header: user_id -> uid;"),
    ],
)
def test_a_missing_columns_hint_names_only_columns_not_read_already(tmp_path, header, hint):
    data = _write(tmp_path / "e.csv", header + "\n")
    with pytest.raises(DataError) as caught:
        brandlens.validate(data, cache=False)
    text = str(caught.value)
    assert text.startswith(f"{data}: missing required column(s) user_id" + hint)
    assert "-> event_id" not in text


@pytest.mark.parametrize("zone", ["../etc", "/UTC", "Asia/../UTC", ""])
def test_a_zone_name_that_is_no_zone_key_is_a_usage_error(tmp_path, zone):
    # zoneinfo raises ValueError, not ZoneInfoNotFoundError, on such names
    d = tmp_path / "d"
    _write(d / "events.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    with pytest.raises(UsageError, match="unknown time zone"):
        brandlens.validate(d, ts_timezone=zone, cache=False)
    mapping = _write(tmp_path / "m.yaml", f"ts_timezone: {json.dumps(zone)}\n")
    with pytest.raises(UsageError, match=r"m\.yaml: mapping field ts_timezone: unknown time zone"):
        brandlens.validate(d, mapping=mapping, cache=False)


# ---- a folder of Parquet parts read in place -------------------------------------------------


def _parquet_parts(folder: Path, rows: int) -> Path:
    """Two Parquet parts of ``rows`` events in all, with integer event ids."""
    import duckdb

    folder.mkdir(parents=True)
    half = rows // 2
    for name, lo, hi in (("a.parquet", 0, half), ("b.parquet", half, rows)):
        duckdb.execute(
            f"COPY (SELECT i AS event_id, TIMESTAMP '2025-06-01 04:00:00' AS ts, "
            f"'u' || (i % 50) AS user_id, 'ad_click' AS event_type, 'B' AS brand "
            f"FROM range({lo}, {hi}) t(i)) TO '{folder / name}' (FORMAT parquet)"
        )
    return folder.parent


@pytest.mark.parametrize(
    ("rows", "in_place"),
    [
        # a copy takes about 150 bytes per event; the limit is 10 MiB = 10,485,760 bytes,
        # half of it 5,242,880: 34,000 events (5,100,000 bytes) are copied, 40,000
        # (6,000,000 bytes) read in place (binary units: 5,000,000 would read both in place;
        # the whole limit instead of half would copy both)
        (34_000, False),
        (40_000, True),
    ],
)
def test_parts_are_read_in_place_past_half_the_memory_limit(tmp_path, rows, in_place):
    from brandlens.engine.runs import EngineConfig

    data = _parquet_parts(tmp_path / "d" / "events", rows)
    with Dataset(data, cache=False, config=EngineConfig(memory_limit="10MiB")) as ds:
        assert (len(ds.read_in_place) == 2) is in_place
        assert ds.report.events.rows_accepted == rows


# ---- local dates at an offset change that lands on midnight ------------------------------------


def test_the_last_second_before_a_change_at_local_midnight_keeps_the_old_date(tmp_path):
    # Chile began summer time on 2025-09-07 at 04:00:00 UTC: local midnight at -04 became
    # 01:00 at -03. One second before, 03:59:59 UTC is 23:59:59 on 6 September (-04);
    # at the change 04:00:00 UTC is 01:00 on 7 September (-03). Either offset a second
    # early or late puts one of them on the other day; and summer time holds on: 03:30 UTC
    # on 1 December is 00:30 that day at -03 (23:30 on 30 November at -04).
    d = tmp_path / "d"
    _write(
        d / "events.csv",
        "ts,user_id,event_type,brand\n"
        "2025-09-07 03:59:59,u1,ad_click,B\n"
        "2025-09-07 04:00:00,u2,ad_click,B\n"
        "2025-12-01 03:30:00,u3,ad_click,B\n",
    )
    with Dataset(d, cache=False, timezone="America/Santiago") as ds:
        rows = ds.con.execute("SELECT user_id, local_date FROM events ORDER BY user_id").fetchall()
    assert [(u, str(day)) for u, day in rows] == [
        ("u1", "2025-09-06"),
        ("u2", "2025-09-07"),
        ("u3", "2025-12-01"),
    ]


@pytest.mark.parametrize("name", ["d*", "d?", "d[1]"])
def test_a_file_with_a_glob_character_in_its_path_is_copied_not_read_in_place(tmp_path, name):
    # DuckDB's readers expand *, ? and [..] in a path: such a folder's events.parquet is
    # read by its literal path and copied (docs/data.md: a name with *, ? or [ is never
    # read in place), never confused with d1/events.parquet beside it (2 rows there, 3 here)
    import duckdb

    for folder, rows in ((name, 3), ("d1", 2)):
        (tmp_path / folder).mkdir()
        target = str(tmp_path / folder / "events.parquet").replace("'", "''")
        duckdb.execute(
            f"COPY (SELECT i AS event_id, TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u' || i AS "
            f"user_id, 'ad_click' AS event_type FROM range({rows}) t(i)) "
            f"TO '{target}' (FORMAT parquet)"
        )
    with Dataset(tmp_path / name, cache=False) as ds:
        assert ds.read_in_place == []
        assert ds.report.events.rows_accepted == 3
        assert ds.con.execute("SELECT count(*) FROM events").fetchall() == [(3,)]


def test_the_repeated_hour_at_the_end_of_a_zones_steady_stretch_is_its_later_instant(tmp_path):
    # New York kept one offset longest in 1974 (summer time all year, -04) until it fell
    # back at 06:00 UTC on 27 October: 01:00 local then came twice, and a repeated wall
    # time is its later instant (docs/data.md), 01:00 at -05 = 06:00 UTC (not 05:00 at -04)
    import duckdb

    d = tmp_path / "d"
    d.mkdir()
    duckdb.execute(
        "COPY (SELECT TIMESTAMP '1974-10-27 01:00:00' AS ts, 'u1' AS user_id, "
        f"'ad_click' AS event_type) TO '{d / 'events.parquet'}' (FORMAT parquet)"
    )  # a typed wall-clock time (TIMESTAMP without zone), as Parquet exports hold them
    with Dataset(d, cache=False, ts_timezone="America/New_York") as ds:
        rows = ds.con.execute("SELECT CAST(ts AS VARCHAR) FROM events").fetchall()
    assert rows == [("1974-10-27 06:00:00",)]


# ---- behaviour that contradicted docs/data.md, fixed with these tests ---------------


# docs/data.md, "Folders of parts": a Hive-style folder naming a canonical column the parts
# do not hold is refused; CSV parts were read anyway (their source had no folder columns).
@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_a_hive_folder_naming_a_column_the_parts_lack_is_refused_for_every_kind(tmp_path, kind):
    part = tmp_path / "d" / "events" / "brand=Aurora" / f"part-0.{kind}"
    part.parent.mkdir(parents=True)
    if kind == "csv":
        part.write_text("ts,user_id,event_type,amount\n2025-06-01,u1,purchase,5\n")
    elif kind == "jsonl":
        part.write_text('{"ts": "2025-06-01", "user_id": "u1", "event_type": "purchase"}\n')
    else:
        duckdb.execute(
            "COPY (SELECT '2025-06-01' AS ts, 'u1' AS user_id, 'purchase' AS event_type) "
            f"TO '{part}' (FORMAT parquet)"
        )
    with pytest.raises(DataError, match=r"folder brand=Aurora names column brand"):
        brandlens.validate(tmp_path / "d", cache=False)


# docs/data.md, "JSON lines lose a bad line, never the file": a line naming twice a key
# brandlens reads is one malformed_row. As the only bad line of a file read whole, DuckDB
# refused it at the load and the whole file failed ("cannot read (... has duplicate key
# "user_id")"); the file is now read by lines then (found by a mutation run).
def test_a_json_line_naming_a_key_it_reads_twice_is_one_malformed_row(tmp_path):

    def line(user: str, **extra: str) -> str:
        row = {"ts": "2025-06-01", "user_id": user, "event_type": "ad_click", **extra}
        return json.dumps(row)

    twice = '{"ts": "2025-06-01", "user_id": "u2", "user_id": "u9", "event_type": "ad_click"}'
    path = tmp_path / "d" / "events.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join([line("u1"), twice, line("u3")]) + "\n")
    report = brandlens.validate(path.parent, cache=False)
    # 3 lines: 2 accepted, line 2 one malformed_row (which user is meant?)
    assert (report.events.rows_read, report.events.rows_accepted) == (3, 2)
    ((reason, examples),) = [(r.reason, r.examples) for r in report.reasons]
    assert reason == "malformed_row"
    assert [(e["row"], e["error"]) for e in examples] == [(2, "DUPLICATE KEY")]
    # A key brandlens does not read, given twice, changes nothing it reads: a file read
    # whole keeps that line as a row (DuckDB looks only at the keys a load reads).
    note = '{"ts": "2025-06-01", "user_id": "u2", "note": "a", "note": "b", "event_type": "x"}'
    path.write_text("\n".join([line("u1"), note.replace('"x"', '"ad_click"')]) + "\n")
    report = brandlens.validate(path.parent, cache=False)
    assert (report.events.rows_read, report.events.rows_accepted) == (2, 2)


@pytest.mark.parametrize(
    ("zone", "hint"),
    [("utc", "did you mean UTC?"), ("asia/SHANGHAI", "did you mean Asia/Shanghai?")],
)
def test_a_zone_in_another_case_is_named_as_the_database_spells_it(tmp_path, zone, hint):
    d = tmp_path / "d"
    _write(d / "events.csv", HEADER + "2025-06-01,u1,ad_click,B,\n")
    for kw in ({"timezone": zone}, {"ts_timezone": zone}):
        with pytest.raises(UsageError) as caught:
            brandlens.validate(d, cache=False, **kw)
        assert str(caught.value).endswith(f"unknown time zone {zone!r} ({hint})")
    mapping = _write(tmp_path / "m.yaml", f"ts_timezone: {zone}\n")
    with pytest.raises(UsageError) as caught:
        brandlens.validate(d, mapping=mapping, cache=False)
    assert str(caught.value).endswith(
        f"m.yaml: mapping field ts_timezone: unknown time zone {zone!r} ({hint})"
    )


def test_a_csv_file_with_thousands_of_columns_is_refused_at_once(tmp_path):
    """60,000 empty header fields (a 469 KB file) ran for over 15 minutes inside DuckDB,
    deaf to Ctrl-C (a hostile-input review): past 4,096 fields line 1 is refused."""
    (tmp_path / "events.csv").write_text(
        ",".join(["event_id", "ts", "user_id", "event_type", "brand"] + [""] * 5000)
        + "\n1,2025-06-01 04:00:00,u1,ad_click,A"
        + "," * 5000
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as e:
        Dataset(tmp_path, cache=False)
    assert str(e.value) == (
        f"{tmp_path / 'events.csv'}: line 1 has 5,005 fields; brandlens reads CSV files of "
        "at most 4,096 columns (is the delimiter right?)"
    )
