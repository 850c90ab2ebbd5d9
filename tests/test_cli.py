"""The CLI through typer's runner, plus the installed script in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import brandlens
import brandlens.api
from brandlens.cli.app import app
from brandlens.errors import UsageError
from conftest import ev
from fixture_plugins import ToyPlugin

STORY = [
    ev("2025-06-20 04:00:00", "u1", "ad_impression"),
    ev("2025-06-21 04:00:00", "u2", "purchase", amount="10"),
    ev("2025-06-22 04:00:00", "u2", "purchase", amount="15"),
    ev("2025-06-22 04:00:00", "u3", "member_join"),
    ev("2025-06-22 04:00:00", "u3", "purchase", brand="C", amount="7"),
]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def toy(register_plugin):
    register_plugin(ToyPlugin(), "toy-plugin")


def invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_compute_json_is_the_result_contract(runner, toy, events_dir):
    r = invoke(
        runner,
        "compute",
        events_dir(STORY),
        "-m",
        "toy",
        "--format",
        "json",
        "--as-of",
        "2025-06-30",
    )
    assert r.exit_code == 0  # toy.group_buyers needs the users table: not applicable
    doc = json.loads(r.stdout)
    assert list(doc) == [
        "brandlens_version",
        "as_of",
        "timezone",
        "dataset",
        "parameters",
        "results",
        "errors",
        "not_applicable",
        "short_history",  # methodologies reading further back than the data goes
        "unmatched_values",  # parameter values naming categories no event has
        "key_order",  # the declared key orders (a ladder's stages lowest first)
    ]
    assert doc["dataset"]["rows_read"] == 5
    assert doc["errors"] == []
    assert doc["not_applicable"] == [
        {
            "methodology": "toy",
            "indicator": "toy.group_buyers",
            "reason": "needs the users table with target_group",
        }
    ]
    assert r.stderr.splitlines() == [
        "brandlens: not applicable to this data (needs the users table with target_group): "
        "toy.group_buyers",
        # the toy ladder's longest window (365 days) from its earliest snapshot (7 days
        # back): 372 days up to 2025-06-30 start on 2024-06-24; the log on 2025-06-20
        "brandlens: note: the data starts 2025-06-20, after where these read events: toy "
        "from 2024-06-24 (372 days); what they count before it is missing, not zero",
        "brandlens: warning: DataRangeWarning: --as-of 2025-06-30 is after the last event "
        "(2025-06-22): values count no activity since",
    ]
    row = next(x for x in doc["results"] if x["indicator"] == "toy.buyers" and x["brand"] == "B")
    assert row == {
        "methodology": "toy",
        "indicator": "toy.buyers",
        "brand": "B",
        "dimension": None,
        "key": None,
        "value": 1,
        "numerator": None,
        "denominator": None,
        "unit": "users",
    }


def test_csv_and_markdown_carry_the_same_rows(runner, toy, events_dir, tmp_path):
    data = events_dir(STORY)
    j = json.loads(invoke(runner, "compute", data, "-m", "toy", "-f", "json").stdout)
    out = tmp_path / "r.csv"
    r = invoke(runner, "compute", data, "-m", "toy", "-f", "csv", "-o", out)
    assert r.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len(j["results"])
    assert [(x["indicator"], x["brand"], x["key"]) for x in rows] == [
        (x["indicator"], x["brand"], x["key"] or "") for x in j["results"]
    ]
    assert {x["as_of"] for x in rows} == {j["as_of"]}  # each line says its date
    md = invoke(runner, "compute", data, "-m", "toy", "-f", "markdown").stdout
    results_md, skipped_md = md.split("### not applicable")
    assert results_md.count("\n| toy |") == len(j["results"])
    assert "| toy | toy.group_buyers | needs the users table with target_group |" in skipped_md
    table = invoke(runner, "compute", data, "-m", "toy").stdout
    assert "not applicable" in table and "errors" not in table


def test_compare_has_one_row_per_brand(runner, toy, events_dir):
    r = invoke(runner, "compare", events_dir(STORY), "-m", "toy", "-f", "json")
    doc = json.loads(r.stdout)
    assert [c["indicator"] for c in doc["columns"]] == ["toy.buyers", "toy.deepened", "toy.members"]
    assert [row["brand"] for row in doc["rows"]] == ["B", "C"]
    assert doc["rows"][0]["values"]["toy.members"] == 1
    assert r.exit_code == 0  # the failing indicator is not a headline one
    table = invoke(runner, "compare", events_dir(STORY), "-m", "toy").stdout
    assert "Buyers" in table and "TOY" in table


def test_param_brand_and_as_of_options(runner, toy, events_dir):
    r = invoke(
        runner,
        "compute",
        events_dir(STORY),
        "-m",
        "toy",
        "-b",
        "C",
        "-f",
        "json",
        "-p",
        "toy.buyer_window_days=5",
        "--as-of",
        "2025-06-30",
    )
    doc = json.loads(r.stdout)
    assert {x["brand"] for x in doc["results"]} == {"C"}
    assert doc["parameters"]["toy"]["buyer_window_days"] == 5
    # C's only purchase (06-22) is 9 days before as_of: outside a 5-day window
    assert next(x["value"] for x in doc["results"] if x["indicator"] == "toy.buyers") == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["compute", "{data}", "-m", "nope"], 2, "unknown methodology 'nope'"),
        (
            ["compute", "{data}", "-m", "toy", "-p", "toy.window_days=soon"],
            2,
            "--param toy.window_days",
        ),
        (["compute", "{data}", "-m", "toy", "-p", "oops"], 2, "expected METHOD.NAME=VALUE"),
        (["compute", "{data}", "-m", "toy", "-p", "toy.nope=1"], 2, "unknown parameter"),
        (["compute", "{data}", "--as-of", "30/06/2025"], 2, "is not a date"),
        # these four were taken (found by an independent review): 20250630 as a date the
        # message said it does not read, 1_0 as 10, a repeated -p as its last, --funnel
        # on methodologies without a funnel as an empty one
        (["compute", "{data}", "--as-of", "20250630"], 2, "'20250630' is not a date"),
        (
            ["compute", "{data}", "-m", "fast", "-p", "fast.advancing_period_days=1_0"],
            2,
            "--param fast.advancing_period_days: expected a number, got '1_0'",
        ),
        (
            ["compute", "{data}", "-m", "super", "-p", "super.hit_top_share=nan"],
            2,
            "--param super.hit_top_share: expected a number, got 'nan'",
        ),
        (
            [
                "compute",
                "{data}",
                "-m",
                "fast",
                "-p",
                "fast.advancing_period_days=3",
                "-p",
                "fast.advancing_period_days=4",
            ],
            2,
            "fast.advancing_period_days: given twice",
        ),
        (
            ["compare", "{data}", "-m", "grow", "--funnel"],
            2,
            "--funnel: grow has no stage ladder to show as a funnel",
        ),
        (["compute", "{data}", "--timezone", "Nowhere"], 2, "unknown time zone"),
        (["compute", "{missing}"], 1, "no such file or directory"),
        (["validate", "{data}", "--preset", "nope"], 2, "unknown preset"),
        (["explain", "toy.nope"], 2, "unknown indicator"),
        # a methodology where an indicator belongs ("unknown indicator 'toy.'" was said)
        (["sql", "toy"], 2, "'toy' is a methodology; name one of its indicators: toy."),
        (["indicators", "nope"], 2, "unknown methodology"),
        # "" is no folder (as a Path it was the current one, and the market went there)
        (["generate", "", "--users", "5"], 2, "OUT_DIR is empty: name a folder"),
    ],
)
def test_errors_are_one_line_with_documented_codes(
    runner, toy, events_dir, tmp_path, args, code, message
):
    data = events_dir(STORY)
    args = [a.format(data=data, missing=tmp_path / "missing") for a in args]
    r = invoke(runner, *args)
    assert r.exit_code == code, r.output
    assert message in r.stderr
    assert "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("message", "fallback", "expected"),
    [
        (
            "Binder Error: no column x\n\nLINE 1: SELECT x\n       ^",
            None,
            "Binder Error: no column x",
        ),
        # DuckDB's candidates are the hint that fixes a typo (an independent plugin
        # author missed them): kept, in both of the forms DuckDB writes them
        (
            'Binder Error: Table "e" does not have a column named "amout"\n\n'
            'Candidate bindings: : "amount"\n\nLINE 1: select e.amout from events e',
            None,
            'Binder Error: Table "e" does not have a column named "amout"; candidates: "amount"',
        ),
        (
            'Binder Error: Referenced column "amout" not found in FROM clause!\n'
            'Candidate bindings: "amount", "local_date"\n\nLINE 1: select amout',
            None,
            'Binder Error: Referenced column "amout" not found in FROM clause!; candidates: '
            '"amount", "local_date"',
        ),
        ("\n  leading blank lines\nsecond", None, "leading blank lines"),
        ("", None, "ValueError"),  # nothing to show: the class says what went wrong
        ("   \n ", "", ""),  # a caller that formats its own prefix asks for nothing
    ],
)
def test_first_line_is_the_message_first_line(message, fallback, expected):
    from brandlens.errors import first_line

    assert first_line(ValueError(message), fallback) == expected


def test_validate_strict_and_quarantine_out(runner, events_dir, tmp_path):
    rows = [*STORY, ev("bad", "u9", "ad_click")]
    q = tmp_path / "q.parquet"
    r = invoke(runner, "validate", events_dir(rows), "--quarantine-out", q, "-f", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["reasons"][0]["reason"] == "ts_unparseable"
    assert q.exists()
    r = invoke(runner, "validate", events_dir(rows), "--quarantine-out", tmp_path / "no/such/q.csv")
    assert r.exit_code == 2 and "--quarantine-out" in r.stderr
    # validate and compute end on the same line: the file, the count, the reasons
    line = f"brandlens: error: {events_dir(rows)}: 1 bad row(s) under --strict "
    line += "(events.ts_unparseable 1 (ts 1))"
    r = invoke(runner, "validate", events_dir(rows), "--strict")
    assert r.exit_code == 1 and r.stderr.splitlines()[-1] == line
    r = invoke(runner, "compute", events_dir(rows), "--strict")
    assert r.exit_code == 1 and r.stderr.splitlines()[-1] == line


def test_listing_commands(runner, toy):
    plugins = json.loads(invoke(runner, "plugins", "-f", "json").stdout)["plugins"]
    toy_info = next(p for p in plugins if p["name"] == "toy-plugin")
    assert toy_info["methodologies"] == ["toy"] and toy_info["presets"] == ["toy-preset"]
    methods = json.loads(invoke(runner, "methodologies", "-f", "json").stdout)
    names = [m["name"] for m in methods["methodologies"]]
    assert "toy" in names and names == sorted(names)
    inds = json.loads(invoke(runner, "indicators", "toy", "-f", "json").stdout)["indicators"]
    assert len(inds) == 7
    ex = json.loads(invoke(runner, "explain", "toy.deepened", "-f", "json").stdout)
    assert ex["unit"] == "ratio" and ex["source"] == "tests/fixture_plugins.py"
    # definitions come from the spec (tests/toy.yaml), written once
    assert ex["title_zh"] == "加深率" and ex["formula"].startswith("|{u : rank(d) > rank")
    assert "bounds lo=0.0, hi=1.0" in ex["properties"]
    # only the parameters this indicator (and its ladder) use
    assert [p["name"] for p in ex["parameters"]] == [
        "window_days",
        "min_view_days",
        "positive_rating",
        "period_days",
    ]


def test_schema_prints_json_schema(runner):
    doc = json.loads(invoke(runner, "schema").stdout)
    assert set(doc) == {
        "tables",
        "result",
        "comparison",
        "validation",
        "load",
        "verification",
        "entities",
        "funnel",
    }
    assert {"dataset", "clustered", "same_user_share"} <= set(doc["load"]["required"])
    assert doc["tables"]["events"]["required"] == ["ts", "user_id", "event_type"]
    assert "purchase" in doc["tables"]["events"]["properties"]["event_type"]["examples"]


def test_plugin_preset_is_usable(runner, toy, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("time,who,what,label,price\n2025-01-01,a,buy,X,3\n2025-01-01,a,noise,X,\n")
    r = invoke(runner, "validate", p, "--preset", "toy-preset", "-f", "json")
    reasons = json.loads(r.stdout)["reasons"]
    assert [(x["reason"], x["count"]) for x in reasons] == [("excluded_by_mapping", 1)]


def test_installed_script_runs_in_a_subprocess(tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    exe = os.path.join(os.path.dirname(sys.executable), "brandlens")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0 and "compute" in r.stdout
    sample = Path(__file__).resolve().parents[1] / "framework/brandlens/data/sample"
    r = subprocess.run(
        [exe, "compare", str(sample), "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [row["brand"] for row in doc["rows"]] == ["Aurora", "Lumi", "Verde"]
    assert "fast.fertility" in doc["rows"][0]["values"]  # the built-in plugin, by entry point
    r = subprocess.run(
        [exe, "compute", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert r.returncode == 1
    assert r.stderr.strip().startswith("brandlens: error:") and "Traceback" not in r.stderr


@pytest.mark.parametrize("command", ["compute", "compare", "funnel", "report"])
@pytest.mark.parametrize("where", ["folder", "missing"])
def test_an_unwritable_output_is_refused_before_anything_is_computed(
    runner, events_dir, tmp_path, monkeypatch, command, where
):
    """`-o /tmp` (a folder) or `-o missing/x.json` used to fail only after the whole run."""
    from brandlens.engine import runs

    data = events_dir(STORY)

    def no_run(*_a, **_k):
        raise AssertionError("the data was opened before --output was checked")

    monkeypatch.setattr(runs.Dataset, "__init__", no_run)
    target = tmp_path if where == "folder" else tmp_path / "missing" / "x.out"
    r = invoke(runner, command, data, "-o", target)
    assert r.exit_code == 2, r.output
    problem = (
        "is a directory; give a file name"
        if where == "folder"
        else f"folder {target.parent} does not exist"
    )
    assert r.stderr.strip().splitlines() == [f"brandlens: error: --output {target}: {problem}"]
    assert sorted(tmp_path.iterdir()) == sorted([data])  # no temporary file left


def test_output_dash_is_stdout(runner, events_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = events_dir(STORY)
    r = invoke(runner, "compute", data, "-m", "fast", "-f", "json", "-o", "-")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["results"]
    r = invoke(runner, "report", data, "-m", "fast", "-o", "-", "-q")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("<!DOCTYPE html>") and r.stdout.rstrip().endswith("</html>")
    assert not (tmp_path / "-").exists()


def test_output_dot_slash_dash_is_a_file_named_dash(runner, events_dir, tmp_path, monkeypatch):
    """`-o ./-` names a file, as it does for cat or tar; a Path turned it into `-`,
    stdout, and nothing was written where asked."""
    monkeypatch.chdir(tmp_path)
    data = events_dir(STORY)
    r = invoke(runner, "compute", data, "-m", "fast", "-f", "json", "-o", "./-")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert json.loads((tmp_path / "-").read_text(encoding="utf-8"))["results"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-b", "b"], "--brand: no events for brand 'b'; did you mean B?"),
        (["-b", "B", "-b", "Cc"], "--brand: no events for brand 'Cc'; did you mean C?"),
    ],
)
def test_compute_and_entities_say_typos_as_compare_does(runner, events_dir, args, said):
    """Typos are not zeros in compute either: `-b Lumy` printed a row of zeros, exit 0."""
    data = events_dir(STORY)
    for command in (["compute", data, "-m", "fast"], ["entities", data, "-m", "fast"]):
        r = invoke(runner, *command, *args)
        assert r.exit_code == 2, r.output
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith(f"brandlens: error: {said}"), line


@pytest.mark.parametrize(
    ("day", "said"),
    [
        ("2025-07-10", "is after the last event (2025-06-22)"),
        ("2035-01-01", "is after the last event (2025-06-22)"),
        ("2020-01-01", "is before the first event (2025-06-20)"),
    ],
)
def test_compute_outside_the_data_warns_and_computes(runner, events_dir, day, said):
    """Unlike compare, however far: an indicator's long window may look years back."""
    data = events_dir(STORY)
    r = invoke(runner, "compute", data, "-m", "fast", "--as-of", day, "-f", "json")
    assert r.exit_code == 0, r.output
    assert f"--as-of {day} {said}" in r.stderr
    assert json.loads(r.stdout)["as_of"] == day


