"""JSON lines reading that loses a bad line, never the file or the lines after it.

DuckDB's ``read_json`` is the fast path, and it reads a whole file or fails: one line
that is not JSON (a last line cut short by a writer that died, a log message among
the records) fails the file, and one line that is JSON but not an object (``42``,
``[1, 2]``) makes it read every line as one ``json`` column. Either way the file is
read again by lines (csvread's line reader: one row per physical line, numbered as in
the file): each line holding one JSON object is a row, in file order; every other
non-blank line is one ``malformed_row`` with its line number. Blank lines are no rows,
as for ``read_json``.

The rows are typed from their values (``json_group_structure``): numbers, text and
booleans as ``read_json`` types them; a key holding objects or lists as JSON, which
validation turns into ``bad_type`` as it does any object where a value belongs; text
``read_json`` would recognise as dates or timestamps stays text, which validation
types as it types a CSV file's text (the same values).

A file most of whose non-blank lines are not a JSON object on their own (one JSON
array, objects printed over several lines) is not JSON lines: DuckDB's own error
stands. A folder of JSON parts is read the same way, part by part: each part's lines
are numbered within it, as its rows are when the folder is read whole, and the rows
follow in the parts' reading order; a part that is not JSON lines fails the folder,
naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brandlens.data import csvread
from brandlens.data.csvread import PART_LINES
from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

MAX_OBJECT = 16 * 1024 * 1024
"""The longest line read as one object: read_json's own limit (maximum_object_size)."""

ONE_JSON_COLUMN = {"json": "JSON"}
"""The columns ``read_json`` gives a file some of whose lines are not objects."""


class NotJsonLines(Exception):
    """A part of a folder of JSON parts most of whose lines are not one object each."""

    def __init__(self, part: int):
        super().__init__(part)
        self.part = part


@dataclass
class JsonLines:
    """A JSON lines file, or a folder of JSON parts, read by lines: its temp tables, and
    its malformed lines in the form validation counts a CSV file's (``bad_table``: line,
    text, error, part; ``part`` the place in ``parts``, 0 for one file)."""

    table: str
    file: Path
    parts: list[tuple[str, Path]] = field(default_factory=list)  # (label, path) in order
    part_rows: dict[int, int] = field(default_factory=dict)
    """Parts: the rows of each, by its place in ``parts``."""

    @property
    def files(self) -> list[Path]:
        return [path for _, path in self.parts] if self.parts else [self.file]

    @property
    def lines(self) -> str:
        """The temp table of the lines: (n, line, ok, blank), ok for one JSON object; n is
        the line's number, ``PART_LINES`` apart from one part to the next."""
        return quote_ident(f"_json_lines_{self.table}")

    @property
    def rejected(self) -> str:
        """The temp table of the lines the line reader rejected: (line, text, error, part)."""
        return quote_ident(f"_json_rejected_{self.table}")

    @property
    def rows(self) -> str:
        """The temp table of the typed rows, one per line holding an object, in order."""
        return quote_ident(f"_json_rows_{self.table}")

    @property
    def bad_table(self) -> str:
        return quote_ident(f"_json_bad_{self.table}")

    @property
    def no_rows_sql(self) -> str:
        """(part, r): the line numbers no row takes, malformed and blank, so that a row's
        number is its line number."""
        return (
            f"SELECT part, line AS r FROM {self.bad_table} UNION "
            f"SELECT n // {PART_LINES}, n % {PART_LINES} FROM {self.lines} WHERE blank"
        )

    @property
    def rejects(self) -> str:
        """The line reader's table of lines DuckDB could not take (invalid UTF-8)."""
        return f"brandlens_json_rejects_{self.table}"

    @property
    def objects_sql(self) -> str:
        """The objects of the good lines, as ``read_json_objects`` gives them."""
        return f"SELECT CAST(line AS JSON) AS json FROM {self.lines} WHERE ok ORDER BY n"


