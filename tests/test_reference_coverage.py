"""Every indicator of every installed built-in methodology is compared with the independent
reference (tests/reference.py), or listed in reference.NOT_COMPARED with a reason."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import reference
from brandlens.plugin.host import registry
from conftest import _builtin_entry_points

TESTS = Path(__file__).parent
D = date(2025, 6, 30)


def _rows(path: Path) -> list[dict]:
    rows = pq.read_table(path).to_pylist()
    for r in rows:
        for k, v in list(r.items()):
            if v is None:
                del r[k]
            elif hasattr(v, "strftime"):
                r[k] = v.strftime("%Y-%m-%d %H:%M:%S") if k == "ts" else v.isoformat()
            elif k in ("amount", "cost", "target_value"):
                r[k] = str(v)
    return rows


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A small generated market with every table, so conditional indicators appear."""
    from brandlens.data.market import generate

    out = tmp_path_factory.mktemp("coverage-market")
    generate(out, users=150, seed=1)
    return {n: _rows(out / f"{n}.parquet") for n in ("events", "users", "targets", "spend")}


def _reference_ids(name: str, t: dict) -> set[str]:
    brands = sorted({e["brand"] for e in t["events"] if e.get("brand")})
    calls = {
        "argo": lambda: reference.argo(t["events"], D, brands, t["users"], t["spend"]),
        "dream": lambda: reference.dream(t["events"], D, brands, t["users"], t["targets"]),
        "goal": lambda: reference.goal(t["events"], D, brands, t["users"]),
    }
    default = lambda: reference.REFERENCES[name](t["events"], D, brands)  # noqa: E731
    return {indicator for indicator, _, _ in calls.get(name, default)()}


def test_every_builtin_methodology_has_a_reference():
    installed = {
        n for n, c in registry().methodologies.items() if c.plugin in _builtin_entry_points()
    }
    assert installed == set(_builtin_entry_points())  # all six are installed in the tests
    assert installed == set(reference.REFERENCES)


@pytest.mark.parametrize("name", _builtin_entry_points())
def test_every_indicator_is_compared_or_listed_with_a_reason(name, tables):
    declared = {i.id for i in registry().methodologies[name].methodology.indicators}
    computed = _reference_ids(name, tables)
    skipped = {i for i in declared if i in reference.NOT_COMPARED}
    assert all(reference.NOT_COMPARED[i].strip() for i in skipped)
    missing = declared - computed - skipped
    assert not missing, f"{name}: neither compared with the reference nor listed: {missing}"
    assert computed <= declared  # the reference computes nothing the methodology lacks


@pytest.mark.parametrize("name", _builtin_entry_points())
def test_every_reference_is_compared_with_the_plugin(name):
    """A test file calls the reference and compares it with a result, every key of it."""
    fn = reference.REFERENCES[name].__name__
    callers = [
        f
        for f in TESTS.glob("test_*.py")
        if re.search(rf"\breference\.{fn}\(", f.read_text(encoding="utf-8"))
    ]
    assert callers, f"no test compares {name} with reference.{fn}"
