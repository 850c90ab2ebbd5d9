"""Every window bound of every built-in methodology, by hand: an event on day W − 1 before
d is in the W-day window, on day W it is out (#17, item 6). Days are local dates in
Asia/Shanghai (UTC+8): each case is run at 23:30 and at 00:30 local time on the boundary
day (00:30 local is 16:30 UTC of the day before, so a window on UTC dates fails)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

import brandlens
from conftest import ev, write_csv

D = date(2025, 6, 30)


def at(days_before: int, local: str) -> str:
    """Naive UTC text of a local (UTC+8) time on the day days_before d."""
    day = D - timedelta(days=days_before)
    t = datetime.fromisoformat(f"{day} {local}") - timedelta(hours=8)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def buy(ts, user="u", **kw):
    return ev(ts, user, "purchase", category="c", product_id="p1", amount="10", **kw)


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
    # SUPER: quality and rating windows
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
]


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
    ids=[f"{c[0]}.{c[1]}" for c in CASES],
)
def test_day_w_minus_1_is_in_day_w_is_out(
    tmp_path, local, methodology, window, w, events, indicator, key, field, inside, outside
):
    got_in = _read(tmp_path, methodology, events(at(w - 1, local)), indicator, key, field)
    got_out = _read(tmp_path, methodology, events(at(w, local)), indicator, key, field)
    assert (got_in, got_out) == (inside, outside)
