-- grow.value_growth: Value per purchase day growth (grow), written for postgres by brandlens sql
-- as of 2025-06-30; parameters period_days=365
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
), grow_days AS (
  SELECT
    events.brand AS brand,
    COALESCE(events.category, '(uncategorised)') AS category,
    events.user_id AS user_id,
    events.local_date AS local_date,
    CASE WHEN events.local_date > CAST('2025-06-30' AS DATE) - 365 THEN 1 ELSE 0 END AS period,
    SUM(events.amount) AS gmv
  FROM events AS events
  WHERE
    events.event_type = 'purchase'
    AND NOT events.brand IS NULL
    AND events.local_date <= CAST('2025-06-30' AS DATE)
    AND events.local_date > CAST('2025-06-30' AS DATE) - 2 * 365
  GROUP BY
    events.brand,
    COALESCE(events.category, '(uncategorised)'),
    events.user_id,
    events.local_date,
    CASE WHEN events.local_date > CAST('2025-06-30' AS DATE) - 365 THEN 1 ELSE 0 END
), grow_brand_totals__days AS (
  SELECT
    grow_days.brand AS brand,
    grow_days.user_id AS user_id,
    grow_days.local_date AS local_date,
    grow_days.period AS period,
    SUM(grow_days.gmv) AS gmv
  FROM grow_days AS grow_days
  GROUP BY
    grow_days.brand,
    grow_days.user_id,
    grow_days.local_date,
    grow_days.period
), grow_brand_totals AS (
  SELECT
    b.brand AS brand,
    COUNT(DISTINCT d.user_id) FILTER(WHERE
      d.period = 0) AS n0,
    COUNT(d.user_id) FILTER(WHERE
      d.period = 0) AS t0,
    CAST(COALESCE(SUM(d.gmv) FILTER(WHERE
      d.period = 0), 0) AS DOUBLE PRECISION) AS g0,
    COUNT(DISTINCT d.user_id) FILTER(WHERE
      d.period = 1) AS n1,
    COUNT(d.user_id) FILTER(WHERE
      d.period = 1) AS t1,
    CAST(COALESCE(SUM(d.gmv) FILTER(WHERE
      d.period = 1), 0) AS DOUBLE PRECISION) AS g1
  FROM brands AS b
  LEFT JOIN grow_brand_totals__days AS d
    ON d.brand = b.brand
  GROUP BY
    b.brand
)
SELECT
  grow_brand_totals.brand AS brand,
  CASE
    WHEN grow_brand_totals.t0 = 0 OR grow_brand_totals.t1 = 0 OR grow_brand_totals.g0 = 0
    THEN NULL
    ELSE CAST((
      grow_brand_totals.g1 / NULLIF(grow_brand_totals.t1, 0)
    ) AS DOUBLE PRECISION) / NULLIF(grow_brand_totals.g0 / NULLIF(grow_brand_totals.t0, 0), 0) - 1
  END AS value
FROM grow_brand_totals AS grow_brand_totals
