"""The stage-ladder compiler: switches, conditions, bound parameters, snapshots."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

import brandlens
from brandlens.ladder import Condition, Evidence, Stage, StageLadder
from brandlens.methodology import Indicator, Methodology
from conftest import ev


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
