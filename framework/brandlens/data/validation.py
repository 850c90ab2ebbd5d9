"""Validation compiled from the schema into SQL, run inside DuckDB over the whole input.

Each failing row goes to the quarantine with exactly one reason code (the first
that applies, in the order of REASONS), so rows read = accepted + quarantined.

One pass per table reads the source, types every column, gives each row its reason
and writes the typed rows to the dataset store; a row's source text is kept only
when the row fails (every other row carries NULLs there, which cost nothing). The
duplicate-key check is one hash aggregate over the key. Failing rows then move to
the quarantine and are deleted from the stored table, whose rows stay in source
order. The canonical views over the stored tables are made by :mod:`brandlens.data.store`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from brandlens.data import csvread, jsonread
from brandlens.data.localtime import local_date_sql, wall_clock_binds, wall_clock_sql
from brandlens.data.schema import TABLES, ColumnSpec, columns_of, table_key
from brandlens.data.sources import (
    Source,
    TableSource,
    failed_flag,
    input_alias,
    part_counts_sql,
    read_json_by_lines,
)
from brandlens.data.vocabulary import VOCABULARY_TYPE, create_vocabulary_type
from brandlens.engine.result import ReasonCount, TableReport, ValidationReport
from brandlens.errors import DataError, first_line
from brandlens.plugin.sqlcheck import quote_ident, used_binds

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

REASONS: dict[str, str] = {
    "repeated_header": "a CSV line that repeats the header line (files joined with their "
    "headers, as cat part-*.csv does)",
    "excluded_by_mapping": "the mapping maps this event type to null (no canonical type)",
    "missing_required": "a required column (ts, user_id, event_type; key columns) is empty",
    "unknown_event_type": "event_type is not in the vocabulary (core or plugin-registered)",
    "ts_unparseable": "ts is not a timestamp DuckDB can read, or lies outside the years "
    "1900 to 2200 in UTC (a derived ts: its source value does not convert)",
    "bad_type": "a value does not parse as its column's type (integer, decimal, date), is a "
    "list, object or map, is not a finite number (NaN, infinity), or a derive cannot "
    "convert its source value",
    "missing_brand": "brand is empty on a brand-level event (purchase, refund, member_*)",
    "missing_amount": "amount is empty on a purchase or refund",
    "missing_rating": "rating is empty on a review",
    "missing_query_type": "query_type is empty on a search",
    "negative_amount": "amount is below 0",
    "rating_out_of_range": "rating is not between 1 and 5",
    "quantity_out_of_range": "quantity is below 1",
    "bad_query_type": "query_type is not brand, category or other",
    "cost_out_of_range": "spend cost is below 0",
    "list_price_out_of_range": "product list_price is below 0",
    "period_out_of_order": "a target's period_end is before its period_start",
    "duplicate_event_id": "a later row repeats the event_id of an earlier row that passed "
    "every other check",
    "duplicate_key": "a later row repeats the key of an earlier valid row of a dimension "
    "table (user_id, product_id) or of targets (brand, indicator and period)",
    "malformed_row": "a CSV line that does not parse (wrong number of fields, a quote that "
    "never closes, invalid UTF-8, longer than 2 MB), or a JSON lines line that is not one "
    "JSON object; counted by line",
}
"""Every reason code, in the order they are checked; docs/data.md lists them."""

EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 200
"""Example lines of malformed_row are cut to this many characters (the quarantine keeps all)."""
DATA_SCHEMA = "brandlens_data"
"""Schema of the stored tables, the quarantine and the dataset's metadata; never on a
plugin's search path (plugins read the canonical views in ``main``)."""
QUARANTINE_TABLE = "_quarantine"

_BLANK = r"[\s\x0B\x{A0}\x{3000}]*"
"""Whitespace-only text is a missing value: spaces, tabs, line breaks, the vertical tab
(which RE2's \\s leaves out and Java's has), and the no-break and ideographic spaces a
spreadsheet or a Chinese input method types."""
_WIDE_SPACES = ("\u00a0", "\u3000")
"""The blank characters at or above ``!`` in byte order (literal characters, not chr():
Spark's chr() takes its argument modulo 256)."""


def blank_sql(text: str) -> str:
    """Whether text is blank (empty or only the characters of ``_BLANK``); NULL stays NULL.

    Every blank string starts with a byte below ``!``, a no-break or an ideographic space
    (or is empty), so the regular expression runs only on the rare values that do: a byte
    comparison decides the rest. On 10 M events this took the blank checks of seven text
    columns from about 1.5 s to 0.3 s. A value starting with an ASCII character (below
    U+0080 in byte order) is decided by the comparisons alone: asking every value for the
    two wide spaces took six columns of 10 M events from 0.37 to 1.4 s, and 0.37 s again
    with this gate (CASE evaluates its condition's AND and OR only where still open).
    """
    wide = " OR ".join(f"starts_with({text}, '{c}')" for c in _WIDE_SPACES)
    return (
        f"(CASE WHEN {text} >= '!' AND ({text} < '\u0080' OR NOT ({wide})) THEN false "
        f"ELSE regexp_full_match({text}, '{_BLANK}') END)"
    )


TS_YEARS = (1900, 2200)
"""Timestamps outside these years (and infinities) are quarantined as ts_unparseable."""

INTEGRAL = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
"""Source types whose values are stored as they are in a text column (ids, order ids):
their text is a function of the value, so the canonical view casts them on read."""

KEYS_PER_PASS = 20_000_000
"""Rows whose keys one duplicate-check aggregate groups at most (see _mark_duplicates)."""

DIGEST = "_digest"
OCCURRENCE = "_occurrence"
"""Stored columns of a generated event_id: the row's content hash and its occurrence."""
ID_TEXT = "_id_text"
"""Stored column of a text event_id that is not the plain decimal text of a BIGINT.

Exported ids are mostly integers written as text (every id of a CSV file is text): the
store keeps such an id as the BIGINT it spells, exactly when casting that number back
gives the same text (so "007", "+7", " 7" and "7.0" stay text, in this column), and
the canonical view turns it back into the same text. A BIGINT column is four times
cheaper to write than high-cardinality text (10 M ids: 0.3 s against 1.2 s), and its
duplicates are found with a bitmap instead of a hash aggregate (0.08 s against 1.2 s)."""


def stored_type(c: ColumnSpec, src_type: str) -> str:
    """The type a canonical column is stored in: its own, or a source integer for text."""
    if c.sql_type == "VARCHAR" and src_type in INTEGRAL:
        return src_type
    return c.sql_type


def _text(src: str, src_type: str) -> str:
    """The source value as text: JSON scalars unquoted, objects and arrays NULL."""
    if src_type == "JSON":
        return (
            f"CASE WHEN json_type({src}) IN ('OBJECT', 'ARRAY') THEN NULL "
            f"ELSE json_extract_string({src}, '$') END"
        )
    return src if src_type == "VARCHAR" else f"CAST({src} AS VARCHAR)"


def _nested(src_type: str) -> bool:
    """Whether a source type holds lists, structs, maps or unions (JSON arrays, Parquet LIST)."""
    return src_type.endswith("]") or src_type.startswith(("STRUCT(", "MAP(", "UNION("))


