"""Methodologies that read further back than the data goes are named, with the dates.

A GROW comparison period that lies before the first event put the whole GMV change into
Widen, silently (found by a review walkthrough). The numbers stay as they are: what an
indicator counts before the data starts is missing, and the result says so.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.ladders import Evidence, Stage, StageLadder
from conftest import ev

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")


def _log(first: str) -> list[dict]:
    # one purchase on the first day (12:00 local) and one on as_of, 2025-06-30
    return [
        ev(f"{first} 04:00:00", "u1", "purchase", amount="10"),
        ev("2025-06-30 04:00:00", "u1", "purchase", amount="20"),
    ]


def _short(events_dir, first: str, **params) -> list[dict]:
    result = brandlens.compute(
        events_dir(_log(first)),
        as_of="2025-06-30",
        methodologies=["grow"],
        params={f"grow.{k}": v for k, v in params.items()},
    )
    return [h.model_dump() for h in result.short_history]


def test_grow_names_the_base_period_the_data_does_not_reach(events_dir):
    # P1 and P0 of 365 days each: 730 days up to 2025-06-30 start on 2023-07-02
    # (2024 has 29 February); a log from 2025-01-01 has no P0 at all
    assert _short(events_dir, "2025-01-01") == [
        {
            "methodology": "grow",
            "reads_from": "2023-07-02",
            "data_from": "2025-01-01",
            "days": 730,
        }
    ]


@pytest.mark.parametrize(("first", "short"), [("2025-01-02", False), ("2025-01-03", True)])
def test_the_boundary_is_the_first_day_read(events_dir, first, short):
    # 90-day periods: 180 days up to 2025-06-30 start on 2025-01-02. A log from that day
    # covers them; from the next it misses one day.
    got = _short(events_dir, first, period_days=90)
    assert bool(got) == short
    if short:
        assert got[0]["reads_from"] == "2025-01-02" and got[0]["data_from"] == first


def test_a_ladder_reads_its_longest_window_from_its_earliest_snapshot():
    ladder = StageLadder(
        name="l",
        snapshots=(0, "$back"),
        stages=(
            Stage(key="A", evidence=(Evidence(event_types=("ad_click",), window_days=15),)),
            Stage(
                key="P",
                evidence=(
                    Evidence(event_types=("purchase",), window_days="$long"),
                    # switched off unless deep: its 999 days are not read otherwise
                    Evidence(event_types=("purchase",), window_days=999, when={"deep": True}),
                ),
            ),
        ),
    )
    assert ladder.history_days({"back": 7, "long": 365, "deep": False}) == 372
    assert ladder.history_days({"back": 30, "long": 10, "deep": False}) == 45
    assert ladder.history_days({"back": 7, "long": 365, "deep": True}) == 1006


def test_every_builtin_methodology_says_how_far_it_reads(events_dir):
    # the defaults, by hand from each methodology's parameters (docs/methodologies/*.md)
    result = brandlens.compute(events_dir(_log("2025-06-01")), as_of="2025-06-30")
    days = {h.methodology: h.days for h in result.short_history}
    assert days == {
        "argo": 730,  # the CLV history, two LTV years
        "dream": 1825,  # the replacement horizon
        "fast": 919,  # P's 912 days from the snapshot 7 days back
        "goal": 730,  # the CLV history
        "grow": 730,  # two periods of 365
        "super": 448,  # 51 weekly snapshots back (357), then New's 91 days (90 + 1)
    }
    for h in result.short_history:
        start = date(2025, 6, 30) - timedelta(days=h.days - 1)
        assert (h.reads_from, h.data_from) == (start.isoformat(), "2025-06-01")


def test_the_cli_says_it_once_and_json_carries_it(events_dir):
    data = events_dir(_log("2025-01-01"))
    r = CliRunner().invoke(app, ["compute", str(data), "-m", "grow", "-f", "json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["short_history"][0]["reads_from"] == "2023-07-02"
    notes = [line for line in r.stderr.splitlines() if "note:" in line]
    assert notes == [
        "brandlens: note: the data starts 2025-01-01, after where these read events: grow from "
        "2023-07-02 (730 days); what they count before it is missing, not zero"
    ]
    r = CliRunner().invoke(app, ["compare", str(data), "-m", "grow", "-f", "json"])
    assert json.loads(r.stdout)["short_history"][0]["methodology"] == "grow"


def test_a_baseline_that_reads_before_the_data_says_so(events_dir):
    # GROW reads 730 days. As of 2025-06-30 that is from 2023-07-02, which a log from
    # 2023-04-01 covers; as of the yoy baseline, 2024-06-30, it is from 2022-07-02, which
    # it does not: the changes since then start from a partly empty base period.
    log = [*_log("2023-04-01"), ev("2024-06-30 04:00:00", "u2", "purchase", amount="5")]
    data = events_dir(log)
    r = CliRunner().invoke(
        app, ["compare", str(data), "-m", "grow", "--baseline", "yoy", "-f", "json"]
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["short_history"] == []
    assert got["baseline"]["short_history"] == [
        {"methodology": "grow", "reads_from": "2022-07-02", "data_from": "2023-04-01", "days": 730}
    ]
    notes = [line for line in r.stderr.splitlines() if "note:" in line]
    assert notes == [
        "brandlens: note: as of the baseline 2024-06-30, these read events before the data "
        "starts (2023-04-01): grow from 2022-07-02; their changes start from partly missing "
        "counts"
    ]
    r = CliRunner().invoke(
        app, ["compare", str(data), "-m", "grow", "--baseline", "yoy", "-f", "markdown"]
    )
    assert "### baseline (2024-06-30): history shorter than read" in r.stdout


def test_an_as_of_in_year_one_reads_from_the_first_date_there_is(events_dir):
    """`compute --as-of 0001-01-01` was `internal error: OverflowError: date value out of
    range`: GROW's window (365 + 30 days back) starts before any date Python has. Nothing
    is counted (no event is that early), and the window reads from 0001-01-01."""
    result = brandlens.compute(
        events_dir(_log("2025-01-01")), as_of="0001-01-01", methodologies=["grow"]
    )
    (short,) = result.short_history
    assert (short.reads_from, short.data_from) == ("0001-01-01", "2025-01-01")
    change = next(r for r in result.results if r.indicator == "grow.gmv_change")
    assert change.value == 0
