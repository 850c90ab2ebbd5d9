"""GOAL: a storyboard with every non-CLV indicator by hand, CLV sanity, the CLV
distribution from customers summarised by hand, demo truths."""

from __future__ import annotations

import numpy as np
import pytest

import brandlens
from conftest import ev, write_csv

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"
# at d:      A1/A2 window [06-16, 06-30]; A3/A4 window [2024-07-01, 06-30]
# at d - 30: A1/A2 window [05-17, 05-31]; A3/A4 window [2024-06-01, 05-31]


def t(day: str) -> str:
    return f"{day} 04:00:00"


STORY = [
    # u1: Lumi purchases on two days -> A4 at both snapshots; also bought Sakura in skincare
    ev(t("2025-03-01"), "u1", "purchase", brand="Lumi", category="skincare", amount="100"),
    ev(t("2025-05-01"), "u1", "purchase", brand="Lumi", category="skincare", amount="50"),
    ev(t("2025-04-01"), "u1", "purchase", brand="Sakura", category="skincare", amount="30"),
    # u2: one Lumi purchase (80) refunded 20, joined the membership -> A3 at d, none before
    ev(t("2025-06-01"), "u2", "purchase", brand="Lumi", category="skincare", amount="80"),
    ev(t("2025-06-05"), "u2", "refund", brand="Lumi", category="skincare", amount="20"),
    ev(t("2025-06-02"), "u2", "member_join", brand="Lumi"),
    # u3: a review rated 3 (any rating is Act) -> A3, not a buyer
    ev(t("2025-06-10"), "u3", "review", brand="Lumi", category="skincare", rating="3"),
    # u4: a review rated 4 (JD's 好评) -> A4
    ev(t("2025-06-10"), "u4", "review", brand="Lumi", category="skincare", rating="4"),
    # u5: an impression -> A1
    ev(t("2025-06-25"), "u5", "ad_impression", brand="Lumi"),
    # u6: a Sakura buyer only: a skincare buyer for Lumi's penetration denominator
    ev(t("2025-02-01"), "u6", "purchase", brand="Sakura", category="skincare", amount="40"),
    # u7: add to cart -> A2 at d, none at d-30
    ev(t("2025-06-20"), "u7", "add_to_cart", brand="Lumi"),
    # u8: product views on two days in May -> A2 at d-30, none at d
    ev(t("2025-05-20"), "u8", "product_view", brand="Lumi"),
    ev(t("2025-05-25"), "u8", "product_view", brand="Lumi"),
]
USERS = [
    {"user_id": "u1", "target_group": "g_a"},
    {"user_id": "u2", "target_group": "g_a"},
    {"user_id": "u3", "target_group": "g_b"},
    {"user_id": "u4", "target_group": "g_b"},
    {"user_id": "u5", "target_group": ""},
    {"user_id": "u6", "target_group": "g_a"},
    {"user_id": "u7", "target_group": "g_b"},
    {"user_id": "u8", "target_group": "g_b"},
]
# groups: g_a = {u1 u2 u6} (3 users), g_b = {u3 u4 u7 u8} (4); 7 users with a group


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("goal")
    write_csv(d / "events.csv", STORY)
    write_csv(d / "users.csv", USERS, ["user_id", "target_group"])
    return d


@pytest.fixture(scope="module")
def result(data):
    return brandlens.compute(data, as_of=D, methodologies=["goal"])


def _row(result, indicator, brand="Lumi", key=None):
    return next(
        r for r in result.results if r.indicator == indicator and r.brand == brand and r.key == key
    )


def test_no_errors(result):
    assert result.errors == []


def test_4a_assets(result):
    # A1 u5; A2 u7; A3 u2 (one purchase) u3 (review 3); A4 u1 (two days) u4 (review 4)
    assert [result.value("goal.4a_users", "Lumi", k) for k in ("A1", "A2", "A3", "A4")] == [
        1,
        1,
        2,
        2,
    ]
    assert result.value("goal.asset_total", "Lumi") == 6
    assert _row(result, "goal.advocate_share").value == pytest.approx(2 / 6)


