"""Declared window bounds hold at any parameters, not only at the defaults (#17 item 7).

`brandlens verify` checks `window_bounded` at the default parameters only, where a bound
such as FAST's "$purchase_window_days" is the longest look-back because 912 days is the
longest default window; with a longer loyalty window the ladder reads further and the
bound no longer holds. Here each window parameter of each built-in methodology is raised,
in turn, past the longest bound at the defaults, and every event type is added on day W
of each declared bound W (the verify probe's "out" side, on the dense probe log): no
value may change.
"""

from __future__ import annotations

from typing import Any

import pytest
from annotated_types import Le

from brandlens.engine.runs import Dataset
from brandlens.plugin.host import registry
from brandlens.specs.checks import CHECKERS
from brandlens.specs.checks.base import Context
from brandlens.specs.checks.invariance import with_events
from brandlens.specs.probes import probe_logs
from brandlens.specs.verification import _what_to_generate

WINDOW = CHECKERS["window_bounded"]


def _window_params(methodology: str) -> list[str]:
    """Integer parameters measured in days or weeks; counts of days (`*_min_*`) are not
    windows."""
    m = registry().methodologies[methodology].methodology
    defaults = m.parameters().model_dump()
    return [
        name
        for name, v in defaults.items()
        if type(v) is int and name.endswith(("_days", "_weeks")) and "_min_" not in name
    ]


CASES = [(m, p) for m in registry().methodologies for p in _window_params(m)]


def _values(result: Any, ids: set[str]) -> dict[tuple, tuple]:
    return {
        (r.indicator, r.brand, r.key): (r.value, r.numerator, r.denominator)
        for r in result.results
        if r.indicator in ids
    }


@pytest.mark.parametrize(("methodology", "param"), CASES)
def test_window_bound_holds_with_a_window_parameter_raised(methodology, param):
    checked = registry().methodologies[methodology]
    m = checked.methodology
    defaults = m.parameters().model_dump()
    registered = {i.id for i in m.indicators}
    props = [
        (ind.id, p)
        for ind in checked.spec.indicators
        if ind.id in registered
        for p in ind.properties
        if p.kind == "window_bounded"
    ]
    categories, targeted, spend = _what_to_generate(checked)
    event_types = tuple(registry().event_types)
    longest = max(WINDOW.bound(p, Context(defaults, event_types, categories)) for _, p in props)
    cap = min(
        (c.le for c in m.parameters.model_fields[param].metadata if isinstance(c, Le)),
        default=10_000,
    )
    unit = 7 if param.endswith("_weeks") else 1
    raised = min(cap, defaults[param] + -(-longest // unit))
    ctx = Context({**defaults, param: raised}, event_types, categories)

    groups: dict[str, tuple[Any, set[str]]] = {}
    for ind_id, p in props:
        groups.setdefault(WINDOW.group(p, ctx), (p, set()))[1].add(ind_id)
    bounds = [WINDOW.bound(p, ctx) for p, _ in groups.values()]
    log = probe_logs(event_types, categories, bounds, targeted, spend=spend)[-1]  # the dense one

    def run(events_log: Any, ids: set[str]) -> dict[tuple, tuple]:
        result = Dataset(events_log.to_data()).compute(
            as_of=events_log.as_of,
            methodologies=[methodology],
            brands=log.report_brands(),
            params={f"{methodology}.{param}": raised},
            indicators=ids,
        )
        assert not result.errors, result.errors
        return _values(result, ids)

    before = run(log, {i for _, ids in groups.values() for i in ids})
    for p, ids in groups.values():
        w = WINDOW.bound(p, ctx)
        (out,) = [added for side, added, *_ in WINDOW.probes(p, ctx, log) if side == "out"]
        after = run(with_events(log, out), ids)
        was = {k: v for k, v in before.items() if k[0] in ids}
        changed = {k: (was.get(k), after.get(k)) for k in was.keys() | after.keys()}
        changed = {k: v for k, v in changed.items() if v[0] != v[1]}
        assert not changed, (
            f"{methodology}.{param} = {raised}: events {w} or more days before as_of "
            f"changed {sorted(changed.items(), key=str)[:3]}"
        )
