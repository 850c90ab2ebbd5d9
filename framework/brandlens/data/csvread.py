"""CSV reading that loses a bad line, never the file or the lines after it.

DuckDB's CSV reader is the fast path: the dialect is pinned and the columns are given
(every one VARCHAR, names from the header line read here), so nothing is sniffed and
a bad value cannot fail the file. Its error recovery, though, is not line-exact: an
unterminated quote swallows the lines after it (up to the next quote, or silently to
the end of the file when the scan is not parallel), and mixed line endings fail the
whole scan. So every fast read is reconciled with a count of the file's physical
lines; when DuckDB fails or the counts differ, the file is read again *by lines*:
one row per physical line (DuckDB's reader with quoting off), fields split in SQL,
and a quoted value may span lines only when the lines it joins parse as one record.
A line that does not parse is one ``malformed_row`` with its real line number.

Python reads only the start of the file: the header line and enough bytes to
recognise another encoding (UTF-16/32) that would otherwise read as garbage.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brandlens.errors import DataError
from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

QUOTE = '"'
HEAD_BYTES = 1 << 16
"""Bytes read to recognise the encoding; the header line may run on up to MAX_HEADER."""
MAX_HEADER = 1 << 20
MAX_COLUMNS = 4096
"""The most columns a CSV file may have: an event log has a few dozen, and each column
is an expression of the statements that read it, so 60,000 empty header fields (a
469 KB file) ran for over 15 minutes, deaf to Ctrl-C, inside DuckDB (a review)."""
MAX_RECORD = 2_000_000
"""Longest record (bytes) a quoted value spanning lines may make: DuckDB's max_line_size."""
LINE_DELIM = "\x1f\x1e\x1d\x1c"
"""The line reader's field separator: four control characters no text line holds."""
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass
class CsvFile:
    """A CSV source: where it is, its pinned dialect and its columns (all text)."""

    table: str
    label: str
    path: str | list[str]  # the form DuckDB reads literally (see sources._literal); parts: each
    delimiter: str
    header: bool
    columns: list[str]
    crlf: bool  # line feeds end lines (LF or CRLF); False: a lone CR does (old Mac files)
    by_lines: bool = False  # read by lines (after DuckDB's scan failed or lost lines)
    file: Path | None = None  # the file itself (for counting its lines in Python)
    repeated: dict[str, list[str]] = field(default_factory=dict)
    """Header names given more than once, case aside: lower-cased name -> as written."""
    header_fields: list[str] = field(default_factory=list)
    """The header line's fields as written (``columns`` are DuckDB's names for them)."""
    parts: list[tuple[str, Path]] = field(default_factory=list)
    """A folder of CSV parts read as one table: (path inside the folder, file), in reading
    order; ``path`` is then the list of their literal paths and ``file`` None."""
    part_rows: dict[int, int] = field(default_factory=dict)
    """Read by lines: the rows of each part, by its place in ``parts``."""

    @property
    def files(self) -> list[Path]:
        """The files the reader opens, in order."""
        if self.parts:
            return [p for _, p in self.parts]
        return [self.file] if self.file is not None else []

    @property
    def rejects(self) -> str:
        """The temp table DuckDB's fast scan records bad lines in."""
        return f"brandlens_rejects_{self.table}"

    @property
    def bad_table(self) -> str:
        """The temp table of this file's malformed lines: (line, text, error)."""
        return quote_ident(f"_csv_bad_{self.table}")

    @property
    def no_rows_sql(self) -> str:
        """(part, r): the data-row numbers no parsed row takes, its malformed lines' (a
        row's number counts them)."""
        header = 1 if self.header else 0
        return f"SELECT DISTINCT part, line - {header} AS r FROM {self.bad_table}"


