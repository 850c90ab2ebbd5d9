"""SUPER storyboard: thirteen hand-made products around every stage boundary, by hand.

as_of d = 2025-06-30 (a Monday); all times are 04:00 UTC = noon local (Asia/Shanghai).
Windows at d:        recent [06-03, 06-30], previous [05-06, 06-02] (28 days each);
                     no purchase in the last 60 days = none in [05-02, 06-30];
                     New: d - launch < 90, i.e. launched on or after 04-02.
At d - 28 = 06-02:   recent [05-06, 06-02], previous [04-08, 05-05], exit window
                     [04-04, 06-02], New from 03-05.
Weekly snapshots:    d, d - 7, ..., d - 357 (2024-07-08); Mondays.

Category skincare, brand Lumi unless said; launch dates come from the products table
(2024-01-01 for the old ones), except P-EVENTS, which has no products row.
"""

from __future__ import annotations

import pytest

import brandlens
from conftest import ev, write_csv

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"
OLD = "2024-01-01"


def t(day: str) -> str:
    return f"{day} 04:00:00"


def buy(day: str, user: str, product: str | None, amount: str, brand: str = "Lumi") -> dict:
    return ev(
        t(day),
        user,
        "purchase",
        brand=brand,
        category="skincare",
        product_id=product,
        amount=amount,
    )


STORY = [
    # P-NEW89, launched 89 days before d (04-02): New at d (50 now, 50 before);
    # New at 06-02 too: New>New
    buy("2025-05-20", "u1", "P-NEW89", "50"),
    buy("2025-06-10", "u2", "P-NEW89", "50"),
    # P-OLD90, launched 90 days before d (04-01): no longer New; 50 = 50 -> Mature at d;
    # New at 06-02 (62 days): New>Mature
    buy("2025-05-20", "u3", "P-OLD90", "50"),
    buy("2025-06-10", "u3", "P-OLD90", "50"),
    # P-UP20: 64.90 -> 77.88, exactly +20% (1.2 x 64.90 in binary floating point is
    # 77.88000000000001, which would miss it) -> Growth; at 06-02 previous = 0: Growth>Growth
    buy("2025-05-20", "u4", "P-UP20", "64.90"),
    buy("2025-06-10", "u4", "P-UP20", "77.88"),
    # P-UP19: 64.90 -> 77.87, a cent short of +20% -> Mature: Growth>Mature
    buy("2025-05-20", "u5", "P-UP19", "64.90"),
    buy("2025-06-10", "u5", "P-UP19", "77.87"),
    # P-DOWN20: 64.85 -> 51.88, exactly -20% (0.8 x 64.85 is 51.87999... in binary) ->
    # Decline: Growth>Decline
    buy("2025-05-20", "u6", "P-DOWN20", "64.85"),
    buy("2025-06-10", "u6", "P-DOWN20", "51.88"),
    # P-HIT: 1000 on 05-20 and 06-10. At d it ties Rival's RIV-HIT at the top of the 9
    # selling skincare products: ceil(10% x 9) = 1, ties at the cut all count -> both Hit.
    # Exit at every weekly snapshot up to 05-19 (no purchase in 60 days), Hit from 05-26
    # to d: 6 weeks; first Hit 2025-05-26 = 511 days after launch. Hit>Hit
    buy("2025-05-20", "u1", "P-HIT", "1000"),
    buy("2025-06-10", "u7", "P-HIT", "1000"),
    # P-EXIT60: last purchase 05-01, 60 days before d: none in [05-02, 06-30] -> Exit.
    # At 06-02: recent 0, previous 100 -> Decline: Decline>Exit.
    # History: with P-EXIT61 and P-ALIVE59 the only skincare sales at 05-05, 05-12 and
    # 05-19 -> a tie, all three Hit for 3 weeks; first Hit 2025-05-05, 490 days after launch
    buy("2025-05-01", "u8", "P-EXIT60", "100"),
    # P-EXIT61: last purchase 04-30, 61 days before d -> Exit as well: Decline>Exit
    buy("2025-04-30", "u13", "P-EXIT61", "100"),
    # P-ALIVE59: last purchase 05-02, 59 days before d -> not Exit; recent 0 and previous
    # 0 -> Decline (0 <= 0.8 x 0), on its way out: Decline>Decline
    buy("2025-05-02", "u9", "P-ALIVE59", "100"),
    # P-REVIVED: sold 2024-12-01 (the only skincare sale then: Hit at the snapshots
    # 2024-12-02 .. 12-23, 4 weeks, first 336 days after launch), nothing more until 06-20.
    # Exit at 06-02; at d it sold again with previous 0 -> Growth: Exit>Growth
    buy("2024-12-01", "u10", "P-REVIVED", "100"),
    buy("2025-06-20", "u10", "P-REVIVED", "30"),
    # P-EVENTS: no products row; launch = its first event (a view on 06-20), category from
    # its events -> New at d, unknown at 06-02: none>New
    ev(
        t("2025-06-20"),
        "u11",
        "product_view",
        brand="Lumi",
        category="skincare",
        product_id="P-EVENTS",
    ),
    buy("2025-06-25", "u11", "P-EVENTS", "10"),
    # a Lumi purchase without a product: in no product indicator, but in the refund rate
    buy("2025-06-15", "u12", None, "500"),
    # a refund of P-UP19's 06-10 purchase: the refund rate counts it; GMV stays gross
    ev(
        t("2025-06-12"),
        "u5",
        "refund",
        brand="Lumi",
        category="skincare",
        product_id="P-UP19",
        amount="77.87",
    ),
    # a refund on 04-01, 90 days before d: outside the 90-day quality window
    ev(t("2025-04-01"), "u3", "refund", brand="Lumi", category="skincare", amount="999"),
    # reviews: 5 on 06-01 and 3 on 2024-07-01 (364 days before d) count; 1 on 2024-06-30
    # (365 days before) does not -> mean 4
    ev(t("2025-06-01"), "u1", "review", brand="Lumi", product_id="P-HIT", rating="5"),
    ev(t("2024-07-01"), "u3", "review", brand="Lumi", product_id="P-OLD90", rating="3"),
    ev(t("2024-06-30"), "u3", "review", brand="Lumi", product_id="P-OLD90", rating="1"),
    # Rival's RIV-HIT: 1000 on 06-10 -> Hit at d (the tie), Exit at 06-02: Exit>Hit.
    # History: Hit at 06-23 and d (at 06-16 P-HIT's 2000 leads alone) -> 2 weeks, 539 days
    buy("2025-06-10", "u1", "RIV-HIT", "1000", brand="Rival"),
]


