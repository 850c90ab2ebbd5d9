"""Storyboard: a hand-made log for the fixture methodology ``toy``, every value by hand.

as_of d = 2025-06-30 (Asia/Shanghai). Times are UTC; 04:00 UTC is noon in Shanghai.
Windows of W days end at d and cover local dates [d - W + 1, d]:
  15 days -> [06-16, 06-30];  at the d-7 snapshot (06-23) -> [06-09, 06-23]
  365 days -> [2024-07-01, 2025-06-30]
"""

from __future__ import annotations

import pytest

import brandlens
from conftest import ev
from fixture_plugins import ToyPlugin

D = "2025-06-30"


def t(day: str, hour: str = "04:00:00") -> str:
    return f"{day} {hour}"


STORY = [
    # u_a: ad impression exactly 14 days back (first day of the 15-day window) -> A at d and d-7
    ev(t("2025-06-16"), "u_a", "ad_impression"),
    # u_out: impression 15 days back, one day outside the window -> no stage at d; A at d-7
    ev(t("2025-06-15"), "u_out", "ad_impression"),
    # u_view1: two product views on ONE day -> A (I needs 2 distinct days)
    ev(t("2025-06-20"), "u_view1", "product_view"),
    ev(t("2025-06-20", "05:00:00"), "u_view1", "product_view"),
    # u_view2: product views on two days -> I at d and d-7
    ev(t("2025-06-20"), "u_view2", "product_view"),
    ev(t("2025-06-21"), "u_view2", "product_view"),
    # u_search_cat: a category search is no evidence -> no stage
    ev(t("2025-06-25"), "u_search_cat", "search", query_type="category"),
    # u_search_brand: a brand search -> I at d (after the d-7 snapshot)
    ev(t("2025-06-25"), "u_search_brand", "search", query_type="brand"),
    # u_p: one purchase exactly 364 days back (first day of the 365-day window) -> P
    ev(t("2024-07-01"), "u_p", "purchase", amount="100"),
    # u_p_out: one purchase 365 days back -> outside at d; P at d-7
    ev(t("2024-06-30"), "u_p_out", "purchase", amount="999"),
    # u_l2: purchases on two days -> L; a refund of 25 lowers GMV
    ev(t("2025-06-01"), "u_l2", "purchase", amount="50"),
    ev(t("2025-06-10"), "u_l2", "purchase", amount="50"),
    ev(t("2025-06-15"), "u_l2", "refund", amount="25"),
    # u_l_same: two purchases, 2025-06-28 20:00 UTC and 06-29 10:00 UTC, are both local
    # date 06-29 in Shanghai -> one purchase day -> P (not L); nothing at d-7
    ev("2025-06-28 20:00:00", "u_l_same", "purchase", amount="30"),
    ev("2025-06-29 10:00:00", "u_l_same", "purchase", amount="20"),
    # u_r3: purchase + review rated 3 -> P
    ev(t("2025-06-05"), "u_r3", "purchase", amount="10"),
    ev(t("2025-06-08"), "u_r3", "review", rating="3"),
    # u_r4: purchase + review rated 4 -> L
    ev(t("2025-06-05"), "u_r4", "purchase", amount="10"),
    ev(t("2025-06-08"), "u_r4", "review", rating="4"),
    # u_gift: a plugin-registered event type (live_gift) -> L
    ev(t("2025-06-12"), "u_gift", "live_gift"),
    # u_deep: A at d-7 (impression 06-20), purchase 06-28 -> P at d: deepened
    ev(t("2025-06-20"), "u_deep", "ad_impression"),
    ev(t("2025-06-28"), "u_deep", "purchase", amount="5"),
    # u_fell: add-to-cart 06-10 -> I at d-7, outside the window at d: fell out
    ev(t("2025-06-10"), "u_fell", "add_to_cart"),
    # members: u_m1 joined then left -> not a member
    ev(t("2025-06-01"), "u_m1", "member_join"),
    ev(t("2025-06-10"), "u_m1", "member_leave"),
    # u_m2 joined -> member
    ev(t("2025-01-01"), "u_m2", "member_join"),
    # u_m3 joined, left, re-joined -> member
    ev(t("2025-06-01"), "u_m3", "member_join"),
    ev(t("2025-06-10"), "u_m3", "member_leave"),
    ev(t("2025-06-20"), "u_m3", "member_join"),
    # u_m4 joined and left at the same instant -> the leave wins: not a member
    ev(t("2025-06-01"), "u_m4", "member_join"),
    ev(t("2025-06-01"), "u_m4", "member_leave"),
    # u_m5 joins 2025-06-30 17:00 UTC = 07-01 01:00 local, after as_of -> not a member
    ev("2025-06-30 17:00:00", "u_m5", "member_join"),
    # brand C: one impression -> C has A = 1 and nothing else
    ev(t("2025-06-30"), "u_c", "ad_impression", brand="C"),
]

