"""A quarantined row names the column its reason is about.

The reason code says what went wrong (``bad_type``); the column says where, so that
"2,341 rows of bad_type" becomes "2,340 bad amounts and one bad quantity". The column
is the one whose check gave the reason: the first failing check in the documented
order, and within a reason the schema's column order.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brandlens.engine.runs import Dataset

HEADER = ["event_id", "ts", "user_id", "event_type", "brand", "quantity", "amount", "rating"]
HEADER += ["query_type"]
GOOD = {
    "event_id": "",
    "ts": "2025-06-01 04:00:00",
    "user_id": "u",
    "event_type": "purchase",
    "brand": "B",
    "quantity": "1",
    "amount": "10.50",
    "rating": "",
    "query_type": "",
}


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, HEADER)
        w.writeheader()
        for i, row in enumerate(rows, start=1):
            w.writerow({**GOOD, "event_id": str(i), **row})
    return path


def quarantined(path: Path, tmp_path: Path) -> dict[int, tuple[str, str | None]]:
    """{source row: (reason, column)} from the quarantine file, checked against the
    report's counts per column and its examples."""
    out = tmp_path / "q.csv"
    with Dataset(path, cache=False) as ds:
        ds.write_quarantine(out)
        report = ds.report
    with out.open(newline="") as f:
        rows = {int(r["row"]): (r["reason"], r["column"] or None) for r in csv.DictReader(f)}
    for r in report.reasons:
        named: dict[str, int] = {}
        for reason, column in rows.values():
            if reason == r.reason and column is not None:
                named[column] = named.get(column, 0) + 1
        assert r.columns == named, r.reason
        assert sum(r.columns.values()) in (0, r.count)
        for e in r.examples:
            assert rows[e["row"]] == (r.reason, e.get("column"))
    return rows


def test_each_reason_names_its_column(tmp_path):
    rows = [
        {},  # row 1: a good purchase, accepted
        {"user_id": ""},  # 2: missing_required on user_id
        {"ts": "", "user_id": ""},  # 3: two required columns empty: ts comes first
        {"event_type": "teleport"},  # 4: unknown_event_type, on event_type
        {"ts": "yesterday"},  # 5: ts_unparseable, on ts
        {"amount": "abc"},  # 6: bad_type on amount
        {"quantity": "x2"},  # 7: bad_type on quantity
        {"quantity": "x2", "amount": "abc"},  # 8: both bad: quantity is first in the schema
        {"brand": ""},  # 9: a purchase without a brand: missing_brand
        {"amount": ""},  # 10: a purchase without an amount: missing_amount
        {"amount": "-1"},  # 11: negative_amount
        {"quantity": "0"},  # 12: quantity_out_of_range
        {"event_type": "review", "rating": "7"},  # 13: rating_out_of_range
        {"event_type": "search", "query_type": "weather"},  # 14: bad_query_type
        {"event_type": "search"},  # 15: a search without its query type
        {"amount": "abc", "user_id": ""},  # 16: missing_required comes before bad_type
    ]
    path = write(tmp_path / "events.csv", rows)
    with path.open() as f:  # row 17 repeats row 1's id: duplicate_event_id, on event_id
        lines = f.read().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    assert quarantined(path, tmp_path) == {
        2: ("missing_required", "user_id"),
        3: ("missing_required", "ts"),
        4: ("unknown_event_type", "event_type"),
        5: ("ts_unparseable", "ts"),
        6: ("bad_type", "amount"),
        7: ("bad_type", "quantity"),
        8: ("bad_type", "quantity"),
        9: ("missing_brand", "brand"),
        10: ("missing_amount", "amount"),
        11: ("negative_amount", "amount"),
        12: ("quantity_out_of_range", "quantity"),
        13: ("rating_out_of_range", "rating"),
        14: ("bad_query_type", "query_type"),
        15: ("missing_query_type", "query_type"),
        16: ("missing_required", "user_id"),
        17: ("duplicate_event_id", "event_id"),
    }


def test_counts_per_column_most_first_and_the_terminal_shows_them(tmp_path):
    from brandlens.cli.render import Format, render

    rows = [{"amount": "abc"}, {"quantity": "x"}, {"amount": "?"}, {}]
    path = write(tmp_path / "events.csv", rows)
    with Dataset(path, cache=False) as ds:
        (reason,) = ds.report.reasons
        text = render(ds.report, Format.markdown)
    assert (reason.reason, reason.count) == ("bad_type", 3)
    assert list(reason.columns.items()) == [("amount", 2), ("quantity", 1)]
    assert [e["column"] for e in reason.examples] == ["amount", "quantity", "amount"]
    assert "amount 2, quantity 1" in text
    assert "row 1 [amount]: " in text