def inspect(path: Path, label: str, table: str, literal: str, read: Any) -> CsvFile:
    """The file's dialect and column names, from its first bytes; encodings checked.

    ``read`` is the mapping's ReadOptions (or None). A file in UTF-16/32, or whose
    header line is not UTF-8, is a one-line data error that says how to convert it.
    """
    delimiter = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    if read is not None and read.delimiter is not None:
        delimiter = read.delimiter
    header = read.header if read is not None else True
    names = list(read.names) if read is not None and read.names else None
    head = _head(path, label)
    if not head.strip():
        raise DataError(f"{label}: empty file (no header line, no rows)")
    _check_encoding(head, label)
    body = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    end = body.find(b"\n")
    first = body if end < 0 else body[:end]
    cr = first.find(b"\r")
    if end < 0 and cr < 0 and len(head) >= MAX_HEADER:
        raise DataError(f"{label}: line 1 is longer than {MAX_HEADER} bytes; is this a CSV file?")
    crlf = cr < 0 or cr == len(first) - 1
    if not crlf:  # lines end with a lone CR: the first line ends there
        first = first[:cr]
    first = first.rstrip(b"\r")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as e:
        gb = reads_as_gb18030(first)
        raise DataError(
            f"{label}: not UTF-8 text (line 1 has byte 0x{first[e.start]:02X} at position "
            f"{e.start + 1}{'; it reads as GB18030/GBK' if gb else ''}); convert it with "
            f"iconv -f {'GB18030' if gb else '<its encoding>'} -t UTF-8"
        ) from None
    try:
        fields = next(csv.reader([text], delimiter=delimiter, quotechar=QUOTE), [])
    except csv.Error as e:  # e.g. a field longer than the csv module takes
        raise DataError(f"{label}: cannot read the header line ({e})") from None
    if len(fields) > MAX_COLUMNS:
        raise DataError(
            f"{label}: line 1 has {len(fields):,} fields; brandlens reads CSV files of at "
            f"most {MAX_COLUMNS:,} columns (is the delimiter right?)"
        )
    _check_body(body, label, whole=len(head) < HEAD_BYTES)
    if header:
        columns = column_names(fields)
    else:
        columns = column_names(names) if names else column_names([""] * max(len(fields), 1))
    given: dict[str, list[str]] = {}
    for name in fields if header else names or []:
        if name.strip():
            given.setdefault(name.lower(), []).append(name)
    repeated = {k: v for k, v in given.items() if len(v) > 1}
    return CsvFile(
        table,
        label,
        literal,
        delimiter,
        header,
        columns,
        crlf,
        file=path,
        repeated=repeated,
        header_fields=fields if header else [],
    )


