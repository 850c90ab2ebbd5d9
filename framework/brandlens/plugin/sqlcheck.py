"""Static checks of plugin SQL, done once at registration with SQLGlot.

Plugin SQL must be a single read-only query (SELECT, optionally WITH / set
operations) that reads only the canonical views and the relations its
methodology declares, and takes values only as named parameters (``$name``).
The engine additionally runs plugin SQL with DuckDB's external access disabled.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from brandlens.errors import PluginError, first_line

# Functions that read files, the network, the environment or the session's settings.
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
        "current_setting",  # settings and session variables: paths such as temp_directory
        "getvariable",
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
    return _quoted("identifier", name)


@cache
def quote_string(text: str) -> str:
    """A DuckDB string literal, quoted through SQLGlot (the stage keys ladders write)."""
    return _quoted("string", text)


_QUOTE_CHAR = {"identifier": '"', "string": "'"}


def _quoted(kind: str, text: str) -> str:
    """SQLGlot's quoting of ``text``, remembered in the cache folder with the query checks.

    Importing SQLGlot and its DuckDB dialect costs about a tenth of a second, and a
    command that only quotes names it has quoted before need not pay it. A remembered
    form is used only when it reads back as exactly ``text``, so a damaged or edited
    cache file can cost time but never change a query.
    """
    key = f"{kind}:{text}"
    known = _passed().get(key)
    if isinstance(known, str) and _reads_back(known, text, _QUOTE_CHAR[kind]):
        return known
    from sqlglot import exp

    if kind == "identifier":
        out = exp.to_identifier(text, quoted=True).sql(dialect="duckdb")
    else:
        out = exp.Literal.string(text).sql(dialect="duckdb")
    _store(key, out)
    return out


def _reads_back(quoted: str, text: str, q: str) -> bool:
    """Whether ``quoted`` is ``text`` between quotes ``q`` in DuckDB's rule: a quote
    inside is doubled, and nothing else (no backslash) escapes."""
    inner = quoted[1:-1]
    return (
        len(quoted) >= 2
        and quoted[0] == q
        and quoted[-1] == q
        and q not in inner.replace(q + q, "")
        and inner.replace(q + q, q) == text
    )


def used_binds(sql: str, binds: dict[str, Any]) -> dict[str, Any]:
    """The bound parameters ``sql`` names (DuckDB rejects unused ones)."""
    import re

    named = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
    return {k: v for k, v in binds.items() if k in named}


def check_query(sql: str, allowed_tables: Iterable[str], what: str) -> CheckedSQL:
    """Parse ``sql`` and enforce the plugin-SQL rules; raise PluginError naming ``what``.

    A query that passed before (same text, same allowed tables, same SQLGlot and
    brandlens versions, same ``CHECK_RULES``) is not parsed again: passes are remembered
    in the cache folder, which takes about half a second off every command. Failures are
    never remembered. A remembered pass is trusted as the user's own cache folder is
    (like the installed plugins); one not shaped as this module writes it counts as
    never seen.
    """
    allowed = frozenset(allowed_tables)
    key = _memo_key(sql, allowed)
    known = _checked_entry(_passed().get(key))
    if known is not None:
        return known
    checked = _check(sql, allowed, what)
    _remember(key, checked)
    return checked


_PASSED: dict[str, Any] = {}
_loaded = False  # the memo file has been read into _PASSED
_unsaved = False  # something new to write when the process ends
_keep_nothing = False
_LOCK = threading.Lock()


def keep_nothing() -> None:
    """Write nothing to the cache folder from now on in this process (``--no-cache``).

    Checks and quoting are still remembered in memory for the process's own use.
    """
    global _keep_nothing
    _keep_nothing = True


@cache
def _sqlglot_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sqlglot")
    except PackageNotFoundError:  # SQLGlot on the path without metadata (a vendored copy)
        import sqlglot

        return str(sqlglot.__version__)


_MEMO_PREFIX = "sqlcheck-"

CHECK_RULES = 3
"""The edition of the rules below, in the memo's file name: raised whenever a rule is
added or tightened, so that a pass remembered under older rules is checked again
(2: ``:name`` parameters refused; 3: ``$1``, current_setting and getvariable refused)."""


def _memo_file() -> Path | None:
    from brandlens import __version__
    from brandlens.data.store import cache_dir, cache_enabled

    if not cache_enabled():
        return None
    name = f"{_MEMO_PREFIX}{__version__}-rules{CHECK_RULES}-sqlglot{_sqlglot_version()}.json"
    return cache_dir() / name


def memo_files(folder: Path) -> list[Path]:
    """The files of remembered checks in a cache folder (one per brandlens and SQLGlot
    version and edition of the rules): what a process that ran there learned about the
    plugins' SQL."""
    return sorted(folder.glob(f"{_MEMO_PREFIX}*.json"))


