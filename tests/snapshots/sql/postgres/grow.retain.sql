-- grow.retain: Retain (repurchase) (grow), written for postgres by brandlens sql
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
), grow_cells AS (
  SELECT
    grow_days.brand AS brand,
    grow_days.category AS category,
    grow_days.period AS period,
    COUNT(DISTINCT grow_days.user_id) AS n,
    COUNT(*) AS t,
    SUM(grow_days.gmv) AS gmv
  FROM grow_days AS grow_days
  GROUP BY
    grow_days.brand,
    grow_days.category,
    grow_days.period
), grow_terms__wide AS (
  SELECT
    grow_cells.brand AS brand,
    grow_cells.category AS category,
    COALESCE(MAX(grow_cells.n) FILTER(WHERE
      grow_cells.period = 0), 0) AS n0,
    COALESCE(MAX(grow_cells.t) FILTER(WHERE
      grow_cells.period = 0), 0) AS t0,
    COALESCE(MAX(grow_cells.gmv) FILTER(WHERE
      grow_cells.period = 0), 0) AS g0,
    COALESCE(MAX(grow_cells.n) FILTER(WHERE
      grow_cells.period = 1), 0) AS n1,
    COALESCE(MAX(grow_cells.t) FILTER(WHERE
      grow_cells.period = 1), 0) AS t1,
    COALESCE(MAX(grow_cells.gmv) FILTER(WHERE
      grow_cells.period = 1), 0) AS g1
  FROM grow_cells AS grow_cells
  GROUP BY
    grow_cells.brand,
    grow_cells.category
), grow_terms__typed AS (
  SELECT
    wide.brand AS brand,
    wide.category AS category,
    wide.n0 AS n0,
    wide.t0 AS t0,
    wide.g0 AS g0,
    wide.n1 AS n1,
    wide.t1 AS t1,
    wide.g1 AS g1,
    CAST(wide.g0 AS DOUBLE PRECISION) AS x0,
    CAST(wide.g1 AS DOUBLE PRECISION) AS x1,
    CASE
      WHEN wide.g0 > 0 AND wide.g1 > 0
      THEN 'continuing'
      WHEN wide.g1 > 0
      THEN 'new'
      WHEN wide.g0 > 0
      THEN 'dropped'
    END AS kind
  FROM grow_terms__wide AS wide
), grow_terms__lmdi AS (
  SELECT
    typed.brand AS brand,
    typed.category AS category,
    typed.n0 AS n0,
    typed.t0 AS t0,
    typed.g0 AS g0,
    typed.n1 AS n1,
    typed.t1 AS t1,
    typed.g1 AS g1,
    typed.x0 AS x0,
    typed.x1 AS x1,
    typed.kind AS kind,
    CASE
      WHEN typed.kind <> 'continuing'
      THEN NULL
      WHEN typed.x1 = typed.x0
      THEN typed.x1
      ELSE CAST((
        typed.x1 - typed.x0
      ) AS DOUBLE PRECISION) / NULLIF(LN(typed.x1) - LN(typed.x0), 0)
    END AS lm
  FROM grow_terms__typed AS typed
), grow_terms AS (
  SELECT
    lmdi.brand AS brand,
    lmdi.category AS category,
    lmdi.kind AS kind,
    lmdi.n0 AS n0,
    lmdi.t0 AS t0,
    lmdi.g0 AS g0,
    lmdi.n1 AS n1,
    lmdi.t1 AS t1,
    lmdi.g1 AS g1,
    CASE
      WHEN lmdi.kind = 'continuing'
      THEN lmdi.lm * LN(CAST(lmdi.n1 AS DOUBLE PRECISION) / NULLIF(lmdi.n0, 0))
      ELSE 0
    END AS g_term,
    CASE
      WHEN lmdi.kind = 'continuing'
      THEN lmdi.lm * LN(
        CAST((
          CAST(lmdi.t1 AS DOUBLE PRECISION) / NULLIF(lmdi.n1, 0)
        ) AS DOUBLE PRECISION) / NULLIF(CAST(lmdi.t0 AS DOUBLE PRECISION) / NULLIF(lmdi.n0, 0), 0)
      )
      ELSE 0
    END AS r_term,
    CASE
      WHEN lmdi.kind = 'continuing'
      THEN lmdi.lm * LN(
        CAST((
          lmdi.x1 / NULLIF(lmdi.t1, 0)
        ) AS DOUBLE PRECISION) / NULLIF(lmdi.x0 / NULLIF(lmdi.t0, 0), 0)
      )
      ELSE 0
    END AS o_term,
    CASE WHEN lmdi.kind = 'new' THEN lmdi.x1 ELSE 0 END AS w_term,
    CASE WHEN lmdi.kind = 'dropped' THEN -lmdi.x0 ELSE 0 END AS lost_term
  FROM grow_terms__lmdi AS lmdi
  WHERE
    NOT lmdi.kind IS NULL
)
SELECT
  b.brand AS brand,
  COALESCE(SUM(t.r_term), 0) AS value
FROM brands AS b
LEFT JOIN grow_terms AS t
  ON t.brand = b.brand
GROUP BY
  b.brand
