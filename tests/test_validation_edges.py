"""Each check at its edge: the value just inside is accepted, the one just outside is not.

A mutation run over the data layer (small errors planted one at a time in validation,
the local-date tables, the CSV reader, the mapping and the store) found checks whose
edges no test touched: the first and last instants of the accepted years, signed whole
numbers in text, a rating of 5, a target period of one day, the query type ``other``, an
empty event type under a mapping that drops a type, a header ending in a comma, a zone's
offset change to the second, local dates before 1970, generated ids whose digest starts
with a zero, a ``.tsv.gz`` file, and two mapping options. Each test below fails under
one of those errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from brandlens.engine.runs import Dataset
from brandlens.errors import DataError, UsageError


def _data(tmp_path: Path, events: str, **tables: str) -> Path:
    """A dataset folder from CSV text: events.csv and any other table."""
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    (d / "events.csv").write_text(events)
    for name, text in tables.items():
        (d / f"{name}.csv").write_text(text)
    return d


def _parquet(tmp_path: Path, select: str) -> Path:
    """A dataset folder whose events.parquet holds the rows of ``select``."""
    d = tmp_path / "data"
    d.mkdir()
    duckdb.sql(f"COPY ({select}) TO '{d / 'events.parquet'}' (FORMAT parquet)")
    return d


def _outcome(data: Path, **kw: Any) -> tuple[dict[str, tuple[int, int]], dict[str, list[int]]]:
    """({table: (read, accepted)}, {table.reason: [rows of its examples]}); rows read =
    accepted + quarantined for every table."""
    with Dataset(data, cache=False, **kw) as ds:
        report = ds.report
    counts = {}
    for t in report.tables:
        assert t.rows_read == t.rows_accepted + t.rows_quarantined
        counts[t.table] = (t.rows_read, t.rows_accepted)
    reasons = {f"{r.table}.{r.reason}": [int(e["row"]) for e in r.examples] for r in report.reasons}
    return counts, reasons


# ---- timestamps: the accepted years are 1900 to 2200, to the second ------------------------


def test_text_times_on_the_edges_of_the_accepted_years(tmp_path):
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand\n"
        "1900-01-01 00:00:00,u1,ad_click,B\n"  # the first instant accepted
        "2200-12-31 12:00:00,u2,ad_click,B\n"  # the last day accepted
        "2201-01-01 00:00:00,u3,ad_click,B\n"  # one past the last
        "1899-12-31 23:59:59,u4,ad_click,B\n"  # one second before the first
        "2025-06-01 04:00:00,u5,ad_click,B\n",
    )
    counts, reasons = _outcome(data)
    assert counts["events"] == (5, 3)
    assert reasons == {"events.ts_unparseable": [3, 4]}


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_repeated_id_is_judged_among_the_rows_that_passed_every_other_check(tmp_path, form):
    """docs/data.md: a row quarantined for another reason keeps no id, so a later row
    with its id (a corrected resend) is kept, and the one after that is the repeat."""
    rows = [
        ("e1", "not a time", "u1"),  # row 1: ts_unparseable; e1 not taken
        ("e1", "2025-06-01 04:00:00", "u1"),  # row 2: the first valid e1, kept
        ("e1", "2025-06-02 04:00:00", "u1"),  # row 3: repeats row 2, duplicate
        ("e2", "2025-06-03 04:00:00", "u2"),  # row 4: kept
    ]
    if form == "csv":
        text = "event_id,ts,user_id,event_type,brand\n"
        data = _data(tmp_path, text + "".join(f"{i},{t},{u},ad_click,B\n" for i, t, u in rows))
    else:
        values = ", ".join(f"({i[1:]}, '{t}', '{u}', 'ad_click', 'B')" for i, t, u in rows)
        data = _parquet(
            tmp_path,
            f"SELECT * FROM (VALUES {values}) v(event_id, ts, user_id, event_type, brand)",
        )
    counts, reasons = _outcome(data)
    assert counts["events"] == (4, 2)
    assert reasons == {"events.ts_unparseable": [1], "events.duplicate_event_id": [3]}


def test_parquet_times_without_a_zone_on_the_edges_of_the_accepted_years(tmp_path):
    d = _parquet(
        tmp_path,
        "SELECT * FROM (VALUES "
        "(1, TIMESTAMP '2200-12-31 23:00:00', 'u1'), "  # inside the last year
        "(2, TIMESTAMP '2201-01-01 00:00:00', 'u2'), "  # the first instant past it
        "(3, TIMESTAMP '1900-01-01 00:00:00', 'u3'), "  # the first instant accepted
        "(4, TIMESTAMP '1899-12-31 23:59:59', 'u4'), "  # the last instant before it
        "(5, TIMESTAMP '2025-06-01 04:00:00', 'u5')) "
        "t(event_id, ts, user_id), (SELECT 'ad_click' AS event_type, 'B' AS brand)",
    )
    counts, reasons = _outcome(d)
    assert counts["events"] == (5, 3)
    assert reasons == {"events.ts_unparseable": [2, 4]}


def test_zoned_parquet_times_are_not_said_to_be_read_as_utc(tmp_path):
    d = _parquet(
        tmp_path,
        "SELECT 1 AS event_id, TIMESTAMPTZ '2025-06-01 04:00:00+00' AS ts, "
        "'u1' AS user_id, 'ad_click' AS event_type, 'B' AS brand",
    )
    with Dataset(d, cache=False) as ds:
        # the times carry their offset: nothing was read as UTC, and no note says so
        assert ds.report.naive_ts_as_utc is False


# ---- numbers in text ---------------------------------------------------------------------


def test_signed_whole_numbers_in_text_are_numbers(tmp_path):
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand,amount,quantity,rating\n"
        "2025-06-01 04:00:00,u1,purchase,B,10,-1,\n"  # a number, out of range: not bad_type
        "2025-06-01 05:00:00,u2,purchase,B,10,+2,\n"  # +2 is 2
        "2025-06-01 06:00:00,u3,review,B,,,+4\n"  # +4 is 4
        "2025-06-01 07:00:00,u4,review,B,,,5\n"  # 5, the top of the scale
        "2025-06-01 08:00:00,u5,review,B,,,1\n"  # 1, its bottom
        "2025-06-01 09:00:00,u6,review,B,,,6\n",  # one past the top
    )
    counts, reasons = _outcome(data)
    assert counts["events"] == (6, 4)
    assert reasons == {
        "events.quantity_out_of_range": [1],
        "events.rating_out_of_range": [6],
    }


def test_every_query_type_of_the_schema_is_accepted(tmp_path):
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand,query_type\n"
        "2025-06-01 04:00:00,u1,search,B,brand\n"
        "2025-06-01 05:00:00,u2,search,B,category\n"
        "2025-06-01 06:00:00,u3,search,B,other\n"  # the last of the three
        "2025-06-01 07:00:00,u4,search,B,Other\n",  # values are exact
    )
    counts, reasons = _outcome(data)
    assert counts["events"] == (4, 3)
    assert reasons == {"events.bad_query_type": [4]}


def test_a_target_period_may_be_one_day_long(tmp_path):
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand\n2025-06-01 04:00:00,u1,ad_click,B\n",
        targets="brand,indicator,period_start,period_end,target_value\n"
        "B,fast.fertility,2025-06-01,2025-06-01,100\n"  # ends the day it starts
        "B,fast.fertility,2025-06-02,2025-06-01,100\n",  # ends before it starts
    )
    counts, reasons = _outcome(data)
    assert counts["targets"] == (2, 1)
    assert reasons == {"targets.period_out_of_order": [2]}


# ---- mappings ------------------------------------------------------------------------------


def test_an_empty_event_type_is_missing_not_excluded_by_the_mapping(tmp_path):
    data = _data(
        tmp_path,
        "ts,user_id,action,brand\n"
        "2025-06-01 04:00:00,u1,view,B\n"
        "2025-06-01 05:00:00,u2,,B\n"  # no event type at all: a bad row
        "2025-06-01 06:00:00,u3,junk,B\n",  # mapped to null: left out on purpose
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns:\n  event_type: action\nevent_types:\n  view: ad_impression\n  junk: null\n"
    )
    counts, reasons = _outcome(data, mapping=mapping)
    assert counts["events"] == (3, 1)
    assert reasons == {"events.missing_required": [2], "events.excluded_by_mapping": [3]}
    # --strict fails on the bad row (a row the mapping excludes would not fail it)
    with (
        pytest.raises(DataError, match="1 bad row"),
        Dataset(data, mapping=mapping, cache=False, strict=True),
    ):
        pass


def test_a_derive_reads_an_empty_field_as_null_on_the_line_by_line_path(tmp_path):
    # the broken quote on line 3 makes the file be read line by line; there too an empty
    # shop is NULL, so the derive gives u1 the brand House
    data = _data(
        tmp_path,
        "ts,user_id,event_type,shop\n"
        "2025-06-01 04:00:00,u1,member_join,\n"
        '2025-06-01 05:00:00,u2,"ad_click,X\n'
        "2025-06-01 06:00:00,u3,member_join,S1\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("derive:\n  brand: \"coalesce(shop, 'House')\"\n")
    counts, reasons = _outcome(data, mapping=mapping)
    assert counts["events"] == (3, 2)
    assert reasons == {"events.malformed_row": [3]}  # a malformed row is named by its line
    with Dataset(data, mapping=mapping, cache=False) as ds:
        got = ds.con.execute("SELECT user_id, brand FROM events ORDER BY user_id").fetchall()
    assert got == [("u1", "House"), ("u3", "S1")]


def test_names_given_twice_apart_from_case_are_refused(tmp_path):
    data = _data(tmp_path, "2025-06-01 04:00:00,u1,ad_click,B,X,Y\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "read:\n  header: false\n  names: [ts, user_id, event_type, brand, note, NOTE]\n"
    )
    with pytest.raises(UsageError, match="'NOTE' appears more than once"):
        Dataset(data, mapping=mapping, cache=False)


def test_a_nul_delimiter_is_refused_by_the_mapping(tmp_path):
    data = _data(tmp_path, "ts,user_id,event_type,brand\n2025-06-01 04:00:00,u1,ad_click,B\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text('read:\n  delimiter: "\\0"\n')
    with pytest.raises(UsageError, match=r"read\.delimiter"):
        Dataset(data, mapping=mapping, cache=False)


# ---- files ---------------------------------------------------------------------------------


def test_a_header_repeated_in_the_data_when_it_ends_in_a_comma(tmp_path):
    # the header's last name is empty; the repeated header is still the header
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand,\n"
        "2025-06-01 04:00:00,u1,ad_click,B,\n"
        "ts,user_id,event_type,brand,\n"
        "2025-06-01 05:00:00,u2,ad_click,B,\n",
    )
    counts, reasons = _outcome(data)
    assert counts["events"] == (3, 2)
    assert reasons == {"events.repeated_header": [2]}


def test_a_gzipped_tsv_is_read_with_tabs(tmp_path):
    import gzip

    d = tmp_path / "data"
    d.mkdir()
    with gzip.open(d / "events.tsv.gz", "wt") as f:
        f.write("ts\tuser_id\tevent_type\tbrand\n2025-06-01 04:00:00\tu1\tad_click\tB\n")
    counts, reasons = _outcome(d)
    assert counts["events"] == (1, 1) and reasons == {}


def test_generated_event_ids_always_have_sixteen_hex_digits(tmp_path):
    # 40 rows without ids: about one digest in sixteen starts with a zero digit, which
    # must be kept (h05a1..., not h5a1...)
    rows = "".join(f"2025-06-01 04:00:00,u{n},ad_click,B\n" for n in range(40))
    data = _data(tmp_path, "ts,user_id,event_type,brand\n" + rows)
    with Dataset(data, cache=False) as ds:
        ids = [r[0] for r in ds.con.execute("SELECT event_id FROM events").fetchall()]
    assert len(ids) == 40
    assert all(re.fullmatch(r"h[0-9a-f]{16}-1", i) for i in ids), ids
    assert any(i.startswith("h0") for i in ids)  # the case this is about occurs here


# ---- local dates ---------------------------------------------------------------------------


def _local_dates(data: Path, zone: str) -> list[tuple[str, str]]:
    with Dataset(data, cache=False, timezone=zone) as ds:
        rows = ds.con.execute("SELECT user_id, local_date FROM events ORDER BY user_id")
        return [(u, str(d)) for u, d in rows.fetchall()]


def test_a_local_date_at_the_instant_the_offset_changes(tmp_path):
    # Chile left summer time at 2025-04-06 03:00:00 UTC: 23:59:59 at -03 before it,
    # 23:00:00 at -04 from it on; all three instants are on April 5 in Santiago (applying
    # the old offset at the instant itself would give 00:00 on April 6)
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand\n"
        "2025-04-06 02:59:59,u1,ad_click,B\n"
        "2025-04-06 03:00:00,u2,ad_click,B\n"
        "2025-04-06 03:00:01,u3,ad_click,B\n",
    )
    assert _local_dates(data, "America/Santiago") == [
        ("u1", "2025-04-05"),
        ("u2", "2025-04-05"),
        ("u3", "2025-04-05"),
    ]


def test_a_local_date_before_1970_is_the_day_before(tmp_path):
    # 1970-01-01 03:00 UTC is 22:00 on December 31, 1969 in New York (UTC-5): a day
    # number negative before the epoch is floored, not truncated toward zero
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand\n"
        "1970-01-01 03:00:00,u1,ad_click,B\n"
        "2025-06-01 03:00:00,u2,ad_click,B\n",
    )
    assert _local_dates(data, "America/New_York") == [("u1", "1969-12-31"), ("u2", "2025-05-31")]


# ---- the quarantine's order: a malformed line and the row after it share a number ----------


def test_a_malformed_line_comes_before_the_row_numbered_like_it(tmp_path):
    # Under a header, the malformed line 3 is numbered by its line (3) and the next line,
    # data row 3 (the malformed line counts as row 2), by its row: both are 3. The line is
    # earlier in the file, so it comes first, though "bad_type" sorts before
    # "malformed_row"; DuckDB's sort left the tie to chance, so the file is read 4 times.
    data = _data(
        tmp_path,
        "ts,user_id,event_type,brand,amount\n"
        "2025-06-01 10:00:00,u1,purchase,B,10\n"  # row 1: accepted
        "2025-06-01 11:00:00,u2,purchase,B,3,extra\n"  # line 3: malformed_row
        "2025-06-01 12:00:00,u3,purchase,B,abc\n"  # row 3: bad_type (amount)
        "2025-06-01 13:00:00,u4,purchase,B,-1\n",  # row 4: negative_amount
    )
    for i in range(4):
        out = tmp_path / f"q{i}.csv"
        with Dataset(data, cache=False) as ds:
            ds.write_quarantine(out)
        rows = [line.split(",")[1:3] for line in out.read_text().splitlines()[1:]]
        assert rows == [["3", "malformed_row"], ["3", "bad_type"], ["4", "negative_amount"]]
