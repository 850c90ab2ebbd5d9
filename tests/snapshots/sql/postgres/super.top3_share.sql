-- super.top3_share: Top-3 product share (super), written for postgres by brandlens sql
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
), super_stages__snaps AS (
  SELECT
    super_snapshots.days_before AS days_before,
    super_snapshots.snapshot_date AS snapshot_date
  FROM super_snapshots AS super_snapshots
  WHERE
    super_snapshots.days_before = 0 OR super_snapshots.days_before = 28
), super_stages__base AS (
  SELECT
    s.days_before AS days_before,
    s.snapshot_date AS snapshot_date,
    p.pkey AS pkey,
    p.brand AS brand,
    p.product_id AS product_id,
    p.category AS category,
    p.launch_date AS launch_date
  FROM super_stages__snaps AS s
  JOIN super_products AS p
    ON p.known_from <= s.snapshot_date
), super_stages__windows AS (
  SELECT
    s.days_before AS days_before,
    d.pkey AS pkey,
    SUM(d.gmv) FILTER(WHERE
      d.local_date > s.snapshot_date - 28) AS recent,
    SUM(d.gmv) FILTER(WHERE
      d.local_date <= s.snapshot_date - 28 AND d.local_date > s.snapshot_date - 2 * 28) AS previous,
    SUM(d.purchases) FILTER(WHERE
      d.local_date > s.snapshot_date - 60) AS purchases
  FROM super_daily AS d
  JOIN super_stages__snaps AS s
    ON d.local_date <= s.snapshot_date
    AND d.local_date > s.snapshot_date - GREATEST(2 * 28, 60)
  GROUP BY
    s.days_before,
    d.pkey
), super_stages__selling AS (
  SELECT
    h.days_before AS days_before,
    p.category AS category,
    COUNT(*) AS n
  FROM super_sales AS h
  JOIN super_products AS p
    ON p.pkey = h.pkey
  WHERE
    h.days_before = 0 OR h.days_before = 28
  GROUP BY
    h.days_before,
    p.category
), super_stages__measured AS (
  SELECT
    b.days_before AS days_before,
    b.snapshot_date AS snapshot_date,
    b.pkey AS pkey,
    b.brand AS brand,
    b.product_id AS product_id,
    b.category AS category,
    b.launch_date AS launch_date,
    COALESCE(w.recent, 0) AS recent_gmv,
    COALESCE(w.previous, 0) AS previous_gmv,
    COALESCE(w.purchases, 0) AS exit_window_purchases,
    h.category_rank AS category_rank,
    COALESCE(c.n, 0) AS category_selling,
    COALESCE(h.hit, FALSE) AS hit
  FROM super_stages__base AS b
  LEFT JOIN super_stages__windows AS w
    ON w.days_before = b.days_before AND w.pkey = b.pkey
  LEFT JOIN super_sales AS h
    ON h.days_before = b.days_before AND h.pkey = b.pkey
  LEFT JOIN super_stages__selling AS c
    ON c.days_before = b.days_before AND c.category = b.category
), super_stages AS (
  SELECT
    measured.days_before AS days_before,
    measured.snapshot_date AS snapshot_date,
    measured.pkey AS pkey,
    measured.brand AS brand,
    measured.product_id AS product_id,
    measured.category AS category,
    measured.launch_date AS launch_date,
    measured.recent_gmv AS recent_gmv,
    measured.previous_gmv AS previous_gmv,
    measured.category_rank AS category_rank,
    measured.category_selling AS category_selling,
    CASE
      WHEN CAST(EXTRACT(epoch FROM CAST(measured.snapshot_date AS TIMESTAMP) - CAST(measured.launch_date AS TIMESTAMP)) / 86400 AS BIGINT) > 60
      AND measured.exit_window_purchases = 0
      THEN 'Exit'
      WHEN measured.hit
      THEN 'Hit'
      WHEN CAST(EXTRACT(epoch FROM CAST(measured.snapshot_date AS TIMESTAMP) - CAST(measured.launch_date AS TIMESTAMP)) / 86400 AS BIGINT) < 90
      THEN 'New'
      WHEN measured.recent_gmv > 0
      AND measured.recent_gmv >= (
        1 + CAST(0.2 AS DECIMAL(9, 6))
      ) * measured.previous_gmv
      THEN 'Growth'
      WHEN measured.recent_gmv <= (
        1 - CAST(0.2 AS DECIMAL(9, 6))
      ) * measured.previous_gmv
      THEN 'Decline'
      ELSE 'Mature'
    END AS stage
  FROM super_stages__measured AS measured
), q__ranked AS (
  SELECT
    super_stages.brand AS brand,
    super_stages.recent_gmv AS recent_gmv,
    ROW_NUMBER() OVER (
      PARTITION BY super_stages.brand
      ORDER BY super_stages.recent_gmv DESC NULLS LAST, super_stages.product_id COLLATE "C"
    ) AS rn
  FROM super_stages AS super_stages
  WHERE
    super_stages.days_before = 0
), q__totals AS (
  SELECT
    ranked.brand AS brand,
    SUM(ranked.recent_gmv) AS gmv,
    SUM(ranked.recent_gmv) FILTER(WHERE
      ranked.rn <= 3) AS top3
  FROM q__ranked AS ranked
  GROUP BY
    ranked.brand
)
SELECT
  b.brand AS brand,
  COALESCE(t.top3, 0) AS numerator,
  COALESCE(t.gmv, 0) AS denominator,
  CASE
    WHEN COALESCE(t.gmv, 0) = 0
    THEN NULL
    ELSE CAST(COALESCE(t.top3, 0) AS DOUBLE PRECISION) / NULLIF(t.gmv, 0)
  END AS value
FROM brands AS b
LEFT JOIN q__totals AS t
  ON t.brand = b.brand
