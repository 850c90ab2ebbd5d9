"""The CLI shell and its rendering at their edges: thresholds, null cells, escaping,
column order, exit codes and streams, each checked on tiny hand-made models whose
expected text was worked out by hand (the comments say how)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from brandlens.cli import app as cli
from brandlens.cli import bench
from brandlens.cli.app import app
from brandlens.cli.bench import BenchReport, judge, summarise
from brandlens.cli.bench import Measured as M
from brandlens.cli.render import Format, format_value, percent, render
from brandlens.engine.result import (
    CacheReport,
    DatasetInfo,
    EntityListing,
    LoadReport,
    MethodologyVerification,
    PropertyResult,
    ReasonCount,
    Result,
    ResultRow,
    TableReport,
    ValidationReport,
    ValueCount,
    VerifyReport,
)
from conftest import ev

INFO = DatasetInfo(source="s", rows_read=5, rows_accepted=4, rows_quarantined=1)


def _row(brand: str, unit: str, value, numerator=None, denominator=None, dim=None, key=None):
    return ResultRow(
        methodology="m",
        indicator="m.x",
        brand=brand,
        dimension=dim,
        key=key,
        value=value,
        numerator=numerator,
        denominator=denominator,
        unit=unit,
    )


def _result(rows: list[ResultRow]) -> Result:
    return Result(
        brandlens_version="0",
        as_of="2025-01-01",
        timezone="UTC",
        dataset=INFO,
        parameters={},
        results=rows,
        errors=[],
    )


def _md_rows(text: str, title: str) -> list[list[str]]:
    """The cells of one markdown section's data rows (escaped pipes kept as ``\\|``)."""
    lines = text.split("\n")
    start = lines.index(f"### {title}") + 4  # title, a blank line, header, separator
    rows = []
    for line in lines[start:]:
        if not line.startswith("| "):
            break
        cells = line[2:-2].replace("\\|", "\0").split(" | ")
        rows.append([c.replace("\0", "\\|") for c in cells])
    return rows


# ---- a result's numbers for reading ------------------------------------------------------


def test_result_markdown_formats_each_unit_and_leaves_nulls_blank():
    rows = [
        # money: two decimals with separators; a count numerator with separators
        _row("A", "currency", 1234.5, 1200, None),
        # a ratio: 12.3% (one decimal above 1%); a fractional numerator below 100 at 6
        # significant digits, one at or above 100 with two decimals
        _row("B", "ratio", 0.123, 0.1234567, 123.456),
        # days and index: one decimal
        _row("C", "days", 12.34),
        _row("D", "index", 87.06),
        # no unit of its own: a fractional value at or above 100 gets two decimals
        _row("E", "score", 123.456),
    ]
    md = render(_result(rows), Format.markdown)
    got = _md_rows(md, "results")
    assert got == [
        ["m", "m.x", "A", "", "", "1,234.50", "1,200", "", "currency"],
        ["m", "m.x", "B", "", "", "12.3%", "0.123457", "123.46", "ratio"],
        ["m", "m.x", "C", "", "", "12.3", "", "", "days"],
        ["m", "m.x", "D", "", "", "87.1", "", "", "index"],
        ["m", "m.x", "E", "", "", "123.46", "", "", "score"],
    ]


def test_markdown_separator_has_one_dash_cell_per_column():
    md = render(_result([_row("A", "users", 1)]), Format.markdown)
    lines = md.split("\n")
    header = lines[lines.index("### results") + 2]
    separator = lines[lines.index("### results") + 3]
    # nine columns: nine "---|" after the leading pipe
    assert header.count(" | ") == 8
    assert separator == "|" + "---|" * 9


def test_markdown_cells_escape_pipes_and_fold_line_breaks_into_spaces():
    md = render(_result([_row("a|b\nc\r\nd", "users", 1, key="k|1")]), Format.markdown)
    line = next(x for x in md.split("\n") if x.startswith("| m | m.x |"))
    # the brand: pipe escaped, LF and CRLF each one space; the key's pipe escaped too
    assert line == "| m | m.x | a\\|b c d |  | k\\|1 | 1 |  |  | users |"