def _head(path: Path, label: str) -> bytes:
    """The file's first bytes (decompressed), enough to hold its first line."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            while b"\n" not in head and b"\r" not in head and len(head) < MAX_HEADER:
                more = f.read(HEAD_BYTES)
                if not more:
                    break
                head += more
    except (OSError, EOFError) as e:
        raise DataError(f"{label}: cannot read ({e})") from None
    return head


SAVE_AS_CSV = "save the sheet as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8)"
"""What to do with a spreadsheet: brandlens reads text, not workbooks."""

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")

_WORKBOOK_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
)


def _check_encoding(head: bytes, label: str) -> None:
    """Refuse workbooks, UTF-16/32 (with or without byte-order mark) and NUL-ridden bytes."""
    for magic, kind in _WORKBOOK_MAGIC:
        if head.startswith(magic):
            raise DataError(f"{label}: not CSV text (looks like {kind}); {SAVE_AS_CSV}")
    for bom, family in _BOMS:
        if head.startswith(bom):
            hexes = " ".join(f"{b:02X}" for b in bom)
            raise DataError(
                f"{label}: not UTF-8 text (looks like {family}: byte-order mark {hexes}); "
                f"convert it with iconv -f {family} -t UTF-8"
            )
    if b"\x00" not in head:
        return
    # Without a mark, ASCII text in UTF-16/32 shows as NUL bytes at fixed offsets.
    for width, family in ((4, "UTF-32"), (2, "UTF-16")):
        sample = head[: len(head) - len(head) % width]
        n = len(sample) // width
        zeros = [sample[i::width].count(0) for i in range(width)]
        for codec, text_at in ((f"{family}LE", 0), (f"{family}BE", width - 1)):
            others = [z for i, z in enumerate(zeros) if i != text_at]
            if n and zeros[text_at] < 0.1 * n and min(others) > 0.9 * n:
                raise DataError(
                    f"{label}: not UTF-8 text (looks like {codec} without byte-order mark: "
                    f"NUL bytes between the characters); convert it with iconv -f {codec} "
                    "-t UTF-8"
                )
    raise DataError(f"{label}: not a text file (NUL bytes near the start)")


NOT_UTF8_SHARE = 0.8
"""The share of a file's first lines after the header that, not being UTF-8, make the
whole file refused (each would otherwise be one malformed_row), also where other lines
hold UTF-8 beyond ASCII."""


def _check_body(body: bytes, label: str, whole: bool) -> None:
    """A file whose first lines are nearly all GB18030 (GBK) under a UTF-8 (or ASCII)
    header is refused as a whole, saying how to convert it: read, each line would be one
    INVALID ENCODING row. So is one whose non-UTF-8 lines all read as GB18030 while no
    line shows UTF-8 beyond ASCII: its Chinese text is GBK, and ASCII reads alike in both
    (an export of English and Chinese brands would lose every Chinese row). Stray lines
    in another encoding among UTF-8 text stay quarantined rows.

    ``whole``: ``body`` is the whole file, so its last line is not cut short."""
    lines = body.split(b"\n")[1:]  # the lines after the header
    if lines and (not whole or not lines[-1].strip()):
        lines = lines[:-1]  # cut short by the read, or the file's final line break
    bad = []
    wide = False  # a line of UTF-8 beyond ASCII: the file is UTF-8 where it is text
    for number, line in enumerate(lines, start=2):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append((number, line))
        else:
            wide = wide or not line.isascii()
    if not bad or (wide and len(bad) < NOT_UTF8_SHARE * len(lines)):
        return
    if not all(reads_as_gb18030(line) for _n, line in bad):
        return
    number, line = bad[0]
    rest = "" if len(bad) >= NOT_UTF8_SHARE * len(lines) else ", and none is UTF-8 beyond ASCII"
    raise DataError(
        f"{label}: not UTF-8 text ({len(bad)} of the first {len(lines)} lines, from line "
        f"{number}, read as GB18030/GBK{rest}); convert it with iconv -f GB18030 -t UTF-8"
    )


def reads_as_gb18030(line: bytes) -> bool:
    """Whether a non-UTF-8 line decodes as GB18030 (GBK): common in this domain."""
    try:
        line.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def head_lines(path: Path, size: int = 1 << 16) -> bytes:
    """The whole lines within a (gzipped) file's first ``size`` bytes (the start of one
    too long line when none ends there)."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(size)
    return head[: head.rfind(b"\n") + 1] or head


