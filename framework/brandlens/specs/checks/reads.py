"""reads_only: events of a type, or a field value, the definition does not read change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import Context
from brandlens.specs.checks.window import AddedEventsChecker, sweep
from brandlens.specs.probes import FIRST_SECOND, LAST_SECOND
from brandlens.specs.spec import QUERY_TYPES
from brandlens.specs.strategies import AS_OF, BRANDS, USERS, EventLog, events

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
        "adding events of any type `event_types` does not list, on as_of or up to 500 days "
        "before it, changes no value; nor does adding events of a type `where` narrows with "
        "a value outside its list (another `query_type`; a category outside the list or the "
        "`$parameter`'s, one no log has, or none). Types read as state "
        "(memberships) must be listed too. Events after as_of are `window_bounded`'s "
        "concern. A listed type must matter (see exercised)"
    )
    probing = (
        "to each probe log, every type not listed, and every narrowed type with each value "
        "outside its list, is added for a new user and for each user of each brand, cycling "
        "through the log's categories and products, on as_of at 00:00:00 and at 23:59:59 "
        "local time, where no value may change; the listed types (narrowed ones with their "
        "listed values) likewise, all together and each narrowed type on its own, which only "
        "count towards exercised"
    )
    random = (
        "1 to 8 random events of the types not listed, or of a narrowed type with a value "
        "outside its list, 0 to 500 days before as_of"
    )
    exercised = (
        "on some probe log, the listed types added on as_of changed some value, and for each "
        "type `where` narrows, that type with its listed values did on its own (a list "
        "nothing reads proves nothing)"
    )
    failure = "`adding events of types or values it does not read changed the value`"

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

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        days = st.integers(0, 500)
        options = []
        unread = self._unread_types(prop, ctx)
        if unread:
            options.append(events(AS_OF, BRANDS, USERS, unread, ctx.categories, day_offsets=days))
        for etype, (name, listed) in sorted(self._narrowed(prop, ctx).items()):
            rows = events(AS_OF, BRANDS, USERS, (etype,), ctx.categories, day_offsets=days)
            values = st.sampled_from(self._unlisted(ctx, None, name, listed))
            options.append(st.tuples(rows, values).map(lambda rv, n=name: {**rv[0], n: rv[1]}))
        if not options:
            return st.just(("out", ()))
        return st.lists(st.one_of(*options), min_size=1, max_size=8).map(lambda r: ("out", r))

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """On as_of: what is not read (out), what is (in), and each narrowed type (in:T)."""
        narrowed = self._narrowed(prop, ctx)
        out = list(sweep(log, self._unread_types(prop, ctx), 0, BOTH_ENDS))
        listed: list[dict[str, Any]] = []
        each = []
        for etype in prop.event_types:
            rows = sweep(log, (etype,), 0, BOTH_ENDS)
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
        tokens = {"in": f"no event of the listed types ({types}) added on as_of changed the value"}
        for etype, (name, _) in sorted(self._narrowed(prop, ctx).items()):
            tokens[f"in:{etype}"] = (
                f"no {etype} with a listed {name} added on as_of changed the value on its own"
            )
        return tokens


def _cycled(rows: Iterable[dict[str, Any]], name: str, values: tuple[Any, ...]) -> list[dict]:
    """The rows with ``name`` set to each value in turn (every value on some row)."""
    rows = list(rows)
    if not values:
        return []
    n = max(len(rows), len(values))
    return (
        [{**rows[i % len(rows)], name: values[i % len(values)]} for i in range(n)] if rows else []
    )
