"""``compare_and_report``: ``brandlens demo``'s comparison and report from one run.

Each must equal what its own command makes (``compare`` and ``report`` with the same
choice), whether the two share a run (the same brands computed) or cannot (a
comparison within a category computes that category's brands alone) and make two.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from brandlens.analysis.compare import CompareOptions, compare
from brandlens.analysis.report import ReportOptions, build_report, compare_and_report
from brandlens.engine.runs import Dataset

AS_OF = "2025-03-31"


@pytest.fixture(scope="module")
def ds(market: Path):
    with Dataset(market) as d:
        yield d


@pytest.fixture
def runs(ds: Dataset, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each compute of ``ds``: ("main", "targets" or "baseline"; every indicator asked?).

    A baseline run is one at another day; the main run is at the latest day the
    comparison asks for (the cases below ask for none or for ``AS_OF``).
    """
    made: list[tuple[str, bool]] = []
    original = Dataset.compute
    days = {ds._as_of(None), ds._as_of(AS_OF)}

    def spy(self, *args, **kwargs):
        if kwargs.get("indicators") is not None:
            kind = "targets"
        else:
            kind = "main" if self._as_of(kwargs.get("as_of")) in days else "baseline"
        made.append((kind, not kwargs.get("headline_only", False)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Dataset, "compute", spy)
    return made


CASES = {
    "defaults": ({}, {}, {}),
    "brands and funnel": (
        {"brands": ["Nova", "Volt", "Zenith"], "as_of": AS_OF},
        {"funnel": True, "currency": "USD", "across_categories": True},
        {"currency": "USD"},
    ),
    "baseline and parameters": (
        {
            "methodologies": ["fast", "goal", "dream"],
            "as_of": AS_OF,
            "params": {"fast.advancing_period_days": 14},
        },
        {"baseline": "previous"},
        {"baseline": "previous"},
    ),
    "no targets": ({"as_of": AS_OF}, {"targets": False}, {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_equals_its_own_command(ds: Dataset, runs: list, case: str) -> None:
    choice, copts, ropts = CASES[case]
    comparison, report = compare_and_report(
        ds,
        **choice,
        compare_options=CompareOptions(**copts),
        report_options=ReportOptions(**ropts),
    )
    shared = list(runs)
    runs.clear()
    alone = compare(ds, **choice, options=CompareOptions(**copts))
    assert comparison.model_dump_json() == alone.model_dump_json()
    assert (
        report.model_dump_json()
        == build_report(ds, **choice, options=ReportOptions(**ropts)).model_dump_json()
    )
    separate = list(runs)
    # one run of every indicator served both; the commands alone made two
    assert [r for r in shared if r[0] == "main"] == [("main", True)]
    assert [r for r in separate if r[0] == "main"] == [("main", False), ("main", True)]
    due = [r for r in separate if r[0] == "targets"]
    # due targets at other period ends were computed once, not once per command
    assert len([r for r in shared if r[0] == "targets"]) == (
        len(due) if not copts.get("targets", True) else len(due) // 2
    )


def test_targets_at_other_period_ends_are_due_here(ds: Dataset, runs: list) -> None:
    """The sharing of targets above is tested only if some are computed again."""
    compare_and_report(ds)
    assert any(kind == "targets" for kind, _ in runs)


def test_a_category_comparison_makes_its_own_run(ds: Dataset, runs: list) -> None:
    """Within one category ``compare`` computes that category's brands, the report every
    brand: no run serves both, and each is its own command's."""
    from brandlens.analysis import category

    placed = category.assign(category.category_gmv(ds, ds._as_of(None)), None)
    chosen = sorted(set(placed.values()))[0]
    copts = CompareOptions(category=chosen)
    comparison, report = compare_and_report(ds, compare_options=copts)
    assert [r for r in runs if r[0] == "main"] == [("main", False), ("main", True)]
    assert comparison.model_dump_json() == compare(ds, options=copts).model_dump_json()
    assert report.model_dump_json() == build_report(ds).model_dump_json()
    assert set(report.brands) > {r.brand for r in comparison.rows}


def test_the_demo_prints_its_comparison_when_the_reports_part_fails(
    market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ladder counted only for the report's pictures fails (a slow third-party ladder
    timing out, say): the shared run fails with it, and the demo goes back to one run
    each, as `compare` then `report`: the comparison is printed, the report's error
    said, as before the runs were shared."""
    import json
    import shutil

    from typer.testing import CliRunner

    from brandlens.cli.app import app
    from brandlens.data.market import MARKET_VERSION
    from brandlens.engine import runs as engine_runs
    from brandlens.errors import DataError

    data = tmp_path / "demo"
    shutil.copytree(market, data)
    (data / ".complete").write_text(MARKET_VERSION)
    with Dataset(data) as ds:
        expected = compare(ds, options=CompareOptions())

    def failing(self, backs):
        raise DataError("a ladder count failed")

    monkeypatch.setattr(engine_runs._Run, "count_ladders", failing)
    r = CliRunner().invoke(app, ["demo", "--data-dir", str(data), "-q", "-f", "json"])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == "brandlens: error: a ladder count failed"
    # before it only the note on methodologies reading further back than the market goes
    assert [h.methodology for h in expected.short_history] == ["dream", "fast"]
    assert len(lines) == 2 and lines[0].startswith("brandlens: note: the data starts 2023-04-01")
    assert json.loads(r.stdout) == json.loads(expected.model_dump_json())
    assert not (data / "report.html").exists()
