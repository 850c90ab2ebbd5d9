-- dream.scale_index: Asset scale index (dream), written for postgres by brandlens sql
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
), dream_main_category__gmv AS (
  SELECT
    events.brand AS brand,
    events.category AS category,
    SUM(events.amount) AS gmv
  FROM events AS events
  WHERE
    events.event_type = 'purchase'
    AND NOT events.brand IS NULL
    AND NOT events.category IS NULL
    AND events.local_date > CAST('2025-06-30' AS DATE) - 730
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.category
), dream_main_category AS (
  SELECT
    _0.brand AS brand,
    _0.category AS category
  FROM (
    SELECT
      gmv.brand AS brand,
      gmv.category AS category,
      ROW_NUMBER() OVER (PARTITION BY gmv.brand ORDER BY gmv.gmv DESC NULLS LAST, gmv.category COLLATE "C") AS r
    FROM dream_main_category__gmv AS gmv
  ) AS _0
  WHERE
    _0.r = 1
), dream_mind__days AS (
  SELECT
    events.user_id AS user_id,
    events.brand AS brand,
    events.local_date AS local_date,
    (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['ad_impression', 'content_view']
          ), FALSE)
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
              ARRAY['ad_click', 'store_visit', 'follow', 'product_view']
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
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY['add_to_cart', 'consult', 'favorite', 'coupon_claim']
            ),
            FALSE
          )
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
            ARRAY['search']
          ), FALSE)
        END
        AND events."query_type" = 'brand'
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
            ARRAY['purchase']
          ), FALSE)
        END
        THEN 128
        ELSE 0
      END
    ) | (
      CASE
        WHEN CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY['after_sales', 'review', 'share', 'member_join']
            ),
            FALSE
          )
        END
        THEN 256
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
        AND CASE
          WHEN events."category" IS NULL
          THEN NULL
          ELSE COALESCE(events."category" = ANY(
            ARRAY['phone_accessories']
          ), FALSE)
        END
        THEN 512
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
        AND NOT CASE
          WHEN events."category" IS NULL
          THEN NULL
          ELSE COALESCE(events."category" = ANY(
            ARRAY['phone_accessories']
          ), FALSE)
        END
        THEN 1024
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
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['ad_impression', 'content_view']
          ), FALSE)
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 60
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY[
                'ad_click',
                'add_to_cart',
                'consult',
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
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 90
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(
            events.event_type = ANY(
              ARRAY['after_sales', 'member_join', 'review', 'share']
            ),
            FALSE
          )
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 395
      )
      OR (
        CASE
          WHEN events.event_type IS NULL
          THEN NULL
          ELSE COALESCE(events.event_type = ANY(
            ARRAY['purchase']
          ), FALSE)
        END
        AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - 760
      )
    )
), dream_mind__counted AS (
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
              ) - 30
              THEN 1
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 60
              THEN 14
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 730
              THEN 192
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ) - 365
              THEN 256
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e0,
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
        ) - 60
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
        WHEN (
          (
            days._flags & 32
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ) - 60
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d0_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 512
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 365) AS a0_0,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 1024
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ) - 730) AS p0_0,
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
              ) - 30
              THEN 1
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ) - 60
              THEN 14
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ) - 730
              THEN 192
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > (
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ) - 365
              THEN 256
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e1,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 16
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ) - 60
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d1_4,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 32
          ) <> 0
        )
        AND days.local_date <= (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        )
        AND days.local_date > (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ) - 60
        THEN CAST(1 AS BIGINT) << CAST((
          CAST((
            CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
          ) AS DATE) - CAST(days.local_date AS DATE)
        ) AS INT)
        ELSE 0
      END
    ) AS d1_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 512
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ) - 365) AS a1_0,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          days._flags & 1024
        ) <> 0
      )
      AND days.local_date <= (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      )
      AND days.local_date > (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ) - 730) AS p1_0
  FROM dream_mind__days AS days
  GROUP BY
    days.user_id,
    days.brand
), dream_mind__staged AS (
  SELECT
    CAST(0 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN (
        (
          counted.e0 & 128
        ) <> 0
        AND (
          (
            counted.e0 & 256
          ) <> 0 OR COALESCE(counted.a0_0 > counted.p0_0, FALSE)
        )
      )
      THEN 'Retain'
      WHEN (
        counted.e0 & 64
      ) <> 0
      THEN 'Purchase'
      WHEN (
        counted.e0 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_4 AS BIT(64))) >= 3
      OR BIT_COUNT(CAST(counted.d0_5 AS BIT(64))) >= 2
      THEN 'Consider'
      WHEN (
        counted.e0 & 2
      ) <> 0 OR (
        counted.e0 & 4
      ) <> 0
      THEN 'Appeal'
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 'Aware'
    END AS stage,
    CAST(CASE
      WHEN (
        (
          counted.e0 & 128
        ) <> 0
        AND (
          (
            counted.e0 & 256
          ) <> 0 OR COALESCE(counted.a0_0 > counted.p0_0, FALSE)
        )
      )
      THEN 5
      WHEN (
        counted.e0 & 64
      ) <> 0
      THEN 4
      WHEN (
        counted.e0 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d0_4 AS BIT(64))) >= 3
      OR BIT_COUNT(CAST(counted.d0_5 AS BIT(64))) >= 2
      THEN 3
      WHEN (
        counted.e0 & 2
      ) <> 0 OR (
        counted.e0 & 4
      ) <> 0
      THEN 2
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM dream_mind__counted AS counted
  UNION ALL
  SELECT
    CAST(30 AS INT) AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30 AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN (
        (
          counted.e1 & 128
        ) <> 0
        AND (
          (
            counted.e1 & 256
          ) <> 0 OR COALESCE(counted.a1_0 > counted.p1_0, FALSE)
        )
      )
      THEN 'Retain'
      WHEN (
        counted.e1 & 64
      ) <> 0
      THEN 'Purchase'
      WHEN (
        counted.e1 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_4 AS BIT(64))) >= 3
      OR BIT_COUNT(CAST(counted.d1_5 AS BIT(64))) >= 2
      THEN 'Consider'
      WHEN (
        counted.e1 & 2
      ) <> 0 OR (
        counted.e1 & 4
      ) <> 0
      THEN 'Appeal'
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 'Aware'
    END AS stage,
    CAST(CASE
      WHEN (
        (
          counted.e1 & 128
        ) <> 0
        AND (
          (
            counted.e1 & 256
          ) <> 0 OR COALESCE(counted.a1_0 > counted.p1_0, FALSE)
        )
      )
      THEN 5
      WHEN (
        counted.e1 & 64
      ) <> 0
      THEN 4
      WHEN (
        counted.e1 & 8
      ) <> 0
      OR BIT_COUNT(CAST(counted.d1_4 AS BIT(64))) >= 3
      OR BIT_COUNT(CAST(counted.d1_5 AS BIT(64))) >= 2
      THEN 3
      WHEN (
        counted.e1 & 2
      ) <> 0 OR (
        counted.e1 & 4
      ) <> 0
      THEN 2
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 1
    END AS INT) AS stage_rank
  FROM dream_mind__counted AS counted
), dream_mind AS (
  SELECT
    staged.days_before AS days_before,
    staged.snapshot_date AS snapshot_date,
    staged.user_id AS user_id,
    staged.brand AS brand,
    staged.stage AS stage,
    staged.stage_rank AS stage_rank
  FROM dream_mind__staged AS staged
  WHERE
    NOT staged.stage IS NULL
), dream_structure__totals AS (
  SELECT
    dream_mind.brand AS brand,
    COUNT(*) AS total
  FROM dream_mind AS dream_mind
  WHERE
    dream_mind.days_before = 0
  GROUP BY
    dream_mind.brand
), dream_structure__counts AS (
  SELECT
    dream_mind.brand AS brand,
    dream_mind.stage AS stage,
    COUNT(*) AS users
  FROM dream_mind AS dream_mind
  WHERE
    dream_mind.days_before = 0
  GROUP BY
    dream_mind.brand,
    dream_mind.stage
), dream_structure AS (
  SELECT
    t.brand AS brand,
    k.stage AS stage,
    COALESCE(c.users, 0) AS users,
    t.total AS total,
    CAST(COALESCE(c.users, 0) AS DOUBLE PRECISION) / NULLIF(t.total, 0) AS share
  FROM dream_structure__totals AS t
  CROSS JOIN (
    SELECT
      UNNEST(ARRAY['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) AS stage
  ) AS k
  LEFT JOIN dream_structure__counts AS c
    ON c.brand = t.brand AND c.stage = k.stage
), dream_reference__per_stage AS (
  SELECT
    m.category AS category,
    s.stage AS stage,
    (
      CAST((
        CAST(PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY
          s.share) AS DOUBLE PRECISION) + CAST(-PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY
          -(
            s.share
          )) AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / 2
    ) AS median_share,
    (
      CAST((
        CAST(PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY
          s.total) AS DOUBLE PRECISION) + CAST(-PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY
          -(
            s.total
          )) AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / 2
    ) AS median_total,
    COUNT(*) AS brands
  FROM dream_main_category AS m
  JOIN dream_structure AS s
    ON s.brand = m.brand
  GROUP BY
    m.category,
    s.stage
), dream_reference__norms AS (
  SELECT
    per_stage.category AS category,
    SUM(per_stage.median_share) AS norm
  FROM dream_reference__per_stage AS per_stage
  GROUP BY
    per_stage.category
), dream_reference AS (
  SELECT
    p.category AS category,
    p.stage AS stage,
    p.median_share AS median_share,
    p.median_total AS median_total,
    p.brands AS brands,
    n.norm AS norm
  FROM dream_reference__per_stage AS p
  JOIN dream_reference__norms AS n
    ON p.category = n.category
), q__totals AS (
  SELECT DISTINCT
    dream_structure.brand AS brand,
    dream_structure.total AS total
  FROM dream_structure AS dream_structure
), q__medians AS (
  SELECT DISTINCT
    dream_reference.category AS category,
    dream_reference.median_total AS median_total
  FROM dream_reference AS dream_reference
)
SELECT
  b.brand AS brand,
  CASE WHEN NOT r.category IS NULL THEN t.total END AS numerator,
  r.median_total AS denominator,
  CAST(100 * t.total AS DOUBLE PRECISION) / NULLIF(r.median_total, 0) AS value
FROM brands AS b
LEFT JOIN dream_main_category AS m
  ON m.brand = b.brand
LEFT JOIN q__totals AS t
  ON t.brand = b.brand
LEFT JOIN q__medians AS r
  ON r.category = m.category
