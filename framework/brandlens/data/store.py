"""The dataset store: where validated tables live, the views plugins read, and the cache.

Validation writes typed tables into a *store* (schema ``brandlens_data`` of a DuckDB
database); plugins never see it: they read the canonical views ``main.events``,
``main.users``, ... that :func:`create_views` lays over it, which also turn the
narrow stored forms back into canonical columns (integer ids into text, a generated
event_id from its digest).

A store in a file is a *dataset file*. Every run on files keeps one in the cache
(keyed by the sources' names, sizes and modification times, the mapping, the time
zone, the event vocabulary and the brandlens and DuckDB versions), so the next
command on the same data skips loading and validation; ``brandlens load DATA --into
FILE`` writes one where the user says, and every command accepts it as DATA.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from brandlens import __version__
from brandlens.data.schema import TABLES, columns_of
from brandlens.data.sources import data_files, read_as
from brandlens.data.validation import (
    DATA_SCHEMA,
    DIGEST,
    ID_TEXT,
    INTEGRAL,
    OCCURRENCE,
    QUARANTINE_TABLE,
)
from brandlens.engine.result import CacheReport, ValidationReport
from brandlens.errors import DataError, UsageError, first_line
from brandlens.fileio import database_path
from brandlens.plugin.sqlcheck import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

STORE_FORMAT = 6
"""Bumped whenever what a store holds changes; older stores are then rebuilt (6: the
word epoch, NaN and infinite targets, targets ending before they start and numbers in
text columns are validated as they now are, so an older cache entry could hold rows
validation now refuses; 5: the
report lists each reason's most frequent values; 4: a quarantined row names the column
its reason is about; 3: text event ids that spell a BIGINT are stored as numbers, the
others in ``_id_text``)."""
STORE_ALIAS = "brandlens_store"
"""The name a file store is attached under."""
_META = "_meta"
DATASET_SUFFIXES = (".duckdb", ".db", ".ddb")
DEFAULT_CACHE_MAX_GB = 20.0


def store_schema(catalog: str) -> str:
    """The quoted ``catalog.schema`` of a store."""
    return f"{quote_ident(catalog)}.{quote_ident(DATA_SCHEMA)}"


def quarantine_table(catalog: str) -> str:
    return f"{store_schema(catalog)}.{quote_ident(QUARANTINE_TABLE)}"


def create_views(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """The canonical views in ``main`` over the stored tables of ``catalog``."""
    store = store_schema(catalog)
    for table in TABLES:
        stored = f"{store}.{quote_ident(table)}"
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {stored}").fetchall()}
        exprs = []
        for c in columns_of(TABLES[table]):
            col = quote_ident(c.name)
            if table == "events" and c.name == "event_id" and DIGEST in types:
                # The id as a number, or as text (ID_TEXT), or made from the row's content.
                text = f", {quote_ident(ID_TEXT)}" if ID_TEXT in types else ""
                exprs.append(
                    f"coalesce(CAST({col} AS VARCHAR){text}, "
                    f"'h' || lpad(lower(to_hex({DIGEST})), 16, '0') "
                    f"|| '-' || CAST({OCCURRENCE} AS VARCHAR)) AS {col}"
                )
            elif types[c.name] != c.sql_type:
                exprs.append(f"CAST({col} AS {c.sql_type}) AS {col}")
            else:
                exprs.append(col)
        if table == "events":
            exprs.append("local_date")
        con.execute(
            f"CREATE OR REPLACE VIEW main.{quote_ident(table)} AS "
            f"SELECT {', '.join(exprs)} FROM {stored}"
        )


@dataclass
class StoredMeta:
    """What a store remembers about how it was made."""

    report: ValidationReport
    source_columns: dict[str, set[str]]
    timezone: str
    mapping: str | None
    vocabulary: list[str]


def write_meta(con: duckdb.DuckDBPyConnection, catalog: str, meta: StoredMeta) -> None:
    values = {
        "format": str(STORE_FORMAT),
        "brandlens_version": __version__,
        "report": meta.report.model_dump_json(),
        "source_columns": json.dumps({t: sorted(c) for t, c in meta.source_columns.items()}),
        "timezone": meta.timezone,
        "mapping": meta.mapping or "",
        "vocabulary": json.dumps(sorted(meta.vocabulary)),
    }
    target = f"{store_schema(catalog)}.{quote_ident(_META)}"
    con.execute(
        f"CREATE OR REPLACE TABLE {target} AS "
        "SELECT unnest(CAST($k AS VARCHAR[])) AS key, unnest(CAST($v AS VARCHAR[])) AS value",
        {"k": list(values), "v": list(values.values())},
    )


class DamagedStore(Exception):
    """A store of this format whose metadata or tables are not what a load writes."""


def read_meta(con: duckdb.DuckDBPyConnection, catalog: str) -> StoredMeta | None:
    """The store's metadata, or None when ``catalog`` is no brandlens store of this format.

    DamagedStore when it says it is one and its metadata does not read as a load wrote
    it (a key missing, JSON or a report that does not parse, an unknown time zone)."""
    import duckdb

    from brandlens.data.mapping import known_zone

    try:
        rows = dict(
            con.execute(
                f"SELECT key, value FROM {store_schema(catalog)}.{quote_ident(_META)}"
            ).fetchall()
        )
    except duckdb.Error:
        return None
    if rows.get("format") != str(STORE_FORMAT):
        return None
    try:
        cols = json.loads(rows["source_columns"])
        meta = StoredMeta(
            report=ValidationReport.model_validate_json(rows["report"]),
            source_columns={str(t): {str(x) for x in c} for t, c in cols.items()},
            timezone=str(rows["timezone"]),
            mapping=rows["mapping"] or None,
            vocabulary=[str(v) for v in json.loads(rows["vocabulary"])],
        )
    except KeyError as e:
        raise DamagedStore(f"its metadata has no {e.args[0]!r}") from None
    # JSON, pydantic, wrong shapes; RecursionError: JSON nested past Python's stack
    except (ValueError, TypeError, AttributeError, RecursionError) as e:
        raise DamagedStore(f"its metadata does not read ({first_line(e)})") from None
    if not known_zone(meta.timezone):
        raise DamagedStore(f"its metadata names an unknown time zone {meta.timezone!r}")
    return meta


def store_damage(
    con: duckdb.DuckDBPyConnection, catalog: str, meta: StoredMeta, contents: bool
) -> str:
    """What in the store's tables a load would not have written ('' when nothing).

    Always (catalog lookups and counts, a few milliseconds): each canonical column, of
    its type or (text) an integer; events' DATE local_date; each table's rows as many
    as its report accepted, read = accepted + quarantined. With ``contents`` (a dataset
    file given as DATA, which anyone can write, not a cache entry of the user's own):
    no stored row misses a required value or holds a value outside its vocabulary or
    enum, as validation guarantees (one scan per table: about 20 ms at 10 M events).
    """
    store = store_schema(catalog)
    reports = {t.table: t for t in meta.report.tables}
    for table in TABLES:
        stored = f"{store}.{quote_ident(table)}"
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {stored}").fetchall()}
        specs = columns_of(TABLES[table])
        for c in specs:
            kind = types.get(c.name)
            if kind is None:
                return f"its {table} table has no column {c.name}"
            if kind != c.sql_type and not (c.sql_type == "VARCHAR" and kind in INTEGRAL):
                return f"its {table}.{c.name} is {kind}, not {c.sql_type}"
        if table == "events" and types.get("local_date") != "DATE":
            return "its events table has no DATE local_date"
        report = reports.get(table)
        accepted = report.rows_accepted if report is not None else 0
        held = int(con.execute(f"SELECT count(*) FROM {stored}").fetchone()[0])
        if held != accepted:
            return f"its {table} table holds {held} rows where its report accepted {accepted}"
        if report is not None and report.rows_read != accepted + report.rows_quarantined:
            return f"its report of {table} does not add up (read != accepted + quarantined)"
        if not contents or not held:
            continue
        required = [f"{quote_ident(c.name)} IS NULL" for c in specs if c.required]
        if required:  # answered from the column statistics: under a millisecond
            sql = f"SELECT count(*) FROM {stored} WHERE {' OR '.join(required)}"
            missing = int(con.execute(sql).fetchone()[0])
            if missing:
                return f"{missing} row(s) of its {table} table miss a required value"
        closed = {c.name: set(c.enum or (meta.vocabulary if c.vocabulary else [])) for c in specs}
        closed = {name: values for name, values in closed.items() if values}
        if closed:  # the values of each closed column, in one scan
            lists = ", ".join(f"list(DISTINCT CAST({quote_ident(n)} AS VARCHAR))" for n in closed)
            found = con.execute(f"SELECT {lists} FROM {stored}").fetchone()
            for (name, allowed), values in zip(closed.items(), found, strict=True):
                outside = sorted(v for v in values or [] if v is not None and v not in allowed)
                if outside:
                    return f"its {table}.{name} holds {outside[0]!r}, which validation refuses"
    return ""


# ---- the cache -----------------------------------------------------------------------


PRIVATE_FOLDER = 0o700
"""The mode of a cache folder brandlens makes."""
PRIVATE_FILE = 0o600
"""The mode of every file in the cache: each entry is a copy of a user's validated log
(a review found them readable by every local user)."""


def cache_dir() -> Path:
    """BRANDLENS_CACHE_DIR, else $XDG_CACHE_HOME/brandlens, else ~/.cache/brandlens."""
    explicit = os.environ.get("BRANDLENS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "brandlens"


class CacheWarning(UserWarning):
    """The cache folder could not be made: the run goes on and keeps nothing."""


def checked_cache_dir() -> Path:
    """The cache folder, refused in one line when its path is a file (or a link to one),
    or lies under one, so that it can never be made: every run would otherwise validate
    again without a word, and ``cache info`` report an empty cache."""
    root = cache_dir()
    blocking = next((p for p in [root, *root.parents] if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        what = "BRANDLENS_CACHE_DIR" if os.environ.get("BRANDLENS_CACHE_DIR") else "cache folder"
        why = (
            "a file, not a folder"
            if blocking == root
            else f"{blocking} is a file, so it cannot be made"
        )
        raise UsageError(
            f"{what} {root}: {why}; name a folder (made if missing), or set "
            "BRANDLENS_CACHE=0 to keep nothing"
        )
    return root


def cache_enabled() -> bool:
    """The cache is on unless BRANDLENS_CACHE is 0, false, no or off."""
    return os.environ.get("BRANDLENS_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_max_bytes() -> int:
    """BRANDLENS_CACHE_MAX_GB in bytes (default 20 GB); a value that is not a size is a
    usage error, not a silent default."""
    raw = os.environ.get("BRANDLENS_CACHE_MAX_GB", "").strip() or str(DEFAULT_CACHE_MAX_GB)
    try:
        gb = float(raw)
    except ValueError:
        gb = -1.0
    if not 0 <= gb < 1e9:
        raise UsageError(f"BRANDLENS_CACHE_MAX_GB: expected gigabytes (0 or more), got {raw!r}")
    return int(gb * 1e9)


def cache_path(data: Path, mapping_json: str | None, timezone: str, vocabulary: list[str]) -> Path:
    """Where the store of DATA read this way lives in the cache.

    ``<data id>-<content id>.duckdb``: the data id names DATA (its resolved path, what
    the name it was given by makes of it, and how it is read), the content id adds every
    file's size, modification time, inode and status-change time, so a changed file
    gives a new name and the old entry is removed when the new one is made. The last two
    catch what the first two miss: a file rewritten at the same size with its
    modification time set back (``cp -p``, ``rsync -t``, ``tar x``, ``touch -d``), or
    replaced by another (``mv``); no tool sets the status-change time. Which files are
    read is decided on DATA as given, as ``open_source`` decides it: through a link
    named ``events`` a folder is its parts, and a link ``e.tsv`` to a file is read with
    tabs where ``e.csv`` to it is not.
    """
    import duckdb

    resolved = data.resolve()
    how = json.dumps(
        [
            str(resolved),
            read_as(Path(os.path.abspath(data))),  # by the name as given, links not followed
            mapping_json,
            timezone,
            sorted(vocabulary),
            __version__,
            duckdb.__version__,
            STORE_FORMAT,
        ]
    )
    files = data_files(data)
    stats = [
        (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        for p in files
        for st in [p.stat()]
    ]
    data_id = hashlib.sha256(how.encode()).hexdigest()[:16]
    content_id = hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]
    return cache_dir() / f"{data_id}-{content_id}.duckdb"


def forget_other_versions(entry: Path) -> None:
    """Remove older entries of the same data, then the least recently used over the cap."""
    remove_unfinished()
    data_id = entry.name.split("-")[0]
    for other in entry.parent.glob(f"{data_id}-*.duckdb"):
        if other != entry:
            with contextlib.suppress(OSError):
                other.unlink()
    entries = sorted(cache_entries(), key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in entries)
    for old in entries:
        if total <= cache_max_bytes() or old == entry:
            break
        total -= old.stat().st_size
        with contextlib.suppress(OSError):
            old.unlink()


def cache_entries() -> list[Path]:
    root = cache_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*.duckdb") if p.is_file())


def touch(entry: Path) -> None:
    """Mark an entry as just used (eviction removes the least recently used first)."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def clear_cache() -> tuple[int, int]:
    """Remove every cache entry and the remembered plugin checks; return (entries, bytes)
    of the entries removed."""
    from brandlens.plugin.sqlcheck import memo_files

    if cache_enabled():
        checked_cache_dir()
    for memo in memo_files(cache_dir()):
        with contextlib.suppress(OSError):
            memo.unlink()
    n = size = 0
    for p in cache_entries():
        with contextlib.suppress(OSError):
            s = p.stat().st_size
            p.unlink()
            n += 1
            size += s
    remove_unfinished(older_than=0)
    return n, size


STALE_AFTER = 3600.0
"""Seconds after which an unfinished store nobody writes to any more is a killed run's."""


def remove_unfinished(older_than: float = STALE_AFTER) -> None:
    """Remove half-written stores (``.NAME.XXXX.tmp``) that a killed run left in the cache."""
    import time

    root = cache_dir()
    if not root.is_dir():
        return
    now = time.time()
    for stale in [*root.glob(".*.duckdb.*.tmp"), *root.glob(".*.duckdb.*.tmp.wal")]:
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime >= older_than:
                stale.unlink()


def looks_like_dataset_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(DATASET_SUFFIXES)


def written_by_brandlens(path: Path) -> bool:
    """Whether the DuckDB file ``path`` is a brandlens dataset file, of any format: one
    ``load --into`` may replace. Anything else (a database of the user's own, a file
    DuckDB cannot open) is not brandlens' to replace."""
    import duckdb

    try:
        with duckdb.connect(database_path(path, "--into"), read_only=True) as con:
            row = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t",
                {"s": DATA_SCHEMA, "t": _META},
            ).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])


