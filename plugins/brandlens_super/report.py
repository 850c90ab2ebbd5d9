"""SUPER's pictures in ``brandlens report``: each brand's GMV by product stage, product flow."""

from __future__ import annotations

from brandlens.plugin import Chart, Link, ReportContext, ReportSection, Series


def sections(ctx: ReportContext) -> list[ReportSection]:
    stages = ctx.keys_of("super.gmv_share_by_stage")
    shares = ctx.keyed("super.gmv_share_by_stage")
    charts = [
        Chart(
            id="super.stage_mix",
            kind="stacked_bar",
            title="GMV by product stage",
            indicators=["super.gmv_share_by_stage"],
            unit="ratio",
            labels=ctx.brands,
            series=[
                Series(name=s, values=[shares[b][i] for b in ctx.brands])
                for i, s in enumerate(stages)
            ],
        )
    ]
    order = ["none", *ctx.keys_of("super.products")]
    for brand in ctx.brands:
        flow = ctx.values.get("super.product_flow", {}).get(brand, {})
        links = []
        for key, n in flow.items():
            source, _, target = key.partition(">")
            if n:
                links.append(Link(source=source, target=target, value=n))
        charts.append(
            Chart(
                id=f"super.product_flow.{ctx.slug(brand)}",
                kind="sankey",
                title=f"{brand}: products from stage to stage",
                indicators=["super.product_flow"],
                unit="count",
                labels=order,
                links=links,
            )
        )
    return [ReportSection(id="super", title="SUPER: the product lifecycle", charts=charts)]