def test_the_library_says_typos_too(events_dir):
    import brandlens
    from brandlens.errors import UsageError

    data = events_dir(STORY)
    with pytest.raises(UsageError, match="no events for brand 'Lumy'"):
        brandlens.compute(data, methodologies=["fast"], brands=iter(["B", "Lumy"]))
    result = brandlens.compute(data, methodologies=["fast"], brands=iter(["B"]))
    assert {r.brand for r in result.results} == {"B"}  # a generator is read once


@pytest.mark.parametrize(("sep", "shown"), [(";", "';'"), ("\t", "'\\t'")])
def test_a_csv_separated_by_semicolons_is_told_how_to_read_it(runner, tmp_path, sep, shown):
    """A header read as one column holding ';' said only 'missing columns'; the mapping
    the message gives, pasted into a file, reads it (for a tab the hint's single-quoted
    '\\t' was two characters, which read.delimiter refused)."""
    data = tmp_path / "semi"
    data.mkdir()
    lines = ["ts", "user_id", "event_type"], ["2025-06-01", "u1", "ad_click"]
    (data / "events.csv").write_text("".join(sep.join(f) + "\n" for f in lines))
    r = invoke(runner, "validate", data, "--no-cache")
    assert r.exit_code == 1
    (line,) = r.stderr.strip().splitlines()
    assert f"the header is one column holding {shown}" in line
    given = re.search(r"give a mapping with (read: \{delimiter: .*?\}) \(docs", line)
    assert given is not None, line
    mapping = tmp_path / "semi.yaml"
    mapping.write_text(given.group(1) + "\n")  # the mapping the message names works
    r = invoke(runner, "validate", data, "--no-cache", "--mapping", mapping, "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tables"][0]["rows_accepted"] == 1


