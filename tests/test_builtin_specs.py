"""Every built-in methodology honours its spec (a modest example count by default).

BRANDLENS_VERIFY_EXAMPLES=1000 python -m pytest tests/test_builtin_specs.py is the
thorough run.
"""

from __future__ import annotations

import pytest

from brandlens.plugin.host import registry
from brandlens.specs.testing import assert_honours_spec, examples_from_env


def _builtins() -> list[str]:
    return [m.name for m in registry().methodologies.values()]


@pytest.mark.parametrize("methodology", _builtins())
def test_builtin_methodology_honours_its_spec(methodology):
    report = assert_honours_spec(methodology, max_examples=examples_from_env())
    assert report.methodologies[0].results, "a spec with no properties proves nothing"


@pytest.mark.parametrize("methodology", _builtins())
def test_builtin_methodology_has_a_complete_spec(methodology):
    checked = registry().methodologies[methodology]
    assert checked.spec is not None and checked.spec_errors == ()
    for ind in checked.spec.indicators:
        kinds = {p.kind for p in ind.properties}
        assert {"deterministic", "permutation_invariant", "time_shift_invariant"} <= kinds, ind.id
        # every value indicator says what a brand without events gets; the model-parameter
        # audit record (goal.clv_model) has no such value
        if ind.dimension != "parameter":
            assert "empty_brand" in kinds, ind.id
