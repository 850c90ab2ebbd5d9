"""FAST storyboard: fourteen users around the window boundaries, every indicator by hand.

as_of d = 2025-06-30 (Asia/Shanghai); all times are 04:00 UTC = noon local.
Windows at d:      A/I 15 days [06-16, 06-30]; L 365 days [2024-07-01, d];
                   P 912 days [2023-01-01, d].
Windows at d - 7:  A/I [06-09, 06-23]; L [2024-06-24, 06-23]; P [2022-12-25, 06-23].
"""

from __future__ import annotations

import pytest

import brandlens
from conftest import ev

D = "2025-06-30"


def t(day: str) -> str:
    return f"{day} 04:00:00"


STORY = [
    # u1: impression on the first day of the 15-day window -> A at d and at d-7: A>A
    ev(t("2025-06-16"), "u1", "ad_impression", brand="Lumi"),
    # u2: impression one day outside the window -> none at d; A at d-7: A>none (lost)
    ev(t("2025-06-15"), "u2", "ad_impression", brand="Lumi"),
    # u3: two product views on ONE day (06-25) -> A at d; nothing at d-7: none>A
    ev(t("2025-06-25"), "u3", "product_view", brand="Lumi"),
    ev("2025-06-25 05:00:00", "u3", "product_view", brand="Lumi"),
    # u4: product views on two days -> I at d; only the 06-20 view at d-7 -> A: A>I
    ev(t("2025-06-20"), "u4", "product_view", brand="Lumi"),
    ev(t("2025-06-26"), "u4", "product_view", brand="Lumi"),
    # u5: purchase + review rated 3 -> P at both snapshots: P>P
    ev(t("2025-01-10"), "u5", "purchase", brand="Lumi", amount="80"),
    ev(t("2025-01-15"), "u5", "review", brand="Lumi", rating="3"),
    # u6: purchase + review rated 4 -> L at both: L>L
    ev(t("2025-01-10"), "u6", "purchase", brand="Lumi", amount="80"),
    ev(t("2025-01-15"), "u6", "review", brand="Lumi", rating="4"),
    # u7: one purchase on the first day of the 912-day window -> P at d and d-7: P>P
    ev(t("2023-01-01"), "u7", "purchase", brand="Lumi", amount="50"),
    # u8: one purchase one day outside the 912-day window -> none at d; P at d-7: P>none
    ev(t("2022-12-31"), "u8", "purchase", brand="Lumi", amount="50"),
    # u9: A at d-7 (impression 06-20), purchase on 06-28 -> P at d: A>P (deepened in the week)
    ev(t("2025-06-20"), "u9", "ad_impression", brand="Lumi"),
    ev(t("2025-06-28"), "u9", "purchase", brand="Lumi", amount="120"),
    # u10: add-to-cart on 06-10 -> I at d-7, outside the window at d: I>none (fell out)
    ev(t("2025-06-10"), "u10", "add_to_cart", brand="Lumi"),
    # u11: joined then left the membership -> not a member; the join (03-01) is too old for I
    ev(t("2025-03-01"), "u11", "member_join", brand="Lumi"),
    ev(t("2025-05-01"), "u11", "member_leave", brand="Lumi"),
    # u12: joined on 06-25 -> a member; joining is Interest evidence -> none>I;
    #      no thriving event in 180 days -> an inactive member
    ev(t("2025-06-25"), "u12", "member_join", brand="Lumi"),
    # u13: member since January who bought on 06-01 -> P at both, an active member
    ev(t("2025-01-01"), "u13", "member_join", brand="Lumi"),
    ev(t("2025-06-01"), "u13", "purchase", brand="Lumi", amount="200"),
    # u14: purchases on 2024-06-30 and 2025-06-05: two purchase days in the d-7 L window
    #      [2024-06-24, 06-23] -> L at d-7; at d the first is outside [2024-07-01, d] -> P:
    #      L>P (weakened)
    ev(t("2024-06-30"), "u14", "purchase", brand="Lumi", amount="60"),
    ev(t("2025-06-05"), "u14", "purchase", brand="Lumi", amount="60"),
    # Nova: u1 saw one Nova ad on d -> Nova has one A user and nothing at d-7
    ev(t("2025-06-30"), "u1", "ad_impression", brand="Nova"),
]

