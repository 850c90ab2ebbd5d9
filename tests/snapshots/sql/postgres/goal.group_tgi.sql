-- goal.group_tgi: Target-group TGI (goal), written for postgres by brandlens sql
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
), goal_buyers AS (
  SELECT
    events.brand AS brand,
    events.user_id AS user_id,
    COUNT(DISTINCT events.local_date) FILTER(WHERE
      events.event_type = 'purchase') AS days,
    GREATEST(
      SUM(
        CASE WHEN events.event_type = 'purchase' THEN events.amount ELSE -events.amount END
      ),
      0
    ) AS gmv
  FROM events AS events
  WHERE
    events.event_type IN ('purchase', 'refund')
    AND NOT events.brand IS NULL
    AND events.local_date > CAST('2025-06-30' AS DATE) - 365
    AND events.local_date <= CAST('2025-06-30' AS DATE)
  GROUP BY
    events.brand,
    events.user_id
  HAVING
    COUNT(*) FILTER(WHERE
      events.event_type = 'purchase') > 0
), goal_group_buyers__groups AS (
  SELECT
    users.target_group AS target_group,
    COUNT(*) AS users
  FROM users AS users
  WHERE
    NOT users.target_group IS NULL
  GROUP BY
    users.target_group
), goal_group_buyers__all_users AS (
  SELECT
    SUM(groups.users) AS n
  FROM goal_group_buyers__groups AS groups
), goal_group_buyers__bought AS (
  SELECT
    x.brand AS brand,
    u.target_group AS target_group,
    COUNT(*) AS buyers
  FROM goal_buyers AS x
  JOIN users AS u
    ON u.user_id = x.user_id
  WHERE
    NOT u.target_group IS NULL
  GROUP BY
    x.brand,
    u.target_group
), goal_group_buyers__brand_total AS (
  SELECT
    bought.brand AS brand,
    SUM(bought.buyers) AS n
  FROM goal_group_buyers__bought AS bought
  GROUP BY
    bought.brand
), goal_group_buyers AS (
  SELECT
    b.brand AS brand,
    g.target_group AS target_group,
    g.users AS users,
    a.n AS all_users,
    COALESCE(x.buyers, 0) AS buyers,
    COALESCE(t.n, 0) AS brand_buyers,
    CASE
      WHEN COALESCE(t.n, 0) = 0
      THEN NULL
      ELSE CAST(100 * (
        CAST(COALESCE(x.buyers, 0) AS DOUBLE PRECISION) / NULLIF(t.n, 0)
      ) AS DOUBLE PRECISION) / NULLIF(CAST(g.users AS DOUBLE PRECISION) / NULLIF(a.n, 0), 0)
    END AS tgi
  FROM brands AS b
  CROSS JOIN goal_group_buyers__groups AS g
  CROSS JOIN goal_group_buyers__all_users AS a
  LEFT JOIN goal_group_buyers__bought AS x
    ON x.brand = b.brand AND x.target_group = g.target_group
  LEFT JOIN goal_group_buyers__brand_total AS t
    ON t.brand = b.brand
)
SELECT
  goal_group_buyers.brand AS brand,
  goal_group_buyers.target_group AS key,
  goal_group_buyers.buyers AS numerator,
  goal_group_buyers.brand_buyers AS denominator,
  goal_group_buyers.tgi AS value
FROM goal_group_buyers AS goal_group_buyers
