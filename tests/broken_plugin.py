"""A deliberately broken methodology: each indicator violates the one property it declares.

tests/test_verify.py proves that every property kind can fail and that the report
shows a small counterexample with the two values that disagreed.
"""

from __future__ import annotations

from pathlib import Path

import brandlens
from brandlens.plugin import Indicator, Methodology

SPEC = Path(__file__).with_name("broken.yaml")


def _sql(value: str, extra: str = "") -> str:
    return f"SELECT b.brand, {value} AS value {extra} FROM brands b"


def _purchasers(days_of: str) -> str:
    """Distinct purchasers per brand whose purchase day satisfies ``days_of``."""
    return (
        "SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b "
        "LEFT JOIN events e ON e.brand = b.brand AND e.event_type = 'purchase' "
        f"AND {days_of} GROUP BY b.brand"
    )


# Subtle violations: each is right on almost every log and wrong by one day, one user or
# one null on the cases the harness must probe on purpose.
SUBTLE = (
    # 31 days read, 30 declared: only an event on day 30 before as_of tells
    Indicator(
        id="broken.window_plus_one",
        sql=_purchasers("e.local_date > $as_of - 31 AND e.local_date <= $as_of"),
    ),
    # no upper bound: a purchase after as_of counts (a plugin-author review's indicator,
    # which passed every property before the window's probes added the day after as_of)
    Indicator(id="broken.window_future", sql=_purchasers("e.local_date > $as_of - 30")),
    # every brand's buyers of the last 30 days: the probes' other brand bought only 30
    # days back (outside the window) until each type was added on every probe day
    Indicator(
        id="broken.leak",
        sql="SELECT b.brand, (SELECT count(DISTINCT e.user_id) FROM events e "
        "WHERE e.event_type = 'purchase' AND e.local_date > $as_of - 30 "
        "AND e.local_date <= $as_of) AS value FROM brands b",
    ),
    # 365 days read, 30 declared
    Indicator(
        id="broken.window_365",
        sql=_purchasers("e.local_date > $as_of - 365 AND e.local_date <= $as_of"),
    ),
    # the UTC date instead of the local one: day 29 before as_of starts 8 hours late
    Indicator(
        id="broken.window_utc",
        sql=_purchasers("CAST(e.ts AS DATE) > $as_of - 30 AND CAST(e.ts AS DATE) <= $as_of"),
    ),
    # a calendar month: 31 days back from June 30, 28 from March 1
    Indicator(
        id="broken.month_window",
        sql=_purchasers(
            "e.local_date > CAST($as_of AS DATE) - INTERVAL 1 MONTH AND e.local_date <= $as_of"
        ),
    ),
    # sum() of no rows is null, the declared empty value is 0
    Indicator(
        id="broken.null_gmv",
        sql="SELECT b.brand, sum(e.amount) AS value FROM brands b LEFT JOIN events e "
        "ON e.brand = b.brand AND e.event_type = 'purchase' GROUP BY b.brand",
    ),
    # a buyer of two channels is in two parts: the parts exceed the total by one user
    Indicator(
        id="broken.channel_buyers",
        sql="SELECT e.brand, coalesce(e.channel, 'unknown') AS key, "
        "count(DISTINCT e.user_id) AS value FROM events e JOIN brands b ON b.brand = e.brand "
        "WHERE e.event_type = 'purchase' GROUP BY ALL",
    ),
    Indicator(id="broken.buyers", sql=_purchasers("TRUE")),
    Indicator(
        id="broken.buyer_kinds",
        sql="WITH d AS (SELECT brand, user_id, count(DISTINCT local_date) AS days FROM events "
        "WHERE event_type = 'purchase' GROUP BY ALL) "
        "SELECT b.brand, k.key, count(d.user_id) FILTER (WHERE (d.days >= 2) = "
        "(k.key = 'repeat')) AS value FROM brands b "
        "CROSS JOIN (SELECT unnest(['one_time', 'repeat']) AS key) k "
        "LEFT JOIN d ON d.brand = b.brand GROUP BY b.brand, k.key",
    ),
    # purchasers of the last 30 days and searchers for the brand, declared to read brand
    # searches only: a search for a category or anything else counts too
    Indicator(
        id="broken.any_search",
        sql="SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b LEFT JOIN "
        "events e ON e.brand = b.brand AND e.event_type IN ('purchase', 'search') "
        "AND e.local_date > $as_of - 30 AND e.local_date <= $as_of GROUP BY b.brand",
    ),
    # purchasers in any category, declared to read skincare purchases only (a purchase
    # with no category counts too)
    Indicator(id="broken.any_category", sql=_purchasers("TRUE")),
    # buyers of the last 30 days and users who shared 8 to 29 days back, declared to read
    # purchases only: no share on as_of changes it (found by a plugin-author review)
    Indicator(
        id="broken.lagged_share",
        sql="SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b LEFT JOIN "
        "events e ON e.brand = b.brand AND ((e.event_type = 'purchase' AND e.local_date > "
        "$as_of - 30) OR (e.event_type = 'share' AND e.local_date > $as_of - 30 AND "
        "e.local_date <= $as_of - 8)) AND e.local_date <= $as_of GROUP BY b.brand",
    ),
    # buyers, plus everyone who searched with no brand named, declared to read purchases
    # only: the harness never added an event without a brand (found by the same review)
    Indicator(
        id="broken.brandless_search",
        sql="SELECT b.brand, count(DISTINCT e.user_id) + (SELECT count(DISTINCT user_id) "
        "FROM events WHERE brand IS NULL AND event_type = 'search' AND local_date <= $as_of) "
        "AS value FROM brands b LEFT JOIN events e ON e.brand = b.brand "
        "AND e.event_type = 'purchase' AND e.local_date <= $as_of GROUP BY b.brand",
    ),
    # users with purchases on two or more days, but the days are UTC dates: two purchases
    # at the first and the last second of one local day (in Asia/Shanghai) fall on two
    Indicator(
        id="broken.utc_days",
        sql="SELECT b.brand, count(d.user_id) FILTER (WHERE d.days >= 2) AS value FROM "
        "brands b LEFT JOIN (SELECT brand, user_id, count(DISTINCT CAST(ts AS DATE)) AS days "
        "FROM events WHERE event_type = 'purchase' AND local_date <= $as_of GROUP BY ALL) d "
        "ON d.brand = b.brand GROUP BY b.brand",
    ),
    # users with purchases on three or more days, but the SQL asks for a span of three
    # days from the first to the last: two purchases 28 days apart count
    Indicator(
        id="broken.span_days",
        sql="SELECT b.brand, count(d.user_id) FILTER (WHERE d.span >= 3) AS value FROM "
        "brands b LEFT JOIN (SELECT brand, user_id, date_diff('day', min(local_date), "
        "max(local_date)) + 1 AS span FROM events WHERE event_type = 'purchase' AND "
        "local_date <= $as_of GROUP BY ALL) d ON d.brand = b.brand GROUP BY b.brand",
    ),
    # users with purchases on two or more days, but only if one of them is as_of
    Indicator(
        id="broken.today_days",
        sql="SELECT b.brand, count(d.user_id) FILTER (WHERE d.days >= 2 AND d.last = $as_of) "
        "AS value FROM brands b LEFT JOIN (SELECT brand, user_id, count(DISTINCT local_date) "
        "AS days, max(local_date) AS last FROM events WHERE event_type = 'purchase' AND "
        "local_date <= $as_of GROUP BY ALL) d ON d.brand = b.brand GROUP BY b.brand",
    ),
    # users with purchases on three or more days, but the SQL asks for fewer than three
    Indicator(
        id="broken.fewer_days",
        sql="SELECT b.brand, count(d.user_id) FILTER (WHERE d.days < 3) AS value FROM "
        "brands b LEFT JOIN (SELECT brand, user_id, count(DISTINCT local_date) AS days "
        "FROM events WHERE event_type = 'purchase' AND local_date <= $as_of GROUP BY ALL) d "
        "ON d.brand = b.brand GROUP BY b.brand",
    ),
    # reviewers who rated the brand 4 or more, but the SQL asks for more than 4
    Indicator(
        id="broken.rating_above",
        sql="SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b LEFT JOIN "
        "events e ON e.brand = b.brand AND e.event_type = 'review' AND e.rating > 4 "
        "AND e.local_date <= $as_of GROUP BY b.brand",
    ),
    # repeat buyers over buyers, but a user with only a refund is in the denominator
    Indicator(
        id="broken.repeat_share",
        sql="WITH d AS (SELECT brand, user_id, count(DISTINCT local_date) FILTER "
        "(WHERE event_type = 'purchase') AS days FROM events "
        "WHERE event_type IN ('purchase', 'refund') GROUP BY ALL) "
        "SELECT b.brand, count(d.user_id) FILTER (WHERE d.days >= 2) AS numerator, "
        "count(d.user_id) AS denominator, CASE WHEN count(d.user_id) = 0 THEN NULL ELSE "
        "count(d.user_id) FILTER (WHERE d.days >= 2) / count(d.user_id) END AS value "
        "FROM brands b LEFT JOIN d ON d.brand = b.brand GROUP BY b.brand",
    ),
    # repeat buyers over buyers of the last 30 days, declared never to fall when a buyer
    # buys again: a buyer whose purchases all lie before the window becomes a one-day
    # buyer, and the rate falls. Added for every buyer at once, the window's one-day
    # buyers become repeat buyers and the rate rises: only one buyer at a time tells.
    Indicator(
        id="broken.lapsed_rate",
        sql="WITH d AS (SELECT brand, user_id, count(DISTINCT local_date) AS days FROM events "
        "WHERE event_type = 'purchase' AND local_date > $as_of - 30 AND local_date <= $as_of "
        "GROUP BY ALL) SELECT b.brand, count(d.user_id) FILTER (WHERE d.days >= 2) AS "
        "numerator, count(d.user_id) AS denominator, CASE WHEN count(d.user_id) = 0 THEN NULL "
        "ELSE count(d.user_id) FILTER (WHERE d.days >= 2) / count(d.user_id) END AS value "
        "FROM brands b LEFT JOIN d ON d.brand = b.brand GROUP BY b.brand",
    ),
)


