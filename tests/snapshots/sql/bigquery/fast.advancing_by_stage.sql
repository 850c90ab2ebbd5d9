-- fast.advancing_by_stage: Advancing by starting stage (fast), written for bigquery by brandlens sql
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
), aipl__days AS (
  SELECT
    events.user_id AS user_id,
    events.brand AS brand,
    events.local_date AS local_date,
    (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['ad_impression', 'content_view', 'product_view']) AS _col
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
          FROM UNNEST([
            'store_visit',
            'favorite',
            'add_to_cart',
            'follow',
            'consult',
            'coupon_claim',
            'member_join'
          ]) AS _col
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
          FROM UNNEST(['ad_click']) AS _col
          WHERE
            _col = events.event_type
        )
        THEN 4
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
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
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
          FROM UNNEST(['review']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.`rating` >= 4
        THEN 128
        ELSE 0
      END
    ) | (
      CASE
        WHEN EXISTS(
          SELECT
            1
          FROM UNNEST(['share']) AS _col
          WHERE
            _col = events.event_type
        )
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
        EXISTS(
          SELECT
            1
          FROM UNNEST([
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
          ]) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 22 DAY)
      )
      OR (
        EXISTS(
          SELECT
            1
          FROM UNNEST(['review', 'share']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 372 DAY)
      )
      OR (
        EXISTS(
          SELECT
            1
          FROM UNNEST(['purchase']) AS _col
          WHERE
            _col = events.event_type
        )
        AND events.local_date > DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 919 DAY)
      )
    )
), aipl__counted AS (
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
              ), INTERVAL 15 DAY)
              THEN 15
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 912 DAY)
              THEN 32
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
              ), INTERVAL 365 DAY)
              THEN 384
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e0,
    MIN(
      IF(
        (
          (
            days._flags & 64
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
    ) AS lo0_6,
    MAX(
      IF(
        (
          (
            days._flags & 64
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
    ) AS hi0_6,
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
        ), INTERVAL 15 DAY)
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
        WHEN days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY)
        )
        THEN days._flags & (
          (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ), INTERVAL 15 DAY)
              THEN 15
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ), INTERVAL 912 DAY)
              THEN 32
              ELSE 0
            END
          ) | (
            CASE
              WHEN days.local_date > DATE_SUB((
                CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
              ), INTERVAL 365 DAY)
              THEN 384
              ELSE 0
            END
          )
        )
        ELSE 0
      END
    ) AS e1,
    MIN(
      IF(
        (
          (
            days._flags & 64
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        ), INTERVAL 365 DAY),
        days.local_date,
        NULL
      )
    ) AS lo1_6,
    MAX(
      IF(
        (
          (
            days._flags & 64
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        ), INTERVAL 365 DAY),
        days.local_date,
        NULL
      )
    ) AS hi1_6,
    BIT_OR(
      CASE
        WHEN (
          (
            days._flags & 16
          ) <> 0
        )
        AND days.local_date <= (
          DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY)
        )
        AND days.local_date > DATE_SUB((
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 7
        ), INTERVAL 15 DAY)
        THEN CAST(1 AS INT64) << CAST(DATE_DIFF(
          (
            DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY)
          ),
          days.local_date,
          DAY
        ) AS INT64)
        ELSE 0
      END
    ) AS d1_4
  FROM aipl__days AS days
  GROUP BY
    days.user_id,
    days.brand
), aipl__staged AS (
  SELECT
    CAST(0 AS INT64) AS days_before,
    DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 0 DAY) AS snapshot_date,
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
      OR bit_count(counted.d0_4) >= 2
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
      OR bit_count(counted.d0_4) >= 2
      THEN 2
      WHEN (
        counted.e0 & 1
      ) <> 0
      THEN 1
    END AS INT64) AS stage_rank
  FROM aipl__counted AS counted
  UNION ALL
  SELECT
    CAST(7 AS INT64) AS days_before,
    DATE_SUB(CAST(CAST('2025-06-30' AS DATE) AS DATE), INTERVAL 7 DAY) AS snapshot_date,
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
      OR bit_count(counted.d1_4) >= 2
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
      OR bit_count(counted.d1_4) >= 2
      THEN 2
      WHEN (
        counted.e1 & 1
      ) <> 0
      THEN 1
    END AS INT64) AS stage_rank
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
), q__s0 AS (
  SELECT
    aipl.brand AS brand,
    aipl.user_id AS user_id,
    aipl.stage AS stage,
    aipl.stage_rank AS stage_rank
  FROM `aipl` AS aipl
  WHERE
    aipl.days_before = 7
), q__s1 AS (
  SELECT
    aipl.brand AS brand,
    aipl.user_id AS user_id,
    aipl.stage AS stage,
    aipl.stage_rank AS stage_rank
  FROM `aipl` AS aipl
  WHERE
    aipl.days_before = 0
), q__pairs AS (
  SELECT
    COALESCE(s0.brand, s1.brand) AS brand,
    COALESCE(s0.user_id, s1.user_id) AS user_id,
    COALESCE(s0.stage, 'none') AS from_stage,
    COALESCE(s1.stage, 'none') AS to_stage,
    COALESCE(s0.stage_rank, 0) AS r0,
    COALESCE(s1.stage_rank, 0) AS r1
  FROM q__s0 AS s0
  FULL OUTER JOIN q__s1 AS s1
    ON s0.brand = s1.brand AND s0.user_id = s1.user_id
)
SELECT
  b.brand AS brand,
  k.key AS key,
  COUNT(IF(p.r1 > p.r0, p.user_id, NULL)) AS numerator,
  COUNT(p.user_id) AS denominator,
  CASE
    WHEN COUNT(p.user_id) = 0
    THEN NULL
    ELSE CAST(COUNT(IF(p.r1 > p.r0, p.user_id, NULL)) AS FLOAT64) / NULLIF(COUNT(p.user_id), 0)
  END AS value
FROM brands AS b
CROSS JOIN (
  SELECT
    IF(pos = pos_2, key, NULL) AS key
  FROM UNNEST(GENERATE_ARRAY(0, GREATEST(ARRAY_LENGTH(['A', 'I', 'P'])) - 1)) AS pos
  CROSS JOIN UNNEST(['A', 'I', 'P']) AS key WITH OFFSET AS pos_2
  WHERE
    pos = pos_2
    OR (
      pos > (
        ARRAY_LENGTH(['A', 'I', 'P']) - 1
      )
      AND pos_2 = (
        ARRAY_LENGTH(['A', 'I', 'P']) - 1
      )
    )
) AS k
LEFT JOIN q__pairs AS p
  ON p.brand = b.brand AND p.from_stage = k.key
GROUP BY
  b.brand,
  k.key
