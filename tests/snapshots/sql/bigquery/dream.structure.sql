-- dream.structure: Asset structure (dream), written for bigquery by brandlens sql
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
        ORDER BY events.ts DESC, (
          events.event_type = 'member_leave'
        ) DESC, events.event_id DESC
      ) AS rn
    FROM events AS events
    WHERE
      events.event_type IN ('member_join', 'member_leave')
      AND NOT events.brand IS NULL
      AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
  ) AS latest
  WHERE
    latest.rn = 1 AND latest.event_type = 'member_join'
), dream_mind__days AS (
  SELECT
    events.user_id AS user_id,
    events.brand AS brand,
    events.local_date AS local_date,
    (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['ad_impression', 'content_view']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 1
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['ad_click', 'store_visit', 'follow', 'product_view']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 2
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['search']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.`query_type` = 'brand'
        THEN 4
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['add_to_cart', 'consult', 'favorite', 'coupon_claim']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 8
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['product_view']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 16
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['search']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.`query_type` = 'brand'
        THEN 32
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 64
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 128
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['after_sales', 'review', 'share', 'member_join']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 256
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        AND EXISTS(
          SELECT
            1
          FROM UNNEST(['phone_accessories']) AS _col
          WHERE
            _col = events.`category`
        )
        THEN 512
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        AND NOT EXISTS(
          SELECT
            1
          FROM UNNEST(['phone_accessories']) AS _col
          WHERE
            _col = events.`category`
        )
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
        EXISTS(
          SELECT
            1
          FROM UNNEST(['ad_impression', 'content_view']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 60 DAY)
      )
      OR (
        EXISTS(
          SELECT
            1
          FROM UNNEST([
            'ad_click',
            'add_to_cart',
            'consult',
            'coupon_claim',
            'favorite',
            'follow',
            'product_view',
            'search',
            'store_visit'
          ]) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 90 DAY)
      )
      OR (
        EXISTS(
          SELECT
            1
          FROM UNNEST(['after_sales', 'member_join', 'review', 'share']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 395 DAY)
      )
      OR (
        EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 760 DAY)
      )
    )
), dream_mind__counted AS (
  SELECT
    days.user_id AS user_id,
    days.brand AS brand,
    BIT_OR(
      CASE
        WHEN days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 30 DAY)
              THEN 1
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 60 DAY)
              THEN 14
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 730 DAY)
              THEN 192
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 365 DAY)
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
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ), INTERVAL 60 DAY)
        THEN CAST(1 AS INT64) << CAST(DATE_DIFF(
          (
            DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
          ),
          days.local_date,
          DAY
        ) AS INT64)
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
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ), INTERVAL 60 DAY)
        THEN CAST(1 AS INT64) << CAST(DATE_DIFF(
          (
            DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
          ),
          days.local_date,
          DAY
        ) AS INT64)
        ELSE 0
      END
    ) AS d0_5,
    MAX(
      IF(
        (
          (
            days._flags & 512
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ), INTERVAL 365 DAY),
        days.local_date,
        NULL
      )
    ) AS a0_0,
    MIN(
      IF(
        (
          (
            days._flags & 1024
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ), INTERVAL 730 DAY),
        days.local_date,
        NULL
      )
    ) AS p0_0,
    BIT_OR(
      CASE
        WHEN days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ), INTERVAL 30 DAY)
              THEN 1
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ), INTERVAL 60 DAY)
              THEN 14
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ), INTERVAL 730 DAY)
              THEN 192
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
              ), INTERVAL 365 DAY)
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
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ), INTERVAL 60 DAY)
        THEN CAST(1 AS INT64) << CAST(DATE_DIFF(
          (
            DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
          ),
          days.local_date,
          DAY
        ) AS INT64)
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
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ), INTERVAL 60 DAY)
        THEN CAST(1 AS INT64) << CAST(DATE_DIFF(
          (
            DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
          ),
          days.local_date,
          DAY
        ) AS INT64)
        ELSE 0
      END
    ) AS d1_5,
    MAX(
      IF(
        (
          (
            days._flags & 512
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ), INTERVAL 365 DAY),
        days.local_date,
        NULL
      )
    ) AS a1_0,
    MIN(
      IF(
        (
          (
            days._flags & 1024
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ), INTERVAL 730 DAY),
        days.local_date,
        NULL
      )
    ) AS p1_0
  FROM dream_mind__days AS days
  GROUP BY
    days.user_id,
    days.brand
), dream_mind__staged AS (
  SELECT
    CAST(0 AS INT64) AS days_before,
    DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY) AS snapshot_date,
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
      OR bit_count(counted.d0_4) >= 3
      OR bit_count(counted.d0_5) >= 2
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
      OR bit_count(counted.d0_4) >= 3
      OR bit_count(counted.d0_5) >= 2
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
    END AS INT64) AS stage_rank
  FROM dream_mind__counted AS counted
  UNION ALL
  SELECT
    CAST(30 AS INT64) AS days_before,
    DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 30 DAY) AS snapshot_date,
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
      OR bit_count(counted.d1_4) >= 3
      OR bit_count(counted.d1_5) >= 2
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
      OR bit_count(counted.d1_4) >= 3
      OR bit_count(counted.d1_5) >= 2
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
    END AS INT64) AS stage_rank
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
    CAST(COALESCE(c.users, 0) AS FLOAT64) / NULLIF(t.total, 0) AS share
  FROM dream_structure__totals AS t
  CROSS JOIN (
    SELECT
      IF(pos = pos_2, stage, NULL) AS stage
    FROM UNNEST(GENERATE_ARRAY(
      0,
      GREATEST(ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain'])) - 1
    )) AS pos
    CROSS JOIN UNNEST(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) AS stage WITH OFFSET AS pos_2
    WHERE
      pos = pos_2
      OR (
        pos > (
          ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) - 1
        )
        AND pos_2 = (
          ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) - 1
        )
      )
  ) AS k
  LEFT JOIN dream_structure__counts AS c
    ON c.brand = t.brand AND c.stage = k.stage
)
SELECT
  b.brand AS brand,
  k.key AS key,
  COALESCE(s.users, 0) AS numerator,
  COALESCE(s.total, 0) AS denominator,
  CASE
    WHEN COALESCE(s.total, 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(s.users, 0) AS FLOAT64) / NULLIF(COALESCE(s.total, 0), 0)
  END AS value
FROM brands AS b
CROSS JOIN (
  SELECT
    IF(pos = pos_2, key, NULL) AS key
  FROM UNNEST(GENERATE_ARRAY(
    0,
    GREATEST(ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain'])) - 1
  )) AS pos
  CROSS JOIN UNNEST(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) AS key WITH OFFSET AS pos_2
  WHERE
    pos = pos_2
    OR (
      pos > (
        ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) - 1
      )
      AND pos_2 = (
        ARRAY_LENGTH(['Aware', 'Appeal', 'Consider', 'Purchase', 'Retain']) - 1
      )
    )
) AS k
LEFT JOIN dream_structure AS s
  ON s.brand = b.brand AND s.stage = k.key
