"""Edges of the plugin API a third-party author relies on, each pinned by hand.

The read-only SQL check (every forbidden function, in any case and any scope), the
memo of passed checks, what the host refuses at registration (hooks, names, event
types, presets, report sections), what a methodology declaration must satisfy, and
what the catalog lists. Each test registers a tiny plugin of its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

import brandlens
from brandlens.plugin.host import host

OK_SQL = "SELECT brand, 1 AS value FROM brands"


def _methodology(name: str = "edge", **kw: Any) -> Any:
    from brandlens.plugin import Indicator, Methodology

    fields: dict[str, Any] = {"title": name, "source": "a test", "version": "1"}
    fields["indicators"] = kw.pop("indicators", None) or (
        Indicator(id=f"{name}.x", title="x", unit="count", sql=kw.pop("sql", OK_SQL)),
    )
    return Methodology(name=name, **(fields | kw))


class _Registers:
    """A plugin whose methodologies hook registers ``methodologies`` (with ``spec``)."""

    def __init__(self, *methodologies: Any, spec: Any = None) -> None:
        self.methodologies, self.spec = methodologies, spec

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        for m in self.methodologies:
            register(m, spec=self.spec) if self.spec is not None else register(m)


def _errors(reg: Any, plugin: str) -> list[str]:
    return next(p for p in reg.plugins if p.name == plugin).errors


def _refused(register_plugin: Any, *methodologies: Any, spec: Any = None) -> list[str]:
    """Register the methodologies as plugin ``edge-plugin``; return its errors, after
    checking that the (first) methodology did not register."""
    register_plugin(_Registers(*methodologies, spec=spec), "edge-plugin")
    reg = host.registry()
    assert methodologies[0].name not in reg.methodologies
    return _errors(reg, "edge-plugin")


# ---- the read-only SQL check --------------------------------------------------------

# Written out by hand (not read from sqlcheck): the table functions that read files, the
# environment or other databases, called where a scalar goes, so that only the function
# check (not the table-function check) can refuse them.
FILE_FUNCTIONS = [
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "parquet_scan",
    "parquet_metadata",
    "parquet_schema",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_ndjson",
    "read_ndjson_auto",
    "read_ndjson_objects",
    "read_text",
    "read_blob",
    "glob",
    "getenv",
    "current_setting",  # the settings hold paths (temp_directory): a review found it passed
    "getvariable",
    "query",
    "query_table",
    "sniff_csv",
    "read_xlsx",
    "delta_scan",
    "iceberg_scan",
    "sqlite_scan",
    "postgres_scan",
]


@pytest.mark.parametrize("func", FILE_FUNCTIONS)
def test_every_file_or_environment_function_is_refused_in_a_scalar_place(register_plugin, func):
    errors = _refused(
        register_plugin, _methodology(sql=f"SELECT brand, {func}('x') AS value FROM brands")
    )
    assert errors == [f"indicator 'edge.x': function {func}() is not allowed in plugin SQL"]


@pytest.mark.parametrize("param", ["?", "$1"])
def test_a_positional_parameter_is_refused_at_registration(register_plugin, param):
    # $1 passed as a parameter named "1", which no run binds: refused when registered, as ?
    errors = _refused(
        register_plugin, _methodology(sql=f"SELECT brand, {param} AS value FROM brands")
    )
    assert errors == ["indicator 'edge.x': use named parameters ($name), not positional ones"]


@pytest.mark.parametrize("spelled", ["GETENV", "Read_Text", "READ_BLOB"])
def test_a_forbidden_function_is_refused_in_any_case(register_plugin, spelled):
    # DuckDB's function names are case-insensitive: READ_TEXT reads files as read_text
    errors = _refused(
        register_plugin, _methodology(sql=f"SELECT brand, {spelled}('x') AS value FROM brands")
    )
    assert errors == [
        f"indicator 'edge.x': function {spelled.lower()}() is not allowed in plugin SQL"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "WITH t AS (SELECT 1 AS x INTO z) SELECT brand, 1 AS value FROM brands",
        "SELECT brand, 1 AS value FROM brands WHERE brand IN (SELECT brand INTO z FROM brands)",
    ],
)
def test_select_into_is_refused_in_a_cte_or_a_subquery(register_plugin, sql):
    errors = _refused(register_plugin, _methodology(sql=sql))
    assert errors == [
        "indicator 'edge.x': SELECT ... INTO is not allowed (plugin SQL is read-only)"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT brand, 1 AS value FROM brands WHERE brand IN (SELECT brand FROM secrets)",
        "SELECT brand, (SELECT count(*) FROM secrets) AS value FROM brands",
    ],
)
def test_an_unknown_table_in_a_subquery_is_refused(register_plugin, sql):
    errors = _refused(register_plugin, _methodology(sql=sql))
    assert len(errors) == 1 and "reads 'secrets', which is neither" in errors[0]


@pytest.mark.parametrize("sql", ["", "   ", " ; "])
def test_an_empty_query_is_zero_statements(register_plugin, sql):
    errors = _refused(register_plugin, _methodology(sql=sql))
    assert errors == ["indicator 'edge.x': SQL must be exactly one statement, got 0"]


def test_a_set_operation_is_a_query(register_plugin):
    m = _methodology(sql=f"{OK_SQL} UNION ALL SELECT brand, 2 AS value FROM brands WHERE false")
    register_plugin(_Registers(m), "edge-plugin")
    assert "edge" in host.registry().methodologies


def test_a_passed_check_is_not_reused_where_the_relation_is_not_declared(register_plugin):
    """The memo of passed checks is keyed by the query *and* the names it may read: the
    same text passes in a methodology with relation ``r`` and fails in one without."""
    from brandlens.plugin import Indicator, Relation

    sql = "SELECT brand, count(*) AS value FROM r GROUP BY brand"
    with_r = _methodology(
        "with_r",
        relations=(Relation(name="r", sql="SELECT brand FROM brands"),),
        indicators=(Indicator(id="with_r.x", title="x", unit="count", sql=sql),),
    )
    without = _methodology(
        "without_r", indicators=(Indicator(id="without_r.x", title="x", unit="count", sql=sql),)
    )
    register_plugin(_Registers(with_r), "with-plugin")
    register_plugin(_Registers(without), "without-plugin")
    reg = host.registry()
    assert "with_r" in reg.methodologies and "without_r" not in reg.methodologies
    (error,) = _errors(reg, "without-plugin")
    assert "reads 'r', which is neither a canonical view nor a declared relation" in error


def test_a_remembered_check_of_another_shape_counts_as_never_seen(monkeypatch):
    from brandlens.errors import PluginError
    from brandlens.plugin import sqlcheck

    sql = "SELECT brand, $edge_p AS value FROM nowhere_at_all"
    key = sqlcheck._memo_key(sql, frozenset({"brands"}))
    # a pass of this (failing) query in a shape this module never writes: no parameters
    monkeypatch.setitem(sqlcheck._passed(), key, {"tables": ["brands"], "columns": None})
    with pytest.raises(PluginError, match="reads 'nowhere_at_all'"):
        sqlcheck.check_query(sql, {"brands"}, "edge")
    monkeypatch.setitem(sqlcheck._passed(), key, {"tables": ["brands"], "parameters": [1]})
    with pytest.raises(PluginError, match="reads 'nowhere_at_all'"):
        sqlcheck.check_query(sql, {"brands"}, "edge")


def test_bound_parameters_are_the_ones_the_sql_names_digits_included():
    from brandlens.plugin.sqlcheck import used_binds

    binds = {"as_of": 1, "d2": 2, "d": 3, "window_30d": 4, "unused": 5}
    sql = "SELECT $as_of, $d2, $window_30d FROM brands"
    assert used_binds(sql, binds) == {"as_of": 1, "d2": 2, "window_30d": 4}


# ---- the host: entry points, names, and what each register() refuses -------------------

GOOD_MODULE = """
import brandlens
from brandlens.plugin import Indicator, Methodology

