"""The synthetic market: determinism, schema validity, journey order, planted truths."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.data.market import DEMO_USERS, generate

AS_OF = "2025-06-30"


@pytest.fixture(scope="session")
def sql(market):
    """A DuckDB connection with the raw generated tables and local dates."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in ("users", "products"):
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_parquet($p)",
            {"p": str(market / f"{name}.parquet")},
        )
    con.execute(
        "CREATE TABLE ev AS SELECT *, CAST(timezone('Asia/Shanghai', CAST(ts AS TIMESTAMPTZ)) "
        "AS DATE) AS d FROM read_parquet($p)",
        {"p": str(market / "events.parquet")},
    )
    return con


def _rows(con, query, **params):
    return con.execute(query, params).fetchall()


P1 = "d > DATE '2024-06-30' AND d <= DATE '2025-06-30'"
P0 = "d > DATE '2023-06-30' AND d <= DATE '2024-06-30'"


def test_same_seed_same_rows_and_another_seed_differs(tmp_path):
    a = generate(tmp_path / "a", users=3000, seed=7)
    b = generate(tmp_path / "b", users=3000, seed=7)
    c = generate(tmp_path / "c", users=3000, seed=8)
    for name in ("events", "users", "products", "targets", "spend"):
        assert (tmp_path / "a" / f"{name}.parquet").read_bytes() == (
            tmp_path / "b" / f"{name}.parquet"
        ).read_bytes(), name
    assert a.rows == b.rows and a.rows["events"] != c.rows["events"]


def test_every_generated_row_passes_validation(market, tmp_path):
    report = brandlens.validate(market)
    assert {t.table for t in report.tables} == {"events", "users", "products", "targets", "spend"}
    assert report.rows_quarantined == 0 and report.reasons == []
    generate(tmp_path / "csv", users=2000, seed=1, fmt="csv")
    csv_report = brandlens.validate(tmp_path / "csv")
    assert csv_report.rows_quarantined == 0 and csv_report.events.rows_read > 50_000
    # The generator's times are UTC and say so: `validate` right after the demo asked
    # whether they were Beijing times (following it would shift every event 8 hours).
    assert not report.naive_ts_as_utc and not csv_report.naive_ts_as_utc
    assert report.ts_timezone == csv_report.ts_timezone == "UTC"


def test_about_a_hundred_events_per_user(market):
    report = brandlens.validate(market)
    assert 60 <= report.events.rows_read / DEMO_USERS <= 140


def test_journey_order_no_purchase_before_exposure(sql):
    # a purchase by a user who never saw the brand before is only allowed offline
    bad = _rows(
        sql,
        """
        WITH first_seen AS (
          SELECT user_id, brand, min(ts) AS t FROM ev
          WHERE event_type IN ('ad_impression', 'content_view') GROUP BY ALL)
        SELECT count(*) FROM ev p LEFT JOIN first_seen f USING (user_id, brand)
        WHERE p.event_type = 'purchase' AND coalesce(p.channel, '') <> 'offline_store'
          AND (f.t IS NULL OR f.t >= p.ts)""",
    )
    assert bad == [(0,)]
    # reviews, repurchases and refunds come after a purchase of the same brand
    late = _rows(
        sql,
        """
        WITH first_buy AS (SELECT user_id, brand, min(ts) AS t FROM ev
                           WHERE event_type = 'purchase' GROUP BY ALL)
        SELECT count(*) FROM ev e JOIN first_buy f USING (user_id, brand)
        WHERE e.event_type IN ('review', 'refund', 'after_sales') AND e.ts <= f.t""",
    )
    assert late == [(0,)]


def test_market_texture(sql):
    refunds, orders = _rows(
        sql,
        "SELECT count(*) FILTER (WHERE event_type = 'refund'), "
        "count(*) FILTER (WHERE event_type = 'purchase') FROM ev",
    )[0]
    assert 0.03 <= refunds / orders <= 0.05
    (mean_rating,) = _rows(sql, "SELECT avg(rating) FROM ev WHERE event_type = 'review'")[0]
    assert mean_rating > 4.0  # skewed positive
    # 11.11 and 6.18: purchase-day spikes well above a typical day
    spikes = dict(
        _rows(
            sql,
            """
        WITH daily AS (SELECT d, count(*) AS n FROM ev WHERE event_type = 'purchase' GROUP BY d)
        SELECT strftime(d, '%m-%d'), n / (SELECT median(n) FROM daily) FROM daily
        WHERE strftime(d, '%m-%d') IN ('11-11', '06-18') AND year(d) = 2024""",
        )
    )
    assert spikes["11-11"] > 2.0 and spikes["06-18"] > 1.8
    groups, circles = _rows(
        sql, "SELECT count(DISTINCT target_group), count(DISTINCT circle) FROM users"
    )[0]
    assert (groups, circles) == (10, 8)
    (categories,) = _rows(
        sql,
        "SELECT list(DISTINCT category ORDER BY category) FROM ev WHERE event_type = 'purchase'",
    )[0]
    assert categories == ["phone_accessories", "skincare", "smartphones", "snacks"]


