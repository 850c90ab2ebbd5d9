-- goal.arpu: ARPU (goal), written for postgres by brandlens sql
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
)
SELECT
  b.brand AS brand,
  CASE
    WHEN COUNT(x.user_id) = 0
    THEN NULL
    ELSE CAST(SUM(x.gmv) AS DOUBLE PRECISION) / NULLIF(COUNT(x.user_id), 0)
  END AS value,
  COALESCE(SUM(x.gmv), 0) AS numerator,
  COUNT(x.user_id) AS denominator
FROM brands AS b
LEFT JOIN goal_buyers AS x
  ON x.brand = b.brand
GROUP BY
  b.brand
