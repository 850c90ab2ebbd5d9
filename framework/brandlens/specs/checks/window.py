"""window_bounded: events older than the declared window change nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import Cell, Change, Checker, Context, Trial, same
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.spec import window_days
from brandlens.specs.strategies import AS_OF, BRANDS, USERS, EventLog, events

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy


class WindowChecker(Checker):
    kind = "window_bounded"
    relational = True
    example = (
        '- window_bounded: {days: "$purchase_window_days + $advancing_period_days", '
        "except_event_types: [member_join, member_leave]}"
    )
    checks = (
        "with W = `days` (an integer, or `$parameter` arithmetic), adding events dated W or "
        "more local days before as_of changes no value; event types in `except_event_types` "
        "(state such as memberships) are never added"
    )
    failure = "`adding events 30 or more days before as_of changed the value`"

    def bound(self, prop: Any, ctx: Context) -> int:
        return window_days(prop.days, ctx.params)

    def label(self, prop: Any, ctx: Context) -> str:
        return f"window_bounded ({self.bound(prop, ctx)} days)"

    def group(self, prop: Any, ctx: Context) -> str:
        return f"window:{self.bound(prop, ctx)}:{','.join(prop.except_event_types)}"

    def types(self, prop: Any, ctx: Context) -> tuple[str, ...]:
        return tuple(t for t in ctx.event_types if t not in prop.except_event_types)

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        bound = self.bound(prop, ctx)
        days = st.integers(bound, bound + 500)
        return st.lists(
            events(AS_OF, BRANDS, USERS, self.types(prop, ctx), ctx.categories, day_offsets=days),
            min_size=1,
            max_size=8,
        )

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change:
        changed = with_events(log, extra)
        what = f"adding events {self.bound(prop, ctx)} or more days before as_of changed the value"
        return Change(changed, what, changed)

    def check(self, cell: Cell, trial: Trial) -> None:
        assert trial.change is not None
        same(trial, cell.indicator, trial.change.what)
