"""Plugin loading: entry points in isolation, environment controls, registration checks."""

from __future__ import annotations

import textwrap
from importlib import metadata

import pytest

from brandlens.plugin.host import host

GOOD = """
import brandlens
from brandlens.plugin.methodology import Indicator, Methodology

@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(Methodology(name="good", title="Good", source="s", version="1", indicators=(
        Indicator(id="good.n", title="n", unit="count", sql="SELECT brand, 1 AS value FROM brands"),
    )))
"""
BROKEN_IMPORT = "raise ImportError('no such dependency: frobnicate')\n"
MISSPELLED = """
import brandlens

@brandlens.hookimpl
def brandlens_register_methodology(register):
    pass
"""
RAISING = """
import brandlens

@brandlens.hookimpl
def brandlens_register_methodologies(register):
    raise RuntimeError("kaboom")
"""


@pytest.fixture
def fake_entry_points(tmp_path, monkeypatch):
    """Install modules in tmp_path and expose them as `brandlens` entry points."""

    def install(**modules: str) -> None:
        eps = []
        for name, source in modules.items():
            (tmp_path / f"bl_fake_{name}.py").write_text(textwrap.dedent(source))
            eps.append(metadata.EntryPoint(name, f"bl_fake_{name}", "brandlens"))
        monkeypatch.syspath_prepend(str(tmp_path))
        real = metadata.entry_points

        def entry_points(**kw):
            if kw.get("group") == "brandlens":
                return metadata.EntryPoints(eps)
            return real(**kw)

        monkeypatch.setattr(metadata, "entry_points", entry_points)
        monkeypatch.delenv("BRANDLENS_LOAD_PLUGINS", raising=False)
        host.reset()

    yield install
    host.reset()


def _info(reg, name):
    return next(p for p in reg.plugins if p.name == name)


def test_a_broken_plugin_never_takes_the_tool_down(fake_entry_points):
    fake_entry_points(good=GOOD, broken=BROKEN_IMPORT, misspelled=MISSPELLED, raising=RAISING)
    reg = host.registry()
    assert list(reg.methodologies) == ["good"]
    assert _info(reg, "broken").errors == [
        "failed to load bl_fake_broken: ImportError: no such dependency: frobnicate"
    ]
    assert _info(reg, "misspelled").errors == [
        "implements unknown hook(s): brandlens_register_methodology"
    ]
    assert _info(reg, "raising").errors == [
        "brandlens_register_methodologies raised RuntimeError: kaboom"
    ]
    assert _info(reg, "good").methodologies == ["good"]
    # registering without a spec is allowed, and reported
    assert _info(reg, "good").errors == ["spec: methodology 'good' was registered without a spec"]


def test_load_and_disable_lists(fake_entry_points, monkeypatch):
    fake_entry_points(good=GOOD, raising=RAISING)
    monkeypatch.setenv("BRANDLENS_LOAD_PLUGINS", "raising")
    host.reset()
    assert [p.name for p in host.registry().plugins if p.origin != "core"] == ["raising"]
    monkeypatch.delenv("BRANDLENS_LOAD_PLUGINS")
    monkeypatch.setenv("BRANDLENS_DISABLE_PLUGINS", "raising, other")
    host.reset()
    assert [p.name for p in host.registry().plugins if p.origin != "core"] == ["good"]


def test_trace_prints_hook_calls(fake_entry_points, monkeypatch, capsys):
    fake_entry_points(good=GOOD)
    monkeypatch.setenv("BRANDLENS_TRACE_PLUGINS", "1")
    host.reset()
    host.registry()
    err = capsys.readouterr().err
    assert "brandlens trace: brandlens_register_methodologies(register) -> [good]" in err


