-- argo.channel_mix: Channel mix of GMV (argo), written for postgres by brandlens sql
-- as of 2025-06-30; parameters active_events=['ad_click', 'content_view', 'search', 'product_view', 'store_visit', 'favorite', 'add_to_cart', 'follow', 'consult', 'coupon_claim', 'member_join', 'member_leave', 'purchase', 'refund', 'review', 'share', 'after_sales'], clv_history_days=730, clv_horizon_days=365, clv_min_repeaters=30, interval_days=30, second_order_days=60, value_window_days=365
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
), q__by_channel AS (
  SELECT
    e.brand AS brand,
    COALESCE(e.channel, '(unknown)') AS key,
    SUM(e.amount) AS gmv
  FROM events AS e
  JOIN brands AS b
    ON b.brand = e.brand
  WHERE
    e.event_type = 'purchase'
    AND e.local_date > CAST('2025-06-30' AS DATE) - 365
    AND e.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    e.brand,
    COALESCE(e.channel, '(unknown)')
)
SELECT
  by_channel.brand AS brand,
  by_channel.key AS key,
  COALESCE(by_channel.gmv, 0) AS numerator,
  COALESCE(SUM(by_channel.gmv) OVER (PARTITION BY by_channel.brand), 0) AS denominator,
  CASE
    WHEN COALESCE(SUM(by_channel.gmv) OVER (PARTITION BY by_channel.brand), 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(by_channel.gmv, 0) AS DOUBLE PRECISION) / NULLIF(COALESCE(SUM(by_channel.gmv) OVER (PARTITION BY by_channel.brand), 0), 0)
  END AS value
FROM q__by_channel AS by_channel
