"""JD GOAL (2020) on the JD 4A consumer-asset ladder, with CLV, as a brandlens plugin.

G Targeting Group (靶向人群, who buys me), O Osmosis (渗透增长, come buy me),
A Advancing (价值增长, buy more from me: predicted CLV), L Loyalty (忠诚增长, buy
only me). JD publishes no 4A windows: every default is an assumption mirroring
AIPL, stated in specs/goal.yaml. Uses only the public plugin API.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import brandlens
from brandlens.plugin import (
    EVENT_GROUPS,
    Condition,
    EntityTable,
    Evidence,
    Indicator,
    Methodology,
    Relation,
    Stage,
    StageLadder,
    deepening_sql,
    flow_sql,
    packaged_spec,
    stage_counts_sql,
    stage_total_sql,
    stage_users_sql,
)
from brandlens_goal.clv_indicators import (
    clv_distribution,
    clv_model,
    clv_per_customer,
    clv_total,
    high_value_share,
)


class GoalParameters(BaseModel):
    """Every number in the GOAL definitions; sources (mostly assumptions) in specs/goal.yaml."""

    model_config = {"extra": "forbid"}

    aware_window_days: int = Field(15, ge=1, le=3660, description="look-back of A1 Aware")
    appeal_window_days: int = Field(15, ge=1, le=3660, description="look-back of A2 Appeal")
    act_window_days: int = Field(365, ge=1, le=3660, description="look-back of A3 Act")
    advocate_window_days: int = Field(365, ge=1, le=3660, description="look-back of A4")
    positive_rating: int = Field(4, ge=1, le=5, description="lowest rating of a positive review")
    flow_period_days: int = Field(30, ge=1, le=366, description="period of flows and deepening")
    buyer_window_days: int = Field(365, ge=1, le=3660, description="window of 'buyers of b'")
    core_group_min_buyers: int = Field(30, ge=1, description="buyers a core group needs")
    core_groups: int = Field(3, ge=1, le=10, description="how many core groups")
    clv_history_days: int = Field(730, ge=28, le=3660, description="purchase history for CLV")
    clv_horizon_days: int = Field(365, ge=1, le=3660, description="CLV prediction horizon")
    clv_min_repeaters: int = Field(30, ge=1, description="repeat customers for a brand's own fit")
    high_value_quantile: float = Field(0.8, gt=0, lt=1, description="quantile of high CLV")


FOUR_A = StageLadder(
    title="JD 4A",
    name="four_a",
    snapshots=(0, "$flow_period_days"),
    # 4A: Aware, Appeal, Act (purchase), Advocate (repurchase, positive review, share)
    funnel={"reach": ("A1",), "engage": ("A2",), "buy": ("A3",), "loyal": ("A4",)},
    stages=(
        Stage(
            key="A1",
            title="Aware 认知",
            evidence=(
                Evidence(event_types=EVENT_GROUPS["exposure"], window_days="$aware_window_days"),
            ),
        ),
        Stage(
            key="A2",
            title="Appeal 吸引",
            evidence=(
                Evidence(
                    event_types=("ad_click", *EVENT_GROUPS["engagement"]),
                    window_days="$appeal_window_days",
                ),
                Evidence(
                    event_types=("search",),
                    window_days="$appeal_window_days",
                    where=(Condition(column="query_type", op="=", value="brand"),),
                ),
                Evidence(
                    event_types=("product_view",), window_days="$appeal_window_days", min_days=2
                ),
            ),
        ),
        Stage(
            key="A3",
            title="Act 行动",
            evidence=(
                Evidence(
                    event_types=("purchase", "review", "after_sales"),
                    window_days="$act_window_days",
                ),
            ),
        ),
        Stage(
            key="A4",
            title="Advocate 拥护",
            evidence=(
                Evidence(
                    event_types=("purchase",), window_days="$advocate_window_days", min_days=2
                ),
                Evidence(
                    event_types=("review",),
                    window_days="$advocate_window_days",
                    where=(Condition(column="rating", op=">=", value="$positive_rating"),),
                ),
                Evidence(event_types=("share",), window_days="$advocate_window_days"),
            ),
        ),
    ),
)

# (brand, user) with purchase days and net GMV (purchases minus refunds) in the buyer window,
# floored at 0 (a refund of an older purchase cannot make a buyer's spend negative), and
# the categories each brand sells in (a purchase in the window).
BUYERS = Relation(
    name="goal_buyers",
    sql="""