# ---- planted truths, measured in raw SQL -------------------------------------------------


def _buyers(sql, period):
    return dict(
        _rows(
            sql,
            f"SELECT brand, count(DISTINCT user_id) FROM ev "
            f"WHERE event_type = 'purchase' AND {period} GROUP BY brand",
        )
    )


def test_lumi_loyal_base(sql):
    rates = dict(
        _rows(
            sql,
            f"""
        SELECT brand, avg((n >= 2)::INT) FROM (
          SELECT brand, user_id, count(DISTINCT d) AS n FROM ev
          WHERE event_type = 'purchase' AND {P1} GROUP BY ALL) GROUP BY brand""",
        )
    )
    assert max(rates, key=rates.get) == "Lumi"
    wallet = dict(
        _rows(
            sql,
            f"""
        WITH g AS (SELECT user_id, brand, sum(CASE WHEN event_type = 'purchase' THEN amount
                   ELSE -amount END) AS gmv FROM ev WHERE event_type IN ('purchase', 'refund')
                   AND category = 'skincare' AND {P1} GROUP BY ALL),
        b AS (SELECT DISTINCT brand, user_id FROM ev WHERE event_type = 'purchase'
              AND category = 'skincare' AND {P1})
        SELECT b.brand, sum(g.gmv) FILTER (WHERE g.brand = b.brand) / sum(g.gmv)
        FROM b JOIN g USING (user_id) GROUP BY b.brand""",
        )
    )
    assert max(wallet, key=wallet.get) == "Lumi"
    tgi = dict(
        _rows(
            sql,
            f"""
        WITH lb AS (SELECT DISTINCT user_id FROM ev WHERE brand = 'Lumi'
                    AND event_type = 'purchase' AND {P1})
        SELECT target_group, 100 * (count(lb.user_id) / (SELECT count(*) FROM lb))
               / (count(*) / (SELECT count(*) FROM users))
        FROM users LEFT JOIN lb USING (user_id) GROUP BY target_group""",
        )
    )
    assert tgi["urban_white_collar"] > 150 and tgi["new_mom"] > 150


def test_verde_grows_dusk_declines(sql):
    b1, b0 = _buyers(sql, P1), _buyers(sql, P0)
    assert b1["Verde"] >= 1.5 * b0["Verde"]
    assert b1["Dusk"] < b0["Dusk"]
    declining, total = _rows(
        sql,
        f"""
        SELECT count(*) FILTER (WHERE coalesce(g1, 0) < coalesce(g0, 0)), count(*) FROM (
          SELECT product_id, sum(amount) FILTER (WHERE {P1}) AS g1,
                 sum(amount) FILTER (WHERE {P0}) AS g0
          FROM ev WHERE event_type = 'purchase' AND brand = 'Dusk' GROUP BY product_id)""",
    )[0]
    assert declining / total > 0.5  # most of Dusk's products are in decline


def test_orchid_premiumises_with_flat_buyers(sql):
    b1, b0 = _buyers(sql, P1), _buyers(sql, P0)
    assert 0.85 <= b1["Orchid"] / b0["Orchid"] <= 1.15
    ratio = _rows(
        sql,
        f"""
        SELECT (sum(amount) FILTER (WHERE {P1}) / sum(quantity) FILTER (WHERE {P1}))
             / (sum(amount) FILTER (WHERE {P0}) / sum(quantity) FILTER (WHERE {P0}))
        FROM ev WHERE event_type = 'purchase' AND brand = 'Orchid'""",
    )[0][0]
    assert ratio > 1.2  # average unit price up year over year


def test_nimbus_widens_into_skincare(sql):
    got = dict(
        _rows(
            sql,
            f"""
        SELECT CASE WHEN {P1} THEN 'P1' ELSE 'P0' END, sum(amount) FROM ev
        WHERE brand = 'Nimbus' AND category = 'skincare' AND event_type = 'purchase'
          AND ({P1} OR {P0}) GROUP BY 1""",
        )
    )
    assert got.get("P0") is None and got["P1"] > 0


