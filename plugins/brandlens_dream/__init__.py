"""JD Electronics DREAM (2022): the durable-goods mind matrix, as a brandlens plugin.

DREAM (Durable goods Retaining and Engagement Audience Model, 京东电器 × 京东数坊)
splits the 4A journey for 3C and appliances into finer mind states (aware, appeal,
deep consideration, purchase, retained mind), reads them per interest circle,
compares a brand's asset scale and structure with its industry, and measures
target achievement. JD publishes no windows or formulas: every rule here is
brandlens' reading, each default an assumption stated in specs/dream.yaml.
Uses only the public plugin API.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

import brandlens
from brandlens.plugin import (
    AllOf,
    AnyOf,
    Condition,
    Evidence,
    Indicator,
    IndicatorContext,
    Methodology,
    Relation,
    Stage,
    StageLadder,
    Value,
    deepening_sql,
    flow_sql,
    packaged_spec,
    stage_counts_sql,
    stage_total_sql,
)

STAGES = ("Aware", "Appeal", "Consider", "Purchase", "Retain")
DEEP = ("Consider", "Purchase", "Retain")
"""The deep-mind stages: deep consideration and beyond."""
UNKNOWN_CIRCLE = "unknown"
"""The circle key of users without a circle (no row in users, or no circle in it)."""


class DreamParameters(BaseModel):
    """Every number in the DREAM rules; sources (all assumptions) in specs/dream.yaml."""

    model_config = {"extra": "forbid"}

    aware_window_days: int = Field(30, ge=1, le=3660, description="look-back of Aware")
    appeal_window_days: int = Field(60, ge=1, le=3660, description="look-back of Appeal")
    consider_window_days: int = Field(60, ge=1, le=3660, description="look-back of Consider")
    consider_min_view_days: int = Field(
        3, ge=1, le=366, description="product-view days that make Consider"
    )
    consider_min_search_days: int = Field(
        2, ge=1, le=366, description="brand-search days that make Consider"
    )
    purchase_window_days: int = Field(730, ge=1, le=3660, description="look-back of Purchase")
    retain_window_days: int = Field(
        365, ge=1, le=3660, description="look-back of the retention signals"
    )
    accessory_categories: list[str] = Field(
        default_factory=lambda: ["phone_accessories"],
        min_length=1,
        description="categories whose purchase after another category's is a retention signal",
        json_schema_extra={"vocabulary": "categories"},
    )
    durable_categories: list[str] = Field(
        default_factory=lambda: ["smartphones"],
        min_length=1,
        description="categories whose buyers come due for replacement",
        json_schema_extra={"vocabulary": "categories"},
    )
    flow_period_days: int = Field(30, ge=1, le=366, description="period of flows and advancing")
    replacement_cycle_days: int = Field(
        730, ge=1, le=3660, description="age of a last durable purchase that makes it due"
    )
    replacement_horizon_days: int = Field(
        1825, ge=1, le=7320, description="older last purchases are no longer counted"
    )


BRAND_SEARCH = (Condition(column="query_type", op="=", value="brand"),)


def _chosen_target(indicator: str) -> str:
    """Per brand, the most recent valid target period of an indicator ending by as_of."""
    return f"""
