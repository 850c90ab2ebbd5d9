"""reads_only: events of a type, or a field value, the definition does not read change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import Context
from brandlens.specs.checks.window import NEWCOMER, AddedEventsChecker, sweep
from brandlens.specs.probes import FIRST_SECOND, LAST_SECOND, event
from brandlens.specs.spec import BRANDED_EVENT_TYPES, QUERY_TYPES, where_parameter_errors
from brandlens.specs.strategies import (
    AS_OF,
    BOUNDARY_OFFSETS,
    BRANDS,
    USERS,
    EventLog,
    events,
)

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

OTHER_CATEGORY = "edge_unlisted"
"""A category no log has: outside every list a ``where`` names."""

BOTH_ENDS = (FIRST_SECOND, LAST_SECOND)


class ReadsOnlyChecker(AddedEventsChecker):
    kind = "reads_only"
    example = (
        "- reads_only: [purchase]`, `- reads_only: {event_types: [purchase, search], "
        "where: {search: {query_type: [brand]}}}`, `- reads_only: {event_types: [purchase], "
        'where: {purchase: {category: "$durable_categories"}}}'
    )
    checks = (
        "adding events of any type `event_types` does not list, on any day up to as_of, "
        "changes no value; nor does adding events of a type `where` narrows with a value "
        "outside its list (another `query_type`; a category outside the list or the "
        "`$parameter`'s, one no log has, or none), nor events of an unlisted type that name "
        "no brand. Types read as state (memberships) must be listed too. Events after as_of "
        "are `window_bounded`'s concern. The listed types must matter (see exercised)"
    )
    probing = (
        "to each probe log, every type not listed, and every narrowed type with each value "
        "outside its list, is added for a new user and for each user of each brand, cycling "
        "through the log's categories and products, on as_of at 00:00:00 and at 23:59:59 "
        "local time; for the new user also on each boundary day of the harness (1, 2, 6, 7, "
        "8, ... 913 days back) and on the last day in and the first day out of every "
        "whole-number parameter's window; and every unlisted type that may name no brand, "
        "with none, for every user on as_of. No value may change. The listed types (narrowed "
        "ones with their listed values) are added the same way, all together and each "
        "narrowed type on its own, which only counts towards exercised"
    )
    random = (
        "1 to 8 random events of the types not listed (sometimes with no brand), or of a "
        "narrowed type with a value outside its list, 0 to 500 days before as_of"
    )
    exercised = (
        "on some probe log, adding the listed types changed some value, and for each type "
        "`where` narrows, adding that type with its listed values did on its own (a "
        "narrowing of a type never read proves nothing). A listed type the indicator does "
        "not read is not detected: list only what it reads"
    )
    failure = "`adding events of types or values it does not read changed the value`"

    def checkable(self, prop: Any, ctx: Context) -> bool:
        """A narrowing by a parameter that is not a list of valid values is a spec error."""
        return not where_parameter_errors(prop, ctx.params)

    def group(self, prop: Any, ctx: Context) -> str:
        return f"reads:{','.join(prop.event_types)}:{sorted(self._narrowed(prop, ctx).items())}"

    def label(self, prop: Any, ctx: Context) -> str:
        """``reads_only (purchase)``; a long list by its count, narrowed types by field."""
        types = prop.event_types
        named = ", ".join(types) if len(types) <= 3 else f"{len(types)} event types"
        narrowed = [f"{t} by {f}" for t, (f, _) in sorted(self._narrowed(prop, ctx).items())]
        return f"reads_only ({'; '.join([named, *narrowed])})"

    def _unread_types(self, prop: Any, ctx: Context) -> tuple[str, ...]:
        return tuple(t for t in ctx.event_types if t not in prop.event_types)

    def _narrowed(self, prop: Any, ctx: Context) -> dict[str, tuple[str, tuple[Any, ...]]]:
        """Each narrowed type -> (field, its listed values), a ``$parameter`` resolved."""
        out = {}
        for etype, fields in prop.where.items():
            ((name, values),) = fields.items()
            if isinstance(values, str):
                values = ctx.params[values.removeprefix("$")]
            out[etype] = (name, tuple(values))
        return out

    def _unlisted(
        self, ctx: Context, log: EventLog | None, name: str, listed: tuple[Any, ...]
    ) -> tuple[Any, ...]:
        """The values of ``name`` outside ``listed``: for a search, the schema's other query
        types (a search must have one); for a category, every other one the log or the
        context knows, one nobody has, and none."""
        if name == "query_type":
            return tuple(v for v in QUERY_TYPES if v not in listed)
        found = {e["category"] for e in log.events if e.get("category")} if log else set()
        known = [*sorted(set(ctx.categories) | found), OTHER_CATEGORY]
        return (*(v for v in known if v not in listed), None)

    def _offsets(self, ctx: Context) -> tuple[int, ...]:
        """Days back, besides as_of, where the new user's events go: the harness's boundary
        days, and each whole-number parameter's last day in and first day out."""
        windows = {v for v in ctx.params.values() if isinstance(v, int) and not isinstance(v, bool)}
        days = {o for o in BOUNDARY_OFFSETS if o > 0}
        days |= {d for w in windows for d in (w - 1, w) if 0 < d <= 1000}
        return tuple(sorted(days))

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        days = st.integers(0, 500)
        options = []
        unread = self._unread_types(prop, ctx)
        if unread:
            rows = events(AS_OF, BRANDS, USERS, unread, ctx.categories, day_offsets=days)
            brandless = st.booleans()
            options.append(
                st.tuples(rows, brandless).map(
                    lambda r: (
                        {**r[0], "brand": None}
                        if r[1] and r[0]["event_type"] not in BRANDED_EVENT_TYPES
                        else r[0]
                    )
                )
            )
        for etype, (name, listed) in sorted(self._narrowed(prop, ctx).items()):
            others = self._unlisted(ctx, None, name, listed)
            if not others:  # every value is listed: nothing unread to add
                continue
            rows = events(AS_OF, BRANDS, USERS, (etype,), ctx.categories, day_offsets=days)
            values = st.sampled_from(others)
            options.append(st.tuples(rows, values).map(lambda rv, n=name: {**rv[0], n: rv[1]}))
        if not options:
            return st.just(("out", ()))
        return st.lists(st.one_of(*options), min_size=1, max_size=8).map(lambda r: ("out", r))

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """What is not read (out), what is (in), and each narrowed type (in:T)."""
        narrowed = self._narrowed(prop, ctx)
        offsets = self._offsets(ctx)

        def swept(types: tuple[str, ...]) -> list[dict[str, Any]]:
            """On as_of for everyone, on every other probe day for the new user."""
            rows = list(sweep(log, types, 0, BOTH_ENDS))
            for n, day in enumerate(offsets):
                rows += sweep(log, types, day, (BOTH_ENDS[n % 2],), newcomer_only=True)
            return rows

        unread = self._unread_types(prop, ctx)
        out = swept(unread) + _brandless(log, [t for t in unread if t not in BRANDED_EVENT_TYPES])
        listed: list[dict[str, Any]] = []
        each = []
        for etype in prop.event_types:
            rows = swept((etype,))
            if etype not in narrowed:
                listed += rows
                continue
            name, values = narrowed[etype]
            out += _cycled(rows, name, self._unlisted(ctx, log, name, values))
            read = _cycled(rows, name, values)
            listed += read
            each.append((f"in:{etype}", tuple(read)))
        return [("out", tuple(out)), ("in", tuple(listed)), *each]

    def what(self, prop: Any, ctx: Context, side: str) -> str:
        return "adding events of types or values it does not read changed the value"

    def evidence(self, side: str) -> set[str]:
        return {"in", side}  # the listed types together, or one narrowed type alone

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        types = ", ".join(prop.event_types)
        tokens = {"in": f"adding the listed types ({types}) never changed the value"}
        for etype, (name, _) in sorted(self._narrowed(prop, ctx).items()):
            tokens[f"in:{etype}"] = f"no {etype} with a listed {name} changed the value on its own"
        return tokens


def _brandless(log: EventLog, types: list[str]) -> list[dict[str, Any]]:
    """Each type with no brand, on as_of, for a new user and every user of the log."""
    users = [NEWCOMER, *sorted({e["user_id"] for e in log.events})]
    return [event(0, u, t, None, None, FIRST_SECOND) for t in types for u in users]


def _cycled(rows: Iterable[dict[str, Any]], name: str, values: tuple[Any, ...]) -> list[dict]:
    """The rows with ``name`` set to each value in turn (every value on some row)."""
    rows = list(rows)
    if not rows or not values:
        return []
    n = max(len(rows), len(values))
    return [{**rows[i % len(rows)], name: values[i % len(values)]} for i in range(n)]
