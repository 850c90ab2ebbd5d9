"""Static checks of plugin SQL, done once at registration with SQLGlot.

Plugin SQL must be a single read-only query (SELECT, optionally WITH / set
operations) that reads only the canonical views and the relations its
methodology declares, and takes values only as named parameters (``$name``).
The engine additionally runs plugin SQL with DuckDB's external access disabled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from brandlens.errors import PluginError

# Table functions that read files, the network or the environment.
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_text",
        "read_blob",
        "glob",
        "getenv",
        "query",
        "query_table",
        "sniff_csv",
        "read_xlsx",
        "delta_scan",
        "iceberg_scan",
        "sqlite_scan",
        "postgres_scan",
    }
)


@dataclass(frozen=True)
class CheckedSQL:
    """What a query reads and which named parameters it takes."""

    tables: frozenset[str]
    parameters: frozenset[str]
    output_columns: tuple[str, ...] | None  # None when it selects ``*``


@cache
def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted through SQLGlot (never an f-string)."""
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def check_query(sql: str, allowed_tables: Iterable[str], what: str) -> CheckedSQL:
    """Parse ``sql`` and enforce the plugin-SQL rules; raise PluginError naming ``what``."""
    return _check(sql, frozenset(allowed_tables), what)


@cache
def _check(sql: str, allowed: frozenset[str], what: str) -> CheckedSQL:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError
    from sqlglot.optimizer.scope import traverse_scope

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as e:
        first = str(e).splitlines()[0]
        raise PluginError(f"{what}: SQL does not parse: {first}") from None
    if len(statements) != 1:
        raise PluginError(f"{what}: SQL must be exactly one statement, got {len(statements)}")
    stmt = statements[0]
    if not isinstance(stmt, exp.Query):
        raise PluginError(f"{what}: only SELECT/WITH queries are allowed, got {stmt.key.upper()}")
    if any(isinstance(node, exp.Into) for node in stmt.walk()):
        raise PluginError(f"{what}: SELECT ... INTO is not allowed (plugin SQL is read-only)")

    for table in stmt.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            if isinstance(table.this, exp.GenerateSeries):
                continue
            raise PluginError(f"{what}: table function {table.this.sql('duckdb')!r} is not allowed")
        if table.args.get("db") or table.args.get("catalog"):
            raise PluginError(
                f"{what}: qualified table {table.sql('duckdb')!r} is not allowed; "
                "use the bare names of canonical views and declared relations"
            )
    tables: set[str] = set()
    try:  # resolve every name in its own scope: a CTE only shadows where it is visible
        scopes = list(traverse_scope(stmt))
    except Exception as e:
        raise PluginError(f"{what}: cannot resolve table references ({e})") from None
    for scope in scopes:
        for table in scope.tables:
            if not isinstance(table.this, exp.Identifier) or table.name in scope.cte_sources:
                continue
            if table.name not in allowed:
                raise PluginError(
                    f"{what}: reads {table.name!r}, which is neither a canonical view nor a "
                    f"declared relation (allowed: {', '.join(sorted(allowed))})"
                )
            tables.add(table.name)
    for func in stmt.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in _FORBIDDEN_FUNCTIONS:
            raise PluginError(f"{what}: function {name}() is not allowed in plugin SQL")
    params: set[str] = set()
    for ph in stmt.find_all(exp.Placeholder):
        if not ph.name or ph.name == "?":
            raise PluginError(f"{what}: use named parameters ($name), not positional ones")
        params.add(ph.name)
    selects = tuple(stmt.named_selects)
    return CheckedSQL(
        tables=frozenset(tables),
        parameters=frozenset(params),
        output_columns=None if "*" in selects else selects,
    )


def check_expression(sql: str, allowed_columns: Iterable[str], what: str) -> frozenset[str]:
    """Check a scalar SQL expression (mapping ``derive``); return the columns it reads."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        node = sqlglot.parse_one(sql, read="duckdb")
    except ParseError as e:
        raise PluginError(f"{what}: expression does not parse: {str(e).splitlines()[0]}") from None
    allowed = set(allowed_columns)
    for bad in (exp.Query, exp.Table, exp.Placeholder):
        if node.find(bad) is not None:
            raise PluginError(f"{what}: only a scalar expression over source columns is allowed")
    for func in node.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in _FORBIDDEN_FUNCTIONS:
            raise PluginError(f"{what}: function {name}() is not allowed")
    cols = {c.name for c in node.find_all(exp.Column)}
    unknown = cols - allowed
    if unknown:
        raise PluginError(
            f"{what}: unknown source column(s) {', '.join(sorted(unknown))} "
            f"(available: {', '.join(sorted(allowed))})"
        )
    return frozenset(cols)
