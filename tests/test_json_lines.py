"""A JSON lines file loses a bad line, never the file (data/jsonread.py).

DuckDB's read_json fails a whole file on one line that is not JSON, and reads every
line as one ``json`` column when a line is JSON but not an object. Such a file is read
again by lines: each bad line one ``malformed_row`` with its line number, every other
line read as the fast path reads it.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.runs import Dataset


def event(i: int, **values: object) -> str:
    row = {
        "event_id": i,
        "ts": "2025-06-01 04:00:00",
        "user_id": f"u{i}",
        "event_type": "purchase",
        "brand": "B",
        "amount": 10,
    }
    return json.dumps({**row, **values})


def write(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def outcome(path: Path, **kw) -> tuple[int, int, dict[str, list[tuple[int, str]]], list[str]]:
    """(rows read, accepted, {reason: [(row, error or column)]}, accepted users in order)."""
    with Dataset(path, cache=False, **kw) as ds:
        rep = ds.report
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events").fetchall()]
        reasons = {
            r.reason: [(e["row"], str(e.get("error", e.get("column", "")))) for e in r.examples]
            for r in rep.reasons
        }
        ev = rep.events
        assert ev.rows_read == ev.rows_accepted + ev.rows_quarantined
        return ev.rows_read, ev.rows_accepted, reasons, users


def test_a_storyboard_of_bad_lines(tmp_path):
    lines: list[str | bytes] = [
        event(1),  # line 1: u1 accepted
        "",  # line 2: blank, no row (as read_json skips it)
        event(2)[:-1],  # line 3: cut short (its writer died): MALFORMED JSON
        "[1, 2]",  # line 4: JSON, not an object: NOT A JSON OBJECT
        event(3, event_type="view"),  # line 5: a row, quarantined by its value, row 5
        event(4, amount=-1),  # line 6: negative_amount, row 6: numbered by its line
        event(5) + event(6),  # line 7: two objects on one line: MALFORMED JSON
        '{"event_id": 7, "user_id": "u7", "ts": "2025-06-01 04:00:00", "event_type": '
        '"purchase", "brand": "\xe4\xb8\xad", "amount": 1}',  # line 8: u7, UTF-8 text
        b'{"event_id": 8, "user_id": "' + "中".encode("gbk") + b'"}',  # line 9: GBK
        "   ",  # line 10: spaces only, no row
        event(9),  # line 11: u9 accepted
        '{"event_id": 10, "user_id": "u10", "user_id": "u11"}',  # line 12: DUPLICATE KEY
    ]
    read, accepted, reasons, users = outcome(write(tmp_path / "events.jsonl", lines))
    assert (read, accepted) == (10, 3)  # twelve lines less two blank ones
    assert users == ["u1", "u7", "u9"]
    malformed = reasons.pop("malformed_row")
    assert [row for row, _ in malformed] == [3, 4, 7]  # the first three examples
    assert [error for _, error in malformed] == [
        "MALFORMED JSON",
        "NOT A JSON OBJECT",
        "MALFORMED JSON",
    ]
    assert reasons == {
        "unknown_event_type": [(5, "event_type")],
        "negative_amount": [(6, "amount")],
    }
    report = brandlens.validate(tmp_path / "events.jsonl", cache=False)
    bad = next(r for r in report.reasons if r.reason == "malformed_row")
    assert bad.count == 5  # lines 3, 4, 7, 9 and 12
    assert {e["row"]: e["error"] for e in bad.examples} == {
        3: "MALFORMED JSON",
        4: "NOT A JSON OBJECT",
        7: "MALFORMED JSON",
    }


def test_a_gbk_line_says_how_to_convert_the_file(tmp_path):
    lines = [event(i) for i in range(5)]
    lines.insert(2, b'{"event_id": 9, "user_id": "' + "会员".encode("gbk") + b'"}')
    read, accepted, reasons, _ = outcome(write(tmp_path / "events.jsonl", lines))
    assert (read, accepted) == (6, 5)
    [(row, error)] = reasons["malformed_row"]
    assert row == 3 and "GB18030" in error and "iconv" in error


def test_the_quarantine_file_holds_each_bad_line_by_its_line_number(tmp_path):
    lines = [event(1), "", event(2), "not json", event(3, amount="x")]
    out = tmp_path / "q.csv"
    brandlens.validate(write(tmp_path / "events.jsonl", lines), quarantine_out=out, cache=False)
    with out.open() as f:
        rows = [(r["row"], r["reason"], r["line"], r["user_id"]) for r in csv.DictReader(f)]
    assert rows == [("4", "malformed_row", "not json", ""), ("5", "bad_type", "", "u3")]


def test_gzipped_lines_are_read_by_lines_too(tmp_path):
    lines = [event(i) for i in range(50)]
    lines.insert(20, '{"event_id": 99, "ts": ')  # line 21
    read, accepted, reasons, users = outcome(write(tmp_path / "events.jsonl.gz", lines))
    assert (read, accepted) == (51, 50)
    assert reasons == {"malformed_row": [(21, "MALFORMED JSON")]}
    assert users == [f"u{i}" for i in range(50)]


def test_keys_are_typed_as_read_json_types_them(tmp_path):
    # An object where a value belongs is bad_type; numbers and text keep their values;
    # two spellings of a key brandlens does not read are two columns, as for read_json.
    lines = [
        event(1, quantity=2, note="a", NOTE="b"),
        event(2, user_id={"id": 2}),  # bad_type on user_id
        event(3, quantity=1.5),  # a rating-like 1.5: bad_type on quantity
        event(4, amount=12.5, ts="2025-06-01T04:00:00+08:00"),  # an offset: 2025-05-31 20:00Z
        "oops",
    ]
    read, accepted, reasons, users = outcome(write(tmp_path / "events.jsonl", lines))
    assert (read, accepted) == (5, 2)
    assert users == ["u1", "u4"]
    assert reasons["bad_type"] == [(2, "user_id"), (3, "quantity")]
    with Dataset(tmp_path / "events.jsonl", cache=False) as ds:
        rows = ds.con.execute(
            "SELECT user_id, quantity, amount, CAST(ts AS VARCHAR) FROM events ORDER BY user_id"
        ).fetchall()
    assert [r[:3] for r in rows] == [("u1", 2, 10), ("u4", None, 12.5)]
    assert rows[1][3].startswith("2025-05-31 20:00:00")


def test_a_file_that_is_not_json_lines_keeps_duckdbs_error(tmp_path):
    # A JSON array printed over several lines, with an error: reading it by lines would
    # make every line a malformed row, so DuckDB's one-line error stands.
    records = [json.loads(event(i)) for i in range(3)]
    text = json.dumps(records, indent=2).replace('"u1"', '"u1",')
    (tmp_path / "events.json").write_text(text)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "events.json"), "--no-cache"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "events.json: cannot read" in result.output


def test_strict_fails_on_a_malformed_line(tmp_path):
    write(tmp_path / "events.jsonl", [event(1), "{", event(2)])
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--strict", "--no-cache"])
    assert result.exit_code == 1 and "1 bad row(s) under --strict" in result.output


def assert_same_but_the_bad_lines(one, other, good: int, bad: int) -> None:
    """``other`` (the lines of ``one`` with ``bad`` bad lines put in) read ``good + bad``
    rows, quarantined the bad ones as malformed_row and gave every result of ``one``."""
    assert other.dataset.rows_read == good + bad
    assert other.dataset.rows_accepted == one.dataset.rows_accepted
    assert other.dataset.quarantined_by_reason == {
        **one.dataset.quarantined_by_reason,
        "malformed_row": bad,
    }
    assert other.errors == one.errors == []
    assert [r.model_dump() for r in other.results] == [r.model_dump() for r in one.results]
    assert len(one.results) > 100


def test_results_equal_the_fast_reads_of_the_good_lines(tmp_path):
    """A market's events as JSON lines, with bad lines put in at random: every result
    equals that of the same lines without them, read whole by read_json."""
    market = tmp_path / "market"
    assert CliRunner().invoke(app, ["generate", str(market), "--users", "150", "-q"]).exit_code == 0
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    clean.mkdir()
    broken.mkdir()
    con = duckdb.connect()
    for table in ("events", "users", "products", "targets", "spend"):
        source = str(market / f"{table}.parquet")
        target = str(clean / f"{table}.jsonl")
        con.execute(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{target}' (FORMAT json)")
        if table != "events":
            (broken / f"{table}.jsonl").write_bytes((clean / f"{table}.jsonl").read_bytes())
    good = (clean / "events.jsonl").read_text().splitlines()
    rng = random.Random(7)
    bad = ['{"event_id": 1', "[]", "42", "{} {}", '{"ts": "2025-06-01", "user_id": "x"']
    lines = list(good)
    for text in bad:
        lines.insert(rng.randrange(len(lines) + 1), text)
    (broken / "events.jsonl").write_text("\n".join(lines) + "\n")
    one = brandlens.compute(clean, as_of="2025-06-30", cache=False)
    other = brandlens.compute(broken, as_of="2025-06-30", cache=False)
    # and read whole, the JSON lines give what the same market's Parquet files give
    parquet = brandlens.compute(market, as_of="2025-06-30", cache=False)
    assert [r.model_dump() for r in one.results] == [r.model_dump() for r in parquet.results]
    assert_same_but_the_bad_lines(one, other, len(good), len(bad))


def parts_outcome(folder: Path) -> tuple[int, int, dict[str, list[tuple[str, int, str]]], list]:
    """(rows read, accepted, {reason: [(file, row, error or column)]}, accepted users in
    order) of a folder of parts."""
    with Dataset(folder, cache=False) as ds:
        rep = ds.report
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events").fetchall()]
        reasons = {
            r.reason: [
                (e["file"], e["row"], str(e.get("error", e.get("column", "")))) for e in r.examples
            ]
            for r in rep.reasons
        }
        ev = rep.events
        assert ev.rows_read == ev.rows_accepted + ev.rows_quarantined
        return ev.rows_read, ev.rows_accepted, reasons, users


@pytest.mark.parametrize("suffix", ["jsonl", "ndjson"])
def test_a_storyboard_of_bad_lines_in_a_folder_of_parts(tmp_path, suffix):
    """A folder of JSON parts with bad lines is read by lines, part by part: each bad
    line one malformed_row named by its part and its line there, every other row
    numbered by its line in its part, the rows in the parts' order."""
    folder = tmp_path / "events"
    folder.mkdir()
    write(folder / f"part-0.{suffix}", [event(1), event(2)])  # u1, u2 accepted
    write(
        folder / f"part-1.{suffix}",
        [
            event(3),  # line 1: u3 accepted
            "",  # line 2: blank, no row
            event(4)[:-1],  # line 3: cut short: MALFORMED JSON (part-1, row 3)
            event(5, amount=-1),  # line 4: negative_amount (part-1, row 4)
            event(6),  # line 5: u6 accepted
        ],
    )
    write(
        folder / f"part-2.{suffix}",
        [
            "42",  # line 1: NOT A JSON OBJECT (part-2, row 1)
            b'{"event_id": 9, "user_id": "' + "中".encode("gbk") + b'"}',  # line 2: GBK
            event(7, amount="x"),  # line 3: bad_type (part-2, row 3: the GBK line counts)
            event(8),  # line 4: u8 accepted
        ],
    )
    read, accepted, reasons, users = parts_outcome(folder)
    assert (read, accepted) == (10, 5)  # 2 + 4 + 4 non-blank lines
    assert users == ["u1", "u2", "u3", "u6", "u8"]
    malformed = reasons.pop("malformed_row")
    assert [(f, row) for f, row, _ in malformed] == [
        (f"part-1.{suffix}", 3),
        (f"part-2.{suffix}", 1),
        (f"part-2.{suffix}", 2),
    ]
    assert [e.split(":")[0] for _, _, e in malformed] == [
        "MALFORMED JSON",
        "NOT A JSON OBJECT",
        "INVALID ENCODING",
    ]
    assert "iconv" in malformed[2][2]  # the GBK line's part is checked for GB18030
    assert reasons == {
        "negative_amount": [(f"part-1.{suffix}", 4, "amount")],
        "bad_type": [(f"part-2.{suffix}", 3, "amount")],
    }
    # the quarantine file says the same, row by row
    out = tmp_path / "q.csv"
    brandlens.validate(tmp_path, quarantine_out=out, cache=False)
    with out.open() as f:
        rows = [(r["file"], r["row"], r["reason"]) for r in csv.DictReader(f)]
    assert sorted(rows) == sorted(
        [
            (f"part-1.{suffix}", "3", "malformed_row"),
            (f"part-1.{suffix}", "4", "negative_amount"),
            (f"part-2.{suffix}", "1", "malformed_row"),
            (f"part-2.{suffix}", "2", "malformed_row"),
            (f"part-2.{suffix}", "3", "bad_type"),
        ]
    )


