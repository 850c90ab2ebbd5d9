"""Bad rows are quarantined, not whole files lost: one regression test per input class.

CSV lines that do not parse (a broken quote, a huge line, invalid UTF-8) are one
malformed_row each, with their real line number, and every other line is read; files
in another encoding are refused in one line that says how to convert them.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError

HEADER = "ts,user_id,event_type,brand"


def good(i: int) -> str:
    return f"2025-06-01 04:00:00,u{i},ad_click,B"


def write(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes((newline.join([HEADER, *lines]) + newline).encode())
    return path


def outcome(path: Path, **kw) -> tuple[int, int, dict[str, list[tuple[int, str]]], list[str]]:
    """(rows read, accepted, {reason: [(row, error)]}, accepted user ids in file order)."""
    with Dataset(path, **kw) as ds:
        rep = ds.report
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events").fetchall()]
        reasons = {
            r.reason: [(e["row"], str(e.get("error", ""))) for e in r.examples] for r in rep.reasons
        }
        ev = rep.events
        assert ev.rows_read == ev.rows_accepted + ev.rows_quarantined
        return ev.rows_read, ev.rows_accepted, reasons, users


def refusal(path: Path, **kw) -> str:
    """The one-line data error opening ``path`` gives (the test fails if it opens)."""
    with pytest.raises(DataError) as e:
        Dataset(path, cache=False, **kw)
    return str(e.value)


# ---- CSV: a bad line is one quarantined row ------------------------------------------


def test_broken_quote_near_the_start_is_one_malformed_row(tmp_path):
    # was: the whole file failed with "Error when sniffing file"
    lines = [good(i) for i in range(100)]
    lines.insert(10, '2025-06-01 04:00:00,"u x,ad_click,B')  # file line 12
    read, accepted, reasons, users = outcome(write(tmp_path / "events.csv", lines))
    assert (read, accepted) == (101, 100)
    assert reasons == {"malformed_row": [(12, "UNTERMINATED QUOTE")]}
    assert users == [f"u{i}" for i in range(100)]


def test_a_5_mb_line_is_one_malformed_row_with_its_real_line_number(tmp_path):
    # was: the whole file failed with "CSV Error on Line: 1"
    lines = [good(i) for i in range(20)]
    lines[5] = "2025-06-01 04:00:00," + "x" * 5_000_000 + ",ad_click,B"  # file line 7
    read, accepted, reasons, _ = outcome(write(tmp_path / "events.csv", lines))
    assert (read, accepted) == (20, 19)
    assert [row for row, _ in reasons["malformed_row"]] == [7]


def test_an_unterminated_quote_late_in_a_large_file_loses_only_its_line(tmp_path):
    # was: the 5,000 good rows after it were swallowed into one malformed_row
    lines = [good(i) for i in range(20_000)]
    lines.insert(15_000, '2025-06-01 04:00:00,"u x,ad_click,B')  # file line 15,002
    lines.append(good(20_000) + ",one too many")  # file line 20,003: numbered as in the file
    read, accepted, reasons, users = outcome(write(tmp_path / "events.csv", lines))
    assert (read, accepted) == (20_002, 20_000)
    assert reasons == {
        "malformed_row": [(15_002, "UNTERMINATED QUOTE"), (20_003, "TOO MANY COLUMNS")]
    }
    assert users[-1] == "u19999" and len(set(users)) == 20_000


def test_quoted_values_spanning_lines_still_read_and_later_lines_keep_their_numbers(tmp_path):
    lines = [
        good(1),
        '2025-06-01 04:00:00,"u\n2",ad_click,"B\nx"',  # lines 3-5: one record
        '2025-06-01 04:00:00,"u3,ad_click,B',  # line 6: never closed
        good(4),
        '2025-06-01 04:00:00,"u""5",ad_click,"B, ""quoted"""',
        good(6) + ",extra",  # line 9
    ]
    read, accepted, reasons, users = outcome(write(tmp_path / "events.csv", lines))
    assert (read, accepted) == (6, 4)
    assert users == ["u1", "u\n2", "u4", 'u"5']
    assert reasons == {"malformed_row": [(6, "UNTERMINATED QUOTE"), (9, "TOO MANY COLUMNS")]}


def test_a_crlf_line_among_lf_lines_does_not_fail_the_file(tmp_path):
    p = tmp_path / "events.csv"
    p.write_bytes(
        (
            HEADER + "\n" + good(1) + "\n" + good(2) + "\r\n" + good(3) + ",x\n" + good(4) + "\n"
        ).encode()
    )
    read, accepted, reasons, users = outcome(p)
    assert (read, accepted, users) == (4, 3, ["u1", "u2", "u4"])
    assert reasons == {"malformed_row": [(4, "TOO MANY COLUMNS")]}


@pytest.mark.parametrize("also_broken_quote", [False, True])
def test_invalid_utf8_in_a_line_is_that_line_only(tmp_path, also_broken_quote):
    lines = [good(1).encode(), b"2025-06-01 04:00:00,u\xff2,ad_click,B", good(3).encode()]
    if also_broken_quote:  # the file is then read line by line: numbers must still hold
        lines.append(b'2025-06-01 04:00:00,"u4,ad_click,B')
    lines.append(good(5).encode())
    p = tmp_path / "events.csv"
    p.write_bytes(b"\n".join([HEADER.encode(), *lines]) + b"\n")
    *_, reasons, users = outcome(p)
    assert users == ["u1", "u3", "u5"]
    expected = [(3, "INVALID ENCODING")]
    if also_broken_quote:
        expected.append((5, "UNTERMINATED QUOTE"))
    assert reasons == {"malformed_row": expected}


def test_a_gbk_day_joined_into_a_utf8_file_says_how_to_convert_it(tmp_path):
    # daily exports joined with cat, one day saved in GBK: its lines are malformed rows
    # (the file as a whole is UTF-8), and each example says what they are
    utf8 = [f"2025-06-0{i} 04:00:00,用户{i},ad_click,品牌".encode() for i in (1, 2)]
    gbk = [f"2025-06-30 04:00:00,用户{i},ad_click,品牌".encode("gbk") for i in (3, 4)]
    p = tmp_path / "events.csv"
    p.write_bytes(
        b"\n".join([HEADER.encode(), *utf8, *gbk, b"2025-07-01 04:00:00,u\xff,x,B"]) + b"\n"
    )
    read, accepted, reasons, _ = outcome(p)
    hint = "INVALID ENCODING: the line reads as GB18030/GBK; convert the file with iconv"
    got = [(row, error.startswith(hint)) for row, error in reasons["malformed_row"]]
    # lines 4 and 5 are GBK; line 6's byte 0xFF is no GB18030 either: no hint there
    assert (read, accepted, got) == (5, 2, [(4, True), (5, True), (6, False)])