def _typed(c: ColumnSpec, src: str, src_type: str, zoned: bool = False) -> str:
    """The stored value of a column from its source value (text or already typed).

    Nothing is rounded into validity: an integer column takes only whole numbers, a
    decimal(18,2) column only values with at most two decimals; anything else is NULL,
    which the reason CASE reports as bad_type. Timestamps are stored as naive UTC.
    A list, struct or map is never a scalar value, not even as its text: NULL too.
    ``zoned``: a time without a UTC offset is a wall-clock time in the zone ``$ts_zone``
    (the mapping's ``ts_timezone``), not in UTC.
    """
    if _nested(src_type):
        return f"CAST(NULL AS {c.sql_type})"
    text_like = src_type in ("VARCHAR", "JSON")
    value = src
    if text_like:
        t = _text(src, src_type)
        value = f"(CASE WHEN {blank_sql(t)} THEN NULL ELSE {t} END)"
    if c.sql_type == "VARCHAR":
        if text_like:
            return value
        if src_type in INTEGRAL and not (c.enum or c.vocabulary):  # ids stay numbers
            return src
        if src_type in ("DOUBLE", "FLOAT"):  # 123.0 is 123: pandas' ids with a gap
            whole = f"({src} = round({src}) AND abs({src}) < 9007199254740992)"
            return (
                f"(CASE WHEN {whole} THEN CAST(CAST({src} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({src} AS VARCHAR) END)"
            )
        return f"CAST({src} AS VARCHAR)"
    if c.sql_type == "TIMESTAMP":
        wall = src_type.startswith("TIMESTAMP") and src_type != "TIMESTAMP WITH TIME ZONE"
        if wall or src_type == "DATE":  # a date alone: its midnight
            naive = src if src_type == "TIMESTAMP" else f"TRY_CAST({src} AS TIMESTAMP)"
            bounded = f"(CASE WHEN {naive} >= $ts_lo AND {naive} < $ts_hi THEN {naive} END)"
            if not zoned:
                return bounded
            utc = wall_clock_sql(bounded)  # naive UTC already
            return f"(CASE WHEN {utc} >= $ts_lo AND {utc} < $ts_hi THEN {utc} END)"
        elif src_type == "TIMESTAMP WITH TIME ZONE":
            aware = src
        else:
            aware = text_instant(value, zoned) if text_like else _instant(value)
            aware = _no_epoch_word(value, aware) if text_like else aware
        # epoch_us of a TIMESTAMPTZ is its UTC instant: rebuilding a naive timestamp from it
        # is exact and needs no time-zone lookup.
        return (
            f"(CASE WHEN {aware} >= $tstz_lo AND {aware} < $tstz_hi "
            f"THEN make_timestamp(epoch_us({aware})) END)"
        )
    if c.sql_type in ("INTEGER", "BIGINT"):
        if text_like:  # 2.0 is whole (pandas writes it for an integer column with a gap)
            return (
                f"(CASE WHEN regexp_full_match(trim({value}), '[+-]?[0-9]+([.]0*)?') "
                f"THEN TRY_CAST(regexp_extract(trim({value}), '^[+-]?[0-9]+') "
                f"AS {c.sql_type}) END)"
            )
        if src_type in INTEGRAL:
            return f"TRY_CAST({src} AS {c.sql_type})"
        return (
            f"(CASE WHEN TRY_CAST({src} AS DOUBLE) = round(TRY_CAST({src} AS DOUBLE)) "
            f"THEN TRY_CAST({src} AS {c.sql_type}) END)"
        )
    if c.sql_type.startswith("DECIMAL"):
        # Text is compared at 18 decimals, past which a cast would round: -0.00000000001
        # is no 0.00. Written out in full, any digit other than 0 after the second decimal
        # fails however far out it is. A float is compared at 10, its binary noise below.
        exact = f"TRY_CAST({value} AS DECIMAL({'38,18' if text_like else '38,10'}))"
        check = f"{exact} = TRY_CAST({value} AS {c.sql_type})"
        if text_like:  # and 1_299.00 is DuckDB's digit grouping alone: no number elsewhere
            check += (
                f" AND NOT contains({value}, '_') AND (NOT regexp_matches({value}, "
                f"'[.][0-9]{{2}}[0-9]*[1-9]') OR contains({value}, 'e') OR contains({value}, 'E'))"
            )
        return f"(CASE WHEN {check} THEN TRY_CAST({value} AS {c.sql_type}) END)"
    if c.sql_type == "DATE" and text_like:  # a date has no year range: infinity too
        # read as a time is (text_instant): spaces trimmed, a tab or line break no date
        typed = _no_epoch_word(value, f"TRY_CAST(trim({value}) AS DATE)")
        bad = f"{value} ILIKE '%infinity%' OR {_HAS_BREAK.format(value)}"
        return f"(CASE WHEN {bad} THEN NULL ELSE {typed} END)"
    if c.sql_type == "DOUBLE":  # NaN and infinities are no target: NaN sorts above all
        number = f"TRY_CAST({value} AS DOUBLE)"
        return f"(CASE WHEN abs({number}) <= 1.7976931348623157e308 THEN {number} END)"
    return f"TRY_CAST({value} AS {c.sql_type})"


SPACED_OFFSET = "^(.*) ([+-][0-9]{2}(:?[0-9]{2})?)$"
"""A timestamp whose UTC offset follows a space (``2025-06-01 10:00:00 +0800``): Java's
``yyyy-MM-dd HH:mm:ss Z``, git's ``%ai``. DuckDB's cast reads the offset only when it is
joined to the time."""


def _no_epoch_word(text: str, typed: str) -> str:
    """``typed``, unless the text is DuckDB's special word ``epoch``, which its casts read
    as 1970-01-01 (in any case, between spaces): in an export it is no time, and Spark
    reads it as none (``infinity`` lies outside the years kept anyway)."""
    return f"(CASE WHEN {text} ILIKE '%epoch%' THEN NULL ELSE {typed} END)"


_HAS_BREAK = "(" + " OR ".join(f"contains({{0}}, chr({c}))" for c in range(9, 14)) + ")"
"""A tab, line feed, vertical tab, form feed or carriage return in the text: DuckDB's
trim() keeps them, and its cast took some as the space between a date and a zone."""


def text_instant(text: str, zoned: bool) -> str:
    """Text as an instant: in ``$ts_zone`` when ``zoned`` and the text has no offset or
    zone of its own, else as written (UTC when it has none).

    Both forms read the text the same way: spaces around it are trimmed (DuckDB's trim:
    no-break and ideographic spaces too), and a tab or a line break (also a vertical tab
    or form feed) anywhere makes it no time (a field holding one is a broken export, not
    a spelling). DuckDB's cast alone reads " 2025-06-01" but not "2025-06-01 ", and takes a
    tab between date and time, so whether the default zone was written out once decided
    a row's fate.
    """
    trimmed = f"trim({text})"
    read = _zoned_instant(trimmed) if zoned else _instant(trimmed)
    return f"(CASE WHEN {_HAS_BREAK.format(text)} THEN NULL ELSE {read} END)"


def _instant(text: str) -> str:
    """Text as an instant: DuckDB's cast, then (only for text it refused) the same cast
    with the space before a trailing numeric offset removed. COALESCE evaluates its second
    argument only for the rows whose first is NULL, so clean text pays nothing."""
    part = "regexp_extract({}, '{}', {})"
    joined = f"{part.format(text, SPACED_OFFSET, 1)} || {part.format(text, SPACED_OFFSET, 2)}"
    return (
        f"coalesce(TRY_CAST({text} AS TIMESTAMPTZ), "
        f"CASE WHEN regexp_full_match({text}, '{SPACED_OFFSET[1:-1]}') "
        f"THEN TRY_CAST({joined} AS TIMESTAMPTZ) END)"
    )


def _zoned_instant(text: str) -> str:
    """Text as an instant, a time without an offset being wall-clock time in ``$ts_zone``.

    The zone's name is appended to the text (trimmed by the caller): DuckDB reads ``2025-06-01
    20:00:00 Asia/Shanghai`` (DST gaps and folds as ``timezone()`` resolves them) but
    refuses text that already carries an offset or a zone, which then reads as written
    (:func:`_instant`). A date alone is midnight in the zone.
    """
    return (
        f"coalesce(TRY_CAST({text} || ' ' || $ts_zone AS TIMESTAMPTZ), "
        f"TRY_CAST({text} || ' 00:00:00 ' || $ts_zone AS TIMESTAMPTZ), {_instant(text)})"
    )


FITS_INTEGER = frozenset({"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"})
"""Source integer types every value of which an INTEGER column holds."""


