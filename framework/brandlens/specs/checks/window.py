"""window_bounded: events older than the declared window, or after as_of, change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from brandlens.specs.checks.base import (
    Cell,
    Change,
    Checker,
    Context,
    Trial,
    keys_of,
    moved_by_one,
    same,
)
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.probes import FIRST_SECOND, LAST_SECOND, event
from brandlens.specs.spec import evaluate, parameter_refs, window_days
from brandlens.specs.strategies import AS_OF, BRANDS, USERS, EventLog, events

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

NEWCOMER = "edge_newcomer"
"""A user with no other event, added beside the probe log's own users."""
MOVED = "@"
"""Joins a probe side to the parameter moved for it: ``out@loyal_window_days``."""


class AddedEventsChecker(Checker):
    """A checker whose input is a side and events to add: on a side in ``unread`` no value
    may change; on any other side, a change is the evidence that the side is read."""

    relational = True
    unread: ClassVar[tuple[str, ...]] = ("out",)

    def what(self, prop: Any, ctx: Context, side: str) -> str:
        """What a change on an unread side means, for the failure."""
        raise NotImplementedError

    def evidence(self, side: str) -> set[str]:
        return {side}

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        side, added, *params = extra  # (side, events[, parameters both runs use])
        if not added:
            return None
        changed = with_events(log, added)
        what = self.what(prop, ctx, side)
        return Change(changed, what, changed, note=side, params=params[0] if params else None)

    def halves(self, extra: Any) -> tuple[Any, Any] | None:
        side, added, *params = extra
        split = super().halves(added)
        return None if split is None else ((side, split[0], *params), (side, split[1], *params))

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        if trial.change.note.split(MOVED)[0] in self.unread:
            same(trial, cell.indicator, trial.change.what)
            return ()
        for key in keys_of(trial.before, trial.after, indicator=cell.indicator.id):
            if trial.before.value(key) != trial.after.value(key):
                return self.evidence(trial.change.note)
        return ()


class WindowChecker(AddedEventsChecker):
    kind = "window_bounded"
    unread = ("out", "after")
    example = (
        '- window_bounded: {days: "$thriving_window_days", '
        "except_event_types: [member_join, member_leave]}`, "
        '`- window_bounded: {days: "max($window_days, $engaged_days)"}`, '
        '`- window_bounded: {days: "$loyal_window_days", event_types: [share]}'
    )
    checks = (
        "with W = `days` (an integer, or `$parameter` arithmetic with `+ - * /`, parentheses "
        "and `max()`), adding events dated W or more local days before as_of, or after "
        "as_of, changes no value; event types in `except_event_types` (state such as "
        "memberships) are never added before the window (after as_of they are); with "
        "`event_types` instead, only those types are (a window of their own, shorter than "
        "the other types'). The bound must be exact: day W − 1 must matter (see exercised). "
        "With W made of `$parameter`s, each whole-number one that moves W when moved by one "
        "(+1, or −1 where +1 is out of range or refused) is moved, and the same holds at "
        "the new W: a window that does not follow its parameter (a hard-coded default) fails"
    )
    probing = (
        "to each probe log, every event type (but the excepted ones) is added for a new user "
        "and for each user of each brand, cycling through the log's categories and products "
        "and a product it does not have: on day W at 00:00:00 and at 23:59:59 local time, "
        "where no value may change; likewise every event type on the day after as_of, at "
        "00:00:00 and 23:59:59 local time; on day W − 1 at 00:00:00, and on its own at "
        "23:59:59, which only count towards exercised. With W = 0 the excepted types are "
        "added on as_of instead. For each moved parameter, at its new value (both runs): "
        "every type on the new day W at 00:00:00 and 23:59:59, where no value may change, "
        "and on the new day W − 1, which counts towards exercised"
    )
    random = "1 to 8 random events, W to W + 500 days before as_of, or 1 to 30 days after it"
    exercised = (
        "on some probe log, events on day W − 1 changed some value, at 00:00:00 and at "
        "23:59:59 local time each (a window that reads fewer days than declared, or day "
        "W − 1 in UTC, never does); with W = 0, an excepted type added on as_of did; and "
        "for each moved parameter, events on its new day W − 1 did"
    )
    failure = (
        "`adding events 30 or more days before as_of changed the value`, "
        "`adding events after as_of changed the value`, `adding events 364 or more days "
        "before as_of changed the value, with period_days = 8 (the window does not follow "
        "period_days)`; at a moved parameter, never exercised: `with buyer_window_days = 366 "
        "(W = 366), no event on day 365 before as_of changed the value: the window does not "
        "follow buyer_window_days (a hard-coded default?)`"
    )

    def bound(self, prop: Any, ctx: Context) -> int:
        return window_days(prop.days, ctx.params)

    def label(self, prop: Any, ctx: Context) -> str:
        """``window_bounded (30 days)``; one type's own window names it: ``(365 days; share)``."""
        own = "; " + ", ".join(prop.event_types) if prop.event_types else ""
        return f"window_bounded ({self.bound(prop, ctx)} days{own})"

    def group(self, prop: Any, ctx: Context) -> str:
        # the moved parameters too: two bounds of one length made of different parameters
        # need each its own moved probes
        moves = ",".join(f"{name}={value}->{w2}" for name, value, w2 in moves_of(prop, ctx))
        return f"window:{self.bound(prop, ctx)}:{','.join(self.excepted(prop, ctx))}:{moves}"

    def excepted(self, prop: Any, ctx: Context) -> tuple[str, ...]:
        """The types never added before the window: those excepted, or all but those named."""
        if prop.event_types:
            return tuple(t for t in ctx.event_types if t not in prop.event_types)
        return tuple(prop.except_event_types)

    def types(self, prop: Any, ctx: Context) -> tuple[str, ...]:
        excepted = self.excepted(prop, ctx)
        return tuple(t for t in ctx.event_types if t not in excepted)

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        bound = self.bound(prop, ctx)

        def drawn(days: SearchStrategy[int], types: tuple[str, ...]) -> SearchStrategy[Any]:
            rows = events(AS_OF, BRANDS, USERS, types, ctx.categories, day_offsets=days)
            return st.lists(rows, min_size=1, max_size=8).map(tuple)

        after = drawn(st.integers(-30, -1), tuple(ctx.event_types)).map(lambda r: ("after", r))
        types = self.types(prop, ctx)
        if not types:  # every type excepted: only the day after as_of is left to try
            return after
        before = drawn(st.integers(bound, bound + 500), types).map(lambda r: ("out", r))
        return st.one_of(before, after)

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """Day W (out, both ends of the local day) and the day after as_of (after, both
        ends); day W − 1 (in) at each end on its own."""
        w = self.bound(prop, ctx)
        types = self.types(prop, ctx)
        # the day after as_of: every type, the excepted ones too (a state changed later)
        after = ("after", sweep(log, ctx.event_types, -1, (FIRST_SECOND, LAST_SECOND)))
        if w == 0:
            inside = sweep(log, self.excepted(prop, ctx), 0, (FIRST_SECOND, LAST_SECOND))
            out = ("out", sweep(log, types, 0, (FIRST_SECOND, LAST_SECOND)))
            return [out, after, ("in:0", inside)]
        both = (FIRST_SECOND, LAST_SECOND)
        moved = []  # the bound at each moved parameter: a window that does not follow it fails
        for name, value, w2 in moves_of(prop, ctx):
            params = {**ctx.params, name: value}
            moved.append((f"out{MOVED}{name}", sweep(log, types, w2, both), params))
            moved.append((f"in{MOVED}{name}", sweep(log, types, w2 - 1, both), params))
        return [
            ("out", sweep(log, types, w, both)),
            after,
            (f"in:{FIRST_SECOND}", sweep(log, types, w - 1, (FIRST_SECOND,))),
            (f"in:{LAST_SECOND}", sweep(log, types, w - 1, (LAST_SECOND,))),
            *moved,
        ]

    def what(self, prop: Any, ctx: Context, side: str) -> str:
        if side == "after":
            return "adding events after as_of changed the value"
        side, _, moved_name = side.partition(MOVED)
        for name, value, w2 in moves_of(prop, ctx):
            if name == moved_name:
                return (
                    f"adding events {w2} or more days before as_of changed the value, with "
                    f"{name} = {value} (the window does not follow {name})"
                )
        return f"adding events {self.bound(prop, ctx)} or more days before as_of changed the value"

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        w = self.bound(prop, ctx)
        if w == 0:
            return {"in:0": "no excepted event type added on as_of changed the value"}
        out = {
            f"in:{s}": f"no event on day W − 1 = {w - 1} days before as_of at {t} local "
            "time changed the value (the window reads fewer days than declared)"
            for s, t in ((FIRST_SECOND, "00:00:00"), (LAST_SECOND, "23:59:59"))
        }
        for name, value, w2 in moves_of(prop, ctx):
            out[f"in{MOVED}{name}"] = (
                f"with {name} = {value} (W = {w2}), no event on day {w2 - 1} before as_of "
                f"changed the value: the window does not follow {name} (a hard-coded default?)"
            )
        return out


