"""A.R.G.O storyboard in PostHog's style: sixteen users of Lumi, each with a comment, and
every indicator's value worked out by hand.

as_of d = 2025-06-30; all times are 04:00 UTC = noon local (Asia/Shanghai).
Lifecycle intervals (30 days): I0 [06-01, 06-30], I−1 [05-02, 05-31], I−2 [04-02, 05-01],
I−3 [03-03, 04-01], I−4 [02-01, 03-02], I−5 [01-02, 01-31], I−6 [2024-12-03, 2025-01-01].
Windows: new buyers = first purchase in I0; conversion cohort = first event in I−1;
second-order cohort = first purchase in [03-03, 05-01]; retention-curve cohort = first
purchase in I−6; LTV cohort = first purchase in [2023-07-02, 2024-06-30]; the value window
(ARPPU, cross-category, O) = [2024-07-01, 2025-06-30].
Active = any event except ad_impression. Category skincare and brand Lumi unless said.
"""

from __future__ import annotations

import pytest

import brandlens
from conftest import EVENT_COLUMNS, ev, write_csv

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"


def t(day: str) -> str:
    return f"{day} 04:00:00"


def act(day: str, user: str, etype: str, channel: str | None = None, **kw) -> dict:
    return ev(t(day), user, etype, brand=kw.pop("brand", "Lumi"), channel=channel, **kw)


def buy(day: str, user: str, amount: str, channel: str | None = "onsite", **kw) -> dict:
    kw.setdefault("category", "skincare")
    return act(day, user, "purchase", channel, amount=amount, **kw)


