"""What a methodology plugin declares: parameters, indicators, relations, ladders.

Everything here is public plugin API. The core validates a declaration once,
when the plugin registers it (see :func:`check_methodology`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from brandlens.engine.ladders import LADDER_COLUMNS, StageLadder
from brandlens.errors import PluginError
from brandlens.plugin.sqlcheck import CheckedSQL, check_query
from brandlens.specs.spec import MethodologySpec

if TYPE_CHECKING:  # pragma: no cover
    pass

Unit = Literal["users", "ratio", "currency", "count", "index", "days"]
Direction = Literal["higher", "lower"]

CANONICAL_VIEWS: tuple[str, ...] = (
    "events",
    "users",
    "products",
    "targets",
    "spend",
    "brands",
    "members",
)
"""Names plugin SQL may read besides its own relations.

``events`` holds accepted rows plus ``local_date``; ``brands`` the brands being
reported (one column ``brand``); ``members`` the (user_id, brand) pairs that are
members as of the run's as_of date. Absent optional tables are empty views.
"""

ENGINE_PARAMETERS: tuple[str, ...] = ("as_of",)
"""Named SQL parameters the engine binds for every query ($as_of is a DATE)."""


class NoParameters(BaseModel):
    """Parameter model of a methodology that takes none (the default of ``parameters``).

    A methodology with parameters gives its own pydantic model instead; every field
    needs a default, and SQL reads a field ``window_days`` as ``$window_days``.

    Example::

        class RepeatParameters(BaseModel):
            model_config = ConfigDict(extra="forbid")
            window_days: int = Field(30, ge=1, description="look-back window")


        RepeatParameters().window_days  # 30
    """

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Value:
    """One computed value of an indicator for a brand (and breakdown key).

    A Python-computed indicator returns a list of these; ``numerator`` and
    ``denominator`` are reported beside a ratio so a reader can audit it. A ``value``
    of None means "no value" (e.g. a zero denominator), never zero.

    Example::

        Value(brand="Lumi", value=0.25, numerator=5, denominator=20)
        Value(brand="Lumi", value=120, key="A1")  # an indicator with a dimension
    """

    brand: str = field(metadata={"doc": "one of the run's brands"})
    value: float | int | None = field(metadata={"doc": "None means no value, not zero"})
    key: str | None = field(default=None, metadata={"doc": "the dimension's key, if any"})
    numerator: float | int | None = field(default=None, metadata={"doc": "of a ratio"})
    denominator: float | int | None = field(default=None, metadata={"doc": "of a ratio"})


@dataclass
class IndicatorContext:
    """What a Python-computed indicator receives: the run's date, parameters and brands.

    ``query`` runs read-only SQL under the same rules as indicator SQL (bound
    parameters, the canonical views and the methodology's relations, the query time
    limit); ``shared`` computes a value once per run for several indicators, and
    ``shared_across_methodologies`` once per compute for several methodologies.

    Example::

        def buyers(ctx: IndicatorContext) -> list[Value]:
            rows = ctx.query(
                "SELECT brand, count(DISTINCT user_id) FROM events "
                "WHERE event_type = 'purchase' AND local_date <= $as_of GROUP BY brand"
            )
            found = dict(rows)
            return [Value(brand=b, value=found.get(b, 0)) for b in ctx.brands]


        Indicator(id="repeat.buyers", title="Buyers", unit="users", compute=buyers)
    """

    as_of: date = field(metadata={"doc": "the run's as-of local date"})
    params: BaseModel = field(metadata={"doc": "the methodology's parameters for this run"})
    brands: list[str] = field(metadata={"doc": "the brands to report, one Value each"})
    _run_query: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]] = field(repr=False)
    ladder_snapshots: dict[str, tuple[int, ...]] = field(
        default_factory=dict,
        metadata={
            "doc": "per ladder of the methodology, the days_before its relation holds: the "
            "declared snapshots and those its snapshots_sql found"
        },
    )
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _across: SharedValues | None = field(default=None, repr=False)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Run a read-only query (same rules as indicator SQL); return its rows."""
        return self._run_query(sql, params)

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value computed once per run of the methodology and shared by its indicators
        (e.g. a fitted model several indicators read)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def shared_across_methodologies(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value computed once per compute and shared by every methodology in it (e.g.
        one CLV fit that two methodologies report on).

        The data, the as-of date and the brands are the same for all of them; ``key``
        must name everything else the value depends on (the query, the parameters),
        and should start with the plugin's own name, since other plugins share the
        namespace. The first run to ask computes the value while the others wait; a
        failure is not kept, so the next asker computes again. Without a compute
        around it (an indicator called directly), this is :meth:`shared`.
        """
        if self._across is None:
            return self.shared(key, compute)
        return self._across.get(key, compute)


class SharedValues:
    """Values shared by the methodology runs of one compute, each computed once.

    Methodologies may run concurrently: a value is computed by the first run that
    asks, under a lock of its own, and the others wait for it.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value


class Indicator(BaseModel):
    """An indicator: computed by SQL (DuckDB dialect) or by a Python function.

    SQL must return columns ``brand`` and ``value``, plus ``key`` when the
    indicator has a dimension, and optionally ``numerator`` and ``denominator``.
    A Python function takes an :class:`IndicatorContext` and returns a list of
    :class:`Value`. ``requires`` names optional columns (``table.column``) without
    which the indicator is reported as not applicable rather than failing.

    Example::

        Indicator(
            id="repeat.repeat_rate",
            title="Repeat-buyer rate",
            unit="ratio",
            headline=True,
            sql="SELECT brand, count(*) FILTER (WHERE days >= 2) / count(*) AS value, "
            "count(*) FILTER (WHERE days >= 2) AS numerator, count(*) AS denominator "
            "FROM buyer_days GROUP BY brand",
        )
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$",
        description="'<methodology>.<name>', lower case; the spec describes it under this id",
    )
    title: str = Field("", description="short human title (the spec's, when it has one)")
    unit: Unit | None = Field(
        None, description="users, ratio, currency, count, index or days (formatting, checks)"
    )
    direction: Direction = Field("higher", description="whether higher or lower is better")
    dimension: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="name of the breakdown column ``key`` (e.g. stage); None for one value",
    )
    keys: tuple[str, ...] | None = Field(
        None, description="every key the dimension reports, in their order (all present)"
    )
    headline: bool = Field(False, description="shown by `brandlens compare`; no dimension")
    description: str = Field("", description="one-paragraph definition (the spec's wins)")
    sql: str | None = Field(None, description="one read-only DuckDB SELECT; or give compute")
    compute: Callable[[IndicatorContext], Sequence[Value]] | None = Field(
        None, description="a Python function of an IndicatorContext; or give sql"
    )
    requires: tuple[str, ...] = Field(
        default=(),
        description="optional table columns this indicator needs, as 'table.column'",
    )

    @model_validator(mode="after")
    def _one_way(self) -> Indicator:
        if (self.sql is None) == (self.compute is None):
            raise ValueError(f"{self.id}: give exactly one of sql= or compute=")
        if self.headline and self.dimension:
            raise ValueError(f"{self.id}: a headline indicator cannot have a dimension")
        if self.keys is not None and not self.dimension:
            raise ValueError(f"{self.id}: keys= needs a dimension")
        return self

    @property
    def methodology(self) -> str:
        """The methodology's name: the id's part before the dot."""
        return self.id.split(".", 1)[0]


class Relation(BaseModel):
    """A named intermediate relation, materialised once per run and shared by indicators.

    Its SQL reads the canonical views and the relations it names in ``depends_on``
    (which are materialised first); indicators and later relations read it by name.
    A relation may also be written by hand with the same columns as a ladder.

    Example::

        Relation(
            name="buyer_days",
            sql="SELECT brand, user_id, count(DISTINCT local_date) AS days "
            "FROM events WHERE event_type = 'purchase' "
            "AND local_date > $as_of - $window_days AND local_date <= $as_of "
            "GROUP BY brand, user_id",
        )
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the name SQL reads it by")
    sql: str = Field(description="one read-only SELECT over the canonical views and relations")
    depends_on: tuple[str, ...] = Field(
        (), description="relations and ladders (by name) it reads; materialised before it"
    )


_ORDER = re.compile(r"^([a-z_][a-z0-9_]*)(?: (ASC|DESC))?$")


class EntityTable(BaseModel):
    """An entity-level table the methodology already materialises, listed on request.

    Indicators aggregate per brand; brand managers act on the entities behind them
    (SUPER's products, a ladder's users per stage). ``brandlens entities`` and
    ``Dataset.entities`` list such a table for chosen brands; ``compute`` never shows
    it. Give ``relation`` (one of the methodology's relations or ladders, listed as it
    is) or ``sql`` (a query over them and the canonical views, checked like indicator
    SQL). Rows need a ``brand`` column and the ``key`` columns, which identify one
    entity within a brand; they are listed by brand, then ``order_by``, then key.

    Example::

        EntityTable(
            name="repeat_buyers",
            title="Buyers and their purchase days",
            key=("user_id",),
            relation="buyer_days",
            order_by=("days DESC",),
        )
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the name users list it by")
    title: str = Field(min_length=1, description="a human title")
    key: tuple[str, ...] = Field(
        min_length=1, description="columns that identify one entity within a brand"
    )
    relation: str | None = Field(None, description="a relation or ladder listed as it is")
    sql: str | None = Field(None, description="or a read-only query over relations and views")
    order_by: tuple[str, ...] = Field(
        default=(), description="columns to list by after brand, each optionally ' DESC'"
    )
    description: str = Field("", description="what the table lists, for its readers")

    @model_validator(mode="after")
    def _one_source(self) -> EntityTable:
        if (self.relation is None) == (self.sql is None):
            raise ValueError(f"entity table {self.name!r}: give exactly one of relation= or sql=")
        for item in self.order_by:
            if not _ORDER.match(item):
                raise ValueError(f"entity table {self.name!r}: bad order_by item {item!r}")
        return self

    @property
    def query(self) -> str:
        """The SQL that yields the rows (``relation`` is shorthand for selecting it all)."""
        return self.sql if self.sql is not None else f"SELECT * FROM {self.relation}"

    def order_columns(self) -> list[tuple[str, bool]]:
        """(column, descending) pairs: order_by, then the key columns not already in it."""
        out = []
        for item in self.order_by:
            m = _ORDER.match(item)
            assert m is not None
            out.append((m.group(1), m.group(2) == "DESC"))
        named = {c for c, _ in out}
        return out + [(k, False) for k in self.key if k not in named]


class Methodology(BaseModel):
    """A methodology: a named set of indicators with their parameters and source.

    Registered with ``register(methodology, spec=...)`` from the
    ``brandlens_register_methodologies`` hook; the host checks every SQL text, parameter
    reference and dependency when it is registered.

    Example::

        class RepeatParameters(BaseModel):
            window_days: int = Field(30, ge=1)


        Methodology(
            name="repeat",
            title="Repeat buyers",
            source="https://example.com/repeat-method",
            version="1.0",
            parameters=RepeatParameters,
            relations=(
                Relation(
                    name="buyer_days",
                    sql="SELECT brand, user_id, count(DISTINCT local_date) AS days "
                    "FROM events WHERE event_type = 'purchase' GROUP BY ALL",
                ),
            ),
            indicators=(
                Indicator(
                    id="repeat.buyers",
                    unit="users",
                    sql="SELECT brand, count(*) AS value FROM buyer_days GROUP BY brand",
                ),
            ),
        )
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="short name: `-m NAME`, indicator id prefix"
    )
    title: str = Field(description="the methodology's published name")
    source: str = Field(description="where it is defined: a URL or citation")
    version: str = Field(description="the plugin's version of the definitions")
    description: str = Field("", description="a paragraph on what it measures")
    parameters: type[BaseModel] = Field(
        NoParameters, description="pydantic model of its parameters, each with a default"
    )
    indicators: tuple[Indicator, ...] = Field(description="what it computes")
    relations: tuple[Relation, ...] = Field((), description="shared intermediate relations")
    ladders: tuple[StageLadder, ...] = Field((), description="stage ladders, as relations")
    entities: tuple[EntityTable, ...] = Field((), description="entity tables for listing")
    history_days: Callable[[Any], int] | None = Field(
        None,
        description="days of events up to as_of its indicators read at most, from its "
        "parameters (its ladders' windows are added by brandlens); a run warns when the "
        "data starts later",
    )

    def history(self, params: BaseModel) -> int:
        """Days of events up to as_of (inclusive) its indicators read at most: the longest
        of ``history_days`` and every ladder's window from its earliest snapshot."""
        values = params.model_dump()
        days = [ladder.history_days(values) for ladder in self.ladders]
        if self.history_days is not None:
            days.append(int(self.history_days(params)))
        return max(days, default=0)

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id (KeyError when there is none)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def default_parameters(self) -> BaseModel:
        """The parameter model with every default."""
        return self.parameters()

    def entity(self, name: str) -> EntityTable:
        """The entity table with this name (KeyError when there is none)."""
        for table in self.entities:
            if table.name == name:
                return table
        raise KeyError(name)