def product(pid: str, launch: str, brand: str = "Lumi") -> dict:
    return {"product_id": pid, "brand": brand, "category": "skincare", "launch_date": launch}


PRODUCTS = [
    product("P-NEW89", "2025-04-02"),
    product("P-OLD90", "2025-04-01"),
    *(product(p, OLD) for p in ("P-UP20", "P-UP19", "P-DOWN20", "P-HIT")),
    *(product(p, OLD) for p in ("P-EXIT60", "P-EXIT61", "P-ALIVE59", "P-REVIVED")),
    # listed, never sold: launched 60 days before d -> not yet Exit, New; 61 days -> Exit.
    # Both New at 06-02: New>New and New>Exit
    product("P-SHELF60", "2025-05-01"),
    product("P-SHELF61", "2025-04-30"),
    product("RIV-HIT", OLD, brand="Rival"),
]

STAGES_AT_D = {
    "Exit": 3,  # P-EXIT60, P-EXIT61, P-SHELF61
    "Hit": 1,  # P-HIT
    "New": 3,  # P-NEW89, P-SHELF60, P-EVENTS
    "Growth": 2,  # P-UP20, P-REVIVED
    "Decline": 2,  # P-DOWN20, P-ALIVE59
    "Mature": 2,  # P-OLD90, P-UP19
}
FLOW = {
    "New>New": 2,  # P-NEW89, P-SHELF60
    "New>Mature": 1,  # P-OLD90
    "New>Exit": 1,  # P-SHELF61
    "Growth>Growth": 1,  # P-UP20
    "Growth>Mature": 1,  # P-UP19
    "Growth>Decline": 1,  # P-DOWN20
    "Hit>Hit": 1,  # P-HIT
    "Decline>Exit": 2,  # P-EXIT60, P-EXIT61
    "Decline>Decline": 1,  # P-ALIVE59
    "Exit>Growth": 1,  # P-REVIVED
    "none>New": 1,  # P-EVENTS
}
# recent GMV at d: NEW89 50, OLD90 50, UP20 77.88, UP19 77.87, DOWN20 51.88, HIT 1000,
# REVIVED 30, EVENTS 10 = 1347.63 (the 500 without a product is not a product's)
RECENT = 1347.63
SHARES = {
    "Exit": 0,
    "Hit": 1000,
    "New": 50 + 10,
    "Growth": 77.88 + 30,
    "Decline": 51.88,
    "Mature": 50 + 77.87,
}
# GMV of Lumi's products in the last 90 days [04-02, 06-30]: 100 + 100 + 142.78 + 142.77 +
# 116.73 + 2000 + 100 + 100 + 100 + 30 + 10 = 2942.28; new products (P-NEW89, P-EVENTS): 110
NEW_GMV, GMV_90 = 110, 2942.28


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("super")
    write_csv(d / "events.csv", STORY)
    write_csv(d / "products.csv", PRODUCTS, ["product_id", "brand", "category", "launch_date"])
    return d


