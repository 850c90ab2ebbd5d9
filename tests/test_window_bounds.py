"""Every window bound of every built-in methodology, by hand: an event on day W − 1 before
d is in the W-day window, on day W it is out (#17, items 6 and 1). Days are local dates in
Asia/Shanghai (UTC+8): each case is run at 23:30 and at 00:30 local time on the boundary
day (00:30 local is 16:30 UTC of the day before, so a window on UTC dates fails).

A snapshot offset (a flow's d − P) is a bound of the same kind: an event on day P − 1 is
after the snapshot (the user is new since), on day P it is seen there. Every ``*_days``
parameter of a built-in spec has a case here or is in NOT_WINDOWS with the reason."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

import brandlens
from brandlens.plugin.host import registry
from conftest import ev, write_csv

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = date(2025, 6, 30)


def at(days_before: int, local: str) -> str:
    """Naive UTC text of a local (UTC+8) time on the day days_before d."""
    day = D - timedelta(days=days_before)
    t = datetime.fromisoformat(f"{day} {local}") - timedelta(hours=8)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def buy(ts, user="u", **kw):
    return ev(ts, user, "purchase", category="c", product_id="p1", amount="10", **kw)


def sale(ts, product, amount, user="u"):
    """A purchase of a product in category c (SUPER's stages are per product)."""
    return ev(ts, user, "purchase", category="c", product_id=product, amount=str(amount))


def view(ts, product="p1"):
    """A product view: SUPER takes a product's first event as its launch."""
    return ev(ts, "u", "product_view", category="c", product_id=product)


def phone(ts):
    """A purchase in DREAM's default durable category."""
    return ev(ts, "u", "purchase", category="smartphones", product_id="x1", amount="3000")


# (methodology, window, W, events(ts), indicator, key, field, value in, value out)
# where events(ts) builds the log with the boundary event at ts, and the field of the
# indicator's row is read
CASES = [
    # FAST: each AIPL stage's look-back; an event alone makes the stage
    (
        "fast",
        "awareness_window_days",
        15,
        lambda ts: [ev(ts, "u", "ad_impression")],
        "fast.aipl_users",
        "A",
        "value",
        1,
        0,
    ),
    (
        "fast",
        "interest_window_days",
        15,
        lambda ts: [ev(ts, "u", "favorite")],
        "fast.aipl_users",
        "I",
        "value",
        1,
        0,
    ),
    (
        "fast",
        "purchase_window_days",
        912,
        lambda ts: [buy(ts)],
        "fast.aipl_users",
        "P",
        "value",
        1,
        0,
    ),
    (
        "fast",
        "loyal_window_days",
        365,
        lambda ts: [ev(ts, "u", "share")],
        "fast.aipl_users",
        "L",
        "value",
        1,
        0,
    ),
    # a member (joined 400 days ago) is thriving with an add_to_cart in the last 180 days
    (
        "fast",
        "thriving_window_days",
        180,
        lambda ts: [ev(at(400, "12:00:00"), "u", "member_join"), ev(ts, "u", "add_to_cart")],
        "fast.thriving",
        None,
        "numerator",
        1,
        0,
    ),
    # FAST: the flow's snapshot d − 7; a purchase on day 6 is after it (none>P), on day 7
    # it is seen there (P>P)
    (
        "fast",
        "advancing_period_days",
        7,
        lambda ts: [buy(ts)],
        "fast.flow",
        "none>P",
        "value",
        1,
        0,
    ),
    # GOAL: each 4A stage's look-back, the buyer window and the CLV history
    (
        "goal",
        "aware_window_days",
        15,
        lambda ts: [ev(ts, "u", "ad_impression")],
        "goal.4a_users",
        "A1",
        "value",
        1,
        0,
    ),
    (
        "goal",
        "appeal_window_days",
        15,
        lambda ts: [ev(ts, "u", "favorite")],
        "goal.4a_users",
        "A2",
        "value",
        1,
        0,
    ),
    (
        "goal",
        "act_window_days",
        365,
        lambda ts: [ev(ts, "u", "after_sales")],
        "goal.4a_users",
        "A3",
        "value",
        1,
        0,
    ),
    (
        "goal",
        "advocate_window_days",
        365,
        lambda ts: [ev(ts, "u", "share")],
        "goal.4a_users",
        "A4",
        "value",
        1,
        0,
    ),
    (
        "goal",
        "buyer_window_days",
        365,
        lambda ts: [buy(ts)],
        "goal.arpu",
        None,
        "denominator",
        1,
        0,
    ),
    (
        "goal",
        "clv_history_days",
        730,
        lambda ts: [buy(ts)],
        "goal.clv_model",
        "customers",
        "value",
        1,
        0,
    ),
    # the flow's snapshot d − 30: a purchase on day 29 is new since (none>A3; one purchase
    # day is Act, not Advocate), on day 30 it is A3 then and now
    (
        "goal",
        "flow_period_days",
        30,
        lambda ts: [buy(ts)],
        "goal.flow",
        "none>A3",
        "value",
        1,
        0,
    ),
    # DREAM: each stage's look-back; Retain = a purchase (10 days ago) and a signal
    (
        "dream",
        "aware_window_days",
        30,
        lambda ts: [ev(ts, "u", "ad_impression")],
        "dream.stage_users",
        "Aware",
        "value",
        1,
        0,
    ),
    (
        "dream",
        "appeal_window_days",
        60,
        lambda ts: [ev(ts, "u", "follow")],
        "dream.stage_users",
        "Appeal",
        "value",
        1,
        0,
    ),
    (
        "dream",
        "consider_window_days",
        60,
        lambda ts: [ev(ts, "u", "add_to_cart")],
        "dream.stage_users",
        "Consider",
        "value",
        1,
        0,
    ),
    (
        "dream",
        "purchase_window_days",
        730,
        lambda ts: [buy(ts)],
        "dream.stage_users",
        "Purchase",
        "value",
        1,
        0,
    ),
    (
        "dream",
        "retain_window_days",
        365,
        lambda ts: [buy(at(10, "12:00:00")), ev(ts, "u", "after_sales")],
        "dream.stage_users",
        "Retain",
        "value",
        1,
        0,
    ),
    ("dream", "flow_period_days", 30, lambda ts: [buy(ts)], "dream.buyers", None, "value", 1, 0),
    # the flow's snapshot d − 30: a purchase on day 29 is new since (none>Purchase)
    (
        "dream",
        "flow_period_days",
        30,
        lambda ts: [buy(ts)],
        "dream.flow",
        "none>Purchase",
        "value",
        1,
        0,
    ),
    # replacement: a last smartphone purchase 729 days old is within the cycle (not due),
    # 730 days old is due; 1824 days old is still counted, 1825 days old no longer
    (
        "dream",
        "replacement_cycle_days",
        730,
        lambda ts: [phone(ts)],
        "dream.replacement_due",
        None,
        "value",
        0,
        1,
    ),
    (
        "dream",
        "replacement_horizon_days",
        1825,
        lambda ts: [phone(ts)],
        "dream.replacement_due",
        None,
        "value",
        1,
        0,
    ),
    # GROW: day 364 is in P1 (+10), day 365 in P0 (-10); day 729 in P0, day 730 in neither
    ("grow", "period_days", 365, lambda ts: [buy(ts)], "grow.gmv_change", None, "value", 10, -10),
    (
        "grow",
        "2 * period_days",
        730,
        lambda ts: [buy(ts)],
        "grow.gmv_change",
        None,
        "value",
        -10,
        0,
    ),
    # SUPER: recent GMV is the 28 days [d − 27, d]; the top-3 share's denominator is it
    (
        "super",
        "recent_days",
        28,
        lambda ts: [buy(ts)],
        "super.top3_share",
        None,
        "denominator",
        10,
        0,
    ),
    # previous GMV is [d − 55, d − 28]: p1 (first seen day 100, so not New) sells 10 today
    # and 10 on day 55: recent = previous, Mature; on day 56 previous is 0, so Growth. p2
    # sells 100 today and is the category's one Hit (⌈10% × 2⌉ = 1), which keeps p1 out
    (
        "super",
        "2 * recent_days",
        56,
        lambda ts: [
            view(at(100, "12:00:00")),
            sale(at(0, "12:00:00"), "p1", 10),
            sale(ts, "p1", 10),
            sale(at(0, "12:00:00"), "p2", 100),
        ],
        "super.products",
        "Mature",
        "value",
        1,
        0,
    ),
    # Exit = launched more than 60 days ago and no purchase in [d − 59, d]: p1, first seen
    # day 100, last bought on day 59 is not Exit (it is Decline: no recent or previous
    # GMV); last bought on day 60 it is
    (
        "super",
        "exit_days",
        60,
        lambda ts: [view(at(100, "12:00:00")), buy(ts)],
        "super.products",
        "Exit",
        "value",
        0,
        1,
    ),
    # ... and the launch side: "launched more than 60 days ago" is d − launch > 60, so a
    # product first seen (never bought) on day 60 is not Exit yet (it is New), on day 61
    # it is; W = exit_days + 1
    (
        "super",
        "exit_days + 1 (launch age)",
        61,
        lambda ts: [view(ts)],
        "super.products",
        "Exit",
        "value",
        0,
        1,
    ),
    # the new-product share's GMV is the 90 days [d − 89, d]: p1 (first seen day 200, not
    # new) bought on day 89 is in the denominator, on day 90 not
    (
        "super",
        "new_days",
        90,
        lambda ts: [view(at(200, "12:00:00")), buy(ts)],
        "super.new_product_gmv_share",
        None,
        "denominator",
        10,
        0,
    ),
    # ... and its buyers the same 90 days
    (
        "super",
        "new_days",
        90,
        lambda ts: [view(at(200, "12:00:00")), buy(ts)],
        "super.new_product_penetration",
        None,
        "denominator",
        1,
        0,
    ),
    # New = d − launch < 90: p1 first seen on day 89 (bought yesterday) is new, its 10 in
    # the share's numerator; first seen on day 90 it is not
    (
        "super",
        "new_days (launch age)",
        90,
        lambda ts: [view(ts), buy(at(1, "12:00:00"))],
        "super.new_product_gmv_share",
        None,
        "numerator",
        10,
        0,
    ),
    # ... and the New stage: p1 first seen on day 89 is New, on day 90 Growth (it sold 10
    # yesterday, nothing before); p2 (100 yesterday) is the Hit, which keeps p1 out of Hit
    (
        "super",
        "new_days (launch age)",
        90,
        lambda ts: [
            view(ts),
            sale(at(1, "12:00:00"), "p1", 10),
            sale(at(1, "12:00:00"), "p2", 100),
        ],
        "super.products",
        "New",
        "value",
        1,
        0,
    ),
    # the flow's snapshot d − 28: p1 first seen on day 27 was unknown then (none>New),
    # first seen on day 28 it was New then and is New now
    (
        "super",
        "flow_period_days",
        28,
        lambda ts: [view(ts)],
        "super.product_flow",
        "none>New",
        "value",
        1,
        0,
    ),
    # the oldest weekly snapshot is d − 357 (52 weeks); its recent GMV is [d − 384,
    # d − 357]: a lone purchase on day 384 makes p1 a Hit there and at no other snapshot
    # (1 week); on day 385 p1 is never a Hit, so there is no longevity
    (
        "super",
        "7 * (history_weeks - 1) + recent_days",
        385,
        lambda ts: [buy(ts)],
        "super.hit_longevity_weeks",
        None,
        "value",
        1,
        None,
    ),
    # quality and rating windows
    (
        "super",
        "quality_window_days",
        90,
        lambda ts: [buy(ts)],
        "super.refund_rate",
        None,
        "denominator",
        10,
        0,
    ),
    (
        "super",
        "rating_window_days",
        365,
        lambda ts: [ev(ts, "u", "review", rating="3")],
        "super.avg_rating",
        None,
        "value",
        3,
        None,
    ),
    # A.R.G.O: new buyers in the interval, buyers in the value window
    ("argo", "interval_days", 30, lambda ts: [buy(ts)], "argo.new_buyers", None, "value", 1, 0),
    (
        "argo",
        "value_window_days",
        365,
        lambda ts: [buy(ts)],
        "argo.arppu",
        None,
        "denominator",
        1,
        0,
    ),
    # the second-order cohort is first purchases in [d − 119, d − 60]: day 59 is too late
    # (not yet observed for 60 days), day 60 is in; day 119 is in, day 120 out
    (
        "argo",
        "second_order_days",
        60,
        lambda ts: [buy(ts)],
        "argo.second_order_rate",
        None,
        "denominator",
        0,
        1,
    ),
    (
        "argo",
        "2 * second_order_days",
        120,
        lambda ts: [buy(ts)],
        "argo.second_order_rate",
        None,
        "denominator",
        1,
        0,
    ),
    # a second purchase day at most 60 days after the first counts: first on day 60 and
    # second today (60 days later) counts, first on day 61 (61 days) does not; W =
    # second_order_days + 1, and both first days are in the cohort
    (
        "argo",
        "second_order_days + 1 (gap)",
        61,
        lambda ts: [buy(ts), buy(at(0, "12:00:00"))],
        "argo.second_order_rate",
        None,
        "numerator",
        1,
        0,
    ),
    # the CLV history (as GOAL's): a buyer on day 729 is a customer, on day 730 not
    (
        "argo",
        "clv_history_days",
        730,
        lambda ts: [buy(ts)],
        "argo.predicted_ltv",
        None,
        "denominator",
        1,
        0,
    ),
]

# *_days parameters of the built-in specs that bound no look-back, with the reason
NOT_WINDOWS = {
    ("fast", "loyal_min_purchase_days"): "a number of distinct purchase days, not a window",
    ("dream", "consider_min_view_days"): "a number of distinct product-view days, not a window",
    ("dream", "consider_min_search_days"): "a number of distinct search days, not a window",
    ("goal", "clv_horizon_days"): "the prediction horizon after d: no event is read by it "
    "(tests/test_clv_by_hand.py pins its unit)",
    ("argo", "clv_horizon_days"): "the prediction horizon after d, as GOAL's",
}


def _read(tmp_path, methodology, rows, indicator, key, field):
    write_csv(tmp_path / "events.csv", rows)
    r = brandlens.compute(tmp_path, as_of=D, methodologies=[methodology])
    assert r.errors == []
    row = next(x for x in r.results if x.indicator == indicator and x.key == key)
    return getattr(row, field)


@pytest.mark.parametrize("local", ["23:30:00", "00:30:00"])
@pytest.mark.parametrize(
    ("methodology", "window", "w", "events", "indicator", "key", "field", "inside", "outside"),
    CASES,
    ids=[f"{c[0]}.{c[1]}:{c[4]}" for c in CASES],
)
def test_day_w_minus_1_is_in_day_w_is_out(
    tmp_path, local, methodology, window, w, events, indicator, key, field, inside, outside
):
    got_in = _read(tmp_path, methodology, events(at(w - 1, local)), indicator, key, field)
    got_out = _read(tmp_path, methodology, events(at(w, local)), indicator, key, field)
    assert (got_in, got_out) == (inside, outside)


def test_every_days_parameter_of_a_builtin_spec_has_a_case():
    """A *_days parameter of a built-in spec needs a case above (its name in the window
    column) or a reason in NOT_WINDOWS; a reason for a parameter that is gone fails too."""
    days = {
        (name, parameter)
        for name, checked in registry().methodologies.items()
        for parameter in checked.spec.parameters
        if parameter.endswith("_days")
    }
    covered = {(c[0], p) for c in CASES for p in re.findall(r"\w+_days", c[1])}
    assert not set(NOT_WINDOWS) - days, "NOT_WINDOWS names a parameter no spec has"
    assert not covered - days, "a case names a parameter its spec does not have"
    assert sorted(days - covered - set(NOT_WINDOWS)) == []
