"""Plugin SQL (DuckDB dialect) in another engine's dialect, through SQLGlot's syntax tree.

Plugins write SQL once, for DuckDB. To run it elsewhere the core parses it, renames
the tables it reads, optionally replaces ``$name`` parameters by typed literals, and
rewrites the few DuckDB constructs a target lacks before SQLGlot writes the target
dialect:

- ``WITH x AS MATERIALIZED (...)``: the hint is dropped (a plan hint, not a meaning);
- ``GROUP BY ALL`` / ``ORDER BY ALL`` where the target lacks them: the projection's
  non-aggregate expressions / every output position;
- ``date − date`` (whole days in DuckDB) as ``DATEDIFF`` by days;
- ``date ± integer`` where the target has no such arithmetic: ``DATE_ADD``/``DATE_SUB``;
- ``a / b`` as ``CAST(a AS DOUBLE) / b`` and ``avg(x)`` as
  ``CAST(sum(x) AS DOUBLE) / count(x)``: DuckDB divides and averages in floating point
  over exact sums (decimal or integer operands alike), many targets keep decimals at a
  fixed scale;
- ``median(x)`` of numbers on Spark and Postgres as DuckDB takes it, the two middle
  values' sum halved, ``(lo + hi) / 2`` in floating point (lo and hi each a
  ``percentile_disc(0.5)``, of x and of −x): their own medians interpolate as
  ``lo + (hi − lo) · 0.5``, a different double for about one pair in seven;
- ``least``/``greatest`` skip NULL arguments in DuckDB (and Spark, Postgres); Trino,
  BigQuery, Hive and older ClickHouse return NULL when any argument is NULL, so there
  each argument is ``coalesce(it, the others...)``, which leaves the extreme unchanged;
- on Postgres, text is ordered and compared byte by byte, as DuckDB and Spark do
  (``COLLATE "C"`` on text keys of ``ORDER BY``, ``min``/``max`` and comparisons): a
  database's linguistic collation put ``alpha`` before ``Zeta`` and broke ties otherwise;
- ``sum(x ORDER BY y)`` (DuckDB orders an aggregate's input, e.g. for reproducible
  floating-point sums) without the order where the target has no ordered aggregates,
  and ``list_sum(list(x …))`` as ``sum(x)``.

Types come from SQLGlot's type annotation over the schema of the tables read (the
canonical tables, and a relation's columns as the engine reports them). Where a type
is unknown, a side counts as a date when it is a ``CAST(… AS DATE)``, a column whose
name is ``local_date`` or ends in ``_date``, or such an expression in parentheses or
plus/minus days.

A construct SQLGlot cannot write for the target raises :class:`NotPortable` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from brandlens.errors import PluginError, first_line

DIALECTS: tuple[str, ...] = (
    "duckdb",
    "spark",
    "trino",
    "hive",
    "clickhouse",
    "bigquery",
    "postgres",
)
"""Targets ``brandlens sql`` writes and the tests snapshot."""

_NO_GROUP_BY_ALL = {"trino", "hive", "postgres"}
_NO_ORDER_BY_ALL = {"trino", "hive", "postgres", "bigquery"}
_NO_DATE_INT_ARITHMETIC = {"trino", "hive", "bigquery"}


class NotPortable(PluginError):
    """Plugin SQL that SQLGlot cannot write in the target dialect."""


def parse(sql: str) -> Any:
    """One DuckDB statement as a SQLGlot expression."""
    import sqlglot

    return sqlglot.parse_one(sql, read="duckdb")


def rename_tables(tree: Any, names: Mapping[str, str]) -> Any:
    """Tables read under ``names`` (unqualified or in schema ``main``) get their new name.

    CTE names shadow tables: a query's own ``WITH buyers AS`` is left alone.
    """
    from sqlglot import exp

    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def rename(node: Any) -> Any:
        if isinstance(node, exp.Table) and not node.args.get("catalog"):
            db = node.args.get("db")
            if (db is None or db.name == "main") and node.name in names:
                if db is None and node.name in ctes:
                    return node
                alias = node.args.get("alias")
                new = exp.to_table(names[node.name])
                new.set("alias", alias)
                return new
            if db is not None and db.name == "main":  # the run's tables are unqualified
                new = exp.to_table(node.name)
                new.set("alias", node.args.get("alias"))
                return new
        return node

    return tree.transform(rename)


def literal(value: Any) -> Any:
    """A Python value as a typed SQL literal (dates as ``CAST('…' AS DATE)``)."""
    from sqlglot import exp

    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.Literal.number(repr(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"cannot write {type(value).__name__} as a SQL literal")


def inline_parameters(tree: Any, binds: Mapping[str, Any]) -> Any:
    """Replace every ``$name`` by the typed literal of ``binds[name]``."""
    from sqlglot import exp

    def inline(node: Any) -> Any:
        if isinstance(node, exp.Placeholder) and node.name in binds:
            return literal(binds[node.name])
        if isinstance(node, exp.Parameter):
            name = node.this.name if isinstance(node.this, exp.Expression) else str(node.this)
            if name in binds:
                return literal(binds[name])
        return node

    return tree.transform(inline)


def type_dates(tree: Any, binds: Mapping[str, Any]) -> Any:
    """``$name`` bound to a date as ``CAST($name AS DATE)``, so its arithmetic is typed."""
    from sqlglot import exp

    def cast(node: Any) -> Any:
        if isinstance(node, exp.Placeholder) and isinstance(binds.get(node.name), date):
            parent = node.parent
            if not (isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.DATE)):
                return exp.cast(node.copy(), "DATE")
        return node

    return tree.transform(cast)


def _cast_outside_generator(tree: Any) -> Any:
    """``CAST(unnest(list) AS T)`` as ``unnest(CAST(list AS T[]))``: Spark and others take
    no generator inside an expression."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Unnest | exp.Explode):
            gen = node.this
            inner = gen.expressions[0] if isinstance(gen, exp.Unnest) else gen.this
            array = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[node.to], nested=True)
            cast = exp.Cast(this=inner, to=array)
            if isinstance(gen, exp.Unnest):
                return exp.Unnest(expressions=[cast])
            return exp.Explode(this=cast)
        return node

    return tree.transform(rewrite)