def never_bad(c: ColumnSpec, src_type: str) -> bool:
    """Whether a present source value of this type always has a stored value.

    Then the column's bad-type check can never hold, and the reason CASE leaves it out:
    text kept as text (blank is NULL, and blank is not present), integers kept as
    they are or widened. A typed Parquet file's text and integer columns are all such;
    at 10 M events leaving them out took the pass (its write aside) from 0.57 to 0.38 s.
    """
    if c.sql_type == "VARCHAR":
        return src_type == "VARCHAR" or src_type in INTEGRAL
    return c.sql_type == "INTEGER" and src_type in FITS_INTEGER


def _present(src: str, src_type: str) -> str:
    if src_type in ("VARCHAR", "JSON"):
        blank = blank_sql(_text(src, src_type))
        return f"({src} IS NOT NULL AND NOT coalesce({blank}, false))"
    return f"({src} IS NOT NULL)"


def known_event_type(column: str) -> str:
    """Whether an event type is in the vocabulary: a cast to its ENUM (DuckDB)."""
    return f"TRY_CAST({column} AS {VOCABULARY_TYPE}) IS NOT NULL"


class Rules(NamedTuple):
    """What a table's checks are made of, for its source's types."""

    specs: list[ColumnSpec]
    flags: dict[str, str]
    """The quoted flag column of each column whose mapping derive can fail."""
    present: dict[str, str]
    """Whether a row's source value of each column is present (not NULL, not blank)."""
    unfailing: frozenset[str]
    """The columns whose bad-type check cannot hold (:func:`never_bad`)."""
    header_again: bool = False
    """The rows carry ``_header_again`` (a CSV source with a header line)."""


def _checks(table: str, rules: Rules, known: Callable[[str], str]) -> list[tuple[str, str, str]]:
    """Every check of a row as (condition, reason, column), in the order they are asked.

    A reason's checks keep the order of REASONS; within ``missing_required``, the
    order of the schema's required columns, so the first failing check names both
    the row's reason and the column it is about.
    """
    specs, present, unfailing = rules.specs, rules.present, rules.unfailing
    q = {c.name: quote_ident(c.name) for c in specs}
    checks: list[tuple[str, str, str]] = []
    if rules.header_again:
        first = next((c.name for c in specs if c.required), specs[0].name)
        checks.append(("_header_again", "repeated_header", first))
    if table == "events":
        checks.append(("_excluded", "excluded_by_mapping", "event_type"))
    for c in specs:
        if c.required:
            checks.append((f"NOT {present[c.name]}", "missing_required", c.name))
    for c in specs:
        if c.vocabulary:
            cond = f"{q[c.name]} IS NOT NULL AND NOT {known(q[c.name])}"
            checks.append((cond, "unknown_event_type", c.name))
    for c in specs:
        if c.name not in unfailing:
            checks.append((f"{present[c.name]} AND {q[c.name]} IS NULL", c.bad_reason, c.name))
    for c in specs:
        if c.required_for:
            cond = f"list_contains($req_{c.name}, {q['event_type']}) AND {q[c.name]} IS NULL"
            checks.append((cond, f"missing_{c.name}", c.name))
    for c in specs:
        bounds = []
        if c.ge is not None:
            bounds.append(f"{q[c.name]} < {c.ge:g}")
        if c.le is not None:
            bounds.append(f"{q[c.name]} > {c.le:g}")
        if bounds:
            checks.append((" OR ".join(bounds), c.range_reason, c.name))
        if c.enum:
            checks.append(
                (f"NOT list_contains($enum_{c.name}, {q[c.name]})", f"bad_{c.name}", c.name)
            )
    if table == "targets":
        cond = f"{q['period_end']} < {q['period_start']}"
        checks.append((cond, "period_out_of_order", "period_end"))
    order = list(REASONS)  # the first failing reason in the documented order wins
    checks.sort(key=lambda w: order.index(w[1]))  # stable: columns keep their order
    return checks


def _reason_sql(
    table: str,
    specs: list[ColumnSpec],
    present: dict[str, str],
    known: Callable[[str], str] = known_event_type,
    unfailing: frozenset[str] = frozenset(),
    header_again: bool = False,
) -> str:
    """The CASE expression giving each row's first failing reason (NULL = accepted).

    ``unfailing`` names the columns whose bad-type check cannot hold (:func:`never_bad`);
    ``header_again``: the rows carry the repeated-header flag.
    """
    whens: list[tuple[str, str]] = []
    rules = Rules(specs, {}, present, unfailing, header_again)
    for cond, reason, _column in _checks(table, rules, known):
        if reason == "missing_required" and whens and whens[-1][1] == reason:
            whens[-1] = (f"{whens[-1][0]} OR {cond}", reason)
        else:
            whens.append((cond, reason))
    body = " ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in whens)
    return f"CASE {body} END"


COLUMN_KEY = "_column"
"""The key of a failing row's source JSON that names the column its reason is about."""


def _source_json(
    specs: list[ColumnSpec],
    prefix: str,
    column: str,
    inputs: dict[str, list[str]],
    types: dict[str, str] | None = None,
) -> str:
    """A failing row's source values as one JSON object of text, with the column its
    reason is about under COLUMN_KEY (``column``: an SQL expression).

    A mapping's derived column shows its value where the derive gave one. Where it gave
    none and either the derive failed (its flag) or the row's reason is about that
    column, it shows what the derive was given instead (``inputs``: the source columns
    it reads, passed through as :func:`input_alias`): the text of its one source column,
    or a JSON object of its several. A blank there would hide the ``abc`` that made
    ``to_timestamp`` fail; a derive that is NULL by design (an amount only for
    purchases) stays blank in a row failing for another reason.

    One column instead of one per source column: at 10 M events writing fourteen
    mostly-NULL text columns cost about a quarter of the validation pass. The column
    is asked inside this JSON: stored on its own (NULL but for failing rows) it cost
    about 0.2 s of a 4.8 s clean load at 10 M, and computed in a projection of its
    own about 0.1 s. ``types``: the source's column types, so that a JSON key's string
    shows as its text (``u1``), not as JSON (``"u1"``), as the stored value does.
    """

    def value(c: ColumnSpec) -> str:
        ref = prefix + c.name if prefix else quote_ident(c.name)
        json_typed = (types or {}).get(c.name) == "JSON"
        own = f"json_extract_string({ref}, '$')" if json_typed else f"CAST({ref} AS VARCHAR)"
        given = inputs.get(c.name)
        if not given:
            return own
        aliases = [quote_ident(input_alias(c.name, i)) for i in range(len(given))]
        if len(given) == 1:
            shown = f"CAST({aliases[0]} AS VARCHAR)"
        else:
            pairs = ", ".join(
                f"{quote_ident(name)} := CAST({alias} AS VARCHAR)"
                for name, alias in zip(given, aliases, strict=True)
            )
            shown = f"CAST(to_json(struct_pack({pairs})) AS VARCHAR)"
        about = f"{quote_ident(failed_flag(c.name))} OR {column} = '{c.name}'"
        return f"coalesce({own}, CASE WHEN {about} THEN {shown} END)"

    fields = ", ".join(
        [f"{quote_ident(COLUMN_KEY)} := {column}"]
        + [f"{quote_ident(c.name)} := {value(c)}" for c in specs]
    )
    return f"to_json(struct_pack({fields}))"


def _column_of(source: str) -> str:
    """The column a failing row's reason is about, from its source JSON."""
    return f"json_extract_string({source}, '$.{COLUMN_KEY}')"


def binds_for(
    specs: list[ColumnSpec],
    ts_zone: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Any]:
    """The values the checks of a table name (``ts_zone``: the mapping's ts_timezone,
    whose steady stretch ``con`` looks up)."""
    lo, hi = TS_YEARS
    binds: dict[str, Any] = {
        "ts_lo": datetime(lo, 1, 1),
        "ts_hi": datetime(hi + 1, 1, 1),
        "tstz_lo": datetime(lo, 1, 1, tzinfo=UTC),
        "tstz_hi": datetime(hi + 1, 1, 1, tzinfo=UTC),
    }
    if ts_zone is not None:
        binds["ts_zone"] = ts_zone
        if con is not None:
            binds.update(wall_clock_binds(con, ts_zone))
    for c in specs:
        if c.required_for:
            binds[f"req_{c.name}"] = list(c.required_for)
        if c.enum:
            binds[f"enum_{c.name}"] = list(c.enum)
    return binds


