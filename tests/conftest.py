"""Shared fixtures: plugin isolation, tiny event logs, the CLI runner."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from brandlens.data.schema import Event, columns_of

ROOT = Path(__file__).resolve().parents[1]

# No Hypothesis test here is about speed (benchmarks are): a per-example deadline only
# makes a property flaky on a busy machine, where one slow example fails a whole run.
hypothesis_settings.register_profile("brandlens-tests", deadline=None)
hypothesis_settings.load_profile("brandlens-tests")


def _checkout_entry_points() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["project"].get("entry-points", {}).get("brandlens", {}))


def _builtin_entry_points() -> list[str]:
    return sorted(_checkout_entry_points())


def _expose_checkout_plugins() -> None:
    """Make the checkout's built-in plugins entry points even when the installed metadata
    predates them (an editable install made before a plugin was added): the missing ones
    go into a throwaway distribution on sys.path, so plugins load exactly as installed."""
    from importlib import metadata

    installed = {ep.name for ep in metadata.entry_points(group="brandlens")}
    missing = {n: v for n, v in _checkout_entry_points().items() if n not in installed}
    if not missing:
        return
    site = Path(tempfile.mkdtemp(prefix="brandlens-test-plugins-"))
    info = site / "brandlens_checkout_plugins-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: brandlens-checkout-plugins\nVersion: 0.0.0\n",
        encoding="utf-8",
    )
    lines = "".join(f"{name} = {value}\n" for name, value in sorted(missing.items()))
    (info / "entry_points.txt").write_text(f"[brandlens]\n{lines}", encoding="utf-8")
    sys.path.append(str(site))
    atexit.register(shutil.rmtree, site, True)


_expose_checkout_plugins()
# Only the project's own plugins: third-party plugins installed on the machine never leak in.
os.environ["BRANDLENS_LOAD_PLUGINS"] = ",".join(_builtin_entry_points())
os.environ.pop("BRANDLENS_DISABLE_PLUGINS", None)
os.environ.pop("BRANDLENS_TRACE_PLUGINS", None)
os.environ["NO_COLOR"] = "1"
# Validated datasets are cached per test session, never in the user's own cache.
_CACHE = tempfile.mkdtemp(prefix="brandlens-test-cache-")
os.environ["BRANDLENS_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)
# A modest example count for the spec verification of built-ins; raise it for a thorough run.
os.environ.setdefault("BRANDLENS_VERIFY_EXAMPLES", "15")

EVENT_COLUMNS = [c.name for c in columns_of(Event)]  # the canonical events columns


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """Write rows as CSV; absent keys are empty cells."""
    cols = columns or EVENT_COLUMNS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write(_csv_line(cols))
        for r in rows:
            f.write(_csv_line(["" if r.get(c) is None else r.get(c) for c in cols]))
    return path


def _csv_line(values: list[Any]) -> str:
    """One CSV record: a field with a comma, quote, CR or LF is quoted (Python's csv
    module leaves a bare CR unquoted unless CR is part of its line terminator)."""
    out = []
    for v in values:
        text = str(v)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"


def ev(ts: str, user: str, etype: str, brand: str | None = "B", **kw: Any) -> dict[str, Any]:
    """One event row for storyboard logs."""
    return {"ts": ts, "user_id": user, "event_type": etype, "brand": brand, **kw}


@pytest.fixture
def events_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write a dataset directory: events rows plus optional tables given as lists of dicts."""

    def make(rows: list[dict[str, Any]], **tables: list[dict[str, Any]]) -> Path:
        d = tmp_path / "data"
        write_csv(d / "events.csv", rows)
        for name, trows in tables.items():
            cols = list(dict.fromkeys(k for r in trows for k in r))
            write_csv(d / f"{name}.csv", trows, cols)
        return d

    return make


@pytest.fixture
def register_plugin() -> Iterator[Callable[[Any, str], None]]:
    """Register plugin objects for one test; they are removed afterwards."""
    from brandlens.plugin.host import host

    names: list[str] = []

    def register(obj: Any, name: str) -> None:
        host.register(obj, name)
        names.append(name)

    yield register
    for n in names:
        host.unregister(n)
    host.reset()


@pytest.fixture(scope="session")
def market(tmp_path_factory):
    """The demo-sized default market (seed 0), generated once for the whole session."""
    from brandlens.data.market import DEMO_USERS, generate

    out = tmp_path_factory.mktemp("market")
    generate(out, users=DEMO_USERS, seed=0)
    return out


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Give the next test a fresh DuckDB default connection (``duckdb.sql``/``execute``).

    A result left open on the shared one (a ``fetchone()`` of a one-row query) makes
    DuckDB 2 refuse the next query on it, so one test broke another far away in the
    run; a hook, not an autouse fixture, so Hypothesis' tests are untouched.
    """
    import duckdb

    fresh = getattr(duckdb, "set_default_connection", None)  # DuckDB >= 1.2
    if fresh is not None:
        old = duckdb.default_connection()
        fresh(duckdb.connect(":memory:"))
        old.close()


_PROBE = """
import sys, brandlens
result = brandlens.compute(sys.argv[1], methodologies=["fast"])
assert not result.errors, result.errors
print(sorted(m for m in ("sqlglot", "numpy", "scipy") if m in sys.modules))
"""


def imports_of_a_compute(data: Path, cache: Path, keep: bool = True) -> list[str]:
    """Which of SQLGlot, NumPy and SciPy a fresh process's FAST compute of ``data``
    imported, with ``cache`` as its cache folder (``keep=False``: ``cache=False``)."""
    import json
    import subprocess

    env = {**os.environ, "BRANDLENS_CACHE_DIR": str(cache), "BRANDLENS_CACHE": "1"}
    probe = _PROBE if keep else _PROBE.replace('["fast"]', '["fast"], cache=False')
    out = subprocess.run(
        [sys.executable, "-c", probe, str(data)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().replace("'", '"'))
