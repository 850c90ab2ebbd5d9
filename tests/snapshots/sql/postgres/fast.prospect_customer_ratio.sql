-- fast.prospect_customer_ratio: Prospect-to-customer ratio (fast), written for postgres by brandlens sql
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
), aipl__days AS (
  SELECT
    events.user_id AS user_id,
    events.brand AS brand,
    events.local_date AS local_date,
    (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY['ad_impression', 'content_view', 'product_view']
            ),
            FALSE
          )
        END
        THEN 1
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY[
                'store_visit',
                'favorite',
                'add_to_cart',
                'follow',
                'consult',
                'coupon_claim',
                'member_join'
              ]
            ),
            FALSE
          )
        END
        THEN 2
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['ad_click']
          ), FALSE)
        END
        THEN 4
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['search']
          ), FALSE)
        END
        AND events."query_type" = 'brand'
        THEN 8
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['product_view']
          ), FALSE)
        END
        THEN 16
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['purchase']
          ), FALSE)
        END
        THEN 32
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['purchase']
          ), FALSE)
        END
        THEN 64
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['review']
          ), FALSE)
        END
        AND events."rating" >= 4
        THEN 128
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['share']
          ), FALSE)
        END
        THEN 256
        ELSE 0
      END
    ) AS _flags
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
    AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
    AND (
      (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY[
                'ad_click',
                'ad_impression',
                'add_to_cart',
                'consult',
                'content_view',
                'coupon_claim',
                'favorite',
                'follow',
                'member_join',
                'product_view',
                'search',
                'store_visit'
              ]
            ),
            FALSE
          )
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 22
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['review', 'share']
          ), FALSE)
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 372
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['purchase']
          ), FALSE)
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 919
      )
    )
), aipl__counted AS (
  SELECT
    days.user_id AS user_id,
    days.brand AS brand,
    BIT_OR(
      CASE
        WHEN days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 15
              THEN 15
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 912
              THEN 32
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 365
              THEN 384
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e0,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 64
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 365) AS lo0_6,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 64
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 365) AS hi0_6,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 16
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ) - 15
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d0_4,
    BIT_OR(
      CASE
        WHEN days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ) - 15
              THEN 15
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ) - 912
              THEN 32
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ) - 365
              THEN 384
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e1,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 64
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
      ) - 365) AS lo1_6,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 64
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
      ) - 365) AS hi1_6,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 16
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        ) - 15
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d1_4
  FROM aipl__days AS days
  GROUP BY
    days.user_id,
    days.brand
), aipl__staged AS (
  SELECT
    CAST(0 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN COALESCE(counted.lo0_6 < counted.hi0_6, FALSE)
      OR (
        counted.e0 & 128
      ) <> 0
      OR (
        counted.e0 & 256
      ) <> 0
      THEN 'L'
      WHEN (
        counted.e0 & 32
      ) <> 0
      THEN 'P'
      WHEN (
        counted.e0 & 2
      ) <> 0
      OR (
        counted.e0 & 4
      ) <> 0
      OR (
        counted.e0 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_4 AS BIT(64))) >= 2
      THEN 'I'
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 'A'
    END AS stage,
    CAST(CASE
      WHEN COALESCE(counted.lo0_6 < counted.hi0_6, FALSE)
      OR (
        counted.e0 & 128
      ) <> 0
      OR (
        counted.e0 & 256
      ) <> 0
      THEN 4
      WHEN (
        counted.e0 & 32
      ) <> 0
      THEN 3
      WHEN (
        counted.e0 & 2
      ) <> 0
      OR (
        counted.e0 & 4
      ) <> 0
      OR (
        counted.e0 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_4 AS BIT(64))) >= 2
      THEN 2
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM aipl__counted AS counted
  UNION ALL
  SELECT
    CAST(7 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN COALESCE(counted.lo1_6 < counted.hi1_6, FALSE)
      OR (
        counted.e1 & 128
      ) <> 0
      OR (
        counted.e1 & 256
      ) <> 0
      THEN 'L'
      WHEN (
        counted.e1 & 32
      ) <> 0
      THEN 'P'
      WHEN (
        counted.e1 & 2
      ) <> 0
      OR (
        counted.e1 & 4
      ) <> 0
      OR (
        counted.e1 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_4 AS BIT(64))) >= 2
      THEN 'I'
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 'A'
    END AS stage,
    CAST(CASE
      WHEN COALESCE(counted.lo1_6 < counted.hi1_6, FALSE)
      OR (
        counted.e1 & 128
      ) <> 0
      OR (
        counted.e1 & 256
      ) <> 0
      THEN 4
      WHEN (
        counted.e1 & 32
      ) <> 0
      THEN 3
      WHEN (
        counted.e1 & 2
      ) <> 0
      OR (
        counted.e1 & 4
      ) <> 0
      OR (
        counted.e1 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_4 AS BIT(64))) >= 2
      THEN 2
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM aipl__counted AS counted
), aipl AS (
  SELECT
    staged.days_before AS days_before,
    staged.snapshot_date AS snapshot_date,
    staged.user_id AS user_id,
    staged.brand AS brand,
    staged.stage AS stage,
    staged.stage_rank AS stage_rank
  FROM aipl__staged AS staged
  WHERE
    NOT staged.stage IS NULL
)
SELECT
  b.brand AS brand,
  COUNT(l.user_id) FILTER(WHERE
    l.stage IN ('A', 'I')) AS numerator,
  COUNT(l.user_id) FILTER(WHERE
    l.stage IN ('P', 'L')) AS denominator,
  CASE
    WHEN COUNT(l.user_id) FILTER(WHERE
      l.stage IN ('P', 'L')) = 0
    THEN NULL
    ELSE CAST(COUNT(l.user_id) FILTER(WHERE
      l.stage IN ('A', 'I')) AS DOUBLE PRECISION) / NULLIF(COUNT(l.user_id) FILTER(WHERE
      l.stage IN ('P', 'L')), 0)
  END AS value
FROM brands AS b
LEFT JOIN aipl AS l
  ON l.brand = b.brand AND l.days_before = 0
GROUP BY
  b.brand