@pytest.mark.parametrize("empty", [b"", b"\n\n"], ids=["0 bytes", "blank lines"])
def test_an_empty_part_beside_a_bad_line_holds_no_rows(tmp_path, empty):
    # Spark writes a 0-byte file for an empty partition: read by lines, it holds no line
    # that is an object, and is no reason to call the folder "not JSON lines" (found by
    # the review: the folder failed, naming the empty part).
    folder = tmp_path / "events"
    folder.mkdir()
    write(folder / "part-0.jsonl", [event(1), "{"])  # u1; line 2 MALFORMED JSON
    (folder / "part-1.jsonl").write_bytes(empty)
    write(folder / "part-2.jsonl", [event(2)])  # u2
    read, accepted, reasons, users = parts_outcome(folder)
    assert (read, accepted, users) == (3, 2, ["u1", "u2"])
    assert reasons == {"malformed_row": [("part-0.jsonl", 2, "MALFORMED JSON")]}


def test_a_load_that_fails_for_another_reason_keeps_its_message(tmp_path):
    # Only a key given twice sends a failed load back to read by lines; a derive reading
    # a zone DuckDB does not know fails as it did, with its own message (the review
    # found it named an empty part instead: "most lines are not JSON objects").
    folder = tmp_path / "events"
    folder.mkdir()
    for k in range(2):
        write(
            folder / f"p{k}.jsonl",
            [event(10 * k + i, zone=["UTC", "Mars/Base"][i]) for i in (0, 1)],
        )
    (folder / "p9.jsonl").write_bytes(b"")
    mapping = tmp_path / "m.yaml"
    mapping.write_text('derive: {ts: "timezone(zone, CAST(ts AS TIMESTAMP))"}\n')
    result = CliRunner().invoke(
        app, ["validate", str(tmp_path), "--mapping", str(mapping), "--no-cache"]
    )
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "a row's time zone 'Mars/Base', read by the mapping's derive" in result.output


