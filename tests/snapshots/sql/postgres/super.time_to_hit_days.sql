-- super.time_to_hit_days: Time to Hit (super), written for postgres by brandlens sql
-- as of 2025-06-30; parameters exit_days=60, flow_period_days=28, growth_threshold=0.2, history_weeks=52, hit_top_share=0.1, new_days=90, quality_window_days=90, rating_window_days=365, recent_days=28
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
), super_products__ev AS (
  SELECT
    events.brand AS brand,
    events.product_id AS product_id,
    events.category AS category,
    events.local_date AS local_date
  FROM events AS events
  WHERE
    NOT events.brand IS NULL
    AND NOT events.product_id IS NULL
    AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
    AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - (
      GREATEST(7 * (
        52 - 1
      ), 28) + GREATEST(90 + 1, 60 + 2, 2 * 28)
    )
), super_products__seen AS (
  SELECT
    ev.brand AS brand,
    ev.product_id AS product_id,
    MIN(ev.local_date) AS first_event
  FROM super_products__ev AS ev
  GROUP BY
    ev.brand,
    ev.product_id
), super_products__cats AS (
  SELECT
    ev.brand AS brand,
    ev.product_id AS product_id,
    ev.category AS category,
    ROW_NUMBER() OVER (
      PARTITION BY ev.brand, ev.product_id
      ORDER BY COUNT(*) DESC NULLS LAST, ev.category COLLATE "C"
    ) AS rn
  FROM super_products__ev AS ev
  WHERE
    NOT ev.category IS NULL
  GROUP BY
    ev.brand,
    ev.product_id,
    ev.category
), super_products__known AS (
  SELECT
    seen.brand AS brand,
    seen.product_id AS product_id
  FROM super_products__seen AS seen
  UNION
  SELECT
    products.brand AS brand,
    products.product_id AS product_id
  FROM products AS products
  WHERE
    NOT products.brand IS NULL
    AND products.launch_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
), super_products AS (
  SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY k.brand COLLATE "C", k.product_id COLLATE "C") AS INT) AS pkey,
    k.brand AS brand,
    k.product_id AS product_id,
    COALESCE(p.category, c.category, '(uncategorised)') AS category,
    COALESCE(p.launch_date, s.first_event) AS launch_date,
    CASE
      WHEN NOT p.launch_date IS NULL
      THEN 'products'
      WHEN s.first_event = CAST(CAST('2025-06-30' AS DATE) AS DATE) - (
        GREATEST(7 * (
          52 - 1
        ), 28) + GREATEST(90 + 1, 60 + 2, 2 * 28)
      ) + 1
      THEN 'horizon'
      ELSE 'first event'
    END AS launch_source,
    LEAST(s.first_event, CASE WHEN p.brand = k.brand THEN p.launch_date END) AS known_from
  FROM super_products__known AS k
  LEFT JOIN super_products__seen AS s
    ON s.brand = k.brand AND s.product_id = k.product_id
  LEFT JOIN super_products__cats AS c
    ON c.brand = k.brand AND c.product_id = k.product_id AND c.rn = 1
  LEFT JOIN products AS p
    ON p.product_id = k.product_id AND (
      p.brand = k.brand OR p.brand IS NULL
    )
), super_daily__days AS (
  SELECT
    events.brand AS brand,
    events.product_id AS product_id,
    events.local_date AS local_date,
    COUNT(*) AS purchases,
    SUM(events.amount) AS gmv
  FROM events AS events
  WHERE
    events.event_type = 'purchase'
    AND NOT events.brand IS NULL
    AND NOT events.product_id IS NULL
    AND events.local_date <= CAST(CAST('2025-06-30' AS DATE) AS DATE)
    AND events.local_date > CAST(CAST('2025-06-30' AS DATE) AS DATE) - (
      GREATEST(7 * (
        52 - 1
      ), 28) + GREATEST(90 + 1, 60 + 2, 2 * 28)
    )
  GROUP BY
    events.brand,
    events.product_id,
    events.local_date
), super_daily AS (
  SELECT
    p.pkey AS pkey,
    d.local_date AS local_date,
    d.purchases AS purchases,
    d.gmv AS gmv
  FROM super_daily__days AS d
  JOIN super_products AS p
    ON p.brand = d.brand AND p.product_id = d.product_id
), super_snapshots AS (
  SELECT
    _0.days_before AS days_before,
    CAST(CAST('2025-06-30' AS DATE) AS DATE) - _0.days_before AS snapshot_date,
    BOOL_OR(_0.weekly) AS weekly
  FROM (
    SELECT
      CAST(GENERATE_SERIES(0, 7 * 52 - 1, 7) AS INT) AS days_before,
      TRUE AS weekly
    UNION ALL
    SELECT
      CAST(28 AS INT) AS "28",
      FALSE AS _col_1
  ) AS _0
  GROUP BY
    _0.days_before
), super_sales__windows AS (
  SELECT
    s.days_before AS days_before,
    s.snapshot_date AS snapshot_date,
    s.weekly AS weekly,
    d.pkey AS pkey,
    SUM(d.gmv) AS recent,
    SUM(d.purchases) FILTER(WHERE
      d.local_date > s.snapshot_date - 60) AS exit_purchases
  FROM super_daily AS d
  JOIN super_snapshots AS s
    ON d.local_date <= s.snapshot_date AND d.local_date > s.snapshot_date - 28
  GROUP BY
    s.days_before,
    s.snapshot_date,
    s.weekly,
    d.pkey
  HAVING
    SUM(d.gmv) > 0
), super_sales__ranked AS (
  SELECT
    w.days_before AS days_before,
    w.snapshot_date AS snapshot_date,
    w.weekly AS weekly,
    w.pkey AS pkey,
    w.recent AS recent,
    w.exit_purchases AS exit_purchases,
    p.launch_date AS launch_date,
    RANK() OVER (PARTITION BY w.days_before, p.category ORDER BY w.recent DESC NULLS LAST) AS category_rank,
    COUNT(*) OVER (PARTITION BY w.days_before, p.category) AS category_selling
  FROM super_sales__windows AS w
  JOIN super_products AS p
    ON p.pkey = w.pkey
), super_sales AS (
  SELECT
    ranked.days_before AS days_before,
    ranked.snapshot_date AS snapshot_date,
    ranked.weekly AS weekly,
    ranked.pkey AS pkey,
    ranked.recent AS recent,
    ranked.category_rank AS category_rank,
    ranked.category_selling AS category_selling,
    ranked.category_rank <= CEIL(CAST(0.1 AS DECIMAL(9, 6)) * ranked.category_selling)
    AND NOT (
      CAST(EXTRACT(epoch FROM CAST(ranked.snapshot_date AS TIMESTAMP) - CAST(ranked.launch_date AS TIMESTAMP)) / 86400 AS BIGINT) > 60
      AND COALESCE(ranked.exit_purchases, 0) = 0
    ) AS hit
  FROM super_sales__ranked AS ranked
), super_hits__oldest AS (
  SELECT
    MAX(super_snapshots.days_before) AS days_before
  FROM super_snapshots AS super_snapshots
  WHERE
    super_snapshots.weekly
), super_hits AS (
  SELECT
    p.brand AS brand,
    p.product_id AS product_id,
    p.launch_date AS launch_date,
    COUNT(*) AS weeks,
    MIN(h.snapshot_date) AS first_hit,
    BOOL_OR(h.days_before = o.days_before) AS hit_at_oldest
  FROM super_sales AS h
  JOIN super_products AS p
    ON p.pkey = h.pkey
  CROSS JOIN super_hits__oldest AS o
  WHERE
    h.weekly AND h.hit
  GROUP BY
    p.brand,
    p.product_id,
    p.launch_date
)
SELECT
  b.brand AS brand,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    CAST(EXTRACT(epoch FROM CAST(h.first_hit AS TIMESTAMP) - CAST(h.launch_date AS TIMESTAMP)) / 86400 AS BIGINT)) AS value
FROM brands AS b
LEFT JOIN super_hits AS h
  ON h.brand = b.brand AND NOT h.hit_at_oldest
GROUP BY
  b.brand