BROKEN = Methodology(
    name="broken",
    title="Broken on purpose",
    source="tests/broken_plugin.py",
    version="0",
    indicators=(
        Indicator(id="broken.bounds", sql=_sql("2.0")),
        Indicator(id="broken.integer", sql=_sql("0.5")),
        Indicator(id="broken.negative", sql=_sql("-1")),
        Indicator(
            id="broken.parts",
            sql="SELECT b.brand, k.key, 1 AS value FROM brands b "
            "CROSS JOIN (SELECT unnest(['x', 'y']) AS key) k",
        ),
        Indicator(id="broken.total", sql=_sql("3")),
        Indicator(id="broken.identity", sql=_sql("1")),
        Indicator(id="broken.ratio", sql=_sql("0.5", ", 1 AS numerator, 3 AS denominator")),
        # a share of money, not of people: its "base" is 2.5 (CNY), not a count
        Indicator(id="broken.base", sql=_sql("0.4", ", 1 AS numerator, 2.5 AS denominator")),
        Indicator(
            id="broken.permuted",
            sql="SELECT b.brand, coalesce(max(length(e.user_id)), 0) "
            "AS value FROM brands b LEFT JOIN events e USING (brand) GROUP BY b.brand",
        ),
        Indicator(
            id="broken.leaky",
            sql="SELECT b.brand, (SELECT count(*) FROM events) AS value FROM brands b",
        ),
        Indicator(
            id="broken.falling",
            sql="SELECT b.brand, -count(DISTINCT e.user_id) AS value "
            "FROM brands b LEFT JOIN events e ON e.brand = b.brand AND "
            "e.event_type = 'purchase' GROUP BY b.brand",
        ),
        Indicator(id="broken.calendar", sql=_sql("extract(day FROM CAST($as_of AS DATE))")),
        Indicator(
            id="broken.unbounded",
            sql="SELECT b.brand, count(e.user_id) AS value "
            "FROM brands b LEFT JOIN events e ON e.brand = b.brand "
            "AND e.local_date <= $as_of GROUP BY b.brand",
        ),
        Indicator(
            id="broken.unread",
            sql="SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b "
            "LEFT JOIN events e ON e.brand = b.brand AND e.event_type IN ('purchase', "
            "'refund') GROUP BY b.brand",
        ),
        # users with purchases on two or more days, but events are counted, not days
        Indicator(
            id="broken.event_days",
            sql="SELECT b.brand, count(d.user_id) FILTER (WHERE d.n >= 2) AS value FROM "
            "brands b LEFT JOIN (SELECT brand, user_id, count(*) AS n FROM events "
            "WHERE event_type = 'purchase' AND local_date <= $as_of GROUP BY ALL) d "
            "ON d.brand = b.brand GROUP BY b.brand",
        ),
        Indicator(id="broken.random", sql=_sql("random()")),
        Indicator(id="broken.nonempty", sql=_sql("1")),
        Indicator(
            id="broken.unscaled",
            sql="SELECT b.brand, coalesce(sum(e.amount), 0) + 1 AS "
            "value FROM brands b LEFT JOIN events e USING (brand) GROUP BY b.brand",
        ),
        *SUBTLE,
    ),
)


class BrokenPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(BROKEN, spec=SPEC)


def only(names: tuple[str, ...], methodology: str, spec_dir: Path) -> object:
    """A plugin with the broken indicators ``names`` (ids without "broken.") alone, as
    methodology ``methodology``: their code and their broken.yaml entries, renamed."""
    import yaml

    def rename(text: str) -> str:
        return text.replace("broken.", f"{methodology}.")

    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["methodology"] = methodology
    spec["indicators"] = [i for i in spec["indicators"] if i["id"].split(".")[1] in names]
    path = spec_dir / f"{methodology}.yaml"
    path.write_text(rename(yaml.safe_dump(spec, allow_unicode=True)), encoding="utf-8")
    chosen = Methodology(
        name=methodology,
        title=f"{methodology}: broken on purpose",
        source="tests/broken_plugin.py",
        version="0",
        indicators=tuple(
            i.model_copy(update={"id": rename(i.id)})
            for i in BROKEN.indicators
            if i.id.split(".")[1] in names
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(chosen, spec=path)

    return Plugin()