@dataclass(frozen=True)
class CheckedMethodology:
    """A methodology that passed registration checks, with what its SQL reads."""

    methodology: Methodology
    relation_sql: dict[str, CheckedSQL]
    indicator_sql: dict[str, CheckedSQL]
    plugin: str
    spec: MethodologySpec | None = None
    spec_errors: tuple[str, ...] = ()
    entity_sql: dict[str, CheckedSQL] = field(default_factory=dict)
    snapshot_sql: dict[str, CheckedSQL] = field(default_factory=dict)
    """Per ladder with ``snapshots_sql``: that query, checked."""

    @property
    def name(self) -> str:
        return self.methodology.name

    def relations_needed(self, indicator_ids: Sequence[str]) -> list[str]:
        """Relations (and ladders) the given indicators need, in dependency order."""
        return self._closure([self.indicator_sql.get(i) for i in indicator_ids])

    def relations_for_entity(self, name: str) -> list[str]:
        """Relations (and ladders) an entity table needs, in dependency order."""
        return self._closure([self.entity_sql[name]])

    def _closure(self, reads: Sequence[CheckedSQL | None]) -> list[str]:
        deps = {r.name: set(r.depends_on) for r in self.methodology.relations}
        deps.update({lad.name: set() for lad in self.methodology.ladders})
        wanted: list[str] = []

        def visit(name: str) -> None:
            if name in wanted:
                return
            for d in sorted(deps[name]):
                visit(d)
            wanted.append(name)

        for checked in reads:  # None: a Python indicator, which may read any relation
            for t in sorted(checked.tables if checked else deps):
                if t in deps:
                    visit(t)
        return wanted