def _register_sql(register_plugin, sql=None, **kw):
    import brandlens
    from brandlens.plugin.methodology import Indicator, Methodology

    fields = {"id": "bad.x", "title": "x", "unit": "count", "sql": sql} | kw.pop("indicator", {})
    method = {"name": "bad", "title": "Bad", "source": "s", "version": "1"} | kw

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(Methodology(indicators=(Indicator(**fields),), **method))

    register_plugin(P(), "bad-plugin")
    reg = host.registry()
    return reg, _info(reg, "bad-plugin").errors


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM events", "only SELECT/WITH queries are allowed, got DELETE"),
        ("SELECT brand, 1 AS value FROM secrets", "reads 'secrets', which is neither"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table function"),
        ("SELECT brand, read_text('x') AS value FROM brands", "function read_text() is not"),
        ("SELECT brand, 1 AS value FROM main.events", "qualified table"),
        ("SELECT brand, ? AS value FROM brands", "named parameters"),
        ("SELECT brand, $nope AS value FROM brands", "unknown parameter(s) $nope"),
        ("SELECT brand FROM brands", "must return column(s) value"),
        ("SELECT 1 AS brand, 2 AS value INTO t", "INTO is not allowed"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELECT brand FROM brands WHERE (", "does not parse"),
    ],
)
def test_plugin_sql_is_checked_at_registration(register_plugin, sql, message):
    reg, errors = _register_sql(register_plugin, sql)
    assert "bad" not in reg.methodologies
    assert len(errors) == 1 and message in errors[0] and "indicator 'bad.x'" in errors[0]


def test_relation_rules(register_plugin):
    from brandlens.plugin.methodology import Relation

    ok = "SELECT brand, 1 AS value FROM brands"
    _, errors = _register_sql(
        register_plugin,
        ok,
        relations=(
            Relation(name="a", sql="SELECT * FROM b", depends_on=("b",)),
            Relation(name="b", sql="SELECT * FROM a", depends_on=("a",)),
        ),
    )
    assert "cycle" in errors[0]
    host.unregister("bad-plugin")
    _, errors = _register_sql(
        register_plugin,
        ok,
        relations=(
            Relation(name="a", sql="SELECT 1 AS x"),
            Relation(name="b", sql="SELECT * FROM a"),
        ),
    )
    assert "reads a without declaring depends_on" in errors[0]


def test_ladder_rules(register_plugin):
    from brandlens.engine.ladders import Evidence, Stage, StageLadder

    ok = "SELECT brand, 1 AS value FROM brands"
    lad = StageLadder(
        name="l",
        stages=(Stage(key="A", evidence=(Evidence(event_types=("telepathy",), window_days=3),)),),
    )
    _, errors = _register_sql(register_plugin, ok, ladders=(lad,))
    assert "unknown event type(s) telepathy" in errors[0]
    host.unregister("bad-plugin")
    lad = StageLadder(
        name="l",
        stages=(
            Stage(key="A", evidence=(Evidence(event_types=("ad_click",), window_days="$nope"),)),
        ),
    )
    _, errors = _register_sql(register_plugin, ok, ladders=(lad,))
    assert "unknown parameter(s) nope" in errors[0]


def test_id_prefix_and_duplicates(register_plugin):
    _, errors = _register_sql(
        register_plugin, "SELECT brand, 1 AS value FROM brands", indicator={"id": "other.x"}
    )
    assert "must start with 'bad.'" in errors[0]


def test_duplicate_methodology_is_reported_against_the_second_plugin(register_plugin):
    from fixture_plugins import ToyPlugin

    register_plugin(ToyPlugin(), "toy-a")
    register_plugin(ToyPlugin(), "toy-b")
    reg = host.registry()
    assert _info(reg, "toy-a").methodologies == ["toy"]
    assert any("already registered" in e for e in _info(reg, "toy-b").errors)


def test_failing_indicator_becomes_an_error_entry(register_plugin, events_dir):
    import brandlens
    from conftest import ev
    from fixture_plugins import FailingIndicatorPlugin

    register_plugin(FailingIndicatorPlugin(), "shaky")
    r = brandlens.compute(
        events_dir([ev("2025-01-01 04:00:00", "u", "ad_click")]), methodologies=["shaky"]
    )
    assert r.value("shaky.ok", "B") == 1
    messages = {e.indicator: e.message for e in r.errors}
    assert messages["shaky.boom"].startswith("ConversionException")
    assert messages["shaky.missing_brand"] == "no value for brand(s) B"


def test_plugin_sql_cannot_touch_files_at_run_time(register_plugin, events_dir):
    """Defense in depth: even a function SQLGlot does not know cannot read files."""
    import brandlens
    from brandlens.plugin.methodology import Indicator, IndicatorContext, Methodology, Value
    from conftest import ev

    def sneaky(ctx: IndicatorContext) -> list[Value]:
        ctx.query("SELECT * FROM brands WHERE EXISTS (SELECT 1 FROM events)")
        from brandlens.engine.runs import Dataset  # noqa: F401

        return [Value(brand=b, value=0) for b in ctx.brands]

    class P:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(
                Methodology(
                    name="sneak",
                    title="s",
                    source="s",
                    version="1",
                    indicators=(
                        Indicator(id="sneak.x", title="x", unit="count", compute=sneaky),
                        Indicator(
                            id="sneak.y",
                            title="y",
                            unit="count",
                            compute=lambda ctx: ctx.query(
                                "SELECT * FROM read_parquet('/etc/hosts')"
                            ),
                        ),
                    ),
                )
            )

    register_plugin(P(), "sneak")
    r = brandlens.compute(
        events_dir([ev("2025-01-01 04:00:00", "u", "ad_click")]), methodologies=["sneak"]
    )
    assert r.value("sneak.x", "B") == 0
    assert "table function" in r.errors[0].message


def test_a_cte_shadows_only_where_it_is_visible(register_plugin):
    sql = (
        "SELECT b.brand, count(*) AS value FROM brands b, "
        "(WITH secrets AS (SELECT 1) SELECT 1) x, secrets q GROUP BY 1"
    )
    reg, errors = _register_sql(register_plugin, sql)
    assert "bad" not in reg.methodologies and "reads 'secrets'" in errors[0]


def test_internal_tables_are_out_of_reach(register_plugin, events_dir):

    # _quarantine is not a name plugin SQL can resolve, even if it passed the static check
    from brandlens.engine.runs import Dataset
    from conftest import ev

    with Dataset(events_dir([ev("2025-01-01 04:00:00", "u", "ad_click")])) as ds:
        resolvable = (  # what an unqualified name can reach: main and temp of the default db
            "SELECT table_name FROM duckdb_tables() WHERE {w} UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND {w}"
        ).format(w="database_name IN ('memory', 'temp') AND schema_name IN ('main', 'temp')")
        names = [r[0] for r in ds.con.execute(resolvable).fetchall()]
    # the stored tables and the quarantine live in the store's own schema, off the path
    assert sorted(names) == sorted(["events", "users", "products", "targets", "spend"])


def test_event_groups_are_disjoint_read_only_groups_of_core_types():
    from brandlens.data.schema import CORE_EVENT_TYPES
    from brandlens.plugin import EVENT_GROUPS

    # written out: what FAST's Awareness and 4A's Aware read, and the engagement FAST's
    # Interest (with member_join) and 4A's Appeal (with ad_click) read, in this order
    assert list(EVENT_GROUPS) == ["exposure", "engagement"]
    assert " ".join(EVENT_GROUPS["exposure"]) == "ad_impression content_view product_view"
    assert " ".join(EVENT_GROUPS["engagement"]) == (
        "store_visit favorite add_to_cart follow consult coupon_claim"
    )
    members = [t for group in EVENT_GROUPS.values() for t in group]
    assert set(members) <= set(CORE_EVENT_TYPES) and len(members) == len(set(members))
    with pytest.raises(TypeError):
        EVENT_GROUPS["exposure"] = ("purchase",)  # type: ignore[index]


def test_verifying_everything_fails_when_an_installed_plugin_did_not_register(fake_entry_points):
    from typer.testing import CliRunner

    from brandlens.cli.app import app

    fake_entry_points(raising=RAISING)
    # nothing registered, so every methodology that did was verified: the plugin that
    # failed went unverified, and the run says so and fails instead of passing on nothing
    r = CliRunner().invoke(app, ["verify", "-q"])
    assert r.exit_code == 1, r.output
    assert "plugin raising was not verified:" in r.stderr and "kaboom" in r.stderr
    # naming it says why it cannot be verified at all (as before)
    r = CliRunner().invoke(app, ["verify", "raising", "-q"])
    assert r.exit_code == 1 and "did not register" in r.stderr and "kaboom" in r.stderr