def _is_date(node: Any) -> bool:
    from sqlglot import exp

    known = getattr(node, "type", None)
    if known is not None and not known.is_type(exp.DataType.Type.UNKNOWN):
        return known.is_type(exp.DataType.Type.DATE)
    if isinstance(node, exp.Paren):
        return _is_date(node.this)
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DATE)
    if isinstance(node, exp.Column):
        return node.name == "local_date" or node.name.endswith("_date")
    if isinstance(node, exp.DateAdd | exp.DateSub):
        return True
    if isinstance(node, exp.Sub | exp.Add):
        return _is_date(node.this) and not _is_date(node.expression)
    return False


def _date_arithmetic(tree: Any) -> Any:
    """``date - n`` / ``date + n`` (n days) as ``DATE_SUB``/``DATE_ADD``."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        date_minus_days = _is_date(node.this) and not _is_date(node.expression)
        if isinstance(node, exp.Sub | exp.Add) and date_minus_days:
            kind = exp.DateSub if isinstance(node, exp.Sub) else exp.DateAdd
            return kind(this=node.this, expression=node.expression, unit=exp.var("DAY"))
        return node

    return tree.transform(rewrite)


def _date_differences(tree: Any) -> Any:
    """``date - date`` (a whole number of days in DuckDB) as a day difference."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Sub) and _is_date(node.this) and _is_date(node.expression):
            return exp.DateDiff(this=node.this, expression=node.expression, unit=exp.var("DAY"))
        return node

    return tree.transform(rewrite)


def _float_division(tree: Any) -> Any:
    """``a / b`` divides in floating point, as DuckDB's ``/`` does."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Div) and not isinstance(node.this, exp.Cast):
            return exp.Div(this=exp.cast(node.this, "DOUBLE"), expression=node.expression)
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.Avg):
            return _exact_mean(node.this.this, node.expression)
        if isinstance(node, exp.Avg) and not isinstance(node.parent, exp.Filter | exp.Window):
            return _exact_mean(node.this, None)
        return node

    return tree.transform(rewrite)


_DIVIDING_FUNCTIONS = {"fdiv", "fmod", "divide"}
"""DuckDB's functions that divide by their second argument (``mod()`` is ``%`` to SQLGlot)."""


