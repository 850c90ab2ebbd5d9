-- argo.second_order_rate: Second-order rate (argo), written for postgres by brandlens sql
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
), argo_purchase_days AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    events.local_date AS local_date,
    SUM(events.amount) AS gmv,
    ROW_NUMBER() OVER (PARTITION BY events.brand, events.user_id ORDER BY events.local_date) AS k
  FROM events AS events
  WHERE
    events.event_type = 'purchase'
    AND NOT events.brand IS NULL
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.user_id,
    events.local_date
), argo_people__firsts AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    MIN(events.local_date) AS first_event,
    MIN(events.local_date) FILTER(WHERE
      events.event_type IN (
        SELECT
          UNNEST(
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
          ) AS _col_0
      )) AS first_active
  FROM events AS events
  WHERE
    NOT events.brand IS NULL AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.user_id
), argo_people AS (
  SELECT
    f.brand AS brand,
    f.user_id AS user_id,
    f.first_event AS first_event,
    f.first_active AS first_active,
    p1.local_date AS first_purchase,
    p1.gmv AS first_day_gmv,
    p2.local_date AS second_purchase
  FROM argo_people__firsts AS f
  LEFT JOIN argo_purchase_days AS p1
    ON p1.brand = f.brand AND p1.user_id = f.user_id AND p1.k = 1
  LEFT JOIN argo_purchase_days AS p2
    ON p2.brand = f.brand AND p2.user_id = f.user_id AND p2.k = 2
)
SELECT
  b.brand AS brand,
  COALESCE(
    COUNT(p.user_id) FILTER(WHERE
      CAST(EXTRACT(epoch FROM CAST(p.second_purchase AS TIMESTAMP) - CAST(p.first_purchase AS TIMESTAMP)) / 86400 AS BIGINT) <= 60),
    0
  ) AS numerator,
  COALESCE(COUNT(p.user_id), 0) AS denominator,
  CASE
    WHEN COALESCE(COUNT(p.user_id), 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(
      COUNT(p.user_id) FILTER(WHERE
        CAST(EXTRACT(epoch FROM CAST(p.second_purchase AS TIMESTAMP) - CAST(p.first_purchase AS TIMESTAMP)) / 86400 AS BIGINT) <= 60),
      0
    ) AS DOUBLE PRECISION) / NULLIF(COALESCE(COUNT(p.user_id), 0), 0)
  END AS value
FROM brands AS b
LEFT JOIN argo_people AS p
  ON p.brand = b.brand
  AND p.first_purchase > CAST('2025-06-30' AS DATE) - 2 * 60
  AND p.first_purchase <= CAST('2025-06-30' AS DATE) - 60
GROUP BY
  b.brand
