"""The verification harness: prove on generated event logs that a plugin honours its spec.

Every property kind of the spec vocabulary is checked here, once, for any plugin.
Static kinds (bounds, integer, non_negative, partition, identity, ratio_of,
empty_brand, deterministic) are checked on each generated log; relational kinds
(permutation_invariant, brand_isolated, monotone, time_shift_invariant,
window_bounded, scale_equivariant) compare a log with a transformed copy.
Hypothesis shrinks a failure to a few rows, reported with the two values that
disagreed.
"""

from __future__ import annotations

import fnmatch
import math
import random
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brandlens.engine.result import MethodologyVerification, PropertyResult, VerifyReport
from brandlens.errors import DataError, UsageError
from brandlens.plugin.host import registry
from brandlens.plugin.methodology import CheckedMethodology
from brandlens.specs.spec import (
    Identity,
    IndicatorSpec,
    Monotone,
    Partition,
    WindowBounded,
    evaluate,
    window_days,
)
from brandlens.specs.strategies import (
    AS_OF,
    BRANDS,
    CATEGORIES,
    GHOST_BRAND,
    OTHER_BRAND,
    USERS,
    EventLog,
    event_logs,
    events,
    utc_ts,
)

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from hypothesis.strategies import SearchStrategy

    from brandlens.engine.result import Result, ResultRow

DEFAULT_EXAMPLES = 25
Key = tuple[str, str, str | None]  # (indicator, brand, key)


class InvalidLog(Exception):
    """A generated or transformed log that does not pass validation."""


@dataclass
class Failure(Exception):
    """A property violated on one generated log."""

    indicator: str
    message: str
    left: Any = None
    right: Any = None
    log: str = ""
    label: str = ""
    size: int = 0  # events in the generated log it failed on


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


