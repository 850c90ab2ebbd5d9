"""GROW's pictures in ``brandlens report``: P0 GMV to P1 GMV through G, R, O, W and Lost."""

from __future__ import annotations

from brandlens.plugin import Chart, ReportContext, ReportSection, Series

DRIVERS = ("grow.gain", "grow.retain", "grow.boost", "grow.widen", "grow.lost")


def _p0(ctx: ReportContext, brand: str) -> float | None:
    """P0 GMV from the change and the growth of its factors: GMV = N x T x V, so
    GMV1 / GMV0 = (1 + buyers growth)(1 + frequency growth)(1 + value growth).

    Without buyers in P1 (buyers growth −1) frequency and value growth are null, but
    P1 GMV is 0: P0 GMV is minus the change."""
    change = ctx.value("grow.gmv_change", brand)
    growth = [
        ctx.value(i, brand)
        for i in ("grow.buyers_growth", "grow.frequency_growth", "grow.value_growth")
    ]
    if change is not None and growth[0] == -1:
        return -change if change < 0 else None
    if change is None or any(g is None for g in growth):
        return None
    ratio = (1 + growth[0]) * (1 + growth[1]) * (1 + growth[2])  # type: ignore[operator]
    if abs(ratio - 1) < 1e-9:
        return None
    return change / (ratio - 1)


def sections(ctx: ReportContext) -> list[ReportSection]:
    charts, notes = [], []
    for brand in ctx.brands:
        p0 = _p0(ctx, brand)
        change = ctx.value("grow.gmv_change", brand)
        if p0 is None or change is None:
            notes.append(f"{brand}: no waterfall (no GMV in P0, or no change to split)")
            continue
        terms = [ctx.value(i, brand) or 0 for i in DRIVERS]
        charts.append(
            Chart(
                id=f"grow.waterfall.{ctx.slug(brand)}",
                kind="waterfall",
                title=f"{brand}: P0 GMV → P1 GMV",
                indicators=["grow.gmv_change", *DRIVERS],
                definition=(
                    "GMV change split exactly (LMDI) into Gain, Retain, bOost on continuing "
                    "categories, Widen on new ones and Lost on dropped ones"
                ),
                unit="currency",
                labels=["P0 GMV", "G", "R", "O", "W", "Lost", "P1 GMV"],
                series=[Series(name=brand, values=[round(p0, 2), *terms, round(p0 + change, 2)])],
            )
        )
    return [
        ReportSection(
            id="grow", title="GROW: where GMV growth came from", charts=charts, notes=notes
        )
    ]