SELECT brand, period_start, period_end, target_value FROM (
  SELECT brand, period_start, period_end, target_value,
         row_number() OVER (PARTITION BY brand
                            ORDER BY period_end DESC, period_start DESC, target_value DESC) AS r
  FROM targets
  WHERE indicator = '{indicator}' AND period_end <= $as_of AND period_start <= period_end
) WHERE r = 1
"""


TARGET_DAYS_SQL = f"""
WITH chosen AS ({_chosen_target("dream.advanced_users")}),
first AS (SELECT min(local_date) - 1 AS day FROM events)
SELECT greatest(CAST(c.period_start - 1 AS DATE), coalesce(f.day, c.period_start)) AS day
FROM chosen c CROSS JOIN first f WHERE c.brand IN (SELECT brand FROM brands)
UNION
SELECT greatest(c.period_end, coalesce(f.day, c.period_start)) AS day
FROM chosen c CROSS JOIN first f WHERE c.brand IN (SELECT brand FROM brands)
"""
"""The days flow achievement compares stages on, for the reported brands: the day before
each chosen target period of dream.advanced_users and its last day. The mind ladder
takes them as further snapshots, so the ladder is computed once for both (it was
computed again per target period). A day before the first event is moved to the day
before the first event (to the period's start when there are no events): nobody has a
stage on either, and the ladder's scan does not reach further back than the data."""

MIND = StageLadder(
    title="DREAM mind",
    name="dream_mind",
    snapshots=(0, "$flow_period_days"),
    snapshots_sql=TARGET_DAYS_SQL,
    funnel={
        "reach": ("Aware",),
        "engage": ("Appeal", "Consider"),
        "buy": ("Purchase",),
        "loyal": ("Retain",),
    },
    stages=(
        Stage(
            key="Aware",
            title="Aware 认知",
            evidence=(
                Evidence(
                    event_types=("ad_impression", "content_view"), window_days="$aware_window_days"
                ),
            ),
        ),
        Stage(
            key="Appeal",
            title="Appeal 吸引",
            evidence=(
                Evidence(
                    event_types=("ad_click", "store_visit", "follow", "product_view"),
                    window_days="$appeal_window_days",
                ),
                Evidence(
                    event_types=("search",), window_days="$appeal_window_days", where=BRAND_SEARCH
                ),
            ),
        ),
        Stage(
            key="Consider",
            title="Deep consideration 深度心智",
            evidence=(
                Evidence(
                    event_types=("add_to_cart", "consult", "favorite", "coupon_claim"),
                    window_days="$consider_window_days",
                ),
                Evidence(
                    event_types=("product_view",),
                    window_days="$consider_window_days",
                    min_days="$consider_min_view_days",
                ),
                Evidence(
                    event_types=("search",),
                    window_days="$consider_window_days",
                    min_days="$consider_min_search_days",
                    where=BRAND_SEARCH,
                ),
            ),
        ),
        Stage(
            key="Purchase",
            title="Purchase 购买",
            evidence=(Evidence(event_types=("purchase",), window_days="$purchase_window_days"),),
        ),
        Stage(
            key="Retain",
            title="Retained mind 留存心智",
            evidence=(
                AllOf(
                    all_of=(
                        Evidence(event_types=("purchase",), window_days="$purchase_window_days"),
                        AnyOf(
                            any_of=(
                                Evidence(
                                    event_types=("after_sales", "review", "share", "member_join"),
                                    window_days="$retain_window_days",
                                ),
                                # an accessory bought on a later day than a purchase in
                                # another (non-accessory) category: the phone, then its case
                                Evidence(
                                    event_types=("purchase",),
                                    window_days="$retain_window_days",
                                    where=(
                                        Condition(
                                            column="category",
                                            op="in",
                                            value="$accessory_categories",
                                        ),
                                    ),
                                    after=Evidence(
                                        event_types=("purchase",),
                                        window_days="$purchase_window_days",
                                        where=(
                                            Condition(
                                                column="category",
                                                op="not in",
                                                value="$accessory_categories",
                                            ),
                                        ),
                                    ),
                                ),
                            )
                        ),
                    )
                ),
            ),
        ),
    ),
)


def _list(keys: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{k}'" for k in keys) + "]"


def _ratio(num: str, den: str) -> str:
    return (
        f"{num} AS numerator, {den} AS denominator, "
        f"CASE WHEN {den} = 0 THEN NULL ELSE {num} / {den} END AS value"
    )


# ---- industry reference: main categories, structures, category medians -----------------

MAIN_CATEGORY = Relation(
    name="dream_main_category",
    sql="""
WITH gmv AS (
  SELECT brand, category, sum(amount) AS gmv FROM events
  WHERE event_type = 'purchase' AND brand IS NOT NULL AND category IS NOT NULL
    AND local_date > $as_of - $purchase_window_days AND local_date <= $as_of
  GROUP BY brand, category
)
SELECT brand, category FROM (
  SELECT brand, category, row_number() OVER (PARTITION BY brand ORDER BY gmv DESC, category) AS r
  FROM gmv
) WHERE r = 1
""",
)
STRUCTURE = Relation(
    name="dream_structure",
    depends_on=("dream_mind",),
    sql=f"""
WITH totals AS (SELECT brand, count(*) AS total FROM dream_mind WHERE days_before = 0
                GROUP BY brand),
counts AS (SELECT brand, stage, count(*) AS users FROM dream_mind WHERE days_before = 0
           GROUP BY brand, stage)
SELECT t.brand, k.stage, coalesce(c.users, 0) AS users, t.total,
       coalesce(c.users, 0) / t.total AS share
FROM totals t CROSS JOIN (SELECT unnest({_list(STAGES)}) AS stage) k
LEFT JOIN counts c ON c.brand = t.brand AND c.stage = k.stage
""",
)
REFERENCE = Relation(
    name="dream_reference",
    depends_on=("dream_main_category", "dream_structure"),
    sql="""
WITH per_stage AS (
  SELECT m.category, s.stage, median(s.share) AS median_share,
         median(s.total) AS median_total, count(*) AS brands
  FROM dream_main_category m JOIN dream_structure s ON s.brand = m.brand
  GROUP BY m.category, s.stage
),
-- summed in a fixed order: a parallel float sum may differ in the last bit between runs
norms AS (SELECT category, list_sum(list(median_share ORDER BY stage)) AS norm
          FROM per_stage GROUP BY category)
SELECT p.*, n.norm FROM per_stage p JOIN norms n USING (category)
""",
)

STRUCTURE_SQL = f"""
SELECT b.brand, k.key, {_ratio("coalesce(s.users, 0)", "coalesce(s.total, 0)")}
FROM brands b CROSS JOIN (SELECT unnest({_list(STAGES)}) AS key) k
LEFT JOIN dream_structure s ON s.brand = b.brand AND s.stage = k.key
"""
STRUCTURE_GAP_SQL = """
SELECT b.brand,
       CASE WHEN max(r.norm) > 0
            THEN round(0.5 * list_sum(list(abs(s.share - r.median_share / r.norm)
                                           ORDER BY s.stage)), 12) END AS value
FROM brands b
LEFT JOIN dream_main_category m ON m.brand = b.brand
LEFT JOIN dream_structure s ON s.brand = m.brand
LEFT JOIN dream_reference r ON r.category = m.category AND r.stage = s.stage
GROUP BY b.brand
"""
SCALE_INDEX_SQL = """
WITH totals AS (SELECT DISTINCT brand, total FROM dream_structure),
medians AS (SELECT DISTINCT category, median_total FROM dream_reference)
SELECT b.brand, CASE WHEN r.category IS NOT NULL THEN t.total END AS numerator,
       r.median_total AS denominator, 100 * t.total / r.median_total AS value
FROM brands b
LEFT JOIN dream_main_category m ON m.brand = b.brand
LEFT JOIN totals t ON t.brand = b.brand
LEFT JOIN medians r ON r.category = m.category
"""
INDUSTRY_REFERENCE_SQL = f"""
SELECT b.brand, k.key, r.median_share AS numerator, r.norm AS denominator,
       CASE WHEN r.norm > 0 THEN r.median_share / r.norm END AS value
FROM brands b CROSS JOIN (SELECT unnest({_list(STAGES)}) AS key) k
LEFT JOIN dream_main_category m ON m.brand = b.brand
LEFT JOIN dream_reference r ON r.category = m.category AND r.stage = k.key
"""
CATEGORY_PEERS_SQL = """
SELECT m.brand, m.category AS key, r.brands AS value
FROM brands b
JOIN dream_main_category m ON m.brand = b.brand
JOIN (SELECT DISTINCT category, brands FROM dream_reference) r ON r.category = m.category
"""

# ---- the mind matrix ---------------------------------------------------------------------

DEEP_SHARE_SQL = f"""
SELECT b.brand, {
    _ratio(
        f"count(l.user_id) FILTER (WHERE l.stage IN ({', '.join(repr(s) for s in DEEP)}))",
        "count(l.user_id)",
    )
}
FROM brands b LEFT JOIN dream_mind l ON l.brand = b.brand AND l.days_before = 0
GROUP BY b.brand
"""
RETAIN_SHARE_SQL = f"""
SELECT b.brand, {
    _ratio(
        "count(l.user_id) FILTER (WHERE l.stage = 'Retain')",
        "count(l.user_id) FILTER (WHERE l.stage IN ('Purchase', 'Retain'))",
    )
}
FROM brands b LEFT JOIN dream_mind l ON l.brand = b.brand AND l.days_before = 0
GROUP BY b.brand
"""
MIND_MATRIX_SQL = f"""
WITH circles AS (
  SELECT DISTINCT coalesce(nullif(circle, ''), '{UNKNOWN_CIRCLE}') AS circle FROM users
  UNION SELECT '{UNKNOWN_CIRCLE}'
),
cells AS (
  SELECT l.brand, l.stage, coalesce(nullif(u.circle, ''), '{UNKNOWN_CIRCLE}') AS circle,
         count(*) AS users
  FROM dream_mind l LEFT JOIN users u ON u.user_id = l.user_id
  WHERE l.days_before = 0
  GROUP BY ALL
)
SELECT b.brand, k.stage || '|' || c.circle AS key, coalesce(x.users, 0) AS value
FROM brands b CROSS JOIN (SELECT unnest({_list(STAGES)}) AS stage) k CROSS JOIN circles c
LEFT JOIN cells x ON x.brand = b.brand AND x.stage = k.stage AND x.circle = c.circle
"""
CIRCLE_TGI_SQL = f"""
WITH known AS (SELECT user_id, circle FROM users WHERE nullif(circle, '') IS NOT NULL),
sizes AS (SELECT circle, count(*) AS users FROM known GROUP BY circle),
everyone AS (SELECT sum(users) AS users FROM sizes),
deep AS (
  SELECT l.brand, u.circle, count(*) AS users
  FROM dream_mind l JOIN known u ON u.user_id = l.user_id
  WHERE l.days_before = 0 AND l.stage IN ({", ".join(repr(s) for s in DEEP)})
  GROUP BY ALL
),
brand_deep AS (SELECT brand, sum(users) AS users FROM deep GROUP BY brand)
SELECT b.brand, s.circle AS key, coalesce(d.users, 0) AS numerator,
       coalesce(t.users, 0) AS denominator,
       CASE WHEN coalesce(t.users, 0) = 0 THEN NULL
            ELSE 100 * (coalesce(d.users, 0) / t.users) / (s.users / e.users) END AS value
FROM brands b CROSS JOIN sizes s CROSS JOIN everyone e
LEFT JOIN deep d ON d.brand = b.brand AND d.circle = s.circle
LEFT JOIN brand_deep t ON t.brand = b.brand
"""

# ---- flow, targets and replacement ---------------------------------------------------------

ADVANCED_USERS_SQL = f"""
SELECT brand, numerator AS value FROM ({deepening_sql(MIND, "$flow_period_days")})
"""
BUYERS_SQL = """
SELECT b.brand, count(DISTINCT e.user_id) AS value
FROM brands b LEFT JOIN events e ON e.brand = b.brand AND e.event_type = 'purchase'
  AND e.local_date > $as_of - $flow_period_days AND e.local_date <= $as_of
GROUP BY b.brand
"""


PURCHASE_ACHIEVEMENT_SQL = f"""
WITH chosen AS ({_chosen_target("dream.buyers")}),
actual AS (
  SELECT c.brand, count(DISTINCT e.user_id) AS buyers
  FROM chosen c JOIN events e ON e.brand = c.brand AND e.event_type = 'purchase'
    AND e.local_date >= c.period_start AND e.local_date <= c.period_end
  GROUP BY c.brand
)
SELECT b.brand, CASE WHEN c.brand IS NOT NULL THEN coalesce(a.buyers, 0) END AS numerator,
       c.target_value AS denominator,
       CASE WHEN c.target_value <> 0 THEN coalesce(a.buyers, 0) / c.target_value END AS value
FROM brands b LEFT JOIN chosen c ON c.brand = b.brand LEFT JOIN actual a ON a.brand = b.brand
"""


def _advanced_between(
    ctx: IndicatorContext, start: date, end: date, first: date | None
) -> dict[str, int]:
    """Users per brand with a stage on start - 1 and a higher one on end.

    Both days are usually snapshots of the mind ladder (``TARGET_DAYS_SQL`` chose them
    from the same targets), and their rows are read from its relation. When the ladder
    could not take them (more days than it takes), the ladder is compiled again with
    the period's two snapshots, as of its end, and run through ctx.query. ``first`` is
    the day before the first event, to which TARGET_DAYS_SQL moves earlier days.
    """
    floor = start if first is None else first  # as TARGET_DAYS_SQL moves the days
    before = start - timedelta(days=1) if start > floor else floor
    days = ((ctx.as_of - before).days, (ctx.as_of - max(end, floor)).days)
    if set(days) <= set(ctx.ladder_snapshots.get(MIND.name, ())):
        rows = ctx.query(
            """
SELECT brand, count(*) FROM (
  SELECT brand, user_id,
         max(stage_rank) FILTER (WHERE days_before = $days_before_start) AS r0,
         max(stage_rank) FILTER (WHERE days_before = $days_before_end) AS r1
  FROM dream_mind WHERE days_before IN ($days_before_start, $days_before_end)
  GROUP BY brand, user_id
) WHERE r0 > 0 AND r1 > r0 GROUP BY brand
""",
            days_before_start=days[0],
            days_before_end=days[1],
        )
        return {brand: n for brand, n in rows}
    span = (end - start).days + 1
    sql, binds = MIND.model_copy(update={"snapshots": (0, span)}).compile(ctx.params.model_dump())
    binds["as_of"] = end
    rows = ctx.query(
        f"""
WITH lad AS ({sql}),
pairs AS (
  SELECT brand, user_id, max(stage_rank) FILTER (WHERE days_before = {span}) AS r0,
         max(stage_rank) FILTER (WHERE days_before = 0) AS r1
  FROM lad GROUP BY brand, user_id
)
SELECT brand, count(*) FROM pairs WHERE r0 > 0 AND r1 > r0 GROUP BY brand
""",
        **binds,
    )
    return {brand: n for brand, n in rows}


def flow_achievement(ctx: IndicatorContext) -> list[Value]:
    """Users who advanced in the target period, over the dream.advanced_users target."""
    wanted = set(ctx.brands)
    chosen = {
        brand: (start, end, target)
        for brand, start, end, target in ctx.query(_chosen_target("dream.advanced_users"))
        if brand in wanted
    }
    first = ctx.query("SELECT min(local_date) - 1 FROM events")[0][0]  # the day before any
    actual = {
        period: _advanced_between(ctx, *period, first)
        for period in sorted({(start, end) for start, end, _ in chosen.values()})
    }
    values = []
    for brand in ctx.brands:
        if brand not in chosen:
            values.append(Value(brand=brand, value=None))
            continue
        start, end, target = chosen[brand]
        n = actual[(start, end)].get(brand, 0)
        value = None if target == 0 else n / target
        values.append(Value(brand=brand, value=value, numerator=n, denominator=target))
    return values


REPLACEMENT_DUE_SQL = """
WITH last AS (
  SELECT brand, user_id, max(local_date) AS last_day FROM events
  WHERE event_type = 'purchase' AND brand IS NOT NULL
    AND list_contains($durable_categories, category)
    AND local_date > $as_of - $replacement_horizon_days AND local_date <= $as_of
  GROUP BY brand, user_id
)
SELECT b.brand,
       count(l.user_id) FILTER (WHERE l.last_day <= $as_of - $replacement_cycle_days) AS value
FROM brands b LEFT JOIN last l ON l.brand = b.brand
GROUP BY b.brand
"""

NEEDS_CIRCLE = ("users.circle",)
NEEDS_TARGETS = ("targets.indicator",)

DREAM = Methodology(
    name="dream",
    title="JD Electronics DREAM (durable-goods mind matrix)",
    source="京东电器 × 京东数坊 DREAM (2022); see specs/dream.yaml",
    version="1.0.0",
    parameters=DreamParameters,
    # beside its ladder (added by brandlens): the replacement horizon
    history_days=lambda p: p.replacement_horizon_days,
    ladders=(MIND,),
    relations=(MAIN_CATEGORY, STRUCTURE, REFERENCE),
    indicators=(
        Indicator(id="dream.stage_users", sql=stage_counts_sql(MIND)),
        Indicator(id="dream.asset_total", sql=stage_total_sql(MIND)),
        Indicator(id="dream.deep_share", sql=DEEP_SHARE_SQL),
        Indicator(id="dream.retain_share", sql=RETAIN_SHARE_SQL),
        Indicator(id="dream.flow", sql=flow_sql(MIND, "$flow_period_days")),
        Indicator(id="dream.advance_rate", sql=deepening_sql(MIND, "$flow_period_days")),
        Indicator(id="dream.mind_matrix", sql=MIND_MATRIX_SQL, requires=NEEDS_CIRCLE),
        Indicator(id="dream.circle_tgi", sql=CIRCLE_TGI_SQL, requires=NEEDS_CIRCLE),
        Indicator(id="dream.structure", sql=STRUCTURE_SQL),
        Indicator(id="dream.structure_gap", sql=STRUCTURE_GAP_SQL),
        Indicator(id="dream.scale_index", sql=SCALE_INDEX_SQL),
        Indicator(id="dream.industry_reference", sql=INDUSTRY_REFERENCE_SQL),
        Indicator(id="dream.category_peers", sql=CATEGORY_PEERS_SQL),
        Indicator(id="dream.advanced_users", sql=ADVANCED_USERS_SQL),
        Indicator(id="dream.buyers", sql=BUYERS_SQL),
        Indicator(id="dream.flow_achievement", compute=flow_achievement, requires=NEEDS_TARGETS),
        Indicator(
            id="dream.purchase_achievement", sql=PURCHASE_ACHIEVEMENT_SQL, requires=NEEDS_TARGETS
        ),
        Indicator(id="dream.replacement_due", sql=REPLACEMENT_DUE_SQL),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(DREAM, spec=packaged_spec(__file__, "dream"))


@brandlens.hookimpl
def brandlens_report_sections(register):
    from brandlens_dream.report import sections

    register("dream", sections)
