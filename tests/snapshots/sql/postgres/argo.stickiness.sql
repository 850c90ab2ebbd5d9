-- argo.stickiness: Stickiness (DAU/MAU) (argo), written for postgres by brandlens sql
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
), argo_activity__days AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    events.local_date AS local_date
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
    AND CASE
      WHEN events.event_type IS NULL
      THEN NULL
      ELSE COALESCE(
        events.event_type = ANY(
          ARRAY[
            'ad_click',
            'content_view',
            'search',
            'product_view',
            'store_visit',
            'favorite',
            'add_to_cart',
            'follow',
            'consult',
            'coupon_claim',
            'member_join',
            'member_leave',
            'purchase',
            'refund',
            'review',
            'share',
            'after_sales'
          ]
        ),
        FALSE
      )
    END
    AND events.local_date > CAST('2025-06-30' AS DATE) - 2 * 30
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.user_id,
    events.local_date
), argo_activity AS (
  SELECT
    days.brand AS brand,
    days.user_id AS user_id,
    BOOL_OR(days.local_date > CAST('2025-06-30' AS DATE) - 30) AS in_i0,
    BOOL_OR(days.local_date <= CAST('2025-06-30' AS DATE) - 30) AS in_i1,
    COUNT(*) FILTER(WHERE
      days.local_date > CAST('2025-06-30' AS DATE) - 30) AS days_i0
  FROM argo_activity__days AS days
  GROUP BY
    days.brand,
    days.user_id
)
SELECT
  b.brand AS brand,
  COALESCE(CAST(SUM(a.days_i0) AS DOUBLE PRECISION) / 30, 0) AS numerator,
  COALESCE(COUNT(a.user_id), 0) AS denominator,
  CASE
    WHEN COALESCE(COUNT(a.user_id), 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(CAST(SUM(a.days_i0) AS DOUBLE PRECISION) / 30, 0) AS DOUBLE PRECISION) / NULLIF(COALESCE(COUNT(a.user_id), 0), 0)
  END AS value
FROM brands AS b
LEFT JOIN argo_activity AS a
  ON a.brand = b.brand AND a.in_i0
GROUP BY
  b.brand