def test_parts_read_by_lines_number_rows_as_the_whole_read_does(tmp_path):
    # The same parts read whole, and with a bad line after the last part's rows (which
    # moves no row's line): the same rows, reasons, parts and row numbers.
    parts = [
        [event(1), event(2, amount=-3)],  # part-0: u1; row 2 negative_amount
        [event(3, event_type="view"), event(4)],  # part-1: row 1 unknown_event_type; u4
        [event(5), event(6, amount="x"), event(7)],  # part-2: u5; row 2 bad_type; u7
    ]
    outcomes = []
    for name, extra in (("whole", []), ("by_lines", ["{oops"])):
        folder = tmp_path / name / "events"
        folder.mkdir(parents=True)
        for i, lines in enumerate(parts):
            write(folder / f"part-{i}.jsonl", lines + (extra if i == len(parts) - 1 else []))
        outcomes.append(parts_outcome(folder))
    whole, by_lines = outcomes
    read, accepted, reasons, users = by_lines
    assert reasons.pop("malformed_row") == [("part-2.jsonl", 4, "MALFORMED JSON")]
    assert (read - 1, accepted, reasons, users) == whole
    assert users == ["u1", "u4", "u5", "u7"]
    assert reasons == {
        "negative_amount": [("part-0.jsonl", 2, "amount")],
        "unknown_event_type": [("part-1.jsonl", 1, "event_type")],
        "bad_type": [("part-2.jsonl", 2, "amount")],
    }


