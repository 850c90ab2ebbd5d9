"""A.R.G.O's pictures in ``brandlens report``: the user lifecycle, retention curves."""

from __future__ import annotations

from brandlens.plugin import Chart, ReportContext, ReportSection, Series

STATUSES = ("new", "returning", "resurrecting", "dormant")


def sections(ctx: ReportContext) -> list[ReportSection]:
    life = ctx.values.get("argo.lifecycle", {})
    charts = [
        Chart(
            id="argo.lifecycle",
            kind="bar",
            title="User lifecycle (active events): new, returning, resurrecting, dormant",
            indicators=["argo.lifecycle"],
            unit="users",
            labels=ctx.brands,
            series=[
                Series(
                    name=s,
                    values=[
                        None
                        if (v := life.get(b, {}).get(s)) is None
                        else (-v if s == "dormant" else v)
                        for b in ctx.brands
                    ],
                )
                for s in STATUSES
            ],
            note="dormant users are drawn below zero, as PostHog's lifecycle does",
        ),
        Chart(
            id="argo.retention_curves",
            kind="line",
            title="Buyer retention curves",
            indicators=["argo.retention_curve"],
            unit="ratio",
            x_title="intervals (interval_days each) after the first order's interval",
            labels=ctx.keys_of("argo.retention_curve"),
            series=[Series(name=b, values=v) for b, v in ctx.keyed("argo.retention_curve").items()],
        ),
    ]
    return [ReportSection(id="argo", title="A.R.G.O: lifecycle and retention", charts=charts)]