def gb18030_lines(path: Path, numbers: set[int]) -> set[int]:
    """Which of the physical line ``numbers`` (1 = the first) are not UTF-8 but read as
    GB18030/GBK: a day exported in GBK among UTF-8 ones, joined into one file. Read up
    to the last of them only, and only when DuckDB refused such lines."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    found: set[int] = set()
    if not numbers:
        return found
    last = max(numbers)
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number in numbers:
                line = raw.rstrip(b"\r\n")
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    if reads_as_gb18030(line):
                        found.add(number)
            if number >= last:
                break
    return found


def column_names(names: list[str]) -> list[str]:
    """Column names as DuckDB gives them: empty -> columnNN, repeats -> name_1, name_2.

    Repeats are found case aside, as DuckDB's names are (``Amount`` and ``amount`` in
    one SELECT are one name to its binder)."""
    width = len(str(max(len(names) - 1, 0)))
    seen: set[str] = set()
    out: list[str] = []
    for i, raw in enumerate(names):
        name = raw if raw.strip() else f"column{i:0{width}d}"
        candidate, k = name, 0
        while candidate.lower() in seen:
            k += 1
            candidate = f"{name}_{k}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def fast_reader(f: CsvFile) -> tuple[str, dict[str, Any]]:
    """DuckDB's CSV scan with the dialect and columns pinned: nothing is sniffed.

    Bad lines are recorded in the file's own rejects tables instead of failing it.
    """
    t = f.table
    binds = {
        f"path_{t}": f.path,
        f"delim_{t}": f.delimiter,
        f"header_{t}": f.header,
        f"cols_{t}": {c: "VARCHAR" for c in f.columns},
        f"rejects_{t}": f.rejects,
        f"rejects_scans_{t}": f.rejects + "_scans",
    }
    opts = [
        f"columns=$cols_{t}",
        "auto_detect=false",
        f"header=$header_{t}",
        f"delim=$delim_{t}",
        "quote='\"'",
        "escape='\"'",
        "comment=''",
        "store_rejects=true",
        f"rejects_table=$rejects_{t}",
        f"rejects_scan=$rejects_scans_{t}",
        "ignore_errors=true",
        "hive_partitioning=false",
    ]
    return f"read_csv($path_{t}, {', '.join(opts)})", binds


def _line_reader(f: CsvFile) -> tuple[str, dict[str, Any]]:
    """One row per physical line of ``f`` (see :func:`line_reader`)."""
    return line_reader(f.table, f.path, f.rejects + "_lines", f.crlf)


def line_reader(
    table: str,
    path: str | list[str],
    rejects: str,
    crlf: bool = True,
    max_line_size: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """One row per physical line (column ``line``; NULL for an empty line), quoting off.

    strict_mode=false lets a CRLF line among LF lines end where it should instead of
    failing the scan; lines DuckDB cannot take (invalid UTF-8, longer than its maximum)
    go to the temp table ``rejects`` with their line numbers. ``crlf`` False: a lone CR
    ends a line (old Mac files).
    """
    t = table
    binds: dict[str, Any] = {
        f"lpath_{t}": path,
        "line_delim": LINE_DELIM,
        f"lrejects_{t}": rejects,
        f"lrejects_scans_{t}": rejects + "_scans",
    }
    opts = [
        "columns={'line': 'VARCHAR'}",
        "auto_detect=false",
        "header=false",
        "delim=$line_delim",
        "quote=''",
        "escape=''",
        "comment=''",
        "strict_mode=false",
        "store_rejects=true",
        f"rejects_table=$lrejects_{t}",
        f"rejects_scan=$lrejects_scans_{t}",
        "ignore_errors=true",
        "hive_partitioning=false",
    ]
    if crlf:
        opts.append("new_line='\\r\\n'")
    if max_line_size is not None:  # longer lines are rejected (DuckDB's default: 2 MB)
        opts.append(f"max_line_size={int(max_line_size)}")
    return f"read_csv($lpath_{t}, {', '.join(opts)})", binds


def numbered_lines(
    con: duckdb.DuckDBPyConnection,
    reader: tuple[str, dict[str, Any]],
    rejects: str,
    lines: str,
    columns: str = "",
) -> None:
    """The temp table ``lines`` (n, line) of a line reader's rows, ``n`` each one's line
    number in the file: the lines the reader rejected (temp table ``rejects``) count.
    ``columns`` (``, <expr> AS <name>...`` over ``line``) adds columns in the same pass."""
    sql, binds = reader
    _drop(con, quote_ident(rejects), quote_ident(rejects + "_scans"))  # from an earlier read
    numbered = f"SELECT row_number() OVER () AS n, line FROM {sql}"
    if columns:
        numbered = f"SELECT n, line{columns} FROM ({numbered})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {lines} AS {numbered}", binds)
    if _count(con, f"SELECT count(*) FROM {quote_ident(rejects)}"):
        # The reader gives no row for a line it rejected: the k-th row is line k plus
        # the rejected lines before it (g = rows before the j-th rejected line).
        skipped = quote_ident(f"_skipped_{rejects}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {skipped} AS SELECT line - j AS g, max(j) AS j "
            f"FROM (SELECT line, row_number() OVER (ORDER BY line) AS j FROM "
            f"(SELECT DISTINCT line FROM {quote_ident(rejects)})) GROUP BY ALL"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {lines} AS SELECT r.n + coalesce(s.j, 0) AS n, "
            f"r.* EXCLUDE (n) FROM {lines} r ASOF LEFT JOIN {skipped} s ON r.n > s.g ORDER BY n"
        )
        con.execute(f"DROP TABLE {skipped}")


def reject_lines(table: str) -> str:
    """SQL of (line, text, error, part) per line the scans recorded in rejects ``table``;
    ``part`` is the file's place in the reader's list (0 for a single file), last so that
    the first three columns stay what they were for a single file."""
    return (
        "SELECT e.line AS line, any_value(ltrim(e.csv_line, chr(13) || chr(10))) AS text, "
        "any_value(e.error_type) AS error, e.file_id AS part "
        f"FROM {quote_ident(table)} e GROUP BY e.file_id, e.line"
    )


class LineCount:
    """A file's non-empty lines (``count_lines``), counted on a thread of its own while
    DuckDB reads the file: the count is one more pass over the file, in Python on one
    core, and DuckDB's scan leaves some of the other core idle (10 M events, 870 MB:
    the count took 1.0 s after the load)."""

    def __init__(self, paths: list[Path]):
        self._stop = threading.Event()
        self._lines: list[int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._count, args=(paths,), daemon=True)
        self._thread.start()

    def _count(self, paths: list[Path]) -> None:
        try:
            self._lines = [count_lines(p, stop=self._stop) for p in paths]
        except BaseException as e:  # re-raised by result(), in the caller's thread
            self._error = e

    def per_file(self) -> list[int]:
        """Each file's count, once the thread has them (its error, if reading failed)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._lines is not None
        return self._lines

    def result(self) -> int:
        """The files' lines together."""
        return sum(self.per_file())

    def cancel(self) -> None:
        """Stop counting (the count is no longer needed)."""
        self._stop.set()