# stages at d:   A u1 u3 | I u4 u12 | P u5 u7 u9 u13 u14 | L u6              -> 10 users
# stages at d-7: A u1 u2 u4 u9 | I u10 | P u5 u7 u8 u13 | L u6 u14          -> 11 users
FLOW = {
    "A>A": 1,
    "A>none": 1,
    "A>I": 1,
    "A>P": 1,  # u1, u2, u4, u9
    "none>A": 1,
    "none>I": 1,  # u3, u12
    "P>P": 3,
    "P>none": 1,  # u5 u7 u13, u8
    "I>none": 1,  # u10
    "L>L": 1,
    "L>P": 1,  # u6, u14
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from conftest import write_csv

    d = tmp_path_factory.mktemp("fast")
    write_csv(d / "events.csv", STORY)
    return brandlens.compute(d, as_of=D, methodologies=["fast"])


def test_no_errors(result):
    assert result.errors == []


def test_fertility_and_stages(result):
    assert result.value("fast.fertility", "Lumi") == 10
    assert [result.value("fast.aipl_users", "Lumi", k) for k in "AIPL"] == [2, 2, 5, 1]
    assert result.value("fast.fertility", "Nova") == 1
    assert [result.value("fast.aipl_users", "Nova", k) for k in "AIPL"] == [1, 0, 0, 0]


def test_flow_matrix_reports_all_24_keys(result):
    lumi = {
        r.key: r.value for r in result.results if r.indicator == "fast.flow" and r.brand == "Lumi"
    }
    assert len(lumi) == 24
    assert {k: v for k, v in lumi.items() if v} == FLOW
    nova = {
        r.key: r.value for r in result.results if r.indicator == "fast.flow" and r.brand == "Nova"
    }
    assert {k: v for k, v in nova.items() if v} == {"none>A": 1}


def test_advancing(result):
    row = next(r for r in result.results if r.indicator == "fast.advancing" and r.brand == "Lumi")
    # 11 users had a stage at d-7; u4 (A>I) and u9 (A>P) rose
    assert (row.numerator, row.denominator) == (2, 11)
    assert row.value == pytest.approx(2 / 11)
    # Nova had nobody at d-7: null
    assert result.value("fast.advancing", "Nova") is None


def test_advancing_by_stage(result):
    def rate(key):
        row = next(
            r
            for r in result.results
            if r.indicator == "fast.advancing_by_stage" and r.brand == "Lumi" and r.key == key
        )
        return row.numerator, row.denominator, row.value

    assert rate("A") == (2, 4, 0.5)  # u1 u2 u4 u9 were at A; u4 and u9 rose
    assert rate("I") == (0, 1, 0.0)  # u10 fell out
    assert rate("P") == (0, 4, 0.0)  # u5 u7 u13 kept P, u8 lost it


def test_superiority_and_thriving(result):
    assert result.value("fast.superiority", "Lumi") == 2  # u12, u13 (u11 left)
    row = next(r for r in result.results if r.indicator == "fast.thriving" and r.brand == "Lumi")
    assert (row.numerator, row.denominator, row.value) == (1, 2, 0.5)  # u13 bought on 06-01
    assert result.value("fast.superiority", "Nova") == 0
    assert result.value("fast.thriving", "Nova") is None


def test_prospect_customer_ratio(result):
    row = next(
        r
        for r in result.results
        if r.indicator == "fast.prospect_customer_ratio" and r.brand == "Lumi"
    )
    assert (row.numerator, row.denominator) == (4, 6)  # A+I = 2+2, P+L = 5+1
    assert row.value == pytest.approx(4 / 6)
    assert result.value("fast.prospect_customer_ratio", "Nova") is None  # no customers


def test_parameters_change_the_story(tmp_path):
    from conftest import write_csv

    write_csv(tmp_path / "events.csv", STORY)
    r = brandlens.compute(
        tmp_path,
        as_of=D,
        methodologies=["fast"],
        params={
            "fast.purchase_window_days": "730",  # the common 2-year alternative
            "fast.advancing_period_days": "14",
        },
    )
    # with 730 days u7's purchase (2023-01-01) is too old: P loses u7
    assert [r.value("fast.aipl_users", "Lumi", k) for k in "AIPL"] == [2, 2, 4, 1]
    assert r.parameters["fast"]["advancing_period_days"] == 14


def test_event_type_parameters_are_checked_against_the_vocabulary(tmp_path):
    from brandlens.errors import UsageError
    from conftest import write_csv

    write_csv(tmp_path / "events.csv", STORY)
    with pytest.raises(UsageError, match=r"fast.thriving_events: unknown event type\(s\) nope"):
        brandlens.compute(
            tmp_path,
            as_of=D,
            methodologies=["fast"],
            params={"fast.thriving_events": "purchase,nope"},
        )


def test_a_list_parameter_is_its_distinct_values_and_a_set_is_sorted(tmp_path):
    # was: a Python set's order followed the process's string hashing, so the same call
    # gave other JSON in another process; repeated values were kept (an independent review)
    import os
    import subprocess
    import sys

    from conftest import write_csv

    write_csv(tmp_path / "events.csv", STORY)
    given = {"fast.thriving_events": "review,purchase,review"}
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["fast"], params=given)
    assert r.parameters["fast"]["thriving_events"] == ["review", "purchase"]
    code = (
        "import brandlens, sys; r = brandlens.compute(sys.argv[1], as_of=sys.argv[2], "
        "methodologies=['fast'], params={'fast.thriving_events': "
        "{'purchase', 'review', 'share', 'consult', 'follow'}}); print(r.model_dump_json())"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), D],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert '"thriving_events":["consult","follow","purchase","review","share"]' in outputs.pop()