def test_the_data_range_and_brands_are_read_once_per_dataset(events_dir, monkeypatch):
    """compute checks the as-of date and brands (each a scan of an events file read in
    place) and then resolves the as-of date again: one read of each serves both."""
    from brandlens.analysis.checks import check_choice
    from brandlens.engine.runs import Dataset

    reads: list[str] = []
    original = Dataset.read

    def spy(self, sql, binds=None):
        reads.append(" ".join(sql.split()))
        return original(self, sql, binds)

    monkeypatch.setattr(Dataset, "read", spy)
    with Dataset(events_dir(STORY), cache=False) as ds:
        check_choice(ds, None, ["B"])
        result = ds.compute(methodologies=["fast"])
        assert ds.date_range() == (date(2025, 6, 20), date(2025, 6, 22))
    assert result.as_of == "2025-06-22"
    assert sum("min(local_date), max(local_date)" in r for r in reads) == 1
    assert sum("DISTINCT brand" in r for r in reads) == 1


def test_an_empty_section_says_none_instead_of_an_empty_grid(runner, events_dir):
    """validate on clean data printed a quarantined table with a header and no rows."""
    r = invoke(runner, "validate", events_dir(STORY[:2]), "-q")
    assert r.exit_code == 0, r.output
    assert "\nquarantined: none\n" in r.stdout and "┃ reason" not in r.stdout
    bad = [*STORY[:2], ev("2025-06-23 04:00:00", "u9", "bogus")]
    r = invoke(runner, "validate", events_dir(bad), "-q")
    assert "quarantined: none" not in r.stdout and "unknown_event_type" in r.stdout


