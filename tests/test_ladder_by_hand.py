"""The ladder compiler and its stage SQL against stages counted by hand.

No built-in methodology: each case is a tiny ladder and a log of (user, days before
2025-06-30, event type, category) rows, compiled with and without the vocabulary's type
codes, and the relation (or a helper's SQL over it) compared with the hand count. A
mutation run found compiler errors that only FAST's storyboards caught (the date a
snapshot's rows carry, "later than" reading the prior's first day, each type's scan
span, deepening's numerator and denominator, the flow a report draws); a third-party
ladder must not depend on a built-in plugin's tests for them."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from brandlens.data.schema import CORE_EVENT_TYPES
from brandlens.data.vocabulary import create_vocabulary_type, type_codes
from brandlens.plugin import (  # the public API a third-party ladder plugin uses
    Condition,
    Evidence,
    Indicator,
    Methodology,
    Stage,
    StageLadder,
    deepening_sql,
    flow_sql,
    stage_counts_sql,
)

D = date(2025, 6, 30)
VOCABULARY = list(CORE_EVENT_TYPES)


def _con(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """Events of brand B from (user, days before D, type[, category]) rows."""
    con = duckdb.connect()
    create_vocabulary_type(con, VOCABULARY)
    con.execute(
        "CREATE TABLE events (user_id VARCHAR, brand VARCHAR, local_date DATE, "
        "event_type VARCHAR, category VARCHAR)"
    )
    for user, back, etype, *cat in rows:
        con.execute(
            "INSERT INTO events VALUES (?, 'B', ?, ?, ?)",
            [user, D - timedelta(days=back), etype, cat[0] if cat else None],
        )
    con.execute("CREATE TABLE brands AS SELECT 'B' AS brand")
    return con


def _ladder(con, ladder: StageLadder, params: dict | None = None) -> list[tuple]:
    """The relation's rows (days_before, snapshot_date, user, stage, rank), the same
    with type codes and with bound type lists; materialised as the ladder's table."""
    got = []
    for codes in (type_codes(VOCABULARY), None):
        sql, binds = ladder.compile(params or {}, codes)
        binds["as_of"] = D
        con.execute(f"CREATE OR REPLACE TABLE {ladder.name} AS {sql}", binds)
        got.append(
            con.execute(
                f"SELECT days_before, snapshot_date, user_id, stage, stage_rank "
                f"FROM {ladder.name} ORDER BY ALL"
            ).fetchall()
        )
    assert got[0] == got[1]
    return got[0]


def _stages(rows: list[tuple]) -> dict[tuple[int, str], str]:
    return {(back, user): stage for back, _, user, stage, _ in rows}


# ---- snapshots, stages and the helpers' counts, flows and deepening ----------------------

AIPL = StageLadder(
    name="aipl",
    snapshots=(0, 7),
    stages=(
        Stage(key="A", evidence=(Evidence(event_types=("ad_impression",), window_days=10),)),
        Stage(key="I", evidence=(Evidence(event_types=("favorite",), window_days=10),)),
        Stage(key="P", evidence=(Evidence(event_types=("purchase",), window_days=100),)),
        Stage(
            key="L",
            evidence=(Evidence(event_types=("purchase",), window_days=100, min_days=2),),
        ),
    ),
)
# Windows at d (06-30): days 0..9 back (A, I), 0..99 (P, L); at d-7 (06-23): 7..16, 7..106.
AIPL_LOG = [
    ("u1", 8, "ad_impression"),  # A at d-7 and at d: kept A>A
    ("u2", 8, "ad_impression"),  # A at d-7 ...
    ("u2", 2, "purchase"),  # ... P at d (P outranks A): deepened A>P
    ("u3", 20, "purchase"),  # two purchase days before d-7: L at both: L>L
    ("u3", 10, "purchase"),
    ("u4", 12, "favorite"),  # I at d-7 (7..16), out of d's 0..9: lost I>none
    ("u5", 1, "ad_impression"),  # after d-7, A at d: gained none>A
    ("u6", 30, "purchase"),  # P at both, the later impression does not lower it: P>P
    ("u6", 1, "ad_impression"),
    ("u7", 10, "ad_impression"),  # day 10 is in d-7's 7..16, out of d's 0..9: lost A>none
    ("u8", 0, "favorite"),  # on as_of itself: I at d, nothing at d-7: gained none>I
]


def test_each_snapshot_gets_its_highest_stage_and_its_date():
    rows = _ladder(_con(AIPL_LOG), AIPL)
    assert _stages(rows) == {
        (0, "u1"): "A", (0, "u2"): "P", (0, "u3"): "L", (0, "u5"): "A", (0, "u6"): "P",
        (0, "u8"): "I",
        (7, "u1"): "A", (7, "u2"): "A", (7, "u3"): "L", (7, "u4"): "I", (7, "u6"): "P",
        (7, "u7"): "A",
    }  # fmt: skip
    rank = {"A": 1, "I": 2, "P": 3, "L": 4}
    for back, day, _, stage, stage_rank in rows:
        assert day == D - timedelta(days=back)  # snapshot_date = as_of - days_before
        assert stage_rank == rank[stage]