def _close(a: Any, b: Any, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


SHRINK_BUDGET = 12
"""How many extra cases shrinking may try per failure: each costs whole runs."""
SMALL_ENOUGH = 3
"""A counterexample with this many events or fewer is reported as found, unshrunk."""

STATIC_KINDS = (
    "bounds",
    "integer",
    "non_negative",
    "partition",
    "identity",
    "ratio_of",
    "empty_brand",
    "deterministic",
)


@dataclass(frozen=True)
class Cell:
    """One indicator x one declared property: a cell of the verify table."""

    indicator: IndicatorSpec
    prop: Any
    label: str
    group: str  # which run it needs: "static" or a transformation key

    @property
    def needs(self) -> set[str]:
        """Indicators that must be computed to check this cell."""
        ids = {self.indicator.id}
        if isinstance(self.prop, Partition):
            ids |= {self.prop.parts} | (
                {self.prop.total} if isinstance(self.prop.total, str) else set()
            )
        if isinstance(self.prop, Identity):
            ids |= set(re.findall(r"\b([a-z][a-z0-9_]*\.[a-z0-9_]+)\b", self.prop.expr))
        return ids


def cells_of(spec_indicators: list[IndicatorSpec], params: dict[str, Any]) -> list[Cell]:
    cells = _cells(spec_indicators, params)
    seen: dict[tuple[str, str], int] = {}
    unique = []
    for c in cells:  # two properties of one kind on one indicator get distinct labels
        n = seen[(c.indicator.id, c.label)] = seen.get((c.indicator.id, c.label), 0) + 1
        unique.append(c if n == 1 else replace(c, label=f"{c.label} #{n}"))
    return unique


def _cells(spec_indicators: list[IndicatorSpec], params: dict[str, Any]) -> list[Cell]:
    cells = []
    for ind in spec_indicators:
        for p in ind.properties:
            kind = p.kind
            if kind in STATIC_KINDS:
                cells.append(Cell(ind, p, kind, "static"))
            elif kind == "brand_isolated":
                if p.isolated:
                    cells.append(Cell(ind, p, kind, "isolated"))
            elif kind in ("permutation_invariant", "time_shift_invariant", "scale_equivariant"):
                cells.append(Cell(ind, p, kind, kind))
            elif isinstance(p, WindowBounded):
                bound = window_days(p.days, params)
                label = f"window_bounded ({bound} days)"
                cells.append(
                    Cell(ind, p, label, f"window:{bound}:{','.join(p.except_event_types)}")
                )
            elif isinstance(p, Monotone):
                a = p.add
                label = f"monotone (+{a.event_type}, {a.user} user, {a.brand} brand)"
                cells.append(Cell(ind, p, label, "monotone:" + p.model_dump_json()))
    return cells


class Harness:
    """Runs one methodology on generated logs; one DuckDB connection for all of them."""

    def __init__(self, checked: CheckedMethodology, max_examples: int, seed: int) -> None:
        import duckdb

        self.checked = checked
        self.name = checked.name
        self.max_examples = max_examples
        self.seed = seed
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(config={"threads": 1})
        self.params = checked.methodology.parameters().model_dump()
        self.event_types = tuple(registry().event_types)
        self.only: set[str] | None = None  # indicators the pending cells need
        self.categories, self.target_indicators, self.spend = _what_to_generate(checked)

    def close(self) -> None:
        self.con.close()

    # ---- running -------------------------------------------------------------------
    def run(self, log: EventLog, brands: list[str] | None = None) -> Run:
        from brandlens.engine.runs import Dataset

        ds = Dataset(log.to_data(), connection=self.con)
        if ds.report.rows_quarantined:
            reasons = ", ".join(r.reason for r in ds.report.reasons)
            raise InvalidLog(f"rows quarantined as {reasons}")
        result: Result = ds.compute(
            as_of=log.as_of,
            methodologies=[self.name],
            brands=brands or log.report_brands(),
            indicators=self.only,
        )
        rows = {(r.indicator, r.brand, r.key): r for r in result.results}
        errors = {e.indicator: e.message for e in result.errors}
        by_ind: dict[str, list[str]] = {}
        for r in result.results:
            by_ind.setdefault(r.indicator, []).append(r.model_dump_json())
        skipped = frozenset(n.indicator for n in result.not_applicable)
        return Run(rows, errors, {k: "\n".join(v) for k, v in by_ind.items()}, skipped)

    def indicators(self) -> list[IndicatorSpec]:
        spec = self.checked.spec
        registered = {i.id for i in self.checked.methodology.indicators}
        return [i for i in spec.indicators if i.id in registered] if spec else []

    # ---- the strategy: a log plus what every transformation needs ---------------------
    def strategy(self, cells: list[Cell]) -> SearchStrategy[dict[str, Any]]:
        from hypothesis import strategies as st

        groups = {c.group for c in cells}
        parts: dict[str, SearchStrategy[Any]] = {
            "log": event_logs(
                event_types=self.event_types,
                categories=self.categories,
                target_indicators=self.target_indicators,
                spend=self.spend,
            )
        }
        for g in sorted(groups):
            if g == "permutation_invariant":
                parts[g] = st.integers(0, 2**16)
            elif g == "isolated":
                parts[g] = st.lists(
                    events(AS_OF, (OTHER_BRAND,), USERS, self.event_types, self.categories),
                    min_size=1,
                    max_size=8,
                )
            elif g == "time_shift_invariant":
                parts[g] = st.integers(-400, 400).filter(bool)
            elif g == "scale_equivariant":
                parts[g] = st.sampled_from((2, 3, 10))
            elif g.startswith("window:"):
                _, bound, excepted = g.split(":", 2)
                types = tuple(t for t in self.event_types if t not in excepted.split(","))
                days = st.integers(int(bound), int(bound) + 500)
                parts[g] = st.lists(
                    events(AS_OF, BRANDS, USERS, types, self.categories, day_offsets=days),
                    min_size=1,
                    max_size=8,
                )
            elif g.startswith("monotone:"):
                parts[g] = st.integers(0, 50)
        return st.fixed_dictionaries(parts)

    # ---- hypothesis driver -----------------------------------------------------------
    def explore(self, cells: list[Cell]) -> dict[tuple[str, str], Failure]:
        """Search all pending cells at once; shrink each failure on its own cell.

        Phase 1 generates logs and checks every pending cell on each (no shrinking).
        When a cell fails, phase 2 searches again for that cell alone, with only the
        runs it needs, and lets hypothesis shrink the failure to a few rows. The
        cell is then set aside and phase 1 resumes with the rest.
        """
        failures: dict[tuple[str, str], Failure] = {}
        remaining = list(cells)
        while remaining:
            found = self._search(remaining, shrink=False)
            if found is None:
                break
            cell, failure = found
            if failure.size > SMALL_ENOUGH:  # worth shrinking: each step costs whole runs
                shrunk = self._search([cell], shrink=True)
                if shrunk is not None:
                    failure = shrunk[1]
            failures[(cell.indicator.id, cell.label)] = failure
            remaining = [c for c in remaining if c is not cell]
        return failures

    def _search(self, pending: list[Cell], shrink: bool) -> tuple[Cell, Failure] | None:
        """One hypothesis run over the pending cells: None, or (cell, its failure)."""
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as seed_decorator

        last: dict[str, Any] = {}
        phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
        self.only = set().union(*(c.needs for c in pending))
        seen: dict[str, Failure | None] = {}  # case -> outcome, for the shrink budget

        @seed_decorator(self.seed)
        @settings(
            max_examples=self.max_examples * (4 if shrink else 1),
            deadline=None,
            database=None,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            phases=phases,
            print_blob=False,
        )
        @given(self.strategy(pending))
        def property_test(case: dict[str, Any]) -> None:
            key = repr(case)
            if key in seen or len(seen) >= self.max_examples + SHRINK_BUDGET:
                # Over budget, unseen cases count as passing: shrinking stops, and the
                # final replay of the smallest failing case still fails from the memo.
                outcome = seen.get(key)
                if outcome is not None:
                    last["failure"] = outcome
                    raise outcome
                return
            try:
                self.check(case, pending)
            except Failure as f:
                seen[key] = f
                last["failure"] = f  # the final call is hypothesis' replay of the shrunk case
                raise
            seen[key] = None

        try:
            property_test()
        except Failure:
            f: Failure = last["failure"]
            cell = next(c for c in pending if (c.indicator.id, c.label) == (f.indicator, f.label))
            return cell, f
        return None

    def check(self, case: dict[str, Any], cells: list[Cell]) -> None:
        """Check every pending cell on one generated case; raise the first Failure."""
        try:
            self._check(case, cells)
        except Failure as f:
            # the size of what the report shows: the log, plus any events a check added
            f.size = max(len(case["log"].events), _shown_events(f.log))
            raise
        except InvalidLog as e:  # e.g. a monotone addition of an unregistered event type
            raise Failure(
                cells[0].indicator.id,
                f"the spec asks for an invalid event: {e}",
                label=cells[0].label,
                size=len(case["log"].events),
            ) from None

    def _check(self, case: dict[str, Any], cells: list[Cell]) -> None:
        log: EventLog = case["log"]
        base = self.run(log)
        by_group: dict[str, list[Cell]] = {}
        for c in cells:
            by_group.setdefault(c.group, []).append(c)
        for group, group_cells in sorted(by_group.items()):
            if group == "static":
                again = self.run(log)
                for c in group_cells:
                    with _labelled(c):
                        if self._computed(base, c.indicator, log):
                            self._static(c.prop, c.indicator, base, again, log)
                continue
            if group.startswith("monotone:"):
                self._monotone(group_cells, base, log, case[group])
                continue
            changed, what, factor_of = self._transform(group, log, case[group])
            other = self.run(changed, brands=log.report_brands())
            # show the rows that were added; for a rewrite (shuffle, shift, scale) the original
            shown = changed if len(changed.events) > len(log.events) else log
            for c in group_cells:
                with _labelled(c):
                    if self._computed(base, c.indicator, log) and self._computed(
                        other, c.indicator, changed
                    ):
                        factor = factor_of(c.prop) if factor_of else 1.0
                        self._same(base, other, c.indicator, shown, what, factor=factor)

    def _transform(
        self, group: str, log: EventLog, extra: Any
    ) -> tuple[EventLog, str, Callable[[Any], float] | None]:
        if group == "permutation_invariant":
            return (
                shuffle_and_rename(log, extra),
                "shuffling rows and renaming users changed the value",
                None,
            )
        if group == "isolated":
            return (
                with_events(log, extra),
                f"adding events of another brand ({OTHER_BRAND}) changed the value",
                None,
            )
        if group == "time_shift_invariant":
            return (
                shift_days(log, extra),
                f"shifting every timestamp and as_of by {extra} days changed the value",
                None,
            )
        if group == "scale_equivariant":
            return (
                scale_amounts(log, extra),
                f"multiplying every amount by {extra} did not scale the value as declared",
                lambda p: float(extra) ** p.degree,
            )
        bound = group.split(":")[1]
        return (
            with_events(log, extra),
            f"adding events {bound} or more days before as_of changed the value",
            None,
        )

    def _computed(self, run: Run, ind: IndicatorSpec, log: EventLog) -> bool:
        """False when the indicator legitimately did not compute (missing optional table)."""
        if ind.id in run.not_applicable:
            return False
        err = run.errors.get(ind.id)
        if err is None:
            return True
        raise Failure(ind.id, f"did not compute: {err}", log=log.table())

    def _keys(self, *runs: Run, indicator: str, brands: Iterable[str] | None = None) -> list[Key]:
        keys: set[Key] = set()
        for r in runs:
            keys |= {k for k in r.rows if k[0] == indicator}
        if brands is not None:
            wanted = set(brands)
            keys = {k for k in keys if k[1] in wanted}
        return sorted(keys, key=lambda k: (k[1], k[2] or ""))

    def _same(
        self, a: Run, b: Run, ind: IndicatorSpec, log: EventLog, what: str, factor: float = 1.0
    ) -> None:
        for key in self._keys(a, b, indicator=ind.id):
            left, right = a.value(key), b.value(key)
            expected = None if left is None else left * factor
            if not _close(expected, right):
                raise Failure(ind.id, f"{_where(key)}: {what}", expected, right, log.table())

    def _monotone(self, cells: list[Cell], base: Run, log: EventLog, pick: int) -> None:
        prop: Monotone = cells[0].prop
        brands = [b for b in log.report_brands() if b != GHOST_BRAND]
        brand = brands[pick % len(brands)] if brands else GHOST_BRAND
        changed = add_event(log, prop, brand, pick)
        if changed is None:
            return
        other = self.run(changed, brands=log.report_brands())
        for c in cells:
            with _labelled(c):
                ind = c.indicator
                if not (self._computed(base, ind, log) and self._computed(other, ind, changed)):
                    continue
                for key in self._keys(base, other, indicator=ind.id, brands=[brand]):
                    before, after = base.value(key), other.value(key)
                    if before is None or after is None:
                        continue
                    rising = prop.direction == "non_decreasing"
                    if (after < before) if rising else (after > before):
                        a = prop.add
                        raise Failure(
                            ind.id,
                            f"{_where(key)}: adding a {a.event_type} of the {a.brand} brand by "
                            f"a {a.user} user made it {'fall' if after < before else 'rise'}",
                            before,
                            after,
                            changed.table(),
                        )

    # ---- static checks -------------------------------------------------------------------
    def _static(self, prop: Any, ind: IndicatorSpec, run: Run, again: Run, log: EventLog) -> None:
        rows = [
            r
            for k, r in sorted(run.rows.items(), key=lambda kv: (kv[0][1], kv[0][2] or ""))
            if k[0] == ind.id
        ]
        kind = prop.kind
        for r in rows:
            at = _where((r.indicator, r.brand, r.key))
            v = r.value
            if (
                kind == "bounds"
                and v is not None
                and ((prop.lo is not None and v < prop.lo) or (prop.hi is not None and v > prop.hi))
            ):
                raise Failure(
                    ind.id,
                    f"{at}: value outside [{prop.lo}, {prop.hi}]",
                    [prop.lo, prop.hi],
                    v,
                    log.table(),
                )
            if kind == "integer" and v is not None and not float(v).is_integer():
                raise Failure(
                    ind.id, f"{at}: value is not an integer", "an integer", v, log.table()
                )
            if kind == "non_negative" and v is not None and v < 0:
                raise Failure(ind.id, f"{at}: value is negative", ">= 0", v, log.table())
            if kind == "ratio_of":
                self._ratio(prop, ind, r, at, log)
            if kind == "empty_brand" and r.brand == GHOST_BRAND:
                expected = None if ind.unit in ("ratio", "index", "days") else 0
                if prop.value != "auto":
                    expected = 0 if prop.value == "zero" else None
                if v != expected:
                    raise Failure(ind.id, f"{at}: a brand with no events", expected, v, log.table())
        if kind == "deterministic" and run.json.get(ind.id) != again.json.get(ind.id):
            for key in self._keys(run, again, indicator=ind.id):
                a, b = run.rows.get(key), again.rows.get(key)
                if a != b:
                    raise Failure(
                        ind.id,
                        f"{_where(key)}: two runs on the same input differ",
                        a and a.value,
                        b and b.value,
                        log.table(),
                    )
        if kind == "partition":
            self._partition(prop, ind, run, log)
        if kind == "identity":
            self._identity(prop, ind, run, log)

    def _ratio(self, prop: Any, ind: IndicatorSpec, r: ResultRow, at: str, log: EventLog) -> None:
        v, num, den = r.value, r.numerator, r.denominator
        if v is None:
            if num is not None and den not in (None, 0):
                raise Failure(
                    ind.id,
                    f"{at}: null value with a non-zero denominator",
                    f"{num}/{den}",
                    None,
                    log.table(),
                )
            return
        if num is None or den is None:
            raise Failure(
                ind.id,
                f"{at}: numerator and denominator must be reported",
                "both",
                [num, den],
                log.table(),
            )
        if den == 0 or not _close(v, num / den):
            raise Failure(
                ind.id, f"{at}: value != numerator / denominator", f"{num}/{den}", v, log.table()
            )
        if prop.denominator_ge_numerator and den < num:
            raise Failure(ind.id, f"{at}: denominator < numerator", num, den, log.table())

    def _partition(self, prop: Partition, ind: IndicatorSpec, run: Run, log: EventLog) -> None:
        brands = sorted({k[1] for k in run.rows if k[0] in (prop.parts, prop.total)})
        for brand in brands:
            for k in prop.for_each:
                pattern = prop.parts_keys.replace("{k}", k)
                parts = [
                    r.value
                    for (i, b, key), r in run.rows.items()
                    if i == prop.parts and b == brand and fnmatch.fnmatchcase(key or "", pattern)
                ]
                if isinstance(prop.total, str):
                    total_key = prop.total_key.replace("{k}", k) if prop.total_key else None
                    if (prop.total, brand, total_key) not in run.rows:
                        continue
                    row = run.rows[(prop.total, brand, total_key)]
                    total = getattr(row, prop.total_field)
                else:
                    total = prop.total
                    if parts and all(p is None for p in parts):
                        continue  # a share that is null as a whole (e.g. nothing to share)
                if total is None:
                    if any(p is not None for p in parts):
                        raise Failure(
                            ind.id,
                            f"brand {brand!r}: parts are set but the total is null",
                            None,
                            parts,
                            log.table(),
                        )
                    continue
                got = sum(p for p in parts if p is not None)
                if not _close(got, total, rel=prop.rel_tol):
                    label = f"{prop.parts}[{pattern}]"
                    raise Failure(
                        ind.id,
                        f"brand {brand!r}: sum of {label} != {prop.total}"
                        + (f"[{total_key}]" if isinstance(prop.total, str) and total_key else ""),
                        total,
                        got,
                        log.table(),
                    )

    def _identity(self, prop: Identity, ind: IndicatorSpec, run: Run, log: EventLog) -> None:
        lhs, _, rhs = prop.expr.partition("==")
        brands = sorted({k[1] for k in run.rows if k[0] == ind.id})
        for brand in brands:
            values = _identity_names(run, brand)
            try:
                left = evaluate(_identity_expr(lhs), values)
                right = evaluate(_identity_expr(rhs), values)
            except (KeyError, TypeError):
                continue  # a term is null or absent for this brand: nothing to check
            if not _close(left, right, rel=prop.rel_tol, abs_=prop.abs_tol):
                raise Failure(
                    ind.id, f"brand {brand!r}: {prop.expr.strip()}", left, right, log.table()
                )


def _identity_expr(side: str) -> str:
    """``grow.gain + sum(grow.contribution) + grow.driver_share[G]`` -> Python names;
    ``denominator(m.x)`` and ``numerator(m.x[K])`` name a row's reported parts."""
    import re

    side = re.sub(
        r"(numerator|denominator)\(([a-z0-9_]+)\.([a-z0-9_]+)(?:\[([^\]]+)\])?\)",
        lambda m: f"{m[1][:3]}__{m[2]}__{m[3]}" + (f"__{_safe(m[4])}" if m[4] else ""),
        side,
    )
    side = re.sub(r"sum\(([a-z0-9_]+)\.([a-z0-9_]+)\)", r"sum__\1__\2", side)
    side = re.sub(
        r"([a-z0-9_]+)\.([a-z0-9_]+)\[([^\]]+)\]",
        lambda m: f"key__{m[1]}__{m[2]}__{_safe(m[3])}",
        side,
    )
    return re.sub(r"\b([a-z][a-z0-9_]*)\.([a-z0-9_]+)\b", r"val__\1__\2", side)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in key)