def test_gzipped_and_headerless_preset_files_are_line_robust(tmp_path):
    gz = tmp_path / "events.csv.gz"
    body = "\n".join([HEADER, good(1), '2025-06-01 04:00:00,"u2,ad_click,B', good(3)]) + "\n"
    gz.write_bytes(gzip.compress(body.encode()))
    assert outcome(gz)[2:] == ({"malformed_row": [(3, "UNTERMINATED QUOTE")]}, ["u1", "u3"])
    taobao = tmp_path / "UserBehavior.csv"
    taobao.write_text('1,2,3,pv,1511544070\n2,2,3,pv,"15115\n3,2,3,buy,1511561733\n')
    _, _, reasons, users = outcome(taobao, preset="taobao-userbehavior")
    assert (reasons, users) == ({"malformed_row": [(2, "UNTERMINATED QUOTE")]}, ["1", "3"])


def test_quarantine_out_holds_each_malformed_line_with_its_number(tmp_path):
    lines = [good(1), '2025-06-01 04:00:00,"u2,ad_click,B', good(3), "too,few"]
    out = tmp_path / "q.csv"
    brandlens.validate(write(tmp_path / "events.csv", lines), quarantine_out=out)
    with out.open(newline="") as f:
        got = [(r["row"], r["reason"], r["line"]) for r in csv.DictReader(f)]
    assert got == [
        ("3", "malformed_row", '2025-06-01 04:00:00,"u2,ad_click,B'),
        ("5", "malformed_row", "too,few"),
    ]


@pytest.mark.parametrize("broken_quote", [False, True], ids=["DuckDB's scan", "read by lines"])
def test_files_joined_with_their_headers_quarantine_each_header_line(tmp_path, broken_quote):
    # cat part-0.csv part-1.csv part-2.csv: each part's header is a line of the log.
    # Row numbers count data rows: the header lines are rows 3 and 5.
    lines = [good(1), good(2), HEADER, good(3), HEADER, good(4)]
    if broken_quote:  # a quote that never closes sends the whole file to the line reader
        lines.append('2025-06-01 04:00:00,"u9,ad_click,B')
    read, accepted, reasons, users = outcome(write(tmp_path / "events.csv", lines), cache=False)
    assert (accepted, users) == (4, ["u1", "u2", "u3", "u4"])
    assert [row for row, _ in reasons["repeated_header"]] == [3, 5]
    assert read == (7 if broken_quote else 6)
    # with a mapping the header's own names are compared, not the canonical ones
    mapped = tmp_path / "m" / "events.csv"
    mapped.parent.mkdir()
    head = "time,who,what,label"
    mapped.write_text("\n".join([head, good(1), head, good(2)]) + "\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text("columns: {ts: time, user_id: who, event_type: what, brand: label}\n")
    _, accepted, reasons, _ = outcome(mapped, mapping=m, cache=False)
    assert accepted == 2 and [row for row, _ in reasons["repeated_header"]] == [2]
    # a mapping that excludes the header's event type ("what"): the header reason wins
    m.write_text(
        "columns: {ts: time, user_id: who, event_type: what, brand: label}\n"
        "event_types: {what: null}\n"
    )
    _, accepted, reasons, _ = outcome(mapped, mapping=m, cache=False)
    assert accepted == 2 and list(reasons) == ["repeated_header"]
    # Excel's "CSV UTF-8" files each start with a byte-order mark: joined, the second
    # header line starts with one too (it was unknown_event_type, its ts "\ufeffts")
    bom = "\ufeff" + HEADER + "\r\n"
    joined = tmp_path / "bom" / "events.csv"
    joined.parent.mkdir()
    joined.write_text(bom + good(1) + "\r\n" + bom + good(2) + "\r\n", encoding="utf-8")
    read, accepted, reasons, users = outcome(joined, cache=False)
    assert (read, accepted, users) == (3, 2, ["u1", "u2"])
    assert [row for row, _ in reasons["repeated_header"]] == [2]
    # a file without a header line has none to repeat: that line is judged as data
    bare = tmp_path / "b.csv"
    bare.write_text("\n".join([good(1), HEADER, good(2)]) + "\n", encoding="utf-8")
    m.write_text("read: {header: false, names: [ts, user_id, event_type, brand]}\n")
    _, accepted, reasons, _ = outcome(bare, mapping=m, cache=False)
    assert accepted == 2 and "repeated_header" not in reasons


# ---- CSV: another encoding is refused in one line that says how to convert it ----------


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("utf-16", "not UTF-8 text (looks like UTF-16: byte-order mark FF FE); "
         "convert it with iconv -f UTF-16 -t UTF-8"),
        ("utf-16-be", "looks like UTF-16BE without byte-order mark"),
        ("utf-32", "looks like UTF-32: byte-order mark FF FE 00 00"),
        ("gb18030", "not UTF-8 text (line 1 has byte 0xBC at position 3; it reads as "
         "GB18030/GBK); convert it with iconv -f GB18030 -t UTF-8"),
    ],
)  # fmt: skip
def test_another_encoding_is_named_in_one_line(tmp_path, encoding, message):
    p = tmp_path / "events.csv"
    head = "时间,user_id,event_type\n" if encoding == "gb18030" else HEADER + "\n"
    p.write_bytes((head + good(1) + "\n").encode(encoding))
    with pytest.raises(DataError) as e:
        brandlens.validate(p)
    assert e.value.message.startswith(f"{p}: ")
    assert message in e.value.message
    r = CliRunner().invoke(app, ["validate", str(p)])
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [f"brandlens: error: {e.value.message}"]


# ---- JSON and Parquet: a list, object or map where a value is expected is bad_type -------