STORY = [
    # u01 — new buyer, omnichannel. First event (a content view) 06-10, first purchase day
    # 06-15 with two orders, 100 onsite and 20 live (first-day GMV 120, 5 days to first
    # order), again 06-25. Active on 4 days of I0. Lifecycle: new.
    act("2025-06-10", "u01", "content_view", "onsite"),
    act("2025-06-12", "u01", "product_view", "onsite"),
    buy("2025-06-15", "u01", "100"),
    buy("2025-06-15", "u01", "20", "live"),
    buy("2025-06-25", "u01", "50"),
    # u02 — new buyer whose first event is an impression (05-20, in the conversion cohort):
    # converted 16 days later (06-05). The impression is not activity, so the first active
    # event is the ad click of 06-02: new, not returning; its offsite channel does not make
    # u02 omnichannel either (click and purchase onsite).
    act("2025-05-20", "u02", "ad_impression", "offsite_media"),
    act("2025-06-02", "u02", "ad_click", "onsite"),
    buy("2025-06-05", "u02", "80"),
    # u03 — loyal, in the LTV cohort (first purchase 2024-03-10). 365 days from it
    # [2024-03-10, 2025-03-09]: 200 + 150 − 50 (refund) = 300; the 2025-03-20 purchase is a
    # day too late for it. A makeup purchase makes u03 the one cross-category buyer.
    # Review in I−1, purchase (offline store) in I0: returning; onsite + offline: omnichannel.
    buy("2024-03-10", "u03", "200"),
    buy("2024-09-01", "u03", "150"),
    act("2024-09-05", "u03", "refund", "onsite", amount="50", category="skincare"),
    buy("2025-03-20", "u03", "300", category="makeup"),
    act("2025-05-15", "u03", "review", "onsite", rating="5"),
    buy("2025-06-20", "u03", "100", "offline_store"),
    # u04 — second order on time: first purchase 03-15, second 05-10 (56 days). Nothing of
    # Lumi in I0: dormant. Its purchase of Rival in I0 changes nothing for Lumi.
    buy("2025-03-15", "u04", "60"),
    buy("2025-05-10", "u04", "70"),
    buy("2025-06-20", "u04", "999", brand="Rival"),
    # u05 — resurrecting: a view in January, a store visit in I0, nothing in I−1 (no channel)
    act("2025-01-15", "u05", "product_view"),
    act("2025-06-15", "u05", "store_visit"),
    # u06 — second order a day late: first purchase 03-03 (the cohort's first day), second
    # 05-03, 61 days later. Favourite on 06-01, the first day of I0: returning.
    buy("2025-03-03", "u06", "45", "live"),
    buy("2025-05-03", "u06", "55", "live"),
    act("2025-06-01", "u06", "favorite"),
    # u07 — second order at exactly 60 days: first purchase 05-01 (the cohort's last day,
    # private domain), second 06-30 (onsite). 05-01 is in I−2: resurrecting. Its first event
    # (05-01) is a day before the conversion cohort.
    buy("2025-05-01", "u07", "25", "private_domain"),
    buy("2025-06-30", "u07", "35"),
    # u08 — retention-curve cohort, first purchase 2024-12-03 (I−6's first day); buys again
    # on 01-02 (I−5's first day: M1), 03-02 (I−4's last day: M2), 05-31 (M5), 06-01 (M6).
    # Active in I−1 and I0: returning.
    buy("2024-12-03", "u08", "90"),
    buy("2025-01-02", "u08", "30"),
    buy("2025-03-02", "u08", "30"),
    buy("2025-05-31", "u08", "30"),
    buy("2025-06-01", "u08", "30"),
    # u09 — retention-curve cohort, first purchase 01-01 (I−6's last day); again 01-31 (I−5's
    # last day: M1), without a channel. Nothing later: no lifecycle status.
    buy("2025-01-01", "u09", "20"),
    buy("2025-01-31", "u09", "20", None),
    # u10 — first purchase 2023-07-01, d − 730: a day before the LTV cohort and outside
    # the CLV history. Its refund in the value window makes it active there, not a buyer:
    # ARPPU leaves the refund out.
    buy("2023-07-01", "u10", "1000"),
    act("2024-08-01", "u10", "refund", "onsite", amount="100", category="skincare"),
    # u11 — LTV cohort's last day: first purchase 2024-06-30 (40, a day before the value
    # window); 365 days from it end 2025-06-29 (60, short video) — 100; the 500 on 06-30
    # is outside. Active in I0 only (06-29, 06-30): resurrecting; omnichannel.
    buy("2024-06-30", "u11", "40"),
    buy("2025-06-29", "u11", "60", "short_video"),
    buy("2025-06-30", "u11", "500"),
    # u12 — a first purchase on d in an offline store is the user's first event: 0 days to
    # first order, first-day GMV 30. New.
    buy("2025-06-30", "u12", "30", "offline_store"),
    # u13 — first event 05-02 (the conversion cohort's first day), first purchase 06-01,
    # exactly 30 days later: converted, and a new buyer (45). Active in I−1 and I0: returning.
    act("2025-05-02", "u13", "product_view", "onsite"),
    buy("2025-06-01", "u13", "45"),
    # u14 — content view on 05-31 (the conversion cohort's last day), never bought: not
    # converted. Active in I−1 only: dormant.
    act("2025-05-31", "u14", "content_view", "short_video"),
    # u15 — first event an impression on 05-10, first purchase 06-10, 31 days later: in the
    # conversion cohort but not converted; a new buyer (25) and new in the lifecycle.
    act("2025-05-10", "u15", "ad_impression", "live"),
    buy("2025-06-10", "u15", "25"),
    # u16 — first seen on 05-31, I−1's last day (a store visit), again on 06-01, I0's first
    # (a favourite): returning, not new. In the conversion cohort, never bought.
    act("2025-05-31", "u16", "store_visit"),
    act("2025-06-01", "u16", "favorite"),
]

STATUS = {  # the expected lifecycle status per user (PostHog's four buckets)
    "new": ["u01", "u02", "u12", "u15"],
    "returning": ["u03", "u06", "u08", "u13", "u16"],
    "resurrecting": ["u05", "u07", "u11"],
    "dormant": ["u04", "u14"],
}  # u09 and u10: no status (active in neither I0 nor I−1)

USERS = [{"user_id": u, "target_group": "gen_z"} for u in ("u01", "u02", "u03", "u04", "u05")]
USERS += [{"user_id": "u06"}, {"user_id": "u99"}]  # u99 is in no event
SPEND = [
    {"brand": "Lumi", "date": "2025-06-01", "channel": "live", "cost": "500"},
    {"brand": "Lumi", "date": "2025-06-30", "channel": "onsite", "cost": "250"},
    {"brand": "Lumi", "date": "2025-05-31", "channel": "onsite", "cost": "9999"},  # outside
    {"brand": "Rival", "date": "2025-06-15", "channel": "onsite", "cost": "777"},
]


