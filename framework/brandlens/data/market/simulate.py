"""Vectorised simulation of the market, one chunk of users at a time (numpy, no per-event loop).

Each (user, brand) pair that the user's target group and circle put in the brand's
market follows a journey in time order: first exposure -> product views, brand
search, store visit -> cart/favourite/follow/consult/coupon -> purchase ->
repurchases, reviews, shares, membership (and some leaves), after-sales for
durables, refunds on about 4% of orders. Days are drawn from the brand's seasonal
weights (weekly rhythm, 6.18 / 11.11 / 12.12 spikes, the brand's trend).
Times are seconds since the first local midnight of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

import numpy as np

from brandlens.data.market.profiles import (
    AGE_BANDS,
    BRANDS,
    CATEGORIES,
    CIRCLES,
    CITY_TIERS,
    EXPOSURE_CHANNELS,
    GENDERS,
    PROMOTIONS,
    TARGET_GROUPS,
    WEEKLY,
)
from brandlens.data.schema import CORE_EVENT_TYPES

DAY = 86_400
# the core vocabulary, in its order (the events file's dictionary codes follow it)
EVENT_TYPES = tuple(CORE_EVENT_TYPES)
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
CHANNELS = ("offsite_media", "short_video", "live", "onsite", "private_domain", "offline_store")
CH = {name: i for i, name in enumerate(CHANNELS)}
QUERY_TYPES = ("brand", "category", "other")
CATEGORY_INDEX = {c.name: i for i, c in enumerate(CATEGORIES)}
ENGAGE_TYPES = np.array(
    [ET["add_to_cart"], ET["favorite"], ET["follow"], ET["consult"], ET["coupon_claim"]]
)
ENGAGE_P = np.array([0.35, 0.25, 0.15, 0.15, 0.10])
RATINGS = np.array([1, 2, 3, 4, 5])
RATING_P = np.array([0.04, 0.05, 0.11, 0.25, 0.55])
REFUND_RATE = 0.04
FADE_DAYS = 5.0
"""Time constant of a fading product's sales after its fade date (a third left after 6 days)."""


@dataclass
class Products:
    """Every product of the market, with its popularity by day."""

    ids: list[str]
    brand: np.ndarray  # brand index
    category: np.ndarray  # category index
    base_price: np.ndarray  # list price at the start of the period
    launch: np.ndarray  # day index of first listing (may be negative: before the period)
    end: np.ndarray  # day index of last sale (large when never discontinued)
    life_cycle: list[str]
    popularity: np.ndarray  # [product, day] weights