def _reasons(path: Path) -> tuple[list[str], dict[str, int]]:
    with Dataset(path) as ds:
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events ORDER BY 1").fetchall()]
        return users, {r.reason: r.count for r in ds.report.reasons}


@pytest.mark.parametrize(
    "brand",
    [{"name": "B"}, ["B"], ["B", "C"]],
    ids=["object", "array", "array of two"],
)
def test_jsonl_object_or_array_in_a_scalar_column_is_bad_type(tmp_path, brand):
    # was: accepted as the text {'name': B} or [B] whenever every row had one
    p = tmp_path / "events.jsonl"
    rows = [
        {"ts": "2025-06-01 04:00:00", "user_id": f"u{i}", "event_type": "ad_click", "brand": brand}
        for i in range(2)
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert _reasons(p) == ([], {"bad_type": 2})


@pytest.mark.parametrize(
    ("brand", "sql_type"),
    [("['B']", "VARCHAR[]"), ("{'name': 'B'}", "STRUCT"), ("MAP {'name': 'B'}", "MAP")],
)
def test_parquet_list_struct_or_map_column_is_bad_type(tmp_path, brand, sql_type):
    import duckdb

    p = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT '2025-06-01 04:00:00' AS ts, 'u' || i AS user_id, 'ad_click' AS event_type, "
        f"CASE WHEN i = 1 THEN {brand} END AS brand FROM range(3) t(i)) TO $p (FORMAT PARQUET)",
        {"p": str(p)},
    )
    described = con.execute("DESCRIBE SELECT brand FROM read_parquet($p)", {"p": str(p)})
    assert described.fetchone()[1].startswith(sql_type)
    assert _reasons(p) == (["u0", "u2"], {"bad_type": 1})


# ---- Presets and mappings: a value a derive cannot convert quarantines its row ------------


def test_taobao_out_of_range_or_bad_unix_time_is_ts_unparseable(tmp_path):
    # was: one out-of-range timestamp failed the whole file (to_timestamp raised)
    p = tmp_path / "UserBehavior.csv"
    p.write_text(
        "1,2,3,pv,1511544070\n"
        "2,2,3,pv,99999999999999999\n"  # out of range
        "3,2,3,pv,abc\n"  # not a number
        "4,2,3,pv,\n"  # empty: missing, not bad
        "5,2,3,buy,1511561733\n"
    )
    with Dataset(p, preset="taobao-userbehavior") as ds:
        reasons = {r.reason: [e["row"] for e in r.examples] for r in ds.report.reasons}
        assert reasons == {"missing_required": [4], "ts_unparseable": [2, 3]}
        assert ds.report.events.rows_accepted == 2


def test_cdnow_unparseable_date_is_ts_unparseable_not_missing(tmp_path):
    p = tmp_path / "CDNOW_master.txt"
    p.write_text("00001 19970101  1  11.77\n00002 1997x112  2  89.00\n00003\n")
    with Dataset(p, preset="cdnow") as ds:
        reasons = {r.reason: [e["row"] for e in r.examples] for r in ds.report.reasons}
    assert reasons == {"missing_required": [3], "ts_unparseable": [2]}


def test_a_mapping_derive_that_raises_quarantines_its_row_with_the_columns_reason(tmp_path):
    data = tmp_path / "log.csv"
    data.write_text(
        "at,who,what,label,price\n"
        "2025-01-01 04:00:00,a,buy,X,10\n"
        "2025-01-01 04:00:00,b,buy,X,abc\n"  # CAST raises: bad_type, not a failed file
        "2025-01-01 04:00:00,c,buy,X, \n"  # blank: missing_amount
        "2025-01-01 04:00:00,d,view,X,abc\n"  # the CASE gives NULL by design: accepted
        "20250101,e,view,X,1\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {user_id: who, event_type: what, brand: label}\n"
        "derive:\n"
        "  ts: \"strptime(at, '%Y-%m-%d %H:%M:%S')\"\n"  # raises on row 5
        "  amount: \"CASE WHEN what = 'buy' THEN price::DECIMAL(18,2) * 2 END\"\n"
        "event_types: {buy: purchase, view: product_view}\n"
    )
    with Dataset(data, mapping=mapping) as ds:
        reasons = {r.reason: [e["row"] for e in r.examples] for r in ds.report.reasons}
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events ORDER BY 1").fetchall()]
    assert reasons == {"ts_unparseable": [5], "bad_type": [2], "missing_amount": [3]}
    assert users == ["a", "d"]


def test_a_failed_derive_of_a_text_or_integer_column_is_bad_type(tmp_path):
    # A text or integer value typed as itself always has a stored value, so validation
    # leaves its bad-type check out; a derive that fails leaves none, so there it stays.
    data = tmp_path / "log.csv"
    data.write_text(
        "at,who,what,label,n\n"
        "2025-01-01 04:00:00,1,add,X,2\n"
        "2025-01-01 04:00:00,2,add,X,two\n"  # the quantity derive raises: bad_type
        "2025-01-01 04:00:00,u3,add,X,3\n"  # the user_id derive raises: bad_type
        "2025-01-01 04:00:00,4,add,X,\n"  # blank quantity: none, accepted
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ts: at, event_type: what, brand: label}\n"
        "derive:\n"
        '  user_id: "CAST(CAST(who AS INTEGER) AS VARCHAR)"\n'
        '  quantity: "CAST(n AS INTEGER)"\n'
        "event_types: {add: add_to_cart}\n"
    )
    with Dataset(data, mapping=mapping) as ds:
        reasons = {r.reason: [e["row"] for e in r.examples] for r in ds.report.reasons}
        kept = ds.con.execute("SELECT user_id, quantity FROM events ORDER BY 1").fetchall()
    assert reasons == {"bad_type": [2, 3]}
    assert kept == [("1", 2), ("4", None)]