def test_strict_lets_rows_a_mapping_excludes_pass(runner, tmp_path):
    # was: the rees46 preset (remove_from_cart: null) failed every --strict run
    data = tmp_path / "events.csv"
    data.write_text(
        "ts,user_id,event_type,brand\n"
        "2025-06-01 04:00:00,u1,view,B\n"
        "2025-06-01 05:00:00,u1,unfollow,B\n"  # excluded on purpose: counted, not bad
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("event_types: {view: product_view, unfollow: null}\n")
    args = [data, "--mapping", mapping, "--strict"]
    r = invoke(runner, "validate", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["reasons"][0]["reason"] == "excluded_by_mapping"
    assert invoke(runner, "compute", *args, "-m", "fast", "-f", "json").exit_code == 0
    # one bad row beside it fails, and the message counts only that one
    with data.open("a") as f:
        f.write("2025-13-01 04:00:00,u2,view,B\n")
    r = invoke(runner, "validate", *args)
    assert r.exit_code == 1 and "1 bad row(s) under --strict" in r.stderr
    r = invoke(runner, "compute", *args, "-m", "fast")
    assert r.exit_code == 1
    assert "1 bad row(s) under --strict (events.ts_unparseable 1 (ts 1))" in r.stderr


def test_an_output_that_is_an_input_is_refused_before_anything_is_read(runner, tmp_path):
    # was: exit 0, and the export replaced by the result (or by the quarantine)
    folder = tmp_path / "export"
    folder.mkdir()
    log = folder / "events.csv"
    text = "ts,user_id,event_type,brand\n2025-06-01 04:00:00,u1,ad_click,B\n"
    log.write_text(text)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {}\n")
    os.link(log, tmp_path / "same.csv")  # another name for the same file
    cases = [
        (["compute", log, "-f", "csv", "-o", log], "--output", "DATA"),
        (["compare", folder, "-o", log], "--output", "DATA"),
        (["validate", folder, "--quarantine-out", log], "--quarantine-out", "DATA"),
        (["compute", folder, "-o", tmp_path / "same.csv"], "--output", "DATA"),
        (["compute", folder, "--mapping", mapping, "-o", mapping], "--output", "the mapping"),
        (["funnel", folder, "-b", "B", "-o", log], "--output", "DATA"),
        (["entities", folder, "-m", "super", "-o", log], "--output", "DATA"),
    ]
    # (report's --output must be named .html, which no table's file is)
    for args, what, role in cases:
        r = invoke(runner, *args)
        assert r.exit_code == 2, (args, r.stderr)
        assert f"{what} " in r.stderr and f"this run reads ({role})" in r.stderr, r.stderr
    assert log.read_text() == text and mapping.read_text() == "columns: {}\n"
    dataset = tmp_path / "d.duckdb"
    assert invoke(runner, "load", folder, "--into", dataset).exit_code == 0
    r = invoke(runner, "load", dataset, "--into", dataset)
    assert r.exit_code == 2 and "--into" in r.stderr and "(DATA)" in r.stderr
    assert invoke(runner, "compute", dataset, "-m", "fast").exit_code == 0  # intact
    # an output beside the inputs is fine
    assert invoke(runner, "compute", folder, "-o", folder / "result.json").exit_code == 0


def test_the_apis_quarantine_and_compares_output_never_replace_an_input(runner, tmp_path):
    # was: brandlens.validate(folder, quarantine_out=folder / "events.csv") replaced the
    # log with an empty quarantine (the check stood in the CLI only), and compare -o
    # wrote over its own --benchmark file (found by an independent review)
    folder = tmp_path / "export"
    folder.mkdir()
    log = folder / "events.csv"
    text = "ts,user_id,event_type,brand\n2025-06-01 04:00:00,u1,ad_click,B\n"
    log.write_text(text)
    with pytest.raises(UsageError, match="this run reads \\(DATA\\)"):
        brandlens.validate(folder, quarantine_out=log)
    with pytest.raises(UsageError, match="this run reads \\(DATA\\)"):
        brandlens.api.load(folder, tmp_path / "d.duckdb", quarantine_out=log)
    assert log.read_text() == text
    bench = tmp_path / "bench.csv"
    figures = "indicator,category,p25,p50,p75,top10,source\n"
    bench.write_text(figures)
    r = invoke(runner, "compare", folder, "--benchmark", bench, "-o", bench)
    assert r.exit_code == 2 and "this run reads (--benchmark)" in r.stderr, r.stderr
    assert bench.read_text() == figures


def test_load_into_replaces_only_its_own_dataset_files(runner, tmp_path):
    # was: exit 0, and the user's own database replaced by the store
    import duckdb

    data = tmp_path / "events.csv"
    data.write_text("ts,user_id,event_type,brand\n2025-06-01 04:00:00,u1,ad_click,B\n")
    own = tmp_path / "sales.duckdb"
    with duckdb.connect(str(own)) as con:
        con.execute("CREATE TABLE sales AS SELECT 42 AS total")
    other = tmp_path / "notes.db"
    other.write_text("not a database")
    for target in (own, other):
        r = invoke(runner, "load", data, "--into", target)
        assert r.exit_code == 2
        assert "exists and is not a brandlens dataset file" in r.stderr
    with duckdb.connect(str(own), read_only=True) as con:
        assert con.execute("SELECT total FROM sales").fetchall() == [(42,)]
    assert other.read_text() == "not a database"
    dataset = tmp_path / "d.duckdb"
    for _ in range(2):  # written, then replaced
        assert invoke(runner, "load", data, "--into", dataset).exit_code == 0


def test_methodologies_are_named_as_printed_and_typos_get_a_suggestion(runner, events_dir):
    # was: "unknown methodology 'FAST'", though every header prints FAST, and no hint
    data = events_dir(STORY)
    runs = {
        m: json.loads(invoke(runner, "compute", data, "-m", m, "-f", "json").stdout)
        for m in ("fast", "FAST", "Fast")
    }
    assert runs["FAST"] == runs["fast"] == runs["Fast"]
    argo = invoke(runner, "compute", data, "-m", "A.R.G.O", "-m", "argo", "-f", "json")
    assert {r["methodology"] for r in json.loads(argo.stdout)["results"]} == {"argo"}
    r = invoke(runner, "compute", data, "-m", "fats")
    assert r.exit_code == 2 and "unknown methodology 'fats'; did you mean fast?" in r.stderr
    explained = invoke(runner, "explain", "FAST.Advancing", "-f", "json")
    assert json.loads(explained.stdout)["id"] == "fast.advancing"
    r = invoke(runner, "explain", "fst.advancing")
    assert r.exit_code == 2 and "no methodology 'fst'; did you mean fast?" in r.stderr
    listed = json.loads(invoke(runner, "indicators", "Goal", "-f", "json").stdout)
    assert listed["indicators"] and {i["id"].split(".")[0] for i in listed["indicators"]} == {
        "goal"
    }


def test_an_output_file_named_csv_json_or_md_gets_that_format(runner, events_dir, tmp_path):
    # was: the box-drawn table in out.csv, and HTML in rep.pdf ("report written")
    data = events_dir(STORY)
    base = ["compute", data, "-m", "fast", "--as-of", "2025-06-30"]
    for name, check in [
        ("r.csv", lambda t: t.startswith("methodology,indicator,brand,")),
        ("r.json", lambda t: json.loads(t)["as_of"] == "2025-06-30"),
        ("r.md", lambda t: "| methodology | indicator |" in t),
        ("r.txt", lambda t: "┃ methodology" in t),  # no format of its own: the table
    ]:
        assert invoke(runner, *base, "-o", tmp_path / name).exit_code == 0
        assert check((tmp_path / name).read_text(encoding="utf-8")), name
    # --format given wins over the name
    assert invoke(runner, *base, "-f", "json", "-o", tmp_path / "x.csv").exit_code == 0
    assert json.loads((tmp_path / "x.csv").read_text())["as_of"] == "2025-06-30"
    r = invoke(runner, "report", data, "-o", tmp_path / "rep.pdf")
    assert r.exit_code == 2 and "the report is an HTML page: name it .html" in r.stderr
    assert not (tmp_path / "rep.pdf").exists()


def test_a_funnel_of_a_methodology_without_a_ladder_says_so(runner, events_dir):
    # was: a header line and nothing else, exit 0
    r = invoke(runner, "funnel", events_dir(STORY), "-b", "B", "-m", "super")
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        "brandlens: error: --methodology: super has no stage ladder to show as a funnel "
        "(methodologies with one: dream, fast, goal)"
    )
    assert invoke(runner, "funnel", events_dir(STORY), "-b", "B", "-m", "fast").exit_code == 0


def test_a_funnel_checks_its_parameters_as_compute_does(runner, events_dir):
    # was: exit 0 with the parameter dropped (found by an independent review)
    data = events_dir(STORY)
    cases = [
        (["-m", "fast", "-p", "goal.aware_window_days=3"], "methodology 'goal' is not part"),
        (["-p", "grow.period_days=0"], "methodology 'grow' is not part of this run"),
        (["-p", "fast.interest_window_days=0"], "greater than or equal to 1"),
        (["-p", "fast.nosuch=1"], "unknown parameter"),
    ]
    for args, message in cases:
        r = invoke(runner, "funnel", data, "-b", "B", *args)
        assert r.exit_code == 2 and message in r.stderr, (args, r.stderr)
    r = invoke(runner, "funnel", data, "-b", "B", "-p", "fast.interest_window_days=9")
    assert r.exit_code == 0


def test_validate_fails_when_no_event_is_valid(runner, tmp_path):
    # was: exit 0 with every row quarantined, where compute fails with "no valid events"
    data = tmp_path / "events.csv"
    data.write_text("ts,user_id,event_type,brand\nbad,u1,ad_click,B\n2025-13-01,u2,ad_click,B\n")
    r = invoke(runner, "validate", data, "-f", "json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["tables"][0]["rows_quarantined"] == 2  # the report still says why
    assert r.stderr.strip().endswith(
        "events.csv: no valid events (all 2 rows quarantined; the report lists why)"
    )
    with data.open("a") as f:
        f.write("2025-06-01 04:00:00,u3,ad_click,B\n")
    assert invoke(runner, "validate", data).exit_code == 0


def test_the_compute_table_shows_money_ratios_and_counts_for_reading(runner, events_dir):
    # was: 35016.8 for 35,016.77 and 0.0438698 for a ratio; CSV and JSON keep every digit
    rows = [
        ev("2025-06-20 04:00:00", "u1", "purchase", amount="35016.77"),
        ev("2025-06-21 04:00:00", "u2", "purchase", amount="1.00"),
        ev("2025-06-21 04:00:00", "u3", "ad_click"),
    ]
    data = events_dir(rows)
    args = ["compute", data, "-m", "argo", "--as-of", "2025-06-30"]
    table = invoke(runner, *args, "-f", "table").stdout
    # ARPPU: 35,017.77 over two buyers, two decimals and thousands separated
    arppu = next(line for line in table.splitlines() if "argo.arppu " in line)
    assert "17,508.88" in arppu and "35,017.77" in arppu
    doc = json.loads(invoke(runner, *args, "-f", "json").stdout)
    (value,) = [r["value"] for r in doc["results"] if r["indicator"] == "argo.arppu"]
    assert value == 17508.885
    assert ",17508.885,35017.77,2," in invoke(runner, *args, "-f", "csv").stdout
    markdown = invoke(runner, *args, "-f", "markdown").stdout
    assert "| 17,508.88 | 35,017.77 | 2 |" in markdown
    shares = [r for r in doc["results"] if r["unit"] == "ratio" and r["value"] not in (None, 0)]
    assert shares  # a ratio shows as a percentage, as compare shows it
    first = shares[0]
    line = next(
        x for x in table.splitlines() if f"{first['indicator']} " in x and (first["key"] or "") in x
    )
    assert "%" in line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["funnel", "-b", "B", "-b", "C"], "--brand: give one value, not 2 ('B', 'C')"),
        (["entities", "-m", "super", "-m", "fast"], "--methodology: give one value, not 2"),
    ],
)
def test_an_option_of_one_value_given_twice_is_refused(runner, events_dir, args, said):
    # was: the last one kept silently (`funnel -b Lumi -b Dusk` showed Dusk alone)
    r = invoke(runner, args[0], events_dir(STORY), *args[1:])
    assert r.exit_code == 2 and said in r.stderr


