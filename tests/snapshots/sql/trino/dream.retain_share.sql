-- dream.retain_share: Retained share of buyers (dream), written for trino by brandlens sql
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
    BITWISE_OR(
      BITWISE_OR(
        BITWISE_OR(
          BITWISE_OR(
            BITWISE_OR(
              BITWISE_OR(
                BITWISE_OR(
                  BITWISE_OR(
                    BITWISE_OR(
                      BITWISE_OR(
                        (
                          CASE
                            WHEN CONTAINS(ARRAY['ad_impression', 'content_view'], events.event_type)
                            THEN 1
                            ELSE 0
                          END
                        ),
                        (
                          CASE
                            WHEN CONTAINS(ARRAY['ad_click', 'store_visit', 'follow', 'product_view'], events.event_type)
                            THEN 2
                            ELSE 0
                          END
                        )
                      ),
                      (
                        CASE
                          WHEN CONTAINS(ARRAY['search'], events.event_type) AND events."query_type" = 'brand'
                          THEN 4
                          ELSE 0
                        END
                      )
                    ),
                    (
                      CASE
                        WHEN CONTAINS(ARRAY['add_to_cart', 'consult', 'favorite', 'coupon_claim'], events.event_type)
                        THEN 8
                        ELSE 0
                      END
                    )
                  ),
                  (
                    CASE WHEN CONTAINS(ARRAY['product_view'], events.event_type) THEN 16 ELSE 0 END
                  )
                ),
                (
                  CASE
                    WHEN CONTAINS(ARRAY['search'], events.event_type) AND events."query_type" = 'brand'
                    THEN 32
                    ELSE 0
                  END
                )
              ),
              (
                CASE WHEN CONTAINS(ARRAY['purchase'], events.event_type) THEN 64 ELSE 0 END
              )
            ),
            (
              CASE WHEN CONTAINS(ARRAY['purchase'], events.event_type) THEN 128 ELSE 0 END
            )
          ),
          (
            CASE
              WHEN CONTAINS(ARRAY['after_sales', 'review', 'share', 'member_join'], events.event_type)
              THEN 256
              ELSE 0
            END
          )
        ),
        (
          CASE
            WHEN CONTAINS(ARRAY['purchase'], events.event_type)
            AND CONTAINS(ARRAY['phone_accessories'], events."category")
            THEN 512
            ELSE 0
          END
        )
      ),
      (
        CASE
          WHEN CONTAINS(ARRAY['purchase'], events.event_type)
          AND NOT CONTAINS(ARRAY['phone_accessories'], events."category")
          THEN 1024
          ELSE 0
        END
      )
    ) AS _flags
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
    AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
    AND (
      (
        CONTAINS(ARRAY['ad_impression', 'content_view'], events.event_type)
        AND events.local_date > DATE_ADD('DAY', 60 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      OR (
        CONTAINS(
          ARRAY['ad_click', 'add_to_cart', 'consult', 'coupon_claim', 'favorite', 'follow', 'product_view', 'search', 'store_visit'],
          events.event_type
        )
        AND events.local_date > DATE_ADD('DAY', 90 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      OR (
        CONTAINS(ARRAY['after_sales', 'member_join', 'review', 'share'], events.event_type)
        AND events.local_date > DATE_ADD('DAY', 395 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      OR (
        CONTAINS(ARRAY['purchase'], events.event_type)
        AND events.local_date > DATE_ADD('DAY', 760 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
    )
), dream_mind__counted AS (
  SELECT
    days.user_id AS user_id,
    days.brand AS brand,
    BITWISE_OR_AGG(
      CASE
        WHEN days.local_date <= (
          DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        THEN BITWISE_AND(
          days._flags,
          (
            BITWISE_OR(
              BITWISE_OR(
                BITWISE_OR(
                  (
                    CASE
                      WHEN days.local_date > DATE_ADD('DAY', 30 * -1, (
                        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
                      ))
                      THEN 1
                      ELSE 0
                    END
                  ),
                  (
                    CASE
                      WHEN days.local_date > DATE_ADD('DAY', 60 * -1, (
                        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
                      ))
                      THEN 14
                      ELSE 0
                    END
                  )
                ),
                (
                  CASE
                    WHEN days.local_date > DATE_ADD('DAY', 730 * -1, (
                      CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
                    ))
                    THEN 192
                    ELSE 0
                  END
                )
              ),
              (
                CASE
                  WHEN days.local_date > DATE_ADD('DAY', 365 * -1, (
                    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
                  ))
                  THEN 256
                  ELSE 0
                END
              )
            )
          )
        )
        ELSE 0
      END
    ) AS e0,
    BITWISE_OR_AGG(
      CASE
        WHEN (
          (
            BITWISE_AND(days._flags, 16)
          ) <> 0
        )
        AND days.local_date <= (
          DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        AND days.local_date > DATE_ADD('DAY', 60 * -1, (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ))
        THEN BITWISE_LEFT_SHIFT(
          CAST(1 AS BIGINT),
          CAST(DATE_DIFF(
            'DAY',
            DATE_TRUNC('DAY', days.local_date),
            DATE_TRUNC('DAY', (
              DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
            ))
          ) AS INTEGER)
        )
        ELSE 0
      END
    ) AS d0_4,
    BITWISE_OR_AGG(
      CASE
        WHEN (
          (
            BITWISE_AND(days._flags, 32)
          ) <> 0
        )
        AND days.local_date <= (
          DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        AND days.local_date > DATE_ADD('DAY', 60 * -1, (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
        ))
        THEN BITWISE_LEFT_SHIFT(
          CAST(1 AS BIGINT),
          CAST(DATE_DIFF(
            'DAY',
            DATE_TRUNC('DAY', days.local_date),
            DATE_TRUNC('DAY', (
              DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
            ))
          ) AS INTEGER)
        )
        ELSE 0
      END
    ) AS d0_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          BITWISE_AND(days._flags, 512)
        ) <> 0
      )
      AND days.local_date <= (
        DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      AND days.local_date > DATE_ADD('DAY', 365 * -1, (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ))) AS a0_0,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          BITWISE_AND(days._flags, 1024)
        ) <> 0
      )
      AND days.local_date <= (
        DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      AND days.local_date > DATE_ADD('DAY', 730 * -1, (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 0
      ))) AS p0_0,
    BITWISE_OR_AGG(
      CASE
        WHEN days.local_date <= (
          DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        THEN BITWISE_AND(
          days._flags,
          (
            BITWISE_OR(
              BITWISE_OR(
                BITWISE_OR(
                  (
                    CASE
                      WHEN days.local_date > DATE_ADD('DAY', 30 * -1, (
                        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
                      ))
                      THEN 1
                      ELSE 0
                    END
                  ),
                  (
                    CASE
                      WHEN days.local_date > DATE_ADD('DAY', 60 * -1, (
                        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
                      ))
                      THEN 14
                      ELSE 0
                    END
                  )
                ),
                (
                  CASE
                    WHEN days.local_date > DATE_ADD('DAY', 730 * -1, (
                      CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
                    ))
                    THEN 192
                    ELSE 0
                  END
                )
              ),
              (
                CASE
                  WHEN days.local_date > DATE_ADD('DAY', 365 * -1, (
                    CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
                  ))
                  THEN 256
                  ELSE 0
                END
              )
            )
          )
        )
        ELSE 0
      END
    ) AS e1,
    BITWISE_OR_AGG(
      CASE
        WHEN (
          (
            BITWISE_AND(days._flags, 16)
          ) <> 0
        )
        AND days.local_date <= (
          DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        AND days.local_date > DATE_ADD('DAY', 60 * -1, (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ))
        THEN BITWISE_LEFT_SHIFT(
          CAST(1 AS BIGINT),
          CAST(DATE_DIFF(
            'DAY',
            DATE_TRUNC('DAY', days.local_date),
            DATE_TRUNC('DAY', (
              DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
            ))
          ) AS INTEGER)
        )
        ELSE 0
      END
    ) AS d1_4,
    BITWISE_OR_AGG(
      CASE
        WHEN (
          (
            BITWISE_AND(days._flags, 32)
          ) <> 0
        )
        AND days.local_date <= (
          DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
        )
        AND days.local_date > DATE_ADD('DAY', 60 * -1, (
          CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
        ))
        THEN BITWISE_LEFT_SHIFT(
          CAST(1 AS BIGINT),
          CAST(DATE_DIFF(
            'DAY',
            DATE_TRUNC('DAY', days.local_date),
            DATE_TRUNC('DAY', (
              DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
            ))
          ) AS INTEGER)
        )
        ELSE 0
      END
    ) AS d1_5,
    MAX(days.local_date) FILTER(WHERE
      (
        (
          BITWISE_AND(days._flags, 512)
        ) <> 0
      )
      AND days.local_date <= (
        DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      AND days.local_date > DATE_ADD('DAY', 365 * -1, (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ))) AS a1_0,
    MIN(days.local_date) FILTER(WHERE
      (
        (
          BITWISE_AND(days._flags, 1024)
        ) <> 0
      )
      AND days.local_date <= (
        DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE))
      )
      AND days.local_date > DATE_ADD('DAY', 730 * -1, (
        CAST(CAST('2025-06-30' AS DATE) AS DATE) - 30
      ))) AS p1_0
  FROM dream_mind__days AS days
  GROUP BY
    days.user_id,
    days.brand
), dream_mind__staged AS (
  SELECT
    CAST(0 AS INTEGER) AS days_before,
    DATE_ADD('DAY', 0 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE)) AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN (
        (
          BITWISE_AND(counted.e0, 128)
        ) <> 0
        AND (
          (
            BITWISE_AND(counted.e0, 256)
          ) <> 0
          OR COALESCE(counted.a0_0 > counted.p0_0, FALSE)
        )
      )
      THEN 'Retain'
      WHEN (
        BITWISE_AND(counted.e0, 64)
      ) <> 0
      THEN 'Purchase'
      WHEN (
        BITWISE_AND(counted.e0, 8)
      ) <> 0
      OR BIT_COUNT(counted.d0_4, 64) >= 3
      OR BIT_COUNT(counted.d0_5, 64) >= 2
      THEN 'Consider'
      WHEN (
        BITWISE_AND(counted.e0, 2)
      ) <> 0 OR (
        BITWISE_AND(counted.e0, 4)
      ) <> 0
      THEN 'Appeal'
      WHEN (
        BITWISE_AND(counted.e0, 1)
      ) <> 0
      THEN 'Aware'
    END AS stage,
    CAST(CASE
      WHEN (
        (
          BITWISE_AND(counted.e0, 128)
        ) <> 0
        AND (
          (
            BITWISE_AND(counted.e0, 256)
          ) <> 0
          OR COALESCE(counted.a0_0 > counted.p0_0, FALSE)
        )
      )
      THEN 5
      WHEN (
        BITWISE_AND(counted.e0, 64)
      ) <> 0
      THEN 4
      WHEN (
        BITWISE_AND(counted.e0, 8)
      ) <> 0
      OR BIT_COUNT(counted.d0_4, 64) >= 3
      OR BIT_COUNT(counted.d0_5, 64) >= 2
      THEN 3
      WHEN (
        BITWISE_AND(counted.e0, 2)
      ) <> 0 OR (
        BITWISE_AND(counted.e0, 4)
      ) <> 0
      THEN 2
      WHEN (
        BITWISE_AND(counted.e0, 1)
      ) <> 0
      THEN 1
    END AS INTEGER) AS stage_rank
  FROM dream_mind__counted AS counted
  UNION ALL
  SELECT
    CAST(30 AS INTEGER) AS days_before,
    DATE_ADD('DAY', 30 * -1, CAST(CAST('2025-06-30' AS DATE) AS DATE)) AS snapshot_date,
    counted.user_id AS user_id,
    counted.brand AS brand,
    CASE
      WHEN (
        (
          BITWISE_AND(counted.e1, 128)
        ) <> 0
        AND (
          (
            BITWISE_AND(counted.e1, 256)
          ) <> 0
          OR COALESCE(counted.a1_0 > counted.p1_0, FALSE)
        )
      )
      THEN 'Retain'
      WHEN (
        BITWISE_AND(counted.e1, 64)
      ) <> 0
      THEN 'Purchase'
      WHEN (
        BITWISE_AND(counted.e1, 8)
      ) <> 0
      OR BIT_COUNT(counted.d1_4, 64) >= 3
      OR BIT_COUNT(counted.d1_5, 64) >= 2
      THEN 'Consider'
      WHEN (
        BITWISE_AND(counted.e1, 2)
      ) <> 0 OR (
        BITWISE_AND(counted.e1, 4)
      ) <> 0
      THEN 'Appeal'
      WHEN (
        BITWISE_AND(counted.e1, 1)
      ) <> 0
      THEN 'Aware'
    END AS stage,
    CAST(CASE
      WHEN (
        (
          BITWISE_AND(counted.e1, 128)
        ) <> 0
        AND (
          (
            BITWISE_AND(counted.e1, 256)
          ) <> 0
          OR COALESCE(counted.a1_0 > counted.p1_0, FALSE)
        )
      )
      THEN 5
      WHEN (
        BITWISE_AND(counted.e1, 64)
      ) <> 0
      THEN 4
      WHEN (
        BITWISE_AND(counted.e1, 8)
      ) <> 0
      OR BIT_COUNT(counted.d1_4, 64) >= 3
      OR BIT_COUNT(counted.d1_5, 64) >= 2
      THEN 3
      WHEN (
        BITWISE_AND(counted.e1, 2)
      ) <> 0 OR (
        BITWISE_AND(counted.e1, 4)
      ) <> 0
      THEN 2
      WHEN (
        BITWISE_AND(counted.e1, 1)
      ) <> 0
      THEN 1
    END AS INTEGER) AS stage_rank
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
)
SELECT
  b.brand AS brand,
  COUNT(l.user_id) FILTER(WHERE
    l.stage = 'Retain') AS numerator,
  COUNT(l.user_id) FILTER(WHERE
    l.stage IN ('Purchase', 'Retain')) AS denominator,
  CASE
    WHEN COUNT(l.user_id) FILTER(WHERE
      l.stage IN ('Purchase', 'Retain')) = 0
    THEN NULL
    ELSE CAST(COUNT(l.user_id) FILTER(WHERE
      l.stage = 'Retain') AS DOUBLE) / NULLIF(COUNT(l.user_id) FILTER(WHERE
      l.stage IN ('Purchase', 'Retain')), 0)
  END AS value
FROM brands AS b
LEFT JOIN dream_mind AS l
  ON l.brand = b.brand AND l.days_before = 0
GROUP BY
  b.brand