def _data(tmp_path_factory, columns=EVENT_COLUMNS, **tables):
    d = tmp_path_factory.mktemp("argo")
    write_csv(d / "events.csv", STORY, list(columns))
    for name, rows in tables.items():
        write_csv(d / f"{name}.csv", rows, list(dict.fromkeys(k for r in rows for k in r)))
    return d


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return _data(tmp_path_factory, users=USERS, spend=SPEND)


@pytest.fixture(scope="module")
def result(data):
    return brandlens.compute(data, as_of=D, methodologies=["argo"])


def _row(result, indicator, key=None, brand="Lumi"):
    return next(
        r for r in result.results if r.indicator == indicator and r.brand == brand and r.key == key
    )


def _parts(result, indicator, key=None, brand="Lumi"):
    r = _row(result, indicator, key, brand)
    return r.value, r.numerator, r.denominator


def test_no_errors(result):
    assert result.errors == [] and result.not_applicable == []


def test_acquisition(result):
    # new buyers: u01, u02, u12, u13, u15
    assert result.value("argo.new_buyers", "Lumi") == 5
    # cohort u02, u13, u14, u15, u16 (first events 05-20, 05-02, 05-31, 05-10, 05-31);
    # converted u02, u13
    assert _parts(result, "argo.first_order_conversion") == (0.4, 2, 5)
    # days 0 (u12), 5 (u01), 16 (u02), 30 (u13), 31 (u15)
    assert result.value("argo.time_to_first_order_days", "Lumi") == 16
    # first-day GMV 120 + 80 + 30 + 45 + 25 = 300 over 5
    assert _parts(result, "argo.first_order_aov") == (60, 300, 5)
    # spend 500 (06-01) + 250 (06-30) over 5 new buyers; the 9999 of 05-31 is outside
    assert _parts(result, "argo.cac") == (150, 750, 5)
    # cohort u04 (56 days), u06 (61), u07 (60)
    assert _parts(result, "argo.second_order_rate") == (pytest.approx(2 / 3), 2, 3)


def test_lifecycle(result):
    got = {k: result.value("argo.lifecycle", "Lumi", k) for k in STATUS}
    assert got == {k: len(users) for k, users in STATUS.items()}


def test_retention(result):
    # returning 5 over the 7 active in I−1 (u03, u06, u08, u13, u16 and the dormant u04, u14)
    assert _parts(result, "argo.retention_rate") == (pytest.approx(5 / 7), 5, 7)
    # cohort u08, u09: M1 both; M2, M5, M6 u08; M3, M4 nobody
    curve = {f"M{k}": result.value("argo.retention_curve", "Lumi", f"M{k}") for k in range(1, 7)}
    assert curve == {"M1": 1, "M2": 0.5, "M3": 0, "M4": 0, "M5": 0.5, "M6": 0.5}
    assert _row(result, "argo.retention_curve", "M3").denominator == 2
    # user-days in I0: u01 4, u02 2, u11 2, nine others 1 = 17; over 30 days, over 12 users
    value, num, den = _parts(result, "argo.stickiness")
    assert (num, den) == (pytest.approx(17 / 30), 12) and value == pytest.approx(17 / 360)


def test_growth_of_value(result, data):
    # LTV cohort u03 (300) and u11 (100)
    assert _parts(result, "argo.ltv_365") == (200, 400, 2)
    # buyers in the value window: everyone with a purchase except u05, u10, u14 = 12; net
    # 170 + 80 + 500 + 130 + 100 + 60 + 210 + 40 + 560 + 30 + 45 + 25 = 1950 (u03's refund of
    # 50 subtracted, u10's refund of 100 not: u10 bought nothing in the window)
    assert _parts(result, "argo.arppu") == (162.5, 1950, 12)
    assert _parts(result, "argo.cross_category_rate") == (pytest.approx(1 / 12), 1, 12)
    # the same model and customers as GOAL's CLV: 12 customers (u10's purchase is at d − 730)
    goal = brandlens.compute(data, as_of=D, methodologies=["goal"])
    value, total, customers = _parts(result, "argo.predicted_ltv")
    assert customers == 12 and value > 0 and total == pytest.approx(value * 12)
    assert value == goal.value("goal.clv_per_customer", "Lumi")
    assert _row(result, "argo.arppu").value == goal.value("goal.arpu", "Lumi")