def test_parts_with_bad_lines_give_the_results_of_the_good_lines(tmp_path):
    """A market's events as three JSON parts, with bad lines put in at random: every
    result equals that of the same parts without them, read whole by read_json."""
    market = tmp_path / "market"
    assert CliRunner().invoke(app, ["generate", str(market), "--users", "150", "-q"]).exit_code == 0
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    con = duckdb.connect()
    for folder in (clean, broken):
        (folder / "events").mkdir(parents=True)
        for table in ("users", "products", "targets", "spend"):
            source, target = str(market / f"{table}.parquet"), str(folder / f"{table}.jsonl")
            con.execute(f"COPY (FROM read_parquet('{source}')) TO '{target}' (FORMAT json)")
    events = str(market / "events.parquet")
    for i in range(3):  # every third event, in the file's order
        target = str(clean / "events" / f"part-{i}.jsonl")
        con.execute(
            f"COPY (SELECT * EXCLUDE (n) FROM (SELECT *, row_number() OVER () - 1 AS n "
            f"FROM read_parquet('{events}')) WHERE n % 3 = {i} ORDER BY n) TO '{target}' "
            "(FORMAT json)"
        )
    rng = random.Random(11)
    bad = ['{"event_id": 1', "[]", "42", "{} {}", '{"ts": "2025-06-01", "user_id": "x"']
    good = 0
    for i in range(3):
        lines = (clean / "events" / f"part-{i}.jsonl").read_text().splitlines()
        good += len(lines)
        for text in bad[i::3]:
            lines.insert(rng.randrange(len(lines) + 1), text)
        (broken / "events" / f"part-{i}.jsonl").write_text("\n".join(lines) + "\n")
    one = brandlens.compute(clean, as_of="2025-06-30", cache=False)
    other = brandlens.compute(broken, as_of="2025-06-30", cache=False)
    assert_same_but_the_bad_lines(one, other, good, len(bad))


