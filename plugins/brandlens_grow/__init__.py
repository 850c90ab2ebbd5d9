"""Tmall GROW (2019, Tmall FMCG x BCG) as an exact, additive LMDI decomposition.

A brand's gross GMV change between two periods is split into G Gain (more
buyers), R Retain (more purchase days per buyer), O bOost (more value per
purchase day) over its continuing categories, W Widen (categories new to it)
and Lost (categories it no longer sells in): GMV1 - GMV0 = G + R + O + W + Lost.
Tmall publishes no formula; this decomposition is brandlens' own (see
specs/grow.yaml and docs/methodologies/grow.md). Uses only the public plugin API.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import brandlens
from brandlens.plugin import Indicator, Methodology, Relation, packaged_spec

UNCATEGORISED = "(uncategorised)"


class GrowParameters(BaseModel):
    model_config = {"extra": "forbid"}

    period_days: int = Field(
        365, ge=1, le=1830, description="length of the current and the base period"
    )


# The purchase days: one row per brand, category, user and local date in P0 or P1
# (period 1 = the period_days ending at as_of, 0 = the period_days before), with its
# gross GMV (refunds excluded). Every count below reads this one definition.
DAYS = Relation(
    name="grow_days",
    sql=f"""
SELECT brand, coalesce(category, '{UNCATEGORISED}') AS category, user_id, local_date,
       CASE WHEN local_date > $as_of - $period_days THEN 1 ELSE 0 END AS period,
       sum(amount) AS gmv
FROM events
WHERE event_type = 'purchase' AND brand IS NOT NULL
  AND local_date <= $as_of AND local_date > $as_of - 2 * $period_days
GROUP BY ALL
""",
)

# Per brand, category and period: buyers N, purchase days T (distinct user x local date)
# and gross GMV.
CELLS = Relation(
    name="grow_cells",
    depends_on=("grow_days",),
    sql="""
SELECT brand, category, period, count(DISTINCT user_id) AS n, count(*) AS t, sum(gmv) AS gmv
FROM grow_days GROUP BY ALL
""",
)

# Per brand and category: the LMDI terms. A category is continuing when it has GMV in
# both periods, new when only in P1, dropped when only in P0.
TERMS = Relation(
    name="grow_terms",
    depends_on=("grow_cells",),
    sql="""
WITH wide AS (
  SELECT brand, category,
         coalesce(max(n) FILTER (WHERE period = 0), 0) AS n0,
         coalesce(max(t) FILTER (WHERE period = 0), 0) AS t0,
         coalesce(max(gmv) FILTER (WHERE period = 0), 0) AS g0,
         coalesce(max(n) FILTER (WHERE period = 1), 0) AS n1,
         coalesce(max(t) FILTER (WHERE period = 1), 0) AS t1,
         coalesce(max(gmv) FILTER (WHERE period = 1), 0) AS g1
  FROM grow_cells GROUP BY brand, category
),
typed AS (
  SELECT *, CAST(g0 AS DOUBLE) AS x0, CAST(g1 AS DOUBLE) AS x1,
         CASE WHEN g0 > 0 AND g1 > 0 THEN 'continuing'
              WHEN g1 > 0 THEN 'new' WHEN g0 > 0 THEN 'dropped' END AS kind
  FROM wide
),
lmdi AS (
  SELECT *, CASE WHEN kind <> 'continuing' THEN NULL
                 WHEN x1 = x0 THEN x1
                 ELSE (x1 - x0) / (ln(x1) - ln(x0)) END AS lm
  FROM typed
)
SELECT brand, category, kind, n0, t0, g0, n1, t1, g1,
       CASE WHEN kind = 'continuing' THEN lm * ln(n1 / n0) ELSE 0 END AS g_term,
       CASE WHEN kind = 'continuing' THEN lm * ln((t1 / n1) / (t0 / n0)) ELSE 0 END AS r_term,
       CASE WHEN kind = 'continuing' THEN lm * ln((x1 / t1) / (x0 / t0)) ELSE 0 END AS o_term,
       CASE WHEN kind = 'new' THEN x1 ELSE 0 END AS w_term,
       CASE WHEN kind = 'dropped' THEN -x0 ELSE 0 END AS lost_term
FROM lmdi WHERE kind IS NOT NULL
""",
)


def _total(term: str) -> str:
    """Σ over a brand's categories (ordered, so floating-point sums are reproducible)."""
    return f"""
SELECT b.brand, coalesce(sum(t.{term} ORDER BY t.category), 0) AS value
FROM brands b LEFT JOIN grow_terms t ON t.brand = b.brand
GROUP BY b.brand
"""


GMV_CHANGE = """
SELECT b.brand,
       coalesce(CAST(sum(c.gmv) FILTER (WHERE c.period = 1) AS DOUBLE), 0)
       - coalesce(CAST(sum(c.gmv) FILTER (WHERE c.period = 0) AS DOUBLE), 0) AS value
FROM brands b LEFT JOIN grow_cells c ON c.brand = b.brand
GROUP BY b.brand
"""

