"""brandlens report: the model's structure on the demo market, offline HTML, determinism."""

from __future__ import annotations

import math
import re

import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.analysis.charts import ReportContext
from brandlens.cli.app import app
from brandlens.cli.report_html import render_html
from conftest import ev
from fixture_plugins import ToyPlugin

DEMO_BRANDS = [
    "Aurora", "Crunchy", "Dusk", "Gearup", "Lumi", "Nimbus", "Nova",
    "Orchid", "Pixelon", "Sakura", "Verde", "Volt", "Zenith",
]  # fmt: skip
LADDERS = {"dream": "dream_mind", "fast": "aipl", "goal": "four_a"}


@pytest.fixture(scope="module")
def demo_report(market):
    return brandlens.report(market)


def test_golden_structure_of_the_demo_report(demo_report):
    r = demo_report
    assert r.brands == DEMO_BRANDS
    slugs = [ReportContext.slug(b) for b in DEMO_BRANDS]
    per_brand = lambda prefix: [f"{prefix}.{s}" for s in slugs]  # noqa: E731
    expected = {
        "overview": ["overview.agreement", "overview.composite_ranks"],
        **{
            f"ladder.{m}.{lad}": [
                c for s in slugs for c in (f"{m}.{lad}.funnel.{s}", f"{m}.{lad}.sankey.{s}")
            ]
            for m, lad in sorted(LADDERS.items())
        },
        "argo": ["argo.lifecycle", "argo.retention_curves"],
        "dream": ["dream.structure_gap", *per_brand("dream.mind_matrix")],
        "fast": ["fast.quadrant"],
        "goal": ["goal.tgi", "goal.clv_per_customer", "goal.clv_distribution", "goal.clv_split"],
        "grow": per_brand("grow.waterfall"),
        "super": ["super.stage_mix", *per_brand("super.product_flow")],
    }
    assert {s.id: [c.id for c in s.charts] for s in r.sections} == expected
    assert [s.id for s in r.sections] == list(expected)
    # the ladders by the names people say, not their relations' (was "DREAM_MIND ladder")
    ladders = [s.title for s in r.sections if s.id.startswith("ladder.")]
    assert ladders == ["DREAM mind ladder (DREAM)", "AIPL ladder (FAST)", "JD 4A ladder (GOAL)"]
    assert r.notes == []
    for s in r.sections:
        for c in s.charts:
            assert c.definition and c.source, c.id
            assert not c.is_empty(), c.id
            if s.methodology and not s.id.startswith("ladder."):
                assert c.indicators, c.id


def test_grow_waterfalls_add_up(demo_report):
    grow = next(s for s in demo_report.sections if s.id == "grow")
    for c in grow.charts:
        v = c.series[0].values
        assert sum(v[:-1]) == pytest.approx(v[-1], rel=1e-6, abs=0.05), c.id


def test_goal_box_plots_are_the_clv_distribution(market, demo_report):
    """One box per brand: the five quantiles of goal.clv_distribution in order, the mean
    (goal.clv_per_customer) as the dot; the SVG draws a box, a median line and a dot each."""
    goal = next(s for s in demo_report.sections if s.id == "goal")
    box = next(c for c in goal.charts if c.id == "goal.clv_distribution")
    assert box.kind == "box" and box.labels == DEMO_BRANDS
    assert [s.name for s in box.series] == ["p10", "p25", "p50", "p75", "p90", "mean"]
    result = brandlens.compute(market, methodologies=["goal"])
    for i, b in enumerate(DEMO_BRANDS):
        quantiles = [s.values[i] for s in box.series[:5]]
        assert quantiles == [
            result.value("goal.clv_distribution", b, k) for k in ("p10", "p25", "p50", "p75", "p90")
        ]
        assert quantiles == sorted(quantiles), b
        assert box.series[5].values[i] == result.value("goal.clv_per_customer", b)
    html = render_html(demo_report)
    figure = html.split('id="chart-goal.clv_distribution"', 1)[1].split("</figure>", 1)[0]
    assert figure.count("<g><title>") == len(DEMO_BRANDS)
    assert figure.count("<rect") == figure.count("<circle") == len(DEMO_BRANDS)
    assert "Whiskers: p10 to p90; box: p25 to p75; line: p50; dot: mean; log scale" in figure
    assert ">CNY, log scale</text>" in figure  # the unit once, under the powers of ten


def test_a_box_plot_needs_its_five_series():
    from brandlens.plugin import Chart, Series

    five = [Series(name=f"s{i}", values=[i]) for i in range(5)]
    Chart(id="b", kind="box", title="B", indicators=[], labels=["x"], series=five)
    with pytest.raises(ValueError, match="a box plot has five series"):
        Chart(id="b", kind="box", title="B", indicators=[], labels=["x"], series=five[:4])