def test_the_good_lines_keys_are_checked_as_a_whole_files_are(tmp_path):
    # The checks read_json's objects get (tests/test_hostile.py) hold for the lines too.
    lossy = [event(1, event_id=9007199254740993), event(2, event_id=2.5), "{"]
    write(tmp_path / "events.jsonl", lossy)
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--no-cache"])
    assert result.exit_code == 1 and "past 2^53 (9007199254740993)" in result.output
    write(tmp_path / "events.jsonl", [event(1, **{"": 1}), "{"])
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--no-cache"])
    assert result.exit_code == 1 and 'an empty key ("")' in result.output


def test_keys_of_any_spelling_are_read_by_lines(tmp_path):
    # Chinese exports name their keys in Chinese, with dots and quotes at times.
    def row(i: int) -> str:
        return json.dumps(
            {
                "时间": "2025-06-01 04:00:00",
                "用户 id": f"u{i}",
                '事件."类型"': "purchase",
                "brand": "B",
                "amount": i,
            },
            ensure_ascii=False,
        )

    write(tmp_path / "events.jsonl", [row(1), "{oops", row(2)])
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns:\n  ts: 时间\n  user_id: 用户 id\n  event_type: '事件.\"类型\"'\n",
        encoding="utf-8",
    )
    read, accepted, reasons, users = outcome(tmp_path / "events.jsonl", mapping=mapping)
    assert (read, accepted, users) == (3, 2, ["u1", "u2"])
    assert reasons == {"malformed_row": [(2, "MALFORMED JSON")]}


def _by_both_paths(tmp_path: Path, lines: list[str | bytes], **kw) -> list[tuple]:
    """The outcome of ``lines`` read whole, and with a bad line after them read by lines."""
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir()
    broken.mkdir()
    write(whole / "events.jsonl", lines)
    write(broken / "events.jsonl", [*lines, "{oops"])
    return [outcome(whole / "events.jsonl", **kw), outcome(broken / "events.jsonl", **kw)]


def test_lines_read_by_lines_are_what_the_whole_read_makes_of_them(tmp_path):
    # Found by an independent review, each different by lines before: whole numbers typed
    # UBIGINT (epoch_ms(ts) failed to bind, price - discount wrapped round), a null or {}
    # line a malformed row where the whole read makes it a row with no values, and an
    # object over 2 MB on one line a malformed row (read_json takes 16 MB)
    lines = [
        event(1, ts=1748750400000, price=12, discount=2),  # 2025-06-01 04:00 UTC, 10.00
        "null",  # a row with no values: missing_required
        "{}",
        event(4, ts=1748750400000, price=3, discount=0, note="x" * 3_000_000),
        event(5, ts=1748750400000, price=5, discount=10),
    ]
    mapping = tmp_path / "m.yaml"
    mapping.write_text('derive:\n  ts: "epoch_ms(ts)"\n  amount: "price - discount"\n')
    whole, by_lines = _by_both_paths(tmp_path, lines, mapping=mapping)
    read, accepted, reasons, users = by_lines
    assert (read, accepted, users) == (6, 2, ["u1", "u4"])
    assert reasons.pop("malformed_row") == [(6, "MALFORMED JSON")]
    assert reasons["missing_required"] == [(2, "ts"), (3, "ts")]
    assert reasons["negative_amount"] == [(5, "amount")]  # -5, not 2^64 - 5
    assert whole == (5, 2, reasons, users)


