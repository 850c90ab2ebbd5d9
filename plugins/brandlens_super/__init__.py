"""SUPER product lifecycle (Tmall 2021) as a brandlens plugin.

Tmall's 2021 enterprise-operation methodology (with Accenture) manages each product's
lifecycle beside the consumer assets of FAST and GROW. The expansion of the letters
S-U-P-E-R is not public, so nothing here names them. The stage rules (Exit, Hit, New,
Growth, Decline, Mature; the first that holds wins) and every parameter default are
brandlens' own, marked as assumptions in specs/super.yaml and explained in
docs/methodologies/super.md. Uses only the public plugin API.

Exact arithmetic: GMV sums stay DECIMAL and the two shares (hit_top_share,
growth_threshold) are compared as DECIMAL(9, 6), so "exactly +20%" and "ceil(10% × 30)"
are decided without binary rounding, and every stage is unchanged when all amounts are
multiplied by the same k.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

import brandlens
from brandlens.plugin import EntityTable, Indicator, Methodology, Relation, packaged_spec

STAGES = ("Exit", "Hit", "New", "Growth", "Decline", "Mature")
VITAL = ("New", "Growth", "Hit")
UNCATEGORISED = "(uncategorised)"
FLOW_KEYS = tuple(f"none>{y}" for y in STAGES) + tuple(f"{x}>{y}" for x in STAGES for y in STAGES)


class SuperParameters(BaseModel):
    """Every number in the stage rules and indicators; sources in specs/super.yaml."""

    model_config = {"extra": "forbid"}

    recent_days: int = Field(28, ge=1, le=366, description="window of recent (and previous) GMV")
    exit_days: int = Field(60, ge=1, le=3660, description="no purchase for this long: Exit")
    hit_top_share: float = Field(
        0.1, gt=0, le=1, description="share of a category's selling products that are Hits"
    )
    new_days: int = Field(90, ge=1, le=3660, description="launched within this many days: New")
    growth_threshold: float = Field(
        0.2, ge=0, lt=1, description="relative GMV change that makes Growth or Decline"
    )
    history_weeks: int = Field(52, ge=1, le=520, description="weekly snapshots in the history")
    flow_period_days: int = Field(28, ge=1, le=3660, description="period of the stage flow")
    quality_window_days: int = Field(90, ge=1, le=3660, description="window of the refund rate")
    rating_window_days: int = Field(365, ge=1, le=3660, description="window of the rating")

    @field_validator("hit_top_share", "growth_threshold")
    @classmethod
    def _six_places(cls, v: float) -> float:
        """Compared as DECIMAL(9, 6) in SQL: more places would be rounded silently."""
        if round(v, 6) != v:
            raise ValueError("at most 6 decimal places")
        return v


# Events older than this many days before as_of are never read: the oldest snapshot
# (the history or the flow's start) plus the longest look-back a stage rule takes there.
# A launch inferred on the horizon's first day means "then or earlier", which classifies
# exactly like any earlier launch (New needs < new_days, Exit > exit_days since launch).
HORIZON = (
    "(greatest(7 * ($history_weeks - 1), $flow_period_days)"
    " + greatest($new_days + 1, $exit_days + 2, 2 * $recent_days))"
)
IN_HORIZON = f"local_date <= CAST($as_of AS DATE) AND local_date > CAST($as_of AS DATE) - {HORIZON}"

# One row per product of a brand known as of as_of: a (brand, product_id) with an event
# in the horizon, or a products row of that brand launched by as_of, numbered (pkey) so
# the larger relations carry one integer instead of two strings. The products row
# (same id, same or no brand) gives launch date and category; otherwise the launch is the
# first event in the horizon and the category the product's most frequent one.
PRODUCTS = Relation(
    name="super_products",
    sql=f"""
WITH ev AS (
  SELECT brand, product_id, category, local_date FROM events
  WHERE brand IS NOT NULL AND product_id IS NOT NULL AND {IN_HORIZON}
),
seen AS (SELECT brand, product_id, min(local_date) AS first_event FROM ev GROUP BY ALL),
cats AS (
  SELECT brand, product_id, category,
         row_number() OVER (PARTITION BY brand, product_id ORDER BY count(*) DESC, category) AS rn
  FROM ev WHERE category IS NOT NULL GROUP BY brand, product_id, category
),
known AS (
  SELECT brand, product_id FROM seen
  UNION
  SELECT brand, product_id FROM products
  WHERE brand IS NOT NULL AND launch_date <= CAST($as_of AS DATE)
)
SELECT CAST(row_number() OVER (ORDER BY k.brand, k.product_id) AS INTEGER) AS pkey,
       k.brand, k.product_id,
       coalesce(p.category, c.category, '{UNCATEGORISED}') AS category,
       coalesce(p.launch_date, s.first_event) AS launch_date,
       CASE WHEN p.launch_date IS NOT NULL THEN 'products'
            WHEN s.first_event = CAST($as_of AS DATE) - {HORIZON} + 1 THEN 'horizon'
            ELSE 'first event' END AS launch_source,
       least(s.first_event, CASE WHEN p.brand = k.brand THEN p.launch_date END) AS known_from
