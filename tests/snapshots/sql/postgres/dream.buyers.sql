-- dream.buyers: Buyers in the period (dream), written for postgres by brandlens sql
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
)
SELECT
  b.brand AS brand,
  COUNT(DISTINCT e.user_id) AS value
FROM brands AS b
LEFT JOIN events AS e
  ON e.brand = b.brand
  AND e.event_type = 'purchase'
  AND e.local_date > CAST('2025-06-30' AS DATE) - 30
  AND e.local_date <= CAST('2025-06-30' AS DATE)
GROUP BY
  b.brand
