"""One funnel across ladders, and one brand's ladders as bars.

AIPL, 4A and DREAM name their stages differently but each declares a crosswalk
onto reach, engage, buy and loyal (``StageLadder.funnel``), so a brand's funnel
can be read side by side under every ladder. Counts come from the ladders
alone, so this works for any third-party ladder: ``compare --funnel`` counts them in
its own run, one brand's bars build them without computing any indicator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from brandlens import __version__
from brandlens.analysis.checks import check_as_of, check_brands
from brandlens.analysis.model import (
    Funnel,
    FunnelCell,
    FunnelLadder,
    FunnelReport,
    LadderFunnel,
    StageBar,
)
from brandlens.engine.ladders import FUNNEL_STEPS
from brandlens.engine.result import significant
from brandlens.engine.runs import parse_parameters
from brandlens.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.result import LadderCounts
    from brandlens.engine.runs import Dataset
    from brandlens.plugin.methodology import CheckedMethodology

WEEK = 7


def own_params(params: Mapping[str, Any], methodologies: Iterable[str]) -> dict[str, Any]:
    """The parameters that belong to the given methodologies (a run refuses the others)."""
    names = set(methodologies)
    return {k: v for k, v in params.items() if k.partition(".")[0] in names}


def funnel_section(
    chosen: list[CheckedMethodology],
    brands: list[str],
    counted: Mapping[str, LadderCounts],
) -> Funnel:
    """Each brand's users at each funnel step under every ladder that declares a crosswalk.

    ``users`` counts users whose highest stage maps to the step; ``reached`` those at
    the step or a later one, and ``conversion`` is reached / reached at the step before.
    ``counted`` holds the run's counts of those ladders (``Result.ladders``).
    """
    ladders: list[FunnelLadder] = []
    cells: list[FunnelCell] = []
    for m in chosen:
        declared = [lad for lad in m.methodology.ladders if lad.funnel]
        if not declared:
            continue
        users = {(lad, b, s): n for lad, back, b, s, n in counted[m.name].counts if back == 0}
        for lad in declared:
            walk = lad.crosswalk()
            ladders.append(
                FunnelLadder(
                    methodology=m.name,
                    ladder=lad.name,
                    title=lad.shown_name,
                    stages=[s.key for s in lad.stages],
                    crosswalk=walk,
                )
            )
            for brand in brands:
                at = {
                    step: sum(users.get((lad.name, brand, s), 0) for s in walk[step])
                    for step in walk
                }
                steps = [s for s in FUNNEL_STEPS if s in walk]
                previous = None
                for i, step in enumerate(steps):
                    reached = sum(at[s] for s in steps[i:])
                    cells.append(
                        FunnelCell(
                            brand=brand,
                            methodology=m.name,
                            ladder=lad.name,
                            step=step,
                            users=at[step],
                            reached=reached,
                            conversion=(None if not previous else significant(reached / previous)),
                        )
                    )
                    previous = reached
    return Funnel(steps=list(FUNNEL_STEPS), ladders=ladders, cells=cells)


def funnel_report(
    ds: Dataset,
    brand: str,
    methodologies: Iterable[str] | None = None,
    as_of: str | date | None = None,
    params: Mapping[str, Any] | None = None,
    days: int = WEEK,
) -> FunnelReport:
    """One brand's stages on every ladder (of the chosen methodologies), with the flow
    between ``days`` before as_of and as_of."""
    check_brands(ds, [brand])
    day = ds._as_of(as_of)
    check_as_of(ds, day)
    named = ds.methodologies(methodologies)
    chosen = [m for m in named if m.methodology.ladders]
    if methodologies is not None and len(chosen) < len(named):
        # was: a header and nothing else, exit 0 (`funnel -m super`)
        without = ", ".join(m.name for m in named if not m.methodology.ladders)
        having = [m.name for m in ds.methodologies() if m.methodology.ladders]
        raise UsageError(
            f"--methodology: {without} has no stage ladder to show as a funnel "
            f"(methodologies with one: {', '.join(having) or 'none installed'})"
        )
    # Each parameter is checked as a run checks it, at once: one of a methodology outside
    # the funnel, or a value out of range, was dropped without a word (exit 0).
    parse_parameters(params or {}, chosen, ds.registry.event_types)
    out: list[LadderFunnel] = []
    for m in chosen:
        counts, flows = ds.ladder_counts(
            m.name, day, [brand], own_params(params or {}, [m.name]), back=days
        )
        for lad in m.methodology.ladders:
            now = {s: n for name, back, _, s, n in counts if name == lad.name and back == 0}
            then = {s: n for name, back, _, s, n in counts if name == lad.name and back == days}
            moves = [(f, t, n) for name, _, f, t, n in flows if name == lad.name]
            total = sum(now.values())
            step_of = {k: step for step, keys in lad.crosswalk().items() for k in keys}
            out.append(
                LadderFunnel(
                    methodology=m.name,
                    ladder=lad.name,
                    title=lad.shown_name,
                    users=total,
                    before=sum(then.values()),
                    stages=[
                        StageBar(
                            stage=s.key,
                            title=s.title,
                            step=step_of.get(s.key),
                            users=now.get(s.key, 0),
                            share=(None if not total else significant(now.get(s.key, 0) / total)),
                            before=then.get(s.key, 0),
                            gained=sum(n for f, t, n in moves if t == s.key and f != s.key),
                            lost=sum(n for f, t, n in moves if f == s.key and t != s.key),
                        )
                        for s in lad.stages
                    ],
                )
            )
    return FunnelReport(
        brandlens_version=__version__,
        as_of=day.isoformat(),
        timezone=ds.timezone,
        dataset=ds.info,
        brand=brand,
        days=days,
        ladders=out,
    )
