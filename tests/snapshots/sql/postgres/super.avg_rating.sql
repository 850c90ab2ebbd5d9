-- super.avg_rating: Average rating (super), written for postgres by brandlens sql
-- as of 2025-06-30; parameters exit_days=60, flow_period_days=28, growth_threshold=0.2, history_weeks=52, hit_top_share=0.1, new_days=90, quality_window_days=90, rating_window_days=365, recent_days=28
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
  CAST(SUM(e.rating) AS DOUBLE PRECISION) / COUNT(e.rating) AS value
FROM brands AS b
LEFT JOIN events AS e
  ON e.brand = b.brand
  AND e.event_type = 'review'
  AND e.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 365
  AND e.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
GROUP BY
  b.brand