def read_by_lines(
    con: duckdb.DuckDBPyConnection, table: str, file: Path, literal: str
) -> JsonLines | None:
    """Read ``file`` (``literal``: its path as DuckDB reads it literally) by lines into
    temp tables; None, leaving none, when it is not JSON lines (see the module)."""
    jl = JsonLines(table, file)
    try:
        if _number_lines(con, jl, [literal]) is not None:
            drop(con, jl)
            return None
        return _type_lines(con, jl)
    except BaseException:
        drop(con, jl)
        raise


def read_parts_by_lines(
    con: duckdb.DuckDBPyConnection, table: str, parts: list[tuple[str, Path, str]]
) -> JsonLines:
    """Read a folder's JSON parts ((label, path, literal) each, in reading order) by
    lines into temp tables; NotJsonLines, leaving none, names the first part that is
    not JSON lines (see the module)."""
    jl = JsonLines(table, parts[0][1], [(label, path) for label, path, _ in parts])
    try:
        bad = _number_lines(con, jl, [literal for _, _, literal in parts])
        if bad is not None:
            raise NotJsonLines(bad)
        return _type_lines(con, jl)
    except BaseException:
        drop(con, jl)
        raise


def _number_lines(con: duckdb.DuckDBPyConnection, jl: JsonLines, literals: list[str]) -> int | None:
    """The lines of each file into ``jl.lines`` (``csvread.numbered_parts``) and the
    lines the reader rejected into ``jl.rejected``; the place of the first file that is
    not JSON lines, if any."""
    # A line's shape (json_structure) parses it once: NULL when it is not JSON; an
    # object's starts with "{" and names each key once, so an object naming a key twice
    # ({"a": 1, "a": 2}, which read_json refuses: which value is meant?) is no row.
    # Blank lines are no rows either.
    # A line that is null or {} is a row with no values, as read_json reads it.
    shape = "TRY(json_structure(line))"
    ok = (
        f"coalesce(CASE WHEN {shape} IS NULL THEN false WHEN starts_with({shape}, '{{') "
        f"THEN len(json_keys(line)) = len(json_keys({shape})) "
        "WHEN json_type(CAST(line AS JSON)) IN ('NULL', 'OBJECT') THEN true END, false)"
    )
    blank = "nullif(trim(line, ' ' || chr(9) || chr(13)), '') IS NULL"
    columns = f", {ok} AS ok, {blank} AS blank"
    csvread.numbered_parts(
        con,
        jl.table,
        literals,
        jl.rejects,
        jl.lines,
        jl.rejected,
        columns,
        max_line_size=MAX_OBJECT,
    )
    counts = con.execute(
        f"SELECT n // {PART_LINES}, count(*) FILTER (WHERE ok), "
        f"count(*) FILTER (WHERE NOT blank) FROM {jl.lines} GROUP BY ALL"
    ).fetchall()
    rejected_lines = dict(
        con.execute(f"SELECT part, count(*) FROM {jl.rejected} GROUP BY ALL").fetchall()
    )
    by_part = {int(p): (int(good), int(nonblank)) for p, good, nonblank in counts}
    if jl.parts:  # each good line is one row: the rows of each part, counted here once
        jl.part_rows = {part: good for part, (good, _) in by_part.items()}
    for part in range(len(literals)):
        good, nonblank = by_part.get(part, (0, 0))
        nonblank += int(rejected_lines.get(part, 0))
        if len(literals) > 1 and nonblank == 0:  # an empty part (Spark writes some) holds no rows
            continue
        if good == 0 or 2 * good < nonblank:
            return part
    return None


