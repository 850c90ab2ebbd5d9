"""The engine: one DuckDB connection, one validated dataset, many runs.

A run = dataset + as_of date + methodologies + optional brand filter + parameters.
Flow of a run: choose methodologies -> validate parameters -> resolve as_of ->
build the ``brands`` and ``members`` views -> per methodology, materialise the
ladders and relations its indicators need (once) -> run each indicator in
isolation (a failure becomes an error entry; an indicator whose optional table or
column is absent becomes a not-applicable entry; Ctrl-C stops the run) ->
normalise, check and sort rows.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from brandlens import __version__
from brandlens.data.mapping import check_event_types, check_zone
from brandlens.data.vocabulary import create_vocabulary_type, type_codes
from brandlens.engine.deadline import QueryClock
from brandlens.engine.engines import DuckDBEngine, QueryEngine
from brandlens.engine.ladders import resolve
from brandlens.engine.result import (
    DatasetInfo,
    EntityListing,
    ErrorEntry,
    LadderCounts,
    NotApplicable,
    Result,
    ResultRow,
    ShortHistory,
    ValidationReport,
    significant,
)
from brandlens.engine.unmatched import unmatched_values
from brandlens.engine.watch import LoadProgress, watching
from brandlens.errors import (
    BrandlensError,
    DataError,
    UsageError,
    debugging,
    first_line,
    is_interrupt,
)
from brandlens.plugin.host import Registry, registry
from brandlens.plugin.methodology import (
    CANONICAL_VIEWS,
    ENGINE_PARAMETERS,
    CheckedMethodology,
    EntityTable,
    Indicator,
    IndicatorContext,
    SharedValues,
    Value,
    vocabulary_values,
)
from brandlens.plugin.sqlcheck import check_query, keep_nothing, quote_ident

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from brandlens.data.layout import Layout
    from brandlens.data.mapping import Mapping as ColumnMapping
    from brandlens.data.sources import InMemoryData
    from brandlens.engine.ladders import StageLadder
    from brandlens.fileio import AtomicFile

DEFAULT_TIMEZONE = "Asia/Shanghai"
PARALLEL_RUNS = 2
"""Methodologies a DuckDB run computes at once (each on its own cursor)."""
CLUSTERED = "brandlens_clustered"
"""The second file ``load --into --cluster`` copies a log in time order into."""

_OPEN: weakref.WeakSet[Dataset] = weakref.WeakSet()
"""Datasets with a live connection, so a termination can interrupt their queries."""


def interrupt_all() -> None:
    """Interrupt the running query of every open dataset (on SIGTERM, from another thread)."""
    for ds in list(_OPEN):
        with contextlib.suppress(Exception):
            ds.con.interrupt()
        for fork in list(getattr(ds, "_forks", [])):  # methodologies running concurrently
            with contextlib.suppress(Exception):
                fork.interrupt()
        engine = getattr(ds, "engine", None)
        if engine is not None and engine.name != "duckdb":
            with contextlib.suppress(Exception):
                engine.interrupt()


def close_all() -> None:
    """Close every open dataset: the last cleanup of an interrupted or terminated run."""
    for ds in list(_OPEN):
        with contextlib.suppress(Exception):
            ds.close()


Progress = Callable[[str], None]


DEFAULT_MEMORY_FRACTION = 0.2
"""DuckDB may use this share of the machine's RAM unless told otherwise (DuckDB's own
default is 80%); past it, work spills to the run's private temporary directory."""


REATTACH_WITHOUT_FILE_ACCESS = (1, 2)
"""From DuckDB 1.2 a database attached before file access was switched off may be
attached again by its path (1.1.3 refuses: "Attaching on-disk databases is disabled")."""


def duckdb_version() -> tuple[int, ...]:
    """DuckDB's version as numbers (``1.2.0-dev`` is (1, 2, 0))."""
    import duckdb

    return tuple(int(n) for n in re.findall(r"\d+", duckdb.__version__)[:3])


DISABLED_OPTIMIZERS = ("partitioned_execution",)
"""DuckDB optimizers a run turns off, where the installed DuckDB has them.

``partitioned_execution`` splits a grouping or window into ranges of its key, each range
scanning the table again and skipping the row groups its zone maps rule out. On a log
that arrives in time order no row group can be skipped for any user range, so every
range reads the whole table: at 100 M events in time order, a cached run of every
methodology took 123.5 s with it and 78.6 s without (one statement, A.R.G.O's purchase
days, 14-15 s against 1.5-2.1 s); in the simulation's user-by-user order 39.0 against
37.9 s, at 10 M 4.62 against 4.61 s; the same JSON each time (docs/performance.md)."""


def _file_state(path: str) -> tuple[int, ...] | None:
    """Which file is at ``path``, its size and when it was last written (ctime, which no
    tool can set back, beside mtime); None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def disable_optimizers(con: duckdb.DuckDBPyConnection) -> None:
    """Turn off DISABLED_OPTIMIZERS for the whole database (the setting is global)."""
    known = {r[0] for r in con.execute("SELECT name FROM duckdb_optimizers()").fetchall()}
    off = [name for name in DISABLED_OPTIMIZERS if name in known]
    if off:
        con.execute("SET disabled_optimizers = $names", {"names": ",".join(off)})


NULL_ARITHMETIC = ("ieee_floating_point_ops", "error_on_division_by_zero")
"""DuckDB settings a run turns off, where the installed DuckDB has them.

