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
from pathlib import Path

import pytest
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.plugin.host import host
from conftest import ev

# Storyboards compute at an as-of after their small log's last event on purpose; the
# warning saying so is tested in test_compare and test_cli.
pytestmark = pytest.mark.filterwarnings("ignore::brandlens.analysis.checks.DataRangeWarning")

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
    # the two silent mistakes of a copied example: no decorator, and a hook that returns
    # its methodology instead of registering it
    "nohook": "def brandlens_register_methodologies(register):\n"
    "    _register(register, 'nohook', sql='SELECT brand, 1 AS value FROM brands')\n",
    "nothing": "@brandlens.hookimpl\ndef brandlens_register_methodologies(register):\n"
    "    return Methodology(name='nothing', title='n', source='t', version='1', indicators=())\n",
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
    # (the note on how far back the built-ins read says "missing" too)
    lines = [line for line in r.stderr.splitlines() if line.strip() and "note:" not in line]
    for name in BROKEN:  # exactly one line names each broken plugin
        naming = [line for line in lines if f" {name}" in line or f"{name}." in line]
        assert len(naming) == 1, (name, lines)
    assert any("kaboom" in line for line in lines)
    assert any("DROP" in line or "read-only" in line for line in lines)
    assert any("no_such_table" in line for line in lines)
    assert any("--query-timeout" in line for line in lines)
    assert any("nohook was not run: implements no brandlens hook" in line for line in lines)
    assert any(
        "nothing was not run: registered nothing: its brandlens_register_methodologies never "
        "called register(...)" in line
        for line in lines
    )
    # a Python indicator's failure says where in the plugin's own code it was raised
    (failed,) = [e["message"] for e in doc["errors"] if e["indicator"] == "pyraise.x"]
    assert failed.startswith("ZeroDivisionError: division by zero (at ")
    # HEADER's ten lines, then the hook: the lambda is on the file's line 11
    assert failed.endswith("/bl_broken_pyraise.py:11 in <lambda>)")


def test_naming_a_methodology_whose_plugin_failed_names_the_failed_plugins(
    broken_beside_builtins, events_dir
):
    """`-m ddl`: registration refused the plugin, so the usage error (exit 2) says why,
    not only that the methodology is unknown; a name no plugin carries lists them all."""
    r = CliRunner().invoke(app, ["compute", str(events_dir(_rows())), "-m", "ddl"])
    assert r.exit_code == 2
    message = r.stderr.strip().splitlines()[-1]
    assert "unknown methodology 'ddl'" in message
    # was: only "plugin(s) that failed to load or register: ddl, ...": a second command
    assert "; plugin ddl did not register: indicator 'ddl.x':" in message
    assert "DROP" in message or "read-only" in message
    r = CliRunner().invoke(app, ["compute", str(events_dir(_rows())), "-m", "zzz"])
    message = r.stderr.strip().splitlines()[-1]
    assert "failed to load or register" in message
    for name in ("ddl", "raising", "nohook", "nothing"):
        assert name in message.split("failed to load or register:")[1]
    # indicators and explain say why too (they said only "unknown methodology 'ddl'")
    for args in (["indicators", "ddl"], ["explain", "ddl.x"]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2
        assert "; plugin ddl did not register: indicator 'ddl.x':" in r.stderr, r.stderr


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


class _Returns:
    """A Python indicator whose compute= returns ``what`` (a copied example's slip)."""

    def __init__(self, name: str, what: object) -> None:
        self.name, self.what = name, what

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        from brandlens.plugin import Indicator, Methodology

        register(
            Methodology(
                name=self.name,
                title=self.name,
                source="a test",
                version="1",
                indicators=(
                    Indicator(
                        id=f"{self.name}.x", title="x", unit="count", compute=lambda ctx: self.what
                    ),
                ),
            )
        )


@pytest.mark.parametrize(
    ("what", "said"),
    [
        ({"B": 1}, "compute= must return a list of Value, got dict"),  # was: AttributeError
        (None, "compute= must return a list of Value, got NoneType"),  # was: TypeError
        ([1.0], "compute= must return a list of Value, got one float"),
    ],
)
def test_a_python_indicator_of_the_wrong_shape_says_what_it_must_return(
    register_plugin, events_dir, what, said
):
    import brandlens as bl

    register_plugin(_Returns("shaped", what), "shaped-plugin")
    result = bl.compute(events_dir(_rows()[:4]), methodologies=["shaped"])
    assert [e.message for e in result.errors] == [said]


def test_a_spec_that_does_not_match_the_code_is_a_warning_on_every_run(
    register_plugin, events_dir, tmp_path
):
    # was: only `brandlens plugins` and `verify` said so; compute published numbers
    # without a definition, silently
    from fixture_plugins import TOY, ToyPlugin

    spec = tmp_path / "toy.yaml"
    text = (Path(__file__).parent / "toy.yaml").read_text()
    assert "  - id: toy.buyers\n" in text
    spec.write_text(text.replace("  - id: toy.buyers\n", "  - id: toy.buyerz\n", 1))

    class Misspecified(ToyPlugin):  # its event type and preset, another spec
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(TOY, spec=spec)

    register_plugin(Misspecified(), "toy-plugin")
    r = CliRunner().invoke(app, ["compute", str(events_dir(_rows()[:4])), "-m", "toy"])
    warned = [line for line in r.stderr.splitlines() if "spec:" in line]
    assert len(warned) == 1 and warned[0].startswith(
        "brandlens: warning: plugin toy-plugin's spec: "
    )
    assert "toy.buyer" in warned[0] and "more: brandlens plugins)" in warned[0]


def test_registering_without_the_spec_says_so(register_plugin):
    # was: "needs a title and a unit (in code or in the spec)", though no spec was given
    from brandlens.errors import PluginError
    from brandlens.plugin import Indicator, Methodology
    from brandlens.plugin.methodology import check_methodology

    m = Methodology(
        name="bare",
        title="bare",
        source="a test",
        version="1",
        indicators=(Indicator(id="bare.x", sql="SELECT brand, 1 AS value FROM brands"),),
    )
    with pytest.raises(PluginError, match=r"no spec came with it: register\(m, spec=\.\.\.\)"):
        check_methodology(m, "bare-plugin")


def test_a_wrong_parameter_name_or_an_invalid_id_is_one_line_in_brandlens_words(register_plugin):
    # was: pluggy's three lines ("hookimpl definition: ...\nArgument(s) {'reg'} are
    # declared in the hookimpl but can not be found in the hookspec") and pydantic's
    # "1 validation error for Indicator\nid\n  String should match ... errors.pydantic.dev"
    from brandlens.plugin import Indicator

    class WrongName:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, reg):
            pass

    class BadId:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            Indicator(id="x.DaysToSecond", sql="SELECT 1")

    register_plugin(WrongName(), "wrong-name")
    register_plugin(BadId(), "bad-id")
    errors = {p.name: p.errors for p in host.registry().plugins}
    assert errors["wrong-name"] == [
        "failed to register: brandlens_register_methodologies must take one parameter named "
        "register, not (reg)"
    ]
    (bad,) = errors["bad-id"]
    assert bad.startswith("brandlens_register_methodologies raised invalid Indicator id: ")
    assert "\n" not in bad and "pydantic.dev" not in bad


