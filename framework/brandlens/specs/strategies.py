"""Hypothesis strategies that build valid event logs in the canonical schema.

The logs are small but nasty: several brands (unicode names too) and categories
(and null ones), every event type (purchases, refunds, reviews and memberships more
often), timestamps clustered on window boundaries around as_of, events in the same
second, users with a single event, brands with no purchases, zero amounts, and
optional users/products tables (and targets or spend tables when asked). Some cases
are drawn on purpose (``motif``): same-day repeat purchases, refunds larger than the
purchase, users who buy every brand.
Lists shrink, so a failure reduces to a few rows.

Times are generated as local times in Asia/Shanghai (UTC+8, no daylight saving)
and written as naive UTC, so each event's local date is exactly the drawn one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from brandlens.data.schema import CORE_EVENT_TYPES
from brandlens.data.sources import InMemoryData
from brandlens.specs.spec import QUERY_TYPES

AS_OF = date(2025, 6, 30)
UTC_OFFSET = timedelta(hours=8)  # Asia/Shanghai, the default --timezone
BRANDS = ("Lumi", "Aurora", "品牌甲", "Ünï Brand")
OTHER_BRAND = "Othér"
GHOST_BRAND = "∅ghost"
CATEGORIES = ("skincare", "snacks", "手机")
USERS = tuple(f"u{i}" for i in range(8))
PRODUCTS = ("p1", "p2", "p3", "p4")
CHANNELS = ("onsite", "live", "offline_store", None)
GROUPS = ("urban_white_collar", "new_mom", "gen_z", "silver")
# Days before as_of that sit on or next to the windows methodologies use.
BOUNDARY_OFFSETS = (
    0,
    1,
    2,
    6,
    7,
    8,
    13,
    14,
    15,
    16,
    29,
    30,
    31,
    89,
    90,
    91,
    179,
    180,
    181,
    364,
    365,
    366,
    729,
    730,
    731,
    911,
    912,
    913,
)
SECONDS = (0, 1, 43_200, 86_399)  # same-second events happen often
WEIGHTS = {"purchase": 6, "refund": 3, "review": 4, "member_join": 3, "member_leave": 3}
"""How many times more often than the others these event types are drawn: the rules and
amounts of most indicators hang on them, and an even draw made one purchase a log."""
MOTIFS = ("same_day_repeat", "refund_heavy", "multi_brand")
"""Cases drawn on purpose into a log, besides the events drawn one by one."""
AMOUNTS = ("0", "0.01", "1.00", "9.99", "100.00", "12345.67")

EVENT_COLUMNS = (
    "ts",
    "user_id",
    "event_type",
    "brand",
    "category",
    "product_id",
    "channel",
    "order_id",
    "quantity",
    "amount",
    "rating",
    "query_type",
)


@dataclass(frozen=True)
class EventLog:
    """A generated dataset: events (and optional tables) plus the as_of date to run at."""

    as_of: date
    events: tuple[dict[str, Any], ...]
    users: tuple[dict[str, Any], ...] | None = None
    products: tuple[dict[str, Any], ...] | None = None
    brands: tuple[str, ...] = field(default=())
    targets: tuple[dict[str, Any], ...] | None = None
    spend: tuple[dict[str, Any], ...] | None = None
    probe: str = ""  # the name of a fixed probe log ("sparse", "dense"); "" when drawn

    def to_data(self) -> InMemoryData:
        tables: dict[str, dict[str, list[Any]]] = {
            "events": {c: [e.get(c) for e in self.events] for c in EVENT_COLUMNS}
        }
        if self.users is not None:
            cols = ("user_id", "target_group", "circle", "register_date")
            tables["users"] = {c: [u.get(c) for u in self.users] for c in cols}
        if self.products is not None:
            cols = ("product_id", "brand", "category", "launch_date", "list_price")
            tables["products"] = {c: [p.get(c) for p in self.products] for c in cols}
        if self.targets is not None:
            cols = ("brand", "indicator", "period_start", "period_end", "target_value")
            tables["targets"] = {c: [t.get(c) for t in self.targets] for c in cols}
        if self.spend is not None:
            cols = ("brand", "date", "channel", "cost")
            tables["spend"] = {c: [s.get(c) for s in self.spend] for c in cols}
        return InMemoryData(tables, label="<generated log>")

    def report_brands(self) -> list[str]:
        """Brands to compute for: every brand in the log plus one with no events at all."""
        seen = {e["brand"] for e in self.events if e.get("brand")}
        return sorted(seen | set(self.brands) | {GHOST_BRAND})

    def table(self) -> str:
        """A small text table of the events, for failure reports."""
        cols = [c for c in EVENT_COLUMNS if any(e.get(c) is not None for e in self.events)]
        rows = [[str(e.get(c) if e.get(c) is not None else "") for c in cols] for e in self.events]
        # times are written in UTC; windows count local (UTC+8) days, so say which
        labels = ["ts (UTC)" if c == "ts" else c for c in cols]
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(labels)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(labels, widths, strict=True))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        out = f"as_of {self.as_of.isoformat()}, {len(self.events)} event(s)\n" + "\n".join(lines)
        if self.users is not None:
            out += "\nusers: " + ", ".join(
                f"{u['user_id']}={u.get('target_group') or '-'}/{u.get('circle') or '-'}"
                for u in self.users
            )
        if self.targets is not None:
            out += "\ntargets: " + ", ".join(
                f"{t['brand']} {t['indicator']} {t['period_start']}..{t['period_end']}"
                f"={t['target_value']}"
                for t in self.targets
            )
        if self.spend is not None:
            out += "\nspend: " + ", ".join(
                f"{s['brand']} {s['date']} {s.get('channel') or '-'}={s['cost']}"
                for s in self.spend
            )
        return out


def utc_ts(local_day: date, second: int) -> str:
    """Naive UTC text for a local (UTC+8) date and second of that day."""
    local = datetime(local_day.year, local_day.month, local_day.day) + timedelta(seconds=second)
    return (local - UTC_OFFSET).strftime("%Y-%m-%d %H:%M:%S")


@st.composite
def offsets(draw: st.DrawFn, max_days: int = 1000) -> int:
    """Days before as_of, clustered on window boundaries (negative = after as_of)."""
    return draw(st.one_of(st.sampled_from(BOUNDARY_OFFSETS), st.integers(-2, max_days)))


@st.composite
def events(
    draw: st.DrawFn,
    as_of: date,
    brands: tuple[str, ...],
    users: tuple[str, ...],
    event_types: tuple[str, ...],
    categories: tuple[str, ...] = CATEGORIES,
    day_offsets: st.SearchStrategy[int] | None = None,
) -> dict[str, Any]:
    """One valid event row (text values, as a file would hold them).

    Purchases, refunds, reviews and memberships are drawn more often (``WEIGHTS``); the
    category is sometimes null.
    """
    etype = draw(st.sampled_from(weighted(event_types)))
    offset = draw(day_offsets if day_offsets is not None else offsets())
    row: dict[str, Any] = {
        "ts": utc_ts(as_of - timedelta(days=offset), draw(st.sampled_from(SECONDS))),
        "user_id": draw(st.sampled_from(users)),
        "event_type": etype,
        "brand": draw(st.sampled_from(brands)),
        "category": draw(st.sampled_from((*categories, None))),
        "product_id": draw(st.sampled_from((*PRODUCTS, None))),
        "channel": draw(st.sampled_from(CHANNELS)),
    }
    if etype in ("purchase", "refund"):
        row["amount"] = draw(
            st.one_of(
                st.sampled_from(AMOUNTS),
                st.decimals(min_value=0, max_value=5000, places=2).map(lambda d: f"{d:.2f}"),
            )
        )
        row["quantity"] = draw(st.sampled_from((None, "1", "2", "3")))
        row["order_id"] = draw(st.sampled_from((None, "o1", "o2")))
    if etype == "review":
        row["rating"] = str(draw(st.integers(1, 5)))
    if etype == "search":
        row["query_type"] = draw(st.sampled_from(QUERY_TYPES))
    return row


def weighted(event_types: tuple[str, ...]) -> tuple[str, ...]:
    """Each event type repeated by its weight, in the given order."""
    return tuple(t for t in event_types for _ in range(WEIGHTS.get(t, 1)))


@st.composite
def motif(
    draw: st.DrawFn, kind: str, rows: list[dict[str, Any]], brands: tuple[str, ...], as_of: date
) -> list[dict[str, Any]]:
    """Events for one case a log should hold on purpose, built on a drawn row of it.

    ``same_day_repeat``: the user buys the row's brand again on the row's day;
    ``refund_heavy``: a purchase and a larger refund of it, on that day or later;
    ``multi_brand``: the user buys every brand of the log (two at least), within days of
    the row.
    """
    row = rows[draw(st.integers(0, len(rows) - 1))]
    day = (datetime.strptime(row["ts"], "%Y-%m-%d %H:%M:%S") + UTC_OFFSET).date()
    day = min(day, as_of)
    amount = draw(st.sampled_from(AMOUNTS[1:]))

    def purchase(on: date, brand: str | None, price: str) -> dict[str, Any]:
        return {
            **{k: row[k] for k in ("user_id", "category", "product_id", "channel") if k in row},
            "ts": utc_ts(on, draw(st.sampled_from(SECONDS))),
            "event_type": "purchase",
            "brand": brand,
            "amount": price,
        }

    if kind == "same_day_repeat":
        return [purchase(day, row["brand"], amount), purchase(day, row["brand"], amount)]
    if kind == "refund_heavy":
        later = min(day + timedelta(days=draw(st.sampled_from((0, 1, 30)))), as_of)
        refund = purchase(later, row["brand"], f"{Decimal(amount) * 2 + 1:.2f}")
        return [purchase(day, row["brand"], amount), {**refund, "event_type": "refund"}]
    several = brands if len(brands) > 1 else (*brands, next(b for b in BRANDS if b not in brands))
    return [
        purchase(day - timedelta(days=draw(st.sampled_from((0, 1, 7)))), b, amount) for b in several
    ]


@st.composite
def event_logs(
    draw: st.DrawFn,
    event_types: tuple[str, ...] | None = None,
    max_events: int = 30,
    as_of: date = AS_OF,
    categories: tuple[str, ...] = CATEGORIES,
    target_indicators: tuple[str, ...] = (),
    spend: bool = False,
) -> EventLog:
    """A small, valid event log (with optional users and products tables).

    ``categories`` are the categories events are drawn from; with
    ``target_indicators`` the log may also carry a targets table naming them, and with
    ``spend`` a spend table (costs of its brands on days around as_of).
    """
    types = event_types or tuple(CORE_EVENT_TYPES)
    brands = tuple(draw(st.lists(st.sampled_from(BRANDS), min_size=1, max_size=3, unique=True)))
    n_users = draw(st.integers(1, len(USERS)))
    users = USERS[:n_users]
    rows = draw(
        st.lists(events(as_of, brands, users, types, categories), min_size=1, max_size=max_events)
    )
    if "purchase" in types:
        for kind in MOTIFS:
            if draw(st.booleans()):
                rows += draw(motif(kind, rows, brands, as_of))
    users_table = None
    if draw(st.booleans()):
        users_table = tuple(
            {
                "user_id": u,
                "target_group": draw(st.sampled_from((*GROUPS, None))),
                "circle": draw(st.sampled_from(("beauty", "tech", None))),
                "register_date": "2020-01-01",
            }
            for u in users
        )
    products_table = None
    if draw(st.booleans()):
        products_table = tuple(
            {
                "product_id": p,
                "brand": draw(st.sampled_from(brands)),
                "category": draw(st.sampled_from(categories)),
                "launch_date": (as_of - timedelta(days=draw(offsets()))).isoformat(),
                "list_price": draw(st.sampled_from(AMOUNTS)),
            }
            for p in PRODUCTS
        )
    targets_table = None
    if target_indicators and draw(st.booleans()):
        drawn = [
            draw(targets(as_of, brands, target_indicators)) for _ in range(draw(st.integers(1, 4)))
        ]
        keyed = {(t["brand"], t["indicator"], t["period_start"], t["period_end"]): t for t in drawn}
        targets_table = tuple(keyed.values())  # one goal per key: a repeat is quarantined
    spend_table = None
    if spend and draw(st.booleans()):
        spend_table = tuple(draw(st.lists(spend_rows(as_of, brands), min_size=0, max_size=6)))
    return EventLog(
        as_of=as_of,
        events=tuple(rows),
        users=users_table,
        products=products_table,
        brands=brands,
        targets=targets_table,
        spend=spend_table,
    )


@st.composite
def spend_rows(draw: st.DrawFn, as_of: date, brands: tuple[str, ...]) -> dict[str, Any]:
    """One spend row: a brand's cost on a day around as_of (window boundaries too)."""
    return {
        "brand": draw(st.sampled_from(brands)),
        "date": (as_of - timedelta(days=draw(offsets()))).isoformat(),
        "channel": draw(st.sampled_from(CHANNELS)),
        "cost": draw(st.sampled_from(AMOUNTS)),
    }


@st.composite
def targets(
    draw: st.DrawFn, as_of: date, brands: tuple[str, ...], indicators: tuple[str, ...]
) -> dict[str, Any]:
    """One targets row: a period ending near as_of (or after it), a zero or positive goal."""
    end = as_of - timedelta(
        days=draw(st.one_of(st.sampled_from((-1, 0, 1, 29, 30, 31)), st.integers(-3, 400)))
    )
    length = draw(st.sampled_from((0, 1, 6, 29, 30, 90)))
    return {
        "brand": draw(st.sampled_from(brands)),
        "indicator": draw(st.sampled_from(indicators)),
        "period_start": (end - timedelta(days=length)).isoformat(),
        "period_end": end.isoformat(),
        "target_value": draw(st.sampled_from(("0", "0.5", "1", "2", "10"))),
    }
