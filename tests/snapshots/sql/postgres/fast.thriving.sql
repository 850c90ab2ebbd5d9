-- fast.thriving: Thriving (active member share) (fast), written for postgres by brandlens sql
-- as of 2025-06-30; parameters ad_click_stage=interest, advancing_period_days=7, awareness_window_days=15, interest_window_days=15, loyal_min_purchase_days=2, loyal_window_days=365, positive_rating=4, purchase_window_days=912, thriving_events=['purchase', 'add_to_cart', 'favorite', 'coupon_claim', 'review', 'share', 'consult', 'store_visit'], thriving_window_days=180
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
  COUNT(m.user_id) FILTER(WHERE
    NOT a.user_id IS NULL) AS numerator,
  COUNT(m.user_id) AS denominator,
  CASE
    WHEN COUNT(m.user_id) = 0
    THEN NULL
    ELSE CAST(COUNT(m.user_id) FILTER(WHERE
      NOT a.user_id IS NULL) AS DOUBLE PRECISION) / NULLIF(COUNT(m.user_id), 0)
  END AS value
FROM brands AS b
LEFT JOIN members AS m
  ON m.brand = b.brand
LEFT JOIN (
  SELECT DISTINCT
    events.brand AS brand,
    events.user_id AS user_id
  FROM events AS events
  WHERE
    CASE
      WHEN events.event_type IS NULL
      THEN NULL
      ELSE COALESCE(
        events.event_type = ANY(
          ARRAY[
            'purchase',
            'add_to_cart',
            'favorite',
            'coupon_claim',
            'review',
            'share',
            'consult',
            'store_visit'
          ]
        ),
        FALSE
      )
    END
    AND events.local_date > CAST('2025-06-30' AS DATE) - 180
    AND events.local_date <= CAST('2025-06-30' AS DATE)
) AS a
  ON a.brand = m.brand AND a.user_id = m.user_id
GROUP BY
  b.brand
