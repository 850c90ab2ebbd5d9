"""Validation and quarantine: one test per reason, reconciliation, data errors."""

from __future__ import annotations

import gzip
import json
import re

import pytest

import brandlens
from brandlens.data.validation import REASONS
from brandlens.errors import DataError, UsageError
from conftest import ev, write_csv

GOOD = ev("2025-06-01 04:00:00", "u1", "ad_impression")

CASES = {
    "missing_required": [ev("2025-06-01 04:00:00", "", "ad_impression")],
    "ts_unparseable": [ev("yesterday", "u2", "ad_impression")],
    "unknown_event_type": [ev("2025-06-01 04:00:00", "u2", "teleport")],
    "bad_type": [ev("2025-06-01 04:00:00", "u2", "purchase", amount="12,5")],
    "missing_brand": [ev("2025-06-01 04:00:00", "u2", "purchase", brand=None, amount="1")],
    "missing_amount": [ev("2025-06-01 04:00:00", "u2", "refund")],
    "missing_rating": [ev("2025-06-01 04:00:00", "u2", "review")],
    "missing_query_type": [ev("2025-06-01 04:00:00", "u2", "search")],
    "negative_amount": [ev("2025-06-01 04:00:00", "u2", "purchase", amount="-0.01")],
    "rating_out_of_range": [ev("2025-06-01 04:00:00", "u2", "review", rating="0")],
    "quantity_out_of_range": [
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1", quantity="0")
    ],
    "bad_query_type": [ev("2025-06-01 04:00:00", "u2", "search", query_type="Brand")],
    "duplicate_event_id": [
        ev("2025-06-01 04:00:00", "u2", "ad_impression", event_id="x1"),
        ev("2025-06-02 04:00:00", "u2", "ad_click", event_id="x1"),
    ],
}

# Values that a lax cast would round or mangle into validity: each must be quarantined.
NOT_ROUNDED = {
    "rating 3.5": (ev("2025-06-01 04:00:00", "u2", "review", rating="3.5"), "bad_type"),
    "quantity 0.5": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1", quantity="0.5"),
        "bad_type",
    ),
    # whole, but not written as a number with digits before the point
    "quantity .0": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1", quantity=".0"),
        "bad_type",
    ),
    "quantity 1e0": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1", quantity="1e0"),
        "bad_type",
    ),
    "rating 4.01": (ev("2025-06-01 04:00:00", "u2", "review", rating="4.01"), "bad_type"),
    "amount -0.004": (ev("2025-06-01 04:00:00", "u2", "purchase", amount="-0.004"), "bad_type"),
    "amount 1.005": (ev("2025-06-01 04:00:00", "u2", "purchase", amount="1.005"), "bad_type"),
    # past the tenth decimal a cast to DECIMAL(38,10) rounded these to 0.00 and 12.00
    "amount -1e-11 written out": (
        ev("2025-06-01 04:00:00", "u2", "refund", amount="-0.00000000001"),
        "bad_type",
    ),
    "amount 12.00000000001": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="12.00000000001"),
        "bad_type",
    ),
    "amount 21 decimals": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="12.000000000000000000001"),
        "bad_type",
    ),
    "amount 1e-11": (ev("2025-06-01 04:00:00", "u2", "purchase", amount="1e-11"), "bad_type"),
    # DuckDB's digit grouping, which no other reader takes
    "amount 1_299.00": (ev("2025-06-01 04:00:00", "u2", "purchase", amount="1_299.00"), "bad_type"),
    "ts infinity": (ev("infinity", "u2", "ad_click"), "ts_unparseable"),
    "ts year 29000": (ev("29000-01-01 00:00:00", "u2", "ad_click"), "ts_unparseable"),
    # a date parser reading 1 to 4 digits of year would take these as years 202 and 2
    "ts year 202": (ev("202-06-01 04:05:06", "u2", "ad_click"), "ts_unparseable"),
    "ts year 2": (ev("2-06-01 04:05:06", "u2", "ad_click"), "ts_unparseable"),
    # a trailing space is allowed, a trailing tab or line break is not
    "ts trailing tab": (ev("2025-06-01 04:05:06\t", "u2", "ad_click"), "ts_unparseable"),
    "ts trailing LF": (ev("2025-06-01 04:05:06\n", "u2", "ad_click"), "ts_unparseable"),
    "tab user": (ev("2025-06-01 04:00:00", "\t", "ad_click"), "missing_required"),
    # two problems: the documented order puts negative_amount before quantity_out_of_range
    "order": (
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="-1", quantity="0"),
        "negative_amount",
    ),
}


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("\u3000", "user_id"),  # an ideographic space (a Chinese input method's)
        ("\u00a0", "user_id"),  # a no-break space (a spreadsheet's)
        ("\x0b", "user_id"),  # a vertical tab, which RE2's \s leaves out
        (" \u3000\u00a0\t", "user_id"),
        ("\u3000", "brand"),
    ],
)
def test_text_of_unicode_blanks_alone_is_a_missing_value(value, where, events_dir):
    # they used to be a user or a brand of their own
    row = dict(ev("2025-06-01 04:00:00", "u2", "purchase", brand="B", amount="1"), **{where: value})
    report = brandlens.validate(events_dir([GOOD, row]))
    reason = "missing_required" if where == "user_id" else "missing_brand"
    assert [(r.reason, r.count) for r in report.reasons] == [(reason, 1)]


def test_text_that_only_starts_with_a_unicode_blank_is_kept(events_dir, tmp_path):
    from brandlens.engine.runs import Dataset

    row = ev("2025-06-01 04:00:00", "\u3000u2", "purchase", brand="\u00a0B", amount="1")
    with Dataset(events_dir([GOOD, row]), cache=False) as ds:
        got = ds.con.execute("SELECT user_id, brand FROM events ORDER BY user_id").fetchall()
    assert got == [("u1", "B"), ("\u3000u2", "\u00a0B")]


@pytest.mark.parametrize("case", sorted(NOT_ROUNDED))
def test_nothing_is_rounded_or_trimmed_into_validity(case, events_dir):
    row, reason = NOT_ROUNDED[case]
    report = brandlens.validate(events_dir([GOOD, row]))
    assert [(r.reason, r.count) for r in report.reasons] == [(reason, 1)]


