"""Plain-Python computations of methodology definitions, independent of the SQL engine.

Written from the issue text, not from the plugins' code: a second implementation
whose agreement with the plugin, indicator by indicator, is the check.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from brandlens.data.schema import CORE_EVENT_TYPES

UTC = ZoneInfo("UTC")


def compare(result: Any, expected: dict[tuple[str, str, str | None], Any]) -> None:
    """Assert a Result equals a reference's {(indicator, brand, key): (value, num, den)},
    key for key; only indicators listed in NOT_COMPARED (with a reason) are left out."""
    import pytest

    got = {
        (r.indicator, r.brand, r.key): (r.value, r.numerator, r.denominator)
        for r in result.results
        if r.indicator not in NOT_COMPARED
    }
    assert set(got) == set(expected)
    for key, (value, num, den) in sorted(expected.items(), key=str):
        gv, gn, gd = got[key]
        if value is None:
            assert gv is None, key
        else:
            assert gv == pytest.approx(float(value), rel=1e-9, abs=1e-9), key
        if num is not None:
            assert float(gn) == pytest.approx(float(num), abs=1e-6), key
            assert float(gd) == pytest.approx(float(den), abs=1e-6), key


def plain(rows: Any) -> list[dict[str, Any]] | None:
    """Rows without their null values (as a CSV reader would give them), None for None."""
    return None if rows is None else [{k: v for k, v in r.items() if v is not None} for r in rows]


def computed(log: Any, methodology: str, params: dict[str, Any] | None = None) -> Any:
    """The methodology's Result on a generated log, with unprefixed parameters."""
    from brandlens.engine.runs import Dataset

    with Dataset(log.to_data()) as ds:
        result = ds.compute(
            as_of=log.as_of,
            methodologies=[methodology],
            brands=log.report_brands(),
            params={f"{methodology}.{k}": v for k, v in (params or {}).items()},
        )
    assert result.errors == []
    return result


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
        flows(out, "fast.flow", b, then, now, ("A", "I", "P", "L"))
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
    "core_group_min_buyers": 30,
    "core_groups": 3,
    "clv_history_days": 730,
    "clv_horizon_days": 365,
    "clv_min_repeaters": 30,
    "high_value_quantile": 0.8,
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
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """Every GOAL indicator: {(indicator, brand, key): (value, numerator, denominator)}.

    The CLV indicators come from :func:`clv` (a fit through brandlens.stats.clv on
    customer summaries built here); the rest are counted in plain Python.
    """
    p = {**GOAL_DEFAULTS, **(params or {})}
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
        flows(out, "goal.flow", b, then, now, ("A1", "A2", "A3", "A4"))
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
        out[("goal.penetration", b, None)] = ratio(len(bb & category_buyers), len(category_buyers))
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
        # each buyer's net spend floored at 0: an older purchase's refund cannot go below
        total_gmv = sum((max(gmv[(u, b)], Decimal(0)) for u in bb), Decimal(0))
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
            # core groups: the core_groups groups with the highest TGI among those with at
            # least core_group_min_buyers buyers (ties by name)
            qualified = sorted(
                (g for g in sizes if in_group[g] >= p["core_group_min_buyers"]),
                key=lambda g: (-100 * (in_group[g] / with_group) / (sizes[g] / all_users), g),
            )[: p["core_groups"]]
            out[("goal.core_group_penetration", b, None)] = ratio(
                sum(in_group[g] for g in qualified), sum(sizes[g] for g in qualified)
            )
    out.update(clv(events, as_of, brands, p))
    return out


def flows(
    out: dict[tuple[str, str, str | None], Any],
    indicator: str,
    brand: str,
    then: dict[str, str | None],
    now: dict[str, str | None],
    stages: tuple[str, ...],
) -> None:
    """A ladder's flow between two snapshots: every X>Y over none and the stages."""
    keys = ("none", *stages)
    for f in keys:
        for to in keys:
            if f == to == "none":
                continue
            n = sum(1 for u in now if (then[u] or "none") == f and (now[u] or "none") == to)
            out[(indicator, brand, f"{f}>{to}")] = (n, None, None)


# ---- CLV: the customers' RFM summary built here, the fit through brandlens.stats.clv -------


def clv_customers(
    events: list[dict[str, Any]], as_of: date, history_days: int
) -> dict[str, dict[str, tuple[float, float, float, float, float]]]:
    """Per brand and customer (a purchase day in the last history_days): x = repeat purchase
    days, t_x = weeks from the first to the last purchase day, T = weeks from the first
    purchase day to as_of, m = the mean value of the repeat purchase days (NaN without
    any; a day's purchases summed) and the mean value of all its purchase days. A mean is
    the exact sum, then one floating-point division (as brandlens defines it, so that
    every engine gives the CLV fit the same inputs bit for bit)."""
    days: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for e in prepared(events):
        if (
            e["event_type"] == "purchase"
            and e.get("brand")
            and within(e["day"], as_of, history_days)
        ):
            days[(e["brand"], e["user_id"])][e["day"]] += decimal(e["amount"])
    out: dict[str, dict[str, tuple[float, float, float, float, float]]] = defaultdict(dict)
    for (brand, user), values in days.items():
        ordered = sorted(values)
        first, last = ordered[0], ordered[-1]
        repeat = [values[d] for d in ordered[1:]]
        m = float(sum(repeat, Decimal(0))) / len(repeat) if repeat else math.nan
        day_value = float(sum(values.values(), Decimal(0))) / len(values)
        out[brand][user] = (
            len(ordered) - 1,
            (last - first).days / 7,
            (as_of - first).days / 7,
            m,
            day_value,
        )
    return out


