"""The stage-ladder compiler: switches, conditions, bound parameters, snapshots."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

import brandlens
from brandlens.engine.ladders import Condition, Evidence, Stage, StageLadder
from brandlens.plugin.methodology import Indicator, IndicatorContext, Methodology, Value
from conftest import ev

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")


class Params(BaseModel):
    click_stage: Literal["low", "high"] = "high"
    channels: list[str] = ["live", "short_video"]


LADDER = StageLadder(
    name="lad",
    snapshots=(0, 3, 3),  # duplicates collapse
    stages=(
        Stage(
            key="low",
            evidence=(
                Evidence(event_types=("ad_impression",), window_days=10),
                Evidence(event_types=("ad_click",), window_days=10, when={"click_stage": "low"}),
            ),
        ),
        Stage(
            key="high",
            evidence=(
                Evidence(event_types=("ad_click",), window_days=10, when={"click_stage": "high"}),
                Evidence(
                    event_types=("content_view",),
                    window_days=10,
                    where=(Condition(column="channel", op="in", value="$channels"),),
                ),
            ),
        ),
    ),
)

METHOD = Methodology(
    name="lad",
    title="Ladder test",
    source="tests",
    version="1",
    parameters=Params,
    ladders=(LADDER,),
    indicators=(
        Indicator(
            id="lad.stages",
            title="stages",
            unit="users",
            dimension="snapshot_stage",
            sql="SELECT brand, days_before || ':' || stage AS key, count(*) AS value "
            "FROM lad GROUP BY ALL",
        ),
    ),
)


class Plugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(METHOD)


STORY = [
    # u1: a click on 06-29 -> "high" by default, "low" when click_stage=low
    ev("2025-06-29 04:00:00", "u1", "ad_click"),
    # u2: a live content view -> high; u3: an offline content view -> no stage
    ev("2025-06-29 04:00:00", "u2", "content_view", channel="live"),
    ev("2025-06-29 04:00:00", "u3", "content_view", channel="offline_store"),
    # u4: impression on 06-21, 10 days window at d (06-30) is [06-21, 06-30] -> low at d;
    # at d-3 (06-27) the window is [06-18, 06-27] -> low too
    ev("2025-06-21 04:00:00", "u4", "ad_impression"),
    # u5: impression on 06-20: outside at d, inside at d-3 -> low at d-3 only
    ev("2025-06-20 04:00:00", "u5", "ad_impression"),
]


@pytest.fixture
def plugin(register_plugin):
    register_plugin(Plugin(), "ladder-test")


def _stages(result):
    return {r.key: r.value for r in result.results}


def test_switches_conditions_and_snapshots(plugin, events_dir):
    data = events_dir(STORY)
    r = brandlens.compute(data, as_of="2025-06-30", methodologies=["lad"])
    # at d: u1 high (click), u2 high (live view), u4 low; at d-3 (06-27): u4 and u5 low
    assert _stages(r) == {"0:high": 2, "0:low": 1, "3:low": 2}
    r = brandlens.compute(
        data,
        as_of="2025-06-30",
        methodologies=["lad"],
        params={"lad.click_stage": "low", "lad.channels": "offline_store"},
    )
    # u1's click is now low; only u3's offline view is high
    assert _stages(r) == {"0:high": 1, "0:low": 2, "3:low": 2}


def test_values_reach_sql_only_as_bound_parameters():
    sql, binds = LADDER.compile(Params().model_dump())
    assert "short_video" not in sql and "ad_click" not in sql
    assert binds["l_lad_1_1_c0"] == ["live", "short_video"]
    assert [binds["l_snap_0"], binds["l_snap_1"]] == [0, 3]


# ---- stages that need several rules at once, and "on a later day than" ------------------

from brandlens.engine.ladders import AllOf, AnyOf  # noqa: E402


class GroupParams(BaseModel):
    long_days: int = 100
    short_days: int = 10
    extras: list[str] = ["accessory"]
    with_share: bool = True


GROUPED = StageLadder(
    name="grp",
    snapshots=(0, 5),
    stages=(
        Stage(key="seen", evidence=(Evidence(event_types=("ad_impression",), window_days=10),)),
        Stage(key="bought", evidence=(Evidence(event_types=("purchase",), window_days=100),)),
        Stage(
            key="kept",
            evidence=(
                AllOf(
                    all_of=(
                        Evidence(event_types=("purchase",), window_days="$long_days"),
                        AnyOf(
                            any_of=(
                                Evidence(event_types=("after_sales",), window_days="$short_days"),
                                Evidence(
                                    event_types=("share",),
                                    window_days="$short_days",
                                    when={"with_share": True},
                                ),
                                Evidence(
                                    event_types=("purchase",),
                                    window_days="$short_days",
                                    where=(Condition(column="category", op="in", value="$extras"),),
                                    after=Evidence(
                                        event_types=("purchase",),
                                        window_days="$long_days",
                                        where=(
                                            Condition(
                                                column="category", op="not in", value="$extras"
                                            ),
                                        ),
                                    ),
                                ),
                            )
                        ),
                    )
                ),
            ),
        ),
    ),
)

GROUPED_METHOD = Methodology(
    name="grp",
    title="Grouped ladder test",
    source="tests",
    version="1",
    parameters=GroupParams,
    ladders=(GROUPED,),
    indicators=(
        Indicator(
            id="grp.stages",
            title="stages",
            unit="users",
            dimension="user_snapshot",
            sql="SELECT brand, user_id || ':' || days_before AS key, stage_rank AS value FROM grp",
        ),
    ),
)


class GroupedPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(GROUPED_METHOD)


def _buy(day: str, user: str, category: str) -> dict:
    return ev(f"{day} 04:00:00", user, "purchase", category=category, amount="10")


GROUPED_STORY = [
    # g1: a phone, then after-sales 3 days later -> kept (rank 3) at d; at d-5 (06-25) the
    # after-sales (06-28) is in the future -> bought
    _buy("2025-06-01", "g1", "phone"),
    ev("2025-06-28 04:00:00", "g1", "after_sales"),
    # g2: an accessory on the day of the phone (not later) -> bought only; nothing at d-5
    _buy("2025-06-27", "g2", "phone"),
    _buy("2025-06-27", "g2", "accessory"),
    # g3: an accessory, then the phone later -> bought only
    _buy("2025-06-20", "g3", "accessory"),
    _buy("2025-06-26", "g3", "phone"),
    # g4: phone, then an accessory a day later -> kept at d; at d-5 (06-25) too
    _buy("2025-06-23", "g4", "phone"),
    _buy("2025-06-24", "g4", "accessory"),
    # g5: an after-sales event without any purchase -> the AllOf fails: no stage
    ev("2025-06-29 04:00:00", "g5", "after_sales"),
    # g6: a share after a purchase -> kept, unless with_share is switched off
    _buy("2025-05-01", "g6", "phone"),
    ev("2025-06-29 04:00:00", "g6", "share"),
    # g7: the phone is older than long_days (100) before the accessory's snapshot -> bought
    _buy("2025-03-01", "g7", "phone"),
    _buy("2025-06-29", "g7", "accessory"),
]


def _ranks(result):
    return {r.key: r.value for r in result.results}


def test_all_of_any_of_and_later_day_than(register_plugin, events_dir):
    register_plugin(GroupedPlugin(), "grouped-ladder-test")
    data = events_dir(GROUPED_STORY)
    r = brandlens.compute(data, as_of="2025-06-30", methodologies=["grp"])
    assert r.errors == []
    assert _ranks(r) == {
        "g1:0": 3,
        "g1:5": 2,
        "g2:0": 2,
        "g3:0": 2,
        "g3:5": 2,
        "g4:0": 3,
        "g4:5": 3,
        "g6:0": 3,
        "g6:5": 2,
        "g7:0": 2,
    }
    # a rule switched off inside a group drops out of it; the rest of the group still counts
    off = brandlens.compute(
        data, as_of="2025-06-30", methodologies=["grp"], params={"grp.with_share": "false"}
    )
    assert _ranks(off)["g6:0"] == 2 and _ranks(off)["g1:0"] == 3
    # a longer long_days reaches back from g7's accessory (06-29) to its phone (03-01)
    wide = brandlens.compute(
        data, as_of="2025-06-30", methodologies=["grp"], params={"grp.long_days": "200"}
    )
    assert _ranks(wide)["g7:0"] == 3


def test_grouped_ladder_reads_nested_types_and_parameters():
    assert GROUPED.event_types() == {"ad_impression", "purchase", "after_sales", "share"}
    assert GROUPED.parameter_refs() == {"long_days", "short_days", "extras", "with_share"}
    sql, binds = GROUPED.compile(GroupParams().model_dump())
    assert "accessory" not in sql and binds["l_grp_2_0_1_2_c0"] == ["accessory"]
    assert binds["l_grp_2_0_1_2_a_w"] == 100


def test_ordered_evidence_counts_one_day():
    with pytest.raises(ValueError, match="min_days must be 1"):
        Evidence(
            event_types=("purchase",),
            window_days=10,
            min_days=2,
            after=Evidence(event_types=("purchase",), window_days=10),
        )


def test_a_nested_unknown_event_type_is_a_plugin_error(register_plugin):
    from brandlens.plugin.host import host

    bad = GROUPED_METHOD.model_copy(
        update={
            "name": "grpbad",
            "indicators": (),
            "ladders": (
                StageLadder(
                    name="grpbad",
                    stages=(
                        Stage(
                            key="x",
                            evidence=(
                                AllOf(
                                    all_of=(
                                        Evidence(event_types=("purchase",), window_days=1),
                                        Evidence(event_types=("teleport",), window_days=1),
                                    )
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        }
    )

    class Bad:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(bad)

    register_plugin(Bad(), "grouped-bad")
    info = next(p for p in host.registry().plugins if p.name == "grouped-bad")
    assert any("teleport" in e for e in info.errors)


# ---- type masks: the vocabulary's codes give the same ladder as bound lists ------------


def _run_ladder(con, ladder, params, codes):
    sql, binds = ladder.compile(params, codes)  # exactly the binds the SQL names
    binds["as_of"] = "2025-06-30"
    return sorted(con.execute(sql, binds).fetchall(), key=repr)


class RepeatParams(BaseModel):
    seen_days: int = 1
    buy_days: int = 2


REPEAT = StageLadder(  # rules needing one, two or three days, in short and long windows
    name="rep",
    snapshots=(0, 5),
    stages=(
        Stage(
            key="seen",
            evidence=(
                Evidence(event_types=("ad_impression",), window_days=10, min_days="$seen_days"),
            ),
        ),
        Stage(
            key="bought",
            evidence=(
                Evidence(event_types=("purchase",), window_days=100, min_days="$buy_days"),
                Evidence(event_types=("share",), window_days=10),
            ),
        ),
    ),
)


class SharedParams(BaseModel):
    seen_days: int = 1
    keen_days: int = 3
    keen_window: int = 100


SHARED = StageLadder(  # content views feed a rule counting days and rules that do not
    name="shr",
    snapshots=(0, 5),
    stages=(
        Stage(
            key="seen",
            evidence=(
                Evidence(
                    event_types=("ad_impression", "content_view"),
                    window_days=10,
                    min_days="$seen_days",
                ),
            ),
        ),
        Stage(
            key="keen",
            evidence=(
                Evidence(
                    event_types=("content_view",),
                    window_days="$keen_window",
                    min_days="$keen_days",
                ),
            ),
        ),
        Stage(
            key="fan",
            evidence=(
                Evidence(
                    event_types=("content_view",),
                    window_days=10,
                    where=(Condition(column="channel", op="in", value=["live"]),),
                ),
                Evidence(  # a review below 4 is read by the scan but sets no flag
                    event_types=("review",),
                    window_days=100,
                    where=(Condition(column="rating", op=">=", value=4),),
                ),
            ),
        ),
    ),
)
SHARED_CASES = (  # rows: user, brand, days before 2025-06-30, type, rating, channel, ...
    # one live content view: seen and fan from the same event that keen counts
    [("u1", "A", 2, "content_view", None, "live", None, None)],
    # views on two days, twice on one of them: two days, not four events, for keen
    [
        ("u1", "A", 2, "content_view", None, None, None, None),
        ("u1", "A", 2, "content_view", None, None, None, None),
        ("u1", "A", 30, "content_view", None, None, None, None),
        ("u1", "A", 30, "content_view", None, "live", None, None),
    ],
    # only a review below 4: no flag, yet a rule needing no day (min_days 0) holds
    [("u2", "B", 3, "review", 1, None, None, None)],
    # views 0, 1 and 29 days back: three days in a 30-day window (a day map's bits 0, 1, 29)
    [("u1", "A", d, "content_view", None, None, None, None) for d in (0, 1, 29)],
    # 0, 1 and 30 days back: the third is one day outside the window, two days only
    [("u1", "A", d, "content_view", None, None, None, None) for d in (0, 1, 30)],
    # impressions 0 and 9 days back: two days in a 10-day window (a day map's bits 0 and 9)
    [("u1", "A", d, "ad_impression", None, None, None, None) for d in (0, 9)],
    # 0 and 10 days back: the second is one day outside the window, one day only
    [("u1", "A", d, "ad_impression", None, None, None, None) for d in (0, 10)],
    # views 0 and 61 days back: two days in a 62-day window, the longest a day map takes
    # (its last bit is 61; a 64-day window would shift by 63 and overflow)
    [("u1", "A", d, "content_view", None, None, None, None) for d in (0, 61)],
    # 0 and 62 days back: two days in a 63-day window (first and last day), one in 62
    [("u1", "A", d, "content_view", None, None, None, None) for d in (0, 62)],
    # 0 and 63 days back: two days in a 64-day window, whose day map would overflow
    [("u1", "A", d, "content_view", None, None, None, None) for d in (0, 63)],
)


def test_type_masks_give_the_rows_bound_lists_give():
    """Every ladder shape (conditions, in-lists, all-of, any-of, later-day, several days)
    on random logs; flags as the bits of one integer, one-day rules as the bits of one
    bit_or per snapshot, rules needing two or more days in a short window as day bits and
    two-day rules in a long one as first < last day give the rows one bool_or per flag and
    one count of days per rule give."""
    import duckdb
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from brandlens.data.schema import CORE_EVENT_TYPES
    from brandlens.data.vocabulary import create_vocabulary_type, type_codes
    from brandlens.engine import ladders

    vocabulary = list(CORE_EVENT_TYPES)
    codes = type_codes(vocabulary)
    assert codes is not None
    con = duckdb.connect()
    create_vocabulary_type(con, vocabulary)
    row = st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["A", "B"]),
        st.one_of(  # days before 2025-06-30, often on a window's edge (10, 62 or 100 days
            st.integers(0, 120),  # from a snapshot 0, 3 or 5 days back)
            st.sampled_from(
                [9, 10, 11, 12, 13, 14, 15, 16, 61, 62, 63, 66, 67, 99, 100, 101, 104, 105, 106]
            ),
        ),
        st.sampled_from(
            [
                *sorted(
                    GROUPED.event_types()
                    | LADDER.event_types()
                    | REPEAT.event_types()
                    | SHARED.event_types()
                ),
                "refund",
                None,  # no type, and a type outside the vocabulary: no rule reads either
                "unheard_of",
            ]
        ),
        st.sampled_from([None, 1, 4, 5]),
        st.sampled_from([None, "live", "short_video", "offline_store"]),
        st.sampled_from([None, "brand", "category"]),
        st.sampled_from([None, "accessory", "phone"]),
    )

    @settings(max_examples=60, deadline=None)
    @given(st.lists(row, max_size=40))
    @example(SHARED_CASES[0])
    @example(SHARED_CASES[1])
    @example(SHARED_CASES[2])
    @example(SHARED_CASES[3])
    @example(SHARED_CASES[4])
    @example(SHARED_CASES[5])
    @example(SHARED_CASES[6])
    @example(SHARED_CASES[7])
    @example(SHARED_CASES[8])
    @example(SHARED_CASES[9])
    def check(rows):
        con.execute(
            "CREATE OR REPLACE TABLE events (user_id VARCHAR, brand VARCHAR, local_date DATE, "
            "event_type VARCHAR, rating INTEGER, channel VARCHAR, query_type VARCHAR, "
            "category VARCHAR)"
        )
        if rows:
            con.executemany(
                "INSERT INTO events VALUES (?, ?, DATE '2025-06-30' - CAST(? AS INTEGER), "
                "?, ?, ?, ?, ?)",
                rows,
            )
        for ladder, params in (
            (LADDER, Params().model_dump()),
            (GROUPED, GroupParams().model_dump()),
            (GROUPED, GroupParams(with_share=False).model_dump()),
            (REPEAT, RepeatParams().model_dump()),  # no (user, brand, day) grouping
            (REPEAT, RepeatParams(seen_days=2, buy_days=2).model_dump()),
            (REPEAT, RepeatParams(seen_days=1, buy_days=3).model_dump()),  # grouped by day
            (REPEAT, RepeatParams(seen_days=3, buy_days=1).model_dump()),
            (REPEAT, RepeatParams(seen_days=0, buy_days=2).model_dump()),  # any event counts
            # only the events of the rule counting days are grouped by day
            (SHARED, SharedParams().model_dump()),
            (SHARED, SharedParams(seen_days=0).model_dump()),
            (SHARED, SharedParams(seen_days=2, keen_days=2).model_dump()),  # no day grouping
            (SHARED, SharedParams(keen_window=30).model_dump()),  # days as bits, no grouping
            (SHARED, SharedParams(keen_window=30, seen_days=0).model_dump()),
            # the longest window a day map takes, and the first past it
            (SHARED, SharedParams(keen_window=62, keen_days=2).model_dump()),
            (SHARED, SharedParams(keen_window=63, keen_days=2).model_dump()),
            (SHARED, SharedParams(keen_window=64, keen_days=2).model_dump()),
            (SHARED, SharedParams(keen_window=62, keen_days=3).model_dump()),
        ):
            expected = _run_ladder(con, ladder, params, codes)
            assert expected == _run_ladder(con, ladder, params, None)
            ladders.MAX_FLAG_BITS = 0  # one bool_or per flag instead of the bits of one integer
            try:
                assert expected == _run_ladder(con, ladder, params, codes)
            finally:
                ladders.MAX_FLAG_BITS = bits

    bits = ladders.MAX_FLAG_BITS
    check()
    # a type outside the vocabulary's codes keeps the list test
    sql, _ = LADDER.compile(Params().model_dump(), {"purchase": 0})
    assert "_type_code" not in sql and "list_contains" in sql


# ---- snapshots the data asks for --------------------------------------------------------


def _snapshot_method(name: str, snapshots_sql: str, ladder: StageLadder = LADDER) -> Methodology:
    ladder = ladder.model_copy(
        update={"name": name, "snapshots": (0,), "snapshots_sql": snapshots_sql}
    )

    def held(ctx: IndicatorContext) -> list[Value]:  # the snapshots the relation holds
        days = ctx.ladder_snapshots[name]
        return [Value(brand=b, key=str(d), value=1) for b in ctx.brands for d in days]

    return METHOD.model_copy(
        update={
            "name": name,
            "ladders": (ladder,),
            "indicators": (
                Indicator(
                    id=f"{name}.stages",
                    title="stages",
                    unit="users",
                    dimension="snapshot_stage",
                    sql="SELECT brand, days_before || ':' || stage AS key, count(*) AS value "
                    f"FROM {name} GROUP BY ALL",
                ),
                Indicator(
                    id=f"{name}.held",
                    title="snapshots held",
                    unit="count",
                    dimension="days_before",
                    compute=held,
                ),
            ),
        }
    )


def _by_indicator(result, indicator):
    return {r.key: r.value for r in result.results if r.indicator == indicator}


def _register(register_plugin, method: Methodology, name: str) -> None:
    class One:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(method)

    register_plugin(One(), name)


def test_snapshots_sql_adds_the_days_the_data_names(register_plugin, events_dir):
    # 06-27 (twice), a NULL and the day five days after the last event (after as_of)
    method = _snapshot_method(
        "snap",
        "SELECT DATE '2025-06-27' AS day UNION ALL SELECT NULL "
        "UNION ALL SELECT max(local_date) + 5 FROM events UNION ALL SELECT DATE '2025-06-27'",
    )
    _register(register_plugin, method, "snapshot-test")
    r = brandlens.compute(events_dir(STORY), as_of="2025-06-30", methodologies=["snap"])
    # the same stages as snapshots (0, 3) declared: at d u1 and u2 high, u4 low; on 06-27
    # (three days before) u4 and u5 low; NULL and the day after as_of add nothing
    assert _by_indicator(r, "snap.stages") == {"0:high": 2, "0:low": 1, "3:low": 2}
    assert set(_by_indicator(r, "snap.held")) == {"0", "3"}
    assert not r.errors


def test_snapshots_sql_runs_only_when_a_python_indicator_runs(register_plugin, events_dir):
    # only Python indicators read the further snapshots: a run of the SQL indicator alone
    # (as compare's headline run may be) computes the declared one, with the same rows
    method = _snapshot_method("snapsql", "SELECT DATE '2025-06-27' AS day")
    _register(register_plugin, method, "snapshot-sql")
    from brandlens.engine.runs import Dataset

    with Dataset(events_dir(STORY)) as ds:
        alone = ds.compute(as_of="2025-06-30", indicators=["snapsql.stages"])
        both = ds.compute(as_of="2025-06-30", methodologies=["snapsql"])
    assert _by_indicator(alone, "snapsql.stages") == {"0:high": 2, "0:low": 1}
    assert _by_indicator(both, "snapsql.stages") == {"0:high": 2, "0:low": 1, "3:low": 2}
    assert set(_by_indicator(both, "snapsql.held")) == {"0", "3"}


def test_a_ladder_keeps_its_own_snapshots_when_it_cannot_take_more(
    register_plugin, events_dir, monkeypatch
):
    from brandlens.engine import runs

    _register(
        register_plugin, _snapshot_method("snapcap", "SELECT DATE '2025-06-27'"), "snapshot-cap"
    )
    # one day more than the ladder may take: its declared snapshot alone, and no error
    monkeypatch.setattr(runs, "MAX_DATA_SNAPSHOTS", 0)
    r = brandlens.compute(events_dir(STORY), as_of="2025-06-30", methodologies=["snapcap"])
    assert not r.errors
    assert _by_indicator(r, "snapcap.stages") == {"0:high": 2, "0:low": 1}
    assert set(_by_indicator(r, "snapcap.held")) == {"0"}


def test_no_further_snapshots_for_a_ladder_with_a_rule_needing_no_day(register_plugin, events_dir):
    """A rule needing 0 days holds for every user the ladder's scan reads, and further
    snapshots widen the scan: they would change the declared snapshots' rows."""
    lenient = StageLadder(
        name="x",
        stages=(
            Stage(
                key="seen",
                evidence=(Evidence(event_types=("ad_impression",), window_days=5, min_days=0),),
            ),
        ),
    )
    method = _snapshot_method("snapzero", "SELECT DATE '2025-05-01'", lenient)
    _register(register_plugin, method, "snapshot-zero")
    r = brandlens.compute(events_dir(STORY), as_of="2025-06-30", methodologies=["snapzero"])
    assert not r.errors
    assert set(_by_indicator(r, "snapzero.held")) == {"0"}
    # the impressions of 06-20 and 06-21 are older than 5 days: read by no scan, no stage
    assert _by_indicator(r, "snapzero.stages") == {}


