"""The order a generated log's events are written in.

The simulation writes events user by user (a chunk of users at a time, each user's
brands together), the friendliest order there is for anything that groups by user.
A brand's real log arrives in the order things happened, so ``time`` rewrites the
events file sorted by timestamp: the same rows, in a real log's order, for measuring
what a real log costs (docs/performance.md, "The order of the log").
"""

from __future__ import annotations

from pathlib import Path

ORDERS = ("user", "time")
"""``user``: the simulation's own order (the default); ``time``: by timestamp."""


def check_order(order: str) -> None:
    from brandlens.errors import UsageError

    if order not in ORDERS:
        raise UsageError(f"--order must be {' or '.join(ORDERS)}, not {order!r}")


def sort_events_by_time(path: Path, fmt: str) -> None:
    """Rewrite ``path`` (the events table, Parquet or CSV) sorted by (ts, event_id).

    DuckDB sorts it within the default memory limit, spilling to a private directory,
    so a billion events sort on a machine that cannot hold them; the file is replaced
    atomically. Ties keep a fixed order (event_id), so the same seed gives the same file.
    """
    import duckdb

    from brandlens.engine import workdir
    from brandlens.engine.runs import default_memory_limit
    from brandlens.errors import UsageError
    from brandlens.fileio import AtomicFile

    spill = workdir.make()
    try:
        config = {"temp_directory": str(spill)}
        limit = default_memory_limit()
        if limit:
            config["memory_limit"] = limit
        con = duckdb.connect(":memory:", config=config)
        try:
            if fmt == "parquet":
                rows = "SELECT * FROM read_parquet($src) ORDER BY ts, event_id"
                options = "FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 1048576"
            else:  # every field as written: only the order changes
                rows = (
                    "SELECT * FROM read_csv($src, header = true, all_varchar = true) "
                    "ORDER BY CAST(ts AS TIMESTAMP), CAST(event_id AS BIGINT)"
                )
                options = "FORMAT CSV, HEADER"
            with AtomicFile(path, "generate") as tmp:
                try:
                    con.execute(
                        f"COPY ({rows}) TO $dst ({options}, USE_TMP_FILE false)",
                        {"src": str(path), "dst": str(tmp)},
                    )
                except duckdb.Error as e:
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                    raise UsageError(f"generate {path}: cannot sort by time ({first})") from None
        finally:
            con.close()
    finally:
        workdir.remove(spill)