def _clv_fit(rows: list[tuple[float, float, float, float, float]]) -> dict[str, float]:
    """BG/NBD on (x, t_x, T) and Gamma-Gamma on the repeaters with repeat spend, each fitted
    on the distinct summaries weighted by how many customers share them."""
    import numpy as np

    from brandlens.stats.clv import fit_bgnbd, fit_gamma_gamma

    summary, n = np.unique(np.array([r[:3] for r in rows]), axis=0, return_counts=True)
    bg = fit_bgnbd(summary[:, 0], summary[:, 1], summary[:, 2], weights=n)
    params = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b}
    spend = [(r[0], r[3]) for r in rows if r[0] > 0 and r[3] > 0]
    if spend:
        pairs, k = np.unique(np.array(spend), axis=0, return_counts=True)
        gg = fit_gamma_gamma(pairs[:, 0], pairs[:, 1], weights=k)
        params |= {"p": gg.p, "q": gg.q, "v": gg.v}
    return params


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile interpolating linearly between the sorted values (Hyndman & Fan's
    type 7): with h = (n - 1) q, v[floor h] + (h - floor h) (v[floor h + 1] - v[floor h]);
    None without values."""
    if not values:
        return None
    v = sorted(values)
    h = (len(v) - 1) * q
    lo = math.floor(h)
    if lo + 1 >= len(v):
        return v[lo]
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo])


def clv(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """GOAL's CLV indicators (goal.clv_total, clv_per_customer, clv_distribution,
    high_value_share, clv_model).

    CLV of a customer = E[purchase days in the next horizon weeks] (BG/NBD) × E[value of a
    purchase day] (Gamma-Gamma; without a Gamma-Gamma fit with q > 1, the mean over all
    customers of their mean purchase-day value). A brand with fewer than
    clv_min_repeaters customers with x > 0 uses the fit over every brand's customers.
    """
    import numpy as np

    from brandlens.stats.clv import BetaGeoFit, GammaGammaFit

    p = {**GOAL_DEFAULTS, **(params or {})}
    customers = clv_customers(events, as_of, p["clv_history_days"])
    every = [row for b in sorted(customers) for row in customers[b].values()]
    pooled = _clv_fit(every) if every else {}
    fallback = sum(r[4] for r in every) / len(every) if every else 0.0
    horizon = p["clv_horizon_days"] / 7
    values: dict[str, list[float]] = {}
    fits: dict[str, tuple[dict[str, float], bool, int]] = {}
    for b, by_user in customers.items():
        rows = list(by_user.values())
        repeaters = sum(1 for r in rows if r[0] > 0)
        own = repeaters >= p["clv_min_repeaters"]
        fit = _clv_fit(rows) if own else pooled
        bg = BetaGeoFit(fit["r"], fit["alpha"], fit["a"], fit["b"], 0.0)
        out_b = []
        for x, tx, t, m, _ in rows:
            days = float(bg.expected_transactions(horizon, x, tx, t))
            if "p" in fit and fit["q"] > 1:
                gg = GammaGammaFit(fit["p"], fit["q"], fit["v"], 0.0)
                value = float(gg.expected_average_value(x, 0.0 if math.isnan(m) else m))
            else:
                value = fallback
            out_b.append(days * value)
        values[b] = out_b
        fits[b] = (fit, not own, repeaters)
    threshold = (
        float(np.quantile([v for b in sorted(values) for v in values[b]], p["high_value_quantile"]))
        if values
        else None
    )
    out: dict[tuple[str, str, str | None], Any] = {}
    for b in brands:
        clvs = values.get(b, [])
        total = sum(clvs)
        n = len(clvs)
        out[("goal.clv_total", b, None)] = (total, None, None)
        out[("goal.clv_per_customer", b, None)] = (total / n if n else None, total, n)
        for key, q in (("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9)):
            out[("goal.clv_distribution", b, key)] = (quantile(clvs, q), None, None)
        high = sum(1 for v in clvs if threshold is not None and v >= threshold)
        out[("goal.high_value_share", b, None)] = (high / n if n else None, high, n)
        fit, was_pooled, repeaters = fits.get(b, ({}, None, 0))  # no customers: no fit
        for key in ("r", "alpha", "a", "b", "p", "q", "v"):
            out[("goal.clv_model", b, key)] = (fit.get(key), None, None)
        pooled = None if was_pooled is None else int(was_pooled)
        out[("goal.clv_model", b, "pooled")] = (pooled, None, None)
        out[("goal.clv_model", b, "customers")] = (n, None, None)
        out[("goal.clv_model", b, "repeaters")] = (repeaters, None, None)
    return out


# ---- JD Electronics DREAM ------------------------------------------------------------------

DREAM_DEFAULTS: dict[str, Any] = {
    "aware_window_days": 30,
    "appeal_window_days": 60,
    "consider_window_days": 60,
    "consider_min_view_days": 3,
    "consider_min_search_days": 2,
    "purchase_window_days": 730,
    "retain_window_days": 365,
    "accessory_categories": ["phone_accessories"],
    "durable_categories": ["smartphones"],
    "flow_period_days": 30,
    "replacement_cycle_days": 730,
    "replacement_horizon_days": 1825,
}
DREAM_STAGES = ("Aware", "Appeal", "Consider", "Purchase", "Retain")
RANK_DREAM = {None: 0, **{s: i + 1 for i, s in enumerate(DREAM_STAGES)}}


def dream_stage(evs: list[dict[str, Any]], d: date, p: dict[str, Any]) -> str | None:
    """The DREAM stage of one (user, brand) as of d, read from the issue's rules."""

    def days(types: set[str], window: int, extra=lambda e: True) -> set[date]:
        return {
            e["day"]
            for e in evs
            if e["event_type"] in types and within(e["day"], d, window) and extra(e)
        }

    def brand_search(e: dict[str, Any]) -> bool:
        return e.get("query_type") == "brand"

    accessories = set(p["accessory_categories"])
    pw, rw = p["purchase_window_days"], p["retain_window_days"]
    if days({"purchase"}, pw):
        signals = days({"after_sales", "review", "share", "member_join"}, rw)
        accessory_days = days({"purchase"}, rw, lambda e: e.get("category") in accessories)
        other_days = days(
            {"purchase"},
            pw,
            lambda e: e.get("category") is not None and e["category"] not in accessories,
        )
        if signals or any(a > o for a in accessory_days for o in other_days):
            return "Retain"
        return "Purchase"
    cw = p["consider_window_days"]
    if (
        days({"add_to_cart", "consult", "favorite", "coupon_claim"}, cw)
        or len(days({"product_view"}, cw)) >= p["consider_min_view_days"]
        or len(days({"search"}, cw, brand_search)) >= p["consider_min_search_days"]
    ):
        return "Consider"
    aw = p["appeal_window_days"]
    if days({"ad_click", "store_visit", "follow", "product_view"}, aw) or days(
        {"search"}, aw, brand_search
    ):
        return "Appeal"
    if days({"ad_impression", "content_view"}, p["aware_window_days"]):
        return "Aware"
    return None