def test_line_count_treats_a_lone_cr_as_data_and_skips_empty_lines(tmp_path):
    from brandlens.data.csvread import LineCount, count_lines

    cases = {
        b"a,b\n1,2\n": 2,
        b"a,b\n1,2": 2,  # no final line feed
        b"\na,b\n\n1,2\n\n": 2,  # empty lines, first one included
        b"a,b\r\n1,2\r\n\r\n3,4\r\n": 3,  # CRLF, an empty CRLF line
        b'a,b\n"x\ry",2\n': 2,  # a CR inside a quoted value is not a line break
        b"": 0,
    }
    paths = []
    for i, (data, want) in enumerate(cases.items()):
        p = tmp_path / f"c{i}.csv"
        p.write_bytes(data)
        assert count_lines(p) == want, data
        assert count_lines(p, chunk=1) == want, data  # chunk boundaries anywhere
        assert LineCount([p]).result() == want, data  # the same count, on its own thread
        paths.append(p)
    # a folder of CSV parts: each file's own count, in order, and their sum
    counted = LineCount(paths)
    assert counted.per_file() == list(cases.values())
    assert counted.result() == sum(cases.values())


def test_a_line_count_on_a_thread_stops_when_cancelled_and_passes_on_errors(tmp_path):
    """Validation counts a CSV file's lines on a thread while DuckDB loads it; a count no
    longer needed stops at its next chunk, and a file that cannot be read raises its
    error in the thread that asks for the count."""
    import threading

    from brandlens.data import csvread

    p = tmp_path / "e.csv"
    p.write_bytes(b"a,b\n" + b"1,2\n" * 1000)
    stop = threading.Event()
    stop.set()
    with pytest.raises(csvread._Stopped):
        csvread.count_lines(p, chunk=16, stop=stop)
    with pytest.raises(FileNotFoundError):
        csvread.LineCount([tmp_path / "gone.csv"]).result()


def test_values_with_cr_and_lf_inside_quotes_are_read_whole(tmp_path):
    """Multi-line and CR-holding quoted values: the fast scan is right, nothing is lost."""
    from brandlens.engine.runs import Dataset

    d = tmp_path / "d"
    d.mkdir()
    (d / "events.csv").write_bytes(
        b"ts,user_id,event_type,brand\r\n"
        b'2025-06-01 04:00:00,u1,ad_click,"a\rb"\r\n'
        b'2025-06-01 04:00:00,u2,ad_click,"new\nline"\r\n'
        b"2025-06-01 04:00:00,u3,ad_click,plain\r\n"
    )
    with Dataset(d, cache=False) as ds:
        brands = sorted(r[0] for r in ds.con.execute("SELECT brand FROM events").fetchall())
        assert ds.report.events.rows_read == 3 and ds.report.rows_quarantined == 0
    assert brands == ["a\rb", "new\nline", "plain"]


# ---- header names given twice ------------------------------------------------------------


def test_a_column_named_twice_is_refused_when_read_and_harmless_when_not(tmp_path):
    # Which of two `amount` columns holds the amounts is a guess: refused in one line,
    # case aside (DuckDB's names are). Two columns brandlens never reads are no problem;
    # `Note,note` used to fail with DuckDB's binder error.
    row = "2025-06-01 04:00:00,u1,purchase,B,10,20\n"
    for header, given in (("amount,amount", "amount, amount"), ("Amount,amount", "Amount, amount")):
        path = tmp_path / "events.csv"
        path.write_text(f"ts,user_id,event_type,brand,{header}\n{row}")
        with pytest.raises(DataError) as e:
            Dataset(path, cache=False)
        assert str(e.value) == (
            f"{path}: the header names column 'amount' 2 times ({given}); which one holds "
            "the values is not clear: rename or remove the others"
        )
    mapped = tmp_path / "m.yaml"  # a mapping or a derive that reads the named-twice column
    for mapping in ("columns: {amount: price}\n", 'derive: {amount: "price * 1"}\n'):
        mapped.write_text(mapping)
        for header in ("price,PRICE", "PRICE,price"):
            path.write_text(f"ts,user_id,event_type,brand,{header}\n{row}")
            with pytest.raises(DataError, match="names column 'price' 2 times"):
                Dataset(path, mapping=mapped, cache=False)
    # a header name is the column case and spaces aside, so Channel beside CHANNEL (or
    # " channel" beside Channel) is the channel column named twice
    for header, given in (
        ("Channel,CHANNEL", "2 times (Channel, CHANNEL)"),
        (" channel,Channel", "2 ways (' channel', 'Channel')"),
    ):
        path.write_text(f"ts,user_id,event_type,brand,{header}\n" + good(1) + ",a,b\n")
        with pytest.raises(DataError, match=re.escape(given)):
            Dataset(path, cache=False)
    path.write_text(f"ts,user_id,event_type,brand,amount,note,Note\n{row.strip()},x\n")
    read, accepted, reasons, users = outcome(path, cache=False)
    assert (read, accepted, reasons, users) == (1, 1, {}, ["u1"])


def test_a_bad_line_after_values_spanning_lines_has_its_line_number(tmp_path):
    # DuckDB's scan numbers a bad line by records: after a review text of two lines the
    # TOO MANY COLUMNS line 5 was reported as 4 (docs/data.md: lines, header included)
    path = tmp_path / "events.csv"
    path.write_text(
        "ts,user_id,event_type,brand,note\n"  # line 1
        '2025-06-01 04:00:00,u1,ad_click,B,"great\nproduct"\n'  # lines 2-3
        "2025-06-01 04:00:00,u2,ad_click,B,ok\n"  # line 4
        "2025-06-01 04:00:00,u3,ad_click,B,ok,EXTRA\n"  # line 5: malformed
        '2025-06-01 04:00:00,u4,ad_click,B,"a\n\nb\nc"\n'  # lines 6-9
        "2025-06-01 04:00:00,u5,ad_click,B,ok,EXTRA\n"  # line 10: malformed
    )
    read, accepted, reasons, users = outcome(path, cache=False)
    assert (read, accepted, users) == (5, 3, ["u1", "u2", "u4"])
    assert [row for row, _ in reasons["malformed_row"]] == [5, 10]