def test_the_table_header_says_accepted_of_read():
    text = render(_result([_row("A", "users", 1)]), Format.table, color=False)
    assert text.splitlines()[0] == "as of 2025-01-01 (UTC) · s: 4 of 5 rows accepted, 1 quarantined"


# ---- csv ---------------------------------------------------------------------------------


def test_result_csv_columns_in_contract_order_with_nulls_empty_and_the_as_of():
    text = render(_result([_row("A", "ratio", 0.5, 1, 2), _row("B", "ratio", None)]), Format.csv)
    lines = text.split("\n")
    assert lines[0] == (
        "methodology,indicator,brand,dimension,key,value,numerator,denominator,unit,as_of"
    )
    # full precision, nothing formatted; a null is an empty field, never "None"
    assert lines[1] == "m,m.x,A,,,0.5,1,2,ratio,2025-01-01"
    assert lines[2] == "m,m.x,B,,,,,,ratio,2025-01-01"


def _listing(rows: list[dict], columns: list[str]) -> EntityListing:
    return EntityListing(
        brandlens_version="0",
        as_of="2025-01-01",
        timezone="UTC",
        dataset=INFO,
        methodology="m",
        table="t",
        title="T",
        key=["id"],
        parameters={},
        brands=["A"],
        columns=columns,
        rows=rows,
    )


def test_a_list_value_is_one_csv_field_joined_by_commas():
    listing = _listing([{"brand": "A", "id": "p1", "tags": ["x", "y z"]}], ["brand", "id", "tags"])
    text = render(listing, Format.csv)
    assert text == 'brand,id,tags\nA,p1,"x,y z"\n'
    assert list(csv.reader(io.StringIO(text)))[1] == ["A", "p1", "x,y z"]


def test_csv_quotes_a_bare_carriage_return_and_doubles_quotes():
    listing = _listing([{"brand": "a\rb", "id": 'say "q"'}], ["brand", "id"])
    text = render(listing, Format.csv)
    # a bare CR would split the record for other readers: quoted; quotes doubled
    assert text == 'brand,id\n"a\rb","say ""q"""\n'
    assert list(csv.reader(io.StringIO(text, newline="")))[1] == ["a\rb", 'say "q"']


def test_listing_floats_at_six_significant_digits_and_a_million_with_separators():
    listing = _listing(
        [{"brand": "A", "id": "p", "v": 0.1234567, "w": 1e6, "z": None}],
        ["brand", "id", "v", "w", "z"],
    )
    md = render(listing, Format.markdown)
    # 0.1234567 -> 0.123457 (6 significant); 1e6 is not below 1e6 -> 1,000,000.00
    assert "| A | p | 0.123457 | 1,000,000.00 |  |" in md.split("\n")


def test_funnel_markdown_keeps_shares_at_full_precision():
    from brandlens.analysis.model import FunnelReport, LadderFunnel, StageBar

    # 1 of 3 users: the share 1/3 as Python writes it, not 0.333333
    stage = StageBar(
        stage="a", title="A", step=None, users=1, share=1 / 3, before=0, gained=1, lost=0
    )
    report = FunnelReport(
        brandlens_version="0",
        as_of="2025-01-01",
        timezone="UTC",
        dataset=INFO,
        brand="B",
        days=7,
        ladders=[LadderFunnel(methodology="m", ladder="l", users=3, before=0, stages=[stage])],
    )
    rows = _md_rows(render(report, Format.markdown), "funnel: B")
    assert rows == [["m", "l", "a", "A", "", "1", "0.3333333333333333", "0", "1", "0"]]


def test_json_keeps_nulls_of_a_result_row():
    doc = json.loads(render(_result([_row("A", "ratio", None)]), Format.json))
    assert doc["results"][0]["value"] is None and doc["results"][0]["dimension"] is None


# ---- numbers for a person ----------------------------------------------------------------