def test_volt_has_the_largest_deep_consideration_audience(sql):
    deep = dict(
        _rows(
            sql,
            f"""
        WITH v AS (SELECT brand, user_id, count(DISTINCT d) AS n FROM ev
                   WHERE event_type = 'product_view' AND d > DATE '2025-04-01' GROUP BY ALL),
        b AS (SELECT DISTINCT brand, user_id FROM ev WHERE event_type = 'purchase' AND {P1})
        SELECT v.brand, count(*) FROM v LEFT JOIN b USING (brand, user_id)
        WHERE v.n >= 2 AND b.user_id IS NULL GROUP BY v.brand""",
        )
    )
    assert max(deep, key=deep.get) == "Volt"


def test_pixelon_retains_phone_buyers(sql):
    share = dict(
        _rows(
            sql,
            """
        WITH phone AS (SELECT brand, user_id, min(ts) AS t FROM ev
                       WHERE event_type = 'purchase' AND category = 'smartphones' GROUP BY ALL),
        after AS (SELECT DISTINCT e.brand, e.user_id FROM ev e JOIN phone p USING (brand, user_id)
                  WHERE e.ts > p.t AND (e.event_type = 'after_sales' OR
                        (e.event_type = 'purchase' AND e.category = 'phone_accessories')))
        SELECT p.brand, count(a.user_id) / count(*) FROM phone p
        LEFT JOIN after a USING (brand, user_id) GROUP BY p.brand""",
        )
    )
    assert max(share, key=share.get) == "Pixelon"


def test_nova_has_the_highest_new_product_share(sql):
    share = dict(
        _rows(
            sql,
            """
        SELECT e.brand, coalesce(sum(e.amount) FILTER (WHERE p.launch_date > DATE '2025-04-01'),
                                 0) / sum(e.amount)
        FROM ev e JOIN products p USING (product_id)
        WHERE e.event_type = 'purchase' AND e.d > DATE '2025-04-01' GROUP BY e.brand""",
        )
    )
    assert max(share, key=share.get) == "Nova"
    (launches,) = _rows(
        sql,
        "SELECT count(*) FROM products WHERE brand = 'Nova' AND launch_date > DATE '2025-04-01'",
    )[0]
    assert launches >= 3


# ---- planted truths, through the public indicators -----------------------------------------


def test_aurora_and_verde_buy_their_reach_as_ads(sql):
    """Exposures are 70% ad impressions, the rest content views; Aurora's 95%, Verde's 90%
    (impressions are no activity for A.R.G.O, so this shapes truths 2 and 3 there)."""
    ads = dict(
        _rows(
            sql,
            """
        SELECT brand, count(*) FILTER (WHERE event_type = 'ad_impression') / count(*) FROM ev
        WHERE event_type IN ('ad_impression', 'content_view') GROUP BY brand""",
        )
    )
    assert 0.94 < ads.pop("Aurora") < 0.96 and 0.88 < ads.pop("Verde") < 0.92
    assert all(0.68 < share < 0.72 for share in ads.values()), ads


SKINCARE = ["Aurora", "Dusk", "Lumi", "Sakura"]


@pytest.fixture(scope="session")
def fast(market):
    return brandlens.compute(market, as_of=AS_OF, methodologies=["fast"])


def test_aurora_is_the_awareness_brand(fast):
    brands = sorted({r.brand for r in fast.results})
    share = {
        b: fast.value("fast.aipl_users", b, "A") / fast.value("fast.fertility", b) for b in brands
    }
    assert max(share, key=share.get) == "Aurora"
    advancing = {b: fast.value("fast.advancing", b) for b in SKINCARE}
    assert min(advancing, key=advancing.get) == "Aurora"


def test_lumi_thrives(fast):
    thriving = {b: fast.value("fast.thriving", b) for b in SKINCARE}
    assert max(thriving, key=thriving.get) == "Lumi"


def test_demo_command_generates_once_and_compares(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "d"), "-f", "json", "--quiet"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert len(doc["rows"]) == 13 and doc["as_of"] == AS_OF
    assert (tmp_path / "d" / ".complete").exists()
    again = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "d"), "-f", "json", "--quiet"])
    assert again.stdout == r.stdout  # reused, and byte-identical


