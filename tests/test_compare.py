"""`brandlens compare` and `brandlens funnel` end to end: layout at any width, typos,
the demo market's agreement, the funnel crosswalks and the tabular exports."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import warnings
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import brandlens
from brandlens.analysis.model import (
    Achievement,
    BrandRanks,
    CategoryCell,
    CategoryContext,
    Comparison,
    ComparisonColumn,
    ComparisonRow,
    MethodologyRanking,
)
from brandlens.cli.app import app
from brandlens.cli.render import Format, format_value, render
from brandlens.engine.result import DatasetInfo
from brandlens.errors import UsageError
from brandlens.plugin import Stage, StageLadder
from conftest import ev, write_csv
from fixture_plugins import ToyPlugin

AS_OF = "2025-06-30"

# ---- rendering: never a wrapped cell ----------------------------------------------------------

UNITS = [
    ("m.users", "users", "higher", 1234567),
    ("m.share", "ratio", "higher", 0.000447788),
    ("m.gap", "ratio", "lower", 0.35),
    ("m.money", "currency", "higher", -98765.4321),
    ("m.small", "currency", "higher", 12.5),
    ("m.index", "index", "higher", 212.718),
    ("m.count", "count", "higher", 69874),
]
LONG_NAMES = [
    "Aurora",
    "Auror Cosmetics International",
    "Lumi",
    "Pixelon",
    "Zenith",
    "北极星旗舰店",
]


def _synthetic(brands: list[str]) -> Comparison:
    columns = [
        ComparisonColumn(methodology="m", indicator=i, title=f"Title of {i}", unit=u, direction=d)
        for i, u, d, _ in UNITS
    ]
    rows = []
    for n, b in enumerate(brands):
        values = {i: (v * (n + 1) if v is not None else None) for i, _, _, v in UNITS}
        values["m.gap"] = None if n == 1 else values["m.gap"]
        rows.append(
            ComparisonRow(
                brand=b,
                category="skincare",
                values=values,
                missing={"m.gap": "no_denominator"} if n == 1 else {},
            )
        )
    columns[0].best = [brands[-1]]
    ranks = MethodologyRanking(
        methodology="m",
        indicators=[c.indicator for c in columns],
        brands=[
            BrandRanks(brand=b, ranks={}, composite=1.0 + n, composite_rank=1.0 + n)
            for n, b in enumerate(brands)
        ],
    )
    context = CategoryContext(
        categories={"skincare": brands},
        cells=[
            CategoryCell(
                brand=b,
                indicator=c.indicator,
                category="skincare",
                peers=len(brands),
                median=1,
                index=123.4,
                percentile=50,
            )
            for b in brands
            for c in columns
        ],
    )
    return Comparison(
        brandlens_version="0",
        as_of=AS_OF,
        timezone="UTC",
        dataset=DatasetInfo(source="s", rows_read=1, rows_accepted=1, rows_quarantined=0),
        parameters={},
        methodologies=["m"],
        columns=columns,
        rows=rows,
        rankings=[ranks],
        category=context,
        errors=[],
    )


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("brands", [LONG_NAMES[:3], LONG_NAMES])
def test_no_cell_wraps_at_any_width(width, brands):
    c = _synthetic(brands)
    text = render(c, Format.table, color=False, width=width)
    lines = text.splitlines()
    table_lines = [line for line in lines if line[:1] in "┃│┏┡└"]
    assert table_lines and all(cell_len(line) <= width for line in table_lines)
    cells = {cell.strip() for line in table_lines for cell in re.split("[┃│]", line)}
    for b in brands:
        assert b in cells  # a whole name in one cell of one line
    for row in c.rows:
        for col in c.columns:
            value = row.values[col.indicator]
            shown = format_value(value, col.unit) if value is not None else "–¹"
            assert any(cell.startswith(shown) for cell in cells), shown
    assert "–¹ no denominator" in text


def test_layout_indicators_as_rows_when_brands_fit():
    wide = render(_synthetic(LONG_NAMES[:3]), Format.table, color=False, width=200)
    assert "Title of m.users ↑" in wide  # indicators as rows, brands as the header
    tall = render(_synthetic(LONG_NAMES), Format.table, color=False, width=80)
    assert "users ↑" in tall and "Title of m.users" not in tall  # brands as rows


def test_values_by_unit():
    assert format_value(0.000447788, "ratio") == "0.045%"
    assert format_value(0.35, "ratio") == "35.0%"
    assert format_value(1.27, "ratio") == "127.0%"
    assert format_value(69874, "users") == "69,874"
    assert format_value(2918.01318242, "currency") == "CNY 2,918"
    assert format_value(291.5347, "currency", "USD") == "USD 291.53"
    assert format_value(212.718, "index") == "213"


def test_json_csv_and_markdown_keep_full_precision():
    c = _synthetic(LONG_NAMES[:2])
    assert json.loads(render(c, Format.json))["rows"][0]["values"]["m.share"] == 0.000447788
    records = list(csv.DictReader(io.StringIO(render(c, Format.csv))))
    share = next(r for r in records if r["indicator"] == "m.share" and r["brand"] == "Aurora")
    assert share["value"] == "0.000447788" and share["category"] == "skincare"
    assert len(records) == len(c.columns) * len(c.rows)
    assert "| 0.000447788 |" in render(c, Format.markdown)
    assert c.to_pandas().shape == (len(records), len(c.records()[0]))
    assert c.to_arrow().num_rows == len(records)


# ---- typos are not zeros ---------------------------------------------------------------------

STORY = [
    ev("2025-06-20 04:00:00", "u1", "ad_impression", brand="Lumi"),
    ev("2025-06-21 04:00:00", "u2", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-22 04:00:00", "u3", "purchase", brand="Aurora", amount="7"),
]


@pytest.fixture
def toy(register_plugin):
    register_plugin(ToyPlugin(), "toy-plugin")


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_unknown_brand_is_a_usage_error_naming_the_closest(toy, events_dir):
    r = _cli("compare", events_dir(STORY), "-m", "toy", "-b", "Lumy")
    assert r.exit_code == 2
    assert (
        r.stderr.strip()
        == "brandlens: error: --brand: no events for brand 'Lumy'; did you mean Lumi?"
    )
    assert r.stdout == ""


def test_as_of_outside_the_data(toy, events_dir):
    data = events_dir(STORY)
    late = _cli("compare", data, "-m", "toy", "--as-of", "2025-08-01", "-f", "json")
    assert late.exit_code == 0
    assert "warning" in late.stderr and "after the last event (2025-06-22)" in late.stderr
    early = _cli("compare", data, "-m", "toy", "--as-of", "2025-06-01", "-f", "json")
    assert early.exit_code == 0 and "before the first event (2025-06-20)" in early.stderr
    far = _cli("compare", data, "-m", "toy", "--as-of", "2026-07-01")
    assert far.exit_code == 2 and "more than a year after the last event" in far.stderr


def test_a_late_as_of_warns_at_the_callers_line(toy, events_dir):
    # A library user's warning names their own line, not brandlens' checking module.
    from brandlens.analysis.checks import DataRangeWarning

    data = events_dir(STORY)
    for call in (brandlens.compute, brandlens.compare):
        with pytest.warns(DataRangeWarning) as caught:
            line = sys._getframe().f_lineno + 1
            call(data, as_of="2025-08-01", methodologies=["toy"], cache=False)
        assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)], call


def test_brands_only_spelling_tells_apart_are_warned_about(toy, events_dir):
    from brandlens.analysis.checks import BrandNameWarning

    log = [
        *STORY,
        ev("2025-06-21 04:00:00", "u4", "purchase", brand="lumi ", amount="3"),
        ev("2025-06-21 04:00:00", "u5", "purchase", brand="ＬＵＭＩ", amount="3"),  # full width
    ]
    with pytest.warns(BrandNameWarning) as caught:
        brandlens.compare(events_dir(log), as_of="2025-06-22", methodologies=["toy"])
    assert [str(w.message) for w in caught] == [
        "brands 'Lumi' and 'lumi ' and 'ＬＵＭＩ' differ only in case, spaces or character "
        "width and are compared as different brands; a mapping derive merges spellings, "
        'such as brand: "upper(trim(brand))" (docs/comparing.md)'
    ]
    other = [*STORY, ev("2025-06-21 04:00:00", "u6", "purchase", brand="Lumi²", amount="1")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BrandNameWarning)  # distinct names: no warning
        brandlens.compare(events_dir(other), as_of="2025-06-22", methodologies=["toy"])


def test_usage_errors_are_one_line_and_help_and_version_work(toy, events_dir):
    bad = _cli("compare", events_dir(STORY), "--bogus")
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and "No such option: --bogus" in bad.stderr
    assert "╭" not in bad.stderr
    for args in (["-h"], ["compare", "-h"], ["funnel", "-h"], ["cache", "-h"]):
        shown = _cli(*args)
        assert shown.exit_code == 0 and "Usage" in shown.stdout, args
    version = _cli("--version")
    assert version.exit_code == 0 and version.stdout == f"brandlens {brandlens.__version__}\n"


# ---- the crosswalk ---------------------------------------------------------------------------


def test_a_ladder_crosswalk_is_checked():
    stages = tuple(
        Stage(key=k, evidence=({"event_types": ["purchase"], "window_days": 1},)) for k in "abc"
    )
    ok = StageLadder(name="x", stages=stages, funnel={"buy": ("c",), "reach": ("b", "a")})
    assert ok.crosswalk() == {"reach": ["a", "b"], "buy": ["c"]}
    for bad, message in [
        ({"reach": ("z",)}, "unknown stage"),
        ({"reach": ("b",), "engage": ("a",)}, "out of the ladder's order"),
        ({"reach": ("a",), "buy": ("a",)}, "more than one step"),
        ({"awareness": ("a",)}, "unknown step"),
    ]:
        with pytest.raises(ValueError, match=message):
            StageLadder(name="x", stages=stages, funnel=bad)


# ---- the demo market -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(market):
    return brandlens.compare(market, as_of=AS_OF, funnel=True)


def test_demo_fast_and_goal_agree_more_with_each_other_than_with_grow(demo):
    tau = {(p.first, p.second): p.tau_b for p in demo.agreement.pairs}
    # FAST and GOAL both rank consumer assets (stock); GROW ranks GMV growth decomposed
    assert tau[("fast", "goal")] > tau[("fast", "grow")]
    assert tau[("fast", "goal")] > tau[("goal", "grow")]
    assert tau[("fast", "goal")] >= 0.5
    assert demo.agreement.brands == 13 and 0 < demo.agreement.kendall_w < 1


def test_demo_context_targets_and_funnel(demo, market):
    assert demo.category.categories["skincare"] == ["Aurora", "Dusk", "Lumi", "Sakura"]
    fertility = {c.brand: c for c in demo.category.cells if c.indicator == "fast.fertility"}
    assert fertility["Aurora"].percentile == 100.0  # the awareness brand is the largest
    got = {(a.brand, a.indicator): a.achievement for a in demo.achievements}
    assert ("Pixelon", "dream.buyers") in got and ("Lumi", "fast.fertility") in got
    assert [ladder.stages for ladder in demo.funnel.ladders] == [
        ["Aware", "Appeal", "Consider", "Purchase", "Retain"],
        ["A", "I", "P", "L"],
        ["A1", "A2", "A3", "A4"],
    ]
    aipl = {c.step: c for c in demo.funnel.cells if c.brand == "Lumi" and c.ladder == "aipl"}
    assert aipl["reach"].reached == demo.rows[4].values["fast.fertility"]
    assert aipl["engage"].conversion == pytest.approx(
        aipl["engage"].reached / aipl["reach"].reached
    )
    again = brandlens.compare(market, as_of=AS_OF, funnel=True)
    assert again.model_dump_json() == demo.model_dump_json()  # byte-identical


def test_demo_csv_lines_say_their_date_currency_and_target(demo):
    # was: the long form had no as-of date, currency or target period, so a line
    # read on its own did not say what it was
    records = list(csv.DictReader(io.StringIO(render(demo, Format.csv))))
    assert {(r["as_of"], r["currency"], r["baseline_as_of"]) for r in records} == {
        ("2025-06-30", "CNY", "")
    }
    lumi = next(r for r in records if r["brand"] == "Lumi" and r["indicator"] == "fast.fertility")
    goal = next(
        a for a in demo.achievements if (a.brand, a.indicator) == ("Lumi", "fast.fertility")
    )
    assert lumi["target_period_end"] == goal.period_end == "2025-06-30"
    assert lumi["target_met"] == str(goal.met) and goal.met == (goal.actual >= goal.target)
    assert float(lumi["achievement"]) == pytest.approx(goal.actual / goal.target)
    markdown = render(demo, Format.markdown)
    assert "### values as of 2025-06-30 (Asia/Shanghai; currency CNY)" in markdown
    assert "| fast | Lumi | composite rank |" in markdown


def test_funnel_command_and_stage_order(market):
    r = _cli("funnel", market, "-b", "Lumi", "-m", "fast", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    order = [next(i for i, line in enumerate(lines) if f"│ {k} " in line) for k in "AIPL"]
    assert order == sorted(order)  # the ladder's order, not the alphabet
    assert "█" in r.stdout and "7 days ago" in r.stdout
    result = brandlens.compute(market, as_of=AS_OF, methodologies=["fast"], brands=["Lumi"])
    keys = [r.key for r in result.results if r.indicator == "fast.aipl_users"]
    assert keys == ["A", "I", "P", "L"] == result.key_order["fast.aipl_users"]


@pytest.mark.parametrize("command", ["compare", "report"])
@pytest.mark.parametrize(
    ("baseline", "message"),
    [("lastyear", "expected previous, yoy or a date"), ("2026-01-01", "must be before")],
)
def test_a_bad_baseline_is_refused_before_anything_is_computed(
    market, monkeypatch: pytest.MonkeyPatch, command: str, baseline: str, message: str
) -> None:
    """At 100 M a run takes most of a minute: a typo must not wait for it."""
    from brandlens.engine.runs import Dataset
    from brandlens.errors import UsageError

    computed: list[object] = []
    monkeypatch.setattr(Dataset, "compute", lambda *a, **k: computed.append(a))
    with pytest.raises(UsageError, match=message):
        getattr(brandlens, command)(market, as_of=AS_OF, baseline=baseline)
    assert computed == []


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            {"category": "skincare", "across_categories": True},
            "--category and --across-categories exclude each other",
        ),
        (
            {"category": "skincare", "brands": ["Volt", "Lumi"]},
            "--brand Volt: no purchases in category 'skincare' up to the as-of date",
        ),
        (
            {"category": "Skincare"},
            "--category: no purchases in category 'Skincare'; did you mean skincare? (categories: ",
        ),
        ({"category": "skincar"}, "did you mean skincare?"),
    ],
)
def test_a_category_the_comparison_cannot_use_is_a_usage_error(market, options, said):
    """`--category skincare --across-categories` ignored the category; `-b Volt --category
    skincare` compared Volt, which sells no skincare, with no category at all."""
    from brandlens.errors import UsageError

    options = dict(options)
    brands = options.pop("brands", None)
    with pytest.raises(UsageError) as caught:
        brandlens.compare(market, as_of=AS_OF, methodologies=["fast"], brands=brands, **options)
    assert said in str(caught.value)
    # Nimbus, a snack brand that sells skincare too, is placed there when named
    placed = brandlens.compare(
        market, as_of=AS_OF, methodologies=["fast"], brands=["Nimbus"], category="skincare"
    )
    assert [(r.brand, r.category) for r in placed.rows] == [("Nimbus", "skincare")]


def test_benchmarks_of_a_category_apply_across_categories_too(market):
    # was: --across-categories dropped every category's own published figures silently
    bench = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-example.csv"
    c = brandlens.compare(
        market, as_of=AS_OF, methodologies=["fast"], across_categories=True, benchmark=bench
    )
    assert c.category is None  # no peers' index or percentile
    cells = {(b.brand, b.indicator): b.category for b in c.benchmarks}
    # Lumi sells skincare: the skincare row; Volt (smartphones) has no fast.thriving row
    assert cells[("Lumi", "fast.thriving")] == "skincare"
    assert ("Volt", "fast.thriving") not in cells


@pytest.mark.parametrize("across", [False, True])
def test_a_benchmark_category_the_data_lacks_is_a_usage_error(market, tmp_path, across):
    # was: an entry for "Skincare" (the data says skincare) placed no brand, and the
    # comparison showed no benchmarks without a word, where --category Skincare is refused
    from brandlens.errors import UsageError

    bench = tmp_path / "b.csv"
    bench.write_text("indicator,category,p50\nfast.thriving,*,0.5\nfast.thriving,Skincare,0.6\n")
    with pytest.raises(UsageError) as caught:
        brandlens.compare(
            market, as_of=AS_OF, methodologies=["fast"], benchmark=bench, across_categories=across
        )
    message = str(caught.value)
    assert message.startswith(
        f"--benchmark {bench}: entry 2: no purchases in category 'Skincare'; did you mean skincare?"
    ), message
    bench.write_text("indicator,category,p50\nfast.thriving,*,0.5\nfast.thriving,skincare,0.6\n")
    c = brandlens.compare(
        market, as_of=AS_OF, methodologies=["fast"], benchmark=bench, across_categories=across
    )
    assert "skincare" in {b.category for b in c.benchmarks}


def test_brands_without_a_category_are_named_with_the_reason(toy, events_dir):
    """Lumi sells snacks and Aurora skincare; Nobuy only shows ads, Zero's one purchase
    has no amount (no GMV) and Blank's has no category: none of the three has a category
    to be compared within, and the text says why its cells are empty."""
    rows = [
        ev("2025-06-20 04:00:00", "u1", "purchase", brand="Lumi", category="snacks", amount="10"),
        ev(
            "2025-06-21 04:00:00", "u2", "purchase", brand="Aurora", category="skincare", amount="7"
        ),
        ev("2025-06-21 05:00:00", "u3", "ad_impression", brand="Nobuy", category="snacks"),
        ev("2025-06-22 04:00:00", "u4", "purchase", brand="Zero", category="snacks", amount="0"),
        ev("2025-06-22 05:00:00", "u5", "purchase", brand="Blank", amount="5"),
    ]
    data = events_dir(rows)
    c = brandlens.compare(data, as_of="2025-06-22", methodologies=["toy"])
    assert c.category.uncategorised == ["Blank", "Nobuy", "Zero"]
    assert c.category.categories == {"skincare": ["Aurora"], "snacks": ["Lumi"]}
    assert {x.brand for x in c.category.cells} == {"Aurora", "Lumi"}
    text = _cli("compare", data, "-m", "toy", "--as-of", "2025-06-22", "--no-color")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert sum("│ (none)" in line for line in lines) == 3
    assert (
        "(none) no purchase in a category with a positive amount up to 2025-06-22: no "
        "category to be compared within" in lines
    )
    md = _cli("compare", data, "-m", "toy", "--as-of", "2025-06-22", "-f", "markdown")
    assert "### brands without a category" in md.stdout
    across = brandlens.compare(
        data, as_of="2025-06-22", methodologies=["toy"], across_categories=True
    )
    assert across.category is None


def test_the_target_table_marks_lower_is_better_columns_and_reached_targets():
    c = _synthetic(["Aurora", "Lumi"])
    goal = {"period_start": "2025-04-01", "period_end": "2025-06-30"}
    c.achievements = [
        Achievement(brand="Aurora", indicator="m.gap", target=0.2, actual=0.4, **goal,
                    direction="lower", achievement=0.5, met=False),
        Achievement(brand="Lumi", indicator="m.gap", target=0.2, actual=0.1, **goal,
                    direction="lower", achievement=2.0, met=True),
        Achievement(brand="Aurora", indicator="m.users", target=-5, actual=3, **goal,
                    direction="higher", achievement=None, met=True),
    ]  # fmt: skip
    text = render(c, Format.table, color=False, width=120)
    section = text[text.index("target achievement") :]
    assert "m.gap ↓" in section and "m.users ↓" not in section
    assert "50.0% ✗" in section and "200.0% ✓" in section
    # a target of zero or below: no ratio, only whether it was reached
    aurora = next(line for line in section.splitlines() if "Aurora" in line)
    assert aurora.rstrip(" │").endswith("✓")


# ---- small bases ----------------------------------------------------------------------------


def test_values_over_few_people_are_marked(tmp_path):
    """FAST's storyboard (tests/test_fast_storyboard.py): Lumi's thriving is 1 of its 2
    members and its advancing 2 of the 11 users with a stage a week before; Nova has no
    member and no stage a week before, so both are null (no denominator), not marked.
    Fertility and superiority count users and declare no base: never marked."""
    from test_fast_storyboard import STORY, D

    write_csv(tmp_path / "events.csv", STORY)
    c = brandlens.compare(tmp_path, as_of=D, methodologies=["fast"])
    rows = {r.brand: r for r in c.rows}
    assert c.min_base == 30
    assert rows["Lumi"].small_base == {"fast.advancing": 11, "fast.thriving": 2}
    assert rows["Nova"].small_base == {}
    bases = {col.indicator: col.base for col in c.columns}
    assert bases == {
        "fast.fertility": None,
        "fast.advancing": "users",
        "fast.superiority": None,
        "fast.thriving": "members",
    }
    # the floor is "fewer than": a base of 11 is not under 11
    at_11 = brandlens.compare(tmp_path, as_of=D, methodologies=["fast"], min_base=11)
    assert {r.brand: r.small_base for r in at_11.rows}["Lumi"] == {"fast.thriving": 2}
    off = brandlens.compare(tmp_path, as_of=D, methodologies=["fast"], min_base=0)
    assert all(r.small_base == {} for r in off.rows)
    # the long form says it per record: true, false, or empty where nothing is declared
    flags = {(x["brand"], x["indicator"]): x["small_base"] for x in c.records()}
    assert flags[("Lumi", "fast.thriving")] is True
    assert flags[("Nova", "fast.thriving")] is None  # no value, nothing to mark
    # the last columns, none moved: the value's, then its change's (no baseline: empty)
    assert list(c.records()[0])[-2:] == ["small_base", "change_small_base"]
    assert {x["change_small_base"] for x in c.records()} == {None}
    assert flags[("Lumi", "fast.fertility")] is None

    text = _cli("compare", tmp_path, "-m", "fast", "--as-of", D, "--no-color")
    assert text.exit_code == 0, text.output
    assert "50.0%†" in text.stdout and "18.2%†" in text.stdout  # 1/2 and 2/11
    assert (
        "† taken over fewer than 30 people in its denominator: read with care; --min-base "
        "sets the floor" in text.stdout.splitlines()
    )
    plain_run = _cli("compare", tmp_path, "-m", "fast", "--as-of", D, "--min-base", "0")
    assert "†" not in plain_run.stdout
    md = _cli("compare", tmp_path, "-m", "fast", "--as-of", D, "-f", "markdown")
    assert "### values over a base under 30 (read with care)" in md.stdout
    assert "| Lumi | fast.thriving | 2 | members |" in md.stdout
    bad = _cli("compare", tmp_path, "-m", "fast", "--min-base", "-1")
    assert bad.exit_code == 2

    from brandlens.cli.report_html import render_html

    page = render_html(brandlens.report(tmp_path, as_of=D, methodologies=["fast"]))
    assert "over 2 members (fewer than 30): read with care" in page
    assert "over 11 users (fewer than 30): read with care" in page
    quiet = brandlens.report(tmp_path, as_of=D, methodologies=["fast"], min_base=0)
    assert "†" not in render_html(quiet)
    with pytest.raises(UsageError, match=r"--min-base: expected a whole number >= 0"):
        brandlens.compare(tmp_path, as_of=D, methodologies=["fast"], min_base=-1)


def test_a_change_is_marked_when_either_end_has_a_small_base(tmp_path):
    """Big has 40 members at both dates, 30 of them thriving, then 31 (+1 member): no
    mark. Tiny has 2 members a month before (1 thriving) and 40 now (20 thriving): its
    value today is over 40, but the change starts from a base of 2, so it is marked."""
    rows = []
    for n in range(40):
        rows.append(ev("2025-01-01 04:00:00", f"b{n}", "member_join", brand="Big"))
    for n in range(30):
        rows.append(ev("2025-05-20 04:00:00", f"b{n}", "purchase", brand="Big", amount="5"))
    rows.append(ev("2025-06-20 04:00:00", "b39", "purchase", brand="Big", amount="5"))
    for n in range(2):
        rows.append(ev("2025-01-01 04:00:00", f"t{n}", "member_join", brand="Tiny"))
    rows.append(ev("2025-05-20 04:00:00", "t0", "purchase", brand="Tiny", amount="5"))
    for n in range(2, 40):
        rows.append(ev("2025-06-10 04:00:00", f"t{n}", "member_join", brand="Tiny"))
    for n in range(1, 20):
        rows.append(ev("2025-06-20 04:00:00", f"t{n}", "purchase", brand="Tiny", amount="5"))
    write_csv(tmp_path / "events.csv", rows)
    c = brandlens.compare(
        tmp_path, as_of="2025-06-30", methodologies=["fast"], baseline="2025-05-31"
    )
    cells = {(x.brand, x.indicator): x for x in c.baseline.cells}
    big, tiny = cells[("Big", "fast.thriving")], cells[("Tiny", "fast.thriving")]
    assert (big.value, big.baseline, big.small_base) == (31 / 40, 30 / 40, None)
    assert (tiny.value, tiny.baseline, tiny.small_base) == (20 / 40, 1 / 2, 2)
    assert {r.brand: r.small_base for r in c.rows} == {"Big": {}, "Tiny": {}}  # both 40 now
    text = _cli(
        "compare", tmp_path, "-m", "fast", "--as-of", "2025-06-30", "--baseline", "2025-05-31"
    )
    change = [line for line in text.stdout.splitlines() if line.startswith("│ Tiny")][-1]
    assert "0%†" in change  # 0.5 from 0.5: no change, but over a base of 2
    assert "taken over fewer than 30 people" in text.stdout


def test_the_reason_is_said_when_no_brand_has_a_category(toy, events_dir):
    data = events_dir([ev("2025-06-20 04:00:00", "u1", "ad_impression", brand="Volt")])
    text = _cli("compare", data, "-m", "toy", "--as-of", "2025-06-20")
    assert text.exit_code == 0, text.output
    assert (
        "within category: none for Volt: no purchase in a category with a positive amount "
        "up to 2025-06-20: no category to be compared within" in text.stdout.splitlines()
    )
