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
    moved_by_one,
    where,
)
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.checks.monotone import compared
from brandlens.specs.probes import FIRST_SECOND, LAST_SECOND, NOON
from brandlens.specs.spec import (
    RATING_MAX,
    parameter_refs,
    threshold_errors,
    threshold_value,
    threshold_window,
)
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
        'within: "$loyal_window_days", keys: L}`, '
        '`- threshold: {add: {event_type: review}, rating: "$positive_rating", keys: L}'
    )
    checks = (
        "a new user of the brand does the declared event on k distinct local days ending on "
        "as_of, one at noon each (`days: N`), or writes one review on as_of rated r "
        "(`rating: N`; r = 0 is no review); over k (or r) = N − 2, N − 1, N, N + 1 the "
        "brand's value changes from N − 1 to N, only in `direction` (default "
        "`non_decreasing`), and at no other step. The event twice on each of N − 1 local "
        "days (at 00:00:00 and 23:59:59 local time, another order, product, channel and amount) "
        "changes nothing against once on each: days are local days, not events, orders or "
        "UTC dates. With `within: W` (the rule's window) the days are also spread over "
        "days 1 to W − 1 before as_of: N − 2 to N − 1 of them change nothing, N − 1 to N "
        "must change it (a rule of consecutive days, of the span from first to last, or one "
        "needing as_of fails). With N from `$parameter`s, N moved by one parameter's step "
        "(+1, or −1 where +1 is out of range or refused) must move the edge: the old N's "
        "step changes nothing (a hard-coded default fails). On an indicator with a "
        "dimension, the keys matching `keys` (a glob, default `*`) are compared, an absent "
        "key of an additive unit counting as 0"
    )
    failure = (
        "`a new user's purchase on 3 days instead of 2 (counted from 2 days) changed the value`"
    )
    probing = (
        "for each brand of each probe log, every step is added for a new user (the "
        "consecutive days end on as_of), and at each shifted parameter the step next to "
        "the old N"
    )
    random = "one step, for a random brand"
    exercised = (
        "on some log, the step from N − 1 to N changed a compared value (a definition "
        "that never reads the event, or counts it from another N, never does); with "
        "`within`, the spread days' step too"
    )

    def checkable(self, prop: Any, ctx: Context) -> bool:
        """An N or W that is not a whole number in range is a spec error (said at
        registration)."""
        return not threshold_errors(prop, ctx.params)

    def label(self, prop: Any, ctx: Context) -> str:
        n, w = _edge_of(prop, ctx.params)
        keys = "" if prop.keys == "*" else f", keys {prop.keys}"
        what = f"+{prop.add.event_type}"
        if prop.add.query_type:
            what += f" by {prop.add.query_type}"
        edge = f"rated {n}" if prop.rating is not None else f"on {_days(n)}"
        within = "" if w is None else f" within {w}"
        falls = ", falling" if prop.direction == "non_increasing" else ""
        return f"threshold ({what} {edge}{within}{keys}{falls})"

    def group(self, prop: Any, ctx: Context) -> str:
        form = "rating" if prop.rating is not None else "days"
        n, w = _edge_of(prop, ctx.params)
        refs = sorted(parameter_refs(prop))
        return f"threshold:{prop.add.model_dump_json()}:{form}={n}:within={w}:{refs}"

    def steps(self, prop: Any, ctx: Context) -> list[tuple[Any, ...]]:
        """The steps this edge has: (``below``), (``edge``), (``above``), (``same_day``),
        (``spread_below``), (``spread_edge``), (``shifted``, parameter, new value)."""
        n, w = _edge_of(prop, ctx.params)
        top = RATING_MAX if prop.rating is not None else n + 1
        out: list[tuple[Any, ...]] = [("below",)] if n >= 2 else []
        out.append((EDGE,))
        if n + 1 <= top:
            out.append(("above",))
        if prop.days is not None and n >= 2:
            out.append(("same_day",))
        if w is not None:
            out += [("spread_below",)] if n >= 2 else []
            out.append((SPREAD_EDGE,))
        out += [("shifted", name, value) for name, value in _shifts(prop, ctx)]
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
        params = None
        n, w = _edge_of(prop, ctx.params)
        kind = step[0]
        if kind == "shifted":
            params = {**ctx.params, step[1]: step[2]}
            shifted = threshold_value(prop, params)
            kind = "below" if shifted > n else "above"  # the old N's step, at the new N
            n = shifted
        # a spread step is its consecutive step's counts, spread over the window
        spread = w if kind.startswith("spread_") else None
        low, high = {"below": (n - 2, n - 1), EDGE: (n - 1, n), "above": (n, n + 1)}.get(
            kind.removeprefix("spread_"),
            (n - 1, n - 1),  # same_day: N - 1 days either way
        )
        before = _added(log, prop, brand, low, spread=spread) if low > 0 else []
        after = _added(log, prop, brand, high, doubled=kind == "same_day", spread=spread)
        changed = with_events(log, after)
        what = _what(prop, kind, low, high, n, spread)
        if step[0] == "shifted":
            what += f", with {step[1]} = {step[2]}"
        return Change(
            changed,
            what,
            changed,
            note=(brand, kind),
            before=with_events(log, before) if before else None,
            params=params,
        )

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        n, w = _edge_of(prop, ctx.params)
        etype = prop.add.event_type
        edge = f"review rated {n}" if prop.rating is not None else f"{_nth(n)} day of {etype}"
        out = {
            EDGE: f"a new user's {edge} never changed the value, so the edge cannot be told "
            "from any other step (does the indicator read the event, counted this way?)"
        }
        if w is not None:
            out[SPREAD_EDGE] = (
                f"a new user's {etype} on {_days(n)} spread over days 1 to {w - 1} before "
                f"as_of never changed the value, where {_days(n - 1)} did not (are the days "
                "read as consecutive, or must one be as_of?)"
            )
        return out

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        prop, ind = cell.prop, cell.indicator
        brand, kind = trial.change.note
        moved = False
        for key, before, after in compared(trial, ind, brand, prop.keys):
            if close(before, after):
                continue
            if kind in (EDGE, SPREAD_EDGE):
                rising = prop.direction == "non_decreasing"
                if before is None or after is None or (after > before) == rising:
                    moved = True
                    continue
                message = f"{trial.change.what} made it {'fall' if rising else 'rise'}"
            else:
                message = f"{trial.change.what} changed the value"
            raise Failure(
                ind.id, f"{where(key)}: {message}", before, after, trial.change.shown.table()
            )
        return {kind} if moved else ()