def test_stage_counts_flows_and_deepening_by_hand():
    con = _con(AIPL_LOG)
    _ladder(con, AIPL)

    counts = {k: n for _, k, n in con.execute(stage_counts_sql(AIPL, 0)).fetchall()}
    assert counts == {"A": 2, "I": 1, "P": 2, "L": 1}  # u1 u5 | u8 | u2 u6 | u3
    counts = {k: n for _, k, n in con.execute(stage_counts_sql(AIPL, 7)).fetchall()}
    assert counts == {"A": 3, "I": 1, "P": 1, "L": 1}  # u1 u2 u7 | u4 | u6 | u3
    flows = {k: n for _, k, n in con.execute(flow_sql(AIPL, 7)).fetchall() if n}
    assert flows == {
        "A>A": 1, "A>P": 1, "L>L": 1, "I>none": 1, "none>A": 1, "P>P": 1, "A>none": 1,
        "none>I": 1,
    }  # fmt: skip
    # staged at d-7: u1 u2 u3 u4 u6 u7 (u5, u8 had no stage); higher at d: u2 alone
    ((_, num, den, value),) = con.execute(deepening_sql(AIPL, 7)).fetchall()
    assert (num, den) == (1, 6) and value == pytest.approx(1 / 6)
    by_stage = {
        k: (num, den)
        for _, k, num, den, _ in con.execute(deepening_sql(AIPL, 7, by_stage=True)).fetchall()
    }
    # A: u1 kept, u2 deepened, u7 lost; I: u4 lost; P: u6 kept; L, the highest, no row
    assert by_stage == {"A": (1, 3), "I": (0, 1), "P": (0, 1)}


# ---- "on a later day than" ------------------------------------------------------------------

ORDERED = StageLadder(
    name="ordered",
    stages=(
        Stage(
            key="kept",
            evidence=(
                Evidence(
                    event_types=("purchase",),
                    window_days=10,
                    where=(Condition(column="category", op="=", value="accessory"),),
                    after=Evidence(
                        event_types=("purchase",),
                        window_days=100,
                        where=(Condition(column="category", op="=", value="phone"),),
                    ),
                ),
            ),
        ),
    ),
)


def test_later_day_than_reads_each_evidence_in_its_own_window():
    log = [
        # o1: an accessory (day 5) after the first phone (day 50) in 100 days, though
        # before a second phone (day 2): "later than a day of" the prior -> kept
        ("o1", 50, "purchase", "phone"),
        ("o1", 5, "purchase", "accessory"),
        ("o1", 2, "purchase", "phone"),
        # o2: phone (day 60) then accessory (day 30): the accessory is outside its own
        # 10 days (0..9), though inside the prior's 100 -> no stage
        ("o2", 60, "purchase", "phone"),
        ("o2", 30, "purchase", "accessory"),
    ]
    assert _stages(_ladder(_con(log), ORDERED)) == {(0, "o1"): "kept"}


# ---- the scan reads each type only as far back as its rules need ----------------------------

LENIENT = StageLadder(
    name="lenient",
    stages=(
        Stage(
            key="seen",
            evidence=(Evidence(event_types=("ad_impression",), window_days=5, min_days=0),),
        ),
        Stage(key="buyer", evidence=(Evidence(event_types=("purchase",), window_days=30),)),
    ),
)


def test_a_rule_needing_no_day_holds_only_for_users_the_scan_reads():
    # impressions are read 5 days back (0..4) and purchases 30: x1's impression on day 4
    # is read -> seen; x2's on day 5 is not, and x2 has nothing else read -> no row; x3's
    # purchase 29 days back makes it a buyer, x4's 30 days back is read by no scan
    log = [
        ("x1", 4, "ad_impression"),
        ("x2", 5, "ad_impression"),
        ("x3", 29, "purchase"),
        ("x4", 30, "purchase"),
    ]
    assert _stages(_ladder(_con(log), LENIENT)) == {(0, "x1"): "seen", (0, "x3"): "buyer"}


# ---- Dataset.ladder_counts: the counts and flows a report draws ----------------------------


def test_ladder_counts_and_flows_of_a_plugin_ladder(register_plugin, events_dir):
    import brandlens
    from brandlens.engine.runs import Dataset
    from conftest import ev

    method = Methodology(
        name="hand",
        title="Ladder by hand",
        source="tests",
        version="1",
        ladders=(AIPL,),
        indicators=(
            Indicator(id="hand.users", title="users", unit="users", sql=stage_counts_sql(AIPL)),
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(method)

    register_plugin(Plugin(), "ladder-by-hand")
    buy = {"category": "c", "product_id": "p1", "amount": "10"}  # a purchase needs them
    rows = [  # 04:00 UTC is noon in Asia/Shanghai: the local day is the UTC day
        ev(
            f"{D - timedelta(days=back)} 04:00:00",
            user,
            etype,
            **(buy if etype == "purchase" else {}),
        )
        for user, back, etype in AIPL_LOG
    ]
    with Dataset(events_dir(rows)) as ds:
        counts, flows = ds.ladder_counts("hand", D, ["B"], back=7)
    assert {(d, s): n for _, d, _, s, n in counts} == {
        (0, "A"): 2, (0, "I"): 1, (0, "P"): 2, (0, "L"): 1,
        (7, "A"): 3, (7, "I"): 1, (7, "P"): 1, (7, "L"): 1,
    }  # fmt: skip
    # the moves flow_sql counts: u1 A>A, u2 A>P, u3 L>L, u4 I>none, u5 none>A, u6 P>P,
    # u7 A>none, u8 none>I
    assert sorted((f, t, n) for _, _, f, t, n in flows) == [
        ("A", "A", 1), ("A", "P", 1), ("A", "none", 1), ("I", "none", 1), ("L", "L", 1),
        ("P", "P", 1), ("none", "A", 1), ("none", "I", 1),
    ]  # fmt: skip