FROM known k
LEFT JOIN seen s ON s.brand = k.brand AND s.product_id = k.product_id
LEFT JOIN cats c ON c.brand = k.brand AND c.product_id = k.product_id AND c.rn = 1
LEFT JOIN products p
  ON p.product_id = k.product_id AND (p.brand = k.brand OR p.brand IS NULL)
""",
)

# Purchases per product and local date in the horizon: gross GMV (refunds not subtracted).
DAILY = Relation(
    name="super_daily",
    depends_on=("super_products",),
    sql=f"""
WITH days AS (
  SELECT brand, product_id, local_date, count(*) AS purchases, sum(amount) AS gmv
  FROM events
  WHERE event_type = 'purchase' AND brand IS NOT NULL AND product_id IS NOT NULL
    AND {IN_HORIZON}
  GROUP BY ALL
)
SELECT p.pkey, d.local_date, d.purchases, d.gmv
FROM days d JOIN super_products p ON p.brand = d.brand AND p.product_id = d.product_id
""",
)

# The snapshots: weekly (d, d - 7, ..., d - 7 (history_weeks - 1)) plus the flow's start.
SNAPSHOTS = Relation(
    name="super_snapshots",
    sql="""
SELECT days_before, CAST($as_of AS DATE) - days_before AS snapshot_date, bool_or(weekly) AS weekly
FROM (
  SELECT CAST(unnest(range(0, 7 * $history_weeks, 7)) AS INTEGER) AS days_before, true AS weekly
  UNION ALL
  SELECT CAST($flow_period_days AS INTEGER), false
)
GROUP BY days_before
""",
)

# The Hit history: every (snapshot, product) with recent GMV > 0, ranked in its category
# among every brand's selling products. Only selling products can be Hits, so this is
# all the weekly history needs; each purchase day joins only the snapshots whose recent
# window holds it. Hit also needs "not Exit" (rule 1 comes first): with recent sales
# there is a purchase in the exit window unless exit_days < recent_days, counted here.
SALES = Relation(
    name="super_sales",
    depends_on=("super_snapshots", "super_products", "super_daily"),
    sql="""
WITH windows AS (
  SELECT s.days_before, s.snapshot_date, s.weekly, d.pkey, sum(d.gmv) AS recent,
         sum(d.purchases) FILTER (WHERE d.local_date > s.snapshot_date - $exit_days)
           AS exit_purchases
  FROM super_daily d JOIN super_snapshots s
    ON d.local_date <= s.snapshot_date AND d.local_date > s.snapshot_date - $recent_days
  GROUP BY s.days_before, s.snapshot_date, s.weekly, d.pkey
  HAVING sum(d.gmv) > 0
),
ranked AS (
  SELECT w.*, p.launch_date,
         rank() OVER (PARTITION BY w.days_before, p.category ORDER BY w.recent DESC)
           AS category_rank,
         count(*) OVER (PARTITION BY w.days_before, p.category) AS category_selling
  FROM windows w JOIN super_products p ON p.pkey = w.pkey
)
SELECT days_before, snapshot_date, weekly, pkey, recent, category_rank, category_selling,
       category_rank <= ceil(CAST($hit_top_share AS DECIMAL(9, 6)) * category_selling)
       AND NOT (snapshot_date - launch_date > $exit_days AND coalesce(exit_purchases, 0) = 0)
         AS hit