def test_a_part_that_is_not_json_lines_is_named(tmp_path):
    # A part holding one JSON array (its lines mostly not objects) is not JSON lines: the
    # folder fails in one line naming it, with what DuckDB says of it, as for one file
    # (test_a_file_that_is_not_json_lines_keeps_duckdbs_error). A part with one bad line
    # beside it is no reason: part-1 alone would be read by lines.
    folder = tmp_path / "events"
    folder.mkdir()
    write(folder / "part-0.jsonl", [event(1)])
    write(folder / "part-1.jsonl", [event(2), "42", event(3)])
    write(folder / "part-2.jsonl", ["[", event(4) + ",", event(5), "]"])
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--no-cache"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "events: part-2.jsonl: " in result.output
    (folder / "part-2.jsonl").unlink()
    read, accepted, reasons, _ = parts_outcome(folder)
    assert (read, accepted) == (4, 3)
    assert reasons == {"malformed_row": [("part-1.jsonl", 2, "NOT A JSON OBJECT")]}


def test_a_failed_source_leaves_no_table_on_the_callers_connection(tmp_path):
    # was: a file read by lines whose keys were then refused left five temp tables behind
    import brandlens.errors

    write(tmp_path / "events.jsonl", [event(1, **{"": 1}), "{"])
    con = duckdb.connect()
    with pytest.raises(brandlens.errors.DataError, match="an empty key"):
        Dataset(tmp_path / "events.jsonl", connection=con, cache=False)
    assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == []


@pytest.mark.parametrize("gz", [False, True])
def test_a_json_lines_file_in_gbk_says_how_to_convert_it(tmp_path, gz):
    # Every line GBK: DuckDB's reader and the line reader both fail, and its message
    # ("Malformed JSON ... invalid UTF-8 encoding in string") said nothing of iconv.
    from brandlens.errors import DataError

    text = "".join(
        json.dumps(
            {"ts": "2025-06-01", "user_id": f"u{i}", "event_type": "ad_click", "brand": "完美日记"},
            ensure_ascii=False,
        )
        + "\n"
        for i in range(3)
    ).encode("gbk")
    path = tmp_path / ("events.jsonl.gz" if gz else "events.jsonl")
    path.write_bytes(gzip.compress(text) if gz else text)
    with pytest.raises(DataError) as e:
        Dataset(path, cache=False)
    assert str(e.value) == (
        f"{path}: not UTF-8 text (it reads as GB18030/GBK); convert it with "
        "iconv -f GB18030 -t UTF-8"
    )


@pytest.mark.parametrize("text", ["", "\n\n", "{}\n{}\n"])
def test_a_json_file_without_any_key_says_so(tmp_path, text):
    # it said "missing required column(s) ts, user_id, event_type ...; header has: json"
    from brandlens.errors import DataError

    path = tmp_path / "events.jsonl"
    path.write_text(text)
    with pytest.raises(DataError) as e:
        Dataset(path, cache=False)
    assert str(e.value) == (
        f"{path}: no object in it has a key (an empty file, or only blank lines or {{}})"
    )


def test_quarantined_values_of_a_mixed_key_show_as_text_not_json(tmp_path):
    # user_id holds text and numbers, amount text and numbers: DuckDB types both JSON,
    # and a failing row showed user_id="u1" and amount="1,299.00", quotes included,
    # where the stored rows hold u1 (examples, top values and --quarantine-out alike)
    path = tmp_path / "events.jsonl"
    rows = [
        {"user_id": "u1", "event_type": "purchase", "amount": "1,299.00"},
        {"user_id": 2, "event_type": "purchase", "amount": 5},
        {"user_id": "u3", "event_type": "purchase", "amount": "7", "event_id": "x"},
        {"user_id": "u4", "event_type": "purchase", "amount": "8", "event_id": "x"},
    ]
    path.write_text(
        "".join(json.dumps({"ts": "2025-06-01", "brand": "B", **r}) + "\n" for r in rows)
    )
    out = tmp_path / "q.csv"
    with Dataset(path, cache=False) as ds:
        reasons = {r.reason: r for r in ds.report.reasons}
        ds.write_quarantine(out)
    bad = reasons["bad_type"]
    assert (bad.examples[0]["user_id"], bad.examples[0]["amount"]) == ("u1", "1,299.00")
    assert reasons["duplicate_event_id"].examples[0]["user_id"] == "u4"
    with out.open(newline="") as f:
        got = [(r["reason"], r["user_id"], r["amount"]) for r in csv.DictReader(f)]
    assert got == [("bad_type", "u1", "1,299.00"), ("duplicate_event_id", "u4", "8")]