def test_generate_command(tmp_path):
    r = CliRunner().invoke(
        app, ["generate", str(tmp_path / "g"), "--users", "500", "--seed", "3", "--format", "csv"]
    )
    assert r.exit_code == 0, r.output
    assert "events for 500 users" in r.stderr
    assert (tmp_path / "g" / "events.csv").exists()
    bad = CliRunner().invoke(app, ["generate", str(tmp_path / "h"), "--users", "0"])
    assert bad.exit_code == 2 and "--users must be at least 1" in bad.stderr


def test_time_order_writes_the_same_rows_by_timestamp(tmp_path):
    """`--order time` rewrites the events in the order they happened (by ts, ties by
    event_id), as a real log arrives: the same rows as the simulation's user-by-user
    order, the other tables untouched, the same file again for the same seed, and the
    same results, since no indicator may depend on the order of the log."""
    users, seed = 2000, 5
    generate(tmp_path / "u", users=users, seed=seed)
    t = generate(tmp_path / "t", users=users, seed=seed, order="time")
    generate(tmp_path / "t2", users=users, seed=seed, order="time")
    assert t.order == "time"
    assert (tmp_path / "t" / "events.parquet").read_bytes() == (
        tmp_path / "t2" / "events.parquet"
    ).read_bytes()
    for name in ("users", "products", "targets", "spend"):
        assert (tmp_path / "u" / f"{name}.parquet").read_bytes() == (
            tmp_path / "t" / f"{name}.parquet"
        ).read_bytes(), name
    con = duckdb.connect()
    u, t_ = (str(tmp_path / x / "events.parquet") for x in ("u", "t"))
    for a, b in ((u, t_), (t_, u)):
        missing = "SELECT count(*) FROM (SELECT * FROM read_parquet($a) EXCEPT ALL "
        missing += "SELECT * FROM read_parquet($b))"
        assert con.execute(missing, {"a": a, "b": b}).fetchone() == (0,)
    out_of_order = con.execute(
        "SELECT count(*) FROM (SELECT ts, event_id, lag(ts) OVER w AS pts, "
        "lag(event_id) OVER w AS pid FROM (SELECT *, file_row_number AS r "
        "FROM read_parquet($t, file_row_number = true)) WINDOW w AS (ORDER BY r)) "
        "WHERE ts < pts OR (ts = pts AND event_id < pid)",
        {"t": t_},
    ).fetchone()
    assert out_of_order == (0,)
    # the simulation's order is not already by time: the rewrite changed something
    assert (
        con.execute(
            "SELECT count(*) FROM (SELECT ts, lag(ts) OVER (ORDER BY r) AS p FROM "
            "(SELECT ts, file_row_number AS r FROM read_parquet($u, file_row_number = true))) "
            "WHERE ts < p",
            {"u": u},
        ).fetchone()[0]
        > 0
    )
    methodologies = ["fast", "dream", "argo"]
    by_user = brandlens.compute(tmp_path / "u", as_of=AS_OF, methodologies=methodologies)
    by_time = brandlens.compute(tmp_path / "t", as_of=AS_OF, methodologies=methodologies)
    assert by_user.results and by_user.results == by_time.results


def test_time_order_of_a_csv_market_keeps_every_field(tmp_path):
    """A CSV market in time order holds the same fields, as text, as the simulation's
    CSV (only quoting may differ), in timestamp order."""
    generate(tmp_path / "u", users=300, seed=2, fmt="csv")
    generate(tmp_path / "t", users=300, seed=2, fmt="csv", order="time")
    con = duckdb.connect()
    read = "SELECT * FROM read_csv($p, header = true, all_varchar = true)"
    u, t = (str(tmp_path / x / "events.csv") for x in ("u", "t"))
    for a, b in ((u, t), (t, u)):
        diff = f"SELECT count(*) FROM ({read.replace('$p', '$a')} EXCEPT ALL "
        diff += f"{read.replace('$p', '$b')})"
        assert con.execute(diff, {"a": a, "b": b}).fetchone() == (0,)
    ts = [r[0] for r in con.execute(f"SELECT ts FROM ({read})", {"p": t}).fetchall()]
    assert ts == sorted(ts) and len(ts) > 1000


def test_a_bad_order_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(app, ["generate", str(tmp_path / "g"), "--order", "random"])
    assert r.exit_code == 2 and "--order must be user or time, not 'random'" in r.stderr
    assert not (tmp_path / "g" / "events.parquet").exists()