def test_an_amount_in_exponent_form_is_read_exactly(tmp_path):
    # Excel writes large numbers as 1.2E+05: the amount it means, to the cent, as
    # docs/data.md says; 1e-11 (too many decimals) is bad_type in NOT_ROUNDED above
    from decimal import Decimal

    from brandlens.engine.runs import Dataset

    rows = [
        ev("2025-06-01 04:00:00", "u1", "purchase", amount="1.2E+05"),
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1e3"),
        ev("2025-06-01 04:00:00", "u3", "purchase", amount="1.25e1"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    with Dataset(tmp_path, cache=False) as ds:
        got = ds.con.execute("SELECT user_id, amount FROM events ORDER BY user_id").fetchall()
        assert ds.report.events.rows_quarantined == 0
    assert got == [
        ("u1", Decimal("120000.00")),
        ("u2", Decimal("1000.00")),
        ("u3", Decimal("12.50")),
    ]


def test_an_offset_is_taken_as_written_whatever_its_size(tmp_path):
    # docs/data.md: DuckDB reads any two-digit offset; +24:00 is a whole day back
    from datetime import UTC, datetime

    from brandlens.engine.runs import Dataset

    rows = [ev("2025-06-02 10:00:00+24:00", "u1", "ad_click")]
    write_csv(tmp_path / "events.csv", rows)
    with Dataset(tmp_path, cache=False) as ds:
        (ts,) = ds.con.execute("SELECT ts FROM events").fetchone()
    assert ts.astimezone(UTC) == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def test_a_whole_number_written_with_a_zero_fraction_is_that_integer(tmp_path):
    # pandas writes an integer column holding a gap as floats: quantity 2.0, rating 5.0.
    # Those are whole numbers (as they are in JSON and Parquet), not bad_type.
    from brandlens.engine.runs import Dataset

    rows = [
        ev("2025-06-01 04:00:00", "u1", "purchase", amount="1", quantity="2.0"),
        ev("2025-06-01 04:00:00", "u2", "purchase", amount="1", quantity=" 3. "),
        ev("2025-06-01 04:00:00", "u3", "review", rating="5.000"),
        ev("2025-06-01 04:00:00", "u4", "review", rating="+4.0"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    with Dataset(tmp_path, cache=False) as ds:
        got = ds.con.execute("SELECT user_id, quantity, rating FROM events").fetchall()
        assert ds.report.events.rows_quarantined == 0
    assert got == [("u1", 2, None), ("u2", 3, None), ("u3", None, 5), ("u4", None, 4)]


def test_an_amount_with_only_zeros_past_the_cents_is_that_amount(tmp_path):
    from brandlens.engine.runs import Dataset

    amounts = ["12.0000000000000000000", "1.0001e2", " 3.10 ", "0.1"]
    rows = [ev("2025-06-01 04:00:00", f"u{i}", "purchase", amount=a) for i, a in enumerate(amounts)]
    write_csv(tmp_path / "events.csv", rows)
    with Dataset(tmp_path, cache=False) as ds:
        got = ds.con.execute("SELECT CAST(amount AS VARCHAR) FROM events").fetchall()
    assert [g for (g,) in got] == ["12.00", "100.01", "3.10", "0.10"]


def test_a_whole_id_read_as_a_float_has_no_fraction(tmp_path):
    # A JSON key holding 123 beside 2.5, or a Parquet id column pandas wrote as floats
    # because of a gap, is read as DOUBLE: 123 became the id "123.0", which matched no
    # users row "123". Whole values are their integer text; others keep their fraction.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from brandlens.engine.runs import Dataset

    js = tmp_path / "js"
    js.mkdir()
    (js / "events.jsonl").write_text(
        "".join(
            json.dumps({"ts": "2025-06-01", "user_id": u, "event_type": "product_view"}) + "\n"
            for u in (123, 2.5, 1e3, -7.0)
        )
    )
    pqd = tmp_path / "pq"
    pqd.mkdir()
    table = pa.table(
        {
            "ts": ["2025-06-01"] * 3,
            "user_id": pa.array([123.0, None, 9007199254740993.0], pa.float64()),
            "event_type": ["product_view"] * 3,
        }
    )
    pq.write_table(table, pqd / "events.parquet")
    # past 2^53 a float is no exact id: it keeps the float text it has
    expected = {js: ["123", "2.5", "1000", "-7"], pqd: ["123", "9007199254740992.0"]}
    for d, ids in expected.items():
        with Dataset(d, cache=False) as ds:
            got = [u for (u,) in ds.con.execute("SELECT user_id FROM events").fetchall()]
        assert got == ids, d


def test_json_values_are_unquoted_and_objects_are_bad(tmp_path):
    from brandlens.engine.runs import Dataset

    p = tmp_path / "events.jsonl"
    p.write_text(
        '{"ts": "2025-06-01 04:00:00", "user_id": "u1", "event_type": "ad_click", "brand": "B"}\n'
        '{"ts": "2025-06-01 04:00:00", "user_id": 2, "event_type": "ad_click", "brand": "B"}\n'
        '{"ts": "2025-06-01 04:00:00", "user_id": {"id": 3}, "event_type": "ad_click"}\n'
    )
    with Dataset(p) as ds:
        users = sorted(r[0] for r in ds.con.execute("SELECT user_id FROM events").fetchall())
        assert users == ["2", "u1"]
        assert [(r.reason, r.count) for r in ds.report.reasons] == [("bad_type", 1)]


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_reason_quarantines_its_row(reason, events_dir):
    rows = [GOOD, *CASES[reason]]
    report = brandlens.validate(events_dir(rows))
    ev_report = report.events
    expected_bad = 1
    assert ev_report.rows_read == len(rows)
    assert ev_report.rows_quarantined == expected_bad
    assert ev_report.rows_accepted == len(rows) - expected_bad
    assert [(r.reason, r.count) for r in report.reasons] == [(reason, 1)]
    assert reason in REASONS


def test_duplicate_event_id_keeps_the_first_row(events_dir):
    report = brandlens.validate(events_dir([GOOD, *CASES["duplicate_event_id"]]))
    example = report.reasons[0].examples[0]
    assert example["row"] == 3 and example["event_type"] == "ad_click"


def test_rows_read_equals_accepted_plus_quarantined_per_reason(events_dir):
    rows = [GOOD] + [r for case in CASES.values() for r in case]
    r = brandlens.validate(events_dir(rows)).events
    assert r.rows_read == len(rows) == r.rows_accepted + r.rows_quarantined
    assert r.rows_accepted == 2  # GOOD and the first x1


def test_a_row_gets_the_first_reason_only(events_dir):
    # empty user_id AND unknown type: missing_required comes first in REASONS
    report = brandlens.validate(events_dir([GOOD, ev("2025-06-01 04:00:00", "", "teleport")]))
    assert [r.reason for r in report.reasons] == ["missing_required"]


def test_quarantine_out_writes_rows_with_reasons(events_dir, tmp_path):
    out = tmp_path / "q.csv"
    rows = [GOOD, *CASES["negative_amount"], *CASES["ts_unparseable"]]
    brandlens.validate(events_dir(rows), quarantine_out=out)
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["table", "row", "reason"]
    got = sorted((line.split(",")[1], line.split(",")[2]) for line in lines[1:])
    assert got == [("2", "negative_amount"), ("3", "ts_unparseable")]


def test_strict_fails_on_any_bad_row(events_dir):
    with pytest.raises(DataError, match="1 bad row"):
        brandlens.compute(events_dir([GOOD, *CASES["bad_type"]]), strict=True)


def test_generated_event_ids_are_stable_and_unique(events_dir, tmp_path):
    from brandlens.engine.runs import Dataset

    same = ev("2025-06-01 04:00:00", "u1", "ad_impression")
    rows = [same, same, ev("2025-06-01 04:00:00", "u2", "ad_impression")]
    with Dataset(events_dir(rows)) as ds:
        ids1 = sorted(r[0] for r in ds.con.execute("SELECT event_id FROM events").fetchall())
    write_csv(tmp_path / "other" / "events.csv", list(reversed(rows)))
    with Dataset(tmp_path / "other") as ds:
        ids2 = sorted(r[0] for r in ds.con.execute("SELECT event_id FROM events").fetchall())
    assert ids1 == ids2 and len(set(ids1)) == 3


def test_missing_required_column_names_every_column_and_the_closest(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text("time,userid,event_type\n2025-01-01,u1,purchase\n")
    with pytest.raises(DataError) as e:
        brandlens.validate(p)
    msg = e.value.message
    assert msg.startswith(f"{p}: missing required column(s) ts, user_id")
    assert "closest in header: ts -> time; user_id -> userid;" in msg
    assert msg.endswith("header has: time, userid, event_type")


def test_empty_and_unreadable_inputs(tmp_path):
    empty = tmp_path / "events.csv"
    empty.write_text("ts,user_id,event_type\n")
    with pytest.raises(DataError, match="no rows"):
        brandlens.validate(empty)
    with pytest.raises(DataError, match="no such file"):
        brandlens.validate(tmp_path / "nope")
    broken = tmp_path / "b" / "events.parquet"
    broken.parent.mkdir()
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read"):
        brandlens.validate(broken.parent)
    (tmp_path / "c").mkdir()
    with pytest.raises(DataError, match="no events file"):
        brandlens.validate(tmp_path / "c")


def test_all_rows_bad_means_no_as_of(events_dir):
    with pytest.raises(DataError, match="no valid events"):
        brandlens.compute(events_dir(CASES["ts_unparseable"]))


def test_dimension_tables_are_validated_too(events_dir):
    users = [
        {"user_id": "u1", "target_group": "a", "register_date": "2024-01-01"},
        {"user_id": "u1", "target_group": "b", "register_date": "2024-01-01"},
        {"user_id": "u2", "target_group": "b", "register_date": "not a date"},
    ]
    report = brandlens.validate(events_dir([GOOD], users=users))
    users_report = next(t for t in report.tables if t.table == "users")
    assert (users_report.rows_read, users_report.rows_accepted) == (3, 1)
    assert sorted((r.table, r.reason) for r in report.reasons) == [
        ("users", "bad_type"),
        ("users", "duplicate_key"),
    ]


def test_jsonl_gz_parquet_and_duckdb_inputs_agree(tmp_path, events_dir):
    import duckdb

    rows = [GOOD, ev("2025-06-02 04:00:00", "u2", "purchase", amount="9.90")]
    csv_dir = events_dir(rows)
    jl = tmp_path / "events.jsonl.gz"
    with gzip.open(jl, "wt") as f:
        for r in rows:
            f.write(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n")
    con = duckdb.connect()
    pq = tmp_path / "pq" / "events.parquet"
    pq.parent.mkdir()
    con.execute(
        "COPY (SELECT * FROM read_csv($p, all_varchar=true)) TO $o (FORMAT PARQUET)",
        {"p": str(csv_dir / "events.csv"), "o": str(pq)},
    )
    db = tmp_path / "data.duckdb"
    dbc = duckdb.connect(str(db))
    dbc.execute("CREATE TABLE events AS SELECT * FROM read_parquet($p)", {"p": str(pq)})
    dbc.close()
    counts = []
    for source in (csv_dir, jl, pq.parent, db):
        rep = brandlens.validate(source).events
        counts.append((rep.rows_read, rep.rows_accepted))
    assert counts == [(2, 2)] * 4


def test_timestamps_with_offsets_and_naive_utc(events_dir):
    from brandlens.engine.runs import Dataset

    rows = [
        ev("2025-06-30 16:30:00", "u1", "ad_impression"),  # naive = UTC -> 07-01 00:30 local
        ev("2025-06-30T23:30:00+08:00", "u2", "ad_impression"),  # explicit offset -> 06-30
    ]
    with Dataset(events_dir(rows)) as ds:
        got = ds.con.execute(
            "SELECT user_id, local_date::VARCHAR FROM events ORDER BY 1"
        ).fetchall()
    assert got == [("u1", "2025-07-01"), ("u2", "2025-06-30")]


def test_bad_timezone_and_mapping_are_usage_errors(events_dir, tmp_path):
    with pytest.raises(UsageError, match="unknown time zone"):
        brandlens.validate(events_dir([GOOD]), timezone="Mars/Olympus")
    bad = tmp_path / "m.yaml"
    bad.write_text("columns: {ts: 3}\nfoo: 1\n")
    with pytest.raises(UsageError, match=r"m\.yaml: mapping field"):
        brandlens.validate(events_dir([GOOD]), mapping=bad)
    with pytest.raises(UsageError, match="unknown preset"):
        brandlens.validate(events_dir([GOOD]), preset="nope")


def test_malformed_csv_lines_are_quarantined_not_fatal(tmp_path):
    lines = ["ts,user_id,event_type,brand"]
    lines += [f"2025-06-01 04:00:00,u{i},ad_click,B" for i in range(60)]
    lines.insert(31, "2025-06-01 04:00:00,ux,ad_click,B,extra,fields")  # file line 32
    lines.insert(41, "# not a comment,u#,ad_click,B")  # a data row that looks like a comment
    d = tmp_path / "d"
    d.mkdir()
    (d / "events.csv").write_text("\n".join(lines) + "\n")
    report = brandlens.validate(d)
    ev_report = report.events
    assert ev_report.rows_read == 62 == ev_report.rows_accepted + ev_report.rows_quarantined
    got = {r.reason: r for r in report.reasons}
    assert got["malformed_row"].count == 1 and got["malformed_row"].examples[0]["row"] == 32
    assert got["ts_unparseable"].examples[0]["ts"] == "# not a comment"  # kept, not dropped


def test_tsv_with_a_mapping_delimiter(tmp_path):
    p = tmp_path / "events.tsv"
    p.write_text("ts;user_id;event_type\n2025-06-01 04:00:00;u1;ad_click\n")
    m = tmp_path / "m.yaml"
    m.write_text("read: {delimiter: ';'}\n")
    assert brandlens.validate(p, mapping=m).events.rows_accepted == 1


def test_numeric_event_codes_in_a_mapping_are_their_digits(tmp_path):
    # exports that code behaviours as 1, 2, ...: YAML reads {1: product_view} with an
    # integer key, which used to be a pydantic error naming 'event_types.1.[key]'
    p = tmp_path / "events.csv"
    p.write_text("ts,user_id,event_type,brand,amount\n2025-06-01,u1,1,B,\n2025-06-01,u2,2,B,5\n")
    m = tmp_path / "m.yaml"
    m.write_text("event_types: {1: product_view, 2: purchase}\n")
    from brandlens.engine.runs import Dataset

    with Dataset(p, mapping=m, cache=False) as ds:
        got = ds.con.execute("SELECT user_id, event_type FROM events").fetchall()
    assert got == [("u1", "product_view"), ("u2", "purchase")]
    m.write_text("event_types: {1: product_view, '1': purchase}\n")  # which one is meant?
    with pytest.raises(UsageError, match="the value 1 is given twice, as 1 and as '1'"):
        brandlens.validate(p, mapping=m)


def test_a_second_target_for_one_period_is_a_duplicate_key(tmp_path):
    # Two goals for one brand, indicator and period: which one counts was a tie-break
    # (the smaller in compare, the larger in DREAM); now the first row is the target.
    from brandlens.engine.runs import Dataset

    write_csv(tmp_path / "events.csv", [GOOD])
    (tmp_path / "targets.csv").write_text(
        "brand,indicator,period_start,period_end,target_value\n"
        "B,fast.fertility,2025-04-01,2025-06-30,3\n"
        "B,fast.fertility,2025-04-01,2025-06-30,1\n"  # the same period again: quarantined
        "B,fast.fertility,2025-05-01,2025-06-30,2\n"  # another period: a target of its own
        "B,fast.fertility,2025-06-30,2025-05-01,9\n"  # out of order: not a valid first row
        "B,fast.fertility,2025-06-30,2025-05-01,8\n"
    )
    with Dataset(tmp_path, cache=False) as ds:
        kept = ds.con.execute("SELECT target_value FROM targets").fetchall()
        reasons = [(r.table, r.reason, r.count) for r in ds.report.reasons]
    assert kept == [(3.0,), (2.0,)]
    assert reasons == [("targets", "period_out_of_order", 2), ("targets", "duplicate_key", 1)]


def test_a_text_date_reads_as_a_text_time_does(tmp_path):
    # DuckDB's cast took "2025-06-01<TAB>" and "2025-06-01<LF>" as dates and refused
    # "2025-06-01<NBSP>"; a date now follows the ts rule: spaces around it trimmed (no-break
    # and ideographic too), a tab or line break anywhere no date (bad_type)
    from brandlens.engine.runs import Dataset

    write_csv(tmp_path / "events.csv", [GOOD])
    days = ["2025-06-01", " 2025-06-02\u00a0", "\u30002025-06-03 ", "2025-06-04\t", "2025\n-06-05"]
    lines = "".join(f'B,2025-0{i + 1}-01,live,"{d}",1\n' for i, d in enumerate(days))
    (tmp_path / "spend.csv").write_text("brand,channel_note,channel,date,cost\n" + lines)
    with Dataset(tmp_path, cache=False) as ds:
        kept = [str(d) for (d,) in ds.con.execute("SELECT date FROM spend").fetchall()]
        reasons = [(r.table, r.reason, r.count) for r in ds.report.reasons]
    assert kept == ["2025-06-01", "2025-06-02", "2025-06-03"]
    assert reasons == [("spend", "bad_type", 2)]


def test_spend_rows_repeated_exactly_are_summed_and_counted(tmp_path):
    # Spend has no key (two campaigns can cost the same on one day and channel), so
    # repeats are summed; a day exported twice would double CAC, so they are counted.
    write_csv(tmp_path / "events.csv", [GOOD])
    (tmp_path / "spend.csv").write_text(
        "brand,date,channel,cost\n"
        "B,2025-06-01,live,500\n"
        "B,2025-06-01,live,500\n"  # 1: the row above again
        "B,2025-06-01,,7\n"
        "B,2025-06-01,,7\n"  # 2: again, a missing channel equal to a missing channel
        "B,2025-06-01,,7\n"  # 3
        "B,2025-06-02,live,500\n"  # another day
        "B,2025-06-01,live,501\n"  # another cost
    )
    report = brandlens.validate(tmp_path)
    spend = next(t for t in report.tables if t.table == "spend")
    assert (spend.rows_accepted, spend.identical_rows) == (7, 3)
    result = brandlens.compute(tmp_path, methodologies=["fast"], as_of="2025-06-01")
    assert result.dataset.identical_spend_rows == 3
    assert result.dataset.identical_rows == 0  # the events repeat nothing


def test_time_zones_unknown_to_duckdb_are_usage_errors(events_dir):
    with pytest.raises(UsageError, match="time zone 'posixrules'"):
        brandlens.validate(events_dir([GOOD]), timezone="posixrules")


def test_duplicate_checks_in_slices_find_the_same_rows(events_dir, monkeypatch):
    """Keys grouped in several hash slices (as for a billion rows) give the same quarantine:
    ids kept as numbers and as text, each with ten repeats, and ids made from content."""
    import brandlens.data.validation as validation
    from brandlens.engine.runs import Dataset
    from conftest import ev

    rows = [
        ev(
            "2025-06-01 04:00:00",
            f"u{i % 7}",
            "ad_click",
            event_id=f"e{i % 40}" if i % 2 else f"{i % 40}",
        )
        for i in range(60)
    ]
    rows += [ev("2025-06-02 04:00:00", "same", "ad_click")] * 3  # no id: generated ids 1..3
    whole = Dataset(events_dir(rows), cache=False)
    monkeypatch.setattr(validation, "KEYS_PER_PASS", 7)
    sliced = Dataset(events_dir(rows), cache=False)
    try:
        assert sliced.report == whole.report
        assert sliced.report.reasons[0].reason == "duplicate_event_id"
        assert sliced.report.reasons[0].count == 20
        ids = "SELECT event_id FROM events ORDER BY ALL"
        assert sliced.con.execute(ids).fetchall() == whole.con.execute(ids).fetchall()
    finally:
        whole.close()
        sliced.close()


def test_the_gated_blank_check_equals_the_regular_expression():
    """blank_sql's gate (a byte comparison and two prefixes) never changes the answer of
    regexp_full_match(x, _BLANK)."""
    import duckdb
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from brandlens.data.validation import _BLANK, blank_sql

    con = duckdb.connect()
    chars = st.sampled_from(
        [" ", "\t", "\n", "\r", "\f", "\v", "\x00", "\x1f", "!", "a", "\u3000", "\u00a0", "\u2000"]
    )
    texts = st.one_of(st.none(), st.text(chars, max_size=4), st.text(max_size=4))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(texts, min_size=1, max_size=20))
    def check(values):
        rows = con.execute(
            f"SELECT {blank_sql('x')}, regexp_full_match(x, '{_BLANK}') "
            "FROM (SELECT unnest($v) AS x)",
            {"v": values},
        ).fetchall()
        assert all(gated == plain for gated, plain in rows), (values, rows)

    check()
    # by hand: the edge cases, each decided by the gate or by the expression
    assert con.execute(
        f"SELECT list({blank_sql('x')} ORDER BY i) FROM (SELECT unnest($v) AS x, "
        "generate_subscripts($v, 1) AS i)",
        {"v": ["", " ", "\t\n", " a", "!", "\u3000", "a ", "\u00a0\u3000", "\u3000a", "\v"]},
    ).fetchone()[0] == [True, True, True, False, False, True, False, True, False, True]


# Each adjacent pair of events reasons in REASONS' order, on one row that breaks both:
# the earlier reason wins. Pairs that cannot meet on one row (a purchase is never a
# review, a search never a review) are listed with why, so a new reason cannot slip in
# unpaired. (row, the reason that must win, the reason it also breaks)
D = "2025-06-01 04:00:00"
PRECEDENCE = [
    # user_id empty (required) and an event type nobody registered
    (ev(D, "", "teleport"), "missing_required", "unknown_event_type"),
    # an unregistered type and a ts no parser reads
    (ev("not a time", "u", "teleport"), "unknown_event_type", "ts_unparseable"),
    # an unreadable ts and a quantity that is not a number
    (ev("not a time", "u", "add_to_cart", quantity="two"), "ts_unparseable", "bad_type"),
    # a quantity that is not a number on a purchase without brand
    (
        ev(D, "u", "purchase", brand=None, amount="5", quantity="two"),
        "bad_type",
        "missing_brand",
    ),
    # a purchase without brand and without amount
    (ev(D, "u", "purchase", brand=None), "missing_brand", "missing_amount"),
    # a search without query_type and with a negative amount
    (ev(D, "u", "search", amount="-1"), "missing_query_type", "negative_amount"),
    # a review rated 9 with a negative amount
    (ev(D, "u", "review", rating="9", amount="-1"), "negative_amount", "rating_out_of_range"),
    # a review rated 9 with quantity 0
    (
        ev(D, "u", "review", rating="9", quantity="0"),
        "rating_out_of_range",
        "quantity_out_of_range",
    ),
    # quantity 0 and a query_type outside the list
    (
        ev(D, "u", "search", query_type="weird", quantity="0"),
        "quantity_out_of_range",
        "bad_query_type",
    ),
]
NEVER_ON_ONE_ROW = {
    ("repeated_header", "excluded_by_mapping"): "covered with a mapping in test_robust_input",
    ("excluded_by_mapping", "missing_required"): "covered with a mapping in test_robust_input",
    ("missing_amount", "missing_rating"): "a purchase or refund is never a review",
    ("missing_rating", "missing_query_type"): "a review is never a search",
    ("bad_query_type", "cost_out_of_range"): "events and spend are different tables",
}


@pytest.mark.parametrize(("row", "first", "second"), PRECEDENCE, ids=[p[1] for p in PRECEDENCE])
def test_the_earlier_of_two_adjacent_reasons_wins(events_dir, tmp_path, row, first, second):
    out = tmp_path / "q.csv"
    brandlens.validate(events_dir([GOOD, row]), quarantine_out=out)
    got = [line.split(",")[2] for line in out.read_text().splitlines()[1:]]
    assert got == [first], (first, second)
    # the pair really is adjacent in the documented order
    assert list(REASONS).index(second) == list(REASONS).index(first) + 1


def test_every_adjacent_events_reason_pair_is_covered():
    from itertools import pairwise

    events_reasons = [
        r for r in REASONS if r not in ("cost_out_of_range", "list_price_out_of_range")
    ]
    events_reasons = events_reasons[: events_reasons.index("bad_query_type") + 1]
    pairs = set(pairwise(events_reasons))
    covered = {(first, second) for _, first, second in PRECEDENCE} | set(NEVER_ON_ONE_ROW)
    assert pairs <= covered, sorted(pairs - covered)


@pytest.mark.parametrize(
    ("ids", "unique"),
    [
        ([1, 2, 3, 4, 5, 6, 7], True),  # slices [1,3] [4,6] [7,7]: 3 + 3 + 1 bits
        ([1, 2, 3, 4, 5, 6, 1], False),  # the repeat and its first are in one slice
        ([7, 2, 9, 4, 5, 8, 3], True),  # slices [2,4] [5,7] [8,9]
        ([9, 9], False),  # one slice, one bit
        ([5, None, 6], True),  # the null row is not a key
        ([1, 7], True),  # the middle slice [4,6] is empty
        ([-4, -1, 0, 1, -4], False),  # negative ids, slices across 0
        ([2**63 - 1, 2**63 - 4, 2**63 - 2], True),  # the top of BIGINT
        ([-(2**63), -(2**63) + 2, -(2**63)], False),  # the bottom of BIGINT
    ],
)
def test_integer_ids_wider_than_one_bitstring_are_checked_in_slices(monkeypatch, ids, unique):
    """DuckDB's bitstring_agg holds at most a billion values; a generated market of a
    billion events has ids 1..1,005,725,127 and the check failed ("range too large").
    A wider range is cut into slices, each its own filtered bitmap: with slices of 3
    values the bitmap alone says whether an id repeats."""
    import duckdb

    from brandlens.data import validation

    monkeypatch.setattr(validation, "BITSTRING_MAX_BITS", 3)
    con = duckdb.connect()
    values = ", ".join(f"(CAST({'NULL' if i is None else i} AS BIGINT), NULL)" for i in ids)
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {values}) v(event_id, _reason)")
    assert validation._integer_keys_unique(con, "t", ["event_id"]) is unique


def test_unsigned_128_bit_ids_go_to_the_hash_check(tmp_path):
    """DuckDB has no bitstring_agg for UHUGEINT: a DuckDB file with such ids used to stop
    validation with a binder error; its repeats are now found by the hash aggregate."""
    import duckdb

    from brandlens.engine.runs import Dataset

    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as con:
        con.execute(
            "CREATE TABLE events AS SELECT CAST(i % 40 AS UHUGEINT) AS event_id, "
            "TIMESTAMP '2025-06-01 04:00:00' + i * INTERVAL 1 HOUR AS ts, 'u' || i AS user_id, "
            "'ad_click' AS event_type, 'B' AS brand FROM range(1, 50) r(i)"
        )
    with Dataset(src, cache=False) as ds:  # ids 1..39, 0, then 1..9 again
        assert ds.report.events.rows_accepted == 40
        assert ds.report.events.rows_quarantined == 9


def test_one_bitstring_holds_the_slice_width():
    """The slice width is the widest range DuckDB's bitstring_agg accepts, and no wider."""
    import duckdb

    from brandlens.data.validation import BITSTRING_MAX_BITS

    sql = "SELECT bit_count(bitstring_agg(x, 0, $hi)) FROM (VALUES (0)) t(x)"
    con = duckdb.connect()  # not the shared default connection, which a result would hold
    assert con.execute(sql, {"hi": BITSTRING_MAX_BITS - 1}).fetchall() == [(1,)]
    with pytest.raises(duckdb.OutOfRangeException):
        con.execute(sql, {"hi": BITSTRING_MAX_BITS}).fetchall()


@pytest.mark.parametrize(
    ("ids", "expected_rows"),
    [
        ([3, 1, 2, 5, 4], []),  # dense and unique: the bitmap proves it, no hash aggregate
        ([3, 1, 2, 1, 4], [4]),  # dense with a repeat: the second 1 (file row 4)
        ([7, 10**12, 2, 10**12, 10**12], [4, 5]),  # sparse: the hash aggregate finds them
        ([None, 5, 5, 6, 6], [3, 5]),  # row 1 has no id (missing_required only if required)
    ],
    ids=["dense-unique", "dense-repeat", "sparse-repeats", "null-and-repeats"],
)
def test_integer_ids_repeats_found_with_or_without_the_bitmap(tmp_path, ids, expected_rows):
    """Integer event ids (a Parquet BIGINT column) are checked with a bitmap over their
    range first; a repeat there, or a range too sparse for one, goes to the hash
    aggregate. Either way exactly the later repeats are quarantined."""
    import duckdb

    from brandlens.engine.runs import Dataset

    rows = ", ".join(
        f"({'NULL' if i is None else i}, TIMESTAMP '2025-06-01 04:00:00' + INTERVAL {k} HOUR, "
        f"'u{k}', 'ad_click', 'B')"
        for k, i in enumerate(ids)
    )
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES {rows}) t(event_id, ts, user_id, event_type, brand)) "
        f"TO '{tmp_path / 'events.parquet'}' (FORMAT parquet)"
    )
    with Dataset(tmp_path, cache=False) as ds:
        quarantined = ds.con.execute(
            "SELECT row FROM brandlens_data._quarantine WHERE reason = 'duplicate_event_id' "
            "ORDER BY row"
        ).fetchall()
        assert [r[0] for r in quarantined] == expected_rows
        assert ds.report.events.rows_accepted == len(ids) - len(expected_rows)


# A CSV id is text. The store keeps one that is the plain decimal text of a BIGINT as
# that number, and every other id as its text; the view must give back the file's text.
TEXT_IDS = [
    ("7", "number"),  # file row 1
    ("007", "text"),  # row 2: leading zeros are another id than 7
    ("+7", "text"),  # row 3: a sign 7 never prints with
    (" 7", "text"),  # row 4: a space is part of the id
    ("7.0", "text"),  # row 5: a decimal
    ("-0", "text"),  # row 6: prints as 0
    ("0", "number"),  # row 7
    ("-12", "number"),  # row 8
    ("9223372036854775807", "number"),  # row 9: the largest BIGINT
    ("9223372036854775808", "text"),  # row 10: one past it
    ("-9223372036854775808", "number"),  # row 11: the smallest BIGINT
    ("1e3", "text"),  # row 12: DuckDB would read it as 1000
    ("1_000", "text"),  # row 13: and this too
    ("ev-42", "text"),  # row 14: not a number at all
    ("", "generated"),  # row 15: no id: made from the row's content
    ("7", "number"),  # row 16: repeats row 1: quarantined
    ("007", "text"),  # row 17: repeats row 2: quarantined
    ("42", "number"),  # row 18: "ev-42" and 42 are different ids
]


def test_text_ids_are_stored_as_numbers_only_when_they_print_back_the_same(events_dir):
    from brandlens.engine.runs import Dataset

    rows = [
        ev(f"2025-06-01 {k:02d}:00:00", f"u{k}", "ad_click", event_id=i or None)
        for k, (i, _) in enumerate(TEXT_IDS)
    ]
    with Dataset(events_dir(rows), cache=False) as ds:
        stored = ds.con.execute(
            "SELECT rowid, event_id, _id_text, _digest IS NOT NULL "
            "FROM brandlens_data.events ORDER BY rowid"
        ).fetchall()
        kinds = [
            "number" if n is not None else "text" if t is not None else "generated" if g else "?"
            for _, n, t, g in stored
        ]
        kept = [k for k in range(len(TEXT_IDS)) if k not in (15, 16)]
        assert kinds == [TEXT_IDS[k][1] for k in kept]
        view = [r[0] for r in ds.con.execute("SELECT event_id FROM events").fetchall()]
        assert view[:14] + view[15:] == [TEXT_IDS[k][0] for k in kept if k != 14]
        assert view[14].startswith("h")  # the generated id of the row without one
        quarantined = ds.con.execute(
            "SELECT row, event_id FROM brandlens_data._quarantine ORDER BY row"
        ).fetchall()
        assert quarantined == [(16, "7"), (17, "007")]


@pytest.mark.parametrize(
    ("ids", "expected_rows"),
    [
        (["1", "2", "01", "01"], [4]),  # numbers unique, a text repeats
        (["1", "2", "1", "01"], [3]),  # a number repeats, texts unique
        (["3", "03", "3", "x", "x", "4", "03", "5", "3", " 3"], [3, 5, 7, 9]),  # both
        (["a3", "a03", "a3", "a 3"], [3]),  # text only: no number to check by bitmap
    ],
    ids=["text-repeats", "number-repeats", "both", "text-only"],
)
def test_split_ids_find_the_repeats_of_their_text(events_dir, ids, expected_rows):
    """Repeats among ids kept as numbers, as text, or both, are the repeats of the
    file's text (by hand: the later rows of equal strings), and no others."""
    from brandlens.engine.runs import Dataset

    rows = [ev(f"2025-06-01 {k:02d}:00:00", "u", "ad_click", event_id=i) for k, i in enumerate(ids)]
    with Dataset(events_dir(rows), cache=False) as ds:
        got = ds.con.execute(
            "SELECT row FROM brandlens_data._quarantine WHERE reason = 'duplicate_event_id' "
            "ORDER BY row"
        ).fetchall()
        assert [r[0] for r in got] == expected_rows
        ids_left = [r[0] for r in ds.con.execute("SELECT event_id FROM events").fetchall()]
        assert ids_left == [i for k, i in enumerate(ids, start=1) if k not in expected_rows]


def test_a_column_said_never_bad_always_has_a_stored_value():
    """never_bad lets the reason CASE drop a column's bad-type check; the check could
    never hold: for every canonical column and source type it accepts, no present source
    value (extremes, blanks, NULL) types to NULL. A type wrongly accepted (a BIGINT into
    an INTEGER column, text into an integer) shows a value that does."""
    import duckdb
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from brandlens.data.schema import TABLES, columns_of
    from brandlens.data.validation import _present, _typed, binds_for, never_bad

    ranges = {
        "TINYINT": (-(2**7), 2**7 - 1),
        "SMALLINT": (-(2**15), 2**15 - 1),
        "INTEGER": (-(2**31), 2**31 - 1),
        "BIGINT": (-(2**63), 2**63 - 1),
        "HUGEINT": (-(2**127), 2**127 - 1),
        "UTINYINT": (0, 2**8 - 1),
        "USMALLINT": (0, 2**16 - 1),
        "UINTEGER": (0, 2**32 - 1),
        "UBIGINT": (0, 2**64 - 1),
        "UHUGEINT": (0, 2**128 - 1),
    }
    text = st.text(st.sampled_from([" ", "\t", "\n", "a", "7", "-", "\u3000"]), max_size=3)
    values = {
        t: st.one_of(st.sampled_from([lo, hi, 0]), st.integers(lo, hi))
        for t, (lo, hi) in ranges.items()
    }
    values["VARCHAR"] = st.one_of(text, st.text(max_size=5))
    values["JSON"] = st.sampled_from(['{"a": 1}', "[1]", '"x"', '" "', "1", "null"])
    con = duckdb.connect()
    specs = [c for t in TABLES.values() for c in columns_of(t)]
    pairs = [(c, t) for c in specs for t in values if never_bad(c, t)]
    assert {c.sql_type for c, _ in pairs} == {"VARCHAR", "INTEGER"}

    def failing(c, src_type, batch):
        sql = (
            f"SELECT s FROM (SELECT CAST(unnest(CAST($v AS VARCHAR[])) AS {src_type}) AS s) "
            f"WHERE {_present('s', src_type)} AND ({_typed(c, 's', src_type)}) IS NULL"
        )
        binds = {"v": [None if v is None else str(v) for v in batch]}
        binds.update({k: v for k, v in binds_for([c]).items() if f"${k}" in sql})
        return con.execute(sql, binds).fetchall()

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def check(data):
        c, src_type = data.draw(st.sampled_from(pairs))
        batch = data.draw(st.lists(st.one_of(st.none(), values[src_type]), max_size=20))
        assert failing(c, src_type, [*batch, *ranges.get(src_type, ())]) == [], (c.name, batch)

    check()
    # the check can fail: the pairs never_bad refuses have values that type to NULL
    quantity = next(c for c in specs if c.sql_type == "INTEGER")
    assert not never_bad(quantity, "BIGINT") and failing(quantity, "BIGINT", [2**40])
    assert not never_bad(quantity, "VARCHAR") and failing(quantity, "VARCHAR", ["two"])


def _loaded(path, mapping=None):
    """What validation made of a source: every reason with its example rows, and the
    accepted events (every canonical column, as the view shows them)."""
    from brandlens.engine.runs import Dataset

    with Dataset(path, mapping=mapping, cache=False) as ds:
        reasons = sorted(
            (r.reason, [e["row"] for e in r.examples], r.count) for r in ds.report.reasons
        )
        rows = ds.con.execute("SELECT * FROM events ORDER BY ALL").fetchall()
    return reasons, rows


def test_leaving_out_the_checks_that_cannot_fail_changes_nothing(tmp_path, monkeypatch):
    """The same rows accepted and quarantined, with the same reasons, with never_bad and
    with every bad-type check kept: typed Parquet columns of every integer width,
    signed and unsigned, text with control bytes and blanks, and derives of typed
    columns that overflow or fail."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from brandlens.data import validation

    rng = random.Random(7)
    n = 600

    def pick(values):
        return [rng.choice([*values, None]) for _ in range(n)]

    texts = ["a", " ", "\t", "\x0b", "\x1f", "\x01x", " a", "\x85", "\xa0", "\u3000", "", "!"]
    kinds = ["product_view", "purchase", "search", "review", "add_to_cart", "bogus", " "]
    common = {
        "ts": pa.array(pick(["2025-01-01 04:00:00", "2025-02-03 05:06:07", "x"]), pa.string()),
        "event_type": pa.array(pick(kinds), pa.string()),
        "amount": pa.array(pick(["1.5", "x", "-2", "3.333"]), pa.string()),
    }
    tables = {
        "text": {
            "user_id": pa.array(pick([*texts, "u1", "u2"]), pa.string()),
            "brand": pa.array(pick([*texts, "B"]), pa.string()),
            "query_type": pa.array(pick([*texts, "brand", "category"]), pa.string()),
            "category": pa.array(pick(texts), pa.large_string()),
            "quantity": pa.array(pick([0, 1, 5, -3, 127]), pa.int8()),
            "rating": pa.array(pick([0, 1, 5, 255]), pa.uint8()),
        },
        "integers": {
            "user_id": pa.array(pick([0, 255, 7]), pa.uint8()),
            "event_id": pa.array(pick([0, 2**64 - 1, 5]), pa.uint64()),
            "brand": pa.array(pick([-(2**63), 2**63 - 1]), pa.int64()),
            "order_id": pa.array(pick([0, 2**32 - 1]), pa.uint32()),
            "quantity": pa.array(pick([0, 65535, 1]), pa.uint16()),
            "rating": pa.array(pick([-32768, 32767, 3]), pa.int16()),
            "product_id": pa.array(pick([1, 2]), pa.int32()),
        },
        "wide": {
            "user_id": pa.array(pick(["u"]), pa.string()),
            "quantity": pa.array(pick([-(2**31), 2**31 - 1, 2]), pa.int32()),
            "rating": pa.array(pick([1, 3, 6, 2**40]), pa.int64()),
        },
    }
    cases = []
    for name, cols in tables.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({**common, **cols}), path)
        cases.append((path, None))
    derived = tmp_path / "derived.parquet"
    pq.write_table(
        pa.table(
            {
                "at": pa.array(pick(["2025-01-01 04:00:00"]), pa.string()),
                "who": pa.array(pick([1, 2**40, -5]), pa.int64()),
                "what": pa.array(pick(["view", "add"]), pa.string()),
                "n": pa.array(pick([1, 2**40, 0]), pa.int64()),
                "s": pa.array(pick(["3", "x", " ", ""]), pa.string()),
            }
        ),
        derived,
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ts: at, event_type: what, user_id: who}\n"
        "derive:\n"
        '  quantity: "CAST(n AS INTEGER)"\n'
        '  rating: "CAST(s AS SMALLINT)"\n'
        '  brand: "CAST(CAST(s AS INTEGER) AS VARCHAR)"\n'
        "event_types: {add: add_to_cart, view: product_view}\n"
    )
    cases.append((derived, mapping))
    pruned = [_loaded(path, m) for path, m in cases]
    monkeypatch.setattr(validation, "never_bad", lambda c, src_type: False)
    kept = [_loaded(path, m) for path, m in cases]
    for (path, _), a, b in zip(cases, pruned, kept, strict=True):
        assert a == b, path.name
    assert any(r[0] == "bad_type" for r in pruned[3][0])  # the failed derives
    assert all(rows for _, rows in pruned)  # each source has accepted rows, too


def test_a_typed_parquet_file_is_checked_without_its_unfailing_columns(tmp_path):
    """The speed-up itself: a typed Parquet file's text and small-integer columns get no
    bad-type check; its timestamp and decimal columns keep theirs."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from brandlens.data.sources import open_source
    from brandlens.data.validation import checked_rows_sql, source_types

    path = tmp_path / "events.parquet"
    table = {
        "ts": pa.array(["2025-01-01 04:00:00"]),
        "user_id": pa.array(["u"]),
        "event_type": pa.array(["purchase"]),
        "brand": pa.array(["B"]),
        "quantity": pa.array([1], pa.int16()),
        "amount": pa.array([1.5], pa.float64()),
    }
    pq.write_table(pa.table(table), path)
    con = duckdb.connect()
    ts = open_source(con, path, None).tables["events"]
    sql = checked_rows_sql(ts, source_types(con, ts), ts.select_sql)
    reason = sql[sql.index("CASE WHEN _excluded") :]
    columns = ("user_id", "event_type", "brand", "quantity", "ts", "amount")
    checked = {
        c
        for c in columns
        if re.search(f"AND \"{c}\" IS NULL THEN '(bad_type|ts_unparseable)'", reason)
    }
    assert checked == {"ts", "amount"}


def test_targets_that_are_no_target_are_quarantined(events_dir):
    """A target of NaN or infinity, or a period that ends before it starts, was accepted
    (0 quarantined) and reached target achievement. Row 1 is the one good target."""
    import brandlens

    t = {"brand": "B", "indicator": "fast.fertility"}
    data = events_dir(
        [ev("2025-06-01 04:00:00", "u1", "purchase", amount="5")],
        targets=[
            {**t, "period_start": "2025-04-01", "period_end": "2025-06-30", "target_value": "10"},
            {**t, "period_start": "2025-01-01", "period_end": "2025-03-31", "target_value": "NaN"},
            {**t, "period_start": "2024-10-01", "period_end": "2024-12-31", "target_value": "-inf"},
            {**t, "period_start": "2025-06-30", "period_end": "2025-04-01", "target_value": "5"},
        ],
    )
    report = brandlens.validate(data)
    targets = next(x for x in report.tables if x.table == "targets")
    assert (targets.rows_read, targets.rows_accepted) == (4, 1)
    rows = {r.reason: [e["row"] for e in r.examples] for r in report.reasons}
    assert rows == {"bad_type": [2, 3], "period_out_of_order": [4]}


def test_the_word_epoch_is_no_time(events_dir):
    """DuckDB's casts read the word 'epoch' (any case, between spaces) as 1970-01-01, so
    an export's placeholder became an event in 1970; Spark reads it as no time. Now
    ts_unparseable in ts, bad_type in a date column."""
    import brandlens

    data = events_dir(
        [
            ev("epoch", "u1", "ad_click"),
            ev(" EPOCH ", "u2", "ad_click"),
            ev("2025-06-01 04:00:00", "u3", "ad_click"),
        ],
        users=[
            {"user_id": "u1", "register_date": "Epoch"},
            {"user_id": "u2", "register_date": "infinity"},  # a date has no year range
            {"user_id": "u3", "register_date": "-infinity"},
        ],
    )
    report = brandlens.validate(data)
    assert report.events.rows_accepted == 1
    assert {(r.table, r.reason, r.count) for r in report.reasons} == {
        ("events", "ts_unparseable", 2),
        ("users", "bad_type", 3),
    }