@pytest.fixture(scope="module")
def result(data):
    return brandlens.compute(data, as_of=D, methodologies=["super"])


def _row(result, indicator, brand="Lumi", key=None):
    return next(
        r for r in result.results if r.indicator == indicator and r.brand == brand and r.key == key
    )


def test_no_errors(result):
    assert result.errors == [] and result.not_applicable == []


def test_every_product_has_one_stage(result):
    assert {k: result.value("super.products", "Lumi", k) for k in STAGES_AT_D} == STAGES_AT_D
    assert result.value("super.product_count", "Lumi") == 13
    assert result.value("super.hit_count", "Lumi") == 1
    rival = {k: result.value("super.products", "Rival", k) for k in STAGES_AT_D}
    assert rival == {**dict.fromkeys(STAGES_AT_D, 0), "Hit": 1}


def test_gmv_shares_vitality_and_concentration(result):
    for stage, gmv in SHARES.items():
        row = _row(result, "super.gmv_share_by_stage", key=stage)
        assert row.numerator == pytest.approx(gmv) and row.denominator == pytest.approx(RECENT)
        assert row.value == pytest.approx(gmv / RECENT)
    vitality = _row(result, "super.vitality")
    assert vitality.numerator == pytest.approx(1000 + 60 + 107.88)
    assert vitality.value == pytest.approx(1167.88 / RECENT)
    top3 = _row(result, "super.top3_share")  # 1000 + 77.88 + 77.87
    assert top3.value == pytest.approx(1155.75 / RECENT)


def test_new_products(result):
    share = _row(result, "super.new_product_gmv_share")
    assert (share.numerator, share.denominator) == (pytest.approx(NEW_GMV), pytest.approx(GMV_90))
    # buyers of Lumi's products in the 90 days: u1..u11 and u13 (u12 bought no product);
    # of new products: u1 u2 (P-NEW89), u11 (P-EVENTS)
    pen = _row(result, "super.new_product_penetration")
    assert (pen.numerator, pen.denominator) == (3, 12)


def test_stage_history(result):
    # Lumi's first Hits: P-REVIVED 336, P-EXIT60 P-EXIT61 P-ALIVE59 490, P-HIT 511 days
    assert result.value("super.time_to_hit_days", "Lumi") == 490
    # weeks in Hit: 4, 3, 3, 3, 6 -> median 3
    assert result.value("super.hit_longevity_weeks", "Lumi") == 3
    assert result.value("super.time_to_hit_days", "Rival") == 539
    assert result.value("super.hit_longevity_weeks", "Rival") == 2


def test_flow(result):
    lumi = {
        r.key: r.value
        for r in result.results
        if r.indicator == "super.product_flow" and r.brand == "Lumi"
    }
    assert len(lumi) == 42
    assert {k: v for k, v in lumi.items() if v} == FLOW
    rival = {
        r.key: r.value
        for r in result.results
        if r.indicator == "super.product_flow" and r.brand == "Rival" and r.value
    }
    assert rival == {"Exit>Hit": 1}


def test_flow_from_x_sums_to_the_products_at_x_then(data, result):
    """The earlier snapshot of the flow is the stage computed as of d - 28 itself."""
    then = brandlens.compute(data, as_of="2025-06-02", methodologies=["super"])
    for stage in STAGES_AT_D:
        out_of = sum(
            r.value
            for r in result.results
            if r.indicator == "super.product_flow"
            and r.brand == "Lumi"
            and r.key.startswith(f"{stage}>")
        )
        assert out_of == then.value("super.products", "Lumi", stage), stage
    assert then.value("super.product_count", "Lumi") == 12  # P-EVENTS is not known yet