SELECT brand, user_id, count(DISTINCT local_date) FILTER (WHERE event_type = 'purchase') AS days,
       greatest(sum(CASE WHEN event_type = 'purchase' THEN amount ELSE -amount END), 0) AS gmv
FROM events
WHERE event_type IN ('purchase', 'refund') AND brand IS NOT NULL
  AND local_date > $as_of - $buyer_window_days AND local_date <= $as_of
GROUP BY brand, user_id
HAVING count(*) FILTER (WHERE event_type = 'purchase') > 0
""",
)
CATEGORY_SPEND = Relation(
    name="goal_category_spend",
    sql="""
SELECT brand, category, user_id,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
       greatest(sum(CASE WHEN event_type = 'purchase' THEN amount ELSE -amount END), 0) AS gmv
FROM events
WHERE event_type IN ('purchase', 'refund') AND brand IS NOT NULL AND category IS NOT NULL
  AND local_date > $as_of - $buyer_window_days AND local_date <= $as_of
GROUP BY brand, category, user_id
""",
)
BRAND_CATEGORIES = Relation(
    name="goal_brand_categories",
    depends_on=("goal_category_spend",),
    sql="SELECT DISTINCT brand, category FROM goal_category_spend WHERE purchases > 0",
)
GROUPED_BUYERS = Relation(
    name="goal_group_buyers",
    depends_on=("goal_buyers",),
    sql="""
WITH groups AS (SELECT target_group, count(*) AS users FROM users
                WHERE target_group IS NOT NULL GROUP BY target_group),
all_users AS (SELECT sum(users) AS n FROM groups),
bought AS (SELECT x.brand, u.target_group, count(*) AS buyers
           FROM goal_buyers x JOIN users u ON u.user_id = x.user_id
           WHERE u.target_group IS NOT NULL GROUP BY ALL),
brand_total AS (SELECT brand, sum(buyers) AS n FROM bought GROUP BY brand)
SELECT b.brand, g.target_group, g.users, a.n AS all_users,
       coalesce(x.buyers, 0) AS buyers, coalesce(t.n, 0) AS brand_buyers,
       CASE WHEN coalesce(t.n, 0) = 0 THEN NULL
            ELSE 100 * (coalesce(x.buyers, 0) / t.n) / (g.users / a.n) END AS tgi
FROM brands b CROSS JOIN groups g CROSS JOIN all_users a
LEFT JOIN bought x ON x.brand = b.brand AND x.target_group = g.target_group
LEFT JOIN brand_total t ON t.brand = b.brand
""",
)


def _ratio(num: str, den: str) -> str:
    return (
        f"{num} AS numerator, {den} AS denominator, "
        f"CASE WHEN {den} = 0 THEN NULL ELSE {num} / {den} END AS value"
    )


GROUP_PENETRATION = f"""
SELECT brand, target_group AS key, {_ratio("buyers", "users")} FROM goal_group_buyers
"""
GROUP_TGI = """
SELECT brand, target_group AS key, buyers AS numerator, brand_buyers AS denominator, tgi AS value
FROM goal_group_buyers
"""
CORE_GROUP_PENETRATION = f"""
WITH ranked AS (
  SELECT *, row_number() OVER (PARTITION BY brand ORDER BY tgi DESC, target_group) AS k
  FROM goal_group_buyers WHERE buyers >= $core_group_min_buyers
),
core AS (SELECT brand, sum(buyers) AS buyers, sum(users) AS users FROM ranked
         WHERE k <= $core_groups GROUP BY brand)
