-- argo.identified_share: Identified share (argo), written for postgres by brandlens sql
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
), argo_year__e AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    events.channel AS channel,
    events.category AS category,
    events.amount AS amount,
    CASE
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
    END AS is_active,
    events.event_type = 'purchase' AS is_purchase,
    events.event_type = 'refund' AS is_refund
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
    AND (
      CASE
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
      OR events.event_type IN ('purchase', 'refund')
    )
    AND events.local_date > CAST('2025-06-30' AS DATE) - 365
    AND events.local_date <= CAST('2025-06-30' AS DATE)
), argo_year__per_user AS (
  SELECT
    e.brand AS brand,
    e.user_id AS user_id,
    BOOL_OR(e.is_active) AS active,
    BOOL_OR(e.is_purchase) AS bought,
    GREATEST(
      COALESCE(SUM(e.amount) FILTER(WHERE
        e.is_purchase), 0) - COALESCE(SUM(e.amount) FILTER(WHERE
        e.is_refund), 0),
      0
    ) AS net_gmv
  FROM argo_year__e AS e
  GROUP BY
    e.brand,
    e.user_id
), argo_year__channels AS (
  SELECT
    _0.brand AS brand,
    _0.user_id AS user_id,
    COUNT(*) AS n
  FROM (
    SELECT DISTINCT
      e.brand AS brand,
      e.user_id AS user_id,
      e.channel AS channel
    FROM argo_year__e AS e
    WHERE
      e.is_active AND NOT e.channel IS NULL
  ) AS _0
  GROUP BY
    _0.brand,
    _0.user_id
), argo_year__categories AS (
  SELECT
    _1.brand AS brand,
    _1.user_id AS user_id,
    COUNT(*) AS n
  FROM (
    SELECT DISTINCT
      e.brand AS brand,
      e.user_id AS user_id,
      e.category AS category
    FROM argo_year__e AS e
    WHERE
      e.is_purchase AND NOT e.category IS NULL
  ) AS _1
  GROUP BY
    _1.brand,
    _1.user_id
), argo_year AS (
  SELECT
    p.brand AS brand,
    p.user_id AS user_id,
    p.active AS active,
    COALESCE(ch.n, 0) AS channels,
    p.bought AS bought,
    COALESCE(ca.n, 0) AS categories,
    p.net_gmv AS net_gmv
  FROM argo_year__per_user AS p
  LEFT JOIN argo_year__channels AS ch
    ON ch.brand = p.brand AND ch.user_id = p.user_id
  LEFT JOIN argo_year__categories AS ca
    ON ca.brand = p.brand AND ca.user_id = p.user_id
)
SELECT
  b.brand AS brand,
  COALESCE(COUNT(y.user_id) FILTER(WHERE
    y.active AND NOT k.user_id IS NULL), 0) AS numerator,
  COALESCE(COUNT(y.user_id) FILTER(WHERE
    y.active), 0) AS denominator,
  CASE
    WHEN COALESCE(COUNT(y.user_id) FILTER(WHERE
      y.active), 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(COUNT(y.user_id) FILTER(WHERE
      y.active AND NOT k.user_id IS NULL), 0) AS DOUBLE PRECISION) / NULLIF(COALESCE(COUNT(y.user_id) FILTER(WHERE
      y.active), 0), 0)
  END AS value
FROM brands AS b
LEFT JOIN argo_year AS y
  ON y.brand = b.brand
LEFT JOIN (
  SELECT DISTINCT
    users.user_id AS user_id
  FROM users AS users
) AS k
  ON k.user_id = y.user_id
GROUP BY
  b.brand