FROM ranked
""",
)

# Every product's stage at d and at d - flow_period_days: the first rule that holds.
STAGES_SQL = """
WITH snaps AS (
  SELECT days_before, snapshot_date FROM super_snapshots
  WHERE days_before = 0 OR days_before = $flow_period_days
),
base AS (
  SELECT s.days_before, s.snapshot_date, p.pkey, p.brand, p.product_id, p.category,
         p.launch_date
  FROM snaps s JOIN super_products p ON p.known_from <= s.snapshot_date
),
windows AS (
  SELECT s.days_before, d.pkey,
         sum(d.gmv) FILTER (WHERE d.local_date > s.snapshot_date - $recent_days) AS recent,
         sum(d.gmv) FILTER (WHERE d.local_date <= s.snapshot_date - $recent_days
                              AND d.local_date > s.snapshot_date - 2 * $recent_days) AS previous,
         sum(d.purchases) FILTER (WHERE d.local_date > s.snapshot_date - $exit_days) AS purchases
  FROM super_daily d JOIN snaps s
    ON d.local_date <= s.snapshot_date
   AND d.local_date > s.snapshot_date - greatest(2 * $recent_days, $exit_days)
  GROUP BY s.days_before, d.pkey
),
selling AS (
  SELECT h.days_before, p.category, count(*) AS n
  FROM super_sales h JOIN super_products p ON p.pkey = h.pkey
  WHERE h.days_before = 0 OR h.days_before = $flow_period_days
  GROUP BY h.days_before, p.category
),
measured AS (
  SELECT b.*,
         coalesce(w.recent, 0) AS recent_gmv,
         coalesce(w.previous, 0) AS previous_gmv,
         coalesce(w.purchases, 0) AS exit_window_purchases,
         h.category_rank, coalesce(c.n, 0) AS category_selling, coalesce(h.hit, false) AS hit
  FROM base b
  LEFT JOIN windows w ON w.days_before = b.days_before AND w.pkey = b.pkey
  LEFT JOIN super_sales h ON h.days_before = b.days_before AND h.pkey = b.pkey
  LEFT JOIN selling c ON c.days_before = b.days_before AND c.category = b.category
)
SELECT days_before, snapshot_date, pkey, brand, product_id, category, launch_date,
       recent_gmv, previous_gmv, category_rank, category_selling,
       CASE
         WHEN snapshot_date - launch_date > $exit_days AND exit_window_purchases = 0 THEN 'Exit'
         WHEN hit THEN 'Hit'
         WHEN snapshot_date - launch_date < $new_days THEN 'New'
         WHEN recent_gmv > 0
          AND recent_gmv >= (1 + CAST($growth_threshold AS DECIMAL(9, 6))) * previous_gmv
           THEN 'Growth'
         WHEN recent_gmv <= (1 - CAST($growth_threshold AS DECIMAL(9, 6))) * previous_gmv
           THEN 'Decline'
         ELSE 'Mature'
       END AS stage
FROM measured
"""

STAGE_NOW_AND_THEN = Relation(
    name="super_stages",
    depends_on=("super_snapshots", "super_products", "super_daily", "super_sales"),
    sql=STAGES_SQL,
)

# Per product: weekly snapshots in Hit, the first one, and whether the oldest was one.
HITS = Relation(
    name="super_hits",
    depends_on=("super_snapshots", "super_products", "super_sales"),
    sql="""
WITH oldest AS (SELECT max(days_before) AS days_before FROM super_snapshots WHERE weekly)
SELECT p.brand, p.product_id, p.launch_date, count(*) AS weeks,
       min(h.snapshot_date) AS first_hit, bool_or(h.days_before = o.days_before) AS hit_at_oldest
