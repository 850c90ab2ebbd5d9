"""Tmall FAST (2018) on Alibaba's AIPL consumer-asset ladder, as a brandlens plugin.

F Fertility (operable consumers), A Advancing (relationship deepening), S
Superiority (members), T Thriving (active members). Definitions, parameter
sources and properties are in specs/fast.yaml; docs/methodologies/fast.md
explains them and how they differ from Data Bank's own numbers.

This module uses only brandlens' public plugin API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

import brandlens
from brandlens.plugin import (
    EVENT_GROUPS,
    Condition,
    EntityTable,
    Evidence,
    Indicator,
    Methodology,
    Stage,
    StageLadder,
    deepening_sql,
    flow_sql,
    packaged_spec,
    stage_counts_sql,
    stage_total_sql,
    stage_users_sql,
)

THRIVING_EVENTS = [
    "purchase",
    "add_to_cart",
    "favorite",
    "coupon_claim",
    "review",
    "share",
    "consult",
    "store_visit",
]


class FastParameters(BaseModel):
    """Every number in the FAST definitions; sources in specs/fast.yaml."""

    model_config = {"extra": "forbid"}

    awareness_window_days: int = Field(15, ge=1, le=3660, description="look-back of the A stage")
    interest_window_days: int = Field(15, ge=1, le=3660, description="look-back of the I stage")
    purchase_window_days: int = Field(912, ge=1, le=3660, description="look-back of the P stage")
    loyal_window_days: int = Field(365, ge=1, le=3660, description="look-back of the L stage")
    loyal_min_purchase_days: int = Field(2, ge=1, le=366, description="purchase days that make L")
    positive_rating: int = Field(4, ge=1, le=5, description="lowest rating of a positive review")
    ad_click_stage: Literal["interest", "awareness"] = Field(
        "interest", description="which stage an ad click is evidence of"
    )
    advancing_period_days: int = Field(7, ge=1, le=366, description="period of the deepening rate")
    thriving_window_days: int = Field(
        180, ge=1, le=3660, description="look-back of member activity"
    )
    thriving_events: list[str] = Field(
        default_factory=lambda: list(THRIVING_EVENTS),
        min_length=1,
        description="events that make a member active",
        json_schema_extra={"vocabulary": "event_types"},
    )


AIPL = StageLadder(
    title="AIPL",
    name="aipl",
    snapshots=(0, "$advancing_period_days"),
    funnel={"reach": ("A",), "engage": ("I",), "buy": ("P",), "loyal": ("L",)},
    stages=(
        Stage(
            key="A",
            title="Awareness 认知",
            evidence=(
                Evidence(
                    event_types=EVENT_GROUPS["exposure"], window_days="$awareness_window_days"
                ),
                Evidence(
                    event_types=("ad_click",),
                    window_days="$awareness_window_days",
                    when={"ad_click_stage": "awareness"},
                ),
            ),
        ),
        Stage(
            key="I",
            title="Interest 兴趣",
            evidence=(
                Evidence(
                    event_types=(*EVENT_GROUPS["engagement"], "member_join"),
                    window_days="$interest_window_days",
                ),
                Evidence(
                    event_types=("ad_click",),
                    window_days="$interest_window_days",
                    when={"ad_click_stage": "interest"},
                ),
                Evidence(
                    event_types=("search",),
                    window_days="$interest_window_days",
                    where=(Condition(column="query_type", op="=", value="brand"),),
                ),
                Evidence(
                    event_types=("product_view",), window_days="$interest_window_days", min_days=2
                ),
            ),
        ),
        Stage(
            key="P",
            title="Purchase 购买",
            evidence=(Evidence(event_types=("purchase",), window_days="$purchase_window_days"),),
        ),
        Stage(
            key="L",
            title="Loyalty 忠诚",
            evidence=(
                Evidence(
                    event_types=("purchase",),
                    window_days="$loyal_window_days",
                    min_days="$loyal_min_purchase_days",
                ),
                Evidence(
                    event_types=("review",),
                    window_days="$loyal_window_days",
                    where=(Condition(column="rating", op=">=", value="$positive_rating"),),
                ),
                Evidence(event_types=("share",), window_days="$loyal_window_days"),
            ),
        ),
    ),
)

THRIVING_SQL = """
SELECT b.brand,
       count(m.user_id) FILTER (WHERE a.user_id IS NOT NULL) AS numerator,
       count(m.user_id) AS denominator,
       CASE WHEN count(m.user_id) = 0 THEN NULL
            ELSE count(m.user_id) FILTER (WHERE a.user_id IS NOT NULL) / count(m.user_id)
       END AS value
FROM brands b
LEFT JOIN members m ON m.brand = b.brand
LEFT JOIN (
  SELECT DISTINCT brand, user_id FROM events
  WHERE list_contains($thriving_events, event_type)
    AND local_date > $as_of - $thriving_window_days AND local_date <= $as_of
) a ON a.brand = m.brand AND a.user_id = m.user_id
GROUP BY b.brand
"""

PROSPECT_SQL = """
SELECT b.brand,
       count(l.user_id) FILTER (WHERE l.stage IN ('A', 'I')) AS numerator,
       count(l.user_id) FILTER (WHERE l.stage IN ('P', 'L')) AS denominator,
       CASE WHEN count(l.user_id) FILTER (WHERE l.stage IN ('P', 'L')) = 0 THEN NULL
            ELSE count(l.user_id) FILTER (WHERE l.stage IN ('A', 'I'))
                 / count(l.user_id) FILTER (WHERE l.stage IN ('P', 'L')) END AS value
FROM brands b
LEFT JOIN aipl l ON l.brand = b.brand AND l.days_before = 0
GROUP BY b.brand
"""

SUPERIORITY_SQL = """
SELECT b.brand, count(m.user_id) AS value
FROM brands b LEFT JOIN members m ON m.brand = b.brand
GROUP BY b.brand
"""

FAST = Methodology(
    name="fast",
    title="Tmall FAST (on AIPL)",
    source="Tmall / Alibaba Data Bank FAST (2018) and AIPL; see specs/fast.yaml",
    version="1.0.0",
    parameters=FastParameters,
    # beside its ladder (added by brandlens): the members' activity window
    history_days=lambda p: p.thriving_window_days,
    ladders=(AIPL,),
    entities=(
        EntityTable(
            name="users",
            title="Users per AIPL stage (an audience export)",
            key=("user_id",),
            sql=stage_users_sql(AIPL),
            order_by=("stage_rank DESC",),
            description="every user with a stage for the brand as of d, highest stage first",
        ),
    ),
    indicators=(
        Indicator(id="fast.fertility", sql=stage_total_sql(AIPL)),
        Indicator(id="fast.aipl_users", sql=stage_counts_sql(AIPL)),
        Indicator(id="fast.advancing", sql=deepening_sql(AIPL, "$advancing_period_days")),
        Indicator(
            id="fast.advancing_by_stage",
            sql=deepening_sql(AIPL, "$advancing_period_days", by_stage=True),
        ),
        Indicator(id="fast.flow", sql=flow_sql(AIPL, "$advancing_period_days")),
        Indicator(id="fast.superiority", sql=SUPERIORITY_SQL),
        Indicator(id="fast.thriving", sql=THRIVING_SQL),
        Indicator(id="fast.prospect_customer_ratio", sql=PROSPECT_SQL),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(FAST, spec=packaged_spec(__file__, "fast"))


@brandlens.hookimpl
def brandlens_report_sections(register):
    from brandlens_fast.report import sections

    register("fast", sections)
