"""Time limits for plugin queries: a slow plugin costs its own indicators, never the run.

Every query a methodology runs (its ladders and relations, indicator SQL, and
``ctx.query`` from Python indicators) runs under a :class:`QueryClock`. A query that
passes its limit is interrupted through DuckDB's ``interrupt()`` from a timer thread
and reported as :class:`QueryTimeout`, which the engine records as that indicator's
error; the methodology's other indicators go on. A methodology also has a budget for
all its queries together; once it is spent, its remaining queries fail at once.
Python code between queries cannot be interrupted, but its time counts against the
budget. A Ctrl-C from the user stays an interrupt of the whole run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from brandlens.errors import BrandlensError, is_interrupt

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

DEFAULT_QUERY_TIMEOUT = 300.0
"""Seconds one plugin query may run (``--query-timeout``, BRANDLENS_QUERY_TIMEOUT)."""
DEFAULT_METHODOLOGY_BUDGET = 900.0
"""Seconds all queries of one methodology may take together (``--methodology-budget``)."""


class QueryTimeout(BrandlensError):
    """A plugin query ran past its time limit (recorded as the indicator's error)."""


class QueryClock:
    """Interrupts the connection's running query when its limit or the budget passes."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        per_query: float = DEFAULT_QUERY_TIMEOUT,
        budget: float = DEFAULT_METHODOLOGY_BUDGET,
    ) -> None:
        self.con = con
        self.per_query = per_query
        self.budget = budget
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._running = False
        self._fired = False

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def _fire(self) -> None:
        with self._lock:  # only ever interrupt the query this clock is timing
            if self._running:
                self._fired = True
                self.con.interrupt()

    @contextmanager
    def limit(self, what: str) -> Iterator[None]:
        """Run one query (the body) under ``min(per_query, budget left)`` seconds."""
        left = self.left()
        if left <= 0:
            raise QueryTimeout(
                f"{what}: not run, the methodology's time budget of {self.budget:g} s is "
                "spent (--methodology-budget)"
            )
        limit = min(self.per_query, left)
        timer = threading.Timer(limit, self._fire)
        timer.daemon = True
        with self._lock:
            self._running, self._fired = True, False
        timer.start()
        try:
            yield
        except BaseException as e:
            if self._fired and is_interrupt(e):
                which = "--query-timeout" if limit == self.per_query else "--methodology-budget"
                raise QueryTimeout(f"{what}: stopped after {limit:g} s ({which})") from None
            raise
        finally:
            with self._lock:
                self._running = False
            timer.cancel()