SELECT b.brand, {_ratio("coalesce(c.buyers, 0)", "coalesce(c.users, 0)")}
FROM brands b LEFT JOIN core c ON c.brand = b.brand
"""
PENETRATION = f"""
WITH category_buyers AS (
  SELECT DISTINCT c.brand, s.user_id
  FROM goal_brand_categories c JOIN goal_category_spend s ON s.category = c.category
  WHERE s.purchases > 0
),
counted AS (
  SELECT cb.brand, count(*) AS n, count(x.user_id) AS own
  FROM category_buyers cb
  LEFT JOIN goal_buyers x ON x.brand = cb.brand AND x.user_id = cb.user_id
  GROUP BY cb.brand
)
SELECT b.brand, {_ratio("coalesce(c.own, 0)", "coalesce(c.n, 0)")}
FROM brands b LEFT JOIN counted c ON c.brand = b.brand
"""
CONVERSION = f"""
WITH s0 AS (SELECT brand, user_id FROM four_a WHERE days_before = $flow_period_days
            AND stage IN ('A1', 'A2')),
s1 AS (SELECT brand, user_id FROM four_a WHERE days_before = 0 AND stage IN ('A3', 'A4')),
pairs AS (SELECT s0.brand, s0.user_id, s1.user_id IS NOT NULL AS converted
          FROM s0 LEFT JOIN s1 ON s1.brand = s0.brand AND s1.user_id = s0.user_id)
SELECT b.brand, {_ratio("count(p.user_id) FILTER (WHERE p.converted)", "count(p.user_id)")}
FROM brands b LEFT JOIN pairs p ON p.brand = b.brand GROUP BY b.brand
"""
ARPU = """
SELECT b.brand, CASE WHEN count(x.user_id) = 0 THEN NULL
                     ELSE CAST(sum(x.gmv) AS DOUBLE) / count(x.user_id) END AS value,
       coalesce(sum(x.gmv), 0) AS numerator, count(x.user_id) AS denominator
