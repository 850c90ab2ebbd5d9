"""monotone: one more event of a declared kind moves the value one way only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    Cell,
    Change,
    Checker,
    Context,
    Failure,
    Trial,
    keys_of,
    where,
)
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.strategies import GHOST_BRAND, OTHER_BRAND, EventLog, utc_ts

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy


class MonotoneChecker(Checker):
    kind = "monotone"
    relational = True
    example = (
        "- monotone: {add: {event_type: purchase, user: new, brand: self}, "
        "direction: non_decreasing}"
    )
    checks = (
        "adding one event of the declared kind on the as_of date (noon local time) never lowers "
        "(`non_decreasing`) or never raises (`non_increasing`) the brand's value; `user` is "
        "`new`, `existing` (has an event of the brand) or `existing_buyer` (has a purchase of "
        "it); `brand` is `self` or `other` (another brand, e.g. a competitor purchase); "
        "values that are null before or after are not compared"
    )
    failure = "`adding a purchase of the self brand by a new user made it fall`"

    def label(self, prop: Any, ctx: Context) -> str:
        a = prop.add
        return f"monotone (+{a.event_type}, {a.user} user, {a.brand} brand)"

    def group(self, prop: Any, ctx: Context) -> str:
        return "monotone:" + prop.model_dump_json()

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.integers(0, 50)

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        brand = brands[extra % len(brands)] if brands else GHOST_BRAND
        changed = add_event(log, prop, brand, extra)
        if changed is None:
            return None
        a = prop.add
        what = f"adding a {a.event_type} of the {a.brand} brand by a {a.user} user"
        return Change(changed, what, changed, note=brand)

    def check(self, cell: Cell, trial: Trial) -> None:
        assert trial.change is not None
        prop, ind, brand = cell.prop, cell.indicator, trial.change.note
        for key in keys_of(trial.before, trial.after, indicator=ind.id, brands=[brand]):
            before, after = trial.before.value(key), trial.after.value(key)
            if before is None or after is None:
                continue
            rising = prop.direction == "non_decreasing"
            if (after < before) if rising else (after > before):
                raise Failure(
                    ind.id,
                    f"{where(key)}: {trial.change.what} made it "
                    f"{'fall' if after < before else 'rise'}",
                    before,
                    after,
                    trial.change.shown.table(),
                )


def add_event(log: EventLog, prop: Any, brand: str, pick: int) -> EventLog | None:
    """One event of the declared kind on the as_of date (noon local time)."""
    a = prop.add
    if a.user == "new":
        user = "newcomer"
    else:
        pool = sorted(
            {
                e["user_id"]
                for e in log.events
                if e.get("brand") == brand
                and (a.user == "existing" or e["event_type"] == "purchase")
            }
        )
        if not pool:
            return None
        user = pool[pick % len(pool)]
    target = brand
    if a.brand == "other":
        others = sorted({e["brand"] for e in log.events if e.get("brand")} - {brand})
        target = [*others, OTHER_BRAND][pick % (len(others) + 1)]
    cats = sorted(
        {e["category"] for e in log.events if e.get("brand") == brand and e.get("category")}
    ) or ["skincare"]
    row: dict[str, Any] = {
        "ts": utc_ts(log.as_of, 43_200),
        "user_id": user,
        "event_type": a.event_type,
        "brand": target,
        "category": cats[pick % len(cats)],
    }
    if a.event_type in ("purchase", "refund"):
        row["amount"] = f"{a.amount if a.amount is not None else 10:.2f}"
    if a.event_type == "review":
        row["rating"] = str(a.rating or 5)
    if a.event_type == "search":
        row["query_type"] = a.query_type or "brand"
    return with_events(log, [row])
