"""Fixture plugins registered by tests: together they exercise every hook.

``toy`` is a small methodology with a stage ladder, shared relations, SQL and
Python indicators, a requirement on an optional table and a fixed-key breakdown.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

import brandlens
from brandlens.plugin import (
    Condition,
    Evidence,
    Indicator,
    IndicatorContext,
    Mapping,
    Methodology,
    Relation,
    Stage,
    StageLadder,
    Value,
)


class ToyParams(BaseModel):
    window_days: int = 15
    min_view_days: int = 2
    positive_rating: int = 4
    period_days: int = 7
    buyer_window_days: int = 365


LADDER = StageLadder(
    name="toy_ladder",
    snapshots=(0, "$period_days"),
    stages=(
        Stage(
            key="A",
            evidence=(
                Evidence(
                    event_types=("ad_impression", "content_view", "product_view"),
                    window_days="$window_days",
                ),
            ),
        ),
        Stage(
            key="I",
            evidence=(
                Evidence(event_types=("add_to_cart", "favorite"), window_days="$window_days"),
                Evidence(
                    event_types=("product_view",),
                    window_days="$window_days",
                    min_days="$min_view_days",
                ),
                Evidence(
                    event_types=("search",),
                    window_days="$window_days",
                    where=(Condition(column="query_type", op="=", value="brand"),),
                ),
            ),
        ),
        Stage(key="P", evidence=(Evidence(event_types=("purchase",), window_days=365),)),
        Stage(
            key="L",
            evidence=(
                Evidence(event_types=("purchase",), window_days=365, min_days=2),
                Evidence(
                    event_types=("review",),
                    window_days=365,
                    where=(Condition(column="rating", op=">=", value="$positive_rating"),),
                ),
                Evidence(event_types=("live_gift",), window_days=365),
            ),
        ),
    ),
)


def _python_buyers(ctx: IndicatorContext) -> list[Value]:
    rows = ctx.query(
        "SELECT brand, count(DISTINCT user_id) FROM events WHERE event_type = 'purchase' "
        "AND local_date <= $as_of GROUP BY brand"
    )
    counts = dict(rows)
    return [Value(brand=b, value=counts.get(b, 0)) for b in ctx.brands]


TOY = Methodology(
    name="toy",
    title="Toy methodology",
    source="tests/fixture_plugins.py",
    version="1.0",
    parameters=ToyParams,
    ladders=(LADDER,),
    relations=(
        Relation(
            name="buyers",
            sql="SELECT DISTINCT brand, user_id FROM events WHERE event_type = 'purchase' "
            "AND local_date > $as_of - $buyer_window_days AND local_date <= $as_of",
        ),
        Relation(
            name="buyer_gmv",
            depends_on=("buyers",),
            sql="SELECT e.brand, sum(CASE WHEN e.event_type = 'purchase' THEN e.amount "
            "ELSE -e.amount END) AS gmv FROM events e JOIN buyers b USING (brand, user_id) "
            "WHERE e.event_type IN ('purchase', 'refund') "
            "AND e.local_date > $as_of - $buyer_window_days AND e.local_date <= $as_of "
            "GROUP BY e.brand",
        ),
    ),
    indicators=(
        Indicator(
            id="toy.buyers",
            title="Buyers",
            unit="users",
            headline=True,
            description="users with a purchase of the brand in the buyer window",
            sql="SELECT b.brand, count(x.user_id) AS value FROM brands b "
            "LEFT JOIN buyers x USING (brand) GROUP BY b.brand",
        ),
        Indicator(
            id="toy.stage_users",
            title="Users per stage",
            unit="users",
            dimension="stage",
            keys=("A", "I", "P", "L"),
            sql="SELECT b.brand, k.key, count(l.user_id) AS value FROM brands b "
            "CROSS JOIN (SELECT unnest(['A', 'I', 'P', 'L']) AS key) k "
            "LEFT JOIN toy_ladder l ON l.brand = b.brand AND l.stage = k.key "
            "AND l.days_before = 0 GROUP BY b.brand, k.key",
        ),
        Indicator(
            id="toy.deepened",
            title="Deepening rate",
            unit="ratio",
            headline=True,
            sql="WITH pairs AS (SELECT p.brand, p.user_id, p.stage_rank AS r0, "
            "c.stage_rank AS r1 FROM toy_ladder p LEFT JOIN toy_ladder c "
            "ON c.brand = p.brand AND c.user_id = p.user_id AND c.days_before = 0 "
            "WHERE p.days_before = $period_days) "
            "SELECT b.brand, count(*) FILTER (WHERE r1 > r0) AS numerator, "
            "count(pairs.user_id) AS denominator, "
            "CASE WHEN count(pairs.user_id) = 0 THEN NULL ELSE "
            "count(*) FILTER (WHERE r1 > r0) / count(pairs.user_id) END AS value "
            "FROM brands b LEFT JOIN pairs USING (brand) GROUP BY b.brand",
        ),
        Indicator(
            id="toy.gmv",
            title="Buyer GMV",
            unit="currency",
            sql="SELECT b.brand, coalesce(g.gmv, 0) AS value FROM brands b "
            "LEFT JOIN buyer_gmv g USING (brand)",
        ),
        Indicator(
            id="toy.members",
            title="Members",
            unit="users",
            headline=True,
            sql="SELECT b.brand, count(m.user_id) AS value FROM brands b "
            "LEFT JOIN members m USING (brand) GROUP BY b.brand",
        ),
        Indicator(
            id="toy.group_buyers",
            title="Buyers with a target group",
            unit="users",
            requires=("users.target_group",),
            sql="SELECT b.brand, count(u.user_id) AS value FROM brands b "
            "LEFT JOIN buyers x USING (brand) LEFT JOIN users u ON u.user_id = x.user_id "
            "AND u.target_group IS NOT NULL GROUP BY b.brand",
        ),
        Indicator(
            id="toy.python_buyers",
            title="All-time buyers (Python)",
            unit="count",
            compute=_python_buyers,
        ),
    ),
)


class ToyPlugin:
    """Implements every hook."""

    @brandlens.hookimpl
    def brandlens_register_event_types(self, register):
        register("live_gift", "a gift sent to the brand during a live stream")

    @brandlens.hookimpl
    def brandlens_register_presets(self, register):
        register(
            "toy-preset",
            Mapping(
                columns={"ts": "time", "user_id": "who", "event_type": "what", "brand": "label"},
                derive={"amount": "CASE WHEN what = 'buy' THEN price END"},
                event_types={"buy": "purchase", "look": "product_view", "noise": None},
            ),
        )

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(TOY, spec=Path(__file__).with_name("toy.yaml"))


class FailingIndicatorPlugin:
    """A methodology whose second indicator fails at run time (division by a string)."""

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(
            Methodology(
                name="shaky",
                title="Shaky",
                source="tests",
                version="0",
                indicators=(
                    Indicator(
                        id="shaky.ok",
                        title="ok",
                        unit="count",
                        sql="SELECT brand, 1 AS value FROM brands",
                    ),
                    Indicator(
                        id="shaky.boom",
                        title="boom",
                        unit="count",
                        sql="SELECT brand, CAST('x' AS INTEGER) AS value FROM brands",
                    ),
                    Indicator(
                        id="shaky.missing_brand",
                        title="missing",
                        unit="count",
                        sql="SELECT brand, 1 AS value FROM brands WHERE false",
                    ),
                ),
            )
        )
