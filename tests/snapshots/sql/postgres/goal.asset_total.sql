-- goal.asset_total: 4A consumer assets (goal), written for postgres by brandlens sql
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
), four_a__days AS (
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
                'ad_click',
                'store_visit',
                'favorite',
                'add_to_cart',
                'follow',
                'consult',
                'coupon_claim'
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
            ARRAY['search']
          ), FALSE)
        END
        AND events."query_type" = 'brand'
        THEN 4
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
        THEN 8
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['purchase', 'review', 'after_sales']
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
            ARRAY['review']
          ), FALSE)
        END
        AND events."rating" >= 4
        THEN 64
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
        THEN 128
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
                'product_view',
                'search',
                'store_visit'
              ]
            ),
            FALSE
          )
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 45
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY['after_sales', 'purchase', 'review', 'share']
            ),
            FALSE
          )
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 395
      )
    )
), four_a__counted AS (
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
              THEN 7
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 365
              THEN 208
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
          days._flags & 32
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 365) AS lo0_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 32
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 365) AS hi0_5,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 8
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
    ) AS d0_3,
    BIT_OR(
      CASE
        WHEN days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ) - 15
              THEN 7
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ) - 365
              THEN 208
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
          days._flags & 32
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ) - 365) AS lo1_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 32
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ) - 365) AS hi1_5,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 8
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ) - 15
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d1_3
  FROM four_a__days AS days
  GROUP BY
    days.user_id,
    days.brand
), four_a__staged AS (
  SELECT
    CAST(0 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN COALESCE(counted.lo0_5 < counted.hi0_5, FALSE)
      OR (
        counted.e0 & 64
      ) <> 0
      OR (
        counted.e0 & 128
      ) <> 0
      THEN 'A4'
      WHEN (
        counted.e0 & 16
      ) <> 0
      THEN 'A3'
      WHEN (
        counted.e0 & 2
      ) <> 0
      OR (
        counted.e0 & 4
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_3 AS BIT(64))) >= 2
      THEN 'A2'
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 'A1'
    END AS stage,
    CAST(CASE
      WHEN COALESCE(counted.lo0_5 < counted.hi0_5, FALSE)
      OR (
        counted.e0 & 64
      ) <> 0
      OR (
        counted.e0 & 128
      ) <> 0
      THEN 4
      WHEN (
        counted.e0 & 16
      ) <> 0
      THEN 3
      WHEN (
        counted.e0 & 2
      ) <> 0
      OR (
        counted.e0 & 4
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_3 AS BIT(64))) >= 2
      THEN 2
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM four_a__counted AS counted
  UNION ALL
  SELECT
    CAST(30 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN COALESCE(counted.lo1_5 < counted.hi1_5, FALSE)
      OR (
        counted.e1 & 64
      ) <> 0
      OR (
        counted.e1 & 128
      ) <> 0
      THEN 'A4'
      WHEN (
        counted.e1 & 16
      ) <> 0
      THEN 'A3'
      WHEN (
        counted.e1 & 2
      ) <> 0
      OR (
        counted.e1 & 4
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_3 AS BIT(64))) >= 2
      THEN 'A2'
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 'A1'
    END AS stage,
    CAST(CASE
      WHEN COALESCE(counted.lo1_5 < counted.hi1_5, FALSE)
      OR (
        counted.e1 & 64
      ) <> 0
      OR (
        counted.e1 & 128
      ) <> 0
      THEN 4
      WHEN (
        counted.e1 & 16
      ) <> 0
      THEN 3
      WHEN (
        counted.e1 & 2
      ) <> 0
      OR (
        counted.e1 & 4
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_3 AS BIT(64))) >= 2
      THEN 2
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM four_a__counted AS counted
), four_a AS (
  SELECT
    staged.days_before AS days_before,
    staged.snapshot_date AS snapshot_date,
    staged.user_id AS user_id,
    staged.brand AS brand,
    staged.stage AS stage,
    staged.stage_rank AS stage_rank
  FROM four_a__staged AS staged
  WHERE
    NOT staged.stage IS NULL
)
SELECT
  b.brand AS brand,
  COUNT(l.user_id) AS value
FROM brands AS b
LEFT JOIN "four_a" AS l
  ON l.brand = b.brand AND l.days_before = 0
GROUP BY
  b.brand