def count_lines_of(f: CsvFile) -> LineCount | None:
    """Start counting the lines of a file whose lines ``fast_scan_lost_lines`` counts in
    Python (LF or CRLF line ends); None when DuckDB counts them."""
    return LineCount(f.files) if f.crlf and f.files else None


def fast_scan_lost_lines(
    con: duckdb.DuckDBPyConnection, f: CsvFile, rows: int, counted: LineCount | None = None
) -> bool:
    """Record the fast scan's bad lines; True when its rows and bad lines miss a line, or
    when bad lines follow values spanning lines (their numbers would be records').

    Every non-empty physical line after the header must be a row or a bad line; when
    not (an unterminated quote swallowed lines, a quoted value spans lines, DuckDB lost
    part of a parallel scan) the file is read by lines instead. Counting the lines is
    one more scan of the file, with quoting off.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {f.bad_table} AS {reject_lines(f.rejects)} "
        "ORDER BY part, line"
    )
    bad = _count(con, f"SELECT count(*) FROM {f.bad_table}")
    if f.crlf and f.files:
        # DuckDB's line scan also breaks lines at a lone CR, which inside a quoted value
        # is data ("a\rb"): count line feeds instead.
        lines = counted.result() if counted is not None else sum(map(count_lines, f.files))
    else:
        reader, binds = _line_reader(f)
        lines = _count(con, f"SELECT count(line) FROM {reader}", binds)
        lines += _count(
            con,
            f"SELECT count(DISTINCT (file_id, line)) FROM {quote_ident(f.rejects + '_lines')}",
        )
    expected = lines - ((len(f.files) or 1) if f.header else 0)
    if rows + bad == expected or not (f.crlf and f.files):
        return rows + bad != expected
    # More lines than records: quoted values that span lines, or lines DuckDB lost. The
    # lines a value DuckDB read spans account for themselves; what is left was lost.
    reader, binds = fast_reader(f)
    inside = _count(con, f"SELECT coalesce(sum({inside_lines_sql(f)}), 0) FROM {reader}", binds)
    # DuckDB numbers a bad line by records, so after a value spanning lines its number
    # falls short of the line's: the line reader numbers lines as the docs promise
    return rows + bad + inside != expected or (bad > 0 and inside > 0)


def inside_lines_sql(f: CsvFile) -> str:
    """Per record, the counted lines its quoted values add to its first: one per run of
    line breaks inside a value. ``count_lines`` skips an empty line (nothing, or a lone
    CR), so a blank line inside a value adds none: counting every line feed instead let
    such a surplus hide lines an unclosed quote swallowed elsewhere in the file."""
    runs = "len(regexp_extract_all(replace({c}, chr(13) || chr(10), chr(10)), '\\n+'))"
    return " + ".join(f"coalesce({runs.format(c=quote_ident(c))}, 0)" for c in f.columns)


_EMPTY_NEXT = re.compile(rb"\n(?=\r?\n)")  # a line feed followed by an empty line


class _Stopped(Exception):
    """The count was cancelled."""


def count_lines(path: Path, chunk: int = 1 << 22, stop: threading.Event | None = None) -> int:
    """Non-empty lines of a file whose lines end in LF or CRLF, streamed in C-speed chunks.

    A line holding nothing or only a CR is empty (DuckDB skips it); a lone CR inside a
    line is part of the line. ``stop``, once set, ends the count early (with _Stopped).
    """
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    feeds = empty = 0
    carry = b""
    first = b""
    last = b""
    with opener(path, "rb") as fh:
        while block := fh.read(chunk):
            if stop is not None and stop.is_set():
                raise _Stopped
            if not first:
                first = block[:2]
            feeds += block.count(b"\n")
            buf = carry + block
            limit = len(buf) - 2  # a match at i is decided by buf[i + 1 : i + 3]
            empty += sum(1 for m in _EMPTY_NEXT.finditer(buf) if m.start() < limit)
            carry, last = buf[limit:], block[-1:]
    empty += sum(1 for _ in _EMPTY_NEXT.finditer(carry))
    if not first:
        return 0
    lines = feeds + (0 if last == b"\n" else 1)
    if first.startswith((b"\n", b"\r\n")):  # an empty first line
        empty += 1
    return lines - empty


def _count(con: duckdb.DuckDBPyConnection, sql: str, binds: dict[str, Any] | None = None) -> int:
    # fetchall: DuckDB writes a scan's rejects table only once its result is consumed
    rows = con.execute(sql, binds or {}).fetchall()
    return int(rows[0][0]) if rows else 0


def _rx(c: str) -> str:
    """``c`` as an RE2 escape that is literal both in and outside a character class."""
    return f"\\x{{{ord(c):X}}}"


def _patterns(delimiter: str) -> dict[str, str]:
    """RE2 patterns of the pinned dialect (double quotes, doubled to escape)."""
    d = _rx(delimiter)
    inside = '(?:[^"]|"")*'  # the inside of a quoted value
    quoted = f'"{inside}"'
    bare = f'(?:[^"{d}\\n][^{d}\\n]*)?'  # an unquoted value: anything but a leading quote
    field = f"(?:{quoted}|{bare})"
    plain = f'(?:"[^"{d}]*"|[^"{d}]*)'  # no quote inside a value, no delimiter in quotes
    return {
        "simple": f"{plain}(?:{d}{plain})*",  # splits at every delimiter
        "complete": f"{field}(?:{d}{field})*",
        "opener": f'(?:{field}{d})*"{inside}',  # ends inside a quoted value it opened
        "closer": f'{inside}"(?:{d}{field})*',  # closes one, then complete fields
        "middle": f'{inside}"(?:{d}{field})*{d}"{inside}',  # closes one and opens another
        "field": f"(?:{quoted}|{bare}){d}",
    }


def _fields_sql() -> str:
    """The values of the record in column ``line`` as a list (NULL when it does not parse).

    Most lines split at every delimiter (no quote, or only quoted values without quotes
    or delimiters inside); the rest are cut into fields by RE2 and unquoted.
    """
    unquote = (
        "lambda x: CASE WHEN starts_with(x, '\"') "
        "THEN replace(x[2:-3], '\"\"', '\"') ELSE x[1:-2] END"
    )
    return (
        "CASE WHEN NOT contains(line, '\"') THEN string_split(line, $d) "
        "WHEN regexp_full_match(line, $simple) THEN string_split(replace(line, '\"', ''), $d) "
        "WHEN regexp_full_match(line, $complete) "
        f"THEN list_transform(regexp_extract_all(line || $d, $field), {unquote}) END"
    )


PART_LINES = 1 << 40
"""Lines read by lines from a folder of parts are numbered ``part * PART_LINES + line``:
one order for the whole folder, and a quoted value cannot span two parts (the lines
between them are far more than MAX_RECORD)."""


def numbered_parts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    literals: list[str],
    rejects: str,
    lines: str,
    rejected: str,
    columns: str = "",
    crlf: bool = True,
    max_line_size: int | None = None,
) -> None:
    """:func:`numbered_lines` of each file in turn into the one temp table ``lines``,
    numbered ``PART_LINES`` apart (one file: as it is), and ``rejected`` (line, text,
    error, part) of the lines the line reader could not take, by each one's file."""
    one = quote_ident(f"_part_lines_{table}")
    for part, literal in enumerate(literals):
        reader = line_reader(table, literal, rejects, crlf, max_line_size)
        numbered_lines(con, reader, rejects, lines if part == 0 else one, columns)
        refused = (
            f"SELECT line, text, error, CAST({part} AS BIGINT) AS part FROM "
            f"({reject_lines(rejects)})"
        )
        if part == 0:  # one file: no copy
            con.execute(f"CREATE OR REPLACE TEMP TABLE {rejected} AS {refused}")
            continue
        con.execute(
            f"INSERT INTO {lines} SELECT * REPLACE (n + {part * PART_LINES} AS n) FROM {one}"
        )
        con.execute(f"INSERT INTO {rejected} {refused}")
        con.execute(f"DROP TABLE {one}")


