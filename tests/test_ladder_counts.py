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

    def spy(self, ladder, *rest):
        built.append(ladder.name)
        return original(self, ladder, *rest)

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


def test_a_ladder_that_failed_in_the_run_is_built_again_for_its_count(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandlens.engine.engines import DuckDBEngine

    with Dataset(market) as ds:
        alone = ds.ladder_counts("fast", AS_OF, BRANDS, back=7)
        original = DuckDBEngine.materialise

        def failing(self, name, sql, binds):
            if name == "aipl":  # the run's own table; the count's is counts__aipl
                raise ValueError("planted failure")
            return original(self, name, sql, binds)

        monkeypatch.setattr(DuckDBEngine, "materialise", failing)
        result = ds.compute(
            as_of=AS_OF,
            methodologies=["fast"],
            brands=BRANDS,
            ladder_counts={"fast": {"aipl": 7}},
        )
    assert any("planted failure" in e.message for e in result.errors)
    assert result.ladders["fast"].counts == alone[0]
    assert result.ladders["fast"].flows == alone[1]


def test_headline_indicators_and_what_they_read_come_first(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a run of every indicator spends its budget on the headline values first."""
    from brandlens.engine.engines import DuckDBEngine

    steps: list[tuple[str, str]] = []
    original_materialise, original_indicator = DuckDBEngine.materialise, runs._Run._indicator

    def materialise(self, name, sql, binds):
        steps.append(("relation", name))
        return original_materialise(self, name, sql, binds)

    def indicator(self, ind):
        steps.append(("headline" if ind.headline else "other", ind.id))
        return original_indicator(self, ind)

    monkeypatch.setattr(DuckDBEngine, "materialise", materialise)
    monkeypatch.setattr(runs._Run, "_indicator", indicator)
    with Dataset(market) as ds:
        for m in ds.methodologies():
            steps.clear()
            ds.compute(as_of=AS_OF, methodologies=[m.name], brands=BRANDS)
            kinds = [k for k, _ in steps]
            last_headline = max(i for i, k in enumerate(kinds) if k == "headline")
            assert "other" not in kinds[:last_headline], m.name
            needed = set(m.relations_needed([i.id for i in m.methodology.indicators if i.headline]))
            early = {n for k, n in steps[:last_headline] if k == "relation"}
            assert early <= needed, m.name
            assert {n for k, n in steps if k == "relation"} - early == set(
                m.relations_needed([i.id for i in m.methodology.indicators])
            ) - needed, m.name


def _events_only(market: Path, tmp_path: Path) -> Path:
    out = tmp_path / "events_only"
    out.mkdir()
    (out / "events.parquet").write_bytes((market / "events.parquet").read_bytes())
    return out


def test_a_reports_comparison_is_the_comparison_compare_prints(
    market: Path, tmp_path: Path
) -> None:
    """Also where non-headline indicators are not applicable (no users table, ...)."""
    import brandlens

    for data in (market, _events_only(market, tmp_path)):
        report = brandlens.report(data, as_of=AS_OF, brands=BRANDS, baseline="previous")
        compared = brandlens.compare(
            data, as_of=AS_OF, brands=BRANDS, baseline="previous", across_categories=True
        )
        assert report.comparison.model_dump_json() == compared.model_dump_json()
        assert report.comparison.not_applicable == compared.not_applicable


def test_a_report_takes_methodology_names_from_a_generator(market: Path) -> None:
    import brandlens

    names = ["fast", "goal"]
    report = brandlens.report(market, as_of=AS_OF, brands=BRANDS, methodologies=iter(names))
    assert report.methodologies == names


def test_a_count_has_a_budget_of_its_own(market: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indicators may spend the methodology's budget; a ladder the count must build
    (here one whose table lacks the snapshot asked for) is built under a fresh one, as
    ``Dataset.ladder_counts`` builds it alone, and the report is not lost."""
    original = runs._Run._indicators

    def spending(self, group, rows, errors, skipped):
        original(self, group, rows, errors, skipped)
        self.clock.started -= self.clock.budget + 1  # the budget is spent

    with Dataset(market) as ds:
        alone = ds.ladder_counts("fast", AS_OF, BRANDS, back=5)
        monkeypatch.setattr(runs._Run, "_indicators", spending)
        result = ds.compute(
            as_of=AS_OF,
            methodologies=["fast"],
            brands=BRANDS,
            ladder_counts={"fast": {"aipl": 5}},
        )
    assert result.ladders["fast"].counts == alone[0]
    assert result.ladders["fast"].flows == alone[1]