_FROM_SPEC = ("unit", "direction", "dimension", "keys", "headline")


def vocabulary_values(params: BaseModel, vocabulary: str) -> dict[str, list[str]]:
    """Parameter name -> the values it names, for each parameter of ``params`` declared
    ``json_schema_extra={"vocabulary": vocabulary}`` (``event_types``, ``categories``): one
    text, a list, or None (an optional parameter left unset names nothing)."""
    out: dict[str, list[str]] = {}
    for name, f in type(params).model_fields.items():
        marks = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if marks.get("vocabulary") != vocabulary:
            continue
        value = getattr(params, name)
        if isinstance(value, str):
            out[name] = [value]
        else:
            out[name] = [str(v) for v in value or () if v is not None]
    return out


def apply_spec(m: Methodology, spec: MethodologySpec | None) -> tuple[Methodology, list[str]]:
    """Fill indicator metadata from the spec; return the merged methodology and spec errors.

    Metadata given in code must agree with the spec (a mismatch is a PluginError).
    Missing or extra spec entries are *spec errors*: the methodology still registers,
    and ``brandlens plugins`` and ``brandlens verify`` report them.
    """
    if spec is None:
        return m, [f"methodology {m.name!r} was registered without a spec"]
    if spec.methodology != m.name:
        raise PluginError(f"spec is for {spec.methodology!r}, not for {m.name!r}")
    errors: list[str] = []
    merged = []
    for ind in m.indicators:
        entry = spec.indicator(ind.id)
        if entry is None:
            errors.append(f"indicator {ind.id!r} has no spec entry")
            merged.append(ind)
            continue
        update: dict[str, Any] = {}
        for name in _FROM_SPEC:
            ours, theirs = getattr(ind, name), getattr(entry, name)
            if name in ind.model_fields_set and ours != theirs:
                raise PluginError(
                    f"indicator {ind.id!r}: {name} is {ours!r} in code but {theirs!r} in the spec"
                )
            update[name] = theirs
        # the title and definition people read are the spec's; code may repeat them
        for name, theirs in (("title", entry.title.en), ("description", entry.definition)):
            ours = getattr(ind, name)
            if (
                name in ind.model_fields_set
                and ours
                and " ".join(ours.split()) != " ".join(theirs.split())
            ):
                raise PluginError(
                    f"indicator {ind.id!r}: {name} is {ours!r} in code but {theirs!r} in the spec"
                )
        update["title"] = entry.title.en or ind.title
        update["description"] = entry.definition or ind.description
        merged.append(Indicator.model_validate({**ind.model_dump(), **update}))
    ids = {i.id for i in m.indicators}
    errors += [
        f"spec entry {e.id!r} has no registered indicator"
        for e in spec.indicators
        if e.id not in ids
    ]
    errors += _reference_errors(spec)
    defaults = m.parameters().model_dump(mode="json")
    errors += _parameter_errors(spec, set(defaults))
    errors += _value_errors(spec, defaults)
    errors += _joint_errors(spec, m.parameters, defaults)
    for name, value in defaults.items():
        p = spec.parameters.get(name)
        if p is None:
            errors.append(f"parameter {name!r} has no spec entry (the source of its default)")
        elif p.default != value:
            errors.append(f"parameter {name!r}: default {value!r} in code, {p.default!r} in spec")
    errors += [
        f"spec parameter {n!r} is not a parameter of {m.name!r}"
        for n in spec.parameters
        if n not in defaults
    ]
    return m.model_copy(update={"indicators": tuple(merged)}), errors