def _identity_names(run: Run, brand: str) -> dict[str, Any]:
    names: dict[str, Any] = {}
    sums: dict[str, float] = {}
    for (ind, b, key), row in run.rows.items():
        if b != brand:
            continue
        m, n = ind.split(".", 1)
        suffix = "" if key is None else f"__{_safe(key)}"
        for part in ("numerator", "denominator"):
            if getattr(row, part) is not None:
                names[f"{part[:3]}__{m}__{n}{suffix}"] = getattr(row, part)
        if key is None:
            if row.value is not None:
                names[f"val__{m}__{n}"] = row.value
        else:
            if row.value is not None:
                names[f"key__{m}__{n}__{_safe(key)}"] = row.value
                sums[f"sum__{m}__{n}"] = sums.get(f"sum__{m}__{n}", 0.0) + row.value
            else:
                sums.setdefault(f"sum__{m}__{n}", 0.0)
    names.update(sums)
    return names


def _what_to_generate(
    checked: CheckedMethodology,
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """The categories to draw events in, the indicators a targets table may name, and
    whether to draw a spend table.

    Categories named by a parameter marked ``{"vocabulary": "categories"}`` (DREAM's
    accessory categories, say) join the usual ones, so rules about them are exercised.
    A targets or spend table is generated only for a methodology with an indicator that
    requires one; other methodologies' logs stay exactly as they were.
    """
    m = checked.methodology
    defaults = m.parameters().model_dump()
    extra: list[str] = []
    for name, f in m.parameters.model_fields.items():
        marks = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if marks.get("vocabulary") == "categories":
            value = defaults[name]
            extra += [value] if isinstance(value, str) else [str(v) for v in value]
    categories = CATEGORIES + tuple(sorted(set(extra) - set(CATEGORIES)))
    needs = {r.split(".")[0] for i in m.indicators for r in i.requires}
    targeted = tuple(i.id for i in m.indicators) if "targets" in needs else ()
    return categories, targeted, "spend" in needs


# ---- transformations of a log ---------------------------------------------------------


def shuffle_and_rename(log: EventLog, seed: int) -> EventLog:
    """Shuffle rows and rename users one-to-one (in reverse order, so sorting changes)."""
    rng = random.Random(seed)
    rows = list(log.events)
    rng.shuffle(rows)
    names = sorted({e["user_id"] for e in rows} | {u["user_id"] for u in log.users or ()})
    mapping = {u: f"renamed_{len(names) - i:03d}" for i, u in enumerate(names)}
    rows = [{**e, "user_id": mapping[e["user_id"]]} for e in rows]
    users = (
        None
        if log.users is None
        else tuple({**u, "user_id": mapping[u["user_id"]]} for u in log.users)
    )
    return replace(log, events=tuple(rows), users=users)


def with_events(log: EventLog, extra: Iterable[dict[str, Any]]) -> EventLog:
    return replace(log, events=log.events + tuple(extra))


def shift_days(log: EventLog, days: int) -> EventLog:
    """Shift every timestamp, date and as_of by whole days."""

    def ts(value: str) -> str:
        t = datetime.strptime(value, "%Y-%m-%d %H:%M:%S") + timedelta(days=days)
        return t.strftime("%Y-%m-%d %H:%M:%S")

    def day(value: str | None) -> str | None:
        if value is None:
            return None
        return (datetime.strptime(value, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")

    users = (
        None
        if log.users is None
        else tuple({**u, "register_date": day(u.get("register_date"))} for u in log.users)
    )
    products = (
        None
        if log.products is None
        else tuple({**p, "launch_date": day(p.get("launch_date"))} for p in log.products)
    )
    targets = (
        None
        if log.targets is None
        else tuple(
            {**t, "period_start": day(t["period_start"]), "period_end": day(t["period_end"])}
            for t in log.targets
        )
    )
    spend = None if log.spend is None else tuple({**s, "date": day(s["date"])} for s in log.spend)
    return replace(
        log,
        as_of=log.as_of + timedelta(days=days),
        events=tuple({**e, "ts": ts(e["ts"])} for e in log.events),
        users=users,
        products=products,
        targets=targets,
        spend=spend,
    )


def scale_amounts(log: EventLog, k: int) -> EventLog:
    def scaled(v: str | None) -> str | None:
        return None if v is None else f"{Decimal(v) * k:.2f}"

    products = (
        None
        if log.products is None
        else tuple({**p, "list_price": scaled(p.get("list_price"))} for p in log.products)
    )
    spend = (
        None if log.spend is None else tuple({**s, "cost": scaled(s["cost"])} for s in log.spend)
    )
    return replace(
        log,
        events=tuple({**e, "amount": scaled(e.get("amount"))} for e in log.events),
        products=products,
        spend=spend,
    )


def add_event(log: EventLog, prop: Monotone, brand: str, pick: int) -> EventLog | None:
    """One event of the declared kind on the as_of date (noon local time)."""
    a = prop.add
    if a.user == "new":
        user = "newcomer"
    else:
        pool = sorted(
            {
                e["user_id"]
                for e in log.events
                if e.get("brand") == brand
                and (a.user == "existing" or e["event_type"] == "purchase")
            }
        )
        if not pool:
            return None
        user = pool[pick % len(pool)]
    target = brand
    if a.brand == "other":
        others = sorted({e["brand"] for e in log.events if e.get("brand")} - {brand})
        target = [*others, OTHER_BRAND][pick % (len(others) + 1)]
    cats = sorted(
        {e["category"] for e in log.events if e.get("brand") == brand and e.get("category")}
    ) or ["skincare"]
    row: dict[str, Any] = {
        "ts": utc_ts(log.as_of, 43_200),
        "user_id": user,
        "event_type": a.event_type,
        "brand": target,
        "category": cats[pick % len(cats)],
    }
    if a.event_type in ("purchase", "refund"):
        row["amount"] = f"{a.amount if a.amount is not None else 10:.2f}"
    if a.event_type == "review":
        row["rating"] = str(a.rating or 5)
    if a.event_type == "search":
        row["query_type"] = a.query_type or "brand"
    return with_events(log, [row])


# ---- the driver -------------------------------------------------------------------------


@contextmanager
def _labelled(cell: Cell) -> Iterator[None]:
    """Tag a Failure raised while checking a cell with the cell's property label."""
    try:
        yield
    except Failure as f:
        f.label = cell.label
        if f.indicator != cell.indicator.id:
            f.indicator = cell.indicator.id
        raise


def _shown_events(log_text: str) -> int:
    """The event count in an EventLog.table() header ("as_of 2025-06-30, 4 event(s)")."""
    m = re.match(r"as_of \S+, (\d+) event", log_text)
    return int(m.group(1)) if m else 0


def _where(key: Key) -> str:
    return f"brand {key[1]!r}" + (f", key {key[2]!r}" if key[2] else "")


def verify_methodology(
    checked: CheckedMethodology, max_examples: int = DEFAULT_EXAMPLES, seed: int = 0
) -> MethodologyVerification:
    """Run every declared property of every indicator of one methodology."""
    h = Harness(checked, max_examples, seed)
    try:
        cells = cells_of(h.indicators(), h.params)
        failures = h.explore(cells) if cells else {}
    finally:
        h.close()
    results = []
    for c in cells:
        f = failures.get((c.indicator.id, c.label))
        results.append(
            PropertyResult(
                indicator=c.indicator.id,
                property=c.label,
                status="fail" if f else "pass",
                message=f.message if f else "",
                left=_jsonable(f.left) if f else None,
                right=_jsonable(f.right) if f else None,
                counterexample=f.log if f else "",
            )
        )
    results.sort(key=lambda r: (r.indicator, r.property))
    return MethodologyVerification(
        methodology=checked.name,
        plugin=checked.plugin,
        examples=max_examples,
        seed=seed,
        spec_errors=list(checked.spec_errors),
        results=results,
    )


def _jsonable(v: Any) -> Any:
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return str(v)


def verify(
    targets: Iterable[str] | None = None, max_examples: int = DEFAULT_EXAMPLES, seed: int = 0
) -> VerifyReport:
    """Verify methodologies (by methodology or plugin name; default: all installed)."""
    reg = registry()
    chosen: list[CheckedMethodology] = []
    for t in targets or list(reg.methodologies):
        if t in reg.methodologies:
            chosen.append(reg.methodologies[t])
            continue
        by_plugin = [m for m in reg.methodologies.values() if m.plugin == t]
        broken = [p for p in reg.plugins if p.name == t and p.errors]
        if not by_plugin and broken:  # installed, but it failed: say why instead of "unknown"
            raise DataError(f"verify: plugin {t!r} did not register: {'; '.join(broken[0].errors)}")
        if not by_plugin:
            known = ", ".join(reg.methodologies) or "none installed"
            raise UsageError(
                f"verify: no methodology or plugin named {t!r} (methodologies: {known})"
            )
        chosen.extend(by_plugin)
    unique = {c.name: c for c in chosen}
    return VerifyReport(
        methodologies=[verify_methodology(c, max_examples, seed) for c in unique.values()]
    )
