"""Generic chart specs a report is drawn from, and what a plugin's report builder receives.

A chart is data, not drawing: its kind, the labels along it, named series, points
or links, and the indicators it shows. ``brandlens report`` draws every kind the same
way for every methodology (``cli/report_html.py``); plugins fill charts with values
from :class:`ReportContext` and hand them back as :class:`ReportSection` models through
the ``brandlens_report_sections`` hook. Nothing here knows a methodology.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Number = int | float

ChartKind = Literal[
    "bar", "stacked_bar", "funnel", "heatmap", "quadrant", "waterfall", "line", "sankey", "box"
]
"""The kinds of chart the report draws."""

_ALONG_LABELS = {"bar", "stacked_bar", "funnel", "heatmap", "waterfall", "line", "box"}
_ID = r"^[a-z0-9][a-z0-9_.\-]*$"


class Series(BaseModel):
    """One named row of values along a chart's labels (a bar colour, a line, a heatmap row).

    Example::

        Series(name="Lumi", values=[120, 80, None])
    """

    name: str = Field(description="legend name (a brand, a stage, a heatmap row)")
    values: list[Number | None] = Field(
        description="one value per label of the chart, None where there is none"
    )


class Point(BaseModel):
    """One bubble of a quadrant chart.

    Example::

        Point(label="Lumi", x=1200, y=0.08, size=310)
    """

    label: str = Field(description="what the bubble is (a brand)")
    x: Number | None = Field(description="position on the horizontal axis")
    y: Number | None = Field(description="position on the vertical axis")
    size: Number | None = Field(None, description="bubble area is proportional to it")


class Link(BaseModel):
    """One flow of a Sankey diagram: from a node on the left to a node on the right.

    Example::

        Link(source="A", target="I", value=42)
    """

    source: str = Field(description="left node (e.g. the stage at the earlier snapshot)")
    target: str = Field(description="right node (e.g. the stage now)")
    value: Number = Field(ge=0, description="the width of the flow (users, products)")


class Chart(BaseModel):
    """A chart spec: what to draw and which indicators it shows, never how.

    ``labels`` runs along the chart: x categories of bars, lines and waterfalls,
    the stages of a funnel, the columns of a heatmap (its ``series`` are the rows),
    the node order of a Sankey diagram. Each series has one value per label. A
    ``waterfall`` has one series: its first value is the starting total, the last
    the closing total and those between are the changes. A ``box`` draws one box
    plot per label from five series, in order: the low whisker, the box's low end,
    the median line, the box's high end, the high whisker (e.g. p10, p25, p50, p75,
    p90); a sixth series, if given, is drawn as a dot (e.g. the mean). A
    ``quadrant`` draws ``points`` with the medians as cross-hairs; a ``sankey``
    draws ``links``.
    ``definition`` and ``source`` are filled from the spec of the first indicator
    when left empty.

    Example::

        chart = Chart(
            id="fast.fertility_bars",
            kind="bar",
            title="Fertility per brand",
            indicators=["fast.fertility"],
            unit="users",
            labels=["Lumi", "Nimbus"],
            series=[Series(name="Fertility", values=[1200, 900])],
        )
        chart.kind  # 'bar'
    """

    id: str = Field(pattern=_ID, description="unique in the report; also the HTML element id")
    kind: ChartKind = Field(description="how it is drawn")
    title: str = Field(description="a short heading")
    indicators: list[str] = Field(description="the indicator ids it shows")
    definition: str = Field("", description="one line: what it shows (default: from the spec)")
    source: str = Field("", description="where the definition comes from (default: the spec)")
    unit: str = Field("", description="unit of the values: users, ratio, currency, index, ...")
    labels: list[str] = Field(default_factory=list, description="what runs along the chart")
    series: list[Series] = Field(default_factory=list, description="named rows of values")
    points: list[Point] = Field(default_factory=list, description="bubbles of a quadrant")
    links: list[Link] = Field(default_factory=list, description="flows of a Sankey diagram")
    x_title: str = Field("", description="horizontal axis title")
    y_title: str = Field("", description="vertical axis title")
    note: str = Field("", description="a caveat printed under the chart")
    scale: Literal["linear", "log"] = Field(
        "linear",
        description=(
            "the value axis of a box plot: log for values spanning orders of magnitude "
            "(e.g. predicted CLV); a value at or below zero is drawn at the axis' low end"
        ),
    )

    @model_validator(mode="after")
    def _shape(self) -> Chart:
        if self.kind in _ALONG_LABELS:
            for s in self.series:
                if len(s.values) != len(self.labels):
                    raise ValueError(
                        f"chart {self.id!r}: series {s.name!r} has {len(s.values)} values "
                        f"for {len(self.labels)} labels"
                    )
        if self.kind == "waterfall" and len(self.series) != 1:
            raise ValueError(f"chart {self.id!r}: a waterfall has exactly one series")
        if self.scale == "log" and self.kind != "box":
            raise ValueError(f"chart {self.id!r}: a log scale is drawn for box plots only")
        if self.kind == "box" and len(self.series) not in (5, 6):
            raise ValueError(
                f"chart {self.id!r}: a box plot has five series (whisker, box, median, box, "
                "whisker) and optionally a sixth drawn as a dot"
            )
        return self

    def is_empty(self) -> bool:
        """True when there is nothing to draw (no value, point or flow)."""
        if self.kind == "quadrant":
            return not any(p.x is not None and p.y is not None for p in self.points)
        if self.kind == "sankey":
            return not any(link.value for link in self.links)
        return not any(v is not None for s in self.series for v in s.values)


class ReportSection(BaseModel):
    """A titled group of charts in the report, contributed by the core or a plugin.

    Example::

        ReportSection(
            id="fast",
            title="FAST",
            methodology="fast",
            charts=[
                Chart(
                    id="fast.f",
                    kind="bar",
                    title="F",
                    indicators=["fast.fertility"],
                    labels=["Lumi"],
                    series=[Series(name="F", values=[1])],
                )
            ],
        )
    """

    id: str = Field(pattern=_ID, description="unique in the report; also the HTML anchor")
    title: str = Field(description="the section heading")
    methodology: str | None = Field(None, description="the methodology it belongs to, if any")
    charts: list[Chart] = Field(default_factory=list, description="in the order shown")
    notes: list[str] = Field(default_factory=list, description="charts left out, and why")


class ReportContext(BaseModel):
    """What a plugin's report builder receives: every indicator of its methodology, per brand.

    ``values`` maps indicator -> brand -> key -> value, with the key ``""`` for an
    indicator without a dimension; ``keys`` lists each keyed indicator's keys in their
    declared order (a ladder's stages lowest first). Indicators that failed or are
    not applicable are absent; ``not_applicable`` says why the latter were skipped.

    Example::

        ctx = ReportContext(
            methodology="fast",
            as_of="2025-06-30",
            brands=["Lumi", "Nimbus"],
            values={
                "fast.fertility": {"Lumi": {"": 1200}, "Nimbus": {"": 900}},
                "fast.aipl_users": {"Lumi": {"A": 700, "P": 500}},
            },
            keys={"fast.aipl_users": ["A", "I", "P", "L"]},
        )
        ctx.scalar("fast.fertility")  # [1200, 900]
        ctx.keyed("fast.aipl_users")["Lumi"]  # [700, None, 500, None]
        ctx.slug("Lumi Beauty")  # 'lumi-beauty'
    """

    methodology: str = Field(description="the methodology the builder is called for")
    as_of: str = Field(description="the report's as-of date (ISO)")
    brands: list[str] = Field(description="the brands in the report, in order")
    currency: str = Field("CNY", description="the currency code money is shown with")
    values: dict[str, dict[str, dict[str, Number | None]]] = Field(
        description="indicator -> brand -> key ('' without a dimension) -> value"
    )
    keys: dict[str, list[str]] = Field(
        default_factory=dict, description="indicator -> its keys in their declared order"
    )
    not_applicable: dict[str, str] = Field(
        default_factory=dict, description="indicator -> why it was skipped"
    )

    def value(self, indicator: str, brand: str, key: str = "") -> Number | None:
        """One value, or None when there is none."""
        return self.values.get(indicator, {}).get(brand, {}).get(key)

    def scalar(self, indicator: str) -> list[Number | None]:
        """An indicator without a dimension: one value per brand, in brand order."""
        return [self.value(indicator, b) for b in self.brands]

    def keys_of(self, indicator: str) -> list[str]:
        """A keyed indicator's keys: declared order, then any other key seen, sorted."""
        declared = list(self.keys.get(indicator, []))
        seen = {k for per in self.values.get(indicator, {}).values() for k in per}
        return declared + sorted(seen - set(declared) - {""})

    @staticmethod
    def slug(text: str) -> str:
        """``text`` as a part of a chart id: lower case, runs of other characters as '-'."""
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"

    def keyed(self, indicator: str) -> dict[str, list[Number | None]]:
        """A keyed indicator: brand -> one value per key of :meth:`keys_of`."""
        keys = self.keys_of(indicator)
        return {b: [self.value(indicator, b, k) for k in keys] for b in self.brands}