def test_a_register_call_missing_an_argument_names_register(register_plugin):
    # was: "PluginHost._build.<locals>.reg_event_type() missing 1 required positional
    # argument: 'description'" (an independent plugin author found it named an internal)
    class NoDescription:
        @brandlens.hookimpl
        def brandlens_register_event_types(self, register):
            register("live_gift")

    register_plugin(NoDescription(), "no-description")
    errors = {p.name: p.errors for p in host.registry().plugins}
    assert errors["no-description"] == [
        "brandlens_register_event_types raised TypeError: register() missing 1 required "
        "positional argument: 'description'"
    ]


def test_new_plugin_says_a_name_starts_with_a_letter(tmp_path):
    # was: "'1abc' must be lower case letters, digits and _", which it is
    r = CliRunner().invoke(app, ["new-plugin", "1abc", "--dir", str(tmp_path)])
    assert r.exit_code == 2 and "must start with a lower case letter" in r.stderr


def test_brandlens_debug_shows_a_python_indicators_traceback(
    broken_beside_builtins, events_dir, monkeypatch
):
    args = ["compute", str(events_dir(_rows())), "-m", "pyraise", "-f", "json"]
    quiet = CliRunner().invoke(app, args)
    assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr
    monkeypatch.setenv("BRANDLENS_DEBUG", "1")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1  # the run still finishes and reports the failure
    assert "brandlens: debug: pyraise.x failed:\nTraceback (most recent call last):" in r.stderr
    assert 'bl_broken_pyraise.py", line 11, in <lambda>' in r.stderr
    assert "\nZeroDivisionError: division by zero\n" in r.stderr
    assert json.loads(r.stdout)["errors"][0]["indicator"] == "pyraise.x"


def test_a_failed_relation_fails_only_what_reads_it(register_plugin, events_dir):
    """A Python indicator may read any relation, so a failed one failed every Python
    indicator of the methodology, though the guide says the other indicators still
    compute (found by an independent plugin author). Now one fails only on a query that
    names the failed relation, with the relation's own message."""
    from brandlens.plugin import Indicator, Methodology, Relation, Value

    def counts(ctx):  # reads events only
        rows = ctx.query("SELECT brand, count(*) FROM events GROUP BY brand")
        return [Value(brand=b, value=n) for b, n in rows]

    def via_broken(ctx):  # reads the failed relation
        rows = ctx.query("SELECT brand, count(*) FROM days GROUP BY brand")
        return [Value(brand=b, value=n) for b, n in rows]

    m = Methodology(
        name="halfway",
        title="halfway",
        source="a test",
        version="1",
        relations=(
            Relation(name="days", sql="SELECT brand, CAST('x' AS INTEGER) AS d FROM events"),
        ),
        indicators=(
            Indicator(id="halfway.events", title="events", unit="count", compute=counts),
            Indicator(id="halfway.days", title="days", unit="count", compute=via_broken),
            Indicator(
                id="halfway.sql",
                title="sql",
                unit="count",
                sql="SELECT brand, count(*) AS value FROM days GROUP BY brand",
            ),
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(m)

    register_plugin(Plugin(), "halfway")
    data = events_dir([ev("2025-06-01 04:00:00", "u1", "purchase", amount="10")])
    r = brandlens.compute(data, as_of="2025-06-30", methodologies=["halfway"])
    assert r.value("halfway.events", "B") == 1
    failed = {e.indicator: e.message for e in r.errors}
    assert set(failed) == {"halfway.days", "halfway.sql"}
    assert all(m.startswith("relation 'days' failed: ") for m in failed.values()), failed