def test_a_header_name_in_another_case_or_with_spaces_is_the_column(tmp_path):
    # Excel exports and hand-typed headers: Brand, AMOUNT, " user_id " are read as brand,
    # amount and user_id in CSV, Parquet and JSON lines alike (they used to be ignored
    # silently: every purchase quarantined as missing_brand, the other rows brandless).
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        ("2025-06-01 04:00:00", "u1", "purchase", "Aurora", "12.50"),
        ("2025-06-01 05:00:00", "u2", "product_view", "Aurora", None),
    ]
    names = ["TS", " user_id ", "Event_Type", "Brand", "AMOUNT"]
    csv_dir, pq_dir, js_dir = (tmp_path / n for n in ("csv", "parquet", "json"))
    for d in (csv_dir, pq_dir, js_dir):
        d.mkdir()
    (csv_dir / "events.csv").write_text(
        ",".join(names) + "\n" + "".join(",".join(v or "" for v in r) + "\n" for r in rows)
    )
    pq.write_table(
        pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), pq_dir / "events.parquet"
    )
    (js_dir / "events.jsonl").write_text(
        "".join(json.dumps({n: v for n, v in zip(names, r, strict=True) if v}) + "\n" for r in rows)
    )
    for d in (csv_dir, pq_dir, js_dir):
        with Dataset(d, cache=False) as ds:
            got = ds.con.execute(
                "SELECT user_id, event_type, brand, CAST(amount AS VARCHAR) FROM events"
            ).fetchall()
            assert ds.report.events.rows_quarantined == 0, d
        assert got == [
            ("u1", "purchase", "Aurora", "12.50"),
            ("u2", "product_view", "Aurora", None),
        ], d


# ---- exports in local time, headers of their own ----------------------------------------


def test_the_local_time_recipe_in_the_docs_reads_beijing_time(tmp_path):
    # docs/data.md's mapping, as printed: 21:30 Beijing time on 30 June is 13:30 UTC and
    # still 30 June locally (read as UTC it would be 1 July).
    doc = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    section = doc[doc.index("**Exports in local time.**") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    block = section[start : section.index("\n```", start)]
    mapping = tmp_path / "m.yaml"
    mapping.write_text(block + "\n", encoding="utf-8")
    data = tmp_path / "events.csv"
    data.write_text(
        "时间,用户ID,行为,品牌,金额\n2025-06-30 21:30:00,U1,购买,完美日记,10\n", encoding="utf-8"
    )
    with Dataset(data, mapping=mapping, cache=False) as ds:
        rows = ds.con.execute("SELECT ts, local_date, event_type FROM events").fetchall()
    assert [(str(t), str(d), e) for t, d, e in rows] == [
        ("2025-06-30 13:30:00", "2025-06-30", "purchase")
    ]


def test_a_header_of_its_own_is_pointed_to_a_mapping(tmp_path):
    # Only for events: mappings apply to the events table alone.
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "events.csv").write_text(HEADER + "\n" + good(1) + "\n")
    (folder / "users.csv").write_text("用户,性别\nu1,f\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        Dataset(folder, cache=False)
    assert "mapping" not in str(e.value) and "missing required column(s) user_id" in str(e.value)
    data = tmp_path / "events.csv"
    data.write_text("时间,用户ID,行为\n2025-06-30 21:30:00,U1,购买\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        Dataset(data, cache=False)
    assert str(e.value) == (
        f"{data}: missing required column(s) ts, user_id, event_type; name the file's "
        "columns with a mapping, e.g. --mapping m.yaml holding columns: {ts: <its time "
        "column>, user_id: ..., event_type: ...} (docs/data.md, Mappings); header has: "
        "时间, 用户ID, 行为"
    )


def test_a_gbk_body_under_an_ascii_header_is_refused_with_the_conversion(tmp_path):
    # Was: every line one malformed_row (INVALID ENCODING), exit 0, nothing accepted.
    rows = [f"2025-06-01 04:00:00,u{i},purchase,完美日记" for i in range(20)]
    data = tmp_path / "events.csv"
    data.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode("gb18030"))
    assert refusal(data) == (
        f"{data}: not UTF-8 text (20 of the first 20 lines, from line 2, read as "
        "GB18030/GBK); convert it with iconv -f GB18030 -t UTF-8"
    )
    # a few GBK lines among UTF-8 ones stay quarantined rows (a file read whole counts
    # its last line, with or without a final line break)
    chinese = "2025-06-01 04:00:00,u9,ad_click,花西子".encode()
    for tail in (b"\n", b""):
        few = [rows[0].encode("gb18030"), chinese, good(2).encode()]
        data.write_bytes(HEADER.encode() + b"\n" + b"\n".join(few) + tail)
        read, accepted, reasons, _users = outcome(data, cache=False)
        assert (read, accepted, list(reasons)) == (3, 2, ["malformed_row"])
    # one stray GBK line among UTF-8 ones stays one quarantined row
    lines = [good(i) for i in range(19)] + ["2025-06-01 04:00:00,u19,ad_click,花西子"]
    text = (HEADER + "\n" + "\n".join(lines) + "\n").encode() + rows[0].encode("gb18030") + b"\n"
    data.write_bytes(text)
    read, accepted, reasons, _users = outcome(data, cache=False)
    assert (read, accepted, list(reasons)) == (21, 20, ["malformed_row"])
    # but where no line is UTF-8 beyond ASCII, the GBK lines are the file's Chinese text:
    # English brands in ASCII and Chinese ones in GBK (every Chinese row was lost, exit 0)
    for n_gbk in (1, 3):
        mixed = [good(1).encode(), good(2).encode()] + [r.encode("gb18030") for r in rows[:n_gbk]]
        data.write_bytes(HEADER.encode() + b"\n" + b"\n".join(mixed) + b"\n")
        assert refusal(data) == (
            f"{data}: not UTF-8 text ({n_gbk} of the first {n_gbk + 2} lines, from line 4, "
            "read as GB18030/GBK, and none is UTF-8 beyond ASCII); convert it with "
            "iconv -f GB18030 -t UTF-8"
        )


def test_a_text_derive_keeps_the_exactness_check(tmp_path):
    # docs/data.md: a derive that returns text leaves the typing to brandlens, so an
    # amount with three decimals is bad_type instead of rounded by the derive's cast.
    data = tmp_path / "events.csv"
    data.write_text(
        "时间,用户ID,行为,品牌,金额\n"
        '2025-06-01 04:00:00,u1,purchase,B,"¥1,299.50"\n'
        "2025-06-01 04:00:00,u2,purchase,B,1299.555\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ts: 时间, user_id: 用户ID, event_type: 行为, brand: 品牌}\n"
        "derive:\n  amount: \"replace(replace(金额, '¥', ''), ',', '')\"\n",
        encoding="utf-8",
    )
    with Dataset(data, mapping=mapping, cache=False) as ds:
        amounts = [str(r[0]) for r in ds.con.execute("SELECT amount FROM events").fetchall()]
        reasons = [(r.reason, r.columns) for r in ds.report.reasons]
    assert amounts == ["1299.50"] and reasons == [("bad_type", {"amount": 1})]


@pytest.mark.parametrize("crlf_line", [False, True])  # DuckDB's scan, or line by line
def test_a_bad_row_after_malformed_lines_keeps_its_row_number(tmp_path, crlf_line):
    # Was: the rows that parsed were numbered among themselves, so the bad amount on
    # data row 4 (line 5) was reported as row 2, after two malformed lines.
    lines = [
        good(1),  # data row 1
        "2025-06-01 04:00:00,u2,ad_click,B,1,299",  # line 3: too many fields
        "2025-06-01 04:00:00,u3,ad_click,B,2,599",  # line 4: too many fields
        "2025-06-01 04:00:00,,ad_click,B",  # data row 4, line 5: missing user_id
        good(5) + ("\r" if crlf_line else ""),  # data row 5
        "2025-06-01 04:00:00,,ad_click,B",  # data row 6, line 7
    ]
    path = write(tmp_path / "events.csv", lines)
    read, accepted, reasons, _users = outcome(path, cache=False)
    assert (read, accepted) == (6, 2)
    assert reasons["malformed_row"] == [(3, "TOO MANY COLUMNS"), (4, "TOO MANY COLUMNS")]
    assert [row for row, _e in reasons["missing_required"]] == [4, 6]


# ---- spreadsheets and hand-written YAML: say what to do, and where ----------------------


def _workbook(path: Path) -> Path:
    """An .xlsx is a ZIP of XML parts; this one has the parts Excel's start with."""
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return path


def test_a_spreadsheet_is_refused_with_how_to_save_it_as_csv(tmp_path):
    runner = CliRunner()
    # was: "no events file (expected events.parquet, …)", silent about the workbook beside it
    folder = tmp_path / "export"
    folder.mkdir()
    _workbook(folder / "events.xlsx")
    r = runner.invoke(app, ["validate", str(folder)])
    assert r.exit_code == 1
    assert "events.xlsx is a spreadsheet: save the sheet as CSV UTF-8" in r.stderr
    # was: "not a directory, DuckDB database or events file"
    r = runner.invoke(app, ["validate", str(folder / "events.xlsx")])
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"brandlens: error: {folder / 'events.xlsx'}: a spreadsheet is not read; "
        "save the sheet as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8)"
    )
    # a workbook renamed to .csv, and an Excel 97-2003 one: was "NUL bytes near the start"
    renamed = _workbook(tmp_path / "events.csv")
    with pytest.raises(
        DataError, match=r"events\.csv: not CSV text \(looks like an Excel workbook"
    ):
        brandlens.validate(renamed)
    old = tmp_path / "old" / "events.csv"
    old.parent.mkdir()
    old.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600)
    with pytest.raises(DataError, match=r"looks like an Excel 97-2003 workbook \(\.xls\)"):
        brandlens.validate(old)
    # a folder with both keeps reading its CSV
    write(folder / "events.csv", [good(1)])
    assert outcome(folder)[:2] == (1, 1)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # an unclosed list: PyYAML reports where it gave up and where the list began
        (
            "columns:\n  ts: 时间\n  user_id: [bad\n",
            "line 4, column 1: did not find expected ',' or ']' "
            "(while parsing a flow sequence at line 3)",
        ),
        (
            "columns:\n  ts: 时间\n\tuser_id: x\n",
            "line 3, column 1: found a tab character that violates indentation",
        ),
        (
            "columns:\n  ts: 时间\n   user_id: x\n",
            "line 3, column 11: mapping values are not allowed in this context",
        ),
    ],
)
def test_a_yaml_error_names_its_line_and_column(tmp_path, text, where):
    # was: "not valid YAML (while parsing a flow sequence)": no line in a file of fifty
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(
        app, ["validate", str(write(tmp_path / "events.csv", [good(1)])), "--mapping", str(mapping)]
    )
    assert r.exit_code == 2
    assert r.stderr.startswith(f"brandlens: error: {mapping}: not valid YAML, {where}")
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_spec_or_benchmark_yaml_error_names_its_line(tmp_path):
    from brandlens.analysis.benchmarks import load as load_benchmarks
    from brandlens.errors import PluginError, UsageError
    from brandlens.specs.spec import load_spec

    bad = tmp_path / "bad.yaml"
    bad.write_text("methodology: toy\nindicators: [\n  {id: a\n", encoding="utf-8")
    with pytest.raises(PluginError, match=r"bad\.yaml: not valid YAML, line 4, column 1: "):
        load_spec(bad)
    with pytest.raises(UsageError, match=r"bad\.yaml: not valid YAML, line 4, column 1: "):
        load_benchmarks(bad)


