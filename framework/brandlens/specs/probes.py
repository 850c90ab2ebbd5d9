"""The fixed logs ``brandlens verify`` checks first, before any random one.

Random logs find a boundary only by chance; these logs are built so that every
check meets the cases that matter, every time:

- ``sparse``: two events (a purchase on as_of, an impression of another brand),
  so that one added event moves a stage count;
- ``dense``: every registered event type on three brands; a loyal buyer with same-day
  repeat purchases; a refund larger than the purchases and a refund with no purchase;
  an idle, a lapsed and an active member; browsers of every early stage; users early
  in the funnel just before the usual flow periods; users who rise between a flow
  period's snapshots (from an early stage to a purchase, a share or an engagement) and
  one who stays; a buyer of three brands with null categories; weekly sales of
  products with and without a ``products`` row (category and launch then inferred from
  events); a category the brand stopped selling, one it started and one that falls
  (fewer buyers, less money); a third brand whose main category is the first brand's;
  a crowd of repeat buyers in one target group (thresholds of tens of buyers);
  purchases of every category years back (replacement cycles); a target for every
  indicator when the methodology reads targets; costs around a 30-day window when it
  reads spend; and, for every window W the spec declares, events on day W − 1 and day
  W before as_of, at the first and the last second of the local day;
- ``outside`` (only when a declared window is made of others, ``max($visit_days,
  $buy_days)``): the sparse log, a viewer, and for each of those windows W a user
  whose only events (a purchase of each brand) are on day W.

Checkers add their own probes to these logs (the events on a window's boundary
day, the shifts that move as_of to a leap day or a month end, ...).

One more log, ``spread``, serves the check of each indicator's ``parameters:`` list
alone: a market whose users, products and events are spread over every day a moved
parameter can reach (see ``spread_log``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from brandlens.specs.strategies import (
    AS_OF,
    CATEGORIES,
    CHANNELS,
    GROUPS,
    QUERY_TYPES,
    EventLog,
    utc_ts,
)

PROBE_BRANDS = ("Lumi", "Aurora", "品牌甲")
FIRST_SECOND, LAST_SECOND = 0, 86_399  # of the local day
NOON = 43_200
CROWD = 35  # more buyers than the thresholds built-in methodologies use (30)


def event(
    offset: int,
    user: str,
    event_type: str,
    brand: str | None,
    category: str | None = "skincare",
    second: int = NOON,
    **fields: Any,
) -> dict[str, Any]:
    """One event row, ``offset`` local days before as_of (text values, as a file holds them)."""
    row: dict[str, Any] = {
        "ts": utc_ts(AS_OF - timedelta(days=offset), second),
        "user_id": user,
        "event_type": event_type,
        "brand": brand,
        "category": category,
    }
    if event_type in ("purchase", "refund"):
        row.setdefault("amount", "10.00")
    if event_type == "review":
        row.setdefault("rating", "5")
    if event_type == "search":
        row.setdefault("query_type", "brand")
    row.update({k: v for k, v in fields.items() if v is not None})
    return row


def probe_logs(
    event_types: tuple[str, ...],
    categories: tuple[str, ...] = CATEGORIES,
    windows: Iterable[int] = (),
    target_indicators: tuple[str, ...] = (),
    spend: bool = False,
    window_parts: Iterable[int] = (),
) -> tuple[EventLog, ...]:
    """The probe logs, smallest first (a failure found on a small log needs no shrinking).

    With ``spend`` the dense log carries a spend table (for indicators that read one);
    ``window_parts`` are the shorter windows declared bounds are made of (30 and 90 of
    ``max($visit_days, $buy_days, $repeat_days)`` = 180).
    """
    dense = _dense(event_types, categories, sorted(set(windows)), target_indicators, spend)
    # every part, declared elsewhere or not: a declared window's dense-log edge users
    # have events on both W - 1 and W, so they cannot stand in for a lone purchase on W
    outside = _outside(sorted(set(window_parts)))
    return (_sparse(), dense) if outside is None else (_sparse(), outside, dense)


def _sparse() -> EventLog:
    rows = (
        event(0, "solo", "purchase", "Lumi", product_id="p1"),
        event(3, "passer", "ad_impression", "Aurora"),
    )
    return EventLog(as_of=AS_OF, events=rows, brands=("Lumi", "Aurora"), probe="sparse")


def _outside(parts: list[int]) -> EventLog | None:
    """The sparse log, a viewer, and for each window a declared bound is made of
    (``max($visit_days, $buy_days)``), a user whose one purchase lies just outside it: an event
    added inside the longer window can then make a second (a repeat buyer of the longer
    window who is no buyer of the shorter). None when no bound is made of others. A log
    of its own: in the dense log they changed what other boundaries hinge on."""
    parts = [w for w in parts if w > 0]
    if not parts:
        return None
    rows = [*_sparse().events, event(1, "viewer", "ad_impression", "Lumi")]  # a ratio < 1
    for w in parts:
        rows.append(event(w, f"past{w}", "purchase", "Lumi"))
        rows.append(event(w, f"past{w}", "purchase", "Aurora", "snacks"))
    return EventLog(as_of=AS_OF, events=tuple(rows), brands=("Lumi", "Aurora"), probe="outside")


def _dense(
    event_types: tuple[str, ...],
    categories: tuple[str, ...],
    windows: list[int],
    target_indicators: tuple[str, ...],
    spend: bool = False,
) -> EventLog:
    lumi, aurora, third = PROBE_BRANDS
    rows = [
        # a loyal buyer: same-day repeats, a long history, a review, a member who is active
        event(0, "loyal", "purchase", lumi, amount="25.00", product_id="p1", channel="live"),
        event(0, "loyal", "purchase", lumi, second=NOON + 1, amount="5.00", product_id="p2"),
        event(3, "loyal", "purchase", lumi, amount="40.00", product_id="p1", order_id="o1"),
        event(40, "loyal", "purchase", lumi, amount="12.50", product_id="p2", channel="onsite"),
        event(200, "loyal", "purchase", lumi, amount="30.00", product_id="p1"),
        event(400, "loyal", "purchase", lumi, amount="8.00", product_id="p1"),
        event(2, "loyal", "review", lumi, rating="5", product_id="p1"),
        event(5, "loyal", "share", lumi),
        event(100, "loyal", "member_join", lumi),
        # refunds larger than the purchases; a refund with no purchase in the log
        event(20, "refunder", "purchase", lumi, "snacks", amount="10.00", product_id="p2"),
        event(10, "refunder", "refund", lumi, "snacks", amount="60.00", product_id="p2"),
        event(400, "refunder", "purchase", aurora, "snacks", amount="99.99", product_id="p3"),
        event(7, "returner", "refund", aurora, "snacks", amount="15.00", product_id="p3"),
        # a member with no activity in the last year, one who left
        event(300, "idle_member", "member_join", lumi),
        event(500, "idle_member", "purchase", lumi, amount="15.00", product_id="p1"),
        event(1, "idle_member", "ad_impression", aurora),
        event(200, "lapsed", "member_join", aurora),
        event(60, "lapsed", "purchase", aurora, "snacks", amount="20.00", product_id="p3"),
        event(50, "lapsed", "member_leave", aurora),
        # browsers of every early stage
        event(1, "browser", "ad_impression", lumi),
        event(2, "browser", "ad_click", lumi),
        event(6, "browser", "search", lumi, query_type="brand"),
        event(10, "browser", "product_view", lumi, product_id="p1"),
        event(3, "browser", "add_to_cart", aurora, "snacks", product_id="p3"),
        event(14, "browser", "favorite", aurora, "snacks"),
        event(20, "browser", "content_view", aurora, None),
        # a dense multi-brand buyer, null categories, a bad review
        *(
            event(d, "multi", "purchase", b, c, amount=a, product_id=p)
            for d, b, c, a, p in (
                (1, lumi, "skincare", "50.00", "p2"),
                (5, aurora, "snacks", "7.00", "p3"),
                (30, third, None, "120.00", None),
                (30, third, None, "0.00", None),
                (90, lumi, None, "3.00", "p1"),
                (181, aurora, "snacks", "45.00", "p4"),
            )
        ),
        event(4, "multi", "review", aurora, "snacks", rating="2", product_id="p3"),
        event(8, "multi", "member_join", third, None),
    ]
    # weekly sales of a product over a year, a product launched lately, one gone quiet,
    # and enough products with recent sales for a top three
    rows += [
        event(7 * w + 1, f"weekly{w % 3}", "purchase", lumi, amount=f"{10 + w}.00", product_id="p1")
        for w in range(0, 52, 4)
    ]
    rows += [event(d, "fan", "purchase", lumi, amount="9.90", product_id="p2") for d in (2, 9, 16)]
    rows += [
        event(d, f"fan{p}", "purchase", lumi, amount=a, product_id=p)
        for p, d, a in (("p5", 4, "3.00"), ("p6", 11, "70.00"), ("p5", 25, "6.00"))
    ]
    # a product competing in a category it was seen in once (no products row: the
    # category and launch are inferred from its events), and a new product whose sales
    # neither rise nor fall
    rows += [
        event(3, "fan7", "purchase", lumi, "snacks", amount="80.00", product_id="p7"),
        event(5, "fan8", "purchase", lumi, amount="10.00", product_id="p8"),
        event(33, "fan8", "purchase", lumi, amount="10.00", product_id="p8"),
    ]
    # a category the brand stopped selling, and one it started
    rows += [
        event(500, "dropper", "purchase", lumi, "discontinued", amount="33.00"),
        event(12, "starter", "purchase", lumi, "novelty", amount="21.00"),
    ]
    # users who were early in the funnel just before the usual flow periods began
    rows += [
        event(d, f"drifter{d}", t, b, "snacks" if b == aurora else "skincare")
        for d in (10, 20, 33, 35, 40, 95, 190)
        for t, b in (("ad_impression", lumi), ("product_view", aurora))
    ]
    # users who rise between the snapshots of a flow period (30 days; 7 for the
    # shorter ones): an impression then a purchase, an engagement then a share, an
    # impression then an engagement, and one who engages before and after; without
    # them every early-stage user of these logs fell out or stayed, so a conversion
    # or deepening rate miscounting a rise from an early stage passed
    rows += [
        event(33, "riser_buy", "ad_impression", lumi),
        event(4, "riser_buy", "purchase", lumi, amount="16.00", product_id="p2"),
        event(34, "riser_share", "favorite", aurora, "snacks"),
        event(2, "riser_share", "share", aurora, "snacks"),
        event(36, "riser_engage", "ad_impression", lumi),
        event(3, "riser_engage", "favorite", lumi),
        event(40, "stayer", "favorite", lumi),
        event(5, "stayer", "favorite", lumi),
        event(12, "riser_week", "ad_impression", aurora),
        event(10, "riser_week", "favorite", aurora, "snacks"),
        event(1, "riser_week", "purchase", aurora, "snacks", amount="12.00", product_id="p3"),
    ]
    # a continuing category that falls (two buyers and more money a year earlier), and
    # a third brand that sells most in the first brand's category, so a category's
    # brands are compared with each other (a median over one brand is that brand)
    rows += [
        event(500, "faller_a", "purchase", aurora, "skincare", amount="50.00"),
        event(450, "faller_b", "purchase", aurora, "skincare", amount="40.00"),
        event(100, "faller_a", "purchase", aurora, "skincare", amount="20.00"),
        event(50, "rival_fan", "purchase", third, "skincare", amount="500.00"),
    ]
    # a crowd of repeat buyers in one target group: thresholds of tens of buyers
    rows += [
        event(d, f"crowd{i:02d}", "purchase", lumi, amount=f"{5 + i}.00", product_id="p1")
        for i in range(CROWD)
        for d in (10 + i, 120 + 3 * i)
    ]
    # purchases of every category long ago: replacement cycles, multi-year histories
    rows += [
        event(d, f"keeper{i}", "purchase", lumi, c, amount="499.00")
        for i, c in enumerate(categories)
        for d in (760 + 30 * i, 1100 + 30 * i)
    ]
    rows += [
        event(d, "oldfan", "purchase", aurora, "snacks", amount="18.00", product_id="p4")
        for d in (95, 120, 150)
    ]
    # every registered event type, on three brands and on and off the usual boundaries
    extra_categories = (*categories, None)
    for i, t in enumerate(event_types):
        for j, d in enumerate((i % 7 + 1, 16 + i, 100 + 7 * i)):
            rows.append(
                event(
                    d,
                    f"sweep{(i + j) % 4}",
                    t,
                    PROBE_BRANDS[(i + j) % 3],
                    extra_categories[(i + j) % len(extra_categories)],
                    product_id=("p1", "p3", None)[(i + j) % 3],
                    channel=("onsite", "live", "offline_store")[i % 3],
                )
            )
    # both sides of every declared window, at the first and the last second of the day
    for w in windows:
        for d in (w - 1, w):
            for second in (FIRST_SECOND, LAST_SECOND):
                if d >= 0:
                    rows.append(event(d, f"edge{w}", "purchase", lumi, second=second))
                    rows.append(event(d, f"edge{w}", "product_view", aurora, "snacks", second))
    users = sorted({r["user_id"] for r in rows})
    users_table = tuple(
        {
            "user_id": u,
            "target_group": GROUPS[0] if u.startswith("crowd") else (*GROUPS, None)[i % 5],
            "circle": ("beauty", "tech", None)[i % 3],
            "register_date": "2020-01-01",
        }
        for i, u in enumerate(users)
    )
    products_table = tuple(
        {
            "product_id": p,
            "brand": b,
            "category": c,
            "launch_date": (AS_OF - timedelta(days=d)).isoformat(),
            "list_price": price,
        }
        for p, b, c, d, price in (
            ("p1", lumi, "skincare", 400, "30.00"),
            ("p2", lumi, "skincare", 30, "10.00"),
            ("p3", aurora, "snacks", 700, "20.00"),
            ("p4", aurora, "snacks", 10, "45.00"),
        )
    )
    targets_table = None
    if target_indicators:  # every indicator: a current, a past, a zero and a future target
        targets_table = tuple(
            {
                "brand": b,
                "indicator": indicator,
                "period_start": (AS_OF - timedelta(days=start)).isoformat(),
                "period_end": (AS_OF - timedelta(days=end)).isoformat(),
                "target_value": value,
            }
            for indicator in target_indicators
            for b, start, end, value in (
                (lumi, 29, 0, "2"),
                (aurora, 60, 30, "1"),
                (third, 29, 0, "0"),
                (lumi, 10, -5, "3"),
            )
        )
    spend_table = None
    if spend:  # costs today, inside a month, on its last day and beyond it, per brand
        spend_table = tuple(
            {
                "brand": b,
                "date": (AS_OF - timedelta(days=days)).isoformat(),
                "channel": channel,
                "cost": cost,
            }
            for b, days, channel, cost in (
                (lumi, 0, "live", "100.00"),
                (lumi, 29, "onsite", "40.00"),
                (lumi, 30, "onsite", "7.00"),
                (aurora, 5, None, "60.00"),
                (third, 400, "live", "9.00"),
            )
        )
    return EventLog(
        as_of=AS_OF,
        events=tuple(rows),
        users=users_table,
        products=products_table,
        brands=PROBE_BRANDS,
        targets=targets_table,
        spend=spend_table,
        probe="dense",
    )


SPREAD_SEED = 41
SPREAD_USERS = 60
SPREAD_PRODUCTS = 8  # per brand
SPREAD_MIN_DAYS = 800


def spread_log(
    event_types: tuple[str, ...],
    categories: tuple[str, ...] = CATEGORIES,
    windows: Iterable[int] = (),
    target_indicators: tuple[str, ...] = (),
    spend: bool = False,
) -> EventLog:
    """A market spread over time, for moving parameters: a moved window, count or share
    changes a value only where some user, product or amount lies between its two values.

    Seeded, so the same every run. Over H days (twice the longest declared window, at
    least 800, at most 4,000), dates drawn denser near as_of (the square of a uniform
    draw, so 7- and 15-day windows hold events too): on each of three brands, products
    launched, selling and gone quiet at dates spread over H, with rising, flat or falling
    sales; users whose events of every registered type (ratings 1 to 5, every query
    type, every channel) fall on one to thirty distinct days; the planted paths of
    ``_spread_paths``; and, when the methodology reads them, targets and daily costs.
    """
    rng = random.Random(SPREAD_SEED)
    horizon = min(max(2 * max(windows, default=0), SPREAD_MIN_DAYS), 4000)

    def day(low: int = 0, high: int = horizon) -> int:
        return low + int((high - low) * rng.random() ** 2)

    users = [f"spread{i:02d}" for i in range(SPREAD_USERS)]
    rows: list[dict[str, Any]] = []
    products = []
    for b, brand in enumerate(PROBE_BRANDS):
        for k in range(SPREAD_PRODUCTS):
            pid, category = f"s{b}{k}", categories[(b + k) % len(categories)]
            launch = day()
            quiet = rng.randint(0, launch) if k % 3 == 0 else 0  # last sale days ago
            trend = (-1, 0, 1)[k % 3]
            products.append((pid, brand, category, launch))
            for _ in range(rng.randint(4, 30)):
                d = day(quiet, launch)
                age = (launch - d) / max(launch - quiet, 1)  # 0 at launch, 1 at the end
                price = (10 + 5 * k) * (1 + trend * age)
                rows.append(
                    event(
                        d,
                        rng.choice(users),
                        "purchase",
                        brand,
                        category,
                        second=rng.randrange(86_400),
                        amount=f"{price * rng.choice((1, 1, 2, 3)):.2f}",
                        product_id=pid,
                        channel=rng.choice(CHANNELS),
                        order_id=f"o{len(rows)}",
                    )
                )
    for u in users:
        days = sorted({day() for _ in range(rng.randint(1, 30))})
        brand = rng.choice(PROBE_BRANDS)
        for d in days:
            t = rng.choice(event_types)
            pid, pbrand, category, _ = rng.choice(products)
            fields: dict[str, Any] = {"channel": rng.choice(CHANNELS)}
            if t == "review":
                fields["rating"] = str(rng.randint(1, 5))
            if t == "search":
                fields["query_type"] = rng.choice(QUERY_TYPES)
            if t in ("purchase", "refund"):
                fields["amount"] = f"{rng.choice((5, 20, 99.5, 300, 1500)):.2f}"
            b = pbrand if rng.random() < 0.5 else brand
            pid = pid if b == pbrand else None
            rows.append(
                event(d, u, t, b, category, second=rng.randrange(86_400), product_id=pid, **fields)
            )
    rows += _spread_paths(event_types, categories, horizon, users)
    users = sorted({r["user_id"] for r in rows})
    users_table = tuple(
        {
            "user_id": u,
            "target_group": _CROWDS.get(u[:6], (*GROUPS, None)[i % 5]),
            "circle": ("beauty", "tech", None)[i % 3],
            "register_date": (AS_OF - timedelta(days=horizon + 3 * i)).isoformat(),
        }
        for i, u in enumerate(users)
    )
    products_table = tuple(
        {
            "product_id": pid,
            "brand": brand,
            "category": category,
            "launch_date": (AS_OF - timedelta(days=launch)).isoformat(),
            "list_price": f"{10 + 5 * (i % SPREAD_PRODUCTS)}.00",
        }
        for i, (pid, brand, category, launch) in enumerate(products)
        if i % 2 == 0  # the others' launch is inferred from their sales
    )
    targets_table = None
    if target_indicators:
        targets_table = tuple(
            {
                "brand": b,
                "indicator": indicator,
                "period_start": (AS_OF - timedelta(days=start)).isoformat(),
                "period_end": (AS_OF - timedelta(days=start - length)).isoformat(),
                "target_value": str(rng.randint(0, 20)),
            }
            for indicator in target_indicators
            for b in PROBE_BRANDS
            for start, length in ((day(), 30), (29, 29), (90, 60))
        )
    spend_table = None
    if spend:
        spend_table = tuple(
            {
                "brand": b,
                "date": (AS_OF - timedelta(days=d)).isoformat(),
                "channel": rng.choice(CHANNELS),
                "cost": f"{rng.randint(1, 500)}.00",
            }
            for b in PROBE_BRANDS
            for d in sorted({day() for _ in range(40)})
        )
    return EventLog(
        as_of=AS_OF,
        events=tuple(rows),
        users=users_table,
        products=products_table,
        brands=PROBE_BRANDS,
        targets=targets_table,
        spend=spend_table,
        probe="spread",
    )


_CROWDS = {"crowdA": GROUPS[0], "crowdB": GROUPS[1]}


def _spread_paths(
    event_types: tuple[str, ...], categories: tuple[str, ...], horizon: int, users: list[str]
) -> list[dict[str, Any]]:
    """The spread log's planted paths: each puts some user or product on either side of
    a moved parameter, whatever the methodology (see ``spread_log``)."""
    rows: list[dict[str, Any]] = []
    n = len(categories)
    for j in range(1, horizon // 25):
        brand, buyer = PROBE_BRANDS[j % 3], users[j % len(users)]
        here, there = categories[j % n], categories[(j + 1) % n]
        recent = j % 14
        # sold only 25j days ago (a moved horizon adds or drops it); sold then and in two
        # equal four-week blocks since (its launch, and so New or not, hinges on the
        # horizon); every fourth, sold twelve times in one category then and, for much
        # more (each its own amount, no ties), weekly in another for the last ten weeks
        # (its most frequent category, and so the products it outsells week by week,
        # hinge on the horizon)
        paths = [(f"old{j}", 25 * j - 12, here, 15), (f"back{j}", 25 * j, here, 15)]
        paths += [(f"back{j}", recent, here, 15), (f"back{j}", 28 + recent, here, 15)]
        if j % 4 == 0:
            paths += [(f"moved{j}", 25 * j + d, here, 15) for d in range(12)]
            paths += [(f"moved{j}", j % 5 + 7 * w, there, 1000 + 50 * j) for w in range(10)]
        rows += [
            event(d, buyer, "purchase", brand, c, amount=f"{a}.00", product_id=pid)
            for pid, d, c, a in paths
        ]
    # for each event type, users with one to six days of it: all in the last two weeks;
    # all 70 to 120 days back; and all but one 9 days apart from 50 days back, the last on
    # day 5 (day counts and windows moved split each family)
    for t_i, t in enumerate(event_types):
        for k in range(1, 7):
            brand = PROBE_BRANDS[(t_i + k) % 3]  # each brand gets some day counts of each type
            families = {
                "days": [2 * d for d in range(k)],
                "past": [70 + 10 * d for d in range(k)],
                "rise": [50 - 9 * d for d in range(k - 1)] + [5],
            }
            rows += [
                event(d, f"{name}_{t_i}_{k}", t, brand)
                for name, days in families.items()
                for d in days
            ]
    if "review" in event_types:  # a lone review of each rating, lately and 40 days back;
        for r in range(1, 6):  # and a viewer of 35 days back who reviews lately
            b = PROBE_BRANDS[r % 3]
            rows += [
                event(3, f"rated{r}", "review", b, rating=str(r), product_id="s00"),
                event(40, f"rated_past{r}", "review", b, rating=str(r), product_id="s00"),
                event(35, f"rated_riser{r}", "ad_impression", b),
                event(2, f"rated_riser{r}", "review", b, rating=str(r), product_id="s00"),
            ]
    # buyers whose one to four purchase days all lie 400 to 700, or 1,000 to 1,300, days
    # back: windows of a year and more, and day counts in them, split them
    for k in range(1, 5):
        rows += [
            event(start + 100 * d, f"{name}{k}", "purchase", PROBE_BRANDS[0], amount="30.00")
            for name, start in (("midbuyer", 400), ("oldbuyer", 1000))
            for d in range(k)
        ]
    # two target groups of tens of buyers of the first brand, all of one group and
    # 35 of 50 of the other: thresholds of buyers per group, the top groups by TGI
    rows += [
        event(10 + i % 200, f"crowdA{i:02d}", "purchase", PROBE_BRANDS[0], amount="20.00")
        for i in range(35)
    ]
    rows += [
        event(20 + i % 200, f"crowdB{i:02d}", "purchase", PROBE_BRANDS[i // 35], amount="20.00")
        for i in range(50)
    ]
    # twenty users with one click of the first brand last week: the brands' shapes (how
    # their users spread over stages) differ, not only their sizes
    if "ad_click" in event_types:
        rows += [event(3, f"clicker{i:02d}", "ad_click", PROBE_BRANDS[0]) for i in range(20)]
    # the first two brands sell most in the same category, by far (more than all the
    # products above): a category's brands are compared
    rows += [
        event(5, f"whale{b}", "purchase", brand, categories[0], amount="1000000.00")
        for b, brand in enumerate(PROBE_BRANDS[:2])
    ]
    return rows