def _chosen_targets(
    targets: list[dict[str, Any]], indicator: str, as_of: date
) -> dict[str, tuple[date, date, float]]:
    """Per brand: the most recent valid period ending by as_of (then the later start), as
    (start, end, target). A later row for the same brand, indicator and period as an
    earlier valid one is quarantined (duplicate_key): the first one is the target."""
    best: dict[str, tuple[date, date, float]] = {}  # brand -> (end, start, value)
    seen: set[tuple[str, str, date, date]] = set()
    for t in targets:
        start = date.fromisoformat(str(t["period_start"]))
        end = date.fromisoformat(str(t["period_end"]))
        key = (t["brand"], t["indicator"], start, end)
        if start > end or key in seen:  # period_out_of_order, or a duplicate_key
            continue
        seen.add(key)
        if t["indicator"] == indicator and end <= as_of:
            best[t["brand"]] = max(
                best.get(t["brand"], (end, start, -1e300)), (end, start, float(t["target_value"]))
            )
    return {b: (start, end, value) for b, (end, start, value) in best.items()}


def dream(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    users: list[dict[str, Any]] | None = None,
    targets: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """Every DREAM indicator: {(indicator, brand, key): (value, numerator, denominator)}."""
    import statistics

    p = {**DREAM_DEFAULTS, **(params or {})}
    evs = prepared(events)
    by_ub: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in evs:
        if e.get("brand"):
            by_ub[(e["user_id"], e["brand"])].append(e)
    every_brand = sorted({b for _, b in by_ub})
    start = as_of - timedelta(days=p["flow_period_days"])
    out: dict[tuple[str, str, str | None], Any] = {}

    def ratio(num: Any, den: Any) -> tuple[Any, Any, Any]:
        return (None if den == 0 else num / den, num, den)

    def stages_at(b: str, d: date) -> dict[str, str | None]:
        return {u: dream_stage(by_ub[(u, b)], d, p) for (u, bb) in by_ub if bb == b}

    now = {b: stages_at(b, as_of) for b in every_brand}
    # industry: main category (most purchase amount in the purchase window; ties by name)
    gmv: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in evs:
        if (
            e["event_type"] == "purchase"
            and e.get("brand")
            and e.get("category")
            and within(e["day"], as_of, p["purchase_window_days"])
        ):
            gmv[(e["brand"], e["category"])] += decimal(e["amount"])
    main: dict[str, str] = {}
    for b in every_brand:
        options = [(-v, c) for (bb, c), v in gmv.items() if bb == b]
        if options:
            main[b] = min(options)[1]
    counts = {b: {k: sum(1 for s in now[b].values() if s == k) for k in DREAM_STAGES} for b in now}
    totals = {b: sum(c.values()) for b, c in counts.items()}
    shares = {b: {k: counts[b][k] / totals[b] for k in DREAM_STAGES} for b in now if totals[b]}
    reference: dict[str, dict[str, float]] = {}
    median_total: dict[str, float] = {}
    peers: dict[str, int] = {}
    for c in set(main.values()):
        members = [b for b, m in main.items() if m == c]
        reference[c] = {k: statistics.median(shares[b][k] for b in members) for k in DREAM_STAGES}
        median_total[c] = statistics.median(totals[b] for b in members)
        peers[c] = len(members)
    circle_of = {
        u["user_id"]: u["circle"] for u in users or [] if u.get("circle") not in (None, "")
    }
    sizes: dict[str, int] = defaultdict(int)
    for c in circle_of.values():
        sizes[c] += 1
    everyone = sum(sizes.values())
    for b in brands:
        st = now.get(b, {})
        then = {u: dream_stage(by_ub[(u, b)], start, p) for u in st}
        n = {k: sum(1 for s in st.values() if s == k) for k in DREAM_STAGES}
        total = sum(n.values())
        for k in DREAM_STAGES:
            out[("dream.stage_users", b, k)] = (n[k], None, None)
            out[("dream.structure", b, k)] = ratio(n[k], total)
        out[("dream.asset_total", b, None)] = (total, None, None)
        out[("dream.deep_share", b, None)] = ratio(
            n["Consider"] + n["Purchase"] + n["Retain"], total
        )
        out[("dream.retain_share", b, None)] = ratio(n["Retain"], n["Purchase"] + n["Retain"])
        flows(out, "dream.flow", b, then, st, DREAM_STAGES)
        had = [u for u in st if then[u]]
        rose = sum(1 for u in had if RANK_DREAM[st[u]] > RANK_DREAM[then[u]])
        out[("dream.advance_rate", b, None)] = ratio(rose, len(had))
        out[("dream.advanced_users", b, None)] = (rose, None, None)
        if users is not None:
            for k in DREAM_STAGES:
                for c in {*circle_of.values(), "unknown"}:
                    cell = sum(
                        1 for u, s in st.items() if s == k and circle_of.get(u, "unknown") == c
                    )
                    out[("dream.mind_matrix", b, f"{k}|{c}")] = (cell, None, None)
            deep = [
                u
                for u, s in st.items()
                if s in ("Consider", "Purchase", "Retain") and u in circle_of
            ]
            for c, size in sizes.items():
                mine = sum(1 for u in deep if circle_of[u] == c)
                tgi = None if not deep else 100 * (mine / len(deep)) / (size / everyone)
                out[("dream.circle_tgi", b, c)] = (tgi, mine, len(deep))
        c = main.get(b)
        if c is None:
            out[("dream.structure_gap", b, None)] = (None, None, None)
            out[("dream.scale_index", b, None)] = (None, None, None)
            for k in DREAM_STAGES:
                out[("dream.industry_reference", b, k)] = (None, None, None)
        else:
            norm = sum(reference[c].values())
            ref = {k: (reference[c][k] / norm if norm else None) for k in DREAM_STAGES}
            for k in DREAM_STAGES:
                out[("dream.industry_reference", b, k)] = (ref[k], reference[c][k], norm)
            gap = None if not norm else 0.5 * sum(abs(shares[b][k] - ref[k]) for k in DREAM_STAGES)
            out[("dream.structure_gap", b, None)] = (gap, None, None)
            out[("dream.scale_index", b, None)] = (
                100 * total / median_total[c],
                total,
                median_total[c],
            )
            out[("dream.category_peers", b, c)] = (peers[c], None, None)
        bought = {
            e["user_id"]
            for e in evs
            if e.get("brand") == b
            and e["event_type"] == "purchase"
            and within(e["day"], as_of, p["flow_period_days"])
        }
        out[("dream.buyers", b, None)] = (len(bought), None, None)
        durable = set(p["durable_categories"])
        last: dict[str, date] = {}
        for e in evs:
            if (
                e.get("brand") == b
                and e["event_type"] == "purchase"
                and e.get("category") in durable
                and e["day"] <= as_of
            ):
                last[e["user_id"]] = max(last.get(e["user_id"], e["day"]), e["day"])
        due = sum(
            1
            for day in last.values()
            if within(day, as_of, p["replacement_horizon_days"])
            and not within(day, as_of, p["replacement_cycle_days"])
        )
        out[("dream.replacement_due", b, None)] = (due, None, None)
    if targets is not None:
        flow_t = _chosen_targets(targets, "dream.advanced_users", as_of)
        buy_t = _chosen_targets(targets, "dream.buyers", as_of)
        for b in brands:
            if b in flow_t:
                t0, t1, goal = flow_t[b]
                pairs = [u for (u, bb) in by_ub if bb == b]
                before = {u: dream_stage(by_ub[(u, b)], t0 - timedelta(days=1), p) for u in pairs}
                after = {u: dream_stage(by_ub[(u, b)], t1, p) for u in pairs}
                n_adv = sum(
                    1 for u in pairs if before[u] and RANK_DREAM[after[u]] > RANK_DREAM[before[u]]
                )
                out[("dream.flow_achievement", b, None)] = (
                    None if goal == 0 else n_adv / goal,
                    n_adv,
                    goal,
                )
            else:
                out[("dream.flow_achievement", b, None)] = (None, None, None)
            if b in buy_t:
                t0, t1, goal = buy_t[b]
                n_buy = len(
                    {
                        e["user_id"]
                        for e in evs
                        if e.get("brand") == b
                        and e["event_type"] == "purchase"
                        and t0 <= e["day"] <= t1
                    }
                )
                out[("dream.purchase_achievement", b, None)] = (
                    None if goal == 0 else n_buy / goal,
                    n_buy,
                    goal,
                )
            else:
                out[("dream.purchase_achievement", b, None)] = (None, None, None)
    return out


SUPER_DEFAULTS = {
    "recent_days": 28,
    "exit_days": 60,
    "hit_top_share": 0.1,
    "new_days": 90,
    "growth_threshold": 0.2,
    "history_weeks": 52,
    "flow_period_days": 28,
    "quality_window_days": 90,
    "rating_window_days": 365,
}
SUPER_STAGES = ("Exit", "Hit", "New", "Growth", "Decline", "Mature")


def _median(xs: list[Any]) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    mid = len(xs) // 2
    return float(xs[mid]) if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def super_lifecycle(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    products: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """SUPER from the issue's rules: {(indicator, brand, key): (value, numerator, denominator)}.

    Products are (brand, product_id) pairs; events older than the horizon are never read
    (a launch seen on its first day means "then or earlier"); GMV is gross, in Decimal.
    """
    p = {**SUPER_DEFAULTS, **(params or {})}
    R, X, N, F, H = (
        p["recent_days"],
        p["exit_days"],
        p["new_days"],
        p["flow_period_days"],
        p["history_weeks"],
    )
    share, g = decimal(p["hit_top_share"]), decimal(p["growth_threshold"])
    horizon = max(7 * (H - 1), F) + max(N + 1, X + 2, 2 * R)
    evs = [e for e in prepared(events) if within(e["day"], as_of, horizon)]
    rows = {r["product_id"]: r for r in products or []}

    def day_of(v: Any) -> date | None:
        return None if v in (None, "") else date.fromisoformat(str(v))

    first: dict[tuple[str, str], date] = {}
    cat_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sales: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
    for e in evs:
        b, pid = e.get("brand"), e.get("product_id")
        if not b or not pid:
            continue
        first[(b, pid)] = min(first.get((b, pid), e["day"]), e["day"])
        if e.get("category"):
            cat_counts[(b, pid)][e["category"]] += 1
        if e["event_type"] == "purchase":
            sales[(b, pid)].append((e["day"], decimal(e["amount"])))
    known = set(first)
    for pid, r in rows.items():
        launch = day_of(r.get("launch_date"))
        if r.get("brand") and launch is not None and launch <= as_of:
            known.add((r["brand"], pid))

    info: dict[tuple[str, str], dict[str, Any]] = {}
    for b, pid in known:
        r = rows.get(pid)
        if r is not None and r.get("brand") not in (None, b):
            r = None  # another brand's row describes another product
        listed = day_of(r.get("launch_date")) if r else None
        counts = cat_counts.get((b, pid), {})
        category = (r.get("category") if r else None) or (
            min(counts, key=lambda c: (-counts[c], c)) if counts else "(uncategorised)"
        )
        starts = [first.get((b, pid))]
        if r is not None and r.get("brand") == b:
            starts.append(listed)
        info[(b, pid)] = {
            "launch": listed or first[(b, pid)],
            "category": category,
            "from": min(x for x in starts if x is not None),
        }

    offsets = sorted({7 * j for j in range(H)} | {F})
    weekly = {7 * j for j in range(H)}
    stage: dict[int, dict[tuple[str, str], str]] = {}
    measures: dict[int, dict[tuple[str, str], tuple[Decimal, Decimal]]] = {}
    for off in offsets:
        s = as_of - timedelta(days=off)
        alive = [k for k, v in info.items() if v["from"] <= s]
        m: dict[tuple[str, str], tuple[Decimal, Decimal, int]] = {}
        for k in alive:
            recent = sum((a for d_, a in sales[k] if s - timedelta(R) < d_ <= s), Decimal(0))
            prev = sum(
                (a for d_, a in sales[k] if s - timedelta(2 * R) < d_ <= s - timedelta(R)),
                Decimal(0),
            )
            bought = sum(1 for d_, _ in sales[k] if s - timedelta(X) < d_ <= s)
            m[k] = (recent, prev, bought)
        selling: dict[str, list[Decimal]] = defaultdict(list)
        for k in alive:
            if m[k][0] > 0:
                selling[info[k]["category"]].append(m[k][0])
        stage[off], measures[off] = {}, {}
        for k in alive:
            recent, prev, bought = m[k]
            age = (s - info[k]["launch"]).days
            cat = selling[info[k]["category"]]
            cut = math.ceil(share * len(cat))
            better = sum(1 for x in cat if x > recent)  # rank - 1, ties share a rank
            if age > X and bought == 0:
                st = "Exit"
            elif recent > 0 and better < cut:
                st = "Hit"
            elif age < N:
                st = "New"
            elif recent > 0 and recent >= (1 + g) * prev:
                st = "Growth"
            elif recent <= (1 - g) * prev:
                st = "Decline"
            else:
                st = "Mature"
            stage[off][k] = st
            measures[off][k] = (recent, prev)

    def ratio(num: Any, den: Any) -> tuple[Any, Any, Any]:
        return (None if den == 0 else float(num) / float(den), num, den)

    out: dict[tuple[str, str, str | None], Any] = {}
    oldest = 7 * (H - 1)
    for b in brands:
        mine = sorted(k for k in stage[0] if k[0] == b)
        now = {k: stage[0][k] for k in mine}
        for st in SUPER_STAGES:
            out[("super.products", b, st)] = (sum(1 for v in now.values() if v == st), None, None)
        out[("super.product_count", b, None)] = (len(mine), None, None)
        out[("super.hit_count", b, None)] = (sum(1 for v in now.values() if v == "Hit"), None, None)
        gmv = {k: measures[0][k][0] for k in mine}
        total = sum(gmv.values(), Decimal(0))
        for st in SUPER_STAGES:
            part = sum((gmv[k] for k in mine if now[k] == st), Decimal(0))
            out[("super.gmv_share_by_stage", b, st)] = ratio(part, total)
        vital = sum((gmv[k] for k in mine if now[k] in ("New", "Growth", "Hit")), Decimal(0))
        out[("super.vitality", b, None)] = ratio(vital, total)
        top3 = sum(sorted(gmv.values(), reverse=True)[:3], Decimal(0))
        out[("super.top3_share", b, None)] = ratio(top3, total)

        def is_new(k: tuple[str, str]) -> bool:
            return (as_of - info[k]["launch"]).days < N

        window = [
            (e, (b, e["product_id"]))
            for e in evs
            if e.get("brand") == b
            and e.get("product_id")
            and e["event_type"] == "purchase"
            and within(e["day"], as_of, N)
        ]
        all_gmv = sum((decimal(e["amount"]) for e, _ in window), Decimal(0))
        new_gmv = sum((decimal(e["amount"]) for e, k in window if is_new(k)), Decimal(0))
        out[("super.new_product_gmv_share", b, None)] = ratio(new_gmv, all_gmv)
        buyers = {e["user_id"] for e, _ in window}
        new_buyers = {e["user_id"] for e, k in window if is_new(k)}
        out[("super.new_product_penetration", b, None)] = ratio(len(new_buyers), len(buyers))

        hits: dict[tuple[str, str], list[int]] = defaultdict(list)
        for off in weekly:
            for k in mine:
                if stage[off].get(k) == "Hit":
                    hits[k].append(off)
        to_hit = [
            ((as_of - timedelta(days=max(offs))) - info[k]["launch"]).days
            for k, offs in hits.items()
            if oldest not in offs
        ]
        out[("super.time_to_hit_days", b, None)] = (_median(to_hit), None, None)
        out[("super.hit_longevity_weeks", b, None)] = (
            _median([len(v) for v in hits.values()]),
            None,
            None,
        )
        flows: dict[str, int] = defaultdict(int)
        for k in mine:
            flows[f"{stage[F].get(k, 'none')}>{now[k]}"] += 1
        for x in ("none", *SUPER_STAGES):
            for y in SUPER_STAGES:
                out[("super.product_flow", b, f"{x}>{y}")] = (flows[f"{x}>{y}"], None, None)

        quality = [
            e
            for e in evs
            if e.get("brand") == b
            and e["event_type"] in ("purchase", "refund")
            and within(e["day"], as_of, p["quality_window_days"])
        ]
        refunds = sum((decimal(e["amount"]) for e in quality if e["event_type"] == "refund"), 0)
        bought = sum((decimal(e["amount"]) for e in quality if e["event_type"] == "purchase"), 0)
        out[("super.refund_rate", b, None)] = ratio(Decimal(refunds), Decimal(bought))
        ratings = [
            int(e["rating"])
            for e in prepared(events)
            if e.get("brand") == b
            and e["event_type"] == "review"
            and within(e["day"], as_of, p["rating_window_days"])
        ]
        out[("super.avg_rating", b, None)] = (
            None if not ratings else sum(ratings) / len(ratings),
            None,
            None,
        )
    return out


ARGO_DEFAULTS = {
    "interval_days": 30,
    "active_events": sorted(set(CORE_EVENT_TYPES) - {"ad_impression"}),  # the default
    "second_order_days": 60,
    "value_window_days": 365,
    "clv_history_days": 730,
    "clv_horizon_days": 365,
    "clv_min_repeaters": 30,
}
ARGO_STATUSES = ("new", "returning", "resurrecting", "dormant")


def argo(
    events: list[dict[str, Any]],
    as_of: date,
    brands: list[str],
    users: list[dict[str, Any]] | None = None,
    spend: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[tuple[str, str, str | None], Any]:
    """A.R.G.O from issue #14's definitions: {(indicator, brand, key): (value, numerator,
    denominator)}; argo.predicted_ltv is GOAL's CLV per customer (:func:`clv`).

    Every window is local dates: "the last N days" are (as_of − N, as_of]. CAC is left
    out without a spend table, the identified share without a users table.
    """
    p = {**ARGO_DEFAULTS, **(params or {})}
    n_i, s_days, v_days = p["interval_days"], p["second_order_days"], p["value_window_days"]
    active_types = set(p["active_events"])
    evs = [e for e in prepared(events) if e.get("brand") and e["day"] <= as_of]
    known = None if users is None else {u["user_id"] for u in users}

    def ago(n: int) -> date:
        return as_of - timedelta(days=n)

    def ratio(num: Any, den: Any) -> tuple[Any, Any, Any]:
        return (None if den == 0 else float(num) / float(den), num, den)

    def amount(e: dict[str, Any]) -> Decimal:
        return decimal(e["amount"])

    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for e in evs:
        grouped[e["brand"]][e["user_id"]].append(e)
    out: dict[tuple[str, str, str | None], Any] = {}
    for b in brands:
        of = grouped.get(b, {})
        people = sorted(of)
        first_event = {u: min(e["day"] for e in of[u]) for u in people}
        active_days = {
            u: sorted({e["day"] for e in of[u] if e["event_type"] in active_types}) for u in people
        }
        buy_days = {
            u: sorted({e["day"] for e in of[u] if e["event_type"] == "purchase"}) for u in people
        }
        buyers = [u for u in people if buy_days[u]]
        first_buy = {u: buy_days[u][0] for u in buyers}

        # ---- A
        new = [u for u in buyers if first_buy[u] > ago(n_i)]
        out[("argo.new_buyers", b, None)] = (len(new), None, None)
        cohort = [u for u in people if ago(2 * n_i) < first_event[u] <= ago(n_i)]
        converted = [
            u for u in cohort if u in first_buy and (first_buy[u] - first_event[u]).days <= n_i
        ]
        out[("argo.first_order_conversion", b, None)] = ratio(len(converted), len(cohort))
        out[("argo.time_to_first_order_days", b, None)] = (
            _median([(first_buy[u] - first_event[u]).days for u in new]),
            None,
            None,
        )
        first_day = sum(
            (
                amount(e)
                for u in new
                for e in of[u]
                if e["event_type"] == "purchase" and e["day"] == first_buy[u]
            ),
            Decimal(0),
        )
        out[("argo.first_order_aov", b, None)] = ratio(first_day, len(new))
        if spend is not None:
            cost = sum(
                (
                    decimal(s["cost"])
                    for s in spend
                    if s["brand"] == b and ago(n_i) < date.fromisoformat(s["date"]) <= as_of
                ),
                Decimal(0),
            )
            out[("argo.cac", b, None)] = ratio(cost, len(new))
        cohort = [u for u in buyers if ago(2 * s_days) < first_buy[u] <= ago(s_days)]
        again = [
            u
            for u in cohort
            if len(buy_days[u]) > 1 and (buy_days[u][1] - first_buy[u]).days <= s_days
        ]
        out[("argo.second_order_rate", b, None)] = ratio(len(again), len(cohort))

        # ---- R
        in_i0 = {u for u in people if any(d > ago(n_i) for d in active_days[u])}
        in_i1 = {u for u in people if any(ago(2 * n_i) < d <= ago(n_i) for d in active_days[u])}
        status: dict[str, str] = {}
        for u in in_i0:
            if active_days[u][0] > ago(n_i):
                status[u] = "new"
            elif u in in_i1:
                status[u] = "returning"
            else:
                status[u] = "resurrecting"
        for u in in_i1 - in_i0:
            status[u] = "dormant"
        for k in ARGO_STATUSES:
            out[("argo.lifecycle", b, k)] = (sum(1 for s in status.values() if s == k), None, None)
        out[("argo.retention_rate", b, None)] = ratio(len(in_i0 & in_i1), len(in_i1))
        cohort = [u for u in buyers if ago(7 * n_i) < first_buy[u] <= ago(6 * n_i)]
        for k in range(1, 7):
            lo, hi = ago((7 - k) * n_i), ago((6 - k) * n_i)
            came = [u for u in cohort if any(lo < d <= hi for d in buy_days[u])]
            out[("argo.retention_curve", b, f"M{k}")] = ratio(len(came), len(cohort))
        user_days = sum(sum(1 for d in active_days[u] if d > ago(n_i)) for u in in_i0)
        mean_dau = Decimal(user_days) / Decimal(n_i)
        out[("argo.stickiness", b, None)] = ratio(mean_dau, len(in_i0))

        # ---- G
        cohort = [u for u in buyers if ago(730) < first_buy[u] <= ago(365)]
        ltv = sum(
            (
                amount(e) if e["event_type"] == "purchase" else -amount(e)
                for u in cohort
                for e in of[u]
                if e["event_type"] in ("purchase", "refund")
                and first_buy[u] <= e["day"] < first_buy[u] + timedelta(days=365)
            ),
            Decimal(0),
        )
        out[("argo.ltv_365", b, None)] = ratio(ltv, len(cohort))
        year = {u: [e for e in of[u] if e["day"] > ago(v_days)] for u in people}
        year_buyers = [u for u in people if any(e["event_type"] == "purchase" for e in year[u])]
        net = sum(
            (
                max(
                    sum(
                        (
                            amount(e) if e["event_type"] == "purchase" else -amount(e)
                            for e in year[u]
                            if e["event_type"] in ("purchase", "refund")
                        ),
                        Decimal(0),
                    ),
                    Decimal(0),
                )
                for u in year_buyers
            ),
            Decimal(0),
        )
        out[("argo.arppu", b, None)] = ratio(net, len(year_buyers))
        wide = [
            u
            for u in year_buyers
            if len({e.get("category") for e in year[u] if e["event_type"] == "purchase"} - {None})
            > 1
        ]
        out[("argo.cross_category_rate", b, None)] = ratio(len(wide), len(year_buyers))

        # ---- O
        year_active = [u for u in people if any(e["event_type"] in active_types for e in year[u])]
        channels = {
            u: {e.get("channel") for e in year[u] if e["event_type"] in active_types} - {None}
            for u in year_active
        }
        omni = [u for u in year_active if len(channels[u]) > 1]
        out[("argo.omnichannel_share", b, None)] = ratio(len(omni), len(year_active))
        if known is not None:
            seen = [u for u in year_active if u in known]
            out[("argo.identified_share", b, None)] = ratio(len(seen), len(year_active))
        by_channel: dict[str, Decimal] = defaultdict(Decimal)
        for u in year_buyers:
            for e in year[u]:
                if e["event_type"] == "purchase":
                    by_channel[e.get("channel") or "(unknown)"] += amount(e)
        total = sum(by_channel.values(), Decimal(0))
        for channel, gmv in by_channel.items():
            out[("argo.channel_mix", b, channel)] = ratio(gmv, total)
    keys = ("clv_history_days", "clv_horizon_days", "clv_min_repeaters")
    predicted = clv(events, as_of, brands, {k: p[k] for k in keys})
    for b in brands:
        out[("argo.predicted_ltv", b, None)] = predicted[("goal.clv_per_customer", b, None)]
    return out


# ---- Tmall GROW ----------------------------------------------------------------------------

GROW_TERMS = ("G", "R", "O")


def grow(
    events: list[dict[str, Any]], as_of: date, brands: list[str], period_days: int = 365
) -> dict[tuple[str, str, str | None], Any]:
    """Every GROW indicator from per-category aggregates and LMDI, straight from the
    definitions: P1 = the period_days ending at as_of, P0 the period_days before; buyers N,
    purchase days T (user × local date), gross GMV (refunds excluded)."""
    evs = prepared(events)
    p1_start = as_of - timedelta(days=period_days)
    p0_start = as_of - timedelta(days=2 * period_days)
    cells: dict[tuple[str, str, int], dict[str, Any]] = defaultdict(
        lambda: {"u": set(), "d": set(), "g": Decimal(0)}
    )
    totals: dict[tuple[str, int], dict[str, Any]] = defaultdict(
        lambda: {"u": set(), "d": set(), "g": Decimal(0)}
    )
    for e in evs:
        if e["event_type"] != "purchase" or not e.get("brand"):
            continue
        if not p0_start < e["day"] <= as_of:
            continue
        period = 1 if e["day"] > p1_start else 0
        for cell in (
            cells[(e["brand"], e.get("category") or "(uncategorised)", period)],
            totals[(e["brand"], period)],
        ):
            cell["u"].add(e["user_id"])
            cell["d"].add((e["user_id"], e["day"]))
            cell["g"] += decimal(e["amount"])
    out: dict[tuple[str, str, str | None], Any] = {}
    for brand in brands:
        terms: dict[str, float] = defaultdict(float)
        for cat in sorted({c for b, c, _ in cells if b == brand}):
            a, z = cells.get((brand, cat, 0)), cells.get((brand, cat, 1))
            g0, g1 = float(a["g"]) if a else 0.0, float(z["g"]) if z else 0.0
            if g0 > 0 and g1 > 0:
                lm = g1 if g1 == g0 else (g1 - g0) / (math.log(g1) - math.log(g0))
                n0, n1, t0, t1 = len(a["u"]), len(z["u"]), len(a["d"]), len(z["d"])
                parts = {
                    "G": lm * math.log(n1 / n0),
                    "R": lm * math.log((t1 / n1) / (t0 / n0)),
                    "O": lm * math.log((g1 / t1) / (g0 / t0)),
                }
            elif g1 > 0:
                parts = {"W": g1}
            elif g0 > 0:
                parts = {"Lost": -g0}
            else:
                parts = {}
            for k, v in parts.items():
                terms[k] += v
                out[("grow.contribution", brand, f"{cat}|{k}")] = (v, None, None)
        b0, b1 = totals.get((brand, 0)), totals.get((brand, 1))
        n0, n1 = (len(b0["u"]) if b0 else 0), (len(b1["u"]) if b1 else 0)
        t0, t1 = (len(b0["d"]) if b0 else 0), (len(b1["d"]) if b1 else 0)
        g0, g1 = (float(b0["g"]) if b0 else 0.0), (float(b1["g"]) if b1 else 0.0)
        out[("grow.gmv_change", brand, None)] = (g1 - g0, None, None)
        for short, name in (("G", "gain"), ("R", "retain"), ("O", "boost")):
            out[(f"grow.{name}", brand, None)] = (terms[short], None, None)
        out[("grow.widen", brand, None)] = (terms["W"], None, None)
        out[("grow.lost", brand, None)] = (terms["Lost"], None, None)
        spread = sum(abs(terms[k]) for k in GROW_TERMS)
        for k in GROW_TERMS:
            out[("grow.driver_share", brand, k)] = (
                None if spread == 0 else abs(terms[k]) / spread,
                abs(terms[k]),
                spread,
            )
        out[("grow.buyers_growth", brand, None)] = (None if n0 == 0 else n1 / n0 - 1, None, None)
        out[("grow.frequency_growth", brand, None)] = (
            None if n0 == 0 or n1 == 0 else (t1 / n1) / (t0 / n0) - 1,
            None,
            None,
        )
        out[("grow.value_growth", brand, None)] = (
            None if t0 == 0 or t1 == 0 or g0 == 0 else (g1 / t1) / (g0 / t0) - 1,
            None,
            None,
        )
    return out


# ---- which reference computes which methodology ---------------------------------------------

# every built-in methodology's reference; tests/test_reference_coverage.py checks that each
# one yields every indicator of the installed methodology, apart from those listed below
REFERENCES = {
    "argo": argo,
    "dream": dream,
    "fast": fast,
    "goal": goal,
    "grow": grow,
    "super": super_lifecycle,
}
# indicator id -> why it is not compared with an independent computation (none today)
NOT_COMPARED: dict[str, str] = {}