def source_types(con: duckdb.DuckDBPyConnection, ts: TableSource) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM ({ts.select_sql})", ts.binds).fetchall()
    return {r[0]: r[1] for r in rows}


def _rules(ts: TableSource, types: dict[str, str]) -> Rules:
    """What the checks of ``ts`` are made of, for its source's types."""
    specs = columns_of(TABLES[ts.table])
    flags = {name: quote_ident(failed_flag(name)) for name in sorted(ts.failed)}
    present = {c.name: _present("s_" + c.name, types[c.name]) for c in specs}
    for name, flag in flags.items():  # a derive that failed on a present source value
        present[name] = f"({present[name]} OR {flag})"
    # a failed derive leaves a present value without a stored one: its check stays
    unfailing = frozenset(
        c.name for c in specs if c.name not in flags and never_bad(c, types[c.name])
    )
    return Rules(specs, flags, present, unfailing, ts.header_check)


def checked_rows_sql(
    ts: TableSource,
    types: dict[str, str],
    rows_sql: str,
    *,
    keep: tuple[str, ...] = (),
    known: Callable[[str], str] = known_event_type,
) -> str:
    """Every source row with its canonical columns typed and its reason (NULL = accepted).

    ``rows_sql`` selects the canonical columns from the source (``ts.select_list``) plus
    the columns in ``keep``, which pass through; ``types`` are the source types the
    rules are chosen by. The one definition of the checks, for every engine: the
    Spark engine writes this same query in its dialect.
    """
    table = ts.table
    specs, flags, present, unfailing, header_again = _rules(ts, types)
    q = {c.name: quote_ident(c.name) for c in specs}
    passed = [
        quote_ident(input_alias(name, i))
        for name, cols in ts.inputs.items()
        for i in range(len(cols))
    ]
    src_cols = ", ".join(
        [f"{q[c.name]} AS s_{c.name}" for c in specs] + list(flags.values()) + passed + list(keep)
    )
    zoned = ts.ts_timezone is not None
    typed_cols = ", ".join(
        f"{_typed(c, 's_' + c.name, types[c.name], zoned and c.name == 'ts')} AS {q[c.name]}"
        for c in specs
    )
    excluded = "_excluded" if table == "events" else "false AS _excluded"
    if header_again:
        excluded += ", _header_again"
    reason = _reason_sql(table, specs, present, known, unfailing, header_again)
    return f"""
  SELECT *, {reason} AS _reason FROM (
    SELECT *, {typed_cols} FROM (
      SELECT {excluded}, {src_cols} FROM ({rows_sql})
    )
  )"""


def failing_column_sql(
    ts: TableSource, types: dict[str, str], known: Callable[[str], str] = known_event_type
) -> str:
    """Over :func:`checked_rows_sql`'s rows: the column a failing row's reason is about.

    Asked only where ``_reason`` is not NULL (inside a CASE on it, or a WHERE).
    """
    checks = _checks(ts.table, _rules(ts, types), known)
    # The same checks in the same order as the reason's CASE, one WHEN each: the first
    # that holds gave the reason. The schema's own column names, as the reasons are
    # its own codes: plain literals.
    body = " ".join(f"WHEN {cond} THEN '{column}'" for cond, _r, column in checks)
    return f"CASE {body} END"


def failing_source_sql(
    ts: TableSource, types: dict[str, str], known: Callable[[str], str] = known_event_type
) -> str:
    """Over :func:`checked_rows_sql`'s rows: a failing row's source JSON, with its column."""
    specs = columns_of(TABLES[ts.table])
    return _source_json(specs, "s_", failing_column_sql(ts, types, known), ts.inputs, types)


def _stored(store: str, table: str) -> str:
    return f"{store}.{quote_ident(table)}"


def cannot_read(ts: TableSource, e: Exception) -> DataError:
    """The one-line error for a source DuckDB failed to read, saying why where it can.

    A derive's ``timezone(zone, ...)`` or ``make_timestamptz(..., zone)`` raises on a
    zone DuckDB does not know, in any row, where TRY cannot make it NULL: the file
    fails, and the message names the zone and the way out."""
    error = first_line(e)
    zone = re.search(r"Unknown TimeZone '([^']*)'", error)
    if zone is not None and ts.inputs:
        return DataError(
            f"{ts.label}: a row's time zone {zone.group(1)!r}, read by the mapping's derive, "
            "is not one DuckDB knows (e.g. Asia/Shanghai); a zone read from a column must "
            "be known in every row: fix those values, or map them in the derive with "
            "CASE WHEN zone IN (...) THEN ... END"
        )
    return DataError(f"{ts.label}: cannot read ({error})")


def readable_types(con: duckdb.DuckDBPyConnection, ts: TableSource) -> dict[str, str]:
    """The source's column types; a source DuckDB cannot read is a DataError naming it."""
    import duckdb

    try:
        types = source_types(con, ts)
    except duckdb.Error as e:
        raise cannot_read(ts, e) from None
    kind = types.get("ts", "VARCHAR")
    if ts.table == "events" and not (
        kind in ("VARCHAR", "JSON", "DATE") or kind.startswith("TIMESTAMP")
    ):
        raise DataError(_not_a_time(con, ts, kind))
    return types


_EPOCH_UNITS = (
    (10**11, "seconds", "to_timestamp({c})"),
    (10**14, "milliseconds", "epoch_ms({c})"),
    (10**17, "microseconds", "make_timestamp({c})"),
)
"""How a number of time units since 1970 reads, by its size, and the derive reading it."""


def _not_a_time(con: duckdb.DuckDBPyConnection, ts: TableSource, kind: str) -> str:
    """The message for an events ``ts`` column of a type no time is read from (epoch
    numbers in a Parquet file, a derive giving a number): the column, its type and, for
    numbers, the mapping that reads them, by the unit their size suggests."""
    import duckdb

    source = ts.source_column("ts")
    expr = ts.expressions.get("ts", '"ts"')
    name = source if source is not None else "the mapping's derive"
    column = "ts" if name == "ts" else f"ts ({name})"
    head = f"{ts.label}: {column} is {kind}, not a time or text"
    numeric = kind in INTEGRAL or kind in ("FLOAT", "DOUBLE") or kind.startswith("DECIMAL")
    if not numeric or source is None:
        return f"{head}; map a time column to ts, or derive one (docs/data.md, Mappings)"
    try:
        sql = f"SELECT max(abs(CAST(ts AS DOUBLE))) FROM ({ts.select_sql})"
        top = con.execute(sql, used_binds(sql, ts.binds)).fetchone()[0]
    except duckdb.Error:
        top = None
    for limit, unit, derive in _EPOCH_UNITS:
        if top is not None and top < limit:
            call = derive.format(c=name if name.isidentifier() else expr)
            return (
                f"{head}; if it counts {unit} since 1970-01-01 UTC (as its values' size "
                f'suggests), read it with a mapping: derive: {{ts: "{call}"}} (docs/data.md, '
                "Mappings)"
            )
    return f"{head}; map a time column to ts, or derive one (docs/data.md, Mappings)"


