"""The comparison's definitions at their edges, each worked out by hand.

A mutation run over the analysis layer (small errors planted one at a time in ranks,
compare, category, baseline, targets, benchmarks, funnel and report) found eighteen that
the storyboards let through: values exactly on a documented threshold or band figure,
p-values and indices rounded too soon, the closest pair chosen by the size of tau, a
negative median or baseline, leap-year month ends, the latest due target, the funnel's
conversion base, the heatmap's mirror half and the small base of a change. Each test
below fails under one of them.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from brandlens.analysis import baseline, benchmarks, category, targets
from brandlens.analysis.compare import _overall_reading, agreement
from brandlens.analysis.funnel import funnel_section
from brandlens.analysis.ranks import agreement_word, kendall_w_p
from brandlens.errors import UsageError
from test_compare_storyboard import _col, _ranking

# ---- agreement ------------------------------------------------------------------------------


def test_agreement_words_at_their_documented_thresholds():
    # docs/comparing.md: tau >= 0.7 strongly, >= 0.4 moderately, >= 0.1 weakly, above -0.1
    # independently; W >= 0.7 strong, >= 0.5 moderate, >= 0.3 weak. A value on a threshold
    # belongs to the band it opens (tau = 0.7 exactly: 16 brands, C = 102, D = 18, 84/120).
    assert agreement_word(0.7) == "agree strongly"
    assert agreement_word(0.4) == "agree moderately"
    assert agreement_word(0.1) == "agree weakly"
    assert agreement_word(0.0999) == "rank brands independently"
    for w, level in ((0.7, "strong"), (0.5, "moderate"), (0.3, "weak"), (0.29, "little")):
        assert f"(p = 0.01): {level} agreement" in _overall_reading(w, 0.01, 3, 5, [])


def test_two_opposite_rankings_have_w_zero_and_p_one():
    # x ranks A..E 1..5, y 5..1: every rank sum is 6, S = 0, W = 0; the chi-square
    # statistic m(n-1)W is 0, and P(chi2 > 0) = 1 (no log of 0)
    assert kendall_w_p(0.0, 2, 5) == 1.0
    x = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    y = {b: 6 - s for b, s in x.items()}
    got = agreement([_ranking("x", x), _ranking("y", y)])
    assert (got.kendall_w, got.p_value) == (0.0, 1.0)
    assert got.pairs[0].tau_b == -1.0


def test_closest_pair_is_the_highest_tau_not_the_largest_in_size():
    # x 1..5; y reversed (tau(x,y) = -1); z = x with D-E swapped: of 10 pairs 9 agree with x
    # and 1 not, tau(x,z) = 8/10 = 0.8, and tau(y,z) = -0.8. The closest pair is x-z
    # (0.8), the furthest apart x-y (-1): -1 is the largest |tau| but the least agreement.
    x = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    y = {b: 6 - s for b, s in x.items()}
    z = {"A": 1, "B": 2, "C": 3, "D": 5, "E": 4}
    got = agreement([_ranking("x", x), _ranking("y", y), _ranking("z", z)])
    assert "closest X and Z (τ = 0.80), furthest apart X and Y (τ = -1.00)" in got.reading


def test_p_values_keep_six_significant_digits():
    # X v Y of the storyboard: p = erfc(7 / sqrt(282/18) / sqrt 2) = 0.07697417298...;
    # the JSON keeps 0.0769742 (six digits), the reading shows three (0.077)
    x = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    y = {"A": 1, "B": 3, "C": 2, "D": 4.5, "E": 4.5}
    got = agreement([_ranking("x", x), _ranking("y", y)])
    assert got.pairs[0].p_value == 0.0769742
    assert math.erfc(7 / math.sqrt(282 / 18) / math.sqrt(2)) == pytest.approx(0.0769742, abs=5e-8)


# ---- category context --------------------------------------------------------------------------


def test_no_index_against_a_negative_median():
    # a net change can be negative: peers -10, -20, -30, median -20; -10 / -20 = 50% would
    # read as half the median where it is the best of the three: no index, as for a 0
    placed = {"A": "snacks", "B": "snacks", "C": "snacks"}
    values = {"A": {"x.d": -10}, "B": {"x.d": -20}, "C": {"x.d": -30}}
    (cell,) = category.cells([_col("x.d")], values, placed, ["A"])
    assert (cell.median, cell.index, cell.percentile) == (-20, None, 100.0)


def test_an_index_that_rounds_to_zero_is_written_as_zero():
    # peers -1e-9, 1, 3: median 1; -1e-9 / 1 * 100 = -1e-7, 0 at six decimals, and JSON
    # would write Python's -0.0 as "-0.0"
    placed = {"A": "snacks", "B": "snacks", "C": "snacks"}
    values = {"A": {"x.d": -1e-9}, "B": {"x.d": 1}, "C": {"x.d": 3}}
    (cell,) = category.cells([_col("x.d")], values, placed, ["A"])
    assert cell.index == 0 and math.copysign(1.0, cell.index) == 1.0
    assert '"index":0.0' in cell.model_dump_json()


def test_main_category_is_the_most_gmv_and_the_first_name_on_a_tie(tmp_path):
    from brandlens.engine.runs import Dataset
    from conftest import ev, write_csv

    rows = [  # A: snacks 100, skincare 120 + 180 = 300; B: tea 50, coffee 50 (a tie)
        ev("2025-06-01 04:00:00", "u1", "purchase", brand="A", amount="100", category="snacks"),
        ev("2025-06-02 04:00:00", "u1", "purchase", brand="A", amount="120", category="skincare"),
        ev("2025-06-03 04:00:00", "u2", "purchase", brand="A", amount="180", category="skincare"),
        ev("2025-06-04 04:00:00", "u3", "purchase", brand="B", amount="50", category="tea"),
        ev("2025-06-05 04:00:00", "u3", "purchase", brand="B", amount="50", category="coffee"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    with Dataset(tmp_path, cache=False) as ds:
        gmv = category.category_gmv(ds, date(2025, 6, 30))
    assert gmv == {"A": {"skincare": 300.0, "snacks": 100.0}, "B": {"coffee": 50.0, "tea": 50.0}}
    assert list(gmv["A"]) == ["skincare", "snacks"]  # largest first
    assert category.assign(gmv, None) == {"A": "skincare", "B": "coffee"}


# ---- baseline ---------------------------------------------------------------------------------


def test_baseline_month_ends_across_leap_years():
    # 2025-02-28 is February's last day: a year earlier is the last day of February 2024,
    # the 29th; and a month before 2024-03-31 is 2024-02-29
    assert baseline.resolve("yoy", date(2025, 2, 28)) == ("yoy", date(2024, 2, 29))
    assert baseline.resolve("previous", date(2024, 3, 31)) == ("previous", date(2024, 2, 29))
    assert baseline.resolve("yoy", date(2025, 6, 30)) == ("yoy", date(2024, 6, 30))


def test_a_baseline_on_the_as_of_date_is_refused():
    with pytest.raises(UsageError, match=r"--baseline 2025-06-30: must be before"):
        baseline.resolve("2025-06-30", date(2025, 6, 30))


def test_relative_change_from_a_negative_baseline_keeps_the_direction():
    # -100 -> -50 is a rise of 50, half the baseline's size: +50%, not -50%
    (cell,) = baseline.cells([_col("x.d")], {"A": {"x.d": -50}}, {"A": {"x.d": -100}}, ["A"])
    assert (cell.change, cell.change_rel) == (50, 0.5)


# ---- targets ---------------------------------------------------------------------------------


def test_a_target_hit_exactly_is_met_either_way():
    end, start = date(2025, 6, 30), date(2025, 4, 1)
    due = [("A", "x.n", start, end, 100.0), ("A", "x.gap", start, end, 0.2)]
    actual = {end: {("A", "x.n"): 100, ("A", "x.gap"): 0.2}}
    got = targets.achievements(due, actual, lower_is_better=frozenset({"x.gap"}))
    # 100 / 100 and 0.2 / 0.2: 100% and reached
    assert [(a.indicator, a.achievement, a.met) for a in got] == [
        ("x.n", 1.0, True),
        ("x.gap", 1.0, True),
    ]


def test_the_latest_period_ending_by_the_as_of_date_is_due(tmp_path):
    from brandlens.engine.runs import Dataset
    from conftest import ev, write_csv

    write_csv(tmp_path / "events.csv", [ev("2025-06-01 04:00:00", "u1", "purchase", brand="A")])
    quarter = [
        ("2025-01-01", "2025-03-31", 10),  # Q1: ended, but not the latest
        ("2025-04-01", "2025-06-30", 20),  # Q2: ends on the as-of date, so it is due
        ("2025-07-01", "2025-09-30", 30),  # Q3: not over yet
    ]
    tgt = [
        {"brand": "A", "indicator": "fast.fertility", "period_start": s, "period_end": e,
         "target_value": v}
        for s, e, v in quarter
    ]  # fmt: skip
    write_csv(tmp_path / "targets.csv", tgt, list(tgt[0]))
    with Dataset(tmp_path, cache=False) as ds:
        got = targets.due(ds, date(2025, 6, 30), ["A"], ["fast.fertility"])
        earlier = targets.due(ds, date(2025, 6, 29), ["A"], ["fast.fertility"])
    assert got == [("A", "fast.fertility", date(2025, 4, 1), date(2025, 6, 30), 20.0)]
    assert earlier == [("A", "fast.fertility", date(2025, 1, 1), date(2025, 3, 31), 10.0)]


# ---- benchmarks -------------------------------------------------------------------------------


def test_a_value_on_a_published_figure_is_in_the_band_it_opens():
    # p25 10, p50 20, p75 30, top10 40: reaching a figure counts (20 is at the median)
    row = benchmarks.BenchmarkRow(indicator="x.n", p25=10, p50=20, p75=30, top10=40)
    assert [benchmarks.band(v, row) for v in (9.99, 10, 20, 30, 40)] == [
        "below p25",
        "p25-p50",
        "p50-p75",
        "p75-top10",
        "top10",
    ]


@pytest.mark.parametrize(
    ("figures", "values", "bands"),
    [
        # p50 and top10 only: the band between them is named by both
        ({"p50": 20, "top10": 40}, [19, 20, 40], ["below p50", "p50-top10", "top10"]),
        # at or above the highest figure other than top10: "p75 and above" (a bare
        # "p75" reads as "at p75")
        ({"p25": 10, "p75": 30}, [9, 29, 30], ["below p25", "p25-p75", "p75 and above"]),
    ],
)
def test_bands_with_some_figures_run_between_those_given(figures, values, bands):
    row = benchmarks.BenchmarkRow(indicator="x.n", **figures)
    assert [benchmarks.band(v, row) for v in values] == bands


def test_an_entry_with_no_figure_is_refused(tmp_path):
    from brandlens.errors import UsageError

    path = tmp_path / "b.yaml"
    path.write_text("- {indicator: fast.thriving, category: skincare}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"entry 1: no figure: give at least one of p25, p50"):
        benchmarks.load(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        # every entry failed alike on "entry 1: indicator: Field required"
        (
            "b.csv",
            "indic,p50\nfast.thriving,0.5\n",
            "the header has no indicator column (it names: indic, p50)",
        ),
        # the rest of the file was read into one field: "p25: ... not a number"
        (
            "b.csv",
            'indicator,p25,p50\nfast.thriving,"0.2,0.5\n',
            "a quote that never closes",
        ),
        ("b.csv", "", "no entries"),
        # DictReader kept the second p50 without a word (a review)
        (
            "b.csv",
            "indicator,category,p50,p50\nx.n,*,1,9\n",
            "the header names p50 twice; keep one",
        ),
        # a quote inside an unquoted field is text, as Excel writes it
        ("ok.csv", 'indicator,p50,source\nx.n,1,Report "A\n', None),
        # a space after a closing quote stays in the field, as it was read before
        ("ok.csv", 'indicator,p50,source\n"x.n" ,1,"Report ""A"\n', None),
    ],
)
def test_a_benchmark_csv_that_cannot_be_read_says_why(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if message is None:
        (row,) = benchmarks.load(path)
        assert row.source == 'Report "A'
        return
    with pytest.raises(UsageError) as caught:
        benchmarks.load(path)
    assert str(caught.value) == f"--benchmark {path}: {message}"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_benchmark_file_past_the_size_limit_says_so_in_words(tmp_path):
    path = tmp_path / "zero.csv"
    path.symlink_to("/dev/zero")  # a device that never ends
    with pytest.raises(UsageError) as caught:
        benchmarks.load(path)
    # it read "cannot read ([Errno 27] larger than 16 MB; not a settings file)"
    assert str(caught.value) == (
        f"--benchmark {path}: cannot read (larger than 16 MB; not a settings file)"
    )


def test_a_benchmark_folder_is_said_to_be_a_folder(tmp_path):
    (tmp_path / "b.csv").mkdir()
    for folder in (tmp_path, tmp_path / "b.csv"):
        with pytest.raises(UsageError) as caught:
            benchmarks.load(folder)
        assert str(caught.value) == f"--benchmark {folder}: a folder, not a file"


def test_equal_published_figures_are_allowed(tmp_path):
    # "the figures must not decrease": p25 = p50 is no decrease
    path = tmp_path / "b.csv"
    path.write_text("indicator,p25,p50,p75,top10\nx.n,1,1,2,2\n", encoding="utf-8")
    (row,) = benchmarks.load(path)
    assert (row.p25, row.p50, row.p75, row.top10) == (1.0, 1.0, 2.0, 2.0)


def test_a_benchmark_index_keeps_twelve_digits():
    # 10 / 30 * 100 = 33.3333333333 (12 significant digits, as every result value)
    row = benchmarks.BenchmarkRow(indicator="x.n", p50=30)
    (cell,) = benchmarks.cells([row], [_col("x.n")], {"A": {"x.n": 10}}, {}, ["A"])
    assert cell.index == 33.3333333333


# ---- funnel ---------------------------------------------------------------------------------


def test_funnel_conversion_is_reached_over_reached_at_the_step_before():
    from brandlens.plugin import Evidence, Stage, StageLadder

    rule = (Evidence(event_types=("purchase",), window_days=1),)
    lad = StageLadder(
        name="l",
        stages=tuple(Stage(key=k, evidence=rule) for k in "AIPL"),
        funnel={"reach": ("A",), "engage": ("I",), "buy": ("P",), "loyal": ("L",)},
    )
    chosen = [SimpleNamespace(name="t", methodology=SimpleNamespace(ladders=(lad,)))]
    counts = [("l", 0, "B", k, n) for k, n in zip("AIPL", (40, 30, 20, 10), strict=True)]
    counts.append(("l", 7, "B", "A", 999))  # a week before: not today's funnel
    got = funnel_section(chosen, ["B"], {"t": SimpleNamespace(counts=counts)})
    # users at A..L 40, 30, 20, 10; reached (at the step or later) 100, 60, 30, 10;
    # conversion 60/100 = 0.6, 30/60 = 0.5, 10/30 = 0.333333333333 (12 digits)
    assert [(c.step, c.users, c.reached, c.conversion) for c in got.cells] == [
        ("reach", 40, 100, None),
        ("engage", 30, 60, 0.6),
        ("buy", 20, 30, 0.5),
        ("loyal", 10, 10, 0.333333333333),
    ]


# ---- report -----------------------------------------------------------------------------------


def test_the_agreement_heatmap_is_symmetric():
    from brandlens.analysis.report import _overview

    x = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    y = {"A": 1, "B": 3, "C": 2, "D": 4.5, "E": 4.5}
    agreed = agreement([_ranking("x", x), _ranking("y", y)])
    c = SimpleNamespace(agreement=agreed, rankings=[], columns=[], rows=[])
    (chart,) = _overview(c).charts
    tau = round(7 / math.sqrt(90), 10)  # storyboard X v Y: 0.7378647874
    assert [s.values for s in chart.series] == [[1.0, tau], [tau, 1.0]]


def test_the_overview_names_a_composite_over_fewer_indicators():
    from brandlens.analysis.compare import rank_methodologies
    from brandlens.analysis.report import _overview
    from test_compare_storyboard import _M

    cols = [_col("x.size"), _col("x.gap", "lower")]
    values = {"A": {"x.size": 80, "x.gap": 0.1}, "C": {"x.size": 90, "x.gap": None}}
    rankings = rank_methodologies([_M("x")], cols, values)
    rows = [SimpleNamespace(brand=b) for b in values]
    c = SimpleNamespace(agreement=None, rankings=rankings, columns=cols, rows=rows)
    notes = _overview(c).notes
    # C, unranked on gap, leads on its size rank alone: the overview says so
    assert notes[1:] == [
        "C's X composite is over 1 of its 2 headline indicators, the brand having no value "
        "on the others (which can lift it)"
    ]


# ---- small bases of a change (tests/test_compare.py style; uses the built-in fast) -------------


@pytest.mark.filterwarnings("ignore:--as-of 2025-06-30 is after the last event")
def test_a_change_with_both_ends_small_is_marked_with_the_smaller_base(tmp_path):
    """Tiny has 2 members a month before (1 thriving) and 20 now (10 thriving): both
    bases are under 30, and the change is only as sure as its smaller one, 2."""
    import brandlens
    from conftest import ev, write_csv

    rows = [ev("2025-01-01 04:00:00", f"t{n}", "member_join", brand="Tiny") for n in range(2)]
    rows.append(ev("2025-05-20 04:00:00", "t0", "purchase", brand="Tiny", amount="5"))
    rows += [ev("2025-06-10 04:00:00", f"t{n}", "member_join", brand="Tiny") for n in range(2, 20)]
    rows += [
        ev("2025-06-20 04:00:00", f"t{n}", "purchase", brand="Tiny", amount="5")
        for n in range(1, 10)
    ]
    write_csv(tmp_path / "events.csv", rows)
    c = brandlens.compare(
        tmp_path, as_of="2025-06-30", methodologies=["fast"], baseline="2025-05-31"
    )
    cell = next(x for x in c.baseline.cells if x.indicator == "fast.thriving")
    assert (cell.value, cell.baseline, cell.small_base) == (10 / 20, 1 / 2, 2)
    assert c.rows[0].small_base["fast.thriving"] == 20  # today's value alone: over 20
    # CSV's line and markdown's baseline section say it too (they lacked the baseline end)
    from brandlens.cli.render import Format, render

    record = next(x for x in c.records() if x["indicator"] == "fast.thriving")
    assert (record["small_base"], record["change_small_base"]) == (True, True)
    fertility = next(x for x in c.records() if x["indicator"] == "fast.fertility")
    assert fertility["change_small_base"] is False  # a count: no base to be small
    lines = render(c, Format.markdown, color=False).splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| brand | indicator | value"))
    assert lines[head].endswith("| change_rel | small_base |")
    assert any(
        line.startswith("| Tiny | fast.thriving |") and line.endswith("| 2 |")
        for line in lines[head:]
    )


@pytest.mark.filterwarnings("ignore:--as-of 2025-06-30 is after the last event")
@pytest.mark.parametrize("width", [40, 60, 80])
def test_long_brand_names_wrap_whole_on_a_narrow_terminal(tmp_path, width):
    """Two names with a long common start were cut with "…" to the same text at 60
    columns; the brand column now takes a third of a narrow terminal and wraps at spaces,
    so each name is whole and the indicator headers are not cut to 'fer…'."""
    import brandlens
    from brandlens.cli.render import Format, render
    from conftest import ev, write_csv

    shop = "Xiaomi Consumer Electronics Flagship Store 小米官方旗舰店"
    names = ["Lumi", f"{shop} (Tmall)", f"{shop} (JD)"]
    rows = [
        ev("2025-06-20 04:00:00", f"u{n}{b[:2]}", "purchase", brand=b, amount="5")
        for b in names
        for n in range(3)
    ]
    write_csv(tmp_path / "events.csv", rows)
    c = brandlens.compare(tmp_path, as_of="2025-06-30", methodologies=["fast"])
    text = render(c, Format.table, color=False, width=width)
    from rich.cells import cell_len

    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    first = text.split("* best on the row")[0]  # the values' blocks
    column = [line.split("│")[1].strip() for line in first.splitlines() if line.startswith("│")]
    # the brand column's wrapped lines, joined again, give each name whole and in order
    joined = " ".join(column)
    for name in names:
        assert name in joined
    assert "fertility ↑" in text


@pytest.mark.filterwarnings("ignore:--as-of 2025-06-30 is after the last event")
@pytest.mark.parametrize(("width", "whole"), [(200, True), (52, True), (51, False), (46, False)])
def test_a_wide_table_shows_whole_titles_when_they_fit(tmp_path, width, whole):
    """'Advancing (relationship deepening rate) ↑' is 41 characters: cut to 34 even on a
    200-column terminal with one brand; now whole wherever the wide table fits with it."""
    import brandlens
    from brandlens.cli.render import Format, render
    from conftest import ev, write_csv

    write_csv(
        tmp_path / "events.csv",
        [ev("2025-06-20 04:00:00", "u1", "purchase", brand="Tiny", amount="5")],
    )
    c = brandlens.compare(tmp_path, as_of="2025-06-30", methodologies=["fast"])
    text = render(c, Format.table, color=False, width=width)
    assert ("Advancing (relationship deepening rate) ↑" in text) is whole
    assert ("Advancing (relationship deepeni… ↑" in text) is not whole
    assert max(len(line) for line in text.splitlines()) <= width