def _memo_key(sql: str, allowed: frozenset[str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps([sql, sorted(allowed)]).encode()).hexdigest()


def _read_memo(path: Path | None) -> dict[str, Any]:
    if path is not None:
        # a damaged memo is a cache miss: never an error (JSON nested past Python's stack
        # raised RecursionError in every command, --no-cache too)
        with contextlib.suppress(OSError, ValueError, RecursionError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
    return {}


def _passed() -> dict[str, Any]:
    global _loaded
    if not _loaded:
        with _LOCK:
            if not _loaded:
                _PASSED.update(_read_memo(_memo_file()))
                _loaded = True
    return _PASSED


def _remember(key: str, checked: CheckedSQL) -> None:
    _store(
        key,
        {
            "tables": sorted(checked.tables),
            "parameters": sorted(checked.parameters),
            "columns": None if checked.output_columns is None else list(checked.output_columns),
        },
    )


def _store(key: str, value: Any) -> None:
    """Remember in memory now; written once, when the process ends (see ``_save``)."""
    global _unsaved
    with _LOCK:
        _PASSED[key] = value
        if not _unsaved:
            import atexit

            _unsaved = True
            atexit.register(_save)


def _save() -> None:
    """Merge what this process learned into the memo file (unless told to keep nothing)."""
    path = _memo_file()
    if path is None or _keep_nothing:
        return
    from brandlens.data.store import PRIVATE_FILE, PRIVATE_FOLDER
    from brandlens.fileio import atomic_write_text

    with contextlib.suppress(Exception):  # a cache that cannot be written is no error
        merged = {**_read_memo(path), **_PASSED}  # keep what other processes wrote meanwhile
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        atomic_write_text(path, json.dumps(merged, sort_keys=True), mode=PRIVATE_FILE)


def _checked_entry(known: Any) -> CheckedSQL | None:
    """A remembered check, if it has the shape this module writes (else a cache miss)."""

    def names(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(x, str) for x in v)

    if not (isinstance(known, dict) and names(known.get("tables"))):
        return None
    if not names(known.get("parameters")):
        return None
    columns = known.get("columns")
    if columns is not None and not names(columns):
        return None
    return CheckedSQL(
        tables=frozenset(known["tables"]),
        parameters=frozenset(known["parameters"]),
        output_columns=None if columns is None else tuple(columns),
    )


_MISSING_PART = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>")


def parse_message(error: Exception) -> str:
    """SQLGlot's parse error in a user's words: its "Required keyword: 'expression'
    missing for <class 'sqlglot.expressions.core.Add'>" names its own classes, and says
    that an operand is missing (``price +``)."""
    text = first_line(error)
    parts = {"this": "first operand", "expression": "second operand"}
    return _MISSING_PART.sub(
        lambda m: f"incomplete {m.group(2)}: its {parts.get(m.group(1), m.group(1))} is missing",
        text,
    )


@cache
def _check(sql: str, allowed: frozenset[str], what: str) -> CheckedSQL:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError
    from sqlglot.optimizer.scope import traverse_scope

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as e:  # SQL the tokenizer cannot read is no SQL either
        raise PluginError(f"{what}: SQL does not parse: {parse_message(e)}") from None
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
    named = 0
    for ph in stmt.find_all(exp.Placeholder):
        if not ph.name or ph.name == "?" or ph.name.isdigit():  # ?, $1: positional
            raise PluginError(f"{what}: use named parameters ($name), not positional ones")
        params.add(ph.name)
        named += 1
    if named > _dollar_parameters(sql):  # SQLGlot reads :name as $name; DuckDB does not
        raise PluginError(f"{what}: write named parameters as $name (DuckDB reads no :name)")
    selects = tuple(stmt.named_selects)
    return CheckedSQL(
        tables=frozenset(tables),
        parameters=frozenset(params),
        output_columns=None if "*" in selects else selects,
    )


def _dollar_parameters(sql: str) -> int:
    """How many ``$`` parameters ``sql`` writes (strings and comments aside): SQLGlot
    parses ``:name`` into the same node as ``$name``, so only the text tells them apart."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.tokens import TokenType

    return sum(t.token_type == TokenType.PARAMETER for t in DuckDB().tokenize(sql))


@dataclass(frozen=True)
class CheckedExpression:
    """A mapping derive that passed the checks: the SQL to run and the columns it reads.

    ``strict_sql`` is the same expression with its forgiving forms made strict
    (TRY_CAST -> CAST, try_strptime -> strptime, TRY(x) -> x) and blank text
    sources read as NULL: it raises exactly where a value failed to convert, which
    tells a bad source value from a missing one.
    """

    sql: str
    columns: frozenset[str]
    strict_sql: str = ""
    zones: frozenset[str] = frozenset()
    """The time zones it names as literals (``timezone('Asia/Shanghai', ...)``): known or
    not is the mapping's to say, before a row is read."""


_ZONE_ARGUMENT = {"timezone": 0, "make_timestamptz": 6}
"""Functions taking a time zone, and the position of their zone argument."""


@cache
def _derive_rules() -> tuple[frozenset[type], frozenset[str]]:
    """The allow-list for derive expressions: SQLGlot node types and plain function names.

    Scalar, deterministic, row-local building blocks only: literals and source columns,
    arithmetic, comparison and logic, casts, CASE/IF, and the string, date/time and number
    functions a mapping needs. Anything else (a table, a subquery, an aggregate, a window,
    a set-returning or file function, a second statement) is refused.
    """
    from sqlglot import exp

    nodes = {
        # operands and structure
        exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
        exp.Interval, exp.Var, exp.DataType, exp.DataTypeParam, exp.Bracket, exp.Array,
        # operators
        exp.Neg, exp.Not, exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv,
        exp.Mod, exp.DPipe, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
        exp.NullSafeEQ, exp.NullSafeNEQ, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike,
        # conditionals and casts
        exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
        exp.Cast, exp.TryCast, exp.Try,
        # strings
        exp.Lower, exp.Upper, exp.Trim, exp.Concat, exp.ConcatWs, exp.Substring, exp.Replace,
        exp.RegexpReplace, exp.RegexpExtract, exp.RegexpLike, exp.SplitPart, exp.Split,
        exp.Length, exp.Left, exp.Right, exp.StrPosition, exp.Pad, exp.Reverse,
        exp.StartsWith, exp.EndsWith, exp.Contains, exp.MD5, exp.SHA2,
        # dates and times
        exp.StrToTime, exp.TimeToStr, exp.UnixToTime, exp.TimeToUnix, exp.TimestampFromParts,
        exp.DateFromParts, exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.DateAdd,
        exp.DateDiff,
        # numbers
        exp.Round, exp.Abs, exp.Floor, exp.Ceil, exp.Trunc, exp.Sign,
    }  # fmt: skip
    names = {  # DuckDB functions SQLGlot keeps as plain calls
        "try_strptime", "regexp_split_to_array", "strip_accents",
        "nfc_normalize", "list_extract", "array_extract", "list_element", "epoch_us",
        "date_part", "make_timestamptz", "timezone", "prefix", "suffix",
    }  # fmt: skip
    return frozenset(nodes), frozenset(names)


def _call_name(node: object) -> str:
    """How a function node reads in DuckDB SQL, for messages (``unnest``, not Explode)."""
    from sqlglot import exp

    assert isinstance(node, exp.Expression)
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    text = node.sql(dialect="duckdb")
    return text.split("(", 1)[0].strip().lower() if "(" in text else node.key


_ALLOWED_HINT = (
    "(a derive may use casts, CASE/IF, operators and the scalar string, date and number "
    "functions listed in docs/data.md)"
)


MAX_PAD = 1000
"""The widest lpad/rpad a derive may ask for (ids pad to tens of characters); a width
read from a column or a huge one allocated gigabytes per row, past --memory-limit."""


def _refusal(node: object, allowed_names: frozenset[str], allowed_nodes: frozenset[type]) -> str:
    """Why ``node`` may not appear in a derive expression ('' when it may)."""
    from sqlglot import exp

    assert isinstance(node, exp.Expression)
    if isinstance(node, exp.Anonymous):
        name = _call_name(node)
        if name in allowed_names:
            return ""
        return f"function {name}() is not allowed {_ALLOWED_HINT}"
    if isinstance(node, exp.Pad):  # lpad(uid, 2000000000, 'x'): gigabytes per row
        width = node.args.get("expression")
        if not (isinstance(width, exp.Literal) and width.is_int and int(width.name) <= MAX_PAD):
            return f"{_call_name(node)}() pads to a whole number up to {MAX_PAD}, written as is"
    if type(node) in allowed_nodes:
        if isinstance(node, exp.Column) and (
            node.table or not isinstance(node.this, exp.Identifier)
        ):
            return f"column {node.sql(dialect='duckdb')} must be a bare source column name"
        return ""
    if isinstance(node, exp.Star):
        return "* is not allowed: a derive gives one value per row"
    if isinstance(node, (exp.Query, exp.Subquery, exp.Table)):
        return "only a scalar expression over the source columns is allowed, not a query"
    if isinstance(node, exp.Placeholder):
        return "parameters are not allowed"
    if isinstance(node, exp.Window):
        return "window functions are not allowed: a derive is computed row by row"
    if isinstance(node, exp.AggFunc):
        return f"aggregate function {_call_name(node)}() is not allowed: one value per row"
    if isinstance(node, (exp.Explode, exp.Unnest, exp.GenerateSeries, exp.UDTF)):
        return f"set-returning function {_call_name(node)}() is not allowed: one value per row"
    if isinstance(node, exp.Func):
        return f"function {_call_name(node)}() is not allowed {_ALLOWED_HINT}"
    return f"{node.key.upper()} is not allowed: only a scalar expression over the source columns"


class UnknownColumns(PluginError):
    """An expression reads a column its source does not have: the source's problem
    (a mapping's derive naming a column of another export), not the expression's."""


def check_expression(
    sql: str, allowed_columns: Iterable[str], what: str, text_columns: Iterable[str] = ()
) -> CheckedExpression:
    """Check a mapping ``derive``: exactly one scalar expression over the row.

    Returns the expression rendered back from the checked tree: that rendering is what
    runs, so DuckDB never sees text SQLGlot could have read differently (a second
    statement, a comment that hides a closing parenthesis, a quoting trick). Its strict
    form reads the ``text_columns`` that are blank (whitespace only) as NULL.
    """
    import logging

    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    log = logging.getLogger("sqlglot")  # its fallback warnings would be a second error line
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as e:  # SQL the tokenizer cannot read is no SQL either
        raise PluginError(f"{what}: expression does not parse: {parse_message(e)}") from None
    except RecursionError:
        raise PluginError(f"{what}: expression nested too deeply to read") from None
    finally:
        log.setLevel(level)
    if len(statements) != 1:
        raise PluginError(
            f"{what}: must be exactly one expression, got {len(statements)} statements"
        )
    tree = statements[0]
    nodes, names = _derive_rules()
    for node in tree.walk():
        reason = _refusal(node, names, nodes)
        if reason:
            raise PluginError(f"{what}: {reason}")
    allowed = set(allowed_columns)
    cols = {c.name for c in tree.find_all(exp.Column)}
    unknown = cols - allowed
    if unknown:
        raise UnknownColumns(
            f"{what}: unknown source column(s) {', '.join(sorted(unknown))} "
            f"(available: {', '.join(sorted(allowed))})"
        )
    try:
        strict = _strict(tree.copy(), frozenset(text_columns))
        strict_sql = strict.sql(dialect="duckdb", identify=True, comments=False)
        sql_out = tree.sql(dialect="duckdb", identify=True, comments=False)
    except RecursionError:
        raise PluginError(f"{what}: expression nested too deeply to read") from None
    zones = frozenset(
        str(node.expressions[at].name)
        for node in tree.find_all(exp.Anonymous)
        if (at := _ZONE_ARGUMENT.get(str(node.name).lower())) is not None
        and len(node.expressions) > at
        and isinstance(node.expressions[at], exp.Literal)
        and node.expressions[at].is_string
    )
    return CheckedExpression(sql_out, frozenset(cols), strict_sql, zones)


_CONVERSION_CALLS = frozenset({"try_strptime", "strptime", "make_timestamptz"})


def _strict(tree: object, text_columns: frozenset[str]) -> object:
    """``tree`` with TRY_CAST, try_strptime and TRY made strict; blank text read as NULL.

    Blank text becomes NULL only where a conversion reads it (a cast, strptime,
    to_timestamp, make_*): there it would raise, though it is a missing value.
    """
    from sqlglot import exp

    assert isinstance(tree, exp.Expression)
    conversions = (
        exp.Cast,  # TryCast too
        exp.StrToTime,
        exp.UnixToTime,
        exp.TimestampFromParts,
        exp.DateFromParts,
    )

    def converted(node: exp.Expression) -> bool:
        parent = node.parent
        while parent is not None:
            if isinstance(parent, conversions) or (
                isinstance(parent, exp.Anonymous) and str(parent.name).lower() in _CONVERSION_CALLS
            ):
                return True
            parent = parent.parent
        return False

    holder = exp.Paren(this=tree)  # so that the root can be replaced too
    blank_read = {
        id(c) for c in tree.find_all(exp.Column) if c.name in text_columns and converted(c)
    }
    for node in list(tree.walk()):  # each node once; a moved child is still visited
        if isinstance(node, exp.TryCast):
            node.replace(exp.Cast(this=node.this, to=node.args["to"]))
        elif isinstance(node, exp.Try):
            node.replace(node.this)
        elif isinstance(node, exp.Anonymous) and str(node.name).lower() == "try_strptime":
            node.replace(exp.Anonymous(this="strptime", expressions=node.expressions))
        elif isinstance(node, exp.Column) and id(node) in blank_read:
            blank = exp.func("regexp_full_match", node.copy(), exp.Literal.string(r"\s*"))
            node.replace(exp.Case(ifs=[exp.If(this=blank, true=exp.Null())], default=node.copy()))
        elif node.args.get("safe"):
            node.set("safe", None)
    return holder.this
