"""The synthetic market: realistic event logs with planted truths, at any scale.

``generate(out_dir, users=..., start=..., end=..., seed=...)`` writes the events,
users, products, targets and spend tables in the canonical schema. Users are
simulated in fixed-size chunks (vectorised numpy, no per-event loop) and streamed
to disk, so memory stays flat whatever the size; the same seed gives the same rows.
The planted profiles are documented in docs/demo-data.md.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from brandlens.errors import UsageError
from brandlens.fileio import AtomicFile

CHUNK_USERS = 25_000
"""Users per chunk; fixed so that a seed gives the same rows on any machine."""
DEMO_USERS = 20_000
"""The demo market's size: generation plus a comparison of every methodology in < 1 minute."""
MARKET_VERSION = "m5"
"""Bumped whenever the simulation changes, so cached demo markets are regenerated."""
DEFAULT_START = date(2023, 4, 1)
DEFAULT_END = date(2025, 6, 30)
EARLIEST, LATEST = date(1970, 1, 1), date(2100, 12, 31)
"""The calendar the simulation supports: its date arithmetic stays inside these years."""
MAX_USERS = 1_000_000_000
"""About 100 billion events: anything larger is a typo, not a market."""


class GeneratedMarket(BaseModel):
    """What ``brandlens generate`` wrote."""

    out_dir: str
    format: str
    users: int
    seed: int
    start: str
    end: str
    order: str = "user"
    rows: dict[str, int]
    seconds: float
    events_per_second: float


QUARTER_DAYS = 91
"""The targets' period: the market's last 91 days (2025-04-01 to 2025-06-30 by default)."""


def quarter_pairs(market: Any, chunk: Any) -> dict[str, np.ndarray]:
    """(user, brand) pairs that bought, and that engaged having been reached before, in the
    targets' quarter: what DREAM's buyer and asset-flow targets are set against."""
    from brandlens.data.market.simulate import DAY, ET

    e = chunk.events
    start = max(market.days - QUARTER_DAYS, 0) * DAY
    inside = e["t"] >= start
    first = np.full(len(chunk.pair_brand), np.iinfo(np.int64).max)
    np.minimum.at(first, e["pair"], e["t"])
    engaging = np.isin(
        e["etype"],
        [ET[t] for t in ("product_view", "add_to_cart", "favorite", "consult", "purchase")],
    )
    bought = inside & (e["etype"] == ET["purchase"])
    engaged = inside & engaging & (first[e["pair"]] < start)
    return {
        "quarter_buyers": np.unique(e["pair"][bought]),
        "quarter_engaged": np.unique(e["pair"][engaged]),
    }


