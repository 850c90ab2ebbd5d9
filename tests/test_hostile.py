"""Hostile input, one class at a time (issue 10, "Hardening").

Whatever the data or the arguments hold, brandlens shows it literally (no rich markup,
control characters escaped), writes CSV that round-trips, skips what the data does not
allow instead of failing, stops cleanly on Ctrl-C, and ends with one line and a
documented exit code: never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.cli.render import Format, printable, render
from brandlens.engine.result import DatasetInfo, Result, ResultRow
from conftest import ev, write_csv
from fixture_plugins import ToyPlugin

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = {0, 1, 2}

BRANDS = [
    "\x1b[31mRed\x1b[0m",
    "[bold]Hidden",
    "[/x]",
    "a\rb",
    "new\nline",
    'x,"y"',
    "#hash",
    " sp ",
    "\u202egnp.exe",
    "bell\x07",
]

STORY = [
    ev("2025-06-20 04:00:00", "u1", "ad_impression"),
    ev("2025-06-21 04:00:00", "u2", "purchase", amount="10"),
    ev("2025-06-22 04:00:00", "u2", "purchase", amount="15"),
    ev("2025-06-22 04:00:00", "u3", "member_join"),
    ev("2025-06-22 04:00:00", "u3", "purchase", brand="C", amount="7"),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def toy(register_plugin):
    register_plugin(ToyPlugin(), "toy-plugin")


def invoke(runner: CliRunner, *args: object, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def clean(r) -> None:
    """One run ended the documented way: no traceback, no unexpected exception."""
    assert r.exit_code in DOCUMENTED, (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    assert "internal error" not in r.stderr, r.stderr


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    """Events whose brands hold markup, control characters and CSV metacharacters."""
    d = tmp_path / "hostile"
    d.mkdir()
    with (d / "events.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)  # RFC 4180: CRLF records, so a bare CR in a value is quoted
        w.writerow(["ts", "user_id", "event_type", "brand", "amount"])
        for i, b in enumerate(BRANDS):
            w.writerow([f"2025-06-2{i % 9} 04:00:00", f"u{i}", "purchase", b, "10"])
            w.writerow([f"2025-06-2{i % 9} 05:00:00", f"u{i}", "[/x]", b, ""])
    return d


# ---- §1 terminal and CSV output are injection-safe ----------------------------------------


def test_printable_escapes_every_control_character():
    assert printable("\x1b[2J\r\x07\x9b\u202ex\ty") == "\\x1b[2J\\r\\x07\\x9b\\u202ex\\ty"
    assert printable("a\nb", newlines=True) == "a\nb"
    assert printable("a\nb") == "a\\nb"
    assert printable("Lumi 中文 é") == "Lumi 中文 é"


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_table_and_markdown_escape_control_characters_and_show_markup(
    runner, toy, hostile_dir, fmt
):
    r = invoke(runner, "compute", hostile_dir, "-m", "toy", "-f", fmt, "--no-color")
    clean(r)
    assert r.exit_code == 0
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in r.stdout
    for shown in ("\\x1b[31mRed\\x1b[0m", "a\\rb", "bell\\x07", "\\u202egnp.exe"):
        assert shown in r.stdout
    assert "[bold]Hidden" in r.stdout and "[/x]" in r.stdout
    if fmt == "markdown":  # a newline in data cannot break the table
        rows = [line for line in r.stdout.splitlines() if line and not line.startswith("###")]
        assert all(line.startswith("|") and line.endswith("|") for line in rows)


@pytest.mark.parametrize("command", ["compute", "compare"])
def test_csv_round_trips_through_python_and_duckdb(runner, toy, hostile_dir, tmp_path, command):
    out = tmp_path / "out.csv"
    r = invoke(runner, command, hostile_dir, "-m", "toy", "-f", "csv", "-o", out)
    clean(r)
    with out.open(newline="", encoding="utf-8") as f:
        py = list(csv.DictReader(f))
    assert {row["brand"] for row in py} == set(BRANDS)
    con = duckdb.connect()
    got = con.execute("SELECT brand FROM read_csv($p)", {"p": str(out)}).fetchall()
    assert sorted(b for (b,) in got) == sorted(row["brand"] for row in py)


def _result_with(brands: list[str]) -> Result:
    rows = [
        ResultRow(
            methodology="m",
            indicator="m.x",
            brand=b,
            dimension=None,
            key=None,
            value=1.5,
            numerator=None,
            denominator=None,
            unit="ratio",
        )
        for b in brands
    ]
    info = DatasetInfo(source="s", rows_read=1, rows_accepted=1, rows_quarantined=0)
    return Result(
        brandlens_version="0",
        as_of="2025-01-01",
        timezone="UTC",
        dataset=info,
        parameters={},
        results=rows,
        errors=[],
    )


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(TEXT.filter(bool), min_size=1, max_size=4, unique=True))
def test_any_brand_round_trips_through_rendered_csv(tmp_path_factory, brands):
    text = render(_result_with(brands), Format.csv)
    assert [r[2] for r in csv.reader(io.StringIO(text, newline=""))][1:] == brands
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text(text, encoding="utf-8", newline="")
    con = duckdb.connect()
    # The dialect named, as for any CSV reader: sniffing one short row is a guess
    # (DuckDB took the brand '' for a quoted empty value).
    got = con.execute(
        "SELECT brand FROM read_csv($p, all_varchar=true, delim=',', quote='\"', "
        "escape='\"', header=true)",
        {"p": str(path)},
    )
    assert [b for (b,) in got.fetchall()] == brands
    for fmt in (Format.table, Format.markdown):
        shown = render(_result_with(brands), fmt, color=False)
        assert "\x1b" not in shown and "\r" not in shown


# ---- §2 rich markup: user and data text is shown, never parsed -----------------------------


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["compute", "{data}", "-m", "[/x]"], 2, "'[/x]'"),
        (["compute", "{tmp}/no[abc]x"], 1, "no[abc]x: no such file"),
        (["compute", "{data}", "--timezone", "[/x]"], 2, "'[/x]'"),
        (["compute", "{data}", "--as-of", "[/x]"], 2, "'[/x]'"),
        (["compute", "{data}", "-p", "[/x]"], 2, "'[/x]'"),
        (["compute", "{data}", "--preset", "[/x]"], 2, "'[/x]'"),
        (["compute", "{data}", "--mapping", "{tmp}/[/x].yaml"], 2, "[/x].yaml"),
        (["explain", "[/x]"], 2, "'[/x]'"),
        (["explain", "[bold]Hidden"], 2, "'[bold]Hidden'"),
        (["verify", "[/x]"], 2, "'[/x]'"),
        (["new-plugin", "[/x]"], 2, "'[/x]'"),
        (["indicators", "[/x]"], 2, "'[/x]'"),
    ],
)
def test_markup_in_arguments_is_shown_literally(runner, events_dir, tmp_path, args, code, shown):
    data = events_dir(STORY)
    r = invoke(runner, *[a.format(data=data, tmp=tmp_path) for a in args])
    clean(r)
    assert r.exit_code == code
    assert len(r.stderr.strip().splitlines()) == 1
    assert shown in r.stderr


def test_markup_in_data_is_shown_literally(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("[/x],[bold]who\n1,2\n", encoding="utf-8")
    r = invoke(runner, "validate", bad)
    clean(r)
    assert r.exit_code == 1 and "header has: [/x], [bold]who" in r.stderr
    quarantined = write_csv(tmp_path / "q" / "events.csv", [ev("[/x]", "[bold]u", "[/x]")])
    r = invoke(runner, "validate", quarantined, "-f", "markdown")
    clean(r)
    assert "ts=[/x], user_id=[bold]u, event_type=[/x], brand=B" in r.stdout
    r = invoke(runner, "validate", quarantined, "--no-color")
    clean(r)
    assert "[bold]u" in r.stdout


def test_progress_descriptions_are_not_markup(monkeypatch):
    from rich.console import Console

    from brandlens.cli import app as cli

    buf = io.StringIO()
    terminal = Console(file=buf, width=100, force_terminal=True)
    monkeypatch.setattr(cli, "_stderr", lambda no_color=False: terminal)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with cli._progress(2, quiet=False) as step:
        assert step is not None
        step("\x1b[2J")
        step("[/x] [bold]Hidden")  # the last description is rendered when the bar stops
    assert "computed [/x] [bold]Hidden" in buf.getvalue()


# ---- §2 no traceback, ever -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["schema", "--output", "{tmp}"], "{tmp}"),
        (["schema", "--output", "{tmp}/missing/x.json"], "{tmp}/missing/x.json"),
        (["schema", "--output", "/dev/full"], "/dev/full"),
        (["compute", "{data}", "-o", "{tmp}"], "{tmp}"),
        (["generate", "{file}", "--users", "3"], "{file}"),
        (["generate", "{file}/sub", "--users", "3"], "{file}/sub"),
        (["generate", "{tmp}/g", "--users", "3", "--seed", "-1"], "--seed"),
        (["generate", "{tmp}/g", "--users", "3", "--start", "0001-01-01"], "--start"),
        (["new-plugin", "x", "--dir", "{file}"], "{file}"),
        (["demo", "--data-dir", "{file}"], "{file}"),
    ],
)
def test_unwritable_outputs_and_bad_generate_options_are_usage_errors(
    runner, events_dir, tmp_path, args, named
):
    if "/dev/full" in args and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    data = events_dir(STORY)
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    fill = {"data": data, "tmp": tmp_path, "file": file}
    r = invoke(runner, *[a.format(**fill) for a in args], *(["-q"] if args[0] == "demo" else []))
    clean(r)
    assert r.exit_code == 2, r.output
    assert named.format(**fill) in r.stderr
    assert r.stderr.startswith("brandlens: error:")


HOSTILE = st.sampled_from(
    [
        "[/x]",
        "[bold]Hidden",
        "\x1b[31m",
        "a\rb",
        "",
        " ",
        "-",
        "-1",
        "0",
        "9" * 30,
        "no[abc]x",
        "../..",
        "x" * 5000,
        "é中文",
        "fast",
        "fast.thriving",
        "fast.advancing_period_days=-5",
        "goal.high_value_quantile=nan",
        "goal.clv_horizon_days=1e400",
        "2025-02-30",
        "0001-01-01",
    ]
) | TEXT.filter(lambda v: not v.startswith("-"))
NUMBERS = st.sampled_from(["-1", "0", "1025", "99999999999999999999", "x", "1.5", ""])


Slot = tuple[str | None, "st.SearchStrategy | None", "st.SearchStrategy | None", bool]


def _slots(kind: str, paths: dict[str, str]) -> list[Slot]:
    """(flag or None for a positional, valid values, hostile values, always given) per argument.

    Without valid values the argument is absent unless hostile (always hostile if always
    given); without hostile values it is never hostile.

    Hostile paths include a directory, a binary file, a missing folder, /dev/full and a
    name too long for the file system.
    """
    path = st.sampled_from([*paths.values(), "/dev/full", "/proc/nope/x"]) | HOSTILE
    out = st.just(paths["out"])
    fmt = st.sampled_from(["table", "json", "csv", "markdown"])
    data = st.sampled_from([paths["data"], paths["events"]])
    if kind in ("compute", "compare", "validate"):
        run = [
            (None, data, path, True),
            ("--timezone", st.sampled_from(["UTC", "Asia/Shanghai"]), HOSTILE, False),
            ("--mapping", st.just(paths["mapping"]), path, False),
            ("--preset", None, HOSTILE, False),
            ("--threads", st.just("1"), NUMBERS, False),
            ("--memory-limit", st.just("1GB"), HOSTILE, False),
            ("-f", fmt, HOSTILE, False),
            ("-o", out, path, False),
        ]
        if kind == "validate":
            return [*run, ("--quarantine-out", st.just(paths["out"] + ".csv"), path, False)]
        return [
            *run,
            ("--as-of", st.sampled_from(["2025-06-30", "2025-06-21"]), HOSTILE, False),
            ("-m", st.sampled_from(["fast", "goal", "grow", "super", "argo"]), HOSTILE, False),
            ("-b", st.sampled_from(["B", "C"]), HOSTILE, False),
            ("-p", st.just("goal.clv_min_repeaters=1"), HOSTILE, False),
            ("-q", st.just(None), None, True),
        ]
    if kind == "entities":
        return [
            (None, data, path, True),
            ("-m", st.sampled_from(["fast", "goal", "super"]), HOSTILE, True),
            ("-t", st.sampled_from(["users", "products"]), HOSTILE, False),
            ("--as-of", st.sampled_from(["2025-06-30", "2025-06-21"]), HOSTILE, False),
            ("-b", st.sampled_from(["B", "C"]), HOSTILE, False),
            ("-p", st.just("super.history_weeks=2"), HOSTILE, False),
            ("--timezone", st.sampled_from(["UTC", "Asia/Shanghai"]), HOSTILE, False),
            ("-f", fmt, HOSTILE, False),
            ("-o", out, path, False),
        ]
    if kind in ("explain", "indicators"):
        return [
            (None, st.just("goal.clv_total" if kind == "explain" else "fast"), HOSTILE, True),
            ("-f", fmt, HOSTILE, False),
        ]
    if kind == "verify":  # a real name would run the whole harness: names stay hostile
        return [
            (None, None, HOSTILE.filter(lambda v: v.strip() not in ("", "fast")), True),
            ("--max-examples", st.just("1"), NUMBERS, False),
            ("--seed", st.just("1"), NUMBERS, False),
        ]
    if kind == "new-plugin":
        return [
            (None, st.just("o5a"), HOSTILE, True),
            ("--dir", st.just(paths["dir"]), path, False),
        ]
    if kind == "schema":
        return [("--spec", st.just(None), None, False), ("-o", out, path, False)]
    if kind == "generate":  # never a large market: --users stays tiny or invalid
        return [
            (None, out, path, True),
            ("--users", st.just("2"), st.sampled_from(["-1", "0", "x", "10000000000000"]), True),
            ("--start", st.just("2025-01-01"), HOSTILE, False),
            ("--end", st.just("2025-03-01"), HOSTILE, False),
            ("--seed", st.just("1"), NUMBERS, False),
            ("--format", st.sampled_from(["parquet", "csv"]), HOSTILE, False),
            ("-q", st.just(None), None, True),
        ]
    if kind == "demo":  # only folders that fail at once: a real one generates 2M events
        bad = [paths["events"], paths["binary"], "/proc/nope/x", paths["events"] + "/x"]
        return [
            ("--data-dir", None, st.sampled_from(bad), True),
            ("-q", st.just(None), None, True),
        ]
    return [("-f", fmt, HOSTILE, False), ("-o", out, path, False)]  # plugins, methodologies


COMMANDS = [
    "compute",
    "compare",
    "entities",
    "validate",
    "explain",
    "indicators",
    "verify",
    "new-plugin",
    "schema",
    "generate",
    "demo",
    "plugins",
    "methodologies",
]


@st.composite
def hostile_commands(draw: st.DrawFn, paths: dict[str, str]) -> list[str]:
    """A command with one argument hostile and the others valid (or absent)."""
    kind = draw(st.sampled_from(COMMANDS))
    slots = _slots(kind, paths)
    target = draw(st.integers(0, len(slots) - 1))
    args = [kind]
    for i, (flag, valid, hostile, always) in enumerate(slots):
        if hostile is not None and (i == target or (valid is None and always)):
            value = draw(hostile)
        elif valid is not None and (always or draw(st.booleans())):
            value = draw(valid)
        else:
            continue
        args += [a for a in (flag, value) if a is not None]
    return args


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_command_with_hostile_values_ends_with_a_documented_code(
    tmp_path_factory, monkeypatch, data
):
    base = tmp_path_factory.mktemp("hostile")
    (base / "dir").mkdir()
    events = write_csv(base / "data" / "events.csv", STORY)
    binary = base / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01" * 10)
    mapping = base / "mapping.yaml"
    mapping.write_text("columns: {ts: ts}\n", encoding="utf-8")
    paths = {
        "data": str(events.parent),
        "events": str(events),
        "dir": str(base / "dir"),
        "binary": str(binary),
        "mapping": str(mapping),
        "missing": str(base / "missing" / "x"),
        "out": str(base / "out"),
    }
    args = data.draw(hostile_commands(paths))
    monkeypatch.chdir(base)  # relative hostile paths land in this example's folder
    clean(CliRunner().invoke(app, args))


def test_an_unexpected_exception_is_one_line_unless_debugging(runner, monkeypatch):
    from brandlens.plugin import catalog

    def broken() -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(catalog, "plugins", broken)
    r = invoke(runner, "plugins")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr == (
        "brandlens: error: internal error: ZeroDivisionError: division by zero "
        "(please report; set BRANDLENS_DEBUG=1 for the traceback)\n"
    )
    monkeypatch.setenv("BRANDLENS_DEBUG", "1")
    assert isinstance(invoke(runner, "plugins").exception, ZeroDivisionError)


def test_library_warnings_reach_stderr_once_as_one_line(runner, monkeypatch):
    from brandlens.plugin import catalog

    real = catalog.plugins

    def noisy():
        for _ in range(50):
            warnings.warn("overflow encountered in exp\n  more detail", RuntimeWarning, 2)
        return real()

    monkeypatch.setattr(catalog, "plugins", noisy)
    r = invoke(runner, "plugins", "-f", "json")
    assert r.exit_code == 0
    assert r.stderr == "brandlens: warning: RuntimeWarning: overflow encountered in exp\n"


# ---- §2 Ctrl-C ------------------------------------------------------------------------------


class _Trap:
    """A methodology whose second indicator is interrupted the way DuckDB reports it."""

    raise_: BaseException = RuntimeError("Query interrupted")

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        from brandlens.plugin.methodology import Indicator, Methodology, Value

        def fine(ctx):
            return [Value(brand=b, value=1) for b in ctx.brands]

        def interrupted(ctx):
            raise _Trap.raise_

        register(
            Methodology(
                name="trap",
                title="t",
                source="s",
                version="1",
                indicators=(
                    Indicator(id="trap.a", title="a", unit="count", compute=fine),
                    Indicator(id="trap.b", title="b", unit="count", compute=interrupted),
                    Indicator(id="trap.c", title="c", unit="count", compute=fine),
                ),
            )
        )


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("Query interrupted"), duckdb.InterruptException("x"), KeyboardInterrupt()],
)
def test_an_interrupted_query_stops_the_run_instead_of_failing_one_indicator(
    register_plugin, events_dir, monkeypatch, exc
):
    monkeypatch.setattr(_Trap, "raise_", exc)
    register_plugin(_Trap(), "trap")
    with pytest.raises(KeyboardInterrupt):
        brandlens.compute(events_dir(STORY), methodologies=["trap"])


def test_interrupt_in_the_cli_is_one_line_exit_130_and_no_output(
    runner, register_plugin, events_dir, tmp_path
):
    register_plugin(_Trap(), "trap")
    out = tmp_path / "r.json"
    r = invoke(runner, "compute", events_dir(STORY), "-m", "trap", "-f", "json", "-o", out)
    assert r.exit_code == 130
    assert r.stderr == "brandlens: interrupted\n"
    assert not out.exists()


def test_sigint_during_compute_exits_130_without_partial_output(market, tmp_path):
    """A real Ctrl-C on the 2M-event market, wherever in the run it lands.

    --no-cache makes the run validate (several seconds); the signal goes out half a
    second after the run's private directory appears, i.e. once start-up is over.
    """
    out, spill = tmp_path / "r.json", tmp_path / "spill"
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "framework"), str(ROOT / "plugins")]),
    }
    cmd = [sys.executable, "-m", "brandlens.cli.app", "compute", str(market), "-f", "json", "-q"]
    cmd += ["-o", str(out), "--temp-directory", str(spill), "--no-cache"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Signal once the run is under way: its private directory exists only after start-up.
    deadline = time.monotonic() + 60
    while not (spill.is_dir() and any(spill.iterdir())):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert stderr == "brandlens: interrupted\n"
    assert stdout == "" and not out.exists()
    assert not spill.exists() or not any(spill.iterdir())


# ---- §4 optional data: not applicable, exit 0 -----------------------------------------------


def test_an_events_only_file_exits_0_and_says_once_what_was_skipped(runner, tmp_path):
    events = write_csv(tmp_path / "events.csv", STORY)
    r = invoke(runner, "compute", events, "-f", "json", "-q")
    clean(r)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    skipped = [n["indicator"] for n in doc["not_applicable"]]
    assert skipped == sorted(skipped) and "goal.group_tgi" in skipped
    assert doc["errors"] == []
    notes = [line for line in r.stderr.splitlines() if "not applicable" in line]
    reasons = {n["reason"] for n in doc["not_applicable"]}
    assert len(notes) == len(reasons)  # one line per reason, naming its indicators
    (goal_note,) = [n for n in notes if "goal." in n]
    assert "goal.group_tgi" in goal_note and "users table with target_group" in goal_note
    again = invoke(runner, "compute", events, "-f", "json", "-q")
    assert again.stdout == r.stdout  # byte-identical
    compared = invoke(runner, "compare", events, "-f", "json", "-q")
    assert compared.exit_code == 0
    assert [n["indicator"] for n in json.loads(compared.stdout)["not_applicable"]] == [
        # the headline indicators that need targets or target groups
        "dream.flow_achievement",
        "dream.purchase_achievement",
        "goal.core_group_penetration",
    ]


def test_the_result_schema_has_not_applicable(runner):
    doc = json.loads(invoke(runner, "schema").stdout)
    for contract in ("result", "comparison"):
        assert "not_applicable" in doc[contract]["properties"]
    assert set(doc["result"]["$defs"]["NotApplicable"]["required"]) == {
        "methodology",
        "indicator",
        "reason",
    }


# ---- §4 bad mappings are usage errors naming the mapping -----------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('read:\n  delimiter: "\\""\n', "read.delimiter"),
        ("read:\n  delimiter: ab\n", "read.delimiter"),
        ('read:\n  delimiter: ""\n', "read.delimiter"),
        ('read:\n  delimiter: "\\n"\n', "read.delimiter"),
        ("read:\n  header: false\n  names: [ts, user_id, ts]\n", "appears more than once"),
        ("read:\n  header: false\n  names: [ts, TS, user_id]\n", "appears more than once"),
        ("read:\n  header: false\n  names: [ts, ' ', user_id]\n", "must not be empty"),
        (b"\xff\xfe\x00\x01binary", "not UTF-8"),
        ("columns: {ts: Zeit}\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_bad_mappings_exit_2_naming_the_mapping_file(
    runner, events_dir, tmp_path, content, problem
):
    mapping = tmp_path / "my-mapping.yaml"
    if isinstance(content, bytes):
        mapping.write_bytes(content)
    else:
        mapping.write_text(content, encoding="utf-8")
    r = invoke(runner, "compute", events_dir(STORY), "--mapping", mapping)
    clean(r)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith(f"brandlens: error: {mapping}:") and problem in r.stderr


# ---- §4 threads: the option and the variable obey one rule -----------------------------------


@pytest.mark.parametrize(
    ("option", "env", "named"),
    [
        ("0", None, "--threads"),
        ("-1", None, "--threads"),
        ("1025", None, "--threads"),
        (None, "0", "BRANDLENS_THREADS"),
        (None, "1025", "BRANDLENS_THREADS"),
        (None, "many", "BRANDLENS_THREADS"),
    ],
)
def test_bad_thread_counts_exit_2(runner, events_dir, monkeypatch, option, env, named):
    if env is not None:
        monkeypatch.setenv("BRANDLENS_THREADS", env)
    args = ["validate", events_dir(STORY)] + (["--threads", option] if option else [])
    r = invoke(runner, *args)
    clean(r)
    assert r.exit_code == 2 and named in r.stderr and "1 to 1024" in r.stderr


def test_good_thread_counts_run(runner, events_dir, monkeypatch):
    assert invoke(runner, "validate", events_dir(STORY), "--threads", "1").exit_code == 0
    monkeypatch.setenv("BRANDLENS_THREADS", "2")
    assert invoke(runner, "validate", events_dir(STORY)).exit_code == 0
    monkeypatch.setenv("BRANDLENS_THREADS", "0")  # the option wins over the variable
    assert invoke(runner, "validate", events_dir(STORY), "--threads", "1").exit_code == 0


# ---- §4 CLV with huge amounts: scale-free, finite, silent ------------------------------------


@pytest.fixture(scope="module")
def markets(tmp_path_factory) -> dict[str, Path]:
    """A small generated market, the same with amounts x 1e6, and with every amount near 1e16."""
    from brandlens.data.market import generate

    base = tmp_path_factory.mktemp("clv")
    generate(base / "x1", users=3000, seed=0)
    con = duckdb.connect()
    out = {"x1": base / "x1"}
    for name, expr in [
        ("x1e6", "CAST(amount * 1000000 AS DECIMAL(18,2))"),
        ("near1e16", "CAST(9999999999999999.99 AS DECIMAL(18,2))"),
    ]:
        d = base / name
        d.mkdir()
        for f in (base / "x1").iterdir():
            if f.name != "events.parquet":
                (d / f.name).write_bytes(f.read_bytes())
        con.execute(
            f"COPY (SELECT * REPLACE (CASE WHEN amount IS NULL THEN NULL ELSE {expr} END "
            f"AS amount) FROM read_parquet($src)) TO $dst",
            {"src": str(base / "x1" / "events.parquet"), "dst": str(d / "events.parquet")},
        )
        out[name] = d
    return out


def _goal_quietly(path: Path) -> Result:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = brandlens.compute(path, methodologies=["goal"])
    assert [str(w.message) for w in caught] == []
    return result


def test_clv_scales_with_the_currency_unit(markets):
    small, large = _goal_quietly(markets["x1"]), _goal_quietly(markets["x1e6"])
    assert small.errors == [] and large.errors == []
    brands = {r.brand for r in small.results if r.indicator == "goal.clv_total"}
    for b in sorted(brands):
        a, z = small.value("goal.clv_total", b), large.value("goal.clv_total", b)
        assert z == pytest.approx(a * 1e6, rel=1e-2), b
        assert large.value("goal.high_value_share", b) == small.value("goal.high_value_share", b)


def test_clv_with_amounts_near_1e16_is_finite_and_silent(runner, markets):
    result = _goal_quietly(markets["near1e16"])
    clv = [r.value for r in result.results if r.indicator == "goal.clv_total"]
    assert clv and all(v is not None and np.isfinite(v) for v in clv)
    assert [e for e in result.errors if "clv" in e.indicator] == []
    r = invoke(runner, "compute", markets["near1e16"], "-m", "goal", "-f", "json", "-q")
    assert r.exit_code == 0 and r.stderr == ""


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("--mapping", "/dev/zero: cannot read mapping file"),
        ("--benchmark", "--benchmark {zero}"),  # named .csv, as a benchmark file must be
    ],
)
def test_an_endless_settings_file_is_one_line_not_all_memory(
    runner, events_dir, tmp_path, option, named
):
    """/dev/zero never ends: reading a settings file stops at 16 MB (it once filled RAM)."""
    command = "compare" if option == "--benchmark" else "compute"
    zero = Path("/dev/zero")
    if option == "--benchmark":
        zero = tmp_path / "figures.csv"
        zero.symlink_to("/dev/zero")
    r = invoke(runner, command, events_dir(STORY), option, zero, "-q")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"brandlens: error: {named.format(zero=zero)}")
    assert "larger than 16 MB" in r.stderr and r.stderr.count("\n") == 1


def test_an_endless_spec_file_is_one_line(tmp_path):
    from brandlens.errors import PluginError
    from brandlens.specs.spec import load_spec

    with pytest.raises(PluginError, match=r"/dev/zero: cannot read spec \(larger than 16 MB"):
        load_spec("/dev/zero")