def read_by_lines(con: duckdb.DuckDBPyConnection, f: CsvFile) -> str:
    """Read the file (or each part) one physical line at a time; returns the table of
    parsed rows.

    Lines are numbered as they are in the file. A line holding a quote that does not
    close on it starts a record that runs to the first line closing it (the lines in
    between lie inside the quoted value) only when that record parses with the right
    number of fields and is at most MAX_RECORD bytes; otherwise the line is one
    malformed row and the lines after it are read on their own. Rows keep file order,
    and parts their reading order (``f.part_rows`` then holds each part's rows).
    """
    t = f.table
    f.by_lines = True
    lines = quote_ident(f"_csv_lines_{t}")
    rows = quote_ident(f"_csv_rows_{t}")
    parsed = quote_ident(f"_csv_parsed_{t}")
    rejects = quote_ident(f.rejects + "_lines")
    rejected = quote_ident(f"_csv_rejected_{t}")
    literals = f.path if f.parts and isinstance(f.path, list) else [f.path]
    numbered_parts(con, t, literals, f.rejects + "_lines", lines, rejected, crlf=f.crlf)
    if f.header:  # the first line of each part
        con.execute(f"DELETE FROM {lines} WHERE n % {PART_LINES} = 1")
    p = _patterns(f.delimiter)
    records = _records(con, f, lines, p)
    n = len(f.columns)
    con.execute(  # the text is kept only for lines that do not parse
        f"CREATE OR REPLACE TEMP TABLE {parsed} AS SELECT n, f, "
        f"CASE WHEN f IS NULL OR len(f) <> {n} THEN line END AS text FROM "
        f"(SELECT n, line, {_fields_sql()} AS f FROM {records} WHERE line IS NOT NULL)",
        {k: p[k] for k in ("simple", "complete", "field")} | {"d": f.delimiter},
    )
    cols = ", ".join(f"nullif(f[{i + 1}], '') AS {quote_ident(c)}" for i, c in enumerate(f.columns))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {cols} FROM {parsed} "
        f"WHERE text IS NULL ORDER BY n"
    )
    if f.parts:
        counts = con.execute(
            f"SELECT n // {PART_LINES}, count(*) FROM {parsed} WHERE text IS NULL GROUP BY ALL"
        ).fetchall()
        f.part_rows = {int(part): int(count) for part, count in counts}
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {f.bad_table} AS SELECT * FROM ("
        f"SELECT n % {PART_LINES} AS line, text, CASE "
        "WHEN f IS NULL AND regexp_full_match(text, $opener) THEN 'UNTERMINATED QUOTE' "
        "WHEN f IS NULL THEN 'UNQUOTED VALUE' "
        f"WHEN len(f) > {n} THEN 'TOO MANY COLUMNS' ELSE 'MISSING COLUMNS' END AS error, "
        f"n // {PART_LINES} AS part "
        f"FROM {parsed} WHERE text IS NOT NULL "
        f"UNION ALL SELECT * FROM {rejected}"
        ") ORDER BY part, line",
        {"opener": p["opener"]},
    )
    _drop(con, lines, records, parsed, rejects, rejected)
    _drop(con, quote_ident(f.rejects + "_lines_scans"))
    return rows


