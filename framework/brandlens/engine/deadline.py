"""Time limits for plugin queries: a slow plugin costs its own indicators, never the run.

Every query a methodology runs (its ladders and relations, indicator SQL, and
``ctx.query`` from Python indicators) runs under a :class:`QueryClock`. A query that
passes its limit is interrupted through the engine's ``interrupt()`` from a timer thread
and reported as :class:`QueryTimeout`, which the engine records as that indicator's
error; the methodology's other indicators go on. A methodology also has a budget for
all its queries together; once it is spent, its remaining queries fail at once.
Python code between queries cannot be interrupted, but its time counts against the
budget. A Ctrl-C from the user stays an interrupt of the whole run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from brandlens.errors import BrandlensError, is_interrupt


class Interruptible(Protocol):
    """A DuckDB connection or a query engine: something whose running query can stop."""

    def interrupt(self) -> None: ...


DEFAULT_QUERY_TIMEOUT = 300.0
"""Seconds one plugin query may run (``--query-timeout``, BRANDLENS_QUERY_TIMEOUT)."""
DEFAULT_METHODOLOGY_BUDGET = 900.0
"""Seconds all queries of one methodology may take together (``--methodology-budget``)."""
DEFAULT_LIMITS_EVENTS = 100_000_000
"""The defaults above are for up to this many events and grow in proportion beyond: a
billion-event log's ladder legitimately takes longer than 300 s, a runaway query on a
small log still stops early. A limit given explicitly is kept as given."""


class QueryTimeout(BrandlensError):
    """A plugin query ran past its time limit (recorded as the indicator's error)."""


class _Watchdog:
    """One daemon thread for every clock: calls a query's ``fire`` when its deadline passes.

    A thread per query (``threading.Timer``) costs its start-up on every query, which
    is most of the time of a small one; a run of many small queries (``brandlens
    verify`` runs thousands) pays it thousands of times. This thread is started once
    and sleeps until the earliest deadline armed.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, Callable[[], None]]] = {}
        self._count = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fire: Callable[[], None]) -> int:
        with self._cond:
            self._count += 1
            self._due[self._count] = (time.monotonic() + seconds, fire)
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._run, name="brandlens-query-clock", daemon=True
                )
                self._thread.start()
            self._cond.notify()
            return self._count

    def disarm(self, token: int) -> None:
        with self._cond:
            self._due.pop(token, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                late = [t for t, (due, _) in self._due.items() if due <= now]
                if late:
                    fires = [self._due.pop(t)[1] for t in late]
                    self._cond.release()  # fire takes the clock's lock: never hold both
                    try:
                        for fire in fires:
                            fire()
                    finally:
                        self._cond.acquire()
                    continue
                nearest = min((due for due, _ in self._due.values()), default=None)
                self._cond.wait(None if nearest is None else nearest - now)


_WATCHDOG = _Watchdog()


class QueryClock:
    """Interrupts the connection's running query when its limit or the budget passes."""

    def __init__(
        self,
        con: Interruptible,
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
        with self._lock:
            self._running, self._fired = True, False
        token = _WATCHDOG.arm(limit, self._fire)
        try:
            yield
        except BaseException as e:
            if self._fired and is_interrupt(e):
                which = "--query-timeout" if limit == self.per_query else "--methodology-budget"
                raise QueryTimeout(f"{what}: stopped after {limit:g} s ({which})") from None
            raise
        finally:
            _WATCHDOG.disarm(token)
            with self._lock:
                self._running = False
