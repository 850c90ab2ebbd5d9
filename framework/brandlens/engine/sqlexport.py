"""``brandlens sql``: one indicator as one self-contained query in a warehouse's dialect.

The query reads only the canonical tables (``events`` with ``local_date``, ``users``,
``products``, ``targets``, ``spend``; docs/data.md) and computes the indicator's rows
(brand, [key,] value, [numerator, denominator]) exactly as ``compute`` does: the run's
``brands`` and ``members`` tables, the ladders and relations it needs (in dependency
order) and their own ``WITH`` clauses all become common table expressions, every
parameter is written as a typed literal, and every divisor that may be zero is written
``NULLIF(divisor, 0)`` (x / 0 is NULL, as in a run). Python-computed indicators (a fitted
model) have no such query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from brandlens.engine import dialects
from brandlens.engine.engines import MEMBERS_QUERY
from brandlens.errors import UsageError

_WITH = "with_"  # SQLGlot's argument name for a query's WITH clause

LAST_DATE = "(SELECT max(local_date) FROM events)"
"""``as_of`` when none is given: the last local event date, as ``compute`` defaults."""


def canonical_schema() -> dict[str, dict[str, str]]:
    """Table -> column -> DuckDB type of the canonical tables (for type annotation)."""
    from brandlens.data.schema import TABLES, columns_of

    out = {t: {c.name: c.sql_type for c in columns_of(model)} for t, model in TABLES.items()}
    out["events"]["local_date"] = "DATE"
    return out


def _hoist(tree: Any, prefix: str, ctes: list[Any]) -> Any:
    """Move the query's own ``WITH`` entries to ``ctes`` as ``<prefix>__<name>``."""
    from sqlglot import exp

    with_ = tree.args.get(_WITH)
    if with_ is None:
        return tree
    names = {c.alias_or_name: f"{prefix}__{c.alias_or_name}" for c in with_.expressions}

    def rename(node: Any) -> Any:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            new = exp.to_table(names[node.name])
            new.set(
                "alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            )
            return new
        return node

    tree = tree.transform(rename)
    for cte in tree.args[_WITH].expressions:
        ctes.append(_cte(names[cte.alias_or_name], cte.this, cte.args.get("materialized")))
    tree.set(_WITH, None)
    return tree


def _cte(name: str, body: Any, materialized: Any = None) -> Any:
    from sqlglot import exp

    return exp.CTE(
        this=body, alias=exp.TableAlias(this=exp.to_identifier(name)), materialized=materialized
    )


def _inline(sql: str, binds: Mapping[str, Any], as_of: date | None) -> Any:
    """Parse ``sql`` and write its parameters as literals (``$as_of`` as a date or the last
    event date)."""
    tree = dialects.parse(sql)
    values = {k: v for k, v in binds.items() if k != "as_of"}
    tree = dialects.inline_parameters(tree, values)
    as_of_expr = dialects.literal(as_of) if as_of is not None else dialects.parse(LAST_DATE)
    from sqlglot import exp

    def put(node: Any) -> Any:
        if isinstance(node, exp.Placeholder) and node.name == "as_of":
            return as_of_expr.copy()
        return node

    return tree.transform(put)


def indicator_sql(
    indicator: str,
    dialect: str = "duckdb",
    as_of: str | date | None = None,
    params: Mapping[str, Any] | None = None,
    brands: Iterable[str] | None = None,
    pretty: bool = True,
) -> str:
    """The complete query computing ``indicator`` in ``dialect`` (see the module docs)."""
    from sqlglot import exp

    from brandlens.engine.runs import parse_date, parse_parameters
    from brandlens.plugin.catalog import find_indicator
    from brandlens.plugin.host import registry

    if dialect.lower() not in dialects.DIALECTS:  # any case, as methodologies are
        raise UsageError(
            f"--dialect: unknown dialect {dialect!r} (available: {', '.join(dialects.DIALECTS)})"
        )
    dialect = dialect.lower()
    reg = registry()
    owner, ind = find_indicator(reg, indicator)
    if ind.sql is None:
        raise UsageError(
            f"{ind.id} is computed in Python (not one SQL query); brandlens sql covers "
            "indicators written in SQL"
        )
    day = parse_date(as_of) if as_of is not None else None
    model = parse_parameters(params or {}, [owner], reg.event_types)[owner.name]
    values = model.model_dump()
    ctes: list[Any] = []
    brand_list = sorted(set(brands)) if brands is not None else None
    if brand_list is None:
        brands_sql = "SELECT DISTINCT brand FROM events WHERE brand IS NOT NULL"
        ctes.append(_cte("brands", dialects.parse(brands_sql)))
    else:
        # no brand named: one typed NULL row filtered out, since VALUES cannot be empty
        rows = [exp.Tuple(expressions=[exp.Literal.string(b)]) for b in brand_list] or [
            exp.Tuple(expressions=[exp.cast(exp.null(), "VARCHAR")])
        ]
        values_ = exp.Values(
            expressions=rows,
            alias=exp.TableAlias(this=exp.to_identifier("b"), columns=[exp.to_identifier("brand")]),
        )
        listed = exp.select("brand").from_(values_)
        ctes.append(_cte("brands", listed if brand_list else listed.where(exp.false())))
    ctes.append(_cte("members", _inline(MEMBERS_QUERY, {}, day)))
    ladders = {lad.name: lad for lad in owner.methodology.ladders}
    relations = {r.name: r for r in owner.methodology.relations}
    for name in owner.relations_needed([ind.id]):
        if name in ladders:
            sql, binds = ladders[name].compile(values, None)
        else:
            sql, binds = relations[name].sql, values
        tree = _hoist(_inline(sql, binds, day), name, ctes)
        ctes.append(_cte(name, tree))
    main = _hoist(_inline(ind.sql, values, day), "q", ctes)
    main = dialects.rename_tables(main, {})  # drops ``main.`` qualifiers
    main.set(_WITH, exp.With(expressions=ctes))
    main = dialects.null_division(main)
    typed = dialects.annotate(main, canonical_schema())
    body = dialects.to_dialect(typed, dialect, pretty=pretty)
    header = [
        f"-- {ind.id}: {ind.title} ({owner.name}), written for {dialect} by brandlens sql",
        f"-- as of {day.isoformat() if day else 'the last local event date'}; parameters "
        + ", ".join(f"{k}={v}" for k, v in sorted(values.items())),
        "-- reads the canonical tables events (with local_date), users, products, targets, spend",
    ]
    return "\n".join(header) + "\n" + body + "\n"
