"""Find the input tables behind a DATA argument and describe how to read them lazily.

DATA is a directory holding ``events.{parquet,csv,jsonl}`` (``.gz`` too) and any
optional table by name, a single events file, or a DuckDB database file holding
those tables. In a directory a table may also be a folder of parts (``events/`` or
``events.parquet/``, as Spark and Hive export them): Parquet, JSON-lines or CSV files
(one header line for all), read as one table in path order. Files are read by DuckDB
(read_parquet / read_csv / read_json), never row by row in Python; paths reach SQL
only as bound parameters, and only in a form DuckDB cannot expand (see ``_literal``):
brandlens reads the paths it was given.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brandlens.data import csvread, jsonread
from brandlens.data.csvread import CsvFile
from brandlens.data.jsonread import JsonLines
from brandlens.data.mapping import Mapping, check_zone
from brandlens.data.schema import TABLES, columns_of
from brandlens.errors import DataError, first_line
from brandlens.fileio import database_path
from brandlens.plugin.sqlcheck import UnknownColumns, check_expression, quote_ident, used_binds

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

_SUFFIXES = (
    ".parquet",
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
    ".json",
    ".json.gz",
    ".txt",
    ".txt.gz",
)
_SYNONYMS = {
    "ts": ("time", "timestamp", "event_time", "datetime", "date", "event_ts", "created_at"),
    "user_id": ("user", "uid", "userid", "customer_id", "customer", "member_id", "buyer_id"),
    "event_type": ("type", "event", "action", "behavior_type", "behavior", "event_name"),
}
_DB_SUFFIXES = (".duckdb", ".db", ".ddb")


@dataclass(frozen=True)
class Part:
    """One file of a table given as a folder of parts."""

    file: str  # absolute path: what DuckDB's ``filename`` column says of its rows
    label: str  # its path inside the folder, as the quarantine names it


@dataclass
class TableSource:
    """One canonical table's source: a FROM clause, its binds and its columns."""

    table: str
    label: str
    from_sql: str
    binds: dict[str, Any]
    columns: dict[str, str]  # source column -> DuckDB type
    select_list: str = ""  # canonical columns selected from the source
    present: set[str] = field(default_factory=set)  # canonical columns the source provides
    file: str | None = None  # the resolved file the reader opens (file sources only)
    csv: CsvFile | None = None  # CSV sources: dialect and columns; read by lines if needed
    json_lines: JsonLines | None = None  # a JSON lines file read by lines (data.jsonread)
    failed: set[str] = field(default_factory=set)  # derived columns with a failure flag
    inputs: dict[str, list[str]] = field(default_factory=dict)  # derived -> source columns
    parts: list[Part] = field(default_factory=list)  # a folder of parts, in reading order
    folder_columns: dict[str, str] = field(default_factory=dict)  # dt=... names: name -> folder
    in_place: bool = False  # validated where it lies (data.inplace), not copied
    expressions: dict[str, str] = field(default_factory=dict)  # canonical -> source SQL
    ts_timezone: str | None = None  # the zone of times without an offset ($ts_zone); None: UTC
    header_check: bool = False  # selects _header_again: the row repeats the CSV header line

    def source_column(self, canonical: str) -> str | None:
        """The source column ``canonical`` is read from as it is (by its name or a
        mapping's rename); None for a derive, or a column the source lacks."""
        expr = self.expressions.get(canonical, "")
        return expr[1:-1].replace('""', '"') if expr.startswith('"') else None

    @property
    def files(self) -> list[str]:
        """Every file the reader opens: the parts in reading order, or the one file."""
        if self.parts:
            return [part.file for part in self.parts]
        return [self.file] if self.file else []

    @property
    def is_json(self) -> bool:
        """Whether the source is JSON (read by read_json, or by lines)."""
        return self.json_lines is not None or self.from_sql.startswith("read_json(")

    @property
    def read_by_lines(self) -> CsvFile | JsonLines | None:
        """The CSV or JSON lines file whose malformed lines validation counts (their
        temp table ``bad_table``: line, text, error, part), if any."""
        return self.csv if self.csv is not None else self.json_lines

    @property
    def select_sql(self) -> str:
        """The canonical columns from the source (which may change to the by-lines read)."""
        return f"SELECT {self.select_list} FROM {self.from_sql}"


@dataclass
class Source:
    """The resolved DATA argument."""

    label: str
    tables: dict[str, TableSource]


@dataclass(frozen=True)
class InMemoryData:
    """Tables given as Python columns (lists of strings or None), e.g. by the test harness.

    Values go through the same validation as files do; they reach DuckDB as bound
    list parameters, one statement per table.
    """

    tables: dict[str, dict[str, list[Any]]]
    label: str = "<memory>"


def _load_memory(con: duckdb.DuckDBPyConnection, data: InMemoryData) -> dict[str, TableSource]:
    tables: dict[str, TableSource] = {}
    for table, columns in data.tables.items():
        if table not in TABLES:
            raise DataError(f"{data.label}: unknown table {table!r}")
        names = list(columns)
        binds = {
            f"c{i}": [None if v is None else str(v) for v in columns[n]]
            for i, n in enumerate(names)
        }
        cols = ", ".join(
            f"unnest(CAST($c{i} AS VARCHAR[])) AS {quote_ident(n)}" for i, n in enumerate(names)
        )
        target = quote_ident(f"_mem_{table}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT {cols}", binds)
        tables[table] = TableSource(table, f"{data.label}:{table}", target, {}, {})
    if "events" not in tables:
        raise DataError(f"{data.label}: no events table")
    return tables


