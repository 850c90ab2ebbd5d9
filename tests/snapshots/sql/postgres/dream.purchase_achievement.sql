-- dream.purchase_achievement: Purchase target achievement (dream), written for postgres by brandlens sql
-- as of 2025-06-30; parameters accessory_categories=['phone_accessories'], appeal_window_days=60, aware_window_days=30, consider_min_search_days=2, consider_min_view_days=3, consider_window_days=60, durable_categories=['smartphones'], flow_period_days=30, purchase_window_days=730, replacement_cycle_days=730, replacement_horizon_days=1825, retain_window_days=365
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
), q__chosen AS (
  SELECT
    _0.brand AS brand,
    _0.period_start AS period_start,
    _0.period_end AS period_end,
    _0.target_value AS target_value
  FROM (
    SELECT
      targets.brand AS brand,
      targets.period_start AS period_start,
      targets.period_end AS period_end,
      targets.target_value AS target_value,
      ROW_NUMBER() OVER (
        PARTITION BY targets.brand
        ORDER BY targets.period_end DESC NULLS LAST, targets.period_start DESC NULLS LAST, targets.target_value DESC NULLS LAST
      ) AS r
    FROM targets AS targets
    WHERE
      targets.indicator = 'dream.buyers'
      AND targets.period_end <= CAST('2025-06-30' AS DATE)
      AND targets.period_start <= targets.period_end
  ) AS _0
  WHERE
    _0.r = 1
), q__actual AS (
  SELECT
    c.brand AS brand,
    COUNT(DISTINCT e.user_id) AS buyers
  FROM q__chosen AS c
  JOIN events AS e
    ON e.brand = c.brand
    AND e.event_type = 'purchase'
    AND e.local_date >= c.period_start
    AND e.local_date <= c.period_end
  GROUP BY
    c.brand
)
SELECT
  b.brand AS brand,
  CASE WHEN NOT c.brand IS NULL THEN COALESCE(a.buyers, 0) END AS numerator,
  c.target_value AS denominator,
  CASE
    WHEN c.target_value <> 0
    THEN CAST(COALESCE(a.buyers, 0) AS DOUBLE PRECISION) / NULLIF(c.target_value, 0)
  END AS value
FROM brands AS b
LEFT JOIN q__chosen AS c
  ON c.brand = b.brand
LEFT JOIN q__actual AS a
  ON a.brand = b.brand
