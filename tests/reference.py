"""Plain-Python computations of methodology definitions, independent of the SQL engine.

Written from the issue text, not from the plugins' code: a second implementation
whose agreement with the plugin, indicator by indicator, is the check.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


def local_date(ts: str, tz: str = "Asia/Shanghai") -> date:
    t = datetime.fromisoformat(ts.replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(ZoneInfo(tz)).date()


def prepared(events: list[dict[str, Any]], tz: str = "Asia/Shanghai") -> list[dict[str, Any]]:
    out = []
    for e in events:
        row = dict(e)
        row["day"] = local_date(e["ts"], tz)
        row["instant"] = datetime.fromisoformat(e["ts"].replace(" ", "T"))
        out.append(row)
    return out


def within(day: date, as_of: date, window: int) -> bool:
    return as_of - timedelta(days=window) < day <= as_of


def members(events: list[dict[str, Any]], brand: str, as_of: date) -> set[str]:
    last: dict[str, tuple[datetime, int, str]] = {}
    for e in events:
        if e.get("brand") != brand or e["event_type"] not in ("member_join", "member_leave"):
            continue
        if e["day"] > as_of:
            continue
        key = (e["instant"], 1 if e["event_type"] == "member_leave" else 0, e["event_type"])
        if e["user_id"] not in last or key > last[e["user_id"]]:
            last[e["user_id"]] = key
    return {u for u, k in last.items() if k[2] == "member_join"}


FAST_DEFAULTS = {
    "awareness_window_days": 15,
    "interest_window_days": 15,
    "purchase_window_days": 912,
    "loyal_window_days": 365,
    "loyal_min_purchase_days": 2,
    "positive_rating": 4,
    "ad_click_stage": "interest",
    "advancing_period_days": 7,
    "thriving_window_days": 180,
    "thriving_events": [
        "purchase",
        "add_to_cart",
        "favorite",
        "coupon_claim",
        "review",
        "share",
        "consult",
        "store_visit",
    ],
}
RANK = {None: 0, "A": 1, "I": 2, "P": 3, "L": 4}
INTEREST = {
    "store_visit",
    "favorite",
    "add_to_cart",
    "follow",
    "consult",
    "coupon_claim",
    "member_join",
}


def aipl_stage(evs: list[dict[str, Any]], d: date, p: dict[str, Any]) -> str | None:
    """The AIPL stage of one (user, brand) from its events, as of d."""

    def days(types: set[str], window: int, extra=lambda e: True) -> set[date]:
        return {
            e["day"]
            for e in evs
            if e["event_type"] in types and within(e["day"], d, window) and extra(e)
        }

    lw = p["loyal_window_days"]
    if (
        len(days({"purchase"}, lw)) >= p["loyal_min_purchase_days"]
        or days({"review"}, lw, lambda e: int(e["rating"]) >= p["positive_rating"])
        or days({"share"}, lw)
    ):
        return "L"
    if days({"purchase"}, p["purchase_window_days"]):
        return "P"
    iw = p["interest_window_days"]
    interest = INTEREST | ({"ad_click"} if p["ad_click_stage"] == "interest" else set())
    if (
        days(interest, iw)
        or days({"search"}, iw, lambda e: e.get("query_type") == "brand")
        or len(days({"product_view"}, iw)) >= 2
    ):
        return "I"
    aw = p["awareness_window_days"]
    aware = {"ad_impression", "content_view", "product_view"} | (
        {"ad_click"} if p["ad_click_stage"] == "awareness" else set()
    )
    if days(aware, aw):
        return "A"
    return None


def fast(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """Every FAST indicator: {(indicator, brand, key): (value, numerator, denominator)}."""
    p = {**FAST_DEFAULTS, **(params or {})}
    evs = prepared(events)
    by_ub: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in evs:
        if e.get("brand"):
            by_ub[(e["user_id"], e["brand"])].append(e)
    start = as_of - timedelta(days=p["advancing_period_days"])
    out: dict[tuple[str, str, str | None], Any] = {}

    def ratio(num: int, den: int) -> tuple[Any, int, int]:
        return (None if den == 0 else num / den, num, den)

    for b in brands:
        users = [u for (u, bb) in by_ub if bb == b]
        now = {u: aipl_stage(by_ub[(u, b)], as_of, p) for u in users}
        then = {u: aipl_stage(by_ub[(u, b)], start, p) for u in users}
        counts = {k: sum(1 for s in now.values() if s == k) for k in "AIPL"}
        out[("fast.fertility", b, None)] = (sum(counts.values()), None, None)
        for k in "AIPL":
            out[("fast.aipl_users", b, k)] = (counts[k], None, None)
        had = [u for u in users if then[u]]
        rose = [u for u in had if RANK[now[u]] > RANK[then[u]]]
        out[("fast.advancing", b, None)] = ratio(len(rose), len(had))
        for k in "AIP":
            at = [u for u in had if then[u] == k]
            out[("fast.advancing_by_stage", b, k)] = ratio(
                sum(1 for u in at if RANK[now[u]] > RANK[k]), len(at)
            )
        for f in ("none", "A", "I", "P", "L"):
            for to in ("none", "A", "I", "P", "L"):
                if f == to == "none":
                    continue
                n = sum(1 for u in users if (then[u] or "none") == f and (now[u] or "none") == to)
                out[("fast.flow", b, f"{f}>{to}")] = (n, None, None)
        mem = members(evs, b, as_of)
        out[("fast.superiority", b, None)] = (len(mem), None, None)
        active = {
            e["user_id"]
            for e in evs
            if e.get("brand") == b
            and e["event_type"] in p["thriving_events"]
            and within(e["day"], as_of, p["thriving_window_days"])
        }
        out[("fast.thriving", b, None)] = ratio(len(mem & active), len(mem))
        out[("fast.prospect_customer_ratio", b, None)] = ratio(
            counts["A"] + counts["I"], counts["P"] + counts["L"]
        )
    return out


def decimal(v: Any) -> Decimal:
    return Decimal(str(v))


GOAL_DEFAULTS = {
    "aware_window_days": 15,
    "appeal_window_days": 15,
    "act_window_days": 365,
    "advocate_window_days": 365,
    "positive_rating": 4,
    "flow_period_days": 30,
    "buyer_window_days": 365,
}
RANK_4A = {None: 0, "A1": 1, "A2": 2, "A3": 3, "A4": 4}
APPEAL = {"ad_click", "store_visit", "favorite", "add_to_cart", "follow", "consult", "coupon_claim"}


def four_a_stage(evs: list[dict[str, Any]], d: date, p: dict[str, Any]) -> str | None:
    def days(types: set[str], window: int, extra=lambda e: True) -> set[date]:
        return {
            e["day"]
            for e in evs
            if e["event_type"] in types and within(e["day"], d, window) and extra(e)
        }

    aw = p["advocate_window_days"]
    if (
        len(days({"purchase"}, aw)) >= 2
        or days({"review"}, aw, lambda e: int(e["rating"]) >= p["positive_rating"])
        or days({"share"}, aw)
    ):
        return "A4"
    if days({"purchase", "review", "after_sales"}, p["act_window_days"]):
        return "A3"
    pw = p["appeal_window_days"]
    if (
        days(APPEAL, pw)
        or days({"search"}, pw, lambda e: e.get("query_type") == "brand")
        or len(days({"product_view"}, pw)) >= 2
    ):
        return "A2"
    if days({"ad_impression", "content_view", "product_view"}, p["aware_window_days"]):
        return "A1"
    return None


def goal(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    users: list[dict[str, Any]] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """GOAL's non-CLV indicators: {(indicator, brand, key): (value, numerator, denominator)}."""
    p = GOAL_DEFAULTS
    evs = prepared(events)
    by_ub: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in evs:
        if e.get("brand"):
            by_ub[(e["user_id"], e["brand"])].append(e)
    start = as_of - timedelta(days=p["flow_period_days"])
    window = [e for e in evs if e.get("brand") and within(e["day"], as_of, p["buyer_window_days"])]
    buyers: dict[str, set[str]] = defaultdict(set)
    days_of: dict[tuple[str, str], set[date]] = defaultdict(set)
    gmv: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    spend: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)  # (user, brand, category)
    cats: dict[str, set[str]] = defaultdict(set)
    cat_buyers: dict[str, set[str]] = defaultdict(set)
    for e in window:
        sign = {"purchase": 1, "refund": -1}.get(e["event_type"])
        if sign is None:
            continue
        amount = decimal(e["amount"]) * sign
        gmv[(e["user_id"], e["brand"])] += amount
        if e.get("category"):
            spend[(e["user_id"], e["brand"], e["category"])] += amount
        if sign == 1:
            buyers[e["brand"]].add(e["user_id"])
            days_of[(e["user_id"], e["brand"])].add(e["day"])
            if e.get("category"):
                cats[e["brand"]].add(e["category"])
                cat_buyers[e["category"]].add(e["user_id"])
    out: dict[tuple[str, str, str | None], Any] = {}

    def ratio(num: Any, den: Any) -> tuple[Any, Any, Any]:
        return (None if den == 0 else float(num) / float(den), num, den)

    for b in brands:
        users_b = [u for (u, bb) in by_ub if bb == b]
        now = {u: four_a_stage(by_ub[(u, b)], as_of, p) for u in users_b}
        then = {u: four_a_stage(by_ub[(u, b)], start, p) for u in users_b}
        counts = {k: sum(1 for s in now.values() if s == k) for k in ("A1", "A2", "A3", "A4")}
        for k, n in counts.items():
            out[("goal.4a_users", b, k)] = (n, None, None)
        total = sum(counts.values())
        out[("goal.asset_total", b, None)] = (total, None, None)
        out[("goal.advocate_share", b, None)] = ratio(counts["A4"], total)
        had = [u for u in users_b if then[u]]
        out[("goal.deepening_rate", b, None)] = ratio(
            sum(1 for u in had if RANK_4A[now[u]] > RANK_4A[then[u]]), len(had)
        )
        low = [u for u in users_b if then[u] in ("A1", "A2")]
        out[("goal.conversion_rate", b, None)] = ratio(
            sum(1 for u in low if now[u] in ("A3", "A4")), len(low)
        )
        bb = buyers.get(b, set())
        category_buyers = set().union(*(cat_buyers[c] for c in cats[b])) if cats[b] else set()
        out[("goal.penetration", b, None)] = ratio(len(bb), len(category_buyers))
        out[("goal.repurchase_rate", b, None)] = ratio(
            sum(1 for u in bb if len(days_of[(u, b)]) >= 2), len(bb)
        )
        mem = members(evs, b, as_of)
        out[("goal.member_share", b, None)] = ratio(len(bb & mem), len(bb))
        own = sum((max(spend[(u, b, c)], Decimal(0)) for u in bb for c in cats[b]), Decimal(0))
        wallet = sum(
            (max(v, Decimal(0)) for (u, _, c), v in spend.items() if u in bb and c in cats[b]),
            Decimal(0),
        )
        out[("goal.share_of_wallet", b, None)] = ratio(own, wallet)
        others = {u for (u, ob, c), v in spend.items() if ob != b and c in cats[b]}
        bought_other = {
            u
            for u in others
            if any(
                e["user_id"] == u
                and e["brand"] != e.get("_")
                and e["brand"] != b
                and e.get("category") in cats[b]
                and e["event_type"] == "purchase"
                for e in window
            )
        }
        out[("goal.exclusive_rate", b, None)] = ratio(len(bb - bought_other), len(bb))
        total_gmv = sum((gmv[(u, b)] for u in bb), Decimal(0))
        out[("goal.arpu", b, None)] = (
            None if not bb else float(total_gmv) / len(bb),
            total_gmv,
            len(bb),
        )
        if users is not None:
            group_of = {u["user_id"]: u.get("target_group") for u in users if u.get("target_group")}
            sizes: dict[str, int] = defaultdict(int)
            for g in group_of.values():
                sizes[g] += 1
            all_users = sum(sizes.values())
            in_group = defaultdict(int)
            for u in bb:
                if u in group_of:
                    in_group[group_of[u]] += 1
            with_group = sum(in_group.values())
            for g, size in sizes.items():
                out[("goal.group_penetration", b, g)] = ratio(in_group[g], size)
                tgi = (
                    None
                    if with_group == 0
                    else 100 * (in_group[g] / with_group) / (size / all_users)
                )
                out[("goal.group_tgi", b, g)] = (tgi, in_group[g], with_group)
    return out