DuckDB 2.0 divides by zero in IEEE arithmetic (``1 / 0`` is ``inf``, which a result
refuses as an error entry); DuckDB 1.x, and Spark with ANSI mode off, give NULL. With
these off, DuckDB 2.0 gives NULL too, so a plugin's division by zero reads the same on
every engine and DuckDB version (``ln(0)`` is an error, as in 1.x)."""


def null_arithmetic(con: duckdb.DuckDBPyConnection) -> None:
    """Division by zero is NULL on this database, as on DuckDB 1.x and Spark.

    The settings are global, so every cursor of a concurrent methodology has them, and a
    connection the caller passes in (the spec harness's) keeps them after the dataset
    closes. A DuckDB that has the first setting but not the second would raise on every
    division by zero instead; there the first is put back, and division stays IEEE.
    """
    import duckdb

    for name in NULL_ARITHMETIC:
        with contextlib.suppress(duckdb.CatalogException):  # an older DuckDB: already so
            con.execute(f"SET GLOBAL {name} = false")
    try:
        con.execute("SELECT 1.0 / 0").fetchall()
    except duckdb.Error:
        con.execute(f"SET GLOBAL {NULL_ARITHMETIC[0]} = true")


def physical_memory() -> int:
    """Bytes of RAM on this machine (0 when the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 0


def default_memory_limit() -> str | None:
    ram = physical_memory()
    return f"{max(1, int(ram * DEFAULT_MEMORY_FRACTION / 2**20))}MiB" if ram else None


@dataclass(frozen=True)
class EngineConfig:
    """DuckDB resources; each falls back to BRANDLENS_MEMORY_LIMIT / _THREADS / _TEMP_DIRECTORY.

    The memory limit defaults to DEFAULT_MEMORY_FRACTION of RAM. Spill files go to a
    private directory created for the run (inside the temp directory given, if any)
    and removed when the dataset closes.
    """

    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: str | None = None
    query_timeout: float | None = None
    methodology_budget: float | None = None
    engine: str | None = None
    """Where runs execute: "duckdb" (default) or "spark" (``BRANDLENS_ENGINE``)."""
    spark_remote: str | None = None
    """A Spark Connect address (``sc://host:15002``); default ``SPARK_REMOTE``, else local."""

    def engine_name(self) -> str:
        from brandlens.engine.engines import ENGINES

        name = (self.engine or os.environ.get("BRANDLENS_ENGINE") or "duckdb").strip().lower()
        if name not in ENGINES:
            raise UsageError(f"--engine: unknown engine {name!r} (available: {', '.join(ENGINES)})")
        return name

    def timeouts(self, events: int = 0) -> tuple[float, float]:
        """(seconds per plugin query, seconds per methodology) for a dataset of ``events``
        events; see ``engine.deadline``. The defaults grow with the events past
        DEFAULT_LIMITS_EVENTS; a value given (option or environment) is kept."""
        from brandlens.engine.deadline import (
            DEFAULT_LIMITS_EVENTS,
            DEFAULT_METHODOLOGY_BUDGET,
            DEFAULT_QUERY_TIMEOUT,
        )

        scale = max(1.0, events / DEFAULT_LIMITS_EVENTS)
        per_query = _seconds(
            self.query_timeout,
            "BRANDLENS_QUERY_TIMEOUT",
            "--query-timeout",
            round(DEFAULT_QUERY_TIMEOUT * scale),  # whole seconds read better in errors
        )
        budget = _seconds(
            self.methodology_budget,
            "BRANDLENS_METHODOLOGY_BUDGET",
            "--methodology-budget",
            round(DEFAULT_METHODOLOGY_BUDGET * scale),
        )
        return per_query, budget

    def resolved(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        memory = self.memory_limit or os.environ.get("BRANDLENS_MEMORY_LIMIT")
        temp = self.temp_directory or os.environ.get("BRANDLENS_TEMP_DIRECTORY")
        limit = str(memory) if memory else default_memory_limit()
        if memory and str(memory).strip().startswith("-"):  # DuckDB reads it as no limit
            given = "--memory-limit" if self.memory_limit else "BRANDLENS_MEMORY_LIMIT"
            raise UsageError(
                f"{given} {str(memory).strip()}: expected a size such as 8GB or 500MB, not a "
                "negative one (DuckDB would read it as no limit at all)"
            )
        if limit:
            out["memory_limit"] = limit
        if self.threads is not None:
            out["threads"] = _threads(self.threads, "--threads")
        elif os.environ.get("BRANDLENS_THREADS", "").strip():
            out["threads"] = _threads(os.environ["BRANDLENS_THREADS"], "BRANDLENS_THREADS")
        if temp:
            out["temp_directory"] = str(temp)
        return out


_SETTING_OPTIONS = {
    "memory_limit": ("--memory-limit", "BRANDLENS_MEMORY_LIMIT", "a size such as 8GB or 500MB"),
    "threads": ("--threads", "BRANDLENS_THREADS", "a whole number from 1 to 1024"),
}


def _rejected_setting(settings: dict[str, Any], error: Exception) -> str:
    """The message for engine settings DuckDB refused: the option (or environment
    variable) whose value it refused, found by trying each on its own."""
    import duckdb

    for key, (option, variable, expected) in _SETTING_OPTIONS.items():
        if key not in settings:
            continue
        try:
            duckdb.connect(":memory:", config={key: settings[key]}).close()
        except duckdb.Error as e:
            return (
                f"{option} (or {variable}) {settings[key]}: expected {expected} ({first_line(e)})"
            )
    return f"engine settings rejected by DuckDB: {first_line(error)}"


MAX_THREADS = 1024

MAX_DATA_SNAPSHOTS = 64
"""At most this many snapshots a ladder's ``snapshots_sql`` may add (each adds up to about
twenty aggregates to the ladder's one pass); beyond, it keeps its declared ones."""


QUARANTINE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
"""What ``--quarantine-out`` may be named: the name sets the format."""


def check_quarantine_name(path: str | Path) -> None:
    """A quarantine file named for another format (``q.json``) would get CSV inside."""
    if not Path(path).name.lower().endswith(QUARANTINE_SUFFIXES):
        raise UsageError(
            f"--quarantine-out {path}: name a .csv, .csv.gz or .parquet file "
            "(the name sets the format)"
        )


MAX_SECONDS = 1e7
"""The longest time limit taken (about 116 days): inf and NaN are no time limit."""


def _seconds(value: float | None, env: str, what: str, default: float) -> float:
    """The option's value, else the variable's (an error names whichever was given)."""
    raw: float | str | None = value if value is not None else os.environ.get(env, "").strip()
    if raw in (None, ""):
        return default
    if value is None:
        what = env
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except ValueError:
        raise UsageError(f"{what}: expected seconds, got {raw!r}") from None
    if not 0 < seconds < MAX_SECONDS:
        raise UsageError(
            f"{what}: expected seconds above 0 and below {MAX_SECONDS:,.0f}, got {raw!r}"
        )
    return seconds


def _threads(value: int | str, what: str) -> int:
    """The option and the variable obey one rule: a whole number from 1 to MAX_THREADS."""
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise UsageError(f"{what}: expected a whole number from 1 to {MAX_THREADS}, got {value!r}")
    return n


def check_timezone(tz: str) -> str:
    return check_zone(tz, "--timezone")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str | date, what: str = "--as-of") -> date:
    """A date, or its YYYY-MM-DD text (only that form: Python also reads 20250630 and
    2025-W27-1, which the message promises nothing about)."""
    if isinstance(value, date):
        return value
    try:
        if not _ISO_DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


class Dataset:
    """A loaded, validated dataset on its own DuckDB connection; compute many runs on it.

    DATA is validated once into a store (see ``brandlens.data.store``): a dataset file given
    as DATA is used as it is; other files are loaded into the cache (a file), or, with
    ``cache=False`` and for in-memory logs, into the connection's own in-memory
    database (faster to write; spills to the run's private directory when large).
    Plugins read the canonical views over the store.
    """

    def __init__(
        self,
        data: str | Path | InMemoryData,
        *,
        mapping: str | Path | ColumnMapping | None = None,
        preset: str | None = None,
        timezone: str | None = None,
        ts_timezone: str | None = None,
        strict: bool = False,
        config: EngineConfig | None = None,
        quarantine_out: str | Path | None = None,
        plugin_registry: Registry | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        cache: bool | None = None,
        into: str | Path | None = None,
        cluster: bool = False,
        load_progress: LoadProgress | None = None,
    ) -> None:
        import duckdb

        from brandlens.data.mapping import Mapping as ColumnMapping
        from brandlens.data.mapping import load_mapping
        from brandlens.engine import workdir

        self.registry = plugin_registry or registry()
        self.type_codes = type_codes(self.registry.event_types)
        """Event type -> code in the connection's vocabulary ENUM, for ladder masks."""
        self.workdir: Path | None = None
        self.cached: Path | None = None  # the cache entry or dataset file in use
        self._date_range: tuple[date | None, date | None] | None = None
        self._known_brands: list[str] | None = None
        self.layout: Layout | None = None
        """How the events of the store this run wrote are laid out (a cache entry or
        ``--into``; None when it wrote none): the CLI hints at ``load --cluster``."""
        self._unnamed: AtomicFile | None = None
        """A dataset file (``--into``) written but not yet given its name: that waits
        until every check of the load has passed, so a failed load leaves the target."""
        if cluster and into is None:
            raise UsageError("--cluster applies to a dataset file written with --into")
        self.timezone = check_timezone(DEFAULT_TIMEZONE if timezone is None else timezone)
        if mapping is not None and preset is not None:
            raise UsageError("give --mapping or --preset, not both")
        column_mapping: ColumnMapping | None
        if preset is not None:
            if preset not in self.registry.presets:
                known = ", ".join(self.registry.presets) or "none"
                raise UsageError(f"--preset: unknown preset {preset!r} (available: {known})")
            column_mapping = self.registry.presets[preset].labelled(f"preset {preset}")
        elif mapping is None or isinstance(mapping, ColumnMapping):
            column_mapping = mapping
        else:
            column_mapping = load_mapping(mapping)
        self._zone_given = ts_timezone is not None
        if ts_timezone is not None:  # the option wins over a mapping's own ts_timezone
            zone = check_zone(ts_timezone, "--ts-timezone")
            given = column_mapping or ColumnMapping().labelled("--ts-timezone")
            column_mapping = given.model_copy(update={"ts_timezone": zone})
        # A bad --query-timeout or budget stops here, before any data is read; the
        # limits are set again once the number of events is known (after _open).
        self.timeouts = (config or EngineConfig()).timeouts()
        self._owns_connection = connection is None
        if connection is not None:  # the harness reuses one connection for many small logs
            self.con = connection
        else:
            settings = {
                **(config or EngineConfig()).resolved(),
                # never fetch extensions from the network (e.g. when a .db is SQLite)
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
            self.workdir = workdir.make(settings.get("temp_directory"))
            settings["temp_directory"] = str(self.workdir / "spill")
            try:
                self.con = duckdb.connect(":memory:", config=settings)
            except duckdb.Error as e:
                workdir.remove(self.workdir)
                raise UsageError(_rejected_setting(settings, e)) from None
        _OPEN.add(self)
        self.engine: QueryEngine = DuckDBEngine(self.con, self.type_codes)
        """Where runs execute (``engine.engines``)."""
        self._forks: list[Any] = []  # engines of methodologies running concurrently
        chosen = config or EngineConfig()
        self._spark_remote = chosen.spark_remote
        self._spark_frames: dict[str, Any] | None = None
        """The canonical tables when Spark validated the sources itself."""
        self.validated_by = "duckdb"
        self.read_in_place: list[str] = []
        """Files the run reads where they lie (``data.inplace``): the only ones it may open."""
        self._read_as: dict[str, tuple[int, ...] | None] = {}
        """The state (``_file_state``) of each file read in place, when validation began."""
        try:
            if quarantine_out is not None:  # said before the load, not after it
                check_quarantine_name(quarantine_out)
                from brandlens.data.sources import InMemoryData, refuse_writing_inputs

                if not isinstance(data, InMemoryData):  # the API's callers too
                    given = mapping if isinstance(mapping, str | Path) else None
                    refuse_writing_inputs(data, given, {"--quarantine-out": quarantine_out})
            target = Path(into) if into is not None else None
            spark = chosen.engine_name() == "spark"
            # DuckDB's own bar never prints; engine.watch turns its tracking on to report.
            self.con.execute("SET enable_progress_bar = false")
            null_arithmetic(self.con)
            if self._owns_connection:
                disable_optimizers(self.con)
            with watching(self.con, load_progress):
                self._open(
                    data,
                    column_mapping,
                    timezone,
                    quarantine_out,
                    strict,
                    cache,
                    target,
                    spark,
                    cluster,
                )
            self.timeouts = chosen.timeouts(self.report.events.rows_accepted)
            if spark:
                from brandlens.engine.spark import SparkEngine

                self.engine = SparkEngine(
                    self.con, self.workdir, chosen.spark_remote, tables=self._spark_frames
                )
        except BaseException:
            self.close()
            raise

    def _open(
        self,
        data: str | Path | InMemoryData,
        column_mapping: ColumnMapping | None,
        timezone: str | None,
        quarantine_out: str | Path | None,
        strict: bool,
        cache: bool | None,
        into: Path | None = None,
        spark: bool = False,
        cluster: bool = False,
    ) -> None:
        import duckdb

        from brandlens.data import store
        from brandlens.data.sources import InMemoryData, open_source

        self.con.execute("SET TimeZone = 'UTC'")
        zones = [("--timezone", self.timezone)]
        if column_mapping is not None and column_mapping.ts_timezone is not None:
            given = "--ts-timezone" if self._zone_given else f"{column_mapping.origin}: ts_timezone"
            zones.append((given, column_mapping.ts_timezone))
        for what, zone in zones:
            try:  # Python and DuckDB's ICU do not know exactly the same zones
                self.con.execute("SELECT timezone($tz, TIMESTAMP '2020-01-01')", {"tz": zone})
            except duckdb.Error:
                raise UsageError(f"{what}: DuckDB does not know the time zone {zone!r}") from None
        vocabulary = sorted(self.registry.event_types)
        if column_mapping is not None:
            check_event_types(column_mapping, vocabulary)
        create_vocabulary_type(self.con, vocabulary)
        meta: store.StoredMeta | None = None
        if into is not None and isinstance(data, InMemoryData):
            raise UsageError("--into needs data files, not an in-memory log")
        if not isinstance(data, InMemoryData) and store.looks_like_dataset_file(Path(data)):
            meta = store.attach_store(self.con, Path(data), given=True)
            if meta is not None:
                if into is not None:
                    raise UsageError(f"{data}: already a loaded dataset file; nothing to load")
                self._check_dataset_file(Path(data), meta, column_mapping, timezone, vocabulary)
                self.timezone = meta.timezone
                self.cached = Path(data)
                self.catalog = store.STORE_ALIAS
                self.con.execute("SET enable_external_access = false")
        if meta is None:
            if isinstance(data, InMemoryData):
                source = open_source(self.con, data, column_mapping)
                self.catalog = self.con.execute("SELECT current_database()").fetchone()[0]
                meta = self._validate(source, vocabulary, self.catalog)
            else:
                meta = None
                if spark and into is None:
                    meta = self._validate_on_spark(str(data), column_mapping, vocabulary)
                if meta is None:
                    meta = self._load_files(
                        Path(data), str(data), column_mapping, vocabulary, cache, into, cluster
                    )
        self.report: ValidationReport = meta.report
        self.source_columns = meta.source_columns
        store.create_views(self.con, self.catalog)
        events = self.report.events
        if events.rows_read == 0:
            raise DataError(f"{events.source}: no rows")
        if quarantine_out is not None:
            self.write_quarantine(quarantine_out)
        if strict and self.report.rows_bad:
            raise DataError(self.report.strict_failure())
        if self._unnamed is not None:  # every check passed: the dataset file takes its name
            self._unnamed.commit()
            self._unnamed = None
        # Everything is materialised, or read in place: from here on no query may touch
        # files but those (allowed_paths is fixed once file access is off).
        if self.read_in_place:
            self.con.execute("SET allowed_paths = $paths", {"paths": self.read_in_place})
        self.con.execute("SET enable_external_access = false")

    def _validate(
        self, source: Any, vocabulary: list[str], catalog: str, in_place: bool = False
    ) -> Any:
        from brandlens.data import store
        from brandlens.data.validation import validate_source

        schema = store.store_schema(catalog)
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        before = {f: _file_state(f) for ts in source.tables.values() for f in ts.files}
        report = validate_source(
            self.con, source, vocabulary, self.timezone, schema, in_place=in_place
        )
        self.read_in_place = [f for ts in source.tables.values() if ts.in_place for f in ts.files]
        self._read_as = {f: before[f] for f in self.read_in_place}
        self._check_read_in_place()  # its checks read it more than once
        return store.StoredMeta(
            report=report,
            source_columns={t: ts.present for t, ts in source.tables.items()},
            timezone=self.timezone,
            mapping=None,
            vocabulary=vocabulary,
        )

    def _validate_on_spark(
        self, given: str, column_mapping: ColumnMapping | None, vocabulary: list[str]
    ) -> Any:
        """Validate on Spark when it can read every source itself (Parquet); else None.

        The DuckDB side then holds only the quarantine and empty stored tables; the
        canonical tables live in Spark for the run (never in the cache).
        """
        from brandlens.data import store
        from brandlens.data.schema import TABLES
        from brandlens.data.sources import open_source
        from brandlens.data.validation import empty_table_sql
        from brandlens.engine import spark_validation
        from brandlens.engine.spark import session

        source = open_source(self.con, given, column_mapping)
        if spark_validation.unsupported(source) is not None:
            return None
        spark = session(self._spark_remote)
        planned = spark_validation.plan(spark, self.con, source, vocabulary, self.timezone)
        if isinstance(planned, str):
            return None  # a file, a column type, a function or a zone Spark lacks
        self.catalog = self.con.execute("SELECT current_database()").fetchone()[0]
        schema = store.store_schema(self.catalog)
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in TABLES:
            self.con.execute(empty_table_sql(schema, table))
        report, self._spark_frames = spark_validation.validate(
            spark, self.con, source, planned, self.timezone, store.quarantine_table(self.catalog)
        )
        self.validated_by = "spark"
        return store.StoredMeta(
            report=report,
            source_columns={t: ts.present for t, ts in source.tables.items()},
            timezone=self.timezone,
            mapping=column_mapping.model_dump_json() if column_mapping else None,
            vocabulary=vocabulary,
        )

    def _load_files(
        self,
        data: Path,
        given: str,
        column_mapping: ColumnMapping | None,
        vocabulary: list[str],
        cache: bool | None,
        into: Path | None,
        cluster: bool = False,
    ) -> Any:
        """Use the cached store of DATA, or validate into a new file store (and keep it).

        The new store is written under a temporary name beside its target and renamed
        when complete. It is attached before the sources are opened: opening a database
        source switches the connection's file access off for good. With ``cluster``
        (``load --into FILE --cluster``) a validated log in time order is copied into a
        second file, its events month by month, each month by user (``data.layout``),
        which then takes the target's name; a log already grouped by user is kept.
        """
        from brandlens.data import layout, store
        from brandlens.data.sources import open_source
        from brandlens.fileio import AtomicFile, database_path

        mapping_json = column_mapping.model_dump_json() if column_mapping else None
        keep = into is None and (store.cache_enabled() if cache is None else cache)
        if cache is False:  # --no-cache keeps nothing: not even remembered query checks
            keep_nothing()
        entry: Path | None = None
        if keep:
            store.cache_max_bytes()  # a bad BRANDLENS_CACHE_MAX_GB is said before the load
            store.checked_cache_dir()  # so is a cache folder that is a file
        if keep and data.exists():
            entry = store.cache_path(data, mapping_json, self.timezone, vocabulary)
            if entry.is_file():
                meta = store.attach_store(self.con, entry)
                if meta is not None:
                    store.touch(entry)
                    self.cached = entry
                    self.catalog = store.STORE_ALIAS
                    names = open_source(self.con, given, column_mapping, describe=False)
                    return _relabelled(meta, names)
            try:
                entry.parent.mkdir(parents=True, exist_ok=True, mode=store.PRIVATE_FOLDER)
            except OSError as e:  # a read-only home, say: the run keeps nothing, and says so
                warnings.warn(
                    f"cannot make the cache folder {entry.parent} ({e.strerror or e}): the "
                    "validated dataset is not kept (set BRANDLENS_CACHE_DIR to a writable "
                    "folder, or BRANDLENS_CACHE=0)",
                    store.CacheWarning,
                    stacklevel=2,
                )
                entry = None
        # The store's checkpoint would merge adjacent row groups the load left short
        # (reading a folder of Parquet parts, whose row groups do not line up with
        # DuckDB's, leaves many): a second write of much of the table (10 M events in 28
        # monthly parts: 2.4 s and 0.8 GB more). Scans read short row groups as fast; the
        # rows validation deletes (the quarantined) stay as deletion marks.
        self.con.execute("SET max_vacuum_tasks = 0")
        if into is None and entry is None:
            # Nothing to keep: an events file that can be is read where it lies
            # (data.inplace); anything else is validated into the connection's own
            # database, faster to write than a file, spilling to the private directory.
            self.catalog = self.con.execute("SELECT current_database()").fetchone()[0]
            meta = self._validate(
                open_source(self.con, given, column_mapping),
                vocabulary,
                self.catalog,
                in_place=True,
            )
            meta.mapping = mapping_json
            return meta
        target = into if into is not None else entry
        assert target is not None
        database_path(target, "--into" if into is not None else "the cache entry")
        if into is not None and Path(into).exists() and not store.written_by_brandlens(Path(into)):
            raise UsageError(
                f"--into {into}: exists and is not a brandlens dataset file; brandlens "
                "replaces only its own: choose another path, or remove the file first"
            )
        building = (  # a cache entry holds the user's log: for the user's eyes only
            AtomicFile(target, "--into")
            if into is not None
            else AtomicFile(target, "", store.PRIVATE_FILE)
        )
        second: AtomicFile | None = None
        written = [building.tmp]
        self.catalog = store.STORE_ALIAS
        try:
            building.tmp.unlink()  # DuckDB makes the file itself; the unique name stays ours
            if cluster:  # a log in time order is copied into a second file, attached now,
                # as opening a database source switches file access off for good
                second = AtomicFile(target, "--into", building.mode)
                written.append(second.tmp)
                second.tmp.unlink()
            self.con.execute(f"ATTACH $p AS {quote_ident(self.catalog)}", {"p": str(building.tmp)})
            if second is not None:
                self.con.execute(f"ATTACH $p AS {quote_ident(CLUSTERED)}", {"p": str(second.tmp)})
            source = open_source(self.con, given, column_mapping)
            meta = self._validate(source, vocabulary, self.catalog)
            meta.mapping = mapping_json
            self.layout = layout.measure(self.con, self.catalog)
            if second is not None:
                building = self._keep_or_cluster(building, second)
            store.write_meta(self.con, self.catalog, meta)
            self.con.execute(f"CHECKPOINT {quote_ident(self.catalog)}")
            if into is None:
                # The finished cache entry takes its name in one step; this run keeps
                # reading it, read-only from here on, as a cached run reads it. A
                # dataset file waits for the load's last checks (_open).
                self._read_only(building.tmp)
                building.commit()
            else:
                self._unnamed = building
        except BaseException:
            # Files first: a second interrupt while detaching must not leave them behind.
            building.discard()
            if second is not None:
                second.discard()
            for alias in (self.catalog, CLUSTERED):
                with contextlib.suppress(Exception):
                    self.con.execute(f"DETACH {quote_ident(alias)}")
            raise
        finally:
            for made in written:
                Path(f"{made}.wal").unlink(missing_ok=True)
        if entry is not None and into is None:
            store.forget_other_versions(entry)
        self.cached = target
        return meta

    def _read_only(self, written: Path) -> None:
        """Attach the store just written again, read-only, under the same name.

        Its write leaves its blocks in DuckDB's buffer pool; the run's queries then start
        as a cached run's do (a first run of every methodology at 100 M events: 3.7-3.8
        GB peak, 3.3-3.4 GB read-only, and 1.5 s faster), and no writer's lock keeps
        another command from reading the entry meanwhile. The file still has its
        temporary name: only ``brandlens cache clear``, which removes other runs'
        unfinished files, can remove it now (DuckDB writes on to an unlinked file), and
        the run then stops with a one-line error saying so. A database source has
        switched file access off; DuckDB 1.1 then refuses to attach even a database it
        had attached, and the store stays as written.
        """
        access = self.con.execute("SELECT current_setting('enable_external_access')").fetchone()[0]
        if not access and duckdb_version() < REATTACH_WITHOUT_FILE_ACCESS:
            return
        if not written.exists():
            raise DataError(
                f"{written.parent}: the cache entry this run was writing was removed "
                "(by brandlens cache clear?); run the command again"
            )
        alias = quote_ident(self.catalog)
        self.con.execute(f"DETACH {alias}")
        self.con.execute(f"ATTACH $p AS {alias} (READ_ONLY)", {"p": str(written)})

    def _keep_or_cluster(self, validated: AtomicFile, second: AtomicFile) -> AtomicFile:
        """The file that becomes the store under ``--cluster``: ``second``, holding a
        copy clustered by month then user, for a log in time order; else ``validated``,
        as it is (``data.layout``). The other file is discarded and detached."""
        from brandlens.data import layout

        assert self.layout is not None
        share = self.layout.same_user_share
        if layout.grouped_by_user(share):
            second.discard()
            self.con.execute(f"DETACH {quote_ident(CLUSTERED)}")
            return validated
        self.layout = layout.copy_clustered_store(self.con, self.catalog, CLUSTERED, share)
        validated.discard()  # POSIX: DuckDB keeps reading an unlinked file until detached
        self.con.execute(f"DETACH {quote_ident(self.catalog)}")
        self.catalog = CLUSTERED
        return second

    def _check_dataset_file(
        self,
        path: Path,
        meta: Any,
        column_mapping: ColumnMapping | None,
        timezone: str | None,
        vocabulary: list[str],
    ) -> None:
        if column_mapping is not None and column_mapping.origin == "--ts-timezone":
            raise UsageError(
                f"{path}: a loaded dataset file takes no --ts-timezone (its times were read "
                "when it was loaded; load the source files again with the option)"
            )
        if column_mapping is not None:
            raise UsageError(f"{path}: a loaded dataset file takes no --mapping or --preset")
        if timezone is not None and check_timezone(timezone) != meta.timezone:
            raise UsageError(
                f"{path}: loaded with --timezone {meta.timezone}; local dates are fixed "
                f"at load time, so load the data again with --timezone {timezone}"
            )
        missing = sorted(set(vocabulary) - set(meta.vocabulary))
        if missing:
            raise UsageError(
                f"{path}: loaded before event type(s) {', '.join(missing)} were registered; "
                "load the data again"
            )

    # ---- dataset facts ----------------------------------------------------
    @property
    def info(self) -> DatasetInfo:
        ev = self.report.events
        events = [r for r in self.report.reasons if r.table == "events"]
        return DatasetInfo(
            source=self.report.source,
            rows_read=ev.rows_read,
            rows_accepted=ev.rows_accepted,
            rows_quarantined=ev.rows_quarantined,
            quarantined_by_reason={r.reason: r.count for r in events},
            quarantined_columns={r.reason: r.columns for r in events if r.columns},
            tables=[t.table for t in self.report.tables],
            identical_rows=ev.identical_rows,
            identical_spend_rows=sum(
                t.identical_rows for t in self.report.tables if t.table == "spend"
            ),
            ts_timezone=self.report.ts_timezone,
        )

    def write_quarantine(self, path: str | Path) -> None:
        """Write quarantined rows with their reasons (CSV, or Parquet by extension).

        The rows stream out as Arrow to the one atomic writer: this connection never
        writes files (it may already have file access switched off).
        """
        from brandlens.data.store import quarantine_table
        from brandlens.fileio import write_rows

        rel = self.con.sql(f"SELECT * FROM {quarantine_table(self.catalog)}")
        reader = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader  # duckdb < 1.4
        write_rows(reader(), path, "--quarantine-out")

    def read(self, sql: str, binds: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of a query over the canonical tables, on the dataset's engine.

        The analysis layer reads the data only through here: with Spark validating,
        the canonical tables exist only in Spark.
        """
        rows = self.engine.fetch(sql, binds or {})[1]
        self._check_read_in_place()
        return rows

    def date_range(self) -> tuple[date | None, date | None]:
        """The first and last local event dates (None, None without events).

        Read once per dataset, which does not change while open: on a store the
        statistics answer at once, but an events file read in place is scanned
        (0.2 s at 10 M events), and every command asks for the last day.
        """
        if self._date_range is None:
            rows = self.read("SELECT min(local_date), max(local_date) FROM events")
            self._date_range = (rows[0][0], rows[0][1]) if rows else (None, None)
        return self._date_range

    def last_date(self) -> date | None:
        return self.date_range()[1]

    def close(self) -> None:
        """Close the connection and remove the run's private directory (idempotent)."""
        from brandlens.engine import workdir

        try:
            unnamed = getattr(self, "_unnamed", None)
            if unnamed is not None:  # a load that failed its last checks leaves the target
                self._unnamed = None
                unnamed.discard()
            if self._owns_connection and hasattr(self, "con"):
                self.con.close()
        finally:  # an interrupt arriving inside close() must not leave the directory behind
            workdir.remove(self.workdir)
            self.workdir = None

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- runs ---------------------------------------------------------------
    def compute(
        self,
        as_of: str | date | None = None,
        methodologies: Iterable[str] | None = None,
        brands: Iterable[str] | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
        headline_only: bool = False,
        indicators: Iterable[str] | None = None,
        ladder_counts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Result:
        """Every indicator of the chosen methodologies (see ``brandlens compute``).

        ``ladder_counts`` ({methodology: {ladder: back}}) also counts those ladders' users
        per stage as of ``as_of`` and ``back`` days before, and the flows between, in the
        same run: read from the ladder table the indicators use when it holds both
        snapshots, so a report need not build its ladders again. They are returned in
        ``Result.ladders``, which is not part of the JSON.
        """
        chosen = self.methodologies(methodologies)
        parsed = parse_parameters(params or {}, chosen, self.registry.event_types)
        wanted = _ladders_wanted(chosen, ladder_counts or {})
        day, brand_list = self._prepare(as_of, brands)
        rows: list[ResultRow] = []
        errors: list[ErrorEntry] = []
        skipped: list[NotApplicable] = []
        counted: dict[str, LadderCounts] = {}
        only = None if indicators is None else set(indicators)

        across = SharedValues()  # IndicatorContext.shared_across_methodologies

        def run(m: CheckedMethodology, engine: QueryEngine) -> Any:
            return _Run(
                self, m, parsed[m.name], day, brand_list, headline_only, only, engine, across
            ).execute(wanted.get(m.name))

        for name, (got, errs, na, ladders) in self._run_all(chosen, run):
            rows.extend(got)
            errors.extend(errs)
            skipped.extend(na)
            if ladders is not None:
                counted[name] = ladders
            if progress is not None:
                progress(name)
        order = {
            i.id: list(i.keys)
            for m in chosen
            for i in m.methodology.indicators
            if i.keys is not None
            and (indicators is None or i.id in indicators)
            and (i.headline or not headline_only)
        }
        position = {i: {k: n for n, k in enumerate(keys)} for i, keys in order.items()}
        rows.sort(
            key=lambda r: (
                r.methodology,
                r.indicator,
                r.brand,
                position.get(r.indicator, {}).get(r.key or "", -1),
                r.key or "",
            )
        )
        errors.sort(key=lambda e: (e.methodology, e.indicator, e.brand or ""))
        skipped.sort(key=lambda n: (n.methodology, n.indicator))
        short = self._short_history(chosen, parsed, day)
        unmatched = unmatched_values(
            self.read,
            {m.name: parsed[m.name] for m in chosen},
            _parameter_readers(chosen, only, headline_only, skipped),
            day,
        )
        self._check_read_in_place()
        return Result(
            brandlens_version=__version__,
            as_of=day.isoformat(),
            timezone=self.timezone,
            dataset=self.info,
            parameters={m.name: parsed[m.name].model_dump(mode="json") for m in chosen},
            results=rows,
            errors=errors,
            not_applicable=skipped,
            short_history=short,
            unmatched_values=unmatched,
            key_order=order,
            ladders=dict(sorted(counted.items())),
        )

    def _short_history(
        self, chosen: list[CheckedMethodology], parsed: Mapping[str, Any], day: date
    ) -> list[ShortHistory]:
        """The methodologies whose indicators read further back from ``day`` than the
        first event: their counts there are missing, not zero (a comparison period
        before the data, a two-year purchase window over one year of log)."""
        first = self.date_range()[0]
        if first is None:
            return []
        out = []
        for m in chosen:
            days = m.methodology.history(parsed[m.name])
            try:
                start = day - timedelta(days=days - 1)
            except OverflowError:  # --as-of in year 1: the window starts before any date
                start = date.min
            if days > 0 and start < first:
                out.append(
                    ShortHistory(
                        methodology=m.name,
                        reads_from=start.isoformat(),
                        data_from=first.isoformat(),
                        days=days,
                    )
                )
        return out

    def _check_read_in_place(self) -> None:
        """A file read in place is read again by every query: one that changed since it
        was validated would mix two versions of the log into one result."""
        for path, was in self._read_as.items():
            if _file_state(path) != was:
                raise DataError(
                    f"{path}: changed while brandlens was reading it (read in place with "
                    "--no-cache); run again once it is written"
                )

    def _run_all(
        self, chosen: list[CheckedMethodology], run: Callable[[CheckedMethodology, Any], Any]
    ) -> Iterator[tuple[str, Any]]:
        """Each methodology's run, as they finish; two at a time on DuckDB.

        On DuckDB a second methodology runs on its own cursor meanwhile, so one's Python
        (a CLV fit, result rows) overlaps the other's SQL on a 2-core machine. Results do
        not depend on the order (the caller sorts them). One at a time with one thread,
        one methodology, or another engine.
        """
        fork = getattr(self.engine, "fork", None)
        workers = min(PARALLEL_RUNS, len(chosen), os.cpu_count() or 1)
        threads = int(self.con.execute("SELECT current_setting('threads')").fetchone()[0])
        if fork is None or workers < 2 or threads < 2:
            for m in chosen:
                yield m.name, run(m, self.engine)
            return
        import queue
        from concurrent.futures import ThreadPoolExecutor, as_completed

        for m in chosen:  # the schemas first: concurrent catalog writes can conflict
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(f'rel_{m.name}')}")
        self._forks = [fork() for _ in range(workers)]
        free: queue.Queue[Any] = queue.Queue()
        for engine in self._forks:
            free.put(engine)

        def on_a_free_engine(m: CheckedMethodology) -> Any:
            engine = free.get()
            try:
                return run(m, engine)
            finally:
                free.put(engine)

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(on_a_free_engine, m): m for m in chosen}
                try:
                    for fut in as_completed(futures):
                        yield futures[fut].name, fut.result()
                except BaseException:
                    for fut in futures:  # nothing new starts; the running queries stop
                        fut.cancel()
                    for engine in self._forks:
                        with contextlib.suppress(Exception):
                            engine.interrupt()
                    raise
        finally:
            for engine in self._forks:
                with contextlib.suppress(Exception):
                    engine.close()
            self._forks = []

    def _prepare(
        self, as_of: str | date | None, brands: Iterable[str] | None
    ) -> tuple[date, list[str]]:
        """Resolve as_of and the brands; build the ``brands`` and ``members`` views."""
        day = self._as_of(as_of)
        brand_list = self._brands(brands)
        self.engine.prepare(day, brand_list)
        return day, brand_list

    def entities(
        self,
        methodology: str,
        table: str | None = None,
        brands: str | Iterable[str] | None = None,
        as_of: str | date | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> EntityListing:
        """List an entity table of a methodology (its products, its users per stage, ...).

        Only the relations the table reads are materialised; the rows are those of the
        given brands (default: every brand), one per entity, in the table's order.
        """
        (chosen,) = self.methodologies([methodology])
        declared = chosen.methodology.entities
        if table is None and len(declared) == 1:
            table = declared[0].name
        names = ", ".join(t.name for t in declared) or "none"
        if not declared:
            raise UsageError(f"--methodology: {methodology} has no entity tables to list")
        if table is None:
            raise UsageError(f"--table: {methodology} has several entity tables: {names}")
        try:
            entity = chosen.methodology.entity(table)
        except KeyError:
            raise UsageError(
                f"--table: {methodology} has no entity table {table!r} (tables: {names})"
            ) from None
        parsed = parse_parameters(params or {}, [chosen], self.registry.event_types)
        wanted = [brands] if isinstance(brands, str) else brands
        day, brand_list = self._prepare(as_of, wanted)
        run = _Run(self, chosen, parsed[chosen.name], day, brand_list, False, only=set())
        columns, rows = run.listing(entity)
        self._check_read_in_place()
        return EntityListing(
            brandlens_version=__version__,
            as_of=day.isoformat(),
            timezone=self.timezone,
            dataset=self.info,
            methodology=chosen.name,
            table=entity.name,
            title=entity.title,
            description=entity.description,
            key=list(entity.key),
            parameters=parsed[chosen.name].model_dump(mode="json"),
            brands=brand_list,
            columns=columns,
            rows=rows,
        )

    def ladder_counts(
        self,
        methodology: str,
        as_of: str | date | None = None,
        brands: Iterable[str] | None = None,
        params: Mapping[str, Any] | None = None,
        back: int = 0,
    ) -> tuple[list[tuple[str, int, str, str, int]], list[tuple[str, str, str, str, int]]]:
        """Users per stage of each ladder of a methodology, as of ``as_of`` (and ``back`` days
        before): rows (ladder, days_before, brand, stage, users). With ``back`` also the
        flows between the two snapshots: (ladder, brand, from stage, to stage, users), where
        'none' is no stage. Only the ladders are materialised, no indicator runs.
        """
        (chosen,) = self.methodologies([methodology])
        parsed = parse_parameters(params or {}, [chosen], self.registry.event_types)
        day, brand_list = self._prepare(as_of, brands)
        run = _Run(self, chosen, parsed[chosen.name], day, brand_list, False, only=set())
        backs = {lad.name: back for lad in chosen.methodology.ladders}
        self.engine.enter(run.schema, run.own_with_counts(backs))
        try:
            counted = run.count_ladders(backs)
        finally:
            self.engine.leave()
        self._check_read_in_place()
        return counted.counts, counted.flows

    def methodologies(self, names: Iterable[str] | None = None) -> list[CheckedMethodology]:
        """The registered methodologies named (all when None), by name; a usage error
        for a name not registered, naming any plugin that failed to load or register."""
        available = self.registry.methodologies
        if names is None:
            return list(available.values())
        chosen = []
        for given in dict.fromkeys(names):
            n = self.registry.methodology_name(given) or given
            if n not in available:
                known = ", ".join(available) or "none installed"
                close = self.registry.close_methodologies(n)
                meant = f"; did you mean {', '.join(close)}?" if close else ""
                hint = self.registry.unregistered(n)
                raise UsageError(
                    f"--methodology: unknown methodology {n!r}{meant} (available: {known}){hint}"
                )
            if available[n] not in chosen:
                chosen.append(available[n])
        return sorted(chosen, key=lambda c: c.name)

    def _as_of(self, as_of: str | date | None) -> date:
        if as_of is not None:
            return parse_date(as_of)
        last = self.last_date()
        if last is None:
            ev = self.report.events
            raise DataError(
                f"{ev.source}: no valid events (all {ev.rows_read} rows quarantined; "
                "run brandlens validate to see why)"
            )
        return last

    def brands(self) -> list[str]:
        """The brands with at least one event, by name (read once, as ``date_range``)."""
        if self._known_brands is None:
            sql = "SELECT DISTINCT brand FROM events WHERE brand IS NOT NULL ORDER BY brand"
            self._known_brands = [r[0] for r in self.read(sql)]
        return list(self._known_brands)

    def _brands(self, brands: Iterable[str] | None) -> list[str]:
        return sorted(set(brands)) if brands is not None else self.brands()


def _relabelled(meta: Any, source: Any) -> Any:
    """A cached report under the names DATA has now (the same files, perhaps another path)."""
    report = meta.report.model_copy(deep=True)
    report.source = source.label
    for t in report.tables:
        if t.table in source.tables:
            t.source = source.tables[t.table].label
    meta.report = report
    return meta


_FLOW_SQL = """
WITH s0 AS (SELECT brand, user_id, stage FROM {table} WHERE days_before = $back),
s1 AS (SELECT brand, user_id, stage FROM {table} WHERE days_before = 0)
SELECT coalesce(s0.brand, s1.brand) AS brand, coalesce(s0.stage, 'none') AS from_stage,
       coalesce(s1.stage, 'none') AS to_stage, count(*) AS users
FROM s0 FULL OUTER JOIN s1 ON s0.brand = s1.brand AND s0.user_id = s1.user_id
WHERE coalesce(s0.brand, s1.brand) IN (SELECT brand FROM main.brands)
GROUP BY ALL ORDER BY ALL
"""
"""Users moving between stages of one ladder from ``back`` days before as_of to as_of."""


def _ladders_wanted(
    chosen: list[CheckedMethodology], asked: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int]]:
    """``compute(ladder_counts=...)`` checked: chosen methodologies, declared ladders,
    days back that are whole and not negative."""
    by_name = {m.name: m for m in chosen}
    out: dict[str, dict[str, int]] = {}
    for method, backs in asked.items():
        if method not in by_name:
            raise UsageError(f"ladder_counts: {method} is not among the run's methodologies")
        declared = {lad.name for lad in by_name[method].methodology.ladders}
        for ladder, back in backs.items():
            if ladder not in declared:
                raise UsageError(f"ladder_counts: {method} has no ladder {ladder!r}")
            if isinstance(back, bool) or not isinstance(back, int) or back < 0:
                raise UsageError(f"ladder_counts: {method}.{ladder}: back must be whole days >= 0")
        out[method] = dict(backs)
    return out


def _parameter_readers(
    chosen: list[CheckedMethodology],
    indicators: Iterable[str] | None,
    headline_only: bool,
    not_applicable: Iterable[NotApplicable] = (),
) -> dict[str, dict[str, list[str]]]:
    """methodology -> parameter -> the run's indicators that read it, as their specs list
    (an indicator without a spec entry is taken to read every parameter); one the data
    made not applicable read nothing, so a note never names it."""
    wanted = None if indicators is None else set(indicators)
    skipped = {(n.methodology, n.indicator) for n in not_applicable}
    out: dict[str, dict[str, list[str]]] = {}
    for m in chosen:
        names = list(m.methodology.parameters.model_fields)
        per: dict[str, list[str]] = {}
        for i in m.methodology.indicators:
            if (wanted is not None and i.id not in wanted) or (headline_only and not i.headline):
                continue
            if (m.name, i.id) in skipped:
                continue
            spec = m.spec.indicator(i.id) if m.spec is not None else None
            for name in spec.parameters if spec is not None else names:
                per.setdefault(name, []).append(i.id)
        out[m.name] = per
    return out


def parse_parameters(
    params: Mapping[str, Any],
    chosen: list[CheckedMethodology],
    event_types: Iterable[str] | None = None,
) -> dict[str, BaseModel]:
    """Validate ``{"fast.advancing_period_days": "14"}`` against each parameter model.

    A parameter declared with ``json_schema_extra={"vocabulary": "event_types"}`` must
    hold registered event types only.
    """
    by_name = {m.name: m for m in chosen}
    overrides: dict[str, dict[str, Any]] = {m.name: {} for m in chosen}
    spelled: dict[str, str] = {}  # METHODOLOGY.NAME as declared -> as given
    for full, value in params.items():
        method, _, name = full.partition(".")
        if not name:
            raise UsageError(f"--param {full}: expected METHOD.NAME=VALUE")
        # names in any case, as -m and explain take them (FAST.Advancing_Period_Days)
        method = next((m for m in by_name if m.lower() == method.lower()), method)
        if method not in by_name:
            raise UsageError(f"--param {full}: methodology {method!r} is not part of this run")
        model = by_name[method].methodology.parameters
        name = next((f for f in model.model_fields if f.lower() == name.lower()), name)
        earlier = spelled.setdefault(f"{method}.{name}", full)
        if earlier != full:
            raise UsageError(f"--param {full}: given twice (as {earlier} too)")
        if name not in model.model_fields:
            known = ", ".join(model.model_fields) or "none"
            raise UsageError(f"--param {full}: unknown parameter (known for {method}: {known})")
        ann = model.model_fields[name].annotation
        if isinstance(value, bool) and bool not in (ann, *get_args(ann)):
            # pydantic reads True as 1: a truth value where a number belongs is a slip
            raise UsageError(f"--param {full}: expected {_kind_of(ann)}, got {value}")
        if {int, float} & {ann, *get_args(ann)} and not _plain_number(value):
            # Python reads 1_0 as 10 and nan as a float, which a bound then judged
            raise UsageError(f"--param {full}: expected a number, got {value!r}")
        overrides[method][name] = _coerce(model, name, value)
    out: dict[str, BaseModel] = {}
    for m in chosen:
        model = m.methodology.parameters
        try:
            out[m.name] = model.model_validate({**model().model_dump(), **overrides[m.name]})
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise UsageError(f"--param {m.name}.{loc}: {err['msg']}") from None
        if event_types is not None:
            _check_vocabulary(m.name, out[m.name], set(event_types))
    return out


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _plain_number(value: Any) -> bool:
    """A finite number, or its text in plain decimal or e notation (no ``1_0``, ``nan``);
    anything else passes to the model, which names what it takes."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return bool(_NUMBER.fullmatch(value.strip())) or not value.strip()
    return True


class _Snapshots(dict):  # type: ignore[type-arg]
    """A run's ladder snapshots, as a Python indicator reads them: a ladder that failed
    says its own failure (the indicator no longer fails with it unless it reads it)."""

    def __init__(self, snapshots: Mapping[str, Any], failed: Mapping[str, str]) -> None:
        super().__init__(snapshots)
        self._failed = failed

    def __missing__(self, name: str) -> Any:
        if name in self._failed:
            raise BrandlensError(self._failed[name])
        raise KeyError(name)


def _kind_of(annotation: Any) -> str:
    """What a parameter's annotation takes, for a message: 'int', 'float', 'list[str]'."""
    return getattr(annotation, "__name__", None) or str(annotation)


def _check_vocabulary(method: str, params: BaseModel, known: set[str]) -> None:
    for name, values in vocabulary_values(params, "event_types").items():
        unknown = sorted(set(values) - known)
        if unknown:
            raise UsageError(f"--param {method}.{name}: unknown event type(s) {', '.join(unknown)}")


def _coerce(model: type[BaseModel], name: str, value: Any) -> Any:
    """CLI values are strings: 'a,b' for list parameters, JSON where it parses.

    A list parameter's values are distinct, in the order given, and a Python set's
    sorted: a set has no order of its own, so the result's parameters (and its JSON)
    would follow the process's string hashing."""
    ann = model.model_fields[name].annotation
    origin = get_origin(ann)
    listed = origin in (list, tuple, set, frozenset) or (
        origin is not None and any(get_origin(a) in (list, tuple) for a in get_args(ann))
    )
    if not listed:
        return value
    if isinstance(value, set | frozenset):
        value = sorted(value, key=repr)
    elif isinstance(value, str):
        parsed = None
        if value.startswith("["):
            with contextlib.suppress(json.JSONDecodeError):
                parsed = json.loads(value)
        value = parsed if parsed is not None else [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        with contextlib.suppress(TypeError):  # unhashable items: the model refuses them
            value = list(dict.fromkeys(value))
    return value


def _number(value: Any) -> int | float | None:
    """Normalise a value for the result: exact ints, floats to 12 significant digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"value is {value}")
        return significant(value)
    raise ValueError(f"value {value!r} is not a number")


def _in_plugin_code(ind: Indicator, e: BaseException) -> str:
    """Where in a Python indicator's own code ``e`` was raised: `` (at pkg/file.py:42 in
    f)`` for the deepest frame in the folder of its compute function, or nothing."""
    import traceback

    if ind.compute is None or not hasattr(ind.compute, "__code__"):
        return ""
    home = Path(ind.compute.__code__.co_filename).parent
    frames = [f for f in traceback.extract_tb(e.__traceback__) if Path(f.filename).parent == home]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {home.name}/{Path(f.filename).name}:{f.lineno} in {f.name})"


def _debug_traceback(ind: Indicator, e: BaseException) -> None:
    """With ``BRANDLENS_DEBUG=1``, a failed indicator's whole traceback on stderr: the
    run goes on and reports the one-line error as always, and a plugin author sees the
    frames that led there."""
    if not debugging():
        return
    import sys
    import traceback

    sys.stderr.write(f"brandlens: debug: {ind.id} failed:\n")
    sys.stderr.write("".join(traceback.format_exception(e)))


class _NotApplicable(Exception):
    """The indicator requires optional data this dataset lacks; the message says which."""


class _Run:
    """One methodology within one run."""

    def __init__(
        self,
        ds: Dataset,
        m: CheckedMethodology,
        params: BaseModel,
        as_of: date,
        brands: list[str],
        headline_only: bool,
        only: set[str] | None = None,
        engine: QueryEngine | None = None,
        across: SharedValues | None = None,
    ) -> None:
        self.ds, self.m, self.params, self.as_of, self.brands = ds, m, params, as_of, brands
        self.across = across
        self.indicators = [
            i
            for i in m.methodology.indicators
            if (i.headline or not headline_only) and (only is None or i.id in only)
        ]
        self.schema = f"rel_{m.name}"
        self.binds = {"as_of": as_of, **params.model_dump()}
        self.failed: dict[str, str] = {}
        self.snapshots: dict[str, tuple[int, ...]] = {}  # ladder -> days_before it holds
        self.memo: dict[str, Any] = {}  # IndicatorContext.shared, per methodology run
        self.engine = engine or ds.engine
        self.clock = QueryClock(self.engine, *ds.timeouts)
        self.own = [r.name for r in m.methodology.relations] + [
            x.name for x in m.methodology.ladders
        ]
        self.built: set[str] = set()  # relations and ladders materialised in this run
        self.allowed = set(CANONICAL_VIEWS) | set(self.own)
        self.unportable = self._unportable()

    def _unportable(self) -> dict[str, str]:
        """Relations and indicators whose SQL this engine cannot run, and why."""
        if self.engine.name == "duckdb":
            return {}
        m = self.m.methodology
        out = {}
        for what, name, sql in [
            *(("relation", r.name, r.sql) for r in m.relations),
            *(("indicator", i.id, i.sql) for i in m.indicators if i.sql is not None),
        ]:
            why = self.engine.check(sql)
            if why is not None:
                out[name] = f"{what} {name!r}: {why}"
        return out

    def execute(
        self, count: Mapping[str, int] | None = None
    ) -> tuple[list[ResultRow], list[ErrorEntry], list[NotApplicable], LadderCounts | None]:
        """The indicators' rows, errors and skips, and with ``count`` ({ladder: back})
        those ladders' counts.

        The headline indicators and what they read come first, then the others, then
        the counts: under one budget, a run of every indicator (a report) computes its
        headline values as a headline-only run (``compare``) does, before the rest.
        """
        self.engine.enter(self.schema, self.own_with_counts(count or {}))
        try:
            rows: list[ResultRow] = []
            errors: list[ErrorEntry] = []
            skipped: list[NotApplicable] = []
            first = [i for i in self.indicators if i.headline]
            then = [i for i in self.indicators if not i.headline]
            for group in (first, then):
                if group:
                    self._materialise(self.m.relations_needed([i.id for i in group]))
                self._indicators(group, rows, errors, skipped)
            return rows, errors, skipped, self.count_ladders(count) if count else None
        finally:
            self.engine.leave()

    def _indicators(
        self,
        group: list[Indicator],
        rows: list[ResultRow],
        errors: list[ErrorEntry],
        skipped: list[NotApplicable],
    ) -> None:
        """Run each indicator of ``group``, adding its rows, error or skip."""
        for ind in group:
            try:
                rows.extend(self._indicator(ind))
            except _NotApplicable as e:
                skipped.append(
                    NotApplicable(methodology=self.m.name, indicator=ind.id, reason=str(e))
                )
            except BrandlensError as e:
                errors.append(self._error(ind, e.message))
            except Exception as e:
                if is_interrupt(e):  # Ctrl-C stops the run; it is not a failed indicator
                    raise KeyboardInterrupt from e
                errors.append(self._error(ind, _message(e) + _in_plugin_code(ind, e)))
                _debug_traceback(ind, e)

    def _error(self, ind: Indicator, message: str, brand: str | None = None) -> ErrorEntry:
        return ErrorEntry(methodology=self.m.name, indicator=ind.id, brand=brand, message=message)

    def _bind(self, sql_params: Iterable[str], extra: Mapping[str, Any] | None = None) -> dict:
        pool = {**self.binds, **(extra or {})}
        return {p: pool[p] for p in sql_params}

    def listing(self, entity: EntityTable) -> tuple[list[str], list[dict[str, Any]]]:
        """The rows of an entity table for the run's brands: (columns, rows)."""
        import duckdb

        table = f"entities__{entity.name}"
        name = quote_ident(table)
        self.engine.enter(self.schema, [*self.own, table])

        def guarded(action: Callable[[], Any]) -> Any:
            """DuckDB's error as the entity table's one-line error (Spark's is already one)."""
            try:
                return action()
            except duckdb.Error as e:
                if is_interrupt(e):
                    raise KeyboardInterrupt from e
                raise BrandlensError(
                    f"entity table {entity.name!r} failed: {_message(e)}"
                ) from None

        def fetch(sql: str) -> tuple[list[str], list]:
            return guarded(lambda: self.engine.fetch(sql, {}))

        try:
            self._materialise(self.m.relations_for_entity(entity.name))
            for rel in self.m.relations_for_entity(entity.name):
                if rel in self.failed:
                    raise BrandlensError(f"entity table {entity.name!r}: {self.failed[rel]}")
            checked = self.m.entity_sql[entity.name]
            binds = self._bind(checked.parameters)
            guarded(lambda: self.engine.materialise(table, entity.query, binds))
            try:
                names = fetch(f"SELECT * FROM {name} LIMIT 0")[0]
                needed = ("brand", *entity.key, *(c for c, _ in entity.order_columns()))
                missing = [c for c in dict.fromkeys(needed) if c not in names]
                if missing:
                    raise BrandlensError(
                        f"entity table {entity.name!r}: rows lack column(s) {', '.join(missing)}"
                    )
                order = ", ".join(
                    f"{quote_ident(c)} {'DESC' if desc else 'ASC'} NULLS LAST"
                    for c, desc in [("brand", False), *entity.order_columns()]
                )
                keys = ", ".join(quote_ident(c) for c in ("brand", *entity.key))
                dupes = fetch(
                    f"SELECT {keys} FROM {name} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
                )[1]
                if dupes:
                    raise BrandlensError(
                        f"entity table {entity.name!r}: more than one row for {tuple(dupes[0])!r}"
                    )
                fetched = fetch(
                    f"SELECT * FROM {name} WHERE brand IN (SELECT brand FROM main.brands) "
                    f"ORDER BY {order}"
                )[1]
                rows = [{n: _cell(v) for n, v in zip(names, row, strict=True)} for row in fetched]
            finally:
                self.engine.drop(table)
            return names, rows
        finally:
            self.engine.leave()

    def own_with_counts(self, backs: Mapping[str, int]) -> list[str]:
        """The run's relation names, and the tables ``count_ladders`` may make."""
        return [*self.own, *(f"counts__{name}" for name in backs)]

    def count_ladders(self, backs: Mapping[str, int]) -> LadderCounts:
        """Users per stage of each ladder named in ``backs`` ({ladder: back}), as of
        as_of and ``back`` days before: (ladder, days_before, brand, stage, users); with
        ``back`` also the flows between: (ladder, brand, from, to, users).

        A ladder this run built (inside ``engine.enter``) holding both snapshots is read
        as it is: each snapshot's stages depend on that snapshot alone, so its rows are
        those of a ladder built with just these two. Otherwise (not built in this run,
        failed, or without both snapshots) one is built for the count, under a methodology
        budget of its own: the indicators may have spent the run's, and a count is not one
        of them (as when ``Dataset.ladder_counts`` builds it alone).
        """
        counts: list[tuple[str, int, str, str, int]] = []
        flows: list[tuple[str, str, str, str, int]] = []
        clock: QueryClock | None = None  # the counts' own budget, started when first needed
        for ladder in self.m.methodology.ladders:
            if ladder.name not in backs:
                continue
            back = backs[ladder.name]
            days = (0, back) if back else (0,)
            held = self.snapshots.get(ladder.name, ())
            built = ladder.name in self.built and set(days) <= set(held)
            if built:
                table = ladder.name
            else:
                clock = clock or QueryClock(self.engine, *self.ds.timeouts)
                table = self.ladder_table(ladder.model_copy(update={"snapshots": days}), clock)
            name = quote_ident(table)
            counts += [
                (ladder.name, *row)
                for row in self.engine.fetch(
                    f"SELECT days_before, brand, stage, count(*) AS users FROM {name} "
                    "WHERE days_before IN (0, $back) AND brand IN (SELECT brand FROM main.brands) "
                    "GROUP BY ALL ORDER BY ALL",
                    {"back": back},
                )[1]
            ]
            if back:
                flows += [
                    (ladder.name, *row)
                    for row in self.engine.fetch(_FLOW_SQL.format(table=name), {"back": back})[1]
                ]
            if not built:
                self.engine.drop(table)
        return LadderCounts(counts=counts, flows=flows)

    def ladder_table(self, ladder: StageLadder, clock: QueryClock | None = None) -> str:
        """Materialise ``ladder`` (as declared, or with other snapshots) as the methodology's
        table ``counts__<ladder>`` (inside ``engine.enter``) and return that name."""
        sql, binds = ladder.compile(self.params.model_dump(), self.engine.type_codes)
        if "as_of" in binds:
            binds["as_of"] = self.as_of
        name = f"counts__{ladder.name}"
        with (clock or self.clock).limit(f"ladder {ladder.name!r}"):
            self.engine.materialise(name, sql, binds)
        return name

    def _materialise(self, needed: list[str] | None = None) -> None:
        import duckdb

        m = self.m.methodology
        ladders = {lad.name: lad for lad in m.ladders}
        relations = {r.name: r for r in m.relations}
        if needed is None:
            needed = self.m.relations_needed([i.id for i in self.indicators])
        params = self.params.model_dump()
        # Only a Python indicator reads the snapshots a ladder's snapshots_sql names (SQL
        # reads the declared ones): without one in the run, the ladder keeps its own.
        python_reads = any(i.compute is not None for i in self.indicators)
        for name in needed:
            if name in self.built or name in self.failed:
                continue
            deps = relations[name].depends_on if name in relations else ()
            broken = [d for d in deps if d in self.failed]
            if broken:
                self.failed[name] = self.failed[broken[0]]
                continue
            if name in self.unportable:
                self.failed[name] = self.unportable[name]
                continue
            try:
                if name in ladders:
                    ladder = ladders[name]
                    if python_reads:
                        ladder = self._with_data_snapshots(ladder, params)
                    sql, binds = ladder.compile(params, self.engine.type_codes)
                    if "as_of" in binds:
                        binds["as_of"] = self.as_of
                    self.snapshots[name] = tuple(ladder.snapshot_days(params))
                else:
                    sql = relations[name].sql
                    binds = self._bind(self.m.relation_sql[name].parameters)
                with self.clock.limit(f"relation {name!r}"):
                    self.engine.materialise(name, sql, binds)
                self.built.add(name)
            except BrandlensError as e:  # a timeout, or a query the engine refused
                self.failed[name] = e.message
            except (duckdb.Error, ValueError, TypeError, KeyError) as e:
                if is_interrupt(e):
                    raise KeyboardInterrupt from e
                self.failed[name] = f"relation {name!r} failed: {_message(e)}"

    def _with_data_snapshots(self, ladder: StageLadder, params: dict[str, Any]) -> StageLadder:
        """The ladder with the snapshots its ``snapshots_sql`` finds in the data added.

        When they cannot be added (more than MAX_DATA_SNAPSHOTS days, or a rule needing
        0 days, which holds for every user the widened scan would read) the ladder keeps
        its declared snapshots: an indicator sees which it got in
        ``IndicatorContext.ladder_snapshots`` and computes the others its own way.
        """
        checked = self.m.snapshot_sql.get(ladder.name)
        if checked is None or ladder.snapshots_sql is None:
            return ladder
        if any(int(resolve(ev.min_days, params)) == 0 for ev in ladder.evidence()):
            return ladder
        with self.clock.limit(f"ladder {ladder.name!r} snapshots"):
            _, rows = self.engine.fetch(ladder.snapshots_sql, self._bind(checked.parameters))
        found = set()
        for day, *_rest in rows:
            if day is None:
                continue
            if not isinstance(day, date) or isinstance(day, datetime):
                raise BrandlensError(
                    f"ladder {ladder.name!r}: snapshots_sql must return dates, got {day!r}"
                )
            if day <= self.as_of:
                found.add((self.as_of - day).days)
        if len(found) > MAX_DATA_SNAPSHOTS:
            return ladder
        return ladder.model_copy(update={"snapshots": (*ladder.snapshots, *sorted(found))})

    def _missing_requirements(self, ind: Indicator) -> str | None:
        missing = []
        for req in ind.requires:
            table, _, column = req.partition(".")
            if column not in self.ds.source_columns.get(table, set()):
                missing.append(req)
        if not missing:
            return None
        return "needs " + ", ".join(
            f"the {r.split('.')[0]} table with {r.split('.')[1]}" for r in missing
        )

    def _indicator(self, ind: Indicator) -> list[ResultRow]:
        need = self._missing_requirements(ind)
        if need:
            raise _NotApplicable(need)
        # A Python indicator may read any relation, so it fails only on a query that
        # names a failed one (_query): one that reads none still computes.
        for rel in self.m.relations_needed([ind.id]) if ind.sql is not None else ():
            if rel in self.failed:
                raise BrandlensError(self.failed[rel])
        if ind.id in self.unportable:
            raise BrandlensError(self.unportable[ind.id])
        if ind.sql is not None:
            values = self._sql_values(ind)
        else:
            assert ind.compute is not None
            ctx = IndicatorContext(
                as_of=self.as_of,
                params=self.params,
                brands=list(self.brands),
                _run_query=lambda sql, kw: self._query(sql, kw, ind),
                ladder_snapshots=_Snapshots(self.snapshots, self.failed),
                _memo=self.memo,
                _across=self.across,
            )
            got = ind.compute(ctx)
            if got is None or isinstance(got, (dict, str, bytes, Value)):
                raise BrandlensError(
                    f"compute= must return a list of Value, got {type(got).__name__}"
                )
            values = list(got)
            wrong = next((v for v in values if not isinstance(v, Value)), None)
            if wrong is not None:
                raise BrandlensError(
                    f"compute= must return a list of Value, got one {type(wrong).__name__}"
                )
        return self._rows(ind, values)

    def _query(self, sql: str, extra: Mapping[str, Any], ind: Indicator) -> list[tuple]:
        checked = check_query(sql, self.allowed, f"indicator {ind.id!r}")
        failed = sorted(t for t in checked.tables if t in self.failed)
        if failed:  # said as the relation's own failure, not as a missing table
            raise BrandlensError(self.failed[failed[0]])
        known = set(self.binds) | set(extra)
        unknown = checked.parameters - known
        if unknown:
            raise BrandlensError(f"query uses unknown parameter(s) {sorted(unknown)}")
        with self.clock.limit(f"indicator {ind.id!r}"):
            return self.engine.fetch(sql, self._bind(checked.parameters, extra))[1]

    def _sql_values(self, ind: Indicator) -> list[Value]:
        checked = self.m.indicator_sql[ind.id]
        assert ind.sql is not None
        with self.clock.limit(f"indicator {ind.id!r}"):
            names, fetched = self.engine.fetch(ind.sql, self._bind(checked.parameters))
        needed = {"brand", "value"} | ({"key"} if ind.dimension else set())
        if not needed <= set(names):
            raise BrandlensError(f"SQL returned columns {names}, needs {sorted(needed)}")
        idx = {n: names.index(n) for n in names}
        out = []
        for row in fetched:
            out.append(
                Value(
                    brand=row[idx["brand"]],
                    value=row[idx["value"]],
                    key=None if "key" not in idx else _key(row[idx["key"]]),
                    numerator=row[idx["numerator"]] if "numerator" in idx else None,
                    denominator=row[idx["denominator"]] if "denominator" in idx else None,
                )
            )
        return out

    def _rows(self, ind: Indicator, values: list[Value]) -> list[ResultRow]:
        wanted = set(self.brands)
        seen: set[tuple[str, str | None]] = set()
        rows = []
        for v in values:
            if v.brand not in wanted:
                continue
            if ind.dimension and v.key is None:
                raise BrandlensError(f"a row for brand {v.brand!r} has no key")
            if ind.keys is not None and v.key not in ind.keys:
                raise BrandlensError(f"key {v.key!r} is not one of the declared keys")
            if (v.brand, v.key) in seen:
                raise BrandlensError(f"more than one value for brand {v.brand!r}, key {v.key!r}")
            seen.add((v.brand, v.key))
            value = _number(v.value)
            if ind.unit in ("users", "count") and isinstance(value, float) and value.is_integer():
                value = int(value)
            if v.denominator is not None and v.denominator == 0:
                value = None  # a ratio with a zero denominator is null, whatever the SQL said
            rows.append(
                ResultRow(
                    methodology=self.m.name,
                    indicator=ind.id,
                    brand=v.brand,
                    dimension=ind.dimension,
                    key=v.key if ind.dimension else None,
                    value=value,
                    numerator=_number(v.numerator),
                    denominator=_number(v.denominator),
                    unit=ind.unit,
                )
            )
        missing = sorted(wanted - {b for b, _ in seen})
        if missing and not ind.dimension:
            raise BrandlensError(f"no value for brand(s) {', '.join(missing)}")
        if ind.keys is not None:
            for brand in sorted(wanted):
                got = {k for b, k in seen if b == brand}
                if got != set(ind.keys):
                    lacking = sorted(set(ind.keys) - got)
                    raise BrandlensError(f"brand {brand!r} lacks key(s) {', '.join(lacking)}")
        return rows


def _cell(value: Any) -> Any:
    """An entity-table value for the listing: numbers as in results, dates as ISO text."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _key(v: Any) -> str | None:
    return None if v is None else str(v)


def _message(e: BaseException) -> str:
    first = first_line(e, "")
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


__all__ = ["DEFAULT_TIMEZONE", "ENGINE_PARAMETERS", "Dataset", "EngineConfig", "parse_parameters"]