def test_openness(result):
    # active in the value window: 16 users (u10 by its refund; u02 and u15 by their
    # purchases); on two channels or more: u01, u03, u07, u11
    assert _parts(result, "argo.omnichannel_share") == (0.25, 4, 16)
    # in the users table: u01..u06 (u99 has no events)
    assert _parts(result, "argo.identified_share") == (0.375, 6, 16)
    # gross purchases in the value window: 2000
    mix = {
        r.key: (r.numerator, r.denominator)
        for r in result.results
        if r.indicator == "argo.channel_mix" and r.brand == "Lumi"
    }
    assert mix == {
        "onsite": (1645, 2000),  # u01 150, u02 80, u03 450, u04 130, u07 35, u08 210, u09 20,
        # u11 500, u13 45, u15 25
        "live": (120, 2000),  # u01 20, u06 100
        "offline_store": (130, 2000),  # u03 100, u12 30
        "private_domain": (25, 2000),  # u07
        "short_video": (60, 2000),  # u11
        "(unknown)": (20, 2000),  # u09's second purchase
    }


def test_another_brand_is_its_own(result):
    # Rival: u04's purchase of 06-20 is its only event
    assert result.value("argo.new_buyers", "Rival") == 1
    assert result.value("argo.lifecycle", "Rival", "new") == 1
    assert result.value("argo.retention_rate", "Rival") is None
    assert _parts(result, "argo.cac", brand="Rival") == (777, 777, 1)
    assert _parts(result, "argo.identified_share", brand="Rival") == (1, 1, 1)


def test_missing_tables_and_columns_are_not_applicable(tmp_path_factory):
    """Without spend, users or a channel column the indicators that need them are skipped
    with their reason; the rest are computed, and the CLI exits 0."""
    from typer.testing import CliRunner

    from brandlens.cli.app import app

    bare = _data(tmp_path_factory, columns=[c for c in EVENT_COLUMNS if c != "channel"])
    r = brandlens.compute(bare, as_of=D, methodologies=["argo"])
    skipped = {n.indicator: n.reason for n in r.not_applicable}
    assert skipped == {
        "argo.cac": "needs the spend table with cost",
        "argo.identified_share": "needs the users table with user_id",
        "argo.omnichannel_share": "needs the events table with channel",
        "argo.channel_mix": "needs the events table with channel",
    }
    assert r.errors == [] and r.value("argo.new_buyers", "Lumi") == 5
    out = CliRunner().invoke(app, ["compute", str(bare), "-m", "argo", "--as-of", D, "--quiet"])
    assert out.exit_code == 0, out.output


def test_omnichannel_counts_the_channels_of_active_events_only(tmp_path):
    # active_events = purchase, add_to_cart (a refund is then not an active event):
    # u1 buys 50 on tmall (06-01) and is refunded on jd (06-05): one active channel;
    # u2 adds to cart on tmall (06-10) and buys on jd (06-12): two -> 1 of 2 active users.
    # Counting the refund's channel would make u1 omnichannel too (2 of 2).
    rows = [
        buy("2025-06-01", "u1", "50", "tmall"),
        act("2025-06-05", "u1", "refund", "jd", amount="50"),
        act("2025-06-10", "u2", "add_to_cart", "tmall"),
        buy("2025-06-12", "u2", "30", "jd"),
    ]
    write_csv(tmp_path / "events.csv", rows, list(EVENT_COLUMNS))
    params = {"argo.active_events": ["purchase", "add_to_cart"]}
    r = brandlens.compute(tmp_path, as_of=D, methodologies=["argo"], params=params)
    assert _parts(r, "argo.omnichannel_share") == (0.5, 1, 2)
