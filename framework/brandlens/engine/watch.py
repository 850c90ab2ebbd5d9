"""How far a connection's running statement has got, reported from a side thread.

Loading a large log is a few long statements (minutes at a billion events) during
which a terminal would otherwise show nothing. DuckDB tracks each statement's progress
(``query_progress``); a daemon thread reads it every quarter second and hands the
percentage to a callback. The statement runs exactly as it would unwatched.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

LoadProgress = Callable[[float | None], None]
"""Called from a side thread with the running statement's progress in percent (0 to
100; a new statement starts again near 0), and with None once when the watched work
ends, if anything was reported."""

POLL_SECONDS = 0.25


@contextlib.contextmanager
def watching(con: Any, report: LoadProgress | None, every: float | None = None) -> Iterator[None]:
    """Within the block, report ``con``'s statement progress to ``report`` (if given).

    DuckDB computes progress only with its progress bar on; its own printing stays off.
    Percentages outside 0..100 (DuckDB's -1: no statement running, or no estimate) are
    not reported.
    """
    if report is None:
        yield
        return
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET enable_progress_bar = true")
    stop = threading.Event()
    reported = threading.Event()

    pause = POLL_SECONDS if every is None else every

    def poll() -> None:
        while not stop.wait(pause):
            try:
                percent = float(con.query_progress())
            except Exception:  # the connection closed under us: nothing left to watch
                return
            if 0.0 <= percent <= 100.0:
                try:
                    report(percent)
                except Exception:  # a broken display must not break the run
                    return
                reported.set()

    thread = threading.Thread(target=poll, name="brandlens-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with contextlib.suppress(Exception):
            con.execute("SET enable_progress_bar = false")
        if reported.is_set():
            with contextlib.suppress(Exception):
                report(None)