def test_format_value_and_percent_at_their_thresholds():
    # money from 1000 on without cents, below with two decimals
    assert format_value(1000, "currency") == "CNY 1,000"
    assert format_value(999.5, "currency", "EUR") == "EUR 999.50"
    # one decimal from 1% up; below, two significant digits
    assert percent(0.123) == "12.3%"
    assert percent(0.01) == "1.0%"
    assert percent(0.00047) == "0.047%"
    assert percent(1.27) == "127.0%"
    # the thresholds judge the value as shown (they judged it before rounding: 1.00%,
    # CNY 1,000.00), and a half rounds up as a reader does (Python's format gave 12 for
    # an index of 12.5 beside 88 for 87.5, and p12 beside p88)
    assert percent(0.0099996) == "1.0%"
    assert percent(0.000125) == "0.013%"
    # only exactly 100% reads 100.0% (0.99996 showed as 100.0% beside a starred true 100%):
    # digits until it differs, to six, the sixth cut rather than rounded up to 100
    assert [percent(v) for v in (1, 0.99996, 0.9995, 0.99949)] == [
        "100.0%", "99.996%", "99.95%", "99.9%"
    ]  # fmt: skip
    assert [percent(v) for v in (1 - 1e-12, -0.99996, 1.00004)] == [
        "99.999999%", "-99.996%", "100.004%"
    ]  # fmt: skip
    assert format_value(999.996, "currency") == "CNY 1,000"
    assert format_value(999.994, "currency") == "CNY 999.99"
    assert [format_value(v, "index") for v in (12.5, 87.5, 2.5, -0.5)] == ["13", "88", "3", "-1"]
    assert format_value(3.25, "days") == "3.3 d"
    from brandlens.analysis.model import CategoryCell
    from brandlens.cli.render import _context

    cell = CategoryCell(
        brand="A",
        indicator="m.x",
        category="snacks",
        peers=5,
        median=8,
        index=12.5,
        percentile=12.5,
    )
    assert _context(cell) == "13 · p13"
    # the only value of its category: "alone", not an index of 100 read as "at the median"
    lone = CategoryCell(
        brand="A", indicator="m.x", category="tea", peers=1, median=8, index=None, percentile=None
    )
    assert _context(lone, has_value=True) == "alone"
    assert _context(lone, small=True, has_value=True) == "alone†"
    # no value of its own while one other brand has one: no index, nothing to be alone in
    assert _context(lone, has_value=False) == "–"


def test_cache_sizes_in_decimal_units_at_their_thresholds():
    report = CacheReport(
        path="/c", enabled=True, entries=2, bytes=10**6, max_bytes=20 * 10**9, removed=0
    )
    rows = dict((r[0], r[1]) for r in _md_rows(render(report, Format.markdown), "cache"))
    assert rows["bytes"] == "1.0 MB (1,000,000 bytes)"  # exactly 10^6: one MB
    assert rows["max_bytes"] == "20.0 GB (20,000,000,000 bytes)"  # GB = 10^9 bytes
    report = CacheReport(path="/c", enabled=True, entries=0, bytes=999, max_bytes=1000)
    rows = dict((r[0], r[1]) for r in _md_rows(render(report, Format.markdown), "cache"))
    assert (rows["bytes"], rows["max_bytes"]) == ("999 bytes", "1.0 kB (1,000 bytes)")


# ---- validation and verification tables --------------------------------------------------


def test_identical_rows_column_appears_when_any_table_has_some():
    report = ValidationReport(
        source="s",
        timezone="UTC",
        tables=[
            TableReport(
                table="events",
                source="e",
                rows_read=3,
                rows_accepted=3,
                rows_quarantined=0,
                identical_rows=2,
            ),
            TableReport(
                table="users", source="u", rows_read=1, rows_accepted=1, rows_quarantined=0
            ),
        ],
        reasons=[
            ReasonCount(
                table="events",
                reason="unknown_event_type",
                count=3,
                columns={"event_type": 3},
                values=[ValueCount(column="event_type", value="购买 ", rows=3)],
                examples=[],
            )
        ],
    )
    md = render(report, Format.markdown)
    assert _md_rows(md, "tables") == [
        ["events", "e", "3", "3", "0", "2"],
        ["users", "u", "1", "1", "0", "0"],
    ]
    # the value quoted so that its trailing space shows
    assert _md_rows(md, "quarantined")[0][4] == "'购买 ' 3"