def _suffix(p: Path) -> str | None:
    name = p.name.lower()
    return next((s for s in sorted(_SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)


_GLOB_CHARS = frozenset("*?[")


def _literal(path: Path) -> str:
    """``path`` in the one form DuckDB's file readers take literally.

    read_csv / read_parquet / read_json expand ``*``, ``?``, ``[..]`` and a leading
    ``~`` in any path, bound parameter or not (a one-element list too). The resolved
    absolute path has no ``~`` and no search-path lookup, and each glob character
    becomes a one-character class (``[*]``, ``[?]``, ``[[]``) that matches only itself.
    """
    return escape_glob(str(path.resolve()))


def escape_glob(path: str) -> str:
    """An absolute path with each glob character as a class matching only itself.

    A path holding a glob character is a pattern to DuckDB, and in a pattern DuckDB
    reads a backslash as a folder separator, even on Linux where it is part of a name:
    ``d/x\\..\\..\\o\\e[1].csv`` matched ``o/e[1].csv`` outside the folder named, a
    file none of brandlens' checks had seen (found by a hostile-input review). Such a
    path is refused; a backslash alone is read as written.
    """
    if os.sep != "\\" and "\\" in path and any(c in _GLOB_CHARS for c in path):
        raise DataError(
            f"{path}: DuckDB cannot read a file whose path holds a backslash beside "
            "'*', '?' or '[' as named (it reads the backslash as a folder separator); "
            "rename the file, or the folder on its path"
        )
    return "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in path)


def reader_of(path: Path) -> str:
    """DuckDB's reader of a data file, by its suffix: read_parquet, read_json or read_csv."""
    suffix = _suffix(path) or ""
    if suffix == ".parquet":
        return "read_parquet"
    return "read_json" if suffix.startswith((".json", ".jsonl", ".ndjson")) else "read_csv"


def _file_source(path: Path, table: str, label: str, mapping: Mapping | None) -> TableSource:
    bind = f"path_{table}"
    reader = reader_of(path)
    literal = _literal(path)
    resolved = str(path.resolve())
    # hive_partitioning=false: a folder named brand=X is a name, not a column value
    if reader == "read_parquet":
        from_sql = f"read_parquet(${bind}, hive_partitioning=false)"
        return TableSource(table, label, from_sql, {bind: literal}, {}, file=resolved)
    if reader == "read_json":
        from_sql = f"read_json(${bind}, format='auto', sample_size=-1, hive_partitioning=false)"
        return TableSource(table, label, from_sql, {bind: literal}, {}, file=resolved)
    # CSV: dialect pinned, columns named from the header line (all text), nothing sniffed;
    # bad lines are quarantined as malformed_row (see csvread).
    read = mapping.read if mapping is not None else None
    csv_file = csvread.inspect(path, label, table, literal, read)
    from_sql, binds = csvread.fast_reader(csv_file)
    columns = {c: "VARCHAR" for c in csv_file.columns}
    return TableSource(table, label, from_sql, binds, columns, file=resolved, csv=csv_file)


PART_READERS = ("read_parquet", "read_json", "read_csv")
"""Readers of a folder of parts (CSV parts need one header line: see _csv_parts_source)."""
_PART_SUFFIXES = ", ".join(
    s for s in _SUFFIXES if not s.endswith(".gz") and reader_of(Path(s)) in PART_READERS
)
"""The suffixes a part may have, for messages (each also gzipped): .parquet, .jsonl, …"""


_LOGGED_TABLES = {"_delta_log": "Delta Lake", ".hoodie": "Hudi"}
"""Table formats whose log, not the folder, says which files hold live rows."""


def parts_of(folder: Path, label: str) -> list[Path]:
    """The data files of a table given as a folder, in the order they are read."""
    return [p for _, p in _walk_parts(folder, label)]


def _walk_parts(folder: Path, label: str) -> list[tuple[str, Path]]:
    """(path inside the folder, absolute path) of each part, in reading order.

    Every file below ``folder`` (subfolders such as Hive's ``dt=2025-06-01/`` too; a
    folder name is never a column value) except names starting with ``.`` or ``_``:
    the marker, checksum and temporary files Spark and Hadoop leave (``_SUCCESS``,
    ``.part-0.crc``, ``_temporary/``). Sorted by the path inside the folder, so the
    order does not depend on the file system; a symbolic link to a folder is an error
    (not followed, it would leave its parts out unsaid). Any other file must be a
    regular data file, all of one kind, and no file may be read twice under two names
    (a link)."""
    import stat

    folder = folder.resolve()  # once: every part's path is built under it
    for marker, kind in _LOGGED_TABLES.items():
        if (folder / marker).exists():
            raise DataError(
                f"{label}: a {kind} table ({marker}/ says which of its files hold live "
                "rows, and brandlens reads files, not that log); export it to Parquet"
            )
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder, onerror=_raise):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        inside = Path(root).relative_to(folder).as_posix()
        prefix = "" if inside == "." else inside + "/"
        linked = [d for d in dirs if Path(root, d).is_symlink()]
        if linked:  # os.walk would pass it by: its parts' rows neither read nor counted
            raise DataError(
                f"{label}: {prefix}{linked[0]} is a link to a folder, which brandlens does "
                "not follow inside a folder of parts (a loop, or two paths to the same "
                "parts, would count rows twice); move the folder in, or link the parts"
            )
        found += [(prefix + f, Path(root, f)) for f in files if not f.startswith((".", "_"))]
    found.sort(key=lambda part: part[0])
    if not found:
        raise DataError(f"{label}: no data files in the folder")
    for rel, p in found:
        _refuse_non_utf8(p, f"{label}: {rel!a}")
    kinds: dict[str, str] = {}
    seen: dict[tuple[int, int], str] = {}
    for rel, p in found:
        try:
            st = p.stat()
        except OSError as e:
            raise DataError(f"{label}: cannot read {rel} ({e.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{label}: {rel} is not a regular file")
        if _suffix(p) is None:
            raise DataError(
                f"{label}: {rel} is not a data file ({_PART_SUFFIXES}, optionally .gz); "
                "every file in a folder of parts is read"
            )
        kinds.setdefault(reader_of(p), rel)
        other = seen.setdefault((st.st_dev, st.st_ino), rel)
        if other != rel:
            raise DataError(f"{label}: {other} and {rel} are the same file; keep one")
    if len(kinds) > 1:
        raise DataError(f"{label}: parts of more than one kind ({', '.join(kinds.values())})")
    reader = next(iter(kinds))
    own = _suffix(folder)  # a folder named events.parquet holds Parquet parts
    if own is not None and reader_of(folder) != reader:
        raise DataError(f"{label}: the folder's name says {own}, its files are not")
    return found


def _refuse_non_utf8(path: Path, what: str) -> None:
    """DuckDB opens only paths that are UTF-8 text: a name in another encoding (bytes
    Python keeps as surrogates) was 'Python Conversion Failure: cannot encode str'."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(
            f"{what}: a file or folder name on this path is not UTF-8 text, and DuckDB "
            "opens only UTF-8 names; rename it (convmv -f GBK -t UTF-8 renames a GBK name)"
        ) from None


def _raise(error: OSError) -> None:
    raise DataError(f"{error.filename}: cannot read the folder ({error.strerror})")


def _parts_source(
    folder: Path, table: str, label: str, mapping: Mapping | None = None
) -> TableSource:
    """A table read from a folder of parts: one reader over the list of their paths.

    ``union_by_name``: a column missing from older parts reads as NULL there, and a
    column's type is one every part's values fit. A part is named by its path inside
    the folder, which does not depend on how DATA was spelled (a cached dataset keeps it).
    """
    found = _walk_parts(folder, label)
    bind = f"path_{table}"
    reader = reader_of(found[0][1])
    if reader == "read_csv":
        return _csv_parts_source(found, table, label, mapping)
    options = "hive_partitioning=false, union_by_name=true"
    if reader == "read_json":
        options = f"format='auto', sample_size=-1, {options}"
    # the paths are absolute and their folders resolved: DuckDB's filename column gives
    # back exactly str(path), by which validation finds each part's rows
    parts = [Part(str(p), rel) for rel, p in found]
    from_sql = f"{reader}(${bind}, {options})"
    binds = {bind: [escape_glob(str(p)) for _, p in found]}
    named = _folder_columns(found)
    return TableSource(table, label, from_sql, binds, {}, parts=parts, folder_columns=named)


def _folder_columns(found: list[tuple[str, Path]]) -> dict[str, str]:
    """Hive-style folder names among the parts' paths (``brand=Aurora``): column -> the
    first such folder."""
    named: dict[str, str] = {}
    for rel, _ in found:
        for segment in rel.split("/")[:-1]:
            if "=" in segment:
                named.setdefault(segment.split("=", 1)[0], segment)
    return named


def _csv_parts_source(
    found: list[tuple[str, Path]], table: str, label: str, mapping: Mapping | None
) -> TableSource:
    """A folder of CSV parts (daily exports, Spark's part-*.csv) as one table.

    Each part is inspected as a CSV file is (encoding, dialect, header line), and all
    must agree: one reader reads them with one list of columns, so a part whose header
    differs would have its values put under another part's names. Rows are numbered
    within their part, as a single file's are.
    """
    read = mapping.read if mapping is not None else None
    # an empty partition's file (Spark writes 0 bytes for one) holds no rows to read
    found = [(rel, p) for rel, p in found if p.stat().st_size > 0]
    if not found:
        raise DataError(f"{label}: every CSV part is empty (0 bytes)")
    inspected = [
        (rel, p, csvread.inspect(p, f"{label}/{rel}", table, escape_glob(str(p)), read))
        for rel, p in found
    ]
    first_rel, _, first = inspected[0]
    for rel, _, f in inspected[1:]:
        differs = _csv_difference(first, f, first_rel, rel)
        if differs:
            raise DataError(
                f"{label}: {differs}; the CSV parts of a folder are read as one table with "
                "one header line"
            )
    first.path = [escape_glob(str(p)) for _, p, _ in inspected]
    first.parts = [(rel, p) for rel, p, _ in inspected]
    first.file = None
    first.label = label
    from_sql, binds = csvread.fast_reader(first)
    columns = {c: "VARCHAR" for c in first.columns}
    parts = [Part(str(p), rel) for rel, p in found]
    return TableSource(
        table,
        label,
        from_sql,
        binds,
        columns,
        csv=first,
        parts=parts,
        folder_columns=_folder_columns(found),
    )


def _csv_difference(a: csvread.CsvFile, b: csvread.CsvFile, a_rel: str, b_rel: str) -> str:
    """How part ``b`` is read differently from part ``a`` ('' when it is not)."""
    if a.delimiter != b.delimiter:
        return f"{b_rel} is separated by {b.delimiter!r} where {a_rel} is by {a.delimiter!r}"
    if a.crlf != b.crlf:
        return f"{b_rel} ends its lines otherwise than {a_rel} (a lone CR against LF or CRLF)"
    if a.header_fields != b.header_fields or a.columns != b.columns:
        fields = ", ".join(b.header_fields or b.columns)
        return f"{b_rel} has another header line ({fields}) than {a_rel}"
    return ""


def unused_column(ts: TableSource, name: str) -> str:
    """``name``, or ``name_2``, ``name_3``...: the first no column of the source has
    (DuckDB compares names without case), for a column a reader adds, such as a part's
    file name."""
    taken = {c.lower() for c in ts.columns}
    if ts.csv is not None:
        taken |= {c.lower() for c in ts.csv.columns}
    chosen, n = name, 1
    while chosen.lower() in taken:
        n += 1
        chosen = f"{name}_{n}"
    return chosen


def part_counts_sql(ts: TableSource, column: str) -> str:
    """Rows per part of ``ts`` (a folder of parts): ``SELECT <file>, count(*)``; the file
    name is read as ``column``, renamed when the source has a column of that name."""
    assert ts.parts, ts.label
    column = unused_column(ts, column)
    reader = ts.from_sql[:-1] + f", filename={_sql_string(column)})"
    where = ""
    if ts.csv is not None:  # a line is checked (its encoding) only in the columns read
        every = " + ".join(f"length(coalesce({quote_ident(c)}, ''))" for c in ts.csv.columns)
        where = f" WHERE {every} >= 0"
    return f"SELECT {quote_ident(column)}, count(*) FROM {reader}{where} GROUP BY ALL"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def table_entries(path: Path) -> list[Path]:
    """The files and folders of parts in the folder ``path`` that a run reads as tables."""
    if not path.is_dir():
        return []
    return [
        p
        for p in sorted(path.iterdir())
        if any(_matches(p, t) or is_table_folder(p, t) for t in TABLES)
    ]


def read_as(path: Path) -> str:
    """How DATA's name, as given, makes it be read (for the cache key): a folder of
    events parts or of tables, or a file by its suffix (``e.tsv`` with tabs, ``e.csv``
    with commas, though both may link to one file)."""
    if path.is_dir():
        return "parts" if is_table_folder(path, "events") else "folder"
    if path.name.lower().endswith(_DB_SUFFIXES):
        return "database"
    return _suffix(path) or path.suffix.lower()


def data_files(path: Path) -> list[Path]:
    """Every file DATA may read (for the cache key): the path, or a directory's table
    files and the files of its folders of parts, or a folder of events parts itself.

    Other files beside the tables are never read, so they leave the key as it is: the
    report ``brandlens demo`` writes into its market's folder, say, made every later
    command on the market validate it again. A DuckDB database is read with its
    write-ahead log (``<file>.wal``, left by a writer that did not checkpoint).
    """
    if not path.is_dir():
        if path.name.lower().endswith(_DB_SUFFIXES):
            resolved = path.resolve()  # a database is attached, with its log, where it lies
            wal = resolved.with_name(resolved.name + ".wal")
            if wal.is_file():
                return [path, wal]
        return [path]
    entries = table_entries(path)
    if not entries and is_table_folder(path, "events"):
        return parts_of(path, str(path))
    out = [p for p in entries if p.is_file()]
    for folder in (p for p in entries if p.is_dir()):
        out += parts_of(folder, str(folder))
    return out


def _describe(con: duckdb.DuckDBPyConnection, ts: TableSource) -> dict[str, str]:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {ts.from_sql}", ts.binds).fetchall()
    except duckdb.Error as e:
        raise DataError(f"{ts.label}: cannot read ({first_line(e)})") from None
    return {r[0]: r[1] for r in rows}


def _describe_json(con: duckdb.DuckDBPyConnection, ts: TableSource) -> dict[str, str]:
    """A JSON source's columns; a JSON lines file (or folder of parts) DuckDB cannot read
    as a whole (a line that is not JSON, or not an object) is read by lines instead
    (``data.jsonread``)."""
    failed: DataError | None = None
    try:
        columns = _describe(con, ts)
        if columns != jsonread.ONE_JSON_COLUMN:
            return _pin_json_columns(ts, columns)
    except DataError as e:
        failed = e
    if ts.parts or ts.file is not None:
        if read_json_by_lines(con, ts):
            return ts.columns
        if failed is not None:  # not JSON lines: what DuckDB said stands
            raise _with_encoding_hint(failed, ts) from None
        return columns
    if failed is not None:
        raise failed
    raise DataError(
        f"{ts.label}: some lines are not JSON objects, so DuckDB reads every line as one "
        "json column"
    )


def _with_encoding_hint(error: DataError, ts: TableSource) -> DataError:
    """DuckDB's "invalid UTF-8" about a JSON file none of whose lines it could read,
    with how to convert it when its start reads as GB18030/GBK (as a CSV file's would)."""
    if "UTF-8" not in str(error):
        return error
    file = ts.parts[0].file if ts.parts else ts.file
    assert file is not None
    if not csvread.reads_as_gb18030(csvread.head_lines(Path(file))):
        return error
    return DataError(
        f"{ts.label}: not UTF-8 text (it reads as GB18030/GBK); convert it with "
        "iconv -f GB18030 -t UTF-8"
    )


def read_json_by_lines(con: duckdb.DuckDBPyConnection, ts: TableSource) -> bool:
    """Read a JSON lines source (a file or a folder of parts) by lines from now on: its
    rows become a temp table, its columns described again. False, changing nothing, for
    a file that is not JSON lines; a part that is not is a one-line error naming it.

    Called when DuckDB's reader fails on the source: while describing it, or at the load
    (a line naming twice a key the load reads: DuckDB refuses it only where it reads)."""
    import duckdb

    if ts.parts:
        parts = [(p.label, Path(p.file), escape_glob(p.file)) for p in ts.parts]
        try:
            jl = jsonread.read_parts_by_lines(con, ts.table, parts)
        except jsonread.NotJsonLines as e:
            raise _not_json_lines_part(con, ts, ts.parts[e.part]) from None
        except duckdb.Error as e:
            raise DataError(f"{ts.label}: cannot read ({first_line(e)})") from None
    else:
        assert ts.file is not None, ts.label
        try:
            literal = ts.binds[f"path_{ts.table}"]
            found = jsonread.read_by_lines(con, ts.table, Path(ts.file), literal)
        except duckdb.Error:
            found = None
        if found is None:
            return False
        jl = found
    reader = (f"path_{ts.table}", f"cols_{ts.table}")  # the whole read's own binds
    ts.json_lines, ts.from_sql = jl, jl.rows
    ts.binds = {k: v for k, v in ts.binds.items() if k not in reader}
    ts.columns = _describe(con, ts)
    return True


_JSON_KEPT_TYPES = ("BIGINT", "UBIGINT", "HUGEINT", "UHUGEINT", "DOUBLE", "BOOLEAN", "VARCHAR")


def _pin_json_columns(ts: TableSource, columns: dict[str, str]) -> dict[str, str]:
    """The columns a JSON source was found to have, given to its reader from here on.

    ``read_json`` with ``sample_size=-1`` reads every object to find the columns' types
    (about 2 s per million lines), and did so at every read: the description, each
    derive's binding, the load. With the columns given it parses values only (0.16 s
    per million). Text it recognised as dates or times is given as text (its format
    is detected only when it infers): validation types it as it types CSV text, the
    same values, since JSON's scalars are read as their text. Keys DuckDB renamed
    (``note`` beside ``Note`` read as ``note_1``) cannot be named by their column, so
    such a source keeps inferring."""
    import re

    lowered = {c.lower() for c in columns}
    for c in columns:
        renamed = re.fullmatch(r"(.*)_\d+", c)
        if renamed is not None and renamed.group(1).lower() in lowered:
            return columns
    pinned = {
        c: t
        if t in _JSON_KEPT_TYPES
        or t.startswith(("DECIMAL", "STRUCT", "MAP", "UNION", "JSON"))
        or t.endswith("]")
        else "VARCHAR"  # dates, times, UUIDs and all-null keys ("NULL") as their text
        for c, t in columns.items()
    }
    bind = f"cols_{ts.table}"
    ts.from_sql = ts.from_sql.replace("sample_size=-1", f"columns=${bind}")
    ts.binds = {**ts.binds, bind: pinned}
    return pinned


def _not_json_lines_part(con: duckdb.DuckDBPyConnection, ts: TableSource, part: Part) -> DataError:
    """The error for a part of a folder of JSON parts that is not JSON lines (most of its
    lines are not one object each: one JSON array, objects over several lines): what
    DuckDB says of that part, as it stands for one such file."""
    import duckdb

    sql = "DESCRIBE SELECT * FROM read_json($p, format='auto', sample_size=-1)"
    try:
        rows = con.execute(sql, {"p": escape_glob(part.file)}).fetchall()
    except duckdb.Error as e:
        return DataError(f"{ts.label}: {part.label}: cannot read ({first_line(e)})")
    if {r[0]: r[1] for r in rows} == jsonread.ONE_JSON_COLUMN:
        return DataError(
            f"{ts.label}: {part.label}: most lines are not JSON objects (42, [1, 2]), so it "
            "is not JSON lines"
        )
    return DataError(
        f"{ts.label}: {part.label}: most lines are not one JSON object each, as JSON lines "
        "are; write one object per line"
    )


def open_source(
    con: duckdb.DuckDBPyConnection,
    data: str | Path | InMemoryData,
    mapping: Mapping | None,
    describe: bool = True,
) -> Source:
    """Resolve DATA into table sources and check required columns (fail fast).

    ``describe=False`` only finds the tables and names them (for a cached dataset of
    the same files): reading the columns of a folder of parts opens every part.
    """
    if isinstance(data, InMemoryData):
        tables = _load_memory(con, data)
        for ts in tables.values():
            ts.columns = _describe(con, ts)
            _plan_select(ts, mapping if ts.table == "events" else None)
        return Source(data.label, tables)
    path = Path(data)
    label = str(data)
    if not path.exists():
        raise DataError(f"{label}: no such file or directory")
    _refuse_non_utf8(path.absolute(), ascii(label)[1:-1])
    tables: dict[str, TableSource] = {}
    if path.is_dir():
        for table in TABLES:
            found = [
                p for p in sorted(path.iterdir()) if _matches(p, table) or is_table_folder(p, table)
            ]
            if len(found) > 1:
                names = ", ".join(p.name for p in found)
                raise DataError(f"{label}: more than one {table} file ({names}); keep one")
            if found and found[0].is_dir():
                table_mapping = mapping if table == "events" else None
                tables[table] = _parts_source(found[0], table, str(found[0]), table_mapping)
            elif found:
                table_mapping = mapping if table == "events" else None
                tables[table] = _file_source(found[0], table, str(found[0]), table_mapping)
        if not tables and is_table_folder(path, "events"):  # DATA is itself the parts
            tables["events"] = _parts_source(path, "events", label, mapping)
        if "events" not in tables:
            sheets = [p.name for p in sorted(path.iterdir()) if _is_spreadsheet(p, "events")]
            hint = f"; {sheets[0]} is a spreadsheet: {csvread.SAVE_AS_CSV}" if sheets else ""
            raise DataError(
                f"{label}: no events file (expected events.parquet, events.csv, events.tsv "
                f"or events.jsonl, optionally gzipped, or a folder events/ of parts){hint}"
            )
    elif path.name.lower().endswith(_DB_SUFFIXES):
        tables = _database_tables(con, path, label)
    elif _suffix(path):
        tables["events"] = _file_source(path, "events", label, mapping)
    elif _is_spreadsheet(path):
        raise DataError(f"{label}: a spreadsheet is not read; {csvread.SAVE_AS_CSV}")
    else:
        raise DataError(
            f"{label}: not a directory, DuckDB database or events file "
            "(.parquet, .csv, .jsonl, optionally .gz)"
        )
    if not describe:
        return Source(label, tables)
    try:
        for ts in tables.values():
            _describe_and_check(con, ts, mapping if ts.table == "events" else None)
    except BaseException:  # a JSON file read by lines holds temp tables: none outlive this
        for ts in tables.values():
            if ts.json_lines is not None:
                jsonread.drop(con, ts.json_lines)
        raise
    return Source(label, tables)


def _describe_and_check(
    con: duckdb.DuckDBPyConnection, ts: TableSource, mapping: Mapping | None
) -> None:
    """A table source's columns, its planned SELECT, and the checks made before a row of
    it is read (JSON keys, ids that would lose digits, derives that cannot bind)."""
    if ts.is_json:
        ts.columns = _describe_json(con, ts)
    elif ts.csv is None:
        ts.columns = _describe(con, ts)
    if ts.is_json:
        _check_json_keys(con, ts, mapping)
    _plan_select(ts, mapping)
    if ts.parts and ts.from_sql.startswith("read_parquet("):
        _refuse_lossy_ids(con, ts)
        _refuse_mixed_zones(con, ts)
    elif ts.is_json:
        _refuse_lossy_json_ids(con, ts)
    if mapping is not None:
        _bind_derives(con, ts, mapping)


def _bind_derives(con: duckdb.DuckDBPyConnection, ts: TableSource, mapping: Mapping) -> None:
    """Each derive bound against the source before any row is read: DuckDB's binder
    refuses what no row can fix (a strptime format read from a column, a format it does
    not know, a type that does not fit), which is the mapping's problem to name (exit
    2), not the data's. Binding reads no row of a Parquet or CSV source; a JSON one
    is read once to find its columns, for all derives together."""
    import duckdb

    from brandlens.errors import UsageError

    def bind(targets: list[str]) -> None:
        items = ", ".join(ts.expressions[t] for t in targets)
        sql = f"DESCRIBE SELECT {items} FROM {ts.from_sql}"
        con.execute(sql, used_binds(sql, ts.binds))

    targets = list(mapping.derive)
    if not targets:
        return
    try:  # all at once: binding a JSON source reads it (sample_size=-1), once
        bind(targets)
    except duckdb.Error:
        for target in targets:  # then one at a time, to name the one refused
            try:
                bind([target])
            except duckdb.Error as e:
                raise UsageError(
                    f"{mapping.origin}: derive {target}: DuckDB cannot run it on "
                    f"{ts.label} ({first_line(e)})"
                ) from None
        raise


_FLOATING = ("DOUBLE", "FLOAT")


def _refuse_mixed_zones(con: duckdb.DuckDBPyConnection, ts: TableSource) -> None:
    """Parquet parts whose ts is a UTC instant in one part and a wall-clock time in
    another are read together as instants: the wall-clock times become UTC whatever
    zone they were written in (``--ts-timezone`` included), and the report could not say
    which were read how. Such parts are refused, naming a part of each kind."""
    column = ts.source_column("ts")
    if column is None or ts.columns.get(column) != "TIMESTAMP WITH TIME ZONE":
        return
    rows = con.execute(
        "SELECT file_name, logical_type FROM parquet_schema($files) WHERE name = $n "
        "AND logical_type LIKE 'TimestampType(%'",
        {"files": [escape_glob(p.file) for p in ts.parts], "n": column},
    ).fetchall()
    kinds = {"isAdjustedToUTC=1" in str(kind): file for file, kind in rows}
    if len(kinds) < 2:
        return
    rel = {p.file: p.label for p in ts.parts}
    named = "" if column == "ts" else f" ({column})"
    raise DataError(
        f"{ts.label}: ts{named} is a UTC instant in {rel.get(kinds[True])} and a time "
        f"without a zone in {rel.get(kinds[False])}; read together, the times without a "
        "zone would be taken as UTC whatever zone they are in: write every part's ts "
        "alike (all with a time zone, or all without)"
    )


def _refuse_lossy_ids(con: duckdb.DuckDBPyConnection, ts: TableSource) -> None:
    """Parquet parts whose id column is an integer in one part and a float in another
    (pandas writes ids with a missing value as floats) are read as floats: ids past
    2^53 then lose digits, and two distinct ids become one (a duplicate_event_id that
    is not). Such parts are refused, naming the column and a part of each type; the
    footers are read only when the union of the parts is a float."""
    ids = _float_ids(ts)
    if not ids:
        return
    rows = con.execute(
        "SELECT file_name, name, type FROM parquet_schema($files) WHERE list_contains($n, name)",
        {"files": [escape_glob(p.file) for p in ts.parts], "n": list(ids)},
    ).fetchall()
    rel = {p.file: p.label for p in ts.parts}
    for column, canonical in ids.items():
        kinds = {kind: file for file, name, kind in rows if name == column}
        whole = next((k for k in kinds if k.startswith("INT")), None)
        if whole is not None and any(k in _FLOATING for k in kinds):
            floating = next(k for k in kinds if k in _FLOATING)
            named = "" if column == canonical else f" ({column})"
            integer = {"INT64": "BIGINT", "INT32": "INTEGER"}.get(whole, whole)
            raise DataError(
                f"{ts.label}: {canonical}{named} is {integer} in {rel.get(kinds[whole])} and "
                f"{floating} in {rel.get(kinds[floating])}; read together as {floating}, ids "
                "past 2^53 lose digits and two ids can become one; write every part's "
                "ids as integers (or as text)"
            )


JSON_KEYS_SAMPLE = 1000
"""How many objects of a JSON source have their keys looked at before it is read."""


def _check_json_keys(
    con: duckdb.DuckDBPyConnection, ts: TableSource, mapping: Mapping | None
) -> None:
    """The keys of a JSON source's first objects, as a CSV header's names are checked:

    an empty key made DuckDB read every line as one map, and the error then said the
    columns ts, user_id and event_type were missing; two spellings of a key brandlens
    reads (``user_id`` and ``USER_ID``: DuckDB renames the second ``USER_ID_1``) left
    which one holds the values to a guess. Both are one-line data errors."""
    objects, binds = _json_objects(ts)
    sql = (
        "SELECT DISTINCT unnest(json_keys(json)) FROM "
        f"(SELECT json FROM {objects} LIMIT {JSON_KEYS_SAMPLE}) "
        "WHERE json_type(json) = 'OBJECT'"
    )
    keys = [str(k) for (k,) in con.execute(sql, binds).fetchall()]
    if "" in keys:
        raise DataError(
            f'{ts.label}: its objects have an empty key (""), which makes DuckDB read each '
            "line as one map with no column by name; name or remove that key"
        )
    read = {c.name.lower() for c in columns_of(TABLES[ts.table])}
    if mapping is not None:
        read |= {src.lower() for src in mapping.columns.values()}
    spellings: dict[str, list[str]] = {}
    for key in sorted(keys):
        spellings.setdefault(key.lower(), []).append(key)
    for lower, given in sorted(spellings.items()):
        if len(given) > 1 and lower in read:
            raise DataError(
                f"{ts.label}: its objects name the key {lower!r} {len(given)} ways "
                f"({', '.join(given)}); which one holds the values is not clear: rename "
                "or remove the others"
            )


def _float_ids(ts: TableSource) -> dict[str, str]:
    """Source column -> canonical text column (an id) it is read into as a float."""
    return {
        column: c.name
        for c in columns_of(TABLES[ts.table])
        if c.sql_type == "VARCHAR"
        and (column := ts.source_column(c.name)) is not None
        and ts.columns.get(column) in _FLOATING
    }


def _refuse_lossy_json_ids(con: duckdb.DuckDBPyConnection, ts: TableSource) -> None:
    """JSON lines (one file or parts) whose id column holds whole numbers beside numbers
    with decimals (pandas writes 2.0 for an id column with a missing value) are read as
    DOUBLE: a whole number past 2^53 then loses digits and two ids can become one. Such
    a source is refused, naming the column and an id that would change; the objects are
    read again only when an id column is read as a float."""
    ids = _float_ids(ts)
    if not ids:
        return
    objects, binds = _json_objects(ts)
    sql = (
        f"SELECT json ->> $key FROM {objects} "
        "WHERE json_type(json -> $key) IN ('UBIGINT', 'BIGINT') "
        "AND abs(CAST(json ->> $key AS HUGEINT)) > 9007199254740992 LIMIT 1"
    )
    for column, canonical in ids.items():
        found = con.execute(sql, {**binds, "key": f"$.{jsonread.path_step(column)}"}).fetchone()
        if found is not None:
            named = "" if column == canonical else f" ({column})"
            raise DataError(
                f"{ts.label}: {canonical}{named} holds whole numbers past 2^53 ({found[0]}) "
                "beside numbers with decimals; read together as DOUBLE, they lose digits "
                "and two ids can become one; write the ids as integers (or as text)"
            )


def _json_objects(ts: TableSource) -> tuple[str, dict[str, Any]]:
    """FROM a JSON source's objects (column ``json``), in file order, and its binds: the
    files' objects, or the good lines of a file read by lines."""
    if ts.json_lines is not None:
        return f"({ts.json_lines.objects_sql})", {}
    files = [escape_glob(f) for f in ts.files]
    return "read_json_objects($files, format='auto')", {"files": files}


def _database_tables(
    con: duckdb.DuckDBPyConnection, path: Path, label: str
) -> dict[str, TableSource]:
    """The base tables of a DuckDB file, read with the connection's file access off.

    A database can hold views, macros and defaults that read any file or URL (say
    ``SELECT content FROM read_text('/etc/passwd')``). It is attached read-only and
    external access is switched off before any of its objects is read, for the rest of
    the connection's life; only base tables are read, and a view under a canonical
    name is refused rather than run or silently skipped.
    """
    import duckdb

    try:
        db = database_path(path.resolve(), "", DataError)
        con.execute("ATTACH $db AS src (READ_ONLY)", {"db": db})
    except duckdb.Error as e:
        raise DataError(f"{label}: cannot open as a DuckDB database ({first_line(e)})") from None
    con.execute("SET enable_external_access = false")
    kinds = dict(
        con.execute(
            "SELECT table_name, 'table' FROM duckdb_tables() "
            "WHERE database_name = 'src' AND schema_name = 'main' "
            "UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
            "WHERE database_name = 'src' AND schema_name = 'main'"
        ).fetchall()
    )
    tables: dict[str, TableSource] = {}
    for table in TABLES:
        if kinds.get(table) == "view":
            raise DataError(
                f"{label}: {table} is a view; brandlens reads only tables from a database "
                f"(a view can run any query), so store {table} as a table"
            )
        if kinds.get(table) == "table":
            from_sql = f"src.main.{quote_ident(table)}"
            tables[table] = TableSource(table, f"{label}:{table}", from_sql, {}, {})
    if "events" not in tables:
        raise DataError(f"{label}: the database has no table named events")
    return tables


def _matches(p: Path, table: str) -> bool:
    name = p.name.lower()
    return p.is_file() and any(name == table + s for s in _SUFFIXES)


def input_files(data: str | Path) -> list[Path]:
    """The files DATA names, found as :func:`open_source` finds them, without reading
    any: what a run must never write over."""
    path = Path(data)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found: list[Path] = []
    folders = [path] if is_table_folder(path, "events") else []
    for p in sorted(path.iterdir()):
        if any(_matches(p, table) for table in TABLES):
            found.append(p)
        elif any(is_table_folder(p, table) for table in TABLES):
            folders.append(p)
    for folder in folders:
        found += [f for f in folder.rglob("*") if f.is_file()]
    return found


def refuse_writing_inputs(
    data: str | Path,
    mapping: str | Path | None,
    outputs: dict[str, str | Path | None],
    other_inputs: dict[str, str | Path | None] | None = None,
) -> None:
    """A usage error when an output (``{"--output": path}``) is a file the run reads:
    DATA itself, one of its tables' files, the mapping, or another input the command
    names (``{"--benchmark": path}``). Writing it would replace the user's file with the
    result (a hard link or another spelling of the same path too: files are compared by
    device and inode)."""
    from brandlens.errors import UsageError

    existing = {what: Path(out) for what, out in outputs.items() if out is not None}
    existing = {what: out for what, out in existing.items() if out.is_file()}
    if not existing:
        return
    inputs = {_identity(f): "DATA" for f in input_files(data)}
    if mapping is not None and Path(mapping).is_file():
        inputs[_identity(Path(mapping))] = "the mapping"
    for what, given in (other_inputs or {}).items():
        if given is not None and Path(given).is_file():
            inputs[_identity(Path(given))] = what
    for what, out in existing.items():
        role = inputs.get(_identity(out))
        if role is not None:
            raise UsageError(
                f"{what} {out}: is a file this run reads ({role}); writing it would replace "
                "it: choose another path"
            )


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _is_spreadsheet(p: Path, table: str | None = None) -> bool:
    """A workbook (``events.xlsx``): named for ``table`` when one is given."""
    name = p.name.lower()
    suffixes = csvread.SPREADSHEET_SUFFIXES
    if table is None:
        return name.endswith(suffixes)
    return p.is_file() and any(name == table + s for s in suffixes)


def is_table_folder(p: Path, table: str) -> bool:
    """A folder of parts named after ``table``: ``events/`` or ``events.parquet/``, say."""
    name = p.name.lower()
    return p.is_dir() and (name == table or any(name == table + s for s in _SUFFIXES))


def _spellings(ts: TableSource) -> list[str]:
    """Every spelling of a header name given more than once, case aside."""
    repeated = ts.csv.repeated if ts.csv is not None else {}
    return [n for given in repeated.values() for n in given]


def _refuse_repeated(ts: TableSource, read: set[str]) -> None:
    """A column read from a CSV header that names it more than once (case aside) is a
    data error: which of the two holds the values is a guess brandlens does not make.
    Names are read as written, so only a spelling equal to the name read counts."""
    repeated = ts.csv.repeated if ts.csv is not None else {}
    for name in sorted(read):
        given = repeated.get(name.lower())
        if given and name in given:
            raise DataError(
                f"{ts.label}: the header names column {name!r} {len(given)} times "
                f"({', '.join(given)}); which one holds the values is not clear: rename "
                "or remove the others"
            )


def _plan_select(ts: TableSource, mapping: Mapping | None) -> None:
    """Build the SELECT of canonical columns from the source, applying the mapping."""
    from brandlens.errors import PluginError, UsageError

    specs = columns_of(TABLES[ts.table])
    canonical = {c.name for c in specs}
    source_cols = list(ts.columns)
    exprs: dict[str, str] = {}
    failed: dict[str, str] = {}  # derived column -> "its source value failed to convert"
    inputs: dict[str, list[str]] = {}  # derived column -> the source columns it reads
    read: set[str] = set()  # the source columns the canonical ones are read from
    if mapping is not None:
        for target in list(mapping.columns) + list(mapping.derive):
            if target not in canonical:
                raise UsageError(f"{mapping.origin}: {target!r} is not a canonical events column")
        _refuse_repeated(ts, set(mapping.columns.values()))  # before "not in the file"
        for target, src in mapping.columns.items():
            if src not in ts.columns:
                close = _closest(src, source_cols)
                hint = f" (closest: {', '.join(close)})" if close else ""
                if ts.csv is not None and not mapping.read.header and not mapping.read.names:
                    hint = (
                        f" (with read: {{header: false}} the file's {len(source_cols)} "
                        f"columns have no names but {', '.join(source_cols[:2])}, ...: "
                        "name them with read.names, in order)"
                    )
                raise DataError(
                    f"{ts.label}: mapping reads column {src!r}, which is not in the file{hint}"
                )
            exprs[target] = quote_ident(src)
            read.add(src)
        text_cols = [c for c, t in ts.columns.items() if t == "VARCHAR"]
        for target, expr in mapping.derive.items():
            what = f"{mapping.origin}: derive {target}"
            try:  # what runs is the checked tree, rendered back: never the raw text
                # a name given twice is allowed here, so that it is refused as such below
                allowed = source_cols + _spellings(ts)
                checked = check_expression(expr, allowed, what, text_cols)
            except UnknownColumns as e:  # as a column mapped under columns: exit 1
                raise DataError(f"{ts.label}: {e.message}") from None
            except PluginError as e:
                raise UsageError(e.message) from None
            for zone in sorted(checked.zones):  # a literal: the mapping's to fix, exit 2
                check_zone(zone, what)
            # TRY: a value that fails to convert is NULL in its row, never an error that
            # fails the file; where the strict form raises, the source value was there but
            # bad, so the column counts as present and gets its own reason, not missing.
            exprs[target] = f"TRY({checked.sql})"
            read |= checked.columns
            if checked.columns:
                inputs[target] = sorted(checked.columns)
                failed[target] = (
                    f"CASE WHEN {exprs[target]} IS NULL "
                    f"THEN TRY(({checked.strict_sql}) IS NULL) IS NULL ELSE false END"
                )
    unmapped = {c.name for c in specs if c.name not in exprs}  # read by their own names
    _refuse_repeated(ts, read | unmapped)
    for c in specs:
        if c.name in exprs:
            continue
        if c.name in ts.columns:
            exprs[c.name] = quote_ident(c.name)
            continue
        # a header's Brand or " user_id " (Excel exports, hand-typed headers) is the column
        alike = [n for n in source_cols if n not in read and n.strip().lower() == c.name]
        if len(alike) > 1:
            raise DataError(
                f"{ts.label}: the header names column {c.name!r} {len(alike)} ways "
                f"({', '.join(repr(n) for n in alike)}); which one holds the values is not "
                "clear: rename or remove the others"
            )
        if alike:
            _refuse_repeated(ts, {alike[0]})  # Brand,BRAND: the reader renamed the second
            exprs[c.name] = quote_ident(alike[0])
            read.add(alike[0])
    for column, segment in ts.folder_columns.items():
        if column in canonical and column not in exprs:  # its values are only in names
            raise DataError(
                f"{ts.label}: folder {segment} names column {column}, which the parts do "
                f"not hold; brandlens reads values from files, never from folder names, so "
                f"write {column} into the files"
            )
    missing = [c.name for c in specs if c.required and c.name not in exprs]
    if (
        missing
        and ts.is_json
        and list(ts.columns) == ["json"]
        and (
            ts.columns["json"] in ("JSON", "MAP(VARCHAR, JSON)")  # nothing, or {} alone
        )
    ):
        raise DataError(  # what DuckDB gives a JSON file with no key anywhere
            f"{ts.label}: no object in it has a key (an empty file, or only blank lines or {{}})"
        )
    if missing:
        seps = [s for s in ";|\t" if len(source_cols) == 1 and s in source_cols[0]]
        # a column read already (event_id as itself) is no candidate for another, and a
        # header that is one column holding a separator is no name at all
        free = [] if seps else [c for c in source_cols if c not in read and c not in exprs]
        hints = [f"{m} -> {', '.join(c)}" for m in missing if (c := _closest(m, free))]
        hint = f"; closest in header: {'; '.join(hints)}" if hints else ""
        if ts.csv is not None and seps:  # one column holding the real separator
            hint += (
                f"; the header is one column holding {seps[0]!r}: if that separates the "
                f"fields, give a mapping with read: {{delimiter: {_yaml_quoted(seps[0])}}} "
                "(docs/data.md)"
            )
        elif (
            not hints
            and ts.table == "events"
            and not (mapping and (mapping.columns or mapping.derive))
        ):
            hint += (
                "; name the file's columns with a mapping, e.g. --mapping m.yaml holding "
                "columns: {ts: <its time column>, user_id: ..., event_type: ...} "
                "(docs/data.md, Mappings)"
            )
        has = "its objects' keys are" if ts.is_json else "header has"
        raise DataError(
            f"{ts.label}: missing required column(s) {', '.join(missing)}{hint}; "
            f"{has}: {', '.join(source_cols) or 'no columns'}"
        )
    ts.present = set(exprs)
    ts.expressions = dict(exprs)
    parts = [f"{exprs.get(c.name, 'NULL')} AS {quote_ident(c.name)}" for c in specs]
    excluded = "false"
    if mapping is not None and "event_type" in exprs and mapping.event_types:
        src = f"CAST({exprs['event_type']} AS VARCHAR)"
        keep = {k: v for k, v in mapping.event_types.items() if v is not None}
        drop = [k for k, v in mapping.event_types.items() if v is None]
        ts.binds["et_from"] = list(keep) or [""]
        ts.binds["et_to"] = list(keep.values()) or [""]
        ts.binds["et_drop"] = drop or [""]
        parts[[c.name for c in specs].index("event_type")] = (
            f"CASE WHEN list_contains($et_from, {src}) "
            f"THEN list_extract($et_to, list_position($et_from, {src})) "
            f"ELSE {src} END AS {quote_ident('event_type')}"
        )
        excluded = f"coalesce(list_contains($et_drop, {src}), false)"
    parts.append(f"{excluded} AS _excluded")
    csv_file = ts.csv
    if csv_file is not None and csv_file.header and len(csv_file.columns) > 1:
        # every field equal to its header field: the header again, where files were
        # joined with their headers (cat part-*.csv)
        same = []
        for i, (name, text) in enumerate(
            zip(csv_file.columns, csv_file.header_fields, strict=True)
        ):
            ts.binds[f"hdr_{i}"] = text if text != "" else None
            field = quote_ident(name)
            if i == 0:  # a joined file's own byte-order mark (Excel's "CSV UTF-8")
                bom = f"starts_with({field}, chr(65279))"
                field = f"(CASE WHEN {bom} THEN {field}[2:] ELSE {field} END)"
            same.append(f"{field} IS NOT DISTINCT FROM $hdr_{i}")
        parts.append(f"({' AND '.join(same)}) AS _header_again")
        ts.header_check = True
    parts += [f"{sql} AS {quote_ident(failed_flag(name))}" for name, sql in failed.items()]
    parts += [
        f"{quote_ident(col)} AS {quote_ident(input_alias(name, i))}"
        for name, cols in inputs.items()
        for i, col in enumerate(cols)
    ]
    ts.failed = set(failed)
    ts.inputs = inputs
    if mapping is not None and mapping.ts_timezone is not None and "ts" in exprs:
        ts.ts_timezone = mapping.ts_timezone
    ts.select_list = ", ".join(parts)


def failed_flag(column: str) -> str:
    """The selected flag saying a derived column's source value failed to convert."""
    return f"_failed_{column}"


def input_alias(column: str, i: int) -> str:
    """The selected ``i``-th source column a derived column reads: passed through
    untouched, so that a failing row's source JSON shows what the derive was given."""
    return f"_input_{column}_{i}"


def _yaml_quoted(text: str) -> str:
    """``text`` as a YAML scalar that reads back as itself: double quotes, so that a
    hint's "\\t" is a tab when pasted into a mapping (YAML's single quotes keep it as
    two characters, which read.delimiter refuses)."""
    return json.dumps(text)


def _closest(name: str, candidates: list[str]) -> list[str]:
    """Header names that look like ``name``: spelling neighbours and common synonyms."""
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    close += [s for s in _SYNONYMS.get(name, ()) if s in lowered and s not in close]
    return [lowered[c] for c in close]