class _Placed:
    """A finished file waiting to be put in place, with a table writer's interface."""

    def __init__(self, file: AtomicFile, rows: int) -> None:
        self.file, self.rows = file, rows

    def close(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


def _write_both(writers: dict, events: object, users: object) -> None:
    writers["events"].write(events)
    writers["users"].write(users)


TABLE_NAMES = ("events", "users", "products", "targets", "spend")
"""The tables a market holds, each written as ``<name>.<format>``."""


def _check_folder(out: Path, ext: str, overwrite: bool) -> None:
    """Refuse to write beside or over tables ``out`` holds (see ``generate``)."""
    from brandlens.data.sources import table_entries

    held = table_entries(out)
    if not held:
        return
    names = ", ".join(p.name for p in held)
    if not overwrite:
        raise UsageError(
            f"generate {out}: already holds {names}; choose an empty folder, "
            "or pass --overwrite to replace a generated market"
        )
    ours = {f"{name}.{ext}" for name in TABLE_NAMES}
    other = [p.name for p in held if p.name not in ours or not p.is_file()]
    if other:
        raise UsageError(
            f"generate {out}: holds {', '.join(other)}, which --overwrite would not "
            f"replace (the market is written as .{ext} files); remove it first"
        )


def generate(
    out_dir: str | Path,
    users: int = 20_000,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    seed: int = 0,
    fmt: str = "parquet",
    order: str = "user",
    overwrite: bool = False,
) -> GeneratedMarket:
    """Write the market's tables to ``out_dir`` (created if needed); ``order`` is the
    events' order (see ``order.ORDERS``).

    A folder that already holds tables is refused: they may be a brand's own log. With
    ``overwrite`` the tables of the same names and format are replaced; a table held in
    another form (``events.csv`` beside a Parquet market, a folder of parts) is still
    refused, since every command would then find two and refuse the folder.
    """
    from brandlens.data.market import write
    from brandlens.data.market.order import check_order, sort_events_by_time
    from brandlens.data.market.simulate import Market, simulate_chunk

    if users < 1:
        raise UsageError("--users must be at least 1")
    if users > MAX_USERS:
        raise UsageError(f"--users must be at most {MAX_USERS:,}, got {users:,}")
    if end <= start:
        raise UsageError("--end must be after --start")
    if start < EARLIEST or end > LATEST:
        raise UsageError(f"--start and --end must lie between {EARLIEST} and {LATEST}")
    if seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {seed}")
    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format must be parquet or csv, not {fmt!r}")
    check_order(order)
    out = Path(out_dir)
    ext = "parquet" if fmt == "parquet" else "csv"
    _check_folder(out, ext, overwrite)
    made = [p for p in [out, *out.parents] if not p.exists()]  # deepest first
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"generate {out}: cannot create the folder ({e.strerror})") from None
    began = time.perf_counter()
    market = Market(start, end, seed)
    width = max(7, len(str(users)))
    writers: dict[str, write.TableWriter | _Placed] = {}
    stats = {
        "reached": np.zeros(len(market.brand_names)),
        "joined": np.zeros(len(market.brand_names)),
        "quarter_buyers": np.zeros(len(market.brand_names)),
        "quarter_engaged": np.zeros(len(market.brand_names)),
    }
    next_id = 1
    pending: Future[None] | None = None
    by_time: AtomicFile | None = None
    try:
        for name in ("events", "users"):
            writers[name] = write.TableWriter(out / f"{name}.{ext}", fmt)
        # Writing a chunk (pyarrow, GIL released) overlaps simulating the next one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            for index, offset in enumerate(range(0, users, CHUNK_USERS)):
                chunk = simulate_chunk(market, offset, min(CHUNK_USERS, users - offset), index)
                table = write.events_table(market, chunk, width, next_id)
                people = write.users_table(market, chunk, width)
                next_id += table.num_rows
                if pending is not None:
                    pending.result()
                pending = pool.submit(_write_both, writers, table, people)
                stats["reached"] += np.bincount(chunk.pair_brand, minlength=len(stats["reached"]))
                joins = chunk.events["etype"] == 11  # member_join
                stats["joined"] += np.bincount(
                    chunk.pair_brand[chunk.events["pair"][joins]], minlength=len(stats["joined"])
                )
                for name, pairs in quarter_pairs(market, chunk).items():
                    stats[name] += np.bincount(chunk.pair_brand[pairs], minlength=len(stats[name]))
            if pending is not None:
                pending.result()
        for name, table in (
            ("products", write.products_table(market)),
            ("targets", write.targets_table(market, stats)),
            ("spend", write.spend_table(market, users)),
        ):
            writers[name] = write.TableWriter(out / f"{name}.{ext}", fmt)
            writers[name].write(table)
        unsorted = writers["events"].finish()
        if order == "time" and unsorted is not None:
            # sorted into a file of its own before any table is put in place, so a sort
            # that fails leaves the folder as it was
            by_time = AtomicFile(out / f"events.{ext}", "generate")
            sort_events_by_time(unsorted, by_time.tmp, fmt)
            writers["events"].discard()
            writers["events"] = _Placed(by_time, writers["events"].rows)
        for w in writers.values():
            w.close()
    except BaseException:  # no partial tables and no temporary files left behind
        if by_time is not None:
            by_time.discard()
        for w in writers.values():
            w.discard()
        for folder in made:  # the folders this run made, now empty again
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    rows = {name: w.rows for name, w in writers.items()}
    elapsed = time.perf_counter() - began
    return GeneratedMarket(
        out_dir=str(out),
        format=fmt,
        users=users,
        seed=seed,
        start=start.isoformat(),
        end=end.isoformat(),
        order=order,
        rows=rows,
        seconds=round(elapsed, 3),
        events_per_second=round(rows["events"] / elapsed) if elapsed else 0.0,
    )
