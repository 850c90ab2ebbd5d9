"""GOAL's pictures in ``brandlens report``: target-group TGI, predicted CLV per brand and its
spread over the brand's customers (a box plot of goal.clv_distribution)."""

from __future__ import annotations

from brandlens.plugin import Chart, ReportContext, ReportSection, Series
from brandlens_goal.clv_indicators import QUANTILES


def sections(ctx: ReportContext) -> list[ReportSection]:
    groups = ctx.keys_of("goal.group_tgi")
    tgi = ctx.keyed("goal.group_tgi")
    spread = {k: [ctx.value("goal.clv_distribution", b, k) for b in ctx.brands] for k in QUANTILES}
    charts = [
        Chart(
            id="goal.tgi",
            kind="heatmap",
            title="Target-group TGI (brand × group)",
            indicators=["goal.group_tgi"],
            unit="index",
            labels=groups,
            series=[Series(name=b, values=tgi[b]) for b in ctx.brands],
            note=(
                "100 = the group is as common among the brand's buyers in the buyer window "
                "as among the users in the users table (each counted among those with a group)"
            ),
        ),
        Chart(
            id="goal.clv_per_customer",
            kind="bar",
            title="Predicted CLV per customer (next 12 months)",
            indicators=["goal.clv_per_customer"],
            unit="currency",
            labels=ctx.brands,
            series=[Series(name="CLV per customer", values=ctx.scalar("goal.clv_per_customer"))],
        ),
        Chart(
            id="goal.clv_distribution",
            kind="box",
            title="Predicted CLV per customer: the spread over customers",
            indicators=["goal.clv_distribution", "goal.clv_per_customer"],
            unit="currency",
            scale="log",  # a brand's p90 can be a thousand times another's p10
            labels=ctx.brands,
            series=[
                *(Series(name=k, values=spread[k]) for k in QUANTILES),
                Series(name="mean", values=ctx.scalar("goal.clv_per_customer")),
            ],
        ),
        Chart(
            id="goal.clv_split",
            kind="stacked_bar",
            title="Customers by predicted value: high-value share and the rest",
            indicators=["goal.high_value_share"],
            unit="ratio",
            labels=ctx.brands,
            series=[
                Series(name="high value", values=ctx.scalar("goal.high_value_share")),
                Series(
                    name="other",
                    values=[
                        None if v is None else 1 - v for v in ctx.scalar("goal.high_value_share")
                    ],
                ),
            ],
        ),
    ]
    return [ReportSection(id="goal", title="GOAL: target groups and customer value", charts=charts)]