def test_a_failed_sort_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """If sorting by time fails (disk full, killed), no table is put in place: the
    folders the run made are removed again (an empty folder was left behind, a review
    found, after a SIGTERM), and a market already there keeps every file it had, rather
    than half a new market or a log in another order than asked for."""
    from brandlens.data.market import order
    from brandlens.errors import UsageError

    def fail(src, dst, fmt):
        Path(dst).write_bytes(b"half a file")
        raise UsageError(f"generate {src.name}: cannot sort by time (disk full)")

    generate(tmp_path / "old", users=200, seed=1)
    before = {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()}
    monkeypatch.setattr(order, "sort_events_by_time", fail)
    (tmp_path / "there").mkdir()
    for folder in ("new/deeper", "old", "there"):
        with pytest.raises(UsageError, match="cannot sort by time"):
            generate(tmp_path / folder, users=300, seed=2, order="time", overwrite=True)
    assert not (tmp_path / "new").exists()  # both folders it made
    assert list((tmp_path / "there").iterdir()) == []  # a folder it found stays
    assert {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()} == before


def test_sorting_a_file_it_cannot_read_is_one_line_and_cleans_up(tmp_path, monkeypatch):
    """The real sort on a file that is not Parquet: a one-line usage error naming the
    file, and its private spill folder removed; an interrupt stays an interrupt."""
    import duckdb as duckdb_module

    from brandlens.data.market.order import sort_events_by_time
    from brandlens.errors import UsageError

    spill = tmp_path / "spill"
    monkeypatch.setenv("BRANDLENS_TEMP_DIRECTORY", str(spill))
    bad = tmp_path / "events.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(UsageError) as e:
        sort_events_by_time(bad, tmp_path / "sorted.parquet", "parquet")
    assert str(e.value).startswith("generate events.parquet: cannot sort by time (")
    assert "\n" not in str(e.value)
    assert not spill.exists()  # the private folder, and the one made for it, are gone

    class Interrupted:
        def execute(self, *args, **kwargs):
            raise duckdb_module.InterruptException("INTERRUPT Error: Interrupted!")

        def close(self):
            pass

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(duckdb_module, "connect", lambda *a, **k: Interrupted())
        sort_events_by_time(bad, tmp_path / "sorted.parquet", "parquet")
    assert not spill.exists()


def test_a_folder_holding_tables_is_refused_unless_overwritten(tmp_path):
    """A brand's own log must not be replaced by a synthetic one by mistake; a market
    regenerated with --overwrite replaces its own tables; a table in another form,
    which the new market would sit beside (two events tables: every command refuses
    the folder), is refused even then. Nothing is written when refused."""
    market = tmp_path / "m"
    generate(market, users=200, seed=1)
    before = {p.name: p.read_bytes() for p in market.iterdir()}
    r = CliRunner().invoke(app, ["generate", str(market), "--users", "300"])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        f"brandlens: error: generate {market}: already holds events.parquet, "
        "products.parquet, spend.parquet, targets.parquet, users.parquet; choose an empty "
        "folder, or pass --overwrite to replace a generated market"
    ]
    assert {p.name: p.read_bytes() for p in market.iterdir()} == before
    r = CliRunner().invoke(app, ["generate", str(market), "--users", "300", "--overwrite"])
    assert r.exit_code == 0, r.output
    users = duckdb.execute(
        "SELECT count(*) FROM read_parquet($p)", {"p": str(market / "users.parquet")}
    ).fetchall()[0][0]
    assert users == 300  # the new market, in place of the old one
    r = CliRunner().invoke(app, ["generate", str(market), "--format", "csv", "--overwrite"])
    assert r.exit_code == 2
    assert "holds events.parquet, products.parquet, spend.parquet, targets.parquet, " in r.stderr
    assert "which --overwrite would not replace (the market is written as .csv files)" in r.stderr
    assert sorted(p.name for p in market.iterdir()) == sorted(before)


def test_demo_refuses_a_data_dir_holding_other_files(tmp_path):
    """`demo --data-dir` on a folder with a log of one's own: refused, nothing written."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "events.csv").write_text("user_id,ts,event_type\nu1,2025-06-01,ad_click\n")
    r = CliRunner().invoke(app, ["demo", "--data-dir", str(own)])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        f"brandlens: error: demo --data-dir {own}: holds files but no demo market; "
        "choose an empty or new folder (or empty this one)"
    ]
    assert [p.name for p in own.iterdir()] == ["events.csv"]
