"""The comparison contract: pydantic models behind ``brandlens compare`` and ``funnel``.

A comparison answers questions, so each answer is its own section: the values
(indicators x brands, with why a value is missing and who leads), ranks and a
composite per methodology, how far the methodologies agree, each brand within
its category, change since a baseline, target achievement, published
benchmarks and one funnel across ladders. Sections not asked for are null.
Orders are data: methodologies, indicators, ladder stages and funnel steps are
listed in their declared order, never alphabetically. Same input, same bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from brandlens.analysis import MIN_BASE
from brandlens.engine.result import (
    DatasetInfo,
    ErrorEntry,
    NotApplicable,
    ShortHistory,
    UnmatchedValues,
)

Number = int | float

NullReason = Literal["no_denominator", "not_applicable", "failed", "no_value"]
"""Why a value is null: a ratio with nothing to divide by; the data lacks an optional
table or column; the indicator failed; the methodology returned no value."""


class ComparisonColumn(BaseModel):
    """A headline indicator of the comparison (a row of the terminal table)."""

    methodology: str
    indicator: str
    title: str
    unit: str
    direction: str = Field(description="higher or lower: which end is better")
    best: list[str] = Field(
        default_factory=list, description="brands with the best value (direction-aware)"
    )
    base: str | None = Field(
        None,
        description="what the value's denominator counts (users, buyers, ...), when the "
        "indicator's spec declares a base; values over fewer than min_base are marked",
    )


class ComparisonRow(BaseModel):
    """One brand: its headline values keyed by indicator id, and why any is null."""

    brand: str
    category: str | None = Field(None, description="the category it is compared within")
    values: dict[str, Number | None]
    missing: dict[str, NullReason] = Field(
        default_factory=dict, description="indicator -> why its value is null"
    )
    small_base: dict[str, int] = Field(
        default_factory=dict,
        description="indicator -> its base (the denominator), for values over fewer than "
        "the comparison's min_base: one person more or less moves them far",
    )


class BrandRanks(BaseModel):
    """A brand's rank on each headline indicator of one methodology (1 = best)."""

    brand: str
    ranks: dict[str, float | None] = Field(description="indicator -> rank; ties share the mean")
    composite: float | None = Field(description="the mean of its headline ranks")
    composite_rank: float | None = Field(description="its rank by composite (1 = best)")


class MethodologyRanking(BaseModel):
    """Ranks of every brand on every headline indicator of one methodology."""

    methodology: str
    indicators: list[str] = Field(description="the headline indicators ranked, in order")
    brands: list[BrandRanks]


class PairAgreement(BaseModel):
    """Kendall's tau-b between two methodologies' composite rankings."""

    first: str
    second: str
    tau_b: float | None
    p_value: float | None = Field(
        None, description="two-sided, under independence (exact without ties up to 33 brands)"
    )
    brands: int = Field(description="brands ranked by both")
    reading: str


class Agreement(BaseModel):
    """How far the methodologies agree on which brands lead."""

    methodologies: list[str]
    brands: int = Field(description="brands ranked by every methodology (for W)")
    kendall_w: float | None = Field(description="Kendall's W with the tie correction")
    p_value: float | None = Field(
        None, description="of W: chi-square m(n-1)W with n-1 degrees of freedom"
    )
    pairs: list[PairAgreement]
    reading: str


class CategoryCell(BaseModel):
    """A brand's value against its category's brands."""

    brand: str
    indicator: str
    category: str
    peers: int = Field(description="brands of the category with a value, the brand included")
    median: Number | None
    index: float | None = Field(
        description="value / category median x 100; none when no other brand of the "
        "category has a value (the median would be its own)"
    )
    percentile: float | None = Field(
        description="share of the other brands it beats (direction-aware; ties count half)"
    )


class CategoryContext(BaseModel):
    """Each brand within its category: the main one (most purchase GMV) or the one chosen."""

    chosen: str | None = Field(None, description="the category given with --category")
    categories: dict[str, list[str]] = Field(description="category -> the brands compared in it")
    cells: list[CategoryCell]
    uncategorised: list[str] = Field(
        default_factory=list,
        description="shown brands with no purchase in a category (with a positive amount) "
        "up to as_of: no category to be compared within, so no cells",
    )


class BaselineCell(BaseModel):
    """A value beside its value as of the baseline date."""

    brand: str
    indicator: str
    value: Number | None
    baseline: Number | None
    change: float | None = Field(description="value - baseline")
    change_rel: float | None = Field(description="(value - baseline) / |baseline|")
    small_base: int | None = Field(
        None,
        description="the smaller base of the two values when under min_base (the value's, "
        "or the baseline's): the change moves far with one person",
    )