def test_quality(result):
    refund = _row(result, "super.refund_rate")  # 77.87 over every Lumi purchase in 90 days
    assert refund.numerator == pytest.approx(77.87)
    assert refund.denominator == pytest.approx(GMV_90 + 500)
    assert result.value("super.avg_rating", "Lumi") == 4
    assert result.value("super.avg_rating", "Rival") is None


def test_product_drill_down(data):
    listing = brandlens.entities(data, "super", "products", brands="Lumi", as_of=D)
    assert listing.columns == [
        "brand",
        "product_id",
        "category",
        "launch_date",
        "launch_source",
        "stage",
        "recent_gmv",
        "previous_gmv",
        "growth",
        "category_rank",
        "category_selling",
        "stage_before",
        "hit_weeks",
    ]
    rows = {r["product_id"]: r for r in listing.rows}
    assert len(rows) == 13
    assert [r["product_id"] for r in listing.rows][:4] == ["P-HIT", "P-UP20", "P-UP19", "P-DOWN20"]
    assert rows["P-UP20"] == {
        "brand": "Lumi",
        "product_id": "P-UP20",
        "category": "skincare",
        "launch_date": OLD,
        "launch_source": "products",
        "stage": "Growth",
        "recent_gmv": 77.88,
        "previous_gmv": 64.9,
        "growth": pytest.approx(0.2),
        "category_rank": 3,  # after the two tied Hits
        "category_selling": 9,
        "stage_before": "Growth",
        "hit_weeks": 0,
    }
    assert rows["P-HIT"]["category_rank"] == 1 and rows["P-HIT"]["hit_weeks"] == 6
    assert rows["P-EVENTS"]["launch_date"] == "2025-06-20"
    assert rows["P-EVENTS"]["launch_source"] == "first event"
    assert rows["P-EVENTS"]["stage_before"] == "none"
    assert rows["P-SHELF61"]["stage"] == "Exit" and rows["P-SHELF61"]["category_rank"] is None
    assert rows["P-OLD90"]["growth"] == 0 and rows["P-REVIVED"]["growth"] is None
    # compute keeps the per-brand contract: no product rows
    result = brandlens.compute(data, as_of=D, methodologies=["super"])
    assert "P-UP20" not in result.model_dump_json()


# ---- Hit depends on other brands: out by being outsold, in when the cut widens ----------


def _snacks(extra=()):
    # Lumi's S01..S10 sell 100, 90, .., 10 in the recent window: 10 selling -> 1 Hit
    rows = [
        ev(
            t("2025-06-20"),
            "u1",
            "purchase",
            brand="Lumi",
            category="snacks",
            product_id=f"S{i:02d}",
            amount=str(110 - 10 * i),
        )
        for i in range(1, 11)
    ]
    return rows + [
        ev(
            t("2025-06-21"),
            "u2",
            "purchase",
            brand="Rival",
            category="snacks",
            product_id="R1",
            amount=a,
        )
        for a in extra
    ]


def _hits(tmp_path, rows):
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["super"])
    return r.value("super.hit_count", "Lumi")


def test_another_brand_can_push_a_product_out_of_hit_or_let_one_in(tmp_path):
    assert _hits(tmp_path, _snacks()) == 1  # ceil(10% x 10) = 1: S01
    # Rival's R1 starts selling (5): 11 selling, ceil(1.1) = 2 -> S02 is let in
    assert _hits(tmp_path, _snacks(["5"])) == 2
    # R1 sells more (500 in all): still 11 selling, 2 Hits: R1 and S01 -> S02 pushed out
    assert _hits(tmp_path, _snacks(["5", "495"])) == 1