def wall_clock_ts(con: duckdb.DuckDBPyConnection, ts: TableSource) -> bool:
    """Whether the events' times carry no UTC offset of their own: a timestamp column
    without time zone, a date, or text of which some of the first 1,000 values read as a
    time once a zone is appended (text with an offset or zone then does not read)."""
    describe = f"DESCRIBE SELECT ts FROM ({ts.select_sql})"  # the read in use (by lines?)
    kind = con.execute(describe, used_binds(describe, ts.binds)).fetchone()[1]
    if kind == "DATE" or (kind or "").startswith("TIMESTAMP"):
        return kind != "TIMESTAMP WITH TIME ZONE"
    if kind not in ("VARCHAR", "JSON"):
        return False
    sql = (
        "SELECT count(*) FROM (SELECT trim(CAST(ts AS VARCHAR)) AS t FROM "
        f"({ts.select_sql}) WHERE ts IS NOT NULL LIMIT 1000) "
        "WHERE TRY_CAST(t || ' UTC' AS TIMESTAMPTZ) IS NOT NULL "
        "OR TRY_CAST(t || ' 00:00:00 UTC' AS TIMESTAMPTZ) IS NOT NULL"
    )
    return bool(con.execute(sql, used_binds(sql, ts.binds)).fetchone()[0])