def _parameter_errors(spec: MethodologySpec, known: set[str]) -> list[str]:
    """Parameters a spec entry lists or a property names (``$buy_days``) must be the
    methodology's: ``verify`` stopped on an unknown one with an internal error."""
    from brandlens.specs.spec import parameter_refs

    named = ", ".join(sorted(known)) or "none"
    errors = []
    for ind in spec.indicators:
        for name in ind.parameters:
            if name not in known:
                errors.append(f"{ind.id}: parameters names {name!r}, not a parameter ({named})")
        for name, joint in ind.joint_parameters.items():
            if name not in ind.parameters:
                errors.append(f"{ind.id}: joint_parameters names {name!r}, not in its parameters")
            for other in joint.with_:
                if other not in known or other == name:
                    why = "the parameter itself" if other == name else f"not a parameter ({named})"
                    errors.append(
                        f"{ind.id}: joint_parameters {name!r} moves {other!r} with it, {why}"
                    )
        for p in ind.properties:
            for name in sorted(parameter_refs(p) - known):
                errors.append(
                    f"{ind.id}: {p.kind} names ${name}, not a parameter ({named}); "
                    "verify skips that property"
                )
    return errors


def _joint_errors(
    spec: MethodologySpec, model: type[BaseModel], defaults: dict[str, Any]
) -> list[str]:
    """A joint parameter's ``with`` must be parameters the model takes: ``verify`` moves
    the parameter there."""
    from pydantic import ValidationError

    errors = []
    for ind in spec.indicators:
        for name, joint in ind.joint_parameters.items():
            if set(joint.with_) - set(defaults) or name in joint.with_:
                continue  # said by _parameter_errors
            try:
                model.model_validate({**defaults, **joint.with_})
            except ValidationError as e:
                first = e.errors()[0]
                field = ".".join(map(str, first["loc"]))
                errors.append(
                    f"{ind.id}: joint_parameters {name!r}: the model refuses {field} "
                    f"= {joint.with_.get(field)!r} ({first['msg']})"
                )
    return errors