def attach_store(
    con: duckdb.DuckDBPyConnection, path: Path, given: bool = False
) -> StoredMeta | None:
    """Attach a file read-only as the store; None (and detached) when it is not one.

    ``given``: the file is DATA itself (not a cache entry, which a change of format
    only misses); a dataset file another brandlens format wrote is then a DataError
    saying how to make it again, not a database without an events table.
    """
    import duckdb

    db = database_path(path, "", DataError)
    try:
        con.execute(f"ATTACH $p AS {quote_ident(STORE_ALIAS)} (READ_ONLY)", {"p": db})
    except duckdb.Error as e:
        raise DataError(f"{path}: cannot open as a DuckDB database ({first_line(e)})") from None
    # Only base tables are ever read from a store: a view (or anything else) under one of
    # its names could run any query, so such a file is not taken for a store.
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = $db AND schema_name = $s",
            {"db": STORE_ALIAS, "s": DATA_SCHEMA},
        ).fetchall()
    }
    needed = {_META, QUARANTINE_TABLE, *TABLES}
    try:
        meta = read_meta(con, STORE_ALIAS) if needed <= tables else None
        damage = "" if meta is None else store_damage(con, STORE_ALIAS, meta, contents=given)
    except DamagedStore as e:
        meta, damage = None, str(e)
    if damage:  # a cache entry is made again; a dataset file given is the user's to remake
        con.execute(f"DETACH {quote_ident(STORE_ALIAS)}")
        if given:
            raise DataError(
                f"{path}: a brandlens dataset file that is not as a load wrote it ({damage});"
                f" make it again with `brandlens load SOURCE --into {path}`"
            )
        return None
    if meta is None:
        found = _stored_format(con, STORE_ALIAS) if given and _META in tables else None
        con.execute(f"DETACH {quote_ident(STORE_ALIAS)}")
        if found is not None and found != str(STORE_FORMAT):
            raise DataError(
                f"{path}: written by another brandlens (store format {found}; this one "
                f"reads {STORE_FORMAT}): make it again with `brandlens load SOURCE --into "
                f"{path}`"
            )
    return meta


def _stored_format(con: duckdb.DuckDBPyConnection, catalog: str) -> str | None:
    """The format a brandlens store says it has (None: it says none)."""
    import duckdb

    try:
        row = con.execute(
            f"SELECT value FROM {store_schema(catalog)}.{quote_ident(_META)} WHERE key = 'format'"
        ).fetchone()
    except duckdb.Error:
        return None
    return None if row is None else str(row[0])


def describe_cache(removed: int = 0) -> CacheReport:
    root = checked_cache_dir() if cache_enabled() else cache_dir()  # off: nothing to use
    entries = cache_entries()
    return CacheReport(
        path=str(root),
        enabled=cache_enabled(),
        entries=len(entries),
        bytes=sum(p.stat().st_size for p in entries),
        max_bytes=cache_max_bytes(),
        removed=removed,
    )