MAX_MIDDLES = 100
"""A record may hold at most this many more quoted values spanning lines after its first."""


def _records(con: duckdb.DuckDBPyConnection, f: CsvFile, lines: str, p: dict[str, str]) -> str:
    """The file's records (n = first line, line = text): its lines, joined where a quoted
    value spans lines and the joined lines parse as one record of the right width.

    An opener (a line ending inside a quoted value it opened) continues through the
    lines wholly inside the value (no quote but doubled ones) to the first line that
    is not: a closer ends the record, a line closing the value and opening another goes
    on (a round per such line), anything else leaves the opener alone. Returns
    ``lines`` itself when no line opens a quoted value.
    """
    t = f.table
    opener = (
        "contains(line, '\"') AND NOT regexp_full_match(line, $simple) "
        "AND regexp_full_match(line, $opener)"
    )
    opens = quote_ident(f"_csv_opens_{t}")
    stops = quote_ident(f"_csv_stops_{t}")
    spans = quote_ident(f"_csv_spans_{t}")
    good = quote_ident(f"_csv_good_{t}")
    records = quote_ident(f"_csv_records_{t}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {opens} AS "
        f"SELECT n AS o, n AS cur FROM {lines} WHERE {opener}",
        {"simple": p["simple"], "opener": p["opener"]},
    )
    if not _count(con, f"SELECT count(*) FROM {opens}"):
        con.execute(f"DROP TABLE {opens}")
        return lines
    # The lines not wholly inside a quoted value: a quote that is not doubled.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stops} AS SELECT n FROM {lines} "
        "WHERE contains(replace(line, '\"\"', ''), '\"')"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {spans} (o BIGINT, t BIGINT)")
    step = quote_ident(f"_csv_step_{t}")
    for _ in range(MAX_MIDDLES + 1):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {step} AS SELECT s.o, s.t, "
            "regexp_full_match(l.line, $closer) AS closer, "
            "regexp_full_match(l.line, $middle) AS middle FROM "
            f"(SELECT o.o, s.n AS t FROM {opens} o ASOF JOIN {stops} s ON s.n > o.cur) s "
            f"JOIN {lines} l ON l.n = s.t",
            {"closer": p["closer"], "middle": p["middle"]},
        )
        con.execute(f"INSERT INTO {spans} SELECT o, t FROM {step} WHERE closer")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {opens} AS SELECT o, t AS cur FROM {step} "
            "WHERE middle AND NOT closer"
        )
        if not _count(con, f"SELECT count(*) FROM {opens}"):
            break
    # Within MAX_RECORD bytes and parsing to full width; spans ending on the same line
    # nest (an inner one starts at a line that closes and reopens): the earliest wins.
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE {good} AS
WITH sized AS (
  SELECT c.o, c.t FROM {spans} c JOIN {lines} l ON l.n BETWEEN c.o AND c.t
  WHERE c.t - c.o < {MAX_RECORD} GROUP BY c.o, c.t
  HAVING sum(coalesce(strlen(l.line), 0) + 1) <= {MAX_RECORD}
), joined AS (
  SELECT c.o, c.t, string_agg(coalesce(l.line, ''), chr(10) ORDER BY l.n) AS line
  FROM sized c JOIN {lines} l ON l.n BETWEEN c.o AND c.t GROUP BY c.o, c.t
)
SELECT t, min(o) AS o, arg_min(line, o) AS line FROM (SELECT *, {_fields_sql()} AS f FROM joined)
WHERE len(f) = {len(f.columns)} GROUP BY t
""",
        {k: p[k] for k in ("simple", "complete", "field")} | {"d": f.delimiter},
    )
    # A line closing one span and opening the next belongs to the first span only.
    con.execute(f"DELETE FROM {good} WHERE o IN (SELECT t FROM {good})")
    if not _count(con, f"SELECT count(*) FROM {good}"):
        _drop(con, opens, stops, spans, good, step)
        return lines
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE {records} AS
SELECT n, line FROM (
  SELECT o AS n, line FROM {good}
  UNION ALL
  SELECT l.n, l.line FROM {lines} l ASOF LEFT JOIN {good} s ON l.n >= s.o
  WHERE s.t IS NULL OR l.n > s.t
) ORDER BY n
"""
    )
    _drop(con, opens, stops, spans, good, step)
    return records


def drop(con: duckdb.DuckDBPyConnection, f: CsvFile) -> None:
    """Drop the temp tables reading ``f`` left behind."""
    names = ("_scans", "_lines", "_lines_scans")
    rejects = [quote_ident(f.rejects + suffix) for suffix in ("", *names)]
    # a by-lines read stopped by an error leaves its own tables too
    reading = ("_csv_lines_", "_csv_parsed_", "_csv_rejected_", "_part_lines_")
    _drop(con, *(quote_ident(f"{name}{f.table}") for name in reading))
    _drop(con, f.bad_table, quote_ident(f"_csv_rows_{f.table}"), *rejects)


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for name in tables:
        con.execute(f"DROP TABLE IF EXISTS {name}")