def _value_errors(spec: MethodologySpec, defaults: dict[str, Any]) -> list[str]:
    """Properties that cannot use their ``$parameter``'s default: a ``reads_only``
    narrowing needs a list its field can hold (``verify`` stopped on a number and read a
    text as its letters), a ``threshold`` a whole N (and W) in range."""
    from brandlens.specs.spec import threshold_errors, where_parameter_errors

    errors = []
    for ind in spec.indicators:
        for p in ind.properties:
            said = [f"narrows {e}" for e in where_parameter_errors(p, defaults)]
            said += threshold_errors(p, defaults)
            errors += [f"{ind.id}: {p.kind} {e}; verify skips that property" for e in said]
    return errors


def _reference_errors(spec: MethodologySpec) -> list[str]:
    """Properties that name other indicators must name real ones, with a key when needed."""
    import fnmatch
    import re

    keyed = {i.id: i for i in spec.indicators}
    errors = []
    for ind in spec.indicators:
        for p in ind.properties:
            glob = getattr(p, "keys", "*") if p.kind in ("monotone", "threshold") else "*"
            if glob != "*" and ind.keys and not fnmatch.filter(ind.keys, glob):
                errors.append(
                    f"{ind.id}: {p.kind} keys {glob!r} match none of its keys "
                    f"({', '.join(ind.keys)})"
                )
            if p.kind == "partition":
                for ref in (p.parts, p.total):
                    if isinstance(ref, str) and ref not in keyed:
                        errors.append(f"{ind.id}: partition names unknown indicator {ref!r}")
                total = keyed.get(p.total) if isinstance(p.total, str) else None
                if total is not None and total.dimension and p.total_key is None:
                    errors.append(
                        f"{ind.id}: partition total {p.total!r} has a dimension; give total_key"
                    )
            if p.kind == "identity":
                for ref in re.findall(r"\b([a-z][a-z0-9_]*\.[a-z0-9_]+)\b", p.expr):
                    if ref not in keyed:
                        errors.append(f"{ind.id}: identity names unknown indicator {ref!r}")
    return errors