def null_division(tree: Any) -> Any:
    """Every ``/``, ``//``, ``%``, ``fdiv``, ``fmod`` and ``divide`` by a divisor that may be
    zero divides by ``NULLIF(divisor, 0)``: x / 0 is NULL, as in a run on either engine
    (docs/engines.md), in any warehouse and whatever its settings (IEEE ``inf`` on DuckDB
    2.0, an error on Postgres, BigQuery, Trino and Spark in ANSI mode). Divisors that are
    a non-zero number or already a ``NULLIF(…, 0)`` are kept as written."""
    from sqlglot import exp

    def zero(node: Any) -> bool:
        return isinstance(node, exp.Literal) and node.is_number and float(node.this) == 0

    def safe(divisor: Any) -> bool:
        inner = divisor.unnest()
        if isinstance(inner, exp.Neg):
            inner = inner.this.unnest()
        if isinstance(inner, exp.Literal) and inner.is_number:
            return float(inner.this) != 0
        return isinstance(inner, exp.Nullif) and zero(inner.expression)

    def guarded(divisor: Any) -> Any:
        return exp.Nullif(this=divisor.unnest().copy(), expression=exp.Literal.number(0))

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Div | exp.IntDiv | exp.Mod) and not safe(node.expression):
            node.set("expression", guarded(node.expression))
        elif (
            isinstance(node, exp.Anonymous)
            and node.name.lower() in _DIVIDING_FUNCTIONS
            and len(node.expressions) == 2
            and not safe(node.expressions[1])
        ):
            node.set("expressions", [node.expressions[0], guarded(node.expressions[1])])
        return node

    return tree.transform(rewrite)


def _exact_mean(value: Any, where: Any) -> Any:
    """DuckDB's mean: the exact sum (of decimals too) over the count, in floating point."""
    from sqlglot import exp

    def filtered(agg: Any) -> Any:
        return agg if where is None else exp.Filter(this=agg, expression=where.copy())

    total = filtered(exp.Sum(this=value.copy()))
    count = filtered(exp.Count(this=value.copy()))
    return exp.Div(this=exp.cast(total, "DOUBLE"), expression=count)


_EXACT_MEDIAN = {"spark", "postgres"}
"""Targets whose median of doubles is written as DuckDB's: both have an exact
``percentile_disc``; Trino has none, BigQuery's is a window function only."""


def _exact_median(tree: Any) -> Any:
    """``median(x)`` (with or without ``FILTER``) as DuckDB computes it: the lower and upper
    middle values, cast to DOUBLE, summed and halved. A median of decimals (DuckDB keeps
    its type), of times or of text, and a median over a window, are left as written."""
    from sqlglot import exp

    def middle(value: Any, where: Any, upper: bool) -> Any:
        key = exp.Neg(this=exp.paren(value.copy())) if upper else value.copy()
        pick = exp.WithinGroup(
            this=exp.Anonymous(this="percentile_disc", expressions=[exp.Literal.number(0.5)]),
            expression=exp.Order(expressions=[exp.Ordered(this=key)]),
        )
        if where is not None:
            pick = exp.Filter(this=pick, expression=where.copy())
        return exp.cast(exp.Neg(this=pick) if upper else pick, "DOUBLE")

    def numeric(value: Any) -> bool:
        kind = getattr(value, "type", None)
        if kind is None or kind.is_type(exp.DataType.Type.UNKNOWN):
            return True  # untyped: plugin medians are of numbers (a time would fail to cast)
        numbers = (*exp.DataType.INTEGER_TYPES, *exp.DataType.REAL_TYPES)  # REAL has DECIMAL
        return kind.is_type(*numbers) and not kind.is_type(exp.DataType.Type.DECIMAL)

    def exact(value: Any, where: Any) -> Any:
        total = exp.Add(this=middle(value, where, False), expression=middle(value, where, True))
        return exp.paren(exp.Div(this=exp.paren(total), expression=exp.Literal.number(2)))

    def rewrite(node: Any) -> Any:
        if (
            isinstance(node, exp.Filter)
            and isinstance(node.this, exp.Median)
            and numeric(node.this.this)
        ):
            return exact(node.this.this, node.expression)
        if (
            isinstance(node, exp.Median)
            and not isinstance(node.parent, exp.Filter | exp.Window)
            and numeric(node.this)
        ):
            return exact(node.this, None)
        return node

    return tree.transform(rewrite)


_NULL_PROPAGATING_EXTREMES = {"trino", "bigquery", "hive", "clickhouse"}
"""Targets whose ``least``/``greatest`` return NULL when any argument is NULL (ClickHouse
before 24.12)."""