def test_a_malformed_line_and_an_excluded_type_say_what_they_can(tmp_path):
    # A line that never became a row has no column; a type the mapping drops is about
    # the event type.
    path = tmp_path / "log.csv"
    path.write_text(
        "ts,user_id,event_type,brand\n"
        "2025-06-01 04:00:00,a,view,B\n"
        '2025-06-01 04:00:00,"b,view,B\n'
        "2025-06-01 04:00:00,c,remove,B\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("event_types: {view: product_view, remove: null}\n")
    with Dataset(path, mapping=mapping, cache=False) as ds:
        columns = {r.reason: r.columns for r in ds.report.reasons}
    assert columns == {"excluded_by_mapping": {"event_type": 1}, "malformed_row": {}}


# ---- the property: the column named is the cause --------------------------------------

BAD: dict[str, list[str]] = {
    "ts": ["", "yesterday"],
    "user_id": [""],
    "event_type": ["", "teleport"],
    "brand": [""],
    "quantity": ["x2", "0", "1.5"],
    "amount": ["", "abc", "-1", "1.234"],
    "query_type": ["weather"],
}
"""Values that fail each column of a purchase, each on its own."""

faults = st.dictionaries(
    st.sampled_from(sorted(BAD)), st.integers(min_value=0, max_value=3), min_size=1
).map(lambda d: {c: BAD[c][i % len(BAD[c])] for c, i in d.items()})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(faults, min_size=1, max_size=6))
def test_the_column_named_is_the_cause(tmp_path_factory, rows):
    # Each row is a good purchase with some columns spoiled. Mending any other spoiled
    # column leaves its reason and column as they are; mending the column named changes
    # them (or the row is accepted). Every mended row is a row of the same file.
    mended = [(n, c) for n, row in enumerate(rows) for c in row]
    log = rows + [{k: v for k, v in rows[n].items() if k != c} for n, c in mended]
    tmp = tmp_path_factory.mktemp("cause")
    got = quarantined(write(tmp / "events.csv", log), tmp)
    for at, (n, c) in enumerate(mended, start=len(rows) + 1):
        reason, column = got[n + 1]
        assert column in rows[n]
        if c == column:
            assert got.get(at) != (reason, column)
        else:
            assert got.get(at) == (reason, column)


def test_strict_names_the_columns(tmp_path):
    from brandlens.errors import DataError

    path = write(tmp_path / "events.csv", [{"amount": "abc"}, {"amount": "?"}, {"user_id": ""}])
    with pytest.raises(DataError) as e:
        Dataset(path, cache=False, strict=True)
    message = str(e.value)
    assert "\n" not in message
    assert message.endswith(
        "3 bad row(s) under --strict "
        "(events.missing_required 1 (user_id 1), events.bad_type 2 (amount 2))"
    )


def test_compute_and_compare_say_what_was_quarantined_in_any_format(tmp_path, register_plugin):
    # CSV output is data only: without this line nothing would say rows were left out.
    from typer.testing import CliRunner

    from brandlens.cli.app import app
    from fixture_plugins import ToyPlugin

    register_plugin(ToyPlugin(), "toy-plugin")
    bad = write(tmp_path / "events.csv", [{}, {"amount": "abc"}, {"amount": "?"}, {"user_id": ""}])
    said = (
        "brandlens: 3 of 4 events quarantined: missing_required 1 (user_id 1), "
        "bad_type 2 (amount 2); `brandlens validate` lists them\n"
    )
    for command in ("compute", "compare"):
        r = CliRunner().invoke(app, [command, str(bad), "-m", "toy", "-f", "csv", "--no-cache"])
        assert r.exit_code == 0, r.output
        assert said in r.stderr and "quarantined" not in r.stdout
    clean = write(tmp_path / "clean.csv", [{}, {}])
    r = CliRunner().invoke(app, ["compute", str(clean), "-m", "toy", "-f", "csv", "--no-cache"])
    assert r.exit_code == 0 and "quarantined" not in r.stderr


def test_each_reason_lists_its_most_frequent_values(tmp_path):
    # The values a reason is about, most first, then by column and value: what a mapping
    # or a fix must handle ('购买 ' with its trailing space shows as itself).
    rows = [{"amount": "¥1,299.00"}] * 3 + [{"amount": "-"}, {"quantity": "x"}]
    rows += [{"event_type": "购买 "}] * 2 + [{"event_type": "收藏"}]
    rows += [{"user_id": ""}]  # a missing value has no value to list
    path = write(tmp_path / "events.csv", rows)
    with Dataset(path, cache=False) as ds:
        values = {
            r.reason: [(v.column, v.value, v.rows) for v in r.values] for r in ds.report.reasons
        }
    assert values == {
        "missing_required": [],
        "unknown_event_type": [("event_type", "购买 ", 2), ("event_type", "收藏", 1)],
        "bad_type": [("amount", "¥1,299.00", 3), ("amount", "-", 1), ("quantity", "x", 1)],
    }


def test_at_most_five_values_are_listed(tmp_path):
    path = write(tmp_path / "events.csv", [{"amount": f"x{i % 7}"} for i in range(20)])
    with Dataset(path, cache=False) as ds:
        (reason,) = ds.report.reasons
    # x0..x5 three times each (20 rows over 7 values: x0-x5 3, x6 2): ties by value
    assert [(v.value, v.rows) for v in reason.values] == [
        ("x0", 3), ("x1", 3), ("x2", 3), ("x3", 3), ("x4", 3)
    ]  # fmt: skip
