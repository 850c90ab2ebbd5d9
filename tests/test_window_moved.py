"""window_bounded at moved parameters: a window that does not follow its parameter fails.

At the default parameters a hard-coded window (``- 365`` where the spec says
``$buyer_window_days``, whose default is 365) reads exactly the declared days, so the
default-only checks pass it. Each whole-number parameter the bound is made of is
therefore moved by one, and the bound is checked again at the new W.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.specs.checks.base import Context
from brandlens.specs.checks.window import moves_of
from brandlens.specs.spec import WindowBounded
from test_verify import _register_toy, _toy_spec


def _ctx(params: dict, refuse: dict | None = None) -> Context:
    """A context whose model refuses the values in ``refuse`` (name -> values)."""
    refuse = refuse or {}

    def accepts(p: dict) -> bool:
        return all(p.get(k) not in values for k, values in refuse.items())

    return Context(params=params, event_types=("purchase",), categories=(), accepts=accepts)


def test_moves_are_the_parameters_that_move_the_bound():
    params = {"a": 15, "b": 365, "p": 365, "flag": True, "share": 0.5}
    moves = lambda days, **kw: moves_of(WindowBounded(days=days), _ctx(params, **kw))  # noqa: E731
    # under max() only the largest moves W; 15 -> 16 leaves max(16, 365) = 365
    assert moves("max($a, $b)") == [("b", 366, 366)]
    # arithmetic: W moves by the parameter's factor
    assert moves("2 * $p") == [("p", 366, 732)]
    # +1 refused by the model (its upper bound): -1 instead; both refused: not moved
    assert moves("$b", refuse={"b": {366}}) == [("b", 364, 364)]
    assert moves("$b", refuse={"b": {364, 366}}) == []
    # booleans and fractions are no day counts; a literal window and W = 0 move nothing
    assert moves("$b * $share + $b * $share") == [("b", 366, 366)]
    assert moves(365) == [] and moves(0) == []
    # a window that would reach 0 days is not a move
    assert moves_of(WindowBounded(days="$a"), _ctx({"a": 1}, refuse={"a": {2}})) == []
    # nor one of no whole number of days (9 / 2, 7 / 2): truncated, it was checked at 4
    assert moves_of(WindowBounded(days="$a / 2"), _ctx({"a": 8})) == []
    assert moves_of(WindowBounded(days="$a / 2"), _ctx({"a": 7})) == [("a", 8, 4)]


def _verify(indicator: str, properties: list, tmp_path, register_plugin) -> tuple[int, list]:
    """verify's exit code and the indicator's (property, status, message), in spec order."""
    spec = _toy_spec()
    (entry,) = [i for i in spec["indicators"] if i["id"] == indicator]
    entry["properties"] = properties
    _register_toy(spec, tmp_path, register_plugin, "toy-window-moved")
    r = CliRunner().invoke(app, ["verify", "toy", "--max-examples", "2", "-f", "json"])
    (m,) = json.loads(r.stdout)["methodologies"]
    rows = [
        (x["property"], x["status"], x["message"])
        for x in m["results"]
        if x["indicator"] == indicator and x["property"] != "parameters"  # every indicator's
    ]
    return r.exit_code, rows


def test_a_hard_coded_window_fails_where_it_passed_at_the_defaults(tmp_path, register_plugin):
    """toy.stage_users: P and L read purchases in a hard-coded 365 days, A and I in
    $window_days (15). Declared as $buyer_window_days (365 by default) the bound holds at
    the defaults; with buyer_window_days = 366 day 365 must matter, and is never read."""
    code, got = _verify(
        "toy.stage_users",
        [
            {"window_bounded": {"days": 365}},  # right: the literal the ladder uses
            {"window_bounded": {"days": "$buyer_window_days"}},  # wrong, true at defaults
            {"window_bounded": {"days": "max($window_days, 365)"}},  # right: 16 moves nothing
        ],
        tmp_path,
        register_plugin,
    )
    assert code == 1
    assert got == [
        ("window_bounded (365 days)", "pass", ""),
        (
            "window_bounded (365 days) #2",
            "unexercised",
            "never exercised: with buyer_window_days = 366 (W = 366), no event on day 365 "
            "before as_of changed the value: the window does not follow buyer_window_days "
            "(a hard-coded default?)",
        ),
        ("window_bounded (365 days) #3", "pass", ""),
    ]


def test_a_window_that_reads_past_its_moved_bound_fails(tmp_path, register_plugin):
    """toy.buyers reads purchases in $buyer_window_days (365). Declared as
    $buyer_window_days - $period_days + 7, also 365 at the defaults, it passes there; with
    period_days = 8 the declared bound is 364, and day 364 is still read."""
    code, got = _verify(
        "toy.buyers",
        [
            {"window_bounded": {"days": "max($buyer_window_days, $window_days)"}},
            {"window_bounded": {"days": "$buyer_window_days - $period_days + 7"}},
        ],
        tmp_path,
        register_plugin,
    )
    assert code == 1
    assert got[0] == ("window_bounded (365 days)", "pass", "")
    label, status, message = got[1]
    assert (label, status) == ("window_bounded (365 days) #2", "fail")
    assert "adding events 364 or more days before as_of changed the value, with " in message
    assert "period_days = 8 (the window does not follow period_days)" in message


def test_two_right_bounds_of_one_length_moving_apart_each_get_their_own_probes(
    register_plugin, tmp_path
):
    """2 * $p and $p + 7 are both 14 at p = 7 and 16 and 15 at p = 8. Grouped by W and the
    moved value alone, the two shared the first one's probes, and a right declaration
    failed ("adding events 16 or more days before as_of", found by a review)."""
    from pydantic import BaseModel

    import brandlens
    from brandlens.plugin import Indicator, Methodology

    class Params(BaseModel):
        p: int = 7

    def buyers(window: str) -> str:
        return (
            "SELECT b.brand, count(DISTINCT e.user_id) AS value FROM brands b "
            "LEFT JOIN events e ON e.brand = b.brand AND e.event_type = 'purchase' "
            f"AND e.local_date > CAST($as_of AS DATE) - ({window}) "
            "AND e.local_date <= CAST($as_of AS DATE) GROUP BY b.brand"
        )

    entry = """
  - id: twin.{k}
    title: {{en: {k}, zh: {k}}}
    definition: buyers in the window
    formula: "|buyers|"
    unit: users
    direction: higher
    parameters: [p]
    properties:
      - window_bounded: {{days: "{days}"}}"""
    spec = tmp_path / "twin.yaml"
    spec.write_text(
        'methodology: twin\ntitle: {en: Twin, zh: 双}\nsources: ["assumption: a test"]\n'
        'parameters:\n  p: {default: 7, description: period, source: "assumption: test"}\n'
        "indicators:"
        + entry.format(k="a", days="2 * $p")
        + entry.format(k="b", days="$p + 7")
        + "\n",
        encoding="utf-8",
    )
    twin = Methodology(
        name="twin",
        title="Twin",
        source="a test",
        version="0.1.0",
        parameters=Params,
        indicators=(
            Indicator(id="twin.a", sql=buyers("2 * $p")),
            Indicator(id="twin.b", sql=buyers("$p + 7")),
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(twin, spec=spec)

    register_plugin(Plugin(), "twin")
    r = CliRunner().invoke(app, ["verify", "twin", "--max-examples", "2", "-f", "json"])
    (m,) = json.loads(r.stdout)["methodologies"]
    declared = [x for x in m["results"] if x["property"] != "parameters"]  # every indicator's
    assert [(x["indicator"], x["status"]) for x in declared] == [
        ("twin.a", "pass"),
        ("twin.b", "pass"),
    ]
    assert r.exit_code == 0