def check_methodology(
    m: Methodology, plugin: str, spec: MethodologySpec | None = None
) -> CheckedMethodology:
    """Validate a declaration; raise PluginError naming the offending part."""
    m, spec_errors = apply_spec(m, spec)
    where = f"methodology {m.name!r}"
    param_names = set(m.parameters.model_fields)
    try:
        m.parameters()
    except Exception as e:  # a parameter without default
        raise PluginError(f"{where}: every parameter needs a default ({e})") from None
    clash = param_names & set(ENGINE_PARAMETERS)
    if clash:
        raise PluginError(f"{where}: parameter name(s) reserved by the engine: {sorted(clash)}")
    own = [r.name for r in m.relations] + [lad.name for lad in m.ladders]
    dupes = {n for n in own if own.count(n) > 1} | (set(own) & set(CANONICAL_VIEWS))
    if dupes:
        raise PluginError(f"{where}: relation name(s) clash: {', '.join(sorted(dupes))}")
    known_params = param_names | set(ENGINE_PARAMETERS)
    for lad in m.ladders:
        missing = lad.parameter_refs() - param_names
        if missing:
            raise PluginError(
                f"{where}: ladder {lad.name!r} references unknown parameter(s) "
                f"{', '.join(sorted(missing))}"
            )
    allowed = set(CANONICAL_VIEWS) | set(own)
    snapshot_sql: dict[str, CheckedSQL] = {}
    for lad in m.ladders:
        if lad.snapshots_sql is None:
            continue
        what = f"{where}, ladder {lad.name!r} snapshots_sql"
        checked = check_query(lad.snapshots_sql, set(CANONICAL_VIEWS), what)
        _check_params(checked, known_params, what)
        if checked.output_columns is None:  # `*` could be any number of columns
            raise PluginError(f"{what}: must name its one column (dates), not select *")
        if len(checked.output_columns) != 1:
            raise PluginError(f"{what}: must return one column (dates)")
        snapshot_sql[lad.name] = checked
    relation_sql: dict[str, CheckedSQL] = {}
    for rel in m.relations:
        what = f"{where}, relation {rel.name!r}"
        checked = check_query(rel.sql, allowed - {rel.name}, what)
        undeclared = (checked.tables & set(own)) - set(rel.depends_on)
        if undeclared:
            raise PluginError(
                f"{what}: reads {', '.join(sorted(undeclared))} without declaring depends_on"
            )
        unknown = set(rel.depends_on) - set(own)
        if unknown:
            raise PluginError(f"{what}: depends on unknown relation(s) {sorted(unknown)}")
        _check_params(checked, known_params, what)
        relation_sql[rel.name] = checked
    _check_acyclic(m, where)
    indicator_sql: dict[str, CheckedSQL] = {}
    seen: set[str] = set()
    for ind in m.indicators:
        what = f"indicator {ind.id!r}"
        if ind.methodology != m.name:
            raise PluginError(f"{what}: id must start with '{m.name}.'")
        if ind.id in seen:
            raise PluginError(f"{what}: registered twice")
        seen.add(ind.id)
        if ind.unit is None or not ind.title:
            if spec is None:
                given = "; no spec came with it: register(m, spec=...)"
            elif spec.indicator(ind.id) is None:
                given = f"; the spec has no entry for it: add one under indicators (id: {ind.id})"
            else:
                given = ""
            raise PluginError(f"{what}: needs a title and a unit (in code or in the spec){given}")
        for req in ind.requires:
            if not re.fullmatch(r"[a-z_]+\.[a-z_]+", req):
                raise PluginError(f"{what}: requires {req!r} must be 'table.column'")
        if ind.sql is not None:
            checked = check_query(ind.sql, allowed, what)
            _check_params(checked, known_params, what)
            if checked.output_columns is not None:
                needed = {"brand", "value"} | ({"key"} if ind.dimension else set())
                missing = needed - set(checked.output_columns)
                if missing:
                    raise PluginError(
                        f"{what}: SQL must return column(s) {', '.join(sorted(missing))}"
                    )
            indicator_sql[ind.id] = checked
    entity_sql = _check_entities(m, allowed, known_params, where)
    return CheckedMethodology(
        m, relation_sql, indicator_sql, plugin, spec, tuple(spec_errors), entity_sql, snapshot_sql
    )