class Baseline(BaseModel):
    """The same comparison as of an earlier date (one engine run per date)."""

    kind: Literal["previous", "yoy", "date"]
    as_of: str
    cells: list[BaselineCell]
    short_history: list[ShortHistory] = Field(
        default_factory=list,
        description="methodologies that read, as of the baseline date, further back than "
        "the data goes: their changes start from partly missing counts",
    )


class Achievement(BaseModel):
    """How far a brand got towards a target whose period ended on or before the as-of date."""

    brand: str
    indicator: str
    period_start: str
    period_end: str
    target: float
    actual: Number | None = Field(description="the indicator as of the period's last day")
    direction: Literal["higher", "lower"] = Field(
        "higher", description="the indicator's better direction"
    )
    achievement: float | None = Field(
        description="actual ÷ target where higher is better, target ÷ actual where lower "
        "is better (1 = the target exactly, above 1 = beyond it); none where a ratio "
        "reads backwards: a target of zero or below, a negative actual, or an actual of "
        "zero where lower is better"
    )
    met: bool | None = Field(
        None,
        description="whether the actual reached the target in the better direction "
        "(actual ≥ target, or ≤ where lower is better); none without an actual",
    )


class BenchmarkCell(BaseModel):
    """A brand's value placed among figures a platform published for its category."""

    brand: str
    indicator: str
    category: str
    value: Number | None
    p25: float | None
    p50: float | None
    p75: float | None
    top10: float | None
    band: str | None = Field(
        description="below p25, p25-p50, p50-p75, p75-top10 or top10; with some figures "
        "only, between those given (p50-top10, p75 and above)"
    )
    index: float | None = Field(description="value / p50 x 100")
    source: str


class FunnelLadder(BaseModel):
    """A ladder's stages in its order, and its crosswalk onto the common funnel."""

    methodology: str
    ladder: str
    title: str = Field("", description="the ladder's title as shown (its name when it has none)")
    stages: list[str] = Field(description="stage keys, lowest first (the ladder's order)")
    crosswalk: dict[str, list[str]] = Field(description="funnel step -> the ladder's stages")


class FunnelCell(BaseModel):
    """A brand's users at one funnel step under one ladder."""

    brand: str
    methodology: str
    ladder: str
    step: str
    users: int | None = Field(description="users whose highest stage maps to this step")
    reached: int | None = Field(description="users at this step or a later one")
    conversion: float | None = Field(description="reached / reached at the step before")


class Funnel(BaseModel):
    """One funnel across ladders: reach, engage, buy, loyal."""

    steps: list[str]
    ladders: list[FunnelLadder]
    cells: list[FunnelCell]


class StageBar(BaseModel):
    """One stage of a ladder for one brand, now and ``days`` before."""

    stage: str
    title: str
    step: str | None = Field(description="the funnel step the ladder maps it to")
    users: int
    share: float | None = Field(description="users / users with any stage of the ladder")
    before: int = Field(description="users at the stage ``days`` before as_of")
    gained: int = Field(description="users at the stage now who were elsewhere (or nowhere)")
    lost: int = Field(description="users at the stage before who are elsewhere (or nowhere) now")


class LadderFunnel(BaseModel):
    """A brand's stages on one ladder, lowest first."""

    methodology: str
    ladder: str
    title: str = Field("", description="the ladder's title as shown (its name when it has none)")
    users: int = Field(description="users with any stage now")
    before: int = Field(description="users with any stage ``days`` before")
    stages: list[StageBar]


class FunnelReport(BaseModel):
    """Everything ``brandlens funnel`` returns: one brand's ladders with the week's flow."""

    brandlens_version: str
    as_of: str
    timezone: str
    dataset: DatasetInfo
    brand: str
    days: int = Field(description="the flow compares as_of with this many days before")
    ladders: list[LadderFunnel]


