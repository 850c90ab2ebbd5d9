"""threshold: the inner edge of a rule, where a count of days or a rating starts to count.

A window's edges are ``window_bounded``'s; this is the edge inside one: "purchases on
two or more days", "a review rated 4 or more". A definition with ``>`` for ``>=``,
a hard-coded 3 for the parameter's 2, events counted instead of days, or days counted
in UTC passes every other property, since each of them holds on either side of the
edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    Cell,
    Change,
    Checker,
    Context,
    Failure,
    Trial,
    close,
    where,
)
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.checks.monotone import compared
from brandlens.specs.probes import FIRST_SECOND, LAST_SECOND, NOON
from brandlens.specs.spec import RATING_MAX, threshold_errors, threshold_value
from brandlens.specs.strategies import GHOST_BRAND, EventLog, utc_ts

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

NEWCOMER = "newcomer"
"""The new user whose events cross the edge (no probe or random log has this user)."""

EDGE = "edge"
"""The step from N - 1 to N: the only one that may change the value."""


class ThresholdChecker(Checker):
    kind = "threshold"
    relational = True
    example = (
        '- threshold: {add: {event_type: purchase}, days: "$loyal_min_purchase_days", '
        'keys: L}`, `- threshold: {add: {event_type: review}, rating: "$positive_rating"}'
    )
    checks = (
        "a new user of the brand does the declared event on k distinct local days ending on "
        "as_of, one at noon each (`days: N`), or writes one review on as_of rated r "
        "(`rating: N`; r = 0 is no review); over k (or r) = N − 2, N − 1, N, N + 1 the "
        "brand's value changes from N − 1 to N and at no other step; and the event twice on "
        "each of N − 1 local days (at 00:00:00 and 23:59:59 local time) changes nothing "
        "against once on each: days are local days, not events or UTC dates. On an "
        "indicator with a dimension, the values of the keys matching `keys` (a glob, "
        "default `*`) are compared, an absent key of an additive unit counting as 0. The "
        "edge is checked at the parameters' defaults"
    )
    failure = (
        "`a new user's purchase on 3 days instead of 2 changed the value (counted from 2 days)`"
    )
    probing = (
        "for each brand of each probe log, every step (N − 2 to N − 1, N − 1 to N, N to "
        "N + 1, and the doubled days) is added for a new user, whose days are as_of and "
        "the days just before it"
    )
    random = "one step, for a random brand"
    exercised = (
        "on some log, the step from N − 1 to N changed a compared value (a definition "
        "that never reads the event, or counts it from another N, never does)"
    )

    def checkable(self, prop: Any, ctx: Context) -> bool:
        """An N that is not a whole number in range is a spec error (said at registration)."""
        return not threshold_errors(prop, ctx.params)

    def label(self, prop: Any, ctx: Context) -> str:
        n = threshold_value(prop, ctx.params)
        keys = "" if prop.keys == "*" else f", keys {prop.keys}"
        what = f"+{prop.add.event_type}"
        if prop.add.query_type:
            what += f" by {prop.add.query_type}"
        edge = f"rated {n}" if prop.rating is not None else f"on {_days(n)}"
        return f"threshold ({what} {edge}{keys})"

    def group(self, prop: Any, ctx: Context) -> str:
        form = "rating" if prop.rating is not None else "days"
        n = threshold_value(prop, ctx.params)
        return f"threshold:{prop.add.model_dump_json()}:{form}={n}"

    def steps(self, prop: Any, ctx: Context) -> list[str]:
        """The steps this edge has: ``below``, ``edge``, ``above``, ``same_day``."""
        n = threshold_value(prop, ctx.params)
        top = RATING_MAX if prop.rating is not None else n + 1
        out = ["below"] if n >= 2 else []
        out.append(EDGE)
        if n + 1 <= top:
            out.append("above")
        if prop.days is not None and n >= 2:
            out.append("same_day")
        return out

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.tuples(st.integers(0, 50), st.sampled_from(self.steps(prop, ctx)))

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        return [(b, step) for b in range(len(brands)) for step in self.steps(prop, ctx)]

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        brand_pick, step = extra
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        if not brands:
            return None
        brand = brands[brand_pick % len(brands)]
        n = threshold_value(prop, ctx.params)
        low, high = {"below": (n - 2, n - 1), EDGE: (n - 1, n), "above": (n, n + 1)}.get(
            step, (n - 1, n - 1)
        )
        before = _added(log, prop, brand, low) if low > 0 else []
        after = _added(log, prop, brand, high, doubled=step == "same_day")
        changed = with_events(log, after)
        what = _what(prop, step, low, high, n)
        return Change(
            changed,
            what,
            changed,
            note=(brand, step),
            before=with_events(log, before) if before else None,
        )

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        n = threshold_value(prop, ctx.params)
        etype = prop.add.event_type
        edge = f"review rated {n}" if prop.rating is not None else f"{_nth(n)} day of {etype}"
        return {
            EDGE: f"a new user's {edge} never changed the value, so the edge cannot be told "
            "from any other step (does the indicator read the event, counted this way?)"
        }

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        prop, ind = cell.prop, cell.indicator
        brand, step = trial.change.note
        moved = False
        for key, before, after in compared(trial, ind, brand, prop.keys):
            if close(before, after):
                continue
            if step == EDGE:
                moved = True
                continue
            raise Failure(
                ind.id,
                f"{where(key)}: {trial.change.what} changed the value",
                before,
                after,
                trial.change.shown.table(),
            )
        return {EDGE} if moved else ()


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _what(prop: Any, step: str, low: int, high: int, n: int) -> str:
    """The step in words, for a failure."""
    etype = prop.add.event_type
    if prop.rating is not None:
        old = f"rated {low}" if low > 0 else "no review"
        return f"a new user's review rated {high} instead of {old} (counted from {n})"
    if step == "same_day":
        return (
            f"a new user's {etype} twice on each of {_days(low)} (at 00:00:00 and 23:59:59 "
            f"local time) instead of once (counted from {_days(n)}: are events or UTC dates "
            "counted instead of local days?)"
        )
    return (
        f"a new user's {etype} on {_days(high)} instead of {_days(low)} (counted from {_days(n)})"
    )


def _days(k: int) -> str:
    return "1 day" if k == 1 else f"{k} days"


def _added(
    log: EventLog, prop: Any, brand: str, count: int, doubled: bool = False
) -> list[dict[str, Any]]:
    """The new user's events: on ``count`` days ending on as_of (at noon, or at the first
    and last second of each local day), or one review rated ``count`` on as_of."""
    a = prop.add
    category = next(
        (
            e["category"]
            for e in sorted(log.events, key=lambda e: e["ts"])
            if e.get("brand") == brand and e.get("category")
        ),
        "skincare",
    )

    def row(day: int, second: int, rating: int | None = None) -> dict[str, Any]:
        r: dict[str, Any] = {
            "ts": utc_ts(log.as_of - timedelta(days=day), second),
            "user_id": NEWCOMER,
            "event_type": a.event_type,
            "brand": brand,
            "category": category,
        }
        if a.event_type in ("purchase", "refund"):
            r["amount"] = f"{a.amount if a.amount is not None else 10:.2f}"
        if a.event_type == "review":
            r["rating"] = str(rating or a.rating or RATING_MAX)
        if a.event_type == "search":
            r["query_type"] = a.query_type or "brand"
        return r

    if prop.rating is not None:
        return [row(0, NOON, rating=count)] if count > 0 else []
    seconds = (FIRST_SECOND, LAST_SECOND) if doubled else (NOON,)
    return [row(day, s) for day in range(count) for s in seconds]
