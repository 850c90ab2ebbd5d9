"""``brandlens report``: the comparison and every methodology's pictures, as one model.

The report is built from one engine run: every indicator of the chosen methodologies,
with each ladder's users counted at as-of and at its flow span in the same run. The
comparison reads its headline indicators (the same :class:`Comparison` as
``compare``); the pictures read the rest. The core adds what it can draw
for any methodology: an overview (dataset, as-of, parameters that differ from the
defaults, the comparison with ranks, agreement between methodologies as a
heatmap) and, for every ladder of every methodology (a third-party one included),
each brand's stage funnel and the flow between the ladder's two snapshots as a
Sankey diagram. Methodology-specific sections come from the plugins through the
``brandlens_report_sections`` hook. Nothing here renders; ``cli/report_html.py`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from brandlens.analysis import MIN_BASE
from brandlens.analysis.charts import Chart, Link, ReportContext, ReportSection, Series
from brandlens.analysis.compare import (
    CompareOptions,
    CompareScope,
    check_min_base,
    compare_scope,
    comparison_from_run,
    comparison_run,
    partial_composites,
)
from brandlens.analysis.funnel import WEEK
from brandlens.analysis.model import Comparison
from brandlens.engine.ladders import resolve
from brandlens.engine.result import DatasetInfo, LadderCounts, Result
from brandlens.engine.runs import parse_parameters

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.runs import Dataset, Progress
    from brandlens.plugin.methodology import CheckedMethodology


class ReportOptions(BaseModel):
    """What a report shows beyond the defaults (the CLI's options, as a model)."""

    currency: str = Field("CNY", description="ISO code currency values are shown with")
    baseline: str | None = Field(None, description="previous, yoy or a date")
    min_base: int = Field(
        MIN_BASE, description="mark values whose declared base (denominator) is smaller (0: none)"
    )

    @field_validator("currency")
    @classmethod
    def _code(cls, v: str) -> str:
        return CompareOptions(currency=v).currency

    @field_validator("min_base", mode="before")
    @classmethod
    def _floor(cls, v: object) -> object:
        return check_min_base(v) if isinstance(v, bool | int) else v

    @field_validator("min_base")
    @classmethod
    def _at_least_0(cls, v: int) -> int:
        return check_min_base(v)


class Report(BaseModel):
    """Everything ``brandlens report`` draws: the overview, every ladder, every methodology."""

    brandlens_version: str
    as_of: str
    timezone: str
    currency: str
    dataset: DatasetInfo
    methodologies: list[str] = Field(description="in comparison order")
    brands: list[str]
    parameters_changed: dict[str, dict[str, Any]] = Field(
        description="methodology -> parameter -> value, where it differs from the default"
    )
    comparison: Comparison
    sections: list[ReportSection]
    notes: list[str] = Field(
        default_factory=list, description="what was left out of the report, and why"
    )


def build_report(
    ds: Dataset,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    options: ReportOptions | None = None,
) -> Report:
    """The report of the chosen methodologies (default: all) and brands (default: all)."""
    opts = options or ReportOptions()
    params = dict(params or {})
    plan = _plan(ds, as_of, methodologies, brands, params, opts)
    return _report_of_plan(ds, plan, params, progress, opts)


def compare_and_report(
    ds: Dataset,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    compare_options: CompareOptions | None = None,
    report_options: ReportOptions | None = None,
) -> tuple[Comparison, Report]:
    """``compare`` and ``report`` of the same choice, from one engine run where they can be.

    What ``brandlens demo`` shows: the comparison ``compare`` prints (with its options)
    and the report ``report`` writes, each equal to its own command's. When the two
    compute the same brands (a comparison within categories adds the compared brands'
    category peers), one run of every indicator, with the report's ladder counts, serves
    both, and due targets are computed once; otherwise each makes its own run.
    """
    copts = compare_options or CompareOptions()
    ropts = report_options or ReportOptions()
    params = dict(params or {})
    wanted = None if methodologies is None else list(methodologies)
    chosen_brands = None if brands is None else list(brands)
    plan = _plan(ds, as_of, wanted, chosen_brands, params, ropts)
    scope = compare_scope(ds, as_of, wanted, chosen_brands, copts)
    if scope.run_brands != plan.scope.run_brands or scope.shown != plan.scope.shown:
        run = comparison_run(ds, scope, params, progress, copts)
        comparison = comparison_from_run(ds, scope, run, params, copts)
        return comparison, _report_of_plan(ds, plan, params, None, ropts)
    run = comparison_run(
        ds, scope, params, progress, copts, every_indicator=True, ladder_counts=plan.spans
    )
    comparison = comparison_from_run(ds, scope, run, params, copts)
    report = _report_from_run(
        ds,
        plan,
        run,
        params,
        ropts,
        achievements=comparison.achievements if copts.targets else None,
    )
    return comparison, report


@dataclass(frozen=True)
class _ReportPlan:
    """What a report covers and counts, checked before anything is computed."""

    scope: CompareScope
    compare_opts: CompareOptions
    spans: dict[str, dict[str, int]]  # methodology -> ladder -> its flow span in days


def _plan(
    ds: Dataset,
    as_of: str | date | None,
    methodologies: Iterable[str] | None,
    brands: Iterable[str] | None,
    params: Mapping[str, Any],
    opts: ReportOptions,
) -> _ReportPlan:
    compare_opts = CompareOptions(
        currency=opts.currency,
        baseline=opts.baseline,
        across_categories=True,
        min_base=opts.min_base,
    )
    scope = compare_scope(ds, as_of, methodologies, brands, compare_opts)
    parsed = parse_parameters(params, scope.chosen, ds.registry.event_types)
    spans = {
        m.name: {lad.name: _span(lad, parsed[m.name].model_dump()) for lad in m.methodology.ladders}
        for m in scope.chosen
        if m.methodology.ladders
    }
    return _ReportPlan(scope, compare_opts, spans)


def _report_of_plan(
    ds: Dataset,
    plan: _ReportPlan,
    params: Mapping[str, Any],
    progress: Progress | None,
    opts: ReportOptions,
) -> Report:
    """The report's own run (every indicator, each ladder counted), and the report."""
    run = comparison_run(
        ds,
        plan.scope,
        params,
        progress,
        plan.compare_opts,
        every_indicator=True,
        ladder_counts=plan.spans,
    )
    return _report_from_run(ds, plan, run, params, opts)


def _report_from_run(
    ds: Dataset,
    plan: _ReportPlan,
    run: Result,
    params: Mapping[str, Any],
    opts: ReportOptions,
    *,
    achievements: list | None = None,
) -> Report:
    """The report drawn from ``run``: every indicator, each ladder counted at its span."""
    chosen, spans = plan.scope.chosen, plan.spans
    comparison = comparison_from_run(
        ds, plan.scope, run, params, plan.compare_opts, achievements=achievements
    )
    day = date.fromisoformat(comparison.as_of)
    shown = [r.brand for r in comparison.rows]
    registry = ds.registry
    notes = [
        f"plugin {p.name}: {e}" for p in registry.plugins for e in p.errors if p.origin != "core"
    ]
    sections = [_overview(comparison)]
    for m in chosen:
        sections += _ladder_sections(m, day, shown, spans.get(m.name, {}), run.ladders.get(m.name))

    builders = registry.report_builders
    with_pictures = {m.name for m in chosen if m.name in builders}
    result = run.restricted(lambda method, _i: method in with_pictures)
    for m in chosen:
        if m.name not in builders:
            notes.append(f"{m.name.upper()}: its plugin contributes no pictures of its own")
            continue
        ctx = _context(m.name, result, shown, opts.currency)
        try:
            made = builders[m.name](ctx)
            made = [ReportSection.model_validate(s) for s in made]
        except ValidationError as e:
            notes.append(f"{m.name.upper()}: its report sections are invalid: {_first(e)}")
            continue
        except Exception as e:  # a plugin's failure is a note, never the report's
            notes.append(f"{m.name.upper()}: its report sections failed: {type(e).__name__}: {e}")
            continue
        sections += [_checked(s, m, ctx) for s in made]
    return Report(
        brandlens_version=comparison.brandlens_version,
        as_of=comparison.as_of,
        timezone=comparison.timezone,
        currency=comparison.currency,
        dataset=comparison.dataset,
        methodologies=comparison.methodologies,
        brands=shown,
        parameters_changed=_changed(chosen, comparison.parameters),
        comparison=comparison,
        sections=_unique(sections, notes),
        notes=notes,
    )


def _first(e: ValidationError) -> str:
    err = e.errors()[0]
    return f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}"


