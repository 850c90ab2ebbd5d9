"""Hostile input, one class at a time (issue 10, "Hardening").

Whatever the data or the arguments hold, brandlens shows it literally (no rich markup,
control characters escaped), writes CSV that round-trips, skips what the data does not
allow instead of failing, stops cleanly on Ctrl-C, and ends with one line and a
documented exit code: never a traceback.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli import app
from brandlens.result import Result
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
    assert len(notes) == 1 and "goal.group_tgi" in notes[0] and "users table" in notes[0]
    again = invoke(runner, "compute", events, "-f", "json", "-q")
    assert again.stdout == r.stdout  # byte-identical
    compared = invoke(runner, "compare", events, "-f", "json", "-q")
    assert compared.exit_code == 0
    assert [n["indicator"] for n in json.loads(compared.stdout)["not_applicable"]] == [
        "goal.core_group_penetration"  # the only headline indicator that needs target groups
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
    from brandlens.market import generate

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
