"""What a property checker is: its cells, its transformation, its comparison, its docs.

A checker handles one property kind of the spec vocabulary. The harness
(``brandlens.specs.verification``) only loops: it asks each declared property's
checker which run it needs (``group``), draws or builds the input for that run
(``draw``, ``probes``), lets the checker change the log (``transform``) and
compare the two runs (``check``). A new kind is one checker class, registered in
``brandlens.specs.checks.CHECKERS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

    from brandlens.engine.result import ResultRow
    from brandlens.specs.spec import IndicatorSpec
    from brandlens.specs.strategies import EventLog

Key = tuple[str, str, str | None]  # (indicator, brand, key)

VARIED = "varied"
"""Evidence the harness adds itself: the indicator took two or more distinct values."""
VARIED_NEVER = (
    "the indicator never took two different values on the logs tried, so an invariance "
    "holds trivially"
)


class InvalidLog(Exception):
    """A generated or transformed log that does not pass validation."""


@dataclass
class Failure(Exception):
    """A property violated on one log."""

    indicator: str
    message: str
    left: Any = None
    right: Any = None
    log: str = ""
    label: str = ""
    size: int = 0  # events in the log it failed on


@dataclass
class Run:
    """The values of one computation, keyed by (indicator, brand, key)."""

    rows: dict[Key, ResultRow]
    errors: dict[str, str]
    json: dict[str, str]
    not_applicable: frozenset[str] = frozenset()  # indicators whose optional data is absent

    def value(self, key: Key) -> Any:
        row = self.rows.get(key)
        return None if row is None else row.value

    def of(self, indicator: str) -> list[ResultRow]:
        """The indicator's rows, by brand and key."""
        keys = sorted((k for k in self.rows if k[0] == indicator), key=_order)
        return [self.rows[k] for k in keys]


@dataclass(frozen=True)
class Context:
    """What a checker may know of the methodology under test."""

    params: dict[str, Any]
    event_types: tuple[str, ...]
    categories: tuple[str, ...]
    accepts: Callable[[dict[str, Any]], bool] = field(default=lambda params: True, compare=False)
    """Whether the methodology's parameter model takes these parameters (a shifted one)."""


@dataclass(frozen=True)
class Change:
    """A transformed log: what was done to it, and which log a failure report shows."""

    log: EventLog
    what: str
    shown: EventLog
    note: Any = None  # what the checker needs to compare (a factor, a brand, a probe side)
    before: EventLog | None = None
    """The log to compare with, when it is not the unchanged one (a threshold's step from
    N - 1 to N compares two changed logs)."""
    params: dict[str, Any] | None = None
    """Parameters both sides are computed with, when not the defaults (then ``before``
    is the log itself if not given)."""
    after_params: dict[str, Any] | None = None
    """Parameters only the changed side is computed with (a moved parameter, the same
    log): the unchanged side keeps ``params``, or the defaults."""


@dataclass
class Trial:
    """One comparison: a run of a log and a second run (of the same log, or of a change)."""

    log: EventLog
    before: Run
    after: Run
    change: Change | None = None

    @property
    def shown(self) -> EventLog:
        return self.change.shown if self.change else self.log


@dataclass(frozen=True)
class Cell:
    """One indicator x one declared property: a cell of the verify table."""

    indicator: IndicatorSpec
    prop: Any
    label: str
    group: str  # cells of one group share a transformed run: "static" or the checker's key
    checker: Checker = field(compare=False)

    @property
    def needs(self) -> set[str]:
        """Indicators that must be computed to check this cell."""
        return self.checker.needs(self.prop, self.indicator)


