"""monotone: one more event of a declared kind moves the value one way only."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    Cell,
    Change,
    Checker,
    Context,
    Failure,
    Key,
    Run,
    Trial,
    keys_of,
    where,
)
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.strategies import GHOST_BRAND, OTHER_BRAND, EventLog, utc_ts

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

    from brandlens.specs.spec import IndicatorSpec


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
        "values that are null before or after are not compared. On an indicator with a "
        "dimension it holds key by key for the keys matching `keys` (a glob, default `*`): "
        "a key reported on one side only counts as 0 on the other for users, count and "
        "currency, and is not compared for ratio, index and days"
    )
    failure = "`adding a purchase of the self brand by a new user made it fall`"
    probing = (
        "for each brand of each probe log, the event is added for every user of the pool at "
        "once (each in the category of their last event of the brand; one new user when "
        "`user: new`), and then by single users of the pool, one per day on which a pool "
        "user's last event of the brand lies (at most six, spread from the oldest day to the "
        "newest): a batch cannot move the "
        "value the wrong way if no single event can, but one user's wrong-way move can hide "
        "among the others' (a buyer whose only purchase lies outside a window buying again)"
    )
    random = "one event by one user of the pool, for a random brand"
    exercised = "the addition moved some compared value at least once"

    def label(self, prop: Any, ctx: Context) -> str:
        a = prop.add
        keys = "" if prop.keys == "*" else f", keys {prop.keys}"
        return f"monotone (+{a.event_type}, {a.user} user, {a.brand} brand{keys})"

    def group(self, prop: Any, ctx: Context) -> str:
        return "monotone:" + prop.add.model_dump_json()  # one run per addition

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.tuples(st.integers(0, 50), st.integers(0, 50))

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """Per brand of the log: one addition by each user of its pool at once (by one new
        user, if new); random logs then add one event by one user.

        Adding several events that each may not lower the value cannot lower it either,
        so the batch is a consequence of the property that exercises it on every user.
        """
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        out: list[Any] = []
        for b, brand in enumerate(brands):
            out.append((b, None))
            if prop.add.user != "new":
                out += [(b, p) for p in _singles(log, prop, brand)]
        return out

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        brand_pick, pick = extra
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        brand = brands[brand_pick % len(brands)] if brands else GHOST_BRAND
        added = additions(log, prop, brand, pick)
        if not added:
            return None
        changed = with_events(log, added)
        a = prop.add
        who = f"{'an' if a.user.startswith('e') else 'a'} {a.user} user"
        if len(added) > 1:
            who = f"each of {len(added)} {a.user} users"
        what = f"adding a {a.event_type} of the {a.brand} brand by {who}"
        return Change(changed, what, changed, note=brand)

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {
            "moved": "the addition never changed the value, so the property cannot fail "
            "(does the indicator read what is added?)"
        }

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        prop, ind, brand = cell.prop, cell.indicator, trial.change.note
        moved = False
        for key, before, after in compared(trial, ind, brand, prop.keys):
            if before is None or after is None:
                continue
            moved = moved or before != after
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
        return {"moved"} if moved else ()


ADDITIVE = ("users", "count", "currency")
"""Units whose breakdown may leave out a key that is 0."""


def compared(
    trial: Trial, ind: IndicatorSpec, brand: str, keys: str
) -> Iterator[tuple[Key, Any, Any]]:
    """The brand's values before and after, key by key for the keys matching the glob
    ``keys`` (an absent key of an additive breakdown is 0)."""
    additive = ind.unit in ADDITIVE
    for key in keys_of(trial.before, trial.after, indicator=ind.id, brands=[brand]):
        if key[2] is not None and not fnmatch.fnmatchcase(key[2], keys):
            continue
        yield (
            key,
            _value(trial.before, key, additive),
            _value(trial.after, key, additive),
        )


def _value(run: Run, key: Key, additive: bool) -> Any:
    """The value to compare: an absent row of an additive breakdown is 0, a null is None."""
    if key not in run.rows:
        return 0 if additive and key[2] is not None else None
    return run.rows[key].value


PROBE_SINGLES = 6
"""Single-user additions a probe log makes per brand, besides the whole pool's at once."""


def _pool(log: EventLog, prop: Any, brand: str) -> list[str]:
    """The users who may make the addition, sorted: one newcomer, or the brand's users
    (its buyers, for ``existing_buyer``)."""
    a = prop.add
    if a.user == "new":
        return ["newcomer"]
    return sorted(
        {
            e["user_id"]
            for e in log.events
            if e.get("brand") == brand and (a.user == "existing" or e["event_type"] == "purchase")
        }
    )


def _singles(log: EventLog, prop: Any, brand: str) -> list[str]:
    """Single users of the pool to add the event for: one per day on which a pool user's
    last event of the brand lies (the probe logs place users on every window's boundary
    days), at most PROBE_SINGLES, spread from the oldest to the newest. Named, not
    numbered, so that shrinking a failure (which removes events, and users from the
    pool) keeps adding for the same user."""
    pool = _pool(log, prop, brand)
    last: dict[str, str] = {}
    for e in log.events:
        if e.get("brand") == brand and e["user_id"] in pool:
            last[e["user_id"]] = max(last.get(e["user_id"], ""), e["ts"])
    by_day: dict[str, str] = {}
    for user in pool:
        by_day.setdefault(last[user][:10], user)
    days = sorted(by_day)
    if len(days) > PROBE_SINGLES:
        step = (len(days) - 1) / (PROBE_SINGLES - 1)
        days = [days[round(k * step)] for k in range(PROBE_SINGLES)]
    return [by_day[d] for d in days]


def additions(log: EventLog, prop: Any, brand: str, pick: int | str | None) -> list[dict[str, Any]]:
    """Events of the declared kind on the as_of date (noon local time): by the ``pick``-th
    user of the pool, the pool user named ``pick``, or (``None``) every user of it; none
    when the pool is empty or the named user is not in it."""
    a = prop.add
    pool = _pool(log, prop, brand)
    if isinstance(pick, str):
        if pick not in pool:
            return []
        pick = pool.index(pick)
    if not pool:
        return []
    picks = range(len(pool)) if pick is None else [pick]
    others = sorted({e["brand"] for e in log.events if e.get("brand")} - {brand})
    cats = sorted(
        {e["category"] for e in log.events if e.get("brand") == brand and e.get("category")}
    ) or ["skincare"]
    rows = []
    for p in picks:
        user = pool[p % len(pool)]
        category = cats[p % len(cats)]
        if pick is None:  # each user buys again in the category of their last event
            last = [e for e in log.events if e["user_id"] == user and e.get("brand") == brand]
            category = max(last, key=lambda e: e["ts"]).get("category") if last else category
        row: dict[str, Any] = {
            "ts": utc_ts(log.as_of, 43_200),
            "user_id": user,
            "event_type": a.event_type,
            "brand": [*others, OTHER_BRAND][p % (len(others) + 1)] if a.brand == "other" else brand,
            "category": category,
        }
        if a.event_type in ("purchase", "refund"):
            row["amount"] = f"{a.amount if a.amount is not None else 10:.2f}"
        if a.event_type == "review":
            row["rating"] = str(a.rating or 5)
        if a.event_type == "search":
            row["query_type"] = a.query_type or "brand"
        rows.append(row)
    return rows
