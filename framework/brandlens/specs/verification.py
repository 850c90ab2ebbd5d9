"""The verification harness: prove on generated event logs that a plugin honours its spec.

Each property kind is checked by its checker (``brandlens.specs.checks``); the
harness only loops. Static kinds (bounds, integer, non_negative, partition,
identity, ratio_of, empty_brand, deterministic) are checked on each generated
log; relational kinds (permutation_invariant, brand_isolated, monotone,
time_shift_invariant, window_bounded, scale_equivariant) compare a log with a
transformed copy. Hypothesis shrinks a failure to a few rows, reported with the
two values that disagreed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from brandlens.engine.result import MethodologyVerification, PropertyResult, VerifyReport
from brandlens.errors import DataError, UsageError
from brandlens.plugin.host import registry
from brandlens.plugin.methodology import CheckedMethodology
from brandlens.specs.checks import CHECKERS
from brandlens.specs.checks.base import Cell, Context, Failure, InvalidLog, Run, Trial
from brandlens.specs.spec import IndicatorSpec
from brandlens.specs.strategies import CATEGORIES, EventLog, event_logs

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from hypothesis.strategies import SearchStrategy

    from brandlens.engine.result import Result

DEFAULT_EXAMPLES = 25

SHRINK_BUDGET = 12
"""How many extra cases shrinking may try per failure: each costs whole runs."""
SMALL_ENOUGH = 3
"""A counterexample with this many events or fewer is reported as found, unshrunk."""


def cells_of(spec_indicators: list[IndicatorSpec], ctx: Context) -> list[Cell]:
    """One cell per declared (and checkable) property; repeated labels are numbered."""
    cells = []
    seen: dict[tuple[str, str], int] = {}
    for ind in spec_indicators:
        for p in ind.properties:
            checker = CHECKERS[p.kind]
            if not checker.active(p):
                continue
            cell = Cell(ind, p, checker.label(p, ctx), checker.group(p, ctx), checker)
            n = seen[(ind.id, cell.label)] = seen.get((ind.id, cell.label), 0) + 1
            cells.append(cell if n == 1 else replace(cell, label=f"{cell.label} #{n}"))
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
        categories, self.target_indicators = _what_to_generate(checked)
        self.ctx = Context(
            params=checked.methodology.parameters().model_dump(),
            event_types=tuple(registry().event_types),
            categories=categories,
        )
        self.only: set[str] | None = None  # indicators the pending cells need

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

        parts: dict[str, SearchStrategy[Any]] = {
            "log": event_logs(
                event_types=self.ctx.event_types,
                categories=self.ctx.categories,
                target_indicators=self.target_indicators,
            )
        }
        relational = {c.group: c for c in cells if c.checker.relational}
        for group, c in sorted(relational.items()):
            parts[group] = c.checker.draw(c.prop, self.ctx)
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
            first = group_cells[0]
            if group == "static":
                trial = Trial(log, base, self.run(log))
            else:
                change = first.checker.transform(first.prop, self.ctx, log, case[group])
                if change is None:
                    continue
                trial = Trial(log, base, self.run(change.log, brands=log.report_brands()), change)
            after_log = trial.change.log if trial.change else log
            for c in group_cells:
                with _labelled(c):
                    if self._computed(trial.before, c.indicator, log) and self._computed(
                        trial.after, c.indicator, after_log
                    ):
                        c.checker.check(c, trial)

    def _computed(self, run: Run, ind: IndicatorSpec, log: EventLog) -> bool:
        """False when the indicator legitimately did not compute (missing optional table)."""
        if ind.id in run.not_applicable:
            return False
        err = run.errors.get(ind.id)
        if err is None:
            return True
        raise Failure(ind.id, f"did not compute: {err}", log=log.table())


def _what_to_generate(checked: CheckedMethodology) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The categories to draw events in, and the indicators a targets table may name.

    Categories named by a parameter marked ``{"vocabulary": "categories"}`` (DREAM's
    accessory categories, say) join the usual ones, so rules about them are exercised.
    A targets table is generated only for a methodology with an indicator that
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
    wants_targets = any(r.startswith("targets.") for i in m.indicators for r in i.requires)
    return categories, tuple(i.id for i in m.indicators) if wants_targets else ()


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


def verify_methodology(
    checked: CheckedMethodology, max_examples: int = DEFAULT_EXAMPLES, seed: int = 0
) -> MethodologyVerification:
    """Run every declared property of every indicator of one methodology."""
    h = Harness(checked, max_examples, seed)
    try:
        cells = cells_of(h.indicators(), h.ctx)
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