SPREAD_EDGE = "spread_edge"
"""The step from N - 1 to N days spread over the window: it must change the value too."""


def _edge_of(prop: Any, params: dict[str, Any]) -> tuple[int, int | None]:
    """N and W (``within``, if declared) at these parameters."""
    return threshold_value(prop, params), threshold_window(prop, params)


def _shifts(prop: Any, ctx: Context) -> list[tuple[str, int]]:
    """Each whole-number parameter N is made of, moved by one (+1, else -1) where N moves
    with it, stays in range and the methodology takes the value."""
    n = threshold_value(prop, ctx.params)

    def edge(params: dict[str, Any]) -> int | None:
        shifted, _ = _edge_of(prop, params)  # W too must stay valid
        low = shifted - 2 if shifted > n else shifted  # the compared step's lower side
        return shifted if shifted != n and low >= 0 else None

    return [(name, moved) for name, moved, _ in moved_by_one(ctx, parameter_refs(prop), edge)]


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _what(prop: Any, kind: str, low: int, high: int, n: int, spread: int | None) -> str:
    """The step in words, for a failure."""
    etype = prop.add.event_type
    if prop.rating is not None:
        old = f"rated {low}" if low > 0 else "no review"
        return f"a new user's review rated {high} instead of {old} (counted from {n})"
    if kind == "same_day":
        return (
            f"a new user's {etype} twice on each of {_days(low)} (at 00:00:00 and 23:59:59 "
            "local time, two orders of two products) instead of once (counted from "
            f"{_days(n)}: are events, orders, products or UTC dates counted instead of local "
            "days?)"
        )
    where = "" if spread is None else f" spread over days 1 to {spread - 1} before as_of"
    return (
        f"a new user's {etype} on {_days(high)}{where} instead of {_days(low)} (counted from "
        f"{_days(n)})"
    )


def _days(k: int) -> str:
    return "1 day" if k == 1 else f"{k} days"


def _spread(count: int, window: int) -> list[int]:
    """``count`` distinct days before as_of, spread evenly over 1 to ``window`` - 1 (one
    day: the window's last, ``window`` - 1)."""
    if count == 1:
        return [window - 1]
    return [1 + round(i * (window - 2) / (count - 1)) for i in range(count)]


def _added(
    log: EventLog,
    prop: Any,
    brand: str,
    count: int,
    doubled: bool = False,
    spread: int | None = None,
) -> list[dict[str, Any]]:
    """The new user's events: on ``count`` days ending on as_of (at noon, or at the first
    and last second of each local day), or spread over the window before as_of; or one
    review rated ``count`` on as_of."""
    a = prop.add
    dated = sorted((e for e in log.events if e.get("brand") == brand), key=lambda e: e["ts"])
    category = next((e["category"] for e in dated if e.get("category")), "skincare")

    def row(day: int, second: int, copy: int = 0, rating: int | None = None) -> dict[str, Any]:
        r: dict[str, Any] = {
            "ts": utc_ts(log.as_of - timedelta(days=day), second),
            "user_id": NEWCOMER,
            "event_type": a.event_type,
            "brand": brand,
            "category": category,
            "order_id": f"edge-{day}-{copy}",
            "product_id": f"edge-p{copy}",
            "channel": ("onsite", "live")[copy],
        }
        if a.event_type in ("purchase", "refund"):
            amount = a.amount if a.amount is not None else 10
            r["amount"] = f"{amount * (copy + 1):.2f}"
        if a.event_type == "review":
            r["rating"] = str(rating or a.rating or RATING_MAX)
        if a.event_type == "search":
            r["query_type"] = a.query_type or "brand"
        return r

    if prop.rating is not None:
        return [row(0, NOON, rating=count)] if count > 0 else []
    days = _spread(count, spread) if spread is not None and count > 0 else range(count)
    if doubled:
        return [
            row(day, s, copy) for day in days for copy, s in enumerate((FIRST_SECOND, LAST_SECOND))
        ]
    return [row(day, NOON) for day in days]