DRIVER_SHARE = """
WITH totals AS (
  SELECT b.brand,
         coalesce(sum(t.g_term ORDER BY t.category), 0) AS g,
         coalesce(sum(t.r_term ORDER BY t.category), 0) AS r,
         coalesce(sum(t.o_term ORDER BY t.category), 0) AS o
  FROM brands b LEFT JOIN grow_terms t ON t.brand = b.brand GROUP BY b.brand
),
keyed AS (
  SELECT brand, 'G' AS key, abs(g) AS x, abs(g) + abs(r) + abs(o) AS s FROM totals
  UNION ALL SELECT brand, 'R', abs(r), abs(g) + abs(r) + abs(o) FROM totals
  UNION ALL SELECT brand, 'O', abs(o), abs(g) + abs(r) + abs(o) FROM totals
)
SELECT brand, key, x AS numerator, s AS denominator,
       CASE WHEN s = 0 THEN NULL ELSE x / s END AS value
FROM keyed
"""

CONTRIBUTION = """
SELECT brand, category || '|G' AS key, g_term AS value FROM grow_terms WHERE kind = 'continuing'
UNION ALL
SELECT brand, category || '|R', r_term FROM grow_terms WHERE kind = 'continuing'
UNION ALL
SELECT brand, category || '|O', o_term FROM grow_terms WHERE kind = 'continuing'
UNION ALL
SELECT brand, category || '|W', w_term FROM grow_terms WHERE kind = 'new'
UNION ALL
SELECT brand, category || '|Lost', lost_term FROM grow_terms WHERE kind = 'dropped'
"""


# Per brand, over all its categories together: N, T (a user's day counts once, whatever
# categories it bought in) and gross GMV in each period.
BRAND_TOTALS = Relation(
    name="grow_brand_totals",
    depends_on=("grow_days",),
    sql="""
WITH days AS (
  SELECT brand, user_id, local_date, period, sum(gmv) AS gmv FROM grow_days GROUP BY ALL
)
SELECT b.brand,
  count(DISTINCT d.user_id) FILTER (WHERE d.period = 0) AS n0,
  count(d.user_id) FILTER (WHERE d.period = 0) AS t0,
  CAST(coalesce(sum(d.gmv) FILTER (WHERE d.period = 0), 0) AS DOUBLE) AS g0,
  count(DISTINCT d.user_id) FILTER (WHERE d.period = 1) AS n1,
  count(d.user_id) FILTER (WHERE d.period = 1) AS t1,
  CAST(coalesce(sum(d.gmv) FILTER (WHERE d.period = 1), 0) AS DOUBLE) AS g1
FROM brands b LEFT JOIN days d ON d.brand = b.brand GROUP BY b.brand
""",
)


def _growth(expression: str) -> str:
    """Growth of a brand-level quantity over all its categories: X1 / X0 - 1."""
    return f"SELECT brand, {expression} AS value FROM grow_brand_totals"


BUYERS_GROWTH = _growth("CASE WHEN n0 = 0 THEN NULL ELSE n1 / n0 - 1 END")
FREQUENCY_GROWTH = _growth(
    "CASE WHEN n0 = 0 OR n1 = 0 THEN NULL ELSE (t1 / n1) / (t0 / n0) - 1 END"
)
VALUE_GROWTH = _growth(
    "CASE WHEN t0 = 0 OR t1 = 0 OR g0 = 0 THEN NULL ELSE (g1 / t1) / (g0 / t0) - 1 END"
)

GROW = Methodology(
    name="grow",
    title="Tmall GROW (LMDI decomposition)",
    source="Tmall FMCG x BCG, GROW (2019); decomposition by brandlens, see specs/grow.yaml",
    version="1.0.0",
    parameters=GrowParameters,
    # the current period and the base period before it
    history_days=lambda p: 2 * p.period_days,
    relations=(DAYS, CELLS, TERMS, BRAND_TOTALS),
    indicators=(
        Indicator(id="grow.gmv_change", sql=GMV_CHANGE),
        Indicator(id="grow.gain", sql=_total("g_term")),
        Indicator(id="grow.retain", sql=_total("r_term")),
        Indicator(id="grow.boost", sql=_total("o_term")),
        Indicator(id="grow.widen", sql=_total("w_term")),
        Indicator(id="grow.lost", sql=_total("lost_term")),
        Indicator(id="grow.driver_share", sql=DRIVER_SHARE),
        Indicator(id="grow.contribution", sql=CONTRIBUTION),
        Indicator(id="grow.buyers_growth", sql=BUYERS_GROWTH),
        Indicator(id="grow.frequency_growth", sql=FREQUENCY_GROWTH),
        Indicator(id="grow.value_growth", sql=VALUE_GROWTH),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(GROW, spec=packaged_spec(__file__, "grow"))


@brandlens.hookimpl
def brandlens_report_sections(register):
    from brandlens_grow.report import sections

    register("grow", sections)