FROM brands b LEFT JOIN goal_buyers x ON x.brand = b.brand GROUP BY b.brand
"""
REPURCHASE = f"""
SELECT b.brand, {_ratio("count(x.user_id) FILTER (WHERE x.days >= 2)", "count(x.user_id)")}
FROM brands b LEFT JOIN goal_buyers x ON x.brand = b.brand GROUP BY b.brand
"""
MEMBER_SHARE = f"""
SELECT b.brand, {_ratio("count(m.user_id)", "count(x.user_id)")}
FROM brands b LEFT JOIN goal_buyers x ON x.brand = b.brand
LEFT JOIN members m ON m.brand = x.brand AND m.user_id = x.user_id
GROUP BY b.brand
"""
SHARE_OF_WALLET = f"""
WITH own AS (
  SELECT s.brand, s.user_id, sum(s.gmv) AS gmv FROM goal_category_spend s
  JOIN goal_brand_categories c ON c.brand = s.brand AND c.category = s.category
  JOIN goal_buyers x ON x.brand = s.brand AND x.user_id = s.user_id
  GROUP BY s.brand, s.user_id
),
wallet AS (
  SELECT c.brand, x.user_id, sum(s.gmv) AS gmv
  FROM goal_brand_categories c
  JOIN goal_category_spend s ON s.category = c.category
  JOIN goal_buyers x ON x.brand = c.brand AND x.user_id = s.user_id
  GROUP BY c.brand, x.user_id
),
totals AS (
  SELECT w.brand, sum(coalesce(o.gmv, 0)) AS own, sum(w.gmv) AS wallet
  FROM wallet w LEFT JOIN own o ON o.brand = w.brand AND o.user_id = w.user_id
  GROUP BY w.brand
)
SELECT b.brand, {
    _ratio("CAST(coalesce(t.own, 0) AS DOUBLE)", "CAST(coalesce(t.wallet, 0) AS DOUBLE)")
}
FROM brands b LEFT JOIN totals t ON t.brand = b.brand
"""
EXCLUSIVE = f"""
WITH others AS (
  SELECT DISTINCT c.brand, s.user_id
  FROM goal_brand_categories c
  JOIN goal_category_spend s ON s.category = c.category AND s.brand <> c.brand
  WHERE s.purchases > 0
)
SELECT b.brand, {_ratio("count(x.user_id) FILTER (WHERE o.user_id IS NULL)", "count(x.user_id)")}
FROM brands b LEFT JOIN goal_buyers x ON x.brand = b.brand
LEFT JOIN others o ON o.brand = x.brand AND o.user_id = x.user_id
GROUP BY b.brand
"""
ADVOCATE_SHARE = f"""
SELECT b.brand, {_ratio("count(l.user_id) FILTER (WHERE l.stage = 'A4')", "count(l.user_id)")}
FROM brands b LEFT JOIN four_a l ON l.brand = b.brand AND l.days_before = 0
GROUP BY b.brand
"""

NEEDS_GROUPS = ("users.target_group",)

GOAL = Methodology(
    name="goal",
    title="JD GOAL (on JD 4A, with CLV)",
    source="JD 京东营销360 GOAL (2020) and 数坊 4A; see specs/goal.yaml",
    version="1.0.0",
    parameters=GoalParameters,
    # beside its ladder (added by brandlens): the buyer window and the CLV history
    history_days=lambda p: max(p.buyer_window_days, p.clv_history_days),
    ladders=(FOUR_A,),
    entities=(
        EntityTable(
            name="users",
            title="Users per 4A stage (an audience export)",
            key=("user_id",),
            sql=stage_users_sql(FOUR_A),
            order_by=("stage_rank DESC",),
            description="every user with a stage for the brand as of d, highest stage first",
        ),
    ),
    relations=(BUYERS, CATEGORY_SPEND, BRAND_CATEGORIES, GROUPED_BUYERS),
    indicators=(
        Indicator(id="goal.4a_users", sql=stage_counts_sql(FOUR_A)),
        Indicator(id="goal.asset_total", sql=stage_total_sql(FOUR_A)),
        Indicator(id="goal.flow", sql=flow_sql(FOUR_A, "$flow_period_days")),
        Indicator(id="goal.group_penetration", sql=GROUP_PENETRATION, requires=NEEDS_GROUPS),
        Indicator(id="goal.group_tgi", sql=GROUP_TGI, requires=NEEDS_GROUPS),
        Indicator(
            id="goal.core_group_penetration", sql=CORE_GROUP_PENETRATION, requires=NEEDS_GROUPS
        ),
        Indicator(id="goal.penetration", sql=PENETRATION),
        Indicator(id="goal.deepening_rate", sql=deepening_sql(FOUR_A, "$flow_period_days")),
        Indicator(id="goal.conversion_rate", sql=CONVERSION),
        Indicator(id="goal.clv_total", compute=clv_total),
        Indicator(id="goal.clv_per_customer", compute=clv_per_customer),
        Indicator(id="goal.clv_distribution", compute=clv_distribution),
        Indicator(id="goal.high_value_share", compute=high_value_share),
        Indicator(id="goal.arpu", sql=ARPU),
        Indicator(id="goal.clv_model", compute=clv_model),
        Indicator(id="goal.repurchase_rate", sql=REPURCHASE),
        Indicator(id="goal.member_share", sql=MEMBER_SHARE),
        Indicator(id="goal.share_of_wallet", sql=SHARE_OF_WALLET),
        Indicator(id="goal.exclusive_rate", sql=EXCLUSIVE),
        Indicator(id="goal.advocate_share", sql=ADVOCATE_SHARE),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(GOAL, spec=packaged_spec(__file__, "goal"))


@brandlens.hookimpl
def brandlens_report_sections(register):
    from brandlens_goal.report import sections

    register("goal", sections)