# ---- a UTC offset after a space ------------------------------------------------------


def _instants(path: Path, **kw) -> tuple[list[str], dict[str, int], list[str]]:
    """(accepted ts as UTC text in file order, {reason: count}, files read in place)."""
    with Dataset(path, **kw) as ds:
        got = [
            r[0]
            for r in ds.con.execute(
                "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S.%f') FROM events"
            ).fetchall()
        ]
        return got, {r.reason: r.count for r in ds.report.reasons}, ds.read_in_place


def test_an_offset_after_a_space_is_read_as_the_offset(tmp_path):
    # was: ts_unparseable; Java's "yyyy-MM-dd HH:mm:ss Z" and git's %ai write the offset so
    texts = [
        "2025-06-01 10:00:00 +0800",  # 02:00 UTC
        "2025-06-01 10:00:00 +08:00",  # 02:00 UTC
        "2025-06-01 10:00:00.250 -0530",  # 15:30:00.25 UTC
        "2025-06-01T10:00:00 +08",  # 02:00 UTC
        "2025-06-01 10:00:00+0800",  # joined, as DuckDB always read it
        "2025-06-01 10:00:00  +0800",  # two spaces: not an offset after a space
        "2025-06-01 +0800",  # a date with an offset is no time, joined or not
        "+0800",
    ]
    want = [
        "2025-06-01 02:00:00.000000",
        "2025-06-01 02:00:00.000000",
        "2025-06-01 15:30:00.250000",
        "2025-06-01 02:00:00.000000",
        "2025-06-01 02:00:00.000000",
    ]
    csv_file = tmp_path / "events.csv"
    with csv_file.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "ts", "user_id", "event_type", "brand"])
        w.writerows([i, t, f"u{i}", "ad_click", "B"] for i, t in enumerate(texts))
    copied = _instants(csv_file, cache=False)
    assert copied == (want, {"ts_unparseable": 3}, [])
    # the same text in a Parquet column, read where it lies: the view types it alike
    import duckdb

    parquet = tmp_path / "p" / "events.parquet"
    parquet.parent.mkdir()
    duckdb.execute(
        "COPY (SELECT CAST(event_id AS BIGINT) AS event_id, * EXCLUDE (event_id) FROM "
        f"read_csv('{csv_file}', all_varchar=true, header=true)) TO '{parquet}' (FORMAT parquet)"
    )
    in_place = _instants(parquet.parent, cache=False)
    assert in_place == (want, {"ts_unparseable": 3}, [str(parquet.resolve())])