def test_each_rule_reads_its_own_window_and_only_brand_searches(tmp_path):
    """awareness_window_days = 30 against interest's 15: A [06-01, 06-30], I [06-16, 06-30].

    v1: a category search on d -> nothing (Interest counts brand searches only)
    v2: a brand search on 06-10 -> nothing (20 days back: outside I's 15 days)
    v3: an ad click on 06-10 -> nothing (clicks are I evidence by default, 15 days)
    v4: a brand search on 06-20 -> I
    v5: an ad impression on 06-05 -> A (25 days back, inside A's 30)
    v6: a member since 01-01 whose one purchase, on 07-05, comes after d -> a member with
        no thriving event in the 180 days up to d, and no stage
    v7: a member since 01-01 who reviewed (rated 3: not Loyalty) on 06-01 -> an active
        member (a review is a thriving event), and no stage
    -> A 1, I 1, fertility 2; superiority 2, thriving 1 of 2.
    With ad_click_stage = awareness, v3's click is A evidence within A's 30 days: A 2."""
    from conftest import write_csv

    rows = [
        ev(t("2025-06-30"), "v1", "search", brand="Lumi", query_type="category"),
        ev(t("2025-06-10"), "v2", "search", brand="Lumi", query_type="brand"),
        ev(t("2025-06-10"), "v3", "ad_click", brand="Lumi"),
        ev(t("2025-06-20"), "v4", "search", brand="Lumi", query_type="brand"),
        ev(t("2025-06-05"), "v5", "ad_impression", brand="Lumi"),
        ev(t("2025-01-01"), "v6", "member_join", brand="Lumi"),
        ev(t("2025-07-05"), "v6", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-01-01"), "v7", "member_join", brand="Lumi"),
        ev(t("2025-06-01"), "v7", "review", brand="Lumi", rating="3"),
    ]
    write_csv(tmp_path / "events.csv", rows)
    params = {"fast.awareness_window_days": 30}
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["fast"], params=params)
    assert r.errors == []
    assert [r.value("fast.aipl_users", "Lumi", k) for k in "AIPL"] == [1, 1, 0, 0]
    assert r.value("fast.fertility", "Lumi") == 2
    assert r.value("fast.superiority", "Lumi") == 2
    thriving = next(x for x in r.results if x.indicator == "fast.thriving" and x.brand == "Lumi")
    assert (thriving.numerator, thriving.denominator, thriving.value) == (1, 2, 0.5)
    params["fast.ad_click_stage"] = "awareness"
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["fast"], params=params)
    assert [r.value("fast.aipl_users", "Lumi", k) for k in "AIPL"] == [2, 1, 0, 0]


