"""A folder of CSV parts (daily exports, Spark's part-*.csv) read as one table: every
row accounted for by its part and its row there, as a single CSV file's are by row."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.runs import Dataset
from brandlens.errors import DataError

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

HEADER = "ts,user_id,event_type,brand,category,amount\n"
DAY1 = [
    "2025-06-01 10:00:00,u1,purchase,Lumi,skincare,10",  # row 1: accepted
    "2025-06-01 11:00:00,u2,ad_impression,Lumi,skincare,",  # row 2: accepted
    "bad-date,u3,purchase,Lumi,skincare,5",  # row 3: ts_unparseable
    "2025-06-02 10:00:00,u4,purchase,Lumi,skincare,7",  # row 4: accepted
]
DAY2 = [
    "2025-06-03 10:00:00,u1,purchase,Aurora,snacks,3",  # row 1: accepted
    "2025-06-03 10:00:00,u5,purchase,Aurora,snacks,3,extra",  # line 3: malformed_row
    "2025-06-04 10:00:00,u6,nope_type,Aurora,snacks,",  # row 3: unknown_event_type
    "2025-06-05 10:00:00,u7,purchase,Aurora,snacks,9",  # row 4: accepted
]
DAY3 = [
    "2025-06-06 10:00:00,u8,purchase,Lumi,skincare,4",  # row 1: accepted
    HEADER.strip(),  # row 2: the header again (parts joined with cat): repeated_header
    "2025-06-07 10:00:00,u9,purchase,Lumi,skincare,-1",  # row 3: negative_amount
]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if path.suffix != ".gz" else gzip.compress(text.encode()))
    return path


def _story(root: Path) -> tuple[Path, Path]:
    """The three days as parts (the last gzipped, with Spark's marker files), and as one
    file holding the same lines."""
    parts = root / "parts"
    _write(parts / "events" / "day=1" / "part-0.csv", HEADER + "\n".join(DAY1) + "\n")
    _write(parts / "events" / "day=2" / "part-0.csv", HEADER + "\n".join(DAY2) + "\n")
    _write(parts / "events" / "day=3" / "part-0.csv.gz", HEADER + "\n".join(DAY3) + "\n")
    _write(parts / "events" / "_SUCCESS", "")
    _write(parts / "events" / "day=1" / ".part-0.csv.crc", "x")
    one = _write(root / "one" / "events.csv", HEADER + "\n".join(DAY1 + DAY2 + DAY3) + "\n")
    return parts, one.parent


def test_each_quarantined_row_names_its_part_and_its_row_there(tmp_path):
    """Read 11 rows (the malformed line among them): 6 accepted, 5 quarantined, each by its
    part (its path inside the folder) and its row in that part; the malformed line by its
    line, as in a single file."""
    parts, _ = _story(tmp_path)
    out = tmp_path / "q.csv"
    report = brandlens.validate(parts, quarantine_out=out)
    events = report.events
    assert (events.rows_read, events.rows_accepted, events.rows_quarantined) == (11, 6, 5)
    d1, d2, d3 = "day=1/part-0.csv", "day=2/part-0.csv", "day=3/part-0.csv.gz"
    examples = {r.reason: [(e["file"], e["row"]) for e in r.examples] for r in report.reasons}
    assert examples == {
        "ts_unparseable": [(d1, 3)],
        "unknown_event_type": [(d2, 3)],  # the malformed line before it is row 2
        "repeated_header": [(d3, 2)],
        "negative_amount": [(d3, 3)],
        "malformed_row": [(d2, 3)],  # line 3: the header is line 1
    }
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["table", "file", "row", "reason"]
    assert [line.split(",")[1:4] for line in lines[1:]] == [
        [d1, "3", "ts_unparseable"],
        [d2, "3", "malformed_row"],
        [d2, "3", "unknown_event_type"],
        [d3, "2", "repeated_header"],
        [d3, "3", "negative_amount"],
    ]


def test_the_parts_compute_what_the_one_file_of_their_lines_does(tmp_path):
    parts, one = _story(tmp_path)
    a = json.loads(brandlens.compute(parts, as_of="2025-06-07").model_dump_json())
    b = json.loads(brandlens.compute(one, as_of="2025-06-07").model_dump_json())
    assert a.pop("dataset")["source"] != b.pop("dataset")["source"]
    assert a == b and a["results"]


def test_a_market_exported_as_csv_parts_computes_as_its_one_csv_file(market, tmp_path):
    """The demo market's events written by DuckDB as one CSV file per year, and as one
    file: every methodology gives the same JSON from both."""
    con = duckdb.connect()
    src = str(market / "events.parquet")
    one = tmp_path / "one"
    one.mkdir()
    con.execute(
        "COPY (SELECT * FROM read_parquet($p)) TO $out (FORMAT csv, HEADER)",
        {"p": src, "out": str(one / "events.csv")},
    )
    parts = tmp_path / "parts" / "events"
    parts.mkdir(parents=True)
    years = con.execute(
        "SELECT DISTINCT year(ts AT TIME ZONE 'UTC') FROM read_parquet($p) ORDER BY 1", {"p": src}
    ).fetchall()
    for (year,) in years:
        con.execute(
            "COPY (SELECT * FROM read_parquet($p) WHERE year(ts AT TIME ZONE 'UTC') = $y) "
            "TO $out (FORMAT csv, HEADER)",
            {"p": src, "y": year, "out": str(parts / f"part-{year}.csv")},
        )
    assert len(years) >= 2
    a = json.loads(brandlens.compute(parts.parent).model_dump_json())
    b = json.loads(brandlens.compute(one).model_dump_json())
    assert a.pop("dataset")["rows_read"] == b.pop("dataset")["rows_read"]
    assert a == b
    # A line opening a quote that never closes, put into the middle of each part, makes
    # DuckDB's scan lose lines: the folder is read by lines, each such line one
    # malformed row, and every result is the same.
    broken = tmp_path / "broken" / "events"
    broken.mkdir(parents=True)
    for (year,) in years:
        lines = (parts / f"part-{year}.csv").read_text().splitlines()
        lines.insert(len(lines) // 2, '1,2025-06-01 10:00:00,x,purchase,"Lumi')
        (broken / f"part-{year}.csv").write_text("\n".join(lines) + "\n")
    c = json.loads(brandlens.compute(broken.parent).model_dump_json())
    read = c.pop("dataset")
    assert read["quarantined_by_reason"].pop("malformed_row") == len(years)
    assert c == b


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / "events" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "events" / rel).write_bytes(data)
    return root


ROW = b"2025-06-01 10:00:00,u1,purchase,Lumi,skincare,10\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"a.csv": HEADER.encode() + ROW, "b.csv": b"user_id,ts\nu1,2025-06-01\n"},
            "events: b.csv has another header line (user_id, ts) than a.csv; the CSV parts "
            "of a folder are read as one table with one header line",
        ),
        (
            {"a.csv": HEADER.encode() + ROW, "b.tsv": HEADER.replace(",", "\t").encode()},
            "events: b.tsv is separated by '\\t' where a.csv is by ','",
        ),
        (
            {"a.csv": HEADER.encode() + ROW, "b.csv": b"\xff\xfe" + HEADER.encode("utf-16-le")},
            "b.csv: ",
        ),
    ],
    ids=["header", "delimiter", "utf-16"],
)
def test_parts_that_cannot_be_read_as_one_table_are_a_one_line_error(tmp_path, files, message):
    data = _folder(tmp_path / "data", files)
    with pytest.raises(DataError) as e:
        brandlens.validate(data)
    assert message in str(e.value)
    r = CliRunner().invoke(app, ["validate", str(data)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_a_part_exported_in_gbk_is_named(tmp_path):
    """Day 2 was exported in GBK (a brand written 润): the part is refused by name, with
    the command that converts it, as a single such file is."""
    gbk = "2025-06-02 10:00:00,u2,purchase,润,skincare,5\n".encode("gb18030")
    files = {"a.csv": HEADER.encode() + ROW, "b.csv": HEADER.encode() + gbk}
    data = _folder(tmp_path / "data", files)
    with pytest.raises(DataError, match=r"events/b\.csv: not UTF-8 text .* GB18030/GBK"):
        brandlens.validate(data)


def test_a_gbk_line_deep_in_a_part_is_quarantined_with_its_part(tmp_path):
    """Part b is UTF-8 but for its line 2,002 (a day appended in GBK): that line is a
    malformed row of b.csv, with the hint that it reads as GBK."""
    gbk = "2025-06-02 10:00:00,u2,purchase,润,skincare,5\n".encode("gb18030")
    body = HEADER.encode() + ROW * 2000 + gbk
    data = _folder(tmp_path / "data", {"a.csv": HEADER.encode() + ROW, "b.csv": body})
    report = brandlens.validate(data)
    (malformed,) = [r for r in report.reasons if r.reason == "malformed_row"]
    (example,) = malformed.examples
    assert (example["file"], example["row"]) == ("b.csv", 2002)
    assert "reads as GB18030/GBK" in example["error"]


def test_headerless_parts_read_with_a_preset_as_the_one_file(tmp_path):
    """Taobao's UserBehavior split by day, without header lines, read with its preset:
    the same report and results as the one file; the bad line (an unknown behaviour)
    is named by its part and row."""
    day1 = "1,10,5,pv,1511658000\n1,10,5,buy,1511661600\n2,11,5,pv,1511665200\n"
    day2 = "3,12,6,pv,1511744400\n3,12,6,teleport,1511748000\n2,11,5,buy,1511751600\n"
    _write(tmp_path / "parts" / "events" / "2017-11-26.csv", day1)
    _write(tmp_path / "parts" / "events" / "2017-11-27.csv", day2)
    _write(tmp_path / "one" / "events.csv", day1 + day2)
    reports = {
        name: brandlens.validate(tmp_path / name, preset="taobao-userbehavior")
        for name in ("parts", "one")
    }
    for report in reports.values():
        e = report.events
        assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (6, 5, 1)
    (bad,) = reports["parts"].reasons
    assert (bad.reason, bad.examples[0]["file"], bad.examples[0]["row"]) == (
        "unknown_event_type",
        "2017-11-27.csv",
        2,
    )
    (bad_one,) = reports["one"].reasons
    assert bad_one.examples[0]["row"] == 5  # the same row, counted in the one file
    results = {
        name: json.loads(
            brandlens.compute(
                tmp_path / name, as_of="2017-11-27", preset="taobao-userbehavior"
            ).model_dump_json()
        )
        for name in ("parts", "one")
    }
    for r in results.values():
        r.pop("dataset")
    assert results["parts"] == results["one"] and results["one"]["results"]


# ---- what an independent review found ----------------------------------------------------

H = HEADER.strip()


def _parts(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        _write(root / "events" / rel, text)
    return root


def test_blank_lines_inside_a_quoted_value_are_not_lost_lines(tmp_path):
    """count_lines skips empty lines; a value "skin<LF><LF>care" spans three physical
    lines of which two are counted. Counting every line feed inside values found a line
    too many and refused the folder; a part's lines now add up exactly."""
    data = _parts(
        tmp_path,
        {
            "a.csv": f'{H}\n2025-06-01 10:00:00,a,purchase,Lumi,"skin\n\ncare",1\n',
            "b.csv": f'{H}\n2025-06-01 10:00:00,b,purchase,Lumi,"Lu\nmi",1\n',
            "c.csv": f"{H}\n2025-06-01 10:00:00,c,purchase,Lumi,skincare,1\n",
        },
    )
    e = brandlens.validate(data).events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (3, 3, 0)


def test_an_opening_quote_that_never_closes_is_one_malformed_line_of_its_part(tmp_path):
    """b.csv's line 3 opens a quote that never closes: DuckDB's scan swallows the lines
    after it, so the folder is read again by lines, part by part, as one such file is.
    That line is a malformed row of b.csv (UNTERMINATED QUOTE); b.csv's other lines are
    rows numbered in b.csv, a.csv's in a.csv (whose quoted value spans five lines).
    a.csv: row 1 a (lines 2-6). b.csv: row 1 b1, line 3 the opener, rows 3-6 b2..b5,
    row 7 b6 with a negative amount."""
    rows = "".join(f"2025-06-02 10:00:00,b{i},purchase,Lumi,skincare,1\n" for i in range(2, 6))
    data = _parts(
        tmp_path,
        {
            "a.csv": f'{H}\n2025-06-01 10:00:00,a,purchase,Lumi,"skin\n\n\n\n\ncare",1\n',
            "b.csv": f"{H}\n2025-06-01 10:00:00,b1,purchase,Lumi,skincare,1\n"
            f'2025-06-01 10:00:00,u2,purchase,Lumi,skincare,"1\n{rows}'
            "2025-06-03 10:00:00,b6,purchase,Lumi,skincare,-2\n",
        },
    )
    report = brandlens.validate(data)
    e = report.events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (8, 6, 2)
    examples = {
        r.reason: [(x["file"], x["row"], x.get("error")) for x in r.examples]
        for r in report.reasons
    }
    assert examples == {
        "malformed_row": [("b.csv", 3, "UNTERMINATED QUOTE")],  # line 3 (the header is 1)
        "negative_amount": [("b.csv", 7, None)],  # data row 7: line 8, after the opener
    }
    with Dataset(data, cache=False) as ds:
        users = [r[0] for r in ds.con.execute("SELECT user_id FROM events").fetchall()]
    assert users == ["a", "b1", "b2", "b3", "b4", "b5"]


def test_a_gbk_line_in_a_part_read_by_lines_is_named_by_its_part(tmp_path):
    """b.csv holds a GBK line (line 3) and a quote that never closes (line 5), so the
    folder is read by lines: both are malformed rows of b.csv, not of a.csv. (Its line 2
    is UTF-8 Chinese: with ASCII alone beside it, the GBK line would make the part GBK.)"""
    gbk = "2025-06-02 10:00:00,u2,purchase,润,skincare,5".encode("gb18030")
    utf8 = "2025-06-02 10:00:00,u1,purchase,润,skincare,5".encode()
    opener = b'2025-06-02 10:00:00,u3,purchase,Lumi,skincare,"5'
    body = b"\n".join([HEADER.strip().encode(), utf8, gbk, ROW.strip(), opener, ROW])
    data = _folder(tmp_path / "data", {"a.csv": HEADER.encode() + ROW, "b.csv": body})
    report = brandlens.validate(data)
    e = report.events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (6, 4, 2)
    (malformed,) = [r for r in report.reasons if r.reason == "malformed_row"]
    found = [(x["file"], x["row"], x["error"].split(":")[0]) for x in malformed.examples]
    assert found == [("b.csv", 3, "INVALID ENCODING"), ("b.csv", 5, "UNTERMINATED QUOTE")]


def test_a_part_duckdb_cannot_scan_is_read_by_lines(tmp_path):
    """A CRLF line among LF lines stops DuckDB's scan of the folder; the folder is read
    by lines, as one such file is, and every row is there, numbered in its part."""
    data = _parts(
        tmp_path,
        {
            "a.csv": f"{H}\n2025-06-01 10:00:00,a,purchase,Lumi,skincare,1\n",
            "m.csv": f"{H}\n2025-06-01 10:00:00,m1,purchase,Lumi,skincare,1\r\n"
            "2025-06-01 10:00:00,m2,purchase,Lumi,skincare,-1\n",
        },
    )
    report = brandlens.validate(data)
    e = report.events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (3, 2, 1)
    (bad,) = report.reasons
    assert (bad.reason, bad.examples[0]["file"], bad.examples[0]["row"]) == (
        "negative_amount",
        "m.csv",
        2,
    )


def test_empty_and_header_only_parts_hold_no_rows(tmp_path):
    """Spark writes a 0-byte file for an empty partition, or a header alone (here without
    its line break): neither holds a row, and neither stops the folder."""
    data = _parts(
        tmp_path,
        {
            "a.csv": f"{H}\n2025-06-01 10:00:00,a,purchase,Lumi,skincare,1\n",
            "b.csv": "",
            "c.csv": H,
        },
    )
    e = brandlens.validate(data).events
    assert (e.rows_read, e.rows_accepted) == (1, 1)
    empty = _parts(tmp_path / "empty", {"a.csv": "", "b.csv": ""})
    with pytest.raises(DataError, match="every CSV part is empty"):
        brandlens.validate(empty)


def test_a_column_named_like_the_part_column_is_read_as_any_other(tmp_path):
    """The parts are counted by a file-name column the reader adds; a log with a column
    of that very name (any case) made DuckDB refuse the folder. Row 2 of a.csv is still
    quarantined by its part and row, and so is a line whose quote never closes."""
    h = f"{H},_brandlens_part,_BRANDLENS_PART_2"
    data = _parts(
        tmp_path / "ok",
        {
            "a.csv": f"{h}\n2025-06-01 10:00:00,a,purchase,Lumi,skincare,1,x,y\n"
            "bad,b,purchase,Lumi,skincare,1,x,y\n",
            "b.csv": f"{h}\n2025-06-01 10:00:00,c,purchase,Lumi,skincare,1,x,y\n",
        },
    )
    report = brandlens.validate(data)
    e = report.events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (3, 2, 1)
    (reason,) = report.reasons
    assert [(x["file"], x["row"]) for x in reason.examples] == [("a.csv", 2)]
    lost = _parts(
        tmp_path / "lost",
        {
            "a.csv": f"{h}\n2025-06-01 10:00:00,a,purchase,Lumi,skincare,1,x,y\n",
            "b.csv": f"{h}\n2025-06-01 10:00:00,b1,purchase,Lumi,skincare,1,x,y\n"
            '2025-06-01 10:00:00,u2,purchase,Lumi,skincare,"1\n'
            "2025-06-02 10:00:00,b2,purchase,Lumi,skincare,1,x,y\n",
        },
    )
    report = brandlens.validate(lost)  # read by lines, the part's rows counted there
    e = report.events
    assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (4, 3, 1)
    (reason,) = report.reasons
    assert [(x["file"], x["row"]) for x in reason.examples] == [("b.csv", 3)]


def test_parquet_parts_with_a_column_named_like_the_part_column(tmp_path):
    """The same for a folder of Parquet parts, copied and read in place: the second
    part's missing time is quarantined as its row 1."""
    folder = tmp_path / "events"
    folder.mkdir()
    con = duckdb.connect()
    for i, ts in enumerate(["TIMESTAMP '2025-06-01 10:00:00'", "NULL"]):
        con.execute(
            f"COPY (SELECT {ts} AS ts, 'u{i}' AS user_id, 'purchase' AS event_type, "
            "'Lumi' AS brand, 1.0 AS amount, 'x' AS _Brandlens_Part) "
            f"TO '{folder / f'part-{i}.parquet'}'"
        )
    for cache in (True, False):
        report = brandlens.validate(tmp_path, cache=cache)
        e = report.events
        assert (e.rows_read, e.rows_accepted, e.rows_quarantined) == (2, 1, 1)
        (reason,) = report.reasons
        assert [(x["file"], x["row"]) for x in reason.examples] == [("part-1.parquet", 1)]