def _help_texts():
    """(where, text) of every command's and option's help, the whole command tree."""
    import typer.main

    def walk(cmd, path):
        yield path, cmd.help or ""
        for param in cmd.params:
            yield f"{path} {param.name}", getattr(param, "help", None) or ""
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(typer.main.get_command(app), "brandlens")


def test_help_texts_print_their_square_brackets():
    """The help is rendered as rich markup, which took `brandlens[spark]` for a style tag
    and printed "needs brandlens and Java": what a text means to say in brackets must
    survive (written `\\[`)."""
    from rich.text import Text

    lost = [
        where
        for where, text in _help_texts()
        if Text.from_markup(text).plain != text.replace("\\[", "[")
    ]
    assert lost == []


@pytest.mark.parametrize("args", [["--help"], ["compute", "--help"], ["methodologies"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(args):
    """`brandlens entities --help | head` exited 1, some runs with "brandlens: error:
    Broken pipe"; a data command did too. stdout closed before anything is written: exit
    0, nothing on stderr."""
    p = subprocess.Popen(
        [sys.executable, "-m", "brandlens.cli.app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()
    err = p.stderr.read()
    assert (p.wait(timeout=60), err) == (0, b"")


def test_an_error_with_stdout_sent_to_devnull_still_exits_1(tmp_path):
    """A closed pipe is told apart from stdout sent to /dev/null on purpose."""
    p = subprocess.run(
        [sys.executable, "-m", "brandlens.cli.app", "compute", str(tmp_path / "none")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    assert p.returncode == 1 and b"no such file or directory" in p.stderr


def test_a_memory_limit_duckdb_cannot_read_names_the_option(runner, toy, events_dir, monkeypatch):
    """`--memory-limit bogus` said "engine settings rejected by DuckDB: Parser Error:
    Memory must have a number", naming no option; now the option, the value and what
    it takes, as --threads does. The environment variable is named beside it."""
    data = events_dir(STORY)
    r = invoke(runner, "compute", data, "-m", "toy", "--memory-limit", "bogus")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "--memory-limit (or BRANDLENS_MEMORY_LIMIT) bogus: expected a size such as 8GB" in (
        r.stderr
    )
    monkeypatch.setenv("BRANDLENS_MEMORY_LIMIT", "12")
    r = invoke(runner, "compute", data, "-m", "toy")
    assert r.exit_code == 2 and "BRANDLENS_MEMORY_LIMIT) 12: expected a size" in r.stderr
    # a negative size is one DuckDB reads as no limit at all: refused, not obeyed
    r = invoke(runner, "compute", data, "-m", "toy", "--memory-limit", "-5GB")
    assert r.exit_code == 2 and r.stderr == (
        "brandlens: error: --memory-limit -5GB: expected a size such as 8GB or 500MB, not a "
        "negative one (DuckDB would read it as no limit at all)\n"
    )
    monkeypatch.setenv("BRANDLENS_MEMORY_LIMIT", " -1")
    r = invoke(runner, "compute", data, "-m", "toy")
    assert r.exit_code == 2 and r.stderr.startswith(
        "brandlens: error: BRANDLENS_MEMORY_LIMIT -1: expected"
    )


def test_small_messages_read_as_a_person_writes(runner, events_dir, tmp_path, monkeypatch):
    """From a new user's walkthrough: `cache info` showed 11059200 bytes; a bad format
    read "Value error, 'xml' is not one of ..."; an empty folder's message left out
    events.tsv, which is read. Machine formats keep the exact numbers."""
    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path / "cache"))
    assert invoke(runner, "compute", events_dir(STORY), "-f", "json").exit_code == 0
    table = invoke(runner, "cache", "info").stdout
    assert re.search(r"│ bytes +│ [0-9.]+ (kB|MB) \([0-9,]+ bytes\)", table), table
    assert "│ max_bytes │ 20.0 GB (20,000,000,000 bytes)" in table
    data = json.loads(invoke(runner, "cache", "info", "-f", "json").stdout)
    assert isinstance(data["bytes"], int) and data["max_bytes"] == 20_000_000_000
    r = invoke(runner, "compute", events_dir(STORY), "-f", "xml")
    assert r.exit_code == 2 and "'-f': 'xml' is not one of 'table'" in r.stderr
    assert "Value error" not in r.stderr
    (tmp_path / "empty").mkdir()
    r = invoke(runner, "validate", tmp_path / "empty")
    assert "events.csv, events.tsv or events.jsonl" in r.stderr


def test_an_empty_timezone_is_refused_not_taken_for_the_default(runner, toy, events_dir):
    """`--timezone ''` ran in Asia/Shanghai without a word; --ts-timezone '' was refused."""
    r = invoke(runner, "compute", events_dir(STORY), "-m", "toy", "--timezone", "")
    assert r.exit_code == 2 and "--timezone: unknown time zone ''" in r.stderr
