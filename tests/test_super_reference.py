"""SUPER against an independent plain-Python computation, indicator by indicator: on
generated nasty logs, on a generated market, and the demo market's planted truths."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brandlens
import reference
from brandlens.engine.runs import Dataset
from brandlens.specs.strategies import event_logs, utc_ts

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = date(2025, 6, 30)


def _plain(rows):
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs())
def test_super_matches_the_reference_on_generated_logs(log):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(as_of=log.as_of, methodologies=["super"], brands=log.report_brands())
    assert result.errors == []
    products = _plain(log.products) if log.products is not None else None
    expected = reference.super_lifecycle(
        _plain(log.events), log.as_of, log.report_brands(), products
    )
    reference.compare(result, expected)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event_logs(),
    st.sampled_from(
        [
            {"super.history_weeks": "3", "super.flow_period_days": "10"},
            {"super.recent_days": "7", "super.exit_days": "5", "super.new_days": "30"},
            {"super.hit_top_share": "0.5", "super.growth_threshold": "0"},
            {"super.quality_window_days": "1", "super.rating_window_days": "30"},
        ]
    ),
)
def test_super_matches_the_reference_with_other_parameters(log, params):
    with Dataset(log.to_data()) as ds:
        result = ds.compute(
            as_of=log.as_of, methodologies=["super"], brands=log.report_brands(), params=params
        )
    assert result.errors == []
    plain = {k.split(".", 1)[1]: float(v) if "." in v else int(v) for k, v in params.items()}
    products = _plain(log.products) if log.products is not None else None
    expected = reference.super_lifecycle(
        _plain(log.events), log.as_of, log.report_brands(), products, plain
    )
    reference.compare(result, expected)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_logs(), st.integers(0, 50), st.sampled_from(["1.00", "100.00", "12345.67"]))
def test_more_sales_of_a_selling_product_of_another_brand_never_add_a_hit(log, pick, amount):
    """What the spec's brand_isolated reason claims, checked: sales added on as_of to
    another brand's product that already sells can only push a brand's products out."""
    with Dataset(log.to_data()) as ds:
        before = ds.compute(as_of=log.as_of, methodologies=["super"], brands=log.report_brands())
        listing = ds.entities("super", "products", as_of=log.as_of)
    selling = [r for r in listing.rows if r["recent_gmv"] > 0]
    if not selling:
        return
    chosen = selling[pick % len(selling)]  # its category as SUPER resolved it, kept
    brand, pid, category = chosen["brand"], chosen["product_id"], chosen["category"]
    extra = {
        "ts": utc_ts(log.as_of, 43_200),
        "user_id": "u0",
        "event_type": "purchase",
        "brand": brand,
        "category": None if category == "(uncategorised)" else category,
        "product_id": pid,
        "amount": amount,
    }
    grown = type(log)(log.as_of, (*log.events, extra), log.users, log.products, log.brands)
    with Dataset(grown.to_data()) as ds:
        after = ds.compute(as_of=log.as_of, methodologies=["super"], brands=log.report_brands())
    for other in log.report_brands():
        if other != brand:
            hits = (r.value("super.hit_count", other) for r in (before, after))
            assert next(hits) >= next(hits), other


# ---- a generated market ---------------------------------------------------------------------


COLUMNS = ("ts", "user_id", "event_type", "brand", "category", "product_id", "amount", "rating")


def _market_rows(market):
    """Every event the definitions read, as text (like a CSV file would give them)."""
    import duckdb

    con = duckdb.connect()
    events = [
        {k: v for k, v in zip(COLUMNS, row, strict=True) if v is not None}
        for row in con.execute(
            "SELECT CAST(ts AS VARCHAR), user_id, event_type, brand, category, product_id, "
            "CAST(amount AS VARCHAR), CAST(rating AS VARCHAR) FROM read_parquet($p) "
            "WHERE product_id IS NOT NULL OR event_type IN ('purchase', 'refund', 'review')",
            {"p": str(market / "events.parquet")},
        ).fetchall()
    ]
    products = [
        {"product_id": p, "brand": b, "category": c, "launch_date": str(d)}
        for p, b, c, d in con.execute(
            "SELECT product_id, brand, category, launch_date FROM read_parquet($p)",
            {"p": str(market / "products.parquet")},
        ).fetchall()
    ]
    return events, products


@pytest.fixture(scope="module")
def demo(market):
    return brandlens.compute(market, as_of=D, methodologies=["super"])


def test_the_generated_market_matches_the_reference(demo, market):
    events, products = _market_rows(market)
    brands = sorted({r.brand for r in demo.results})
    reference.compare(demo, reference.super_lifecycle(events, D, brands, products))


def test_demo_truths(demo):
    assert demo.errors == []
    brands = sorted({r.brand for r in demo.results})
    new_share = {b: demo.value("super.new_product_gmv_share", b) or 0 for b in brands}
    assert max(new_share, key=new_share.get) == "Nova"
    declining = {
        b: demo.value("super.products", b, "Decline") / demo.value("super.product_count", b)
        for b in brands
    }
    assert max(declining, key=declining.get) == "Dusk"
    assert declining["Dusk"] > 0.5  # most of its range


def test_demo_product_listing(market):
    listing = brandlens.entities(market, "super", brands=["Nova"], as_of=D)
    launched = [r for r in listing.rows if r["launch_date"] == "2025-04-20"]
    assert len(launched) == 3 and {r["stage"] for r in launched} <= {"New", "Hit"}
    assert all(r["brand"] == "Nova" for r in listing.rows)
    gmv = [r["recent_gmv"] for r in listing.rows]
    assert gmv == sorted(gmv, reverse=True)


def test_window_is_the_horizon(tmp_path):
    """An event 448 days before as_of is outside the horizon; 447 days is inside."""
    from conftest import write_csv

    def count(days):
        write_csv(
            tmp_path / "events.csv",
            [
                {
                    "ts": utc_ts(D - timedelta(days=days), 43_200),
                    "user_id": "u1",
                    "event_type": "product_view",
                    "brand": "Lumi",
                    "product_id": "p1",
                }
            ],
        )
        return brandlens.compute(tmp_path, as_of=D, methodologies=["super"]).value(
            "super.product_count", "Lumi"
        )

    assert count(447) == 1 and count(448) == 0