SQL = "SELECT brand, 1 AS value FROM brands"

@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(Methodology(name="{name}", title="t", source="s", version="1", indicators=(
        Indicator(id="{name}.n", title="n", unit="count", sql=SQL),
    )))
"""


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """Install plugin modules as ``brandlens`` entry points of named distributions:
    ``install(("entry", "distribution", "methodology"), ...)``."""
    from importlib import metadata
    from types import SimpleNamespace

    def install(*plugins: tuple[str, str, str]) -> None:
        eps = []
        for entry, dist, methodology in plugins:
            module = f"bl_edge_{methodology}"
            source = GOOD_MODULE.replace("{name}", methodology)
            (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
            ep = metadata.EntryPoint(entry, module, "brandlens")
            eps.append(ep._for(SimpleNamespace(name=dist, version="1.0")))
        monkeypatch.syspath_prepend(str(tmp_path))
        real = metadata.entry_points

        def entry_points(**kw):
            if kw.get("group") == "brandlens":
                return metadata.EntryPoints(eps)
            return real(**kw)

        monkeypatch.setattr(metadata, "entry_points", entry_points)
        host.reset()

    yield install
    host.reset()


def test_load_and_disable_lists_name_distributions_and_allow_spaces(installed, monkeypatch):
    plugins = (("one", "dist-one", "m_one"), ("two", "dist-two", "m_two"), ("three", "d3", "m3"))
    monkeypatch.setenv("BRANDLENS_LOAD_PLUGINS", " one , dist-two ")  # an entry, a distribution
    installed(*plugins)
    assert list(host.registry().methodologies) == ["m_one", "m_two"]
    monkeypatch.delenv("BRANDLENS_LOAD_PLUGINS")
    monkeypatch.setenv("BRANDLENS_DISABLE_PLUGINS", "dist-one, three")
    installed(*plugins)
    assert list(host.registry().methodologies) == ["m_two"]


def test_an_entry_point_name_taken_names_the_distribution_that_holds_it(installed, monkeypatch):
    monkeypatch.delenv("BRANDLENS_LOAD_PLUGINS", raising=False)
    # one entry point name in two distributions: by distribution name, dist-a loads first
    installed(("dup", "dist-b", "m_b"), ("dup", "dist-a", "m_a"))
    reg = host.registry()
    assert list(reg.methodologies) == ["m_a"]
    assert _errors(reg, "dup (dist-b)") == [
        "failed to load: the plugin name 'dup' is taken by dist-a; rename this entry point "
        "(in its pyproject.toml, [project.entry-points.brandlens])"
    ]


def test_registering_a_taken_plugin_name_is_refused(register_plugin):
    from brandlens.errors import BrandlensError

    register_plugin(_Registers(_methodology("first")), "twice")
    with pytest.raises(BrandlensError, match="a plugin named 'twice' is already registered"):
        host.register(_Registers(_methodology("second")), "twice")
    assert list(host.registry().methodologies).count("first") == 1


def test_a_rebuilt_registry_lists_each_registration_error_once(register_plugin):
    errors = _refused(register_plugin, _methodology(sql="DELETE FROM events"))
    assert len(errors) == 1
    register_plugin(_Registers(_methodology("other")), "other-plugin")  # a rebuild
    reg = host.registry()
    assert "other" in reg.methodologies
    assert _errors(reg, "edge-plugin") == errors


class _Hooks:
    """A plugin implementing the event-type, preset and report hooks with given calls."""

    def __init__(self, event_types=(), presets=(), reports=(), methodology=None) -> None:
        self.event_types, self.presets, self.reports = event_types, presets, reports
        self.methodology = methodology

    @brandlens.hookimpl
    def brandlens_register_event_types(self, register):
        for name in self.event_types:
            register(name, "a test type")

    @brandlens.hookimpl
    def brandlens_register_presets(self, register):
        for name, mapping in self.presets:
            register(name, mapping)

    @brandlens.hookimpl
    def brandlens_register_methodologies(self, register):
        if self.methodology is not None:
            register(self.methodology)

    @brandlens.hookimpl
    def brandlens_report_sections(self, register):
        for name, build in self.reports:
            register(name, build)


def _cdnow() -> Any:
    return host.registry().presets["cdnow"]


@pytest.mark.parametrize(
    ("hooks", "error"),
    [
        (
            {"event_types": ["live-gift"]},
            "event type 'live-gift' must be an identifier",
        ),
        (
            {"event_types": ["purchase"]},  # a core type
            "event type 'purchase' is already registered",
        ),
        (
            {"event_types": ["live_gift", "live_gift"]},
            "event type 'live_gift' is already registered",
        ),
        (
            {"presets": [("mine", {"columns": {}})]},
            "preset 'mine': expected a brandlens Mapping",
        ),
    ],
)
def test_event_types_and_presets_are_checked_where_registered(register_plugin, hooks, error):
    register_plugin(_Hooks(**hooks), "hooks-plugin")
    assert _errors(host.registry(), "hooks-plugin") == [error]


def test_a_preset_name_is_registered_once_and_presets_are_listed_by_name(register_plugin):
    mine = _cdnow().model_copy(update={"description": "a plugin's own"})
    register_plugin(_Hooks(presets=[("cdnow", mine)]), "twice-plugin")
    register_plugin(_Hooks(presets=[("aaa_edge", mine)]), "first-plugin")
    reg = host.registry()
    assert _errors(reg, "twice-plugin") == ["preset 'cdnow' is already registered"]
    assert reg.presets["cdnow"].description != "a plugin's own"  # the core's stays
    assert next(iter(reg.presets)) == "aaa_edge" and list(reg.presets) == sorted(reg.presets)
    # a plugin that registers only a preset registered something: no error
    assert _errors(reg, "first-plugin") == []


def _sections(ctx):
    return []


@pytest.mark.parametrize(
    ("reports", "error"),
    [
        ([("fast", _sections)], "report sections for 'fast': not a methodology this plugin"),
        ([("edge", "not a function")], "report sections for 'edge': not callable"),
        (
            [("edge", _sections), ("edge", _sections)],
            "report sections for 'edge' already registered",
        ),
    ],
)
def test_report_sections_are_checked_where_registered(register_plugin, reports, error):
    register_plugin(_Hooks(reports=reports, methodology=_methodology()), "report-plugin")
    reg = host.registry()
    assert "edge" in reg.methodologies  # the methodology itself registered
    (said,) = next(p for p in reg.plugins if p.name == "report-plugin").failures()
    assert said.startswith(error), said
    first = [b for name, b in reports if name == "edge" and callable(b)][:1]
    assert list(reg.report_builders.get("edge", []) and [reg.report_builders["edge"]]) == first


def test_methodologies_are_listed_by_name_whatever_the_registration_order(register_plugin):
    register_plugin(_Registers(_methodology("zz_edge"), _methodology("aa_edge")), "order-plugin")
    names = list(host.registry().methodologies)
    assert names.index("aa_edge") < names.index("zz_edge") and names == sorted(names)


def test_a_methodology_is_found_by_its_printed_forms():
    reg = host.registry()
    for given in ("fast", "FAST", "F.A.S.T", "f-a-s-t", "F A S T"):
        assert reg.methodology_name(given) == "fast", given
    assert reg.methodology_name("fastt") is None
    assert "fast" in reg.close_methodologies("fats")  # ratio 2*3/8 = 0.75


def test_a_missing_methodology_names_the_failed_plugin_its_name_is_part_of(register_plugin):
    register_plugin(_Registers(_methodology("ddl", sql="DROP TABLE events")), "ddl-plugin")
    register_plugin(_Registers(_methodology("other", sql="DELETE FROM events")), "broken-too")
    reg = host.registry()
    said = reg.unregistered("ddl")
    assert said.startswith("; plugin ddl-plugin did not register: indicator 'ddl.x': ")
    assert reg.unregistered("zzz").startswith("; plugin(s) that failed to load or register: ")


def test_a_pydantic_error_is_one_line_with_the_count_of_the_others(register_plugin):
    from brandlens.plugin import Indicator

    class TwoWrong:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            Indicator(id="Bad Id", unit="furlongs", sql="SELECT 1")  # two errors

    register_plugin(TwoWrong(), "wrong-plugin")
    (error,) = _errors(host.registry(), "wrong-plugin")
    assert error.startswith("brandlens_register_methodologies raised invalid Indicator id: ")
    assert error.endswith(" (and 1 more)"), error


def test_registering_without_a_spec_is_no_spec_mismatch(register_plugin):
    register_plugin(_Registers(_methodology()), "edge-plugin")
    info = next(p for p in host.registry().plugins if p.name == "edge-plugin")
    assert info.errors == ["spec: methodology 'edge' was registered without a spec"]
    assert info.failures() == [] and info.spec_mismatches() == []


# ---- what a methodology declaration must satisfy --------------------------------------


def _check(m: Any, spec: Any = None) -> Any:
    from brandlens.plugin.methodology import check_methodology

    return check_methodology(m, "edge-plugin", spec)


def _refuses(m: Any, message: str, spec: Any = None) -> None:
    import re

    from brandlens.errors import PluginError

    with pytest.raises(PluginError, match=re.escape(message)):
        _check(m, spec)


class _Days(BaseModel):
    days: int = 7


def test_a_parameter_may_not_take_an_engine_name():
    from pydantic import BaseModel

    class AsOf(BaseModel):
        as_of: str = "2025-01-01"

    _refuses(_methodology(parameters=AsOf), "parameter name(s) reserved by the engine: ['as_of']")


def test_relations_may_not_take_a_canonical_view_name():
    from brandlens.plugin import Relation

    m = _methodology(relations=(Relation(name="events", sql="SELECT brand FROM brands"),))
    _refuses(m, "methodology 'edge': relation name(s) clash: events")


def test_a_relation_may_not_depend_on_a_relation_that_does_not_exist():
    from brandlens.plugin import Relation

    m = _methodology(relations=(Relation(name="r", sql="SELECT 1 AS x", depends_on=("ghost",)),))
    _refuses(m, "relation 'r': depends on unknown relation(s) ['ghost']")


def test_a_relation_may_use_only_known_parameters():
    from brandlens.plugin import Relation

    m = _methodology(
        parameters=_Days,
        relations=(Relation(name="r", sql="SELECT $days AS a, $as_of AS b, $nope AS c"),),
    )
    _refuses(m, "relation 'r': SQL uses unknown parameter(s) $nope")


def test_an_indicator_id_is_registered_once():
    from brandlens.plugin import Indicator

    ind = Indicator(id="edge.x", title="x", unit="count", sql=OK_SQL)
    _refuses(_methodology(indicators=(ind, ind)), "indicator 'edge.x': registered twice")


@pytest.mark.parametrize("req", ["users.target-group", "Users.gender", "users.gender.x", "users"])
def test_requires_names_table_dot_column(req):
    from brandlens.plugin import Indicator

    ind = Indicator(id="edge.x", title="x", unit="count", sql=OK_SQL, requires=(req,))
    _refuses(_methodology(indicators=(ind,)), f"requires {req!r} must be 'table.column'")


def test_an_indicator_with_a_dimension_must_return_key():
    from brandlens.plugin import Indicator

    ind = Indicator(id="edge.x", title="x", unit="count", dimension="stage", sql=OK_SQL)
    _refuses(_methodology(indicators=(ind,)), "indicator 'edge.x': SQL must return column(s) key")
    keyed = Indicator(
        id="edge.x",
        title="x",
        unit="count",
        dimension="stage",
        sql="SELECT brand, 'a' AS key, 1 AS value FROM brands",
    )
    assert _check(_methodology(indicators=(keyed,))).indicator_sql["edge.x"].output_columns == (
        "brand",
        "key",
        "value",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"headline": True, "dimension": "stage"}, "a headline indicator cannot have a dimension"),
        ({"keys": ("a", "b")}, "keys= needs a dimension"),
    ],
)
def test_indicator_metadata_that_contradicts_itself_is_refused(fields, message):
    from pydantic import ValidationError

    from brandlens.plugin import Indicator

    with pytest.raises(ValidationError, match=message):
        Indicator(id="edge.x", title="x", unit="count", sql=OK_SQL, **fields)


def _spec(**changes: Any) -> Any:
    from brandlens.specs.spec import MethodologySpec

    raw: dict[str, Any] = {
        "methodology": "edge",
        "title": {"en": "Edge", "zh": "边"},
        "sources": ["assumption: a test"],
        "parameters": {
            "days": {"default": 7, "description": "a window", "source": "assumption: a test"}
        },
        "indicators": [
            {
                "id": "edge.x",
                "title": {"en": "X", "zh": "X"},
                "definition": "one per brand",
                "formula": "1",
                "unit": "count",
                "direction": "lower",
            }
        ],
    }
    return MethodologySpec.model_validate(raw | changes)


def test_a_spec_in_agreement_fills_the_metadata_and_leaves_no_errors():
    from brandlens.plugin import Indicator

    ind = Indicator(id="edge.x", sql=OK_SQL)  # title, unit and direction from the spec
    checked = _check(_methodology(parameters=_Days, indicators=(ind,)), _spec())
    assert checked.spec_errors == ()
    merged = checked.methodology.indicator("edge.x")
    assert (merged.title, merged.unit, merged.direction) == ("X", "count", "lower")


def test_code_stating_another_direction_than_the_spec_is_refused():
    from brandlens.plugin import Indicator

    ind = Indicator(id="edge.x", sql=OK_SQL, direction="higher")
    _refuses(
        _methodology(parameters=_Days, indicators=(ind,)),
        "indicator 'edge.x': direction is 'higher' in code but 'lower' in the spec",
        _spec(),
    )


def test_a_spec_of_another_methodology_is_refused():
    _refuses(
        _methodology(parameters=_Days),
        "spec is for 'other', not for 'edge'",
        _spec(methodology="other"),
    )


def test_parameters_that_disagree_with_the_spec_are_spec_errors():
    from pydantic import BaseModel

    class Other(BaseModel):
        days: int = 30

    params = {
        "days": {"default": 7, "description": "a window", "source": "assumption: a test"},
        "extra": {"default": 1, "description": "unused", "source": "assumption: a test"},
    }
    from brandlens.plugin import Indicator

    bare = (Indicator(id="edge.x", sql=OK_SQL),)
    checked = _check(_methodology(parameters=Other, indicators=bare), _spec(parameters=params))
    assert list(checked.spec_errors) == [
        "parameter 'days': default 30 in code, 7 in spec",
        "spec parameter 'extra' is not a parameter of 'edge'",
    ]


def test_entity_tables_name_their_own_relations_and_return_their_order_columns():
    from brandlens.plugin import EntityTable, Relation

    rel = Relation(name="r", sql="SELECT brand, 'u' AS user_id, 2 AS days FROM brands")
    ok = EntityTable(name="t", title="t", key=("user_id",), relation="r", order_by=("days DESC",))
    checked = _check(_methodology(relations=(rel,), entities=(ok,)))
    assert checked.relations_for_entity("t") == ["r"]
    bad_order = ok.model_copy(update={"order_by": ("spend DESC",)})
    _refuses(
        _methodology(relations=(rel,), entities=(bad_order,)),
        "entity table 't': rows lack column(s) spend",
    )
    elsewhere = ok.model_copy(update={"relation": "brands"})
    _refuses(
        _methodology(relations=(rel,), entities=(elsewhere,)),
        "entity table 't': relation 'brands' is not one of its relations",
    )


def _ladder(**kw: Any) -> Any:
    from brandlens.plugin import Evidence, Stage, StageLadder

    stage = Stage(key="seen", evidence=(Evidence(event_types=("ad_click",), window_days=3),))
    return StageLadder(name="lad", stages=(stage,), **kw)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT local_date, local_date AS d2 FROM events", "must return one column (dates)"),
        ("SELECT DATE '2025-01-01' AS d FROM r", "reads 'r', which is neither"),
    ],
)
def test_snapshots_sql_returns_one_date_column_from_the_canonical_views(sql, message):
    from brandlens.plugin import Relation

    rel = Relation(name="r", sql="SELECT brand FROM brands")
    m = _methodology(relations=(rel,), ladders=(_ladder(snapshots_sql=sql),))
    _refuses(m, f"ladder 'lad' snapshots_sql: {message}")


def test_history_is_the_longest_of_the_ladders_and_history_days():
    # the ladder reads 3 days back from as_of; history_days says 40: 40 is the longest
    m = _methodology(parameters=_Days, ladders=(_ladder(),), history_days=lambda p: 40)
    assert m.history(_Days()) == 40
    short = _methodology(parameters=_Days, ladders=(_ladder(),), history_days=lambda p: 1)
    assert short.history(_Days()) == _methodology(ladders=(_ladder(),)).history(_Days()) > 1


def test_a_vocabulary_parameter_given_as_one_text_names_one_value():
    from pydantic import BaseModel, Field

    from brandlens.plugin.methodology import vocabulary_values

    class P(BaseModel):
        kind: str = Field("purchase", json_schema_extra={"vocabulary": "event_types"})
        kinds: tuple[str, ...] = Field(
            ("ad_click", "search"), json_schema_extra={"vocabulary": "event_types"}
        )
        other: str = Field("x", json_schema_extra={"vocabulary": "categories"})

    assert vocabulary_values(P(), "event_types") == {
        "kind": ["purchase"],
        "kinds": ["ad_click", "search"],
    }


# ---- the catalog: what `brandlens plugins`, `methodologies` and `explain` list -------------


def test_a_plugin_entry_counts_its_event_types_and_names_its_presets(register_plugin):
    from brandlens.plugin import catalog

    mine = _cdnow().model_copy(update={"description": "a plugin's own"})
    hooks = _Hooks(event_types=["live_gift", "live_song"], presets=[("aaa_edge", mine)])
    register_plugin(hooks, "vocab-plugin")
    (entry,) = [p for p in catalog.plugins().plugins if p.name == "vocab-plugin"]
    assert (entry.event_types, entry.presets, entry.errors) == (2, ["aaa_edge"], [])


def test_a_methodology_entry_counts_python_indicators_too(register_plugin):
    from brandlens.plugin import Indicator, Value, catalog

    inds = (
        Indicator(id="edge.sql", title="s", unit="count", sql=OK_SQL, headline=True),
        Indicator(
            id="edge.py",
            title="p",
            unit="count",
            compute=lambda ctx: [Value(brand=b, value=1) for b in ctx.brands],
        ),
    )
    register_plugin(_Registers(_methodology(indicators=inds)), "edge-plugin")
    (entry,) = [m for m in catalog.methodologies().methodologies if m.name == "edge"]
    assert (entry.indicators, entry.headline, entry.plugin) == (2, ["edge.sql"], "edge-plugin")


class _Four(__import__("pydantic").BaseModel):
    a: int = 1  # read by the relation the indicator reads
    b: int = 2  # read by the indicator's SQL
    c: int = 3  # named by the indicator's spec entry only
    d: int = 4  # read by nothing


def _explained_methodology() -> tuple[Any, Any]:
    from brandlens.plugin import Indicator, Relation

    params = {
        n: {"default": v, "description": f"{n} said", "source": f"assumption: {n} because"}
        for n, v in _Four().model_dump().items()
    }
    entry = {
        "id": "edge.x",
        "title": {"en": "X", "zh": "X"},
        "definition": "one per brand",
        "formula": "1",
        "unit": "count",
        "direction": "higher",
        "parameters": ["c"],
    }
    m = _methodology(
        parameters=_Four,
        relations=(Relation(name="r", sql="SELECT brand, $a AS a FROM brands"),),
        indicators=(Indicator(id="edge.x", sql="SELECT brand, $b AS value FROM r"),),
    )
    return m, _spec(parameters=params, indicators=[entry])


def test_explain_lists_the_parameters_the_indicator_reads_with_their_sources(register_plugin):
    from brandlens.plugin import catalog

    m, spec = _explained_methodology()
    register_plugin(_Registers(m, spec=spec), "edge-plugin")
    got = catalog.explain("EDGE.X")  # any case, both sides of the dot
    assert got.id == "edge.x" and got.title == "X"
    assert [(p.name, p.default, p.source) for p in got.parameters] == [
        ("a", 1, "assumption: a because"),
        ("b", 2, "assumption: b because"),
        ("c", 3, "assumption: c because"),
    ]


# ---- the scaffold and the public names ----------------------------------------------------


def test_the_scaffold_titles_a_name_with_underscores_as_words(tmp_path):
    from brandlens.plugin.scaffold import new_plugin

    root = new_plugin("my_edge_kit", tmp_path)
    module = (root / "brandlens_my_edge_kit" / "__init__.py").read_text(encoding="utf-8")
    assert 'title="My Edge Kit",' in module
    spec = (root / "brandlens_my_edge_kit" / "spec.yaml").read_text(encoding="utf-8")
    assert 'title: {en: "My Edge Kit", zh: "My Edge Kit"}' in spec


def test_every_public_name_is_exported_and_resolves():
    import brandlens.plugin as api

    # the names docs/plugin-authoring.md and docs/api.md promise plugin authors
    promised = {
        "Indicator", "Methodology", "Relation", "Value", "IndicatorContext", "NoParameters",
        "EntityTable", "Stage", "StageLadder", "Evidence", "Condition", "AllOf", "AnyOf",
        "Mapping", "EVENT_GROUPS", "Chart", "ReportContext", "ReportSection", "Series",
        "Point", "Link", "quote_ident", "packaged_spec", "flow_sql", "deepening_sql",
        "stage_counts_sql", "stage_total_sql", "stage_users_sql",
    }  # fmt: skip
    assert set(api.__all__) == promised
    for name in promised:
        assert getattr(api, name) is not None
    assert api.quote_ident('a"b') == '"a""b"'  # DuckDB doubles a quote inside a name


# ---- mapping derives: the pad limit and the time zones named -------------------------------


def test_a_derive_may_pad_to_exactly_the_limit_and_no_further():
    from brandlens.errors import PluginError
    from brandlens.plugin.sqlcheck import MAX_PAD, check_expression

    assert MAX_PAD == 1000  # docs: "pads to a whole number up to 1000"
    ok = check_expression("lpad(uid, 1000, '0')", ["uid"], "derive")
    assert ok.columns == frozenset({"uid"})
    with pytest.raises(PluginError, match="pads to a whole number up to 1000"):
        check_expression("rpad(uid, 1001, '0')", ["uid"], "derive")


def test_the_zones_a_derive_names_are_its_zone_literals():
    from brandlens.plugin.sqlcheck import check_expression

    # make_timestamptz(year, month, day, hour, minute, second, zone): the 7th argument
    made = check_expression("make_timestamptz(y, 1, 2, 3, 4, 5.0, 'Asia/Shanghai')", ["y"], "d")
    assert made.zones == frozenset({"Asia/Shanghai"})
    shifted = check_expression("timezone('Europe/Paris', ts)", ["ts"], "d")
    assert shifted.zones == frozenset({"Europe/Paris"})
    assert check_expression("timezone(zone_col, ts)", ["zone_col", "ts"], "d").zones == frozenset()


# A colon parameter (``:days``) is read by SQLGlot as the named parameter ``days``, so it
# passed registration; DuckDB has no such syntax and every run of the indicator failed
# with "Parser Error: syntax error at or near ':'" (found by the mutation pass).
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT brand, :days AS value FROM brands",
        "SELECT brand, $days + :days AS value FROM brands",  # one of each
    ],
)
def test_a_colon_parameter_is_refused_at_registration(register_plugin, sql):
    errors = _refused(register_plugin, _methodology(sql=sql, parameters=_Days))
    assert errors == ["indicator 'edge.x': write named parameters as $name (DuckDB reads no :name)"]


def test_colons_that_are_no_parameter_pass(register_plugin):
    # a struct's key, a list slice and a cast hold colons too; $days is the parameter
    sql = "SELECT brand, {'d': $days}.d + [1, 2, 3][1:2][1] + '7'::INT AS value FROM brands"
    register_plugin(_Registers(_methodology(sql=sql, parameters=_Days)), "edge-plugin")
    assert "edge" in host.registry().methodologies


def test_a_pass_remembered_under_older_rules_is_checked_again(tmp_path, monkeypatch):
    # A rule added later (:name refused) must not be bypassed by a pass an earlier
    # brandlens remembered in the user's cache folder: the rules' edition is in the
    # memo's file name, so the older file is never read.
    from brandlens.plugin import sqlcheck

    monkeypatch.setenv("BRANDLENS_CACHE_DIR", str(tmp_path))
    path = sqlcheck._memo_file()
    assert path is not None and f"-rules{sqlcheck.CHECK_RULES}-" in path.name
    monkeypatch.setattr(sqlcheck, "CHECK_RULES", sqlcheck.CHECK_RULES - 1)
    older = sqlcheck._memo_file()
    assert older is not None and older != path


def test_sql_the_tokenizer_cannot_read_is_refused_as_sql_that_does_not_parse(register_plugin):
    # SQLGlot's tokenizer raises its own error (not a ParseError) on a slice of two
    # parameters; it escaped the check as a TokenError (found by the review)
    sql = "SELECT brand, [1, 2, 3][$a:$b][1] AS value FROM brands"
    errors = _refused(register_plugin, _methodology(sql=sql))
    assert len(errors) == 1
    assert errors[0].startswith("indicator 'edge.x': SQL does not parse: Error tokenizing")


def test_a_derive_the_tokenizer_cannot_read_is_refused_in_one_line():
    from brandlens.errors import PluginError
    from brandlens.plugin.sqlcheck import check_expression

    with pytest.raises(PluginError, match=r"^derive ts: expression does not parse: "):
        check_expression("[1, 2][$a:$b]", ["a"], "derive ts")


def test_the_scaffold_names_the_checkout_it_runs_from(monkeypatch, tmp_path):
    """new-plugin's README names the brandlens folder to install. pip's record names the
    folder the installed brandlens came from; run from another clone (PYTHONPATH, a
    second checkout), that was not the code that made the package (a review)."""
    import importlib.metadata
    import json
    from pathlib import Path

    from brandlens.plugin.scaffold import brandlens_checkout

    running = Path(brandlens.__file__).resolve().parents[2]
    if not (running / "pyproject.toml").is_file():
        pytest.skip("brandlens runs from an installed wheel, not a checkout")
    other = tmp_path / "other-clone"
    other.mkdir()
    (other / "pyproject.toml").write_text("[project]\nname = 'brandlens'\n", encoding="utf-8")

    class _Installed:  # pip's record of an editable install from the other clone
        def read_text(self, name: str) -> str:
            return json.dumps({"url": other.as_uri(), "dir_info": {"editable": True}})

    with monkeypatch.context() as patched:  # undone before other fixtures ask for versions
        patched.setattr(importlib.metadata, "distribution", lambda name: _Installed())
        found = brandlens_checkout()
    assert found == running
