-- goal.share_of_wallet: Share of wallet (goal), written for postgres by brandlens sql
-- as of 2025-06-30; parameters act_window_days=365, advocate_window_days=365, appeal_window_days=15, aware_window_days=15, buyer_window_days=365, clv_history_days=730, clv_horizon_days=365, clv_min_repeaters=30, core_group_min_buyers=30, core_groups=3, flow_period_days=30, high_value_quantile=0.8, positive_rating=4
-- reads the canonical tables events (with local_date), users, products, targets, spend
WITH brands AS (
  SELECT DISTINCT
    events.brand AS brand
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
), members AS (
  SELECT
    latest.user_id AS user_id,
    latest.brand AS brand
  FROM (
    SELECT
      events.user_id AS user_id,
      events.brand AS brand,
      events.event_type AS event_type,
      ROW_NUMBER() OVER (
        PARTITION BY events.user_id, events.brand
        ORDER BY events.ts DESC NULLS LAST, (
          events.event_type = 'member_leave'
        ) DESC NULLS LAST, events.event_id COLLATE "C" DESC NULLS LAST
      ) AS rn
    FROM events AS events
    WHERE
      events.event_type IN ('member_join', 'member_leave')
      AND NOT events.brand IS NULL
      AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
  ) AS latest
  WHERE
    latest.rn = 1 AND latest.event_type = 'member_join'
), goal_category_spend AS (
  SELECT
    events.brand AS brand,
    events.category AS category,
    events.user_id AS user_id,
    COUNT(*) FILTER(WHERE
      events.event_type = 'purchase') AS purchases,
    GREATEST(
      SUM(
        CASE WHEN events.event_type = 'purchase' THEN events.amount ELSE -events.amount END
      ),
      0
    ) AS gmv
  FROM events AS events
  WHERE
    events.event_type IN ('purchase', 'refund')
    AND NOT events.brand IS NULL
    AND NOT events.category IS NULL
    AND events.local_date > CAST('2025-06-30' AS DATE) - 365
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.category,
    events.user_id
), goal_brand_categories AS (
  SELECT DISTINCT
    goal_category_spend.brand AS brand,
    goal_category_spend.category AS category
  FROM goal_category_spend AS goal_category_spend
  WHERE
    goal_category_spend.purchases > 0
), goal_buyers AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    COUNT(DISTINCT events.local_date) FILTER(WHERE
      events.event_type = 'purchase') AS days,
    GREATEST(
      SUM(
        CASE WHEN events.event_type = 'purchase' THEN events.amount ELSE -events.amount END
      ),
      0
    ) AS gmv
  FROM events AS events
  WHERE
    events.event_type IN ('purchase', 'refund')
    AND NOT events.brand IS NULL
    AND events.local_date > CAST('2025-06-30' AS DATE) - 365
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.user_id
  HAVING
    COUNT(*) FILTER(WHERE
      events.event_type = 'purchase') > 0
), q__own AS (
  SELECT
    s.brand AS brand,
    s.user_id AS user_id,
    SUM(s.gmv) AS gmv
  FROM goal_category_spend AS s
  JOIN goal_brand_categories AS c
    ON c.brand = s.brand AND c.category = s.category
  JOIN goal_buyers AS x
    ON x.brand = s.brand AND x.user_id = s.user_id
  GROUP BY
    s.brand,
    s.user_id
), q__wallet AS (
  SELECT
    c.brand AS brand,
    x.user_id AS user_id,
    SUM(s.gmv) AS gmv
  FROM goal_brand_categories AS c
  JOIN goal_category_spend AS s
    ON s.category = c.category
  JOIN goal_buyers AS x
    ON x.brand = c.brand AND x.user_id = s.user_id
  GROUP BY
    c.brand,
    x.user_id
), q__totals AS (
  SELECT
    w.brand AS brand,
    SUM(COALESCE(o.gmv, 0)) AS own,
    SUM(w.gmv) AS wallet
  FROM q__wallet AS w
  LEFT JOIN q__own AS o
    ON o.brand = w.brand AND o.user_id = w.user_id
  GROUP BY
    w.brand
)
SELECT
  b.brand AS brand,
  CAST(COALESCE(t.own, 0) AS DOUBLE PRECISION) AS numerator,
  CAST(COALESCE(t.wallet, 0) AS DOUBLE PRECISION) AS denominator,
  CASE
    WHEN CAST(COALESCE(t.wallet, 0) AS DOUBLE PRECISION) = 0
    THEN NULL
    ELSE CAST(COALESCE(t.own, 0) AS DOUBLE PRECISION) / NULLIF(CAST(COALESCE(t.wallet, 0) AS DOUBLE PRECISION), 0)
  END AS value
FROM brands AS b
LEFT JOIN q__totals AS t
  ON t.brand = b.brand
