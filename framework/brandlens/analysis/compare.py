"""``brandlens compare``: brands side by side, and the questions an analyst asks next.

One engine run gives the headline values; the answers are built from them:
who leads each indicator, ranks and a composite per methodology, whether the
methodologies agree (Kendall's tau-b and W), each brand within its category, and
on request change since a baseline (one more run), target achievement and
published benchmarks. Every answer is a section of :class:`Comparison`; nothing
here renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from brandlens.analysis import MIN_BASE
from brandlens.analysis import baseline as baseline_mod
from brandlens.analysis import benchmarks as benchmark_mod
from brandlens.analysis import category as category_mod
from brandlens.analysis import targets as targets_mod
from brandlens.analysis.checks import (
    check_as_of,
    check_brands,
    known_brands,
    warn_lookalike_brands,
)
from brandlens.analysis.funnel import funnel_section, own_params
from brandlens.analysis.model import (
    Agreement,
    Baseline,
    BrandRanks,
    CategoryContext,
    Comparison,
    ComparisonColumn,
    ComparisonRow,
    MethodologyRanking,
    NullReason,
    PairAgreement,
)
from brandlens.analysis.ranks import (
    agreement_word,
    kendall_tau_b,
    kendall_tau_p,
    kendall_w,
    kendall_w_p,
    rank,
)
from brandlens.engine.result import Result
from brandlens.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.runs import Dataset, Progress
    from brandlens.plugin.methodology import CheckedMethodology

Number = int | float
Values = dict[str, dict[str, Number | None]]


class CompareOptions(BaseModel):
    """What a comparison answers beyond the values (the CLI's options, as a model)."""

    currency: str = Field("CNY", description="ISO code currency values are shown with")
    category: str | None = Field(None, description="compare within this category")
    across_categories: bool = Field(False, description="no category context")
    baseline: str | None = Field(None, description="previous, yoy or a date")
    benchmark: Path | None = Field(None, description="a benchmark file (CSV or YAML)")
    funnel: bool = Field(False, description="each brand's funnel under every ladder")
    targets: bool = Field(True, description="achievement of due targets")
    min_base: int = Field(
        MIN_BASE, description="mark values whose declared base (denominator) is smaller (0: none)"
    )

    @field_validator("currency")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", v):
            raise ValueError(f"--currency: expected a three-letter code such as CNY, got {v!r}")
        return v.upper()

    @field_validator("min_base", mode="before")
    @classmethod
    def _floor(cls, v: object) -> object:
        return check_min_base(v) if isinstance(v, bool | int) else v

    @field_validator("min_base")
    @classmethod
    def _at_least_0(cls, v: int) -> int:
        return check_min_base(v)


def check_min_base(v: int) -> int:
    """A base floor is a whole number of people, 0 or more (True is no number here,
    though pydantic would read it as 1)."""
    if isinstance(v, bool) or v < 0:
        raise ValueError(f"--min-base: expected a whole number >= 0, got {v!r}")
    return v


def compare(
    ds: Dataset,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    options: CompareOptions | None = None,
) -> Comparison:
    """Compare brands on the headline indicators of the chosen methodologies."""
    opts = options or CompareOptions()
    scope = compare_scope(ds, as_of, methodologies, brands, opts)
    run = comparison_run(ds, scope, params, progress, opts)
    return comparison_from_run(ds, scope, run, params, opts)


@dataclass(frozen=True)
class CompareScope:
    """What a comparison covers, checked before anything is computed."""

    chosen: list[CheckedMethodology]
    day: date
    shown: list[str]  # the brands compared
    run_brands: list[str]  # and their category peers, computed for the context
    placed: dict[str, str]  # brand -> its category, among the peers' categories
    bench_rows: Any
    baseline: tuple[str, date] | None  # (kind, day) of --baseline
    bench_placed: dict[str, str] | None = None
    """brand -> its main category for published benchmarks where ``placed`` is empty
    (``--across-categories``): a category's published figures still apply to its brands."""


def compare_scope(
    ds: Dataset,
    as_of: str | date | None,
    methodologies: Iterable[str] | None,
    brands: Iterable[str] | None,
    opts: CompareOptions,
) -> CompareScope:
    """The methodologies, as-of date and brands of a comparison (usage errors first)."""
    if opts.category is not None and opts.across_categories:
        raise UsageError(
            "--category and --across-categories exclude each other: one compares within "
            "a category, the other without any"
        )
    chosen = ds.methodologies(methodologies)
    if opts.funnel and not any(lad.funnel for m in chosen for lad in m.methodology.ladders):
        # was: an empty funnel, exit 0, where `funnel -m grow` says why
        having = [
            m.name for m in ds.methodologies() if any(x.funnel for x in m.methodology.ladders)
        ]
        raise UsageError(
            f"--funnel: {', '.join(m.name for m in chosen)} has no stage ladder to show as a "
            f"funnel (methodologies with one: {', '.join(having) or 'none installed'})"
        )
    wanted = None if brands is None else sorted(set(brands))
    check_brands(ds, wanted)
    day = ds._as_of(as_of)
    check_as_of(ds, day)
    baseline = None
    if opts.baseline is not None:  # a typo is said at once, not after the run
        baseline = baseline_mod.resolve(opts.baseline, day)
        check_as_of(ds, baseline[1], "--baseline")
    bench_rows = None
    if opts.benchmark is not None:
        bench_rows = benchmark_mod.load(opts.benchmark)
        every = [i for m in ds.registry.methodologies.values() for i in m.methodology.indicators]
        known, headline = {i.id for i in every}, {i.id for i in every if i.headline}
        benchmark_mod.check_indicators(bench_rows, known, opts.benchmark, headline)

    placed: dict[str, str] = {}
    gmv = None
    if not opts.across_categories or bench_rows is not None:
        gmv = category_mod.category_gmv(ds, day)
    if bench_rows is not None and gmv is not None:
        known_categories = {c for cats in gmv.values() for c in cats}
        benchmark_mod.check_categories(bench_rows, known_categories, opts.benchmark)
    if not opts.across_categories and gmv is not None:
        placed = category_mod.assign(gmv, opts.category)
    outside = [b for b in wanted or [] if opts.category is not None and b not in placed]
    if outside:  # it cannot be compared within a category it does not sell in
        raise UsageError(
            f"--brand {', '.join(outside)}: no purchases in category {opts.category!r} "
            "up to the as-of date; leave --category out to compare within each brand's own"
        )
    if wanted is not None:
        shown = wanted
    elif opts.category is not None and not opts.across_categories:
        shown = sorted(placed)
    else:
        shown = known_brands(ds)
    warn_lookalike_brands(shown)
    peer_categories = {placed[b] for b in shown if b in placed}
    run_brands = sorted(set(shown) | {b for b, c in placed.items() if c in peer_categories})
    placed = {b: c for b, c in placed.items() if c in peer_categories}
    bench_placed = None
    if opts.across_categories and bench_rows and any(r.category != "*" for r in bench_rows):
        bench_placed = category_mod.assign(category_mod.category_gmv(ds, day), None)
    return CompareScope(chosen, day, shown, run_brands, placed, bench_rows, baseline, bench_placed)


def comparison_run(
    ds: Dataset,
    scope: CompareScope,
    params: Mapping[str, Any] | None,
    progress: Progress | None,
    opts: CompareOptions,
    *,
    every_indicator: bool = False,
    ladder_counts: Mapping[str, Mapping[str, int]] | None = None,
) -> Result:
    """The one engine run a comparison reads.

    A report also draws every indicator and every ladder: with ``every_indicator`` the
    run computes them all (the headline ones first, see ``Dataset.compute``) and with
    ``ladder_counts`` it counts those ladders, so nothing is computed twice. The
    comparison (``comparison_from_run``) reads the run's headline indicators either way.
    """
    counts = {m: dict(backs) for m, backs in (ladder_counts or {}).items()}
    if opts.funnel:  # each funnel ladder as of the day, counted in the same run
        for m in scope.chosen:
            for lad in m.methodology.ladders:
                if lad.funnel:
                    counts.setdefault(m.name, {}).setdefault(lad.name, 0)
    return ds.compute(
        as_of=scope.day,
        methodologies=[m.name for m in scope.chosen],
        brands=scope.run_brands,
        params=dict(params or {}),
        progress=progress,
        headline_only=not every_indicator,
        ladder_counts=counts,
    )


def comparison_from_run(
    ds: Dataset,
    scope: CompareScope,
    run: Result,
    params: Mapping[str, Any] | None,
    opts: CompareOptions,
    *,
    achievements: list | None = None,
) -> Comparison:
    """The comparison made from ``run`` (see ``comparison_run``), headline indicators only.

    ``achievements`` are those of an earlier comparison of the same run and brands
    (targets are computed again at other period ends; see ``_achievements``).
    """
    params = dict(params or {})
    chosen, day, shown, run_brands = scope.chosen, scope.day, scope.shown, scope.run_brands
    placed, bench_rows = scope.placed, scope.bench_rows

    names = [m.name for m in chosen]
    headline = {i.id for m in chosen for i in m.methodology.indicators if i.headline}
    result = run.restricted(lambda _m, i: i in headline)
    columns = _columns(chosen)
    values = _values(result, columns, run_brands)
    small = _small_bases(result, columns, opts.min_base)
    rows = [
        ComparisonRow(
            brand=b,
            category=placed.get(b),
            values=values[b],
            missing=_missing(result, columns, b),
            small_base=small.get(b, {}),
        )
        for b in shown
    ]
    for col in columns:
        col.best = best(col, {b: values[b][col.indicator] for b in shown})
    rankings = rank_methodologies(chosen, columns, {b: values[b] for b in shown})

    comparison = Comparison(
        brandlens_version=result.brandlens_version,
        as_of=result.as_of,
        timezone=result.timezone,
        currency=opts.currency,
        min_base=opts.min_base,
        dataset=result.dataset,
        parameters=result.parameters,
        methodologies=names,
        columns=columns,
        rows=rows,
        rankings=rankings,
        agreement=agreement(rankings),
        errors=[e for e in result.errors if e.brand is None or e.brand in shown],
        not_applicable=result.not_applicable,
        short_history=result.short_history,
        unmatched_values=result.unmatched_values,
    )
    if not opts.across_categories:
        peers = sorted(set(placed.values()))
        comparison.category = CategoryContext(
            chosen=opts.category,
            categories={c: sorted(b for b, pc in placed.items() if pc == c) for c in peers},
            cells=category_mod.cells(columns, values, placed, shown),
            uncategorised=[b for b in shown if b not in placed],
        )
    if bench_rows is not None:
        by = scope.bench_placed if scope.bench_placed is not None else placed
        comparison.benchmarks = benchmark_mod.cells(bench_rows, columns, values, by, shown)
    if scope.baseline is not None:
        kind, then = scope.baseline
        earlier = ds.compute(
            as_of=then, methodologies=names, brands=shown, params=params, headline_only=True
        )
        cells = baseline_mod.cells(columns, values, _values(earlier, columns, shown), shown)
        small_then = _small_bases(earlier, columns, opts.min_base)
        for cell in cells:
            bases = [
                n
                for n in (
                    small.get(cell.brand, {}).get(cell.indicator),
                    small_then.get(cell.brand, {}).get(cell.indicator),
                )
                if n is not None
            ]
            cell.small_base = min(bases) if bases and cell.change is not None else None
        comparison.baseline = Baseline(
            kind=kind, as_of=then.isoformat(), cells=cells, short_history=earlier.short_history
        )
    if opts.targets:
        if achievements is None:
            achievements = _achievements(ds, chosen, day, shown, params, result)
        comparison.achievements = achievements
    if opts.funnel:
        comparison.funnel = funnel_section(chosen, shown, run.ladders)
    return comparison


def _columns(chosen: list[CheckedMethodology]) -> list[ComparisonColumn]:
    return [
        ComparisonColumn(
            methodology=m.name,
            indicator=i.id,
            title=i.title,
            unit=i.unit,
            direction=i.direction,
            base=_declared_base(m, i.id),
        )
        for m in chosen
        for i in m.methodology.indicators
        if i.headline
    ]


def _declared_base(m: CheckedMethodology, indicator: str) -> str | None:
    """What the indicator's denominator counts, as its spec declares (``base``)."""
    spec = m.spec.indicator(indicator) if m.spec is not None else None
    props = [p for p in spec.properties if p.kind == "base"] if spec is not None else []
    return props[0].counts if props else None


def _small_bases(
    result: Result, columns: list[ComparisonColumn], min_base: int
) -> dict[str, dict[str, int]]:
    """brand -> indicator -> base, for values over a declared base under ``min_base``.

    A zero base has no value (it is a null with its own reason), so it is not marked.
    """
    based = {c.indicator for c in columns if c.base is not None}
    out: dict[str, dict[str, int]] = {}
    for r in result.results:
        den = r.denominator
        if r.indicator in based and r.value is not None and den is not None and den < min_base:
            out.setdefault(r.brand, {})[r.indicator] = int(den)
    return out


def _values(result: Result, columns: list[ComparisonColumn], brands: list[str]) -> Values:
    table: Values = {b: dict.fromkeys(c.indicator for c in columns) for b in brands}
    for r in result.results:
        if r.brand in table and r.indicator in table[r.brand]:
            table[r.brand][r.indicator] = r.value
    return table


def _missing(result: Result, columns: list[ComparisonColumn], brand: str) -> dict[str, NullReason]:
    """Why each null value of a brand is null."""
    skipped = {n.indicator for n in result.not_applicable}
    failed = {e.indicator for e in result.errors if e.brand in (None, brand)}
    rows = {r.indicator: r for r in result.results if r.brand == brand}
    out: dict[str, NullReason] = {}
    for col in columns:
        row = rows.get(col.indicator)
        if row is not None and row.value is not None:
            continue
        if col.indicator in skipped:
            out[col.indicator] = "not_applicable"
        elif col.indicator in failed:
            out[col.indicator] = "failed"
        elif row is not None and row.denominator == 0:
            out[col.indicator] = "no_denominator"
        else:
            out[col.indicator] = "no_value"
    return out


def best(col: ComparisonColumn, values: Mapping[str, Number | None]) -> list[str]:
    """The brands with the best value on the row; none when fewer than two differ."""
    present = {b: v for b, v in values.items() if v is not None}
    if len(set(present.values())) < 2:
        return []
    top = max(present.values()) if col.direction == "higher" else min(present.values())
    return sorted(b for b, v in present.items() if v == top)


def rank_methodologies(
    chosen: list[CheckedMethodology], columns: list[ComparisonColumn], values: Values
) -> list[MethodologyRanking]:
    """Per methodology: each brand's rank on each headline indicator and their mean.

    A brand without a value on an indicator is not ranked on it (the others are ranked
    among themselves) and its composite is the mean of the ranks it has.
    """
    out = []
    for m in chosen:
        cols = [c for c in columns if c.methodology == m.name]
        ranked = {
            c.indicator: rank({b: v[c.indicator] for b, v in values.items()}, c.direction)
            for c in cols
        }
        ranked = {i: r for i, r in ranked.items() if r}
        if not ranked:
            continue
        composite: dict[str, float | None] = {}
        for b in values:
            mine = [r[b] for r in ranked.values() if b in r]
            composite[b] = round(sum(mine) / len(mine), 10) if mine else None
        overall = rank(composite, "lower")
        out.append(
            MethodologyRanking(
                methodology=m.name,
                indicators=list(ranked),
                brands=[
                    BrandRanks(
                        brand=b,
                        ranks={i: r.get(b) for i, r in ranked.items()},
                        composite=composite[b],
                        composite_rank=overall.get(b),
                    )
                    for b in values
                ],
            )
        )
    return out


def partial_composites(rankings: list[MethodologyRanking]) -> list[tuple[str, str, int, int]]:
    """(methodology, brand, indicators ranked, indicators the methodology ranks) for every
    composite taken over fewer indicators than the methodology ranks others on.

    Such a composite skips the indicator its brand has no value on, which can lift it
    above brands ranked on everything; readers are told which ones they are.
    """
    out = []
    for r in rankings:
        for b in r.brands:
            ranked = sum(1 for i in r.indicators if b.ranks.get(i) is not None)
            if b.composite is not None and ranked < len(r.indicators):
                out.append((r.methodology, b.brand, ranked, len(r.indicators)))
    return out


def agreement(rankings: list[MethodologyRanking]) -> Agreement | None:
    """Kendall's tau-b for every pair of methodologies' composites, and W over all."""
    scores = {
        r.methodology: {b.brand: b.composite for b in r.brands if b.composite is not None}
        for r in rankings
    }
    scores = {m: s for m, s in scores.items() if len(s) >= 2}
    if len(scores) < 2:
        return None
    pairs = []
    for a, b in combinations(scores, 2):
        common = sorted(set(scores[a]) & set(scores[b]))
        xs, ys = [scores[a][x] for x in common], [scores[b][x] for x in common]
        tau = kendall_tau_b(xs, ys)
        tau = None if tau is None else round(tau, 10)
        p = None if tau is None else _rounded(kendall_tau_p(xs, ys))
        pairs.append(
            PairAgreement(
                first=a,
                second=b,
                tau_b=tau,
                p_value=p,
                brands=len(common),
                reading=_pair_reading(a, b, tau, p, len(common)),
            )
        )
    common = sorted(set.intersection(*(set(s) for s in scores.values())))
    reranked = [
        [rank({x: s[x] for x in common}, "lower")[x] for x in common] for s in scores.values()
    ]
    w = kendall_w(reranked)
    w = None if w is None else round(w, 10)
    p_w = None if w is None else _rounded(kendall_w_p(w, len(scores), len(common)))
    return Agreement(
        methodologies=list(scores),
        brands=len(common),
        kendall_w=w,
        p_value=p_w,
        pairs=pairs,
        reading=_overall_reading(w, p_w, len(scores), len(common), pairs),
    )


MIN_BRANDS_TO_READ = 5
"""Below this many brands no agreement is read into tau or W: with four brands even a
perfect agreement has p = 0.083 (two orderings in 24), so no reading could be told
from chance."""
CHANCE = 0.05
"""A p-value at or above this is read as "could be chance"."""


def _rounded(p: float | None) -> float | None:
    return None if p is None else float(f"{p:.6g}")


def _p_text(p: float) -> str:
    """Three significant digits, so that 0.0495 never reads as 0.050."""
    return f"p = {p:.3g}" if p >= 0.001 else "p < 0.001"


def _pair_reading(a: str, b: str, tau: float | None, p: float | None, n: int) -> str:
    names = f"{a.upper()} and {b.upper()}"
    if tau is None or p is None:
        return f"{names} {agreement_word(None)}"
    if n < MIN_BRANDS_TO_READ:
        return f"{names}: {n} brands are too few to tell (τ = {tau:.2f})"
    chance = ": could be chance" if p >= CHANCE else ""
    return f"{names} {agreement_word(tau)} (τ = {tau:.2f}, {_p_text(p)}{chance})"


def _overall_reading(
    w: float | None, p: float | None, m: int, n: int, pairs: list[PairAgreement]
) -> str:
    if w is None or p is None:
        return f"too few brands ranked by all {m} methodologies to measure agreement"
    text = f"Kendall's W = {w:.2f} over {m} methodologies and {n} brands"
    if n < MIN_BRANDS_TO_READ:
        return f"{text}: too few brands to tell"
    level = "strong" if w >= 0.7 else "moderate" if w >= 0.5 else "weak" if w >= 0.3 else "little"
    chance = ", could be chance" if p >= CHANCE else ""
    text += f" ({_p_text(p)}): {level} agreement{chance}"
    scored = [q for q in pairs if q.tau_b is not None and q.brands >= MIN_BRANDS_TO_READ]
    if len({q.tau_b for q in scored}) >= 2:
        hi = max(scored, key=lambda p: (p.tau_b, p.first, p.second))
        lo = min(scored, key=lambda p: (p.tau_b, p.first, p.second))
        text += (
            f"; closest {hi.first.upper()} and {hi.second.upper()} (τ = {hi.tau_b:.2f}), "
            f"furthest apart {lo.first.upper()} and {lo.second.upper()} (τ = {lo.tau_b:.2f})"
        )
    return text


def _achievements(
    ds: Dataset,
    chosen: list[CheckedMethodology],
    day: date,
    shown: list[str],
    params: Mapping[str, Any],
    result: Result,
) -> list:
    """Achievement of each due target, from the actual as of the period's end."""
    scalar = {i.id: m.name for m in chosen for i in m.methodology.indicators if not i.dimension}
    lower = frozenset(
        i.id for m in chosen for i in m.methodology.indicators if i.direction == "lower"
    )
    due = targets_mod.due(ds, day, shown, scalar)
    actual: dict[date, dict[tuple[str, str], Number | None]] = {}
    for end in sorted({t[3] for t in due}):
        ids = sorted({t[1] for t in due if t[3] == end})
        have = {(r.brand, r.indicator): r.value for r in result.results}
        if end == day and all((b, i) in have for b, i, *_ in due if i in ids):
            actual[end] = have
            continue
        methods = sorted({scalar[i] for i in ids})
        run = ds.compute(
            as_of=end,
            methodologies=methods,
            brands=shown,
            params=own_params(params, methods),
            indicators=ids,
        )
        actual[end] = {(r.brand, r.indicator): r.value for r in run.results}
    return targets_mod.achievements(due, actual, lower)
