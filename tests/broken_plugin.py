"""A deliberately broken methodology: each indicator violates the one property it declares.

tests/test_verify.py proves that every property kind can fail and that the report
shows a small counterexample with the two values that disagreed.
"""

from __future__ import annotations

from pathlib import Path

import brandlens
from brandlens.plugin import Indicator, Methodology


def _sql(value: str, extra: str = "") -> str:
    return f"SELECT b.brand, {value} AS value {extra} FROM brands b"


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
        Indicator(id="broken.random", sql=_sql("random()")),
        Indicator(id="broken.nonempty", sql=_sql("1")),
        Indicator(
            id="broken.unscaled",
            sql="SELECT b.brand, coalesce(sum(e.amount), 0) + 1 AS "
            "value FROM brands b LEFT JOIN events e USING (brand) GROUP BY b.brand",
        ),
    ),
)


class BrokenPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(BROKEN, spec=Path(__file__).with_name("broken.yaml"))