USERS = [
    {"user_id": "u_p", "target_group": "g1"},
    {"user_id": "u_l2", "target_group": "g2"},
    {"user_id": "u_r3", "target_group": ""},
]


@pytest.fixture
def toy(register_plugin):
    register_plugin(ToyPlugin(), "toy-plugin")


def test_every_toy_indicator_by_hand(toy, events_dir):
    data = events_dir(STORY, users=USERS)
    r = brandlens.compute(data, as_of=D, methodologies=["toy"])
    assert r.errors == []
    # stages at d: A = u_a, u_view1; I = u_view2, u_search_brand;
    # P = u_p, u_l_same, u_r3, u_deep; L = u_l2, u_r4, u_gift
    assert [r.value("toy.stage_users", "B", k) for k in "AIPL"] == [2, 2, 4, 3]
    assert [r.value("toy.stage_users", "C", k) for k in "AIPL"] == [1, 0, 0, 0]
    # d-7 stages: u_a A, u_out A, u_view1 A, u_view2 I, u_p P, u_p_out P, u_l2 L, u_r3 P,
    # u_r4 L, u_gift L, u_deep A, u_fell I = 12 users; only u_deep rose (A -> P)
    row = next(x for x in r.results if x.indicator == "toy.deepened" and x.brand == "B")
    assert (row.numerator, row.denominator, row.value) == (1, 12, pytest.approx(1 / 12))
    # C had nobody at d-7: the ratio's denominator is 0 -> null
    assert r.value("toy.deepened", "C") is None
    # buyers in 365 days: u_p, u_l2, u_l_same, u_r3, u_r4, u_deep (u_p_out is outside)
    assert r.value("toy.buyers", "B") == 6
    assert r.value("toy.buyers", "C") == 0
    # GMV of those buyers: 100 + 50 + 50 - 25 + 30 + 20 + 10 + 10 + 5 = 250
    assert r.value("toy.gmv", "B") == 250.0
    # members as of d: u_m2, u_m3
    assert r.value("toy.members", "B") == 2
    # buyers with a target group: u_p (g1), u_l2 (g2); u_r3's group is empty
    assert r.value("toy.group_buyers", "B") == 2
    # Python indicator: all purchases up to d, any age: the 6 buyers + u_p_out
    assert r.value("toy.python_buyers", "B") == 7


def test_the_users_table_is_required_by_group_buyers_only(toy, events_dir):
    r = brandlens.compute(events_dir(STORY), as_of=D, methodologies=["toy"])
    assert r.errors == []  # absent optional data is not a failure
    assert [(n.indicator, n.reason) for n in r.not_applicable] == [
        ("toy.group_buyers", "needs the users table with target_group")
    ]
    assert r.value("toy.buyers", "B") == 6  # the rest still compute


def test_time_zone_moves_the_local_date(toy, events_dir):
    # In UTC u_l_same's purchases fall on 06-28 and 06-29: two days -> L instead of P;
    # u_m5 joins on 06-30 (UTC) -> a member as of d.
    r = brandlens.compute(events_dir(STORY), as_of=D, methodologies=["toy"], timezone="UTC")
    assert [r.value("toy.stage_users", "B", k) for k in "AIPL"] == [2, 2, 3, 4]
    assert r.value("toy.members", "B") == 3


def test_brand_filter_reports_unknown_brands_as_empty(toy, events_dir):
    """The engine computes a brand without events as empty (a comparison's category
    peers, a target's brand); brandlens.compute and the CLI refuse it as a typo."""
    from brandlens.engine.runs import Dataset

    with Dataset(events_dir(STORY)) as ds:
        r = ds.compute(as_of=D, methodologies=["toy"], brands=["B", "Nobody"])
    assert {x.brand for x in r.results} == {"B", "Nobody"}
    assert r.value("toy.buyers", "Nobody") == 0
    assert r.value("toy.deepened", "Nobody") is None
    # other brands' rows do not change B
    assert r.value("toy.buyers", "B") == 6