def test_exit_counts_purchases_in_the_exit_days_ending_at_d_whatever_the_recent_days(tmp_path):
    """exit_days = 30 under 2 x recent_days (56): the exit window [06-01, 06-30] is not the
    recent + previous windows, so its own bound decides (with the defaults, 60 >= 56, the
    purchase days read stop at the exit window's start, and that bound never shows)."""
    rows = [
        # P-EXIT30: launched 03-22 (100 days before d); its one purchase on 05-31, 30 days
        # before d: none in [06-01, 06-30] -> Exit
        buy("2025-05-31", "u1", "P-EXIT30", "100"),
        # P-ALIVE29: the same on 06-01, 29 days before d -> not Exit; recent [06-03, 06-30]
        # 0 against previous [05-06, 06-02] 100 -> Decline
        buy("2025-06-01", "u2", "P-ALIVE29", "100"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    products = [product("P-EXIT30", "2025-03-22"), product("P-ALIVE29", "2025-03-22")]
    write_csv(tmp_path / "products.csv", products, list(products[0]))
    params = {"super.exit_days": 30, "super.recent_days": 28}
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["super"], params=params)
    assert r.errors == []
    stages = {k: r.value("super.products", "Lumi", k) for k in STAGES_AT_D}
    assert stages == {**dict.fromkeys(STAGES_AT_D, 0), "Exit": 1, "Decline": 1}


def test_a_product_without_a_products_row_takes_its_most_frequent_category_ties_by_name(
    tmp_path,
):
    """Lumi's P1 has no products row: its events name apparel twice and snacks twice, a
    tie, so its category is apparel (by name). Apparel then has two selling products,
    Sakura's Q1 (100) and P1 (20): ceil(10% x 2) = 1 -> Q1 is the Hit, and P1 (first seen
    12-12, 200 days before d: not New; recent 20 against previous 0) is Growth. Taken as
    snacks, P1 would sell alone there and be its Hit."""

    def p1(day: str, event_type: str, category: str, **amount: str) -> dict:
        return ev(
            t(day), "u1", event_type, brand="Lumi", category=category, product_id="P1", **amount
        )

    rows = [
        p1("2024-12-12", "product_view", "apparel"),
        p1("2024-12-12", "product_view", "snacks"),
        p1("2025-06-25", "purchase", "apparel", amount="10"),
        p1("2025-06-25", "purchase", "snacks", amount="10"),
        ev(
            t("2025-06-27"),
            "u2",
            "purchase",
            brand="Sakura",
            category="apparel",
            product_id="Q1",
            amount="100",
        ),
    ]
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["super"])
    assert r.errors == []
    assert r.value("super.hit_count", "Lumi") == 0
    assert r.value("super.products", "Lumi", "Growth") == 1
    assert r.value("super.hit_count", "Sakura") == 1


@pytest.mark.parametrize("listed", [False, True], ids=["inferred", "products row"])
def test_the_flow_restates_the_past_with_the_launch_read_at_d(tmp_path, listed):
    """docs/methodologies/super.md, "The stage history": both flow snapshots use the
    launch the run reads at d. The horizon at d = 06-30 starts 2024-04-09 (448 days).

    P sells 5 on 2024-03-27 and 5 on 2025-05-11; BIG sells 1000 on 05-31 and 06-29 in the
    same category, so BIG is its Hit (⌈10% × 2⌉ = 1) at both snapshots.
    - Without a products row, P's 2024 sale is outside d's horizon: launched 05-11 as
      read at d, so New at d (50 days) and at 06-02 (22 days): New>New. A run as of
      06-02 reads back to 2024-03-12, launches P on 2024-03-27, and finds it Growth
      (recent 5 against previous 0), so its Growth count is not the flow's Growth>*.
    - With a products row launching P on 2024-03-27, both runs agree: Growth at 06-02,
      and Decline at d (recent 0 ≤ 0.8 × previous 5; the 05-11 sale keeps it out of
      Exit): Growth>Decline."""
    write_csv(
        tmp_path / "events.csv",
        [
            buy("2024-03-27", "u1", "P", "5"),
            buy("2025-05-11", "u1", "P", "5"),
            buy("2025-05-31", "u2", "BIG", "1000"),
            buy("2025-06-29", "u2", "BIG", "1000"),
        ],
    )
    if listed:
        write_csv(
            tmp_path / "products.csv",
            [product("P", "2024-03-27")],
            ["product_id", "brand", "category", "launch_date"],
        )
    now = brandlens.compute(tmp_path, as_of=D, methodologies=["super"])
    then = brandlens.compute(tmp_path, as_of="2025-06-02", methodologies=["super"])
    flow = {r.key: r.value for r in now.results if r.indicator == "super.product_flow" and r.value}
    then_stages = {
        r.key: r.value for r in then.results if r.indicator == "super.products" and r.value
    }
    if listed:
        assert flow == {"Hit>Hit": 1, "Growth>Decline": 1}
        assert then_stages == {"Hit": 1, "Growth": 1}
    else:
        assert flow == {"Hit>Hit": 1, "New>New": 1}
        assert then_stages == {"Hit": 1, "Growth": 1}