class Comparison(BaseModel):
    """Everything ``brandlens compare`` returns: brands x headline indicators, and answers."""

    brandlens_version: str
    as_of: str
    timezone: str
    currency: str = Field("CNY", description="the code currency values are shown with")
    min_base: int = Field(
        MIN_BASE, description="values over a declared base smaller than this are marked small_base"
    )
    dataset: DatasetInfo
    parameters: dict[str, dict[str, Any]]
    methodologies: list[str] = Field(default_factory=list, description="in comparison order")
    columns: list[ComparisonColumn]
    rows: list[ComparisonRow]
    rankings: list[MethodologyRanking] = Field(default_factory=list)
    agreement: Agreement | None = None
    category: CategoryContext | None = None
    baseline: Baseline | None = None
    achievements: list[Achievement] = Field(default_factory=list)
    benchmarks: list[BenchmarkCell] = Field(default_factory=list)
    funnel: Funnel | None = None
    errors: list[ErrorEntry]
    not_applicable: list[NotApplicable] = Field(
        default_factory=list,
        description="indicators skipped because optional data is absent, sorted by indicator",
    )
    short_history: list[ShortHistory] = Field(
        default_factory=list,
        description="methodologies that read further back than the data goes, by name",
    )
    unmatched_values: list[UnmatchedValues] = Field(
        default_factory=list,
        description="parameter values naming categories (or other open values) no event "
        "has, by methodology and parameter",
    )

    def records(self) -> list[dict[str, Any]]:
        """One flat record per (indicator, brand): values and every answer about them.

        The long form behind CSV output and ``to_pandas``, in the comparison's order.
        """
        return comparison_records(self)

    def to_pandas(self) -> Any:
        """The records as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records(), columns=list(RECORD_FIELDS))

    def to_arrow(self) -> Any:
        """The records as a pyarrow Table."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.records(), schema=_arrow_schema())


RECORD_FIELDS: dict[str, str] = {
    "methodology": "string",
    "indicator": "string",
    "title": "string",
    "unit": "string",
    "direction": "string",
    "brand": "string",
    "category": "string",
    "value": "float",
    "null_reason": "string",
    "best": "bool",
    "rank": "float",
    "composite_rank": "float",
    "category_index": "float",
    "category_percentile": "float",
    "baseline": "float",
    "change": "float",
    "change_rel": "float",
    "target": "float",
    "target_period_end": "string",
    "achievement": "float",
    "target_met": "bool",
    "benchmark_band": "string",
    "as_of": "string",
    "currency": "string",
    "baseline_as_of": "string",
    "small_base": "bool",
    "change_small_base": "bool",
}
"""The columns of the long form, with their Arrow types."""


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "float": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(n, types[t]) for n, t in RECORD_FIELDS.items()])


def comparison_records(c: Comparison) -> list[dict[str, Any]]:
    """See :meth:`Comparison.records`."""
    ranks = {
        (r.methodology, b.brand): b for r in c.rankings for b in r.brands
    }  # (methodology, brand) -> ranks
    context = {(x.brand, x.indicator): x for x in c.category.cells} if c.category else {}
    base = {(x.brand, x.indicator): x for x in c.baseline.cells} if c.baseline else {}
    goals = {(a.brand, a.indicator): a for a in c.achievements}
    bench = {(b.brand, b.indicator): b for b in c.benchmarks}
    out = []
    for col in c.columns:
        for row in c.rows:
            key = (row.brand, col.indicator)
            r = ranks.get((col.methodology, row.brand))
            ctx, b, a, m = context.get(key), base.get(key), goals.get(key), bench.get(key)
            out.append(
                {
                    "methodology": col.methodology,
                    "indicator": col.indicator,
                    "title": col.title,
                    "unit": col.unit,
                    "direction": col.direction,
                    "brand": row.brand,
                    "category": row.category,
                    "value": row.values.get(col.indicator),
                    "null_reason": row.missing.get(col.indicator),
                    "best": row.brand in col.best,
                    "rank": r.ranks.get(col.indicator) if r else None,
                    "composite_rank": r.composite_rank if r else None,
                    "category_index": ctx.index if ctx else None,
                    "category_percentile": ctx.percentile if ctx else None,
                    "baseline": b.baseline if b else None,
                    "change": b.change if b else None,
                    "change_rel": b.change_rel if b else None,
                    "target": a.target if a else None,
                    "target_period_end": a.period_end if a else None,
                    "achievement": a.achievement if a else None,
                    "target_met": a.met if a else None,
                    "benchmark_band": m.band if m else None,
                    "as_of": c.as_of,
                    "currency": c.currency,
                    "baseline_as_of": c.baseline.as_of if c.baseline else None,
                    "small_base": (
                        None
                        if col.base is None or row.values.get(col.indicator) is None
                        else col.indicator in row.small_base
                    ),
                    "change_small_base": (
                        None if b is None or b.change is None else b.small_base is not None
                    ),
                }
            )
    return out