def test_parameters_are_validated_and_echoed(toy, events_dir):
    data = events_dir(STORY)
    r = brandlens.compute(data, as_of=D, methodologies=["toy"], params={"toy.min_view_days": "1"})
    assert r.parameters["toy"]["min_view_days"] == 1
    # with one view day enough for I, u_view1 moves from A to I
    assert [r.value("toy.stage_users", "B", k) for k in "AI"] == [1, 3]


def test_as_of_defaults_to_the_last_local_event_date(toy, events_dir):
    r = brandlens.compute(events_dir(STORY), methodologies=["toy"])
    assert r.as_of == "2025-07-01"  # u_m5's join is 07-01 in Shanghai


def test_shuffled_rows_give_byte_identical_json(toy, events_dir, tmp_path):
    import random

    a = brandlens.compute(events_dir(STORY), as_of=D, methodologies=["toy"])
    shuffled = STORY[:]
    random.Random(3).shuffle(shuffled)
    b = brandlens.compute(events_dir(shuffled), as_of=D, methodologies=["toy"])
    assert a.model_dump_json() == b.model_dump_json()
    c = brandlens.compute(events_dir(STORY), as_of=D, methodologies=["toy"])
    assert a.model_dump_json() == c.model_dump_json()


def test_results_are_sorted(toy, events_dir):
    """By methodology, indicator and brand, then keys in their declared order (a ladder's
    stages lowest first: A, I, P, L), never alphabetically."""
    r = brandlens.compute(events_dir(STORY), as_of=D, methodologies=["toy"])
    position = {i: {k: n for n, k in enumerate(keys)} for i, keys in r.key_order.items()}
    keys = [
        (x.methodology, x.indicator, x.brand, position.get(x.indicator, {}).get(x.key, -1))
        for x in r.results
    ]
    assert keys == sorted(keys)
    stages = [x.key for x in r.results if x.indicator == "toy.stage_users" and x.brand == "B"]
    assert stages == r.key_order["toy.stage_users"] == ["A", "I", "P", "L"]


def test_engine_settings_reach_duckdb(events_dir, tmp_path, monkeypatch):
    from brandlens.engine.runs import Dataset, EngineConfig

    monkeypatch.setenv("BRANDLENS_MEMORY_LIMIT", "1GB")
    config = EngineConfig(threads=1, temp_directory=str(tmp_path / "spill"))
    with Dataset(events_dir(STORY), config=config) as ds:
        got = ds.con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit'), "
            "current_setting('temp_directory')"
        ).fetchone()
    assert got[0] == 1 and got[1].startswith(("953.6 MiB", "1.0 GB", "1GB")) and "spill" in got[2]


def test_a_run_turns_off_duckdbs_partitioned_execution(events_dir):
    """DuckDB's partitioned execution rescans the whole table per key range on a log in
    time order (docs/performance.md): a run turns it off where DuckDB has it, for every
    cursor of the database (the setting is global), and a connection the caller owns
    (the spec harness's) is left as it was."""
    import duckdb

    from brandlens.engine.runs import DISABLED_OPTIMIZERS, Dataset

    known = {
        r[0] for r in duckdb.connect().execute("SELECT name FROM duckdb_optimizers()").fetchall()
    }
    expected = {n for n in DISABLED_OPTIMIZERS if n in known}
    with Dataset(events_dir(STORY)) as ds:
        for con in (ds.con, ds.con.cursor()):
            (setting,) = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
            assert {n.strip() for n in setting.split(",") if n.strip()} == expected
    own = duckdb.connect()
    with Dataset(events_dir(STORY), connection=own):
        pass
    assert own.execute("SELECT current_setting('disabled_optimizers')").fetchone() == ("",)


def test_zero_denominator_forces_null(register_plugin, events_dir):
    from brandlens.plugin.methodology import Indicator, Methodology

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(
                Methodology(
                    name="z",
                    title="z",
                    source="s",
                    version="1",
                    indicators=(
                        Indicator(
                            id="z.r",
                            title="r",
                            unit="ratio",
                            sql="SELECT brand, 0 AS value, 0 AS numerator, 0 AS denominator "
                            "FROM brands",
                        ),
                    ),
                )
            )

    register_plugin(P(), "z")
    r = brandlens.compute(events_dir(STORY), methodologies=["z"])
    assert r.value("z.r", "B") is None