def test_a_log_scale_is_for_box_plots_and_gives_every_decade_the_same_width():
    from brandlens.cli.report_html import _log_axis, _power
    from brandlens.plugin import Chart

    with pytest.raises(ValueError, match="log scale is drawn for box plots only"):
        Chart(id="b", kind="bar", title="B", indicators=[], labels=["x"], scale="log")
    # the demo's CLV spread: p10 0.095 for one brand, p90 1,568 for another
    px, lo, hi, ticks = _log_axis([0.095, 3.4, 25.6, 1568.6], 100.0, 500.0)
    assert (lo, hi) == (0.01, 10000.0)  # widened to whole powers of ten
    assert ticks == [0.1, 1.0, 10.0, 100.0, 1000.0]
    assert px(lo) == 100.0 and px(hi) == 500.0
    assert px(1.0) - px(0.1) == pytest.approx(px(1000.0) - px(100.0)) == pytest.approx(400 / 6)
    assert px(0.0) == px(-3.0) == 100.0  # nothing to take a log of: the low end
    labels = [_power(t) for t in [lo, *ticks, hi]]
    assert labels == ["0.01", "0.1", "1", "10", "100", "1k", "10k"]
    assert [_power(10.0**e) for e in (-3, 6, 7, 9)] == ["0.001", "1M", "10M", "1B"]
    px, lo, hi, ticks = _log_axis([5.0], 0.0, 10.0)  # one value: one decade around it
    assert (lo, hi, ticks) == (1.0, 10.0, []) and px(5.0) == pytest.approx(10 * math.log10(5))


def test_the_html_fetches_nothing(demo_report):
    html = render_html(demo_report)
    fetching = re.findall(
        r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?(?!#)[^"'\s>]+|url\(|@import|<script|<link|<iframe|<object|<embed)""",
        html,
        flags=re.I,
    )
    assert fetching == []
    assert "Content-Security-Policy" in html
    assert all(f'id="chart-{c.id}"' in html for s in demo_report.sections for c in s.charts)


def test_same_input_same_bytes(market, demo_report):
    again = brandlens.report(market)
    assert again.model_dump_json() == demo_report.model_dump_json()
    assert render_html(again) == render_html(demo_report)


STORY = [
    ev("2025-06-10 04:00:00", "u1", "ad_impression", brand="Lumi"),
    ev("2025-06-20 04:00:00", "u1", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-21 04:00:00", "u2", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-22 04:00:00", "u3", "purchase", brand="<b>Aurora</b>", amount="7"),
]


def test_a_third_party_ladder_gets_its_funnel_and_sankey(register_plugin, events_dir, tmp_path):
    register_plugin(ToyPlugin(), "toy-plugin")
    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["report", str(events_dir(STORY)), "-m", "toy", "-o", str(out)])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert 'data-section-id="ladder.toy.toy_ladder"' in html
    assert 'id="chart-toy.toy_ladder.funnel.lumi"' in html
    assert 'id="chart-toy.toy_ladder.sankey.b-aurora-b"' in html
    assert "<b>Aurora</b>" not in html and "&lt;b&gt;Aurora&lt;/b&gt;" in html
    assert "TOY: its plugin contributes no pictures of its own" in html
    assert "TOY LADDER ladder (TOY)" in html  # no title: the name, as a reader writes it


def test_the_overview_says_which_columns_rows_were_quarantined_for(register_plugin, events_dir):
    register_plugin(ToyPlugin(), "toy-plugin")
    bad = [
        ev("2025-06-20 04:00:00", "u4", "purchase", brand="Lumi", amount="abc"),
        ev("2025-06-20 04:00:00", "u5", "purchase", brand="Lumi", amount="1.234"),
        ev("2025-06-20 04:00:00", "u6", "purchase", brand="Lumi", amount="1", quantity="x"),
        ev("2025-06-20 04:00:00", "", "purchase", brand="Lumi", amount="1"),
    ]
    r = brandlens.report(events_dir(STORY + bad), methodologies=["toy"])
    assert r.dataset.quarantined_columns == {
        "missing_required": {"user_id": 1},
        "bad_type": {"amount": 2, "quantity": 1},
    }
    html = render_html(r)
    assert "<td>bad_type</td><td>3</td><td>amount 2; quantity 1</td>" in html.replace("\n", "")