def test_a_shared_verify_cell_shows_the_worst_status():
    results = [
        PropertyResult(indicator="m.x", property="monotone a", status="fail"),
        PropertyResult(indicator="m.x", property="monotone b", status="unexercised"),
        PropertyResult(indicator="m.x", property="monotone c", status="pass"),
        PropertyResult(indicator="m.y", property="monotone a", status="pass"),
        PropertyResult(indicator="m.y", property="monotone b", status="unexercised"),
    ]
    report = VerifyReport(
        methodologies=[
            MethodologyVerification(
                methodology="m", plugin="p", examples=1, seed=0, spec_errors=[], results=results
            )
        ]
    )
    from brandlens.cli.render import sections

    grid = sections(report)[0]
    assert grid.rows == [["m.x", "FAIL"], ["m.y", "UNEXERCISED"]]


# ---- bench: rows and verdicts ------------------------------------------------------------


def _bench_report(rows, targets) -> BenchReport:
    return BenchReport(
        brandlens_version="0",
        duckdb_version="0",
        machine="m",
        cores=2,
        memory_gb=1.0,
        data="d",
        events=1000,
        repeat=1,
        bytecode=True,
        rows=rows,
        targets=targets,
    )


def test_bench_markdown_one_run_has_no_range_and_rounds_as_documented():
    # one run of 1.234 s over a floor of 0.5 s: ratio 2.468 -> 2.5; 1000 events / 1.234 s
    # = 810.37 -> 810; the targets: first run / floor 2.468 <= 3 met, shown as 2.47
    row = summarise(bench.FIRST_RUN, [M(1.234, 100.4, 1.0)], 1000, 0.5)
    floor = summarise(bench.FLOOR, [M(0.5, 50.0, 0.5)], 1000, 0.5)
    report = _bench_report([floor, row], judge([floor, row], 1000))
    md = render(report, Format.markdown)
    steps = {r[0]: r for r in _md_rows(md, "bench: 1,000 events (medians)")}
    assert steps[bench.FIRST_RUN][1:8] == ["1.23", "", "1", "1", "810", "100", "2.5"]
    targets = {r[0]: r for r in _md_rows(md, "targets of issue #11 (on the medians)")}
    assert targets["first run / floor"][1:] == ["2.47", "<= 3 (long-term)", "yes"]
    # 1.234 s for 1000 events against 0.6 ms allowed: not met, said "no"
    assert targets["first run (s)"][3] == "no"
    assert targets["FAST first run / pandas"][1:] == [
        "",
        "< 1 (faster than pandas, validation included)",
        "not measured",
    ]


def test_bench_csv_is_the_steps_not_the_machine():
    row = summarise(bench.FIRST_RUN, [M(2.0, 100.0, 3.0)], 1000, None)
    text = render(_bench_report([row], []), Format.csv)
    lines = text.split("\n")
    assert lines[0] == (
        "step,seconds,range,cpu_seconds,runs,events_per_second,peak_rss_mb,ratio_to_floor,note"
    )
    # 2 s median of one run: no range; 1000 events / 2 s = 500; no floor: no ratio
    assert lines[1] == f'"{bench.FIRST_RUN}",2.0,,3.0,1,500,100,,'


def test_a_load_report_shows_its_share_at_three_decimals():
    report = LoadReport(
        source="s",
        timezone="UTC",
        tables=[
            TableReport(
                table="events", source="e", rows_read=1, rows_accepted=1, rows_quarantined=0
            )
        ],
        reasons=[],
        dataset="d.duckdb",
        clustered=True,
        same_user_share=0.12345,
        months=4,
    )
    rows = dict((r[0], r[1]) for r in _md_rows(render(report, Format.markdown), "dataset file"))
    assert rows == {
        "dataset": "d.duckdb",
        "events": "by month, then user",
        "months": "4",
        "same_user_share": "0.123",  # 0.12345 rounded to 3 decimals
    }


def _timed(step: str, seconds: float, rss: float = 100.0):
    return summarise(step, [M(seconds, rss, seconds)], 1, None)


def _verdicts(rows, events=10_000_000) -> dict[str, bool | None]:
    return {t.target: t.met for t in judge(rows, events)}