class Market:
    """Everything that does not depend on the users: calendar, brands, products."""

    def __init__(self, start: date, end: date, seed: int) -> None:
        self.start, self.end, self.seed = start, end, seed
        self.days = (end - start).days + 1
        self.horizon = self.days * DAY
        self.brand_names = [b.name for b in BRANDS]
        self.brand_category = np.array([CATEGORY_INDEX[b.category] for b in BRANDS])
        self.day_weights = self._seasonality()
        self.promo_peak = self._promo_peaks()
        self.brand_cdf = np.stack([self._brand_cdf(i) for i in range(len(BRANDS))])
        self.products = self._products()
        self.group_mult = np.array(
            [[b.groups.get(g, 1.0) for g, _ in TARGET_GROUPS] for b in BRANDS]
        )
        self.circle_mult = np.array([[b.circles.get(c, 1.0) for c, _ in CIRCLES] for b in BRANDS])

    # ---- time -------------------------------------------------------------------------
    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=int(day))

    def _seasonality(self) -> np.ndarray:
        w = np.empty(self.days)
        for i in range(self.days):  # one value per calendar day, not per event
            d = self.date_of(i)
            w[i] = WEEKLY[d.weekday()]
            for month, day, build, peak in PROMOTIONS:
                target = date(d.year, month, day)
                gap = (target - d).days
                if 0 <= gap <= build:
                    w[i] *= 1 + (peak - 1) * (1 - gap / (build + 1)) ** 2
        return w

    def _promo_peaks(self) -> np.ndarray:
        """For each day in a promotion's build-up, the index of its peak day (else -1)."""
        peak = np.full(self.days, -1, dtype=np.int64)
        for i in range(self.days):
            d = self.date_of(i)
            for month, day, build, _ in PROMOTIONS:
                gap = (date(d.year, month, day) - d).days
                if 0 < gap <= build and i + gap < self.days:
                    peak[i] = i + gap
        return peak

    def snap_to_promotions(self, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Half of the purchases planned during a build-up wait for the peak day."""
        day = t // DAY
        peak = self.promo_peak[np.clip(day, 0, self.days - 1)]
        wait = (peak >= 0) & (day < self.days) & (rng.random(len(t)) < 0.5)
        return np.where(wait, peak * DAY + t % DAY, t)

    def trend(self, brand: int) -> np.ndarray:
        b = BRANDS[brand]
        x = np.linspace(0.0, 1.0, self.days)
        t = b.trend[0] + (b.trend[1] - b.trend[0]) * x
        if b.entry is not None:
            t[: max(0, (b.entry - self.start).days)] = 0.0
        return np.maximum(t, 0.0)

    def _brand_cdf(self, brand: int) -> np.ndarray:
        w = self.day_weights * self.trend(brand)
        c = np.cumsum(w)
        return c / c[-1]

    def sample_days(
        self, brands: np.ndarray, rng: np.random.Generator, after: np.ndarray | None = None
    ) -> np.ndarray:
        """Days drawn from each brand's seasonal weights (on or after ``after`` when given)."""
        u = rng.random(len(brands))
        out = np.empty(len(brands), dtype=np.int64)
        for b in np.unique(brands):  # per brand, vectorised within
            m = brands == b
            cdf = self.brand_cdf[b]
            lo = (
                0.0
                if after is None
                else np.where(after[m] > 0, cdf[np.clip(after[m] - 1, 0, self.days - 1)], 0.0)
            )
            out[m] = np.searchsorted(cdf, lo + u[m] * (1.0 - lo), side="left")
        return np.clip(out, 0, self.days - 1)

    # ---- products ---------------------------------------------------------------------
    def _products(self) -> Products:
        rng = np.random.default_rng([self.seed, 7])
        ids, brand, cat, price, launch, end, cycle, pops = [], [], [], [], [], [], [], []
        x = np.arange(self.days, dtype=float)
        for bi, b in enumerate(BRANDS):
            n = 0
            for line in b.lines:
                category = next(c for c in CATEGORIES if c.name == line.category)
                for _ in range(line.count):
                    n += 1
                    ids.append(f"{b.name[:3].upper()}-{n:03d}")
                    brand.append(bi)
                    cat.append(CATEGORY_INDEX[line.category])
                    price.append(
                        round(category.price * line.price_factor * rng.uniform(0.8, 1.25), 2)
                    )
                    start = (
                        (line.launch - self.start).days
                        if line.launch
                        else int(rng.integers(-700, -30))
                    )
                    stop = (line.end - self.start).days if line.end else 10**6
                    launch.append(start)
                    end.append(stop)
                    cycle.append(line.life_cycle)
                    age = np.clip(x - start, 0, None)
                    if line.life_cycle == "hit":
                        p = 0.6 + 2.0 * np.exp(-(((x - start - 300) / 250) ** 2))
                    elif line.life_cycle == "decliner":
                        p = np.linspace(1.6, 0.25, self.days)
                    elif line.life_cycle == "fading":  # a decliner being phased out
                        assert line.fade is not None
                        gone = np.clip(x - (line.fade - self.start).days, 0, None)
                        p = np.linspace(1.6, 0.25, self.days) * np.exp(-gone / FADE_DAYS)
                    elif line.life_cycle == "launch":
                        p = np.minimum(1.0, age / 20.0) * 1.5
                    else:  # steady, discontinued
                        p = np.ones(self.days)
                    p = np.where((x >= start) & (x <= stop), p, 0.0) * line.weight / line.count
                    pops.append(p)
        return Products(
            ids,
            np.array(brand),
            np.array(cat),
            np.array(price),
            np.array(launch),
            np.array(end),
            cycle,
            np.stack(pops),
        )

    def price_at(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        drift = np.array([BRANDS[b].price_drift for b in self.products.brand[product]])
        years = day / 365.0
        return self.products.base_price[product] * (1.0 + drift) ** years

    def pick_products(
        self, brands: np.ndarray, days: np.ndarray, accessory: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """A product for each purchase: popularity at that day within the brand."""
        P = self.products
        out = np.full(len(brands), -1, dtype=np.int64)
        acc_cat = CATEGORY_INDEX["phone_accessories"]
        u = rng.random(len(brands))
        for b in np.unique(brands):
            for acc in (False, True):
                m = (brands == b) & (accessory == acc)
                if not m.any():
                    continue
                own = np.flatnonzero(P.brand == b)
                is_acc = (P.category[own] == acc_cat) & (self.brand_category[b] != acc_cat)
                own = own[is_acc] if acc else own[~is_acc]
                if len(own) == 0:
                    continue
                weights = P.popularity[own][:, days[m]]  # [products, purchases]
                cum = np.cumsum(weights, axis=0)
                total = cum[-1]
                ok = total > 0
                target = u[m] * np.where(ok, total, 1.0)
                idx = (cum < target).sum(axis=0)
                picked = own[np.minimum(idx, len(own) - 1)]
                out[np.flatnonzero(m)] = np.where(ok, picked, -1)
        return out

    def discount(self, days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        promo = self.day_weights[days] > 1.5
        return rng.uniform(0.82, 1.0, len(days)) * np.where(promo, 0.88, 1.0)


def _choice(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the local day, busiest in the evening."""
    hours = np.clip(rng.normal(19.5, 4.0, n), 0, 23.999)
    return (hours * 3600).astype(np.int64)


class Events:
    """Columns of generated events, appended kind by kind and concatenated once.

    Events past the end of the period are dropped as they are added.
    """

    DEFAULTS: ClassVar[dict[str, int]] = {
        "product": -1,
        "quantity": 0,
        "cents": -1,
        "rating": 0,
        "query": -1,
        "channel": -1,
        "order": -1,
        "brandless": 0,
    }
    WIDE: ClassVar[set[str]] = {"t", "cents", "order"}  # int64 columns; the rest fit in int32

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self.parts: dict[str, list[np.ndarray]] = {
            c: [] for c in ("pair", "t", "etype", *self.DEFAULTS)
        }

    def add(
        self, pair: np.ndarray, t: np.ndarray, etype: int | np.ndarray, **cols: np.ndarray
    ) -> None:
        keep = (t >= 0) & (t < self.horizon)
        if not keep.any():
            return
        n = int(keep.sum())
        self.parts["pair"].append(pair[keep].astype(np.int32))
        self.parts["t"].append(t[keep].astype(np.int64))
        e = np.asarray(etype)
        self.parts["etype"].append((e[keep] if e.ndim else np.full(n, e)).astype(np.int8))
        for name, default in self.DEFAULTS.items():
            dtype = np.int64 if name in self.WIDE else np.int32
            value = cols.get(name)
            if value is None:
                arr = np.full(n, default, dtype=dtype)
            else:
                v = np.asarray(value)
                arr = (v[keep] if v.ndim else np.full(n, v)).astype(dtype)
            self.parts[name].append(arr)

    def done(self) -> dict[str, np.ndarray]:
        return {c: np.concatenate(v) for c, v in self.parts.items() if v}


@dataclass
class Chunk:
    """One chunk of users and their events, as numpy columns."""

    user_offset: int
    users: dict[str, np.ndarray]
    pair_user: np.ndarray
    pair_brand: np.ndarray
    events: dict[str, np.ndarray]


def simulate_chunk(market: Market, user_offset: int, n_users: int, chunk_index: int) -> Chunk:
    rng = np.random.default_rng([market.seed, 1, chunk_index])
    groups = _choice(rng, TARGET_GROUPS, n_users)
    circles = _choice(rng, CIRCLES, n_users)
    users = {
        "target_group": groups,
        "circle": circles,
        "city_tier": _choice(rng, CITY_TIERS, n_users),
        "age_band": _choice(rng, AGE_BANDS, n_users),
        "gender": _choice(rng, GENDERS, n_users),
        "register_day": -rng.integers(30, 3000, n_users),
    }
    # ---- pairs: who is in each brand's market ----------------------------------------
    pu_parts, pb_parts = [], []
    for bi, b in enumerate(BRANDS):
        p = np.clip(
            b.reach * market.group_mult[bi, groups] * market.circle_mult[bi, circles], 0, 0.95
        )
        members = np.flatnonzero(rng.random(n_users) < p)
        pu_parts.append(members)
        pb_parts.append(np.full(len(members), bi))
    pu, pb = np.concatenate(pu_parts), np.concatenate(pb_parts)
    n = len(pu)
    prof = {
        name: np.array([getattr(b, name) for b in BRANDS])[pb]
        for name in (
            "impressions",
            "view",
            "view_days",
            "engage",
            "buy",
            "loyalty",
            "member",
            "review",
            "share",
            "after_sales",
            "accessory",
            "ads",
        )
    }
    cat = market.brand_category[pb]
    consider = np.array([c.consideration_days for c in CATEGORIES])[cat]
    cycle = np.array([c.repurchase_days for c in CATEGORIES])[cat]
    durable = np.array([c.durable for c in CATEGORIES])[cat]
    ev = Events(market.horizon)
    pairs = np.arange(n)

    # ---- exposure: the first at t0, then more on later days ---------------------------
    day0 = market.sample_days(pb, rng)
    t0 = day0 * DAY + _time_of_day(rng, n)
    first_type = np.where(rng.random(n) < prof["ads"], ET["ad_impression"], ET["content_view"])
    ev.add(pairs, t0, first_type, channel=_choice(rng, EXPOSURE_CHANNELS, n))
    extra = rng.poisson(np.maximum(prof["impressions"] - 1, 0))
    ep = np.repeat(pairs, extra)
    ed = market.sample_days(pb[ep], rng, after=day0[ep])
    et = np.maximum(ed * DAY + _time_of_day(rng, len(ep)), t0[ep] + 60)
    etype = np.where(rng.random(len(ep)) < prof["ads"][ep], ET["ad_impression"], ET["content_view"])
    ev.add(ep, et, etype, channel=_choice(rng, EXPOSURE_CHANNELS, len(ep)))
    # category searches (no brand) by a third of the market, before the first exposure
    cs = pairs[rng.random(n) < 0.3]
    ev.add(
        cs,
        np.maximum(t0[cs] - rng.integers(600, 3 * DAY, len(cs)), 0),
        ET["search"],
        query=QUERY_TYPES.index("category"),
        brandless=1,
        channel=CH["onsite"],
    )

    # ---- consideration: views, brand search, store visit --------------------------------
    viewer = pairs[rng.random(n) < prof["view"]]
    tv = t0[viewer] + (rng.exponential(1.5, len(viewer)) * DAY).astype(np.int64) + 60
    ev.add(viewer, tv, ET["product_view"], channel=CH["onsite"])
    # a third of viewers arrived by clicking the ad that exposed them
    clickers = np.flatnonzero(rng.random(len(viewer)) < 0.35)
    ev.add(viewer[clickers], tv[clickers] - 30, ET["ad_click"], channel=CH["offsite_media"])
    more = rng.poisson(prof["view_days"][viewer])
    vp = np.repeat(viewer, more)
    span = np.maximum(consider[vp], 3.0)
    ev.add(
        vp,
        np.repeat(tv, more) + (rng.uniform(0.5, 1.5, len(vp)) * span * DAY).astype(np.int64),
        ET["product_view"],
        channel=CH["onsite"],
    )
    searcher = viewer[rng.random(len(viewer)) < 0.4]
    ev.add(
        searcher,
        t0[searcher] + (rng.exponential(1.0, len(searcher)) * DAY).astype(np.int64) + 30,
        ET["search"],
        query=QUERY_TYPES.index("brand"),
        channel=CH["onsite"],
    )
    visitor = viewer[rng.random(len(viewer)) < 0.3]
    ev.add(
        visitor,
        t0[visitor] + (rng.exponential(2.0, len(visitor)) * DAY).astype(np.int64) + 45,
        ET["store_visit"],
        channel=CH["onsite"],
    )

    # ---- engagement -------------------------------------------------------------------
    engaged = viewer[rng.random(len(viewer)) < prof["engage"][viewer]]
    te = (
        tv[np.searchsorted(viewer, engaged)]
        + (rng.exponential(1.0, len(engaged)) * DAY).astype(np.int64)
        + 60
    )
    count = 1 + rng.poisson(0.6, len(engaged))
    gp = np.repeat(engaged, count)
    gt = np.repeat(te, count) + rng.integers(0, DAY, len(gp))
    gtype = ENGAGE_TYPES[rng.choice(len(ENGAGE_TYPES), len(gp), p=ENGAGE_P)]
    consult_more = durable[gp] & (rng.random(len(gp)) < 0.3)
    gtype = np.where(consult_more, ET["consult"], gtype)
    ev.add(gp, gt, gtype, channel=CH["onsite"])

    # ---- purchases and repurchases ------------------------------------------------------
    buyer = engaged[rng.random(len(engaged)) < prof["buy"][engaged]]
    tb = (
        te[np.searchsorted(engaged, buyer)]
        + (rng.exponential(consider[buyer]) * DAY).astype(np.int64)
        + 3600
    )
    repeats = rng.geometric(1.0 - np.minimum(prof["loyalty"][buyer], 0.95)) - 1
    rp = np.repeat(buyer, repeats)
    gaps = (rng.gamma(2.0, cycle[rp] / 2.0) * DAY).astype(np.int64) + 3600
    cum = np.cumsum(gaps)  # within-buyer running sums: subtract the sum before each buyer
    offset = cum - np.repeat(np.concatenate([[0], cum])[np.cumsum(repeats) - repeats], repeats)
    purchase_pair = np.concatenate([buyer, rp])
    purchase_t = np.concatenate([tb, np.repeat(tb, repeats) + offset])
    accessory = np.zeros(len(purchase_pair), dtype=bool)
    # accessories bought by phone buyers of brands that sell them
    ab = buyer[rng.random(len(buyer)) < prof["accessory"][buyer]]
    acc_n = 1 + rng.poisson(1.0, len(ab))
    ap = np.repeat(ab, acc_n)
    at = (
        np.repeat(tb[np.searchsorted(buyer, ab)], acc_n)
        + (rng.exponential(40.0, len(ap)) * DAY).astype(np.int64)
        + 600
    )
    purchase_pair = np.concatenate([purchase_pair, ap])
    purchase_t = np.concatenate([purchase_t, at])
    accessory = np.concatenate([accessory, np.ones(len(ap), dtype=bool)])
    purchase_t = market.snap_to_promotions(purchase_t, rng)
    keep = purchase_t < market.horizon
    purchase_pair, purchase_t, accessory = purchase_pair[keep], purchase_t[keep], accessory[keep]
    pday = purchase_t // DAY
    product = market.pick_products(pb[purchase_pair], pday, accessory, rng)
    sold = product >= 0
    purchase_pair, purchase_t, pday, product = (
        purchase_pair[sold],
        purchase_t[sold],
        pday[sold],
        product[sold],
    )
    pcat = market.products.category[product]
    qty = np.where(
        np.array([c.durable for c in CATEGORIES])[pcat],
        1,
        rng.choice([1, 2, 3], len(product), p=[0.72, 0.2, 0.08]),
    )
    cents = np.round(market.price_at(product, pday) * qty * market.discount(pday, rng) * 100)
    order = np.arange(len(product), dtype=np.int64) + chunk_index * 10**9
    offline = rng.random(len(product)) < 0.02
    ev.add(
        purchase_pair,
        purchase_t,
        ET["purchase"],
        product=product,
        quantity=qty,
        cents=cents.astype(np.int64),
        order=order,
        channel=np.where(offline, CH["offline_store"], CH["onsite"]),
    )
    # refunds of about 4% of orders, full or half
    rf = np.flatnonzero(rng.random(len(product)) < REFUND_RATE)
    share = np.where(rng.random(len(rf)) < 0.75, 1.0, 0.5)
    ev.add(
        purchase_pair[rf],
        purchase_t[rf] + (rng.exponential(4.0, len(rf)) * DAY).astype(np.int64) + 3600,
        ET["refund"],
        product=product[rf],
        cents=np.round(cents[rf] * share).astype(np.int64),
        order=order[rf],
        channel=CH["onsite"],
    )
    # reviews (skewed positive) and shares after purchases
    rv = np.flatnonzero(rng.random(len(product)) < prof["review"][purchase_pair])
    ev.add(
        purchase_pair[rv],
        purchase_t[rv] + (rng.exponential(5.0, len(rv)) * DAY).astype(np.int64) + 7200,
        ET["review"],
        product=product[rv],
        rating=RATINGS[rng.choice(5, len(rv), p=RATING_P)],
        channel=CH["onsite"],
    )
    sh = np.flatnonzero(rng.random(len(product)) < prof["share"][purchase_pair])
    ev.add(
        purchase_pair[sh],
        purchase_t[sh] + (rng.exponential(3.0, len(sh)) * DAY).astype(np.int64) + 600,
        ET["share"],
        product=product[sh],
        channel=CH["short_video"],
    )
    # after-sales for durables
    dur = np.array([c.durable for c in CATEGORIES])[pcat]
    af = np.flatnonzero(dur & (rng.random(len(product)) < prof["after_sales"][purchase_pair]))
    ev.add(
        purchase_pair[af],
        purchase_t[af] + (rng.uniform(7, 300, len(af)) * DAY).astype(np.int64),
        ET["after_sales"],
        product=product[af],
        channel=CH["onsite"],
    )

    # ---- membership ---------------------------------------------------------------------
    joiner = buyer[rng.random(len(buyer)) < prof["member"][buyer]]
    tj = (
        tb[np.searchsorted(buyer, joiner)]
        + (rng.exponential(2.0, len(joiner)) * DAY).astype(np.int64)
        + 300
    )
    ev.add(joiner, tj, ET["member_join"], channel=CH["private_domain"])
    leaves = rng.random(len(joiner)) < 0.12
    tl = tj + (rng.exponential(200.0, len(joiner)) * DAY).astype(np.int64) + DAY
    ev.add(joiner[leaves], tl[leaves], ET["member_leave"], channel=CH["private_domain"])
    # members keep engaging (member-day coupons, store visits, favourites) while members,
    # more often the more loyal the brand's base
    until = np.minimum(np.where(leaves, tl, market.horizon), market.horizon)
    months = np.maximum(until - tj, 0) / (30 * DAY)
    visits = rng.poisson(months * 1.2 * prof["loyalty"][joiner] ** 2)
    mp = np.repeat(joiner, visits)
    lo, hi = np.repeat(tj, visits), np.repeat(until, visits)
    mt = lo + (rng.random(len(mp)) * (hi - lo)).astype(np.int64)
    kinds = np.array([ET["coupon_claim"], ET["store_visit"], ET["favorite"]])
    ev.add(mp, mt, kinds[rng.choice(3, len(mp), p=[0.5, 0.3, 0.2])], channel=CH["private_domain"])

    # the platform knows most users' interest circle, not all: about 5% have none in the
    # users table (drawn apart, so the simulation above is unchanged)
    unknown = np.random.default_rng([market.seed, 5, chunk_index]).random(n_users) < 0.05
    users["circle"] = np.where(unknown, -1, circles)

    return Chunk(user_offset, users, pu, pb, ev.done())
