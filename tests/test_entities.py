"""Entity tables: a methodology lists the entities behind its numbers, on request only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.ladders import Evidence, Stage, StageLadder, stage_users_sql
from brandlens.errors import BrandlensError, PluginError, UsageError
from brandlens.plugin.methodology import (
    EntityTable,
    Indicator,
    Methodology,
    Relation,
    check_methodology,
)
from conftest import ev

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

D = "2025-06-30"

LADDER = StageLadder(
    name="ladder",
    stages=(
        Stage(key="seen", evidence=(Evidence(event_types=("ad_impression",), window_days=30),)),
        Stage(key="buyer", evidence=(Evidence(event_types=("purchase",), window_days=30),)),
    ),
)
SPEND = Relation(
    name="spend_by_user",
    sql="""
        SELECT brand, user_id, sum(amount) AS gmv, max(local_date) AS last_day
        FROM events WHERE event_type = 'purchase' AND local_date <= $as_of
        GROUP BY brand, user_id
    """,
)
COUNT = Indicator(
    id="ents.buyers",
    title="Buyers",
    unit="users",
    sql="SELECT b.brand, count(s.user_id) AS value FROM brands b "
    "LEFT JOIN spend_by_user s USING (brand) GROUP BY b.brand",
)


class Params(BaseModel):
    min_gmv: float = 0


def _methodology(*entities: EntityTable) -> Methodology:
    return Methodology(
        name="ents",
        title="Entity tables",
        source="tests",
        version="0",
        parameters=Params,
        ladders=(LADDER,),
        relations=(SPEND,),
        indicators=(COUNT,),
        entities=entities,
    )


BUYERS = EntityTable(
    name="buyers",
    title="Buyers with their spend",
    key=("user_id",),
    sql="SELECT brand, user_id, gmv, last_day FROM spend_by_user WHERE gmv >= $min_gmv",
    order_by=("gmv DESC",),
)
STAGES = EntityTable(
    name="stages", title="Users per stage", key=("user_id",), sql=stage_users_sql(LADDER)
)
RAW = EntityTable(name="raw", title="The relation as it is", key=("user_id",), relation=SPEND.name)

STORY = [
    ev(f"{D} 04:00:00", "u1", "purchase", brand="Lumi", amount="10"),
    ev("2025-06-20 04:00:00", "u2", "purchase", brand="Lumi", amount="30.50"),
    ev("2025-06-21 04:00:00", "u3", "ad_impression", brand="Lumi"),
    ev("2025-06-21 04:00:00", "u1", "purchase", brand="Nova", amount="5"),
]


class EntsPlugin:
    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        register(_methodology(BUYERS, STAGES, RAW))


@pytest.fixture
def ents(register_plugin):
    register_plugin(EntsPlugin(), "ents-plugin")


@pytest.fixture
def data(events_dir):
    return events_dir(STORY)


def test_rows_per_brand_in_the_declared_order(ents, data):
    listing = brandlens.entities(data, "ents", "buyers", brands="Lumi", as_of=D)
    assert listing.columns == ["brand", "user_id", "gmv", "last_day"]
    assert listing.rows == [  # gmv DESC, then the key; dates as ISO text, decimals as numbers
        {"brand": "Lumi", "user_id": "u2", "gmv": 30.5, "last_day": "2025-06-20"},
        {"brand": "Lumi", "user_id": "u1", "gmv": 10.0, "last_day": D},
    ]
    assert listing.key == ["user_id"] and listing.brands == ["Lumi"]
    both = brandlens.entities(data, "ents", "buyers", as_of=D)
    assert [(r["brand"], r["user_id"]) for r in both.rows] == [
        ("Lumi", "u2"),
        ("Lumi", "u1"),
        ("Nova", "u1"),
    ]


def test_parameters_reach_the_listing_and_a_relation_lists_as_it_is(ents, data):
    listing = brandlens.entities(data, "ents", "buyers", params={"ents.min_gmv": "20"}, as_of=D)
    assert [r["user_id"] for r in listing.rows] == ["u2"]
    assert listing.parameters == {"min_gmv": 20.0}
    raw = brandlens.entities(data, "ents", "raw", brands=["Nova"], as_of=D)
    assert raw.rows == [{"brand": "Nova", "user_id": "u1", "gmv": 5.0, "last_day": "2025-06-21"}]


def test_a_ladder_audience_export(ents, data):
    listing = brandlens.entities(data, "ents", "stages", brands="Lumi", as_of=D)
    assert [(r["user_id"], r["stage"]) for r in listing.rows] == [
        ("u1", "buyer"),
        ("u2", "buyer"),
        ("u3", "seen"),
    ]


def test_compute_never_shows_entity_rows(ents, data):
    result = brandlens.compute(data, as_of=D, methodologies=["ents"])
    assert {r.indicator for r in result.results} == {"ents.buyers"}
    assert "user_id" not in result.model_dump_json()


def test_unknown_or_ambiguous_table_is_a_usage_error(ents, data):
    with pytest.raises(UsageError, match="several entity tables: buyers, stages, raw"):
        brandlens.entities(data, "ents")
    with pytest.raises(UsageError, match="no entity table 'nope'"):
        brandlens.entities(data, "ents", "nope")
    with pytest.raises(UsageError, match="unknown methodology"):
        brandlens.entities(data, "nope", "buyers")
    with pytest.raises(UsageError, match="grow has no entity tables"):
        brandlens.entities(data, "grow")


def test_registration_checks():
    with pytest.raises(ValidationError, match="exactly one of relation= or sql="):
        EntityTable(name="x", title="x", key=("user_id",))
    with pytest.raises(ValidationError, match="bad order_by"):
        EntityTable(name="x", title="x", key=("k",), relation="r", order_by=("gmv; DROP",))
    lacking = EntityTable(
        name="x", title="x", key=("user_id",), sql="SELECT brand FROM spend_by_user"
    )
    with pytest.raises(PluginError, match=r"lack column\(s\) user_id"):
        check_methodology(_methodology(lacking), "p")
    unknown = EntityTable(name="x", title="x", key=("user_id",), relation="nope")
    with pytest.raises(PluginError, match="not one of its relations"):
        check_methodology(_methodology(unknown), "p")
    outside = EntityTable(name="x", title="x", key=("user_id",), sql="SELECT * FROM secrets")
    with pytest.raises(PluginError, match="neither a canonical view"):
        check_methodology(_methodology(outside), "p")
    with pytest.raises(PluginError, match="declared twice"):
        check_methodology(_methodology(BUYERS, BUYERS), "p")
    ladder_raw = EntityTable(name="x", title="x", key=("user_id",), relation="ladder")
    assert "x" in check_methodology(_methodology(ladder_raw), "p").entity_sql


def test_duplicate_entities_are_an_error(register_plugin, events_dir):
    dup = EntityTable(
        name="dup", title="x", key=("brand",), sql="SELECT brand, user_id FROM spend_by_user"
    )

    class Dup:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(_methodology(dup))

    register_plugin(Dup(), "dup-plugin")
    with pytest.raises(BrandlensError, match="more than one row"):
        brandlens.entities(events_dir(STORY), "ents", "dup", as_of=D)


def test_cli_formats_and_errors(ents, data):
    runner = CliRunner()
    r = runner.invoke(app, ["entities", str(data), "-m", "ents", "-t", "buyers", "-f", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["brand", "user_id", "gmv", "last_day"] and len(rows) == 4
    r = runner.invoke(
        app, ["entities", str(data), "-m", "ents", "-t", "stages", "-b", "Lumi", "-f", "json"]
    )
    doc = json.loads(r.stdout)
    assert doc["table"] == "stages" and len(doc["rows"]) == 3 and doc["as_of"] == D
    r = runner.invoke(app, ["entities", str(data), "-m", "ents", "-t", "buyers"])
    assert r.exit_code == 0 and "ents.buyers: Buyers with their spend" in r.stdout
    r = runner.invoke(app, ["entities", str(data), "-m", "ents", "-f", "markdown"])
    assert r.exit_code == 2 and "several entity tables" in r.stderr
    r = runner.invoke(app, ["entities", str(data), "-m", "ents", "-t", "nope"])
    assert r.exit_code == 2


def test_fast_and_goal_export_their_audiences(events_dir):
    data = events_dir(
        [
            ev("2025-06-25 04:00:00", "u1", "ad_impression", brand="Lumi"),
            ev("2025-06-26 04:00:00", "u2", "purchase", brand="Lumi", amount="10"),
            ev("2025-06-26 04:00:00", "u2", "purchase", brand="Lumi", amount="10"),
        ]
    )
    fast = brandlens.entities(data, "fast", as_of=D)
    assert [(r["user_id"], r["stage"]) for r in fast.rows] == [("u2", "P"), ("u1", "A")]
    goal = brandlens.entities(data, "goal", "users", as_of=D)
    assert [(r["user_id"], r["stage"]) for r in goal.rows] == [("u2", "A3"), ("u1", "A1")]


def test_a_listing_wider_than_the_screen_is_cut_into_blocks_not_cells(ents, data):
    """At 160 columns SUPER's product listing printed "smartphone" over "s" and
    "launch_dat" over "e". A listing too wide now comes in blocks of columns, each
    repeating the brand and the key; every name and number stays on one line."""
    from brandlens.cli.render import render

    listing = brandlens.entities(data, "ents", "buyers", brands="Lumi", as_of=D)
    wide = listing.model_copy(
        update={
            "columns": [*listing.columns, "a_long_column_name_one", "a_long_column_name_two"],
            "rows": [
                {
                    **r,
                    "a_long_column_name_one": "smartphones-and-tablets",
                    "a_long_column_name_two": 1,
                }
                for r in listing.rows
            ],
        }
    )
    text = render(wide, "table", color=False, width=60)
    lines = text.splitlines()
    assert any(line.startswith("ents.buyers: ") for line in lines)
    assert any("(continued)" in line for line in lines)
    blocks = 1 + sum("(continued)" in line for line in lines)
    assert sum("│ Lumi  │ u2" in line for line in lines) == blocks  # the key in each block
    for word in ("smartphones-and-tablets", "a_long_column_name_one", "2025-06-20", "30.5"):
        assert any(word in line for line in lines), word
    assert max(len(line) for line in lines) <= 60
    narrow = render(listing, "table", color=False, width=160)  # fits: one table as before
    assert "(continued)" not in narrow and "│ Lumi  │ u2" in narrow