def test_flow_deepening_conversion(result):
    flow = {
        r.key: r.value
        for r in result.results
        if r.indicator == "goal.flow" and r.brand == "Lumi" and r.value
    }
    # u1 A4>A4; u2 u3 none>A3; u4 none>A4; u5 none>A1; u7 none>A2; u8 A2>none
    assert flow == {
        "A4>A4": 1,
        "none>A3": 2,
        "none>A4": 1,
        "none>A1": 1,
        "none>A2": 1,
        "A2>none": 1,
    }
    # at d-30: u1 (A4) and u8 (A2); nobody rose
    deep = _row(result, "goal.deepening_rate")
    assert (deep.numerator, deep.denominator, deep.value) == (0, 2, 0.0)
    # u8 was at A2 and did not reach A3/A4
    conv = _row(result, "goal.conversion_rate")
    assert (conv.numerator, conv.denominator, conv.value) == (0, 1, 0.0)


def test_conversion_counts_a_rise_to_a4_and_appeal_counts_brand_searches_only(tmp_path):
    # w1: a category search on d -> no stage (Appeal counts brand searches only)
    # w2: an ad impression on 05-25 -> A1 at d - 30 (window [05-17, 05-31]); purchases on
    #     06-10 and 06-20 -> A4 at d: converted (A3 or A4 at d counts)
    # -> assets: A4 1, nothing else; conversion 1 of 1
    rows = [
        ev(t("2025-06-30"), "w1", "search", brand="Lumi", query_type="category"),
        ev(t("2025-05-25"), "w2", "ad_impression", brand="Lumi"),
        ev(t("2025-06-10"), "w2", "purchase", brand="Lumi", category="skincare", amount="10"),
        ev(t("2025-06-20"), "w2", "purchase", brand="Lumi", category="skincare", amount="10"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal"])
    assert [r.value("goal.4a_users", "Lumi", k) for k in ("A1", "A2", "A3", "A4")] == [0, 0, 0, 1]
    assert r.value("goal.asset_total", "Lumi") == 1
    conv = _row(r, "goal.conversion_rate")
    assert (conv.numerator, conv.denominator, conv.value) == (1, 1, 1.0)


def test_osmosis_and_loyalty(result):
    # buyers of Lumi: u1 u2; skincare buyers of any brand: u1 u2 u6
    pen = _row(result, "goal.penetration")
    assert (pen.numerator, pen.denominator) == (2, 3)
    assert _row(result, "goal.repurchase_rate").value == 0.5  # u1 bought on two days
    assert _row(result, "goal.member_share").value == 0.5  # u2 is a member
    # Lumi GMV of its buyers: u1 150 + u2 (80 - 20) = 210; their skincare wallet 180 + 60
    sow = _row(result, "goal.share_of_wallet")
    assert (sow.numerator, sow.denominator) == (210, 240)
    assert _row(result, "goal.exclusive_rate").value == 0.5  # u1 also bought Sakura
    assert result.value("goal.arpu", "Lumi") == 105  # 210 / 2
    # Sakura: buyers u1 u6; wallet u1 180 + u6 40; its own 30 + 40
    assert _row(result, "goal.share_of_wallet", "Sakura").value == pytest.approx(70 / 220)

    assert _row(result, "goal.exclusive_rate", "Sakura").value == 0.5


def test_penetration_counts_a_buyer_without_a_category_in_neither_part(events_dir):
    """Lumi's buyers: u1 (a purchase with no category) and u2 (skincare); skincare buyers
    of any brand: u2 and u3. A purchase without a category makes no one a buyer of a
    category, so u1 is in neither part: 1 / 2, not 2 / 2 (and never above 1: with u3's
    purchase gone, counting u1 in the numerator only gave 2 / 1)."""
    rows = [
        ev(t("2025-06-01"), "u1", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-06-02"), "u2", "purchase", brand="Lumi", category="skincare", amount="10"),
        ev(t("2025-06-03"), "u3", "purchase", brand="Sakura", category="skincare", amount="10"),
    ]
    for story, expected in ((rows, (1, 2, 0.5)), (rows[:2], (1, 1, 1.0))):
        r = brandlens.compute(events_dir(story), as_of=D, methodologies=["goal"], brands=["Lumi"])
        pen = _row(r, "goal.penetration")
        assert (pen.numerator, pen.denominator, pen.value) == expected


def test_target_groups(result, data):
    assert _row(result, "goal.group_penetration", key="g_a").value == pytest.approx(2 / 3)
    assert _row(result, "goal.group_penetration", key="g_b").value == 0
    # TGI g_a = 100 * (2/2) / (3/7); g_b = 0
    assert _row(result, "goal.group_tgi", key="g_a").value == pytest.approx(700 / 3)
    assert _row(result, "goal.group_tgi", key="g_b").value == 0
    # no group has 30 buyers: no core groups
    assert result.value("goal.core_group_penetration", "Lumi") is None
    relaxed = brandlens.compute(
        data, as_of=D, methodologies=["goal"], params={"goal.core_group_min_buyers": "1"}
    )
    assert relaxed.value("goal.core_group_penetration", "Lumi") == pytest.approx(2 / 3)


def test_core_groups_tied_at_the_cutoff_are_taken_by_name(tmp_path):
    """Four Lumi buyers among 7 users with a group; the two core groups are the two with
    the highest TGI, ties broken by the group's name:
    g1 (u1, bought):        TGI 100 · (1/4) / (1/7) = 175
    g_a (u2 bought, u3):    TGI 100 · (1/4) / (2/7) = 87.5
    g_b (u4 u5 bought, u6 u7): TGI 100 · (2/4) / (4/7) = 87.5, tied with g_a
    Core = g1 and g_a (g_a < g_b): 2 buyers of 3 users = 2/3 (g1 and g_b would be 3/5)."""
    rows = [
        ev(t("2025-06-01"), u, "purchase", brand="Lumi", category="skincare", amount="10")
        for u in ("u1", "u2", "u4", "u5")
    ]
    groups = {"u1": "g1", "u2": "g_a", "u3": "g_a", **{u: "g_b" for u in ("u4", "u5", "u6", "u7")}}
    write_csv(tmp_path / "events.csv", rows)
    users = [{"user_id": u, "target_group": g} for u, g in groups.items()]
    write_csv(tmp_path / "users.csv", users, ["user_id", "target_group"])
    r = brandlens.compute(
        tmp_path,
        as_of=D,
        methodologies=["goal"],
        params={"goal.core_group_min_buyers": "1", "goal.core_groups": "2"},
    )
    assert _row(r, "goal.group_tgi", key="g_a").value == _row(r, "goal.group_tgi", key="g_b").value
    core = _row(r, "goal.core_group_penetration")
    assert (core.numerator, core.denominator) == (2, 3)


def test_without_users_table_g_indicators_are_not_applicable_and_the_rest_compute(tmp_path):
    write_csv(tmp_path / "events.csv", STORY)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal"])
    assert r.errors == []
    assert [n.indicator for n in r.not_applicable] == [
        "goal.core_group_penetration",
        "goal.group_penetration",
        "goal.group_tgi",
    ]
    assert {n.reason for n in r.not_applicable} == {"needs the users table with target_group"}
    assert r.value("goal.asset_total", "Lumi") == 6


def test_clv_is_pooled_for_small_brands(result):
    model = {
        r.key: r.value
        for r in result.results
        if r.indicator == "goal.clv_model" and r.brand == "Lumi"
    }
    assert model["pooled"] == 1 and model["customers"] == 2 and model["repeaters"] == 1
    assert result.value("goal.clv_total", "Lumi") > 0
    per = _row(result, "goal.clv_per_customer")
    assert per.denominator == 2 and per.value == pytest.approx(per.numerator / 2)


QUANTILES = {"p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9}


def test_clv_distribution_of_two_customers_by_hand(result):
    """Lumi has two customers (u1, u2), with CLVs lo <= hi. Linear interpolation puts the
    q-quantile at lo + q (hi - lo) = mean + (q - 0.5) (hi - lo): the median is their mean
    (clv_per_customer), and p90 - p10 = 0.8 (hi - lo) gives every other key."""
    q = {k: result.value("goal.clv_distribution", "Lumi", k) for k in QUANTILES}
    mean = result.value("goal.clv_per_customer", "Lumi")
    spread = (q["p90"] - q["p10"]) / 0.8
    assert spread > 0  # u1 (a repeat buyer) and u2 (one purchase) are predicted apart
    for key, level in QUANTILES.items():
        assert q[key] == pytest.approx(mean + (level - 0.5) * spread, rel=1e-9), key


# Lumi's customers as of d (a purchase day in the 730 days up to d), summarised by hand:
# (repeat purchase days x, days from the first to the last purchase day, days from the
# first purchase day to d, mean value of the repeat purchase days m)
CLV_STORY = [
    # a: three purchase days -> x = 2, 01-05..06-05 = 151 days, 01-05..d = 176, m = 35
    ev(t("2025-01-05"), "a", "purchase", brand="Lumi", amount="20"),
    ev(t("2025-03-05"), "a", "purchase", brand="Lumi", amount="30"),
    ev(t("2025-06-05"), "a", "purchase", brand="Lumi", amount="40"),
    # b: x = 1, 2024-09-01..12-01 = 91 days, ..d = 302, m = 60
    ev(t("2024-09-01"), "b", "purchase", brand="Lumi", amount="50"),
    ev(t("2024-12-01"), "b", "purchase", brand="Lumi", amount="60"),
    # c: one purchase 10 days before d; d_: one purchase 350 days before d
    ev(t("2025-06-20"), "c", "purchase", brand="Lumi", amount="15"),
    ev(t("2024-07-15"), "d_", "purchase", brand="Lumi", amount="100"),
    # e: two orders on one day are one purchase day: x = 0, 140 days before d
    ev(t("2025-02-10"), "e", "purchase", brand="Lumi", amount="25"),
    ev(t("2025-02-10"), "e", "purchase", brand="Lumi", amount="5"),
    # f: four purchase days -> x = 3, 2024-11-01..2025-05-01 = 181 days, ..d = 241, m = 10
    *(ev(t(day), "f", "purchase", brand="Lumi", amount="10")
      for day in ("2024-11-01", "2025-01-01", "2025-03-01", "2025-05-01")),
    # h: bought 2023-06-01, before the 730-day history [2023-07-01, d]: not a customer
    ev(t("2023-06-01"), "h", "purchase", brand="Lumi", amount="999"),
    # Nova: one customer, 90 days before d; Dusk: an impression, no customer
    ev(t("2025-04-01"), "g", "purchase", brand="Nova", amount="70"),
    ev(t("2025-06-01"), "i", "ad_impression", brand="Dusk"),
]  # fmt: skip
LUMI_SUMMARY = {
    "a": (2, 151, 176, 35.0),
    "b": (1, 91, 302, 60.0),
    "c": (0, 0, 10, 0.0),
    "d_": (0, 0, 350, 0.0),
    "e": (0, 0, 140, 0.0),
    "f": (3, 181, 241, 10.0),
}


def test_clv_distribution_is_the_quantiles_of_the_customers_predicted_clv(tmp_path):
    """Each Lumi customer's CLV predicted from the summary above and the parameters the run
    reports (goal.clv_model): the quantiles are numpy.quantile's (linear) of those six
    values, their mean is clv_per_customer; one customer is every key; none is null."""
    from brandlens.stats.clv import BetaGeoFit, GammaGammaFit

    write_csv(tmp_path / "events.csv", CLV_STORY)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal"])
    assert r.errors == []
    fit = {k: r.value("goal.clv_model", "Lumi", k) for k in ("r", "alpha", "a", "b", "p", "q", "v")}
    assert r.value("goal.clv_model", "Lumi", "customers") == 6  # h is outside the history
    assert fit["q"] > 1  # the Gamma-Gamma fit predicts the value of a purchase day
    bg = BetaGeoFit(fit["r"], fit["alpha"], fit["a"], fit["b"], 0.0)
    gg = GammaGammaFit(fit["p"], fit["q"], fit["v"], 0.0)
    clv = {
        u: float(bg.expected_transactions(365 / 7, x, tx / 7, age / 7))
        * float(gg.expected_average_value(x, m))
        for u, (x, tx, age, m) in LUMI_SUMMARY.items()
    }
    # one-time buyers share the value of a purchase day; the longer ago, the fewer expected
    assert clv["c"] > clv["e"] > clv["d_"]
    expected = np.quantile(list(clv.values()), list(QUANTILES.values()))
    for key, want in zip(QUANTILES, expected, strict=True):
        assert r.value("goal.clv_distribution", "Lumi", key) == pytest.approx(want, rel=1e-8)
    assert r.value("goal.clv_per_customer", "Lumi") == pytest.approx(np.mean(list(clv.values())))
    nova = r.value("goal.clv_per_customer", "Nova")
    assert [r.value("goal.clv_distribution", "Nova", k) for k in QUANTILES] == [nova] * 5
    assert [r.value("goal.clv_distribution", "Dusk", k) for k in QUANTILES] == [None] * 5


# ---- the demo market ---------------------------------------------------------------------

SKINCARE = ["Aurora", "Dusk", "Lumi", "Sakura"]


@pytest.fixture(scope="module")
def demo(market):
    return brandlens.compute(market, as_of=D, methodologies=["goal"])


def test_demo_truths(demo):
    assert demo.errors == []
    for indicator in ("goal.repurchase_rate", "goal.share_of_wallet"):
        values = {b: demo.value(indicator, b) for b in SKINCARE}
        assert max(values, key=values.get) == "Lumi", indicator
    assert demo.value("goal.group_tgi", "Lumi", "urban_white_collar") > 150
    assert demo.value("goal.group_tgi", "Lumi", "new_mom") > 150
    lumi = {
        r.key: r.value
        for r in demo.results
        if r.indicator == "goal.clv_model" and r.brand == "Lumi"
    }
    assert lumi["pooled"] == 0 and lumi["repeaters"] >= 30
    # loyal customers are predicted to be worth more
    per = {b: demo.value("goal.clv_per_customer", b) for b in SKINCARE}
    assert max(per, key=per.get) == "Lumi"


def test_arpu_is_the_net_spend_of_the_windows_buyers(tmp_path):
    """goal.arpu (and argo.arppu, the same definition): the buyers' purchases minus their
    refunds in the buyer window, over those buyers; a refund by a user who bought nothing
    in the window is left out (docs/methodologies/goal.md)."""
    rows = [
        # a: bought 100 in the window and got 30 back: net 70
        ev(t("2025-06-01"), "a", "purchase", brand="Lumi", amount="100"),
        ev(t("2025-06-02"), "a", "refund", brand="Lumi", amount="30"),
        # b: bought 500 on 2024-06-30, the day before the 365-day window [2024-07-01, d],
        # and got 200 back inside it: not a buyer, the refund is nobody's in the window
        ev(t("2024-06-30"), "b", "purchase", brand="Lumi", amount="500"),
        ev(t("2025-06-03"), "b", "refund", brand="Lumi", amount="200"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal", "argo"])
    arpu = next(x for x in r.results if x.indicator == "goal.arpu")
    # 70 / 1; the brand's whole net GMV in the window would be (100 - 30 - 200) / 1 = -130
    assert (arpu.value, arpu.numerator, arpu.denominator) == (70, 70, 1)
    assert r.value("argo.arppu", "Lumi") == 70


def test_arpu_floors_each_buyers_net_spend_at_zero(tmp_path):
    """A buyer's refund of a purchase made before the window cannot take their spend in
    the window below 0 (found by a review: ARPU was -999 on this log)."""
    rows = [
        # c: bought 1,000 on 2024-06-01 (before the window [2024-07-01, d]), refunded it on
        # 2025-06-01 and bought 1 on 2025-06-02: a buyer whose net is 1 - 1,000, floored to 0
        ev(t("2024-06-01"), "c", "purchase", brand="Lumi", amount="1000"),
        ev(t("2025-06-01"), "c", "refund", brand="Lumi", amount="1000"),
        ev(t("2025-06-02"), "c", "purchase", brand="Lumi", amount="1"),
        # e: bought 40 and 60 in the window, nothing refunded: net 100
        ev(t("2025-05-10"), "e", "purchase", brand="Lumi", amount="40"),
        ev(t("2025-06-10"), "e", "purchase", brand="Lumi", amount="60"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal", "argo"])
    arpu = next(x for x in r.results if x.indicator == "goal.arpu")
    # (0 + 100) / 2; without the floor (-999 + 100) / 2 = -449.5
    assert (arpu.value, arpu.numerator, arpu.denominator) == (50, 100, 2)
    assert r.value("argo.arppu", "Lumi") == 50


@pytest.mark.parametrize(
    ("repeaters", "pooled"),
    [
        (3, 0),  # exactly clv_min_repeaters (3) repeat customers: the brand's own fit
        (2, 1),  # one fewer: the parameters fitted on every brand pooled
    ],
)
def test_pooled_fit_threshold(tmp_path, repeaters, pooled):
    # Lumi: `repeaters` users with purchases on two days, and two one-time buyers
    rows = []
    for i in range(repeaters):
        rows += [
            ev(t("2025-01-10"), f"r{i}", "purchase", brand="Lumi", amount=str(10 + i)),
            ev(t(f"2025-0{3 + i}-01"), f"r{i}", "purchase", brand="Lumi", amount=str(20 + i)),
        ]
    rows += [ev(t("2025-02-01"), f"o{i}", "purchase", brand="Lumi", amount="15") for i in (1, 2)]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(
        tmp_path, as_of=D, methodologies=["goal"], params={"goal.clv_min_repeaters": "3"}
    )
    assert r.value("goal.clv_model", "Lumi", "repeaters") == repeaters
    assert r.value("goal.clv_model", "Lumi", "pooled") == pooled


def test_a_brand_without_customers_uses_no_fit(tmp_path):
    """goal.clv_model of a brand with no purchase day in the history: no fit was used, so
    pooled is null like the parameters, not 1 (#17 item 7)."""
    rows = [ev(t("2025-05-01"), f"r{i}", "purchase", brand="Lumi", amount="10") for i in (1, 2)]
    rows += [ev(t("2025-06-01"), "v", "product_view", brand="Dusk")]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["goal"])
    assert r.value("goal.clv_model", "Lumi", "pooled") == 1
    model = {
        x.key: x.value for x in r.results if x.indicator == "goal.clv_model" and x.brand == "Dusk"
    }
    assert model == {k: None for k in ("r", "alpha", "a", "b", "p", "q", "v", "pooled")} | {
        "customers": 0,
        "repeaters": 0,
    }


def test_a_brand_buyer_without_a_category_who_bought_the_category_elsewhere_counts(events_dir):
    """u1 bought Lumi without a category and skincare from Sakura; u2 bought Lumi's
    skincare. Skincare buyers: u1 and u2, both Lumi buyers: Lumi 2 / 2 (u1 bought the
    brand, and the category through Sakura); Sakura's skincare buyers u1 and u2, its own
    buyer u1: 1 / 2. Found by an independent reading of the docs, which said u1 was in
    neither part."""
    rows = [
        ev(t("2025-06-01"), "u1", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-06-01"), "u1", "purchase", brand="Sakura", category="skincare", amount="10"),
        ev(t("2025-06-02"), "u2", "purchase", brand="Lumi", category="skincare", amount="10"),
    ]
    r = brandlens.compute(events_dir(rows), as_of=D, methodologies=["goal"])
    lumi, sakura = _row(r, "goal.penetration"), _row(r, "goal.penetration", "Sakura")
    assert (lumi.numerator, lumi.denominator) == (2, 2)
    assert (sakura.numerator, sakura.denominator) == (1, 2)


# Found by a mutation run: counting a refund from another brand as buying it passed.
def test_exclusive_rate_counts_a_refund_of_another_brand_as_no_purchase(events_dir):
    """Buyer window at d: [2024-07-01, 2025-06-30]. Lumi sells skincare.
    u1: bought Lumi skincare on 06-01; refunded a Sakura skincare purchase of 2024-05-01
        (outside the window) on 06-10: no Sakura purchase in the window -> exclusive.
    u2: bought Lumi skincare on 06-02 and Sakura skincare on 06-03 -> not exclusive.
    Lumi: 1 exclusive buyer of 2 = 0.5."""
    rows = [
        ev(t("2024-05-01"), "u1", "purchase", brand="Sakura", category="skincare", amount="30"),
        ev(t("2025-06-01"), "u1", "purchase", brand="Lumi", category="skincare", amount="10"),
        ev(t("2025-06-10"), "u1", "refund", brand="Sakura", category="skincare", amount="30"),
        ev(t("2025-06-02"), "u2", "purchase", brand="Lumi", category="skincare", amount="10"),
        ev(t("2025-06-03"), "u2", "purchase", brand="Sakura", category="skincare", amount="10"),
    ]
    r = brandlens.compute(events_dir(rows), as_of=D, methodologies=["goal"])
    row = _row(r, "goal.exclusive_rate")
    assert (row.numerator, row.denominator, row.value) == (1, 2, 0.5)