FROM super_sales h
JOIN super_products p ON p.pkey = h.pkey
CROSS JOIN oldest o
WHERE h.weekly AND h.hit
GROUP BY p.brand, p.product_id, p.launch_date
""",
)


def _keys(keys: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{k}'" for k in keys) + "]"


def _share(numerator: str, denominator: str) -> str:
    """numerator, denominator and value columns of a ratio; null when nothing to share."""
    return (
        f"coalesce({numerator}, 0) AS numerator, coalesce({denominator}, 0) AS denominator, "
        f"CASE WHEN coalesce({denominator}, 0) = 0 THEN NULL "
        f"ELSE coalesce({numerator}, 0) / {denominator} END AS value"
    )


PRODUCTS_BY_STAGE = f"""
SELECT b.brand, k.key, count(s.product_id) AS value
FROM brands b
CROSS JOIN (SELECT unnest({_keys(STAGES)}) AS key) k
LEFT JOIN super_stages s ON s.brand = b.brand AND s.stage = k.key AND s.days_before = 0
GROUP BY b.brand, k.key
"""

PRODUCT_COUNT = """
SELECT b.brand, count(s.product_id) AS value
FROM brands b LEFT JOIN super_stages s ON s.brand = b.brand AND s.days_before = 0
GROUP BY b.brand
"""

HIT_COUNT = """
SELECT b.brand, count(s.product_id) AS value
FROM brands b
LEFT JOIN super_stages s ON s.brand = b.brand AND s.days_before = 0 AND s.stage = 'Hit'
GROUP BY b.brand
"""

GMV_SHARE_BY_STAGE = f"""
WITH totals AS (
  SELECT brand, sum(recent_gmv) AS gmv FROM super_stages WHERE days_before = 0 GROUP BY brand
),
per AS (
  SELECT brand, stage, sum(recent_gmv) AS gmv FROM super_stages
  WHERE days_before = 0 GROUP BY brand, stage
)
SELECT b.brand, k.key, {_share("p.gmv", "t.gmv")}
FROM brands b
CROSS JOIN (SELECT unnest({_keys(STAGES)}) AS key) k
LEFT JOIN totals t ON t.brand = b.brand
LEFT JOIN per p ON p.brand = b.brand AND p.stage = k.key
"""

VITALITY = f"""
WITH totals AS (
  SELECT brand, sum(recent_gmv) AS gmv,
         sum(recent_gmv) FILTER (WHERE list_contains({_keys(VITAL)}, stage)) AS vital
  FROM super_stages WHERE days_before = 0 GROUP BY brand
)
SELECT b.brand, {_share("t.vital", "t.gmv")}
FROM brands b LEFT JOIN totals t ON t.brand = b.brand
"""

TOP3_SHARE = f"""
WITH ranked AS (
  SELECT brand, recent_gmv,
         row_number() OVER (PARTITION BY brand ORDER BY recent_gmv DESC, product_id) AS rn
  FROM super_stages WHERE days_before = 0
),
totals AS (
  SELECT brand, sum(recent_gmv) AS gmv, sum(recent_gmv) FILTER (WHERE rn <= 3) AS top3
  FROM ranked GROUP BY brand
)
SELECT b.brand, {_share("t.top3", "t.gmv")}
FROM brands b LEFT JOIN totals t ON t.brand = b.brand
"""

# New products: launched within new_days of as_of (as_of - launch < new_days).
NEW_PRODUCT_GMV_SHARE = f"""
WITH sales AS (
  SELECT p.brand, sum(d.gmv) AS gmv,
         sum(d.gmv) FILTER (WHERE CAST($as_of AS DATE) - p.launch_date < $new_days) AS new_gmv
  FROM super_daily d JOIN super_products p ON p.pkey = d.pkey
  WHERE d.local_date > CAST($as_of AS DATE) - $new_days
  GROUP BY p.brand
)
SELECT b.brand, {_share("s.new_gmv", "s.gmv")}
FROM brands b LEFT JOIN sales s ON s.brand = b.brand
"""

NEW_PRODUCT_PENETRATION = f"""
WITH buys AS (
  SELECT e.brand, e.user_id,
         bool_or(CAST($as_of AS DATE) - p.launch_date < $new_days) AS bought_new
  FROM events e
  JOIN super_products p ON p.brand = e.brand AND p.product_id = e.product_id
  WHERE e.event_type = 'purchase'
    AND e.local_date > CAST($as_of AS DATE) - $new_days AND e.local_date <= CAST($as_of AS DATE)
  GROUP BY e.brand, e.user_id
),
counts AS (
  SELECT brand, count(*) AS buyers, count(*) FILTER (WHERE bought_new) AS new_buyers
  FROM buys GROUP BY brand
)
SELECT b.brand, {_share("c.new_buyers", "c.buyers")}
FROM brands b LEFT JOIN counts c ON c.brand = b.brand
"""

# A product's first Hit is observed only if it was not a Hit at the oldest weekly
# snapshot already (else it may have been one before the history began).
TIME_TO_HIT = """
SELECT b.brand, median(h.first_hit - h.launch_date) AS value
FROM brands b LEFT JOIN super_hits h ON h.brand = b.brand AND NOT h.hit_at_oldest
GROUP BY b.brand
"""

HIT_LONGEVITY = """
SELECT b.brand, median(h.weeks) AS value
FROM brands b LEFT JOIN super_hits h ON h.brand = b.brand
GROUP BY b.brand
"""

PRODUCT_FLOW = f"""
WITH now AS (SELECT pkey, brand, stage FROM super_stages WHERE days_before = 0),
then_ AS (SELECT pkey, stage FROM super_stages WHERE days_before = $flow_period_days),
pairs AS (
  SELECT n.brand, coalesce(t.stage, 'none') || '>' || n.stage AS key
  FROM now n LEFT JOIN then_ t ON t.pkey = n.pkey
)
SELECT b.brand, k.key, count(p.key) AS value
FROM brands b
CROSS JOIN (SELECT unnest({_keys(FLOW_KEYS)}) AS key) k
LEFT JOIN pairs p ON p.brand = b.brand AND p.key = k.key
GROUP BY b.brand, k.key
"""

# Brand-level quality: every purchase, refund and review of the brand, with or without
# a product id.
REFUND_RATE = f"""
WITH w AS (
  SELECT brand,
         sum(amount) FILTER (WHERE event_type = 'refund') AS refunds,
         sum(amount) FILTER (WHERE event_type = 'purchase') AS purchases
  FROM events
  WHERE event_type IN ('purchase', 'refund') AND brand IS NOT NULL
    AND local_date > CAST($as_of AS DATE) - $quality_window_days
    AND local_date <= CAST($as_of AS DATE)
  GROUP BY brand
)
SELECT b.brand, {_share("w.refunds", "w.purchases")}
FROM brands b LEFT JOIN w ON w.brand = b.brand
"""

AVG_RATING = """
SELECT b.brand, avg(e.rating) AS value
FROM brands b
LEFT JOIN events e
  ON e.brand = b.brand AND e.event_type = 'review'
 AND e.local_date > CAST($as_of AS DATE) - $rating_window_days
 AND e.local_date <= CAST($as_of AS DATE)