def stored_columns(
    con: duckdb.DuckDBPyConnection,
    ts: TableSource,
    timezone: str,
    span: tuple[datetime, datetime] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """The typed canonical columns a table keeps (events: and ``local_date``), as select
    items over :func:`checked_rows_sql`'s rows, and the binds they and the checks name.

    ``span`` is ``local_date_sql``'s hint: the first and last timestamp expected."""
    specs = columns_of(TABLES[ts.table])
    out = [quote_ident(c.name) for c in specs]
    binds = {**ts.binds, **binds_for(specs, ts.ts_timezone, con)}
    if ts.table == "events":
        local, tz_binds = local_date_sql(con, timezone, quote_ident("ts"), span=span)
        binds.update(tz_binds)
        out.append(f"{local} AS local_date")
    return out, binds


def _load_table(
    con: duckdb.DuckDBPyConnection,
    ts: TableSource,
    vocabulary: list[str],
    timezone: str,
    store: str,
) -> dict[str, str]:
    """One pass: the stored table of every source row, typed, with its reason.

    Columns: the canonical columns (stored types), ``local_date`` (events), ``_reason``,
    ``_source`` (failing rows only: their source text and failing column as JSON) and,
    for events without an integer id, the digest and occurrence a generated event_id is
    made of and the ids that are not the text of a BIGINT (``ID_TEXT``). Returns source
    types.
    """
    import duckdb

    table = ts.table
    specs = columns_of(TABLES[table])
    types = readable_types(con, ts)
    if any(c.vocabulary for c in specs):
        create_vocabulary_type(con, vocabulary)
    out, binds = stored_columns(con, ts, timezone)
    q = {c.name: quote_ident(c.name) for c in specs}
    if table == "events":
        if "event_id" in ts.present and types["event_id"] not in INTEGRAL:
            text, number = q["event_id"], f"TRY_CAST({q['event_id']} AS BIGINT)"
            plain = f"CAST({number} AS VARCHAR) = {text}"
            out[out.index(text)] = f"CASE WHEN {plain} THEN {number} END AS {text}"
            out.append(f"CASE WHEN {plain} THEN NULL ELSE {text} END AS {ID_TEXT}")
        if "event_id" not in ts.present or types["event_id"] not in INTEGRAL:
            raw = ", ".join(f"s_{c.name}" for c in specs if c.name != "event_id")
            out.append(f"CASE WHEN {q['event_id']} IS NULL THEN hash({raw}) END AS {DIGEST}")
            out.append(f"CAST(1 AS BIGINT) AS {OCCURRENCE}")
    out.append("_reason")
    source = failing_source_sql(ts, types)
    out.append(f"CASE WHEN _reason IS NOT NULL THEN {source} END AS _source")

    def load() -> None:
        sql = f"""
CREATE OR REPLACE TABLE {_stored(store, table)} AS
SELECT {", ".join(out)} FROM ({checked_rows_sql(ts, types, ts.select_sql)})
"""
        con.execute(sql, used_binds(sql, binds))

    if ts.csv is not None and not ts.csv.by_lines:
        counted = csvread.count_lines_of(ts.csv)  # meanwhile, on a thread
        try:  # DuckDB's CSV scan, checked against the file's lines (see csvread)
            load()
            rows = con.execute(f"SELECT count(*) FROM {_stored(store, table)}").fetchone()
            lost = csvread.fast_scan_lost_lines(con, ts.csv, rows[0] if rows else 0, counted)
        except duckdb.Error:
            lost = True
        finally:
            if counted is not None:
                counted.cancel()
        if not lost:
            return types
        try:
            ts.from_sql = csvread.read_by_lines(con, ts.csv)
        except duckdb.Error as e:
            raise cannot_read(ts, e) from None
    try:
        load()
    except duckdb.Error as e:
        # a line naming twice a key the load reads (DuckDB looks only there): by lines,
        # that line is one malformed_row; any other failure stands, unread again
        twice = "has duplicate key" in str(e)
        if twice and ts.is_json and ts.json_lines is None and read_json_by_lines(con, ts):
            return _load_table(con, ts, vocabulary, timezone, store)
        raise cannot_read(ts, e) from None
    return types


BITMAP_MAX_BITS = 1 << 31
"""The largest id range whose uniqueness is checked with a bitmap (256 MB at most)."""
BITSTRING_MAX_BITS = 1_000_000_000
"""DuckDB's limit for one ``bitstring_agg`` (its range, max - min + 1)."""
BITMAP_TYPES = INTEGRAL - {"UHUGEINT"}
"""The integer types ``bitstring_agg`` takes (DuckDB has none for UHUGEINT)."""


def _split_ids_unique(con: duckdb.DuckDBPyConnection, stored: str) -> bool:
    """Whether the event ids of a store that splits them (``ID_TEXT``) are unique among
    valid rows: the numbers by their bitmap, then the few ids kept as text. A number and
    a text never spell the same id, so the two checks together decide it. More texts
    than one aggregate may group (``KEYS_PER_PASS``) are left to the sliced check."""
    if not _integer_keys_unique(con, stored, ["event_id"]):
        return False
    text = quote_ident(ID_TEXT)
    valid = f"_reason IS NULL AND {text} IS NOT NULL"
    texts = con.execute(f"SELECT count(*) FROM {stored} WHERE {valid}").fetchone()
    if texts and texts[0] > KEYS_PER_PASS:  # too many for one aggregate: the sliced check
        return False
    repeated = con.execute(
        f"SELECT count(*) FROM (SELECT {text} FROM {stored} "
        f"WHERE {valid} GROUP BY {text} HAVING count(*) > 1)"
    ).fetchone()
    return not (repeated and repeated[0])


def _integer_keys_unique(con: duckdb.DuckDBPyConnection, stored: str, key: list[str]) -> bool:
    """Whether a one-column integer key is unique among valid rows, proved by a bitmap.

    Exported ids are mostly integers in a dense range: one bit per possible value
    (``bitstring_agg``) holds as many set bits as there are rows exactly when no id
    repeats. One pass without hashing: at 10 M events 0.05 s instead of the 0.9 s
    hash aggregate, which then runs only when an id does repeat (or the range is
    sparse: more than 16 possible values per row). A range wider than one bitstring
    may hold (a billion ids) is cut into consecutive slices, each its own filtered
    aggregate, still in one pass.
    """
    if len(key) != 1:
        return False
    col = quote_ident(key[0])
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {stored}").fetchall()}
    if types.get(key[0]) not in BITMAP_TYPES:
        return False
    valid = f"_reason IS NULL AND {col} IS NOT NULL"
    lo, hi, n = con.execute(
        f"SELECT min({col}), max({col}), count(*) FROM {stored} WHERE {valid}"
    ).fetchone()
    if not n:
        return True
    span = int(hi) - int(lo) + 1
    if span > min(BITMAP_MAX_BITS, 16 * int(n) + (1 << 16)):
        return False
    binds: dict[str, int] = {}
    counts = []
    for i, start in enumerate(range(int(lo), int(hi) + 1, BITSTRING_MAX_BITS)):
        binds[f"lo{i}"], binds[f"hi{i}"] = start, min(int(hi), start + BITSTRING_MAX_BITS - 1)
        counts.append(
            f"coalesce(bit_count(bitstring_agg({col}, $lo{i}, $hi{i}) "
            f"FILTER (WHERE {col} BETWEEN $lo{i} AND $hi{i})), 0)"
        )
    bits = con.execute(
        f"SELECT {' + '.join(counts)} FROM {stored} WHERE {valid}", binds
    ).fetchone()[0]
    return int(bits) == int(n)


def later_repeats(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    key: list[str],
    not_null: str,
    same: str = "=",
    position: str = "rowid",
) -> list[int]:
    """The positions of the accepted rows (``_reason IS NULL``) of ``rows`` that repeat an
    earlier row's key, in order; the first of each key is not among them.

    First the repeated keys alone (a hash aggregate; usually none), then their rows. The
    keys are grouped in slices of at most KEYS_PER_PASS rows (by a hash of the key), so
    a billion ids never need one hash table that outgrows the memory limit.
    """
    kcols = ", ".join(quote_ident(k) for k in key)
    join = " AND ".join(f"t.{quote_ident(k)} {same} d.{quote_ident(k)}" for k in key)
    total = con.execute(f"SELECT count(*) FROM {rows}").fetchone()[0]
    parts = max(1, -(-int(total) // KEYS_PER_PASS))
    slice_ = f" AND hash({kcols}) % {parts} = $part" if parts > 1 else ""
    later: list[int] = []
    for part in range(parts):
        binds = {"part": part} if parts > 1 else {}
        repeated = f"""
SELECT {kcols}, min({position}) AS first_row FROM {rows}
WHERE _reason IS NULL AND {not_null}{slice_} GROUP BY {kcols} HAVING count(*) > 1"""
        if con.execute(f"SELECT count(*) FROM ({repeated})", binds).fetchone()[0] == 0:
            continue
        found = con.execute(
            f"""
SELECT list(t.{position} ORDER BY t.{position}) FROM {rows} t JOIN ({repeated}) d ON {join}
WHERE t._reason IS NULL AND t.{position} > d.first_row
""",
            binds,
        ).fetchone()
        later += found[0] if found and found[0] else []
    return sorted(later)


def _mark_duplicates(con: duckdb.DuckDBPyConnection, ts: TableSource, store: str) -> None:
    """Later repeats of a key among otherwise valid rows get their reason; the first stays.

    One hash aggregate over the key; the rows found (usually none) are marked by
    rowid, which is the row's position in the source, and their source text fetched.
    """
    table = ts.table
    key = table_key(TABLES[table])
    if not key:
        return
    stored = _stored(store, table)
    reason = "duplicate_event_id" if table == "events" else "duplicate_key"
    columns = {r[0] for r in con.execute(f"DESCRIBE {stored}").fetchall()}
    if table == "events" and ID_TEXT in columns:
        # An id is its number or its text (one of the two is NULL): the pair is the key.
        if _split_ids_unique(con, stored):
            return
        key = [*key, ID_TEXT]
        not_null = "(" + " OR ".join(f"{quote_ident(k)} IS NOT NULL" for k in key) + ")"
        same = "IS NOT DISTINCT FROM"
    else:
        if _integer_keys_unique(con, stored, key):
            return
        not_null = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)
        same = "="
    later = later_repeats(con, stored, key, not_null, same)
    if not later:
        return
    specs = columns_of(TABLES[table])
    # Their source text: the same rows, numbered in the same (source) order.
    source = _source_json(specs, "", "$column", ts.inputs, source_types(con, ts))
    sql_update = f"""
UPDATE {stored} SET _reason = $reason, _source = r._source
FROM (
  SELECT * FROM (
    SELECT row_number() OVER () - 1 AS _rid, {source} AS _source FROM ({ts.select_sql})
  )
  WHERE _rid IN (SELECT unnest($later))
) r
WHERE {stored}.rowid = r._rid
"""
    con.execute(
        sql_update,
        used_binds(
            sql_update,
            {**ts.binds, "reason": reason, "column": key_column(table), "later": later},
        ),
    )


def key_column(table: str) -> str:
    """What a duplicate row's quarantine names as its column: the table's key."""
    return ", ".join(table_key(TABLES[table]))


def _count_repeated_rows(con: duckdb.DuckDBPyConnection, store: str, table: str) -> int:
    """How many accepted rows of a table without a key repeat an earlier one exactly (a
    spend export written twice would double every cost)."""
    names = ", ".join(quote_ident(c.name) for c in columns_of(TABLES[table]))
    sql = (
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "
        f"{_stored(store, table)} WHERE _reason IS NULL GROUP BY {names})"
    )
    return int(con.execute(sql).fetchone()[0])


def _number_repeated_content(con: duckdb.DuckDBPyConnection, store: str) -> int:
    """Identical rows without an id get occurrence numbers 1, 2, ... in source order.

    Returns how many accepted rows repeat an earlier one: kept (two views of one product
    in one second are two events), but a user whose export holds copies must hear of it.
    """
    stored = _stored(store, "events")
    cols = {r[0] for r in con.execute(f"DESCRIBE {stored}").fetchall()}
    if DIGEST not in cols:
        return 0
    total = con.execute(f"SELECT count({DIGEST}) FROM {stored}").fetchone()[0]
    parts = max(1, -(-int(total) // KEYS_PER_PASS))  # slices of digests, as for the keys
    slice_ = f" AND {DIGEST} % {parts} = $part" if parts > 1 else ""
    for part in range(parts):
        sql = f"""
UPDATE {stored} SET {OCCURRENCE} = r.n
FROM (
  SELECT rowid AS rid, row_number() OVER (PARTITION BY {DIGEST} ORDER BY rowid) AS n
  FROM {stored}
  WHERE _reason IS NULL AND {DIGEST} IN (
    SELECT {DIGEST} FROM {stored} WHERE _reason IS NULL AND {DIGEST} IS NOT NULL{slice_}
    GROUP BY {DIGEST} HAVING count(*) > 1
  )
) r
WHERE {stored}.rowid = r.rid AND r.n > 1
"""
        con.execute(sql, {"part": part} if parts > 1 else {})
    sql = f"SELECT count(*) FROM {stored} WHERE _reason IS NULL AND {OCCURRENCE} > 1"
    return int(con.execute(sql).fetchone()[0])


def empty_table_sql(store: str, table: str) -> str:
    specs = columns_of(TABLES[table])
    cols = [f"{quote_ident(c.name)} {c.sql_type}" for c in specs]
    if table == "events":
        cols.append("local_date DATE")
    return f"CREATE OR REPLACE TABLE {_stored(store, table)} ({', '.join(cols)})"


def _malformed(con: duckdb.DuckDBPyConnection, ts: TableSource) -> tuple[int, list[dict[str, Any]]]:
    """How many lines of a CSV or JSON lines source did not parse, and the first few
    (line, text, error)."""
    lines = ts.read_by_lines
    if lines is None:
        return 0, []
    bad = lines.bad_table
    row = con.execute(f"SELECT count(*) FROM {bad}").fetchone()
    first = con.execute(  # a line can be megabytes long: examples show its start
        f"SELECT part, line, CASE WHEN strlen(text) > {EXAMPLE_CHARS} "
        f"THEN left(text, {EXAMPLE_CHARS}) || '…' ELSE text END, error "
        f"FROM {bad} ORDER BY part, line LIMIT {EXAMPLES_PER_REASON}"
    ).fetchall()
    parts = lines.parts
    examples: list[dict[str, Any]] = []
    for part, line, text, error in first:
        where = {"file": parts[int(part)][0]} if parts else {}
        examples.append({**where, "row": int(line), "line": str(text), "error": str(error)})
    for i, path in enumerate(lines.files):
        mine = [e for e in examples if e["error"] == "INVALID ENCODING" and _of_part(e, parts, i)]
        for number in csvread.gb18030_lines(path, {e["row"] for e in mine}) if mine else ():
            example = next(e for e in mine if e["row"] == number)
            example["error"] = (
                "INVALID ENCODING: the line reads as GB18030/GBK; convert the file with "
                "iconv -f GB18030 -t UTF-8"
            )
    return (int(row[0]) if row else 0), examples


def _of_part(example: dict[str, Any], parts: list[tuple[str, Any]], i: int) -> bool:
    """Whether a malformed-line example is of part ``i`` (of the one file, without parts)."""
    return not parts or example.get("file") == parts[i][0]


PART_COLUMN = "_brandlens_part"
"""The file-name column a folder of parts is counted by (see :func:`_part_positions`)."""


def _part_positions(
    con: duckdb.DuckDBPyConnection, ts: TableSource, store: str, rows_read: int
) -> str:
    """A table of the parts of ``ts``: each one's label and its rows' positions.

    The parts are read in list order, so a stored row's ``rowid`` (its position in the
    whole read) falls in exactly one part's [first_row, next_row); a quarantined row is
    then reported by its part and its row in that part. Counting the rows per part
    reads the parts once more, which only a table with quarantined rows pays.
    """
    lines = ts.read_by_lines
    if ts.json_lines is not None or (ts.csv is not None and ts.csv.by_lines):
        assert lines is not None  # read by lines: each part's rows were counted there
        counts = {p.file: lines.part_rows.get(i, 0) for i, p in enumerate(ts.parts)}
    else:
        sql = part_counts_sql(ts, PART_COLUMN)
        counts = dict(con.execute(sql, used_binds(sql, ts.binds)).fetchall())
    firsts: list[int] = []
    position = 0
    for part in ts.parts:
        firsts.append(position)
        position += int(counts.get(part.file, 0))
    if position != rows_read:  # a part the count missed: positions would be wrong
        raise DataError(f"{ts.label}: read {rows_read} rows but its parts count {position}")
    positions = f"{store}.{quote_ident('_parts_' + ts.table)}"
    con.execute(
        f"CREATE OR REPLACE TABLE {positions} AS SELECT unnest($files) AS file, "
        "unnest($firsts) AS first_row, unnest($nexts) AS next_row, "
        "unnest(range(len($files))) AS part",
        {
            "files": [p.label for p in ts.parts],
            "firsts": firsts,
            "nexts": [*firsts[1:], position],
        },
    )
    return positions


def _skipped_rows(con: duckdb.DuckDBPyConnection, ts: TableSource, store: str) -> str:
    """A table of a CSV file's malformed lines, as the parsed rows before each (``g``) and
    how many malformed ones come up to there (``j``): a parsed row's number counts them.

    A malformed line L is data row L - 1 under a header (each record one line; a quoted
    value spanning lines is one row of several lines)."""
    lines = ts.read_by_lines
    assert lines is not None
    skipped = f"{store}.{quote_ident('_skipped_' + ts.table)}"
    con.execute(
        f"CREATE OR REPLACE TABLE {skipped} AS SELECT part, r - j AS g, max(j) AS j FROM ("
        f"SELECT part, r, row_number() OVER (PARTITION BY part ORDER BY r) AS j FROM ("
        f"{lines.no_rows_sql})) GROUP BY ALL"
    )
    return skipped


def _rows_where(
    stored: str, positions: str | None, position: str = "rowid", skipped: str | None = None
) -> tuple[str, str, str]:
    """FROM, the file and the row (1-based) of a stored table's rows, by part if any.

    ``position`` is the column holding a row's position in the source (0-based);
    ``skipped`` (:func:`_skipped_rows`) the malformed lines a row's number counts."""
    if positions is None and skipped is not None:
        at = f"t.{position} + 1"
        return (
            f"{stored} t ASOF LEFT JOIN {skipped} s ON {at} > s.g",
            "NULL",
            (f"{at} + coalesce(s.j, 0)"),
        )
    if positions is None:
        return f"{stored} t", "NULL", f"t.{position} + 1"
    at = f"t.{position}"
    from_sql = f"{stored} t JOIN {positions} p ON {at} >= p.first_row AND {at} < p.next_row"
    within = f"{at} - p.first_row + 1"
    if skipped is None:
        return from_sql, "p.file", within
    # CSV parts with malformed lines: a row's number in its part counts those before it
    return (
        f"{from_sql} ASOF LEFT JOIN {skipped} s ON s.part = p.part AND {within} > s.g",
        "p.file",
        f"{within} + coalesce(s.j, 0)",
    )


def _examples(
    con: duckdb.DuckDBPyConnection,
    stored: str,
    table: str,
    reason: str,
    positions: str | None = None,
    position: str = "rowid",
    skipped: str | None = None,
) -> list[dict[str, Any]]:
    import json

    raw_names = [c.name for c in columns_of(TABLES[table])]
    from_sql, file, row = _rows_where(stored, positions, position, skipped)
    rows = con.execute(
        f"SELECT {file}, {row}, t._source FROM {from_sql} "
        f"WHERE t._reason = $reason ORDER BY t.{position} LIMIT {EXAMPLES_PER_REASON}",
        {"reason": reason},
    ).fetchall()
    out = []
    for part, row_number, source in rows:
        values = json.loads(source)
        where = {"row": row_number} if part is None else {"file": part, "row": row_number}
        if values.get(COLUMN_KEY) is not None:
            where["column"] = values[COLUMN_KEY]
        out.append({**where, **{n: values[n] for n in raw_names if values[n] is not None}})
    return out


def report_table(
    table: str,
    label: str,
    counts: dict[str, int],
    examples_of: Callable[[str], list[dict[str, Any]]],
) -> tuple[TableReport, list[ReasonCount]]:
    """A table's report from its row count per reason ('' = accepted), reasons in order
    (their columns and values come from the quarantine: :func:`add_column_facts`)."""
    read = sum(counts.values())
    bad = read - counts.get("", 0)
    report = TableReport(
        table=table, source=label, rows_read=read, rows_accepted=read - bad, rows_quarantined=bad
    )
    order = list(REASONS)
    reasons = [
        ReasonCount(table=table, reason=r, count=counts[r], examples=examples_of(r))
        for r in sorted((r for r in counts if r), key=order.index)
    ]
    return report, reasons


def write_quarantine(
    con: duckdb.DuckDBPyConnection, quarantine: str, parts: list[str], by_file: bool = False
) -> None:
    """The quarantine table: the failing rows of every table (queries), by table and row
    (``by_file``: some rows come from a folder of parts, and say which part and row).

    A malformed line is numbered by its line and a row by its data row, so under a header
    the malformed line L and the row after it share a number; the line, earlier in the
    file, comes first, and the order is total (a row has one reason)."""
    if parts:
        union = " UNION ALL BY NAME ".join(f"({q})" for q in parts)
        tie = "reason <> 'malformed_row', reason"
        if by_file:
            con.execute(
                f'CREATE OR REPLACE TABLE {quarantine} AS SELECT "table", "file", '
                f'* EXCLUDE ("table", "file") FROM ({union}) '
                f'ORDER BY "table", "file", "row", {tie}'
            )
        else:
            con.execute(
                f'CREATE OR REPLACE TABLE {quarantine} AS {union} ORDER BY "table", "row", {tie}'
            )
    else:
        con.execute(
            f'CREATE OR REPLACE TABLE {quarantine} ("table" VARCHAR, "row" BIGINT, '
            'reason VARCHAR, "column" VARCHAR)'
        )


TOP_VALUES = 5
"""Values listed per reason (the most frequent quarantined values of its columns)."""


def add_column_facts(con: duckdb.DuckDBPyConnection, quarantine: str, reasons: list[Any]) -> None:
    """Give each reason its rows per column (most first, then in schema order) and the
    source values quarantined most often for it (ties by column, then value), read from
    the quarantine table every engine writes the same way."""
    from brandlens.engine.result import ValueCount

    if not reasons:
        return
    names = {r[0] for r in con.execute(f"DESCRIBE {quarantine}").fetchall()}
    columns = list(dict.fromkeys(c.name for t in TABLES for c in columns_of(TABLES[t])))
    place = {n: i for i, n in enumerate(columns)}
    per_column: dict[tuple[str, str], dict[str, int]] = {}
    for table, reason, column, n in sorted(
        con.execute(
            f'SELECT "table", reason, "column", count(*) FROM {quarantine} '
            'WHERE "column" IS NOT NULL GROUP BY ALL'
        ).fetchall(),
        key=lambda r: (r[0], r[1], -r[3], place.get(r[2], len(columns)), r[2]),
    ):
        per_column.setdefault((table, reason), {})[column] = int(n)
    for r in reasons:
        r.columns = per_column.get((r.table, r.reason), {})
    held = [n for n in columns if n in names]
    if not held:
        return
    value = (
        'CASE "column" '
        + " ".join(f"WHEN {_literal(n)} THEN CAST({quote_ident(n)} AS VARCHAR)" for n in held)
        + " END"
    )
    rows = con.execute(
        f"""
WITH counted AS (
  SELECT "table", reason, "column", v, count(*) AS n
  FROM (SELECT "table", reason, "column", {value} AS v FROM {quarantine})
  WHERE v IS NOT NULL
  GROUP BY "table", reason, "column", v
)
SELECT "table", reason, "column", v, n FROM (
  SELECT *, row_number() OVER (
    PARTITION BY "table", reason ORDER BY n DESC, "column", v) AS k
  FROM counted
) WHERE k <= {TOP_VALUES} ORDER BY "table", reason, k"""
    ).fetchall()
    found: dict[tuple[str, str], list[ValueCount]] = {}
    for table, reason, column, v, n in rows:
        found.setdefault((table, reason), []).append(
            ValueCount(column=column, value=v, rows=int(n))
        )
    for r in reasons:
        r.values = found.get((r.table, r.reason), [])


def validate_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    vocabulary: list[str],
    timezone: str,
    store: str,
    in_place: bool = False,
) -> ValidationReport:
    """Validate every table into ``store`` (a quoted catalog.schema); quarantine the rest.

    With ``in_place`` (a run that keeps nothing) an events source that can be read
    where it lies, and is lighter so, is not copied: ``data.inplace`` keeps only its
    failing rows, and its stored table is a view over the files (the TableSource is
    marked ``in_place``).
    """
    import duckdb

    from brandlens.data import inplace

    tables: list[TableReport] = []
    reasons: list[ReasonCount] = []
    quarantine_parts: list[str] = []
    by_file = False  # some quarantined rows come from a folder of parts
    for table in TABLES:
        ts = source.tables.get(table)
        if ts is None:
            con.execute(empty_table_sql(store, table))
            continue
        stored, position = _stored(store, table), "rowid"
        read = None
        try:
            plan = inplace.plan(con, ts) if in_place else None
            if plan is not None:
                read = inplace.validate(con, ts, plan, vocabulary, timezone, store)
        except duckdb.Error as e:
            raise cannot_read(ts, e) from None
        if read is not None:
            stored, position = inplace.failing_rows(store), inplace.POSITION
            counts = dict(
                con.execute(f"SELECT _reason, count(*) FROM {stored} GROUP BY ALL").fetchall()
            )
            counts[""] = read - sum(counts.values())
        else:
            _load_table(con, ts, vocabulary, timezone, store)
            _mark_duplicates(con, ts, store)
            counts = dict(
                con.execute(
                    f"SELECT coalesce(_reason, ''), count(*) FROM {stored} GROUP BY ALL"
                ).fetchall()
            )
        malformed, malformed_examples = _malformed(con, ts)
        if malformed:
            counts["malformed_row"] = malformed
        positions = None
        if ts.parts and any(counts.get(r) for r in counts if r):
            positions = _part_positions(con, ts, store, sum(counts.values()) - malformed)
            by_file = True
        failing = sum(n for r, n in counts.items() if r) - malformed
        skipped = None  # parsed rows after malformed lines count those lines too
        if failing and (malformed or ts.json_lines is not None):
            skipped = _skipped_rows(con, ts, store)
        if malformed and ts.parts:
            by_file = True

        def examples_of(
            reason: str,
            stored: str = stored,
            table: str = table,
            malformed: list[dict[str, Any]] = malformed_examples,
            positions: str | None = positions,
            position: str = position,
            skipped: str | None = skipped,
        ) -> list[dict[str, Any]]:
            if reason == "malformed_row":
                return malformed
            return _examples(con, stored, table, reason, positions, position, skipped)

        table_report, table_reasons = report_table(table, ts.label, counts, examples_of)
        tables.append(table_report)
        reasons += table_reasons
        bad = table_report.rows_quarantined
        raw_names = [c.name for c in columns_of(TABLES[table])]
        if bad - malformed:
            cols = ", ".join(
                f"json_extract_string(t._source, {_literal('$.' + n)}) AS {quote_ident(n)}"
                for n in raw_names
            )
            from_sql, file, row = _rows_where(stored, positions, position, skipped)
            file_col = "" if positions is None else f'{file} AS "file", '
            quarantine_parts.append(
                f'SELECT {_literal(table)} AS "table", {file_col}{row} AS "row", '
                f't._reason AS reason, {_column_of("t._source")} AS "column", {cols} '
                f"FROM {from_sql} WHERE t._reason IS NOT NULL"
            )
        if malformed and (by_lines := ts.read_by_lines) is not None:
            m_table = f"{store}.{quote_ident('_malformed_' + table)}"
            file_col = ""
            if ts.parts:  # the malformed lines of a folder of parts say their part
                file_col = 'list_extract($files, CAST(part AS BIGINT) + 1) AS "file", '

            con.execute(
                f'CREATE OR REPLACE TABLE {m_table} AS SELECT $table AS "table", {file_col}'
                "CAST(line AS BIGINT) AS \"row\", 'malformed_row' AS reason, "
                'CAST(NULL AS VARCHAR) AS "column", text AS line '
                f"FROM {by_lines.bad_table}",
                {"table": table, **({"files": [p.label for p in ts.parts]} if ts.parts else {})},
            )
            quarantine_parts.append(f"SELECT * FROM {m_table}")
        if table == "events":
            table_report.identical_rows = _number_repeated_content(con, store)
        elif table == "spend":
            table_report.identical_rows = _count_repeated_rows(con, store, table)
    events = source.tables.get("events")
    as_utc = events is not None and events.ts_timezone is None and wall_clock_ts(con, events)
    quarantine = f"{store}.{quote_ident(QUARANTINE_TABLE)}"
    write_quarantine(con, quarantine, quarantine_parts, by_file)
    add_column_facts(con, quarantine, reasons)
    for table in source.tables:  # the stored tables keep accepted rows and typed columns only
        if source.tables[table].in_place:  # a view without them already
            continue
        stored = _stored(store, table)
        con.execute(f"DELETE FROM {stored} WHERE _reason IS NOT NULL")
        drop = ["_reason", "_source"]
        for col in drop:
            con.execute(f"ALTER TABLE {stored} DROP COLUMN {quote_ident(col)}")
        for temporary in ("_malformed_", "_parts_", "_skipped_"):
            con.execute(f"DROP TABLE IF EXISTS {store}.{quote_ident(temporary + table)}")
        con.execute(f"DROP TABLE IF EXISTS {quote_ident('_mem_' + table)}")
        csv_file = source.tables[table].csv
        if csv_file is not None:
            csvread.drop(con, csv_file)
        json_lines = source.tables[table].json_lines
        if json_lines is not None:
            jsonread.drop(con, json_lines)
    return ValidationReport(
        source=source.label,
        timezone=timezone,
        ts_timezone=(events.ts_timezone if events else None) or "UTC",
        naive_ts_as_utc=as_utc,
        tables=tables,
        reasons=reasons,
    )


def _literal(value: str) -> str:
    from sqlglot import exp

    return exp.Literal.string(value).sql(dialect="duckdb")
