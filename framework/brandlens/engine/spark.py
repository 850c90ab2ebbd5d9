"""The Spark engine: the same plugins on local Spark or a cluster (Spark Connect).

The validated canonical tables leave the DuckDB store once, as Arrow: written to
Parquet in the run's private directory for local Spark, sent over the connection for
Spark Connect. Every query is the plugin's DuckDB SQL, checked by the core, its own
relations renamed to ``rel_<methodology>__<name>`` temporary views, and written in
Spark's dialect by SQLGlot; values stay bound parameters (Spark's ``:name`` markers).
A relation is computed once and kept with ``localCheckpoint``.

Spark runs with ANSI mode off (a division by zero is NULL, as in DuckDB) and the
session time zone UTC (local dates were fixed at load). pyspark comes with the
optional extra ``brandlens[spark]``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Collection, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brandlens.engine import dialects
from brandlens.engine.engines import MEMBERS_QUERY
from brandlens.errors import BrandlensError, EngineInterrupted, UsageError, first_line

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

CANONICAL_TABLES = ("events", "users", "products", "targets", "spend")

_SESSION: list[Any] = []
_LOCK = threading.Lock()


class SparkQueryError(BrandlensError):
    """A query Spark refused or failed, as one line."""


class SparkInterrupted(EngineInterrupted):
    """Spark cancelled the query because the run interrupted it."""


def session(remote: str | None = None) -> Any:
    """The process's Spark session: Spark Connect at ``remote`` or ``SPARK_REMOTE``, else
    ``local[*]`` (started once; a second run reuses it)."""
    import warnings

    try:
        with warnings.catch_warnings():  # pyspark warns about pandas versions it is not using
            warnings.simplefilter("ignore")
            from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark needs pyspark: pip install 'brandlens[spark]' (and Java 17+)"
        ) from None
    remote = remote or os.environ.get("SPARK_REMOTE")
    with _LOCK:
        if _SESSION and _SESSION[0][0] == remote:
            return _SESSION[0][1]
        builder = SparkSession.builder.appName("brandlens")
        if remote:
            builder = builder.remote(remote)
        else:
            builder = (
                builder.master(os.environ.get("BRANDLENS_SPARK_MASTER", "local[*]"))
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config(
                    "spark.sql.shuffle.partitions",
                    os.environ.get("BRANDLENS_SPARK_PARTITIONS", "8"),
                )
                .config("spark.driver.memory", os.environ.get("BRANDLENS_SPARK_MEMORY", "4g"))
            )
        try:
            with warnings.catch_warnings(), _quiet_jvm(not remote):
                warnings.simplefilter("ignore")
                spark = builder.getOrCreate()
        except Exception as e:  # no Java, bad remote, ...
            where = remote or "local[*]"
            raise UsageError(
                f"--engine spark: cannot start Spark at {where}: {one_line(e)}"
            ) from None
        spark.conf.set("spark.sql.ansi.enabled", "false")
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        if not remote:  # failures reach the user as one line each, not as Java logs
            spark.sparkContext.setLogLevel("OFF")
        _SESSION[:] = [(remote, spark)]
        return spark


@contextlib.contextmanager
def _quiet_jvm(local: bool) -> Iterator[None]:
    """Start the local JVM with its stderr on /dev/null: its start-up chatter is not ours to
    show, and its failures reach us through py4j (``BRANDLENS_DEBUG=1`` keeps it)."""
    if not local or os.environ.get("BRANDLENS_DEBUG"):
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def one_line(e: BaseException) -> str:
    """A Spark error's first line, cut short: Spark's first lines can hold a whole plan."""
    return first_line(e)[:300]


HADOOP_GLOB = "\\{}[]*?"
"""Characters Spark's file reader takes as a pattern (Hadoop's glob), not as themselves."""


def spark_path(path: str | Path) -> str | None:
    """``path`` as Spark reads that one file: Hadoop's glob characters escaped.

    Spark globs every path it reads: ``d[1]/events.parquet`` read ``d1/events.parquet``,
    another dataset, without a word. None where no escaping makes Hadoop take the path
    literally: a ``:`` beside an escaped character fails as a URI ("Relative path in
    absolute URI"), so the caller keeps such a path off Spark's reader.
    """
    text = str(path)
    if not any(c in HADOOP_GLOB for c in text):
        return text
    if ":" in text:
        return None
    return "".join("\\" + c if c in HADOOP_GLOB else c for c in text)


def spark_value(value: Any) -> Any:
    """A bound value as Spark takes it: lists as typed array literals."""
    if not isinstance(value, list | tuple):
        return value
    from pyspark.sql import functions as F

    return F.array(*[F.lit(v) for v in value])


class SparkEngine:
    """Runs a dataset's queries on Spark."""

    name = "spark"
    type_codes = None  # no vocabulary ENUM on Spark: ladders test bound lists

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        workdir: Path | None,
        remote: str | None = None,
        tables: Mapping[str, Any] | None = None,
    ) -> None:
        self.spark = session(remote)
        self.remote = remote or os.environ.get("SPARK_REMOTE")
        self.prefix = ""
        self.own: set[str] = set()
        self.views: set[str] = set()
        self.types: dict[str, dict[str, str]] = {}
        """View -> column -> type (DuckDB spelling), for SQLGlot's type annotation."""
        if tables is not None:  # validated on Spark (engine.spark_validation)
            for name, df in tables.items():
                self._register(df, name)
        else:
            self._load(con, workdir)

    def _register(self, df: Any, view: str) -> None:
        """Name ``df`` as a temporary view and remember its column types."""
        from sqlglot import exp

        df.createOrReplaceTempView(view)
        types = {}
        for f in df.schema.fields:
            try:
                types[f.name] = exp.DataType.build(f.dataType.simpleString(), dialect="spark").sql(
                    "duckdb"
                )
            except Exception:  # a type SQLGlot cannot read stays unknown
                continue
        self.types[view] = types

    def _load(self, con: duckdb.DuckDBPyConnection, workdir: Path | None) -> None:
        """The canonical tables, from the store to Spark (one Arrow pass each): through
        Parquet files in the run's private directory for local Spark, unless that
        directory's path is one Spark cannot read literally (then as for Spark Connect)."""
        folder = None if self.remote or workdir is None else workdir / "spark"
        if folder is not None and spark_path(folder) is None:
            folder = None
        for table in CANONICAL_TABLES:
            arrow = con.sql(f"SELECT * FROM main.{table}").to_arrow_table()
            try:
                if folder is None:
                    df = self.spark.createDataFrame(arrow)
                else:
                    import pyarrow.parquet as pq

                    folder.mkdir(exist_ok=True)
                    path = folder / f"{table}.parquet"
                    pq.write_table(arrow, path)
                    df = self.spark.read.parquet(spark_path(path))
            except Exception as e:
                raise SparkQueryError(f"Spark: loading the {table} table: {one_line(e)}") from None
            self._register(df, table)

    def _sql(self, sql: str, binds: Mapping[str, Any] | None = None) -> str:
        renames = {n: f"{self.prefix}{n}" for n in self.own}
        tree = dialects.rename_tables(dialects.parse(sql), renames)
        tree = dialects.type_dates(tree, binds or {})
        tree = dialects.annotate(tree, self.types)
        return dialects.to_dialect(tree, "spark")

    def _run(self, sql: str, binds: Mapping[str, Any]) -> Any:
        text = self._sql(sql, binds)
        args = {k: spark_value(v) for k, v in binds.items()}
        try:
            return self.spark.sql(text, args=args or None)
        except Exception as e:
            raise SparkQueryError(f"Spark: {one_line(e)}") from None

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except SparkQueryError:
            raise
        except Exception as e:
            if "cancel" in str(e).lower() or "interrupt" in str(e).lower():
                raise SparkInterrupted(one_line(e)) from None
            raise SparkQueryError(f"Spark: {one_line(e)}") from None

    def prepare(self, as_of: date, brands: list[str]) -> None:
        self._register(self.spark.createDataFrame([(b,) for b in brands], "brand string"), "brands")
        members = self._guard(lambda: self._run(MEMBERS_QUERY, {"as_of": as_of}).localCheckpoint())
        self._register(members, "members")

    def enter(self, schema: str, own: Collection[str]) -> None:
        self.prefix = f"{schema}__"
        self.own = set(own)

    def leave(self) -> None:
        for view in sorted(self.views):
            self.spark.catalog.dropTempView(view)
            self.types.pop(view, None)
        self.views.clear()
        self.prefix, self.own = "", set()

    def materialise(self, name: str, sql: str, binds: Mapping[str, Any]) -> None:
        df = self._guard(lambda: self._run(sql, binds).localCheckpoint())
        view = f"{self.prefix}{name}"
        self._register(df, view)
        self.views.add(view)

    def fetch(self, sql: str, binds: Mapping[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        df = self._run(sql, binds)
        rows = self._guard(df.collect)
        return list(df.columns), [tuple(r) for r in rows]

    def drop(self, name: str) -> None:
        view = f"{self.prefix}{name}"
        self.spark.catalog.dropTempView(view)
        self.views.discard(view)
        self.types.pop(view, None)

    def interrupt(self) -> None:
        try:
            self.spark.interruptAll()
        except Exception:  # classic sessions without interruptAll
            self.spark.sparkContext.cancelAllJobs()

    def check(self, sql: str) -> str | None:
        try:
            self._sql(sql)
        except dialects.NotPortable as e:
            return e.message
        return None