def moves_of(prop: Any, ctx: Context) -> list[tuple[str, int, int]]:
    """(parameter, moved value, W at it) for each whole-number parameter the bound is made
    of whose move by one (+1, else -1 where +1 is out of range or refused) moves W: a
    parameter under a ``max()`` that is not the largest moves nothing and is left out."""
    if not isinstance(prop.days, str):
        return []
    w = window_days(prop.days, ctx.params)
    if w == 0:
        return []

    def window(params: dict[str, Any]) -> int | None:
        exact = evaluate(prop.days.replace("$", ""), params)
        if exact != int(exact):  # no whole number of days there: not a window to check
            return None
        w2 = int(exact)
        return w2 if w2 != w and w2 >= 1 else None

    return moved_by_one(ctx, parameter_refs(prop), window)


EDGE_PRODUCT = "p_edge"


def sweep(
    log: EventLog,
    types: Iterable[str],
    offset: int,
    seconds: tuple[int, ...],
    newcomer_only: bool = False,
) -> tuple[dict[str, Any], ...]:
    """Each event type, for a new user and the users of each brand, ``offset`` days back
    (for the new user alone with ``newcomer_only``).

    Categories and products cycle over the log's (and a product it does not have), so
    that each type meets each category and a product first seen on the boundary day.
    """
    categories = [*sorted({e["category"] for e in log.events if e.get("category")}), None]
    rows = []
    for brand in sorted({e["brand"] for e in log.events if e.get("brand")}):
        own = [e for e in log.events if e.get("brand") == brand]
        users = [NEWCOMER, *([] if newcomer_only else sorted({e["user_id"] for e in own}))]
        products = [*sorted({e["product_id"] for e in own if e.get("product_id")}), EDGE_PRODUCT]
        n = 0
        for t in types:
            for user in users:
                for second in seconds:
                    category = categories[n % len(categories)]
                    product = products[n % len(products)]
                    rows.append(event(offset, user, t, brand, category, second, product_id=product))
                    n += 1
    return tuple(rows)