# Found by a mutation run: no test relied on any one entry of thriving_events (store_visit
# swapped for follow passed). Every default thriving event, one brand each:
# Each brand has one member who joined on 2024-06-01 (older than the 180-day thriving
# window [2025-01-02, 2025-06-30], so the join itself is no activity) and whose only other
# event is one event type on 2025-06-01. The member is active exactly when that type is in
# the default thriving_events (purchase, add_to_cart, favorite, coupon_claim, review,
# share, consult, store_visit); follow, product_view, ad_click, content_view and search
# are brand contact that is not member activity.
THRIVING_DEFAULT = [
    "purchase",
    "add_to_cart",
    "favorite",
    "coupon_claim",
    "review",
    "share",
    "consult",
    "store_visit",
]
NOT_THRIVING = ["follow", "product_view", "ad_click", "content_view", "search"]


@pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")
def test_each_default_thriving_event_and_no_other_makes_a_member_active(tmp_path):
    from conftest import write_csv

    rows = []
    for etype in THRIVING_DEFAULT + NOT_THRIVING:
        brand = f"T_{etype}"
        rows.append(ev(t("2024-06-01"), "m", "member_join", brand=brand))
        extra = {"amount": "10"} if etype == "purchase" else {}
        extra |= {"rating": "3"} if etype == "review" else {}
        extra |= {"query_type": "brand"} if etype == "search" else {}
        rows.append(ev(t("2025-06-01"), "m", etype, brand=brand, **extra))
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["fast"])
    assert r.errors == []
    got = {e: r.value("fast.thriving", f"T_{e}") for e in THRIVING_DEFAULT + NOT_THRIVING}
    assert got == {**dict.fromkeys(THRIVING_DEFAULT, 1.0), **dict.fromkeys(NOT_THRIVING, 0.0)}


# Found by a mutation run: a Loyalty rule with 2 purchase days written in passed, since no
# test changed loyal_min_purchase_days from its default.
@pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")
def test_loyal_min_purchase_days_is_the_parameter(tmp_path):
    from conftest import write_csv

    rows = [
        # p1: one purchase day (06-01) -> P by default; L when one day is enough
        ev(t("2025-06-01"), "p1", "purchase", brand="Lumi", amount="10"),
        # p2: purchases on two days (05-01, 06-01) -> L by default; P when three are needed
        ev(t("2025-05-01"), "p2", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-06-01"), "p2", "purchase", brand="Lumi", amount="10"),
        # p3: purchases on three days -> L with 1, 2 or 3
        ev(t("2025-04-01"), "p3", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-05-01"), "p3", "purchase", brand="Lumi", amount="10"),
        ev(t("2025-06-01"), "p3", "purchase", brand="Lumi", amount="10"),
        # p4: two purchases on ONE day -> one purchase day: P by default
        ev(t("2025-06-01"), "p4", "purchase", brand="Lumi", amount="10"),
        ev("2025-06-01 05:00:00", "p4", "purchase", brand="Lumi", amount="10"),
    ]
    write_csv(tmp_path / "events.csv", rows)

    def p_and_l(n):
        params = {} if n is None else {"fast.loyal_min_purchase_days": str(n)}
        r = brandlens.compute(tmp_path, as_of=D, methodologies=["fast"], params=params)
        return [r.value("fast.aipl_users", "Lumi", k) for k in "PL"]

    assert p_and_l(None) == [2, 2]  # P: p1 p4 | L: p2 p3
    assert p_and_l(1) == [0, 4]  # every buyer is L
    assert p_and_l(3) == [3, 1]  # P: p1 p2 p4 | L: p3