def _type_lines(con: duckdb.DuckDBPyConnection, jl: JsonLines) -> JsonLines:
    """The typed rows of ``jl``'s good lines and its table of malformed lines."""
    # Lines of one shape type alike: the columns' types come from the first line of each
    # shape (json_group_structure over every line held them all: out of memory at a
    # million lines).
    structure = con.execute(
        "SELECT CAST(json_structure(json_group_array(CAST(line AS JSON))) -> 0 AS VARCHAR) "
        f"FROM (SELECT arg_min(line, n) AS line, min(n) AS n FROM {jl.lines} WHERE ok "
        "GROUP BY json_structure(line) HAVING starts_with(json_structure(line), '{') "
        "ORDER BY n)"
    ).fetchone()
    keys = json.loads(structure[0]) if structure and structure[0] else {}
    _type_rows(con, jl, _as_read_json_types(con, jl, keys))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {jl.bad_table} AS SELECT * FROM ("
        f"SELECT n % {PART_LINES} AS line, rtrim(line, chr(13)) AS text, CASE "
        "WHEN NOT json_valid(line) THEN 'MALFORMED JSON' "
        "WHEN json_type(CAST(line AS JSON)) <> 'OBJECT' THEN 'NOT A JSON OBJECT' "
        f"ELSE 'DUPLICATE KEY' END AS error, n // {PART_LINES} AS part "
        f"FROM {jl.lines} WHERE NOT ok AND NOT blank "
        f"UNION ALL SELECT * FROM {jl.rejected}) ORDER BY part, line"
    )
    return jl


BIGINT_MAX = 2**63 - 1


def _as_read_json_types(
    con: duckdb.DuckDBPyConnection, jl: JsonLines, keys: dict[str, Any]
) -> dict[str, str]:
    """Each key's column type as read_json gives it: whole numbers that are never negative
    are UBIGINT to json_structure, BIGINT to read_json (HUGEINT past BIGINT's range); a
    UBIGINT column made ``epoch_ms(ts)`` fail to bind and ``price - discount`` wrap."""
    types = {key: _type(kind) for key, kind in keys.items()}
    unsigned = [k for k, t in types.items() if t == "UBIGINT" and k != ""]
    if unsigned:
        binds = {f"k{i}": "$." + path_step(k) for i, k in enumerate(unsigned)}
        tops = ", ".join(
            f"max(TRY_CAST(json_extract_string(line, $k{i}) AS UBIGINT))"
            for i in range(len(unsigned))
        )
        row = con.execute(f"SELECT {tops} FROM {jl.lines} WHERE ok", binds).fetchone() or ()
        for key, top in zip(unsigned, row, strict=True):
            types[key] = "HUGEINT" if top is not None and int(top) > BIGINT_MAX else "BIGINT"
    return types


def _type_rows(con: duckdb.DuckDBPyConnection, jl: JsonLines, types: dict[str, str]) -> None:
    """The typed rows of the good lines: one ``json_transform`` of the whole object, or,
    where two keys differ only in case or a key is empty (a STRUCT can hold neither),
    one per key."""
    if "" not in types and len({k.lower() for k in types}) == len(types):
        shape = json.dumps(types, ensure_ascii=False)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {jl.rows} AS SELECT unnest(json_transform(line, $s)) "
            f"FROM {jl.lines} WHERE ok ORDER BY n",
            {"s": shape},
        )
        return
    columns, binds = [], {}
    names = csvread.column_names(list(types))  # as read_json names them: Note, note_1
    for i, (name, (key, kind)) in enumerate(zip(names, types.items(), strict=True)):
        if key == "":  # no path names it; the source's key check refuses it, in one line
            continue
        binds[f"k{i}"] = "$." + path_step(key)
        binds[f"t{i}"] = json.dumps(kind)
        columns.append(f"json_transform(json_extract(line, $k{i}), $t{i}) AS {quote_ident(name)}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {jl.rows} AS SELECT {', '.join(columns)} "
        f"FROM {jl.lines} WHERE ok ORDER BY n",
        binds,
    )


def path_step(key: str) -> str:
    """A JSON path step for the key ``key``, quoted: keys may hold dots and spaces."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _type(kind: Any) -> str:
    """The column type of a key from its values' structure: a scalar type as it is (all
    nulls: text), objects and lists as JSON."""
    if not isinstance(kind, str):
        return "JSON"
    return "VARCHAR" if kind == "NULL" else kind


def drop(con: duckdb.DuckDBPyConnection, jl: JsonLines) -> None:
    """Drop the temp tables reading ``jl`` left behind."""
    for name in (jl.lines, jl.rows, jl.bad_table, jl.rejected):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(f'_part_lines_{jl.table}')}")
    for name in (jl.rejects, jl.rejects + "_scans"):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
