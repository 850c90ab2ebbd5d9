"""The verification harness: prove on generated event logs that a plugin honours its spec.

Each property kind is checked by its checker (``brandlens.specs.checks``); the
harness only loops, in three steps per methodology:

1. **Probes.** The fixed logs of ``brandlens.specs.probes``, each with the
   deterministic probes of every checker (a window's boundary days at the first and
   last second of the local day, shifts onto leap days and month ends, ...). They
   run first and every time, whatever the seed or example count.
2. **Random logs.** Hypothesis draws ``max_examples`` logs (and the input of each
   transformation) and checks every cell that has not failed yet on each.
3. **Shrinking.** A failure on a log of more than three events is shrunk by
   removing events (and the optional tables) while the same cell still fails.

A cell that never failed passes only if it was *exercised*: each checker names
what must have happened at least once (a monotone addition that moved the value,
an event on day W − 1 that did, values that varied at all); a property the harness
could not exercise is reported as ``unexercised``, which fails verification.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from brandlens.engine.result import MethodologyVerification, PropertyResult, VerifyReport
from brandlens.errors import DataError, UsageError
from brandlens.plugin.host import registry
from brandlens.plugin.methodology import CheckedMethodology, vocabulary_values
from brandlens.specs.checks import CHECKERS, IMPLICIT
from brandlens.specs.checks.base import VARIED, Cell, Context, Failure, InvalidLog, Run, Trial
from brandlens.specs.checks.parameters import KIND, Corner, ListedParameters, movable
from brandlens.specs.probes import probe_logs, spread_log
from brandlens.specs.spec import IndicatorSpec, event_types_named, parameter_refs
from brandlens.specs.strategies import CATEGORIES, EventLog, event_logs

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from hypothesis.strategies import SearchStrategy

    from brandlens.engine.result import Result

DEFAULT_EXAMPLES = 25

SHRINK_BUDGET = 40
"""How many smaller logs shrinking may try per failure: each costs one or two runs."""
SMALL_ENOUGH = 3
"""A counterexample with this many events or fewer is reported as found, unshrunk."""

CellKey = tuple[str, str]  # (indicator, label)
Progress = Callable[[str, int, int], None]
"""Called after each log checked: (methodology, logs done, logs in all)."""


def cells_of(spec_indicators: list[IndicatorSpec], ctx: Context) -> list[Cell]:
    """One cell per declared (and checkable) property, repeated labels numbered; and,
    when the methodology has a parameter to move, one per indicator for its list."""
    cells = []
    seen: dict[tuple[str, str], int] = {}
    for ind in spec_indicators:
        for p in ind.properties:
            checker = CHECKERS[p.kind]
            if (
                not checker.active(p)
                or parameter_refs(p) - set(ctx.params)
                or set(event_types_named(p)) - set(ctx.event_types)
                or not checker.checkable(p, ctx)
            ):
                continue  # an unknown $parameter or event type is a spec error, said apart
            cell = Cell(ind, p, checker.label(p, ctx), checker.group(p, ctx), checker)
            n = seen[(ind.id, cell.label)] = seen.get((ind.id, cell.label), 0) + 1
            cells.append(cell if n == 1 else replace(cell, label=f"{cell.label} #{n}"))
    if movable(ctx):  # each indicator's parameters: list, checked without a declaration
        known = set(ctx.params)
        joint = {ind.id: _corners(ind, known) for ind in spec_indicators}
        # one entry per corner, by its text: a `with` value may be a list (unhashable)
        unique = {repr(c): c for cs in joint.values() for c in cs}
        every = tuple(unique[k] for k in sorted(unique))
        for ind in spec_indicators:
            names = tuple(n for n in ind.parameters if n in known)
            listed = ListedParameters(names, joint[ind.id], every)
            checker = IMPLICIT[listed.kind]
            cells.append(Cell(ind, listed, checker.label(listed, ctx), KIND, checker))
    return cells


def _corners(ind: IndicatorSpec, known: set[str]) -> tuple[Corner, ...]:
    """The indicator's joint parameters and where to move them (unknown names are spec
    errors, said apart)."""
    return tuple(
        (name, tuple(sorted(j.with_.items())))
        for name, j in sorted(ind.joint_parameters.items())
        if name in known and name in ind.parameters and set(j.with_) <= known - {name}
    )


def _key(cell: Cell) -> CellKey:
    return (cell.indicator.id, cell.label)


def _needs(cells: Iterable[Cell]) -> set[str]:
    return set().union(*(c.needs for c in cells))


class Harness:
    """Runs one methodology on probe and generated logs; one DuckDB connection for all."""

    def __init__(
        self,
        checked: CheckedMethodology,
        max_examples: int,
        seed: int,
        progress: Progress | None = None,
    ) -> None:
        import duckdb

        self.checked = checked
        self.name = checked.name
        self.max_examples = max_examples
        self.seed = seed
        self.progress = progress
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(config={"threads": 1})
        categories, self.target_indicators, self.spend = _what_to_generate(checked)
        self.ctx = Context(
            params=checked.methodology.parameters().model_dump(),
            event_types=tuple(registry().event_types),
            categories=categories,
            accepts=self._accepts,
        )
        self.failures: dict[CellKey, Failure] = {}
        self.inputs: dict[CellKey, tuple[EventLog, str, Any]] = {}  # what each failure needs
        self.evidence: dict[CellKey, set[str]] = {}
        self.values: dict[str, set[str]] = {}  # distinct values seen, per indicator
        self.probes = 0
        self._changed_runs: dict[str, Run] = {}

    def close(self) -> None:
        self.con.close()

    # ---- running -------------------------------------------------------------------
    def _accepts(self, params: dict[str, Any]) -> bool:
        from pydantic import ValidationError

        try:
            self.checked.methodology.parameters.model_validate(params)
        except ValidationError:
            return False
        return True

    def run(
        self,
        log: EventLog,
        brands: list[str] | None = None,
        only: set[str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Run:
        from brandlens.engine.runs import Dataset

        ds = Dataset(log.to_data(), connection=self.con)
        if ds.report.rows_quarantined:
            reasons = ", ".join(r.reason for r in ds.report.reasons)
            raise InvalidLog(f"rows quarantined as {reasons}")
        result: Result = ds.compute(
            as_of=log.as_of,
            methodologies=[self.name],
            brands=brands or log.report_brands(),
            indicators=only,
            params={f"{self.name}.{k}": v for k, v in (params or {}).items()},
        )
        rows = {(r.indicator, r.brand, r.key): r for r in result.results}
        errors = {e.indicator: e.message for e in result.errors}
        by_ind: dict[str, list[str]] = {}
        for r in result.results:
            by_ind.setdefault(r.indicator, []).append(r.model_dump_json())
            seen = self.values.setdefault(r.indicator, set())
            if len(seen) < 2:
                seen.add(repr(r.value))
        skipped = frozenset(n.indicator for n in result.not_applicable)
        return Run(rows, errors, {k: "\n".join(v) for k, v in by_ind.items()}, skipped)

    def indicators(self) -> list[IndicatorSpec]:
        spec = self.checked.spec
        registered = {i.id for i in self.checked.methodology.indicators}
        return [i for i in spec.indicators if i.id in registered] if spec else []

    # ---- one log, every pending cell ----------------------------------------------------
    def case(self, log: EventLog, extras: dict[str, list[Any]], cells: list[Cell]) -> None:
        """Check cells on one log: once per input of each relational group, once if static.

        Failures go to ``self.failures`` (a cell fails once; its later checks are
        skipped), what the checks saw to ``self.evidence``.
        """
        base = self.run(log, only=_needs(cells))
        self._changed_runs = {}  # this log's changed logs, by content
        by_group: dict[str, list[Cell]] = {}
        for c in cells:
            by_group.setdefault(c.group, []).append(c)
        for group, group_cells in sorted(by_group.items()):
            for extra in extras.get(group, [None]):
                live = [c for c in group_cells if _key(c) not in self.failures]
                if live:
                    self._trial(log, base, group, extra, live)

    def _trial(self, log: EventLog, base: Run, group: str, extra: Any, cells: list[Cell]) -> None:
        first = cells[0]
        change = None
        before = base
        try:
            if group == "static":
                after = self.run(log, only=_needs(cells))
            else:
                change = first.checker.transform(first.prop, self.ctx, log, extra)
                if change is None:
                    return
                brands, params = log.report_brands(), change.params
                if change.before is not None or params is not None:
                    before = self._changed_run(change.before or log, brands, _needs(cells), params)
                after_params = change.after_params or params
                after = self._changed_run(change.log, brands, _needs(cells), after_params)
        except InvalidLog as e:  # e.g. a monotone addition of an unregistered event type
            for c in cells:
                problem = Failure(c.indicator.id, f"the spec asks for an invalid event: {e}")
                self._failed(c, problem, log, group, extra)
            return
        trial = Trial(log, before, after, change)
        moved = change is not None and (change.params or change.after_params)
        for c in cells:
            after_side = False
            try:
                if self._computed(before, c.indicator, log):
                    after_side = True
                    if self._computed(after, c.indicator, trial.shown):
                        seen = c.checker.check(c, trial)
                        self.evidence.setdefault(_key(c), set()).update(seen or ())
            except Failure as f:
                # computed at the defaults, not at the moved parameters: say at which
                if moved and after_side and f.message.startswith("did not compute"):
                    f.message = f"{f.message} ({change.what.removesuffix(' changed the value')})"
                self._failed(c, f, log, group, extra)

    def _changed_run(
        self, log: EventLog, brands: list[str], only: set[str], params: dict[str, Any] | None
    ) -> Run:
        """A changed log's run, once per log: a threshold's steps share their logs (N - 1
        days is the step below's after and the edge's before). Never the unchanged log's
        second run, which ``deterministic`` compares with its first."""
        key = repr((log, brands, sorted(only), sorted((params or {}).items())))
        run = self._changed_runs.get(key)
        if run is None:
            run = self._changed_runs[key] = self.run(log, brands, only, params)
        return run

    def _failed(self, c: Cell, f: Failure, log: EventLog, group: str, extra: Any) -> None:
        f.indicator, f.label = c.indicator.id, c.label
        f.size = max(len(log.events), _shown_events(f.log))
        self.failures[_key(c)] = f
        self.inputs[_key(c)] = (log, group, extra)

    def _computed(self, run: Run, ind: IndicatorSpec, log: EventLog) -> bool:
        """False when the indicator legitimately did not compute (missing optional table)."""
        if ind.id in run.not_applicable:
            return False
        err = run.errors.get(ind.id)
        if err is None:
            return True
        raise Failure(ind.id, f"did not compute: {err}", log=log.table())

    # ---- the three steps ---------------------------------------------------------------
    def explore(self, cells: list[Cell]) -> None:
        """Probes, then random logs, then shrinking (see the module's docstring)."""
        probes = self.probe_cases(cells)
        total = len(probes) + self.max_examples
        for i, (log, extras) in enumerate(probes, 1):
            self.case(log, extras, self._pending(cells))
            self._tick(i, total)
        self.probes = len(probes)
        self._random(cells, done=len(probes), total=total)
        for c in cells:
            f = self.failures.get(_key(c))
            if f is not None and f.size > SMALL_ENOUGH:
                self.failures[_key(c)] = self.shrink(c, f)

    def _pending(self, cells: list[Cell]) -> list[Cell]:
        return [c for c in cells if _key(c) not in self.failures]

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.name, done, total)

    def probe_cases(self, cells: list[Cell]) -> list[tuple[EventLog, dict[str, list[Any]]]]:
        """Each probe log with every relational group's deterministic inputs for it."""
        bounded = [c for c in cells if c.prop.kind == "window_bounded"]
        windows = [c.checker.bound(c.prop, self.ctx) for c in bounded]
        # the shorter windows a bound is made of (max($visit_days, $buy_days)): a stage of
        # the longest one can hinge on a user whose one event lies just outside a shorter
        # one, whether or not another indicator declares the shorter window as its own
        parts = [
            value
            for c, bound in zip(bounded, windows, strict=True)
            for name in parameter_refs(c.prop)
            if isinstance(value := self.ctx.params.get(name), int)
            and not isinstance(value, bool)
            and value < bound
        ]
        logs = probe_logs(
            self.ctx.event_types,
            self.ctx.categories,
            windows,
            self.target_indicators,
            spend=self.spend,
            window_parts=parts,
        )
        relational = {c.group: c for c in cells if c.checker.relational}
        cases = []
        for log in logs:
            extras = {g: c.checker.probes(c.prop, self.ctx, log) for g, c in relational.items()}
            cases.append((log, extras))
        if KIND in relational:  # moved parameters only: the static checks run on it too
            log = spread_log(
                self.ctx.event_types,
                self.ctx.categories,
                windows,
                self.target_indicators,
                spend=self.spend,
            )
            extras = {g: [] for g in relational}
            extras[KIND] = relational[KIND].checker.probes(relational[KIND].prop, self.ctx, log)
            cases.append((log, extras))
        return cases

    def _random(self, cells: list[Cell], done: int, total: int) -> None:
        """Hypothesis draws the logs; every pending cell is checked on each; nothing raises."""
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as seed_decorator

        pending = self._pending(cells)
        if not pending or self.max_examples < 1:  # 0: the probes alone (the Python API)
            self._tick(total, total)
            return
        count = [done]

        @seed_decorator(self.seed)
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.generate,),
            print_blob=False,
        )
        @given(self.strategy(pending))
        def each(case: dict[str, Any]) -> None:
            live = self._pending(pending)
            if live:
                log = case.pop("log")
                self.case(log, {g: [x] for g, x in case.items()}, live)
            count[0] += 1
            self._tick(min(count[0], total), total)

        each()

    def strategy(self, cells: list[Cell]) -> SearchStrategy[dict[str, Any]]:
        """A log plus the random input of every relational group."""
        from hypothesis import strategies as st

        parts: dict[str, SearchStrategy[Any]] = {
            "log": event_logs(
                event_types=self.ctx.event_types,
                categories=self.ctx.categories,
                target_indicators=self.target_indicators,
                spend=self.spend,
            )
        }
        relational = {c.group: c for c in cells if c.checker.relational}
        for group, c in sorted(relational.items()):
            parts[group] = c.checker.draw(c.prop, self.ctx)
        return st.fixed_dictionaries(parts)

    # ---- shrinking -------------------------------------------------------------------
    def shrink(self, cell: Cell, failure: Failure) -> Failure:
        """A smaller log on which the cell still fails (within SHRINK_BUDGET tries).

        First the events a check added (halved while one half still fails), then the
        optional tables, then the log's own events in chunks, halving the chunk size.
        """
        log, group, extra = self.inputs[_key(cell)]
        budget = [SHRINK_BUDGET]

        def fails(smaller: EventLog, ext: Any) -> Failure | None:
            if budget[0] <= 0:
                return None
            budget[0] -= 1
            self.failures.pop(_key(cell), None)
            with contextlib.suppress(InvalidLog):
                self.case(smaller, {group: [ext]}, [cell])
            return self.failures.pop(_key(cell), None)

        best = failure
        split = cell.checker.halves(extra)
        while split is not None:
            for part in split:
                f = fails(log, part)
                if f is not None:
                    extra, best = part, f
                    split = cell.checker.halves(part)
                    break
            else:
                break  # the failure needs events of both halves
        for table in ("targets", "products", "users"):
            if best.size > SMALL_ENOUGH and getattr(log, table) is not None:
                smaller = replace(log, **{table: None})
                f = fails(smaller, extra)
                if f is not None:
                    log, best = smaller, f
        events = list(log.events)
        chunk = max(len(events) // 2, 1)
        while best.size > SMALL_ENOUGH and budget[0] > 0:
            i, removed = 0, False
            while i < len(events) and len(events) > 1 and best.size > SMALL_ENOUGH:
                kept = events[:i] + events[i + chunk :]
                f = fails(replace(log, events=tuple(kept)), extra) if kept else None
                if f is not None:
                    events, best, removed = kept, f, True
                else:
                    i += chunk
            if chunk == 1 and not removed:
                break
            chunk = max(chunk // 2, 1)
        return best


def _shown_events(log_text: str) -> int:
    """The event count in an EventLog.table() header ("as_of 2025-06-30, 4 event(s)")."""
    m = re.match(r"as_of \S+, (\d+) event", log_text)
    return int(m.group(1)) if m else 0


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
    named = vocabulary_values(m.parameters(), "categories").values()
    extra = [v for values in named for v in values]
    categories = CATEGORIES + tuple(sorted(set(extra) - set(CATEGORIES)))
    needs = {r.split(".")[0] for i in m.indicators for r in i.requires}
    targeted = tuple(i.id for i in m.indicators) if "targets" in needs else ()
    return categories, targeted, "spend" in needs


def verify_methodology(
    checked: CheckedMethodology,
    max_examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> MethodologyVerification:
    """Run every declared property of every indicator of one methodology."""
    h = Harness(checked, max_examples, seed, progress)
    try:
        cells = cells_of(h.indicators(), h.ctx)
        if cells:
            h.explore(cells)
    finally:
        h.close()
    results = []
    for c in cells:
        f = h.failures.get(_key(c))
        if f is None:
            seen = h.evidence.get(_key(c), set())
            if len(h.values.get(c.indicator.id, ())) > 1:
                seen = seen | {VARIED}
            missing = [
                why for token, why in c.checker.exercise(c.prop, h.ctx).items() if token not in seen
            ]
            if missing:
                results.append(
                    PropertyResult(
                        indicator=c.indicator.id,
                        property=c.label,
                        status="unexercised",
                        message="never exercised: " + "; ".join(missing),
                    )
                )
                continue
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
        probes=h.probes,
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
    targets: Iterable[str] | None = None,
    max_examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify methodologies (by methodology or plugin name; default: all installed)."""
    reg = registry()
    chosen: list[CheckedMethodology] = []
    for t in targets or list(reg.methodologies):
        name = reg.methodology_name(t)  # as every command takes it: FAST, A.R.G.O
        if name is not None:
            chosen.append(reg.methodologies[name])
            continue
        by_plugin = [m for m in reg.methodologies.values() if m.plugin == t]
        broken = [p for p in reg.plugins if p.name == t and p.errors]
        if not by_plugin and broken:  # installed, but it failed: say why instead of "unknown"
            raise DataError(f"verify: plugin {t!r} did not register: {'; '.join(broken[0].errors)}")
        if not by_plugin:
            known = ", ".join(reg.methodologies) or "none installed"
            close = reg.close_methodologies(t)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise UsageError(
                f"verify: no methodology or plugin named {t!r} ({hint}methodologies: {known})"
            )
        chosen.extend(by_plugin)
    unique = {c.name: c for c in chosen}
    return VerifyReport(
        methodologies=[verify_methodology(c, max_examples, seed, progress) for c in unique.values()]
    )
