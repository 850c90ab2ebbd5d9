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


def sort_events_by_time(src: Path, dst: Path, fmt: str) -> None:
    """Write the events table ``src`` (Parquet or CSV) to ``dst`` sorted by (ts, event_id).

    DuckDB sorts it within the run settings every command uses (BRANDLENS_MEMORY_LIMIT,
    else a fifth of RAM; BRANDLENS_THREADS; BRANDLENS_TEMP_DIRECTORY), spilling to a
    private directory removed afterwards, so a billion events sort on a machine that
    cannot hold them. Event ids are unique, so the order is total: the same seed gives
    the same file. Parquet is written as the generator writes it (zstd level 1).
    """
    import duckdb

    from brandlens.engine import workdir
    from brandlens.engine.runs import EngineConfig
    from brandlens.errors import UsageError, first_line, is_interrupt

    settings = EngineConfig().resolved()
    spill = workdir.make(settings.get("temp_directory"))
    try:
        settings["temp_directory"] = str(spill)
        con = duckdb.connect(":memory:", config=settings)
        try:
            if fmt == "parquet":
                rows = "SELECT * FROM read_parquet($src) ORDER BY ts, event_id"
                options = "FORMAT PARQUET, COMPRESSION ZSTD, COMPRESSION_LEVEL 1"
            else:  # every field as written: only the order changes
                rows = (
                    "SELECT * FROM read_csv($src, header = true, all_varchar = true) "
                    "ORDER BY CAST(ts AS TIMESTAMP), CAST(event_id AS BIGINT)"
                )
                options = "FORMAT CSV, HEADER"
            con.execute(
                f"COPY ({rows}) TO $dst ({options}, USE_TMP_FILE false)",
                {"src": str(src), "dst": str(dst)},
            )
        except duckdb.Error as e:
            if is_interrupt(e):
                raise KeyboardInterrupt from None
            first = first_line(e)
            raise UsageError(f"generate {src.name}: cannot sort by time ({first})") from None
        finally:
            con.close()
    finally:
        workdir.remove(spill)
