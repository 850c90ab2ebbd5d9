"""The Python API checks its arguments at the door (brandlens/arguments.py).

Each case below reached DuckDB, pathlib or difflib and came back as a TypeError from
deep inside them, or was taken for something else (found by an independent review).
The checks run before anything is opened, so the data here need not exist.
"""

from __future__ import annotations

import datetime

import pytest

import brandlens
import brandlens.api
from brandlens.errors import UsageError
from conftest import ev

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

NOWHERE = "/nonexistent/brandlens-data"
D = "2025-06-30"

REFUSED = [
    # (call, the one line it must say); was: what the call did
    (
        lambda: brandlens.compute(NOWHERE, as_of=20250630),
        "as_of: expected a date or YYYY-MM-DD text, got int 20250630",
    ),  # TypeError fromisoformat
    (
        lambda: brandlens.compute(NOWHERE, brands=[1]),
        "brands: expected names (texts), got int 1",
    ),  # difflib TypeError
    (
        lambda: brandlens.compute(NOWHERE, brands=[None]),
        "brands: expected names (texts), got NoneType None",
    ),
    (
        lambda: brandlens.compute(NOWHERE, methodologies=[]),
        "methodologies: an empty list chooses nothing; give None for all",
    ),  # an empty result
    (
        lambda: brandlens.compute(NOWHERE, methodologies=3),
        "methodologies: expected a name or a list of names, got int",
    ),
    (lambda: brandlens.funnel(NOWHERE, None), "brand: expected a name (a text), got NoneType None"),
    (
        lambda: brandlens.funnel(NOWHERE, ["Lumi"]),
        "brand: expected a name (a text), got list ['Lumi']",
    ),  # unhashable type
    (
        lambda: brandlens.entities(NOWHERE, ["super"]),
        "methodology: expected a name (a text), got list ['super']",
    ),
    (
        lambda: brandlens.compute(NOWHERE, params=["fast.x=1"]),
        "params: expected a mapping such as {'fast.advancing_period_days': 14}, got list",
    ),  # AttributeError .items
    (
        lambda: brandlens.compute(NOWHERE, params={1: 2}),
        "params: expected METHODOLOGY.NAME keys, got int 1",
    ),  # AttributeError .partition
    (
        lambda: brandlens.compute(NOWHERE, timezone=8),
        "timezone: expected a text, got int 8",
    ),  # TypeError from posixpath
    (
        lambda: brandlens.compute(NOWHERE, config={}),
        "config: expected EngineConfig, got dict",
    ),  # AttributeError .timeouts
    (
        lambda: brandlens.compute(NOWHERE, progress=5),
        "progress: expected a function, got int 5",
    ),  # 'int' object is not callable
    (
        lambda: brandlens.compute(None),
        "data: expected a path, got NoneType None",
    ),  # TypeError from pathlib
    (lambda: brandlens.compute(123), "data: expected a path, got int 123"),
    (
        lambda: brandlens.compute(NOWHERE, strict="no"),
        "strict: expected True or False, got str 'no'",
    ),  # taken as true
    (
        lambda: brandlens.compute(NOWHERE, cache="x"),
        "cache: expected True or False, got str 'x'",
    ),  # taken as true
    (
        lambda: brandlens.compare(NOWHERE, funnel="yes"),
        "funnel: expected True or False, got str 'yes'",
    ),  # taken as true
    (
        lambda: brandlens.compare(NOWHERE, benchmark=123),
        "benchmark: expected a path, got int 123",
    ),  # "Input is not a valid path"
    (
        lambda: brandlens.compare(NOWHERE, baseline=2025),
        "baseline: expected previous, yoy or a date, got int 2025",
    ),
    (
        lambda: brandlens.compare(NOWHERE, currency=5),
        "currency: Input should be a valid string",
    ),  # did not name the option
    (
        lambda: brandlens.validate(NOWHERE, quarantine_out=5),
        "quarantine_out: expected a path, got int 5",
    ),
    (lambda: brandlens.api.load(NOWHERE, None), "into: expected a path, got NoneType None"),
]


@pytest.mark.parametrize(("call", "message"), REFUSED)
def test_a_wrong_argument_is_one_line_naming_it(call, message):
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value) == message


def test_a_single_name_and_a_datetime_are_taken_as_meant(events_dir):
    # was: methodologies="fast" read as f, a, s, t ("unknown methodology 'f'"), brands="B"
    # as "no events for brand 'B'"... letter by letter; a datetime failed comparing to a date
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "purchase", brand="B", amount="10")])
    one = brandlens.compute(data, as_of=D, methodologies=["fast"], brands=["B"])
    assert brandlens.compute(data, as_of=D, methodologies="fast", brands="B") == one
    noon = datetime.datetime(2025, 6, 30, 12, 0)
    assert brandlens.compute(data, as_of=noon, methodologies=["fast"], brands=["B"]) == one
    when = datetime.date(2025, 6, 1)
    by_text = brandlens.compare(data, as_of=D, methodologies=["fast"], baseline="2025-06-01")
    assert brandlens.compare(data, as_of=D, methodologies=["fast"], baseline=when) == by_text


def test_a_truth_value_for_a_number_parameter_is_refused(events_dir):
    # was: True read as 1 day
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "purchase", brand="B", amount="10")])
    with pytest.raises(UsageError, match=r"fast\.advancing_period_days: expected int, got True"):
        brandlens.compute(data, methodologies=["fast"], params={"fast.advancing_period_days": True})


def test_what_a_notebook_passes_is_taken_or_refused_in_one_short_line(events_dir):
    # Found by an independent review of the checks above: NumPy's truth value (from
    # df[c].any()) was refused as "got bool np.False_", pandas' NaT passed as a date and
    # failed deep inside, a DataFrame's repr made a four-line message, a generator given
    # for a list parameter was used up by funnel's check, min_base=True read as 1.
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "purchase", brand="B", amount="10")])
    one = brandlens.compute(data, as_of=D, methodologies=["fast"])
    assert brandlens.compute(data, as_of=D, methodologies=["fast"], strict=np.bool_(False)) == one
    with pytest.raises(UsageError) as caught:
        brandlens.compute(data, as_of=pd.NaT)
    assert str(caught.value) == "as_of: expected a date or YYYY-MM-DD text, got NaTType NaT"
    with pytest.raises(UsageError) as caught:
        brandlens.validate(pd.DataFrame({"a": range(100)}))
    assert str(caught.value) == "data: expected a path, got DataFrame"
    events = (e for e in ("purchase", "review"))
    report = brandlens.funnel(data, "B", ["fast"], D, {"fast.thriving_events": events})
    assert report.brand == "B"
    with pytest.raises(UsageError, match="--min-base: expected a whole number >= 0, got True"):
        brandlens.compare(data, min_base=True)


def test_a_parameter_is_named_in_any_case_once(events_dir):
    # -m and explain take FAST; -p FAST.x was "methodology 'FAST' is not part of this run"
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "purchase", brand="B", amount="10")])
    r = brandlens.compute(
        data, as_of=D, methodologies=["fast"], params={"FAST.Advancing_Period_Days": 14}
    )
    assert r.parameters["fast"]["advancing_period_days"] == 14
    with pytest.raises(UsageError, match=r"given twice \(as FAST\.advancing_period_days too\)"):
        brandlens.compute(
            data,
            methodologies=["fast"],
            params={"FAST.advancing_period_days": 14, "fast.advancing_period_days": 3},
        )