@hypothesis.given(
    instant=st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2199, 12, 31)),
    minutes=st.integers(-14 * 60, 14 * 60),
    style=st.sampled_from(["+HHMM", "+HH:MM", "+HH"]),
    millis=st.booleans(),
)
@hypothesis.settings(max_examples=200, deadline=None)
def test_an_offset_after_a_space_reads_as_the_joined_offset(instant, minutes, style, millis):
    """Whatever the time, offset and spelling, the spaced text gives the instant the
    joined text gives, and that is the local time minus the offset."""
    import duckdb

    from brandlens.data.validation import _instant

    if style == "+HH":
        minutes -= minutes % 60 if minutes >= 0 else -((-minutes) % 60)
    sign, a = ("+" if minutes >= 0 else "-"), abs(minutes)
    offset = {"+HHMM": f"{a // 60:02d}{a % 60:02d}", "+HH:MM": f"{a // 60:02d}:{a % 60:02d}"}
    text = instant.strftime("%Y-%m-%d %H:%M:%S") + (
        f".{instant.microsecond // 1000:03d}" if millis else ""
    )
    zone = sign + offset.get(style, f"{a // 60:02d}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    spaced, joined = con.execute(
        f"SELECT epoch_us({_instant('$s')}), epoch_us({_instant('$j')})",
        {"s": f"{text} {zone}", "j": f"{text}{zone}"},
    ).fetchone()
    local = instant.replace(microsecond=(instant.microsecond // 1000) * 1000 if millis else 0)
    truth = (local - datetime(1970, 1, 1) - timedelta(minutes=minutes)) // timedelta(microseconds=1)
    assert spaced == joined == truth


# ---- a derived column's quarantined value is what the derive was given -------------------

DERIVED_LOG = (
    "event_id,unix_ts,day,hour,who,what,label,price\n"
    "1,1748743200,2025-06-01,10,u1,buy,X,10\n"  # accepted
    "2,abc,2025-06-01,10,u2,buy,X,10\n"  # ts: the unix derive fails on 'abc'
    "3,1748743200,2025-06-01,25,u3,buy,X,10\n"  # category: two inputs, hour 25 fails
    "4,1748743200,2025-06-01,10,u4,buy,X,(12.00)\n"  # amount: the cast fails
    "5,1748743200,2025-06-01,10,u5,buy,,10\n"  # missing_brand: the derives gave values
    "5,1748743200,2025-06-01,10,u6,buy,X,10\n"  # accepted: the first valid row of id 5
    "1,1748743200,2025-06-01,10,u7,buy,X,7\n"  # a later repeat of id 1: derived values
    "8,1748743200,2025-06-01,10,u8,zap,X,10\n"  # excluded: quantity NULL by design, blank
)

DERIVED_MAPPING = (
    "columns: {user_id: who, event_type: what, brand: label}\n"
    "derive:\n"
    '  ts: "to_timestamp(CAST(unix_ts AS BIGINT))"\n'
    '  amount: "CAST(price AS DECIMAL(18,2))"\n'
    "  category: \"CAST(strptime(CAST(day AS VARCHAR) || ' ' || hour, '%Y-%m-%d %H')"
    ' AS VARCHAR)"\n'  # two inputs (a made-up use of category, to show a JSON of both)
    "  quantity: \"CASE WHEN what = 'buy' THEN 1 END\"\n"
    "event_types: {buy: purchase, zap: null}\n"
)


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_failed_derive_shows_the_source_values_it_was_given(tmp_path, form):
    # was: row 2 [ts]: user_id=u2, … — the ts the derive could not make was blank, and
    # the 'abc' that made it fail was nowhere (examples, top values or quarantine file)
    import duckdb

    csv_file = tmp_path / "log.csv"
    csv_file.write_text(DERIVED_LOG)
    data = csv_file
    if form == "parquet":  # read in place: the view's failing rows are built apart
        data = tmp_path / "p" / "events.parquet"
        data.parent.mkdir()
        duckdb.execute(
            "COPY (SELECT CAST(event_id AS BIGINT) AS event_id, * EXCLUDE (event_id) FROM "
            f"read_csv('{csv_file}', all_varchar=true, header=true)) TO '{data}' (FORMAT parquet)"
        )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(DERIVED_MAPPING)
    quarantine = tmp_path / "q.csv"
    with Dataset(data, mapping=mapping, cache=False, quarantine_out=quarantine) as ds:
        report = ds.report
        assert bool(ds.read_in_place) == (form == "parquet")
    shown = {
        e["row"]: (e["column"], {k: e.get(k) for k in ("ts", "amount", "category", "quantity")})
        for r in report.reasons
        for e in r.examples
    }
    joined = "2025-06-01 02:00:00+00"  # 1748743200 as DuckDB prints a TIMESTAMPTZ
    made = "2025-06-01 10:00:00"
    two = '{"day":"2025-06-01","hour":"25"}'
    assert shown == {
        2: ("ts", {"ts": "abc", "amount": "10.00", "category": made, "quantity": "1"}),
        3: ("category", {"ts": joined, "amount": "10.00", "category": two, "quantity": "1"}),
        4: ("amount", {"ts": joined, "amount": "(12.00)", "category": made, "quantity": "1"}),
        5: ("brand", {"ts": joined, "amount": "10.00", "category": made, "quantity": "1"}),
        7: ("event_id", {"ts": joined, "amount": "7.00", "category": made, "quantity": "1"}),
        # was 'zap' (what the quantity derive reads): the row is about its event type
        8: ("event_type", {"ts": joined, "amount": "10.00", "category": made, "quantity": None}),
    }
    values = {(v.column, v.value) for r in report.reasons for v in r.values}
    assert ("ts", "abc") in values and ("amount", "(12.00)") in values
    rows = {int(r["row"]): r for r in csv.DictReader(quarantine.open(encoding="utf-8"))}
    assert rows[2]["ts"] == "abc" and rows[4]["amount"] == "(12.00)"


# ---- identical rows without an id: kept, and said ------------------------------------------


def test_identical_rows_without_an_id_are_counted_and_the_docs_id_recipe_drops_copies(
    tmp_path, monkeypatch
):
    # An order exported twice: without ids the copy is a second purchase (both kept, as
    # two views in one second would be), and every command says so.
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    head = "时间,用户ID,行为,品牌,商品ID,金额,订单号"
    order = "2025-06-01 04:00:00,u1,购买,A,p1,10,T1"
    data = tmp_path / "events.csv"
    data.write_text("\n".join([head, order, order, order, order.replace("u1", "u2")]) + "\n")
    mapping = tmp_path / "m.yaml"
    columns = (
        "columns: {ts: 时间, user_id: 用户ID, event_type: 行为, brand: 品牌, "
        "product_id: 商品ID, amount: 金额}\nevent_types: {购买: purchase}\n"
    )
    mapping.write_text(columns, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["validate", str(data), "--mapping", str(mapping)])
    assert r.exit_code == 0 and "identical_rows" in r.stdout
    note = "brandlens: note: 2 event(s) repeat an earlier row exactly and have no event_id"
    assert r.stderr.count(note) == 1
    r = runner.invoke(
        app, ["compute", str(data), "--mapping", str(mapping), "-m", "grow", "-f", "json"]
    )
    assert json.loads(r.stdout)["dataset"]["identical_rows"] == 2 and note in r.stderr
    # docs/data.md's event_id derive from the whole row: the copies become duplicates
    doc = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    bullet = doc[doc.index("- **event_id**") :]
    derive = bullet[bullet.index('`event_id: "') + len('`event_id: "') : bullet.index('"`')]
    mapping.write_text(
        columns + f"derive: {{event_id: {json.dumps(derive, ensure_ascii=False)}}}\n",
        encoding="utf-8",
    )
    with Dataset(data, mapping=mapping, cache=False) as ds:
        assert ds.report.events.identical_rows == 0
        assert {r.reason: r.count for r in ds.report.reasons} == {"duplicate_event_id": 2}
        assert ds.report.events.rows_accepted == 2


def _parquet(path: Path, select: str) -> Path:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(f"COPY ({select}) TO '{path}'")
    return path


@pytest.mark.parametrize(
    ("scale", "column", "mapping", "derive"),
    [
        (1, "ts", None, "to_timestamp(ts)"),  # seconds: Parquet exports of epoch times
        (1000, "t_ms", "columns: {ts: t_ms}\n", "epoch_ms(t_ms)"),
        (1_000_000, "t_us", "columns: {ts: t_us}\n", "make_timestamp(t_us)"),
    ],
)
def test_epoch_numbers_as_ts_name_the_column_and_the_mapping_that_reads_them(
    tmp_path, scale, column, mapping, derive
):
    """A BIGINT ts failed the file with DuckDB's "No function matches
    regexp_full_match(BIGINT, ...)", naming neither the column nor a fix. Now one line:
    the column, its type, and the derive for the unit its values' size suggests; that
    derive then reads 2025-06-01 04:00:00 UTC (12:00 in Shanghai) for the first row."""
    data = _parquet(
        tmp_path / "e.parquet",
        f"SELECT (1748750400 + i)::BIGINT * {scale} AS {column}, 'u' || i AS user_id, "
        "'ad_click' AS event_type, 'A' AS brand FROM range(3) t(i)",
    )
    args = []
    if mapping:
        (tmp_path / "m.yaml").write_text(mapping)
        args = ["--mapping", str(tmp_path / "m.yaml")]
    r = CliRunner().invoke(app, ["validate", str(data), *args])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1, r.output
    named = "ts" if column == "ts" else f"ts ({column})"
    assert f"e.parquet: {named} is BIGINT, not a time or text" in r.stderr
    assert f'derive: {{ts: "{derive}"}}' in r.stderr
    (tmp_path / "m.yaml").write_text(f'derive:\n  ts: "{derive}"\n')
    with Dataset(data, mapping=tmp_path / "m.yaml") as ds:
        assert ds.report.events.rows_accepted == 3
        first = ds.con.execute("SELECT min(ts), min(local_date) FROM events").fetchone()
    assert [str(v) for v in first] == ["2025-06-01 04:00:00", "2025-06-01"]


def test_a_number_where_text_is_expected_is_read_as_its_text(tmp_path):
    """An INTEGER event_type or query_type failed the file ("Cannot deduce template type
    'T' in list_contains"): now 7 is the event type '7', unknown, and a search's
    query_type 3 is not brand, category or other: quarantined rows, with reasons."""
    data = _parquet(
        tmp_path / "events.parquet",
        "SELECT TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, 7 AS event_type, "
        "'A' AS brand, NULL::INTEGER AS query_type UNION ALL "
        "SELECT TIMESTAMP '2025-06-01 05:00:00', 'u2', NULL, 'A', 3",
    )
    report = brandlens.validate(data)
    assert report.events.rows_read == 2 and report.events.rows_quarantined == 2
    assert {r.reason for r in report.reasons} == {"unknown_event_type", "missing_required"}
    typed = _parquet(
        tmp_path / "q" / "events.parquet",
        "SELECT TIMESTAMP '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, 'search' AS "
        "event_type, 'A' AS brand, 3 AS query_type",
    )
    (reason,) = brandlens.validate(typed).reasons
    assert reason.reason == "bad_query_type" and reason.examples[0]["query_type"] == "3"