def test_bench_targets_at_their_exact_thresholds():
    # 10 M events are allowed 6 s, strictly less; 6 GB exactly (5722.0458984375 MiB
    # = 6e9 bytes) is not under 6 GB; equal to pandas is not faster.
    exact_rss = 6e9 / 2**20
    rows = [
        _timed(bench.FLOOR, 2.0),
        _timed(bench.FIRST_RUN, 6.0, rss=exact_rss),
        _timed(bench.FAST_FIRST, 4.0, rss=100.0),
        _timed(bench.FAST_CACHED, 0.8, rss=100.0),
        _timed(bench.PANDAS, 4.0, rss=100.0),
    ]
    got = {t.target: t for t in judge(rows, 10_000_000)}
    assert got["first run (s)"].met is False
    assert got["first run peak memory (GB)"].measured == 6.0
    assert got["first run peak memory (GB)"].met is False
    assert got["FAST first run / pandas"].measured == 1.0
    assert got["FAST first run / pandas"].met is False
    # pandas / FAST cached = 4 / 0.8 = 5: five times is met; memory equal: met
    assert got["pandas / FAST cached"].measured == 5.0
    assert got["pandas / FAST cached"].met is True
    assert got["FAST peak memory / pandas'"].measured == 1.0
    assert got["FAST peak memory / pandas'"].met is True
    # first run / floor = 6 / 2 = 3: "<= 3" is met
    assert got["first run / floor"].measured == 3.0
    assert got["first run / floor"].met is True
    # just under each: 5.99 s meets the 6 s, and the allowance scales with the events
    rows[1] = _timed(bench.FIRST_RUN, 5.99)
    assert _verdicts(rows)["first run (s)"] is True
    assert _verdicts([_timed(bench.FIRST_RUN, 0.0007)], 1000)["first run (s)"] is False


def test_bench_fast_memory_is_the_larger_of_its_first_and_cached_runs():
    # the cached FAST run peaks at 300 MB, the first at 100 MB; pandas at 200 MB:
    # the larger, 300 / 200 = 1.5, is judged (not met)
    rows = [
        _timed(bench.FAST_FIRST, 1.0, rss=100.0),
        _timed(bench.FAST_CACHED, 1.0, rss=300.0),
        _timed(bench.PANDAS, 4.0, rss=200.0),
    ]
    got = {t.target: t for t in judge(rows, 1000)}
    assert got["FAST peak memory / pandas'"].measured == 1.5
    assert got["FAST peak memory / pandas'"].met is False


# ---- the shell: formats, widths, parameters ----------------------------------------------


def test_output_format_follows_the_output_name_in_any_case():
    assert cli.output_format(None, Path("r.MARKDOWN")) is Format.markdown
    assert cli.output_format(None, Path("r.md")) is Format.markdown
    assert cli.output_format(None, Path("R.CSV")) is Format.csv
    assert cli.output_format(None, Path("r.Json")) is Format.json
    assert cli.output_format(None, Path("r.txt")) is Format.table
    assert cli.output_format(None, None) is Format.table
    assert cli.output_format(Format.csv, Path("r.json")) is Format.csv


@pytest.mark.parametrize(
    "given, width",
    [
        (None, 160),
        ("20", 20),
        ("19", 160),
        ("39", 39),
        ("10000", 10000),
        ("10001", 160),
        ("80x", 160),
    ],
)
def test_table_width_off_a_terminal(monkeypatch, given, width):
    if given is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", given)
    assert cli._columns() == width


def test_params_are_stripped_and_a_repeat_is_a_usage_error(capsys):
    assert cli._params([" fast.a = 14 ", "fast.b=x,y"]) == {"fast.a": "14", "fast.b": "x,y"}
    with pytest.raises(typer.Exit) as e:
        cli._params(["fast.a=1", "fast.a =2"])
    assert e.value.exit_code == 2
    assert "--param fast.a: given twice" in capsys.readouterr().err


def test_one_value_options_refuse_two(capsys):
    assert cli._single(["Lumi"], "--brand", "one") == "Lumi"
    with pytest.raises(typer.Exit) as e:
        cli._single(["Lumi", "Dusk"], "--brand", "one")
    assert e.value.exit_code == 2
    assert "--brand: give one value, not 2 ('Lumi', 'Dusk')" in capsys.readouterr().err