def test_snapshots_sql_that_returns_no_dates_fails_its_ladder(register_plugin, events_dir):
    _register(register_plugin, _snapshot_method("snapnum", "SELECT 3 AS day"), "snapshot-num")
    r = brandlens.compute(events_dir(STORY), as_of="2025-06-30", methodologies=["snapnum"])
    assert not [x for x in r.results if x.indicator == "snapnum.stages"]
    assert "snapshots_sql must return dates, got 3" in r.errors[0].message


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("DELETE FROM events RETURNING local_date", "only SELECT/WITH"),
        ("SELECT local_date, brand FROM events", "must return one column"),
        ("SELECT * FROM events", "must name its one column"),
        ("SELECT * FROM (SELECT DISTINCT local_date FROM events)", "not select *"),
        ("SELECT snapshot_date FROM snapbad", "snapbad"),
        ("SELECT $nowhere AS day", "$nowhere"),
    ],
)
def test_snapshots_sql_is_checked_at_registration(register_plugin, sql, problem):
    from brandlens.plugin.host import host

    _register(register_plugin, _snapshot_method("snapbad", sql), "snapshot-bad")
    info = next(p for p in host.registry().plugins if p.name == "snapshot-bad")
    assert any("snapshots_sql" in e and problem in e for e in info.errors), info.errors
