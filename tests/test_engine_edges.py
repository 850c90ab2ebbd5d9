"""The engine's result assembly, by hand, through a tiny plugin defined here.

Each test pins one rule of a run's result that a slip in the engine would change
silently: rounding to 12 significant digits, whole counts, rows for the run's brands
only, keys in their declared order, the notes beside the values (short history,
unmatched values), a result restricted to some indicators, entity listings. Found by
a mutation run over ``engine/runs.py``, ``result.py``, ``engines.py`` and
``unmatched.py``: every test here fails on one planted slip the suite let through.

The log: brand B (users u1, u2) and brand C (u3), as_of 2025-06-30 (Asia/Shanghai).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

import brandlens
from brandlens.engine.runs import Dataset
from brandlens.engine.unmatched import likely_meant
from brandlens.errors import UsageError
from brandlens.plugin import (
    EntityTable,
    Evidence,
    Indicator,
    IndicatorContext,
    Methodology,
    Relation,
    Stage,
    StageLadder,
    Value,
)
from conftest import ev

D = "2025-06-30"

LOG = [
    ev("2025-06-01 04:00:00", "u1", "purchase", amount="10", category="tea"),
    ev("2025-06-20 04:00:00", "u2", "ad_impression", category="tea"),
    ev("2025-06-29 04:00:00", "u2", "purchase", amount="5", category="juice"),
    ev("2025-06-30 04:00:00", "u3", "purchase", brand="C", amount="7", category="juice"),
    # u4 joins B on as_of itself (12:00 local): a member as of D; u5 joins B at 01:00
    # local on the day after (17:00 UTC on 06-30): not yet
    ev("2025-06-30 04:00:00", "u4", "member_join"),
    ev("2025-06-30 17:00:00", "u5", "member_join"),
    # u6 joined B and left: not a member (its last join/leave is the leave)
    ev("2025-06-05 04:00:00", "u6", "member_join"),
    ev("2025-06-10 04:00:00", "u6", "member_leave"),
    # a category seen only after as_of (07-02 local) counts nothing as of D
    ev("2025-07-02 04:00:00", "u3", "ad_impression", brand="C", category="snacks"),
]

SEEN: dict[str, Any] = {}  # what the Python indicators were given, per run


class EdgeParams(BaseModel):
    offset: int = 3
    cats: list[str] = Field(default=["tea"], json_schema_extra={"vocabulary": "categories"})


def _third(ctx: IndicatorContext) -> list[Value]:
    # 1/3 and its numerator 2/3 need rounding; u3's brand C gets -0.0, a negative zero
    return [
        Value(brand="B", value=1 / 3, numerator=2 / 3, denominator=2),
        Value(brand="C", value=-0.0, numerator=0, denominator=1),
    ]


def _whole(ctx: IndicatorContext) -> list[Value]:
    # a count computed as a float is reported as a whole number; a truth value as 1;
    # a value for a brand outside the run is dropped; a key on an indicator without a
    # dimension is not reported
    SEEN["brands"] = list(ctx.brands)
    return [
        *(Value(brand=b, value=2.0, key="stray") for b in ctx.brands),
        Value(brand="Z", value=5.0),
    ]


def _flag(ctx: IndicatorContext) -> list[Value]:
    return [Value(brand=b, value=True) for b in ctx.brands]


def _query_kwargs(ctx: IndicatorContext) -> list[Value]:
    # a keyword given to ctx.query binds that name, over the run's parameter of the name
    (got,) = ctx.query("SELECT $offset + 0")
    (given,) = ctx.query("SELECT $offset + 0", offset=40)
    return [Value(brand=b, value=got[0] * 100 + given[0]) for b in ctx.brands]


def _twice(ctx: IndicatorContext) -> list[Value]:
    return [Value(brand=b, value=1) for b in ctx.brands] + [Value(brand="B", value=2)]


def _one_value(ctx: IndicatorContext) -> Any:
    return Value(brand="B", value=1)  # not a list: a slip a plugin author makes


EDGE = Methodology(
    name="edge",
    title="Edge",
    source="tests",
    version="0",
    parameters=EdgeParams,
    history_days=lambda p: 45,  # 2025-05-17 .. 2025-06-30
    relations=(
        Relation(
            name="buys",
            sql="SELECT brand, user_id, local_date, amount, local_date = $as_of AS today, ts "
            "FROM events WHERE event_type = 'purchase' AND local_date <= $as_of",
        ),
    ),
    indicators=(
        Indicator(id="edge.third", title="t", unit="ratio", compute=_third),
        Indicator(id="edge.whole", title="w", unit="count", compute=_whole, headline=True),
        Indicator(id="edge.flag", title="f", unit="index", compute=_flag),
        Indicator(id="edge.kw", title="k", unit="index", compute=_query_kwargs),
        Indicator(id="edge.one", title="o", unit="count", compute=_one_value),
        Indicator(id="edge.twice", title="t", unit="count", compute=_twice),
        # declared in the order zeta, alpha: listed in that order, not alphabetically
        Indicator(
            id="edge.by_key",
            title="k",
            unit="users",
            dimension="part",
            keys=("zeta", "alpha"),
            sql="SELECT brand, k AS key, 1 AS value FROM brands, "
            "(VALUES ('alpha'), ('zeta')) AS t(k)",
        ),
        # brand C lacks the key alpha: an error, not a partial breakdown
        Indicator(
            id="edge.lacking",
            title="l",
            unit="users",
            dimension="part",
            keys=("zeta", "alpha"),
            sql="SELECT brand, k AS key, 1 AS value FROM brands, "
            "(VALUES ('alpha'), ('zeta')) AS t(k) WHERE brand = 'B' OR k = 'zeta'",
        ),
        Indicator(
            id="edge.members",
            title="m",
            unit="users",
            sql="SELECT b.brand, count(m.user_id) AS value FROM brands b "
            "LEFT JOIN members m ON m.brand = b.brand GROUP BY b.brand",
        ),
        # a keyed row with a NULL key is an error, not a key called 'None'
        Indicator(
            id="edge.null_key",
            title="n",
            unit="users",
            dimension="part",
            sql="SELECT brand, NULL AS key, 1 AS value FROM brands",
        ),
        # reads the category parameter; not a headline
        Indicator(
            id="edge.cat_buyers",
            title="c",
            unit="users",
            sql="SELECT b.brand, count(e.user_id) AS value FROM brands b LEFT JOIN events e "
            "ON e.brand = b.brand AND e.category IN (SELECT unnest($cats)) "
            "AND e.local_date <= $as_of GROUP BY b.brand",
        ),
        # need columns the log lacks; declared z before a, listed a before z
        Indicator(
            id="edge.z_needs",
            title="z",
            unit="users",
            requires=("users.gender",),
            sql="SELECT brand, 0 AS value FROM brands",
        ),
        Indicator(
            id="edge.a_needs",
            title="a",
            unit="users",
            requires=("users.age",),
            sql="SELECT brand, 0 AS value FROM brands",
        ),
    ),
    entities=(
        EntityTable(
            name="buys",
            title="Purchases",
            key=("user_id", "local_date"),
            relation="buys",
        ),
        EntityTable(
            name="spenders",
            title="Users by spend",
            key=("user_id",),
            sql="SELECT brand, user_id, sum(amount) FILTER (WHERE event_type = 'purchase') "
            "AS spent FROM events WHERE local_date <= $as_of GROUP BY ALL",
            order_by=("spent DESC",),
        ),
    ),
)


class EdgePlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(EDGE)


@pytest.fixture
def data(register_plugin, events_dir):
    register_plugin(EdgePlugin(), "edge-plugin")
    register_plugin(LadderPlugin(), "ladderish-plugin")
    SEEN.clear()
    return events_dir(LOG)


@pytest.fixture
def ds(data):
    with Dataset(data, cache=False) as d:
        yield d


def _rows(result, indicator: str) -> list[tuple]:
    return [
        (r.brand, r.key, r.value, r.numerator, r.denominator)
        for r in result.results
        if r.indicator == indicator
    ]


def test_values_are_rounded_to_12_significant_digits_and_never_negative_zero(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    # 1/3 = 0.333333333333 (12 threes), 2/3 = 0.666666666667 (the 12th digit rounded up)
    assert _rows(r, "edge.third") == [
        ("B", None, 0.333333333333, 0.666666666667, 2),
        ("C", None, 0.0, 0, 1),
    ]
    text = r.model_dump_json()
    assert "-0.0" not in text
    assert '"value":0.333333333333,' in text


def test_a_count_is_whole_a_truth_value_is_one_and_other_brands_are_dropped(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    # 2.0 of unit count is 2; the stray key is not reported; brand Z is not in the run
    assert _rows(r, "edge.whole") == [("B", None, 2, None, None), ("C", None, 2, None, None)]
    assert all(type(x[2]) is int for x in _rows(r, "edge.whole"))
    assert '"value":2,' in r.model_dump_json()
    # True is reported as the number 1, never as JSON true
    assert _rows(r, "edge.flag") == [("B", None, 1, None, None), ("C", None, 1, None, None)]
    flags = [x for x in json.loads(r.model_dump_json())["results"] if x["indicator"] == "edge.flag"]
    assert [x["value"] for x in flags] == [1, 1] and all(x["value"] is not True for x in flags)


def test_a_brand_given_twice_or_out_of_order_is_each_brand_once_by_name(ds):
    r = ds.compute(as_of=D, methodologies=["edge"], brands=["C", "B", "C"])
    assert SEEN["brands"] == ["B", "C"]
    assert _rows(r, "edge.whole") == [("B", None, 2, None, None), ("C", None, 2, None, None)]


def test_a_query_keyword_binds_over_the_parameter_of_that_name(ds):
    # offset is 3 from the parameters; offset=40 given to ctx.query -> 3 * 100 + 40
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert r.value("edge.kw", "B") == 340


def test_a_single_value_instead_of_a_list_is_said_as_such(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert [(e.indicator, e.message) for e in r.errors if e.indicator == "edge.one"] == [
        ("edge.one", "compute= must return a list of Value, got Value")
    ]


def test_a_null_key_is_an_error_not_a_key(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert _rows(r, "edge.null_key") == []
    assert [(e.indicator, e.message) for e in r.errors if e.indicator == "edge.null_key"] == [
        ("edge.null_key", "a row for brand 'B' has no key")
    ]


def test_a_join_on_the_as_of_day_makes_a_member(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert (r.value("edge.members", "B"), r.value("edge.members", "C")) == (1, 0)
    # as of the day after, u5 is a member too
    r = ds.compute(as_of="2025-07-01", methodologies=["edge"])
    assert r.value("edge.members", "B") == 2


def test_separators_are_folded_before_spelling_is_compared():
    # "x_y_z" and "XYZ" differ by case and underscores alone; by spelling they are too far
    # apart (difflib's ratio of "x_y_z" and "xyz" is 2 * 3 / 8 = 0.75, under 0.8)
    assert likely_meant("x_y_z", {"XYZ": 1}) == "XYZ"
    assert likely_meant("x-y z", {"XYZ": 1}) == "XYZ"


def test_a_second_value_or_a_missing_key_is_the_indicators_error(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert _rows(r, "edge.twice") == [] and _rows(r, "edge.lacking") == []
    errors = {e.indicator: e.message for e in r.errors}
    assert errors["edge.twice"] == "more than one value for brand 'B', key None"
    assert errors["edge.lacking"] == "brand 'C' lacks key(s) alpha"


def test_keys_are_listed_in_their_declared_order(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert [(b, k) for b, k, *_ in _rows(r, "edge.by_key")] == [
        ("B", "zeta"),
        ("B", "alpha"),
        ("C", "zeta"),
        ("C", "alpha"),
    ]
    assert r.key_order == {"edge.by_key": ["zeta", "alpha"], "edge.lacking": ["zeta", "alpha"]}


def test_key_order_and_unmatched_values_follow_the_indicators_run(ds):
    # Without a spec an indicator is taken to read every parameter: an unmatched value
    # is said with the indicators of the run that ran, and those only (edge.a_needs and
    # edge.z_needs, not applicable without a users table, read nothing).
    cats = {"edge.cats": "tea,coffee"}
    full = ds.compute(as_of=D, methodologies=["edge"], params=cats)
    assert [(u.parameter, u.values) for u in full.unmatched_values] == [("cats", ["coffee"])]
    skipped = {"edge.a_needs", "edge.z_needs"}
    assert {n.indicator for n in full.not_applicable} == skipped
    ran = [i.id for i in EDGE.indicators if i.id not in skipped]
    assert full.unmatched_values[0].indicators == ran
    # a headline-only run holds no keyed indicator (a headline has no dimension)
    head = ds.compute(as_of=D, methodologies=["edge"], headline_only=True, params=cats)
    assert [r.indicator for r in head.results] == ["edge.whole", "edge.whole"]
    assert head.key_order == {}
    assert [u.indicators for u in head.unmatched_values] == [["edge.whole"]]
    # so with the indicators named: only edge.whole
    only = ds.compute(as_of=D, methodologies=["edge"], indicators=["edge.whole"], params=cats)
    assert only.key_order == {}
    assert [u.indicators for u in only.unmatched_values] == [["edge.whole"]]


def test_not_applicable_indicators_are_listed_by_id(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert [(n.indicator, n.reason) for n in r.not_applicable] == [
        ("edge.a_needs", "needs the users table with age"),
        ("edge.z_needs", "needs the users table with gender"),
    ]


def test_short_history_says_the_days_read(ds):
    # history_days 45 up to 06-30 reads from 05-17; the log starts on 06-01
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert [h.model_dump() for h in r.short_history] == [
        {"methodology": "edge", "reads_from": "2025-05-17", "data_from": "2025-06-01", "days": 45}
    ]


def test_a_list_parameter_keeps_each_value_once_in_the_order_given(ds):
    r = ds.compute(as_of=D, methodologies=["edge"], params={"edge.cats": "juice,tea,juice"})
    assert r.parameters["edge"]["cats"] == ["juice", "tea"]
    # u2 and u3 bought juice, u1 and u2 had a tea event: 3 events on B, 1 on C
    assert (r.value("edge.cat_buyers", "B"), r.value("edge.cat_buyers", "C")) == (3, 1)


def test_a_restricted_result_keeps_only_what_the_kept_indicators_have(ds):
    cats = {"edge.cats": "coffee"}
    r = ds.compute(as_of=D, methodologies=["edge"], params=cats)
    assert r.short_history and r.unmatched_values and r.key_order
    kept = r.restricted(lambda m, i: i == "edge.whole")
    assert {x.indicator for x in kept.results} == {"edge.whole"}
    # edge.whole is one of edge's indicators: the short history stays; it reads cats
    # (no spec says otherwise) and has no keys
    assert [h.methodology for h in kept.short_history] == ["edge"]
    assert [u.indicators for u in kept.unmatched_values] == [["edge.whole"]]
    assert kept.key_order == {}
    keyed = r.restricted(lambda m, i: i == "edge.by_key")
    assert keyed.key_order == {"edge.by_key": ["zeta", "alpha"]}
    # an indicator that only failed or was skipped still belongs to the methodology
    skipped = r.restricted(lambda m, i: i == "edge.a_needs")
    assert skipped.results == [] and [h.methodology for h in skipped.short_history] == ["edge"]
    nothing = r.restricted(lambda m, i: False)
    assert nothing.short_history == [] and nothing.unmatched_values == []


def test_value_looks_a_key_up(ds):
    r = ds.compute(as_of=D, methodologies=["edge"])
    assert r.value("edge.by_key", "B", "alpha") == 1
    with pytest.raises(KeyError):
        r.value("edge.by_key", "B")  # no row without a key


def test_an_entity_listing_has_its_brands_only_with_dates_and_truth_values(ds):
    listing = ds.entities("edge", "buys", brands="B", as_of=D)
    assert listing.columns == ["brand", "user_id", "local_date", "amount", "today", "ts"]
    # B's two purchases, by key (user_id, local_date); dates as ISO text, flags as booleans
    assert [(r["user_id"], r["local_date"], r["amount"], r["today"]) for r in listing.rows] == [
        ("u1", "2025-06-01", 10, False),
        ("u2", "2025-06-29", 5, False),
    ]
    assert all(r["today"] is False for r in listing.rows)
    # an instant (the canonical ts, UTC) as ISO 8601 text too: "T" between date and time
    assert [r["ts"] for r in listing.rows] == [
        "2025-06-01T04:00:00",
        "2025-06-29T04:00:00",
    ]
    # C's purchase is on as_of itself
    (c,) = ds.entities("edge", "buys", brands=["C"], as_of=D).rows
    assert c["today"] is True


def test_an_entity_without_a_value_to_order_by_comes_last(ds):
    # B's users as of D: u1 spent 10, u2 spent 5, u4 and u6 only joined (no spend: NULL),
    # those two by key
    listing = ds.entities("edge", "spenders", brands=["B"], as_of=D)
    assert [(r["user_id"], r["spent"]) for r in listing.rows] == [
        ("u1", 10),
        ("u2", 5),
        ("u4", None),
        ("u6", None),
    ]


def test_ladder_counts_are_asked_of_the_run_in_whole_days(ds):
    with pytest.raises(UsageError, match="is not among the run's methodologies"):
        ds.compute(as_of=D, methodologies=["edge"], ladder_counts={"other": {}})
    with pytest.raises(UsageError, match="back must be whole days"):
        ds.compute(as_of=D, methodologies=["ladderish"], ladder_counts={"ladderish": {"l": True}})


LADDER = StageLadder(
    name="l",
    snapshots=(0,),
    stages=(
        Stage(key="seen", evidence=(Evidence(event_types=("ad_impression",), window_days=30),)),
        Stage(key="buyer", evidence=(Evidence(event_types=("purchase",), window_days=30),)),
    ),
)


class LadderPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(
            Methodology(
                name="ladderish",
                title="L",
                source="tests",
                version="0",
                ladders=(LADDER,),
                indicators=(
                    Indicator(
                        id="ladderish.n",
                        title="n",
                        unit="users",
                        sql="SELECT b.brand, count(l.user_id) AS value FROM brands b "
                        "LEFT JOIN l ON l.brand = b.brand AND l.days_before = 0 GROUP BY b.brand",
                    ),
                ),
            )
        )


def test_a_count_further_back_than_the_runs_ladder_builds_the_ladder_again(ds):
    # the run's ladder holds as_of alone; counts 10 days back need 06-20 too.
    # On 06-20 (window 05-22..06-20): u1 bought (06-01) -> buyer; u2's impression that
    # day -> seen. On 06-30: u1 buyer, u2 buyer (06-29); C: u3 buyer.
    r = ds.compute(as_of=D, methodologies=["ladderish"], ladder_counts={"ladderish": {"l": 10}})
    counted = r.ladders["ladderish"]
    assert counted.counts == [
        ("l", 0, "B", "buyer", 2),
        ("l", 0, "C", "buyer", 1),
        ("l", 10, "B", "buyer", 1),
        ("l", 10, "B", "seen", 1),
    ]
    # flows: u1 buyer -> buyer, u2 seen -> buyer, u3 none -> buyer
    assert counted.flows == [
        ("l", "B", "buyer", "buyer", 1),
        ("l", "B", "seen", "buyer", 1),
        ("l", "C", "none", "buyer", 1),
    ]
    assert counted.flows == [tuple(f) for f in ds.ladder_counts("ladderish", D, back=10)[1]]


SNAP = StageLadder(
    name="snap",
    snapshots=(7,),
    # as_of and the 63 days before it: 64 days, as many as a ladder may add
    snapshots_sql="SELECT CAST($as_of AS DATE) - CAST(x AS INTEGER) AS day "
    "FROM (SELECT unnest(range(0, 64)) AS x)",
    stages=(Stage(key="buyer", evidence=(Evidence(event_types=("purchase",), window_days=30),)),),
)


def _held(ctx: IndicatorContext) -> list[Value]:
    days = ctx.ladder_snapshots["snap"]
    SEEN["held"] = sorted(set(days))
    return [Value(brand=b, value=len(set(days))) for b in ctx.brands]


class SnapPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(
            Methodology(
                name="snapper",
                title="S",
                source="tests",
                version="0",
                ladders=(SNAP,),
                indicators=(Indicator(id="snapper.held", title="h", unit="count", compute=_held),),
            )
        )


def test_a_ladder_adds_as_many_as_64_data_snapshots_as_of_included(register_plugin, events_dir):
    register_plugin(SnapPlugin(), "snapper-plugin")
    SEEN.clear()
    r = brandlens.compute(events_dir(LOG), as_of=D, methodologies=["snapper"])
    assert not r.errors
    # declared 7, found 0 (as_of itself) to 63: 64 distinct days, all kept
    assert SEEN["held"] == list(range(64))
    assert r.value("snapper.held", "B") == 64


def test_a_statement_at_zero_percent_is_reported_as_such():
    import time

    from brandlens.engine.watch import watching

    class Con:  # a connection whose statement has not moved yet: 0 %, never -1
        def execute(self, sql: str) -> None:
            pass

        def query_progress(self) -> float:
            return 0.0

    got: list[float | None] = []
    with watching(Con(), got.append, every=0.01):
        time.sleep(0.2)
    assert got and got[0] == 0.0 and got[-1] is None