class Checker:
    """One property kind. Subclasses set the docs attributes and override what they need."""

    kind: ClassVar[str]
    example: ClassVar[str]
    """A declaration in a spec file."""
    checks: ClassVar[str]
    """What exactly is checked (one docs paragraph, markdown)."""
    failure: ClassVar[str]
    """How a failure reads."""
    probing: ClassVar[str] = "each probe log is computed twice and checked"
    """What the deterministic probes do (docs)."""
    random: ClassVar[str] = "each random log is computed twice and checked"
    """What a random example is (docs)."""
    exercised: ClassVar[str]
    """When a pass counts: what must have happened at least once (docs; see ``exercise``)."""
    relational: ClassVar[bool] = False
    """Compares a log with a transformed copy (else: checks one log, run twice)."""

    def active(self, prop: Any) -> bool:
        """False for a declaration that only documents (``brand_isolated: false``)."""
        return True

    def checkable(self, prop: Any, ctx: Context) -> bool:
        """False for a declaration registration reported as a spec error (verify skips it)."""
        return True

    def label(self, prop: Any, ctx: Context) -> str:
        return self.kind

    def group(self, prop: Any, ctx: Context) -> str:
        """Cells with the same group share one transformed run per log."""
        return self.kind if self.relational else "static"

    def needs(self, prop: Any, ind: IndicatorSpec) -> set[str]:
        return {ind.id}

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any] | None:
        """The random input of the transformation (a seed, events to add, a factor)."""
        return None

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        """Deterministic inputs of the transformation for a probe log (checked first)."""
        return []

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        """The changed log (None: nothing to change on this log)."""
        return None

    def halves(self, extra: Any) -> tuple[Any, Any] | None:
        """The input split in two, for shrinking a failure (None: it cannot be split).

        By default an input that is a list of events (events to add) is halved.
        """
        if isinstance(extra, list | tuple) and len(extra) > 1 and isinstance(extra[0], dict):
            half = len(extra) // 2
            return tuple(extra[:half]), tuple(extra[half:])
        return None

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        """Raise Failure when the property does not hold on this trial; else the evidence
        that the trial exercised it (tokens of ``exercise``)."""
        raise NotImplementedError

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        """What must have happened at least once for a pass to mean something.

        Evidence token -> what never happened, for the report. A cell that never fails
        but lacks a token is ``unexercised``. ``VARIED`` is supplied by the harness.
        """
        return {}


# ---- comparisons every checker uses ---------------------------------------------------


def moved_by_one(
    ctx: Context, names: Iterable[str], takes: Callable[[dict[str, Any]], Any]
) -> list[tuple[str, int, Any]]:
    """Each whole-number parameter of ``names`` moved by one: +1, else -1 where +1 is
    refused. ``takes(params)`` is what the move gives (a new edge, a new window), None
    when it is no move (nothing moved, or out of range); the methodology's model must
    take the parameters too. A hard-coded default passes at the defaults: the checkers
    that build on parameters check again at a moved one."""
    out = []
    for name in sorted(names):
        value = ctx.params.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        for moved in (value + 1, value - 1):
            params = {**ctx.params, name: moved}
            try:
                got = takes(params)
            except (ValueError, ZeroDivisionError):
                continue
            if got is not None and ctx.accepts(params):
                out.append((name, moved, got))
                break
    return out


def close(a: Any, b: Any, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    """Equal within tolerance; null equals only null (never 0)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def where(key: Key) -> str:
    return f"brand {key[1]!r}" + (f", key {key[2]!r}" if key[2] else "")


def _order(key: Key) -> tuple[str, str]:
    return (key[1], key[2] or "")


def keys_of(*runs: Run, indicator: str, brands: Iterable[str] | None = None) -> list[Key]:
    """Every (indicator, brand, key) either run reports, optionally for some brands only."""
    keys: set[Key] = set()
    for r in runs:
        keys |= {k for k in r.rows if k[0] == indicator}
    if brands is not None:
        wanted = set(brands)
        keys = {k for k in keys if k[1] in wanted}
    return sorted(keys, key=_order)


def same(
    trial: Trial, ind: IndicatorSpec, what: str, factor: float = 1.0, rel: float = 1e-9
) -> bool:
    """Every value after the change equals the value before (times ``factor``), within
    the relative tolerance ``rel``.

    True when some value compared was neither null nor 0."""
    nonzero = False
    for key in keys_of(trial.before, trial.after, indicator=ind.id):
        left, right = trial.before.value(key), trial.after.value(key)
        expected = None if left is None else left * factor
        if not close(expected, right, rel=rel):
            raise Failure(ind.id, f"{where(key)}: {what}", expected, right, trial.shown.table())
        nonzero = nonzero or bool(left)
    return nonzero
