"""FAST's pictures in ``brandlens report``: fertility against advancing, bubble = superiority."""

from __future__ import annotations

from brandlens.plugin import Chart, Point, ReportContext, ReportSection


def sections(ctx: ReportContext) -> list[ReportSection]:
    fertility, advancing = ctx.scalar("fast.fertility"), ctx.scalar("fast.advancing")
    superiority = ctx.scalar("fast.superiority")
    quadrant = Chart(
        id="fast.quadrant",
        kind="quadrant",
        title="FAST quadrant: size (F) against momentum (A)",
        indicators=["fast.fertility", "fast.advancing", "fast.superiority"],
        definition=(
            "each brand at its operable consumers (F) and its relationship deepening rate "
            "(A); bubble area = members (S); cross-hairs at the medians"
        ),
        x_title="Fertility (users with an AIPL stage)",
        y_title="Advancing (deepening rate)",
        points=[
            Point(label=b, x=f, y=a, size=s)
            for b, f, a, s in zip(ctx.brands, fertility, advancing, superiority, strict=True)
        ],
        note="top right: large and moving up the ladder; bottom left: small and stalling",
    )
    return [
        ReportSection(id="fast", title="FAST: fertility, advancing, superiority", charts=[quadrant])
    ]