def _check_entities(
    m: Methodology, allowed: set[str], known_params: set[str], where: str
) -> dict[str, CheckedSQL]:
    """Entity tables: unique names, SQL under the indicator rules, brand and key returned."""
    out: dict[str, CheckedSQL] = {}
    own = {r.name for r in m.relations} | {lad.name for lad in m.ladders}
    for table in m.entities:
        what = f"{where}, entity table {table.name!r}"
        if table.name in out:
            raise PluginError(f"{what}: declared twice")
        if table.relation is not None and table.relation not in own:
            raise PluginError(f"{what}: relation {table.relation!r} is not one of its relations")
        checked = check_query(table.query, allowed, what)
        _check_params(checked, known_params, what)
        columns = checked.output_columns
        if columns is None and table.relation in {r.name for r in m.relations}:
            rel = next(r for r in m.relations if r.name == table.relation)
            columns = check_query(rel.sql, allowed - {rel.name}, what).output_columns
        elif columns is None and table.relation is not None:
            columns = LADDER_COLUMNS
        if columns is not None:
            needed = {"brand", *table.key, *(c for c, _ in table.order_columns())}
            missing = needed - set(columns)
            if missing:
                raise PluginError(f"{what}: rows lack column(s) {', '.join(sorted(missing))}")
        out[table.name] = checked
    return out


def _check_params(checked: CheckedSQL, known: set[str], what: str) -> None:
    unknown = checked.parameters - known
    if unknown:
        raise PluginError(
            f"{what}: SQL uses unknown parameter(s) {', '.join('$' + p for p in sorted(unknown))}"
        )


def _check_acyclic(m: Methodology, where: str) -> None:
    deps = {r.name: set(r.depends_on) for r in m.relations}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise PluginError(f"{where}: relations depend on each other in a cycle: {[*path, n]}")
        state[n] = 1
        for d in sorted(deps.get(n, ())):
            visit(d, [*path, n])
        state[n] = 2

    for n in sorted(deps):
        visit(n, [])
