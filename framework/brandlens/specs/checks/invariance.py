"""Transformations that must change nothing (or scale the value): permutation_invariant,
brand_isolated, time_shift_invariant, scale_equivariant."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    VARIED,
    VARIED_NEVER,
    Cell,
    Change,
    Checker,
    Context,
    Trial,
    same,
)
from brandlens.specs.probes import event
from brandlens.specs.strategies import AS_OF, OTHER_BRAND, USERS, EventLog, events

SHIFT_TARGETS = (
    date(2024, 2, 29),  # a leap day
    date(2024, 3, 1),  # the day after one
    date(2025, 3, 1),  # the day after a February of 28 days
    date(2024, 12, 31),  # a year's last day
    date(2025, 1, 1),  # a year's first day
    date(2025, 7, 31),  # a 31-day month's end
)
"""Where the time-shift probes move as_of (besides one day either way)."""

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy


class _Invariance(Checker):
    relational = True
    exercised = (
        "the indicator took two different values over all runs (a constant is trivially invariant)"
    )

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        factor = self.factor(cell.prop, trial.change)
        rel = getattr(cell.prop, "rel_tol", 1e-9)
        nonzero = same(trial, cell.indicator, trial.change.what, factor=factor, rel=rel)
        return {"nonzero"} if nonzero else ()

    def factor(self, prop: Any, change: Change) -> float:
        return 1.0

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {VARIED: VARIED_NEVER}


class PermutationChecker(_Invariance):
    kind = "permutation_invariant"
    example = "- permutation_invariant"
    checks = (
        "shuffling the rows and renaming every user one-to-one (in reverse order, so sorting "
        "changes) changes no value"
    )
    failure = "`shuffling rows and renaming users changed the value`"
    probing = "each probe log is shuffled and renamed once (seed 1)"
    random = "a shuffle seed per log"

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.integers(0, 2**16)

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        return [1]

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change:
        changed = shuffle_and_rename(log, extra)
        return Change(changed, "shuffling rows and renaming users changed the value", log)


class BrandIsolatedChecker(_Invariance):
    kind = "brand_isolated"
    example = (
        '- brand_isolated`, or `- brand_isolated: {isolated: false, reason: "share of category"}'
    )
    checks = (
        f"adding events of another brand (`{OTHER_BRAND}`; the log's users and categories) "
        "changes no value of the brands reported; `isolated: false` documents an indicator "
        "that depends on other brands by definition (nothing is checked) — pair it with a "
        "`monotone` saying how it may move"
    )
    failure = f"`adding events of another brand ({OTHER_BRAND}) changed the value`"
    probing = (
        "every registered event type of the other brand on each of the days 0, 1, 7, 30 "
        "and 200 before as_of, by the log's users in the log's categories, added at once"
    )
    random = "1 to 8 random events of the other brand"

    def active(self, prop: Any) -> bool:
        return bool(prop.isolated)

    def group(self, prop: Any, ctx: Context) -> str:
        return "isolated"

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.lists(
            events(AS_OF, (OTHER_BRAND,), USERS, ctx.event_types, ctx.categories),
            min_size=1,
            max_size=8,
        )

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """Every event type of another brand on each probe day, by the log's users, in the
        log's categories. (Each type on one day, cycling, put the other brand's purchase 30
        days back, outside every window of 30 days or less: a buyers count of every brand
        passed on the probes.)"""
        users = sorted({e["user_id"] for e in log.events})
        categories = sorted({e["category"] for e in log.events if e.get("category")})
        pairs = [(day, t) for day in (0, 1, 7, 30, 200) for t in ctx.event_types]
        added = [
            event(
                day,
                users[i % len(users)],
                t,
                OTHER_BRAND,
                categories[i % len(categories)] if categories else None,
                product_id="p1",
            )
            for i, (day, t) in enumerate(pairs)
        ]
        return [tuple(added)]

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change:
        changed = with_events(log, extra)
        what = f"adding events of another brand ({OTHER_BRAND}) changed the value"
        return Change(changed, what, changed)


class TimeShiftChecker(_Invariance):
    kind = "time_shift_invariant"
    example = "- time_shift_invariant"
    checks = (
        "shifting every timestamp, date (users' registration, products' launch, targets' "
        "periods) and as_of by the same whole number of days changes no value"
    )
    failure = "`shifting every timestamp and as_of by 1 day changed the value`"
    probing = (
        "the sparse log one day later; the dense log (with events on day W − 1 and day W of "
        "every declared window, at 00:00:00 and 23:59:59 local time) one day either way and "
        "with as_of moved onto "
        + ", ".join(d.isoformat() for d in SHIFT_TARGETS)
        + " (a leap day, the days after February, a year's end and start, a 31-day month's end)"
    )
    random = "a shift of −400 to 400 days"

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.integers(-400, 400).filter(bool)

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """One day either way; on the dense probe log, as_of onto a leap day, month ends
        and year ends too (its events sit on both sides of every declared window)."""
        if log.probe != "dense":
            return [1]
        return [1, -1, *((d - log.as_of).days for d in SHIFT_TARGETS)]

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change:
        unit = "day" if abs(extra) == 1 else "days"
        what = f"shifting every timestamp and as_of by {extra} {unit} changed the value"
        return Change(shift_days(log, extra), what, log)


class ScaleChecker(_Invariance):
    kind = "scale_equivariant"
    example = "- scale_equivariant: 1` (or `0`)"
    checks = (
        "multiplying every amount (and list price) by k > 0 multiplies every value by k "
        "(degree 1) or leaves it unchanged (degree 0), within `rel_tol` (default 1e-9; a "
        "value from a numerical fit may declare a looser one, e.g. "
        "`- scale_equivariant: {degree: 1, rel_tol: 1e-6}`)"
    )
    failure = "`multiplying every amount by 2 did not scale the value as declared`"
    probing = "k = 3 on each probe log"
    random = "k = 2, 3 or 10"
    exercised = (
        "degree 1: some value other than 0 or null was scaled; degree 0: the indicator took "
        "two different values over all runs"
    )

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.sampled_from((2, 3, 10))

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        return [3]

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        if prop.degree == 0:
            return super().exercise(prop, ctx)
        return {"nonzero": "no value other than 0 or null was scaled"}

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change:
        what = f"multiplying every amount by {extra} did not scale the value as declared"
        return Change(scale_amounts(log, extra), what, log, note=extra)

    def factor(self, prop: Any, change: Change) -> float:
        return float(change.note) ** prop.degree


# ---- the transformations -----------------------------------------------------------------


def shuffle_and_rename(log: EventLog, seed: int) -> EventLog:
    """Shuffle rows and rename users one-to-one (in reverse order, so sorting changes)."""
    rng = random.Random(seed)
    rows = list(log.events)
    rng.shuffle(rows)
    names = sorted({e["user_id"] for e in rows} | {u["user_id"] for u in log.users or ()})
    mapping = {u: f"renamed_{len(names) - i:03d}" for i, u in enumerate(names)}
    rows = [{**e, "user_id": mapping[e["user_id"]]} for e in rows]
    users = (
        None
        if log.users is None
        else tuple({**u, "user_id": mapping[u["user_id"]]} for u in log.users)
    )
    return replace(log, events=tuple(rows), users=users)


def with_events(log: EventLog, extra: Any) -> EventLog:
    return replace(log, events=log.events + tuple(extra))


def shift_days(log: EventLog, days: int) -> EventLog:
    """Shift every timestamp, date and as_of by whole days."""

    def ts(value: str) -> str:
        t = datetime.strptime(value, "%Y-%m-%d %H:%M:%S") + timedelta(days=days)
        return t.strftime("%Y-%m-%d %H:%M:%S")

    def day(value: str | None) -> str | None:
        if value is None:
            return None
        return (datetime.strptime(value, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")

    users = (
        None
        if log.users is None
        else tuple({**u, "register_date": day(u.get("register_date"))} for u in log.users)
    )
    products = (
        None
        if log.products is None
        else tuple({**p, "launch_date": day(p.get("launch_date"))} for p in log.products)
    )
    targets = (
        None
        if log.targets is None
        else tuple(
            {**t, "period_start": day(t["period_start"]), "period_end": day(t["period_end"])}
            for t in log.targets
        )
    )
    spend = None if log.spend is None else tuple({**s, "date": day(s["date"])} for s in log.spend)
    return replace(
        log,
        as_of=log.as_of + timedelta(days=days),
        events=tuple({**e, "ts": ts(e["ts"])} for e in log.events),
        users=users,
        products=products,
        targets=targets,
        spend=spend,
    )


def scale_amounts(log: EventLog, k: int) -> EventLog:
    def scaled(v: str | None) -> str | None:
        return None if v is None else f"{Decimal(v) * k:.2f}"

    products = (
        None
        if log.products is None
        else tuple({**p, "list_price": scaled(p.get("list_price"))} for p in log.products)
    )
    spend = (
        None if log.spend is None else tuple({**s, "cost": scaled(s["cost"])} for s in log.spend)
    )
    return replace(
        log,
        events=tuple({**e, "amount": scaled(e.get("amount"))} for e in log.events),
        products=products,
        spend=spend,
    )