def _null_skipping_extremes(tree: Any) -> Any:
    """``least(a, b)`` as DuckDB takes it, NULLs skipped, where the target returns NULL
    for any NULL argument: ``least(coalesce(a, b), coalesce(b, a))``. A NULL argument
    stands in for another one, which is among the arguments already; all NULL is NULL.
    SUPER's ``least(first_event, launch date or NULL)`` lost every product without a
    products row on Trino and BigQuery."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if not isinstance(node, exp.Least | exp.Greatest):
            return node
        args = [node.this, *node.expressions]
        if len(args) < 2 or all(isinstance(a, exp.Literal) for a in args):
            return node
        covered = [
            a.copy()
            if isinstance(a, exp.Literal)
            else exp.Coalesce(
                this=a.copy(), expressions=[b.copy() for j, b in enumerate(args) if j != i]
            )
            for i, a in enumerate(args)
        ]
        return type(node)(this=covered[0], expressions=covered[1:])

    return tree.transform(rewrite)


def _byte_order_text(tree: Any) -> Any:
    """Text ordered and compared as DuckDB does, byte by byte, on Postgres, whose order
    follows the database's collation (``en_US.UTF-8`` sorts ``alpha`` before ``Zeta``):
    DREAM's main category, SUPER's product category and GOAL's core groups break ties by
    text, and a different pick moved other brands' medians. Only keys typed as text
    (SQLGlot's annotation) get ``COLLATE "C"``; untyped ones are left as written."""
    from sqlglot import exp

    def text(node: Any) -> bool:
        kind = getattr(node, "type", None)
        return kind is not None and kind.is_type(*exp.DataType.TEXT_TYPES)

    def collated(node: Any) -> Any:
        return exp.Collate(this=node.copy(), expression=exp.Identifier(this="C", quoted=True))

    def rewrite(node: Any) -> Any:
        ordered = isinstance(node, exp.Ordered | exp.Min | exp.Max) and text(node.this)
        compared = isinstance(node, exp.LT | exp.LTE | exp.GT | exp.GTE) and (
            text(node.this) or text(node.expression)
        )
        if ordered or compared:
            node.set("this", collated(node.this))
        return node

    return tree.transform(rewrite)


_ORDER_FREE = ("Sum", "Count", "Min", "Max", "Avg")


def _unordered_aggregates(tree: Any) -> Any:
    """Aggregates whose result does not depend on order lose their ``ORDER BY``; the
    sum of a list aggregate becomes the sum."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if type(node).__name__ in _ORDER_FREE and isinstance(node.this, exp.Order):
            node.set("this", node.this.this)
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() == "list_sum"
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.ArrayAgg)
        ):
            inner = node.expressions[0].this
            return exp.Sum(this=inner.this if isinstance(inner, exp.Order) else inner)
        return node

    return tree.transform(rewrite)


def annotate(tree: Any, schema: Mapping[str, Mapping[str, str]]) -> Any:
    """The tree qualified and typed over ``schema`` (table -> column -> DuckDB type), or
    the tree as it was when SQLGlot cannot resolve every column."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    try:
        qualified = qualify(
            tree.copy(),
            schema=dict(schema),
            dialect="duckdb",
            quote_identifiers=False,
            expand_stars=True,
            validate_qualify_columns=False,
        )
        return annotate_types(qualified, schema=dict(schema), dialect="duckdb")
    except Exception:  # SQLGlot's optimizer is best effort; the name rules remain
        return tree


def _group_order_all(tree: Any, group: bool, order: bool) -> Any:
    """``GROUP BY ALL`` / ``ORDER BY ALL`` spelled out for targets that lack them."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        g = select.args.get("group")
        if group and g is not None and g.args.get("all"):
            keys = [
                (p.this if isinstance(p, exp.Alias) else p).copy()
                for p in select.expressions
                if not p.find(exp.AggFunc) or p.find(exp.Window)
            ]
            select.set("group", exp.Group(expressions=keys))
        o = select.args.get("order")
        if order and o is not None and _order_all(o):
            ordered = o.expressions[0]
            desc = bool(ordered.args.get("desc"))
            keys = [
                exp.Ordered(this=exp.Literal.number(i + 1), desc=desc)
                for i in range(len(select.expressions))
            ]
            select.set("order", exp.Order(expressions=keys))
    return tree


def _order_all(order: Any) -> bool:
    from sqlglot import exp

    items = order.expressions
    if len(items) != 1 or not isinstance(items[0], exp.Ordered):
        return False
    key = items[0].this
    return (isinstance(key, exp.Column) and key.name.upper() == "ALL" and not key.table) or (
        isinstance(key, exp.Var) and key.name.upper() == "ALL"
    )


def _bit_counts(tree: Any, dialect: str) -> Any:
    """``bit_count(bigint)`` (the days a ladder's day map holds) where a dialect spells it
    otherwise: Postgres counts the bits of a BIT string, Trino takes the width, ClickHouse
    calls it bitCount."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "bit_count"):
            return node
        (value,) = node.expressions
        if dialect == "postgres":
            return exp.Anonymous(this="bit_count", expressions=[exp.cast(value, "BIT(64)")])
        if dialect == "trino":
            return exp.Anonymous(this="bit_count", expressions=[value, exp.Literal.number(64)])
        return exp.Anonymous(this="bitCount", expressions=[value])

    return tree.transform(rewrite) if dialect in ("postgres", "trino", "clickhouse") else tree


def _numeric_rounding(tree: Any) -> Any:
    """``round(x, n)`` on Postgres, which rounds to n places only a NUMERIC: x goes
    through NUMERIC and back to DOUBLE PRECISION, as DuckDB's round of a double returns."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
            inner = exp.Round(this=exp.cast(node.this, "DECIMAL"), decimals=node.args["decimals"])
            return exp.cast(inner, "DOUBLE")
        return node

    return tree.transform(rewrite)


def _series_as_set(tree: Any) -> Any:
    """``unnest(range(a, b, s))`` on Postgres, whose ``generate_series`` is already a set
    of rows, not a list: the series stands where the unnest was (a set-returning function
    in the select list, a table function in FROM), and a cast around it stays a cast of
    each row."""
    from sqlglot import exp

    def known_step(series: Any) -> bool:
        # SQLGlot writes range's exclusive end as end - 1, or end + 1 for a negative
        # literal step; a computed step's sign is unknown, so that form is left alone
        # (Postgres rejects it) rather than given rows DuckDB would not return.
        step = series.args.get("step")
        if isinstance(step, exp.Neg):
            step = step.this
        return step is None or isinstance(step, exp.Literal)

    def rewrite(node: Any) -> Any:
        # DuckDB's unnest in a select list parses as Explode; in FROM, as Unnest.
        if (
            isinstance(node, exp.Explode)
            and isinstance(node.this, exp.GenerateSeries)
            and known_step(node.this)
        ):
            return node.this
        if (
            isinstance(node, exp.Unnest)
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.GenerateSeries)
            and known_step(node.expressions[0])
            and not node.args.get("offset")
        ):
            return exp.Table(this=node.expressions[0], alias=node.args.get("alias"))
        return node

    return tree.transform(rewrite)


def _drop_materialized(tree: Any) -> Any:
    from sqlglot import exp

    for cte in tree.find_all(exp.CTE):
        if cte.args.get("materialized") is not None:
            cte.set("materialized", None)
    return tree


def to_dialect(tree: Any, dialect: str, *, pretty: bool = False) -> str:
    """The expression in ``dialect``, with the core's rewrites; NotPortable when it cannot."""
    from sqlglot.errors import ErrorLevel, UnsupportedError

    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    tree = tree.copy()
    if dialect != "duckdb":
        tree = _drop_materialized(tree)
        if dialect == "postgres":
            tree = _series_as_set(tree)
        tree = _cast_outside_generator(tree)
        tree = _unordered_aggregates(tree)
        if dialect in _EXACT_MEDIAN:
            tree = _exact_median(tree)
        if dialect in _NULL_PROPAGATING_EXTREMES:
            tree = _null_skipping_extremes(tree)
        tree = _date_differences(tree)
        tree = _bit_counts(tree, dialect)
        if dialect == "postgres":
            tree = _numeric_rounding(tree)
            tree = _byte_order_text(tree)
        tree = _float_division(tree)
        tree = _group_order_all(tree, dialect in _NO_GROUP_BY_ALL, dialect in _NO_ORDER_BY_ALL)
        if dialect in _NO_DATE_INT_ARITHMETIC:
            tree = _date_arithmetic(tree)
    try:
        return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise NotPortable(f"not portable to {dialect}: {first_line(e)}") from None