def _changed(
    chosen: list[CheckedMethodology], in_effect: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for m in chosen:
        defaults = m.methodology.default_parameters().model_dump(mode="json")
        diff = {k: v for k, v in in_effect.get(m.name, {}).items() if defaults.get(k) != v}
        if diff:
            out[m.name] = diff
    return out


def _overview(c: Comparison) -> ReportSection:
    """Agreement between methodologies (tau-b heatmap) and composite ranks per brand."""
    charts: list[Chart] = []
    notes: list[str] = []
    if c.agreement is not None:
        ms = c.agreement.methodologies
        tau = {(p.first, p.second): p.tau_b for p in c.agreement.pairs}
        tau |= {(b, a): t for (a, b), t in tau.items()}
        charts.append(
            Chart(
                id="overview.agreement",
                kind="heatmap",
                title="Agreement between methodologies (Kendall's τ-b of composite ranks)",
                indicators=[],
                definition=c.agreement.reading,
                source="Kendall (1945) τ-b; Kendall & Babington Smith (1939) W",
                unit="tau",
                labels=[m.upper() for m in ms],
                series=[
                    Series(name=a.upper(), values=[1.0 if a == b else tau.get((a, b)) for b in ms])
                    for a in ms
                ],
            )
        )
    else:
        notes.append("agreement: fewer than two methodologies rank two or more brands")
    if c.rankings:
        charts.append(
            Chart(
                id="overview.composite_ranks",
                kind="heatmap",
                title="Composite rank per methodology (1 = best)",
                indicators=[col.indicator for col in c.columns],
                definition="each brand's rank by the mean of its headline-indicator ranks",
                source="brandlens compare (docs/comparing.md)",
                unit="rank",
                labels=[r.methodology.upper() for r in c.rankings],
                series=[
                    Series(
                        name=row.brand,
                        values=[
                            next((b.composite_rank for b in r.brands if b.brand == row.brand), None)
                            for r in c.rankings
                        ],
                    )
                    for row in c.rows
                ],
            )
        )
        notes += [
            f"{b}'s {m.upper()} composite is over {k} of its {n} headline indicators, the "
            "brand having no value on the others (which can lift it)"
            for m, b, k, n in partial_composites(c.rankings)
        ]
    return ReportSection(id="overview", title="Overview", charts=charts, notes=notes)


def _span(ladder: Any, values: Mapping[str, Any]) -> int:
    """The ladder's flow span: its largest declared snapshot (days before as-of), or a week."""
    spans = [int(resolve(s, values)) for s in ladder.snapshots]
    return max(spans, default=0) or WEEK


def _ladder_sections(
    m: CheckedMethodology,
    day: date,
    brands: list[str],
    spans: Mapping[str, int],
    counted: LadderCounts | None,
) -> list[ReportSection]:
    """Each brand's funnel and snapshot-to-snapshot Sankey, for every ladder of ``m``,
    from the ladders' counts at as-of and ``spans[ladder]`` days before."""
    out = []
    by_dim = {}
    for ind in m.methodology.indicators:
        by_dim.setdefault(ind.dimension, ind.id)
    title = m.spec.title.en if m.spec else m.name.upper()
    counts, flows = (counted.counts, counted.flows) if counted else ([], [])
    for ladder in m.methodology.ladders:  # a methodology with ladders had them counted
        span = spans[ladder.name]
        stages = [s.key for s in ladder.stages]
        names = {
            s.key: s.title if s.title.startswith(s.key) else f"{s.key} {s.title}".strip()
            for s in ladder.stages
        }
        users = {(b, s, back): n for lad, back, b, s, n in counts if lad == ladder.name}
        charts = []
        for brand in brands:
            slug = ReportContext.slug(brand)
            charts.append(
                Chart(
                    id=f"{m.name}.{ladder.name}.funnel.{slug}",
                    kind="funnel",
                    title=f"{brand}: {ladder.shown_name} stages",
                    indicators=[by_dim["stage"]] if "stage" in by_dim else [],
                    definition=(
                        f"users per highest {ladder.shown_name} stage as of {day}, "
                        f"beside {span} days before"
                    ),
                    source=title,
                    unit="users",
                    labels=[names[s] for s in stages],
                    series=[
                        Series(name="now", values=[users.get((brand, s, 0), 0) for s in stages]),
                        Series(
                            name=f"{span} days before",
                            values=[users.get((brand, s, span), 0) for s in stages],
                        ),
                    ],
                )
            )
            charts.append(
                Chart(
                    id=f"{m.name}.{ladder.name}.sankey.{slug}",
                    kind="sankey",
                    title=f"{brand}: {ladder.shown_name} flow over {span} days",
                    indicators=[by_dim["transition"]] if "transition" in by_dim else [],
                    definition=(
                        f"users by stage {span} days before {day} (left) and on {day} "
                        "(right); 'none' is no stage"
                    ),
                    source=title,
                    unit="users",
                    labels=["none", *(names[s] for s in stages)],
                    links=[
                        Link(
                            source=names.get(f, "none"),
                            target=names.get(t, "none"),
                            value=n,
                        )
                        for lad, b, f, t, n in flows
                        if lad == ladder.name and b == brand and n
                    ],
                )
            )
        out.append(
            ReportSection(
                id=f"ladder.{m.name}.{ladder.name}",
                title=f"{ladder.shown_name} ladder ({m.name.upper()})",
                methodology=m.name,
                charts=charts,
            )
        )
    return out


def _context(name: str, result: Result, brands: list[str], currency: str) -> ReportContext:
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for r in result.results:
        if r.methodology == name:
            values.setdefault(r.indicator, {}).setdefault(r.brand, {})[r.key or ""] = r.value
    return ReportContext(
        methodology=name,
        as_of=result.as_of,
        brands=brands,
        currency=currency,
        values=values,
        keys={k: v for k, v in result.key_order.items() if k in values},
        not_applicable={n.indicator: n.reason for n in result.not_applicable},
    )


def one_line(text: str, limit: int = 220) -> str:
    """The first sentence of a definition, on one line."""
    flat = " ".join(text.split())
    first = re.split(r"(?<=[.;])\s", flat, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _checked(s: ReportSection, m: CheckedMethodology, ctx: ReportContext) -> ReportSection:
    """Definitions and sources filled from the spec; empty charts left out with a note."""
    spec = m.spec
    kept = []
    notes = list(s.notes)
    for chart in s.charts:
        ind = spec.indicator(chart.indicators[0]) if spec and chart.indicators else None
        if not chart.definition and ind is not None:
            chart.definition = one_line(ind.definition)
        if not chart.source and spec is not None:
            chart.source = f"{spec.title.en}; {spec.sources[0]}"
        if chart.is_empty():
            why = [ctx.not_applicable[i] for i in chart.indicators if i in ctx.not_applicable]
            reason = why[0] if why else "no values for these brands"
            notes.append(f"{chart.title} ({', '.join(chart.indicators)}) left out: {reason}")
            continue
        kept.append(chart)
    return s.model_copy(update={"charts": kept, "notes": notes, "methodology": m.name})


def _unique(sections: list[ReportSection], notes: list[str]) -> list[ReportSection]:
    """Sections and charts with an id seen before are dropped, with a note."""
    seen_sections: set[str] = set()
    seen_charts: set[str] = set()
    out = []
    for s in sections:
        if s.id in seen_sections:
            notes.append(f"section {s.id!r} appears twice; the second is left out")
            continue
        seen_sections.add(s.id)
        charts = []
        for c in s.charts:
            if c.id in seen_charts:
                notes.append(f"chart {c.id!r} appears twice; the second is left out")
                continue
            seen_charts.add(c.id)
            charts.append(c)
        out.append(s.model_copy(update={"charts": charts}))
    return out