def test_report_output_may_be_named_htm(tmp_path):
    assert cli._report_checked(tmp_path / "r.htm") == tmp_path / "r.htm"
    assert cli._report_checked(tmp_path / "r.HTML") == tmp_path / "r.HTML"
    with pytest.raises(typer.Exit) as e:
        cli._report_checked(tmp_path / "r.pdf")
    assert e.value.exit_code == 2


# ---- the shell: exit codes and streams ---------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


def test_version_goes_to_stdout(runner):
    import brandlens

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout == f"brandlens {brandlens.__version__}\n" and r.stderr == ""


def test_verify_refuses_zero_examples_from_the_environment(runner, monkeypatch):
    monkeypatch.setenv("BRANDLENS_VERIFY_EXAMPLES", "0")
    r = runner.invoke(app, ["verify", "toy"])
    assert r.exit_code == 2
    # the message names where the number came from
    assert r.stderr == "brandlens: error: BRANDLENS_VERIFY_EXAMPLES must be at least 1\n"


def _failing(monkeypatch, exc: BaseException) -> None:
    from brandlens.plugin import catalog

    def boom():
        raise exc

    monkeypatch.setattr(catalog, "plugins", boom)


def test_a_duckdb_error_is_one_line_exit_1(runner, monkeypatch):
    import duckdb

    _failing(monkeypatch, duckdb.InvalidInputException("bad input\nLINE 1: more"))
    r = runner.invoke(app, ["plugins"])
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == "brandlens: error: DuckDB: bad input\n"


def test_an_os_error_is_one_line_naming_the_file_exit_1(runner, monkeypatch):
    _failing(monkeypatch, PermissionError(13, "Permission denied", "/x/y.parquet"))
    r = runner.invoke(app, ["plugins"])
    assert r.exit_code == 1
    assert r.stderr == "brandlens: error: /x/y.parquet: Permission denied\n"


def test_an_abort_is_an_interrupt_exit_130(runner, monkeypatch):
    _failing(monkeypatch, typer.Abort())  # typer's own, as click is not installed
    r = runner.invoke(app, ["plugins"])
    assert r.exit_code == 130
    assert r.stderr == "brandlens: interrupted\n"


def test_failed_indicators_are_grouped_per_methodology_and_message(capsys):
    # two fast indicators and one goal indicator failed with one message; one fast with
    # another: three lines, the shared one naming both fast ids, and exit 1
    errors = [
        SimpleNamespace(indicator="fast.a", message="budget spent"),
        SimpleNamespace(indicator="fast.b", message="budget spent"),
        SimpleNamespace(indicator="goal.c", message="budget spent"),
        SimpleNamespace(indicator="fast.d", message="boom"),
    ]
    result = SimpleNamespace(errors=errors, not_applicable=[], dataset=None)
    with pytest.raises(typer.Exit) as e:
        cli._report_errors(result, None)
    assert e.value.exit_code == 1
    said = [x for x in capsys.readouterr().err.splitlines() if "failed" in x]
    assert said == [
        "brandlens: indicators fast.a, fast.b failed: budget spent",
        "brandlens: indicator goal.c failed: budget spent",
        "brandlens: indicator fast.d failed: boom",
    ]


