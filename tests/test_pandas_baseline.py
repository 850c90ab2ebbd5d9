"""The pandas baseline computes the same FAST numbers as brandlens.

benchmarks/pandas_fast.py is what brandlens' speed is compared against; a comparison
is only fair if both compute the same thing, so its fertility and users per AIPL stage
must equal brandlens' ``fast.fertility`` and ``fast.aipl_users`` exactly: on a
generated market, plus users planted just inside and just outside each rule's window
(local midnight in Asia/Shanghai), where an off-by-one window shows.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest

from brandlens.data.market import generate
from brandlens.engine.runs import Dataset

pytest.importorskip("pandas", reason="the baseline needs pandas (pip install brandlens[bench])")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline() -> ModuleType:
    path = ROOT / "benchmarks" / "pandas_fast.py"
    spec = importlib.util.spec_from_file_location("pandas_fast", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


AS_OF = date(2024, 9, 15)
"""The as-of date the planted users sit on the window edges of."""
EVIDENCE = [  # (event type, window, days needed, extra columns)
    ("content_view", 15, 1, {}),
    ("store_visit", 15, 1, {}),
    ("search", 15, 1, {"query_type": "brand"}),
    ("product_view", 15, 2, {}),
    ("purchase", 912, 1, {"quantity": 1, "amount": 10.0}),
    ("purchase", 365, 2, {"quantity": 1, "amount": 10.0}),
    ("review", 365, 1, {"rating": 4}),
    ("share", 365, 1, {}),
]


def _at(day: date, hour: int, minute: int) -> datetime:
    """A Shanghai local time as the naive UTC timestamp the log holds."""
    return datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8)


def _edge_rows() -> list[dict[str, Any]]:
    """Users whose only evidence sits just inside or just outside a window at AS_OF.

    Inside: the window's first local day, 00:00:30; outside: the day before, 23:59:30.
    A rule needing two days also gets an event on AS_OF itself. Plus a category search
    and a review rated 3 (no evidence) and an ad click (Interest).
    """
    rows = []
    for i, (etype, window, days, extra) in enumerate(EVIDENCE):
        first = AS_OF - timedelta(days=window - 1)
        for side, ts in (
            ("in", _at(first, 0, 0) + timedelta(seconds=30)),
            ("out", _at(first, 0, 0) - timedelta(seconds=30)),
        ):
            times = [ts] + ([_at(AS_OF, 12, 0)] if days == 2 else [])
            rows += [
                {"user_id": f"zz{side}{i}", "event_type": etype, "ts": t, **extra} for t in times
            ]
    rows.append(
        {
            "user_id": "zzcat",
            "event_type": "search",
            "ts": _at(AS_OF, 9, 0),
            "query_type": "category",
        }
    )
    rows.append({"user_id": "zzmeh", "event_type": "review", "ts": _at(AS_OF, 9, 0), "rating": 3})
    rows.append({"user_id": "zzclick", "event_type": "ad_click", "ts": _at(AS_OF, 9, 0)})
    return rows


@pytest.fixture(scope="module")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated market plus the window-edge users (their events in events.parquet)."""
    root = tmp_path_factory.mktemp("baseline")
    generate(root / "generated", users=1500, seed=3)
    out = root / "data"
    out.mkdir()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev AS SELECT * FROM read_parquet($p)",
        {"p": str(root / "generated" / "events.parquet")},
    )
    for n, row in enumerate(_edge_rows()):
        values = {"event_id": 10**9 + n, "brand": "Aurora", **row}
        cols = ", ".join(values)
        marks = ", ".join(f"${k}" for k in values)
        con.execute(f"INSERT INTO ev ({cols}) VALUES ({marks})", values)
    con.execute("COPY ev TO $p (FORMAT PARQUET)", {"p": str(out / "events.parquet")})
    as_csv = root / "data_csv"  # the same events as CSV text, as many logs arrive
    as_csv.mkdir()
    con.execute("COPY ev TO $p (HEADER)", {"p": str(as_csv / "events.csv")})
    parts = root / "data_parts" / "events"  # the same events as Parquet parts, by brand
    for n, (brand,) in enumerate(
        con.execute("SELECT DISTINCT brand FROM ev ORDER BY 1").fetchall()
    ):
        (parts / f"b={n}").mkdir(parents=True)
        con.execute(
            "COPY (SELECT * FROM ev WHERE brand IS NOT DISTINCT FROM $b) TO $p (FORMAT PARQUET)",
            {"b": brand, "p": str(parts / f"b={n}" / "part-0.parquet")},
        )
    con.close()
    return out


@pytest.mark.parametrize(
    ("folder", "events"),
    [("data_csv", "events.csv"), ("data_parts", "events")],
    ids=["csv", "parquet-parts"],
)
def test_other_forms_of_the_same_events_give_the_same_numbers(
    baseline: ModuleType, small_market: Path, folder: str, events: str
) -> None:
    """The baseline reads events.csv when a folder has no events.parquet, and a folder
    events/ of Parquet parts (Arrow's dataset reader); on the same events either way it
    gives the same numbers as on the one Parquet file, which equal brandlens' there."""
    data = small_market.parent / folder
    assert baseline.events_file(data).name == events
    got = baseline.fast(data, AS_OF)
    assert got == baseline.fast(small_market, AS_OF)
    with Dataset(data, cache=False) as ds:
        result = ds.compute(as_of=AS_OF, methodologies=["fast"], indicators=["fast.fertility"])
    assert got["fertility"] == {r.brand: r.value for r in result.results}


# The last day; the day the planted users sit on window edges, and the days after it;
# a day whose windows reach before the data starts.
@pytest.mark.parametrize(
    "as_of",
    [None, AS_OF, AS_OF + timedelta(days=1), AS_OF - timedelta(days=1), date(2023, 4, 20)],
    ids=str,
)
def test_fertility_and_stages_equal_brandlens(
    baseline: ModuleType, small_market: Path, as_of: date | None
) -> None:
    got = baseline.fast(small_market, as_of)
    with Dataset(small_market) as ds:
        result = ds.compute(
            as_of=as_of,
            methodologies=["fast"],
            indicators=["fast.fertility", "fast.aipl_users"],
        )
    assert not result.errors
    fertility = {r.brand: r.value for r in result.results if r.indicator == "fast.fertility"}
    stages: dict[str, dict[str, int]] = {}
    for r in result.results:
        if r.indicator == "fast.aipl_users":
            stages.setdefault(r.brand, {})[str(r.key)] = int(r.value or 0)
    assert got["as_of"] == result.as_of
    assert got["fertility"] == fertility
    assert got["aipl_users"] == stages
    assert sum(fertility.values()) > 50  # not vacuously equal


def test_cli_json_with_timing(
    baseline: ModuleType, small_market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline.main([str(small_market), "--as-of", "2024-09-15", "--json", "--timing"])
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2024-09-15"
    assert out["seconds"] >= 0 and out["peak_rss_mb"] > 0
    assert set(out["fertility"]) == set(out["aipl_users"])
