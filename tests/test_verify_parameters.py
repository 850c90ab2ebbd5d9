"""Each indicator's ``parameters:`` list, checked by moving every parameter: an unlisted
one that changes the value fails; a listed one no move changes is never exercised,
unless ``joint_parameters`` says where it matters, and it matters there."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from brandlens.specs.checks.base import Context
from brandlens.specs.checks.parameters import moves

_HEAD = """
methodology: par
title: {en: Parameter lists, zh: 参数}
sources: ["assumption: a test fixture"]
parameters:
  buy_days: {default: 365, description: buyers' window, source: "assumption: test"}
  loyal_days: {default: 90, description: loyal buyers' window, source: "assumption: test"}
  loyal_min_days: {default: 2, description: loyal buyers' days, source: "assumption: test"}
indicators:
"""


def _entry(ind_id: str, parameters: str, joint: str = "") -> str:
    return f"""
  - id: par.{ind_id}
    title: {{en: {ind_id}, zh: 指标}}
    definition: a test indicator
    formula: "|users|"
    unit: users
    direction: higher
    parameters: {parameters}
{joint}"""


_ALL = "[buy_days, loyal_days, loyal_min_days]"
_JOINT = """    joint_parameters:
      loyal_min_days:
        with: {{loyal_days: {days}}}
        reason: a loyal buyer of a shorter window than the buyers' is a buyer anyway
"""
_SPEC = (
    _HEAD
    + _entry("buyers", "[buy_days]")
    + _entry("hidden", "[]")
    + _entry("hardcoded", "[buy_days]")
    + _entry("assets", _ALL, _JOINT.format(days=1500))
    + _entry("assets_no_joint", _ALL)
    + _entry("assets_wrong_corner", _ALL, _JOINT.format(days=100))
)

_BUYERS = (
    "SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b "
    "LEFT JOIN events e ON e.brand = b.brand AND e.event_type = 'purchase' "
    "AND e.local_date > CAST($as_of AS DATE) - {days} "
    "AND e.local_date <= CAST($as_of AS DATE) GROUP BY b.brand"
)
# buyers of buy_days, and users with loyal_min_days purchase days in loyal_days: the
# day count changes who is counted only when loyal_days is longer than buy_days
_ASSETS = """
SELECT b.brand, count(DISTINCT u.user_id) AS value FROM brands b LEFT JOIN (
  SELECT brand, user_id FROM events WHERE event_type = 'purchase'
    AND local_date > CAST($as_of AS DATE) - $buy_days AND local_date <= CAST($as_of AS DATE)
  UNION
  SELECT brand, user_id FROM events WHERE event_type = 'purchase'
    AND local_date > CAST($as_of AS DATE) - $loyal_days AND local_date <= CAST($as_of AS DATE)
  GROUP BY brand, user_id HAVING count(DISTINCT local_date) >= $loyal_min_days
) u ON u.brand = b.brand GROUP BY b.brand
"""


class _Params(BaseModel):
    buy_days: int = Field(365, ge=1, le=2000)
    loyal_days: int = Field(90, ge=1, le=2000)
    loyal_min_days: int = Field(2, ge=1, le=10)


def _methodology(only: set[str] | None = None):
    from brandlens.plugin import Indicator, Methodology

    sqls = {
        "buyers": _BUYERS.format(days="$buy_days"),
        "hidden": _BUYERS.format(days="$buy_days"),
        "hardcoded": _BUYERS.format(days="365"),
        "assets": _ASSETS,
        "assets_no_joint": _ASSETS,
        "assets_wrong_corner": _ASSETS,
    }
    return Methodology(
        name="par",
        title="Parameter lists",
        source="a test fixture",
        version="0.1.0",
        parameters=_Params,
        indicators=tuple(
            Indicator(id=f"par.{k}", sql=v) for k, v in sqls.items() if only is None or k in only
        ),
    )


def _registered(tmp_path, spec_text: str, only: set[str] | None = None):
    """Registers the fixture methodology with ``spec_text``; returns what unregisters it."""
    import brandlens
    from brandlens.plugin.host import host

    spec = tmp_path / "par.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    methodology = _methodology(only)

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(methodology, spec=spec)

    host.register(Plugin(), "par-plugin")

    def done():
        host.unregister("par-plugin")
        host.reset()

    return done


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from brandlens.specs.verification import verify

    done = _registered(tmp_path_factory.mktemp("par"), _SPEC)
    try:
        report = verify(["par"], max_examples=3)
    finally:
        done()
    (m,) = report.methodologies
    assert m.spec_errors == []
    return {(r.indicator, r.property): r for r in m.results}


def test_every_indicator_gets_the_check_without_declaring_it(results):
    assert {p for _, p in results} == {"parameters"} and len(results) == 6


def test_a_listed_parameter_that_moves_the_value_passes(results):
    r = results[("par.buyers", "parameters")]
    assert (r.status, r.message) == ("pass", "")


def test_an_unlisted_parameter_that_moves_the_value_fails(results):
    r = results[("par.hidden", "parameters")]
    assert r.status == "fail"
    assert "moving buy_days from 365 to " in r.message
    assert r.message.endswith(
        "changed the value, but the spec entry's parameters do not list buy_days"
    )
    assert r.counterexample.startswith("as_of ") and r.left != r.right


def test_a_hard_coded_default_is_never_exercised(results):
    """The definition reads 365 days whatever buy_days says; every value tried is named."""
    r = results[("par.hardcoded", "parameters")]
    assert r.status == "unexercised"
    assert r.message.startswith(
        "never exercised: moving buy_days (to 366, 182, 730, 1, 2000) never changed the "
        "value on any log: the definition does not read buy_days (a hard-coded default?)"
    )


def test_a_joint_parameter_is_moved_where_the_spec_says_it_matters(results):
    """The loyal day count decides nothing while the loyal window (90 days) is inside
    the buyers' (365): moved alone it never changes the count (never exercised); at the
    declared loyal_days = 1500 it does (a buyer with two purchase days 1,000 and 1,100
    days back is counted at 2, not at 3), and the cell passes; at a corner that is no
    corner (loyal_days = 100), the report says so."""
    assert results[("par.assets", "parameters")].status == "pass"
    alone = results[("par.assets_no_joint", "parameters")]
    assert alone.status == "unexercised"
    assert "moving loyal_min_days (to 3, 1, 4, 10) never changed the value on any log:" in (
        alone.message
    )
    assert "declare it in joint_parameters" in alone.message
    wrong = results[("par.assets_wrong_corner", "parameters")]
    assert wrong.status == "unexercised"
    assert "never changed the value on any log, nor at loyal_days = 100:" in wrong.message


@pytest.mark.parametrize(
    ("joint", "error"),
    [
        (
            "    joint_parameters:\n      loyal_days: {with: {buy_days: 400}, reason: r}\n",
            "par.bad: joint_parameters names 'loyal_days', not in its parameters",
        ),
        (
            "    joint_parameters:\n      buy_days: {with: {loyal_weeks: 4}, reason: r}\n",
            "par.bad: joint_parameters 'buy_days' moves 'loyal_weeks' with it, not a parameter",
        ),
        (
            "    joint_parameters:\n      buy_days: {with: {buy_days: 4}, reason: r}\n",
            "par.bad: joint_parameters 'buy_days' moves 'buy_days' with it, the parameter itself",
        ),
        (
            "    joint_parameters:\n      buy_days: {with: {loyal_days: 5000}, reason: r}\n",
            "par.bad: joint_parameters 'buy_days': the model refuses loyal_days = 5000",
        ),
    ],
    ids=["unlisted", "unknown", "itself", "refused"],
)
def test_a_joint_declaration_verify_cannot_use_is_a_spec_error(tmp_path, joint, error):
    from brandlens.plugin.host import registry

    spec = _HEAD + _entry("bad", "[buy_days]", joint)
    done = _registered(tmp_path, spec.replace("par.bad", "par.buyers"), only={"buyers"})
    try:
        errors = registry().methodologies["par"].spec_errors
    finally:
        done()
    assert any(e.startswith(error.replace("par.bad", "par.buyers")) for e in errors), errors


class _Model(BaseModel):
    flag: bool = True
    days: int = Field(60, ge=1, le=100)
    cap: int = Field(5, ge=1, le=5)
    share: float = Field(0.2, gt=0, le=1)
    names: list[str] = ["a"]
    label: str = "x"


def _ctx() -> Context:
    from pydantic import ValidationError

    def accepts(params):
        try:
            _Model.model_validate(params)
        except ValidationError:
            return False
        return True

    return Context(params=_Model().model_dump(), event_types=(), categories=(), accepts=accepts)


def test_moves_by_hand():
    """days 60 in [1, 100]: +1, half, (double 120 refused), lowest 1, highest 100 (ten
    times is refused, so bisected); cap 5 at its top: -1, half, lowest (no highest);
    share 0.2 in (0, 1]: half, double, halfway to 1, (0 refused), 1; flag flipped; the
    list and the text are not moved."""
    assert moves(_ctx()) == [
        ("cap", 4),
        ("cap", 2),
        ("cap", 1),
        ("days", 61),
        ("days", 30),
        ("days", 1),
        ("days", 100),
        ("flag", False),
        ("share", 0.1),
        ("share", 0.4),
        ("share", 0.6),
        ("share", 1.0),
    ]


def test_a_corner_of_list_values_is_moved_like_any_other():
    """A ``with`` value may be a list: the corners were gathered in a set, and verify
    stopped on ``unhashable type: 'list'`` (found by an independent review)."""
    from brandlens.specs.spec import IndicatorSpec
    from brandlens.specs.verification import cells_of

    ind = IndicatorSpec.model_validate(
        {
            "id": "par.x",
            "title": {"en": "x", "zh": "x"},
            "definition": "d",
            "formula": "f",
            "unit": "users",
            "direction": "higher",
            "parameters": ["days", "names"],
            "joint_parameters": {"days": {"with": {"names": ["a", "b"]}, "reason": "r"}},
        }
    )
    (cell,) = [c for c in cells_of([ind, ind], _ctx()) if c.label == "parameters"][:1]
    assert cell.prop.joint == (("days", (("names", ["a", "b"]),)),)
    assert cell.prop.corners == cell.prop.joint


def test_a_move_the_indicator_cannot_compute_at_is_named(tmp_path):
    """A model that takes k = 0 and a definition that divides by k: the failure said
    only 'did not compute', under a log that computes at the defaults (found by an
    independent review); it now says at which move."""
    import brandlens
    from brandlens.plugin import Indicator, Methodology
    from brandlens.plugin.host import host
    from brandlens.specs.verification import verify

    class Params(BaseModel):
        k: int = Field(3, ge=0, le=10)

    spec = tmp_path / "div.yaml"
    spec.write_text(
        _HEAD.replace("methodology: par", "methodology: div").split("parameters:")[0]
        + "parameters:\n  k: {default: 3, description: divisor, source: 'assumption: test'}\n"
        + "indicators:\n"
        + _entry("per", "[k]").replace("par.per", "div.per"),
        encoding="utf-8",
    )
    sql = (
        "SELECT b.brand, CASE WHEN $k = 0 THEN error('division by zero') "
        "ELSE count(e.user_id) // $k END AS value FROM brands b "
        "LEFT JOIN events e ON e.brand = b.brand GROUP BY b.brand"
    )
    m = Methodology(
        name="div",
        title="Div",
        source="a test fixture",
        version="0.1.0",
        parameters=Params,
        indicators=(Indicator(id="div.per", sql=sql),),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(m, spec=spec)

    host.register(Plugin(), "div-plugin")
    try:
        (r,) = verify(["div"], max_examples=0).methodologies[0].results
    finally:
        host.unregister("div-plugin")
        host.reset()
    assert r.status == "fail" and r.message.startswith("did not compute")
    assert r.message.endswith("(moving k from 3 to 0)")