GROUP BY b.brand
"""

# The drill-down: every product of a brand with its stage and what decided it.
PRODUCT_LISTING = """
WITH now AS (SELECT * FROM super_stages WHERE days_before = 0),
then_ AS (SELECT pkey, stage FROM super_stages WHERE days_before = $flow_period_days)
SELECT n.brand, n.product_id, n.category, n.launch_date, p.launch_source, n.stage,
       n.recent_gmv, n.previous_gmv,
       CASE WHEN n.previous_gmv = 0 THEN NULL
            ELSE n.recent_gmv / n.previous_gmv - 1 END AS growth,
       n.category_rank, n.category_selling,
       coalesce(t.stage, 'none') AS stage_before,
       coalesce(h.weeks, 0) AS hit_weeks
FROM now n
JOIN super_products p ON p.pkey = n.pkey
LEFT JOIN then_ t ON t.pkey = n.pkey
LEFT JOIN super_hits h ON h.brand = n.brand AND h.product_id = n.product_id
"""

SUPER = Methodology(
    name="super",
    title="SUPER product lifecycle (Tmall 2021)",
    source="Tmall x Accenture enterprise-operation methodology (2021); stage rules by "
    "brandlens, see specs/super.yaml",
    version="1.0.0",
    parameters=SuperParameters,
    # the horizon (the oldest snapshot plus a stage rule's look-back there), and the
    # quality and rating windows
    history_days=lambda p: max(
        max(7 * (p.history_weeks - 1), p.flow_period_days)
        + max(p.new_days + 1, p.exit_days + 2, 2 * p.recent_days),
        p.quality_window_days,
        p.rating_window_days,
    ),
    relations=(PRODUCTS, DAILY, SNAPSHOTS, SALES, STAGE_NOW_AND_THEN, HITS),
    indicators=(
        Indicator(id="super.products", sql=PRODUCTS_BY_STAGE),
        Indicator(id="super.product_count", sql=PRODUCT_COUNT),
        Indicator(id="super.gmv_share_by_stage", sql=GMV_SHARE_BY_STAGE),
        Indicator(id="super.new_product_gmv_share", sql=NEW_PRODUCT_GMV_SHARE),
        Indicator(id="super.new_product_penetration", sql=NEW_PRODUCT_PENETRATION),
        Indicator(id="super.vitality", sql=VITALITY),
        Indicator(id="super.hit_count", sql=HIT_COUNT),
        Indicator(id="super.top3_share", sql=TOP3_SHARE),
        Indicator(id="super.time_to_hit_days", sql=TIME_TO_HIT),
        Indicator(id="super.hit_longevity_weeks", sql=HIT_LONGEVITY),
        Indicator(id="super.product_flow", sql=PRODUCT_FLOW),
        Indicator(id="super.refund_rate", sql=REFUND_RATE),
        Indicator(id="super.avg_rating", sql=AVG_RATING),
    ),
    entities=(
        EntityTable(
            name="products",
            title="Products with their lifecycle stage",
            key=("product_id",),
            sql=PRODUCT_LISTING,
            order_by=("recent_gmv DESC",),
            description=(
                "every product of the brand as of d: stage, launch date, recent and previous "
                "GMV, growth, rank among the category's selling products, stage at "
                "d - flow_period_days, weekly snapshots in Hit"
            ),
        ),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(SUPER, spec=packaged_spec(__file__, "super"))


@brandlens.hookimpl
def brandlens_report_sections(register):
    from brandlens_super.report import sections

    register("super", sections)