def test_load_into_a_ddb_file_is_accepted(runner, events_dir, tmp_path):
    data = events_dir([ev("2025-06-20 04:00:00", "u1", "purchase", amount="5")])
    into = tmp_path / "d.ddb"
    r = runner.invoke(app, ["load", str(data), "--into", str(into), "-q", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert into.is_file()
    r = runner.invoke(app, ["load", str(data), "--into", str(tmp_path / "d.sqlite"), "-q"])
    assert r.exit_code == 2


# ---- the HTML report's number helpers ----------------------------------------------------


def test_report_numbers_by_unit():
    from brandlens.cli import report_html as h

    assert h.fmt(float("nan"), "ratio") == "–" and h.fmt(float("inf"), "users") == "–"
    assert h.fmt(None, "users") == "–"
    # money compact from each cut on: 1000 is 1.00k, 999.5 keeps its cents
    assert h.fmt(1000, "currency") == "CNY 1.00k"
    assert h.fmt(999.5, "currency", "EUR") == "EUR 999.50"
    assert h.fmt(2_345_678, "currency") == "CNY 2.35M"
    assert h.fmt(0.5, "tau") == "0.50"
    assert h.fmt(12.34, "score") == "12.34"  # 4 significant digits below 1000
    assert (
        h.fmt(1234.5, "score") == "1,234"
    )  # whole, with separators, from 1000 (.0f rounds half to even)


def test_report_axis_labels_and_shortened_names():
    from brandlens.cli import report_html as h

    assert [h._power(v) for v in (0.01, 1.0, 100.0, 1000.0, 1e6, 1e9)] == [
        "0.01",
        "1",
        "100",
        "1k",
        "1M",
        "1B",
    ]
    assert h._short("a" * 18) == "a" * 18  # exactly n characters: kept whole
    assert h._short("a" * 19) == "a" * 17 + "…"
    assert h._n(10.0) == "10" and h._n(2.25) == "2.2" and h._n(0.04) == "0"
    assert h._brands(0) == "0 brands" and h._brands(1) == "1 brand"
    # one value alone (lo == hi) takes the full colour, not white
    assert h._color(5.0, 5.0, 5.0) == "#2166ac"
    assert h._color(None, 0.0, 1.0) == "#eeeeee"


def test_a_usage_error_is_one_line_pointing_at_the_commands_help(runner):
    r = runner.invoke(app, ["compute", "d", "--bogus"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "brandlens: error: No such option: --bogus (see brandlens compute -h)\n"


def test_a_write_that_fails_is_a_usage_error_naming_the_file(capsys):
    # a full disk or a read-only folder met while writing --output: exit 2, not 1
    with pytest.raises(typer.Exit) as e, cli.writing(Path("out.csv")):
        raise PermissionError(13, "Permission denied", "/ro/out.csv")
    assert e.value.exit_code == 2
    assert capsys.readouterr().err == (
        "brandlens: error: /ro/out.csv: cannot write (Permission denied)\n"
    )
    # an error without a file name names the path being written
    with pytest.raises(typer.Exit), cli.writing(Path("out.csv")):
        raise OSError(28, "No space left on device")
    assert capsys.readouterr().err == (
        "brandlens: error: out.csv: cannot write (No space left on device)\n"
    )


def test_max_examples_zero_is_refused_not_taken_for_the_default(monkeypatch):
    """``verify`` refuses fewer than one random example ("--max-examples must be at least
    1"), and ``--max-examples -1`` is refused; but 0 is falsy, so ``max_examples or
    BRANDLENS_VERIFY_EXAMPLES`` replaces it by the default and the run goes on with 25
    (or the environment's) examples per property, unsaid."""
    from brandlens.specs import verification

    asked: list[int] = []

    def fake_verify(plugins, examples, seed, progress):
        asked.append(examples)
        raise SystemExit(99)  # never reached on correct code

    monkeypatch.setattr(verification, "verify", fake_verify)
    r = CliRunner().invoke(app, ["verify", "toy", "--max-examples", "0"])
    assert asked == [], f"verify ran with {asked} examples for --max-examples 0"
    assert r.exit_code == 2
    assert "--max-examples must be at least 1" in r.stderr


def test_a_table_on_a_terminal_fits_the_terminals_width(monkeypatch, capsys):
    """README: "a listing wider than the terminal comes in blocks of columns". On a
    terminal ``emit`` passes no width and the renderer then draws at a fixed 120
    columns, whatever the terminal's size: on an 80-column terminal (``script`` with
    ``stty cols 80``, or COLUMNS=80 here) ``brandlens indicators fast`` draws 118-column
    lines that the terminal wraps."""
    import sys

    from brandlens.cli import app as cli
    from brandlens.cli.render import Format
    from brandlens.plugin import catalog

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    cli.emit(catalog.indicators("fast"), Format.table, None, no_color=True)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("text", ["many", "--5", "²"])  # the last two look like digits
def test_a_verify_examples_variable_that_is_no_number_is_a_usage_error(monkeypatch, text):
    monkeypatch.setenv("BRANDLENS_VERIFY_EXAMPLES", text)
    r = CliRunner().invoke(app, ["verify", "toy"])
    assert r.exit_code == 2
    message = f"BRANDLENS_VERIFY_EXAMPLES: expected a whole number, got {text!r}"
    assert r.stderr.strip().endswith(message)


def test_assert_honours_spec_with_zero_examples_runs_the_probes_only(monkeypatch):
    # max_examples=0 is given, not absent: verify gets 0 (the fixed probe logs alone),
    # not BRANDLENS_VERIFY_EXAMPLES
    from brandlens.engine.result import VerifyReport
    from brandlens.specs import testing

    asked: list[int] = []

    def fake_verify(plugins, examples, seed):
        asked.append(examples)
        return VerifyReport(methodologies=[])

    monkeypatch.setenv("BRANDLENS_VERIFY_EXAMPLES", "7")
    monkeypatch.setattr(testing, "verify", fake_verify)
    testing.assert_honours_spec("toy", max_examples=0)
    testing.assert_honours_spec("toy")
    assert asked == [0, 7]


def test_a_signal_during_the_engines_import_calls_nothing(monkeypatch):
    """SIGTERM's watcher thread can find brandlens.engine.runs in sys.modules while the
    module is still being imported, without its functions: it used to print an
    AttributeError's traceback before "brandlens: terminated"."""
    import sys
    import types

    partial = types.ModuleType("brandlens.engine.runs")  # imported as far as its docstring
    monkeypatch.setitem(sys.modules, "brandlens.engine.runs", partial)
    cli._engine_call("interrupt_all")  # nothing to call yet, and no error
    calls: list[str] = []
    partial.interrupt_all = lambda: calls.append("interrupt_all")
    partial.close_all = lambda: calls.append("close_all")
    cli._engine_call("interrupt_all")
    cli._engine_call("close_all")
    assert calls == ["interrupt_all", "close_all"]
    monkeypatch.delitem(sys.modules, "brandlens.engine.runs")
    cli._engine_call("close_all")  # no engine loaded: nothing to stop
    assert calls == ["interrupt_all", "close_all"]


def test_demo_with_a_cache_folder_that_is_a_file_says_so(tmp_path):
    """It said "generate .../afile/demo-...: cannot create the folder (Not a directory)"."""
    afile = tmp_path / "afile"
    afile.write_text("")
    r = CliRunner().invoke(app, ["demo"], env={"BRANDLENS_CACHE_DIR": str(afile)})
    assert r.exit_code == 2
    assert r.stderr == (
        f"brandlens: error: BRANDLENS_CACHE_DIR {afile}: a file, not a folder; name a folder "
        "(made if missing), or set BRANDLENS_CACHE=0 to keep nothing\n"
    )


def _commands() -> list[list[str]]:
    """Every command's words, the cache group's included."""
    words = [[info.name or info.callback.__name__] for info in app.registered_commands]
    words += [["cache", info.name] for info in cli.cache_app.registered_commands]
    return words


@pytest.mark.parametrize("words", _commands(), ids=" ".join)
def test_help_at_80_columns_cuts_no_word(words):
    """At 80 columns the help column is about 23 characters wide, and typer cut a longer
    word with "…": ``BRANDLENS_METHODOLOGY_BUDGET`` read ``BRANDLENS_METHODOLOGY_…``, so the
    variable a user should set was never shown whole. It is folded onto the next line now;
    every environment variable a help names reads whole once the box is taken away. An
    option's type reads whole on its line too: ``<table|json|csv|markdown>`` took about 24
    of the 80 columns and was folded as ``<table|json|csv|markd`` / ``own>``; the formats
    are named in the help text now, beside a ``<format>`` type."""
    import re

    r = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    assert "…" not in r.output
    lines = [line.strip("│ ") for line in r.output.splitlines()]
    assert not [line for line in lines if re.search(r"<[^<>]*$", line)]  # a type cut in two
    joined = "".join(lines)  # a folded word continues at the start of the next line
    command = typer.main.get_command(app)
    for word in words:
        command = command.commands[word]
    helps = " ".join(p.help or "" for p in command.params if hasattr(p, "help"))
    for name in re.findall(r"BRANDLENS_[A-Z_]+", helps):  # as written, before any drawing
        assert name in joined
