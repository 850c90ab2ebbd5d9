"""Ladders counted inside a compute (``ladder_counts``) against ladders built on their own.

A report and ``compare --funnel`` read the ladders' users per stage from the run that
computed the indicators, instead of building every ladder a second time. The counts
must be those of ``Dataset.ladder_counts``, which builds each ladder with just the two
snapshots asked for; the run's own table is read only when it holds both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from brandlens.engine import runs
from brandlens.engine.runs import Dataset
from brandlens.errors import UsageError

AS_OF = "2025-03-31"
BRANDS = ["Nova", "Volt", "Zenith"]
# Each built-in ladder: its methodology, and a back the run's table holds (the
# declared flow span, its default) and one it does not (counted from a table of its own).
LADDERS = {
    ("fast", "aipl"): (7, 5),
    ("goal", "four_a"): (30, 12),
    ("dream", "dream_mind"): (30, 45),
}


@pytest.fixture(scope="module")
def ds(market: Path):
    with Dataset(market) as d:
        yield d


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ladders built for a count alone (not the run's own tables)."""
    built: list[str] = []
    original = runs._Run.ladder_table

    def spy(self, ladder):
        built.append(ladder.name)
        return original(self, ladder)

    monkeypatch.setattr(runs._Run, "ladder_table", spy)
    return built


@pytest.mark.parametrize(("methodology", "ladder"), sorted(LADDERS))
@pytest.mark.parametrize("held", [True, False], ids=["held", "built"])
def test_counts_in_a_run_equal_a_ladder_built_alone(
    ds: Dataset, builds: list[str], methodology: str, ladder: str, held: bool
) -> None:
    back = LADDERS[(methodology, ladder)][0 if held else 1]
    alone = ds.ladder_counts(methodology, AS_OF, BRANDS, back=back)
    builds.clear()
    result = ds.compute(
        as_of=AS_OF,
        methodologies=[methodology],
        brands=BRANDS,
        ladder_counts={methodology: {ladder: back}},
    )
    counted = result.ladders[methodology]
    assert counted.counts == [c for c in alone[0] if c[0] == ladder]
    assert counted.flows == [f for f in alone[1] if f[0] == ladder]
    assert {c[1] for c in counted.counts} == {0, back}  # both snapshots, and only them
    assert sum(f[4] for f in counted.flows) > 0
    assert builds == ([] if held else [ladder])


def test_back_zero_counts_the_day_alone_and_no_flows(ds: Dataset) -> None:
    result = ds.compute(
        as_of=AS_OF, methodologies=["fast"], brands=BRANDS, ladder_counts={"fast": {"aipl": 0}}
    )
    counts, flows = ds.ladder_counts("fast", AS_OF, BRANDS)
    assert result.ladders["fast"].counts == counts
    assert result.ladders["fast"].flows == flows == []


def test_counts_leave_the_results_and_the_json_as_they_were(ds: Dataset) -> None:
    plain = ds.compute(as_of=AS_OF, methodologies=["fast", "goal"], brands=BRANDS)
    counted = ds.compute(
        as_of=AS_OF,
        methodologies=["fast", "goal"],
        brands=BRANDS,
        ladder_counts={"goal": {"four_a": 30}},
    )
    assert plain.ladders == {} and list(counted.ladders) == ["goal"]
    assert counted.model_dump_json() == plain.model_dump_json()


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ({"goal": {"four_a": 30}}, "goal is not among"),
        ({"fast": {"four_a": 30}}, "fast has no ladder 'four_a'"),
        ({"fast": {"aipl": -1}}, "whole days"),
        ({"fast": {"aipl": 1.5}}, "whole days"),
        ({"fast": {"aipl": True}}, "whole days"),
    ],
)
def test_a_request_for_what_the_run_lacks_is_a_usage_error(
    ds: Dataset, asked: dict, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        ds.compute(as_of=AS_OF, methodologies=["fast"], ladder_counts=asked)


def test_a_reports_funnels_and_flows_are_the_ladders_built_alone(market: Path) -> None:
    import brandlens
    from brandlens.analysis.charts import ReportContext

    report = brandlens.report(
        market, as_of=AS_OF, brands=BRANDS, params={"fast.advancing_period_days": 9}
    )
    charts = {c.id: c for s in report.sections for c in s.charts}
    spans = {"aipl": 9, "four_a": 30, "dream_mind": 30}  # each ladder's flow span
    with Dataset(market) as ds:
        for (methodology, ladder), _ in sorted(LADDERS.items()):
            back = spans[ladder]
            params = {"fast.advancing_period_days": 9} if methodology == "fast" else {}
            counts, flows = ds.ladder_counts(methodology, AS_OF, BRANDS, params, back=back)
            (lad,) = ds.methodologies([methodology])[0].methodology.ladders
            for brand in BRANDS:
                slug = ReportContext.slug(brand)
                funnel = charts[f"{methodology}.{ladder}.funnel.{slug}"]
                for series, days in zip(funnel.series, (0, back), strict=True):
                    users = {s: n for lg, d, b, s, n in counts if b == brand and d == days}
                    assert series.values == [users.get(s.key, 0) for s in lad.stages]
                sankey = charts[f"{methodology}.{ladder}.sankey.{slug}"]
                label = {  # as the report labels a stage: its key, then its title
                    s.key: s.title if s.title.startswith(s.key) else f"{s.key} {s.title}".strip()
                    for s in lad.stages
                }
                moved = [
                    (label.get(f, "none"), label.get(t, "none"), n)
                    for lg, b, f, t, n in flows
                    if b == brand and n
                ]
                assert [(k.source, k.target, k.value) for k in sankey.links] == moved
                assert moved and sum(funnel.series[0].values) > 0


def test_compare_funnel_cells_are_the_ladders_built_alone(market: Path) -> None:
    import brandlens

    got = brandlens.compare(market, as_of=AS_OF, brands=BRANDS, funnel=True)
    with Dataset(market) as ds:
        for m in ds.methodologies(got.methodologies):
            for lad in [x for x in m.methodology.ladders if x.funnel]:
                counts, _ = ds.ladder_counts(m.name, AS_OF, BRANDS)
                for brand in BRANDS:
                    users = {s: n for lg, d, b, s, n in counts if lg == lad.name and b == brand}
                    for cell in got.funnel.cells:
                        if (cell.brand, cell.ladder) == (brand, lad.name):
                            keys = lad.crosswalk()[cell.step]
                            assert cell.users == sum(users.get(k, 0) for k in keys)