def test_usage_errors(events_dir, tmp_path):
    data = str(events_dir(STORY))
    r = CliRunner().invoke(app, ["report", data, "-o", str(tmp_path / "r.html"), "--currency", "x"])
    assert r.exit_code == 2 and "--currency" in r.stderr
    r = CliRunner().invoke(app, ["report", data])
    assert r.exit_code == 2


class RaisingToy(ToyPlugin):
    @brandlens.hookimpl
    def brandlens_report_sections(self, register):
        register("toy", lambda ctx: [1 / 0])


def test_a_failing_builder_is_a_note_not_a_failure(register_plugin, events_dir):
    register_plugin(RaisingToy(), "raising-toy")
    r = brandlens.report(events_dir(STORY), methodologies=["toy"])
    assert "TOY: its report sections failed: ZeroDivisionError: division by zero" in r.notes
    assert [s.id for s in r.sections] == ["overview", "ladder.toy.toy_ladder"]


def test_grow_draws_a_waterfall_for_a_brand_that_sold_nothing_in_p1():
    """GMV in P0, no buyer in P1: frequency and value growth are null, but P1 GMV is 0,
    so the waterfall runs from P0 GMV down to 0 (#17 item 7); a brand without GMV in
    P0 gets the note instead."""
    from brandlens_grow.report import sections

    ctx = ReportContext(
        methodology="grow",
        as_of="2025-06-30",
        brands=["Gone", "Fresh"],
        values={
            "grow.gmv_change": {"Gone": {"": -10.0}, "Fresh": {"": 7.0}},
            "grow.lost": {"Gone": {"": -10.0}, "Fresh": {"": 0.0}},
            "grow.widen": {"Gone": {"": 0.0}, "Fresh": {"": 7.0}},
            "grow.buyers_growth": {"Gone": {"": -1.0}, "Fresh": {"": None}},
            "grow.frequency_growth": {"Gone": {"": None}, "Fresh": {"": None}},
            "grow.value_growth": {"Gone": {"": None}, "Fresh": {"": None}},
        },
    )
    (grow,) = sections(ctx)
    assert [c.id for c in grow.charts] == ["grow.waterfall.gone"]
    assert grow.charts[0].series[0].values == [10.0, 0, 0, 0, 0, -10.0, 0.0]
    assert grow.notes == ["Fresh: no waterfall (no GMV in P0, or no change to split)"]


def test_the_report_says_which_methodologies_read_past_the_data_and_counts_brands(events_dir):
    # was: only compute and compare said so, and "1 brands" headed a one-brand report
    rows = [
        ev("2025-01-01 04:00:00", "u1", "purchase", amount="10"),
        ev("2025-06-30 04:00:00", "u1", "purchase", amount="20"),
    ]
    report = brandlens.report(events_dir(rows), as_of="2025-06-30", methodologies=["grow"])
    assert [h.methodology for h in report.comparison.short_history] == ["grow"]
    html = render_html(report)
    assert "<h3>Methodologies that read further back than the data</h3>" in html
    assert "The data starts 2025-01-01" in html
    assert "<td>2025-06-30</td><td>GROW</td><td>2023-07-02</td><td>730</td>" in html
    assert '<p class="muted">1 brand · as of 2025-06-30' in html
    # a baseline a year back reads from 2022-07-02: listed under its own date
    report = brandlens.report(
        events_dir(rows), as_of="2025-06-30", methodologies=["grow"], baseline="yoy"
    )
    html = render_html(report)
    assert "<td>2024-06-30 (baseline)</td><td>GROW</td><td>2022-07-02</td><td>730</td>" in html


def test_report_cells_show_ratios_ranks_and_changes_as_the_terminal_does(demo_report):
    # was: ratios to 0.1 point ("0.9%" for 0.93% and 0.87% alike), "rank 2.5 of 13" where
    # only the brands with a value are ranked, and no change where the baseline was 0
    from brandlens.cli.render import percent

    html = render_html(demo_report)
    c = demo_report.comparison
    ranks = {(x.methodology, b.brand): b.ranks for x in c.rankings for b in x.brands}
    for col in c.columns:
        ranked = sum(
            ranks[(col.methodology, r.brand)].get(col.indicator) is not None for r in c.rows
        )
        for row in c.rows:
            rank = ranks[(col.methodology, row.brand)].get(col.indicator)
            if rank is not None:
                assert f" · rank {rank:g} of {ranked} (" in html
            value = row.values.get(col.indicator)
            if value is not None and col.unit == "ratio":
                assert f"{row.brand} · {col.title}: {percent(value)}" in html
    assert any(
        sum(ranks[(col.methodology, r.brand)].get(col.indicator) is not None for r in c.rows)
        < len(c.rows)
        for col in c.columns
    )  # the demo has an indicator some brands have no value on
