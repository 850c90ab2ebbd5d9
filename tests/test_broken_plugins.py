"""A set of broken third-party plugins never stops a run: built-ins intact, one line each.

Each kind of breakage an author can ship: a hook that raises, DDL, a table that
does not exist, a result of the wrong shape, a query that never ends and a Python
indicator that raises. Installed beside the built-in plugins as entry points,
they must leave ``compute`` finishing with every built-in value and one clear
line per broken plugin on stderr.
"""

from __future__ import annotations

import json
import textwrap
from importlib import metadata

import pytest
from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.plugin.host import host
from conftest import ev

HEADER = """
import brandlens
from brandlens.plugin import Indicator, Methodology

def _register(register, name, **indicator):
    register(Methodology(name=name, title=name, source="a test", version="1", indicators=(
        Indicator(id=f"{name}.x", title="x", unit="count", **indicator),
    )))
"""
BROKEN = {
    "raising": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    raise RuntimeError('kaboom')\n",
    "ddl": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    _register(register, 'ddl', sql='DROP TABLE events')\n",
    "missing": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    _register(register, 'missing', sql='SELECT brand, 1 AS value FROM no_such_table')\n",
    "shape": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    _register(register, 'shape', sql='SELECT brand FROM brands')\n",
    "slow": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    _register(register, 'slow', sql='SELECT b.brand, sum(length(e1.user_id) '\n"
    "        '+ length(e2.user_id) + length(e3.user_id)) AS value FROM brands b '\n"
    "        'JOIN events e1 ON e1.brand = b.brand JOIN events e2 ON e2.brand = e1.brand '\n"
    "        'JOIN events e3 ON e3.brand = e2.brand GROUP BY b.brand')\n",
    "pyraise": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    _register(register, 'pyraise', compute=lambda ctx: [1 / 0])\n",
}


@pytest.fixture
def broken_beside_builtins(tmp_path, monkeypatch):
    real = list(metadata.entry_points(group="brandlens"))
    fake = []
    for name, body in BROKEN.items():
        module = f"bl_broken_{name}"
        (tmp_path / f"{module}.py").write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        fake.append(metadata.EntryPoint(name, module, "brandlens"))
    monkeypatch.syspath_prepend(str(tmp_path))
    original = metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "brandlens":
            return metadata.EntryPoints([*real, *fake])
        return original(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    names = {ep.name for ep in real} | set(BROKEN)
    monkeypatch.setenv("BRANDLENS_LOAD_PLUGINS", ",".join(sorted(names)))
    host.reset()
    yield {ep.name for ep in real}
    host.reset()


def _rows() -> list[dict]:
    rows = []
    for i in range(400):  # enough events that the slow self-join cannot finish in a second
        day = f"2025-06-{1 + i % 28:02d}"
        rows.append(ev(f"{day} 04:00:00", f"u{i}", "ad_click"))
        rows.append(ev(f"{day} 05:00:00", f"u{i}", "purchase", amount=10 + i % 7))
    return rows


def test_compute_finishes_with_builtins_intact_and_one_line_per_broken_plugin(
    broken_beside_builtins, events_dir, tmp_path
):
    builtins = broken_beside_builtins
    out = tmp_path / "r.json"
    args = ["compute", str(events_dir(_rows())), "--query-timeout", "1", "-f", "json"]
    r = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert r.exit_code == 1, r.stderr  # indicators failed; the run itself finished
    doc = json.loads(out.read_text())
    # every built-in methodology computed, none of its indicators failed
    computed = {row["indicator"].split(".")[0] for row in doc["results"]}
    assert builtins <= computed
    # registration refused these (their lines are warnings); the others failed at run time
    assert {e["indicator"].split(".")[0] for e in doc["errors"]} == {"slow", "pyraise"}
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    for name in BROKEN:  # exactly one line names each broken plugin
        naming = [line for line in lines if f" {name}" in line or f"{name}." in line]
        assert len(naming) == 1, (name, lines)
    assert any("kaboom" in line for line in lines)
    assert any("DROP" in line or "read-only" in line for line in lines)
    assert any("no_such_table" in line for line in lines)
    assert any("--query-timeout" in line for line in lines)


def test_naming_a_methodology_whose_plugin_failed_names_the_failed_plugins(
    broken_beside_builtins, events_dir
):
    """`-m ddl`: registration refused the plugin, so the usage error (exit 2) says which
    plugins failed to load or register, not only that the methodology is unknown."""
    r = CliRunner().invoke(app, ["compute", str(events_dir(_rows())), "-m", "ddl"])
    assert r.exit_code == 2
    message = r.stderr.strip().splitlines()[-1]
    assert "unknown methodology 'ddl'" in message
    assert "failed to load or register" in message
    for name in ("ddl", "raising"):
        assert name in message.split("failed to load or register:")[1]


@pytest.fixture
def second_fast(tmp_path, monkeypatch):
    """A third-party plugin whose entry point is named ``fast`` too (`brandlens
    new-plugin fast`, installed beside the built-in FAST)."""
    real = list(metadata.entry_points(group="brandlens"))
    (tmp_path / "bl_other_fast.py").write_text(
        HEADER + "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
        "    _register(register, 'other_fast', sql='SELECT brand, 1 AS value FROM brands')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    original = metadata.entry_points
    clash = metadata.EntryPoint("fast", "bl_other_fast", "brandlens")

    def entry_points(**kw):
        if kw.get("group") == "brandlens":
            return metadata.EntryPoints([clash, *real])  # listed first, still loaded second
        return original(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    host.reset()
    yield
    host.reset()


def test_a_plugin_named_like_a_builtin_is_reported_and_the_rest_runs(
    second_fast, events_dir, tmp_path
):
    r = CliRunner().invoke(app, ["plugins", "-f", "json"])
    assert r.exit_code == 0, r.output
    listed = {p["name"]: p for p in json.loads(r.stdout)["plugins"]}
    assert listed["fast"]["methodologies"] == ["fast"] and not listed["fast"]["errors"]
    other = listed["fast (bl_other_fast)"]  # listed with its error, never run
    assert other["methodologies"] == [] and len(other["errors"]) == 1
    assert "the plugin name 'fast' is taken by brandlens; rename" in other["errors"][0]
    out = tmp_path / "r.json"
    r = CliRunner().invoke(
        app, ["compute", str(events_dir(_rows())), "-m", "fast", "-f", "json", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert {row["indicator"].split(".")[0] for row in doc["results"]} == {"fast"}
    assert host.registry().methodologies["fast"].methodology.indicators[0].id.startswith("fast.")


@pytest.mark.parametrize("name", ["fast", "argo"])
def test_new_plugin_refuses_the_name_of_an_installed_one(tmp_path, name):
    """Scaffolding ``fast`` would make the clash above: refused before anything is written."""
    r = CliRunner().invoke(app, ["new-plugin", name, "--dir", str(tmp_path)])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        f"brandlens: error: new-plugin: {name!r} is already the name of an installed methodology; "
        "choose another"
    ]
    assert list(tmp_path.iterdir()) == []
