"""DREAM's pictures in ``brandlens report``: each brand's mind matrix, structure vs industry."""

from __future__ import annotations

from brandlens.plugin import Chart, ReportContext, ReportSection, Series


def sections(ctx: ReportContext) -> list[ReportSection]:
    stages = ctx.keys_of("dream.structure")
    charts = []
    structure, reference = ctx.keyed("dream.structure"), ctx.keyed("dream.industry_reference")
    charts.append(
        Chart(
            id="dream.structure_gap",
            kind="heatmap",
            title="Asset structure against the industry reference (brand − industry)",
            indicators=["dream.structure", "dream.industry_reference"],
            definition=(
                "each stage's share of the brand's DREAM assets minus the same share over "
                "its main category's brands; red: thinner than the industry, blue: fuller"
            ),
            unit="ratio",
            labels=stages,
            series=[
                Series(
                    name=b,
                    values=[
                        None if s is None or r is None else round(s - r, 12)
                        for s, r in zip(structure[b], reference[b], strict=True)
                    ],
                )
                for b in ctx.brands
            ],
        )
    )
    cells = ctx.keys_of("dream.mind_matrix")
    seen = list(dict.fromkeys(k.partition("|")[0] for k in cells))
    # the ladder's order (Aware, Appeal, ...), as the structure's declared keys list it
    rows = [s for s in stages if s in seen] + [s for s in seen if s not in stages]
    circles = sorted({k.partition("|")[2] for k in cells})
    for brand in ctx.brands:
        charts.append(
            Chart(
                id=f"dream.mind_matrix.{ctx.slug(brand)}",
                kind="heatmap",
                title=f"{brand}: mind matrix (stage × circle)",
                indicators=["dream.mind_matrix"],
                unit="users",
                labels=circles,
                series=[
                    Series(
                        name=stage,
                        values=[
                            ctx.value("dream.mind_matrix", brand, f"{stage}|{c}") for c in circles
                        ],
                    )
                    for stage in rows
                ],
            )
        )
    return [ReportSection(id="dream", title="DREAM: mind matrix and structure", charts=charts)]
